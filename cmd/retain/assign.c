/* assign.c - spif retain assign and event: a file's schedule and the
 * event dates it counts from.  Each is one transaction with its event;
 * a vault copy that moved to another disposal month is finished after
 * the commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retain.h"

static void print_dates(const struct spif_retention *r, const struct spif_schedule *s)
{
	char fid[24], ru[11], dd[11];
	spif_file_id_format(r->file_id, fid);
	spif_day_format(r->retain_until, ru);
	spif_day_format(r->dispose_on, dd);
	if (r->dispose_on == SPIF_DAY_NONE)
		printf(_("%s: %s, kept until its %s is recorded (spif retain event %s %s=YYYY-MM-DD)\n"), fid,
		       r->schedule, s->from.event, fid, s->from.event);
	else
		printf(_("%s: %s, retain until %s, due %s (%s)\n"), fid, r->schedule, ru, dd, spif_action_name(s->action));
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

int cmd_assign(struct cli *c, const struct opts *o, int argc, char **argv)
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

int cmd_event(struct cli *c, const struct opts *o, int argc, char **argv)
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
