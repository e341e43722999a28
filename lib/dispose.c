/* dispose.c - see dispose.h */
#include "catalog_priv.h"
#include "dispose.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "atomic.h"
#include "audit.h"
#include "cert.h"
#include "i18n.h"
#include "copycheck.h"
#include "kek.h"
#include "export.h"
#include "vault.h"

const char *spif_dispose_media_type(const struct spif_medium *m)
{
	int rot = m->backing[0] ? m->backing_rotational : m->rotational;
	/* marked: certificates keep the English, a dry run shows it translated */
	if (strcmp(m->fstype, "tmpfs") == 0 || strcmp(m->fstype, "ramfs") == 0)
		return N_("memory (tmpfs/ramfs), possibly swap");
	if (rot == 1)
		return N_("magnetic disk (rotational)");
	if (rot == 0)
		return N_("flash memory (SSD or flash device)");
	return N_("unknown");
}

int spif_dispose_class(const struct spif_dispose_copy *t)
{
	return t->crypto ? 1 : t->absent ? 2 : t->found_at[0] && t->found_size == 0 ? 3 : 0;
}

/* What the copy held when its disposal began, as far as is known: this
 * run's hash of it; for a copy an interrupted run left, the hash recorded
 * when that run began, else this run's when it is still the catalogued
 * contents.  NULL: not known. */
static const char *sha_before(const struct spif_dispose_copy *t)
{
	int truncated = t->found_at[0] && t->found_size == 0;
	const char *now = !t->absent && !truncated && t->r.sha256_before[0] ? t->r.sha256_before : NULL;
	if (!t->resumed)
		return now;
	if (t->start_sha256[0])
		return t->start_sha256;
	if (now && t->catalogued_sha256[0] && strcasecmp(now, t->catalogued_sha256) == 0)
		return now;
	return NULL;
}

/* A copy that an interrupted run left, found at its path: what is said of
 * it ("resumed"). */
static json_t *resumed_at_path(const struct spif_dispose_copy *t)
{
	return json_sprintf("left part-way by an interrupted run, found at its path and overwritten from the start "
	                    "by this run: %s; sha256_when_resumed is what this run found",
	                    t->start_sha256[0] ? "sha256_before is what the copy held when its disposal began, as "
	                                         "recorded then"
	                    : sha_before(t) ? "no hash was recorded when its disposal began, but the copy was "
	                                      "still the catalogued one (sha256_before)"
	                                    : "no hash was recorded when its disposal began (sha256_before unknown)");
}

/* The certificate's description of one copy and its medium. */
static json_t *copy_json(const struct spif_dispose_copy *t)
{
	if (t->crypto) {
		/* the key is what was destroyed: no medium was examined or needed */
		char fid[24] = "";
		spif_file_id_format(t->file_id, fid);
		return json_pack("{s:I,s:s,s:I,s:s,s:s}", "copy_id", (json_int_t)t->copy_id, "path", t->path,
		                 "size", (json_int_t)t->m.size, "media_type",
		                 "encrypted vault copy (AES-256-GCM chunks); its medium does not matter: "
		                 "the key is destroyed", "media_source", fid);
	}
	const struct spif_medium *m = &t->m;
	const char *before = sha_before(t);
	char dev[96], src[128], fid[24] = "";
	if (t->file_id) {
		spif_file_id_format(t->file_id, fid);
		snprintf(src, sizeof src, "catalog copy %lld of %s (%s)", t->copy_id, fid, t->kind);
	} else
		snprintf(src, sizeof src, "found outside the catalog (registered as copy %lld)", t->copy_id);
	if (t->absent) { /* nothing was examined: no medium is described */
		json_t *j = json_pack("{s:I,s:s,s:n,s:o,s:s,s:s,s:s,s:s}", "copy_id", (json_int_t)t->copy_id, "path",
		                      t->path, "size", "sha256_before", before ? json_string(before) : json_null(),
		                      "fstype", "unknown", "media_type", "unknown: the copy was missing", "media_source",
		                      src, "resumed",
		                      "missing when its disposal resumed: neither at its path nor under a name the "
		                      "interrupted run renames to");
		if (t->catalogued_sha256[0])
			json_object_set_new(j, "sha256_catalogued", json_string(t->catalogued_sha256));
		return j;
	}
	snprintf(dev, sizeof dev, "%s (%u:%u)", m->device[0] ? m->device : "?", m->dev_major, m->dev_minor);
	json_t *j = json_object();
	json_object_set_new(j, "copy_id", json_integer(t->copy_id));
	json_object_set_new(j, "path", json_string(t->path));
	/* a copy finished after an interruption: what this run saw of it */
	int truncated = t->found_at[0] && t->found_size == 0;
	json_object_set_new(j, "size", truncated ? json_null() : json_integer(m->size));
	json_object_set_new(j, "sha256_before", before ? json_string(before) : json_null());
	if (t->catalogued_sha256[0])
		json_object_set_new(j, "sha256_catalogued", json_string(t->catalogued_sha256));
	if (t->resumed && !truncated && t->r.sha256_before[0])
		json_object_set_new(j, "sha256_when_resumed", json_string(t->r.sha256_before));
	if (t->changed)
		json_object_set_new(j, "changed", json_sprintf("%s: destroyed with --changed-ok; sha256_before is "
		                                               "of what was found",
		                                               t->resumed ? "another file was at its path than the one "
		                                                            "its interrupted disposal began on"
		                                                          : "its contents differed from the catalogued "
		                                                            "copy (sha256_catalogued)"));
	if (t->found_at[0]) {
		json_object_set_new(j, "found_at", json_string(t->found_at));
		json_object_set_new(j, "resumed",
		                    truncated ? json_string("found under a name the interrupted run had given it, "
		                                            "already overwritten, read back and truncated by that "
		                                            "run; removed by this one")
		                              : json_sprintf("found under a name the interrupted run had given it, "
		                                             "still holding %lld bytes; overwritten from the start by "
		                                             "this run", t->found_size));
	} else if (t->resumed)
		json_object_set_new(j, "resumed", resumed_at_path(t));
	json_object_set_new(j, "fstype", json_string(m->fstype[0] ? m->fstype : "unknown"));
	json_object_set_new(j, "device", json_string(dev));
	json_object_set_new(j, "model", m->model[0] ? json_string(m->model) : json_null());
	json_object_set_new(j, "serial", m->serial[0] ? json_string(m->serial) : json_null());
	json_object_set_new(j, "rotational", m->rotational < 0 ? json_null() : json_boolean(m->rotational));
	if (m->backing[0])
		json_object_set_new(j, "loop_backing_file",
		                    json_pack("{s:s,s:s,s:o}", "path", m->backing, "fstype", m->backing_fstype,
		                              "rotational", m->backing_rotational < 0 ? json_null()
		                                                                      : json_boolean(m->backing_rotational)));
	json_object_set_new(j, "hard_links", json_integer(m->nlink));
	json_object_set_new(j, "media_type", json_string(spif_dispose_media_type(m)));
	json_object_set_new(j, "media_source", json_string(src));
	if (t->attested)
		json_object_set_new(j, "medium_attestation",
		                    json_sprintf("spif could not see the medium (%s); the administrator vouches "
		                                 "in spif.conf (trusted_media) that disk %s writes in place",
		                                 m->reason, m->medium_disk));
	return j;
}

int spif_dispose_mark(struct spif_catalog *c, struct spif_dispose_copy *t, struct spif_err *err)
{
	char now[32], obj[48];
	spif_now_utc(now);
	if (!t->crypto && !t->have_seed) {
		/* the names it will be renamed to, recorded before the first one */
		gcry_create_nonce(t->name_seed, sizeof t->name_seed);
		t->have_seed = 1;
		t->renames = SPIF_WIPE_RENAMES;
		t->was_major = t->m.dev_major;
		t->was_minor = t->m.dev_minor;
		t->was_ino = t->m.ino;
	}
	if (!t->copy_id) {
		struct spif_copy cp = {.kind = "found", .path = t->path, .size = t->m.size, .created = now,
		                       .state = SPIF_COPY_DISPOSING};
		if (spif_catalog_add_copy(c, &cp, err) < 0)
			return -1;
		t->copy_id = cp.id;
	} else if (spif_catalog_set_copy_state(c, t->copy_id, SPIF_COPY_DISPOSING, err) < 0)
		return -1;
	snprintf(obj, sizeof obj, "copy:%lld", t->copy_id);
	json_t *d = json_pack("{s:s,s:s,s:b}", "path", t->path, "kind", t->kind, "catalogued", t->file_id != 0);
	if (!t->crypto) {
		/* letters only: an event's strings are masked where they hold 12
		 * digits in a row, and the seed must come back whole */
		char seed[2 * SPIF_WIPE_SEED + 1], dev[32];
		for (int i = 0; i < SPIF_WIPE_SEED; i++) {
			seed[2 * i] = (char)('a' + (t->name_seed[i] >> 4));
			seed[2 * i + 1] = (char)('a' + (t->name_seed[i] & 15));
		}
		seed[2 * SPIF_WIPE_SEED] = '\0';
		snprintf(dev, sizeof dev, "%u:%u", t->was_major, t->was_minor);
		json_object_set_new(d, "rename_seed", json_string(seed));
		json_object_set_new(d, "renames", json_integer(t->renames));
		json_object_set_new(d, "device", json_string(dev));
		json_object_set_new(d, "inode", json_integer((json_int_t)t->was_ino));
		/* what it holds now, before anything is destroyed: a run finishing
		 * it after an interruption certifies this, not what it finds */
		if (!t->resumed && t->tg && t->tg->hashed) {
			memcpy(t->start_sha256, t->tg->sha256, sizeof t->start_sha256);
			json_object_set_new(d, "sha256", json_string(t->start_sha256));
		}
		if (t->changed) {
			json_object_set_new(d, "changed_ok", json_string(t->changed_why));
			if (t->catalogued_sha256[0])
				json_object_set_new(d, "catalogued_sha256", json_string(t->catalogued_sha256));
		}
	}
	int rc = spif_audit_append(c, "shred.start", obj, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_dispose_is_catalogued(const struct spif_dispose_copy *t, char *why, size_t n)
{
	if (why && n)
		why[0] = '\0';
	if (!t->tg || t->crypto || t->absent)
		return 1;
	if (t->resumed) {
		/* found under a rename name: matched on device and inode already */
		if (!t->have_seed || t->found_at[0])
			return 1;
		if (major(t->tg->st.st_dev) == t->was_major && minor(t->tg->st.st_dev) == t->was_minor &&
		    (unsigned long long)t->tg->st.st_ino == t->was_ino)
			return 1;
		snprintf(why, n, "is not the file its interrupted disposal began on (another file is at its path)");
		return 0;
	}
	if (!t->file_id || !t->catalogued_sha256[0] || !t->tg->hashed ||
	    strcasecmp(t->tg->sha256, t->catalogued_sha256) == 0)
		return 1;
	snprintf(why, n, "changed since it was catalogued");
	return 0;
}

int spif_dispose_refused(struct spif_catalog *c, const struct spif_dispose_copy *t, const char *why,
                         struct spif_err *err)
{
	char obj[48];
	snprintf(obj, sizeof obj, "copy:%lld", t->copy_id);
	json_t *d = json_pack("{s:s,s:s,s:o,s:o}", "path", t->path, "why", why, "catalogued_sha256",
	                      t->catalogued_sha256[0] ? json_string(t->catalogued_sha256) : json_null(),
	                      "found_sha256", t->tg && t->tg->hashed ? json_string(t->tg->sha256) : json_null());
	if (t->resumed)
		json_object_set_new(d, "start_sha256", t->start_sha256[0] ? json_string(t->start_sha256) : json_null());
	int rc = spif_audit_append(c, "shred.refused", obj, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_dispose_unmark(struct spif_catalog *c, struct spif_dispose_copy *t, const char *why, int keep,
                        struct spif_err *err)
{
	char obj[48];
	snprintf(obj, sizeof obj, "copy:%lld", t->copy_id);
	if (!keep && spif_catalog_set_copy_state(c, t->copy_id, SPIF_COPY_PRESENT, err) < 0)
		return -1;
	json_t *d = json_pack("{s:s,s:s,s:s}", "path", t->path, "why", why, "state", keep ? "disposing" : "present");
	int rc = spif_audit_append(c, "shred.failed", obj, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_dispose_resume_info(struct spif_catalog *c, struct spif_dispose_copy *t, struct spif_err *err)
{
	char obj[48];
	sqlite3_stmt *st;
	snprintf(obj, sizeof obj, "copy:%lld", t->copy_id);
	/* the newest first: seq is the rowid, so this stops at the first match */
	if (spif_catalog_prepare(c, "SELECT details FROM events WHERE action = 'shred.start' AND object = ?"
	                            " ORDER BY seq DESC LIMIT 1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, obj, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	json_t *d = rc == SQLITE_ROW ? json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL) : NULL;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "events", err);
	const char *seed = json_string_value(json_object_get(d, "rename_seed"));
	const char *dev = json_string_value(json_object_get(d, "device"));
	unsigned maj, min;
	if (seed && strlen(seed) == 2 * SPIF_WIPE_SEED && strspn(seed, "abcdefghijklmnop") == 2 * SPIF_WIPE_SEED &&
	    dev && sscanf(dev, "%u:%u", &maj, &min) == 2 && json_is_integer(json_object_get(d, "inode"))) {
		for (int i = 0; i < SPIF_WIPE_SEED; i++)
			t->name_seed[i] = (unsigned char)((seed[2 * i] - 'a') << 4 | (seed[2 * i + 1] - 'a'));
		t->have_seed = 1;
		t->renames = (int)json_integer_value(json_object_get(d, "renames"));
		t->was_major = maj;
		t->was_minor = min;
		t->was_ino = (unsigned long long)json_integer_value(json_object_get(d, "inode"));
	}
	const char *sha = json_string_value(json_object_get(d, "sha256"));
	if (sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64)
		memcpy(t->start_sha256, sha, 65);
	json_decref(d);
	struct stat sb;
	if (lstat(t->path, &sb) == 0 || errno != ENOENT)
		return 0; /* there (or not examinable): the probe says which */
	/* gone: unlinked by the interrupted run, renamed by it, or removed by
	 * other means -- only the second can still be told apart */
	int k = t->have_seed ? spif_wipe_find_renamed(t->path, t->name_seed, t->renames, t->was_major, t->was_minor,
	                                              t->was_ino, t->found_at, sizeof t->found_at, err)
	                     : 0;
	if (k < 0)
		return -1;
	if (k == 0) {
		t->found_at[0] = '\0';
		t->absent = 1;
	} else if (lstat(t->found_at, &sb) == 0)
		t->found_size = (long long)sb.st_size;
	return 0;
}

void spif_dispose_crypto_target(struct spif_dispose_copy *t)
{
	/* the key is what is destroyed: where the ciphertext lives does not
	 * matter, so no medium check */
	struct stat st;
	t->crypto = 1;
	t->absent = lstat(t->path, &st) != 0;
	t->m.size = t->absent ? 0 : st.st_size;
	t->m.reaches_medium = 1;
	snprintf(t->m.fstype, sizeof t->m.fstype, "n/a (cryptographic erase)");
}

int spif_dispose_keys_left(struct spif_catalog *c, unsigned char (*keys)[40], size_t n)
{
	/* one pass over catalog.db and its WAL for all of them, through
	 * SQLite's own handles (see spif_catalog_files_contain) */
	return spif_catalog_files_contain(c, (const unsigned char (*)[40])keys, n);
}

/* ---- cryptographic erase, many at once ----------------------------------- */

/* t's error from one format: for a person translated, for the catalog as
 * written; errnum (or 0) appended as ": description" in each language. */
static void copy_error(struct spif_dispose_copy *t, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void copy_error(struct spif_dispose_copy *t, int errnum, const char *fmt, ...)
{
	char line[1400], line_en[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, _(fmt), ap);
	va_end(ap);
	va_start(ap, fmt);
	vsnprintf(line_en, sizeof line_en, fmt, ap);
	va_end(ap);
	/* ": description" in both languages, as the error constructors make it */
	struct spif_err e = {0};
	if (errnum)
		spif_err_sys(&e, SPIF_EX_IOERR, errnum, "%s", "");
	snprintf(t->error, sizeof t->error, "%.1399s%.128s", line, errnum ? e.msg : "");
	snprintf(t->error_en, sizeof t->error_en, "%.1399s%.128s", line_en, errnum ? e.en : "");
}

static void fail_all(struct spif_dispose_copy **v, size_t n, const struct spif_err *e)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i]->failed) {
			v[i]->failed = 1;
			v[i]->code = e->code ? e->code : SPIF_EX_SOFTWARE;
			snprintf(v[i]->error, sizeof v[i]->error, "%.1200s", e->msg);
			snprintf(v[i]->error_en, sizeof v[i]->error_en, "%.1200s", e->en);
		}
}

/* Does the file keep a vault copy besides the ones being erased?  Then
 * only this copy's key may go (spif redact --file keeps the new copy). */
static int other_vault_copy(struct spif_catalog *c, long long file_id, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT EXISTS(SELECT 1 FROM copies WHERE file_id = ? AND kind = 'vault'"
	                            " AND state = 'present')", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int rc = sqlite3_step(st);
	int other = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	spif_catalog_release(st);
	if (other < 0)
		return spif_catalog_sqlerr(c, rc, "copies", err);
	return other;
}

/* The key material of a target, annotated with what became of its KEK:
 * replaced (rot: spif_vault_rotate's entries) and destroyed (gone:
 * spif_vault_destroy_old_keks's, or a retirement's). */
static void kek_fate(json_t *kek, json_t *rot, json_t *gone, json_t *retired, json_t *store)
{
	const char *b = json_string_value(json_object_get(kek, "bucket"));
	json_int_t g = json_integer_value(json_object_get(kek, "generation"));
	size_t i;
	json_t *r;
	if (!b)
		return;
	if (store)
		json_object_set(kek, "store", store);
	json_array_foreach(rot, i, r)
		if (strcmp(b, json_string_value(json_object_get(r, "bucket"))) == 0 &&
		    json_integer_value(json_object_get(r, "generation")) == g) {
			json_object_set(kek, "replaced_by", json_object_get(r, "replaced_by"));
			json_object_set(kek, "other_files_rewrapped", json_object_get(r, "rewrapped"));
			json_object_set(kek, "escrow", json_object_get(r, "escrow"));
		}
	json_array_foreach(retired, i, r)
		if (strcmp(b, json_string_value(json_object_get(r, "bucket"))) == 0 &&
		    json_integer_value(json_object_get(r, "generation")) == g)
			json_object_set(kek, "escrow", json_object_get(r, "escrow"));
	json_array_foreach(gone, i, r)
		if (strcmp(b, json_string_value(json_object_get(r, "bucket"))) == 0 &&
		    json_integer_value(json_object_get(r, "generation")) == g) {
			static const char *const copy[] = {"destroyed", "destroyed_by", "remnants", "medium", "object"};
			json_object_set_new(kek, "still_exists", json_false());
			for (size_t k = 0; k < sizeof copy / sizeof *copy; k++)
				if (json_object_get(r, copy[k]))
					json_object_set(kek, copy[k], json_object_get(r, copy[k]));
		}
}

static void fate_all(json_t *erased, json_t *rot, json_t *gone, json_t *retired, json_t *store)
{
	json_t *kek = erased ? json_object_get(erased, "kek") : NULL;
	size_t k;
	json_t *one;
	if (json_is_array(kek))
		json_array_foreach(kek, k, one)
			kek_fate(one, rot, gone, retired, store);
	else if (json_is_object(kek))
		kek_fate(kek, rot, gone, retired, store);
}

/* Is the KEK of every bucket of t's erased key destroyed (gone), or was
 * none replaced or retired for it?  Else its certificate cannot say the
 * key is unrecoverable. */
static int kek_still_alive(const json_t *erased, json_t *rot, json_t *gone)
{
	json_t *kek = json_object_get(erased, "kek");
	size_t i, k;
	json_t *one, *r;
	json_t *list = json_is_array(kek) ? kek : NULL;
	for (i = 0; i < (list ? json_array_size(list) : (json_is_object(kek) ? 1 : 0)); i++) {
		one = list ? json_array_get(list, i) : kek;
		const char *b = json_string_value(json_object_get(one, "bucket"));
		json_int_t g = json_integer_value(json_object_get(one, "generation"));
		int replaced = 0, destroyed = 0;
		json_array_foreach(rot, k, r)
			replaced |= b && strcmp(b, json_string_value(json_object_get(r, "bucket"))) == 0 &&
			            json_integer_value(json_object_get(r, "generation")) == g;
		json_array_foreach(gone, k, r)
			destroyed |= b && strcmp(b, json_string_value(json_object_get(r, "bucket"))) == 0 &&
			             json_integer_value(json_object_get(r, "generation")) == g;
		if (replaced && !destroyed)
			return 1;
	}
	return 0;
}

static int append_event(struct spif_catalog *c, const char *action, const char *key, json_t *list,
                        struct spif_err *err)
{
	json_t *d = json_pack("{s:O}", key, list);
	int rc = spif_audit_append(c, action, "keys", d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_dispose_crypto(struct spif_catalog *c, struct spif_dispose_copy **v, size_t n,
                        struct spif_err *err)
{
	if (!n)
		return 0;
	/* The KEKs first: a token that is missing or refuses its PIN stops the
	 * run before anything is destroyed, and the copies it had marked go
	 * back to "present" (one left by an earlier run stays "disposing"). */
	struct spif_kek_store *ks = NULL;
	if (spif_kek_store_open(NULL, spif_catalog_home(c), &ks, err) < 0) {
		struct spif_err e2 = {0};
		if (spif_catalog_begin(c, &e2) == 0) {
			int ok = 1;
			for (size_t i = 0; i < n && ok; i++)
				if (!v[i]->resumed)
					ok = spif_dispose_unmark(c, v[i], err->en, 0, &e2) == 0;
			if (!ok || spif_catalog_commit(c, &e2) < 0)
				spif_catalog_rollback(c);
		}
		fail_all(v, n, err);
		return -1;
	}
	json_t *buckets = json_object(), *rot = NULL, *gone = NULL, *store = spif_kek_store_describe(ks);
	/* the keys, read before they go, so that their absence can be proved */
	unsigned char (*keys)[40] = calloc(8 * n, 40);
	size_t *first = calloc(n + 1, sizeof *first);
	int *whole = calloc(n, sizeof *whole);
	if (!keys || !first || !whole) {
		free(keys);
		free(first);
		free(whole);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	size_t nk = 0;
	for (size_t i = 0; i < n; i++) {
		struct spif_dispose_copy *t = v[i];
		first[i] = nk;
		int other = t->file_id ? other_vault_copy(c, t->file_id, err) : 0;
		if (other < 0)
			goto fail;
		whole[i] = !other;
		/* a copy whose ciphertext is gone was unlinked after its key was
		 * erased: there is nothing of it to find */
		long long key_id = whole[i] ? 0 : t->absent ? -1 : spif_vault_copy_key_id(t->path);
		if (key_id >= 0) {
			int dup = 0; /* two copies of one file: its keys once */
			for (size_t k = 0; k < i && whole[i]; k++)
				dup |= whole[k] && v[k]->file_id == t->file_id;
			if (!dup)
				nk += spif_vault_wrapped_keys(c, t->file_id, key_id, keys + nk, 8);
		}
	}
	first[n] = nk;
	if (spif_catalog_begin(c, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct spif_dispose_copy *t = v[i];
		json_t *what = NULL;
		struct spif_err e = {0};
		int rc;
		json_t *shared = NULL;
		for (size_t k = 0; k < i && whole[i]; k++)
			if (whole[k] && v[k]->file_id == t->file_id && v[k]->erased)
				shared = v[k]->erased;
		if (shared)
			rc = (what = json_incref(shared)) ? 0 : -1;
		else if (whole[i])
			rc = spif_vault_erase_key(c, t->file_id, &what, &e);
		else if (t->absent)
			rc = (what = json_pack("{s:s,s:b}", "method", "cryptographic erase", "already_erased", 1)) ? 0 : -1;
		else
			rc = spif_vault_erase_copy_key(c, t->file_id, t->path, &what, &e);
		if (rc < 0) {
			t->failed = 1;
			t->code = e.code ? e.code : SPIF_EX_SOFTWARE;
			snprintf(t->error, sizeof t->error, "%.400s: %.1000s", t->path, e.msg);
			snprintf(t->error_en, sizeof t->error_en, "%.400s: %.1000s", t->path, e.en);
			continue;
		}
		json_decref(t->erased);
		t->erased = what;
		json_t *dk;
		size_t j;
		json_array_foreach(json_object_get(what, "data_keys"), j, dk)
			json_object_set_new(buckets, json_string_value(json_object_get(dk, "bucket")), json_true());
	}
	/* each month's KEK replaced once for the whole batch, in the same
	 * transaction: the erased keys' old wrappings then open nothing */
	if (spif_vault_rotate(c, ks, buckets, &rot, err) < 0 ||
	    (json_array_size(rot) && append_event(c, "kek.rotated", "rotations", rot, err) < 0))
		goto fail;
	if (spif_catalog_commit(c, err) < 0)
		goto fail;
	/* committed: the old KEKs are needed by nothing, and go now */
	struct spif_err de = {0};
	int destroyed_ok = spif_vault_destroy_old_keks(c, ks, &gone, &de) == 0;
	if (json_array_size(gone)) {
		struct spif_err e2 = {0};
		if (spif_catalog_begin(c, &e2) < 0 || append_event(c, "kek.destroyed", "keks", gone, &e2) < 0 ||
		    spif_catalog_commit(c, &e2) < 0)
			spif_catalog_rollback(c);
	}
	for (size_t i = 0; i < n; i++) {
		struct spif_dispose_copy *t = v[i];
		if (t->failed || !t->erased)
			continue;
		fate_all(t->erased, rot, gone, NULL, store);
		if (!destroyed_ok && kek_still_alive(t->erased, rot, gone)) {
			t->failed = 1;
			t->code = de.code ? de.code : SPIF_EX_IOERR;
			/* one format, the reason inside in each language */
#define KEK_LEFT N_("%.400s: its data key is erased, but the key that wrapped it could not be destroyed (%.900s); " \
                    "left for the next run")
			snprintf(t->error, sizeof t->error, _(KEK_LEFT), t->path, de.msg);
			snprintf(t->error_en, sizeof t->error_en, KEK_LEFT, t->path, de.en);
#undef KEK_LEFT
		}
	}
	/* one purge and one search for the whole batch */
	if (spif_vault_purge(c, err) < 0)
		goto fail;
	int left = spif_dispose_keys_left(c, keys, nk);
	for (size_t i = 0; i < n; i++) {
		struct spif_dispose_copy *t = v[i];
		if (t->failed)
			continue;
		size_t mine = first[i + 1] - first[i];
		if (left && spif_dispose_keys_left(c, keys + first[i], mine)) {
			t->failed = 1;
			t->code = SPIF_EX_IOERR;
			copy_error(t, 0, N_("%.1200s: the wrapped data key is still in the catalog's files after the purge; "
			                    "not certified"), t->path);
			continue;
		}
		t->r.verified = 1;
		size_t nkeys = mine;
		for (size_t k = 0; k < i && whole[i] && !mine; k++)
			if (whole[k] && v[k]->file_id == t->file_id)
				nkeys = first[k + 1] - first[k];
		snprintf(t->r.pattern, sizeof t->r.pattern, "data key destroyed (%zu wrapped key%s)", nkeys,
		         nkeys == 1 ? "" : "s");
		if (!t->absent && unlink(t->path) < 0 && errno != ENOENT)
			/* unreadable all the same: certified, and the leftover named */
			copy_error(t, errno, N_("%.1200s: the key is destroyed but the ciphertext could not be removed"),
			           t->path);
	}
	/* one directory sync per directory (the vault is usually one) */
	for (size_t i = 0; i < n; i++) {
		if (v[i]->failed || v[i]->absent)
			continue;
		const char *slash = strrchr(v[i]->path, '/');
		size_t dl = slash ? (size_t)(slash - v[i]->path) : 0;
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++) {
			const char *s2 = strrchr(v[k]->path, '/');
			seen = !v[k]->failed && !v[k]->absent && s2 && (size_t)(s2 - v[k]->path) == dl &&
			       strncmp(v[k]->path, v[i]->path, dl) == 0;
		}
		if (!seen)
			spif_fsync_dir_of(v[i]->path);
	}
	explicit_bzero(keys, 8 * n * 40);
	free(keys);
	free(first);
	free(whole);
	json_decref(buckets);
	json_decref(rot);
	json_decref(gone);
	json_decref(store);
	spif_kek_store_close(ks);
	return 0;
fail:
	spif_catalog_rollback(c);
	fail_all(v, n, err);
	explicit_bzero(keys, 8 * n * 40);
	free(keys);
	free(first);
	free(whole);
	json_decref(buckets);
	json_decref(rot);
	json_decref(gone);
	json_decref(store);
	spif_kek_store_close(ks);
	return -1;
}

/* ---- the certificate ------------------------------------------------------ */

int spif_dispose_certify(struct spif_catalog *c, const struct spif_conf *conf,
                         const struct spif_dispose_opts *o, struct spif_dispose_copy **group, size_t ng,
                         int forced_medium, const char *medium_reason, char id[32], int *file_disposed,
                         struct spif_err *err)
{
	struct spif_file f = {0};
	long long fid = group[0]->file_id;
	*file_disposed = 0;
	if (fid && spif_catalog_get_file(c, fid, &f, err) < 0)
		return -1;
	json_t *copies = json_array();
	long long *ids = calloc(ng, sizeof *ids);
	json_t *san = NULL, *ver = NULL;
	int rc = -1;
	int all_verified = 1, any_links = 0;
	if (!ids) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ng; i++) {
		if (spif_catalog_set_copy_state(c, group[i]->copy_id, SPIF_COPY_DISPOSED, err) < 0)
			goto out;
		json_array_append_new(copies, copy_json(group[i]));
		ids[i] = group[i]->copy_id;
		all_verified &= group[i]->r.verified;
		any_links |= group[i]->m.nlink > 1;
	}
	if (fid) {
		sqlite3_stmt *st;
		if (spif_catalog_cached(c, "SELECT COUNT(*) FROM copies WHERE file_id = ? AND state NOT IN ('disposed','lost')",
		                         &st, err) < 0)
			goto out;
		sqlite3_bind_int64(st, 1, fid);
		sqlite3_step(st);
		*file_disposed = sqlite3_column_int64(st, 0) == 0;
		spif_catalog_release(st);
		/* not while an export of it is out: the recipient still has it */
		int out = *file_disposed ? spif_export_outstanding(c, fid, err) : 0;
		if (out < 0)
			goto out;
		*file_disposed = *file_disposed && out == 0;
		if (*file_disposed) {
			if (spif_catalog_cached(c, "UPDATE files SET state = 'disposed' WHERE id = ?", &st, err) < 0)
				goto out;
			sqlite3_bind_int64(st, 1, fid);
			int s = sqlite3_step(st);
			spif_catalog_release(st);
			if (s != SQLITE_DONE) {
				spif_catalog_sqlerr(c, s, "dispose file", err);
				goto out;
			}
			/* copies declared lost are listed as lost, not destroyed */
			if (spif_copies_lost_json(c, fid, copies, err) < 0)
				goto out;
		}
	}
	/* What is claimed, and no more: overwrite is Clear, never Purge; a copy
	 * that was gone when its disposal resumed is not claimed at all. */
	char category[384], desc[256];
	int attested = 0, cls = spif_dispose_class(group[0]), crypto = cls == 1, missing = cls == 2;
	int finished = cls == 3, found_full = 0, resumed = 0;
	for (size_t i = 0; i < ng; i++) {
		attested |= group[i]->attested;
		found_full |= group[i]->found_at[0] && group[i]->found_size != 0;
		resumed |= cls == 0 && group[i]->resumed && !group[i]->found_at[0];
	}
	if (crypto)
		snprintf(category, sizeof category, "Purge (cryptographic erase)");
	else if (missing)
		snprintf(category, sizeof category, "not verified: the copy was missing when its disposal resumed");
	else if (forced_medium)
		snprintf(category, sizeof category, "Clear (overwrite) — not verified at the medium: %s", medium_reason);
	else if (attested)
		snprintf(category, sizeof category, "Clear (medium attested by the administrator)");
	else
		snprintf(category, sizeof category, "Clear");
	const struct spif_wipe_result *r = &group[0]->r;
	if (crypto)
		snprintf(desc, sizeof desc, "暗号化消去 / cryptographic erase: %s", r->pattern);
	else if (missing)
		snprintf(desc, sizeof desc, "消去未確認 / not verified: the file was gone when its disposal resumed");
	else if (finished)
		snprintf(desc, sizeof desc, "上書き消去 / overwrite, by a run that was interrupted before it removed the "
		                            "file");
	else
		snprintf(desc, sizeof desc, "上書き消去 / overwrite: %s", r->pattern[0] ? r->pattern : "see copies");
	san = json_object();
	json_object_set_new(san, "category", json_string(category));
	json_object_set_new(san, "description", json_string(desc));
	if (crypto) {
		json_object_set_new(san, "method", spif_vault_erase_method(group[0]->erased));
		json_object_set_new(san, "what_this_means", spif_vault_erase_meaning(group[0]->erased));
		json_object_set_new(san, "key_material", json_deep_copy(group[0]->erased));
	} else if (missing)
		json_object_set_new(san, "method", json_string(
			"none by this run: an interrupted run had begun to destroy the copy (overwrite, read back, "
			"truncate, renames, unlink), and when disposal resumed the file was neither at its path "
			"nor under any name that run renames to"));
	else {
		json_object_set_new(san, "method", json_sprintf("overwrite, fdatasync per pass, read back, truncate, "
		                                                "%d renames to names of the same length with the "
		                                                "directory fsync'd after each, unlink",
		                                                SPIF_WIPE_RENAMES));
		/* the interrupted run's passes are not recorded, only that it
		 * got past its read-back */
		json_object_set_new(san, "passes", finished ? json_null() : json_integer(o->passes));
		json_object_set_new(san, "zero_pass", finished ? json_null() : json_boolean(o->zero));
	}
	json_object_set_new(san, "pattern", json_string(missing ? "unknown" : finished ? "not recorded (the interrupted "
	                                                "run's)" : r->pattern));
	/* every caveat that applies, in a list: none hides another */
	json_t *caveats = json_array();
	if (any_links)
		json_array_append_new(caveats, json_string("forced over other hard links: the data was overwritten in "
		                                           "place, which every name shares"));
	if (finished)
		json_array_append_new(caveats, json_sprintf(
			"finished after an interrupted run, which had already overwritten the file, read it back "
			"and truncated it (it renames a file only after that), and left it under a name it gave "
			"it; %s", group[0]->start_sha256[0] ? "its sha256_before is what it held when its disposal "
			                                       "began, as recorded then"
			                                     : "its SHA-256 before was not recorded"));
	if (found_full)
		json_array_append_new(caveats, json_string(
			"found after an interrupted run under a name that run gave it, but not truncated as that "
			"run leaves a file it renames: overwritten again from the start; sha256_when_resumed is "
			"of what was found"));
	if (resumed)
		json_array_append_new(caveats, json_string(
			"resumed: the disposal of a copy was begun by an interrupted run, which may have overwritten "
			"part of it; this run overwrote it from the start, having checked that it was the same file "
			"(device and inode) where that run recorded them, and its sha256_before is what it held when "
			"that disposal began, where that is known"));
	for (size_t i = 0; i < ng; i++)
		if (group[i]->changed)
			json_array_append_new(caveats, json_sprintf(
				"copy %lld (%s) was not the copy the catalog knows: it %s; it was destroyed anyway "
				"(--changed-ok, for the reason given), and what the catalog knew may survive elsewhere",
				group[i]->copy_id, group[i]->path, group[i]->changed_why));
	if (missing)
		json_array_append_new(caveats, json_string(
			"the file was gone when its disposal resumed: the interrupted run may have removed it after "
			"its read-back matched, or it was moved or deleted by other means, and then its data may "
			"survive elsewhere or in free blocks of the medium; spif cannot tell which"));
	if (json_array_size(caveats))
		json_object_set_new(san, "caveats", caveats);
	else
		json_decref(caveats);
	ver = json_object();
	if (crypto) {
		json_object_set_new(ver, "method", json_string("after the purge, catalog.db and its WAL were "
		                                               "read and searched for the wrapped data key"));
		int already = json_is_true(json_object_get(group[0]->erased, "already_erased"));
		json_object_set_new(ver, "result",
		                    json_string(!all_verified ? "FAILED"
		                                : already ? "passed: no data key of the file is left in the catalog "
		                                            "(an interrupted run had erased it; its bytes could not "
		                                            "be searched for again)"
		                                          : "passed: the wrapped data key is in neither file"));
	} else if (missing) {
		json_object_set_new(ver, "method", json_string("the path, and every name in its directory that the "
		                                               "interrupted run would have renamed the file to, "
		                                               "looked for"));
		json_object_set_new(ver, "result", json_string("not verified: the file was at none of them"));
	} else {
		json_object_set_new(ver, "method", json_string("read-back of the final pass after dropping the page "
		                                               "cache, compared with the regenerated pattern; path "
		                                               "checked absent after unlink"));
		json_object_set_new(ver, "result",
		                    json_string(!all_verified ? "FAILED"
		                                : finished ? "passed, by the interrupted run: it renames a file only after "
		                                             "the read-back matched, and the file was found truncated "
		                                             "under a name it gave it"
		                                           : "passed"));
	}
	/* every export of the file and how it ended (export.h) */
	json_t *exports = fid ? spif_export_fates(c, fid, err) : json_array();
	if (!exports)
		goto out;
	if (json_array_size(exports))
		json_object_set_new(san, "exports", exports);
	else
		json_decref(exports);
	struct spif_cert_input in = {
		.kind = "disposal", .command = o->command ? o->command : "spif shred", .file = fid ? &f : NULL,
		.copies = copies, .sanitization = san, .verification = ver, .destination = o->destination,
		.reason = o->reason, .sign_key = o->sign_key, .copy_ids = ids, .ncopy_ids = ng,
	};
	if (spif_cert_issue(c, conf, &in, id, err) < 0)
		goto out;
	if (*file_disposed) {
		char obj[24];
		spif_file_id_format(fid, obj);
		json_t *d = json_pack("{s:s}", "certificate", id);
		int a = spif_audit_append(c, "file.disposed", obj, d, NULL, err);
		json_decref(d);
		if (a < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(copies);
	json_decref(san);
	json_decref(ver);
	free(ids);
	spif_file_free(&f);
	return rc;
}

int spif_dispose_certify_redaction(struct spif_catalog *c, const struct spif_conf *conf,
                                   const struct spif_redaction_cert *in, char id[32], struct spif_err *err)
{
	const struct spif_copy *old = in->old;
	int resumed = in->resumed_event != 0;
	json_t *copies = json_pack("[{s:I,s:s,s:I,s:s,s:s,s:s}]", "copy_id", (json_int_t)old->id, "path",
	                           old->path, "size", (json_int_t)old->size, "sha256_before",
	                           old->sha256 ? old->sha256 : "", "media_type",
	                           "encrypted vault copy (AES-256-GCM)", "media_source", "catalog vault copy");
	char desc[256];
	snprintf(desc, sizeof desc, "個人番号の削除 / removal of the numbers: %lld in number fields, %lld "
	         "elsewhere (%s); the copy that held them crypto-erased", in->in_fields, in->elsewhere,
	         in->op ? in->op : "mask");
	/* after an interruption the key went with the interrupted run's event:
	 * that is all that can be said of it */
	json_t *what = resumed ? json_pack("{s:s,s:b,s:I}", "method", "cryptographic erase", "already_erased", 1,
	                                   "erased_with_event", (json_int_t)in->resumed_event)
	                       : json_incref(in->key_material);
	json_t *san = json_pack("{s:s,s:s,s:s,s:o,s:s}", "category", "Purge (cryptographic erase)",
	                        "description", desc, "method",
	                        "every string field scanned; number fields lose every digit, checksum-valid "
	                        "numbers elsewhere removed; the old copy's data key deleted with "
	                        "secure_delete, WAL checkpointed and truncated, ciphertext deleted",
	                        "key_material", what ? what : json_null(), "kept", in->kept ? in->kept : "");
	json_t *ver;
	if (resumed)
		ver = json_pack("{s:s,s:s}", "method",
		                "the new copy was read back and scanned for numbers before the key of the old "
		                "one was deleted (event recorded); after an interruption the WAL was purged again",
		                "result", "passed: the old copy's key was deleted in the transaction of the "
		                "redaction's event; its bytes could not be searched for again after the interruption");
	else
		ver = json_pack("{s:s,s:s}", "method",
		                "the new copy read back and scanned for numbers; catalog.db and its WAL "
		                "searched for the old wrapped data key after the purge",
		                "result", in->verified ? "passed: no number in the new copy; the old key is in neither file"
		                                       : "FAILED: the old wrapped key is still in the catalog's files");
	long long ids[1] = {old->id};
	struct spif_cert_input ci = {.kind = "redaction", .command = "spif redact --file", .file = in->file,
	                             .copies = copies, .sanitization = san, .verification = ver,
	                             .destination = "remains in service", .reason = in->reason,
	                             .sign_key = in->sign_key, .copy_ids = ids, .ncopy_ids = 1};
	int rc = -1;
	if (!copies || !san || !ver)
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	else if (spif_catalog_set_copy_state(c, old->id, SPIF_COPY_DISPOSED, err) == 0 &&
	         spif_cert_issue(c, conf, &ci, id, err) == 0)
		rc = 0;
	json_decref(copies);
	json_decref(san);
	json_decref(ver);
	return rc;
}

int spif_dispose_retire_keks(struct spif_catalog *c, struct spif_dispose_copy **v, size_t n,
                             struct spif_err *err)
{
	json_t *what = NULL, *gone = NULL;
	if (spif_catalog_begin(c, err) < 0)
		return -1;
	if (spif_vault_retire_keks(c, &what, err) < 0 ||
	    (what && json_array_size(json_object_get(what, "keks")) > 0 &&
	     spif_audit_append(c, "kek.retired", "keys", what, NULL, err) < 0) ||
	    spif_catalog_commit(c, err) < 0) {
		json_decref(what);
		spif_catalog_rollback(c);
		return -1;
	}
	/* committed: the retired KEKs themselves go now (a failure leaves them
	 * for the next run's purge, and the certificates do not say gone) */
	json_t *retired = json_object_get(what, "keks"), *store = NULL;
	int rc = 0;
	if (json_array_size(retired)) {
		struct spif_kek_store *ks;
		rc = spif_kek_store_open(NULL, spif_catalog_home(c), &ks, err);
		if (rc == 0) {
			store = spif_kek_store_describe(ks);
			rc = spif_vault_destroy_old_keks(c, ks, &gone, err);
			spif_kek_store_close(ks);
		}
		if (json_array_size(gone)) {
			struct spif_err e2 = {0};
			if (spif_catalog_begin(c, &e2) < 0 || append_event(c, "kek.destroyed", "keks", gone, &e2) < 0 ||
			    spif_catalog_commit(c, &e2) < 0)
				spif_catalog_rollback(c);
		}
	}
	/* the certificates still to come say what is now true */
	for (size_t i = 0; i < n && json_array_size(retired); i++)
		fate_all(v[i]->erased, NULL, gone, retired, store);
	json_decref(what);
	json_decref(gone);
	json_decref(store);
	if (rc < 0)
		return -1;
	return spif_vault_purge(c, err);
}

/* ---- the disposal lock ------------------------------------------------- */

int spif_dispose_lock(const char *home, const struct spif_conf *conf, const struct spif_lock_wait *w, int *fd,
                      struct spif_err *err)
{
	char path[PATH_MAX];
	*fd = -1;
	if (snprintf(path, sizeof path, "%s/purge.lock", home) >= (int)sizeof path)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", home);
	/* a purge's child works under its parent's lock: the same open file */
	const char *inh = getenv("SPIF_LOCK_FD");
	if (inh && *inh) {
		char *end;
		long v = strtol(inh, &end, 10);
		struct stat a, b;
		if (!*end && v > 2 && v < 1024 && fstat((int)v, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino && flock((int)v, LOCK_EX | LOCK_NB) == 0) {
			*fd = (int)v;
			return 0;
		}
	}
	struct spif_lock_holder who;
	if (spif_home_lock(home, conf, "purge.lock", w, fd, &who, err) == 0)
		return 0;
	if (err->code == SPIF_EX_TEMPFAIL) {
		char s[160];
		int stopped = w && w->stop && *w->stop;
		spif_lock_holder_str(&who, s, sizeof s);
		spif_err_set(err, SPIF_EX_TEMPFAIL, "another purge or shred is disposing of files in %s (purge.lock "
		             "is held by %s)%s; try again later", home, s,
		             stopped ? ": interrupted while waiting" : w && w->wait > 0 ? ": waited in vain" : "");
	}
	return -1;
}

/* ---- a run's targets, from the catalog ---------------------------------- */

#include "catalog_query.h"

struct spif_dispose_copy *spif_dispose_add(struct spif_dispose_copy **v, size_t *n)
{
	struct spif_dispose_copy *t = realloc(*v, (*n + 1) * sizeof **v);
	if (!t)
		return NULL;
	*v = t;
	memset(&t[*n], 0, sizeof **v);
	return &t[(*n)++];
}

/* t as the catalog row cp names it. */
static void target_of(struct spif_dispose_copy *t, const char *path, const struct spif_copy *cp)
{
	if (path != t->path)
		snprintf(t->path, sizeof t->path, "%s", path);
	t->copy_id = cp->id;
	t->file_id = cp->file_id;
	snprintf(t->kind, sizeof t->kind, "%s", cp->kind);
	snprintf(t->catalogued_sha256, sizeof t->catalogued_sha256, "%s", cp->sha256 ? cp->sha256 : "");
	t->resumed = cp->state == SPIF_COPY_DISPOSING;
}

int spif_dispose_lookup(struct spif_catalog *c, struct spif_dispose_copy *t, struct spif_err *err)
{
	struct spif_copy *cp;
	size_t n;
	snprintf(t->kind, sizeof t->kind, "found");
	if (spif_catalog_copies_at(c, t->path, &cp, &n, err) < 0)
		return -1;
	if (n)
		target_of(t, t->path, &cp[n - 1]);
	spif_copies_free(cp, n);
	return 0;
}

int spif_dispose_leftovers(struct spif_catalog *c, struct spif_dispose_copy **v, size_t *n,
                           struct spif_err *err)
{
	struct spif_copy *cp;
	size_t ncp;
	if (spif_catalog_copies_in_state(c, SPIF_COPY_DISPOSING, &cp, &ncp, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < ncp && rc == 0; i++) {
		struct spif_dispose_copy *t = spif_dispose_add(v, n);
		if (!t)
			rc = spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		else
			target_of(t, cp[i].path, &cp[i]);
	}
	spif_copies_free(cp, ncp);
	return rc;
}

int spif_dispose_siblings(struct spif_catalog *c, struct spif_dispose_copy **v, size_t *n,
                          struct spif_err *err)
{
	size_t first = *n;
	for (size_t i = 0; i < first; i++) {
		struct spif_copy *cp;
		size_t ncp;
		if (spif_catalog_copies_at(c, (*v)[i].path, &cp, &ncp, err) < 0)
			return -1;
		for (size_t j = 0; j < ncp; j++) {
			int listed = 0;
			for (size_t k = 0; k < *n; k++)
				listed |= (*v)[k].copy_id == cp[j].id;
			if (listed)
				continue;
			struct spif_dispose_copy *t = spif_dispose_add(v, n); /* *v may move */
			if (!t) {
				spif_copies_free(cp, ncp);
				return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			}
			target_of(t, cp[j].path, &cp[j]);
		}
		spif_copies_free(cp, ncp);
	}
	return 0;
}
