/* spool.h - a temporary store for a stream that must not be released until
 * the run has succeeded (ingest emits its records only after the catalog
 * has committed, so a failed run never looks like a complete one).
 *
 * The spool is an unnamed file (O_TMPFILE) encrypted with AES-256-CTR under
 * a random key that exists only in this process's memory: what it leaves on
 * disk after a crash is unreadable.  Memory use is one buffer. */
#ifndef SPIF_SPOOL_H
#define SPIF_SPOOL_H

#include <stddef.h>

#include "err.h"
#include "record.h"

struct spif_spool;

/* dir: where to keep it ($TMPDIR or /tmp when NULL). */
int spif_spool_open(const char *dir, struct spif_spool **out, struct spif_err *err);
/* A spif_sink_fn: ctx is the spool. */
int spif_spool_write(void *ctx, const void *buf, size_t n);
/* Read everything written so far back, decrypted, into fn. */
int spif_spool_drain(struct spif_spool *s, spif_sink_fn fn, void *ctx, struct spif_err *err);
long long spif_spool_size(const struct spif_spool *s);
void spif_spool_close(struct spif_spool *s);

#endif
