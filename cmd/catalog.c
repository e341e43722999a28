/* catalog.c - spif catalog ls | show ID | log | verify | check | copy |
 * review | checkpoint | key export | backup | restore-test | restore | cert:
 * what the catalog knows, whether its audit log and every row it covers
 * are intact (and extend a checkpoint kept elsewhere), whether its copies
 * are still on disk, what a reviewer must look at, the signed checkpoints
 * and their key, backups, and the disposal certificates.  Every
 * subcommand only reads, but cert confirm (a confirmation and its event),
 * copy lost (settles a copy gone outside spif), checkpoint and key export
 * (the key and the checkpoint), backup and the restores (their events). */
#include <errno.h>
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

static const char usage_text[] =
	"usage: spif catalog ls [--state STATE] [--json]\n"
	"       spif catalog show ID [--json]\n"
	"       spif catalog log [--file ID] [--operator NAME] [--since DATE] [--until DATE]\n"
	"           [--action NAME] [--limit N] [--json]\n"
	"       spif catalog verify [--checkpoint FILE] [--key FILE] [--json]\n"
	"       spif catalog check [--json]\n"
	"       spif catalog copy lost|missing COPY-ID --reason TEXT\n"
	"       spif catalog review [--since DATE] [--until DATE] [--json]\n"
	"       spif catalog checkpoint [--append FILE] [--syslog]\n"
	"       spif catalog key export [--fingerprint]\n"
	"       spif catalog cert ls [--json]\n"
	"       spif catalog cert show ID [--format text|json]\n"
	"       spif catalog cert export ID -o DIR\n"
	"       spif catalog cert verify ID|FILE.json|FILE.confirm.json [--key FILE]\n"
	"       spif catalog cert confirm ID [--note TEXT] [--sign KEYID]\n"
	"       spif catalog backup -o DIR [--json]\n"
	"       spif catalog restore-test DIR [--sample N] [--json]\n"
	"       spif catalog restore DIR [--keys KEYDIR] [--json]\n"
	"\n"
	"  ls       every file: id, state, records, persons, received, purpose, label\n"
	"  show     one file (F000001) with its copies\n"
	"  log      the audit log, oldest first (--limit N: the last N events);\n"
	"           --file ID: everything about the file (its copies, certificates,\n"
	"           exports); --operator NAME: only theirs; --since/--until DATE:\n"
	"           from/through that day (spif.conf timezone); --action NAME: that\n"
	"           action (shred: shred.*, too)\n"
	"  review   what a reviewer must look at from --since to --until (local days):\n"
	"           refusals, lockouts, reads of records outside office hours, bulk\n"
	"           reads, governance bypasses, certificates not yet confirmed\n"
	"  verify   recompute the audit log's hash chain and Merkle tree, compare every\n"
	"           row and the schema with what the log records; exit 1 naming the\n"
	"           first event that does not match, each row changed outside spif, or\n"
	"           copies a crash left half-destroyed.  --checkpoint FILE: prove the log\n"
	"           extends each checkpoint in FILE (else only internal consistency)\n"
	"  checkpoint  sign the log as it is (C2SP tlog-checkpoint) and print it;\n"
	"           --append FILE adds it to FILE, --syslog sends it to syslog\n"
	"  key export  the checkpoints' public key (signed-note verifier key) and its\n"
	"           SHA-256 fingerprint (--fingerprint: the fingerprint alone)\n"
	"  check    every present copy still where the catalog says, with its size\n"
	"           and SHA-256 (vault copies: a vault file); exit 1 listing each\n"
	"           missing or changed copy\n"
	"  copy lost  record that a copy is gone outside spif (deleted by hand, a\n"
	"           medium lost or handed back): it no longer blocks disposal, the\n"
	"           file's disposal certificate lists it as lost; a copy that held\n"
	"           numbers places an incident hold on its file (spif retain release)\n"
	"  cert     disposal certificates: list, show (bilingual text or the signed\n"
	"           JSON, then the confirmation's), export ID.json (+ ID.json.asc,\n"
	"           ID.proof.json, and ID.confirm.json (+ .asc) when confirmed), verify\n"
	"           against the catalog, the signatures and the audit log (or, with no\n"
	"           catalog, offline: its inclusion proof and signature), confirm by a\n"
	"           second operator\n"
	"\n"
	"  backup   a consistent backup into DIR: catalog snapshot, vault files, last\n"
	"           checkpoint; never a key (see spif-catalog(1))\n"
	"  restore-test  restore DIR into a scratch home, verify it, open a sample\n"
	"           of its vault files with the live keys; exit 1 when it fails\n"
	"  restore  restore DIR into the (empty) home; files disposed since stay gone\n"
	"\n"
	"  --json   one JSON object per line (show: one object)\n"
	"  --key FILE  the catalog's public key (what key export prints), instead of\n"
	"           the home's: for a checkpoint or a certificate checked elsewhere\n"
	"  --home DIR  the spif home (else $SPIF_HOME, spif.conf, ~/.local/share/spif)\n"
	"\n"
	"Exit: 0 ok, 1 verify found tampering (or a checkpoint the log does not extend;\n"
	"check: a copy missing or changed), 64 usage, 65 unknown id (copy lost: a copy\n"
	"already disposed or lost), 66 no catalog, 77 catalog writable by others.\n";

struct opts {
	int json;
	const char *file;
	const char *state;
	long long limit;
	const char *format, *out, *note, *sign;
	const char *op_name, *since, *until, *action, *reason; /* log and review filters; copy lost */
	const char *checkpoint, *key, *append;
	int syslog, fingerprint;
};

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *file_json(const struct spif_file *f)
{
	char id[24];
	spif_file_id_format(f->id, id);
	json_t *nf = json_loads(f->number_fields ? f->number_fields : "[]", 0, NULL);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "state", json_string(spif_file_state_name(f->state)));
	json_object_set_new(o, "label", jstr(f->label));
	json_object_set_new(o, "purpose", jstr(f->purpose));
	json_object_set_new(o, "source", jstr(f->source));
	json_object_set_new(o, "received", jstr(f->received));
	json_object_set_new(o, "format", jstr(f->format));
	json_object_set_new(o, "encoding", jstr(f->encoding));
	json_object_set_new(o, "number_fields", nf ? nf : json_array());
	json_object_set_new(o, "records", json_integer(f->records));
	json_object_set_new(o, "persons", json_integer(f->persons));
	json_object_set_new(o, "invalid", json_integer(f->invalid));
	json_object_set_new(o, "sha256", jstr(f->sha256));
	json_object_set_new(o, "created", jstr(f->created));
	json_object_set_new(o, "schedule", jstr(f->schedule));
	json_object_set_new(o, "retain_until", jstr(f->retain_until));
	return o;
}

static int ls_row(void *ctx, const struct spif_file *f)
{
	const struct opts *o = ctx;
	if (o->json)
		print_json(file_json(f));
	else {
		char id[24];
		spif_file_id_format(f->id, id);
		printf("%-8s %-9s %9lld %9lld %-10s ", id, spif_file_state_name(f->state), f->records, f->persons,
		       f->received);
		spif_text_pad(stdout, f->purpose, 20);
		printf(" %s\n", f->label);
	}
	return 0;
}

static int cmd_ls(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	/* --state is not checked (spif-catalog(1)): an unknown one lists nothing */
	int state = o->state ? spif_file_state_parse(o->state) : -1;
	if (!o->json)
		printf("%-8s %-9s %9s %9s %-10s %-20s %s\n", "ID", "STATE", "RECORDS", "PERSONS",
		       "RECEIVED", "PURPOSE", "LABEL");
	if ((!o->state || state >= 0) && spif_catalog_list_files(cat, state, ls_row, (void *)o, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

static int cmd_show(struct cli *c, const struct opts *o, const char *idarg)
{
	long long id = spif_file_id_parse(idarg);
	if (id < 0)
		cli_usage(c, "%s: not a file id (F000001)", idarg);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct spif_file f;
	struct spif_copy *cp;
	size_t n;
	if (spif_catalog_get_file(cat, id, &f, &e) < 0 ||
	    spif_catalog_get_copies(cat, id, &cp, &n, &e) < 0)
		cli_die(c, &e);
	if (o->json) {
		json_t *j = file_json(&f);
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *k = json_object();
			json_object_set_new(k, "id", json_integer(cp[i].id));
			json_object_set_new(k, "kind", jstr(cp[i].kind));
			json_object_set_new(k, "path", jstr(cp[i].path));
			json_object_set_new(k, "sha256", jstr(cp[i].sha256));
			json_object_set_new(k, "size", json_integer(cp[i].size));
			json_object_set_new(k, "encrypted", json_boolean(cp[i].encrypted));
			json_object_set_new(k, "created", jstr(cp[i].created));
			json_object_set_new(k, "state", json_string(spif_copy_state_name(cp[i].state)));
			json_array_append_new(arr, k);
		}
		json_object_set_new(j, "copies", arr);
		print_json(j);
	} else {
		char fid[24], created[48];
		spif_file_id_format(f.id, fid);
		spif_time_for_people(f.created, created);
		printf("id:            %s\nlabel:         %s\npurpose:       %s\nsource:        %s\n"
		       "received:      %s\nformat:        %s (%s)\nnumber fields: %s\n"
		       "records:       %lld\npersons:       %lld\ninvalid:       %lld\n"
		       "sha256:        %s\ncreated:       %s\nstate:         %s\n"
		       "schedule:      %s\nretain until:  %s\ncopies:\n",
		       fid, f.label, f.purpose, f.source ? f.source : "-", f.received, f.format,
		       f.encoding, f.number_fields, f.records, f.persons, f.invalid, f.sha256, created,
		       spif_file_state_name(f.state), f.schedule ? f.schedule : "-",
		       f.retain_until ? f.retain_until : "-");
		for (size_t i = 0; i < n; i++)
			printf("  %lld %-9s %-8s %12lld %s %s%s\n", cp[i].id, cp[i].kind, spif_copy_state_name(cp[i].state),
			       cp[i].size, cp[i].sha256 ? cp[i].sha256 : "-", cp[i].path,
			       cp[i].encrypted ? " (encrypted)" : "");
	}
	spif_copies_free(cp, n);
	spif_file_free(&f);
	spif_catalog_close(cat);
	return 0;
}

static int log_row(void *ctx, const struct spif_event_row *ev)
{
	const struct opts *o = ctx;
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "seq", json_integer(ev->seq));
		json_object_set_new(j, "time", jstr(ev->time));
		json_object_set_new(j, "operator", jstr(ev->operator_));
		json_object_set_new(j, "sudo_user", jstr(ev->sudo_user));
		json_object_set_new(j, "host", jstr(ev->host));
		json_object_set_new(j, "pid", json_integer(ev->pid));
		json_t *argv = json_loads(ev->argv, 0, NULL);
		json_object_set_new(j, "argv", argv ? argv : jstr(ev->argv));
		json_object_set_new(j, "action", jstr(ev->action));
		json_object_set_new(j, "object", jstr(ev->object));
		json_t *d = json_loads(ev->details, 0, NULL);
		json_object_set_new(j, "details", d ? d : jstr(ev->details));
		json_object_set_new(j, "prev_hash", jstr(ev->prev_hash));
		json_object_set_new(j, "hash", jstr(ev->hash));
		print_json(j);
	} else {
		const char *sudo = ev->sudo_user;
		char when[48];
		spif_time_for_people(ev->time, when);
		printf("%6lld %s %s%s%s %s %s %s\n", ev->seq, when, ev->operator_, sudo ? " (sudo " : "",
		       sudo ? sudo : "", sudo ? ")" : "", ev->action, ev->object ? ev->object : "-");
		printf("       %s\n", ev->details);
	}
	return 0;
}

/* --since/--until DATE: a legal date (spif.conf's zone) as the UTC time
 * it begins at; until is through that day, so the bound is the next day. */
static const char *log_bound(struct cli *c, const char *opt, const char *arg, int next_day, char out[32])
{
	long day;
	if (!arg)
		return NULL;
	if (spif_day_parse(arg, &day) < 0)
		cli_usage(c, "%s %s: not a date (YYYY-MM-DD)", opt, arg);
	spif_legal_day_start_utc(day + next_day, out);
	return out;
}

static int cmd_log(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	struct spif_event_filter f = {.operator_ = o->op_name, .action = o->action, .last = o->limit};
	char since[32], until[32];
	if (o->file && (f.file_id = spif_file_id_parse(o->file)) < 0)
		cli_usage(c, "%s: not a file id (F000001)", o->file);
	f.since = log_bound(c, "--since", o->since, 0, since);
	f.until = log_bound(c, "--until", o->until, 1, until);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	/* the last N events, shown oldest first */
	if (spif_catalog_filter_events(cat, &f, log_row, (void *)o, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

/* ---- check: the copies on disk; copy lost ------------------------------- */

struct check_out {
	const struct opts *o;
	json_t *problems;
	long long missing, changed;
};

static int check_row(void *ctx, const struct spif_copy_check *r)
{
	struct check_out *k = ctx;
	if (r->finding == SPIF_COPY_FINE)
		return 0;
	const struct spif_copy *cp = r->copy;
	char fid[24] = "-";
	if (cp->file_id)
		spif_file_id_format(cp->file_id, fid);
	if (r->finding == SPIF_COPY_MISSING)
		k->missing++;
	else
		k->changed++;
	if (k->o->json)
		json_array_append_new(k->problems, json_pack("{s:I,s:s,s:s,s:s,s:s}", "copy", (json_int_t)cp->id,
		                                             "file", fid, "kind", cp->kind, "path", cp->path, "finding",
		                                             spif_copy_finding_name(r->finding)));
	else
		printf("copy %lld of %s (%s): %s: %s\n", cp->id, fid, cp->kind, spif_copy_finding_name(r->finding),
		       cp->path);
	return 0;
}

static int cmd_check(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct check_out k = {.o = o, .problems = json_array()};
	long long checked;
	if (spif_copies_check(cat, check_row, &k, &checked, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	if (o->json) {
		json_t *j = json_pack("{s:I,s:I,s:I,s:o}", "checked", (json_int_t)checked, "missing",
		                      (json_int_t)k.missing, "changed", (json_int_t)k.changed, "problems", k.problems);
		print_json(j);
	} else {
		json_decref(k.problems);
		printf("%lld cop%s checked: %lld missing, %lld changed or unreadable\n", checked,
		       checked == 1 ? "y" : "ies", k.missing, k.changed);
	}
	if (k.missing || k.changed) {
		fprintf(stderr, "%s: check: %lld cop%s not as the catalog says; a copy gone for good: "
		        "spif catalog copy lost COPY-ID --reason TEXT\n", c->prog, k.missing + k.changed,
		        k.missing + k.changed == 1 ? "y is" : "ies are");
		return SPIF_FOUND;
	}
	return 0;
}

static int cmd_copy(struct cli *c, const struct opts *o, int nargs, char **args)
{
	if (nargs != 2)
		cli_usage(c, "copy: expected lost COPY-ID --reason TEXT");
	if (strcmp(args[0], "lost") && strcmp(args[0], "missing"))
		cli_usage(c, "copy %s: unknown (lost, missing)", args[0]);
	char *end;
	errno = 0;
	long long id = strtoll(args[1], &end, 10);
	if (!*args[1] || *end || id <= 0 || errno)
		cli_usage(c, "%s: not a copy id (a number, from spif catalog show or check)", args[1]);
	if (!o->reason || !*o->reason)
		cli_usage(c, "copy %s: --reason is required (what happened to it)", args[0]);
	/* the reason goes into the catalog: never a number */
	char *reason = strdup(o->reason);
	if (!reason)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	spif_mask_numbers(reason);
	struct spif_catalog *cat = cli_catalog(c, 0);
	struct spif_err e = {0};
	long long hold, file;
	if (spif_catalog_begin(cat, &e) < 0 || spif_copy_lost(cat, id, reason, &hold, &file, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_rollback(cat);
		cli_die(c, &e);
	}
	free(reason);
	spif_catalog_close(cat);
	char fid[24] = "", hid[24];
	if (file)
		spif_file_id_format(file, fid);
	printf("copy %lld%s%s is lost: it no longer blocks disposal\n", id, file ? " of " : "", fid);
	if (hold) {
		spif_hold_id_format(hold, hid);
		printf("it held numbers: %s is held by %s (an incident) until an approver releases it: "
		       "spif retain release %s --reason TEXT\n", fid, hid, hid);
	}
	return 0;
}

/* catalog verify: a file a killed purge had claimed and not finished. */
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
	fprintf(stderr, "%s: verify: %s was claimed by purge %lld, which was interrupted before it "
	        "finished; run spif retain purge\n", k->c->prog, fid, purge_id);
	return 0;
}

/* ---- review (lib/review.h) --------------------------------------------- */

static int review_row(void *ctx, const struct spif_review_item *it)
{
	const struct opts *o = ctx;
	if (o->json) {
		json_t *j = json_pack("{s:s,s:o,s:s,s:s,s:o,s:s}", "kind", it->kind, "seq",
		                      it->seq ? json_integer(it->seq) : json_null(), "time", it->time, "operator",
		                      it->operator_, "object", jstr(it->object), "what", it->what);
		print_json(j);
	} else
		printf("%-11s %6s%-6lld %s %s: %s\n", it->kind, it->seq ? "#" : "", it->seq, it->time, it->operator_,
		       it->what);
	return 0;
}

static int cmd_review(struct cli *c, const struct opts *o)
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

static void read_whole(const struct cli *c, const char *path, char **data, size_t *n, int optional)
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
static struct spif_catalog *catalog_if_readable(struct cli *c)
{
	struct spif_err e = {0};
	char p[PATH_MAX + 16];
	if (spif_home_resolve(c->home_opt, &c->conf, c->home, sizeof c->home, &e) < 0)
		cli_die(c, &e);
	snprintf(p, sizeof p, "%s/catalog.db", c->home);
	if (access(p, F_OK) != 0)
		return NULL;
	return cli_catalog(c, SPIF_CAT_READONLY);
}

/* The checkpoints' public key: --key FILE, else the home's. */
static void verifier(struct cli *c, struct spif_catalog *cat, const char *keyfile, struct spif_note_verifier *v)
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
		fprintf(stderr, "%s: verify: schema: %s: changed outside spif\n", f->c->prog, what);
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
		fprintf(stderr, "%s: verify: %s %s: added outside spif (no event records it)\n", f->c->prog, p->table,
		        p->key);
	else
		fprintf(stderr, "%s: verify: %s %s: %s outside spif (the audit log last recorded it in event %lld)\n",
		        f->c->prog, p->table, p->key, p->what, p->seq);
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
				json_array_append_new(out, json_pack("{s:I,s:s}", "checkpoint", (json_int_t)*count, "why", e.msg));
			else
				fprintf(stderr, "%s: verify: %s: checkpoint %lld: %s\n", c->prog, o->checkpoint, *count, e.msg);
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

static int cmd_verify(struct cli *c, const struct opts *o)
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
		fprintf(stderr, "%s: verify: copy %lld (%s) was left marked for destruction by an "
		        "interrupted spif shred (it may be partly overwritten); run spif shred --resume\n",
		        c->prog, cp[i].id, cp[i].path);
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
		print_json(j);
	}
	json_decref(cp_why);
	json_decref(f.rows);
	json_decref(f.schema);
	if (v.bad_seq) {
		fprintf(stderr, "%s: verify: %s\n", c->prog, v.why);
		return SPIF_FOUND;
	}
	if (v.tree_bad && !o->json)
		fprintf(stderr, "%s: verify: %s\n", c->prog, v.tree_why);
	if (f.rows_bad > SHOW_ROWS && !o->json)
		fprintf(stderr, "%s: verify: ... and %lld more rows changed outside spif\n", c->prog,
		        f.rows_bad - SHOW_ROWS);
	if (half || claimed || v.tree_bad || f.rows_bad || f.schema_bad || cp_bad)
		return SPIF_FOUND;
	if (!o->json) {
		printf("audit log intact: %lld events, head %s\n", v.events, v.head);
		printf("rows intact: %lld, each as the audit log last recorded it; schema as spif made it\n", rows);
		if (o->checkpoint)
			printf("checkpoint: the log extends %s%lld checkpoint%s in %s (up to %llu events): it was only "
			       "appended to since\n", ncp > 1 ? "all " : "", ncp, ncp == 1 ? "" : "s", o->checkpoint, cp_size);
		else
			printf("internal consistency only: no --checkpoint given, and a log rewritten whole on this host "
			       "would pass\n");
	}
	return 0;
}

/* catalog checkpoint: sign the log as it is. */
static int cmd_checkpoint(struct cli *c, const struct opts *o)
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

/* catalog key export: the public key, for whoever keeps checkpoints. */
static int cmd_key(struct cli *c, const struct opts *o)
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

/* ---- certificates ---------------------------------------------------- */

static int cert_row(void *ctx, const struct spif_cert_row *r)
{
	const struct opts *o = ctx;
	char fid[24] = "-";
	if (r->file_id)
		spif_file_id_format(r->file_id, fid);
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:o}", "id", r->id, "kind", r->kind, "file", fid,
		                      "issued", r->issued, "operator", r->operator_, "signed", r->signed_,
		                      "confirmed_by", jstr(r->confirmed_by));
		print_json(j);
	} else {
		char issued[48];
		spif_time_for_people(r->issued, issued);
		printf("%-15s %-9s %-8s %-24s %-12s %-8s %s\n", r->id, r->kind, fid, issued, r->operator_,
		       r->signed_ ? "yes" : "no", r->confirmed_by ? r->confirmed_by : "-");
	}
	return 0;
}

static int cert_ls(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	if (!o->json)
		printf("%-15s %-9s %-8s %-24s %-12s %-8s %s\n", "ID", "KIND", "FILE", "ISSUED", "OPERATOR",
		       "SIGNED", "CONFIRMED BY");
	if (spif_cert_list(cat, cert_row, (void *)o, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

static int cert_cmd(struct cli *c, const struct opts *o, const char *sub, int nargs, char **args)
{
	struct spif_err e = {0};
	if (strcmp(sub, "ls") == 0 && nargs == 0)
		return cert_ls(c, o);
	if (nargs != 1)
		cli_usage(c, "cert %s: wrong number of arguments", sub);
	const char *id = args[0];
	if (strcmp(sub, "verify") == 0) {
		/* ID; or an exported ID.json, with ID.json.asc, ID.confirm.json and
		 * ID.confirm.json.asc beside it when they exist; or an exported
		 * ID.confirm.json (with its .asc) alone */
		struct spif_cert_files f = {0};
		char *data = NULL, cid[32], *proof = NULL;
		size_t n = 0, proof_n = 0;
		size_t len = strlen(id);
		if (len > 5 && strcmp(id + len - 5, ".json") == 0) {
			read_whole(c, id, &data, &n, 0);
			json_t *j = json_loadb(data, n, 0, NULL);
			const char *fmt = json_string_value(json_object_get(j, "format"));
			int is_conf = fmt && strcmp(fmt, "spif-confirmation/1") == 0;
			const char *named = json_string_value(json_object_get(j, is_conf ? "certificate" : "id"));
			if (!named || strlen(named) >= sizeof cid)
				cli_fail(c, SPIF_FOUND, "%s: not a spif certificate or confirmation", id);
			snprintf(cid, sizeof cid, "%s", named);
			json_decref(j);
			char other[PATH_MAX];
			int stem = (int)(len - (is_conf ? strlen(".confirm.json") : 5));
			if (is_conf) {
				f.conf = data;
				f.conf_n = n;
			} else {
				f.body = data;
				f.body_n = n;
				if (snprintf(other, sizeof other, "%.*s.confirm.json", stem, id) < (int)sizeof other)
					read_whole(c, other, (char **)&f.conf, &f.conf_n, 1);
				snprintf(other, sizeof other, "%s.asc", id);
				read_whole(c, other, (char **)&f.sig, &f.sig_n, 1);
			}
			if (f.conf && snprintf(other, sizeof other, "%.*s.confirm.json.asc", stem, id) < (int)sizeof other)
				read_whole(c, other, (char **)&f.conf_sig, &f.conf_sig_n, 1);
			/* the inclusion proof beside the certificate */
			if (!is_conf && snprintf(other, sizeof other, "%.*s.proof.json", stem, id) < (int)sizeof other)
				read_whole(c, other, &proof, &proof_n, 1);
		} else
			snprintf(cid, sizeof cid, "%s", id);
		char summary[768], incl[512] = "";
		char escrow[1024] = ""; /* a crypto-erase's escrow copies: outstanding or closed */
		/* no catalog here: the certificate stands on its proof alone */
		struct spif_catalog *cat = catalog_if_readable(c);
		if (!cat) {
			if (!f.body)
				cli_fail(c, SPIF_EX_NOINPUT, "%s: no catalog here: give the exported %s.json, with its "
				         "%s.proof.json beside it, and --key FILE", cid, cid, cid);
			if (!proof)
				cli_fail(c, SPIF_FOUND, "%s: no catalog here and no %s.proof.json beside the certificate: "
				         "nothing to prove it by", id, cid);
			struct spif_note_verifier v;
			verifier(c, NULL, o->key, &v);
			if (spif_cert_verify_offline(&f, proof, proof_n, &v, summary, sizeof summary, &e) < 0)
				cli_die(c, &e);
		} else {
			int rc = spif_cert_verify(cat, cid, &f, summary, sizeof summary, &e);
			if (rc < 0)
				cli_die(c, &e);
			struct spif_cert ect;
			struct spif_err ee = {0};
			if (spif_cert_load(cat, cid, &ect, &ee) == 0) {
				spif_vault_escrow_summary(cat, ect.body, escrow, sizeof escrow);
				spif_cert_free(&ect);
			}
			/* and its inclusion proof, the one given or the one stored */
			if (!proof && !f.body && !f.conf) {
				struct spif_err pe = {0};
				if (spif_cert_stored_proof(cat, cid, &proof, &pe) < 0)
					cli_die(c, &pe);
				proof_n = proof ? strlen(proof) : 0;
			}
			struct spif_note_verifier v;
			struct spif_err ke = {0};
			if (proof && !o->key && spif_checkpoint_verifier(cat, 0, &v, &ke) < 0) {
				/* a copy of the catalog without its keys/ (evidence on
				 * read-only media): the rest holds, the proof waits */
				cli_note(c, "%s: inclusion proof not checked: %s (give the catalog's public key with --key FILE)",
				         cid, ke.msg);
				free(proof);
				proof = NULL;
			} else if (proof && o->key)
				verifier(c, cat, o->key, &v);
			if (proof) {
				struct spif_inclusion inc;
				struct spif_cert ct;
				if (spif_cert_load(cat, cid, &ct, &e) < 0)
					cli_die(c, &e);
				rc = spif_cert_proof_verify(ct.body, strlen(ct.body), proof, proof_n, &v, &inc, &e);
				spif_cert_free(&ct);
				if (rc < 0)
					cli_die(c, &e);
				snprintf(incl, sizeof incl, "%s: inclusion proof verified: event %lld is in the log under a "
				         "checkpoint of %llu events signed by the catalog's key", cid, inc.seq,
				         (unsigned long long)inc.tree_size);
			}
			spif_catalog_close(cat);
		}
		free((char *)f.body);
		free((char *)f.sig);
		free((char *)f.conf);
		free((char *)f.conf_sig);
		free(proof);
		/* the inclusion first: the last line is the verdict on the whole */
		if (incl[0])
			printf("%s\n", incl);
		printf("%s\n", summary);
		if (escrow[0])
			printf("%s\n", escrow);
		return 0;
	}
	struct spif_catalog *cat = cli_catalog(c, strcmp(sub, "confirm") == 0 ? 0 : SPIF_CAT_READONLY);
	int rc = 0;
	if (strcmp(sub, "confirm") == 0) {
		const char *key = o->sign ? o->sign : c->conf.sign_key;
		if (spif_catalog_begin(cat, &e) < 0 || spif_cert_confirm(cat, &c->conf, id, key, o->note, &e) < 0 ||
		    spif_catalog_commit(cat, &e) < 0)
			cli_die(c, &e);
		printf("%s confirmed by %s\n", id, c->actor.operator_);
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "export") == 0) {
		struct spif_cert ct;
		if (spif_cert_load(cat, id, &ct, &e) < 0)
			cli_die(c, &e);
		if (strcmp(sub, "export") == 0) {
			if (!o->out)
				cli_usage(c, "cert export: -o DIR is required");
			/* the certificate, and its confirmation when there is one,
			 * each with its signature when signed; and the proof that
			 * its event is in the log under a signed checkpoint */
			char *proof;
			if (spif_cert_proof(cat, ct.id, &proof, &e) < 0)
				cli_die(c, &e);
			const char *parts[5] = {ct.body, ct.signature, proof, ct.confirmation, ct.confirmation_sig};
			static const char *const names[5] = {".json", ".json.asc", ".proof.json", ".confirm.json",
			                                     ".confirm.json.asc"};
			for (int k = 0; k < 5; k++) {
				if (!parts[k])
					continue;
				char path[PATH_MAX];
				snprintf(path, sizeof path, "%s/%s%s", o->out, ct.id, names[k]);
				struct spif_atomic a;
				size_t len = strlen(parts[k]);
				if (spif_atomic_open(&a, path, spif_file_mode(&c->conf), &e) < 0)
					cli_die(c, &e);
				if (write(a.fd, parts[k], len) != (ssize_t)len) {
					spif_err_sys(&e, SPIF_EX_IOERR, errno, "%s", path);
					spif_atomic_abort(&a);
					cli_die(c, &e);
				}
				if (spif_atomic_commit(&a, &e) < 0)
					cli_die(c, &e);
				printf("%s\n", path);
			}
			free(proof);
		} else if (!o->format || strcmp(o->format, "text") == 0) {
			char *t = spif_cert_render(&ct);
			if (!t)
				cli_fail(c, SPIF_EX_SOFTWARE, "%s: cannot render", id);
			fputs(t, stdout);
			free(t);
		} else if (strcmp(o->format, "json") == 0) {
			/* one document a line: the certificate as signed, then its
			 * confirmation when there is one */
			printf("%s\n", ct.body);
			if (ct.confirmation)
				printf("%s\n", ct.confirmation);
		}
		else
			cli_usage(c, "--format %s: unknown (text, json)", o->format);
		spif_cert_free(&ct);
	} else
		cli_usage(c, "cert %s: unknown (ls, show, export, verify, confirm)", sub);
	spif_catalog_close(cat);
	return rc;
}

static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'},       {"file", required_argument, NULL, 'f'},
	{"limit", required_argument, NULL, 'n'}, {"state", required_argument, NULL, 's'},
	{"home", required_argument, NULL, 'H'},  {"help", no_argument, NULL, 'h'},
	{"format", required_argument, NULL, 'F'}, {"output", required_argument, NULL, 'o'},
	{"note", required_argument, NULL, 'N'},  {"sign", required_argument, NULL, 'S'},
	{"since", required_argument, NULL, 1001}, {"until", required_argument, NULL, 1002},
	{"action", required_argument, NULL, 1003}, {"reason", required_argument, NULL, 1004},
	{"operator", required_argument, NULL, 'O'},
	{"checkpoint", required_argument, NULL, 'C'}, {"key", required_argument, NULL, 'K'},
	{"append", required_argument, NULL, 'A'}, {"syslog", no_argument, NULL, 'Y'},
	{"fingerprint", no_argument, NULL, 'P'},
	{NULL, 0, NULL, 0},
};

/* Options may stand anywhere: GNU getopt permutes, so after one pass the
 * operands (subcommand, its arguments) are argv[optind..] in order. */
static void parse_opts(struct cli *c, struct opts *o, int argc, char **argv, const char *optstring)
{
	int ch;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': o->json = 1; break;
		case 'f': o->file = optarg; break;
		case 's': o->state = optarg; break;
		case 'n': {
			char *end;
			o->limit = strtoll(optarg, &end, 10);
			if (*end || o->limit <= 0)
				cli_usage(c, "--limit %s: not a positive number", optarg);
			break;
		}
		case 'H': c->home_opt = optarg; break;
		case 'F': o->format = optarg; break;
		case 'o': o->out = optarg; break;
		case 'N': o->note = optarg; break;
		case 'S': o->sign = optarg; break;
		case 1001: o->since = optarg; break;
		case 1002: o->until = optarg; break;
		case 1003: o->action = optarg; break;
		case 1004: o->reason = optarg; break;
		case 'O': o->op_name = optarg; break;
		case 'C': o->checkpoint = optarg; break;
		case 'K': o->key = optarg; break;
		case 'A': o->append = optarg; break;
		case 'Y': o->syslog = 1; break;
		case 'P': o->fingerprint = 1; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
}

/* ---- backup, restore-test, restore (lib/backup.c): options of their own --- */

static int backup_sub(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return strcmp(a, "backup") == 0 || strcmp(a, "restore") == 0 || strcmp(a, "restore-test") == 0;
		if (!strchr(a, '=') && (!strcmp(a, "--home") || !strcmp(a, "-o") || !strcmp(a, "--output") ||
		                        !strcmp(a, "--keys") || !strcmp(a, "--sample")))
			i++;
	}
	return 0;
}

static int cmd_backup(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{"home", required_argument, NULL, 'H'},   {"output", required_argument, NULL, 'o'},
		{"keys", required_argument, NULL, 'K'},   {"sample", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *keys = NULL;
	int ch, json = 0, sample = 20, rc = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ho:j", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': c->home_opt = optarg; break;
		case 'o': out = optarg; break;
		case 'K': keys = optarg; break;
		case 'j': json = 1; break;
		case 'n': sample = atoi(optarg); if (sample < 0) cli_usage(c, "--sample %s: not a number", optarg); break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
	const char *sub = argv[optind++];
	int nargs = argc - optind;
	struct spif_err e = {0};
	json_t *r = NULL;
	if (strcmp(sub, "backup") == 0) {
		if (!out || nargs)
			cli_usage(c, "backup: -o DIR is required, and nothing else");
		struct spif_catalog *cat = cli_catalog(c, 0);
		if (spif_backup_write(cat, &c->conf, out, &r, &e) < 0)
			cli_die(c, &e);
		const json_t *cf = json_object_get(r, "catalog");
		if (!json)
			printf("%s: catalog (%s), %zu vault files, audit log to event %lld%s; no keys\n", out,
			       json_is_string(json_object_get(cf, "encrypted_to")) ? "encrypted" : "not encrypted: keep it as the vault is kept",
			       json_array_size(json_object_get(r, "vault")),
			       (long long)json_integer_value(json_object_get(json_object_get(r, "head"), "seq")),
			       json_is_object(json_object_get(r, "checkpoint")) ? ", last checkpoint" : "");
		spif_catalog_close(cat);
	} else if (strcmp(sub, "restore-test") == 0 && nargs == 1) {
		struct spif_catalog *cat = cli_catalog(c, 0);
		if (spif_backup_restore_test(cat, &c->conf, argv[optind], sample, &r, &e) < 0)
			cli_die(c, &e);
		rc = json_is_true(json_object_get(r, "ok")) ? 0 : SPIF_FOUND;
		if (!json) {
			const json_t *ch2 = json_object_get(r, "chain");
			printf("%s: audit log %s (%lld events); %lld of %lld sampled vault files open with the live keys\n",
			       argv[optind], json_is_true(json_object_get(ch2, "intact")) ? "intact" : "BROKEN",
			       (long long)json_integer_value(json_object_get(ch2, "events")),
			       (long long)json_integer_value(json_object_get(r, "opened")),
			       (long long)json_integer_value(json_object_get(r, "sampled")));
			static const char *const lists[] = {"gone", "stale", "failed"};
			for (int k = 0; k < 3; k++) {
				size_t i;
				json_t *x;
				json_array_foreach(json_object_get(r, lists[k]), i, x)
					printf("  %s: %s: %s\n", json_string_value(json_object_get(x, "file")), lists[k],
					       json_string_value(json_object_get(x, "why")));
			}
			printf("restore drill: %s\n", rc ? "FAILED" : "passed");
		}
		spif_catalog_close(cat);
	} else if (strcmp(sub, "restore") == 0 && nargs == 1) {
		if (spif_home_resolve(c->home_opt, &c->conf, c->home, sizeof c->home, &e) < 0 ||
		    spif_backup_restore(&c->conf, argv[optind], c->home, keys, &c->actor, &r, &e) < 0)
			cli_die(c, &e);
		rc = json_array_size(json_object_get(r, "gone")) ? SPIF_FOUND : 0;
		if (!json) {
			size_t i;
			json_t *x;
			json_array_foreach(json_object_get(r, "gone"), i, x)
				printf("%s: %s\n", json_string_value(json_object_get(x, "file")),
				       json_string_value(json_object_get(x, "why")));
			printf("restored %s into %s: %zu vault files\n", argv[optind], c->home,
			       json_array_size(json_object_get(r, "restored")));
		}
	} else
		cli_usage(c, "%s: wrong number of arguments", sub);
	if (json)
		print_json(json_incref(r));
	json_decref(r);
	cli_done(c);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli c;
	cli_init(&c, "spif-catalog", argc, argv);
	if (backup_sub(argc, argv))
		return cmd_backup(&c, argc, argv);
	struct opts o = {0};
	opterr = 0;
	parse_opts(&c, &o, argc, argv, "hjn:o:");
	if (optind >= argc)
		cli_usage(&c, "missing subcommand: ls, show, log, verify, checkpoint, key or cert");
	const char *sub = argv[optind++];
	const char *certsub = NULL;
	if (strcmp(sub, "cert") == 0) {
		if (optind >= argc)
			cli_usage(&c, "cert: missing subcommand: ls, show, export, verify or confirm");
		certsub = argv[optind++];
	}
	int rc = 0;
	int nargs = argc - optind;
	cli_permit_sub(&c, sub, certsub, certsub && nargs ? argv[optind] : NULL);
	if (certsub)
		rc = cert_cmd(&c, &o, certsub, nargs, argv + optind);
	else if (strcmp(sub, "ls") == 0 && nargs == 0)
		rc = cmd_ls(&c, &o);
	else if (strcmp(sub, "show") == 0 && nargs == 1)
		rc = cmd_show(&c, &o, argv[optind]);
	else if (strcmp(sub, "log") == 0 && nargs == 0)
		rc = cmd_log(&c, &o);
	else if (strcmp(sub, "verify") == 0 && nargs == 0)
		rc = cmd_verify(&c, &o);
	else if (strcmp(sub, "check") == 0 && nargs == 0)
		rc = cmd_check(&c, &o);
	else if (strcmp(sub, "copy") == 0)
		rc = cmd_copy(&c, &o, nargs, argv + optind);
	else if (strcmp(sub, "review") == 0 && nargs == 0)
		rc = cmd_review(&c, &o);
	else if (strcmp(sub, "checkpoint") == 0 && nargs == 0)
		rc = cmd_checkpoint(&c, &o);
	else if (strcmp(sub, "key") == 0 && nargs == 1 && strcmp(argv[optind], "export") == 0)
		rc = cmd_key(&c, &o);
	else if (strcmp(sub, "key") == 0 && nargs == 1)
		cli_usage(&c, "key %s: unknown (export)", argv[optind]);
	else if (strcmp(sub, "ls") && strcmp(sub, "show") && strcmp(sub, "log") && strcmp(sub, "verify") &&
	         strcmp(sub, "check") && strcmp(sub, "review") && strcmp(sub, "checkpoint") && strcmp(sub, "key"))
		cli_usage(&c, "%s: unknown subcommand (ls, show, log, verify, check, copy, review, checkpoint, key, "
		          "cert)", sub);
	else
		cli_usage(&c, "%s: wrong number of arguments", sub);
	cli_done(&c);
	return rc;
}
