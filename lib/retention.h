/* retention.h - how long a specific personal information file is kept, and
 * what stops it going: schedules, per-file event dates, holds and the due
 * list.  The bookkeeping of purges and plans is purge.h; the listings and
 * the annual report are retention_report.h.  See spif-retain(1) and
 * spif-catalog(5).
 *
 * Dates are calendar days (no time of day, no zone): "YYYY-MM-DD", held as
 * a day number (days since 1970-01-01).  Periods follow the Japanese Civil
 * Code (民法): the start date is the first day counted (the caller passes
 * the day after an event when the law says 翌日から起算), and a period of
 * years or months ends on the day before the day that corresponds to the
 * start in the last month, or on that month's last day when it has no
 * corresponding day (art. 143).  So 2024-02-29 + 1y ends on 2025-02-28,
 * 2026-03-31 + 1m on 2026-04-30, 2027-04-01 + 7y on 2034-03-31.
 *
 * Every change goes through the catalog in the caller's transaction with
 * its audit event; nothing here prints or exits. */
#ifndef SPIF_RETENTION_H
#define SPIF_RETENTION_H

#include <jansson.h>

#include "catalog.h"
#include "home.h"

/* ---- calendar days --------------------------------------------------- */

#define SPIF_DAY_NONE (-2147483647L) /* unknown / never */

/* Strict "YYYY-MM-DD", a real date in 1900..9999.  0, or -1. */
int spif_day_parse(const char *s, long *day);
/* "YYYY-MM-DD"; out must hold 11 bytes. */
void spif_day_format(long day, char out[11]);
long spif_day_from_ymd(int y, int m, int d);
void spif_day_to_ymd(long day, int *y, int *m, int *d);
int spif_days_in_month(int y, int m);
/* Today's legal date by the real clock (calendar.h: spif.conf's zone). */
long spif_day_today(void);
/* The legal date of a catalog UTC time ("2026-06-15T00:12:00.000Z"):
 * spif_legal_day_of_utc, under its old name. */
int spif_day_of_utc(const char *utc, long *day);

/* ---- periods, cutoffs, starts ------------------------------------------ */

struct spif_period {
	int n;     /* >= 0 */
	char unit; /* 'y', 'm' or 'd' */
};
/* "7y", "18m", "30d".  allow_zero: "0d" (a grace of nothing).  64 on error. */
int spif_period_parse(const char *s, int allow_zero, struct spif_period *p, struct spif_err *err);
void spif_period_format(const struct spif_period *p, char out[16]);
/* The last day of a period that starts on (and counts) start (art. 143).
 * A zero period ends the day before it starts. */
long spif_period_last_day(long start, const struct spif_period *p);

enum spif_cutoff_kind { SPIF_CUTOFF_NONE, SPIF_CUTOFF_FISCAL_YEAR, SPIF_CUTOFF_NEXT_YEAR };
struct spif_cutoff {
	enum spif_cutoff_kind kind;
	int month, day; /* SPIF_CUTOFF_NEXT_YEAR: that day of the year after the start's */
};
/* "none", "fiscal-year" (from 1 April of the fiscal year after the start's),
 * "calendar-year" (1 January of the next year), "next-year:MM-DD" (that
 * day of the next year; 29 February is refused).  64 on error. */
int spif_cutoff_parse(const char *s, struct spif_cutoff *c, struct spif_err *err);
void spif_cutoff_format(const struct spif_cutoff *c, char out[24]);
/* The day counting starts from, given the start date. */
long spif_cutoff_apply(const struct spif_cutoff *c, long start);

enum spif_from_kind { SPIF_FROM_RECEIVED, SPIF_FROM_CREATED, SPIF_FROM_EVENT };
struct spif_from {
	enum spif_from_kind kind;
	char event[65];  /* SPIF_FROM_EVENT: the event's name */
	int offset_days; /* "+1d": counted from the day after (翌日起算) */
};
/* "received", "created", "event:NAME", each optionally followed by "+Nd"
 * (N from 0 to 366).  An event name is 1 to 64 bytes of UTF-8 without
 * spaces, '=', '+', '/' or control characters.  64 on error. */
int spif_from_parse(const char *s, struct spif_from *f, struct spif_err *err);
void spif_from_format(const struct spif_from *f, char out[96]);
int spif_event_name_valid(const char *s);

/* ---- schedules ------------------------------------------------------- */

enum spif_action { SPIF_ACTION_SHRED, SPIF_ACTION_REDACT };
enum spif_mode { SPIF_MODE_GOVERNANCE, SPIF_MODE_COMPLIANCE };

struct spif_schedule {
	char name[65];
	struct spif_period period, grace;
	struct spif_from from;
	struct spif_cutoff cutoff;
	enum spif_action action;
	enum spif_mode mode;
	char basis[1024]; /* the legal basis or policy, free text ("" when none) */
	char created[32];
	int is_default;   /* installed as a policy default */
};
/* A name: 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit. */
int spif_schedule_name_valid(const char *s);
const char *spif_action_name(enum spif_action a);
const char *spif_mode_name(enum spif_mode m);
int spif_action_parse(const char *s, enum spif_action *a);
int spif_mode_parse(const char *s, enum spif_mode *m);

/* What a schedule gives a file whose start date is start (SPIF_DAY_NONE
 * while its event is unknown: then both are SPIF_DAY_NONE).  retain_until =
 * the last day of the period counted from the cutoff of start + offset;
 * dispose_on = the day after retain_until, or the day after a grace
 * period that starts the day after retain_until. */
void spif_schedule_dates(const struct spif_schedule *s, long start, long *retain_until,
                         long *dispose_on);
/* The start date for a file: received, created (local date of its UTC
 * time) or event date (SPIF_DAY_NONE when unknown), plus the offset. */
long spif_schedule_start(const struct spif_schedule *s, long received, long created, long event);

/* The default schedules (policy defaults, not law: administrators edit or
 * replace them).  n gets their number. */
const struct spif_schedule *spif_schedule_defaults(size_t *n);
/* Install them unless this catalog already had them once (meta
 * "retention_defaults"), with one "schedule.defaults" event.  Inside the
 * caller's transaction.  *installed (may be NULL) says whether it did. */
int spif_retention_defaults(struct spif_catalog *c, int *installed, struct spif_err *err);
/* Have the defaults been installed?  (No transaction needed.) */
int spif_retention_defaults_done(struct spif_catalog *c);

/* A schedule by name.  SPIF_EX_DATAERR "no schedule NAME" when missing. */
int spif_schedule_get(struct spif_catalog *c, const char *name, struct spif_schedule *s,
                      struct spif_err *err);
/* Is name a schedule of this catalog, or (when c is NULL, or the defaults
 * are not installed yet) a default one?  Fills s when found. */
int spif_schedule_lookup(struct spif_catalog *c, const char *name, struct spif_schedule *s);
/* Retention by default: bind schedule name to a purpose (in a transaction,
 * with a "schedule.bind" event; a purpose has one schedule, a new bind
 * replaces the old).  Files of that purpose ingested without --schedule
 * get it.  SPIF_EX_DATAERR for an unknown schedule. */
int spif_schedule_bind(struct spif_catalog *c, const char *name, const char *purpose, struct spif_err *err);
/* The schedule bound to purpose into name (65 bytes): 1, 0 when none
 * (c may be NULL: no catalog, none), -1 with err. */
int spif_schedule_bound(struct spif_catalog *c, const char *purpose, char name[65], struct spif_err *err);
/* Add (in a transaction, with its event).  SPIF_EX_DATAERR when the name
 * exists. */
int spif_schedule_add(struct spif_catalog *c, const struct spif_schedule *s, struct spif_err *err);
/* Remove (in a transaction, with its event); refused with SPIF_EX_DATAERR
 * while a file that is not disposed uses it. */
int spif_schedule_rm(struct spif_catalog *c, const char *name, struct spif_err *err);
/* How many files use it: not disposed, and in all. */
int spif_schedule_usage(struct spif_catalog *c, const char *name, long long *live, long long *all,
                        struct spif_err *err);
json_t *spif_schedule_json(const struct spif_schedule *s);

/* ---- files: assigning, events --------------------------------------- */

/* A file's retention as the catalog holds it. */
struct spif_retention {
	long long file_id;
	char state[16];
	char schedule[65];   /* "" when none */
	long received, created;
	long retain_until, dispose_on; /* SPIF_DAY_NONE when unknown */
	long floor;                    /* the latest retain-until it ever had under a compliance
	                                  schedule: it may never end before (SPIF_DAY_NONE: none) */
	enum spif_mode mode;           /* of its schedule */
	int has_schedule;
};
int spif_retention_load(struct spif_catalog *c, long long file_id, struct spif_retention *r,
                        struct spif_err *err);
/* An event date of a file, SPIF_DAY_NONE when not recorded. */
int spif_file_event(struct spif_catalog *c, long long file_id, const char *name, long *day,
                    struct spif_err *err);

/* Give a file a schedule (ingest --schedule, retain assign), inside the
 * caller's transaction, with a "retain.assign" event recording the old and
 * new schedule and dates.  The rules (S3 Object Lock's): a file under a
 * compliance schedule may only be moved to a compliance schedule that
 * keeps it at least as long (SPIF_EX_NOPERM otherwise); under a
 * governance schedule, a move that makes it due earlier needs a reason
 * (SPIF_EX_USAGE without one).  A vault copy moves to the KEK of its
 * disposal month, re-encrypted under a fresh data key (see
 * spif_vault_rebucket; conf may be NULL when the file has no vault copy),
 * so call spif_retention_finish after the commit.  quiet_event: no event
 * of its own (ingest records the schedule in its "ingest" event).  *out
 * (may be NULL) gets the new state. */
int spif_retention_assign(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                          const char *schedule, const char *reason, int quiet_event,
                          struct spif_retention *out, struct spif_err *err);
/* Record an event date (retain event ID NAME=DATE): SPIF_EX_DATAERR when
 * before the file was received; the file's dates follow when its schedule
 * counts from that event, under the same rules as assign.  In a
 * transaction, with a "retain.event" event. */
int spif_retention_event(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                         const char *name, long day, const char *reason,
                         struct spif_retention *out, struct spif_err *err);
/* After the commit of an assign or an event: when the file's vault copy
 * was re-encrypted, delete the old ciphertext (spif_vault_sweep), purge the
 * old data key from the WAL and destroy the KEK of any month the move left
 * empty, with a "kek.retired" event (spif_dispose_retire_keks).  The same
 * finishes a move a crash interrupted after its commit.  0, or -1 with err
 * (the change itself stays committed). */
int spif_retention_finish(struct spif_catalog *c, long long file_id, struct spif_err *err);

/* ---- holds ------------------------------------------------------------ */

/* Place a hold on a file (file_id > 0) or on every file of a purpose
 * (purpose != NULL), inside a transaction with its "hold.place" event.
 * SPIF_EX_DATAERR for an unknown or disposed file; SPIF_EX_TEMPFAIL when
 * a running purge is disposing of it (or of a file of that purpose). */
int spif_hold_place(struct spif_catalog *c, long long file_id, const char *purpose,
                    const char *reason, long long *hold_id, struct spif_err *err);
/* The same, of kind "incident", on one file: a hold placed because of an
 * incident (incident.h, a lost export or copy, a forensic export).  It
 * stops disposal like any hold; what differs is who may release it: when
 * the catalog has operators, an approver who did not place it
 * (operator.h, SPIF_ACT_RELEASE).  The one way every incident holds a
 * file. */
int spif_hold_place_incident(struct spif_catalog *c, long long file_id, const char *reason, long long *hold_id,
                             struct spif_err *err);
/* Is hold_id an incident hold (*incident 1), and who placed it (into
 * placed_by, n bytes)?  SPIF_EX_DATAERR when there is no such hold. */
int spif_hold_kind(struct spif_catalog *c, long long hold_id, int *incident, char *placed_by, size_t n,
                   struct spif_err *err);
/* Release one (in a transaction, with "hold.release").  SPIF_EX_DATAERR
 * when unknown or already released. */
int spif_hold_release(struct spif_catalog *c, long long hold_id, const char *reason,
                      struct spif_err *err);
/* "H000001" <-> 1; parse accepts H000001, H1, 1; -1 when malformed. */
long long spif_hold_id_parse(const char *s);
void spif_hold_id_format(long long id, char out[24]);
/* The first active hold on a file (its own or its purpose's), 0 when none. */
long long spif_file_held(struct spif_catalog *c, long long file_id, struct spif_err *err);

/* ---- due ------------------------------------------------------------ */

struct spif_due {
	long long file_id;
	char schedule[65];
	enum spif_action action;
	long retain_until, dispose_on;
	char state[16];
	const char *label, *purpose; /* valid during the callback */
};
/* Every file due on day (dispose_on <= day, not disposed, not already
 * redacted under a redact schedule, no active hold), by disposal date and
 * id, through fn (return nonzero to stop).  An index range per schedule:
 * the cost follows the number due, not the size of the catalog. */
int spif_retention_due(struct spif_catalog *c, long day,
                       int (*fn)(void *ctx, const struct spif_due *d), void *ctx,
                       struct spif_err *err);
/* One file, checked the same way (inside the purge's transaction, just
 * before it is claimed).  1 due (d filled), 0 not (why says why), -1 err. */
int spif_retention_check(struct spif_catalog *c, long long file_id, long day, struct spif_due *d,
                         char why[256], struct spif_err *err);

/* May a command other than a purge (spif shred, spif redact --file) dispose
 * of file_id today?  A hold refuses any copy (an incident keeps every
 * copy).  The retention period binds only when the operation would leave
 * the file with no copy, or rewrite it (whole): before its disposal date a
 * compliance schedule (or a compliance floor it ever had) refuses, and a
 * governance schedule refuses unless bypass is set (the caller records
 * why, see spif_retention_bypassed).  A file whose disposal date is not
 * known yet counts as before it.  0 allowed (*early set when the bypass
 * was used), or -1 with err: SPIF_EX_NOPERM and what stops it. */
int spif_retention_may_dispose(struct spif_catalog *c, long long file_id, int whole, int bypass,
                               int *early, struct spif_err *err);
/* Record, before anything is destroyed, that file_id is being disposed of
 * before its disposal date under a governance bypass ("retain.bypass"
 * event with the schedule, the dates and the reason), in a transaction. */
int spif_retention_bypassed(struct spif_catalog *c, long long file_id, const char *command,
                            const char *reason, struct spif_err *err);

#endif
