/* report.c - spif catalog report --ledger disposal|checkout|files: the
 * ledgers an office prints and stamps, as text or an A4 PDF; and the one
 * output path that spif catalog cert show --format pdf shares.  The rows
 * are lib/ledger's, the layout lib/ledger_pdf's; here are only the
 * options, and where the bytes go: -o FILE, whole or absent (atomic.h),
 * else stdout, but never a PDF onto a terminal. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "catalog_query.h"
#include "cli.h"
#include "home.h"
#include "ledger.h"
#include "ledger_pdf.h"
#include "retention.h"

#include "catalog_cmd.h"

/* Fontconfig keeps, for the life of the process, a pattern it never frees
 * (fontconfig 2.14: FcConfig's font set, unreachable once Pango's font map
 * is released).  Releasing it with FcFini aborts inside cairo whenever a
 * scaled font is still cached (a failed write, some layouts), so the leak
 * checker of the sanitised build is told about that library's own
 * allocations only; spif's, and every other library's, stay fatal. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}
/* and the list of what was suppressed is not printed: stderr is talk */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

/* --format: 0 text, 1 pdf; the refusals before anything is opened. */
int table_format(struct cli *c, const struct opts *o, int json_ok)
{
	if (!o->format || strcmp(o->format, "text") == 0)
		return 0;
	if (strcmp(o->format, "pdf") == 0) {
		if (!o->out && isatty(1))
			cli_usage(c, "--format pdf: not onto a terminal: give -o FILE or redirect stdout");
		return 1;
	}
	if (json_ok && strcmp(o->format, "json") == 0)
		return 2;
	cli_usage(c, "--format %s: unknown (%s)", o->format, json_ok ? "text, json, pdf" : "text, pdf");
}

void table_emit(struct cli *c, const struct opts *o, const struct spif_table *t, int pdf)
{
	struct spif_err e = {0};
	struct spif_atomic a;
	int fd = 1;
	if (o->out) {
		if (spif_atomic_open(&a, o->out, spif_file_mode(&c->conf), &e) < 0)
			cli_die(c, &e);
		fd = a.fd;
	}
	int rc = pdf ? spif_table_pdf(t, fd, &e) : spif_ledger_text(t, fd, &e);
	if (o->out) {
		if (rc < 0)
			spif_atomic_abort(&a);
		else
			rc = spif_atomic_commit(&a, &e);
	}
	if (rc < 0)
		cli_die(c, &e);
}

int cmd_report(struct cli *c, const struct opts *o)
{
	int kind = spif_ledger_parse(o->ledger);
	if (!o->ledger)
		cli_usage(c, "report: --ledger disposal|checkout|files is required");
	if (kind < 0)
		cli_usage(c, "--ledger %s: unknown (disposal, checkout, files)", o->ledger);
	long today = spif_day_today();
	int y, m, d;
	spif_day_to_ymd(today, &y, &m, &d);
	int fy = m >= 4 ? y : y - 1;
	if (o->fiscal_year) {
		char *end;
		long v = strtol(o->fiscal_year, &end, 10);
		if (*end || end == o->fiscal_year || v < 1900 || v > 9998)
			cli_usage(c, "--fiscal-year %s: not a year (2026: April 2026 to March 2027)", o->fiscal_year);
		fy = (int)v;
	}
	int pdf = table_format(c, o, 0);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct spif_table t;
	if (spif_ledger_build(cat, (enum spif_ledger_kind)kind, fy, today, &t, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	table_emit(c, o, &t, pdf);
	spif_table_free(&t);
	return 0;
}
