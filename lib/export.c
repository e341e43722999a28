/* export.c - the ledger of checkouts (持出し簿): see export.h.  The run
 * that writes an archive is export_run.c; checking one, export_check.c.
 *
 * Every change here is one transaction with its event, and the states
 * only move forward: out -> returned | destroyed-by-recipient | lost, or
 * (a disclosure answer only) out -> delivered.
 * The row's custody items are written once, at the export; what happens
 * after is in closed, closed_by and fate (JSON), so that the row keeps
 * what spif/checkout.json in the archive says (its SHA-256 is in the row
 * and in the export's event). */
#include "catalog_priv.h"
#include "export_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "base64.h"
#include "digest.h"
#include "mynumber.h"
#include "pgp.h"
#include "retention.h"

static const char *const state_names[] = {"out", "returned", "destroyed-by-recipient", "lost", "delivered"};
#define NSTATES ((int)(sizeof state_names / sizeof *state_names))

const char *spif_export_state_name(enum spif_export_state s)
{
	return (unsigned)s < NSTATES ? state_names[s] : "?";
}

static enum spif_export_state state_parse(const char *s)
{
	for (int i = 0; s && i < NSTATES; i++)
		if (strcmp(s, state_names[i]) == 0)
			return (enum spif_export_state)i;
	return SPIF_EXPORT_OUT;
}

int spif_export_id_valid(const char *s)
{
	if (strlen(s) != 14 || strncmp(s, "EX-", 3) != 0 || s[7] != '-')
		return 0;
	for (int i = 3; i < 14; i++)
		if (i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static json_t *jopt(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* ---- numbers and the lock --------------------------------------------- */

int spif_export_next_id(struct spif_catalog *c, const char *now, char id[32], int *year, long long *n,
                        struct spif_err *err)
{
	struct tm tm = {0};
	if (!strptime(now, "%Y-%m-%dT%H:%M:%S", &tm))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "bad time %s", now);
	time_t t = timegm(&tm) + 9 * 3600; /* the year in Japan, as certificates count it */
	gmtime_r(&t, &tm);
	*year = tm.tm_year + 1900;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT COALESCE(MAX(n), 0) + 1 FROM exports WHERE year = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int(st, 1, *year);
	int rc = sqlite3_step(st);
	*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "number the export", err);
	snprintf(id, 32, "EX-%04d-%06lld", *year, *n);
	return 0;
}

int spif_export_lock(const char *home, const struct spif_conf *conf, int *fd, struct spif_err *err)
{
	struct spif_lock_holder who;
	if (spif_home_lock(home, conf, "export.lock", NULL, fd, &who, err) == 0)
		return 0;
	if (err->code == SPIF_EX_TEMPFAIL) {
		char s[160];
		spif_lock_holder_str(&who, s, sizeof s);
		spif_err_set(err, SPIF_EX_TEMPFAIL, "another export is being written from %s (export.lock is held by "
		             "%s); try again later", home, s);
	}
	return -1;
}

/* ---- the row ---------------------------------------------------------- */

static const char *jget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int spif_export_insert(struct spif_catalog *c, const struct spif_export_new *x, struct spif_err *err)
{
	if (!spif_catalog_in_tx(c))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "spif_export_insert: not in a transaction");
	json_t *r = x->row;
	char *files = json_dumps(json_object_get(r, "files"), JSON_COMPACT | JSON_SORT_KEYS);
	char *recp = json_dumps(json_object_get(r, "recipients"), JSON_COMPACT | JSON_SORT_KEYS);
	int rc = -1;
	sqlite3_stmt *st = NULL;
	if (!files || !recp) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	/* the event first: the row names its seq */
	json_t *fl = json_array();
	for (size_t i = 0; i < x->nfiles; i++) {
		char fid[24];
		spif_file_id_format(x->file_ids[i], fid);
		json_array_append_new(fl, json_string(fid));
	}
	json_t *d = json_pack("{s:o,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:I,s:s,s:s,s:o,s:o}",
	                      "files", fl, "records", (json_int_t)json_integer_value(json_object_get(r, "records")),
	                      "persons", (json_int_t)json_integer_value(json_object_get(r, "persons")),
	                      "organisation", jopt(jget(r, "organisation")), "person", jopt(jget(r, "person")),
	                      "basis", jopt(jget(r, "basis")), "reason", jopt(jget(r, "reason")),
	                      "medium", jopt(jget(r, "medium")), "seal", jopt(jget(r, "seal")),
	                      "due", jopt(jget(r, "due")), "path", x->path, "archive_sha256", x->archive_sha256,
	                      "size", (json_int_t)x->archive_size, "checkout_sha256", x->checkout_sha256,
	                      "tagmanifest_sha256", x->tagmanifest_sha256, "format", jopt(jget(r, "format")),
	                      "signer", jopt(jget(r, "signer")));
	/* a disclosure request's pseudonym of the person, never the number */
	if (d && json_object_get(r, "subject"))
		json_object_set(d, "subject", json_object_get(r, "subject"));
	long long seq;
	int a = d ? spif_audit_append(c, "export", x->id, d, &seq, err) : spif_err_set(err, SPIF_EX_SOFTWARE,
	                                                                               "out of memory");
	json_decref(d);
	if (a < 0)
		goto out;
	if (spif_catalog_prepare(c,
	        "INSERT INTO exports(id,year,n,files,records,persons,recipients,organisation,person,basis,reason,"
	        "operator,approver,medium,seal,created,due,format,path,signer,archive_sha256,archive_size,"
	        "checkout_sha256,event_seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, x->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, x->year);
	sqlite3_bind_int64(st, 3, x->n);
	sqlite3_bind_text(st, 4, files, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(r, "records")));
	sqlite3_bind_int64(st, 6, json_integer_value(json_object_get(r, "persons")));
	sqlite3_bind_text(st, 7, recp, -1, SQLITE_TRANSIENT);
	bind_opt(st, 8, jget(r, "organisation"));
	bind_opt(st, 9, jget(r, "person"));
	bind_opt(st, 10, jget(r, "basis"));
	bind_opt(st, 11, jget(r, "reason"));
	bind_opt(st, 12, jget(r, "operator"));
	bind_opt(st, 13, jget(r, "approver"));
	bind_opt(st, 14, jget(r, "medium"));
	bind_opt(st, 15, jget(r, "seal"));
	bind_opt(st, 16, jget(r, "created"));
	bind_opt(st, 17, jget(r, "due"));
	bind_opt(st, 18, jget(r, "format"));
	sqlite3_bind_text(st, 19, x->path, -1, SQLITE_TRANSIENT);
	bind_opt(st, 20, jget(r, "signer"));
	sqlite3_bind_text(st, 21, x->archive_sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 22, x->archive_size);
	sqlite3_bind_text(st, 23, x->checkout_sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 24, seq);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (s != SQLITE_DONE) {
		spif_catalog_sqlerr(c, s, "add export", err);
		goto out;
	}
	for (size_t i = 0; i < x->nfiles; i++) {
		if (spif_catalog_cached(c, "INSERT INTO export_files(export_id,file_id,copy_id) VALUES(?,?,?)", &st,
		                        err) < 0)
			goto out;
		sqlite3_bind_text(st, 1, x->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, x->file_ids[i]);
		if (x->copy_ids[i] > 0)
			sqlite3_bind_int64(st, 3, x->copy_ids[i]);
		s = sqlite3_step(st);
		spif_catalog_release(st);
		st = NULL;
		if (s != SQLITE_DONE) {
			spif_catalog_sqlerr(c, s, "add export file", err);
			goto out;
		}
	}
	rc = 0;
out:
	free(files);
	free(recp);
	return rc;
}

#define EXPORT_COLUMNS                                                                                  \
	"id,files,records,persons,recipients,organisation,person,basis,reason,operator,approver,medium,seal," \
	"created,due,format,path,signer,archive_sha256,archive_size,checkout_sha256,state,closed,closed_by,"  \
	"fate,event_seq"

static char *col(sqlite3_stmt *st, int i, int own)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return own ? (t ? strdup(t) : NULL) : (char *)t;
}

/* Fill r from a row of EXPORT_COLUMNS: copies when own, else pointers
 * into the statement (valid until its next step). */
static void row_from(sqlite3_stmt *st, struct spif_export_row *r, int own)
{
	memset(r, 0, sizeof *r);
	r->id = col(st, 0, own);
	r->files = col(st, 1, own);
	r->records = sqlite3_column_int64(st, 2);
	r->persons = sqlite3_column_int64(st, 3);
	r->recipients = col(st, 4, own);
	r->organisation = col(st, 5, own);
	r->person = col(st, 6, own);
	r->basis = col(st, 7, own);
	r->reason = col(st, 8, own);
	r->operator_ = col(st, 9, own);
	r->approver = col(st, 10, own);
	r->medium = col(st, 11, own);
	r->seal = col(st, 12, own);
	r->created = col(st, 13, own);
	r->due = col(st, 14, own);
	r->format = col(st, 15, own);
	r->path = col(st, 16, own);
	r->signer = col(st, 17, own);
	r->archive_sha256 = col(st, 18, own);
	r->archive_size = sqlite3_column_int64(st, 19);
	r->checkout_sha256 = col(st, 20, own);
	r->state = state_parse((const char *)sqlite3_column_text(st, 21));
	r->closed = col(st, 22, own);
	r->closed_by = col(st, 23, own);
	r->fate = col(st, 24, own);
	r->event_seq = sqlite3_column_int64(st, 25);
}

void spif_export_row_free(struct spif_export_row *r)
{
	char **s[] = {&r->id, &r->files, &r->recipients, &r->organisation, &r->person, &r->basis, &r->reason,
	              &r->operator_, &r->approver, &r->medium, &r->seal, &r->created, &r->due, &r->format,
	              &r->path, &r->signer, &r->archive_sha256, &r->checkout_sha256, &r->closed, &r->closed_by,
	              &r->fate};
	for (size_t i = 0; i < sizeof s / sizeof *s; i++)
		free(*s[i]);
	memset(r, 0, sizeof *r);
}

int spif_export_get(struct spif_catalog *c, const char *id, struct spif_export_row *r, struct spif_err *err)
{
	sqlite3_stmt *st;
	memset(r, 0, sizeof *r);
	if (spif_catalog_prepare(c, "SELECT " EXPORT_COLUMNS " FROM exports WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_from(st, r, 1);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no export %s in the ledger", id);
	return spif_catalog_sqlerr(c, rc, "exports", err);
}

int spif_export_list(struct spif_catalog *c, int which, const char *today,
                     int (*fn)(void *ctx, const struct spif_export_row *r), void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	const char *sql = which == SPIF_EXPORT_LIST_OVERDUE
	                ? "SELECT " EXPORT_COLUMNS " FROM exports WHERE state = 'out' AND due IS NOT NULL AND due < ?1"
	                  " ORDER BY year, n"
	                : which == SPIF_EXPORT_LIST_OUT
	                ? "SELECT " EXPORT_COLUMNS " FROM exports WHERE state = 'out' ORDER BY year, n"
	                : "SELECT " EXPORT_COLUMNS " FROM exports ORDER BY year, n";
	if (spif_catalog_prepare(c, sql, &st, err) < 0)
		return -1;
	if (which == SPIF_EXPORT_LIST_OVERDUE)
		sqlite3_bind_text(st, 1, today, -1, SQLITE_TRANSIENT);
	int rc, stop = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_export_row r;
		row_from(st, &r, 0);
		if ((stop = fn(ctx, &r)) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list exports", err);
	return 0;
}

/* ---- what disposal asks ---------------------------------------------- */

int spif_export_outstanding(struct spif_catalog *c, long long file_id, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT COUNT(*) FROM export_files f JOIN exports e ON e.id = f.export_id"
	                           " WHERE f.file_id = ? AND e.state = 'out'", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int rc = sqlite3_step(st);
	long long n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	spif_catalog_release(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "exports", err);
	return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

json_t *spif_export_fates(struct spif_catalog *c, long long file_id, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT e.id, e.state, e.organisation, e.created, e.due, e.closed, e.fate,"
	                           " e.path, e.archive_sha256, f.copy_id, e.medium"
	                           " FROM export_files f JOIN exports e ON e.id = f.export_id"
	                           " WHERE f.file_id = ? ORDER BY e.year, e.n", &st, err) < 0)
		return NULL;
	sqlite3_bind_int64(st, 1, file_id);
	json_t *a = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *fate = (const char *)sqlite3_column_text(st, 6);
		json_t *f = fate ? json_loads(fate, 0, NULL) : NULL;
		json_t *o = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:s?,s:s?,s:s?}",
		                      "export", (const char *)sqlite3_column_text(st, 0),
		                      "state", (const char *)sqlite3_column_text(st, 1),
		                      "recipient", (const char *)sqlite3_column_text(st, 2),
		                      "created", (const char *)sqlite3_column_text(st, 3),
		                      "due", (const char *)sqlite3_column_text(st, 4),
		                      "closed", (const char *)sqlite3_column_text(st, 5),
		                      "fate", f ? f : json_null(),
		                      "archive", (const char *)sqlite3_column_text(st, 7),
		                      "archive_sha256", (const char *)sqlite3_column_text(st, 8),
		                      "medium", (const char *)sqlite3_column_text(st, 10));
		if (o && sqlite3_column_type(st, 9) != SQLITE_NULL)
			json_object_set_new(o, "copy_id", json_integer(sqlite3_column_int64(st, 9)));
		if (!o || json_array_append_new(a, o) < 0) {
			spif_catalog_release(st);
			json_decref(a);
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			return NULL;
		}
	}
	spif_catalog_release(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		spif_catalog_sqlerr(c, rc, "exports", err);
		return NULL;
	}
	return a;
}

/* ---- closing a checkout ----------------------------------------------- */

/* The export row id, which must be out. */
static int get_out(struct spif_catalog *c, const char *id, struct spif_export_row *r, struct spif_err *err)
{
	if (spif_export_get(c, id, r, err) < 0)
		return -1;
	if (r->state != SPIF_EXPORT_OUT) {
		int rc = spif_err_set(err, SPIF_EX_DATAERR, "%s is %s already (%s)", id, spif_export_state_name(r->state),
		                      r->closed ? r->closed : "?");
		spif_export_row_free(r);
		return rc;
	}
	return 0;
}

static int set_closed(struct spif_catalog *c, const char *id, enum spif_export_state s, json_t *fate,
                      struct spif_err *err)
{
	char now[32], *fs = json_dumps(fate, JSON_COMPACT | JSON_SORT_KEYS);
	if (!fs)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	spif_now_utc(now);
	sqlite3_stmt *st;
	int rc = spif_catalog_prepare(c, "UPDATE exports SET state = ?, closed = ?, closed_by = ?, fate = ?"
	                                 " WHERE id = ? AND state = 'out'", &st, err);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, spif_export_state_name(s), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, fs, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, id, -1, SQLITE_TRANSIENT);
		int s2 = sqlite3_step(st);
		sqlite3_finalize(st);
		if (s2 != SQLITE_DONE)
			rc = spif_catalog_sqlerr(c, s2, "close export", err);
		else if (sqlite3_changes(spif_catalog_db(c)) != 1)
			rc = spif_err_set(err, SPIF_EX_TEMPFAIL, "%s changed meanwhile; try again", id);
	}
	free(fs);
	return rc;
}

/* The export's files: file id, copy id (0 when none) and the file's path
 * inside the bag, through fn. */
static int each_file(struct spif_catalog *c, const struct spif_export_row *r,
                     int (*fn)(void *ctx, long long file_id, long long copy_id, const char *bagpath), void *ctx,
                     struct spif_err *err)
{
	json_t *files = json_loads(r->files ? r->files : "[]", 0, NULL);
	if (!files)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: its files are not JSON", r->id);
	sqlite3_stmt *st;
	int rc = 0;
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		long long id = spif_file_id_parse(jget(f, "file") ? jget(f, "file") : "");
		long long copy = 0;
		if (spif_catalog_prepare(c, "SELECT copy_id FROM export_files WHERE export_id = ? AND file_id = ?", &st,
		                         err) < 0) {
			rc = -1;
			break;
		}
		sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			copy = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if ((rc = fn(ctx, id, copy, jget(f, "path") ? jget(f, "path") : "")) != 0)
			break;
	}
	json_decref(files);
	return rc;
}

typedef int (*file_fn)(void *ctx, long long file_id, long long copy_id, const char *bagpath);

/* Close checkout r as s in one transaction: its row (fate), fn on each of
 * its files (after the row: a file's other exports are counted without
 * this one), and the event action with ev (fate's copy when NULL).  fate
 * and ev are consumed, whatever happens; NULL fate is out of memory. */
static int close_checkout(struct spif_catalog *c, const struct spif_export_row *r, enum spif_export_state s,
                          json_t *fate, const char *action, json_t *ev, file_fn fn, void *ctx, struct spif_err *err)
{
	int rc = -1;
	if (fate && !ev)
		ev = json_deep_copy(fate);
	if (!fate || !ev)
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	else if (spif_catalog_begin(c, err) == 0) {
		if (set_closed(c, r->id, s, fate, err) == 0 && each_file(c, r, fn, ctx, err) == 0 &&
		    spif_audit_append(c, action, r->id, ev, NULL, err) == 0 && spif_catalog_commit(c, err) == 0)
			rc = 0;
		else
			spif_catalog_rollback(c);
	}
	json_decref(fate);
	json_decref(ev);
	return rc;
}

struct repoint {
	struct spif_catalog *c;
	const struct spif_export_row *r;
	const char *path; /* where the archive (or bag directory) is now */
	int dir;
	struct spif_err *err;
};

/* Point one file's export copy at the returned archive: the row moves when
 * it is present; a copy disposed meanwhile gets a new row (the archive is
 * here again, and must be shredded like any copy). */
static int repoint_one(void *ctx, long long file_id, long long copy_id, const char *bagpath)
{
	struct repoint *p = ctx;
	char where[PATH_MAX * 2];
	if (p->dir)
		snprintf(where, sizeof where, "%s/%s", p->path, bagpath);
	else
		snprintf(where, sizeof where, "%s", p->path);
	struct spif_copy *cp = NULL;
	size_t n = 0;
	if (spif_catalog_get_copies(p->c, file_id, &cp, &n, p->err) < 0)
		return -1;
	const struct spif_copy *mine = NULL;
	for (size_t i = 0; i < n; i++)
		if (cp[i].id == copy_id)
			mine = &cp[i];
	int rc = 0;
	sqlite3_stmt *st;
	if (mine && mine->state != SPIF_COPY_DISPOSED) {
		rc = spif_catalog_prepare(p->c, "UPDATE copies SET path = ? WHERE id = ?", &st, p->err);
		if (rc == 0) {
			sqlite3_bind_text(st, 1, where, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, copy_id);
			int s = sqlite3_step(st);
			sqlite3_finalize(st);
			if (s != SQLITE_DONE)
				rc = spif_catalog_sqlerr(p->c, s, "move copy", p->err);
		}
	} else {
		char now[32];
		spif_now_utc(now);
		struct stat sb;
		long long size = stat(where, &sb) == 0 ? (long long)sb.st_size : 0;
		char sha[65] = "";
		if (!p->dir)
			snprintf(sha, sizeof sha, "%s", p->r->archive_sha256);
		char *det = NULL;
		json_t *d = json_pack("{s:s,s:s}", "export", p->r->id, "returned", now);
		det = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(d);
		struct spif_copy nc = {.file_id = file_id, .kind = "export", .path = where, .sha256 = sha[0] ? sha : NULL,
		                       .size = size, .encrypted = p->r->format && strcmp(p->r->format, "bag") == 0,
		                       .created = now, .details = det};
		rc = spif_catalog_add_copy(p->c, &nc, p->err);
		free(det);
		if (rc == 0) {
			rc = spif_catalog_prepare(p->c, "UPDATE export_files SET copy_id = ? WHERE export_id = ? AND file_id = ?",
			                          &st, p->err);
			if (rc == 0) {
				sqlite3_bind_int64(st, 1, nc.id);
				sqlite3_bind_text(st, 2, p->r->id, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(st, 3, file_id);
				int s = sqlite3_step(st);
				sqlite3_finalize(st);
				if (s != SQLITE_DONE)
					rc = spif_catalog_sqlerr(p->c, s, "export file", p->err);
			}
		}
	}
	spif_copies_free(cp, n);
	return rc;
}

static void ignore_problem(void *ctx, const char *kind, const char *path, const char *detail)
{
	(void)kind, (void)path, (void)detail;
	++*(long long *)ctx;
}

int spif_export_return(struct spif_catalog *c, const char *id, const char *received_by, int seal_intact,
                       const char *path, struct spif_err *err)
{
	struct spif_export_row r;
	if (get_out(c, id, &r, err) < 0)
		return -1;
	const char *p = path && *path ? path : r.path;
	int dir = r.format && strcmp(r.format, "dir") == 0;
	char sha[65] = "", real[PATH_MAX];
	long long size = 0;
	int rc = -1;
	struct stat sb;
	if (stat(p, &sb) < 0) {
		spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", p);
		goto out;
	}
	if (dir) {
		struct spif_bag_report rep;
		long long extra = 0;
		if (spif_bag_check_dir(p, ignore_problem, &extra, &rep, err) < 0)
			goto out;
		snprintf(sha, sizeof sha, "%s", rep.tagsha);
		size = rep.payload_bytes;
		long long probs = rep.problems;
		spif_bag_report_free(&rep);
		if (probs) {
			spif_err_set(err, SPIF_EX_DATAERR, "%s: not the bag of %s as it left: %lld problem%s (spif export "
			             "verify lists them)", p, id, probs, probs == 1 ? "" : "s");
			goto out;
		}
	} else if (spif_sha256_file(p, sha, &size, err) < 0)
		goto out;
	if (strcmp(sha, r.archive_sha256) != 0 || (!dir && size != r.archive_size)) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s: not the archive of %s as it left: SHA-256 %.16s..., the ledger "
		             "has %.16s...", p, id, sha, r.archive_sha256);
		goto out;
	}
	if (!realpath(p, real))
		snprintf(real, sizeof real, "%s", p);
	json_t *fate = json_pack("{s:s,s:s,s:s,s:s}", "received_by", received_by, "seal",
	                         seal_intact ? "intact" : "broken", "path", real, "verified_sha256", sha);
	struct repoint rp = {c, &r, real, dir, err};
	if (close_checkout(c, &r, SPIF_EXPORT_RETURNED, fate, "export.return", NULL, repoint_one, &rp, err) < 0)
		goto out;
	rc = 0;
out:
	spif_export_row_free(&r);
	return rc;
}

/* ---- the recipient's deletion certificate ------------------------------ */

/* A whole small file into memory (at most max bytes). */
static int slurp(const char *path, size_t max, char **out, size_t *n, struct spif_err *err)
{
	*out = NULL;
	*n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
		close(fd);
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: not a regular file of at most %zu bytes", path, max);
	}
	char *b = malloc((size_t)sb.st_size + 1);
	if (!b) {
		close(fd);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	size_t got = 0;
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, b + got, (size_t)sb.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	b[got] = '\0';
	*out = b;
	*n = got;
	return 0;
}

/* A cleartext-signed message (RFC 4880 7): the signed text, canonical
 * (dash-escapes undone, trailing blanks removed, lines joined by CRLF,
 * no line end after the last), and the armored signature, both pointing
 * into or allocated from msg.  0, or -1 when msg is not one. */
static int clearsigned(char *msg, char **text, size_t *tn, char **sig, size_t *sn)
{
	static const char beg[] = "-----BEGIN PGP SIGNED MESSAGE-----", sbeg[] = "-----BEGIN PGP SIGNATURE-----";
	*text = NULL;
	if (strncmp(msg, beg, sizeof beg - 1) != 0)
		return -1;
	char *p = strchr(msg, '\n');
	/* armor headers (Hash: ...), then an empty line */
	while (p) {
		p++;
		if (*p == '\n' || (p[0] == '\r' && p[1] == '\n')) {
			p = strchr(p, '\n') + 1;
			break;
		}
		p = strchr(p, '\n');
	}
	if (!p)
		return -1;
	char *s = strstr(p, sbeg);
	while (s && s != p && s[-1] != '\n')
		s = strstr(s + 1, sbeg);
	if (!s)
		return -1;
	char *t = malloc((size_t)(s - p) * 2 + 2);
	if (!t)
		return -1;
	size_t o = 0;
	int first = 1;
	for (char *ln = p; ln < s;) {
		char *nl = memchr(ln, '\n', (size_t)(s - ln));
		size_t L = nl ? (size_t)(nl - ln) : (size_t)(s - ln);
		char *q = ln;
		if (L >= 2 && q[0] == '-' && q[1] == ' ') {
			q += 2;
			L -= 2;
		}
		while (L && (q[L - 1] == '\r' || q[L - 1] == ' ' || q[L - 1] == '\t'))
			L--;
		if (!first) {
			t[o++] = '\r';
			t[o++] = '\n';
		}
		first = 0;
		memcpy(t + o, q, L);
		o += L;
		if (!nl)
			break;
		ln = nl + 1;
	}
	t[o] = '\0';
	*text = t;
	*tn = o;
	*sig = s;
	*sn = strlen(s);
	return 0;
}

/* Check the certificate's signature; its signer's fingerprint in fpr. */
static int cert_signature(const char *path, const char *file, size_t fn, char fpr[41], char **sig_out,
                          size_t *sig_n, const char **sig_name, struct spif_err *err)
{
	char sp[PATH_MAX + 8];
	char *sig = NULL, *text = NULL;
	size_t sn = 0, tn = 0;
	int rc = -1;
	*sig_out = NULL;
	*sig_n = 0;
	*sig_name = "(cleartext-signed)";
	static const char *const ext[] = {".asc", ".sig"};
	for (size_t i = 0; i < 2 && !sig; i++) {
		snprintf(sp, sizeof sp, "%s%s", path, ext[i]);
		if (access(sp, F_OK) == 0 && slurp(sp, 1 << 20, &sig, &sn, err) < 0)
			return -1;
		if (sig)
			*sig_name = ext[i];
	}
	char uid[256];
	if (sig) {
		rc = spif_pgp_verify(file, fn, sig, sn, fpr, uid, sizeof uid, err);
		if (rc == 0) {
			*sig_out = sig;
			*sig_n = sn;
		} else
			free(sig);
		return rc;
	}
	char *copy = strdup(file), *s = NULL;
	if (!copy)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (clearsigned(copy, &text, &tn, &s, &sn) < 0) {
		free(copy);
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: not signed: give its detached signature as %s.asc, or a "
		                    "cleartext-signed certificate", path, path);
	}
	rc = spif_pgp_verify(text, tn, s, sn, fpr, uid, sizeof uid, err);
	if (rc == 0 && !(*sig_out = strdup(s)))
		rc = spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (rc == 0)
		*sig_n = sn;
	free(text);
	free(copy);
	return rc;
}

struct dispose_ctx {
	struct spif_catalog *c;
	const struct spif_export_row *r;
	const char *cert_sha;
	int here;             /* the archive is still at its path */
	struct spif_err *err;
};

/* The recipient destroyed their copy: an export copy that is not here is
 * disposed; a file with nothing left, and no other export out, is too. */
static int dispose_one(void *ctx, long long file_id, long long copy_id, const char *bagpath)
{
	(void)bagpath;
	struct dispose_ctx *d = ctx;
	if (!d->here && copy_id > 0 && spif_catalog_set_copy_state(d->c, copy_id, SPIF_COPY_DISPOSED, d->err) < 0)
		return -1;
	struct spif_copy *cp = NULL;
	size_t n = 0;
	if (spif_catalog_get_copies(d->c, file_id, &cp, &n, d->err) < 0)
		return -1;
	size_t live = 0;
	for (size_t i = 0; i < n; i++)
		live += cp[i].state != SPIF_COPY_DISPOSED;
	spif_copies_free(cp, n);
	struct spif_file f;
	if (spif_catalog_get_file(d->c, file_id, &f, d->err) < 0)
		return -1;
	int was = f.state == SPIF_FILE_DISPOSED;
	spif_file_free(&f);
	int out = spif_export_outstanding(d->c, file_id, d->err);
	if (out < 0)
		return -1;
	if (live || was || out)
		return 0;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(d->c, "UPDATE files SET state = 'disposed' WHERE id = ?", &st, d->err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return spif_catalog_sqlerr(d->c, s, "dispose file", d->err);
	char fid[24];
	spif_file_id_format(file_id, fid);
	json_t *ev = json_pack("{s:s,s:s}", "export", d->r->id, "recipient_certificate_sha256", d->cert_sha);
	int rc = spif_audit_append(d->c, "file.disposed", fid, ev, NULL, d->err);
	json_decref(ev);
	return rc;
}

int spif_export_destroyed(struct spif_catalog *c, const char *id, const char *cert_path, int *kept,
                          struct spif_err *err)
{
	struct spif_export_row r;
	if (kept)
		*kept = 0;
	if (get_out(c, id, &r, err) < 0)
		return -1;
	char *file = NULL, *sig = NULL, fpr[41] = "", sha[65];
	size_t fn = 0, sig_n = 0;
	const char *sig_name = "";
	int rc = -1;
	if (slurp(cert_path, 16 << 20, &file, &fn, err) < 0 ||
	    cert_signature(cert_path, file, fn, fpr, &sig, &sig_n, &sig_name, err) < 0)
		goto out;
	spif_sha256_buf(file, fn, sha);
	/* by one of the recipients' keys */
	json_t *rec = json_loads(r.recipients ? r.recipients : "[]", 0, NULL);
	int ours = 0;
	size_t i;
	json_t *e;
	char list[512] = "";
	json_array_foreach(rec, i, e) {
		const char *f = jget(e, "fingerprint");
		if (f && strcasecmp(f, fpr) == 0)
			ours = 1;
		if (f && strlen(list) + 44 < sizeof list)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", f);
	}
	json_decref(rec);
	if (!ours) {
		spif_err_set(err, SPIF_FOUND, "%s: signed by %s, which is not a key %s was encrypted to (%s)", cert_path,
		             fpr, id, list);
		goto out;
	}
	struct stat sb;
	int here = r.path && lstat(r.path, &sb) == 0;
	char base[PATH_MAX];
	const char *slash = strrchr(cert_path, '/');
	snprintf(base, sizeof base, "%s", slash ? slash + 1 : cert_path);
	if (spif_text_has_number(base)) /* the ledger never holds a number */
		snprintf(base, sizeof base, "(a file name holding digits)");
	/* the signature as it came: armored text, or a binary one in base64 */
	json_t *sj;
	if (strncmp(sig, "-----BEGIN PGP", 14) == 0) {
		sj = json_string(sig);
	} else {
		char *b = malloc(SPIF_B64_LEN(sig_n) + 1);
		if (b)
			*spif_b64_encode((const unsigned char *)sig, sig_n, b) = '\0';
		sj = b ? json_string(b) : NULL;
		free(b);
	}
	json_t *fate = sj ? json_pack("{s:s,s:s,s:s,s:o,s:s,s:b}", "certificate", base, "certificate_sha256", sha,
	                              "signer", fpr, strncmp(sig, "-----BEGIN PGP", 14) == 0 ? "signature"
	                              : "signature_base64", sj, "signature_file", sig_name, "archive_kept_here", here)
	                  : NULL;
	json_t *ev = json_pack("{s:s,s:s,s:s,s:b}", "certificate", base, "certificate_sha256", sha, "signer", fpr,
	                       "archive_kept_here", here);
	struct dispose_ctx d = {c, &r, sha, here, err};
	if (!ev) {
		json_decref(fate);
		fate = NULL;
	}
	if (close_checkout(c, &r, SPIF_EXPORT_DESTROYED, fate, "export.destroyed", ev, dispose_one, &d, err) < 0)
		goto out;
	if (kept)
		*kept = here;
	rc = 0;
out:
	free(file);
	free(sig);
	spif_export_row_free(&r);
	return rc;
}

/* ---- lost ------------------------------------------------------------- */

struct hold_ctx {
	struct spif_catalog *c;
	const char *reason;
	json_t *holds;
	struct spif_err *err;
};

static int hold_one(void *ctx, long long file_id, long long copy_id, const char *bagpath)
{
	(void)copy_id, (void)bagpath;
	struct hold_ctx *h = ctx;
	long long hid;
	struct spif_file f;
	if (spif_catalog_get_file(h->c, file_id, &f, h->err) < 0)
		return -1;
	int disposed = f.state == SPIF_FILE_DISPOSED;
	spif_file_free(&f);
	if (disposed)
		return 0; /* nothing here left to hold */
	if (spif_hold_place_incident(h->c, file_id, h->reason, &hid, h->err) < 0)
		return -1;
	char b[24];
	spif_hold_id_format(hid, b);
	json_array_append_new(h->holds, json_string(b));
	return 0;
}

int spif_export_lost(struct spif_catalog *c, const char *id, const char *reason, json_t **holds,
                     struct spif_err *err)
{
	struct spif_export_row r;
	if (holds)
		*holds = NULL;
	if (get_out(c, id, &r, err) < 0)
		return -1;
	char why[1200];
	snprintf(why, sizeof why, "incident: export %s lost: %s", id, reason);
	struct hold_ctx h = {c, why, json_array(), err};
	int rc = -1;
	if (spif_catalog_begin(c, err) < 0)
		goto out;
	json_t *fate = NULL, *ev = NULL;
	if (each_file(c, &r, hold_one, &h, err) != 0 || !(fate = json_pack("{s:s,s:O}", "reason", reason, "holds",
	                                                                    h.holds)) ||
	    set_closed(c, id, SPIF_EXPORT_LOST, fate, err) < 0 || !(ev = json_deep_copy(fate)) ||
	    spif_audit_append(c, "export.lost", id, ev, NULL, err) < 0 || spif_catalog_commit(c, err) < 0) {
		if (!err->code)
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		spif_catalog_rollback(c);
		json_decref(fate);
		json_decref(ev);
		goto out;
	}
	json_decref(fate);
	json_decref(ev);
	if (holds)
		*holds = json_incref(h.holds);
	rc = 0;
out:
	json_decref(h.holds);
	spif_export_row_free(&r);
	return rc;
}

/* ---- a disclosure answer delivered ------------------------------------- */

struct deliver_ctx {
	struct spif_catalog *c;
	int here;
	struct spif_err *err;
};

/* The person holds the archive: an export copy no longer here is settled
 * (disposed: the office keeps nothing of it), when it is still present; one
 * shredded or declared lost meanwhile keeps what was recorded. */
static int deliver_one(void *ctx, long long file_id, long long copy_id, const char *bagpath)
{
	(void)file_id, (void)bagpath;
	struct deliver_ctx *d = ctx;
	if (d->here || copy_id <= 0)
		return 0;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(d->c, "UPDATE copies SET state = 'disposed' WHERE id = ? AND state = 'present'", &st,
	                         d->err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, copy_id);
	return spif_catalog_step_done(d->c, st, "settle export copy", d->err);
}

/* 1 when the export's event names a subject (a disclosure answer), 0 when
 * not, -1 with SPIF_EX_NOINPUT when there is no such export. */
static int is_disclosure(struct spif_catalog *c, const char *id, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT json_extract(e.details, '$.subject') IS NOT NULL FROM exports x"
	                            " LEFT JOIN events e ON e.seq = x.event_seq WHERE x.id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	int yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_NOINPUT, "no export %s in the ledger", id);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "exports", err);
	return yes;
}

int spif_export_delivered(struct spif_catalog *c, const char *id, const char *received_by, const char *note,
                          int *kept, struct spif_err *err)
{
	if (kept)
		*kept = 0;
	int dis = is_disclosure(c, id, err);
	if (dis < 0)
		return -1;
	if (!dis)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is not a disclosure answer (spif export --subject-file): "
		                    "it ends by return, destroyed or lost", id);
	struct spif_export_row r;
	if (get_out(c, id, &r, err) < 0)
		return -1;
	struct stat sb;
	int here = r.path && lstat(r.path, &sb) == 0;
	json_t *fate = json_pack("{s:s,s:o,s:b}", "received_by", received_by, "note", jopt(note), "archive_kept_here",
	                         here);
	struct deliver_ctx d = {c, here, err};
	int rc = close_checkout(c, &r, SPIF_EXPORT_DELIVERED, fate, "export.delivered", NULL, deliver_one, &d, err);
	if (rc == 0 && kept)
		*kept = here;
	spif_export_row_free(&r);
	return rc;
}
