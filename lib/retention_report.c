/* retention_report.c - see retention_report.h */
#include "catalog_priv.h"
#include "retention_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"

/* ---- schedules ---------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct spif_schedule *)a)->name, ((const struct spif_schedule *)b)->name);
}

static int push_schedule(struct spif_schedule **v, size_t *n, size_t *cap, const struct spif_schedule *s,
                         struct spif_err *err)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct spif_schedule *nv = realloc(*v, ncap * sizeof *nv);
		if (!nv)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *s;
	return 0;
}

static int list_catalog(struct spif_catalog *c, struct spif_schedule **v, size_t *n, size_t *cap,
                        struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT name FROM schedules ORDER BY name", &st, err) < 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_schedule s;
		if (spif_schedule_get(c, (const char *)sqlite3_column_text(st, 0), &s, err) < 0 ||
		    push_schedule(v, n, cap, &s, err) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list schedules", err);
	return 0;
}

int spif_schedule_list(struct spif_catalog *c, struct spif_schedule **v, size_t *n, struct spif_err *err)
{
	size_t cap = 0;
	*v = NULL;
	*n = 0;
	if (c && list_catalog(c, v, n, &cap, err) < 0)
		goto fail;
	if (!c || !spif_retention_defaults_done(c)) {
		size_t nd, have = *n;
		const struct spif_schedule *def = spif_schedule_defaults(&nd);
		for (size_t i = 0; i < nd; i++) {
			int dup = 0;
			for (size_t k = 0; k < have && !dup; k++)
				dup = strcmp((*v)[k].name, def[i].name) == 0;
			if (!dup && push_schedule(v, n, &cap, &def[i], err) < 0)
				goto fail;
		}
	}
	if (*n)
		qsort(*v, *n, sizeof **v, by_name);
	return 0;
fail:
	free(*v);
	*v = NULL;
	*n = 0;
	return -1;
}

/* ---- holds -------------------------------------------------------------- */

#define TEXT_OR_NULL(st, i) ((const char *)sqlite3_column_text(st, i))

int spif_holds_each(struct spif_catalog *c, int all, int (*fn)(void *ctx, const struct spif_hold *h),
                    void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT id, COALESCE(file_id, 0), purpose, reason, placed_by, placed, released,"
	                            " released_by, release_reason, kind FROM holds WHERE ?1 OR released IS NULL ORDER BY id",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_int(st, 1, all != 0);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_hold h = {
			.id = sqlite3_column_int64(st, 0),
			.file_id = sqlite3_column_int64(st, 1),
			.purpose = TEXT_OR_NULL(st, 2),
			.reason = TEXT_OR_NULL(st, 3),
			.placed_by = TEXT_OR_NULL(st, 4),
			.placed = TEXT_OR_NULL(st, 5),
			.released = TEXT_OR_NULL(st, 6),
			.released_by = TEXT_OR_NULL(st, 7),
			.release_reason = TEXT_OR_NULL(st, 8),
			.kind = TEXT_OR_NULL(st, 9),
		};
		if (fn(ctx, &h))
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list holds", err);
	return 0;
}

int spif_purpose_files(struct spif_catalog *c, const char *purpose, long long *n, struct spif_err *err)
{
	*n = 0;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT COUNT(*) FROM files WHERE purpose = ? AND state != 'disposed'", &st,
	                         err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "count files", err);
	return 0;
}

/* ---- the annual report -------------------------------------------------- */

static json_t *jtext(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? json_string((const char *)t) : json_null();
}

static json_t *jfile(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	char fid[24];
	spif_file_id_format(sqlite3_column_int64(st, i), fid);
	return json_string(fid);
}

/* The rows of sql (bound to a and b when given) as an array of objects
 * keyed by keys: "#name" an integer column, "@name" a file id, else text. */
static json_t *report_rows(struct spif_catalog *c, const char *sql, const char *const *keys, const char *a,
                           const char *b, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, sql, &st, err) < 0)
		return NULL;
	if (a)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_object();
		for (int i = 0; keys[i]; i++) {
			const char *k = keys[i];
			if (k[0] == '#') /* an integer column */
				json_object_set_new(row, k + 1, json_integer(sqlite3_column_int64(st, i)));
			else if (k[0] == '@') /* a file id */
				json_object_set_new(row, k + 1, jfile(st, i));
			else
				json_object_set_new(row, k, jtext(st, i));
		}
		json_array_append_new(arr, row);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		spif_catalog_sqlerr(c, rc, "report", err);
		return NULL;
	}
	return arr;
}

/* Set key of r to the array v; -1 (and r freed) when v is NULL. */
static int put(json_t *r, const char *key, json_t *v)
{
	if (!v) {
		json_decref(r);
		return -1;
	}
	json_object_set_new(r, key, v);
	return 0;
}

json_t *spif_retention_report(struct spif_catalog *c, int fiscal_year, long as_of, struct spif_err *err)
{
	long from = spif_day_from_ymd(fiscal_year, 4, 1), to = spif_day_from_ymd(fiscal_year + 1, 3, 31);
	char fb[11], tb[11], ab[11], fu[32], tu[32];
	spif_day_format(from, fb);
	spif_day_format(to, tb);
	spif_day_format(as_of, ab);
	/* the fiscal year is a legal-calendar notion, certificates carry UTC */
	spif_legal_day_start_utc(from, fu);
	spif_legal_day_start_utc(to + 1, tu);
	json_t *r = json_object();
	json_object_set_new(r, "fiscal_year", json_integer(fiscal_year));
	json_object_set_new(r, "from", json_string(fb));
	json_object_set_new(r, "to", json_string(tb));
	json_object_set_new(r, "as_of", json_string(ab));
	json_object_set_new(r, "catalog", json_string(spif_catalog_id(c)));
	static const char *const k1[] = {"purpose", "#active", "#redacted", "#disposed", "#without_schedule", NULL};
	if (put(r, "files_by_purpose", report_rows(c,
	        "SELECT purpose, SUM(state = 'active'), SUM(state = 'redacted'), SUM(state = 'disposed'),"
	        " SUM(state != 'disposed' AND schedule IS NULL) FROM files GROUP BY purpose ORDER BY purpose", k1,
	        NULL, NULL, err)) < 0)
		return NULL;
	static const char *const k2[] = {"issued", "certificate", "kind", "@file", "purpose", "label", "schedule",
	                                 "operator", "confirmed", NULL};
	if (put(r, "disposals", report_rows(c,
	        "SELECT c.issued, c.id, c.kind, c.file_id, f.purpose, f.label, f.schedule, c.operator, k.confirmed"
	        " FROM certificates c LEFT JOIN files f ON f.id = c.file_id"
	        " LEFT JOIN confirmations k ON k.cert_id = c.id"
	        " WHERE c.issued >= ?1 AND c.issued < ?2 ORDER BY c.issued, c.id", k2, fu, tu, err)) < 0)
		return NULL;
	static const char *const k3[] = {"@file", "due", "schedule", "action", "state", "purpose", "label", NULL};
	json_t *ov = report_rows(c,
	        "SELECT f.id, f.dispose_on, f.schedule, s.action, f.state, f.purpose, f.label"
	        " FROM schedules s CROSS JOIN files f"
	        " WHERE f.state IN ('active', CASE WHEN s.action = 'shred' THEN 'redacted' END)"
	        " AND f.schedule = s.name AND f.dispose_on <= ?1 ORDER BY f.dispose_on, f.id", k3, ab, NULL, err);
	if (put(r, "overdue", ov) < 0)
		return NULL;
	size_t i;
	json_t *x;
	json_array_foreach(ov, i, x) {
		const char *fid = json_string_value(json_object_get(x, "file"));
		long long hid = spif_file_held(c, spif_file_id_parse(fid ? fid : "-"), err);
		if (hid < 0) {
			json_decref(r);
			return NULL;
		}
		char hb[24];
		spif_hold_id_format(hid, hb);
		json_object_set_new(x, "held_by", hid ? json_string(hb) : json_null());
	}
	static const char *const k4[] = {"#id", "@file", "purpose", "reason", "placed_by", "placed", "released",
	                                 "released_by", "release_reason", NULL};
	json_t *h = report_rows(c,
	        "SELECT id, file_id, purpose, reason, placed_by, placed, released, released_by, release_reason"
	        " FROM holds WHERE released IS NULL OR (released >= ?1 AND released < ?2) ORDER BY id", k4, fu, tu, err);
	if (put(r, "holds", h) < 0)
		return NULL;
	json_array_foreach(h, i, x) {
		char hb[24];
		spif_hold_id_format((long long)json_integer_value(json_object_get(x, "id")), hb);
		json_object_set_new(x, "hold", json_string(hb));
		json_object_del(x, "id");
	}
	static const char *const k5[] = {"#purge", "started", "finished", "operator", "#plan", "#disposed", "#failed",
	                                 NULL};
	if (put(r, "purges", report_rows(c,
	        "SELECT id, started, finished, operator, COALESCE(plan_id, 0), disposed, failed FROM purges"
	        " WHERE started >= ?1 AND started < ?2 ORDER BY id", k5, fu, tu, err)) < 0)
		return NULL;
	return r;
}
