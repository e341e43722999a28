/* audit.c - spif catalog verify, checkpoint, key export and review: the
 * audit log and every row it covers, its signed checkpoints, and what a
 * reviewer must look at.  See catalog_cmd.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "backup.h"
#include "calendar.h"
#include "auditlog.h"
#include "catalog_query.h"
#include "cert.h"
#include "checkpoint.h"
#include "cli.h"
#include "copycheck.h"
#include "mynumber.h"
#include "digest.h"
#include "purge.h"
#include "retention.h"
#include "review.h"
#include "text.h"
#include "vault.h"

#include "catalog_cmd.h"

struct claimed {
	const struct cli *c;
	long long n;
};

static int claimed_row(void *ctx, long long purge_id, long long file_id, enum spif_action action,
                       long long claim_seq)
{
	struct claimed *k = ctx;
	char fid[24];
	(void)action;
	(void)claim_seq;
	k->n++;
	spif_file_id_format(file_id, fid);
	cli_note(k->c, "verify: %s was claimed by purge %lld, which was interrupted before it "
	         "finished; run spif retain purge", fid, purge_id);
	return 0;
}

/* ---- review (lib/review.h) --------------------------------------------- */

static int review_row(void *ctx, const struct spif_review_item *it)
{
	const struct opts *o = ctx;
	if (o->json) {
		json_t *j = json_pack("{s:s,s:o,s:s,s:s,s:o,s:s}", "kind", it->kind, "seq",
		                      it->seq ? json_integer(it->seq) : json_null(), "time", it->time, "operator",
		                      it->operator_, "object", cli_jstr(it->object), "what", it->what);
		cli_print_json(j);
	} else
		printf("%-11s %6s%-6lld %s %s: %s\n", it->kind, it->seq ? "#" : "", it->seq, it->time, it->operator_,
		       it->what_local);
	return 0;
}

int cmd_review(struct cli *c, const struct opts *o)
{
	char sb[32], ub[32];
	const char *since = log_bound(c, "--since", o->since, 0, sb), *until = log_bound(c, "--until", o->until, 1, ub);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	if (spif_review(cat, &c->conf, since, until, review_row, (void *)o, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

/* ---- certificates ---------------------------------------------------- */

void read_whole(const struct cli *c, const char *path, char **data, size_t *n, int optional)
{
	*data = NULL;
	*n = 0;
	FILE *f = fopen(path, "re");
	if (!f) {
		if (optional && errno == ENOENT)
			return;
		cli_fail(c, errno == ENOENT ? SPIF_EX_NOINPUT : SPIF_EX_NOPERM, "%s: %s", path, strerror(errno));
	}
	char buf[65536];
	size_t r;
	FILE *m = open_memstream(data, n);
	while ((r = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, r, m);
	fclose(m);
	fclose(f);
}

/* The catalog when this home has one (read-only is fine), else NULL:
 * an exported certificate is checked offline where there is none. */
struct spif_catalog *catalog_if_readable(struct cli *c)
{
	struct spif_err e = {0};
	char p[PATH_MAX + 16];
	if (spif_home_resolve(c->home_opt, &c->conf, c->home, sizeof c->home, &e) < 0)
		cli_die(c, &e);
	snprintf(p, sizeof p, "%s/catalog.db", c->home);
	if (faccessat(AT_FDCWD, p, F_OK, AT_EACCESS) != 0) /* as spif, not as the caller (setgid) */
		return NULL;
	return cli_catalog(c, SPIF_CAT_READONLY);
}

/* The checkpoints' public key: --key FILE, else the home's. */
void verifier(struct cli *c, struct spif_catalog *cat, const char *keyfile, struct spif_note_verifier *v)
{
	struct spif_err e = {0};
	if (keyfile) {
		char *t;
		size_t n;
		read_whole(c, keyfile, &t, &n, 0);
		int rc = spif_checkpoint_verifier_parse(t ? t : "", n, v, &e);
		free(t);
		if (rc < 0) {
			spif_err_prefix(&e, "%s", keyfile);
			cli_die(c, &e);
		}
		return;
	}
	if (!cat)
		cli_usage(c, "no catalog here: give the catalog's public key with --key FILE");
	if (spif_checkpoint_verifier(cat, 0, v, &e) < 0) {
		if (e.code == SPIF_EX_NOINPUT)
			cli_fail(c, SPIF_EX_NOINPUT, "this catalog has issued no checkpoint (no %s): give its public key "
			         "with --key FILE", SPIF_CHECKPOINT_KEY);
		cli_die(c, &e);
	}
}

/* catalog verify: what it found, reported as it is found. */
#define SHOW_ROWS 100
struct found {
	const struct cli *c;
	int json;
	long long rows_bad, schema_bad;
	json_t *rows, *schema; /* --json: the first SHOW_ROWS */
};

static void schema_problem(void *ctx, const char *what)
{
	struct found *f = ctx;
	f->schema_bad++;
	if (f->json)
		json_array_append_new(f->schema, json_string(what));
	else
		cli_note(f->c, "verify: schema: %s: changed outside spif", what);
}

static void row_problem(void *ctx, const struct spif_row_problem *p)
{
	struct found *f = ctx;
	if (++f->rows_bad > SHOW_ROWS)
		return;
	if (f->json) {
		json_t *j = json_pack("{s:s,s:s,s:s}", "table", p->table, "key", p->key, "change", p->what);
		if (p->seq)
			json_object_set_new(j, "event", json_integer(p->seq));
		json_array_append_new(f->rows, j);
		return;
	}
	if (strcmp(p->what, "added") == 0)
		cli_note(f->c, "verify: %s %s: added outside spif (no event records it)", p->table,
		         p->key);
	else
		cli_note(f->c, "verify: %s %s: %s outside spif (the audit log last recorded it in event %lld)",
		         p->table, p->key, p->what, p->seq);
}

/* verify --checkpoint: every checkpoint in the file, in order.  0 when
 * the log extends them all; *last the largest size. */
static int check_checkpoints(struct cli *c, struct spif_catalog *cat, const struct opts *o, const struct spif_verify *v,
                             json_t *out, long long *count, unsigned long long *last)
{
	struct spif_note_verifier key;
	verifier(c, cat, o->key, &key);
	char *buf;
	size_t n, off = 0, start, len;
	read_whole(c, o->checkpoint, &buf, &n, 0);
	int bad = 0, r;
	*count = 0;
	*last = 0;
	while ((r = spif_checkpoint_next(buf ? buf : "", n, &off, &start, &len)) > 0) {
		struct spif_checkpoint_result res;
		struct spif_err e = {0};
		(*count)++;
		if (spif_checkpoint_check(cat, &key, buf + start, len, (uint64_t)v->events, v->root, &res, &e) < 0) {
			if (e.code != SPIF_FOUND)
				cli_die(c, &e);
			bad = 1;
			if (out)
				json_array_append_new(out, json_pack("{s:I,s:s}", "checkpoint", (json_int_t)*count, "why", e.en));
			else
				cli_note(c, "verify: %s: checkpoint %lld: %s", o->checkpoint, *count, e.msg);
			continue;
		}
		if (res.size > *last)
			*last = res.size;
	}
	free(buf);
	if (r < 0 || *count == 0)
		cli_fail(c, SPIF_EX_DATAERR, "%s: not a checkpoint (a signed note: origin, size, root, a blank line, "
		         "signatures)", o->checkpoint);
	return bad;
}

int cmd_verify(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct spif_verify v;
	struct found f = {.c = c, .json = o->json};
	if (o->json) {
		f.rows = json_array();
		f.schema = json_array();
	}
	long long rows;
	if (spif_auditlog_verify(cat, &v, schema_problem, row_problem, &f, &rows, &e) < 0)
		cli_die(c, &e);
	/* a log that extends a checkpoint kept elsewhere: what no one on this
	 * host could fake */
	long long ncp = 0;
	unsigned long long cp_size = 0;
	int cp_bad = 0;
	json_t *cp_why = o->json ? json_array() : NULL;
	if (o->checkpoint && v.bad_seq == 0)
		cp_bad = check_checkpoints(c, cat, o, &v, cp_why, &ncp, &cp_size);
	/* copies a crash left between "disposing" and "disposed" */
	struct spif_copy *cp;
	size_t half;
	if (spif_catalog_copies_in_state(cat, SPIF_COPY_DISPOSING, &cp, &half, &e) < 0)
		cli_die(c, &e);
	for (size_t i = 0; i < half; i++)
		cli_note(c, "verify: copy %lld (%s) was left marked for destruction by an "
		         "interrupted spif shred (it may be partly overwritten); run spif shred --resume",
		         cp[i].id, cp[i].path);
	spif_copies_free(cp, half);
	/* files a killed purge had claimed and not finished */
	struct claimed k = {.c = c};
	if (spif_purge_leftovers(cat, claimed_row, &k, &e) < 0)
		cli_die(c, &e);
	long long claimed = k.n;
	spif_catalog_close(cat);
	char root[65];
	spif_hex(v.root, 32, root);
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "intact", json_boolean(v.bad_seq == 0));
		json_object_set_new(j, "events", json_integer(v.events));
		json_object_set_new(j, "head", json_string(v.head));
		if (v.bad_seq) {
			json_object_set_new(j, "first_bad", json_integer(v.bad_seq));
			json_object_set_new(j, "why", json_string(v.why));
		} else {
			json_object_set_new(j, "root", json_string(root));
			json_object_set_new(j, "tree_intact", json_boolean(!v.tree_bad));
			if (v.tree_bad)
				json_object_set_new(j, "tree_why", json_string(v.tree_why));
			json_object_set_new(j, "rows", json_integer(rows));
			json_object_set_new(j, "rows_outside", json_integer(f.rows_bad));
			json_object_set_new(j, "rows_outside_first", f.rows);
			f.rows = NULL;
			json_object_set_new(j, "schema_outside", f.schema);
			f.schema = NULL;
		}
		if (o->checkpoint && v.bad_seq == 0)
			json_object_set_new(j, "checkpoints", json_pack("{s:s,s:I,s:I,s:b,s:O}", "file", o->checkpoint,
			                                                "count", (json_int_t)ncp, "largest", (json_int_t)cp_size,
			                                                "extended", !cp_bad, "why", cp_why));
		json_object_set_new(j, "scope", json_string(o->checkpoint ? "checkpoint" : "internal"));
		json_object_set_new(j, "half_destroyed_copies", json_integer((json_int_t)half));
		json_object_set_new(j, "interrupted_purge_items", json_integer(claimed));
		cli_print_json(j);
	}
	json_decref(cp_why);
	json_decref(f.rows);
	json_decref(f.schema);
	if (v.bad_seq) {
		cli_note(c, "verify: %s", v.why);
		return SPIF_FOUND;
	}
	if (v.tree_bad && !o->json)
		cli_note(c, "verify: %s", v.tree_why);
	if (f.rows_bad > SHOW_ROWS && !o->json)
		cli_note(c, "verify: ... and %lld more rows changed outside spif",
		         f.rows_bad - SHOW_ROWS);
	if (half || claimed || v.tree_bad || f.rows_bad || f.schema_bad || cp_bad)
		return SPIF_FOUND;
	if (!o->json) {
		printf(_("audit log intact: %lld events, head %s\n"), v.events, v.head);
		printf(_("rows intact: %lld, each as the audit log last recorded it; schema as spif made it\n"), rows);
		if (o->checkpoint)
			printf(_("checkpoint: the log extends %s%lld checkpoint%s in %s (up to %llu events): it was only "
			         "appended to since\n"), ncp > 1 ? "all " : "", ncp, ncp == 1 ? "" : "s", o->checkpoint, cp_size);
		else
			fputs(_("internal consistency only: no --checkpoint given, and a log rewritten whole on this host "
			        "would pass\n"), stdout);
	}
	return 0;
}

/* catalog checkpoint: sign the log as it is. */
int cmd_checkpoint(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, 0);
	struct spif_err e = {0};
	char *note;
	int rc = spif_checkpoint_issue(cat, &note, &e);
	spif_catalog_close(cat);
	if (rc < 0 && !note)
		cli_die(c, &e);
	fputs(note, stdout);
	fflush(stdout);
	struct spif_err e2 = {0};
	if (o->syslog && strcmp(c->conf.checkpoint_syslog, "yes") != 0)
		spif_checkpoint_syslog(note);
	int rc2 = o->append ? spif_checkpoint_append(o->append, note, spif_file_mode(&c->conf), &e2) : 0;
	free(note);
	if (rc < 0)
		cli_die(c, &e);
	if (rc2 < 0)
		cli_die(c, &e2);
	return 0;
}

/* catalog checkpoint ls: every checkpoint spif issued, oldest first. */
static int checkpoint_row(void *ctx, const struct spif_checkpoint_row *r)
{
	const struct opts *o = ctx;
	if (o->json) {
		cli_print_json(json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)r->id, "size", (json_int_t)r->size,
		                         "root", r->root ? r->root : "", "created", r->created ? r->created : "",
		                         "note", r->note ? r->note : ""));
		return 0;
	}
	char created[48];
	spif_time_for_people(r->created, created);
	printf("%6lld %10llu %-24s %s\n", r->id, (unsigned long long)r->size, created, r->root ? r->root : "");
	return 0;
}

int cmd_checkpoint_ls(struct cli *c, const struct opts *o)
{
	if (o->append || o->syslog)
		cli_usage(c, "checkpoint ls lists; --append and --syslog go with checkpoint");
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	if (!o->json)
		cli_heading((const char *const[]){N_("ID"), N_("EVENTS"), N_("ISSUED"), N_("ROOT")},
		            (const int[]){6, 10, -24, 0}, 4);
	if (spif_checkpoint_list(cat, checkpoint_row, (void *)o, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

/* catalog key export: the public key, for whoever keeps checkpoints. */
int cmd_key(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct spif_note_verifier v;
	/* made at first use: here too, where the catalog may be written */
	int create = !spif_catalog_note(cat) && access(spif_catalog_home(cat), W_OK) == 0;
	if (spif_checkpoint_verifier(cat, create, &v, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	char *t = spif_note_verifier_text(&v);
	char fpr[65];
	if (!t || spif_checkpoint_fingerprint(&v, fpr) < 0)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	if (!o->fingerprint)
		printf("%s\n", t);
	printf("SHA256:%s\n", fpr);
	free(t);
	return 0;
}

