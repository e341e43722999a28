/* due.c - spif retain due: what is due on a day (past its disposal date,
 * not held, not disposed), and the list of it that plan and purge read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retain.h"
#include "text.h"

static int due_add(void *ctx, const struct spif_due *d)
{
	struct due_list *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, cap, sizeof *l->v);
		l->labels = xreallocarray(l->labels, cap, sizeof *l->labels);
		l->purposes = xreallocarray(l->purposes, cap, sizeof *l->purposes);
		l->cap = cap;
	}
	l->v[l->n] = *d;
	l->labels[l->n] = xstrdup(d->label ? d->label : "");
	l->purposes[l->n] = xstrdup(d->purpose ? d->purpose : "");
	l->v[l->n].label = l->labels[l->n];
	l->v[l->n].purpose = l->purposes[l->n];
	l->n++;
	return 0;
}

void due_free(struct due_list *l)
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

void collect_due(struct cli *c, struct spif_catalog *cat, long day, struct due_list *l)
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
	/* a schedule name may be Japanese: padded by display width, as the purpose */
	fprintf(f, "%-8s %-10s %-12s ", fid, dd, ru);
	spif_text_pad(f, d->schedule, 18);
	fprintf(f, " %-6s ", spif_action_name(d->action));
	spif_text_pad(f, d->purpose, 20);
	fprintf(f, " %s\n", d->label);
}

static const char due_header[] = "ID       DUE        RETAIN-UNTIL SCHEDULE           ACTION PURPOSE              LABEL\n";

int cmd_due(struct cli *c, const struct opts *o, int argc)
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
			cli_print_json(due_json(&l.v[i]));
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
