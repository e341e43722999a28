/* retention_report.h - what spif retain lists and reports: the schedules
 * (with the policy defaults not installed yet), the holds, and the annual
 * self-inspection report.  Reads only: nothing here changes the catalog,
 * and nothing prints or exits; the command formats what it gets.
 * See spif-retain(1). */
#ifndef SPIF_RETENTION_REPORT_H
#define SPIF_RETENTION_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "catalog.h"
#include "retention.h"

/* The catalog's schedules and the defaults it has not installed yet (all
 * of them when c is NULL: no catalog), by name, in a malloc'd array the
 * caller frees.  A read installs nothing (completion runs it on every
 * TAB): until a write installs them, the defaults are listed as they will
 * be.  0, or -1 with err. */
int spif_schedule_list(struct spif_catalog *c, struct spif_schedule **v, size_t *n, struct spif_err *err);

/* A hold as the catalog holds it.  The strings are valid during the
 * callback only; those marked may be NULL. */
struct spif_hold {
	long long id;
	long long file_id;             /* 0: a hold on a purpose */
	const char *purpose;           /* NULL: a hold on a file */
	const char *reason, *placed_by, *placed;
	const char *released, *released_by, *release_reason; /* NULL while in force */
	const char *kind;              /* "hold", or "incident" (retention.h) */
};
/* The holds in force (all: released ones too), by id, through fn (return
 * nonzero to stop).  0, or -1 with err. */
int spif_holds_each(struct spif_catalog *c, int all, int (*fn)(void *ctx, const struct spif_hold *h),
                    void *ctx, struct spif_err *err);
/* How many files that are not disposed have exactly this purpose (a purpose
 * hold matches it exactly: a typo would hold nothing). */
int spif_purpose_files(struct spif_catalog *c, const char *purpose, long long *n, struct spif_err *err);

/* The annual self-inspection (自己点検) for the fiscal year that starts
 * on 1 April of fiscal_year, as of the day as_of: files by purpose and
 * state (now), the certificates issued in the year, what is overdue on
 * as_of (and the hold that keeps it), the holds in force or released in
 * the year, and the year's purges.  The fiscal year is a local-calendar
 * notion and certificates carry UTC: the year's bounds are local
 * midnights.  The object is what `spif retain report --json` prints, and
 * what its text is made from; NULL with err. */
json_t *spif_retention_report(struct spif_catalog *c, int fiscal_year, long as_of, struct spif_err *err);

#endif
