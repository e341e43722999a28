/* catalog_query.h - what the catalog holds, read for reports and
 * listings: files, copies (by state, by path), the audit log.
 *
 * The commands print; these read.  A listing hands each row to a
 * callback while the statement is open (O(1) memory however large the
 * catalog): the row and its strings are valid only during the call, and a
 * callback must not use the catalog.  A callback that returns non-zero
 * stops the listing, and that value is returned.  A short list (the copies
 * at one path) comes back as an array instead.  Errors are -1 with err. */
#ifndef SPIF_CATALOG_QUERY_H
#define SPIF_CATALOG_QUERY_H

#include "catalog.h"

/* Every file in id order, or only those in state (state < 0: all). */
typedef int (*spif_file_fn)(void *ctx, const struct spif_file *f);
int spif_catalog_list_files(struct spif_catalog *c, int state, spif_file_fn fn, void *ctx,
                            struct spif_err *err);

/* The copies in one state, in id order (disposing: what an interrupted
 * disposal left, for spif shred --resume and catalog verify). */
int spif_catalog_copies_in_state(struct spif_catalog *c, enum spif_copy_state state,
                                 struct spif_copy **out, size_t *n, struct spif_err *err);

/* The copies at path that are not disposed (present or disposing),
 * oldest first: usually one, more when one file was ingested twice. */
int spif_catalog_copies_at(struct spif_catalog *c, const char *path, struct spif_copy **out,
                           size_t *n, struct spif_err *err);

/* One audit event as stored (see audit.h); strings may be NULL where the
 * column is (sudo_user, object). */
struct spif_event_row {
	long long seq, pid;
	const char *time, *operator_, *sudo_user, *host, *argv, *action, *object, *details;
	const char *prev_hash, *hash;
};
typedef int (*spif_event_fn)(void *ctx, const struct spif_event_row *ev);
/* The audit log oldest first: events whose object is object (NULL or "":
 * every event), only the last `last` of them when last > 0. */
int spif_catalog_list_events(struct spif_catalog *c, const char *object, long long last,
                             spif_event_fn fn, void *ctx, struct spif_err *err);

/* The same listing with more to choose by (spif catalog log --operator,
 * --since; lib/review.h): each field NULL or "" (0 for last) chooses
 * nothing.  operator_ matches an event's operator, and also "root (sudo
 * from NAME, unverified)" for NAME (and for root); since and until are
 * UTC times in the log's own format, since inclusive, until exclusive. */
struct spif_event_filter {
	const char *object, *operator_, *since, *until, *action;
	long long last;
};
int spif_catalog_filter_events(struct spif_catalog *c, const struct spif_event_filter *f, spif_event_fn fn,
                               void *ctx, struct spif_err *err);

#endif
