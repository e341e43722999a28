/* recpipe.h - a record stream through a function, on two threads.
 *
 * Column-level encryption costs about as much in parsing records, in
 * sealing their fields (libgcrypt spends ~0.3 us per call on a 12-byte
 * value) and in writing them out; one core doing all three in turn took
 * three times as long as gpg over the same bytes.  Here the calling
 * thread reads batches of records and applies the function to the first
 * half of each, while a worker applies it to the rest and writes the
 * batch out, in order, as the next batch is read.  Memory: a fixed number
 * of batches, each record's storage reused. */
#ifndef SPIF_RECPIPE_H
#define SPIF_RECPIPE_H

#include "record.h"

/* Change rec in place (ordinal: 0 for the stream's first record).  0, or
 * -1 with err set.  Called from two threads, each with its own ctx. */
typedef int (*spif_recpipe_fn)(void *ctx, struct spif_record *rec, long long ordinal,
                               struct spif_err *err);

/* Every record of rd, first (a record already read, or NULL) before them,
 * through fn and into wr.  fn runs with ctx_main on this thread and with
 * ctx_worker on the worker: anything it keeps that is not for two threads
 * (a cipher handle) must be in ctx.  The number of records, or -1 with
 * err set (the first error, of reading, of fn or of writing; records
 * after it are not written).  Does not finish wr. */
long long spif_recpipe_run(struct spif_reader *rd, const struct spif_record *first,
                           struct spif_writer *wr, spif_recpipe_fn fn, void *ctx_main,
                           void *ctx_worker, struct spif_err *err);
/* The same, with seen (when not NULL) called with ctx_seen for every
 * record in stream order, after fn and just before the record is written,
 * for what must see the records in order (a running hash).  It runs on
 * the worker, which writes: the reading thread has the parsing, the
 * heavier half.  A failing seen stops the run as a failing fn does. */
long long spif_recpipe_run_seen(struct spif_reader *rd, const struct spif_record *first,
                                struct spif_writer *wr, spif_recpipe_fn fn, void *ctx_main,
                                void *ctx_worker, spif_recpipe_fn seen, void *ctx_seen,
                                struct spif_err *err);

#endif
