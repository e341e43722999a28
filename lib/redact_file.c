/* redact_file.c - spif redact --file, the retention action "keep the
 * record, lose the number": the protocol is described in redact.h, whose
 * engine rewrites the copy.  Kept apart from the engine because it is
 * about the catalog and the vault, not about finding numbers. */
#include "catalog_priv.h"
#include "redact.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "audit.h"
#include "detect.h"
#include "dispose.h"
#include "pgp.h"
#include "retention.h"
#include "vault.h"
#include "vault_feed.h"

typedef int (*record_fn)(void *ctx, struct spif_record *rec, struct spif_err *err);

/* Read a vault copy's records through fn.  An error of fn comes first;
 * then the thread's (a damaged copy shows to the reader as bad records, but
 * the vault's error is the one that says why); then the reader's. */
static int each_vault_record(const struct spif_redact_file_opts *o, const char *path, record_fn fn, void *ctx,
                             struct spif_err *err)
{
	struct spif_err e = {0}, fe = {0}, ve = {0};
	struct spif_vault_feed *f;
	int fd;
	if (spif_vault_feed_start(o->home, o->conf, o->file_id, path, &f, &fd, err) < 0)
		return -1;
	struct spif_reader *rd = spif_reader_open(fd, path, SPIF_FMT_NDJSON, SPIF_ENC_UTF8, &e);
	struct spif_record rec;
	spif_record_init(&rec);
	int rc = rd ? 0 : -1, failed = 0;
	while (rd && (rc = spif_reader_next(rd, &rec, &e)) > 0)
		if (fn(ctx, &rec, &fe) < 0) {
			failed = 1;
			break;
		}
	spif_record_free(&rec);
	spif_reader_close(rd);
	/* a reader that stopped early unblocks the thread; after a reader's
	 * error the rest is drained, so that the thread's error is its own */
	int vrc = spif_vault_feed_finish(f, rc < 0, &ve);
	if (failed)
		*err = fe;
	else if (vrc < 0)
		*err = ve;
	else if (rc < 0)
		*err = e;
	return failed || vrc < 0 || rc < 0 ? -1 : 0;
}

struct rewrite {
	struct spif_redactor *r;
	struct spif_writer *w;
};

static int rewrite_one(void *ctx, struct spif_record *rec, struct spif_err *err)
{
	struct rewrite *rw = ctx;
	if (spif_redact_record(rw->r, rec, err) < 0 || spif_writer_put(rw->w, rec, err) < 0)
		return -1;
	return 0;
}

/* The re-scan of the new copy: any number left above --min-confidence low? */
static int rescan_finding(void *ctx, const struct spif_finding *f)
{
	(void)f;
	++*(long long *)ctx;
	return 0;
}

static int rescan_one(void *ctx, struct spif_record *rec, struct spif_err *err)
{
	(void)err;
	struct spif_detect_opts d = {.corporate = 0};
	for (size_t i = 0; i < rec->n; i++) {
		spif_detect(rec->f[i].key, rec->f[i].klen, &d, rescan_finding, ctx); /* names too */
		if (rec->f[i].key[0] != '@' && !spif_psn_is_token(rec->f[i].val))
			spif_detect(rec->f[i].val, rec->f[i].vlen, &d, rescan_finding, ctx);
	}
	return 0;
}

/* The latest redact.file event of a file: its seq and details (NULL when
 * there is none). */
static int last_redaction_event(struct spif_catalog *c, const char *fid, long long *seq, json_t **details,
                                struct spif_err *err)
{
	sqlite3_stmt *st;
	*seq = 0;
	*details = NULL;
	if (spif_catalog_prepare(c, "SELECT seq, details FROM events WHERE action = 'redact.file' AND object = ?"
	                            " ORDER BY seq DESC LIMIT 1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, fid, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 1);
		*seq = sqlite3_column_int64(st, 0);
		*details = d ? json_loads(d, 0, NULL) : NULL;
	}
	sqlite3_finalize(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return spif_catalog_sqlerr(c, s, "redaction event", err);
	return 0;
}

/* Finish a redaction that a killed run left between its two commits: the
 * file is redacted and the old copy's key destroyed (one transaction, with
 * the redact.file event), but the old copy is still "disposing" and has no
 * certificate.  The event says what was removed; the key is gone, so the
 * purge is repeated and the certificate says the search could not be. */
/* The certificate of the removal, in a transaction of its own (the old
 * copy "disposed" with it): what the first run and a resumed one end with. */
static int certify(struct spif_catalog *cat, const struct spif_redact_file_opts *o,
                   const struct spif_redaction_cert *in, char cert[32], struct spif_err *err)
{
	if (spif_catalog_begin(cat, err) < 0)
		return -1;
	if (spif_dispose_certify_redaction(cat, o->conf, in, cert, err) < 0 || spif_catalog_commit(cat, err) < 0) {
		spif_catalog_rollback(cat);
		return -1;
	}
	return 0;
}

static int finish_interrupted(struct spif_catalog *cat, const struct spif_redact_file_opts *o,
                              const struct spif_file *f, const struct spif_copy *old,
                              struct spif_redact_file_result *res, struct spif_err *err)
{
	char fid[24];
	spif_file_id_format(f->id, fid);
	json_t *ev;
	long long seq;
	if (last_redaction_event(cat, fid, &seq, &ev, err) < 0)
		return -1;
	int rc = -1;
	const char *evold = json_string_value(json_object_get(ev, "old_copy"));
	if (!ev || !evold || strcmp(evold, old->path) != 0) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s: copy %lld is left disposing, but no redaction event names it; "
		             "run spif shred --resume", fid, old->id);
		goto out;
	}
	if (o->note) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s: finishing the redaction an interrupted run left (event %lld)", fid, seq);
		o->note(o->note_ctx, msg);
	}
	if (spif_vault_purge(cat, err) < 0)
		goto out;
	if (unlink(old->path) == 0 || errno == ENOENT)
		spif_fsync_dir_of(old->path);
	struct spif_redaction_cert in = {
		.file = f, .old = old, .kept = json_string_value(json_object_get(ev, "new_copy")),
		.in_fields = json_integer_value(json_object_get(ev, "removed_in_number_fields")),
		.elsewhere = json_integer_value(json_object_get(ev, "removed_elsewhere")),
		.op = json_string_value(json_object_get(ev, "op")), .resumed_event = seq,
		.reason = o->reason, .sign_key = o->sign_key,
	};
	if (certify(cat, o, &in, res->cert, err) < 0)
		goto out;
	res->resumed = 1;
	res->verified = 1;
	snprintf(res->summary, sizeof res->summary, "%s redacted (finished after an interruption); certificate %s",
	         fid, res->cert);
	rc = 0;
out:
	json_decref(ev);
	return rc;
}

/* The KEK bucket the file's data keys are in ("indefinite" when none). */
static void file_bucket(struct spif_catalog *c, long long id, char bucket[64])
{
	sqlite3_stmt *st;
	struct spif_err e = {0};
	snprintf(bucket, 64, "indefinite");
	if (spif_catalog_prepare(c, "SELECT bucket FROM data_keys WHERE file_id = ? LIMIT 1", &st, &e) == 0) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(bucket, 64, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
}

/* Inside a transaction: the file redacted, its number fields gone with
 * its numbers. */
static int mark_redacted(struct spif_catalog *c, long long id, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "UPDATE files SET state = 'redacted', number_fields = '[]' WHERE id = ?",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	return s == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, s, "redact file", err);
}

/* Steps 1 and 2: the new copy, written and scanned.  newpath, sha and
 * size describe it; the redactor has the counts. */
static int rewrite_copy(struct spif_catalog *cat, const struct spif_redact_file_opts *o, const char *fid,
                        const struct spif_copy *old, struct spif_redactor *r, char newpath[PATH_MAX],
                        char sha[65], long long *size, struct spif_err *err)
{
	char bucket[64];
	struct spif_vault_writer *vw;
	file_bucket(cat, o->file_id, bucket);
	if (spif_catalog_begin(cat, err) < 0)
		return -1;
	if (spif_vault_create(cat, o->conf, o->file_id, bucket, &vw, newpath, err) < 0 ||
	    spif_catalog_commit(cat, err) < 0) {
		spif_catalog_rollback(cat);
		return -1;
	}
	struct spif_writer *w = spif_writer_open(spif_vault_write, vw, newpath, SPIF_FMT_NDJSON, SPIF_ENC_UTF8,
	                                         NULL, err);
	if (!w) {
		spif_vault_abort(vw);
		return -1;
	}
	struct rewrite rw = {.r = r, .w = w};
	if (each_vault_record(o, old->path, rewrite_one, &rw, err) < 0 || spif_writer_finish(w, err) < 0) {
		spif_writer_close(w);
		spif_vault_abort(vw);
		return -1;
	}
	spif_writer_close(w);
	if (spif_vault_finish(vw, sha, size, err) < 0)
		return -1;
	/* proof, not assumption: the new copy is read back and scanned */
	long long left = 0;
	if (each_vault_record(o, newpath, rescan_one, &left, err) < 0)
		return -1;
	if (left) {
		unlink(newpath);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: %lld numbers still found in the rewritten copy; "
		                    "nothing changed", fid, left);
	}
	return 0;
}

/* Step 3: the new copy in, the old one's key out, the file redacted; then
 * the purge and the proof that the key is gone (*gone). */
static int swap_copies(struct spif_catalog *cat, const struct spif_redact_file_opts *o, const char *fid,
                       const struct spif_copy *old, const struct spif_redact_counts *n, const char *newpath,
                       const char *sha, long long size, json_t **what, int *gone, struct spif_err *err)
{
	long long old_key = spif_vault_copy_key_id(old->path);
	unsigned char keys[1][40];
	size_t nkeys = spif_vault_wrapped_keys(cat, o->file_id, old_key, keys, 1);
	char now[32];
	spif_now_utc(now);
	struct spif_copy ncp = {.file_id = o->file_id, .kind = "vault", .path = (char *)newpath,
	                        .sha256 = (char *)sha, .size = size, .encrypted = 1, .created = now,
	                        .details = "{\"redacted\":true,\"scheme\":\"aes-256-gcm chunks\"}"};
	json_t *d = json_pack("{s:s,s:s,s:I,s:I,s:s}", "old_copy", old->path, "new_copy", newpath,
	                      "removed_in_number_fields", (json_int_t)n->in_fields, "removed_elsewhere",
	                      (json_int_t)n->elsewhere, "op", spif_redact_op_name(o->op));
	int rc = -1;
	if (spif_catalog_begin(cat, err) < 0)
		goto out;
	if (spif_catalog_add_copy(cat, &ncp, err) < 0 || spif_catalog_exec(cat, "SELECT 1", err) < 0 ||
	    spif_catalog_set_copy_state(cat, old->id, SPIF_COPY_DISPOSING, err) < 0 || mark_redacted(cat, o->file_id, err) < 0 ||
	    spif_vault_erase_copy_key(cat, o->file_id, old->path, what, err) < 0 ||
	    spif_audit_append(cat, "redact.file", fid, d, NULL, err) < 0 || spif_catalog_commit(cat, err) < 0) {
		spif_catalog_rollback(cat);
		goto out;
	}
	if (spif_vault_purge(cat, err) < 0)
		goto out;
	*gone = spif_vault_keys_gone(cat, keys, nkeys);
	unlink(old->path);
	spif_fsync_dir_of(old->path);
	rc = 0;
out:
	explicit_bzero(keys, sizeof keys);
	json_decref(d);
	return rc;
}

int spif_redact_file(struct spif_catalog *cat, const struct spif_redact_file_opts *o,
                     struct spif_redact_file_result *res, struct spif_err *err)
{
	memset(res, 0, sizeof *res);
	if (o->op == SPIF_OP_DROP)
		return spif_err_set(err, SPIF_EX_USAGE, "the record is kept: drop does not apply (mask, empty or pseudonym)");
	if (o->op == SPIF_OP_PSEUDONYM && !o->psn)
		return spif_err_set(err, SPIF_EX_USAGE, "pseudonym needs a key");
	/* one disposer at a time (a purge runs this under its own lock) */
	int lock;
	if (spif_dispose_lock(o->home, o->conf, NULL, &lock, err) < 0)
		return -1;
	const char *sign = o->sign_key;
	/* stop before anything changes, not after */
	if (sign && *sign && spif_pgp_can_sign(sign, NULL, err) < 0) {
		close(lock);
		return -1;
	}
	struct spif_file f = {0};
	struct spif_copy *cp = NULL;
	size_t n = 0;
	struct spif_redactor *r = NULL;
	json_t *what = NULL;
	int rc = -1;
	char fid[24];
	spif_file_id_format(o->file_id, fid);
	if (spif_catalog_get_file(cat, o->file_id, &f, err) < 0 ||
	    spif_catalog_get_copies(cat, o->file_id, &cp, &n, err) < 0)
		goto out;
	/* a run killed between the redaction and its certificate left the old
	 * copy "disposing": finish that, once, rather than refuse */
	for (size_t i = 0; i < n && f.state == SPIF_FILE_REDACTED; i++)
		if (strcmp(cp[i].kind, "vault") == 0 && cp[i].state == SPIF_COPY_DISPOSING) {
			rc = finish_interrupted(cat, o, &f, &cp[i], res, err);
			goto out;
		}
	if (f.state != SPIF_FILE_ACTIVE) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s is %s: nothing to redact", fid, spif_file_state_name(f.state));
		goto out;
	}
	/* the numbers are the retained data: holds and the schedule bind as
	 * for spif shred (a purge's child finds the file due) */
	int early;
	if (spif_retention_may_dispose(cat, o->file_id, 1, o->bypass, &early, err) < 0)
		goto out;
	const struct spif_copy *old = NULL;
	for (size_t i = 0; i < n; i++) {
		if (cp[i].state != SPIF_COPY_PRESENT)
			continue;
		if (strcmp(cp[i].kind, "vault") == 0)
			old = &cp[i];
		else if (!spif_copy_redacted(&cp[i])) {
			/* "redacted" must be true of the file, not of one copy */
			spif_err_set(err, SPIF_FOUND, "%s still has a copy with numbers outside the vault (%s, %s); "
			             "dispose of it first (spif shred)", fid, cp[i].kind, cp[i].path);
			goto out;
		}
	}
	if (!old) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s has no vault copy to redact (ingest --store keeps one)", fid);
		goto out;
	}
	if (early && spif_retention_bypassed(cat, o->file_id, "spif redact --file", o->reason, err) < 0)
		goto out;
	/* 1, 2. a new vault copy, under a new data key, written from the old
	 *    one with every number removed, and read back */
	struct spif_redact_opts ro = {.op = o->op, .corporate = o->corporate, .fmt = SPIF_FMT_NDJSON, .psn = o->psn,
	                              .catalog = cat};
	char newpath[PATH_MAX], sha[65];
	long long size;
	if (spif_redactor_new(&ro, &r, err) < 0 || rewrite_copy(cat, o, fid, old, r, newpath, sha, &size, err) < 0)
		goto out;
	/* 3. the new copy registered, the old one's key destroyed, the file
	 *    redacted; then the purge and the proof the key is gone */
	const struct spif_redact_counts *nc = spif_redactor_counts(r);
	int gone = 0;
	if (swap_copies(cat, o, fid, old, nc, newpath, sha, size, &what, &gone, err) < 0)
		goto out;
	/* 4. the certificate of the removal */
	struct spif_redaction_cert in = {
		.file = &f, .old = old, .kept = newpath, .in_fields = nc->in_fields, .elsewhere = nc->elsewhere,
		.op = spif_redact_op_name(o->op), .key_material = what, .verified = gone, .reason = o->reason, .sign_key = sign,
	};
	if (certify(cat, o, &in, res->cert, err) < 0)
		goto out;
	res->records = nc->records;
	res->removed = nc->high + nc->low;
	res->verified = gone;
	snprintf(res->summary, sizeof res->summary, "%s redacted: %lld records, %lld numbers removed; certificate %s",
	         fid, res->records, res->removed, res->cert);
	rc = 0;
out:
	json_decref(what);
	spif_redactor_free(r);
	spif_copies_free(cp, n);
	spif_file_free(&f);
	close(lock);
	return rc;
}
