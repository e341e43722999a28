/* main.c - spif retain: how long each specific personal information file
 * is kept, what stops it going, and the purge that disposes of what is due.
 * This file reads the options and dispatches; each subcommand has its own
 * file (schedule.c, assign.c, hold.c, due.c, plan.c, purge.c with child.c,
 * report.c) and every query is in lib/ (retention, purge,
 * retention_report).
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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynumber.h"
#include "cli_signal.h"
#include "retain.h"

static const char usage_text[] = N_(
	"usage: spif retain schedule add NAME --period Ny|Nm|Nd [--from received|created|event:NAME[+Nd]]\n"
	"           [--cutoff none|fiscal-year|calendar-year|next-year:MM-DD] [--grace PERIOD]\n"
	"           [--action shred|redact] [--mode governance|compliance] [--basis TEXT]\n"
	"       spif retain schedule ls|show NAME|rm NAME [--json]\n"
	"       spif retain schedule bind NAME --purpose TEXT\n"
	"       spif retain assign ID --schedule NAME [--reason TEXT]\n"
	"       spif retain event ID NAME=YYYY-MM-DD [--reason TEXT]\n"
	"       spif retain hold (ID | --purpose TEXT) --reason TEXT\n"
	"       spif retain release HOLD --reason TEXT\n"
	"       spif retain holds [--all] [--json]\n"
	"       spif retain due [--as-of YYYY-MM-DD] [--json]\n"
	"       spif retain plan [--as-of YYYY-MM-DD] > FILE\n"
	"       spif retain approve FILE\n"
	"       spif retain purge [--dry-run] [--plan FILE] [--syslog] [--sign KEYID] [--wait SECONDS]\n"
	"       spif retain report [--fiscal-year YYYY] [--json]\n"
	"       spif retain unscheduled [--json]\n"
	"\n"
	"Retention schedules, holds, and the purge that disposes of what is due.\n"
	"\n"
	"  schedule add     a rule: keep for PERIOD counted from the start (the\n"
	"                   received date by default), after a cutoff (fiscal-year:\n"
	"                   from 1 April of the next fiscal year), plus --grace before\n"
	"                   disposal; --action shred (default) or redact (keep the\n"
	"                   record without its numbers); --mode compliance: the date\n"
	"                   can only move later\n"
	"  schedule bind    retention by default: files of that purpose ingested\n"
	"                   without --schedule get this schedule\n"
	"  assign           give file ID a schedule (an earlier date needs --reason in\n"
	"                   governance mode, and is refused in compliance mode)\n"
	"  event            record an event date (退職日 ...) a schedule counts from\n"
	"  hold, release    a hold stops disposal of a file, or of every file of a\n"
	"                   purpose, whatever its dates; hold prints the hold id\n"
	"  due              what is due: past its disposal date, not held, not disposed\n"
	"                   (--as-of: a date to plan for)\n"
	"  plan             the due list with its SHA-256, registered in the catalog,\n"
	"                   for an approval (廃棄決裁); purge --plan disposes of exactly it\n"
	"  approve          the approval, by an approver who did not make the plan; with\n"
	"                   purge_requires_plan (spif.conf; the default when the catalog\n"
	"                   has operators) a purge disposes only of approved plans, and\n"
	"                   without --plan of the oldest approved plan not yet applied\n"
	"  purge            dispose of everything due today: shred (certificate;\n"
	"                   crypto-erase for vault copies) or redact (certificate of\n"
	"                   the removal); one line per disposal on stdout, per failure\n"
	"                   on stderr, then a summary; silent when nothing is due;\n"
	"                   --wait: for a shred holding the lock (default 300 s on a\n"
	"                   terminal, else 600); a lock held past purge_lock_alarm\n"
	"                   (spif.conf, 6h) fails at once, saying who holds it\n"
	"  report           the annual self-inspection: files by purpose and state,\n"
	"                   disposals and certificates, overdue files, holds\n"
	"  unscheduled      the files without a schedule, which nothing will dispose of\n"
	"\n"
	"  --home DIR       the spif home (else $SPIF_HOME, spif.conf, ~/.local/share/spif)\n"
	"\n"
	"Exit: 0 ok (purge: all disposed, or nothing due), 1 purge: some failed (the\n"
	"rest were disposed) or the lock is held past purge_lock_alarm, 64 usage (a bad period, date or option), 65 bad data (an\n"
	"unknown file, schedule or hold, an event before the file was received, an\n"
	"edited plan), 66 no catalog, 69 signing key unavailable, 74 I/O, 75 another\n"
	"purge holds the lock (or the catalog is busy), 77 refused by a compliance\n"
	"schedule, or permission.\n");

volatile sig_atomic_t stop_flag;

static const char *const opt_names[] = {"--period", "--from", "--cutoff", "--grace", "--action", "--mode",
                                        "--basis", "--schedule", "--reason", "--purpose", "--as-of", "--json",
                                        "--dry-run", "--plan", "--syslog", "--fiscal-year", "--all", "--sign",
                                        "--wait"};

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
	{"wait", required_argument, NULL, 'W'},
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
		case 'W': o->wait = optarg; o->seen |= O_WAIT; break;
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
		case 'h': cli_help(usage_text); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
}

/* Options that do not belong to the subcommand are a usage error, not
 * silently ignored: a --reason that was never recorded would mislead. */
void allow(const struct cli *c, const struct opts *o, const char *sub, unsigned ok)
{
	unsigned extra = o->seen & ~ok;
	for (size_t i = 0; extra && i < sizeof opt_names / sizeof *opt_names; i++)
		if (extra & (1u << i))
			cli_usage(c, "%s does not apply to %s", opt_names[i], sub);
}

void nargs(const struct cli *c, const char *sub, int have, int want, const char *what)
{
	if (have != want)
		cli_usage(c, "%s: %s", sub, have < want ? what : "too many arguments");
}

long long file_arg(const struct cli *c, const char *s)
{
	long long id = spif_file_id_parse(s);
	if (id < 0)
		cli_usage(c, "%s: not a file id (F000001)", s);
	return id;
}

long day_arg(const struct cli *c, const char *opt, const char *s)
{
	long d;
	if (spif_day_parse(s, &d) < 0)
		cli_usage(c, "%s %s: not a date (YYYY-MM-DD)", opt, s);
	return d;
}

/* A text an operator typed, going into the catalog: never a number. */
char *masked(const char *s)
{
	char *m = xstrdup(s ? s : "");
	spif_mask_numbers(m);
	return m;
}

/* A write: the catalog (created for the schedule commands, which come
 * before anything is ingested), a transaction, and the default schedules
 * on first use, inside it, so that a refused command leaves nothing. */
struct spif_catalog *begin_write(struct cli *c, int create, int defaults)
{
	struct spif_err e = {0};
	struct spif_catalog *cat = cli_catalog(c, create ? SPIF_CAT_CREATE : 0);
	if (spif_catalog_begin(cat, &e) < 0 || (defaults && spif_retention_defaults(cat, NULL, &e) < 0))
		cli_die(c, &e);
	return cat;
}

void commit(struct cli *c, struct spif_catalog *cat)
{
	struct spif_err e = {0};
	if (spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
}

/* ---- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o = {0};
	cli_init(&c, "spif-retain", argc, argv);
	/* a purge stops between batches, never inside one */
	cli_signals(&stop_flag);
	parse_opts(&c, &o, argc, argv);
	if (optind >= argc)
		cli_usage(&c, "missing subcommand: schedule, assign, event, hold, release, holds, due, plan, purge "
		              "or report");
	const char *sub = argv[optind++];
	int n = argc - optind;
	char **args = argv + optind;
	int rc;
	cli_permit_sub(&c, sub, n > 0 ? args[0] : NULL, NULL);
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
	else if (strcmp(sub, "approve") == 0)
		rc = cmd_approve(&c, &o, n, args);
	else if (strcmp(sub, "purge") == 0)
		rc = cmd_purge(&c, &o, n);
	else if (strcmp(sub, "report") == 0)
		rc = cmd_report(&c, &o, n);
	else if (strcmp(sub, "unscheduled") == 0)
		rc = cmd_unscheduled(&c, &o, n);
	else
		cli_usage(&c, "%s: unknown subcommand (schedule, assign, event, hold, release, holds, due, plan, approve, "
		              "purge, report, unscheduled)", sub);
	cli_done(&c);
	return rc;
}
