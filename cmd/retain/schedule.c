/* schedule.c - spif retain schedule add|ls|show|rm: the rules a file is
 * kept by.  A read changes nothing: until a write installs them, the
 * policy defaults are listed as they will be. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_query.h"
#include "retain.h"
#include "retention_report.h"
#include "text.h"

static void schedule_text(const struct spif_schedule *s, long long live, long long all)
{
	char period[16], grace[16], cutoff[24], from[96];
	spif_period_format(&s->period, period);
	spif_period_format(&s->grace, grace);
	spif_cutoff_format(&s->cutoff, cutoff);
	spif_from_format(&s->from, from);
	/* a label a line, each looked up whole (its translation pads it) */
	printf(_("name:      %s%s\n"), s->name, s->is_default ? _(" (policy default)") : "");
	printf(_("period:    %s\n"), period);
	printf(_("from:      %s\n"), from);
	printf(_("cutoff:    %s\n"), cutoff);
	printf(_("grace:     %s\n"), grace);
	printf(_("action:    %s\n"), spif_action_name(s->action));
	printf(_("mode:      %s\n"), spif_mode_name(s->mode));
	printf(_("basis:     %s\n"), s->basis[0] ? s->basis : "-");
	printf(_("created:   %s\n"), s->created[0] ? s->created : _("(not yet: a default, installed by the first change)"));
	printf(_("files:     %lld not disposed, %lld in all\n"), live, all);
}

int cmd_schedule(struct cli *c, const struct opts *o, int argc, char **argv)
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
	if (strcmp(sub, "bind") == 0) {
		/* retention by default: a purpose's files get this schedule when
		 * ingested without --schedule */
		allow(c, o, "schedule bind", O_PURPOSE);
		nargs(c, "schedule bind", argc - 1, 1, "give the schedule's NAME");
		if (!o->purpose || !*o->purpose)
			cli_usage(c, "schedule bind: --purpose is required (the 事務 whose files get it)");
		char *purpose = masked(o->purpose);
		struct spif_catalog *cat = begin_write(c, 1, 1);
		if (spif_schedule_bind(cat, argv[1], purpose, &e) < 0)
			cli_die(c, &e);
		commit(c, cat);
		spif_catalog_close(cat);
		printf(_("files of %s ingested without --schedule get %s\n"), purpose, argv[1]);
		free(purpose);
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
		struct spif_schedule *list;
		size_t n;
		if (spif_schedule_list(cat, &list, &n, &e) < 0)
			cli_die(c, &e);
		if (!show && !(o->seen & O_JSON))
			cli_heading((const char *const[]){N_("NAME"), N_("PERIOD"), N_("FROM"),
			                                  N_("CUTOFF"), N_("GRACE"), N_("ACTION"),
			                                  N_("MODE")},
			            (const int[]){-18, -7, -24, -15, -6, -7, 0}, 7);
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
				cli_print_json(j);
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
	cli_usage(c, "schedule %s: unknown (add, ls, show, rm, bind)", sub);
}

/* ---- unscheduled: files nothing will ever dispose of ------------------- */

struct unsched {
	int json;
	long long n;
};

static int unsched_row(void *ctx, const struct spif_file *f)
{
	struct unsched *u = ctx;
	if (f->schedule || f->state == SPIF_FILE_DISPOSED)
		return 0;
	char fid[24];
	spif_file_id_format(f->id, fid);
	if (u->json)
		cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", fid, "state", spif_file_state_name(f->state),
		                     "received", f->received, "purpose", f->purpose, "label", f->label));
	else {
		if (!u->n)
			cli_heading((const char *const[]){N_("ID"), N_("STATE"), N_("RECEIVED"),
			                                  N_("PURPOSE"), N_("LABEL")},
			            (const int[]){-8, -9, -10, -20, 0}, 5);
		printf("%-8s %-9s %-10s ", fid, spif_file_state_name(f->state), f->received);
		spif_text_pad(stdout, f->purpose, 20);
		printf(" %s\n", f->label);
	}
	u->n++;
	return 0;
}

int cmd_unscheduled(struct cli *c, const struct opts *o, int argc)
{
	struct spif_err e = {0};
	allow(c, o, "unscheduled", O_JSON);
	nargs(c, "unscheduled", argc, 0, "");
	struct spif_catalog *cat = cli_catalog_if_exists(c);
	struct unsched u = {.json = (o->seen & O_JSON) != 0};
	if (cat && spif_catalog_list_files(cat, -1, unsched_row, &u, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}
