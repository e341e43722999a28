/* vault_feed.h - a vault copy's plaintext as a descriptor to read records
 * from, and a vault copy's plaintext size from its header.
 *
 * A feed is a pipe whose write end a thread fills with spif_vault_read;
 * the caller reads the other end (a spif_reader, a copy loop).  The thread
 * opens its own catalog connection: a connection's statement cache is not
 * shared between threads, and the caller keeps using its own meanwhile.
 * The plaintext exists only in the pipe and the two processes' buffers;
 * nothing is written anywhere.
 *
 * Errors come back as a value at spif_vault_feed_finish: the thread's
 * struct spif_err, whose message says why the bytes ended (a chunk that
 * fails authentication, a destroyed key), rather than what a reader makes
 * of a stream cut short.  A reader that stops early closes its end; the
 * thread's next write then fails with EPIPE (SIGPIPE is blocked in the
 * thread), which is not the caller's error: finish with drain = 0 and
 * ignore it, or drain = 1 to read the rest so that the thread ends on its
 * own terms (done when the reader failed, to learn whether the vault
 * copy was the cause). */
#ifndef SPIF_VAULT_FEED_H
#define SPIF_VAULT_FEED_H

#include "err.h"
#include "home.h"

struct spif_vault_feed;

/* Start feeding file_id's vault copy at path.  *fd gets the read end,
 * which stays the feed's (spif_vault_feed_finish closes it). */
int spif_vault_feed_start(const char *home, const struct spif_conf *conf, long long file_id, const char *path,
                          struct spif_vault_feed **f, int *fd, struct spif_err *err);

/* The same, read in one pass (spif_vault_read_once), for a reader whose
 * output has no name until the whole reading succeeded (an export). */
int spif_vault_feed_start_once(const char *home, const struct spif_conf *conf, long long file_id, const char *path,
                               struct spif_vault_feed **f, int *fd, struct spif_err *err);

/* Close the read end (after reading the rest when drain), wait for the
 * thread, free f.  0 when the thread read the whole copy into the pipe;
 * -1 with the thread's error in err.  f may be NULL (then 0). */
int spif_vault_feed_finish(struct spif_vault_feed *f, int drain, struct spif_err *err);

#endif
