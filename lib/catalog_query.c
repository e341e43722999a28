/* catalog_query.c - see catalog_query.h */
#include "catalog_query.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_priv.h"

int spif_catalog_list_files(struct spif_catalog *c, int state, spif_file_fn fn, void *ctx,
                            struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, state >= 0 ? "SELECT " SPIF_FILE_COLUMNS " FROM files WHERE state=? ORDER BY id"
	                                       : "SELECT " SPIF_FILE_COLUMNS " FROM files ORDER BY id", &st, err) < 0)
		return -1;
	if (state >= 0)
		sqlite3_bind_text(st, 1, spif_file_state_name((enum spif_file_state)state), -1, SQLITE_STATIC);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_file f;
		spif_file_from_row(st, &f);
		stop = fn(ctx, &f);
		spif_file_free(&f);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list files", err);
	return 0;
}

/* Every row of st (SELECT of SPIF_COPY_COLUMNS, bound) into a new array;
 * st is finalized. */
static int copies_of(struct spif_catalog *c, sqlite3_stmt *st, const char *what, struct spif_copy **out,
                     size_t *n, struct spif_err *err)
{
	int rc = spif_copies_read(c, st, what, out, n, err);
	sqlite3_finalize(st);
	return rc;
}

int spif_catalog_copies_in_state(struct spif_catalog *c, enum spif_copy_state state,
                                 struct spif_copy **out, size_t *n, struct spif_err *err)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (spif_catalog_prepare(c, "SELECT " SPIF_COPY_COLUMNS " FROM copies WHERE state = ? ORDER BY id", &st,
	                         err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, spif_copy_state_name(state), -1, SQLITE_STATIC);
	return copies_of(c, st, "list copies", out, n, err);
}

int spif_catalog_copies_at(struct spif_catalog *c, const char *path, struct spif_copy **out, size_t *n,
                           struct spif_err *err)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (spif_catalog_prepare(c, "SELECT " SPIF_COPY_COLUMNS " FROM copies"
	                            " WHERE path = ? AND state NOT IN ('disposed','lost') ORDER BY id", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
	return copies_of(c, st, "copies at a path", out, n, err);
}

int spif_catalog_file_at(struct spif_catalog *c, const char *path, char fid[24], struct spif_err *err)
{
	fid[0] = '\0';
	char *real = realpath(path, NULL);
	if (!real)
		return 0;
	struct spif_copy *cp = NULL;
	size_t n = 0;
	int rc = spif_catalog_copies_at(c, real, &cp, &n, err);
	free(real);
	for (size_t i = n; rc == 0 && i-- > 0;)
		if (cp[i].state == SPIF_COPY_PRESENT && cp[i].file_id > 0) {
			spif_file_id_format(cp[i].file_id, fid);
			rc = 1;
		}
	spif_copies_free(cp, n);
	return rc;
}

#define T(i) ((const char *)sqlite3_column_text(st, i))

json_t *spif_event_json(sqlite3_stmt *st)
{
	static const char *const names[12] = {"seq", "time", "operator", "sudo_user", "host", "pid",
	                                      "argv", "action", "object", "details", "prev_hash", "hash"};
	json_t *ev = json_object();
	for (int i = 0; i < 12; i++)
		json_object_set_new(ev, names[i], i == 0 || i == 5 ? json_integer(sqlite3_column_int64(st, i))
		                                  : T(i) ? json_string(T(i)) : json_null());
	return ev;
}

int spif_catalog_list_events(struct spif_catalog *c, const char *object, long long last,
                             spif_event_fn fn, void *ctx, struct spif_err *err)
{
	struct spif_event_filter f = {.object = object, .last = last};
	return spif_catalog_filter_events(c, &f, fn, ctx, err);
}

int spif_catalog_filter_events(struct spif_catalog *c, const struct spif_event_filter *f, spif_event_fn fn,
                               void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	char fid[24] = "";
	if (f->file_id > 0)
		spif_file_id_format(f->file_id, fid);
	const char *object = fid[0] ? fid : f->object;
	/* one statement, each filter a clause that an empty parameter turns
	 * off; the last N that match, handed on oldest first.  A file's events
	 * are its own, those naming it in their details (certificates,
	 * disposals), those of its copies, and those of the exports that
	 * hold it (the export, its return, destruction or loss). */
	if (spif_catalog_prepare(c, "SELECT " SPIF_EVENT_COLUMNS " FROM (SELECT * FROM events WHERE"
	                            " (?1 = '' OR object = ?1"
	                            "  OR (CASE WHEN json_valid(details) THEN json_extract(details, '$.file') END) = ?1"
	                            "  OR (?7 > 0 AND object IN (SELECT export_id FROM export_files WHERE file_id = ?7))"
	                            "  OR (object LIKE 'copy:%' AND CAST(substr(object, 6) AS INTEGER)"
	                            "      IN (SELECT id FROM copies WHERE file_id = ?7)))"
	                            " AND (?3 = '' OR operator = ?3"
	                            "      OR substr(operator, 1, length(?3) + 17) = 'root (sudo from ' || ?3 || ','"
	                            "      OR (?3 = 'root' AND substr(operator, 1, 16) = 'root (sudo from '))"
	                            " AND (?4 = '' OR time >= ?4) AND (?5 = '' OR time < ?5)"
	                            " AND (?6 = '' OR action = ?6 OR substr(action, 1, length(?6) + 1) = ?6 || '.')"
	                            " ORDER BY seq DESC LIMIT ?2) ORDER BY seq", &st, err) < 0)
		return -1;
	static const char none[] = "";
	sqlite3_bind_text(st, 1, object ? object : none, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, f->last > 0 ? f->last : -1);
	sqlite3_bind_text(st, 3, f->operator_ ? f->operator_ : none, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, f->since ? f->since : none, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, f->until ? f->until : none, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, f->action ? f->action : none, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, f->file_id);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_event_row ev = {
			.seq = sqlite3_column_int64(st, 0), .time = T(1), .operator_ = T(2), .sudo_user = T(3),
			.host = T(4), .pid = sqlite3_column_int64(st, 5), .argv = T(6), .action = T(7),
			.object = T(8), .details = T(9), .prev_hash = T(10), .hash = T(11),
		};
		stop = fn(ctx, &ev);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read the log", err);
	return 0;
}

int spif_catalog_file_with_content(struct spif_catalog *c, const char *sha256, long long *id, char **label,
                                   struct spif_err *err)
{
	sqlite3_stmt *st;
	*id = 0;
	*label = NULL;
	if (spif_catalog_prepare(c, "SELECT id, label FROM files WHERE sha256 = ? AND state != 'disposed'"
	                            " ORDER BY id LIMIT 1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*label = strdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "find content", err);
	return rc == SQLITE_ROW;
}

int spif_copy_redacted(const struct spif_copy *cp)
{
	if (!cp->details)
		return 0;
	json_t *d = json_loads(cp->details, 0, NULL);
	int redacted = json_is_true(json_object_get(d, "redacted"));
	json_decref(d);
	return redacted;
}
