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

/* The copies at path that are not settled (present or disposing),
 * oldest first: usually one, more when one file was ingested twice. */
int spif_catalog_copies_at(struct spif_catalog *c, const char *path, struct spif_copy **out,
                           size_t *n, struct spif_err *err);

/* The catalogued file the file at path (any spelling: it is resolved) is
 * a present copy of, the newest such copy's: 1 with its id in fid, 0 with
 * fid "" when none (or the path does not resolve), -1 with err. */
int spif_catalog_file_at(struct spif_catalog *c, const char *path, char fid[24], struct spif_err *err);

/* An active (not disposed) file whose content has this SHA-256: its id
 * and label (malloc'd) when there is one, 1; 0 when none; -1 with err. */
int spif_catalog_file_with_content(struct spif_catalog *c, const char *sha256, long long *id, char **label,
                                   struct spif_err *err);

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

/* Which events a reader wants (catalog log's options, catalog review); a
 * zero struct is every event.  Every field narrows: all of them must
 * match.  One struct, so that a new filter is a field here and a clause in
 * spif_catalog_filter_events, not another function. */
struct spif_event_filter {
	long long file_id;     /* > 0: everything about that file: its own events,
	                          those naming it in their details (certificates,
	                          disposals, exports) and those of its copies ("copy:N") */
	const char *object;    /* without file_id: events about this object */
	const char *operator_; /* an event's operator, also "root (sudo from NAME,
	                          unverified)" for NAME (and for root) */
	const char *since;     /* a catalog UTC time: events at or after it (NULL: any) */
	const char *until;     /* a catalog UTC time: events before it (NULL: any) */
	const char *action;    /* "shred" matches shred and shred.start, shred.fail ... */
	long long last;        /* > 0: only the last N that match */
};
int spif_catalog_filter_events(struct spif_catalog *c, const struct spif_event_filter *f, spif_event_fn fn,
                               void *ctx, struct spif_err *err);

#endif
