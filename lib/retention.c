/* retention.c - see retention.h */
#include "catalog_priv.h"
#include "retention.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "i18n.h"
#include "calendar.h"
#include "dispose.h"
#include "vault.h"

/* ---- calendar days ------------------------------------------------------
 * The proleptic Gregorian day count of H. Hinnant's "chrono-compatible
 * low-level date algorithms": exact, branch-light, no time zones. */

long spif_day_from_ymd(int y, int m, int d)
{
	long yy = (long)y - (m <= 2);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void spif_day_to_ymd(long day, int *y, int *m, int *d)
{
	long z = day + 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	long dd = doy - (153 * mp + 2) / 5 + 1;
	long mm = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = (int)mm;
	*d = (int)dd;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int spif_days_in_month(int y, int m)
{
	static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return md[m - 1] + (m == 2 && leap(y));
}

int spif_day_parse(const char *s, long *day)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > spif_days_in_month(y, m))
		return -1;
	*day = spif_day_from_ymd(y, m, d);
	return 0;
}

void spif_day_format(long day, char out[11])
{
	int y, m, d;
	if (day == SPIF_DAY_NONE) {
		snprintf(out, 11, "-");
		return;
	}
	spif_day_to_ymd(day, &y, &m, &d);
	char b[48];
	snprintf(b, sizeof b, "%04d-%02d-%02d", y, m, d);
	memcpy(out, b, 10);
	out[10] = '\0';
}

long spif_day_today(void)
{
	char t[11];
	long d;
	spif_today(t);
	return spif_day_parse(t, &d) == 0 ? d : SPIF_DAY_NONE;
}

int spif_day_of_utc(const char *utc, long *day)
{
	return spif_legal_day_of_utc(utc, day);
}

/* ---- periods ----------------------------------------------------------- */

/* Bounds keep every date computed from a date before 9000 inside 9999. */
static int period_max(char unit)
{
	return unit == 'y' ? 200 : unit == 'm' ? 2400 : 73000;
}

int spif_period_parse(const char *s, int allow_zero, struct spif_period *p, struct spif_err *err)
{
	const char *q = s;
	long n = 0;
	while (*q >= '0' && *q <= '9' && n < 1000000)
		n = n * 10 + (*q++ - '0');
	char unit = *q;
	if (q == s || (unit != 'y' && unit != 'm' && unit != 'd') || q[1] != '\0')
		return spif_err_set(err, SPIF_EX_USAGE,
		                    "%.64s: not a period (a number and y, m or d: 7y, 18m, 30d)", s);
	if (n > period_max(unit) || (n == 0 && !allow_zero))
		return spif_err_set(err, SPIF_EX_USAGE, "%.64s: a period from %d to %d%c", s,
		                    allow_zero ? 0 : 1, period_max(unit), unit);
	p->n = (int)n;
	p->unit = unit;
	return 0;
}

void spif_period_format(const struct spif_period *p, char out[16])
{
	snprintf(out, 16, "%d%c", p->n, p->unit);
}

long spif_period_last_day(long start, const struct spif_period *p)
{
	if (p->unit == 'd')
		return start + p->n - 1;
	int y, m, d;
	spif_day_to_ymd(start, &y, &m, &d);
	long months = (long)m - 1 + (p->unit == 'y' ? 12L * p->n : p->n);
	int ty = y + (int)(months / 12), tm = (int)(months % 12) + 1;
	/* art. 143(2): the day before the corresponding day of the last month;
	 * when that month has no such day, its last day */
	if (d <= spif_days_in_month(ty, tm))
		return spif_day_from_ymd(ty, tm, d) - 1;
	return spif_day_from_ymd(ty, tm, spif_days_in_month(ty, tm));
}

/* ---- cutoffs ----------------------------------------------------------- */

int spif_cutoff_parse(const char *s, struct spif_cutoff *c, struct spif_err *err)
{
	memset(c, 0, sizeof *c);
	if (strcmp(s, "none") == 0)
		return 0;
	if (strcmp(s, "fiscal-year") == 0) {
		c->kind = SPIF_CUTOFF_FISCAL_YEAR;
		c->month = 4;
		c->day = 1;
		return 0;
	}
	if (strcmp(s, "calendar-year") == 0) {
		c->kind = SPIF_CUTOFF_NEXT_YEAR;
		c->month = 1;
		c->day = 1;
		return 0;
	}
	int m, d, k = 0;
	if (strncmp(s, "next-year:", 10) == 0 && strlen(s) == 15 &&
	    sscanf(s + 10, "%2d-%2d%n", &m, &d, &k) == 2 && k == 5 && s[12] == '-' && m >= 1 &&
	    m <= 12 && d >= 1 && d <= spif_days_in_month(2001, m)) {
		c->kind = SPIF_CUTOFF_NEXT_YEAR;
		c->month = m;
		c->day = d;
		return 0;
	}
	return spif_err_set(err, SPIF_EX_USAGE,
	                    "%.64s: not a cutoff (none, fiscal-year, calendar-year, next-year:MM-DD)", s);
}

void spif_cutoff_format(const struct spif_cutoff *c, char out[24])
{
	if (c->kind == SPIF_CUTOFF_NONE)
		snprintf(out, 24, "none");
	else if (c->kind == SPIF_CUTOFF_FISCAL_YEAR)
		snprintf(out, 24, "fiscal-year");
	else if (c->month == 1 && c->day == 1)
		snprintf(out, 24, "calendar-year");
	else
		snprintf(out, 24, "next-year:%02d-%02d", c->month % 100, c->day % 100);
}

long spif_cutoff_apply(const struct spif_cutoff *c, long start)
{
	int y, m, d;
	spif_day_to_ymd(start, &y, &m, &d);
	switch (c->kind) {
	case SPIF_CUTOFF_FISCAL_YEAR: {
		/* the Japanese fiscal year runs 1 April to 31 March: count from the
		 * 1 April that begins the next one */
		int fy = m >= 4 ? y : y - 1;
		return spif_day_from_ymd(fy + 1, 4, 1);
	}
	case SPIF_CUTOFF_NEXT_YEAR:
		return spif_day_from_ymd(y + 1, c->month, c->day);
	default:
		return start;
	}
}

/* ---- where counting starts --------------------------------------------- */

int spif_event_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '=' || *p == '+' || *p == '/' || *p == '"' ||
		    *p == '\\')
			return 0;
	/* UTF-8 well-formed: event names are stored and shown as text */
	json_t *j = json_string(s);
	int ok = j != NULL;
	json_decref(j);
	return ok;
}

int spif_from_parse(const char *s, struct spif_from *f, struct spif_err *err)
{
	memset(f, 0, sizeof *f);
	char base[96];
	const char *plus = strrchr(s, '+');
	size_t blen = plus ? (size_t)(plus - s) : strlen(s);
	if (blen >= sizeof base)
		goto bad;
	memcpy(base, s, blen);
	base[blen] = '\0';
	if (plus) {
		const char *q = plus + 1;
		long n = 0;
		while (*q >= '0' && *q <= '9' && n < 1000)
			n = n * 10 + (*q++ - '0');
		if (q == plus + 1 || q[0] != 'd' || q[1] != '\0' || n > 366)
			goto bad;
		f->offset_days = (int)n;
	}
	if (strcmp(base, "received") == 0)
		f->kind = SPIF_FROM_RECEIVED;
	else if (strcmp(base, "created") == 0)
		f->kind = SPIF_FROM_CREATED;
	else if (strncmp(base, "event:", 6) == 0 && spif_event_name_valid(base + 6)) {
		f->kind = SPIF_FROM_EVENT;
		memcpy(f->event, base + 6, strlen(base + 6) + 1); /* valid: at most 64 bytes */
	} else
		goto bad;
	return 0;
bad:
	return spif_err_set(err, SPIF_EX_USAGE,
	                    "%.96s: not a start (received, created or event:NAME, optionally +Nd)", s);
}

void spif_from_format(const struct spif_from *f, char out[96])
{
	const char *b = f->kind == SPIF_FROM_RECEIVED ? "received" : f->kind == SPIF_FROM_CREATED ? "created" : "event:";
	if (f->offset_days)
		snprintf(out, 96, "%s%s+%dd", b, f->kind == SPIF_FROM_EVENT ? f->event : "", f->offset_days);
	else
		snprintf(out, 96, "%s%s", b, f->kind == SPIF_FROM_EVENT ? f->event : "");
}

/* ---- schedules --------------------------------------------------------- */

int spif_schedule_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '-' && ch != '_' && ch != '.')))
			return 0;
	}
	return 1;
}

const char *spif_action_name(enum spif_action a)
{
	return a == SPIF_ACTION_REDACT ? "redact" : "shred";
}

const char *spif_mode_name(enum spif_mode m)
{
	return m == SPIF_MODE_COMPLIANCE ? "compliance" : "governance";
}

int spif_action_parse(const char *s, enum spif_action *a)
{
	if (strcmp(s, "shred") == 0)
		*a = SPIF_ACTION_SHRED;
	else if (strcmp(s, "redact") == 0)
		*a = SPIF_ACTION_REDACT;
	else
		return -1;
	return 0;
}

int spif_mode_parse(const char *s, enum spif_mode *m)
{
	if (strcmp(s, "governance") == 0)
		*m = SPIF_MODE_GOVERNANCE;
	else if (strcmp(s, "compliance") == 0)
		*m = SPIF_MODE_COMPLIANCE;
	else
		return -1;
	return 0;
}

long spif_schedule_start(const struct spif_schedule *s, long received, long created, long event)
{
	long base = s->from.kind == SPIF_FROM_RECEIVED ? received
	            : s->from.kind == SPIF_FROM_CREATED ? created
	                                                : event;
	if (base == SPIF_DAY_NONE)
		return SPIF_DAY_NONE;
	return base + s->from.offset_days;
}

void spif_schedule_dates(const struct spif_schedule *s, long start, long *retain_until,
                         long *dispose_on)
{
	if (start == SPIF_DAY_NONE) {
		*retain_until = *dispose_on = SPIF_DAY_NONE;
		return;
	}
	long from = spif_cutoff_apply(&s->cutoff, start);
	*retain_until = spif_period_last_day(from, &s->period);
	/* the grace runs from the day after retention ends; the file is due the
	 * day after the grace */
	*dispose_on = (s->grace.n ? spif_period_last_day(*retain_until + 1, &s->grace) : *retain_until) + 1;
}

/* The policy defaults.  The periods are the limits of the local tax law
 * and of the income tax rules for employers' forms; which one a file
 * follows, and whether the municipality's 文書管理規程 says longer, is the
 * administrator's decision. */
#define P(n_, u_) {.n = (n_), .unit = (u_)}
static const struct spif_schedule defaults[] = {
	{.name = "kazei-shiryo-7y", .period = P(7, 'y'), .grace = P(0, 'd'),
	 .from = {.kind = SPIF_FROM_RECEIVED}, .cutoff = {SPIF_CUTOFF_FISCAL_YEAR, 4, 1},
	 .action = SPIF_ACTION_SHRED, .mode = SPIF_MODE_GOVERNANCE, .is_default = 1,
	 .basis = "policy default: 課税資料 received by the municipality (給与支払報告書, "
	          "公的年金等支払報告書, 申告書).  No statute fixes the municipality's copy; 7 years, the "
	          "longest limit of 地方税法第17条の5 (第7項: fraud), counted from the fiscal year "
	          "after receipt, so that a fiscal year's files go together at its end"},
	{.name = "fuka-3y", .period = P(3, 'y'), .grace = P(0, 'd'),
	 .from = {.kind = SPIF_FROM_EVENT, .event = "法定納期限", .offset_days = 1},
	 .action = SPIF_ACTION_SHRED, .mode = SPIF_MODE_GOVERNANCE, .is_default = 1,
	 .basis = "地方税法第17条の5第3項: 賦課決定は法定納期限の翌日から起算して3年を経過した日以後"
	          "においてはできない (policy default)"},
	{.name = "kosei-5y", .period = P(5, 'y'), .grace = P(0, 'd'),
	 .from = {.kind = SPIF_FROM_EVENT, .event = "法定納期限", .offset_days = 1},
	 .action = SPIF_ACTION_SHRED, .mode = SPIF_MODE_GOVERNANCE, .is_default = 1,
	 .basis = "地方税法第17条の5第1項・第4項: 更正・決定、税額を減少させる賦課決定は法定納期限の"
	          "翌日から起算して5年 (policy default)"},
	{.name = "fusei-7y", .period = P(7, 'y'), .grace = P(0, 'd'),
	 .from = {.kind = SPIF_FROM_EVENT, .event = "法定納期限", .offset_days = 1},
	 .action = SPIF_ACTION_SHRED, .mode = SPIF_MODE_COMPLIANCE, .is_default = 1,
	 .basis = "地方税法第17条の5第7項: 偽りその他不正の行為により免れた税額に係る更正・決定等は"
	          "法定納期限の翌日から起算して7年 (policy default; compliance mode: never shortened)"},
	{.name = "choshu-5y", .period = P(5, 'y'), .grace = P(0, 'd'),
	 .from = {.kind = SPIF_FROM_EVENT, .event = "法定納期限", .offset_days = 1},
	 .action = SPIF_ACTION_SHRED, .mode = SPIF_MODE_GOVERNANCE, .is_default = 1,
	 .basis = "地方税法第18条: 地方税の徴収権は法定納期限の翌日から起算して5年で時効消滅 "
	          "(renewed by 督促 and other steps: record the later date as the event; policy default)"},
	{.name = "fuyo-koujo-7y", .period = P(7, 'y'), .grace = P(0, 'd'),
	 .from = {.kind = SPIF_FROM_EVENT, .event = "提出期限"}, .cutoff = {SPIF_CUTOFF_NEXT_YEAR, 1, 11},
	 .action = SPIF_ACTION_SHRED, .mode = SPIF_MODE_GOVERNANCE, .is_default = 1,
	 .basis = "所得税法施行規則第76条の3 ほか: 給与所得者の扶養控除等申告書は提出期限の属する年の"
	          "翌年1月10日の翌日から7年間保存 (the employer's copy; policy default)"},
};
#undef P

const struct spif_schedule *spif_schedule_defaults(size_t *n)
{
	*n = sizeof defaults / sizeof *defaults;
	return defaults;
}

json_t *spif_schedule_json(const struct spif_schedule *s)
{
	char period[16], grace[16], cutoff[24], from[96];
	spif_period_format(&s->period, period);
	spif_period_format(&s->grace, grace);
	spif_cutoff_format(&s->cutoff, cutoff);
	spif_from_format(&s->from, from);
	json_t *j = json_object();
	json_object_set_new(j, "name", json_string(s->name));
	json_object_set_new(j, "period", json_string(period));
	json_object_set_new(j, "from", json_string(from));
	json_object_set_new(j, "cutoff", json_string(cutoff));
	json_object_set_new(j, "grace", json_string(grace));
	json_object_set_new(j, "action", json_string(spif_action_name(s->action)));
	json_object_set_new(j, "mode", json_string(spif_mode_name(s->mode)));
	json_object_set_new(j, "basis", s->basis[0] ? json_string(s->basis) : json_null());
	json_object_set_new(j, "default", json_boolean(s->is_default));
	if (s->created[0])
		json_object_set_new(j, "created", json_string(s->created));
	return j;
}

/* A row of schedules (name,period,start,cutoff,grace,action,mode,basis,
 * created,origin) into s; -1 when a value does not parse. */
#define SCHEDULE_COLUMNS "name,period,start,cutoff,grace,action,mode,basis,created,origin"
static int schedule_from_row(sqlite3_stmt *st, struct spif_schedule *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", spif_col_text(st, 0));
	snprintf(s->basis, sizeof s->basis, "%s", spif_col_text(st, 7));
	snprintf(s->created, sizeof s->created, "%s", spif_col_text(st, 8));
	s->is_default = strcmp(spif_col_text(st, 9), "default") == 0;
	if (spif_period_parse(spif_col_text(st, 1), 0, &s->period, NULL) < 0 ||
	    spif_from_parse(spif_col_text(st, 2), &s->from, NULL) < 0 ||
	    spif_cutoff_parse(spif_col_text(st, 3), &s->cutoff, NULL) < 0 ||
	    spif_period_parse(spif_col_text(st, 4), 1, &s->grace, NULL) < 0 ||
	    spif_action_parse(spif_col_text(st, 5), &s->action) < 0 || spif_mode_parse(spif_col_text(st, 6), &s->mode) < 0)
		return -1;
	return 0;
}

int spif_schedule_get(struct spif_catalog *c, const char *name, struct spif_schedule *s,
                      struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT " SCHEDULE_COLUMNS " FROM schedules WHERE name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	int bad = rc == SQLITE_ROW && schedule_from_row(st, s) < 0;
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no schedule %.64s (see spif retain schedule ls)", name);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "read schedule", err);
	if (bad)
		return spif_err_set(err, SPIF_EX_DATAERR, "schedule %.64s in the catalog is damaged", name);
	return 0;
}

int spif_schedule_bind(struct spif_catalog *c, const char *name, const char *purpose, struct spif_err *err)
{
	struct spif_schedule s;
	char now[32], old[65] = "";
	if (spif_catalog_need_tx(c, "spif_schedule_bind", err) < 0 || spif_schedule_get(c, name, &s, err) < 0 ||
	    spif_schedule_bound(c, purpose, old, err) < 0)
		return -1;
	spif_now_utc(now);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO schedule_purposes(purpose,schedule,bound,bound_by) VALUES(?,?,?,?)"
	                            " ON CONFLICT(purpose) DO UPDATE SET schedule = excluded.schedule,"
	                            " bound = excluded.bound, bound_by = excluded.bound_by", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "bind schedule", err);
	json_t *d = json_pack("{s:s,s:s}", "schedule", name, "purpose", purpose);
	if (old[0])
		json_object_set_new(d, "replaces", json_string(old));
	rc = spif_audit_append(c, "schedule.bind", name, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_schedule_bound(struct spif_catalog *c, const char *purpose, char name[65], struct spif_err *err)
{
	sqlite3_stmt *st;
	name[0] = '\0';
	if (!c)
		return 0;
	if (spif_catalog_prepare(c, "SELECT schedule FROM schedule_purposes WHERE purpose = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(name, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read schedule binding", err);
	return rc == SQLITE_ROW;
}

int spif_retention_defaults_done(struct spif_catalog *c)
{
	sqlite3_stmt *st;
	int done = 0;
	if (spif_catalog_prepare(c, "SELECT 1 FROM meta WHERE key = 'retention_defaults'", &st, NULL) == 0) {
		done = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	return done;
}

int spif_schedule_lookup(struct spif_catalog *c, const char *name, struct spif_schedule *s)
{
	if (c && spif_retention_defaults_done(c))
		return spif_schedule_get(c, name, s, NULL) == 0;
	if (c && spif_schedule_get(c, name, s, NULL) == 0)
		return 1;
	for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
		if (strcmp(defaults[i].name, name) == 0) {
			*s = defaults[i];
			return 1;
		}
	return 0;
}

static int insert_schedule(struct spif_catalog *c, const struct spif_schedule *s, const char *now,
                           struct spif_err *err)
{
	char period[16], grace[16], cutoff[24], from[96];
	spif_period_format(&s->period, period);
	spif_period_format(&s->grace, grace);
	spif_cutoff_format(&s->cutoff, cutoff);
	spif_from_format(&s->from, from);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO schedules(" SCHEDULE_COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?)",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, s->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, cutoff, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, grace, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, spif_action_name(s->action), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, spif_mode_name(s->mode), -1, SQLITE_STATIC);
	if (s->basis[0])
		sqlite3_bind_text(st, 8, s->basis, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_text(st, 9, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, s->is_default ? "default" : "admin", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return spif_err_set(err, SPIF_EX_DATAERR, "schedule %s already exists (remove it first)", s->name);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "add schedule", err);
	return 0;
}

int spif_retention_defaults(struct spif_catalog *c, int *installed, struct spif_err *err)
{
	if (installed)
		*installed = 0;
	if (spif_catalog_need_tx(c, "spif_retention_defaults", err) < 0)
		return -1;
	if (spif_retention_defaults_done(c))
		return 0;
	char now[32];
	spif_now_utc(now);
	json_t *names = json_array();
	for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) {
		/* a schedule an administrator already made under that name wins */
		struct spif_schedule have;
		if (spif_schedule_get(c, defaults[i].name, &have, NULL) == 0)
			continue;
		if (insert_schedule(c, &defaults[i], now, err) < 0) {
			json_decref(names);
			return -1;
		}
		json_array_append_new(names, json_string(defaults[i].name));
	}
	sqlite3_stmt *st;
	int rc = -1;
	if (spif_catalog_prepare(c, "INSERT INTO meta(key,value) VALUES('retention_defaults',?)", &st, err) == 0) {
		sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
		int s = sqlite3_step(st);
		sqlite3_finalize(st);
		rc = s == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, s, "record defaults", err);
	}
	json_t *d = json_pack("{s:o,s:s}", "schedules", names, "note",
	                      "policy defaults installed on first use; edit or replace them");
	if (rc == 0)
		rc = spif_audit_append(c, "schedule.defaults", "schedules", d, NULL, err);
	json_decref(d);
	if (rc == 0 && installed)
		*installed = 1;
	return rc;
}

int spif_schedule_add(struct spif_catalog *c, const struct spif_schedule *s, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_schedule_add", err) < 0)
		return -1;
	if (!spif_schedule_name_valid(s->name))
		return spif_err_set(err, SPIF_EX_USAGE,
		                    "%.64s: not a schedule name (letters, digits, '-', '_', '.'; at most 64)", s->name);
	char now[32];
	spif_now_utc(now);
	struct spif_schedule t = *s;
	t.is_default = 0;
	if (insert_schedule(c, &t, now, err) < 0)
		return -1;
	json_t *d = spif_schedule_json(&t);
	json_object_del(d, "default");
	int rc = spif_audit_append(c, "schedule.add", s->name, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_schedule_usage(struct spif_catalog *c, const char *name, long long *live, long long *all,
                        struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT COUNT(*), COALESCE(SUM(state != 'disposed'), 0) FROM files"
	                            " WHERE schedule = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*all = sqlite3_column_int64(st, 0);
		*live = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "count files", err);
	return 0;
}

int spif_schedule_rm(struct spif_catalog *c, const char *name, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_schedule_rm", err) < 0)
		return -1;
	struct spif_schedule s;
	long long live, all;
	if (spif_schedule_get(c, name, &s, err) < 0 || spif_schedule_usage(c, name, &live, &all, err) < 0)
		return -1;
	if (live)
		return spif_err_set(err, SPIF_EX_DATAERR,
		                    "schedule %s is used by %lld file%s that %s not disposed; assign %s another "
		                    "schedule first", name, live, live == 1 ? "" : "s", live == 1 ? "is" : "are",
		                    live == 1 ? "it" : "them");
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "DELETE FROM schedules WHERE name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "remove schedule", err);
	json_t *d = spif_schedule_json(&s);
	json_object_set_new(d, "disposed_files_that_used_it", json_integer(all));
	rc = spif_audit_append(c, "schedule.rm", name, d, NULL, err);
	json_decref(d);
	return rc;
}

/* ---- a file's retention --------------------------------------------------- */

static long day_col(sqlite3_stmt *st, int i)
{
	long d;
	if (sqlite3_column_type(st, i) == SQLITE_NULL || spif_day_parse(spif_col_text(st, i), &d) < 0)
		return SPIF_DAY_NONE;
	return d;
}

int spif_retention_load(struct spif_catalog *c, long long file_id, struct spif_retention *r,
                        struct spif_err *err)
{
	memset(r, 0, sizeof *r);
	sqlite3_stmt *st;
	if (spif_catalog_cached(c,
	        "SELECT f.state, f.schedule, f.received, f.created, f.retain_until, f.dispose_on, s.mode,"
	        " f.retain_floor FROM files f LEFT JOIN schedules s ON s.name = f.schedule WHERE f.id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->file_id = file_id;
		snprintf(r->state, sizeof r->state, "%s", spif_col_text(st, 0));
		snprintf(r->schedule, sizeof r->schedule, "%s", spif_col_text(st, 1));
		r->has_schedule = r->schedule[0] != '\0';
		r->received = day_col(st, 2);
		if (spif_day_of_utc(spif_col_text(st, 3), &r->created) < 0)
			r->created = r->received;
		r->retain_until = day_col(st, 4);
		r->dispose_on = day_col(st, 5);
		r->mode = strcmp(spif_col_text(st, 6), "compliance") == 0 ? SPIF_MODE_COMPLIANCE : SPIF_MODE_GOVERNANCE;
		r->floor = day_col(st, 7);
	}
	spif_catalog_release(st);
	if (rc == SQLITE_ROW)
		return 0;
	char fid[24];
	spif_file_id_format(file_id, fid);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no file %s in the catalog", fid);
	return spif_catalog_sqlerr(c, rc, "read file", err);
}

int spif_file_event(struct spif_catalog *c, long long file_id, const char *name, long *day,
                    struct spif_err *err)
{
	*day = SPIF_DAY_NONE;
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT date FROM file_events WHERE file_id = ? AND name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*day = day_col(st, 0);
	spif_catalog_release(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read event", err);
	return 0;
}

/* Unknown dates are "not yet": later than every known one. */
static int before(long a, long b)
{
	if (a == SPIF_DAY_NONE)
		return 0;
	return b == SPIF_DAY_NONE || a < b;
}

static json_t *day_json(long d)
{
	char b[11];
	if (d == SPIF_DAY_NONE)
		return json_null();
	spif_day_format(d, b);
	return json_string(b);
}

static void bind_day(sqlite3_stmt *st, int i, long d)
{
	char b[11];
	if (d == SPIF_DAY_NONE) {
		sqlite3_bind_null(st, i);
		return;
	}
	spif_day_format(d, b);
	sqlite3_bind_text(st, i, b, -1, SQLITE_TRANSIENT);
}

/* May a file go from its present dates (r) to new ones under schedule s?
 * The Object Lock rules: compliance never shortens and never leaves
 * compliance; governance shortens only with a reason.  first_event: the
 * schedule's own event gets its first date, which is how the schedule
 * works, not a change of it; only the compliance floor applies then (a
 * file moved to an event schedule cannot come back earlier through it). */
static int check_change(const struct spif_retention *r, const struct spif_schedule *s, long ru, long dd,
                        const char *reason, int first_event, int *shortened, struct spif_err *err)
{
	char fid[24], a[11], b[11];
	spif_file_id_format(r->file_id, fid);
	*shortened = r->has_schedule && !first_event && (before(ru, r->retain_until) || before(dd, r->dispose_on));
	/* governance: a dated file moved to wait for an event may then be
	 * given any date by the event's first recording, earlier ones too;
	 * that needs its reason now (compliance keeps a floor instead) */
	if (r->has_schedule && r->mode == SPIF_MODE_GOVERNANCE && r->dispose_on != SPIF_DAY_NONE &&
	    dd == SPIF_DAY_NONE)
		*shortened = 1;
	if (r->has_schedule && r->mode == SPIF_MODE_COMPLIANCE && s->mode != SPIF_MODE_COMPLIANCE)
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s is under the compliance schedule %s: it cannot move to the governance "
		                    "schedule %s", fid, r->schedule, s->name);
	/* below the floor, when the present dates do not show it (waiting
	 * for an event, or the event's first date) */
	if (s->mode == SPIF_MODE_COMPLIANCE && r->floor != SPIF_DAY_NONE && before(ru, r->floor) &&
	    !(*shortened && r->mode == SPIF_MODE_COMPLIANCE)) {
		spif_day_format(r->floor, a);
		spif_day_format(ru, b);
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s was kept until %s under a compliance schedule: its retention can only be "
		                    "extended, not shortened (retain until %s -> %s)", fid, a, a, b);
	}
	if (!*shortened)
		return 0;
	if (r->mode == SPIF_MODE_COMPLIANCE) {
		int by_ru = before(ru, r->retain_until);
		spif_day_format(by_ru ? r->retain_until : r->dispose_on, a);
		spif_day_format(by_ru ? ru : dd, b);
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s is under the compliance schedule %s: its retention can only be "
		                    "extended, not shortened (%s %s -> %s)", fid, r->schedule,
		                    by_ru ? _("retain until") : _("due"), strcmp(a, "-") ? a : _("its event"), b);
	}
	spif_day_format(r->dispose_on, a);
	spif_day_format(dd, b);
	if ((!reason || !*reason) && dd == SPIF_DAY_NONE)
		return spif_err_set(err, SPIF_EX_USAGE,
		                    "%s would wait for its event %s instead of being due %s, and the event may "
		                    "bring an earlier date: in governance mode that needs --reason", fid,
		                    s->from.event, a);
	if (!reason || !*reason)
		return spif_err_set(err, SPIF_EX_USAGE,
		                    "%s would be due earlier (%s -> %s): in governance mode that needs --reason",
		                    fid, strcmp(a, "-") ? a : "when its event is recorded", b);
	return 0;
}

/* The vault bucket a disposal date puts a file's data key in. */
static void bucket_of(long dispose_on, char out[16])
{
	int y, m, d;
	if (dispose_on == SPIF_DAY_NONE) {
		snprintf(out, 16, "indefinite");
		return;
	}
	spif_day_to_ymd(dispose_on, &y, &m, &d);
	snprintf(out, 16, "%04d-%02d", y % 10000, m);
}

/* Move the file's data keys (if it has any) to its disposal month's KEK,
 * so that the month's key can be destroyed once its files are gone.  *moved
 * gets what moved (spif_vault_rebucket's description) when anything did. */
static int rebucket(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                    long dispose_on, json_t **moved, struct spif_err *err)
{
	*moved = NULL;
	char bucket[16];
	bucket_of(dispose_on, bucket);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT COUNT(*) FROM data_keys WHERE file_id = ? AND bucket != ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_text(st, 2, bucket, -1, SQLITE_TRANSIENT);
	long long other = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (!other)
		return 0;
	struct spif_conf none = {0};
	return spif_vault_rebucket(c, conf ? conf : &none, file_id, bucket, moved, err);
}

int spif_retention_finish(struct spif_catalog *c, long long file_id, struct spif_err *err)
{
	int removed = spif_vault_sweep(c, file_id, err);
	if (removed <= 0)
		return removed; /* nothing was re-encrypted */
	return spif_dispose_retire_keks(c, NULL, 0, err);
}

/* The dates, and under compliance the floor: the latest retain-until the
 * file has ever had, below which it may never go. */
static int set_dates(struct spif_catalog *c, const struct spif_retention *r, const char *schedule,
                     enum spif_mode mode, long ru, long dd, struct spif_err *err)
{
	long floor = r->floor;
	if (mode == SPIF_MODE_COMPLIANCE && ru != SPIF_DAY_NONE && (floor == SPIF_DAY_NONE || ru > floor))
		floor = ru;
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "UPDATE files SET schedule = ?, retain_until = ?, dispose_on = ?, retain_floor = ?"
	                            " WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, schedule, -1, SQLITE_TRANSIENT);
	bind_day(st, 2, ru);
	bind_day(st, 3, dd);
	bind_day(st, 4, floor);
	sqlite3_bind_int64(st, 5, r->file_id);
	int rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "set retention", err);
	return 0;
}

/* Is a purge disposing of this file, or of a file of this purpose, now? */
static int in_purge(struct spif_catalog *c, long long file_id, const char *purpose, struct spif_err *err)
{
	sqlite3_stmt *st;
	const char *sql = purpose ? "SELECT i.file_id FROM purge_items i JOIN files f ON f.id = i.file_id"
	                            " WHERE i.state = 'started' AND f.purpose = ? LIMIT 1"
	                          : "SELECT file_id FROM purge_items WHERE state = 'started' AND file_id = ? LIMIT 1";
	if (spif_catalog_prepare(c, sql, &st, err) < 0)
		return -1;
	if (purpose)
		sqlite3_bind_text(st, 1, purpose, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, 1, file_id);
	int rc = sqlite3_step(st);
	long long busy = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "purge items", err);
	if (busy) {
		char fid[24];
		spif_file_id_format(busy, fid);
		return spif_err_set(err, SPIF_EX_TEMPFAIL,
		                    "%s is being disposed of by a purge that is running (or was interrupted: "
		                    "spif retain purge finishes it); it cannot be held or changed now", fid);
	}
	return 0;
}

static json_t *old_new(json_t *o, json_t *n)
{
	return json_pack("{s:o,s:o}", "old", o, "new", n);
}

int spif_retention_assign(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                          const char *schedule, const char *reason, int quiet_event,
                          struct spif_retention *out, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_retention_assign", err) < 0)
		return -1;
	struct spif_retention r;
	struct spif_schedule s;
	char fid[24];
	spif_file_id_format(file_id, fid);
	if (spif_retention_load(c, file_id, &r, err) < 0)
		return -1;
	if (strcmp(r.state, "disposed") == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is disposed: its retention is over", fid);
	if (in_purge(c, file_id, NULL, err) < 0)
		return -1;
	if (spif_schedule_get(c, schedule, &s, err) < 0)
		return -1;
	long ev = SPIF_DAY_NONE, ru, dd;
	if (s.from.kind == SPIF_FROM_EVENT && spif_file_event(c, file_id, s.from.event, &ev, err) < 0)
		return -1;
	spif_schedule_dates(&s, spif_schedule_start(&s, r.received, r.created, ev), &ru, &dd);
	int shortened;
	if (check_change(&r, &s, ru, dd, reason, 0, &shortened, err) < 0)
		return -1;
	json_t *moved = NULL;
	if (set_dates(c, &r, s.name, s.mode, ru, dd, err) < 0 || rebucket(c, conf, file_id, dd, &moved, err) < 0)
		return -1;
	int rc = 0;
	if (!quiet_event) {
		json_t *d = json_object();
		json_object_set_new(d, "schedule", old_new(r.has_schedule ? json_string(r.schedule) : json_null(),
		                                           json_string(s.name)));
		json_object_set_new(d, "retain_until", old_new(day_json(r.retain_until), day_json(ru)));
		json_object_set_new(d, "dispose_on", old_new(day_json(r.dispose_on), day_json(dd)));
		json_object_set_new(d, "mode", json_string(spif_mode_name(s.mode)));
		json_object_set_new(d, "shortened", json_boolean(shortened));
		json_object_set_new(d, "reason", reason && *reason ? json_string(reason) : json_null());
		if (moved) {
			json_object_set(d, "key_bucket", json_object_get(moved, "bucket"));
			json_object_set(d, "vault_rekey", moved);
		}
		if (s.from.kind == SPIF_FROM_EVENT && ev == SPIF_DAY_NONE)
			json_object_set_new(d, "waiting_for_event", json_string(s.from.event));
		rc = spif_audit_append(c, "retain.assign", fid, d, NULL, err);
		json_decref(d);
	}
	json_decref(moved);
	if (rc == 0 && out) {
		*out = r;
		snprintf(out->schedule, sizeof out->schedule, "%s", s.name);
		out->has_schedule = 1;
		out->mode = s.mode;
		out->retain_until = ru;
		out->dispose_on = dd;
	}
	return rc;
}

int spif_retention_event(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                         const char *name, long day, const char *reason,
                         struct spif_retention *out, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_retention_event", err) < 0)
		return -1;
	char fid[24], dbuf[11], rbuf[11];
	spif_file_id_format(file_id, fid);
	if (!spif_event_name_valid(name))
		return spif_err_set(err, SPIF_EX_USAGE, "%.64s: not an event name (no spaces, '=', '+' or '/')", name);
	struct spif_retention r;
	if (spif_retention_load(c, file_id, &r, err) < 0)
		return -1;
	if (strcmp(r.state, "disposed") == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is disposed: its retention is over", fid);
	if (in_purge(c, file_id, NULL, err) < 0)
		return -1;
	spif_day_format(day, dbuf);
	spif_day_format(r.received, rbuf);
	if (day < r.received)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: %s=%s is before the file was received (%s)", fid,
		                    name, dbuf, rbuf);
	long old;
	if (spif_file_event(c, file_id, name, &old, err) < 0)
		return -1;
	long ru = r.retain_until, dd = r.dispose_on;
	int shortened = 0, follows = 0;
	struct spif_schedule s;
	if (r.has_schedule && spif_schedule_get(c, r.schedule, &s, NULL) == 0 && s.from.kind == SPIF_FROM_EVENT &&
	    strcmp(s.from.event, name) == 0) {
		follows = 1;
		spif_schedule_dates(&s, spif_schedule_start(&s, r.received, r.created, day), &ru, &dd);
		/* the first date of the event the schedule waits for is how the
		 * schedule works, not a change of it; correcting it is one */
		if (check_change(&r, &s, ru, dd, reason, old == SPIF_DAY_NONE, &shortened, err) < 0)
			return -1;
	}
	sqlite3_stmt *st;
	char now[32];
	spif_now_utc(now);
	if (spif_catalog_prepare(c, "INSERT INTO file_events(file_id,name,date,recorded) VALUES(?1,?2,?3,?4)"
	                            " ON CONFLICT(file_id,name) DO UPDATE SET date=?3, recorded=?4", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, dbuf, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "record event", err);
	json_t *moved = NULL;
	if (follows && (set_dates(c, &r, r.schedule, s.mode, ru, dd, err) < 0 ||
	                rebucket(c, conf, file_id, dd, &moved, err) < 0))
		return -1;
	json_t *d = json_object();
	json_object_set_new(d, "event", json_string(name));
	json_object_set_new(d, "date", old_new(day_json(old), json_string(dbuf)));
	if (follows) {
		json_object_set_new(d, "schedule", json_string(r.schedule));
		json_object_set_new(d, "retain_until", old_new(day_json(r.retain_until), day_json(ru)));
		json_object_set_new(d, "dispose_on", old_new(day_json(r.dispose_on), day_json(dd)));
		json_object_set_new(d, "shortened", json_boolean(shortened));
	}
	json_object_set_new(d, "reason", reason && *reason ? json_string(reason) : json_null());
	if (moved) {
		json_object_set(d, "key_bucket", json_object_get(moved, "bucket"));
		json_object_set(d, "vault_rekey", moved);
	}
	json_decref(moved);
	rc = spif_audit_append(c, "retain.event", fid, d, NULL, err);
	json_decref(d);
	if (rc == 0 && out) {
		*out = r;
		out->retain_until = ru;
		out->dispose_on = dd;
	}
	return rc;
}

/* ---- holds ------------------------------------------------------------- */

long long spif_hold_id_parse(const char *s)
{
	return spif_id_parse(s, 'H');
}

void spif_hold_id_format(long long id, char out[24])
{
	snprintf(out, 24, "H%06lld", id);
}

/* Both kinds of hold, one way: kind is "hold" or "incident". */
static int hold_place(struct spif_catalog *c, long long file_id, const char *purpose, const char *reason,
                      const char *kind, long long *hold_id, struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_hold_place", err) < 0)
		return -1;
	char fid[24] = "", hid[24], now[32];
	if (file_id > 0) {
		struct spif_retention r;
		spif_file_id_format(file_id, fid);
		if (spif_retention_load(c, file_id, &r, err) < 0)
			return -1;
		if (strcmp(r.state, "disposed") == 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s is disposed: there is nothing left to hold", fid);
	}
	if (in_purge(c, file_id, purpose, err) < 0)
		return -1;
	spif_now_utc(now);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO holds(file_id,purpose,reason,placed_by,placed,kind) VALUES(?,?,?,?,?,?)",
	                         &st, err) < 0)
		return -1;
	if (file_id > 0)
		sqlite3_bind_int64(st, 1, file_id);
	else
		sqlite3_bind_null(st, 1);
	if (purpose)
		sqlite3_bind_text(st, 2, purpose, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, kind, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "place hold", err);
	*hold_id = sqlite3_last_insert_rowid(spif_catalog_db(c));
	spif_hold_id_format(*hold_id, hid);
	json_t *d = json_pack("{s:s,s:s}", "hold", hid, "reason", reason);
	if (file_id > 0)
		json_object_set_new(d, "file", json_string(fid));
	else
		json_object_set_new(d, "purpose", json_string(purpose));
	if (strcmp(kind, "hold") != 0)
		json_object_set_new(d, "kind", json_string(kind));
	rc = spif_audit_append(c, "hold.place", file_id > 0 ? fid : hid, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_hold_place(struct spif_catalog *c, long long file_id, const char *purpose,
                    const char *reason, long long *hold_id, struct spif_err *err)
{
	return hold_place(c, file_id, purpose, reason, "hold", hold_id, err);
}

int spif_hold_place_incident(struct spif_catalog *c, long long file_id, const char *reason, long long *hold_id,
                             struct spif_err *err)
{
	if (file_id <= 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "spif_hold_place_incident: no file");
	return hold_place(c, file_id, NULL, reason, "incident", hold_id, err);
}

int spif_hold_kind(struct spif_catalog *c, long long hold_id, int *incident, char *placed_by, size_t n,
                   struct spif_err *err)
{
	sqlite3_stmt *st;
	char hid[24];
	spif_hold_id_format(hold_id, hid);
	*incident = 0;
	if (n)
		placed_by[0] = '\0';
	if (spif_catalog_prepare(c, "SELECT kind, placed_by FROM holds WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, hold_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*incident = strcmp(spif_col_text(st, 0), "incident") == 0;
		if (n)
			snprintf(placed_by, n, "%s", spif_col_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no hold %s", hid);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "read hold", err);
	return 0;
}

int spif_hold_release(struct spif_catalog *c, long long hold_id, const char *reason,
                      struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_hold_release", err) < 0)
		return -1;
	char hid[24], now[32], fid[24] = "";
	spif_hold_id_format(hold_id, hid);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT COALESCE(file_id, 0), purpose, released, placed, placed_by, reason"
	                            " FROM holds WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, hold_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return spif_err_set(err, SPIF_EX_DATAERR, "no hold %s", hid);
		return spif_catalog_sqlerr(c, rc, "read hold", err);
	}
	long long file_id = sqlite3_column_int64(st, 0);
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s}", "hold", hid, "reason", reason, "placed", spif_col_text(st, 3),
	                      "placed_by", spif_col_text(st, 4), "placed_for", spif_col_text(st, 5));
	if (file_id) {
		spif_file_id_format(file_id, fid);
		json_object_set_new(d, "file", json_string(fid));
	} else
		json_object_set_new(d, "purpose", json_string(spif_col_text(st, 1)));
	int released = sqlite3_column_type(st, 2) != SQLITE_NULL;
	char when[32];
	snprintf(when, sizeof when, "%s", spif_col_text(st, 2));
	sqlite3_finalize(st);
	if (released) {
		json_decref(d);
		return spif_err_set(err, SPIF_EX_DATAERR, "hold %s was already released (%s)", hid, when);
	}
	spif_now_utc(now);
	rc = spif_catalog_prepare(c, "UPDATE holds SET released = ?, released_by = ?, release_reason = ? WHERE id = ?",
	                          &st, err);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, hold_id);
		int s = sqlite3_step(st);
		sqlite3_finalize(st);
		rc = s == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, s, "release hold", err);
	}
	if (rc == 0)
		rc = spif_audit_append(c, "hold.release", file_id ? fid : hid, d, NULL, err);
	json_decref(d);
	return rc;
}

long long spif_file_held(struct spif_catalog *c, long long file_id, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c,
	        "SELECT MIN(id) FROM (SELECT h.id FROM holds h WHERE h.file_id = ?1 AND h.released IS NULL"
	        " UNION ALL SELECT h.id FROM holds h JOIN files f ON f.id = ?1"
	        " WHERE h.purpose = f.purpose AND h.released IS NULL)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int rc = sqlite3_step(st);
	long long id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	spif_catalog_release(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "read holds", err);
	return id;
}

/* ---- due --------------------------------------------------------------- */

/* Schedules in the outer loop (there are few), then per schedule an index
 * range over files_due (state, schedule, dispose_on): only the files that
 * are due are visited, however many the catalog holds.  A file redacted
 * under a redact schedule is done (its state is not even looked up: years
 * of them are never visited); one redacted otherwise still goes. */
#define DUE_SELECT \
	"SELECT f.id, f.schedule, s.action, f.retain_until, f.dispose_on, f.state, f.label, f.purpose" \
	" FROM schedules s CROSS JOIN files f" \
	" WHERE f.state IN ('active', CASE WHEN s.action = 'shred' THEN 'redacted' END)" \
	" AND f.schedule = s.name AND f.dispose_on <= ?1" \
	" AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.file_id = f.id AND h.released IS NULL)" \
	" AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.purpose = f.purpose AND h.released IS NULL)"

static void due_from_row(sqlite3_stmt *st, struct spif_due *d)
{
	memset(d, 0, sizeof *d);
	d->file_id = sqlite3_column_int64(st, 0);
	snprintf(d->schedule, sizeof d->schedule, "%s", spif_col_text(st, 1));
	d->action = strcmp(spif_col_text(st, 2), "redact") == 0 ? SPIF_ACTION_REDACT : SPIF_ACTION_SHRED;
	d->retain_until = day_col(st, 3);
	d->dispose_on = day_col(st, 4);
	snprintf(d->state, sizeof d->state, "%s", spif_col_text(st, 5));
	d->label = spif_col_text(st, 6);
	d->purpose = spif_col_text(st, 7);
}

int spif_retention_due(struct spif_catalog *c, long day,
                       int (*fn)(void *ctx, const struct spif_due *d), void *ctx,
                       struct spif_err *err)
{
	sqlite3_stmt *st;
	char b[11];
	if (spif_catalog_prepare(c, DUE_SELECT " ORDER BY f.dispose_on, f.id", &st, err) < 0)
		return -1;
	spif_day_format(day, b);
	sqlite3_bind_text(st, 1, b, -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_due d;
		due_from_row(st, &d);
		if (fn(ctx, &d))
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list what is due", err);
	return 0;
}

int spif_retention_check(struct spif_catalog *c, long long file_id, long day, struct spif_due *d,
                         char why[256], struct spif_err *err)
{
	struct spif_retention r;
	char b[11];
	why[0] = '\0';
	if (spif_retention_load(c, file_id, &r, err) < 0)
		return -1;
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, DUE_SELECT " AND f.id = ?2", &st, err) < 0)
		return -1;
	spif_day_format(day, b);
	sqlite3_bind_text(st, 1, b, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, file_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		due_from_row(st, d);
		d->label = d->purpose = NULL; /* the row goes with the statement */
	}
	spif_catalog_release(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "check what is due", err);
	/* say why not, most decisive first */
	long long hold = spif_file_held(c, file_id, err);
	if (hold < 0)
		return -1;
	char hid[24];
	spif_hold_id_format(hold, hid);
	if (strcmp(r.state, "disposed") == 0)
		snprintf(why, 256, "already disposed");
	else if (!r.has_schedule)
		snprintf(why, 256, "it has no retention schedule");
	else if (hold)
		snprintf(why, 256, "held (%s)", hid);
	else if (r.dispose_on == SPIF_DAY_NONE)
		snprintf(why, 256, "its disposal date is not known yet (its schedule waits for an event)");
	else if (r.dispose_on > day) {
		spif_day_format(r.dispose_on, b);
		snprintf(why, 256, "not due until %s", b);
	} else if (strcmp(r.state, "redacted") == 0)
		snprintf(why, 256, "already redacted, as its schedule says");
	else
		snprintf(why, 256, "its schedule %s is missing", r.schedule);
	return 0;
}

/* ---- disposal outside a purge ------------------------------------------ */

int spif_retention_may_dispose(struct spif_catalog *c, long long file_id, int whole, int bypass,
                               int *early, struct spif_err *err)
{
	struct spif_retention r;
	char fid[24], hid[24], b[11];
	*early = 0;
	spif_file_id_format(file_id, fid);
	if (spif_retention_load(c, file_id, &r, err) < 0)
		return -1;
	if (strcmp(r.state, "disposed") == 0)
		return 0;
	long long hold = spif_file_held(c, file_id, err);
	if (hold < 0)
		return -1;
	if (hold) {
		spif_hold_id_format(hold, hid);
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s is held (%s): no copy of it is destroyed until every hold is released "
		                    "(spif retain release)", fid, hid);
	}
	if (!whole)
		return 0;
	long today = spif_day_today();
	/* a compliance floor outlives a move to another schedule */
	if (r.floor != SPIF_DAY_NONE && today <= r.floor) {
		spif_day_format(r.floor, b);
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s must be kept until %s under compliance: it cannot be disposed of before "
		                    "then, and compliance cannot be bypassed", fid, b);
	}
	if (!r.has_schedule || !before(today, r.dispose_on))
		return 0;
	if (r.dispose_on == SPIF_DAY_NONE)
		snprintf(b, sizeof b, "%s", _("its event"));
	else
		spif_day_format(r.dispose_on, b);
	if (r.mode == SPIF_MODE_COMPLIANCE)
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s is kept under compliance schedule %s: not due until %s, and compliance "
		                    "cannot be bypassed", fid, r.schedule, b);
	if (!bypass)
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s is kept under schedule %s: not due until %s (--bypass-governance "
		                    "--reason TEXT disposes of it earlier, and records why)", fid, r.schedule, b);
	*early = 1;
	return 0;
}

int spif_retention_bypassed(struct spif_catalog *c, long long file_id, const char *command,
                            const char *reason, struct spif_err *err)
{
	struct spif_retention r;
	char fid[24];
	spif_file_id_format(file_id, fid);
	if (spif_catalog_begin(c, err) < 0)
		return -1;
	if (spif_retention_load(c, file_id, &r, err) < 0) {
		spif_catalog_rollback(c);
		return -1;
	}
	json_t *d = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s}", "command", command, "schedule", r.schedule,
	                      "retain_until", day_json(r.retain_until), "dispose_on", day_json(r.dispose_on),
	                      "mode", spif_mode_name(r.mode), "reason", reason ? reason : "");
	int rc = spif_audit_append(c, "retain.bypass", fid, d, NULL, err);
	json_decref(d);
	if (rc < 0 || spif_catalog_commit(c, err) < 0) {
		spif_catalog_rollback(c);
		return -1;
	}
	return 0;
}
