/* operator.h - who may do what: operators, roles, grants, refusals and
 * lockout, and the second person where the law asks for one.
 *
 * Identity is the real uid (audit.h: spif_actor_init), nothing the caller
 * can set.  The operators table maps a uid to its login name, its roles,
 * its own OpenPGP key (by fingerprint) and its state:
 *   operator   事務取扱担当者: ingest, redact, encrypt, read records, within
 *              the purposes (事務) granted to it;
 *   approver   管理者: confirms certificates, approves purge plans, may
 *              bypass a governance schedule;
 *   auditor    reads the log and the certificates, never records;
 *   responder  incidents: holds, and reading records for them;
 *   admin      operators, schedules, configuration.
 * Grants are per purpose, optionally per file.  Reading records (vault
 * cat, decrypting a catalogued file, an export with numbers) needs a grant
 * for the file's purpose and a reason, which is logged.
 *
 * ONE function decides (spif_operator_check); every command asks it once
 * per action before it does anything.  A refusal is an event, committed
 * even though the action is not done, and counted: lockout_after of them
 * (spif.conf, default 5) within lockout_window (default 15 minutes) lock
 * the operator until an admin unlocks (MIC notice 151).  Lock and unlock
 * are events.
 *
 * With no operator rows at all (a personal install), everything is
 * allowed and nothing is recorded: spif works as a single-user tool.  A
 * system install (setgid, home.h) with no rows yet allows only root or the
 * service account (the home's owner) to add the first admin.
 *
 * Two people: a certificate's confirmation, a purge plan's approval and
 * the release of an incident hold are done by a uid with the approver
 * role that is not the one who did the work (placed the hold); a
 * governance bypass and an export of records with numbers need, before
 * they are done, an approval an approver gave to that operator for that
 * file or purpose (approval.h).  Root never counts as the second person
 * (sudo's SUDO_USER is the caller's claim).  The confirmer signs with their own
 * key, named in the operator table, from their own GnuPG home. */
#ifndef SPIF_OPERATOR_H
#define SPIF_OPERATOR_H

#include <sys/types.h>

#include "catalog.h"

enum spif_role {
	SPIF_ROLE_OPERATOR = 1,
	SPIF_ROLE_APPROVER = 2,
	SPIF_ROLE_AUDITOR = 4,
	SPIF_ROLE_RESPONDER = 8,
	SPIF_ROLE_ADMIN = 16,
};

/* "operator,approver" <-> bits; parse returns -1 naming nothing known. */
int spif_roles_parse(const char *s, unsigned *roles);
void spif_roles_format(unsigned roles, char *out, size_t n);

/* What a command is about to do.  (Not enum spif_action: that is a
 * schedule's shred or redact, retention.h.) */
enum spif_act {
	SPIF_ACT_INGEST,   /* register a file and its records (purpose) */
	SPIF_ACT_REDACT,   /* remove numbers (a stream, or --file ID) */
	SPIF_ACT_ENCRYPT,  /* encrypt records */
	SPIF_ACT_DECRYPT,  /* decrypt (a catalogued file: a read of records) */
	SPIF_ACT_READ,     /* read records with numbers: vault cat (grant + reason) */
	SPIF_ACT_LIST,     /* the register: files, copies, schedules, holds, due */
	SPIF_ACT_AUDIT,    /* the log, its review, certificates, the operators */
	SPIF_ACT_SHRED,    /* destroy copies, certify */
	SPIF_ACT_RETAIN,   /* a file's schedule and event dates */
	SPIF_ACT_CONFIRM,  /* confirm a certificate (object: its id) */
	SPIF_ACT_PLAN,     /* make a purge plan */
	SPIF_ACT_APPROVE,  /* approve a purge plan (object: "plan:N") */
	SPIF_ACT_PURGE,    /* run the purge */
	SPIF_ACT_BYPASS,   /* dispose before a governance schedule's date */
	SPIF_ACT_HOLD,     /* place or release a hold */
	SPIF_ACT_EXPORT,   /* an export of records with numbers */
	SPIF_ACT_SCHEDULE, /* add or remove a retention schedule */
	SPIF_ACT_ADMIN,    /* operators and grants */
	SPIF_ACT_EXPORT_CLEAN, /* an export whose records hold no number (redacted) */
	SPIF_ACT_SECOND,   /* approve someone's bypass or export (object: their name) */
	SPIF_ACT_BACKUP,   /* back up the catalog and vault, or test a restore */
	SPIF_ACT_RESTORE,  /* restore the catalog from a backup */
	SPIF_ACT_CHECKOUT, /* settle a checkout: returned, destroyed, lost */
	SPIF_ACT_MEDIA,    /* register or retire media */
	SPIF_ACT_ESCROW,   /* record a custodian's escrow copy destroyed */
	SPIF_ACT_COSIGN,   /* co-sign certificates with the organisation's key */
	SPIF_ACT_DISCLOSE, /* answer a disclosure request (開示請求): every file searched */
	SPIF_ACT_INCIDENT, /* open, note or close an incident; a forensic export */
	SPIF_ACT_RELEASE,  /* release an incident hold (object: "hold:N") */
};
const char *spif_act_name(enum spif_act a);

/* What is asked: an action, and what it is on when known.  file_id > 0
 * names a catalogued file (its purpose is looked up); object names a
 * certificate (CONFIRM), a plan ("plan:N", APPROVE) or a hold ("hold:N",
 * RELEASE). */
struct spif_request {
	enum spif_act act;
	const char *purpose;
	long long file_id;
	const char *object;
	const char *reason;
};

/* What the caller learns when it is allowed. */
struct spif_permit {
	int managed;       /* the catalog has operators (0: a personal install) */
	char name[64];     /* the operator's name, "" when not one */
	unsigned roles;
	char key[41];      /* their own OpenPGP fingerprint, "" when none */
	char person[64];   /* how events name them: "root (sudo from X, unverified)"
	                      for root acting through sudo, else "" (the login name) */
	long long approval; /* the second person's approval the act rests on (approval.h), 0 none */
	char approver[64];  /* and who gave it */
};

/* The one gate.  0 with *p filled when the real uid may do rq; otherwise
 * SPIF_EX_NOPERM (77) with one line saying who may not do what and why,
 * after committing the refusal (and a lock, when it is one too many) to
 * the catalog in a transaction of its own.  c may be NULL (no catalog
 * yet): then only the rule for an install without operators applies.
 * Must not be called inside a transaction. */
int spif_operator_check(struct spif_catalog *c, const struct spif_conf *conf, const struct spif_request *rq,
                        struct spif_permit *p, struct spif_err *err);

/* ---- the table ------------------------------------------------------------ */

enum spif_op_state { SPIF_OP_ACTIVE = 0, SPIF_OP_LOCKED, SPIF_OP_RETIRED };
const char *spif_op_state_name(enum spif_op_state s);

struct spif_operator {
	long long uid;
	char name[64];
	unsigned roles;
	char key[41];      /* "" when none */
	int sudo;          /* root only: acts through sudo (SUDO_USER named, unverified) */
	enum spif_op_state state;
	char added[32], added_by[64], changed[32];
	long long refusals; /* counted towards the lock now */
};

/* How many operators (retired ones too). */
int spif_operator_count(struct spif_catalog *c, long long *n, struct spif_err *err);
/* By name: 1 found, 0 not, -1 error. */
int spif_operator_get(struct spif_catalog *c, const char *name, struct spif_operator *op, struct spif_err *err);
/* Every operator in name order, through fn (non-zero stops and is returned). */
int spif_operator_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_operator *op), void *ctx,
                       struct spif_err *err);

/* The changes, each inside the caller's transaction with its event
 * ("operator.add", .grant, .revoke, .lock, .unlock, .retire; object: the
 * name).  add: op->name must be a local account (its uid is looked up);
 * the first operator of a catalog must be an admin. */
int spif_operator_add(struct spif_catalog *c, const struct spif_operator *op, struct spif_err *err);
int spif_operator_grant(struct spif_catalog *c, const char *name, const char *purpose, long long file_id,
                        struct spif_err *err);
int spif_operator_revoke(struct spif_catalog *c, const char *name, const char *purpose, long long file_id,
                         struct spif_err *err);
/* lock, unlock (the count starts again) or retire (for good), with why. */
int spif_operator_set_state(struct spif_catalog *c, const char *name, enum spif_op_state to, const char *reason,
                            struct spif_err *err);

struct spif_grant {
	long long id, file_id; /* file_id 0: every file of the purpose */
	const char *purpose, *granted, *granted_by;
};
/* An operator's grants in force, oldest first. */
int spif_operator_grants(struct spif_catalog *c, const char *name, int (*fn)(void *ctx, const struct spif_grant *g),
                         void *ctx, struct spif_err *err);

/* ---- purge plans: the second person ---------------------------------------- */

/* Does a purge need an approved plan?  spif.conf purge_requires_plan, and
 * when it is not set: yes when the catalog has operators. */
int spif_purge_requires_plan(struct spif_catalog *c, const struct spif_conf *conf);
/* Inside a transaction: approve plan_id with its n entries (kept, so that
 * the nightly purge can apply it without the file), event "retain.approve".
 * The approver is checked by spif_operator_check (SPIF_ACT_APPROVE). */
int spif_plan_approve(struct spif_catalog *c, long long plan_id, const long long *ids, size_t n,
                      struct spif_err *err);
/* 1 approved, 0 not, -1 error. */
int spif_plan_approved(struct spif_catalog *c, long long plan_id, struct spif_err *err);
/* The oldest approved plan that no purge has finished: its id (0: none)
 * and entries (malloc'd). */
int spif_plan_next_approved(struct spif_catalog *c, long long *plan_id, long long **ids, size_t *n,
                            struct spif_err *err);

#endif
