/* report.c - spif retain report: the annual self-inspection (自己点検),
 * as one JSON object (--json) or as text for a person.  The report itself
 * is lib/retention_report's; this file only chooses the fiscal year and
 * lays it out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "retain.h"
#include "retention_report.h"
#include "text.h"

static const char *js(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "-";
}

/* The legal date of a UTC time in the report (calendar.h): a certificate
 * issued at 08:40 JST on 1 April belongs to the new fiscal year and says so. */
static const char *jdate(json_t *o, const char *k, char out[11])
{
	spif_legal_date_of_utc(json_string_value(json_object_get(o, k)), out);
	return out;
}

static long long ji(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void report_text(json_t *r)
{
	size_t i;
	json_t *x;
	printf(_("保存・廃棄状況報告 / Retention report: fiscal year %lld (%s to %s), as of %s\n"), ji(r, "fiscal_year"),
	       js(r, "from"), js(r, "to"), js(r, "as_of"));
	printf(_("catalog %s\n\n"), js(r, "catalog"));
	fputs(_("事務別ファイル数 / Files by purpose and state (now)\n"), stdout);
	fputs("  ", stdout);
	cli_heading((const char *const[]){N_("PURPOSE"), N_("ACTIVE"), N_("REDACTED"), N_("DISPOSED"),
	                                  N_("NO-SCHEDULE")},
	            (const int[]){-28, 7, 8, 8, 11}, 5);
	json_array_foreach(json_object_get(r, "files_by_purpose"), i, x) {
		printf("  ");
		spif_text_pad(stdout, js(x, "purpose"), 28);
		printf(" %7lld %8lld %8lld %11lld\n", ji(x, "active"), ji(x, "redacted"), ji(x, "disposed"),
		       ji(x, "without_schedule"));
	}
	json_t *d = json_object_get(r, "disposals");
	printf(_("\n廃棄・削除の記録 / Disposals in the fiscal year (%zu certificate%s)\n"), json_array_size(d),
	       json_array_size(d) == 1 ? "" : "s");
	char d1[11], d2[11], tp[48];
	json_array_foreach(d, i, x)
		printf("  %s %-16s %-9s %-8s %-9s %s  %s\n", jdate(x, "issued", d1), js(x, "certificate"), js(x, "kind"),
		       js(x, "file"), json_is_string(json_object_get(x, "confirmed")) ? "confirmed" : "unconfirmed",
		       js(x, "purpose"), js(x, "label"));
	json_t *ov = json_object_get(r, "overdue");
	printf(_("\n期限経過 / Overdue: due on or before %s and not disposed (%zu)\n"), js(r, "as_of"), json_array_size(ov));
	json_array_foreach(ov, i, x)
		printf("  %-8s due %-10s %-18s %-6s %s%s\n", js(x, "file"), js(x, "due"), js(x, "schedule"),
		       js(x, "action"), json_is_string(json_object_get(x, "held_by")) ? "held by " : "not held: run spif retain purge",
		       json_is_string(json_object_get(x, "held_by")) ? js(x, "held_by") : "");
	json_t *h = json_object_get(r, "holds");
	printf(_("\n保全 / Holds: in force, or released in the fiscal year (%zu)\n"), json_array_size(h));
	json_array_foreach(h, i, x) {
		printf("  %-8s on %-8s placed %s by %s: %s", js(x, "hold"),
		       json_is_string(json_object_get(x, "file")) ? js(x, "file") : js(x, "purpose"), jdate(x, "placed", d1),
		       js(x, "placed_by"), js(x, "reason"));
		if (json_is_string(json_object_get(x, "released")))
			printf("; released %s by %s: %s", jdate(x, "released", d2), js(x, "released_by"), js(x, "release_reason"));
		printf("\n");
	}
	json_t *pu = json_object_get(r, "purges");
	printf(_("\n消去処理 / Purges in the fiscal year (%zu)\n"), json_array_size(pu));
	json_array_foreach(pu, i, x) {
		spif_time_for_people(json_string_value(json_object_get(x, "started")), tp);
		printf(_("  purge %lld %s by %s: %lld disposed, %lld failed%s\n"), ji(x, "purge"), tp,
		       js(x, "operator"), ji(x, "disposed"), ji(x, "failed"),
		       json_is_string(json_object_get(x, "finished")) ? "" : " (interrupted)");
	}
}

int cmd_report(struct cli *c, const struct opts *o, int argc)
{
	struct spif_err e = {0};
	allow(c, o, "report", O_FY | O_JSON);
	nargs(c, "report", argc, 0, "");
	long today = spif_day_today();
	int y, m, d;
	spif_day_to_ymd(today, &y, &m, &d);
	int fy = o->fiscal_year ? o->fiscal_year : m >= 4 ? y : y - 1;
	struct spif_catalog *cat = cli_catalog(c, 0);
	json_t *r = spif_retention_report(cat, fy, today, &e);
	if (!r)
		cli_die(c, &e);
	if (o->seen & O_JSON)
		cli_print_json(r);
	else {
		report_text(r);
		json_decref(r);
	}
	spif_catalog_close(cat);
	return 0;
}
