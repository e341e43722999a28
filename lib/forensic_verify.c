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

/* The contents of the bag's file name ("data/events.ndjson",
 * "spif/custody.json"; malloc'd), NULL when absent. */
static char *entry_of(const void *tar, size_t n, const char *name, size_t *len)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	char *out = NULL;
	if (archive_read_open_memory(a, tar, n) != ARCHIVE_OK)
		goto done;
	struct archive_entry *e;
	size_t nl = strlen(name);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e), *slash = p ? strchr(p, '/') : NULL;
		if (!slash || strcmp(slash + 1, name) != 0 || strlen(slash + 1) != nl)
			continue;
		la_int64_t sz = archive_entry_size(e);
		if (sz < 0 || sz > (la_int64_t)1 << 30)
			break;
		out = malloc((size_t)sz + 1);
		if (out && archive_read_data(a, out, (size_t)sz) != (la_ssize_t)sz) {
			free(out);
			out = NULL;
		}
		if (out) {
			out[sz] = '\0';
			*len = (size_t)sz;
		}
		break;
	}
done:
	archive_read_free(a);
	return out;
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
 * gives it (what the responder signed), each hashed as it streams out of
 * the tar; a file custody does not name, or one it names that is absent,
 * is a problem too. */
static void check_custody(const void *tar, size_t n, spif_forensic_problem_fn fn, void *ctx,
                          struct spif_forensic_report *r)
{
	size_t cn = 0;
	char *cs = entry_of(tar, n, "spif/custody.json", &cn);
	json_t *cust = cs ? json_loadb(cs, cn, 0, NULL) : NULL, *what = json_object_get(cust, "what");
	free(cs);
	if (!json_is_object(what)) {
		problem(fn, ctx, r, "spif/custody.json: missing, or it names no payload file");
		json_decref(cust);
		return;
	}
	json_t *seen = json_object();
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	struct archive_entry *e;
	if (archive_read_open_memory(a, tar, n) == ARCHIVE_OK)
		while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
			const char *p = archive_entry_pathname(e), *slash = p ? strchr(p, '/') : NULL;
			if (!slash || strncmp(slash + 1, "data/", 5) != 0 || archive_entry_filetype(e) != AE_IFREG)
				continue;
			const char *name = slash + 1, *want = json_string_value(json_object_get(what, name));
			struct spif_sha256 *h = spif_sha256_new();
			const void *buf;
			size_t len;
			la_int64_t off;
			int k;
			while (h && (k = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
				spif_sha256_update(h, buf, len);
			char hex[65] = "";
			if (h)
				spif_sha256_hex(h, hex);
			spif_sha256_free(h);
			json_object_set_new(seen, name, json_true());
			if (!want)
				problem(fn, ctx, r, "%.200s: not in spif/custody.json: it was added", name);
			else if (strcmp(hex, want) != 0)
				problem(fn, ctx, r, "%.200s: its SHA-256 is not the one spif/custody.json gives: it was changed",
				        name);
			else
				r->payload++;
			if (want && is_records(json_object_get(cust, "records"), name))
				r->records++;
		}
	archive_read_free(a);
	const char *k;
	json_t *v;
	json_object_foreach(what, k, v)
		if (!json_object_get(seen, k))
			problem(fn, ctx, r, "%.200s: named in spif/custody.json, missing from the bundle", k);
	json_decref(seen);
	json_decref(cust);
}

int spif_forensic_verify_tar(const void *tar, size_t n, const struct spif_note_verifier *v,
                             spif_forensic_problem_fn fn, void *ctx, struct spif_forensic_report *r,
                             struct spif_err *err)
{
	memset(r, 0, sizeof *r);
	size_t pn = 0, en = 0;
	char *proofs = entry_of(tar, n, "data/proofs.json", &pn), *events = NULL;
	json_t *d = proofs ? json_loadb(proofs, pn, 0, NULL) : NULL;
	json_t *byseq = json_object();
	int rc = -1;
	const char *fmt = sget(d, "format");
	if (!d || !fmt || strcmp(fmt, "spif-forensic/1") != 0) {
		spif_err_set(err, SPIF_EX_DATAERR, "not a forensic bundle (no data/proofs.json of spif-forensic/1)");
		goto out;
	}
	events = entry_of(tar, n, "data/events.ndjson", &en);
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
	for (char *line = events, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		if (nl > line)
			check_event(line, (size_t)(nl - line), byseq, size, root, fn, ctx, r);
		if (!nl[0] || !nl[1])
			break;
	}
	check_custody(tar, n, fn, ctx, r);
	if ((size_t)r->events != json_array_size(json_object_get(d, "events")))
		problem(fn, ctx, r, "data/events.ndjson holds %lld events, data/proofs.json proves %zu", r->events,
		        json_array_size(json_object_get(d, "events")));
	rc = 0;
out:
	json_decref(d);
	json_decref(byseq);
	free(proofs);
	free(events);
	return rc;
}

int spif_forensic_verify_file(const char *path, const struct spif_note_verifier *v, spif_forensic_problem_fn fn,
                              void *ctx, struct spif_forensic_report *r, struct spif_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spif_err_set(err, SPIF_EX_NOINPUT, "%s: cannot be opened", path);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t k;
	while (buf && (k = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)k;
		if (len == cap) {
			char *nb = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (!buf)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: too big or out of memory", path);
	void *plain = NULL;
	size_t pn = 0;
	char signer[41];
	int sig = 0;
	struct spif_err e = {0};
	int rc;
	if (len > 262 && memcmp(buf + 257, "ustar", 5) == 0)
		rc = spif_forensic_verify_tar(buf, len, v, fn, ctx, r, err);
	else if (spif_pgp_decrypt_buf(buf, len, NULL, &plain, &pn, signer, &sig, &e) < 0 && !plain)
		rc = spif_err_set(err, e.code ? e.code : SPIF_EX_DATAERR, "%s", e.msg);
	else
		rc = spif_forensic_verify_tar(plain, pn, v, fn, ctx, r, err);
	free(plain);
	free(buf);
	return rc;
}
