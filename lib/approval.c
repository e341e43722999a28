/* approval.c - see approval.h */
#include "approval.h"
#include "catalog_priv.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "operator.h"

static const char *const kind_names[] = {"bypass", "export"};

const char *spif_approval_kind_name(enum spif_approval_kind k)
{
	return (unsigned)k < 2 ? kind_names[k] : "?";
}

int spif_approval_kind_parse(const char *s, enum spif_approval_kind *k)
{
	for (unsigned i = 0; i < 2; i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum spif_approval_kind)i;
			return 0;
		}
	return -1;
}

/* now + hours, in the log's UTC format (spif_now_utc: comparable as text) */
static void utc_later(const char *now, int hours, char out[32])
{
	struct tm tm = {0};
	int ms = 0;
	if (sscanf(now, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	           &tm.tm_sec, &ms) != 7) {
		snprintf(out, 32, "%s", now); /* cannot happen: an approval that is already over */
		return;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm) + (time_t)hours * 3600;
	gmtime_r(&t, &tm);
	char buf[24];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", buf, ms % 1000);
}

int spif_approval_add(struct spif_catalog *c, enum spif_approval_kind kind, long long file_id, const char *purpose,
                      const char *for_name, int hours, const char *reason, long long *id, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_approval_add", err) < 0)
		return -1;
	if (hours < 1 || hours > SPIF_APPROVAL_MAX_HOURS)
		return spif_err_set(err, SPIF_EX_USAGE, "--hours %d: from 1 to %d (an approval is for a short time)",
		                    hours, SPIF_APPROVAL_MAX_HOURS);
	if (!reason || !*reason)
		return spif_err_set(err, SPIF_EX_USAGE, "an approval needs --reason TEXT (it is logged)");
	if ((file_id > 0) == (purpose && *purpose))
		return spif_err_set(err, SPIF_EX_USAGE, "an approval is for one file (ID) or one purpose (--purpose P)");
	struct spif_operator op;
	int have = spif_operator_get(c, for_name, &op, err);
	if (have < 0)
		return -1;
	if (!have)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is not an operator (see spif operator ls)", for_name);
	if (op.state != SPIF_OP_ACTIVE)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is %s", for_name, spif_op_state_name(op.state));
	if (op.uid == (long long)getuid())
		return spif_err_set(err, SPIF_EX_NOPERM, "%s may not approve their own %s: a second person approves",
		                    for_name, spif_approval_kind_name(kind));
	char object[256], now[32], until[32];
	if (file_id > 0) {
		struct spif_file f;
		if (spif_catalog_get_file(c, file_id, &f, err) < 0)
			return -1;
		spif_file_free(&f);
		spif_file_id_format(file_id, object);
	} else
		snprintf(object, sizeof object, "%s", purpose);
	spif_now_utc(now);
	utc_later(now, hours, until);
	const struct spif_actor *a = spif_catalog_actor(c);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO approvals(kind,file_id,purpose,for_uid,approver_uid,approver,reason,"
	                            "approved,expires) VALUES(?,?,?,?,?,?,?,?,?)", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, spif_approval_kind_name(kind), -1, SQLITE_STATIC);
	if (file_id > 0)
		sqlite3_bind_int64(st, 2, file_id);
	else
		sqlite3_bind_text(st, 3, purpose, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, op.uid);
	sqlite3_bind_int64(st, 5, (long long)getuid());
	sqlite3_bind_text(st, 6, a->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, until, -1, SQLITE_TRANSIENT);
	if (spif_catalog_step_done(c, st, "record approval", err) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(spif_catalog_db(c));
	json_t *d = json_pack("{s:I,s:s,s:s,s:I,s:s,s:s}", "approval", (json_int_t)*id, "kind",
	                      spif_approval_kind_name(kind), "for", for_name, "for_uid", (json_int_t)op.uid, "expires",
	                      until, "reason", reason);
	int rc = spif_audit_append(c, "operator.approve", object, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_approval_revoke(struct spif_catalog *c, long long id, const char *reason, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_approval_revoke", err) < 0)
		return -1;
	char now[32];
	spif_now_utc(now);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "UPDATE approvals SET revoked = ?, revoked_by = ? WHERE id = ? AND revoked IS NULL",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, id);
	if (spif_catalog_step_done(c, st, "revoke approval", err) < 0)
		return -1;
	if (sqlite3_changes(spif_catalog_db(c)) != 1)
		return spif_err_set(err, SPIF_EX_DATAERR, "approval %lld: no such approval in force", id);
	char object[32];
	snprintf(object, sizeof object, "approval %lld", id);
	json_t *d = json_pack("{s:I,s:o}", "approval", (json_int_t)id, "reason",
	                      reason && *reason ? json_string(reason) : json_null());
	int rc = spif_audit_append(c, "operator.approval-revoked", object, d, NULL, err);
	json_decref(d);
	return rc;
}

#define A_COLUMNS "a.id,a.kind,COALESCE(a.file_id,0),COALESCE(a.purpose,''),a.for_uid," \
	"COALESCE((SELECT name FROM operators o WHERE o.uid = a.for_uid),''),a.approver,a.reason,a.approved," \
	"a.expires,COALESCE(a.revoked,'')"

static void from_row(sqlite3_stmt *st, struct spif_approval *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	enum spif_approval_kind k = SPIF_APPROVAL_BYPASS;
	const unsigned char *kind = sqlite3_column_text(st, 1);
	if (kind)
		spif_approval_kind_parse((const char *)kind, &k);
	a->kind = k;
	a->file_id = sqlite3_column_int64(st, 2);
	spif_col_copy(st, 3, a->purpose, sizeof a->purpose);
	a->for_uid = sqlite3_column_int64(st, 4);
	spif_col_copy(st, 5, a->for_name, sizeof a->for_name);
	spif_col_copy(st, 6, a->approver, sizeof a->approver);
	spif_col_copy(st, 7, a->reason, sizeof a->reason);
	spif_col_copy(st, 8, a->approved, sizeof a->approved);
	spif_col_copy(st, 9, a->expires, sizeof a->expires);
	spif_col_copy(st, 10, a->revoked, sizeof a->revoked);
}

int spif_approval_find(struct spif_catalog *c, enum spif_approval_kind kind, long long file_id, const char *purpose,
                       long long uid, struct spif_approval *a, struct spif_err *err)
{
	char now[32];
	spif_now_utc(now);
	sqlite3_stmt *st;
	/* a file's own approval, or one for its purpose; the approver is
	 * never the one approved (the table's CHECK says so too) */
	if (spif_catalog_prepare(c, "SELECT " A_COLUMNS " FROM approvals a WHERE a.kind = ? AND a.for_uid = ?"
	                            " AND a.approver_uid != a.for_uid AND a.revoked IS NULL AND a.expires > ?"
	                            " AND (a.file_id = ?4 OR a.purpose = COALESCE((SELECT purpose FROM files"
	                            " WHERE id = ?4), ?5)) ORDER BY a.id DESC LIMIT 1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, spif_approval_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, file_id);
	if (purpose)
		sqlite3_bind_text(st, 5, purpose, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		from_row(st, a);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "read approvals", err);
}

int spif_approval_list(struct spif_catalog *c, int all, int (*fn)(void *ctx, const struct spif_approval *a),
                       void *ctx, struct spif_err *err)
{
	char now[32];
	spif_now_utc(now);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, all ? "SELECT " A_COLUMNS " FROM approvals a WHERE ?1 = ?1 ORDER BY a.id DESC"
	                                : "SELECT " A_COLUMNS " FROM approvals a WHERE a.revoked IS NULL"
	                                  " AND a.expires > ?1 ORDER BY a.id DESC", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_approval a;
		from_row(st, &a);
		stop = fn(ctx, &a);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "list approvals", err);
}
