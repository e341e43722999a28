/* review.h - what a reviewer must look at, for a period of the audit log
 * (MIC notice 151: the operation history is checked per operator;
 * 総税企103: logs are analysed regularly to detect unauthorised access).
 *
 * Not the whole log (spif catalog log is that) but the events that need
 * a person's eyes:
 *   refused      an action the operator table refused (operator.refused);
 *   locked       an operator locked, by too many refusals or by an admin,
 *                and unlocked again;
 *   off-hours    a read of records (vault.read, decrypt) outside
 *                spif.conf office_hours (default 08:00-19:00, local time);
 *   bulk         a read of a file with bulk_read records or more
 *                (default 1000);
 *   bypass       a disposal before a governance schedule's date;
 *   unconfirmed  a certificate issued in the period that no second person
 *                has confirmed yet.
 * Reads only; in the order of the log, certificates last. */
#ifndef SPIF_REVIEW_H
#define SPIF_REVIEW_H

#include "catalog.h"

struct spif_review_item {
	const char *kind;      /* one of the names above */
	long long seq;         /* its event; 0 for a certificate */
	const char *time;      /* UTC, the log's format */
	const char *operator_; /* who */
	const char *object;    /* the file, operator or certificate it is about (may be NULL) */
	const char *what;      /* one line for a person, in English (--json) */
	const char *what_local; /* the same line in the locale's language */
};

/* Every item of [since, until) (UTC times in the log's format; NULL: open)
 * through fn; a non-zero return from fn stops and is returned.  The
 * strings are valid during the call only. */
int spif_review(struct spif_catalog *c, const struct spif_conf *conf, const char *since, const char *until,
                int (*fn)(void *ctx, const struct spif_review_item *it), void *ctx, struct spif_err *err);

#endif
