/* purge.c - see purge.h */
#include "catalog_priv.h"
#include "purge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

/* ---- purges ------------------------------------------------------------- */

int spif_purge_begin(struct spif_catalog *c, long day, long long plan_id, long long *purge_id,
                     struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_purge_begin", err) < 0)
		return -1;
	char now[32], b[11], obj[32];
	spif_now_utc(now);
	spif_day_format(day, b);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO purges(started,operator,plan_id,today) VALUES(?,?,?,?)", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	if (plan_id > 0)
		sqlite3_bind_int64(st, 3, plan_id);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, b, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "start purge", err);
	*purge_id = sqlite3_last_insert_rowid(spif_catalog_db(c));
	snprintf(obj, sizeof obj, "purge:%lld", *purge_id);
	json_t *d = json_pack("{s:s}", "today", b);
	if (plan_id > 0)
		json_object_set_new(d, "plan", json_integer(plan_id));
	rc = spif_audit_append(c, "purge.start", obj, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_purge_claim(struct spif_catalog *c, long long purge_id, long long file_id,
                     enum spif_action action, const char *schedule, long long *claim_seq,
                     struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_purge_claim", err) < 0)
		return -1;
	char now[32], fid[24];
	spif_now_utc(now);
	spif_file_id_format(file_id, fid);
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "INSERT INTO purge_items(purge_id,file_id,action,state,started)"
	                            " VALUES(?,?,?,'started',?)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, purge_id);
	sqlite3_bind_int64(st, 2, file_id);
	sqlite3_bind_text(st, 3, spif_action_name(action), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "claim file", err);
	json_t *d = json_pack("{s:I,s:s,s:s}", "purge", (json_int_t)purge_id, "action", spif_action_name(action),
	                      "schedule", schedule ? schedule : "");
	long long seq = 0;
	rc = spif_audit_append(c, "purge.claim", fid, d, &seq, err);
	json_decref(d);
	if (rc < 0)
		return -1;
	if (claim_seq)
		*claim_seq = seq;
	if (spif_catalog_cached(c, "UPDATE purge_items SET claim_seq = ? WHERE purge_id = ? AND file_id = ?", &st,
	                         err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, purge_id);
	sqlite3_bind_int64(st, 3, file_id);
	rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "claim file", err);
	return 0;
}

static int item_end(struct spif_catalog *c, long long purge_id, long long file_id, const char *state,
                    json_t *certs, const char *why, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_purge_item", err) < 0)
		return -1;
	char now[32], fid[24];
	spif_now_utc(now);
	spif_file_id_format(file_id, fid);
	char *cj = certs ? json_dumps(certs, JSON_COMPACT) : NULL;
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "UPDATE purge_items SET state = ?, finished = ?, certificates = ?, error = ?"
	                            " WHERE purge_id = ? AND file_id = ?", &st, err) < 0) {
		free(cj);
		return -1;
	}
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
	if (cj)
		sqlite3_bind_text(st, 3, cj, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 3);
	if (why)
		sqlite3_bind_text(st, 4, why, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, purge_id);
	sqlite3_bind_int64(st, 6, file_id);
	int rc = sqlite3_step(st);
	spif_catalog_release(st);
	free(cj);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "end purge item", err);
	json_t *d = json_pack("{s:I}", "purge", (json_int_t)purge_id);
	if (certs)
		json_object_set(d, "certificates", certs);
	if (why)
		json_object_set_new(d, "why", json_string(why));
	rc = spif_audit_append(c, strcmp(state, "done") == 0 ? "purge.done" : "purge.failed", fid, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_purge_item_done(struct spif_catalog *c, long long purge_id, long long file_id,
                         json_t *certificates, struct spif_err *err)
{
	return item_end(c, purge_id, file_id, "done", certificates, NULL, err);
}

int spif_purge_item_failed(struct spif_catalog *c, long long purge_id, long long file_id,
                           const char *why, struct spif_err *err)
{
	return item_end(c, purge_id, file_id, "failed", NULL, why, err);
}

int spif_purge_end(struct spif_catalog *c, long long purge_id, long long disposed,
                   long long failed, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_purge_end", err) < 0)
		return -1;
	char now[32], obj[32];
	spif_now_utc(now);
	snprintf(obj, sizeof obj, "purge:%lld", purge_id);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "UPDATE purges SET finished = ?, disposed = ?, failed = ? WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, disposed);
	sqlite3_bind_int64(st, 3, failed);
	sqlite3_bind_int64(st, 4, purge_id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "finish purge", err);
	json_t *d = json_pack("{s:I,s:I}", "disposed", (json_int_t)disposed, "failed", (json_int_t)failed);
	rc = spif_audit_append(c, "purge.end", obj, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_purge_leftovers(struct spif_catalog *c,
                         int (*fn)(void *ctx, long long purge_id, long long file_id,
                                   enum spif_action action, long long claim_seq),
                         void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT purge_id, file_id, action, claim_seq FROM purge_items"
	                            " WHERE state = 'started' ORDER BY purge_id, file_id", &st, err) < 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum spif_action a = strcmp(spif_col_text(st, 2), "redact") == 0 ? SPIF_ACTION_REDACT : SPIF_ACTION_SHRED;
		if (fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), a, sqlite3_column_int64(st, 3)))
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "purge items", err);
	return 0;
}

json_t *spif_file_certificates_since(struct spif_catalog *c, long long file_id, long long after_seq)
{
	json_t *a = json_array();
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT id FROM certificates WHERE file_id = ? AND event_seq > ?"
	                            " ORDER BY event_seq", &st, NULL) < 0)
		return a;
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_int64(st, 2, after_seq);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_string(spif_col_text(st, 0)));
	spif_catalog_release(st);
	return a;
}

/* ---- plans ---------------------------------------------------------- */

int spif_plan_register(struct spif_catalog *c, const char *sha256, long as_of, long long entries,
                       long long *plan_id, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_plan_register", err) < 0)
		return -1;
	char now[32], b[11], obj[32];
	spif_now_utc(now);
	spif_day_format(as_of, b);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO plans(sha256,made,operator,as_of,entries) VALUES(?,?,?,?,?)",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, b, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, entries);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "register plan", err);
	*plan_id = sqlite3_last_insert_rowid(spif_catalog_db(c));
	snprintf(obj, sizeof obj, "plan:%lld", *plan_id);
	json_t *d = json_pack("{s:s,s:s,s:I}", "sha256", sha256, "as_of", b, "entries", (json_int_t)entries);
	rc = spif_audit_append(c, "retain.plan", obj, d, NULL, err);
	json_decref(d);
	return rc;
}

long long spif_plan_lookup(struct spif_catalog *c, const char *sha256)
{
	sqlite3_stmt *st;
	long long id = 0;
	if (spif_catalog_prepare(c, "SELECT id FROM plans WHERE sha256 = ?", &st, NULL) < 0)
		return 0;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* ---- what a purge asks of a file's copies ------------------------------- */

int spif_file_disposing_copies(struct spif_catalog *c, long long file_id, long long *n,
                               struct spif_err *err)
{
	*n = 0;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT COUNT(*) FROM copies WHERE file_id = ? AND state = 'disposing'", &st,
	                         err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "read copies", err);
	return 0;
}
