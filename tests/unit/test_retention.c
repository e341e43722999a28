/* test_retention.c - retention date math against the Civil Code's rules
 * and an independent reference, then property tests over a real catalog:
 * random schedules, files, events, holds, assignments and clock dates,
 * checking that nothing held, nothing before its disposal date and no
 * compliance shortening ever gets through.
 *
 * Usage: test_retention [OPS]   (default 12000 random operations; make
 * bench runs a longer one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog_priv.h"
#include "audit.h"
#include "digest.h"
#include "purge.h"
#include "retention.h"
#include "tap.h"

static long D(const char *s)
{
	long d;
	if (spif_day_parse(s, &d) < 0) {
		printf("# bad date in test: %s\n", s);
		return SPIF_DAY_NONE;
	}
	return d;
}

static const char *S(long d)
{
	static char buf[8][11];
	static int k;
	k = (k + 1) % 8;
	spif_day_format(d, buf[k]);
	return buf[k];
}

static struct spif_period P(const char *s)
{
	struct spif_period p = {0, 'd'};
	spif_period_parse(s, 1, &p, NULL);
	return p;
}

/* ---- an independent reference: libc's timegm/gmtime ------------------- */

static time_t ref_t(int y, int m, int d)
{
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	return timegm(&tm);
}

static long ref_day(int y, int m, int d)
{
	return (long)((ref_t(y, m, d) - ref_t(1970, 1, 1)) / 86400);
}

static void ref_ymd(long day, int *y, int *m, int *d)
{
	time_t t = ref_t(1970, 1, 1) + (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

/* Art. 143 the slow way: walk to the last month one month at a time; the
 * corresponding day exists when gmtime gives the same day back. */
static long ref_last_day(long start, struct spif_period p)
{
	if (p.unit == 'd')
		return start + p.n - 1;
	int y, m, d;
	ref_ymd(start, &y, &m, &d);
	int months = p.unit == 'y' ? 12 * p.n : p.n;
	for (int i = 0; i < months; i++)
		if (++m == 13) {
			m = 1;
			y++;
		}
	struct tm tm = {0};
	time_t t = ref_t(y, m, d);
	gmtime_r(&t, &tm);
	if (tm.tm_mday == d)
		return ref_day(y, m, d) - 1;
	/* no such day: the month's last day is the day before the 1st of the next */
	int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
	return ref_day(ny, nm, 1) - 1;
}

static void test_days(void)
{
	int y, m, d, bad = 0;
	for (long day = D("1900-01-01"); day <= D("2200-12-31"); day += 1) {
		spif_day_to_ymd(day, &y, &m, &d);
		int ry, rm, rd;
		ref_ymd(day, &ry, &rm, &rd);
		if (y != ry || m != rm || d != rd || spif_day_from_ymd(y, m, d) != day)
			bad++;
	}
	is_int(bad, 0, "day numbers agree with gmtime from 1900 to 2200 and round-trip");
	is_int(D("1970-01-01"), 0, "1970-01-01 is day 0");
	is_str(S(D("2024-02-29")), "2024-02-29", "a leap day formats back");
	long x;
	ok(spif_day_parse("2025-02-29", &x) < 0, "2025-02-29 is not a date");
	ok(spif_day_parse("2100-02-29", &x) < 0, "2100-02-29 is not a date (century)");
	ok(spif_day_parse("2000-02-29", &x) == 0, "2000-02-29 is a date (400 years)");
	ok(spif_day_parse("2026-6-15", &x) < 0, "2026-6-15 is refused (strict format)");
	ok(spif_day_parse("2026-06-15x", &x) < 0, "trailing garbage is refused");
	ok(spif_day_parse("1899-12-31", &x) < 0, "before 1900 is refused");
}

static void test_periods(void)
{
	struct spif_period p;
	struct spif_err e = {0};
	ok(spif_period_parse("7y", 0, &p, &e) == 0 && p.n == 7 && p.unit == 'y', "7y parses");
	ok(spif_period_parse("18m", 0, &p, &e) == 0 && p.n == 18 && p.unit == 'm', "18m parses");
	ok(spif_period_parse("30d", 0, &p, &e) == 0 && p.n == 30 && p.unit == 'd', "30d parses");
	static const char *badp[] = {"", "7", "y", "7x", "7Y", "-1y", "7y1", " 7y", "7 y", "0y", "201y", "1.5y"};
	for (size_t i = 0; i < sizeof badp / sizeof *badp; i++) {
		e.code = 0;
		ok(spif_period_parse(badp[i], 0, &p, &e) < 0 && e.code == SPIF_EX_USAGE, "period \"%s\" is refused (64)",
		   badp[i]);
	}
	ok(spif_period_parse("0d", 1, &p, &e) == 0 && p.n == 0, "a grace of 0d is allowed");
	char b[16];
	p = P("18m");
	spif_period_format(&p, b);
	is_str(b, "18m", "18m formats back");

	/* Civil Code art. 143: the day before the corresponding day; the month's
	 * last day when the last month has none */
	struct { const char *start, *period, *last, *why; } v[] = {
		{"2027-04-01", "7y", "2034-03-31", "a fiscal year start + 7y ends on 31 March"},
		{"2024-02-29", "1y", "2025-02-28", "29 Feb + 1y: no 29 Feb in 2025, so its month's last day"},
		{"2024-02-29", "4y", "2028-02-28", "29 Feb + 4y: 2028-02-29 exists, so the day before"},
		{"2024-02-28", "1y", "2025-02-27", "28 Feb + 1y: the day before 2025-02-28"},
		{"2024-03-01", "1y", "2025-02-28", "1 Mar + 1y: the day before 2025-03-01"},
		{"2023-03-01", "1y", "2024-02-29", "1 Mar + 1y across a leap February"},
		{"2026-03-31", "1m", "2026-04-30", "31 Mar + 1m: April has no 31st, so 30 April"},
		{"2026-03-30", "1m", "2026-04-29", "30 Mar + 1m: the day before 30 April"},
		{"2026-01-31", "1m", "2026-02-28", "31 Jan + 1m: February's last day"},
		{"2024-01-31", "1m", "2024-02-29", "31 Jan + 1m in a leap year"},
		{"2024-01-29", "1m", "2024-02-28", "29 Jan + 1m in a leap year: the day before 29 Feb"},
		{"2025-01-29", "1m", "2025-02-28", "29 Jan + 1m in a common year: February's last day"},
		{"2026-08-31", "18m", "2028-02-29", "31 Aug + 18m: February 2028's last day"},
		{"2026-12-15", "1m", "2027-01-14", "a month across the year end"},
		{"2026-01-11", "7y", "2033-01-10", "扶養控除等申告書: from 11 January, 7 years end on 10 January"},
		{"2026-06-15", "30d", "2026-07-14", "30 days count the first day"},
		{"2026-06-15", "1d", "2026-06-15", "one day is the start day"},
		{"2026-02-01", "1m", "2026-02-28", "from the first of a month: the month's end (art. 143(1))"},
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		struct spif_period pv = P(v[i].period);
		is_str(S(spif_period_last_day(D(v[i].start), &pv)), v[i].last, "%s + %s -> %s: %s", v[i].start,
		       v[i].period, v[i].last, v[i].why);
	}

	/* every start day over eight years, every period shape, against the
	 * reference; and the properties the rule implies */
	int bad = 0, badmono = 0, badlen = 0;
	static const char *ps[] = {"1y", "2y", "3y", "5y", "7y", "10y", "1m", "2m", "6m", "11m", "13m", "18m",
	                           "1d", "30d", "365d", "366d"};
	for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
		struct spif_period pp = P(ps[k]);
		long prev = SPIF_DAY_NONE;
		for (long day = D("2020-01-01"); day <= D("2028-12-31"); day++) {
			long last = spif_period_last_day(day, &pp);
			if (last != ref_last_day(day, pp))
				bad++;
			if (prev != SPIF_DAY_NONE && last < prev)
				badmono++; /* a later start never ends earlier */
			if (last < day)
				badlen++;
			prev = last;
		}
	}
	is_int(bad, 0, "art. 143 agrees with the month-walking reference for every day 2020-2028");
	is_int(badmono, 0, "a later start never ends earlier");
	is_int(badlen, 0, "a period never ends before it starts");
}

static void test_cutoffs(void)
{
	struct spif_cutoff c;
	struct spif_err e = {0};
	ok(spif_cutoff_parse("fiscal-year", &c, &e) == 0, "fiscal-year parses");
	is_str(S(spif_cutoff_apply(&c, D("2026-06-15"))), "2027-04-01", "FY2026 (June) counts from 2027-04-01");
	is_str(S(spif_cutoff_apply(&c, D("2027-02-10"))), "2027-04-01", "FY2026 (February) counts from 2027-04-01");
	is_str(S(spif_cutoff_apply(&c, D("2026-04-01"))), "2027-04-01", "1 April itself belongs to its own FY");
	is_str(S(spif_cutoff_apply(&c, D("2026-03-31"))), "2026-04-01", "31 March is the last day of FY2025");
	ok(spif_cutoff_parse("calendar-year", &c, &e) == 0, "calendar-year parses");
	is_str(S(spif_cutoff_apply(&c, D("2026-12-31"))), "2027-01-01", "calendar-year: the next 1 January");
	ok(spif_cutoff_parse("next-year:01-11", &c, &e) == 0, "next-year:01-11 parses");
	is_str(S(spif_cutoff_apply(&c, D("2026-01-05"))), "2027-01-11", "next-year:01-11 from early January");
	char b[24];
	spif_cutoff_format(&c, b);
	is_str(b, "next-year:01-11", "next-year:01-11 formats back");
	static const char *badc[] = {"", "fiscal", "next-year:02-29", "next-year:13-01", "next-year:1-11",
	                             "next-year:01-32", "next-year:0111"};
	for (size_t i = 0; i < sizeof badc / sizeof *badc; i++)
		ok(spif_cutoff_parse(badc[i], &c, &e) < 0 && e.code == SPIF_EX_USAGE, "cutoff \"%s\" is refused", badc[i]);

	struct spif_from f;
	ok(spif_from_parse("event:法定納期限+1d", &f, &e) == 0 && f.kind == SPIF_FROM_EVENT &&
	   strcmp(f.event, "法定納期限") == 0 && f.offset_days == 1, "event:法定納期限+1d parses");
	char fb[96];
	spif_from_format(&f, fb);
	is_str(fb, "event:法定納期限+1d", "and formats back");
	static const char *badf[] = {"", "event:", "event:a b", "event:a=b", "recieved", "received+1", "received+1y",
	                             "event:x+400d"};
	for (size_t i = 0; i < sizeof badf / sizeof *badf; i++)
		ok(spif_from_parse(badf[i], &f, &e) < 0, "start \"%s\" is refused", badf[i]);
}

static void test_schedules(void)
{
	struct spif_schedule s = {0};
	struct spif_err e = {0};
	long ru, dd;
	s.period = P("7y");
	s.grace = P("0d");
	spif_cutoff_parse("fiscal-year", &s.cutoff, &e);
	spif_schedule_dates(&s, D("2026-06-15"), &ru, &dd);
	is_str(S(ru), "2034-03-31", "the issue's example: received 2026-06-15, 7y, fiscal-year -> 2034-03-31");
	is_str(S(dd), "2034-04-01", "due the day after");
	s.grace = P("3m");
	spif_schedule_dates(&s, D("2026-06-15"), &ru, &dd);
	is_str(S(dd), "2034-07-01", "a 3-month grace runs from 2034-04-01 to 2034-06-30; due 2034-07-01");
	s.grace = P("30d");
	spif_schedule_dates(&s, D("2026-06-15"), &ru, &dd);
	is_str(S(dd), "2034-05-01", "a 30-day grace: due 2034-05-01");
	spif_schedule_dates(&s, SPIF_DAY_NONE, &ru, &dd);
	ok(ru == SPIF_DAY_NONE && dd == SPIF_DAY_NONE, "an unknown event gives no dates (never due)");

	/* the defaults say what they say */
	size_t n;
	const struct spif_schedule *def = spif_schedule_defaults(&n);
	ok(n >= 5, "there are default schedules");
	for (size_t i = 0; i < n; i++)
		ok(spif_schedule_name_valid(def[i].name) && def[i].basis[0], "default %s has a valid name and a basis",
		   def[i].name);
	const struct spif_schedule *fy = NULL, *kz = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(def[i].name, "fuyo-koujo-7y") == 0)
			fy = &def[i];
		if (strcmp(def[i].name, "kazei-shiryo-7y") == 0)
			kz = &def[i];
	}
	ok(fy != NULL, "扶養控除等申告書 default exists");
	if (fy) {
		spif_schedule_dates(fy, spif_schedule_start(fy, D("2025-12-01"), D("2025-12-01"), D("2026-01-09")), &ru, &dd);
		is_str(S(ru), "2034-01-10", "扶養控除等申告書 due 2026-01-09: kept until 2034-01-10 (7y from 2027-01-11)");
	}
	if (kz) {
		spif_schedule_dates(kz, spif_schedule_start(kz, D("2026-06-15"), D("2026-06-15"), SPIF_DAY_NONE), &ru, &dd);
		is_str(S(ru), "2034-03-31", "kazei-shiryo-7y: received 2026-06-15 -> 2034-03-31");
	}
	ok(spif_schedule_name_valid("kyuyo-7y") && !spif_schedule_name_valid("-x") && !spif_schedule_name_valid("a b") &&
	   !spif_schedule_name_valid(""), "schedule names");
}

/* ---- property tests over a real catalog ---------------------------------- */

#define NSCHED 24
#define NFILES 160
#define NPURPOSE 4
#define NEV 2

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static int pick(int n)
{
	return (int)(rnd() % (unsigned long long)n);
}

static const char *const purposes[NPURPOSE] = {"個人住民税の賦課", "年末調整", "徴収", "源泉徴収"};
static const char *const events[NEV] = {"法定納期限", "退職日"};

struct mfile {
	long long id;
	long received;
	int purpose;
	int sched;       /* -1 none */
	long ev[NEV];
	long ru, dd;     /* what the model says the catalog holds */
	long floor;      /* the latest retain-until under compliance */
	int disposed, redacted;
	int compliance_seen;
	long max_ru;     /* the latest retain-until while under compliance */
};

struct model {
	struct spif_schedule s[NSCHED];
	struct mfile f[NFILES];
	long long holds[4096];
	long long hold_file[4096]; /* file index, -1 for a purpose, -2 for a file gone */
	int hold_purpose[4096];
	int nholds;
	int active[4096];
};

static int held(const struct model *m, int fi)
{
	for (int h = 0; h < m->nholds; h++)
		if (m->active[h] && (m->hold_file[h] == fi || (m->hold_file[h] < 0 && m->hold_purpose[h] == m->f[fi].purpose)))
			return 1;
	return 0;
}

/* the model's dates for file fi under schedule si, by the reference */
static void model_dates(const struct model *m, int fi, int si, long *ru, long *dd)
{
	const struct spif_schedule *s = &m->s[si];
	const struct mfile *f = &m->f[fi];
	long base = s->from.kind == SPIF_FROM_EVENT ? f->ev[strcmp(s->from.event, events[0]) == 0 ? 0 : 1] : f->received;
	if (base == SPIF_DAY_NONE) {
		*ru = *dd = SPIF_DAY_NONE;
		return;
	}
	base += s->from.offset_days;
	int y, mo, d;
	ref_ymd(base, &y, &mo, &d);
	if (s->cutoff.kind == SPIF_CUTOFF_FISCAL_YEAR)
		base = ref_day(mo >= 4 ? y + 1 : y, 4, 1);
	else if (s->cutoff.kind == SPIF_CUTOFF_NEXT_YEAR)
		base = ref_day(y + 1, s->cutoff.month, s->cutoff.day);
	*ru = ref_last_day(base, s->period);
	*dd = (s->grace.n ? ref_last_day(*ru + 1, s->grace) : *ru) + 1;
}

static int later(long a, long b) /* a < b with "none" as the latest */
{
	if (a == SPIF_DAY_NONE)
		return 0;
	return b == SPIF_DAY_NONE || a < b;
}

struct due_ctx {
	struct model *m;
	long today;
	long long ids[NFILES + 1];
	int n;
};

/* A new file in slot f (a disposed one is replaced, so the run keeps
 * having files to dispose of). */
static int new_file(struct spif_catalog *c, struct mfile *f, long received)
{
	struct spif_err e = {0};
	memset(f, 0, sizeof *f);
	f->received = received;
	f->purpose = pick(NPURPOSE);
	f->sched = -1;
	f->ev[0] = f->ev[1] = SPIF_DAY_NONE;
	f->ru = f->dd = f->floor = SPIF_DAY_NONE;
	char rec[11];
	spif_day_format(f->received, rec);
	struct spif_file sf = {.label = "t.csv", .purpose = (char *)purposes[f->purpose], .received = rec,
	                       .format = "csv", .encoding = "utf-8", .sha256 = "00", .created = "2015-01-01T00:00:00.000Z"};
	if (spif_catalog_add_file(c, &sf, &e) < 0)
		return -1;
	f->id = sf.id;
	return 0;
}

static int collect(void *ctx, const struct spif_due *d)
{
	struct due_ctx *x = ctx;
	if (x->n < NFILES)
		x->ids[x->n++] = d->file_id;
	return 0;
}

/* The date math alone, over many random schedules and start dates,
 * against the reference (cutoffs and grace included). */
static void random_schedule_dates(long n)
{
	long bad = 0, badorder = 0;
	for (long i = 0; i < n; i++) {
		struct spif_schedule s = {0};
		static const char units[] = "ymd";
		s.period.unit = units[pick(3)];
		s.period.n = 1 + pick(s.period.unit == 'y' ? 30 : s.period.unit == 'm' ? 120 : 4000);
		s.grace.unit = units[pick(3)];
		s.grace.n = pick(2) ? 0 : pick(s.grace.unit == 'd' ? 400 : 13);
		int ck = pick(3);
		s.cutoff.kind = ck == 0 ? SPIF_CUTOFF_NONE : ck == 1 ? SPIF_CUTOFF_FISCAL_YEAR : SPIF_CUTOFF_NEXT_YEAR;
		s.cutoff.month = ck == 2 ? 1 + pick(12) : ck == 1 ? 4 : 1;
		s.cutoff.day = ck == 2 ? 1 + pick(spif_days_in_month(2001, s.cutoff.month)) : 1;
		s.from.offset_days = pick(3) ? 0 : pick(367);
		long base = ref_day(1950 + pick(120), 1 + pick(12), 1 + pick(28)) + pick(4);
		long ru, dd;
		spif_schedule_dates(&s, spif_schedule_start(&s, base, base, SPIF_DAY_NONE), &ru, &dd);
		/* the reference, step by step */
		long start = base + s.from.offset_days;
		int y, mo, d;
		ref_ymd(start, &y, &mo, &d);
		if (ck == 1)
			start = ref_day(mo >= 4 ? y + 1 : y, 4, 1);
		else if (ck == 2)
			start = ref_day(y + 1, s.cutoff.month, s.cutoff.day);
		long rru = ref_last_day(start, s.period);
		long rdd = (s.grace.n ? ref_last_day(rru + 1, s.grace) : rru) + 1;
		if (ru != rru || dd != rdd) {
			if (bad++ < 5)
				printf("# %s: %d%c cutoff %d grace %d%c -> %s/%s, reference %s/%s\n", S(base), s.period.n,
				       s.period.unit, ck, s.grace.n, s.grace.unit, S(ru), S(dd), S(rru), S(rdd));
		}
		if (!(dd > ru && ru >= base - 1))
			badorder++;
	}
	is_int(bad, 0, "%ld random schedules and start dates: retain-until and due agree with the reference", n);
	is_int(badorder, 0, "due is always after retain-until, which never precedes the start");
}

static void property_tests(long ops)
{
	const char *tmp = getenv("TMPDIR");
	char tdir[4096];
	snprintf(tdir, sizeof tdir, "%s/spif-retention-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char *home = mkdtemp(tdir);
	if (!home) {
		ok(0, "make a temporary home");
		return;
	}
	struct spif_err e = {0};
	struct spif_conf conf = {0};
	struct spif_actor a;
	char *argv[] = {"test_retention", NULL};
	struct spif_catalog *c = NULL;
	if (spif_actor_init(&a, 1, argv, &e) < 0 || spif_catalog_open(home, &conf, SPIF_CAT_CREATE, &a, &c, &e) < 0) {
		ok(0, "open a catalog: %s", e.msg);
		return;
	}
	spif_catalog_exec(c, "PRAGMA synchronous=OFF", &e); /* a test: speed over durability */
	static struct model m;
	memset(&m, 0, sizeof m);

	/* random schedules */
	spif_catalog_begin(c, &e);
	int nbad = 0;
	for (int i = 0; i < NSCHED; i++) {
		struct spif_schedule *s = &m.s[i];
		snprintf(s->name, sizeof s->name, "s%02d", i);
		static const char units[] = "ymd";
		s->period.unit = units[pick(3)];
		s->period.n = 1 + pick(s->period.unit == 'y' ? 10 : s->period.unit == 'm' ? 40 : 800);
		s->grace.unit = units[pick(3)];
		s->grace.n = pick(3) ? 0 : pick(s->grace.unit == 'd' ? 90 : 3);
		int fk = pick(3);
		s->from.kind = fk == 0 ? SPIF_FROM_RECEIVED : SPIF_FROM_EVENT;
		if (fk)
			snprintf(s->from.event, sizeof s->from.event, "%s", events[fk - 1]);
		s->from.offset_days = pick(2);
		int ck = pick(3);
		s->cutoff.kind = ck == 0 ? SPIF_CUTOFF_NONE : ck == 1 ? SPIF_CUTOFF_FISCAL_YEAR : SPIF_CUTOFF_NEXT_YEAR;
		s->cutoff.month = ck == 1 ? 4 : 1;
		s->cutoff.day = ck == 2 ? 1 + pick(28) : 1;
		s->action = pick(4) ? SPIF_ACTION_SHRED : SPIF_ACTION_REDACT;
		s->mode = pick(3) ? SPIF_MODE_GOVERNANCE : SPIF_MODE_COMPLIANCE;
		if (spif_schedule_add(c, s, &e) < 0)
			nbad++;
	}
	/* random files */
	for (int i = 0; i < NFILES; i++)
		nbad += new_file(c, &m.f[i], ref_day(2015 + pick(10), 1 + pick(12), 1 + pick(28))) < 0;
	spif_catalog_commit(c, &e);
	is_int(nbad, 0, "%d random schedules and %d files made", NSCHED, NFILES);

	long today = ref_day(2016, 1, 1);
	long nsched = 0, nevents = 0, nholds = 0, nreleases = 0, nclock = 0, ndisposed = 0;
	long v_held = 0, v_early = 0, v_shorten = 0, v_model = 0, v_missing = 0, v_accept = 0, nchanges = 0;
	for (long op = 0; op < ops; op++) {
		int kind = pick(100);
		int fi = pick(NFILES);
		struct mfile *f = &m.f[fi];
		spif_catalog_begin(c, &e);
		if (kind < 25) { /* assign */
			int si = pick(NSCHED);
			const char *reason = pick(2) ? "見直し" : NULL;
			long ru, dd;
			model_dates(&m, fi, si, &ru, &dd);
			int comp = f->sched >= 0 && m.s[f->sched].mode == SPIF_MODE_COMPLIANCE;
			/* a dated governance file moved to wait for an event counts as
			 * shortened: the event may bring any date */
			int shorter = f->sched >= 0 && (later(ru, f->ru) || later(dd, f->dd) ||
			                                (!comp && f->dd != SPIF_DAY_NONE && dd == SPIF_DAY_NONE));
			int below_floor = m.s[si].mode == SPIF_MODE_COMPLIANCE && f->floor != SPIF_DAY_NONE && later(ru, f->floor);
			int expect_ok = !f->disposed && !(comp && (m.s[si].mode != SPIF_MODE_COMPLIANCE || shorter)) &&
			                !(shorter && !comp && !reason) && !below_floor;
			e.code = 0;
			int rc = spif_retention_assign(c, &conf, f->id, m.s[si].name, reason, 0, NULL, &e);
			if ((rc == 0) != expect_ok) {
				v_accept++;
				printf("# assign F%lld to %s: lib %s (%s), model %s\n", f->id, m.s[si].name, rc ? "refused" : "took",
				       e.msg, expect_ok ? "takes" : "refuses");
			}
			if (rc == 0) {
				nchanges++;
				f->sched = si;
				f->ru = ru;
				f->dd = dd;
				if (m.s[si].mode == SPIF_MODE_COMPLIANCE && ru != SPIF_DAY_NONE && (f->floor == SPIF_DAY_NONE || ru > f->floor))
					f->floor = ru;
			}
			nsched++;
		} else if (kind < 45) { /* event, sometimes before received */
			int k = pick(NEV);
			long day = f->received + pick(3000) - 200;
			const char *reason = pick(2) ? "訂正" : NULL;
			long ru = f->ru, dd = f->dd;
			int follows = f->sched >= 0 && m.s[f->sched].from.kind == SPIF_FROM_EVENT &&
			              strcmp(m.s[f->sched].from.event, events[k]) == 0;
			long save = f->ev[k];
			f->ev[k] = day;
			if (follows)
				model_dates(&m, fi, f->sched, &ru, &dd);
			f->ev[k] = save;
			int shorter = follows && save != SPIF_DAY_NONE && (later(ru, f->ru) || later(dd, f->dd));
			int comp = f->sched >= 0 && m.s[f->sched].mode == SPIF_MODE_COMPLIANCE;
			int below_floor = comp && f->floor != SPIF_DAY_NONE && later(ru, f->floor);
			int expect_ok = !f->disposed && day >= f->received && !(shorter && (comp || !reason)) && !below_floor;
			e.code = 0;
			int rc = spif_retention_event(c, &conf, f->id, events[k], day, reason, NULL, &e);
			if ((rc == 0) != expect_ok) {
				v_accept++;
				printf("# event F%lld %s=%s: lib %s (%s), model %s\n", f->id, events[k], S(day),
				       rc ? "refused" : "took", e.msg, expect_ok ? "takes" : "refuses");
			}
			if (rc == 0) {
				nchanges++;
				f->ev[k] = day;
				f->ru = ru;
				f->dd = dd;
				if (comp && follows && ru != SPIF_DAY_NONE && (f->floor == SPIF_DAY_NONE || ru > f->floor))
					f->floor = ru;
			}
			nevents++;
		} else if (kind < 55) { /* hold a file or a purpose */
			if (m.nholds == 4096) { /* full: forget the released ones */
				int k2 = 0;
				for (int h = 0; h < m.nholds; h++)
					if (m.active[h]) {
						m.holds[k2] = m.holds[h];
						m.hold_file[k2] = m.hold_file[h];
						m.hold_purpose[k2] = m.hold_purpose[h];
						m.active[k2++] = 1;
					}
				m.nholds = k2;
			}
			long long hid = 0;
			int on_purpose = pick(8) == 0;
			int rc = on_purpose ? spif_hold_place(c, 0, purposes[f->purpose], "調査", &hid, &e)
			                    : spif_hold_place(c, f->id, NULL, "訴訟", &hid, &e);
			if (rc == 0) {
				nchanges++;
				m.holds[m.nholds] = hid;
				m.hold_file[m.nholds] = on_purpose ? -1 : fi;
				m.hold_purpose[m.nholds] = f->purpose;
				m.active[m.nholds++] = 1;
			} else if (!(f->disposed && !on_purpose))
				v_accept++;
			nholds++;
		} else if (kind < 66 && m.nholds) { /* release one */
			int h = pick(m.nholds);
			for (int k = 0; k < m.nholds && !m.active[h]; k++)
				h = (h + 1) % m.nholds;
			int rc = spif_hold_release(c, m.holds[h], "終結", &e);
			if ((rc == 0) != m.active[h])
				v_accept++;
			nchanges += rc == 0;
			m.active[h] = 0;
			nreleases++;
		} else { /* the clock moves (mostly on); a purge runs */
			today += pick(10) ? pick(200) : -pick(100);
			if (today > ref_day(2060, 1, 1)) /* another era of the same catalog */
				today = ref_day(2016 + pick(20), 1, 1);
			nclock++;
			struct due_ctx x = {.m = &m, .today = today};
			spif_retention_due(c, today, collect, &x, &e);
			/* completeness: the model's due files are all listed */
			for (int i = 0; i < NFILES; i++) {
				struct mfile *g = &m.f[i];
				int model_due = g->sched >= 0 && !g->disposed && g->dd != SPIF_DAY_NONE && g->dd <= today &&
				                !held(&m, i) && !(g->redacted && m.s[g->sched].action == SPIF_ACTION_REDACT);
				int listed = 0;
				for (int k = 0; k < x.n; k++)
					listed |= x.ids[k] == g->id;
				if (model_due && !listed) {
					v_missing++;
					printf("# F%lld due %s by the model is not listed on %s\n", g->id, S(g->dd), S(today));
				}
			}
			long long pid = 0;
			if (x.n && spif_purge_begin(c, today, 0, &pid, &e) < 0)
				v_model++;
			for (int k = 0; k < x.n; k++) {
				int gi = 0;
				while (gi < NFILES - 1 && m.f[gi].id != x.ids[k])
					gi++;
				struct mfile *g = &m.f[gi];
				struct spif_due d;
				char why[256];
				if (spif_retention_check(c, g->id, today, &d, why, &e) != 1) {
					v_model++;
					continue;
				}
				/* the invariants, checked against the model, not the catalog */
				if (held(&m, gi))
					v_held++;
				if (g->dd == SPIF_DAY_NONE || g->dd > today)
					v_early++;
				if (g->disposed)
					v_model++;
				if (spif_purge_claim(c, pid, g->id, d.action, d.schedule, NULL, &e) < 0)
					v_model++;
				/* while claimed, a hold on it is refused: the purge cannot be stopped */
				long long hid;
				e.code = 0;
				if (spif_hold_place(c, g->id, NULL, "間に合わず", &hid, &e) == 0 || e.code != SPIF_EX_TEMPFAIL)
					v_accept++;
				if (d.action == SPIF_ACTION_REDACT && !g->redacted) {
					sqlite3_stmt *st;
					spif_catalog_prepare(c, "UPDATE files SET state = 'redacted' WHERE id = ?", &st, &e);
					sqlite3_bind_int64(st, 1, g->id);
					sqlite3_step(st);
					sqlite3_finalize(st);
					g->redacted = 1;
				} else {
					sqlite3_stmt *st;
					spif_catalog_prepare(c, "UPDATE files SET state = 'disposed' WHERE id = ?", &st, &e);
					sqlite3_bind_int64(st, 1, g->id);
					sqlite3_step(st);
					sqlite3_finalize(st);
					g->disposed = 1;
				}
				json_t *certs = json_array();
				if (spif_purge_item_done(c, pid, g->id, certs, &e) < 0)
					v_model++;
				json_decref(certs);
				ndisposed++;
				nchanges++;
			}
			if (pid && spif_purge_end(c, pid, x.n, 0, &e) < 0)
				v_model++;
			for (int i = 0; i < NFILES; i++)
				if (m.f[i].disposed && pick(2)) {
					/* its holds go with it: the model forgets them */
					for (int h = 0; h < m.nholds; h++)
						if (m.hold_file[h] == i)
							m.active[h] = 0, m.hold_file[h] = -2;
					new_file(c, &m.f[i], today - pick(4000));
				}
		}
		spif_catalog_commit(c, &e);
		/* compliance: a known retain-until never moves earlier (a file
		 * waiting for its event gets its first date when the event is
		 * recorded: that is the schedule working, not a change) */
		if (f->sched >= 0 && m.s[f->sched].mode == SPIF_MODE_COMPLIANCE) {
			struct spif_retention r;
			spif_retention_load(c, f->id, &r, &e);
			if (f->compliance_seen && f->max_ru != SPIF_DAY_NONE && later(r.retain_until, f->max_ru))
				v_shorten++;
			/* the latest known date it ever had: unknown (waiting for an
			 * event again) does not reset it */
			if (r.retain_until != SPIF_DAY_NONE && (f->max_ru == SPIF_DAY_NONE || r.retain_until > f->max_ru))
				f->max_ru = r.retain_until;
			f->compliance_seen = 1;
			if (r.retain_until != f->ru || r.dispose_on != f->dd) {
				v_model++;
				printf("# F%lld: catalog %s/%s, model %s/%s\n", f->id, S(r.retain_until), S(r.dispose_on), S(f->ru),
				       S(f->dd));
			}
		}
	}
	printf("# %ld operations: %ld assignments, %ld events, %ld holds, %ld releases, %ld clock dates, %ld disposals\n",
	       ops, nsched, nevents, nholds, nreleases, nclock, ndisposed);
	ok(ops >= 10000 || getenv("SPIF_SHORT"), "at least 10,000 random operations (%ld)", ops);
	is_int(v_held, 0, "zero disposals of held files");
	is_int(v_early, 0, "zero disposals before the disposal date");
	is_int(v_shorten, 0, "zero compliance shortenings");
	is_int(v_accept, 0, "every change accepted or refused as the rules say");
	is_int(v_model, 0, "the catalog's dates agree with the reference model");
	is_int(v_missing, 0, "everything due by the model is listed as due");
	ok(ndisposed > 100 && nholds > 100, "the run disposed of files and held others (%ld, %ld)", ndisposed, nholds);
	struct spif_verify v;
	int vr = spif_audit_verify(c, &v, &e);
	ok(vr == 0 && v.bad_seq == 0 && v.events >= nchanges,
	   "the audit log of it all verifies (%lld events for %ld changes)", v.events, nchanges);
	spif_catalog_close(c);
	spif_actor_free(&a);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", home);
}

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 12000;
	struct spif_err e = {0};
	if (spif_crypto_init(&e) < 0) {
		printf("not ok 1 - libgcrypt: %s\n", e.msg);
		return 1;
	}
	test_days();
	test_periods();
	test_cutoffs();
	test_schedules();
	random_schedule_dates(ops * 2);
	property_tests(ops);
	return tap_done();
}
