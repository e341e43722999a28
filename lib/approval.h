/* approval.h - the second person's approval, given before the act.
 *
 * Some acts are one person's work that the law or the assessments want a
 * second person to agree to *before* it happens: disposing of a file
 * before its governance schedule's date (a bypass), and exporting records
 * that still hold Individual Numbers.  (A certificate's confirmation and a
 * purge plan's approval come after the work, and have their own rows.)
 *
 * An approver gives an approval to one named operator, for one file or
 * for every file of a purpose, with a reason, for a limited time (default
 * 8 hours, at most 7 days); the gate (operator.h, spif_operator_check)
 * then lets that operator, and nobody else, do the act on that file until
 * the approval expires or is revoked.  The approver is never the operator
 * (a CHECK in the table, and the gate refuses root as the second person).
 * Every approval and revocation is an event.  A personal install (no
 * operators) has no approvals: everything is allowed, as before. */
#ifndef SPIF_APPROVAL_H
#define SPIF_APPROVAL_H

#include "catalog.h"

enum spif_approval_kind { SPIF_APPROVAL_BYPASS = 0, SPIF_APPROVAL_EXPORT };
/* "bypass", "export" <-> kind; parse returns -1 for anything else */
const char *spif_approval_kind_name(enum spif_approval_kind k);
int spif_approval_kind_parse(const char *s, enum spif_approval_kind *k);

#define SPIF_APPROVAL_HOURS 8
#define SPIF_APPROVAL_MAX_HOURS (7 * 24)

struct spif_approval {
	long long id;
	enum spif_approval_kind kind;
	long long file_id;  /* 0: every file of purpose */
	char purpose[256];  /* "" when file_id names the file */
	long long for_uid;
	char for_name[64], approver[64], reason[512];
	char approved[32], expires[32], revoked[32];
};

/* Inside the caller's transaction: the calling uid approves kind for the
 * operator for_name on file_id (> 0) or on every file of purpose, for
 * hours; event "operator.approve" (object: the file id or the purpose).
 * Refused: for_name not an active operator, for_name being the caller, an
 * unknown file, hours out of range.  *id gets the approval's number. */
int spif_approval_add(struct spif_catalog *c, enum spif_approval_kind kind, long long file_id, const char *purpose,
                      const char *for_name, int hours, const char *reason, long long *id, struct spif_err *err);

/* Inside the caller's transaction: revoke approval id; event
 * "operator.approval-revoked". */
int spif_approval_revoke(struct spif_catalog *c, long long id, const char *reason, struct spif_err *err);

/* The approval in force for uid doing kind on file_id (its own, or one
 * for its purpose) or, when file_id is 0, on purpose: 1 with *a filled,
 * 0 none, -1 error.  Given by another uid, not expired, not revoked. */
int spif_approval_find(struct spif_catalog *c, enum spif_approval_kind kind, long long file_id, const char *purpose,
                       long long uid, struct spif_approval *a, struct spif_err *err);

/* Approvals, newest first, through fn (non-zero stops and is returned):
 * only those in force unless all. */
int spif_approval_list(struct spif_catalog *c, int all, int (*fn)(void *ctx, const struct spif_approval *a),
                       void *ctx, struct spif_err *err);

#endif
