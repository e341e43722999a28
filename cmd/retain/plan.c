/* plan.c - spif retain plan, and the reading of a plan by purge --plan:
 * the due list as tab-separated text with its SHA-256 on its last line,
 * registered in the catalog, for an approval (廃棄決裁).  A purge disposes
 * of exactly the entries of a plan this catalog made, and refuses one
 * edited byte. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "operator.h"
#include "purge.h"
#include "retain.h"

/* A plan's text is tab-separated and one line per file: the operator's
 * texts lose tabs and line breaks, which would break the layout. */
static void plan_field(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

int cmd_plan(struct cli *c, const struct opts *o, int argc)
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
static long long plan_read(struct cli *c, struct spif_catalog *cat, const char *path, long long **ids, size_t *n)
{
	int fd = cli_open_input(c, path);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if (cap > (256u << 20))
				cli_fail(c, SPIF_EX_DATAERR, "%s: too large to be a plan", path);
			buf = xreallocarray(buf, cap, 1);
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
				*ids = xreallocarray(*ids, icap, sizeof **ids);
			}
			(*ids)[(*n)++] = id;
		}
		line = nl + 1;
	}
	free(buf);
	return plan_id;
}

/* ---- approval: the second person (lib/operator.h) ------------------------ */

long long read_plan(struct cli *c, struct spif_catalog *cat, const char *path, long long **ids, size_t *n)
{
	struct spif_err e = {0};
	long long plan_id = plan_read(c, cat, path, ids, n);
	if (spif_purge_requires_plan(cat, &c->conf)) {
		int ok = spif_plan_approved(cat, plan_id, &e);
		if (ok < 0)
			cli_die(c, &e);
		if (!ok)
			cli_fail(c, SPIF_EX_NOPERM, "%s: plan %lld is not approved (spif retain approve, by an approver "
			         "who did not make it); nothing was disposed", path, plan_id);
	}
	return plan_id;
}

int approved_plan(struct cli *c, struct spif_catalog *cat, long long *plan_id, long long **ids, size_t *n)
{
	struct spif_err e = {0};
	*plan_id = 0;
	*ids = NULL;
	*n = 0;
	if (!spif_purge_requires_plan(cat, &c->conf))
		return 0;
	if (spif_plan_next_approved(cat, plan_id, ids, n, &e) < 0)
		cli_die(c, &e);
	return 1;
}

int cmd_approve(struct cli *c, const struct opts *o, int argc, char **argv)
{
	struct spif_err e = {0};
	allow(c, o, "approve", 0);
	nargs(c, "approve", argc, 1, "the plan file (spif retain plan > FILE) is needed");
	struct spif_catalog *cat = cli_catalog(c, 0);
	long long *ids = NULL;
	size_t n = 0;
	long long plan_id = plan_read(c, cat, argv[0], &ids, &n);
	spif_catalog_close(cat);
	/* who may: asked with the plan, whose maker may not approve it */
	char obj[32];
	snprintf(obj, sizeof obj, "plan:%lld", plan_id);
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_APPROVE, .object = obj});
	cat = cli_catalog(c, 0);
	if (spif_catalog_begin(cat, &e) < 0 || spif_plan_approve(cat, plan_id, ids, n, &e) < 0) {
		free(ids);
		spif_catalog_close(cat);
		cli_die(c, &e);
	}
	commit(c, cat);
	printf(_("plan %lld approved by %s: %zu entr%s\n"), plan_id, spif_catalog_actor(cat)->operator_, n,
	       n == 1 ? "y" : "ies");
	free(ids);
	spif_catalog_close(cat);
	return 0;
}
