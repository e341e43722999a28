/* prefetch.h - parse records on a second core while the caller works.
 *
 * Parsing and decoding a CSV is about a third of what a record filter such
 * as redact spends; the other two thirds (scanning, writing) stay with the
 * caller.  A prefetcher runs spif_reader_next in a thread of its own into a
 * fixed ring of records, so memory stays bounded (O(1) in the input) and
 * records come out in order, exactly as spif_reader_next would give them.
 *
 * The reader belongs to the prefetcher until spif_prefetch_end: do not call
 * it directly in between (its dialect and encoding come from
 * spif_prefetch_dialect and spif_prefetch_encoding instead). */
#ifndef SPIF_PREFETCH_H
#define SPIF_PREFETCH_H

#include "record.h"

struct spif_prefetch;

/* NULL with err set when no memory.  Without a thread (pthread_create
 * failing) it still works, reading in the caller's thread. */
struct spif_prefetch *spif_prefetch_start(struct spif_reader *rd, struct spif_err *err);

/* As spif_reader_next: 1 and *rec points to the next record (valid, and
 * the caller's to change, until the next call), 0 at the end, -1 with err
 * set as the reader set it. */
int spif_prefetch_next(struct spif_prefetch *p, struct spif_record **rec, struct spif_err *err);

/* The reader's dialect and decided encoding as they were when the current
 * record was parsed; after the end, as they were at the end (a file that
 * ends without a line break is known only then). */
const struct spif_dialect *spif_prefetch_dialect(const struct spif_prefetch *p);
enum spif_enc spif_prefetch_encoding(const struct spif_prefetch *p);

/* Stop the thread (it may be mid-file: the rest is not read) and free all;
 * the reader is the caller's again. */
void spif_prefetch_end(struct spif_prefetch *p);

#endif
