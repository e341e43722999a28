/* operator.c - see operator.h */
#include "operator.h"
#include "catalog_priv.h"

#include <ctype.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "audit.h"

#define R_OP SPIF_ROLE_OPERATOR
#define R_APPR SPIF_ROLE_APPROVER
#define R_AUD SPIF_ROLE_AUDITOR
#define R_RESP SPIF_ROLE_RESPONDER
#define R_ADM SPIF_ROLE_ADMIN
#define R_ALL (R_OP | R_APPR | R_AUD | R_RESP | R_ADM)

static const char *const role_names[] = {"operator", "approver", "auditor", "responder", "admin"};
#define NROLES (sizeof role_names / sizeof *role_names)

/* The policy, in one table: which roles may do each action, whether it
 * needs a grant for the purpose (when the purpose or the file is known),
 * whether it needs a reason (a read of records), and whether it is the
 * second person's (never root: sudo's SUDO_USER is only a claim). */
static const struct {
	const char *name;
	unsigned roles;
	int grant, reason, second;
	int approval; /* 1 + enum spif_approval_kind: needs that approval first */
} acts[] = {
	[SPIF_ACT_INGEST] = {"ingest", R_OP, 1, 0, 0, 0},
	[SPIF_ACT_REDACT] = {"redact", R_OP, 1, 0, 0, 0},
	[SPIF_ACT_ENCRYPT] = {"encrypt", R_OP, 1, 0, 0, 0},
	[SPIF_ACT_DECRYPT] = {"decrypt records", R_OP | R_RESP, 1, 1, 0, 0},
	[SPIF_ACT_READ] = {"read records", R_OP | R_RESP, 1, 1, 0, 0},
	[SPIF_ACT_LIST] = {"list the register", R_ALL, 0, 0, 0, 0},
	[SPIF_ACT_AUDIT] = {"read the log and certificates", R_AUD | R_APPR | R_ADM | R_RESP, 0, 0, 0, 0},
	[SPIF_ACT_SHRED] = {"destroy copies", R_OP | R_APPR, 1, 0, 0, 0},
	[SPIF_ACT_RETAIN] = {"set retention dates", R_OP | R_APPR | R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_CONFIRM] = {"confirm a certificate", R_APPR, 0, 0, 1, 0},
	[SPIF_ACT_PLAN] = {"make a purge plan", R_OP | R_APPR | R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_APPROVE] = {"approve a purge plan", R_APPR, 0, 0, 1, 0},
	[SPIF_ACT_PURGE] = {"run the purge", R_APPR | R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_BYPASS] = {"bypass a governance schedule", R_OP | R_APPR, 1, 0, 0, 1 + SPIF_APPROVAL_BYPASS},
	[SPIF_ACT_HOLD] = {"place or release holds", R_RESP | R_APPR | R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_EXPORT] = {"export records with numbers", R_OP | R_RESP, 1, 1, 0, 1 + SPIF_APPROVAL_EXPORT},
	[SPIF_ACT_SCHEDULE] = {"change retention schedules", R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_ADMIN] = {"manage operators", R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_EXPORT_CLEAN] = {"export records without numbers", R_OP | R_RESP, 1, 1, 0, 0},
	[SPIF_ACT_SECOND] = {"approve a bypass or an export", R_APPR, 0, 1, 1, 0},
	[SPIF_ACT_BACKUP] = {"back up the catalog or test a restore", R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_RESTORE] = {"restore the catalog", R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_CHECKOUT] = {"settle a checkout", R_OP | R_APPR | R_RESP | R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_MEDIA] = {"register media", R_APPR | R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_ESCROW] = {"record an escrow copy destroyed", R_APPR, 0, 0, 1, 0},
	[SPIF_ACT_COSIGN] = {"co-sign certificates", R_ADM, 0, 0, 0, 0},
	[SPIF_ACT_DISCLOSE] = {"answer a disclosure request", R_OP | R_RESP, 0, 1, 0, 0},
	[SPIF_ACT_INCIDENT] = {"keep incidents", R_RESP, 0, 0, 0, 0},
	[SPIF_ACT_RELEASE] = {"release an incident hold", R_APPR, 0, 0, 1, 0},
};
#define NACTS ((int)(sizeof acts / sizeof *acts))

const char *spif_act_name(enum spif_act a)
{
	return (int)a >= 0 && (int)a < NACTS ? acts[a].name : "?";
}

int spif_roles_parse(const char *s, unsigned *roles)
{
	*roles = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		size_t i;
		for (i = 0; i < NROLES; i++)
			if (strlen(role_names[i]) == n && strncmp(s, role_names[i], n) == 0)
				break;
		if (i == NROLES)
			return -1;
		*roles |= 1u << i;
		s += n;
		if (*s == ',')
			s++;
	}
	return *roles ? 0 : -1;
}

void spif_roles_format(unsigned roles, char *out, size_t n)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NROLES; i++)
		if (roles & (1u << i)) {
			int w = snprintf(out + k, n - k, "%s%s", k ? "," : "", role_names[i]);
			if (w < 0 || (size_t)w >= n - k)
				break;
			k += (size_t)w;
		}
}

/* The roles that may do a, for a message: "approver" or "operator or responder". */
static void roles_for(unsigned roles, char *out, size_t n)
{
	size_t k = 0, left = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NROLES; i++)
		left += (roles >> i) & 1;
	for (size_t i = 0; i < NROLES; i++)
		if (roles & (1u << i)) {
			left--;
			int w = snprintf(out + k, n - k, "%s%s", k ? (left ? ", " : " or ") : "", role_names[i]);
			if (w < 0 || (size_t)w >= n - k)
				break;
			k += (size_t)w;
		}
}

static const char *const state_names[] = {"active", "locked", "retired"};

const char *spif_op_state_name(enum spif_op_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "?";
}


/* "now minus secs" in the log's UTC format, for comparisons as text. */
static void utc_ago(long secs, char out[32])
{
	time_t t = time(NULL) - secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

/* ---- the table ------------------------------------------------------------ */

#define OP_COLUMNS "uid,name,roles,key,sudo,state,added,added_by,changed," \
	"(SELECT COUNT(*) FROM refusals r WHERE r.uid = o.uid AND r.time > COALESCE(o.changed, o.added))"

static void op_from_row(sqlite3_stmt *st, struct spif_operator *op)
{
	memset(op, 0, sizeof *op);
	op->uid = sqlite3_column_int64(st, 0);
	spif_col_copy(st, 1, op->name, sizeof op->name);
	if (spif_roles_parse(spif_col_text(st, 2), &op->roles) < 0)
		op->roles = 0;
	spif_col_copy(st, 3, op->key, sizeof op->key);
	op->sudo = sqlite3_column_int(st, 4);
	const char *s = spif_col_text(st, 5);
	op->state = strcmp(s, "locked") == 0 ? SPIF_OP_LOCKED
	          : strcmp(s, "retired") == 0 ? SPIF_OP_RETIRED : SPIF_OP_ACTIVE;
	spif_col_copy(st, 6, op->added, sizeof op->added);
	spif_col_copy(st, 7, op->added_by, sizeof op->added_by);
	spif_col_copy(st, 8, op->changed, sizeof op->changed);
	op->refusals = sqlite3_column_int64(st, 9);
}

int spif_operator_count(struct spif_catalog *c, long long *n, struct spif_err *err)
{
	sqlite3_stmt *st;
	*n = 0;
	if (spif_catalog_prepare(c, "SELECT COUNT(*) FROM operators", &st, err) < 0)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : spif_catalog_sqlerr(c, rc, "count operators", err);
}

/* By uid (name NULL) or by name: 1, 0, -1. */
static int op_get(struct spif_catalog *c, long long uid, const char *name, struct spif_operator *op,
                  struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, name ? "SELECT " OP_COLUMNS " FROM operators o WHERE name = ?"
	                                 : "SELECT " OP_COLUMNS " FROM operators o WHERE uid = ?", &st, err) < 0)
		return -1;
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, 1, uid);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		op_from_row(st, op);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "read operators", err);
}

int spif_operator_get(struct spif_catalog *c, const char *name, struct spif_operator *op, struct spif_err *err)
{
	return op_get(c, 0, name, op, err);
}

int spif_operator_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_operator *op), void *ctx,
                       struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT " OP_COLUMNS " FROM operators o ORDER BY name", &st, err) < 0)
		return -1;
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_operator op;
		op_from_row(st, &op);
		stop = fn(ctx, &op);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "list operators", err);
}

/* An OpenPGP fingerprint: 40 hex digits (spaces allowed), upper case out. */
static int fingerprint(const char *in, char out[41])
{
	size_t k = 0;
	for (; *in; in++) {
		if (*in == ' ')
			continue;
		if (!isxdigit((unsigned char)*in) || k == 40)
			return -1;
		out[k++] = (char)toupper((unsigned char)*in);
	}
	out[k] = '\0';
	return k == 40 ? 0 : -1;
}

/* Run a bound statement that changes rows; -1 with err on failure. */
int spif_operator_add(struct spif_catalog *c, const struct spif_operator *op, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_operator_add", err) < 0)
		return -1;
	struct passwd *pw = getpwnam(op->name);
	if (!pw)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: no such account on this host (an operator is a login)",
		                    op->name);
	if (!op->roles)
		return spif_err_set(err, SPIF_EX_USAGE, "%s: no role (--role operator, approver, auditor, responder, "
		                    "admin)", op->name);
	char fpr[41] = "";
	if (op->key[0] && fingerprint(op->key, fpr) < 0)
		return spif_err_set(err, SPIF_EX_USAGE, "--key %s: not an OpenPGP fingerprint (40 hex digits)", op->key);
	if (op->sudo && pw->pw_uid != 0)
		return spif_err_set(err, SPIF_EX_USAGE, "--sudo is for root only (root acting through sudo)");
	long long n;
	if (spif_operator_count(c, &n, err) < 0)
		return -1;
	if (n == 0 && !(op->roles & SPIF_ROLE_ADMIN))
		return spif_err_set(err, SPIF_EX_USAGE, "the first operator must be an admin (--role admin)");
	struct spif_operator old;
	int have = op_get(c, (long long)pw->pw_uid, NULL, &old, err);
	if (have < 0)
		return -1;
	if (have)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s (uid %u) is already an operator (as %s)", op->name,
		                    (unsigned)pw->pw_uid, old.name);
	char roles[128], now[32];
	spif_roles_format(op->roles, roles, sizeof roles);
	spif_now_utc(now);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO operators(uid,name,roles,key,sudo,added,added_by) VALUES(?,?,?,?,?,?,?)",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, (long long)pw->pw_uid);
	sqlite3_bind_text(st, 2, op->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, roles, -1, SQLITE_TRANSIENT);
	if (fpr[0])
		sqlite3_bind_text(st, 4, fpr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, op->sudo ? 1 : 0);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	if (spif_catalog_step_done(c, st, "add operator", err) < 0)
		return -1;
	json_t *d = json_pack("{s:I,s:s,s:o,s:b}", "uid", (json_int_t)pw->pw_uid, "roles", roles, "signer",
	                      fpr[0] ? json_string(fpr) : json_null(), "sudo", op->sudo ? 1 : 0);
	int rc = spif_audit_append(c, "operator.add", op->name, d, NULL, err);
	json_decref(d);
	return rc;
}

/* The operator named, for a change: not found or retired is an error. */
static int op_for_change(struct spif_catalog *c, const char *name, struct spif_operator *op, struct spif_err *err)
{
	int have = op_get(c, 0, name, op, err);
	if (have < 0)
		return -1;
	if (!have)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is not an operator (see spif operator ls)", name);
	return 0;
}

int spif_operator_grant(struct spif_catalog *c, const char *name, const char *purpose, long long file_id,
                        struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_operator_grant", err) < 0)
		return -1;
	struct spif_operator op;
	if (op_for_change(c, name, &op, err) < 0)
		return -1;
	if (op.state == SPIF_OP_RETIRED)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is retired", name);
	if (!purpose || !*purpose)
		return spif_err_set(err, SPIF_EX_USAGE, "grant: a purpose (事務) is needed");
	char fid[24] = "";
	if (file_id > 0) {
		struct spif_file f;
		if (spif_catalog_get_file(c, file_id, &f, err) < 0)
			return -1;
		int same = strcmp(f.purpose, purpose) == 0;
		spif_file_free(&f);
		spif_file_id_format(file_id, fid);
		if (!same)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s is not a file of the purpose \"%s\"", fid, purpose);
	}
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT 1 FROM grants WHERE uid = ? AND purpose = ? AND revoked IS NULL"
	                            " AND COALESCE(file_id, 0) = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, op.uid);
	sqlite3_bind_text(st, 2, purpose, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, file_id > 0 ? file_id : 0);
	int dup = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (dup)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s already has that grant", name);
	char now[32];
	spif_now_utc(now);
	if (spif_catalog_prepare(c, "INSERT INTO grants(uid,purpose,file_id,granted,granted_by) VALUES(?,?,?,?,?)",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, op.uid);
	sqlite3_bind_text(st, 2, purpose, -1, SQLITE_TRANSIENT);
	if (file_id > 0)
		sqlite3_bind_int64(st, 3, file_id);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	if (spif_catalog_step_done(c, st, "grant", err) < 0)
		return -1;
	json_t *d = json_pack("{s:s,s:o}", "purpose", purpose, "file", fid[0] ? json_string(fid) : json_null());
	int rc = spif_audit_append(c, "operator.grant", name, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_operator_revoke(struct spif_catalog *c, const char *name, const char *purpose, long long file_id,
                         struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_operator_revoke", err) < 0)
		return -1;
	struct spif_operator op;
	if (op_for_change(c, name, &op, err) < 0)
		return -1;
	char now[32], fid[24] = "";
	spif_now_utc(now);
	if (file_id > 0)
		spif_file_id_format(file_id, fid);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "UPDATE grants SET revoked = ?, revoked_by = ? WHERE uid = ? AND purpose = ?"
	                            " AND revoked IS NULL AND COALESCE(file_id, 0) = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, op.uid);
	sqlite3_bind_text(st, 4, purpose ? purpose : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, file_id > 0 ? file_id : 0);
	if (spif_catalog_step_done(c, st, "revoke", err) < 0)
		return -1;
	if (sqlite3_changes(spif_catalog_db(c)) == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s has no such grant (see spif operator show %s)", name, name);
	json_t *d = json_pack("{s:s,s:o}", "purpose", purpose ? purpose : "", "file",
	                      fid[0] ? json_string(fid) : json_null());
	int rc = spif_audit_append(c, "operator.revoke", name, d, NULL, err);
	json_decref(d);
	return rc;
}

/* Set the state column and append the event (inside a transaction). */
static int set_state(struct spif_catalog *c, const struct spif_operator *op, enum spif_op_state to,
                     const char *action, json_t *d, struct spif_err *err)
{
	char now[32];
	spif_now_utc(now);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "UPDATE operators SET state = ?, changed = ? WHERE uid = ?", &st, err) < 0) {
		json_decref(d);
		return -1;
	}
	sqlite3_bind_text(st, 1, spif_op_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, op->uid);
	int rc = spif_catalog_step_done(c, st, "operator state", err);
	if (rc == 0)
		rc = spif_audit_append(c, action, op->name, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_operator_set_state(struct spif_catalog *c, const char *name, enum spif_op_state to, const char *reason,
                            struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_operator_set_state", err) < 0)
		return -1;
	struct spif_operator op;
	if (op_for_change(c, name, &op, err) < 0)
		return -1;
	static const char *const verbs[] = {"unlock", "lock", "retire"};
	if (op.state == SPIF_OP_RETIRED)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is retired: a retired operator stays retired", name);
	if (to == SPIF_OP_ACTIVE && op.state != SPIF_OP_LOCKED)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is not locked", name);
	if (to == SPIF_OP_LOCKED && op.state == SPIF_OP_LOCKED)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is already locked", name);
	char ev[32];
	snprintf(ev, sizeof ev, "operator.%s", verbs[to]);
	json_t *d = json_pack("{s:s,s:o}", "was", spif_op_state_name(op.state), "reason",
	                      reason && *reason ? json_string(reason) : json_null());
	return set_state(c, &op, to, ev, d, err);
}

int spif_operator_grants(struct spif_catalog *c, const char *name, int (*fn)(void *ctx, const struct spif_grant *g),
                         void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT g.id, COALESCE(g.file_id, 0), g.purpose, g.granted, g.granted_by"
	                            " FROM grants g JOIN operators o ON o.uid = g.uid"
	                            " WHERE o.name = ? AND g.revoked IS NULL ORDER BY g.id", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_grant g = {.id = sqlite3_column_int64(st, 0), .file_id = sqlite3_column_int64(st, 1),
		                       .purpose = spif_col_text(st, 2), .granted = spif_col_text(st, 3),
		                       .granted_by = spif_col_text(st, 4)};
		stop = fn(ctx, &g);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "list grants", err);
}

/* ---- the check ------------------------------------------------------------- */

/* The purpose of file id (into out), 0 when there is no such file. */
static int file_purpose(struct spif_catalog *c, long long id, char *out, size_t n)
{
	sqlite3_stmt *st;
	out[0] = '\0';
	if (spif_catalog_prepare(c, "SELECT purpose FROM files WHERE id = ?", &st, NULL) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		spif_col_copy(st, 0, out, n);
	sqlite3_finalize(st);
	return found;
}

static int has_grant(struct spif_catalog *c, long long uid, const char *purpose, long long file_id)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT 1 FROM grants WHERE uid = ? AND purpose = ? AND revoked IS NULL"
	                            " AND (file_id IS NULL OR file_id = ?)", &st, NULL) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, purpose, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, file_id);
	int ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

/* Who did the work the second person is asked to sign off: the
 * certificate's sanitizer (CONFIRM), the plan's maker (APPROVE) or who
 * placed the incident hold (RELEASE); "" when
 * the object is unknown (the command then says so itself). */
static void first_person(struct spif_catalog *c, const struct spif_request *rq, char *out, size_t n)
{
	sqlite3_stmt *st;
	out[0] = '\0';
	if (!rq->object)
		return;
	if (rq->act == SPIF_ACT_SECOND) { /* the operator approved */
		snprintf(out, n, "%s", rq->object);
		return;
	}
	const char *sql = rq->act == SPIF_ACT_CONFIRM ? "SELECT operator FROM certificates WHERE id = ?"
	                : rq->act == SPIF_ACT_APPROVE ? "SELECT operator FROM plans WHERE 'plan:' || id = ?"
	                : rq->act == SPIF_ACT_RELEASE ? "SELECT placed_by FROM holds WHERE 'hold:' || id = ?" : NULL;
	if (!sql || spif_catalog_prepare(c, sql, &st, NULL) < 0)
		return;
	sqlite3_bind_text(st, 1, rq->object, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		spif_col_copy(st, 0, out, n);
	sqlite3_finalize(st);
}

/* Is recorded (an event's operator) the person name?  "root (sudo from
 * NAME, unverified)" counts as NAME here: a claim is enough to refuse. */
static int same_person(const char *recorded, const char *name)
{
	if (strcmp(recorded, name) == 0)
		return 1;
	static const char pre[] = "root (sudo from ";
	size_t pl = sizeof pre - 1, nl = strlen(name);
	return strncmp(recorded, pre, pl) == 0 && strncmp(recorded + pl, name, nl) == 0 && recorded[pl + nl] == ',';
}

/* The home's owner when it is not root: the service account. */
static uid_t service_uid(struct spif_catalog *c)
{
	struct stat st;
	if (!c || stat(spif_catalog_home(c), &st) < 0 || st.st_uid == 0)
		return (uid_t)-1;
	return st.st_uid;
}

/* Is this process a purge's child, working under its parent's lock?  The
 * descriptor in SPIF_LOCK_FD (dispose.h) must be the home's purge.lock,
 * which only spif's own programs can open, and held: then the action is
 * the purge's, and asked as such. */
static int purge_child(struct spif_catalog *c)
{
	const char *inh = getenv("SPIF_LOCK_FD");
	char path[PATH_MAX + 16], *end;
	if (!inh || !*inh)
		return 0;
	long v = strtol(inh, &end, 10);
	struct stat a, b;
	snprintf(path, sizeof path, "%s/purge.lock", spif_catalog_home(c));
	return !*end && v > 2 && v < 1024 && fstat((int)v, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino && flock((int)v, LOCK_EX | LOCK_NB) == 0;
}

/* Record a refusal and return SPIF_EX_NOPERM with msg.  In a transaction
 * of its own: the refusal stays when the command stops.  op is NULL for a
 * uid that is not an operator. */
static int refuse(struct spif_catalog *c, const struct spif_conf *conf, const struct spif_request *rq,
                  const struct spif_operator *op, const char *purpose, const char *msg, struct spif_err *err)
{
	uid_t uid = getuid();
	spif_err_set(err, SPIF_EX_NOPERM, "refused: %s", msg);
	if (!c)
		return -1;
	struct spif_err e = {0};
	if (spif_catalog_begin(c, &e) < 0) {
		spif_err_set(err, SPIF_EX_NOPERM, "refused: %s (the refusal could not be recorded: %s)", msg, e.msg);
		return -1;
	}
	const struct spif_actor *a = spif_catalog_actor(c);
	char fid[24] = "", now[32];
	if (rq->file_id > 0)
		spif_file_id_format(rq->file_id, fid);
	spif_now_utc(now);
	json_t *d = json_pack("{s:s,s:I,s:s}", "action", spif_act_name(rq->act), "uid", (json_int_t)uid, "why", msg);
	if (purpose && *purpose)
		json_object_set_new(d, "purpose", json_string(purpose));
	if (fid[0])
		json_object_set_new(d, "file", json_string(fid));
	if (rq->object)
		json_object_set_new(d, "object", json_string(rq->object));
	/* the refusal's row first, naming the event that follows it, so that
	 * the event itself records the row (auditlog.h), not a later one */
	long long seq = 0;
	char head[65];
	sqlite3_stmt *st;
	int rc = spif_audit_head(c, &seq, head, &e);
	seq++;
	if (rc == 0 && spif_catalog_prepare(c, "INSERT INTO refusals(time,uid,operator,action,event_seq)"
	                                       " VALUES(?,?,?,?,?)", &st, &e) == 0) {
		sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, (long long)uid);
		sqlite3_bind_text(st, 3, op ? op->name : a->operator_, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, spif_act_name(rq->act), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, seq);
		rc = spif_catalog_step_done(c, st, "record refusal", &e);
	} else
		rc = -1;
	if (rc == 0)
		rc = spif_audit_append(c, "operator.refused", op ? op->name : a->operator_, d, NULL, &e);
	json_decref(d);
	/* MIC 151: too many refusals in the window lock the operator */
	int locked = 0;
	long long count = 0;
	if (rc == 0 && op && op->state == SPIF_OP_ACTIVE) {
		int after = conf && conf->lockout_after > 0 ? conf->lockout_after : 5;
		int window = conf && conf->lockout_window > 0 ? conf->lockout_window : 900;
		char since[32];
		utc_ago(window, since);
		if (spif_catalog_prepare(c, "SELECT COUNT(*) FROM refusals r JOIN operators o ON o.uid = r.uid"
		                            " WHERE r.uid = ? AND r.time >= ? AND r.time > COALESCE(o.changed, o.added)",
		                         &st, &e) == 0) {
			sqlite3_bind_int64(st, 1, (long long)uid);
			sqlite3_bind_text(st, 2, since, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				count = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		if (count >= after) {
			json_t *ld = json_pack("{s:I,s:i,s:s}", "refusals", (json_int_t)count, "window_seconds", window,
			                       "reason", "too many refusals");
			rc = set_state(c, op, SPIF_OP_LOCKED, "operator.locked", ld, &e);
			locked = rc == 0;
		}
	}
	if (rc == 0 && spif_catalog_commit(c, &e) == 0) {
		if (locked)
			spif_err_set(err, SPIF_EX_NOPERM, "refused: %s; %s is now locked after %lld refusals (an admin "
			             "unlocks: spif operator unlock %s)", msg, op->name, count, op->name);
		return -1;
	}
	spif_catalog_rollback(c);
	spif_err_set(err, SPIF_EX_NOPERM, "refused: %s (the refusal could not be recorded: %s)", msg, e.msg);
	return -1;
}

int spif_operator_check(struct spif_catalog *c, const struct spif_conf *conf, const struct spif_request *asked,
                        struct spif_permit *p, struct spif_err *err)
{
	memset(p, 0, sizeof *p);
	struct spif_request purge = *asked;
	const struct spif_request *rq = asked;
	/* a purge's spif shred or spif redact --file is the purge at work */
	if (c && (asked->act == SPIF_ACT_SHRED || asked->act == SPIF_ACT_REDACT) && asked->file_id > 0 &&
	    purge_child(c)) {
		purge.act = SPIF_ACT_PURGE;
		purge.purpose = NULL;
		purge.file_id = 0;
		rq = &purge;
	}
	uid_t uid = getuid();
	int service = c && uid == service_uid(c);
	long long n = 0;
	if (c && spif_operator_count(c, &n, err) < 0)
		return -1;
	const char *what = spif_act_name(rq->act);
	const struct spif_actor *a = c ? spif_catalog_actor(c) : NULL;
	char msg[1024];
	if (n == 0) {
		/* a personal install: everything, as before; a system install
		 * (setgid) has nothing to allow until its first admin exists */
		if (!spif_secure() ||
		    ((rq->act == SPIF_ACT_ADMIN || rq->act == SPIF_ACT_RESTORE) && (uid == 0 || service)))
			return 0;
		snprintf(msg, sizeof msg, "this system install has no operators yet: root or the service account "
		         "adds the first admin (spif operator add NAME --role admin)");
		return refuse(c, conf, rq, NULL, rq->purpose, msg, err);
	}
	p->managed = 1;
	struct spif_operator op;
	int have = op_get(c, (long long)uid, NULL, &op, err);
	if (have < 0)
		return -1;
	const char *who = a ? a->operator_ : "?";
	if (!have) {
		/* the service account and root run the purge and may read the
		 * register and the log; they are not persons */
		if ((service || uid == 0) &&
		    (rq->act == SPIF_ACT_PURGE || rq->act == SPIF_ACT_LIST || rq->act == SPIF_ACT_AUDIT ||
		     rq->act == SPIF_ACT_BACKUP || rq->act == SPIF_ACT_RESTORE || rq->act == SPIF_ACT_COSIGN))
			return 0;
		snprintf(msg, sizeof msg, "%s (uid %u) is not an operator of this catalog and may not %s (an admin "
		         "adds operators: spif operator add)", who, (unsigned)uid, what);
		return refuse(c, conf, rq, NULL, rq->purpose, msg, err);
	}
	snprintf(p->name, sizeof p->name, "%s", op.name);
	p->roles = op.roles;
	snprintf(p->key, sizeof p->key, "%s", op.key);
	if (op.state != SPIF_OP_ACTIVE) {
		snprintf(msg, sizeof msg, "%s is %s%s", op.name, spif_op_state_name(op.state),
		         op.state == SPIF_OP_LOCKED ? " (an admin unlocks: spif operator unlock)" : "");
		return refuse(c, conf, rq, &op, rq->purpose, msg, err);
	}
	char roles[128], need[128];
	spif_roles_format(op.roles, roles, sizeof roles);
	if (!(op.roles & acts[rq->act].roles)) {
		roles_for(acts[rq->act].roles, need, sizeof need);
		snprintf(msg, sizeof msg, "%s (%s) may not %s: it needs the role %s", op.name, roles, what, need);
		return refuse(c, conf, rq, &op, rq->purpose, msg, err);
	}
	if (acts[rq->act].second && uid == 0) {
		snprintf(msg, sizeof msg, "root may not %s: that is a person's, under their own uid (sudo's "
		         "SUDO_USER is only a claim)", what);
		return refuse(c, conf, rq, &op, rq->purpose, msg, err);
	}
	if (acts[rq->act].second) {
		char first[128];
		first_person(c, rq, first, sizeof first);
		if (first[0] && same_person(first, op.name)) {
			snprintf(msg, sizeof msg, "%s may not %s %s: %s did the work, and a second person signs it off",
			         op.name, what, rq->object, first);
			return refuse(c, conf, rq, &op, rq->purpose, msg, err);
		}
	}
	if (rq->act == SPIF_ACT_CONFIRM && !op.key[0]) {
		snprintf(msg, sizeof msg, "%s may not %s without an OpenPGP key of their own in the operator table "
		         "(an admin records it: spif operator add ... --key FPR)", op.name, what);
		return refuse(c, conf, rq, &op, rq->purpose, msg, err);
	}
	char purpose[512] = "";
	if (rq->purpose)
		snprintf(purpose, sizeof purpose, "%s", rq->purpose);
	else if (rq->file_id > 0)
		file_purpose(c, rq->file_id, purpose, sizeof purpose);
	if (acts[rq->act].grant && purpose[0] && !has_grant(c, op.uid, purpose, rq->file_id > 0 ? rq->file_id : 0)) {
		char on[64] = "";
		if (rq->file_id > 0) {
			char fid[24];
			spif_file_id_format(rq->file_id, fid);
			snprintf(on, sizeof on, " (%s)", fid);
		}
		snprintf(msg, sizeof msg, "%s may not %s of the purpose \"%s\"%s: no grant for it (an admin grants: "
		         "spif operator grant %s PURPOSE)", op.name, what, purpose, on, op.name);
		return refuse(c, conf, rq, &op, purpose, msg, err);
	}
	if (acts[rq->act].reason && (!rq->reason || !*rq->reason)) {
		snprintf(msg, sizeof msg, "%s may not %s without a reason: give --reason TEXT (it is logged)", op.name,
		         what);
		return refuse(c, conf, rq, &op, purpose, msg, err);
	}
	if (acts[rq->act].approval) {
		enum spif_approval_kind kind = (enum spif_approval_kind)(acts[rq->act].approval - 1);
		struct spif_approval ap;
		int found = spif_approval_find(c, kind, rq->file_id, purpose[0] ? purpose : NULL, op.uid, &ap, err);
		if (found < 0)
			return -1;
		if (!found) {
			const char *what_on = rq->file_id > 0 ? "" : purpose;
			char fid[24] = "";
			if (rq->file_id > 0)
				spif_file_id_format(rq->file_id, fid);
			snprintf(msg, sizeof msg, "%s may not %s of %s%.200s without a second person's approval (an "
			         "approver runs: spif operator approve %s %s%.200s --for %s --reason TEXT)", op.name, what,
			         fid[0] ? fid : "the purpose ", what_on, spif_approval_kind_name(kind),
			         fid[0] ? "" : "--purpose ", fid[0] ? fid : purpose, op.name);
			return refuse(c, conf, rq, &op, purpose, msg, err);
		}
		p->approval = ap.id;
		snprintf(p->approver, sizeof p->approver, "%s", ap.approver);
	}
	if (uid == 0 && op.sudo && a && a->sudo_user[0])
		snprintf(p->person, sizeof p->person, "root (sudo from %.32s, unverified)", a->sudo_user);
	return 0;
}

/* ---- purge plans ------------------------------------------------------------ */

int spif_purge_requires_plan(struct spif_catalog *c, const struct spif_conf *conf)
{
	if (conf->purge_requires_plan)
		return conf->purge_requires_plan > 0;
	long long n = 0;
	return spif_operator_count(c, &n, NULL) == 0 && n > 0;
}

int spif_plan_approved(struct spif_catalog *c, long long plan_id, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT 1 FROM plan_approvals WHERE plan_id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, plan_id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "read approvals", err);
}

int spif_plan_approve(struct spif_catalog *c, long long plan_id, const long long *ids, size_t n,
                      struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_plan_approve", err) < 0)
		return -1;
	int was = spif_plan_approved(c, plan_id, err);
	if (was < 0)
		return -1;
	if (was)
		return spif_err_set(err, SPIF_EX_DATAERR, "plan %lld is already approved", plan_id);
	char obj[32], now[32];
	snprintf(obj, sizeof obj, "plan:%lld", plan_id);
	spif_now_utc(now);
	json_t *d = json_pack("{s:I}", "entries", (json_int_t)n);
	long long seq;
	int rc = spif_audit_append(c, "retain.approve", obj, d, &seq, err);
	json_decref(d);
	if (rc < 0)
		return -1;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO plan_approvals(plan_id,approver,approved,event_seq) VALUES(?,?,?,?)",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, plan_id);
	sqlite3_bind_text(st, 2, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, seq);
	if (spif_catalog_step_done(c, st, "approve plan", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (spif_catalog_prepare(c, "INSERT OR IGNORE INTO plan_entries(plan_id,file_id) VALUES(?,?)", &st,
		                         err) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, plan_id);
		sqlite3_bind_int64(st, 2, ids[i]);
		if (spif_catalog_step_done(c, st, "approve plan", err) < 0)
			return -1;
	}
	return 0;
}

int spif_plan_next_approved(struct spif_catalog *c, long long *plan_id, long long **ids, size_t *n,
                            struct spif_err *err)
{
	*plan_id = 0;
	*ids = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT a.plan_id FROM plan_approvals a WHERE NOT EXISTS (SELECT 1 FROM purges p"
	                            " WHERE p.plan_id = a.plan_id AND p.finished IS NOT NULL) ORDER BY a.plan_id LIMIT 1",
	                         &st, err) < 0)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*plan_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "read approvals", err);
	if (spif_catalog_prepare(c, "SELECT file_id FROM plan_entries WHERE plan_id = ? ORDER BY file_id", &st,
	                         err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, *plan_id);
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			long long *v = realloc(*ids, cap * sizeof *v);
			if (!v) {
				rc = SQLITE_NOMEM;
				break;
			}
			*ids = v;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	free(*ids);
	*ids = NULL;
	*n = 0;
	return rc == SQLITE_NOMEM ? spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory")
	                          : spif_catalog_sqlerr(c, rc, "read plan entries", err);
}
