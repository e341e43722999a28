/* incident.c - see incident.h */
#include "incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "calendar.h"
#include "catalog_priv.h"
#include "mynumber.h"
#include "retention.h"

void spif_incident_free(struct spif_incident *in)
{
	free(in->opened), free(in->opened_by), free(in->summary), free(in->state);
	free(in->closed), free(in->closed_by), free(in->close_note);
	memset(in, 0, sizeof *in);
}

int spif_incident_id_valid(const char *s)
{
	if (!s || strlen(s) != 15 || strncmp(s, "INC-", 4) != 0 || s[8] != '-')
		return 0;
	for (int i = 4; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static int need_tx(struct spif_catalog *c, const char *fn, struct spif_err *err)
{
	if (!spif_catalog_in_tx(c))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: not in a transaction", fn);
	return 0;
}

static char *dupcol(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

/* A text for the catalog: one line, no number (the command refused it
 * already; this is the last line of defence, fail closed). */
static int plain(const char *what, const char *s, struct spif_err *err)
{
	if (!s || !*s)
		return spif_err_set(err, SPIF_EX_USAGE, "the %s is empty", what);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return spif_err_set(err, SPIF_EX_USAGE, "the %s holds control characters", what);
	if (spif_text_has_number(s))
		return spif_err_set(err, SPIF_EX_USAGE, "the %s holds what may be an Individual Number", what);
	return 0;
}

/* The incident's state: 1 open, 0 closed; SPIF_EX_DATAERR when unknown. */
static int is_open(struct spif_catalog *c, const char *id, struct spif_err *err)
{
	struct spif_incident in;
	if (spif_incident_get(c, id, &in, err) < 0)
		return -1;
	int open = strcmp(in.state, "open") == 0;
	spif_incident_free(&in);
	return open;
}

/* Name one file in incident id: hold it first (unless disposed), then its
 * row.  1 added, 0 already in it. */
static int add_file(struct spif_catalog *c, const char *id, long long file_id, const char *now, json_t *list,
                    struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT 1 FROM incident_files WHERE incident_id = ? AND file_id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, file_id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read incident files", err);
	struct spif_file f;
	if (spif_catalog_get_file(c, file_id, &f, err) < 0)
		return -1;
	long long hid = 0, records = f.records, persons = f.persons;
	int disposed = f.state == SPIF_FILE_DISPOSED;
	spif_file_free(&f);
	char fid[24], hb[24] = "", why[128];
	spif_file_id_format(file_id, fid);
	snprintf(why, sizeof why, "incident: %s", id);
	if (!disposed && spif_hold_place_incident(c, file_id, why, &hid, err) < 0)
		return -1;
	if (spif_catalog_prepare(c, "INSERT INTO incident_files(incident_id,file_id,records,persons,hold_id,added)"
	                            " VALUES(?,?,?,?,?,?)", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, file_id);
	sqlite3_bind_int64(st, 3, records);
	sqlite3_bind_int64(st, 4, persons);
	if (hid)
		sqlite3_bind_int64(st, 5, hid);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	if (spif_catalog_step_done(c, st, "record incident file", err) < 0)
		return -1;
	if (hid)
		spif_hold_id_format(hid, hb);
	json_array_append_new(list, json_pack("{s:s,s:I,s:I,s:o}", "file", fid, "records", (json_int_t)records,
	                                      "persons", (json_int_t)persons, "hold",
	                                      hid ? json_string(hb) : json_null()));
	return 1;
}

static int dup_in(const long long *files, size_t n, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (files[j] == files[i])
			return 1;
	(void)n;
	return 0;
}

int spif_incident_open(struct spif_catalog *c, const char *summary, const long long *files, size_t n,
                       char id[32], struct spif_err *err)
{
	if (need_tx(c, "spif_incident_open", err) < 0 || plain("summary", summary, err) < 0)
		return -1;
	if (!n)
		return spif_err_set(err, SPIF_EX_USAGE, "an incident names at least one file");
	for (size_t i = 0; i < n; i++)
		if (dup_in(files, n, i)) {
			char fid[24];
			spif_file_id_format(files[i], fid);
			return spif_err_set(err, SPIF_EX_USAGE, "%s is named twice", fid);
		}
	char now[32], day[11];
	spif_now_utc(now);
	spif_legal_date_of_utc(now, day); /* the year in Japan, as exports count it */
	int year = atoi(day);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT COALESCE(MAX(n), 0) + 1 FROM incidents WHERE year = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int(st, 1, year);
	int rc = sqlite3_step(st);
	long long num = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "number the incident", err);
	snprintf(id, 32, "INC-%04d-%06lld", year, num);
	if (spif_catalog_prepare(c, "INSERT INTO incidents(id,year,n,opened,opened_by,summary) VALUES(?,?,?,?,?,?)",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, year);
	sqlite3_bind_int64(st, 3, num);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, summary, -1, SQLITE_TRANSIENT);
	if (spif_catalog_step_done(c, st, "record incident", err) < 0)
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		if (add_file(c, id, files[i], now, list, err) < 0) {
			json_decref(list);
			return -1;
		}
	json_t *d = json_pack("{s:s,s:o}", "summary", summary, "files", list);
	rc = spif_audit_append(c, "incident.open", id, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_incident_add_files(struct spif_catalog *c, const char *id, const long long *files, size_t n,
                            size_t *added, struct spif_err *err)
{
	if (added)
		*added = 0;
	if (need_tx(c, "spif_incident_add_files", err) < 0)
		return -1;
	int open = is_open(c, id, err);
	if (open < 0)
		return -1;
	if (!open)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is closed", id);
	char now[32];
	spif_now_utc(now);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		int rc = dup_in(files, n, i) ? 0 : add_file(c, id, files[i], now, list, err);
		if (rc < 0) {
			json_decref(list);
			return -1;
		}
	}
	size_t k = json_array_size(list);
	if (added)
		*added = k;
	if (!k) {
		json_decref(list);
		return 0;
	}
	json_t *d = json_pack("{s:o}", "files", list);
	int rc = spif_audit_append(c, "incident.file", id, d, NULL, err);
	json_decref(d);
	return rc;
}

static int add_note(struct spif_catalog *c, const char *id, const char *note, const char *now, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO incident_notes(incident_id,time,operator,note) VALUES(?,?,?,?)", &st,
	                         err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, note, -1, SQLITE_TRANSIENT);
	return spif_catalog_step_done(c, st, "record incident note", err);
}

int spif_incident_note(struct spif_catalog *c, const char *id, const char *note, struct spif_err *err)
{
	if (need_tx(c, "spif_incident_note", err) < 0 || plain("note", note, err) < 0)
		return -1;
	int open = is_open(c, id, err);
	if (open < 0)
		return -1;
	if (!open)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is closed", id);
	char now[32];
	spif_now_utc(now);
	if (add_note(c, id, note, now, err) < 0)
		return -1;
	json_t *d = json_pack("{s:s}", "note", note);
	int rc = spif_audit_append(c, "incident.note", id, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_incident_close(struct spif_catalog *c, const char *id, const char *note, struct spif_err *err)
{
	if (need_tx(c, "spif_incident_close", err) < 0 || plain("note", note, err) < 0)
		return -1;
	int open = is_open(c, id, err);
	if (open < 0)
		return -1;
	if (!open)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is closed already", id);
	char now[32];
	spif_now_utc(now);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "UPDATE incidents SET state = 'closed', closed = ?, closed_by = ?, close_note = ?"
	                            " WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, note, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
	if (spif_catalog_step_done(c, st, "close incident", err) < 0)
		return -1;
	json_t *d = json_pack("{s:s}", "note", note);
	int rc = spif_audit_append(c, "incident.close", id, d, NULL, err);
	json_decref(d);
	return rc;
}

#define INCIDENT_COLUMNS "id,opened,opened_by,summary,state,closed,closed_by,close_note"

static void from_row(sqlite3_stmt *st, struct spif_incident *in)
{
	memset(in, 0, sizeof *in);
	const unsigned char *t = sqlite3_column_text(st, 0);
	snprintf(in->id, sizeof in->id, "%s", t ? (const char *)t : "");
	in->opened = dupcol(st, 1);
	in->opened_by = dupcol(st, 2);
	in->summary = dupcol(st, 3);
	in->state = dupcol(st, 4);
	in->closed = dupcol(st, 5);
	in->closed_by = dupcol(st, 6);
	in->close_note = dupcol(st, 7);
}

int spif_incident_get(struct spif_catalog *c, const char *id, struct spif_incident *in, struct spif_err *err)
{
	memset(in, 0, sizeof *in);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		from_row(st, in);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no incident %s", id);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "read incident", err);
	if (!in->state) {
		spif_incident_free(in);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	return 0;
}

int spif_incident_list(struct spif_catalog *c, int all, int (*fn)(void *ctx, const struct spif_incident *in),
                       void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, all ? "SELECT " INCIDENT_COLUMNS " FROM incidents ORDER BY year, n"
	                                : "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE state = 'open'"
	                                  " ORDER BY year, n", &st, err) < 0)
		return -1;
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_incident in;
		from_row(st, &in);
		ret = fn(ctx, &in);
		spif_incident_free(&in);
		if (ret)
			break;
	}
	sqlite3_finalize(st);
	if (!ret && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list incidents", err);
	return ret;
}

int spif_incident_files(struct spif_catalog *c, const char *id,
                        int (*fn)(void *ctx, const struct spif_incident_file *f), void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT i.file_id, i.records, i.persons, COALESCE(i.hold_id, 0), f.label, i.added"
	                            " FROM incident_files i JOIN files f ON f.id = i.file_id"
	                            " WHERE i.incident_id = ? ORDER BY i.file_id", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *label = sqlite3_column_text(st, 4), *added = sqlite3_column_text(st, 5);
		struct spif_incident_file f = {
			.file_id = sqlite3_column_int64(st, 0), .records = sqlite3_column_int64(st, 1),
			.persons = sqlite3_column_int64(st, 2), .hold_id = sqlite3_column_int64(st, 3),
			.label = label ? (const char *)label : "", .added = added ? (const char *)added : ""};
		if ((ret = fn(ctx, &f)))
			break;
	}
	sqlite3_finalize(st);
	if (!ret && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list incident files", err);
	return ret;
}

int spif_incident_notes(struct spif_catalog *c, const char *id,
                        int (*fn)(void *ctx, const struct spif_incident_note *nt), void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT time, operator, note FROM incident_notes WHERE incident_id = ? ORDER BY id",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_incident_note nt = {(const char *)sqlite3_column_text(st, 0),
		                                (const char *)sqlite3_column_text(st, 1),
		                                (const char *)sqlite3_column_text(st, 2)};
		if ((ret = fn(ctx, &nt)))
			break;
	}
	sqlite3_finalize(st);
	if (!ret && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list incident notes", err);
	return ret;
}
