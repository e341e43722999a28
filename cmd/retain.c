/* retain.c - spif retain: how long each specific personal information file
 * is kept, what stops it going, and the purge that disposes of what is due.
 *
 * Schedules, events, holds and assignments are catalog changes with their
 * events (lib/retention).  A purge takes the disposal lock, finishes what
 * an interrupted purge claimed, then claims each due file in the
 * transaction that re-checks it is due and not held, and disposes of it by
 * its schedule's action: vault-only files by crypto-erase in batches, in
 * this process (lib/dispose); files with other copies through spif shred,
 * and redaction through spif redact --file, one child each, under the
 * same lock.  Each item ends done with its certificates or failed with the
 * reason; a killed purge leaves items "started" and copies "disposing",
 * which the next one finishes without disposing of or certifying anything
 * twice. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "digest.h"
#include "dispose.h"
#include "mynumber.h"
#include "pgp.h"
#include "purge.h"
#include "retention.h"
#include "text.h"

static const char usage_text[] =
	"usage: spif retain schedule add NAME --period Ny|Nm|Nd [--from received|created|event:NAME[+Nd]]\n"
	"           [--cutoff none|fiscal-year|calendar-year|next-year:MM-DD] [--grace PERIOD]\n"
	"           [--action shred|redact] [--mode governance|compliance] [--basis TEXT]\n"
	"       spif retain schedule ls|show NAME|rm NAME [--json]\n"
	"       spif retain assign ID --schedule NAME [--reason TEXT]\n"
	"       spif retain event ID NAME=YYYY-MM-DD [--reason TEXT]\n"
	"       spif retain hold (ID | --purpose TEXT) --reason TEXT\n"
	"       spif retain release HOLD --reason TEXT\n"
	"       spif retain holds [--all] [--json]\n"
	"       spif retain due [--as-of YYYY-MM-DD] [--json]\n"
	"       spif retain plan [--as-of YYYY-MM-DD] > FILE\n"
	"       spif retain purge [--dry-run] [--plan FILE] [--syslog] [--sign KEYID]\n"
	"       spif retain report [--fiscal-year YYYY] [--json]\n"
	"\n"
	"Retention schedules, holds, and the purge that disposes of what is due.\n"
	"\n"
	"  schedule add     a rule: keep for PERIOD counted from the start (the\n"
	"                   received date by default), after a cutoff (fiscal-year:\n"
	"                   from 1 April of the next fiscal year), plus --grace before\n"
	"                   disposal; --action shred (default) or redact (keep the\n"
	"                   record without its numbers); --mode compliance: the date\n"
	"                   can only move later\n"
	"  assign           give file ID a schedule (an earlier date needs --reason in\n"
	"                   governance mode, and is refused in compliance mode)\n"
	"  event            record an event date (退職日 ...) a schedule counts from\n"
	"  hold, release    a hold stops disposal of a file, or of every file of a\n"
	"                   purpose, whatever its dates; hold prints the hold id\n"
	"  due              what is due: past its disposal date, not held, not disposed\n"
	"                   (--as-of: a date to plan for)\n"
	"  plan             the due list with its SHA-256, registered in the catalog,\n"
	"                   for an approval (廃棄決裁); purge --plan disposes of exactly it\n"
	"  purge            dispose of everything due today: shred (certificate;\n"
	"                   crypto-erase for vault copies) or redact (certificate of\n"
	"                   the removal); one line per disposal on stdout, per failure\n"
	"                   on stderr, then a summary; silent when nothing is due\n"
	"  report           the annual self-inspection: files by purpose and state,\n"
	"                   disposals and certificates, overdue files, holds\n"
	"\n"
	"  --home DIR       the spif home (else $SPIF_HOME, spif.conf, ~/.local/share/spif)\n"
	"\n"
	"Exit: 0 ok (purge: all disposed, or nothing due), 1 purge: some failed (the\n"
	"rest were disposed), 64 usage (a bad period, date or option), 65 bad data (an\n"
	"unknown file, schedule or hold, an event before the file was received, an\n"
	"edited plan), 66 no catalog, 69 signing key unavailable, 74 I/O, 75 another\n"
	"purge holds the lock (or the catalog is busy), 77 refused by a compliance\n"
	"schedule, or permission.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

enum {
	O_PERIOD = 1 << 0, O_FROM = 1 << 1, O_CUTOFF = 1 << 2, O_GRACE = 1 << 3, O_ACTION = 1 << 4,
	O_MODE = 1 << 5, O_BASIS = 1 << 6, O_SCHEDULE = 1 << 7, O_REASON = 1 << 8, O_PURPOSE = 1 << 9,
	O_ASOF = 1 << 10, O_JSON = 1 << 11, O_DRY = 1 << 12, O_PLAN = 1 << 13, O_SYSLOG = 1 << 14,
	O_FY = 1 << 15, O_ALL = 1 << 16, O_SIGN = 1 << 17,
};
static const char *const opt_names[] = {"--period", "--from", "--cutoff", "--grace", "--action", "--mode",
                                        "--basis", "--schedule", "--reason", "--purpose", "--as-of", "--json",
                                        "--dry-run", "--plan", "--syslog", "--fiscal-year", "--all", "--sign"};

struct opts {
	const char *period, *from, *cutoff, *grace, *action, *mode, *basis;
	const char *schedule, *reason, *purpose, *as_of, *plan, *sign;
	int fiscal_year;
	unsigned seen;
};

static const struct option longopts[] = {
	{"period", required_argument, NULL, 'p'},   {"from", required_argument, NULL, 'f'},
	{"cutoff", required_argument, NULL, 'c'},   {"grace", required_argument, NULL, 'g'},
	{"action", required_argument, NULL, 'a'},   {"mode", required_argument, NULL, 'm'},
	{"basis", required_argument, NULL, 'b'},    {"schedule", required_argument, NULL, 's'},
	{"reason", required_argument, NULL, 'r'},   {"purpose", required_argument, NULL, 'P'},
	{"as-of", required_argument, NULL, 'A'},    {"json", no_argument, NULL, 'j'},
	{"dry-run", no_argument, NULL, 'n'},        {"plan", required_argument, NULL, 'L'},
	{"syslog", no_argument, NULL, 'S'},         {"fiscal-year", required_argument, NULL, 'F'},
	{"all", no_argument, NULL, 'l'},            {"sign", required_argument, NULL, 'K'},
	{"home", required_argument, NULL, 'H'},     {"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void parse_opts(struct cli *c, struct opts *o, int argc, char **argv)
{
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': o->period = optarg; o->seen |= O_PERIOD; break;
		case 'f': o->from = optarg; o->seen |= O_FROM; break;
		case 'c': o->cutoff = optarg; o->seen |= O_CUTOFF; break;
		case 'g': o->grace = optarg; o->seen |= O_GRACE; break;
		case 'a': o->action = optarg; o->seen |= O_ACTION; break;
		case 'm': o->mode = optarg; o->seen |= O_MODE; break;
		case 'b': o->basis = optarg; o->seen |= O_BASIS; break;
		case 's': o->schedule = optarg; o->seen |= O_SCHEDULE; break;
		case 'r': o->reason = optarg; o->seen |= O_REASON; break;
		case 'P': o->purpose = optarg; o->seen |= O_PURPOSE; break;
		case 'A': o->as_of = optarg; o->seen |= O_ASOF; break;
		case 'j': o->seen |= O_JSON; break;
		case 'n': o->seen |= O_DRY; break;
		case 'L': o->plan = optarg; o->seen |= O_PLAN; break;
		case 'S': o->seen |= O_SYSLOG; break;
		case 'l': o->seen |= O_ALL; break;
		case 'K': o->sign = optarg; o->seen |= O_SIGN; break;
		case 'F': {
			char *end;
			long y = strtol(optarg, &end, 10);
			if (*end || end == optarg || y < 1900 || y > 9998)
				cli_usage(c, "--fiscal-year %s: not a year (e.g. 2026 for 2026-04-01 to 2027-03-31)", optarg);
			o->fiscal_year = (int)y;
			o->seen |= O_FY;
			break;
		}
		case 'H': c->home_opt = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
}

/* Options that do not belong to the subcommand are a usage error, not
 * silently ignored: a --reason that was never recorded would mislead. */
static void allow(const struct cli *c, const struct opts *o, const char *sub, unsigned ok)
{
	unsigned extra = o->seen & ~ok;
	for (size_t i = 0; extra && i < sizeof opt_names / sizeof *opt_names; i++)
		if (extra & (1u << i))
			cli_usage(c, "%s does not apply to %s", opt_names[i], sub);
}

static void nargs(const struct cli *c, const char *sub, int have, int want, const char *what)
{
	if (have != want)
		cli_usage(c, "%s: %s", sub, have < want ? what : "too many arguments");
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

static long long file_arg(const struct cli *c, const char *s)
{
	long long id = spif_file_id_parse(s);
	if (id < 0)
		cli_usage(c, "%s: not a file id (F000001)", s);
	return id;
}

static long day_arg(const struct cli *c, const char *opt, const char *s)
{
	long d;
	if (spif_day_parse(s, &d) < 0)
		cli_usage(c, "%s %s: not a date (YYYY-MM-DD)", opt, s);
	return d;
}

/* A text an operator typed, going into the catalog: never a number. */
static char *masked(const char *s)
{
	char *m = strdup(s ? s : "");
	if (m)
		spif_mask_numbers(m);
	return m;
}

/* A write: the catalog (created for the schedule commands, which come
 * before anything is ingested), a transaction, and the default schedules
 * on first use, inside it, so that a refused command leaves nothing. */
static struct spif_catalog *begin_write(struct cli *c, int create, int defaults)
{
	struct spif_err e = {0};
	struct spif_catalog *cat = cli_catalog(c, create ? SPIF_CAT_CREATE : 0);
	if (spif_catalog_begin(cat, &e) < 0 || (defaults && spif_retention_defaults(cat, NULL, &e) < 0))
		cli_die(c, &e);
	return cat;
}

static void commit(struct cli *c, struct spif_catalog *cat)
{
	struct spif_err e = {0};
	if (spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
}

/* ---- schedule ------------------------------------------------------------- */

static void schedule_text(const struct spif_schedule *s, long long live, long long all)
{
	char period[16], grace[16], cutoff[24], from[96];
	spif_period_format(&s->period, period);
	spif_period_format(&s->grace, grace);
	spif_cutoff_format(&s->cutoff, cutoff);
	spif_from_format(&s->from, from);
	printf("name:      %s%s\nperiod:    %s\nfrom:      %s\ncutoff:    %s\ngrace:     %s\n"
	       "action:    %s\nmode:      %s\nbasis:     %s\ncreated:   %s\nfiles:     %lld not disposed, "
	       "%lld in all\n", s->name, s->is_default ? " (policy default)" : "", period, from, cutoff, grace,
	       spif_action_name(s->action), spif_mode_name(s->mode), s->basis[0] ? s->basis : "-",
	       s->created[0] ? s->created : "(not yet: a default, installed by the first change)", live, all);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct spif_schedule *)a)->name, ((const struct spif_schedule *)b)->name);
}

static void push_schedule(struct cli *c, struct spif_schedule **v, size_t *n, size_t *cap,
                          const struct spif_schedule *s)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		struct spif_schedule *nv = realloc(*v, *cap * sizeof *nv);
		if (!nv)
			cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
		*v = nv;
	}
	(*v)[(*n)++] = *s;
}

/* The catalog's schedules, and the defaults not installed yet, by name. */
static void collect_schedules(struct cli *c, struct spif_catalog *cat, struct spif_schedule **v, size_t *n)
{
	struct spif_err e = {0};
	size_t cap = 0;
	*v = NULL;
	*n = 0;
	if (cat) {
		sqlite3_stmt *st;
		if (spif_catalog_prepare(cat, "SELECT name FROM schedules ORDER BY name", &st, &e) < 0)
			cli_die(c, &e);
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct spif_schedule s;
			if (spif_schedule_get(cat, (const char *)sqlite3_column_text(st, 0), &s, &e) < 0)
				cli_die(c, &e);
			push_schedule(c, v, n, &cap, &s);
		}
		sqlite3_finalize(st);
	}
	if (!cat || !spif_retention_defaults_done(cat)) {
		size_t nd, have = *n;
		const struct spif_schedule *def = spif_schedule_defaults(&nd);
		for (size_t i = 0; i < nd; i++) {
			int dup = 0;
			for (size_t k = 0; k < have && !dup; k++)
				dup = strcmp((*v)[k].name, def[i].name) == 0;
			if (!dup)
				push_schedule(c, v, n, &cap, &def[i]);
		}
	}
	if (*n)
		qsort(*v, *n, sizeof **v, by_name);
}

static int cmd_schedule(struct cli *c, const struct opts *o, int argc, char **argv)
{
	struct spif_err e = {0};
	if (argc < 1)
		cli_usage(c, "schedule: missing subcommand: add, ls, show or rm");
	const char *sub = argv[0];
	if (strcmp(sub, "add") == 0) {
		allow(c, o, "schedule add", O_PERIOD | O_FROM | O_CUTOFF | O_GRACE | O_ACTION | O_MODE | O_BASIS);
		nargs(c, "schedule add", argc - 1, 1, "give the schedule's NAME");
		struct spif_schedule s = {0};
		if (!spif_schedule_name_valid(argv[1]))
			cli_usage(c, "%s: not a schedule name (letters, digits, '-', '_', '.'; at most 64)", argv[1]);
		snprintf(s.name, sizeof s.name, "%s", argv[1]);
		if (!o->period)
			cli_usage(c, "schedule add: --period is required (7y, 18m, 30d)");
		const char *bad = spif_period_parse(o->period, 0, &s.period, &e) < 0                       ? "--period"
		                  : spif_from_parse(o->from ? o->from : "received", &s.from, &e) < 0       ? "--from"
		                  : spif_cutoff_parse(o->cutoff ? o->cutoff : "none", &s.cutoff, &e) < 0   ? "--cutoff"
		                  : spif_period_parse(o->grace ? o->grace : "0d", 1, &s.grace, &e) < 0    ? "--grace"
		                                                                                           : NULL;
		if (bad) {
			spif_err_prefix(&e, "%s", bad);
			cli_usage(c, "%s", e.msg);
		}
		if (o->action && spif_action_parse(o->action, &s.action) < 0)
			cli_usage(c, "--action %s: unknown (shred, redact)", o->action);
		if (o->mode && spif_mode_parse(o->mode, &s.mode) < 0)
			cli_usage(c, "--mode %s: unknown (governance, compliance)", o->mode);
		if (o->basis) {
			if (strlen(o->basis) >= sizeof s.basis)
				cli_usage(c, "--basis: at most %zu bytes", sizeof s.basis - 1);
			char *b = masked(o->basis);
			snprintf(s.basis, sizeof s.basis, "%s", b);
			free(b);
		}
		struct spif_catalog *cat = begin_write(c, 1, 1);
		if (spif_schedule_add(cat, &s, &e) < 0)
			cli_die(c, &e);
		commit(c, cat);
		spif_catalog_close(cat);
		return 0;
	}
	if (strcmp(sub, "rm") == 0) {
		allow(c, o, "schedule rm", 0);
		nargs(c, "schedule rm", argc - 1, 1, "give the schedule's NAME");
		struct spif_catalog *cat = begin_write(c, 1, 1);
		if (spif_schedule_rm(cat, argv[1], &e) < 0)
			cli_die(c, &e);
		commit(c, cat);
		spif_catalog_close(cat);
		return 0;
	}
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "show") == 0) {
		int show = sub[0] == 's';
		allow(c, o, show ? "schedule show" : "schedule ls", O_JSON);
		nargs(c, show ? "schedule show" : "schedule ls", argc - 1, show, "give the schedule's NAME");
		/* a read changes nothing (completion runs it on every TAB): until
		 * a write installs them, the defaults are listed as they will be */
		struct spif_catalog *cat = cli_catalog_if_exists(c);
		struct spif_schedule *list = NULL;
		size_t n = 0;
		collect_schedules(c, cat, &list, &n);
		if (!show && !(o->seen & O_JSON))
			printf("%-18s %-7s %-24s %-15s %-6s %-7s %s\n", "NAME", "PERIOD", "FROM", "CUTOFF", "GRACE",
			       "ACTION", "MODE");
		int found = 0;
		for (size_t k = 0; k < n; k++) {
			struct spif_schedule s = list[k];
			if (show && strcmp(s.name, argv[1]) != 0)
				continue;
			found++;
			long long live = 0, all = 0;
			if (show && cat && spif_schedule_usage(cat, s.name, &live, &all, &e) < 0)
				cli_die(c, &e);
			if (o->seen & O_JSON) {
				json_t *j = spif_schedule_json(&s);
				if (show) {
					json_object_set_new(j, "files_not_disposed", json_integer(live));
					json_object_set_new(j, "files", json_integer(all));
				}
				print_json(j);
			} else if (show)
				schedule_text(&s, live, all);
			else {
				char period[16], grace[16], cutoff[24], from[96];
				spif_period_format(&s.period, period);
				spif_period_format(&s.grace, grace);
				spif_cutoff_format(&s.cutoff, cutoff);
				spif_from_format(&s.from, from);
				printf("%-18s %-7s ", s.name, period);
				spif_text_pad(stdout, from, 24);
				printf(" %-15s %-6s %-7s %s\n", cutoff, grace, spif_action_name(s.action),
				       spif_mode_name(s.mode));
			}
		}
		free(list);
		if (show && !found)
			cli_fail(c, SPIF_EX_DATAERR, "no schedule %s (see spif retain schedule ls)", argv[1]);
		spif_catalog_close(cat);
		return 0;
	}
	cli_usage(c, "schedule %s: unknown (add, ls, show, rm)", sub);
}

/* ---- assign, event -------------------------------------------------------- */

static void print_dates(const struct spif_retention *r, const struct spif_schedule *s)
{
	char fid[24], ru[11], dd[11];
	spif_file_id_format(r->file_id, fid);
	spif_day_format(r->retain_until, ru);
	spif_day_format(r->dispose_on, dd);
	if (r->dispose_on == SPIF_DAY_NONE)
		printf("%s: %s, kept until its %s is recorded (spif retain event %s %s=YYYY-MM-DD)\n", fid,
		       r->schedule, s->from.event, fid, s->from.event);
	else
		printf("%s: %s, retain until %s, due %s (%s)\n", fid, r->schedule, ru, dd, spif_action_name(s->action));
}

/* After the commit: a vault copy re-encrypted for its new month loses
 * its old ciphertext, the old key leaves the WAL, and a month left empty
 * its KEK.  The change is committed either way: a failure is a note. */
static void finish_move(struct cli *c, struct spif_catalog *cat, long long id)
{
	struct spif_err e = {0};
	if (spif_retention_finish(cat, id, &e) < 0)
		cli_note(c, "%s (the change itself is committed; the next crypto-erase purges and "
		         "retires what is left)", e.msg);
}

static int cmd_assign(struct cli *c, const struct opts *o, int argc, char **argv)
{
	struct spif_err e = {0};
	allow(c, o, "assign", O_SCHEDULE | O_REASON);
	nargs(c, "assign", argc, 1, "give the file ID");
	long long id = file_arg(c, argv[0]);
	if (!o->schedule)
		cli_usage(c, "assign: --schedule NAME is required");
	char *reason = masked(o->reason);
	struct spif_catalog *cat = begin_write(c, 0, 1);
	struct spif_retention r;
	struct spif_schedule s;
	if (spif_retention_assign(cat, &c->conf, id, o->schedule, reason, 0, &r, &e) < 0 ||
	    spif_schedule_get(cat, o->schedule, &s, &e) < 0)
		cli_die(c, &e);
	commit(c, cat);
	print_dates(&r, &s);
	finish_move(c, cat, id);
	free(reason);
	spif_catalog_close(cat);
	return 0;
}

static int cmd_event(struct cli *c, const struct opts *o, int argc, char **argv)
{
	struct spif_err e = {0};
	allow(c, o, "event", O_REASON);
	nargs(c, "event", argc, 2, "give the file ID and NAME=YYYY-MM-DD");
	long long id = file_arg(c, argv[0]);
	char name[96];
	const char *eq = strchr(argv[1], '=');
	if (!eq || (size_t)(eq - argv[1]) >= sizeof name)
		cli_usage(c, "%s: not NAME=YYYY-MM-DD", argv[1]);
	snprintf(name, sizeof name, "%.*s", (int)(eq - argv[1]), argv[1]);
	if (!spif_event_name_valid(name))
		cli_usage(c, "%s: not an event name (no spaces, '=', '+' or '/'; at most 64 bytes)", name);
	long day = day_arg(c, name, eq + 1);
	char *reason = masked(o->reason);
	struct spif_catalog *cat = begin_write(c, 0, 0);
	struct spif_retention r;
	if (spif_retention_event(cat, &c->conf, id, name, day, reason, &r, &e) < 0)
		cli_die(c, &e);
	commit(c, cat);
	struct spif_schedule s;
	if (r.has_schedule && spif_schedule_get(cat, r.schedule, &s, NULL) == 0)
		print_dates(&r, &s);
	finish_move(c, cat, id);
	free(reason);
	spif_catalog_close(cat);
	return 0;
}

/* ---- holds ---------------------------------------------------------------- */

static int cmd_hold(struct cli *c, const struct opts *o, int argc, char **argv)
{
	struct spif_err e = {0};
	allow(c, o, "hold", O_PURPOSE | O_REASON);
	if ((argc == 1) == (o->purpose != NULL))
		cli_usage(c, "hold: give a file ID or --purpose TEXT (one of them)");
	if (argc > 1)
		cli_usage(c, "hold: too many arguments");
	if (!o->reason || !*o->reason)
		cli_usage(c, "hold: --reason is required (why it must be kept: 訴訟, 調査 ...)");
	long long id = argc ? file_arg(c, argv[0]) : 0;
	if (o->purpose && !*o->purpose)
		cli_usage(c, "hold: --purpose is empty");
	char *reason = masked(o->reason), *purpose = o->purpose ? masked(o->purpose) : NULL;
	struct spif_catalog *cat = begin_write(c, 0, 0);
	long long hid;
	if (spif_hold_place(cat, id, purpose, reason, &hid, &e) < 0)
		cli_die(c, &e);
	commit(c, cat);
	char hb[24];
	spif_hold_id_format(hid, hb);
	printf("%s\n", hb);
	if (purpose) {
		/* matched exactly: a typo would hold nothing, so say when it does */
		sqlite3_stmt *st;
		long long nf = 0;
		if (spif_catalog_prepare(cat, "SELECT COUNT(*) FROM files WHERE purpose = ? AND state != 'disposed'",
		                         &st, &e) == 0) {
			sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				nf = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		if (!nf)
			cli_note(c, "%s: no file that is not disposed has the purpose \"%s\" now; the hold will apply "
			         "to files registered with it later", hb, purpose);
	}
	free(reason);
	free(purpose);
	spif_catalog_close(cat);
	return 0;
}

static int cmd_release(struct cli *c, const struct opts *o, int argc, char **argv)
{
	struct spif_err e = {0};
	allow(c, o, "release", O_REASON);
	nargs(c, "release", argc, 1, "give the HOLD id (H000001)");
	long long hid = spif_hold_id_parse(argv[0]);
	if (hid < 0)
		cli_usage(c, "%s: not a hold id (H000001)", argv[0]);
	if (!o->reason || !*o->reason)
		cli_usage(c, "release: --reason is required");
	char *reason = masked(o->reason);
	struct spif_catalog *cat = begin_write(c, 0, 0);
	if (spif_hold_release(cat, hid, reason, &e) < 0)
		cli_die(c, &e);
	commit(c, cat);
	free(reason);
	spif_catalog_close(cat);
	return 0;
}

static int cmd_holds(struct cli *c, const struct opts *o, int argc)
{
	struct spif_err e = {0};
	allow(c, o, "holds", O_ALL | O_JSON);
	nargs(c, "holds", argc, 0, "");
	struct spif_catalog *cat = cli_catalog(c, 0);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(cat, "SELECT id, COALESCE(file_id, 0), purpose, reason, placed_by, placed, released,"
	                              " released_by, release_reason FROM holds WHERE ?1 OR released IS NULL ORDER BY id",
	                         &st, &e) < 0)
		cli_die(c, &e);
	sqlite3_bind_int(st, 1, (o->seen & O_ALL) != 0);
	int first = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char hid[24], fid[24] = "";
		spif_hold_id_format(sqlite3_column_int64(st, 0), hid);
		long long f = sqlite3_column_int64(st, 1);
		if (f)
			spif_file_id_format(f, fid);
#define T(i) ((const char *)sqlite3_column_text(st, i))
		if (o->seen & O_JSON) {
			json_t *j = json_object();
			json_object_set_new(j, "hold", json_string(hid));
			json_object_set_new(j, "file", f ? json_string(fid) : json_null());
			json_object_set_new(j, "purpose", T(2) ? json_string(T(2)) : json_null());
			json_object_set_new(j, "reason", json_string(T(3)));
			json_object_set_new(j, "placed_by", json_string(T(4)));
			json_object_set_new(j, "placed", json_string(T(5)));
			json_object_set_new(j, "released", T(6) ? json_string(T(6)) : json_null());
			json_object_set_new(j, "released_by", T(7) ? json_string(T(7)) : json_null());
			json_object_set_new(j, "release_reason", T(8) ? json_string(T(8)) : json_null());
			print_json(j);
		} else {
			if (first)
				printf("%-8s %-24s %-10s %-12s %-10s %s\n", "HOLD", "ON", "PLACED", "BY", "RELEASED", "REASON");
			char on[256];
			snprintf(on, sizeof on, "%s%s", f ? fid : "purpose ", f ? "" : T(2));
			printf("%-8s ", hid);
			spif_text_pad(stdout, on, 24);
			printf(" %.10s %-12s %-10.10s %s\n", T(5), T(4), T(6) ? T(6) : "-", T(3));
		}
#undef T
		first = 0;
	}
	sqlite3_finalize(st);
	spif_catalog_close(cat);
	return 0;
}

/* ---- due ------------------------------------------------------------------ */

struct due_list {
	struct spif_due *v;
	char **labels, **purposes;
	size_t n, cap;
};

static int due_add(void *ctx, const struct spif_due *d)
{
	struct due_list *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct spif_due *v = realloc(l->v, cap * sizeof *v);
		char **a = v ? realloc(l->labels, cap * sizeof *a) : NULL;
		if (a)
			l->labels = a;
		char **b = a ? realloc(l->purposes, cap * sizeof *b) : NULL;
		if (b)
			l->purposes = b;
		if (v)
			l->v = v;
		if (!v || !a || !b)
			return -1;
		l->cap = cap;
	}
	l->v[l->n] = *d;
	l->labels[l->n] = strdup(d->label ? d->label : "");
	l->purposes[l->n] = strdup(d->purpose ? d->purpose : "");
	l->v[l->n].label = l->labels[l->n];
	l->v[l->n].purpose = l->purposes[l->n];
	l->n++;
	return 0;
}

static void due_free(struct due_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->labels[i]);
		free(l->purposes[i]);
	}
	free(l->v);
	free(l->labels);
	free(l->purposes);
	memset(l, 0, sizeof *l);
}

static void collect_due(struct cli *c, struct spif_catalog *cat, long day, struct due_list *l)
{
	struct spif_err e = {0};
	if (spif_retention_due(cat, day, due_add, l, &e) < 0)
		cli_die(c, &e);
}

static json_t *due_json(const struct spif_due *d)
{
	char fid[24], ru[11], dd[11];
	spif_file_id_format(d->file_id, fid);
	spif_day_format(d->retain_until, ru);
	spif_day_format(d->dispose_on, dd);
	json_t *j = json_object();
	json_object_set_new(j, "id", json_string(fid));
	json_object_set_new(j, "due", json_string(dd));
	json_object_set_new(j, "retain_until", json_string(ru));
	json_object_set_new(j, "schedule", json_string(d->schedule));
	json_object_set_new(j, "action", json_string(spif_action_name(d->action)));
	json_object_set_new(j, "state", json_string(d->state));
	json_object_set_new(j, "purpose", json_string(d->purpose));
	json_object_set_new(j, "label", json_string(d->label));
	return j;
}

static void due_text(FILE *f, const struct spif_due *d)
{
	char fid[24], ru[11], dd[11];
	spif_file_id_format(d->file_id, fid);
	spif_day_format(d->retain_until, ru);
	spif_day_format(d->dispose_on, dd);
	fprintf(f, "%-8s %-10s %-12s %-18s %-6s ", fid, dd, ru, d->schedule, spif_action_name(d->action));
	spif_text_pad(f, d->purpose, 20);
	fprintf(f, " %s\n", d->label);
}

static const char due_header[] = "ID       DUE        RETAIN-UNTIL SCHEDULE           ACTION PURPOSE              LABEL\n";

static int cmd_due(struct cli *c, const struct opts *o, int argc)
{
	allow(c, o, "due", O_ASOF | O_JSON);
	nargs(c, "due", argc, 0, "");
	long day = o->as_of ? day_arg(c, "--as-of", o->as_of) : spif_day_today();
	struct spif_catalog *cat = cli_catalog_if_exists(c);
	if (!cat)
		return 0; /* no catalog: nothing is due */
	struct due_list l = {0};
	collect_due(c, cat, day, &l);
	for (size_t i = 0; i < l.n; i++) {
		if (o->seen & O_JSON)
			print_json(due_json(&l.v[i]));
		else {
			if (i == 0)
				fputs(due_header, stdout);
			due_text(stdout, &l.v[i]);
		}
	}
	due_free(&l);
	spif_catalog_close(cat);
	return 0;
}

/* ---- plan ----------------------------------------------------------------- */

/* A plan's text is tab-separated and one line per file: the operator's
 * texts lose tabs and line breaks, which would break the layout. */
static void plan_field(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static int cmd_plan(struct cli *c, const struct opts *o, int argc)
{
	struct spif_err e = {0};
	allow(c, o, "plan", O_ASOF);
	nargs(c, "plan", argc, 0, "");
	long day = o->as_of ? day_arg(c, "--as-of", o->as_of) : spif_day_today();
	struct spif_catalog *cat = cli_catalog(c, 0);
	struct due_list l = {0};
	collect_due(c, cat, day, &l);
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	if (!f)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	char now[32], asof[11];
	spif_now_utc(now);
	spif_day_format(day, asof);
	const struct spif_actor *a = spif_catalog_actor(cat);
	fprintf(f, "# spif retention plan (廃棄計画): the files below are to be disposed of by their\n"
	           "# schedules' actions.  Approve it (廃棄決裁), then: spif retain purge --plan FILE\n"
	           "# Any edited byte makes purge refuse it.\n");
	fprintf(f, "# catalog: %s\n# made: %s by %s on %s\n# as of: %s\n# entries: %zu\n", spif_catalog_id(cat), now,
	        a->operator_, a->host, asof, l.n);
	fprintf(f, "# id\tdue\tretain-until\tschedule\taction\tstate\tpurpose\tlabel\n");
	for (size_t i = 0; i < l.n; i++) {
		char fid[24], ru[11], dd[11];
		spif_file_id_format(l.v[i].file_id, fid);
		spif_day_format(l.v[i].retain_until, ru);
		spif_day_format(l.v[i].dispose_on, dd);
		fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t", fid, dd, ru, l.v[i].schedule, spif_action_name(l.v[i].action),
		        l.v[i].state);
		plan_field(f, l.v[i].purpose);
		fputc('\t', f);
		plan_field(f, l.v[i].label);
		fputc('\n', f);
	}
	fclose(f);
	char sha[65];
	spif_sha256_buf(text, tlen, sha);
	long long plan_id;
	if (spif_catalog_begin(cat, &e) < 0 || spif_plan_register(cat, sha, day, (long long)l.n, &plan_id, &e) < 0)
		cli_die(c, &e);
	commit(c, cat);
	fwrite(text, 1, tlen, stdout);
	printf("# sha256: %s\n", sha);
	if (fflush(stdout) != 0)
		cli_fail(c, SPIF_EX_IOERR, "(stdout): %s", strerror(errno));
	free(text);
	due_free(&l);
	spif_catalog_close(cat);
	return 0;
}

/* Read and check a plan: the SHA-256 of everything before its last line
 * must be what that line says, and a plan this catalog registered.  The
 * file ids of its entries go to ids. */
static long long read_plan(struct cli *c, struct spif_catalog *cat, const char *path, long long **ids, size_t *n)
{
	int fd = cli_open_input(c, path);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if (cap > (256u << 20))
				cli_fail(c, SPIF_EX_DATAERR, "%s: too large to be a plan", path);
			char *nb = realloc(buf, cap);
			if (!nb)
				cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
			buf = nb;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0)
			cli_fail(c, SPIF_EX_IOERR, "%s: %s", path, strerror(errno));
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (fd > 0)
		close(fd);
	buf[len] = '\0';
	/* the last line, exactly "# sha256: <64 hex>\n" */
	static const char tag[] = "# sha256: ";
	size_t tl = sizeof tag - 1;
	if (len < tl + 65 || buf[len - 1] != '\n' || strncmp(buf + len - 65 - tl, tag, tl) != 0 ||
	    (len > tl + 65 && buf[len - 66 - tl] != '\n'))
		cli_fail(c, SPIF_EX_DATAERR, "%s: not a plan from spif retain plan (no sha256 line at its end); "
		         "nothing was disposed", path);
	size_t body = len - 65 - tl;
	char want[65], got[65];
	memcpy(want, buf + body + tl, 64);
	want[64] = '\0';
	spif_sha256_buf(buf, body, got);
	if (strcmp(want, got) != 0)
		cli_fail(c, SPIF_EX_DATAERR, "%s: the plan was edited: its contents no longer match its sha256 "
		         "line; nothing was disposed", path);
	long long plan_id = spif_plan_lookup(cat, got);
	if (!plan_id)
		cli_fail(c, SPIF_EX_DATAERR, "%s: not a plan this catalog made (sha256 %.12s... is not registered): "
		         "edited, or from another catalog; nothing was disposed", path, got);
	*n = 0;
	*ids = NULL;
	size_t icap = 0;
	for (char *line = buf; line < buf + body;) {
		char *nl = memchr(line, '\n', (size_t)(buf + body - line));
		if (!nl)
			break;
		*nl = '\0';
		if (line[0] != '#') {
			char *tab = strchr(line, '\t');
			if (tab)
				*tab = '\0';
			long long id = spif_file_id_parse(line);
			if (id < 0)
				cli_fail(c, SPIF_EX_DATAERR, "%s: a line that is not an entry: %.40s", path, line);
			if (*n == icap) {
				icap = icap ? icap * 2 : 64;
				long long *v = realloc(*ids, icap * sizeof *v);
				if (!v)
					cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
				*ids = v;
			}
			(*ids)[(*n)++] = id;
		}
		line = nl + 1;
	}
	free(buf);
	return plan_id;
}

/* ---- purge ---------------------------------------------------------------- */

enum kind { K_NONE, K_SKIP, K_DONE, K_FAIL, K_CRYPTO, K_SHRED, K_REDACT };

struct item {
	long long purge_id, file_id, claim_seq;
	enum spif_action action;
	char schedule[65];
	long dispose_on, retain_until;
	int leftover;     /* claimed by an interrupted purge */
	int done_before;  /* a plan entry already finished: not a failure */
	enum kind kind;
	size_t first, ncopies; /* its crypto targets */
	char why[1024];
	char **paths;     /* K_REDACT: copies with numbers outside the vault, shredded first */
	size_t npaths;
};

struct purge {
	struct cli *c;
	struct spif_catalog *cat;
	const struct opts *o;
	long today;
	long long purge_id, plan_id;
	const char *sign;
	int use_syslog;
	long long disposed, failed, redacted;
	long long done_before; /* plan entries an earlier run of the plan (or anyone) already finished */
};

/* One line per disposal on stdout (data: the certificates), flushed at
 * once so that a log keeps it even if the run is killed next. */
static void said_done(struct purge *p, const struct item *it, json_t *certs, const char *how)
{
	char fid[24], dd[11];
	spif_file_id_format(it->file_id, fid);
	spif_day_format(it->dispose_on, dd);
	char ids[512] = "";
	size_t i, k = 0;
	json_t *v;
	json_array_foreach(certs, i, v) {
		int w = snprintf(ids + k, sizeof ids - k, "%s%s", i ? "," : "", json_string_value(v));
		if (w < 0 || (size_t)w >= sizeof ids - k)
			break;
		k += (size_t)w;
	}
	char line[1024];
	snprintf(line, sizeof line, "%s %s %s (%s, due %s, %s)", fid,
	         it->action == SPIF_ACTION_REDACT ? "redacted" : "disposed", k ? ids : "-", it->schedule, dd, how);
	printf("%s\n", line);
	fflush(stdout);
	if (p->use_syslog)
		syslog(LOG_NOTICE, "%s", line);
	if (it->action == SPIF_ACTION_REDACT)
		p->redacted++;
	else
		p->disposed++;
}

static void said_failed(struct purge *p, const struct item *it, const char *why)
{
	char fid[24];
	spif_file_id_format(it->file_id, fid);
	fprintf(stderr, "spif-retain: %s: not disposed: %s\n", fid, why);
	if (p->use_syslog)
		syslog(LOG_ERR, "%s: not disposed: %s", fid, why);
	p->failed++;
}

/* Where spif-CMD is: beside this program (a build tree, or libexec). */
static void command_path(const struct cli *c, const char *cmd, char out[PATH_MAX])
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, PATH_MAX, "%.*s/spif-%s", PATH_MAX - 32, self, cmd);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, PATH_MAX, "%s/spif-%s", SPIF_LIBEXECDIR, cmd);
	if (access(out, X_OK) != 0)
		cli_fail(c, SPIF_EX_UNAVAILABLE, "%s: %s", out, strerror(errno));
}

/* Run spif-CMD with args under this purge's lock; its output is read (a
 * child that fails says why on its last line of stderr, which becomes the
 * reason).  Returns its exit status (128 + signal when killed). */
static int run_child(const struct cli *c, const char *cmd, char **args, char *why, size_t whylen)
{
	char path[PATH_MAX];
	command_path(c, cmd, path);
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		cli_fail(c, SPIF_EX_SOFTWARE, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		cli_fail(c, SPIF_EX_SOFTWARE, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(path, args);
		fprintf(stderr, "spif-retain: %s: %s\n", path, strerror(errno));
		_exit(SPIF_EX_UNAVAILABLE);
	}
	close(out[1]);
	close(err[1]);
	char ebuf[8192];
	size_t elen = 0;
	struct pollfd pf[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
	int open_fds = 2;
	while (open_fds) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char b[4096];
			ssize_t r = read(pf[k].fd, b, sizeof b);
			if (r <= 0) {
				close(pf[k].fd);
				pf[k].fd = -1;
				open_fds--;
				continue;
			}
			if (k == 1) { /* keep the end of stderr (b is smaller than ebuf) */
				if (elen + (size_t)r > sizeof ebuf - 1) {
					size_t drop = elen + (size_t)r - (sizeof ebuf - 1);
					memmove(ebuf, ebuf + drop, elen - drop);
					elen -= drop;
				}
				memcpy(ebuf + elen, b, (size_t)r);
				elen += (size_t)r;
			}
		}
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	ebuf[elen] = '\0';
	while (elen && (ebuf[elen - 1] == '\n' || ebuf[elen - 1] == '\r'))
		ebuf[--elen] = '\0';
	char *last = strrchr(ebuf, '\n');
	snprintf(why, whylen, "%.1000s", last ? last + 1 : ebuf);
	if (WIFSIGNALED(st)) {
		if (!why[0])
			snprintf(why, whylen, "spif-%s was killed by signal %d", cmd, WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return WEXITSTATUS(st);
}

/* The reason the certificates give. */
static void purge_reason(const struct item *it, char out[256])
{
	char ru[11];
	spif_day_format(it->retain_until, ru);
	snprintf(out, 256, "保存期間満了 / retention ended (schedule %s, retained until %s; spif retain purge)",
	         it->schedule, ru);
}

/* Decide how an item goes, inside the claim transaction; crypto targets
 * are marked "disposing" here. */
static void classify(struct purge *p, struct item *it, struct spif_dispose_copy **tv, size_t *tn, size_t *tcap)
{
	struct spif_err e = {0};
	struct spif_file f;
	struct spif_copy *cp;
	size_t n;
	if (spif_catalog_get_file(p->cat, it->file_id, &f, &e) < 0 ||
	    spif_catalog_get_copies(p->cat, it->file_id, &cp, &n, &e) < 0)
		cli_die(p->c, &e);
	size_t live = 0, vault = 0, disposing = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(cp[i].state, "disposed") == 0)
			continue;
		live++;
		vault += strcmp(cp[i].kind, "vault") == 0;
		disposing += strcmp(cp[i].state, "disposing") == 0;
	}
	it->kind = K_NONE;
	if (it->action == SPIF_ACTION_SHRED) {
		if (strcmp(f.state, "disposed") == 0)
			it->kind = K_DONE; /* an interrupted purge's child got that far */
		else if (!live) {
			it->kind = K_FAIL;
			snprintf(it->why, sizeof it->why, "the catalog knows no copy of it to destroy (its records went "
			         "only to a pipe?); destroy what exists with spif shred, or hold it");
		} else if (vault == live) {
			it->kind = K_CRYPTO;
			it->first = *tn;
			for (size_t i = 0; i < n; i++) {
				if (strcmp(cp[i].state, "disposed") == 0)
					continue;
				if (*tn == *tcap) {
					*tcap = *tcap ? *tcap * 2 : 256;
					struct spif_dispose_copy *nv = realloc(*tv, *tcap * sizeof *nv);
					if (!nv)
						cli_fail(p->c, SPIF_EX_SOFTWARE, "out of memory");
					*tv = nv;
				}
				struct spif_dispose_copy *t = &(*tv)[(*tn)++];
				memset(t, 0, sizeof *t);
				snprintf(t->path, sizeof t->path, "%s", cp[i].path);
				t->copy_id = cp[i].id;
				t->file_id = it->file_id;
				snprintf(t->kind, sizeof t->kind, "vault");
				t->resumed = strcmp(cp[i].state, "disposing") == 0;
				spif_dispose_crypto_target(t);
				if (!t->resumed && spif_dispose_mark(p->cat, t, &e) < 0)
					cli_die(p->c, &e);
			}
			it->ncopies = *tn - it->first;
		} else
			it->kind = K_SHRED;
	} else {
		if (strcmp(f.state, "redacted") == 0 && !disposing)
			it->kind = K_DONE;
		else if (strcmp(f.state, "disposed") == 0) {
			it->kind = K_FAIL;
			snprintf(it->why, sizeof it->why, "it was disposed of otherwise; nothing is left to redact");
		} else if (!vault && strcmp(f.state, "redacted") != 0) {
			it->kind = K_FAIL;
			snprintf(it->why, sizeof it->why, "its schedule keeps the record without numbers, but it has no "
			         "vault copy to keep (ingest --store)");
		} else {
			it->kind = K_REDACT;
			/* copies with numbers outside the vault go first: the record
			 * kept is the vault copy, without its numbers */
			for (size_t i = 0; i < n; i++)
				if (strcmp(cp[i].state, "present") == 0 && strcmp(cp[i].kind, "vault") != 0 &&
				    !(cp[i].details && strstr(cp[i].details, "\"redacted\":true"))) {
					char **np = realloc(it->paths, (it->npaths + 1) * sizeof *np);
					if (!np)
						cli_fail(p->c, SPIF_EX_SOFTWARE, "out of memory");
					it->paths = np;
					it->paths[it->npaths++] = strdup(cp[i].path);
				}
		}
	}
	spif_copies_free(cp, n);
	spif_file_free(&f);
}

static const char *how_name(const struct item *it)
{
	return it->kind == K_CRYPTO ? "crypto-erase" : it->kind == K_SHRED ? "spif shred" : it->kind == K_REDACT
	       ? "spif redact" : "finished";
}

/* A child's item, after it ran: done when the file is in the state the
 * action leads to, failed otherwise; with the certificates issued since
 * its claim. */
static void end_child_item(struct purge *p, struct item *it, int status, const char *why)
{
	struct spif_err e = {0};
	struct spif_file f;
	if (spif_catalog_begin(p->cat, &e) < 0 || spif_catalog_get_file(p->cat, it->file_id, &f, &e) < 0)
		cli_die(p->c, &e);
	sqlite3_stmt *st;
	long long left = 0;
	if (spif_catalog_prepare(p->cat, "SELECT COUNT(*) FROM copies WHERE file_id = ? AND state = 'disposing'",
	                         &st, &e) == 0) {
		sqlite3_bind_int64(st, 1, it->file_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			left = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	int ok = it->action == SPIF_ACTION_SHRED ? strcmp(f.state, "disposed") == 0
	                                         : strcmp(f.state, "redacted") == 0 && !left;
	json_t *certs = spif_file_certificates_since(p->cat, it->file_id, it->claim_seq);
	char reason[1200];
	if (!ok)
		snprintf(reason, sizeof reason, "%s", why && *why ? why : status ? "the disposal command failed"
		                                                                 : "the file is not disposed");
	if ((ok ? spif_purge_item_done(p->cat, it->purge_id, it->file_id, certs, &e)
	        : spif_purge_item_failed(p->cat, it->purge_id, it->file_id, reason, &e)) < 0 ||
	    spif_catalog_commit(p->cat, &e) < 0)
		cli_die(p->c, &e);
	if (ok)
		said_done(p, it, certs, how_name(it));
	else
		said_failed(p, it, reason);
	json_decref(certs);
	spif_file_free(&f);
}

static void run_item_child(struct purge *p, struct item *it)
{
	char fid[24], reason[256], why[1024] = "";
	spif_file_id_format(it->file_id, fid);
	purge_reason(it, reason);
	int status = 0;
	if (it->kind == K_REDACT && it->npaths) {
		char **args = calloc(it->npaths + 8, sizeof *args);
		if (!args)
			cli_fail(p->c, SPIF_EX_SOFTWARE, "out of memory");
		size_t k = 0;
		args[k++] = "spif-shred";
		args[k++] = "--reason";
		args[k++] = reason;
		if (p->sign) {
			args[k++] = "--sign";
			args[k++] = (char *)p->sign;
		}
		args[k++] = "--";
		for (size_t i = 0; i < it->npaths; i++)
			args[k++] = it->paths[i];
		status = run_child(p->c, "shred", args, why, sizeof why);
		free(args);
	}
	if (status == 0) {
		char *args[10];
		size_t k = 0;
		args[k++] = it->kind == K_REDACT ? "spif-redact" : "spif-shred";
		args[k++] = "--file";
		args[k++] = fid;
		args[k++] = "--reason";
		args[k++] = reason;
		if (p->sign) {
			args[k++] = "--sign";
			args[k++] = (char *)p->sign;
		}
		args[k] = NULL;
		status = run_child(p->c, it->kind == K_REDACT ? "redact" : "shred", args, why, sizeof why);
	}
	end_child_item(p, it, status, why);
}

struct item_list {
	struct item *v;
	size_t n, cap;
};

static int item_leftover(void *ctx, long long purge_id, long long file_id, enum spif_action action,
                         long long claim_seq)
{
	struct item_list *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		struct item *nv = realloc(l->v, l->cap * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
	}
	struct item *it = &l->v[l->n++];
	memset(it, 0, sizeof *it);
	it->purge_id = purge_id;
	it->file_id = file_id;
	it->action = action;
	it->claim_seq = claim_seq;
	it->leftover = 1;
	return 0;
}

#define PURGE_BATCH 500

/* One batch: claim (or take over) and classify in one transaction, erase
 * the crypto ones together, certify them and end every item that needs
 * no child in another, then the children one by one. */
static void purge_batch(struct purge *p, struct item *items, size_t n, int plan)
{
	struct spif_err e = {0};
	struct spif_dispose_copy *tv = NULL;
	size_t tn = 0, tcap = 0;
	if (spif_catalog_begin(p->cat, &e) < 0)
		cli_die(p->c, &e);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		struct spif_retention r;
		if (spif_retention_load(p->cat, it->file_id, &r, &e) < 0) {
			if (!plan || e.code != SPIF_EX_DATAERR)
				cli_die(p->c, &e);
			it->kind = K_SKIP;
			snprintf(it->why, sizeof it->why, "%s", e.msg);
			continue;
		}
		snprintf(it->schedule, sizeof it->schedule, "%s", r.schedule);
		it->retain_until = r.retain_until;
		it->dispose_on = r.dispose_on;
		if (!it->leftover) {
			/* the re-check and the claim are one transaction: a hold placed
			 * before it stops the disposal, one placed after is refused */
			struct spif_due d;
			int due = spif_retention_check(p->cat, it->file_id, p->today, &d, it->why, &e);
			if (due < 0)
				cli_die(p->c, &e);
			if (!due) {
				it->kind = K_SKIP;
				/* a plan run again (after a kill, say) finds its finished
				 * entries finished: that is success, not a failure */
				struct spif_schedule s;
				it->done_before = strcmp(r.state, "disposed") == 0 ||
				                  (strcmp(r.state, "redacted") == 0 && spif_schedule_get(p->cat, r.schedule, &s, NULL) == 0 &&
				                   s.action == SPIF_ACTION_REDACT);
				continue;
			}
			it->action = d.action;
			if (spif_purge_claim(p->cat, p->purge_id, it->file_id, d.action, d.schedule, &it->claim_seq, &e) < 0)
				cli_die(p->c, &e);
			it->purge_id = p->purge_id;
		}
		classify(p, it, &tv, &tn, &tcap);
	}
	if (spif_catalog_commit(p->cat, &e) < 0)
		cli_die(p->c, &e);
	for (size_t i = 0; i < n; i++)
		if (items[i].kind == K_SKIP && plan && items[i].done_before)
			p->done_before++;
		else if (items[i].kind == K_SKIP && plan)
			said_failed(p, &items[i], items[i].why);

	/* every vault-only file of the batch at once */
	struct spif_dispose_copy **set = tn ? calloc(tn, sizeof *set) : NULL;
	for (size_t i = 0; i < tn; i++)
		set[i] = &tv[i];
	if (tn && spif_dispose_crypto(p->cat, set, tn, &e) < 0 && e.code == SPIF_EX_SOFTWARE)
		cli_die(p->c, &e);
	/* a disposal month whose files are all gone loses its KEK now, before
	 * the certificates, so that they say so */
	if (tn && spif_dispose_retire_keks(p->cat, set, tn, &e) < 0)
		cli_note(p->c, "the keys of disposed months were not all retired: %s", e.msg);
	if (spif_catalog_begin(p->cat, &e) < 0)
		cli_die(p->c, &e);
	json_t **certs = calloc(n + 1, sizeof *certs);
	if (!certs)
		cli_fail(p->c, SPIF_EX_SOFTWARE, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		if (it->kind == K_CRYPTO) {
			int bad = 0;
			for (size_t k = 0; k < it->ncopies; k++)
				if (tv[it->first + k].failed) {
					bad = 1;
					snprintf(it->why, sizeof it->why, "%.900s; left for the next purge", tv[it->first + k].error);
				}
			if (bad)
				continue; /* its copies stay "disposing", its item "started" */
			char reason[256], id[32];
			int file_disposed;
			purge_reason(it, reason);
			struct spif_dispose_opts d = {.command = "spif retain purge", .reason = reason,
			                              .sign_key = p->sign};
			if (spif_dispose_certify(p->cat, &p->c->conf, &d, set + it->first, it->ncopies, 0, NULL, id,
			                         &file_disposed, &e) < 0)
				cli_die(p->c, &e);
			certs[i] = spif_file_certificates_since(p->cat, it->file_id, it->claim_seq);
			if (spif_purge_item_done(p->cat, it->purge_id, it->file_id, certs[i], &e) < 0)
				cli_die(p->c, &e);
		} else if (it->kind == K_DONE) {
			certs[i] = spif_file_certificates_since(p->cat, it->file_id, it->claim_seq);
			if (spif_purge_item_done(p->cat, it->purge_id, it->file_id, certs[i], &e) < 0)
				cli_die(p->c, &e);
		} else if (it->kind == K_FAIL) {
			if (spif_purge_item_failed(p->cat, it->purge_id, it->file_id, it->why, &e) < 0)
				cli_die(p->c, &e);
		}
	}
	if (spif_catalog_commit(p->cat, &e) < 0)
		cli_die(p->c, &e);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		if (certs[i])
			said_done(p, it, certs[i], how_name(it));
		else if (it->kind == K_FAIL || (it->kind == K_CRYPTO && it->why[0]))
			said_failed(p, it, it->why);
		json_decref(certs[i]);
	}
	free(certs);
	for (size_t i = 0; i < tn; i++) {
		if (tv[i].error[0] && !tv[i].failed)
			fprintf(stderr, "spif-retain: %s\n", tv[i].error); /* a leftover ciphertext, named */
		json_decref(tv[i].erased);
	}
	free(set);
	free(tv);

	/* then those that need spif shred or spif redact, one by one */
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		if ((it->kind == K_SHRED || it->kind == K_REDACT) && !stop_flag)
			run_item_child(p, it);
		else if ((it->kind == K_SHRED || it->kind == K_REDACT) && stop_flag)
			said_failed(p, it, "interrupted before its turn; the next purge finishes it");
		for (size_t k = 0; k < it->npaths; k++)
			free(it->paths[k]);
		free(it->paths);
		it->paths = NULL;
		it->npaths = 0;
	}
}

static void dry_run_item(struct purge *p, struct item *it, int plan)
{
	struct spif_err e = {0};
	char fid[24], dd[11];
	spif_file_id_format(it->file_id, fid);
	struct spif_retention r;
	if (spif_retention_load(p->cat, it->file_id, &r, &e) < 0) {
		printf("would refuse %s: %s\n", fid, e.msg);
		return;
	}
	spif_day_format(r.dispose_on, dd);
	if (!it->leftover) {
		struct spif_due d;
		char why[256];
		int due = spif_retention_check(p->cat, it->file_id, p->today, &d, why, &e);
		if (due < 0)
			cli_die(p->c, &e);
		if (!due) {
			if (plan)
				printf("would skip %s: %s\n", fid, why);
			return;
		}
		it->action = d.action;
	}
	struct spif_copy *cp;
	size_t n, live = 0, vault = 0;
	if (spif_catalog_get_copies(p->cat, it->file_id, &cp, &n, &e) < 0)
		cli_die(p->c, &e);
	for (size_t i = 0; i < n; i++)
		if (strcmp(cp[i].state, "disposed") != 0) {
			live++;
			vault += strcmp(cp[i].kind, "vault") == 0;
		}
	spif_copies_free(cp, n);
	const char *how = it->action == SPIF_ACTION_REDACT ? "redact (spif redact --file: keep the record without its numbers)"
	                  : !live ? "fail: the catalog knows no copy of it"
	                  : vault == live ? "shred (crypto-erase of its vault copy; Purge)"
	                                  : "shred (spif shred --file: overwrite, and crypto-erase for a vault copy)";
	printf("would %s %s: %s; schedule %s, due %s%s\n", it->leftover ? "finish" : "dispose of", fid, how, r.schedule,
	       dd, it->leftover ? " (an interrupted purge claimed it)" : "");
}

static int cmd_purge(struct cli *c, const struct opts *o, int argc)
{
	struct spif_err e = {0};
	allow(c, o, "purge", O_DRY | O_PLAN | O_SYSLOG | O_SIGN);
	nargs(c, "purge", argc, 0, "");
	int dry = (o->seen & O_DRY) != 0;
	cli_check_home(c);
	char db[PATH_MAX + 16];
	snprintf(db, sizeof db, "%s/catalog.db", c->home);
	if (access(db, F_OK) != 0) {
		if (o->plan)
			cli_fail(c, SPIF_EX_NOINPUT, "%s: no catalog yet", db);
		return 0; /* nothing was ever ingested: nothing is due */
	}
	/* the lock first: the list of leftovers and what is due are read
	 * under it, and children inherit it */
	int lock = -1;
	if (!dry) {
		if (spif_dispose_lock(c->home, &c->conf, &lock, &e) < 0)
			cli_die(c, &e);
		char fdb[16];
		snprintf(fdb, sizeof fdb, "%d", lock);
		if (fcntl(lock, F_SETFD, 0) < 0 || setenv("SPIF_LOCK_FD", fdb, 1) < 0)
			cli_fail(c, SPIF_EX_SOFTWARE, "lock: %s", strerror(errno));
		/* the children work on the same home, whatever chose it here */
		setenv("SPIF_HOME", c->home, 1);
	}
	struct purge p = {.c = c, .o = o, .today = spif_day_today(), .use_syslog = (o->seen & O_SYSLOG) != 0};
	p.cat = cli_catalog(c, 0);
	p.sign = o->sign ? o->sign : c->conf.sign_key[0] ? c->conf.sign_key : NULL;

	/* what an interrupted purge claimed, then what is due (or planned) */
	struct item_list l = {0};
	if (spif_purge_leftovers(p.cat, item_leftover, &l, &e) < 0)
		cli_die(c, &e);
	size_t nleft = l.n;
	long long *plan_ids = NULL;
	size_t nplan = 0;
	if (o->plan)
		p.plan_id = read_plan(c, p.cat, o->plan, &plan_ids, &nplan);
	struct due_list dl = {0};
	if (!o->plan)
		collect_due(c, p.cat, p.today, &dl);
	size_t nwant = o->plan ? nplan : dl.n;
	for (size_t i = 0; i < nwant; i++) {
		long long id = o->plan ? plan_ids[i] : dl.v[i].file_id;
		int dup = 0;
		for (size_t k = 0; k < l.n && !dup; k++)
			dup = l.v[k].file_id == id;
		if (dup)
			continue;
		if (item_leftover(&l, 0, id, SPIF_ACTION_SHRED, 0) < 0)
			cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
		l.v[l.n - 1].leftover = 0;
	}
	due_free(&dl);
	free(plan_ids);
	if (!l.n) { /* cron: no output at all when nothing is due */
		spif_catalog_close(p.cat);
		return 0;
	}
	if (dry) {
		for (size_t i = 0; i < l.n; i++)
			dry_run_item(&p, &l.v[i], o->plan != NULL);
		free(l.v);
		spif_catalog_close(p.cat);
		return 0;
	}
	/* a certificate that cannot be signed stops us before anything goes */
	if (p.sign && *p.sign) {
		char *sig = NULL, fpr[41];
		if (spif_pgp_sign(p.sign, "spif", 4, &sig, fpr, &e) < 0)
			cli_die(c, &e);
		free(sig);
	}
	if (p.use_syslog)
		openlog("spif-retain", LOG_PID, LOG_USER);
	if (spif_catalog_begin(p.cat, &e) < 0 || spif_purge_begin(p.cat, p.today, p.plan_id, &p.purge_id, &e) < 0)
		cli_die(c, &e);
	commit(c, p.cat);
	if (nleft)
		cli_note(c, "finishing %zu file%s an interrupted purge had claimed", nleft, nleft == 1 ? "" : "s");
	for (size_t i = 0; i < l.n && !stop_flag; i += PURGE_BATCH)
		purge_batch(&p, l.v + i, l.n - i < PURGE_BATCH ? l.n - i : PURGE_BATCH, o->plan != NULL);
	if (spif_catalog_begin(p.cat, &e) < 0 ||
	    spif_purge_end(p.cat, p.purge_id, p.disposed + p.redacted, p.failed, &e) < 0)
		cli_die(c, &e);
	commit(c, p.cat);
	char today[11];
	spif_day_format(p.today, today);
	char summary[320], before[64] = "";
	if (p.done_before)
		snprintf(before, sizeof before, ", %lld already done", p.done_before);
	snprintf(summary, sizeof summary, "purge %lld (%s): %lld disposed, %lld redacted, %lld failed%s%s", p.purge_id,
	         today, p.disposed, p.redacted, p.failed, before,
	         stop_flag ? "; interrupted: the rest is left for the next purge" : "");
	fprintf(stderr, "spif-retain: %s\n", summary);
	if (p.use_syslog) {
		syslog(p.failed ? LOG_WARNING : LOG_INFO, "%s", summary);
		closelog();
	}
	free(l.v);
	spif_catalog_close(p.cat);
	if (stop_flag)
		return SPIF_EX_TEMPFAIL;
	return p.failed ? SPIF_FOUND : 0;
}

/* ---- report --------------------------------------------------------------- */

/* The UTC time (as the catalog writes it) of local midnight on day: the
 * fiscal year is a local-calendar notion, certificates carry UTC. */
static void local_midnight_utc(long day, char out[32])
{
	int y, m, d;
	spif_day_to_ymd(day, &y, &m, &d);
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	struct tm g;
	gmtime_r(&t, &g);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &g);
}

static json_t *jtext(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? json_string((const char *)t) : json_null();
}

static json_t *jfile(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	char fid[24];
	spif_file_id_format(sqlite3_column_int64(st, i), fid);
	return json_string(fid);
}

static json_t *report_rows(struct cli *c, struct spif_catalog *cat, const char *sql, const char *const *keys,
                           const char *a, const char *b)
{
	struct spif_err e = {0};
	sqlite3_stmt *st;
	if (spif_catalog_prepare(cat, sql, &st, &e) < 0)
		cli_die(c, &e);
	if (a)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_object();
		for (int i = 0; keys[i]; i++) {
			const char *k = keys[i];
			if (k[0] == '#') /* an integer column */
				json_object_set_new(row, k + 1, json_integer(sqlite3_column_int64(st, i)));
			else if (k[0] == '@') /* a file id */
				json_object_set_new(row, k + 1, jfile(st, i));
			else
				json_object_set_new(row, k, jtext(st, i));
		}
		json_array_append_new(arr, row);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		spif_catalog_sqlerr(cat, rc, "report", &e);
		cli_die(c, &e);
	}
	return arr;
}

static const char *js(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "-";
}

static long long ji(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void report_text(json_t *r)
{
	size_t i;
	json_t *x;
	printf("保存・廃棄状況報告 / Retention report: fiscal year %lld (%s to %s), as of %s\n", ji(r, "fiscal_year"),
	       js(r, "from"), js(r, "to"), js(r, "as_of"));
	printf("catalog %s\n\n", js(r, "catalog"));
	printf("事務別ファイル数 / Files by purpose and state (now)\n");
	printf("  %-28s %7s %8s %8s %11s\n", "PURPOSE", "ACTIVE", "REDACTED", "DISPOSED", "NO-SCHEDULE");
	json_array_foreach(json_object_get(r, "files_by_purpose"), i, x) {
		printf("  ");
		spif_text_pad(stdout, js(x, "purpose"), 28);
		printf(" %7lld %8lld %8lld %11lld\n", ji(x, "active"), ji(x, "redacted"), ji(x, "disposed"),
		       ji(x, "without_schedule"));
	}
	json_t *d = json_object_get(r, "disposals");
	printf("\n廃棄・削除の記録 / Disposals in the fiscal year (%zu certificate%s)\n", json_array_size(d),
	       json_array_size(d) == 1 ? "" : "s");
	json_array_foreach(d, i, x)
		printf("  %.10s %-16s %-9s %-8s %-9s %s  %s\n", js(x, "issued"), js(x, "certificate"), js(x, "kind"),
		       js(x, "file"), json_is_string(json_object_get(x, "confirmed")) ? "confirmed" : "unconfirmed",
		       js(x, "purpose"), js(x, "label"));
	json_t *ov = json_object_get(r, "overdue");
	printf("\n期限経過 / Overdue: due on or before %s and not disposed (%zu)\n", js(r, "as_of"), json_array_size(ov));
	json_array_foreach(ov, i, x)
		printf("  %-8s due %-10s %-18s %-6s %s%s\n", js(x, "file"), js(x, "due"), js(x, "schedule"),
		       js(x, "action"), json_is_string(json_object_get(x, "held_by")) ? "held by " : "not held: run spif retain purge",
		       json_is_string(json_object_get(x, "held_by")) ? js(x, "held_by") : "");
	json_t *h = json_object_get(r, "holds");
	printf("\n保全 / Holds: in force, or released in the fiscal year (%zu)\n", json_array_size(h));
	json_array_foreach(h, i, x) {
		printf("  %-8s on %-8s placed %.10s by %s: %s", js(x, "hold"),
		       json_is_string(json_object_get(x, "file")) ? js(x, "file") : js(x, "purpose"), js(x, "placed"),
		       js(x, "placed_by"), js(x, "reason"));
		if (json_is_string(json_object_get(x, "released")))
			printf("; released %.10s by %s: %s", js(x, "released"), js(x, "released_by"), js(x, "release_reason"));
		printf("\n");
	}
	json_t *pu = json_object_get(r, "purges");
	printf("\n消去処理 / Purges in the fiscal year (%zu)\n", json_array_size(pu));
	json_array_foreach(pu, i, x)
		printf("  purge %lld %.19s by %s: %lld disposed, %lld failed%s\n", ji(x, "purge"), js(x, "started"),
		       js(x, "operator"), ji(x, "disposed"), ji(x, "failed"),
		       json_is_string(json_object_get(x, "finished")) ? "" : " (interrupted)");
}

static int cmd_report(struct cli *c, const struct opts *o, int argc)
{
	struct spif_err e = {0};
	allow(c, o, "report", O_FY | O_JSON);
	nargs(c, "report", argc, 0, "");
	long today = spif_day_today();
	int y, m, d;
	spif_day_to_ymd(today, &y, &m, &d);
	int fy = o->fiscal_year ? o->fiscal_year : m >= 4 ? y : y - 1;
	long from = spif_day_from_ymd(fy, 4, 1), to = spif_day_from_ymd(fy + 1, 3, 31);
	char fb[11], tb[11], ab[11], fu[32], tu[32];
	spif_day_format(from, fb);
	spif_day_format(to, tb);
	spif_day_format(today, ab);
	local_midnight_utc(from, fu);
	local_midnight_utc(to + 1, tu);
	struct spif_catalog *cat = cli_catalog(c, 0);
	json_t *r = json_object();
	json_object_set_new(r, "fiscal_year", json_integer(fy));
	json_object_set_new(r, "from", json_string(fb));
	json_object_set_new(r, "to", json_string(tb));
	json_object_set_new(r, "as_of", json_string(ab));
	json_object_set_new(r, "catalog", json_string(spif_catalog_id(cat)));
	static const char *const k1[] = {"purpose", "#active", "#redacted", "#disposed", "#without_schedule", NULL};
	json_object_set_new(r, "files_by_purpose", report_rows(c, cat,
	        "SELECT purpose, SUM(state = 'active'), SUM(state = 'redacted'), SUM(state = 'disposed'),"
	        " SUM(state != 'disposed' AND schedule IS NULL) FROM files GROUP BY purpose ORDER BY purpose", k1,
	        NULL, NULL));
	static const char *const k2[] = {"issued", "certificate", "kind", "@file", "purpose", "label", "schedule",
	                                 "operator", "confirmed", NULL};
	json_object_set_new(r, "disposals", report_rows(c, cat,
	        "SELECT c.issued, c.id, c.kind, c.file_id, f.purpose, f.label, f.schedule, c.operator, k.confirmed"
	        " FROM certificates c LEFT JOIN files f ON f.id = c.file_id"
	        " LEFT JOIN confirmations k ON k.cert_id = c.id"
	        " WHERE c.issued >= ?1 AND c.issued < ?2 ORDER BY c.issued, c.id", k2, fu, tu));
	static const char *const k3[] = {"@file", "due", "schedule", "action", "state", "purpose", "label", NULL};
	json_t *ov = report_rows(c, cat,
	        "SELECT f.id, f.dispose_on, f.schedule, s.action, f.state, f.purpose, f.label"
	        " FROM schedules s CROSS JOIN files f"
	        " WHERE f.state IN ('active', CASE WHEN s.action = 'shred' THEN 'redacted' END)"
	        " AND f.schedule = s.name AND f.dispose_on <= ?1 ORDER BY f.dispose_on, f.id", k3, ab, NULL);
	size_t i;
	json_t *x;
	json_array_foreach(ov, i, x) {
		long long hid = spif_file_held(cat, spif_file_id_parse(js(x, "file")), &e);
		if (hid < 0)
			cli_die(c, &e);
		char hb[24];
		spif_hold_id_format(hid, hb);
		json_object_set_new(x, "held_by", hid ? json_string(hb) : json_null());
	}
	json_object_set_new(r, "overdue", ov);
	static const char *const k4[] = {"#id", "@file", "purpose", "reason", "placed_by", "placed", "released",
	                                 "released_by", "release_reason", NULL};
	json_t *h = report_rows(c, cat,
	        "SELECT id, file_id, purpose, reason, placed_by, placed, released, released_by, release_reason"
	        " FROM holds WHERE released IS NULL OR (released >= ?1 AND released < ?2) ORDER BY id", k4, fu, tu);
	json_array_foreach(h, i, x) {
		char hb[24];
		spif_hold_id_format(ji(x, "id"), hb);
		json_object_set_new(x, "hold", json_string(hb));
		json_object_del(x, "id");
	}
	json_object_set_new(r, "holds", h);
	static const char *const k5[] = {"#purge", "started", "finished", "operator", "#plan", "#disposed", "#failed",
	                                 NULL};
	json_object_set_new(r, "purges", report_rows(c, cat,
	        "SELECT id, started, finished, operator, COALESCE(plan_id, 0), disposed, failed FROM purges"
	        " WHERE started >= ?1 AND started < ?2 ORDER BY id", k5, fu, tu));
	if (o->seen & O_JSON)
		print_json(r);
	else {
		report_text(r);
		json_decref(r);
	}
	spif_catalog_close(cat);
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o = {0};
	cli_init(&c, "spif-retain", argc, argv);
	/* a purge stops between batches, never inside one */
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	parse_opts(&c, &o, argc, argv);
	if (optind >= argc)
		cli_usage(&c, "missing subcommand: schedule, assign, event, hold, release, holds, due, plan, purge "
		              "or report");
	const char *sub = argv[optind++];
	int n = argc - optind;
	char **args = argv + optind;
	int rc;
	if (strcmp(sub, "schedule") == 0)
		rc = cmd_schedule(&c, &o, n, args);
	else if (strcmp(sub, "assign") == 0)
		rc = cmd_assign(&c, &o, n, args);
	else if (strcmp(sub, "event") == 0)
		rc = cmd_event(&c, &o, n, args);
	else if (strcmp(sub, "hold") == 0)
		rc = cmd_hold(&c, &o, n, args);
	else if (strcmp(sub, "release") == 0)
		rc = cmd_release(&c, &o, n, args);
	else if (strcmp(sub, "holds") == 0)
		rc = cmd_holds(&c, &o, n);
	else if (strcmp(sub, "due") == 0)
		rc = cmd_due(&c, &o, n);
	else if (strcmp(sub, "plan") == 0)
		rc = cmd_plan(&c, &o, n);
	else if (strcmp(sub, "purge") == 0)
		rc = cmd_purge(&c, &o, n);
	else if (strcmp(sub, "report") == 0)
		rc = cmd_report(&c, &o, n);
	else
		cli_usage(&c, "%s: unknown subcommand (schedule, assign, event, hold, release, holds, due, plan, purge, "
		              "report)", sub);
	cli_done(&c);
	return rc;
}
