/* forensic_verify.c - see forensic.h: checking a bundle offline.
 *
 * Given only the bundle and the catalog's public key: the checkpoint's
 * signature and origin; each event's fields against its chain hash; each
 * event as the leaf its inclusion proof says under the checkpoint's root;
 * the previous checkpoint's signature (the last one issued before the
 * window, or the first; consistency_from says which and its size, which
 * must be the note's) and the consistency proof that the log only grew
 * between the two.  Every failure is reported (one line,
 * naming the event), not only the first. */
#include "forensic.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auditlog_tree.h"
#include "checkpoint.h"
#include "decrypt_pipe.h"
#include "digest.h"
#include "merkle.h"
#include "pgp.h"

static void problem(spif_forensic_problem_fn fn, void *ctx, struct spif_forensic_report *r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void problem(spif_forensic_problem_fn fn, void *ctx, struct spif_forensic_report *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->problems++;
	if (fn)
		fn(ctx, msg);
}

/* What verify needs of a bundle, read in one pass over its tar: the
 * small documents whole (each at most 1 GiB), and the SHA-256 of every
 * payload file as it streams by, records included, so that a bundle of
 * any size is checked in bounded memory. */
struct bundle {
	char *proofs, *events, *custody; /* data/proofs.json, data/events.ndjson, spif/custody.json */
	size_t pn, en, cn;
	json_t *hashes;                  /* "data/NAME": its SHA-256, hex */
};

static void bundle_free(struct bundle *b)
{
	free(b->proofs), free(b->events), free(b->custody);
	json_decref(b->hashes);
}

/* Every entry of the archive; what is kept is named by what follows the
 * bag's top directory ("TOP/data/proofs.json"). */
static void read_bundle(struct archive *a, struct bundle *b)
{
	memset(b, 0, sizeof *b);
	b->hashes = json_object();
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e), *slash = p ? strchr(p, '/') : NULL;
		if (!slash || archive_entry_filetype(e) != AE_IFREG)
			continue;
		const char *name = slash + 1;
		char **keep = NULL;
		size_t *klen = NULL;
		if (strcmp(name, "data/proofs.json") == 0)
			keep = &b->proofs, klen = &b->pn;
		else if (strcmp(name, "data/events.ndjson") == 0)
			keep = &b->events, klen = &b->en;
		else if (strcmp(name, "spif/custody.json") == 0)
			keep = &b->custody, klen = &b->cn;
		int payload = strncmp(name, "data/", 5) == 0;
		if (!keep && !payload)
			continue;
		la_int64_t sz = archive_entry_size(e);
		char *buf = NULL;
		if (keep && !*keep && sz >= 0 && sz <= (la_int64_t)1 << 30)
			buf = malloc((size_t)sz + 1);
		struct spif_sha256 *h = payload ? spif_sha256_new() : NULL;
		const void *blk;
		size_t len, got = 0;
		la_int64_t off;
		int k, ok = 1;
		while ((k = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK) {
			if (h)
				spif_sha256_update(h, blk, len);
			if (buf && off >= 0 && (size_t)off + len <= (size_t)sz) {
				memcpy(buf + off, blk, len);
				got = (size_t)off + len > got ? (size_t)off + len : got;
			}
		}
		if (k != ARCHIVE_EOF)
			ok = 0;
		if (h) {
			char hex[65] = "";
			spif_sha256_hex(h, hex);
			spif_sha256_free(h);
			json_object_set_new(b->hashes, name, json_string(ok ? hex : ""));
		}
		if (buf && ok && got == (size_t)sz) {
			buf[sz] = '\0';
			*keep = buf;
			*klen = (size_t)sz;
		} else
			free(buf);
	}
}

static const char *sget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A signed checkpoint: its size and root; -1 with the reason in why. */
static int open_note(const char *note, const struct spif_note_verifier *v, const char *catalog, uint64_t *size,
                     spif_hash root, char *why, size_t wn)
{
	struct spif_err e = {0};
	size_t tl;
	char origin[SPIF_NOTE_NAME_MAX], want[SPIF_NOTE_NAME_MAX];
	if (!note || spif_note_open(note, strlen(note), v, &tl, &e) < 0 ||
	    spif_checkpoint_parse(note, tl, origin, size, root, &e) < 0) {
		snprintf(why, wn, "%.200s", note ? e.msg : "missing");
		return -1;
	}
	snprintf(want, sizeof want, "spif.catalog/%s", catalog ? catalog : "");
	if (strcmp(origin, want) != 0) {
		snprintf(why, wn, "it is of %s, not of the bundle's catalog", origin);
		return -1;
	}
	return 0;
}

static int read_path(json_t *a, spif_hash *path, size_t *len)
{
	*len = json_array_size(a);
	if (!json_is_array(a) || *len > SPIF_MERKLE_MAX_PROOF)
		return -1;
	for (size_t i = 0; i < *len; i++) {
		const char *x = json_string_value(json_array_get(a, i));
		if (!x || spif_hex_to_hash(x, strlen(x), path[i]) < 0)
			return -1;
	}
	return 0;
}

/* One event line: its hash and its inclusion proof. */
static void check_event(const char *line, size_t n, json_t *byseq, uint64_t size, const spif_hash root,
                        spif_forensic_problem_fn fn, void *ctx, struct spif_forensic_report *r)
{
	json_t *ev = json_loadb(line, n, 0, NULL);
	json_t *seqv = json_object_get(ev, "seq"), *pidv = json_object_get(ev, "pid");
	const char *hash = sget(ev, "hash");
	r->events++;
	if (!json_is_integer(seqv) || !json_is_integer(pidv) || !hash || !sget(ev, "prev_hash")) {
		problem(fn, ctx, r, "data/events.ndjson line %lld: not an event", r->events);
		json_decref(ev);
		return;
	}
	long long seq = (long long)json_integer_value(seqv);
	char h[65];
	spif_audit_hash(sget(ev, "prev_hash"), seq, sget(ev, "time"), sget(ev, "operator"), sget(ev, "sudo_user"),
	                sget(ev, "host"), (long long)json_integer_value(pidv), sget(ev, "argv"), sget(ev, "action"),
	                sget(ev, "object"), sget(ev, "details"), h);
	unsigned char entry[32];
	if (strcmp(h, hash) != 0 || spif_hex_to_hash(hash, strlen(hash), entry) < 0) {
		problem(fn, ctx, r, "event %lld: its fields do not match its hash: it was changed", seq);
		json_decref(ev);
		return;
	}
	char key[32];
	snprintf(key, sizeof key, "%lld", seq);
	json_t *pr = json_object_get(byseq, key);
	spif_hash path[SPIF_MERKLE_MAX_PROOF], leaf;
	size_t len;
	struct spif_err e = {0};
	if (!pr || read_path(pr, path, &len) < 0) {
		problem(fn, ctx, r, "event %lld: no inclusion proof", seq);
	} else {
		spif_merkle_leaf_hash(entry, sizeof entry, leaf);
		if (seq < 1 || spif_merkle_verify_inclusion((uint64_t)seq - 1, size, leaf, path, len, root, &e) < 0)
			problem(fn, ctx, r, "event %lld: its inclusion proof does not verify under the checkpoint%s%s", seq,
			        e.msg[0] ? ": " : "", e.msg);
		else
			r->proofs++;
	}
	json_decref(ev);
}

/* Is data/NAME one of the record files custody.json lists? */
static int is_records(json_t *recs, const char *name)
{
	const char *k;
	json_t *v;
	json_object_foreach(recs, k, v) {
		const char *p = json_string_value(json_object_get(v, "path"));
		if (p && strcmp(p, name) == 0)
			return 1;
	}
	return 0;
}

/* Every payload file, records included, against the SHA-256 custody.json
 * gives it (what the responder signed), each hashed as it streamed out of
 * the tar; a file custody does not name, or one it names that is absent,
 * is a problem too. */
static void check_custody(const struct bundle *b, spif_forensic_problem_fn fn, void *ctx,
                          struct spif_forensic_report *r)
{
	json_t *cust = b->custody ? json_loadb(b->custody, b->cn, 0, NULL) : NULL, *what = json_object_get(cust, "what");
	if (!json_is_object(what)) {
		problem(fn, ctx, r, "spif/custody.json: missing, or it names no payload file");
		json_decref(cust);
		return;
	}
	const char *name;
	json_t *hv;
	json_object_foreach(b->hashes, name, hv) {
		const char *hex = json_string_value(hv), *want = json_string_value(json_object_get(what, name));
		if (!want)
			problem(fn, ctx, r, "%.200s: not in spif/custody.json: it was added", name);
		else if (!hex || strcmp(hex, want) != 0)
			problem(fn, ctx, r, "%.200s: its SHA-256 is not the one spif/custody.json gives: it was changed",
			        name);
		else
			r->payload++;
		if (want && is_records(json_object_get(cust, "records"), name))
			r->records++;
	}
	const char *k;
	json_t *v;
	json_object_foreach(what, k, v)
		if (!json_object_get(b->hashes, k))
			problem(fn, ctx, r, "%.200s: named in spif/custody.json, missing from the bundle", k);
	json_decref(cust);
}

static int verify_bundle(const struct bundle *b, const struct spif_note_verifier *v, spif_forensic_problem_fn fn,
                         void *ctx, struct spif_forensic_report *r, struct spif_err *err)
{
	memset(r, 0, sizeof *r);
	const char *events = b->events;
	json_t *d = b->proofs ? json_loadb(b->proofs, b->pn, 0, NULL) : NULL;
	json_t *byseq = json_object();
	int rc = -1;
	const char *fmt = sget(d, "format");
	if (!d || !fmt || strcmp(fmt, "spif-forensic/1") != 0) {
		spif_err_set(err, SPIF_EX_DATAERR, "not a forensic bundle (no data/proofs.json of spif-forensic/1)");
		goto out;
	}
	if (!events) {
		spif_err_set(err, SPIF_EX_DATAERR, "a forensic bundle without data/events.ndjson");
		goto out;
	}
	snprintf(r->catalog, sizeof r->catalog, "%s", sget(d, "catalog") ? sget(d, "catalog") : "");
	char why[300];
	uint64_t size;
	spif_hash root;
	if (open_note(sget(d, "checkpoint"), v, r->catalog, &size, root, why, sizeof why) < 0) {
		problem(fn, ctx, r, "the checkpoint: %s", why);
		rc = 0;
		goto out;
	}
	r->tree_size = size;
	/* the log only grew since the checkpoint before it */
	const char *prev = sget(d, "previous_checkpoint");
	if (prev) {
		uint64_t m;
		spif_hash root1, path[SPIF_MERKLE_MAX_PROOF];
		size_t len;
		struct spif_err e = {0};
		r->consistency = 1;
		json_t *from = json_object_get(d, "consistency_from");
		json_t *fsize = json_object_get(from, "size");
		if (open_note(prev, v, r->catalog, &m, root1, why, sizeof why) < 0)
			problem(fn, ctx, r, "the previous checkpoint: %s", why);
		else if (from && (!json_is_integer(fsize) || (uint64_t)json_integer_value(fsize) != m))
			problem(fn, ctx, r, "consistency_from says another size than the previous checkpoint's %llu events",
			        (unsigned long long)m);
		else if (read_path(json_object_get(d, "consistency"), path, &len) < 0 ||
		         spif_merkle_verify_consistency(m, size, root1, root, path, len, &e) < 0)
			problem(fn, ctx, r, "the consistency proof from %llu to %llu events does not verify",
			        (unsigned long long)m, (unsigned long long)size);
		else
			r->proofs++;
	} else {
		/* a bundle that says it proves from a checkpoint, and does not */
		const char *pick = sget(json_object_get(d, "consistency_from"), "pick");
		if (pick && strcmp(pick, "none") != 0)
			problem(fn, ctx, r, "consistency_from names a %s checkpoint, and the bundle holds no consistency proof",
			        pick);
	}
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(d, "events"), i, p) {
		char key[32];
		snprintf(key, sizeof key, "%lld", (long long)json_integer_value(json_object_get(p, "seq")));
		json_object_set(byseq, key, json_object_get(p, "proof"));
	}
	for (const char *line = events, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		if (nl > line)
			check_event(line, (size_t)(nl - line), byseq, size, root, fn, ctx, r);
		if (!nl[0] || !nl[1])
			break;
	}
	check_custody(b, fn, ctx, r);
	if ((size_t)r->events != json_array_size(json_object_get(d, "events")))
		problem(fn, ctx, r, "data/events.ndjson holds %lld events, data/proofs.json proves %zu", r->events,
		        json_array_size(json_object_get(d, "events")));
	rc = 0;
out:
	json_decref(d);
	json_decref(byseq);
	return rc;
}

int spif_forensic_verify_tar(const void *tar, size_t n, const struct spif_note_verifier *v,
                             spif_forensic_problem_fn fn, void *ctx, struct spif_forensic_report *r,
                             struct spif_err *err)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	struct bundle b = {0};
	if (archive_read_open_memory(a, tar, n) == ARCHIVE_OK)
		read_bundle(a, &b);
	archive_read_free(a);
	int rc = verify_bundle(&b, v, fn, ctx, r, err);
	bundle_free(&b);
	return rc;
}

int spif_forensic_verify_file(const char *path, const struct spif_note_verifier *v, spif_forensic_problem_fn fn,
                              void *ctx, struct spif_forensic_report *r, struct spif_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spif_err_set(err, SPIF_EX_NOINPUT, "%s: cannot be opened", path);
	char head[263];
	int plain_tar = pread(fd, head, sizeof head, 0) == (ssize_t)sizeof head && memcmp(head + 257, "ustar", 5) == 0;
	struct spif_decrypt_pipe dp;
	if (!plain_tar && spif_decrypt_pipe_start(&dp, fd, err) < 0) {
		close(fd);
		return -1;
	}
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	struct bundle b = {0};
	if (archive_read_open_fd(a, plain_tar ? fd : dp.rd, 1 << 16) == ARCHIVE_OK)
		read_bundle(a, &b);
	else
		b.hashes = json_object();
	archive_read_free(a);
	if (!plain_tar)
		spif_decrypt_pipe_finish(&dp);
	close(fd);
	int rc;
	/* gpg's failure says why there was nothing to read; a bad signature
	 * alone does not stop the check of what was decrypted */
	if (!plain_tar && dp.rc < 0 && !b.proofs)
		rc = spif_err_set(err, dp.e.code ? dp.e.code : SPIF_EX_DATAERR, "%s", dp.e.msg);
	else
		rc = verify_bundle(&b, v, fn, ctx, r, err);
	bundle_free(&b);
	return rc;
}
