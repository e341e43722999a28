/* hold.c - spif retain hold, release and holds: a hold stops disposal of
 * a file, or of every file of a purpose, whatever its dates, until it is
 * released; both are kept in the catalog with who and why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "retain.h"
#include "retention_report.h"
#include "text.h"

int cmd_hold(struct cli *c, const struct opts *o, int argc, char **argv)
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
		long long nf = 0;
		if (spif_purpose_files(cat, purpose, &nf, &e) < 0)
			cli_note(c, "%s: %s (the hold itself is committed)", hb, e.msg);
		else if (!nf)
			cli_note(c, "%s: no file that is not disposed has the purpose \"%s\" now; the hold will apply "
			         "to files registered with it later", hb, purpose);
	}
	free(reason);
	free(purpose);
	spif_catalog_close(cat);
	return 0;
}

int cmd_release(struct cli *c, const struct opts *o, int argc, char **argv)
{
	struct spif_err e = {0};
	allow(c, o, "release", O_REASON);
	nargs(c, "release", argc, 1, "give the HOLD id (H000001)");
	long long hid = spif_hold_id_parse(argv[0]);
	if (hid < 0)
		cli_usage(c, "%s: not a hold id (H000001)", argv[0]);
	if (!o->reason || !*o->reason)
		cli_usage(c, "release: --reason is required");
	/* an incident hold is released by a second person: an approver who
	 * did not place it (operator.h; the gate says yes without operators) */
	int incident = 0;
	char placed_by[64];
	struct spif_catalog *cat = cli_catalog(c, 0);
	if (spif_hold_kind(cat, hid, &incident, placed_by, sizeof placed_by, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	if (incident) {
		char obj[32];
		snprintf(obj, sizeof obj, "hold:%lld", hid);
		cli_permit(c, (struct spif_request){.act = SPIF_ACT_RELEASE, .object = obj});
	}
	char *reason = masked(o->reason);
	cat = begin_write(c, 0, 0);
	if (spif_hold_release(cat, hid, reason, &e) < 0)
		cli_die(c, &e);
	commit(c, cat);
	free(reason);
	spif_catalog_close(cat);
	return 0;
}

struct holds_out {
	int json, first;
};

static int hold_row(void *ctx, const struct spif_hold *h)
{
	struct holds_out *out = ctx;
	char hid[24], fid[24] = "";
	spif_hold_id_format(h->id, hid);
	if (h->file_id)
		spif_file_id_format(h->file_id, fid);
	if (out->json) {
		json_t *j = json_object();
		json_object_set_new(j, "hold", json_string(hid));
		json_object_set_new(j, "file", h->file_id ? json_string(fid) : json_null());
		json_object_set_new(j, "purpose", h->purpose ? json_string(h->purpose) : json_null());
		json_object_set_new(j, "reason", json_string(h->reason));
		json_object_set_new(j, "kind", json_string(h->kind ? h->kind : "hold"));
		json_object_set_new(j, "placed_by", json_string(h->placed_by));
		json_object_set_new(j, "placed", json_string(h->placed));
		json_object_set_new(j, "released", h->released ? json_string(h->released) : json_null());
		json_object_set_new(j, "released_by", h->released_by ? json_string(h->released_by) : json_null());
		json_object_set_new(j, "release_reason", h->release_reason ? json_string(h->release_reason) : json_null());
		cli_print_json(j);
	} else {
		if (out->first)
			cli_heading((const char *const[]){N_("HOLD"), N_("ON"), N_("PLACED"), N_("BY"),
			                                  N_("RELEASED"), N_("REASON")},
			            (const int[]){-8, -24, -10, -12, -10, 0}, 6);
		char on[256];
		snprintf(on, sizeof on, "%s%s", h->file_id ? fid : "purpose ", h->file_id ? "" : h->purpose);
		printf("%-8s ", hid);
		spif_text_pad(stdout, on, 24);
		/* the legal dates the hold was placed and released (calendar.h) */
		char placed[11], released[11];
		spif_legal_date_of_utc(h->placed, placed);
		spif_legal_date_of_utc(h->released, released);
		printf(" %s %-12s %-10s %s\n", placed, h->placed_by, released, h->reason);
	}
	out->first = 0;
	return 0;
}

int cmd_holds(struct cli *c, const struct opts *o, int argc)
{
	struct spif_err e = {0};
	allow(c, o, "holds", O_ALL | O_JSON);
	nargs(c, "holds", argc, 0, "");
	struct spif_catalog *cat = cli_catalog(c, 0);
	struct holds_out out = {.json = (o->seen & O_JSON) != 0, .first = 1};
	if (spif_holds_each(cat, (o->seen & O_ALL) != 0, hold_row, &out, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}
