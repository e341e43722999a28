/* incident.c - spif incident open | note | close | ls | show: a suspected
 * leak kept as catalog rows (lib/incident.h).
 *
 * Opening one names the files involved; each gets an incident hold first,
 * in the same transaction, so nothing involved can be disposed of while
 * the incident is open, and closing it releases nothing (an approver
 * releases each hold: spif retain release).  Every change is an event.
 * Texts are refused when they may hold an Individual Number. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cli.h"
#include "incident.h"
#include "retention.h"
#include "text.h"
#include "xalloc.h"

static const char usage_text[] = N_(
	"usage: spif incident open --summary TEXT --file ID [--file ID...]\n"
	"       spif incident note ID --note TEXT\n"
	"       spif incident close ID --note TEXT\n"
	"       spif incident ls [--all] [--json]\n"
	"       spif incident show ID [--json]\n"
	"\n"
	"Incidents (a lost medium, a wrong recipient, unexplained reads) kept in the\n"
	"catalog: who opened one and why, the files involved with their record and\n"
	"person counts, notes, and who closed it.  Opening one places an incident\n"
	"hold on every file it names; closing it releases none (an approver releases\n"
	"them: spif retain release).\n"
	"\n"
	"  --summary TEXT  open: what happened (no Individual Number)\n"
	"  --file ID       open: a file involved (F000001); repeat for more\n"
	"  --note TEXT     note, close: what was found or decided\n"
	"  --all           ls: closed incidents too\n"
	"  --json          ls, show: JSON\n"
	"  --home DIR      the catalog's home\n"
	"\n"
	"Exit: 0 ok, 64 usage, 65 unknown file or incident, or a closed one, 66 no\n"
	"catalog, 75 catalog busy, 77 permission.\n");

struct opts {
	const char *summary, *note;
	long long *files;
	size_t nfiles;
	int all, json;
};

static int cmd_open(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	if (!o->summary)
		cli_usage(c, "open needs --summary TEXT: what happened");
	if (!o->nfiles)
		cli_usage(c, "open needs --file ID: the files involved");
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_INCIDENT});
	struct spif_catalog *cat = cli_catalog(c, 0);
	char id[32];
	if (spif_catalog_begin(cat, &e) < 0 || spif_incident_open(cat, o->summary, o->files, o->nfiles, id, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_rollback(cat);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	printf("%s\n", id);
	cli_note(c, "%s opened; %zu file%s held (spif retain holds)", id, o->nfiles,
	        o->nfiles == 1 ? "" : "s");
	return 0;
}

static int cmd_change(struct cli *c, const char *sub, const char *id, const struct opts *o)
{
	struct spif_err e = {0};
	if (!spif_incident_id_valid(id))
		cli_usage(c, "%s: not an incident id (INC-2026-000001)", id);
	if (!o->note)
		cli_usage(c, "%s needs --note TEXT", sub);
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_INCIDENT, .object = id});
	struct spif_catalog *cat = cli_catalog(c, 0);
	int close = strcmp(sub, "close") == 0;
	if (spif_catalog_begin(cat, &e) < 0 ||
	    (close ? spif_incident_close(cat, id, o->note, &e) : spif_incident_note(cat, id, o->note, &e)) < 0 ||
	    spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_rollback(cat);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	if (close)
		cli_note(c, "%s closed; its holds stay until an approver releases them (spif retain release)", id);
	return 0;
}

static json_t *jopt(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *incident_json(const struct spif_incident *in)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "id", in->id, "state", in->state, "opened", in->opened,
	                 "opened_by", in->opened_by, "summary", in->summary, "closed", jopt(in->closed), "closed_by",
	                 jopt(in->closed_by), "close_note", jopt(in->close_note));
}

static void print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (s)
		puts(s);
	free(s);
	json_decref(j);
}

static int ls_row(void *ctx, const struct spif_incident *in)
{
	const int *json = ctx;
	if (*json) {
		print_json(incident_json(in));
		return 0;
	}
	char day[11];
	spif_legal_date_of_utc(in->opened, day);
	printf("%-16s %-6s %-10s %-12s %s\n", in->id, in->state, day, in->opened_by, in->summary);
	return 0;
}

static int cmd_ls(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_AUDIT});
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	if (!o->json)
		cli_heading((const char *const[]){N_("ID"), N_("STATE"), N_("OPENED"), N_("BY"), N_("SUMMARY")},
		            (const int[]){-16, -6, -10, -12, 0}, 5);
	if (spif_incident_list(cat, o->all, ls_row, (void *)&o->json, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

struct show {
	int json;
	json_t *files, *notes;
};

static int show_file(void *ctx, const struct spif_incident_file *f)
{
	struct show *s = ctx;
	char fid[24], hid[24] = "-";
	spif_file_id_format(f->file_id, fid);
	if (f->hold_id)
		spif_hold_id_format(f->hold_id, hid);
	if (s->json) {
		json_array_append_new(s->files, json_pack("{s:s,s:s,s:I,s:I,s:o,s:s}", "file", fid, "label", f->label,
		                                          "records", (json_int_t)f->records, "persons",
		                                          (json_int_t)f->persons, "hold",
		                                          f->hold_id ? json_string(hid) : json_null(), "added",
		                                          f->added));
		return 0;
	}
	printf(_("  %-8s %-8s %8lld records %8lld persons  "), fid, hid, f->records, f->persons);
	spif_text_put(stdout, f->label);
	printf("\n");
	return 0;
}

static int show_note(void *ctx, const struct spif_incident_note *nt)
{
	struct show *s = ctx;
	if (s->json) {
		json_array_append_new(s->notes, json_pack("{s:s,s:s,s:s}", "time", nt->time, "operator", nt->operator_,
		                                          "note", nt->note));
		return 0;
	}
	char when[48];
	spif_time_for_people(nt->time, when);
	printf("  %s %s: %s\n", when, nt->operator_, nt->note);
	return 0;
}

static int cmd_show(struct cli *c, const char *id, const struct opts *o)
{
	struct spif_err e = {0};
	if (!spif_incident_id_valid(id))
		cli_usage(c, "%s: not an incident id (INC-2026-000001)", id);
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_AUDIT, .object = id});
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_incident in;
	if (spif_incident_get(cat, id, &in, &e) < 0)
		cli_die(c, &e);
	struct show s = {.json = o->json, .files = json_array(), .notes = json_array()};
	if (!o->json) {
		/* times for a person: local, with the zone (JSON keeps UTC) */
		char opened[48], closed[48];
		spif_time_for_people(in.opened, opened);
		printf(_("%s (%s)\nopened %s by %s\nsummary: %s\n"), in.id, in.state, opened, in.opened_by, in.summary);
		if (in.closed) {
			spif_time_for_people(in.closed, closed);
			printf(_("closed %s by %s: %s\n"), closed, in.closed_by, in.close_note ? in.close_note : "");
		}
		printf("%s", _("files:\n"));
	}
	if (spif_incident_files(cat, id, show_file, &s, &e) < 0)
		cli_die(c, &e);
	if (!o->json)
		printf("%s", _("notes:\n"));
	if (spif_incident_notes(cat, id, show_note, &s, &e) < 0)
		cli_die(c, &e);
	if (o->json) {
		json_t *j = incident_json(&in);
		json_object_set_new(j, "files", s.files);
		json_object_set_new(j, "notes", s.notes);
		print_json(j);
	} else {
		json_decref(s.files);
		json_decref(s.notes);
	}
	spif_incident_free(&in);
	spif_catalog_close(cat);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o = {0};
	cli_init(&c, "spif-incident", argc, argv);
	enum { L_SUMMARY = 256, L_FILE, L_NOTE, L_ALL, L_JSON, L_HOME };
	static const struct option longopts[] = {
		{"summary", required_argument, NULL, L_SUMMARY}, {"file", required_argument, NULL, L_FILE},
		{"note", required_argument, NULL, L_NOTE},       {"all", no_argument, NULL, L_ALL},
		{"json", no_argument, NULL, L_JSON},             {"home", required_argument, NULL, L_HOME},
		{"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0},
	};
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case L_SUMMARY: o.summary = optarg; break;
		case L_FILE: {
			long long id = spif_file_id_parse(optarg);
			if (id <= 0)
				cli_usage(&c, "--file %s: not a file id (F000001)", optarg);
			o.files = xreallocarray(o.files, o.nfiles + 1, sizeof *o.files);
			o.files[o.nfiles++] = id;
			break;
		}
		case L_NOTE: o.note = optarg; break;
		case L_ALL: o.all = 1; break;
		case L_JSON: o.json = 1; break;
		case L_HOME: c.home_opt = optarg; break;
		case 'h': cli_help(usage_text); cli_done(&c); return 0;
		default: cli_bad_option(&c, argc, argv);
		}
	}
	int n = argc - optind, rc;
	const char *sub = n ? argv[optind] : "";
	int change = strcmp(sub, "note") == 0 || strcmp(sub, "close") == 0;
	if (strcmp(sub, "open") == 0 && n == 1) {
		if (o.note || o.all || o.json)
			cli_usage(&c, "open takes --summary and --file");
		rc = cmd_open(&c, &o);
	} else if (change && n == 2) {
		if (o.summary || o.nfiles || o.all || o.json)
			cli_usage(&c, "%s takes only --note", sub);
		rc = cmd_change(&c, sub, argv[optind + 1], &o);
	} else if (strcmp(sub, "ls") == 0 && n == 1) {
		if (o.summary || o.nfiles || o.note)
			cli_usage(&c, "ls takes --all and --json");
		rc = cmd_ls(&c, &o);
	} else if (strcmp(sub, "show") == 0 && n == 2) {
		if (o.summary || o.nfiles || o.note || o.all)
			cli_usage(&c, "show takes only --json");
		rc = cmd_show(&c, argv[optind + 1], &o);
	} else
		cli_usage(&c, "expected: open, note ID, close ID, ls or show ID");
	free(o.files);
	cli_done(&c);
	return rc;
}
