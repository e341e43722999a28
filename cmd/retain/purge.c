/* purge.c - spif retain purge: dispose of everything due today (or of an
 * approved plan's entries), by each schedule's action.
 *
 * The lock first: the list of leftovers and what is due are read under
 * it, and children inherit it.  Then: claim (or take over) and classify
 * in batches, a transaction each; erase every vault-only file claimed at
 * once by crypto-erase in this process (lib/dispose), so that each
 * disposal month's key is replaced exactly once per purge, not once per
 * batch; certify them and end every item that needs no child, in batches
 * again; then run spif shred or spif redact --file for the rest, one
 * child each (child.c).  Each item
 * ends done with its certificates or failed with the reason; a killed
 * purge leaves items "started" and copies "disposing", which the next one
 * finishes without disposing of or certifying anything twice. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "checkpoint.h"
#include "dispose.h"
#include "pgp.h"
#include "precheck.h"
#include "progress.h"
#include "purge.h"
#include "retain.h"

enum kind { K_NONE, K_SKIP, K_DONE, K_FAIL, K_CRYPTO, K_SHRED, K_REDACT };

struct item {
	long long purge_id, file_id, claim_seq;
	enum spif_action action;
	char schedule[65];
	long dispose_on, retain_until;
	int leftover;     /* claimed by an interrupted purge */
	int done_before;  /* a plan entry already finished: not a failure */
	enum kind kind;
	size_t first, ncopies; /* its crypto targets */
	char why[1024];
	char **paths;     /* K_REDACT: copies with numbers outside the vault, shredded first */
	size_t npaths;
};

struct purge {
	struct cli *c;
	struct spif_catalog *cat;
	const struct opts *o;
	long today;
	long long purge_id, plan_id;
	const char *sign;
	int use_syslog;
	long long disposed, failed, redacted;
	long long done_before; /* plan entries an earlier run of the plan (or anyone) already finished */
	json_t *issued;        /* every certificate this run issued, for the summary (also those of
	                          files that then failed: the certificate stands for what it says) */
	long long refused;     /* --dry-run: items the precheck refuses */
	struct spif_progress prog; /* on a terminal, after 2 s: files done of those due */
};

/* The progress line off the screen before a line of our own goes out. */
static void progress_clear(struct purge *p)
{
	char line[16];
	if (spif_progress_clear(&p->prog, line, sizeof line))
		cli_progress_line(p->c, line);
}

static void progress_show(struct purge *p)
{
	char line[160];
	if (spif_progress_update(&p->prog, p->disposed + p->redacted + p->failed, N_("files"), -1, line, sizeof line))
		cli_progress_line(p->c, line);
}

static void note_issued(struct purge *p, json_t *certs)
{
	size_t i;
	json_t *v;
	if (!p->issued)
		p->issued = json_array();
	json_array_foreach(certs, i, v)
		json_array_append(p->issued, v);
}

/* One line per disposal on stdout (data: the certificates), flushed at
 * once so that a log keeps it even if the run is killed next. */
static void said_done(struct purge *p, const struct item *it, json_t *certs, const char *how)
{
	char fid[24], dd[11];
	spif_file_id_format(it->file_id, fid);
	spif_day_format(it->dispose_on, dd);
	char ids[512] = "";
	size_t i, k = 0;
	json_t *v;
	json_array_foreach(certs, i, v) {
		int w = snprintf(ids + k, sizeof ids - k, "%s%s", i ? "," : "", json_string_value(v));
		if (w < 0 || (size_t)w >= sizeof ids - k)
			break;
		k += (size_t)w;
	}
	note_issued(p, certs);
	progress_clear(p);
	char line[1024];
	snprintf(line, sizeof line, "%s %s %s (%s, due %s, %s)", fid,
	         it->action == SPIF_ACTION_REDACT ? "redacted" : "disposed", k ? ids : "-", it->schedule, dd, how);
	printf("%s\n", line);
	fflush(stdout);
	if (p->use_syslog)
		syslog(LOG_NOTICE, "%s", line);
	if (it->action == SPIF_ACTION_REDACT)
		p->redacted++;
	else
		p->disposed++;
	progress_show(p);
}

static void said_failed(struct purge *p, const struct item *it, const char *why)
{
	char fid[24];
	spif_file_id_format(it->file_id, fid);
	progress_clear(p);
	cli_note(p->c, "%s: not disposed: %s", fid, why);
	if (p->use_syslog)
		syslog(LOG_ERR, "%s: not disposed: %s", fid, why);
	p->failed++;
	progress_show(p);
}

/* The reason the certificates give. */
static void purge_reason(const struct item *it, char out[256])
{
	char ru[11];
	spif_day_format(it->retain_until, ru);
	snprintf(out, 256, "保存期間満了 / retention ended (schedule %s, retained until %s; spif retain purge)",
	         it->schedule, ru);
}

/* Decide how an item goes, inside the claim transaction; crypto targets
 * are marked "disposing" here. */
static void classify(struct purge *p, struct item *it, struct spif_dispose_copy **tv, size_t *tn, size_t *tcap)
{
	struct spif_err e = {0};
	struct spif_file f;
	struct spif_copy *cp;
	size_t n;
	if (spif_catalog_get_file(p->cat, it->file_id, &f, &e) < 0 ||
	    spif_catalog_get_copies(p->cat, it->file_id, &cp, &n, &e) < 0)
		cli_die(p->c, &e);
	size_t live = 0, vault = 0, disposing = 0;
	for (size_t i = 0; i < n; i++) {
		if (spif_copy_settled(cp[i].state))
			continue;
		live++;
		vault += strcmp(cp[i].kind, "vault") == 0;
		disposing += cp[i].state == SPIF_COPY_DISPOSING;
	}
	it->kind = K_NONE;
	if (it->action == SPIF_ACTION_SHRED) {
		if (f.state == SPIF_FILE_DISPOSED)
			it->kind = K_DONE; /* an interrupted purge's child got that far */
		else if (!live) {
			it->kind = K_FAIL;
			snprintf(it->why, sizeof it->why, "the catalog knows no copy of it to destroy (its records went "
			         "only to a pipe?); destroy what exists with spif shred, or hold it");
		} else if (vault == live) {
			it->kind = K_CRYPTO;
			it->first = *tn;
			for (size_t i = 0; i < n; i++) {
				if (spif_copy_settled(cp[i].state))
					continue;
				if (*tn == *tcap) {
					*tcap = *tcap ? *tcap * 2 : 256;
					*tv = xreallocarray(*tv, *tcap, sizeof **tv);
				}
				struct spif_dispose_copy *t = &(*tv)[(*tn)++];
				memset(t, 0, sizeof *t);
				snprintf(t->path, sizeof t->path, "%s", cp[i].path);
				t->copy_id = cp[i].id;
				t->file_id = it->file_id;
				snprintf(t->kind, sizeof t->kind, "vault");
				t->resumed = cp[i].state == SPIF_COPY_DISPOSING;
				spif_dispose_crypto_target(t);
				if (!t->resumed && spif_dispose_mark(p->cat, t, &e) < 0)
					cli_die(p->c, &e);
			}
			it->ncopies = *tn - it->first;
		} else
			it->kind = K_SHRED;
	} else {
		if (f.state == SPIF_FILE_REDACTED && !disposing)
			it->kind = K_DONE;
		else if (f.state == SPIF_FILE_DISPOSED) {
			it->kind = K_FAIL;
			snprintf(it->why, sizeof it->why, "it was disposed of otherwise; nothing is left to redact");
		} else if (!vault && f.state != SPIF_FILE_REDACTED) {
			it->kind = K_FAIL;
			snprintf(it->why, sizeof it->why, "its schedule keeps the record without numbers, but it has no "
			         "vault copy to keep (ingest --store)");
		} else {
			it->kind = K_REDACT;
			/* copies with numbers outside the vault go first: the record
			 * kept is the vault copy, without its numbers */
			for (size_t i = 0; i < n; i++)
				if (cp[i].state == SPIF_COPY_PRESENT && strcmp(cp[i].kind, "vault") != 0 &&
				    !spif_copy_redacted(&cp[i])) {
					it->paths = xreallocarray(it->paths, it->npaths + 1, sizeof *it->paths);
					it->paths[it->npaths++] = xstrdup(cp[i].path);
				}
		}
	}
	spif_copies_free(cp, n);
	spif_file_free(&f);
}

static const char *how_name(const struct item *it)
{
	return it->kind == K_CRYPTO ? "crypto-erase" : it->kind == K_SHRED ? "spif shred" : it->kind == K_REDACT
	       ? "spif redact" : "finished";
}

/* A child's item, after it ran: done when the file is in the state the
 * action leads to, failed otherwise; with the certificates issued since
 * its claim. */
static void end_child_item(struct purge *p, struct item *it, int status, const char *why)
{
	struct spif_err e = {0};
	struct spif_file f;
	if (spif_catalog_begin(p->cat, &e) < 0 || spif_catalog_get_file(p->cat, it->file_id, &f, &e) < 0)
		cli_die(p->c, &e);
	long long left;
	if (spif_file_disposing_copies(p->cat, it->file_id, &left, &e) < 0)
		cli_die(p->c, &e);
	int ok = it->action == SPIF_ACTION_SHRED ? f.state == SPIF_FILE_DISPOSED
	                                         : f.state == SPIF_FILE_REDACTED && !left;
	json_t *certs = spif_file_certificates_since(p->cat, it->file_id, it->claim_seq);
	char reason[1200];
	if (!ok) {
		snprintf(reason, sizeof reason, "%s", why && *why ? why : status ? "the disposal command failed"
		                                                                 : "the file is not disposed");
		/* a copy destroyed before the failure has its certificate: say so */
		if (json_array_size(certs)) {
			note_issued(p, certs);
			size_t len = strlen(reason);
			snprintf(reason + len, sizeof reason - len, " (certificate%s issued for what was destroyed: %s%s)",
			         json_array_size(certs) == 1 ? "" : "s", json_string_value(json_array_get(certs, 0)),
			         json_array_size(certs) > 1 ? ", ..." : "");
		}
	}
	if ((ok ? spif_purge_item_done(p->cat, it->purge_id, it->file_id, certs, &e)
	        : spif_purge_item_failed(p->cat, it->purge_id, it->file_id, reason, &e)) < 0 ||
	    spif_catalog_commit(p->cat, &e) < 0)
		cli_die(p->c, &e);
	if (ok)
		said_done(p, it, certs, how_name(it));
	else
		said_failed(p, it, reason);
	json_decref(certs);
	spif_file_free(&f);
}

static void run_item_child(struct purge *p, struct item *it)
{
	char fid[24], reason[256], why[1024] = "";
	spif_file_id_format(it->file_id, fid);
	purge_reason(it, reason);
	int status = 0;
	if (it->kind == K_REDACT && it->npaths) {
		char **args = xcalloc(it->npaths + 8, sizeof *args);
		size_t k = 0;
		args[k++] = "spif-shred";
		args[k++] = "--reason";
		args[k++] = reason;
		if (p->sign) {
			args[k++] = "--sign";
			args[k++] = (char *)p->sign;
		}
		args[k++] = "--";
		for (size_t i = 0; i < it->npaths; i++)
			args[k++] = it->paths[i];
		status = run_child(p->c, "shred", args, why, sizeof why);
		free(args);
	}
	if (status == 0) {
		char *args[10];
		size_t k = 0;
		args[k++] = it->kind == K_REDACT ? "spif-redact" : "spif-shred";
		args[k++] = "--file";
		args[k++] = fid;
		args[k++] = "--reason";
		args[k++] = reason;
		if (p->sign) {
			args[k++] = "--sign";
			args[k++] = (char *)p->sign;
		}
		args[k] = NULL;
		status = run_child(p->c, it->kind == K_REDACT ? "redact" : "shred", args, why, sizeof why);
	}
	end_child_item(p, it, status, why);
}

struct item_list {
	struct item *v;
	size_t n, cap;
};

static int item_leftover(void *ctx, long long purge_id, long long file_id, enum spif_action action,
                         long long claim_seq)
{
	struct item_list *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	struct item *it = &l->v[l->n++];
	memset(it, 0, sizeof *it);
	it->purge_id = purge_id;
	it->file_id = file_id;
	it->action = action;
	it->claim_seq = claim_seq;
	it->leftover = 1;
	return 0;
}

#define PURGE_BATCH 500

/* Files claimed per transaction; the test suite makes it small (a test
 * hook) to show that the month keys are replaced once however many
 * batches a purge has. */
static size_t purge_batch_size(void)
{
	const char *s = getenv("SPIF_TEST_PURGE_BATCH");
	long v = s ? strtol(s, NULL, 10) : 0;
	return v > 0 && v < PURGE_BATCH ? (size_t)v : PURGE_BATCH;
}

/* The vault copies every batch marked for crypto-erase, for the one
 * erase at the end of the claims. */
struct targets {
	struct spif_dispose_copy *v;
	size_t n, cap;
};

/* One batch's claim: claim (or take over) and classify in one
 * transaction; its crypto targets join t. */
static void claim_batch(struct purge *p, struct item *items, size_t n, int plan, struct targets *t)
{
	struct spif_err e = {0};
	if (spif_catalog_begin(p->cat, &e) < 0)
		cli_die(p->c, &e);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		struct spif_retention r;
		if (spif_retention_load(p->cat, it->file_id, &r, &e) < 0) {
			if (!plan || e.code != SPIF_EX_DATAERR)
				cli_die(p->c, &e);
			it->kind = K_SKIP;
			snprintf(it->why, sizeof it->why, "%s", e.en); /* kept: English */
			continue;
		}
		snprintf(it->schedule, sizeof it->schedule, "%s", r.schedule);
		it->retain_until = r.retain_until;
		it->dispose_on = r.dispose_on;
		if (!it->leftover) {
			/* the re-check and the claim are one transaction: a hold placed
			 * before it stops the disposal, one placed after is refused */
			struct spif_due d;
			int due = spif_retention_check(p->cat, it->file_id, p->today, &d, it->why, &e);
			if (due < 0)
				cli_die(p->c, &e);
			if (!due) {
				it->kind = K_SKIP;
				/* a plan run again (after a kill, say) finds its finished
				 * entries finished: that is success, not a failure */
				struct spif_schedule s;
				it->done_before = strcmp(r.state, "disposed") == 0 ||
				                  (strcmp(r.state, "redacted") == 0 && spif_schedule_get(p->cat, r.schedule, &s, NULL) == 0 &&
				                   s.action == SPIF_ACTION_REDACT);
				continue;
			}
			it->action = d.action;
			if (spif_purge_claim(p->cat, p->purge_id, it->file_id, d.action, d.schedule, &it->claim_seq, &e) < 0)
				cli_die(p->c, &e);
			it->purge_id = p->purge_id;
		}
		classify(p, it, &t->v, &t->n, &t->cap);
	}
	if (spif_catalog_commit(p->cat, &e) < 0)
		cli_die(p->c, &e);
	for (size_t i = 0; i < n; i++)
		if (items[i].kind == K_SKIP && plan && items[i].done_before)
			p->done_before++;
		else if (items[i].kind == K_SKIP && plan)
			said_failed(p, &items[i], items[i].why);
}

/* One batch's certificates: certify the crypto-erased files and end
 * every item that needs no child, in one transaction. */
static void certify_batch(struct purge *p, struct item *items, size_t n, struct spif_dispose_copy **set,
                          struct spif_dispose_copy *tv)
{
	struct spif_err e = {0};
	if (spif_catalog_begin(p->cat, &e) < 0)
		cli_die(p->c, &e);
	json_t **certs = xcalloc(n + 1, sizeof *certs);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		if (it->kind == K_CRYPTO) {
			int bad = 0;
			for (size_t k = 0; k < it->ncopies; k++)
				if (tv[it->first + k].failed) {
					bad = 1;
					snprintf(it->why, sizeof it->why, "%.900s; left for the next purge",
					         tv[it->first + k].error_en);
				}
			if (bad)
				continue; /* its copies stay "disposing", its item "started" */
			char reason[256], id[32];
			int file_disposed;
			purge_reason(it, reason);
			struct spif_dispose_opts d = {.command = "spif retain purge", .reason = reason,
			                              .sign_key = p->sign};
			if (spif_dispose_certify(p->cat, &p->c->conf, &d, set + it->first, it->ncopies, 0, NULL, id,
			                         &file_disposed, &e) < 0)
				cli_die(p->c, &e);
			certs[i] = spif_file_certificates_since(p->cat, it->file_id, it->claim_seq);
			if (spif_purge_item_done(p->cat, it->purge_id, it->file_id, certs[i], &e) < 0)
				cli_die(p->c, &e);
		} else if (it->kind == K_DONE) {
			certs[i] = spif_file_certificates_since(p->cat, it->file_id, it->claim_seq);
			if (spif_purge_item_done(p->cat, it->purge_id, it->file_id, certs[i], &e) < 0)
				cli_die(p->c, &e);
		} else if (it->kind == K_FAIL) {
			if (spif_purge_item_failed(p->cat, it->purge_id, it->file_id, it->why, &e) < 0)
				cli_die(p->c, &e);
		}
	}
	if (spif_catalog_commit(p->cat, &e) < 0)
		cli_die(p->c, &e);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		if (certs[i])
			said_done(p, it, certs[i], how_name(it));
		else if (it->kind == K_FAIL || (it->kind == K_CRYPTO && it->why[0]))
			said_failed(p, it, it->why);
		json_decref(certs[i]);
	}
	free(certs);
}

/* The whole purge: claims in batches, then one crypto-erase of every
 * vault-only file claimed (each disposal month's KEK replaced once, in
 * the transaction that erases the data keys, the old KEK destroyed after
 * its commit: lib/dispose), certificates in batches, then the children
 * one by one.  Only the claims and certificates are batched: the erase
 * is one, so that a month is never rotated twice by one purge. */
static void purge_all(struct purge *p, struct item *items, size_t n, int plan)
{
	struct spif_err e = {0};
	struct targets t = {0};
	size_t batch = purge_batch_size(), claimed = 0;
	while (claimed < n && !stop_flag) { /* a stop leaves the rest unclaimed, for the next purge */
		size_t k = n - claimed < batch ? n - claimed : batch;
		claim_batch(p, items + claimed, k, plan, &t);
		claimed += k;
	}

	struct spif_dispose_copy **set = t.n ? xcalloc(t.n, sizeof *set) : NULL;
	for (size_t i = 0; i < t.n; i++)
		set[i] = &t.v[i];
	if (t.n && spif_dispose_crypto(p->cat, set, t.n, &e) < 0 && e.code == SPIF_EX_SOFTWARE)
		cli_die(p->c, &e);
	/* a disposal month whose files are all gone loses its KEK now, before
	 * the certificates, so that they say so */
	if (t.n && spif_dispose_retire_keks(p->cat, set, t.n, &e) < 0)
		cli_note(p->c, "the keys of disposed months were not all retired: %s", e.msg);
	for (size_t i = 0; i < claimed; i += batch)
		certify_batch(p, items + i, claimed - i < batch ? claimed - i : batch, set, t.v);
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i].error[0] && !t.v[i].failed)
			cli_note(p->c, "%s", t.v[i].error); /* a leftover ciphertext, named */
		json_decref(t.v[i].erased);
	}
	free(set);
	free(t.v);

	/* then those that need spif shred or spif redact, one by one */
	for (size_t i = 0; i < claimed; i++) {
		struct item *it = &items[i];
		if ((it->kind == K_SHRED || it->kind == K_REDACT) && !stop_flag)
			run_item_child(p, it);
		else if ((it->kind == K_SHRED || it->kind == K_REDACT) && stop_flag)
			said_failed(p, it, "interrupted before its turn; the next purge finishes it");
		for (size_t k = 0; k < it->npaths; k++)
			free(it->paths[k]);
		free(it->paths);
		it->paths = NULL;
		it->npaths = 0;
	}
}

static void dry_run_item(struct purge *p, struct item *it, int plan)
{
	struct spif_err e = {0};
	char fid[24], dd[11];
	spif_file_id_format(it->file_id, fid);
	struct spif_retention r;
	if (spif_retention_load(p->cat, it->file_id, &r, &e) < 0) {
		printf(_("would refuse %s: %s\n"), fid, e.msg);
		return;
	}
	spif_day_format(r.dispose_on, dd);
	if (!it->leftover) {
		struct spif_due d;
		char why[256];
		int due = spif_retention_check(p->cat, it->file_id, p->today, &d, why, &e);
		if (due < 0)
			cli_die(p->c, &e);
		if (!due) {
			if (plan)
				printf(_("would skip %s: %s\n"), fid, why);
			return;
		}
		it->action = d.action;
	}
	struct spif_copy *cp;
	size_t n, live = 0, vault = 0;
	if (spif_catalog_get_copies(p->cat, it->file_id, &cp, &n, &e) < 0)
		cli_die(p->c, &e);
	for (size_t i = 0; i < n; i++)
		if (!spif_copy_settled(cp[i].state)) {
			live++;
			vault += strcmp(cp[i].kind, "vault") == 0;
		}
	/* the same checks a disposal makes before it touches anything
	 * (precheck.h): what this account could not destroy is refused now */
	if (it->action == SPIF_ACTION_SHRED && live) {
		struct spif_dispose_copy *tv = xcalloc(live, sizeof *tv);
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (spif_copy_settled(cp[i].state))
				continue;
			struct spif_dispose_copy *t = &tv[k++];
			snprintf(t->path, sizeof t->path, "%s", cp[i].path);
			snprintf(t->kind, sizeof t->kind, "%s", cp[i].kind);
			t->copy_id = cp[i].id;
			t->file_id = it->file_id;
			if (strcmp(cp[i].kind, "vault") == 0)
				spif_dispose_crypto_target(t);
		}
		long bad = spif_precheck(tv, k, p->c->home, NULL);
		if (bad >= 0) {
			printf(_("would refuse %s: %s: %s; nothing of it would be destroyed\n"), fid, tv[bad].path,
			       tv[bad].refusal);
			p->refused++;
		}
		free(tv);
		if (bad >= 0) {
			spif_copies_free(cp, n);
			return;
		}
	}
	spif_copies_free(cp, n);
	const char *how = it->action == SPIF_ACTION_REDACT ? _("redact (spif redact --file: keep the record without its numbers)")
	                  : !live ? _("fail: the catalog knows no copy of it")
	                  : vault == live ? _("shred (crypto-erase of its vault copy; Purge)")
	                                  : _("shred (spif shred --file: overwrite, and crypto-erase for a vault copy)");
	printf(it->leftover ? _("would finish %s: %s; schedule %s, due %s (an interrupted purge claimed it)\n")
	                    : _("would dispose of %s: %s; schedule %s, due %s\n"),
	       fid, how, r.schedule, dd);
}

int cmd_purge(struct cli *c, const struct opts *o, int argc)
{
	struct spif_err e = {0};
	allow(c, o, "purge", O_DRY | O_PLAN | O_SYSLOG | O_SIGN | O_WAIT);
	nargs(c, "purge", argc, 0, "");
	int dry = (o->seen & O_DRY) != 0;
	cli_check_home(c);
	char db[PATH_MAX + 16];
	snprintf(db, sizeof db, "%s/catalog.db", c->home);
	if (faccessat(AT_FDCWD, db, F_OK, AT_EACCESS) != 0) {
		if (o->plan)
			cli_fail(c, SPIF_EX_NOINPUT, "%s: no catalog yet", db);
		return 0; /* nothing was ever ingested: nothing is due */
	}
	/* the lock first: the list of leftovers and what is due are read
	 * under it, and children inherit it */
	int lock = -1;
	if (!dry) {
		/* a lock held far longer than any purge takes is someone keeping
		 * every disposal back: said, and a failure (exit 1), not 75 */
		struct spif_lock_wait lw;
		cli_lock_wait(c, o->wait, &stop_flag, &lw);
		lw.alarm = c->conf.purge_lock_alarm ? c->conf.purge_lock_alarm : 6 * 3600;
		if (spif_dispose_lock(c->home, &c->conf, &lw, &lock, &e) < 0)
			cli_die(c, &e);
		char fdb[16];
		snprintf(fdb, sizeof fdb, "%d", lock);
		if (fcntl(lock, F_SETFD, 0) < 0 || setenv("SPIF_LOCK_FD", fdb, 1) < 0)
			cli_fail(c, SPIF_EX_SOFTWARE, "lock: %s", strerror(errno));
		/* the children work on the same home, whatever chose it here */
		setenv("SPIF_HOME", c->home, 1);
	}
	struct purge p = {.c = c, .o = o, .today = spif_day_today(), .use_syslog = (o->seen & O_SYSLOG) != 0};
	p.cat = cli_catalog(c, 0);
	p.sign = o->sign ? o->sign : c->conf.sign_key[0] ? c->conf.sign_key : NULL;

	/* what an interrupted purge claimed, then what is due (or planned) */
	struct item_list l = {0};
	if (spif_purge_leftovers(p.cat, item_leftover, &l, &e) < 0)
		cli_die(c, &e);
	size_t nleft = l.n;
	long long *plan_ids = NULL;
	size_t nplan = 0;
	if (o->plan)
		p.plan_id = read_plan(c, p.cat, o->plan, &plan_ids, &nplan);
	/* purge_requires_plan: only an approved plan, never what is due */
	int planned = o->plan || approved_plan(c, p.cat, &p.plan_id, &plan_ids, &nplan);
	struct due_list dl = {0};
	if (!planned)
		collect_due(c, p.cat, p.today, &dl);
	size_t nwant = planned ? nplan : dl.n;
	for (size_t i = 0; i < nwant; i++) {
		long long id = planned ? plan_ids[i] : dl.v[i].file_id;
		int dup = 0;
		for (size_t k = 0; k < l.n && !dup; k++)
			dup = l.v[k].file_id == id;
		if (dup)
			continue;
		if (item_leftover(&l, 0, id, SPIF_ACTION_SHRED, 0) < 0)
			cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
		l.v[l.n - 1].leftover = 0;
	}
	due_free(&dl);
	free(plan_ids);
	if (!l.n) { /* cron: no output at all when nothing is due */
		spif_catalog_close(p.cat);
		return 0;
	}
	if (dry) {
		for (size_t i = 0; i < l.n; i++)
			dry_run_item(&p, &l.v[i], planned);
		free(l.v);
		spif_catalog_close(p.cat);
		return p.refused ? SPIF_FOUND : 0;
	}
	/* a certificate that cannot be signed stops us before anything goes */
	if (p.sign && *p.sign && spif_pgp_can_sign(p.sign, NULL, &e) < 0)
		cli_die(c, &e);
	if (p.use_syslog)
		openlog("spif-retain", LOG_PID, LOG_USER);
	if (spif_catalog_begin(p.cat, &e) < 0 || spif_purge_begin(p.cat, p.today, p.plan_id, &p.purge_id, &e) < 0)
		cli_die(c, &e);
	commit(c, p.cat);
	if (nleft)
		cli_note(c, "finishing %zu file%s an interrupted purge had claimed", nleft, nleft == 1 ? "" : "s");
	spif_progress_init(&p.prog, 2, "spif-retain: purge", (long long)l.n);
	purge_all(&p, l.v, l.n, planned);
	progress_clear(&p);
	if (spif_catalog_begin(p.cat, &e) < 0 ||
	    spif_purge_end(p.cat, p.purge_id, p.disposed + p.redacted, p.failed, &e) < 0)
		cli_die(c, &e);
	commit(c, p.cat);
	char today[11];
	spif_day_format(p.today, today);
	char summary[320], before[64] = "";
	if (p.done_before)
		snprintf(before, sizeof before, ", %lld already done", p.done_before);
	snprintf(summary, sizeof summary, "purge %lld (%s): %lld disposed, %lld redacted, %lld failed%s%s", p.purge_id,
	         today, p.disposed, p.redacted, p.failed, before,
	         stop_flag ? "; interrupted: the rest is left for the next purge" : "");
	/* the summary names every certificate issued, those of files that
	 * then failed too: a reader of the log finds each one */
	char *issued = NULL;
	size_t isz = 0;
	FILE *m = open_memstream(&issued, &isz);
	if (!m)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	size_t ci;
	json_t *cv;
	json_array_foreach(p.issued, ci, cv)
		fprintf(m, "%s%s", ci ? ", " : "; certificates: ", json_string_value(cv));
	fclose(m);
	/* the same summary for a person, in their language (syslog keeps
	 * the English above) */
	cli_note_begin(c, "purge %lld (%s): %lld disposed, %lld redacted, %lld failed", p.purge_id, today,
	               p.disposed, p.redacted, p.failed);
	if (p.done_before)
		cli_note_more(c, ", %lld already done", p.done_before);
	if (stop_flag)
		cli_note_more(c, "; interrupted: the rest is left for the next purge");
	json_array_foreach(p.issued, ci, cv) {
		if (ci)
			cli_note_more(c, ", %s", json_string_value(cv));
		else
			cli_note_more(c, "; certificates: %s", json_string_value(cv));
	}
	cli_note_end(c);
	if (p.use_syslog) {
		syslog(p.failed ? LOG_WARNING : LOG_INFO, "%s%s", summary, issued);
		closelog();
	}
	free(issued);
	json_decref(p.issued);
	free(l.v);
	if (spif_checkpoint_issue(p.cat, NULL, &e) < 0) /* the log as it now is, signed and published */
		cli_note(c, "%s", e.msg);
	spif_catalog_close(p.cat);
	if (stop_flag)
		return SPIF_EX_TEMPFAIL;
	return p.failed ? SPIF_FOUND : 0;
}
