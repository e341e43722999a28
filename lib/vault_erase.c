/* vault_erase.c - crypto-erase: a file's data keys erased, its
 * disposal month's KEK replaced (every other data key of the month
 * rewrapped under a fresh KEK in the same transaction), old KEKs destroyed
 * after the commit, months without files retired, the WAL purged.  Kept
 * apart from the file format because its guarantees are the certificate's:
 * after the commit and the purge, no wrapped copy of an erased key anywhere
 * (free blocks, WAL, backups) opens under any KEK that still exists.
 */
#include "vault.h"
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "audit.h"
#include "catalog_priv.h"
#include "vault_priv.h"
#include "digest.h"
#include "kek.h"
#include "pgp.h"


/* ---- erase, purge, retire, rebucket ------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* Was the file's data key ever moved to another disposal month?  A vault
 * copy re-encrypted by spif_vault_rebucket says "rekeyed"; one whose key
 * was only rewrapped (before re-encryption) still names the bucket it was
 * written in, which is not one its keys are in now (buckets). */
static int ever_moved(struct spif_catalog *c, long long file_id, json_t *buckets)
{
	sqlite3_stmt *st;
	int moved = 0;
	if (spif_catalog_prepare(c, "SELECT details FROM copies WHERE file_id=? AND kind='vault'", &st, NULL) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, file_id);
	while (!moved && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;
		json_t *d = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		const char *b = json_string_value(json_object_get(d, "bucket"));
		moved = json_object_get(d, "rekeyed") != NULL ||
		        (b && json_object_size(buckets) && !json_object_get(buckets, b));
		json_decref(d);
	}
	sqlite3_finalize(st);
	return moved;
}

/* Erase file_id's data keys: all of them (key_id 0), or the one a single
 * vault copy was written under. */
/* Where the KEK ref names is, from the catalog's home alone (for the
 * certificate's key material, written inside a transaction). */
static void ref_where(struct spif_catalog *c, const char *ref, char out[PATH_MAX])
{
	if (strncmp(ref, "pkcs11:", 7) == 0)
		snprintf(out, PATH_MAX, "PKCS#11 token object %s", ref + 7);
	else if (ref[0] == '/')
		snprintf(out, PATH_MAX, "%s", ref);
	else
		vlt_join(out, PATH_MAX, spif_catalog_home(c), ref);
}

int vlt_erase_keys(struct spif_catalog *c, long long file_id, long long key_id, json_t **what,
                      struct spif_err *err)
{
	*what = NULL;
	if (vlt_in_tx(c, "spif_vault_erase_key", err) < 0)
		return -1;
	char fid[24];
	spif_file_id_format(file_id, fid);
	sqlite3_stmt *st;
	if (spif_catalog_cached(c,
	        "SELECT d.id, d.bucket, k.key_file, k.destroyed, k.custodian, k.created FROM data_keys d"
	        " LEFT JOIN keks k ON k.bucket=d.bucket WHERE d.file_id=? AND (?2 = 0 OR d.id = ?2)"
	        " ORDER BY d.id", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_int64(st, 2, key_id);
	json_t *keys = json_array(), *keks = json_array(), *seen = json_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char bucket[64];
		vlt_col_copy(st, 1, bucket, sizeof bucket);
		json_array_append_new(keys, json_pack("{s:I,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0),
		                                      "bucket", bucket));
		if (json_object_get(seen, bucket))
			continue;
		json_object_set_new(seen, bucket, json_true());
		struct kek_row kr;
		memset(&kr, 0, sizeof kr);
		kr.found = sqlite3_column_type(st, 2) != SQLITE_NULL;
		vlt_col_copy(st, 2, kr.key_file, sizeof kr.key_file);
		vlt_col_copy(st, 3, kr.destroyed, sizeof kr.destroyed);
		vlt_col_copy(st, 4, kr.custodian, sizeof kr.custodian);
		vlt_col_copy(st, 5, kr.created, sizeof kr.created);
		char ref[PATH_MAX], kp[PATH_MAX];
		if (kr.found && kr.key_file[0])
			snprintf(ref, sizeof ref, "%s", kr.key_file);
		else
			snprintf(ref, sizeof ref, "keys/kek-%s.key", bucket);
		ref_where(c, ref, kp);
		struct stat sb;
		int token = strncmp(ref, "pkcs11:", 7) == 0;
		int exists = kr.found && !kr.destroyed[0] && (token || stat(kp, &sb) == 0);
		json_t *k = json_pack("{s:s,s:i,s:s,s:b}", "bucket", bucket, "generation", vlt_ref_gen(ref), "key_file", kp,
		                      "still_exists", exists);
		if (kr.custodian[0]) {
			json_object_set_new(k, "custodian", json_string(kr.custodian));
			json_object_set_new(k, "created", json_string(kr.created));
		}
		json_array_append_new(keks, k);
	}
	spif_catalog_release(st);
	if (rc != SQLITE_DONE) {
		json_decref(seen);
		json_decref(keys);
		json_decref(keks);
		return spif_catalog_sqlerr(c, rc, "data_keys", err);
	}
	int moved = ever_moved(c, file_id, seen);
	json_decref(seen);
	size_t n = json_array_size(keys);
	if (spif_catalog_cached(c, "DELETE FROM data_keys WHERE file_id=? AND (?2 = 0 OR id = ?2)", &st, err) < 0) {
		json_decref(keys);
		json_decref(keks);
		return -1;
	}
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_int64(st, 2, key_id);
	rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE) {
		json_decref(keys);
		json_decref(keks);
		return spif_catalog_sqlerr(c, rc, "erase data key", err);
	}
	json_t *w = json_pack("{s:s,s:s,s:o,s:s}", "method", "cryptographic erase", "file", fid,
	                      "data_keys", keys, "where",
	                      "catalog.db (row deleted with secure_delete, WAL checkpointed and "
	                      "truncated, fsync'd)");
	if (n == 0)
		json_object_set_new(w, "already_erased", json_true());
	/* one vault copy per file is the rule: "kek" is then one object */
	if (json_array_size(keks) == 1)
		json_object_set(w, "kek", json_array_get(keks, 0));
	else
		json_object_set(w, "kek", json_array_size(keks) ? keks : json_null());
	json_decref(keks);
	json_t *cv = json_pack("[s,s]",
	        "copies of the data key or of the records made outside spif (a decrypted export, a "
	        "copy of the key file taken while it existed)",
	        "escrow copies of the key-encryption key held by a custodian, until the custodian "
	        "confirms their destruction (listed under kek.escrow)");
	if (moved)
		json_array_append_new(cv, json_string(
		        "backups of the vault copy taken before a retention change moved the file's data key "
		        "to another disposal month: with a backup of the catalog from before that move they "
		        "stay readable while the earlier month's KEK (often \"indefinite\") exists"));
	json_object_set_new(w, "cannot_vouch_for", cv);
	*what = w;
	return 0;
}

int spif_vault_erase_key(struct spif_catalog *c, long long file_id, json_t **what,
                         struct spif_err *err)
{
	return vlt_erase_keys(c, file_id, 0, what, err);
}

/* The buckets of an erase's key material ("data_keys"[].bucket) into set. */
static void erased_buckets(json_t *what, json_t *set)
{
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(what, "data_keys"), i, k) {
		const char *b = json_string_value(json_object_get(k, "bucket"));
		if (b)
			json_object_set_new(set, b, json_true());
	}
}

int spif_vault_erase_copy_key(struct spif_catalog *c, long long file_id, const char *path,
                              json_t **what, struct spif_err *err)
{
	*what = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	unsigned char h[VLT_HDR];
	ssize_t k = read_full(fd, h, sizeof h);
	close(fd);
	if (k < VLT_HDR || memcmp(h, VLT_MAGIC, 8) != 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: not a spif vault file", path);
	if ((long long)get_be64(h + 16) != file_id)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: a vault copy of another file", path);
	long long key_id = (long long)get_be64(h + 24);
	if (key_id <= 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: damaged header", path);
	if (vlt_erase_keys(c, file_id, key_id, what, err) < 0)
		return -1;
	/* one copy's key: its month's KEK is replaced here (see vault.h) */
	struct spif_kek_store *ks;
	json_t *set = json_object(), *rot = NULL;
	erased_buckets(*what, set);
	int rc = vlt_store_open(c, NULL, &ks, err);
	if (rc == 0) {
		rc = spif_vault_rotate(c, ks, set, &rot, err);
		if (rc == 0 && json_array_size(rot))
		{
			json_t *d = json_pack("{s:O}", "rotations", rot);
			rc = spif_audit_append(c, "kek.rotated", "keys", d, NULL, err);
			json_decref(d);
		}
		spif_kek_store_close(ks);
	}
	json_decref(set);
	json_decref(rot);
	if (rc < 0) {
		json_decref(*what);
		*what = NULL;
		return -1;
	}
	return 0;
}

/* ---- replacing and destroying KEKs -------------------------------------- */

/* The escrow copies a KEK row had (none, or its custodian's), as the
 * certificate lists them: outstanding until the custodian confirms. */
static json_t *escrow_of(const struct kek_row *r, const char *bucket, const struct spif_conf *conf)
{
	json_t *a = json_array();
	if (!r->custodian[0])
		return a;
	int fpr = strlen(r->custodian) == 40 && strspn(r->custodian, "0123456789ABCDEFabcdef") == 40;
	json_array_append_new(a, json_pack("{s:s,s:i,s:s,s:o,s:s,s:s}", "bucket", bucket, "generation", r->gen,
	                                   "custodian", conf && conf->custodian_key[0] ? conf->custodian_key
	                                                                               : r->custodian,
	                                   "fingerprint", fpr ? json_string(r->custodian) : json_null(),
	                                   "created", r->created, "state", "outstanding"));
	return a;
}

/* The rewrapping of one bucket's data keys, as an SQL function for the
 * one UPDATE that rewrites them: the keys stream through, none is held
 * in memory beyond its own row, however many files the month has. */
struct rewrap_ctx {
	struct spif_kek *old, *nw;
	long long bad;
	int failed; /* err says why */
	struct spif_err *err;
};

static void rewrap_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct rewrap_ctx *r = sqlite3_user_data(cx);
	const unsigned char *w = sqlite3_value_blob(argv[0]);
	int len = sqlite3_value_bytes(argv[0]);
	unsigned char dk[KEY_LEN], out[WRAP_LEN];
	/* a key that does not unwrap opened nothing before: it stays as it
	 * is, and opens nothing after */
	int u = len != WRAP_LEN || !w ? 1 : spif_kek_unwrap(r->old, w, WRAP_LEN, dk, r->err);
	if (u == 1) {
		r->bad++;
		sqlite3_result_value(cx, argv[0]);
		return;
	}
	if (u == 0)
		u = spif_kek_wrap(r->nw, dk, out, r->err);
	explicit_bzero(dk, sizeof dk);
	if (u < 0) {
		r->failed = 1;
		sqlite3_result_error(cx, "rewrapping a data key failed", -1);
		return;
	}
	sqlite3_result_blob(cx, out, WRAP_LEN, SQLITE_TRANSIENT);
	explicit_bzero(out, sizeof out);
}

/* Replace bucket's KEK (row r): a new generation made, every data key of
 * the bucket rewrapped under it (one UPDATE, streaming), the row pointed
 * at it.  Appended to log. */
static int rotate_one(struct spif_catalog *c, struct spif_kek_store *ks, const char *bucket, struct kek_row *r,
                      json_t *log, struct spif_err *err)
{
	struct spif_kek old, nw;
	memset(&nw, 0, sizeof nw);
	int rc = spif_kek_load(ks, bucket, r->key_file, r->check, &old, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		char where[PATH_MAX];
		spif_kek_where(ks, r->key_file, where, sizeof where);
		return spif_err_set(err, SPIF_EX_NOINPUT, "key for %s is missing: %s", bucket, where);
	}
	int ret = -1, made = 0;
	long long n = 0;
	char newref[PATH_MAX] = "";
	sqlite3 *db = spif_catalog_db(c);
	struct rewrap_ctx rx = {&old, &nw, 0, 0, err};
	int gen = vlt_next_gen(ks, bucket, r, err);
	if (gen < 0 || vlt_kek_make(c, ks, bucket, gen, 0, NULL, &nw, err) < 0)
		goto out;
	made = 1;
	spif_kek_ref(ks, bucket, gen, newref);
	if (sqlite3_create_function(db, "spif_vault_rewrap", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, &rx, rewrap_fn, NULL,
	                            NULL) != SQLITE_OK) {
		spif_catalog_sqlerr(c, sqlite3_errcode(db), "data_keys", err);
		goto out;
	}
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "UPDATE data_keys SET wrapped=spif_vault_rewrap(wrapped) WHERE bucket=?", &st,
	                         err) == 0) {
		sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		n = sqlite3_changes64(db);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE && !rx.failed)
			spif_catalog_sqlerr(c, rc, "data_keys", err);
	} else
		rc = SQLITE_ERROR;
	sqlite3_create_function(db, "spif_vault_rewrap", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
	if (rc != SQLITE_DONE)
		goto out;
	char where[PATH_MAX];
	ref_where(c, r->key_file, where);
	json_t *e = json_pack("{s:s,s:i,s:s,s:s,s:s,s:i,s:I,s:o}", "bucket", bucket, "generation", r->gen, "ref",
	                      r->key_file, "key_file", where, "created", r->created, "replaced_by", gen, "rewrapped",
	                      (json_int_t)(n - rx.bad), "escrow", escrow_of(r, bucket, spif_kek_store_conf(ks)));
	if (rx.bad)
		json_object_set_new(e, "unreadable_keys_left", json_integer((json_int_t)rx.bad));
	json_array_append_new(log, e);
	ret = 0;
out:
	if (ret < 0 && made) { /* the rollback takes its row: no key was ever wrapped under it for good */
		struct spif_err e2 = {0};
		spif_kek_destroy(ks, newref, NULL, &e2);
	}
	spif_kek_forget(&old);
	spif_kek_forget(&nw);
	return ret;
}

int spif_vault_rotate(struct spif_catalog *c, struct spif_kek_store *ks, json_t *buckets, json_t **what,
                      struct spif_err *err)
{
	*what = NULL;
	if (vlt_in_tx(c, "spif_vault_rotate", err) < 0)
		return -1;
	json_t *log = json_array();
	const char *b;
	json_t *val;
	json_object_foreach(buckets, b, val) {
		struct kek_row r;
		if (vlt_kek_lookup(c, b, &r, err) < 0)
			goto fail;
		if (!r.found || r.destroyed[0])
			continue;
		int used = vlt_bucket_in_use(c, b, err);
		if (used < 0)
			goto fail;
		if (!used) /* the month's last file: spif_vault_retire_keks */
			continue;
		if (rotate_one(c, ks, b, &r, log, err) < 0) {
			spif_err_prefix(err, "replacing the key of %s", b);
			goto fail;
		}
	}
	*what = log;
	return 0;
fail:
	/* the new keys of the buckets done so far go with the rollback */
	{
		size_t i;
		json_t *e;
		json_array_foreach(log, i, e) {
			char ref[PATH_MAX];
			struct spif_err e2 = {0};
			spif_kek_ref(ks, json_string_value(json_object_get(e, "bucket")),
			             (int)json_integer_value(json_object_get(e, "replaced_by")), ref);
			spif_kek_destroy(ks, ref, NULL, &e2);
		}
	}
	json_decref(log);
	return -1;
}

struct sweep {
	struct spif_catalog *c;
	struct spif_kek_store *ks;
	json_t *done;
	struct spif_err *err;
	int failed;
};

static int sweep_fn(void *ctx, const char *bucket, int gen, const char *ref)
{
	struct sweep *s = ctx;
	struct kek_row r;
	if (vlt_kek_lookup(s->c, bucket, &r, s->err) < 0)
		return -1;
	/* an older generation than the catalog's (replaced), or any up to a
	 * destroyed one's; a newer one no row names is left alone: it protects
	 * nothing this catalog committed, and may be a newer catalog's */
	if (!r.found || !(gen < r.gen || (r.destroyed[0] && gen <= r.gen)))
		return 0;
	json_t *how = NULL;
	char where[PATH_MAX], now[32];
	spif_kek_where(s->ks, ref, where, sizeof where);
	int rc = spif_kek_destroy(s->ks, ref, &how, s->err);
	if (rc < 0) {
		s->failed = 1;
		return -1;
	}
	if (rc == 1)
		return 0;
	spif_now_utc(now);
	json_t *e = json_pack("{s:s,s:i,s:s,s:s,s:s}", "bucket", bucket, "generation", gen, "ref", ref, "key_file",
	                      where, "destroyed", now);
	if (how)
		json_object_update(e, how);
	json_decref(how);
	json_array_append_new(s->done, e);
	return 0;
}

int spif_vault_destroy_old_keks(struct spif_catalog *c, struct spif_kek_store *ks, json_t **what,
                                struct spif_err *err)
{
	*what = NULL;
	if (!sqlite3_get_autocommit(spif_catalog_db(c)))
		return spif_err_set(err, SPIF_EX_SOFTWARE,
		                    "spif_vault_destroy_old_keks: must be called after the commit that replaced them");
	struct sweep s = {c, ks, json_array(), err, 0};
	if (spif_kek_list(ks, sweep_fn, &s, err) != 0) {
		/* what was destroyed before the failure is said all the same */
		*what = s.done;
		return -1;
	}
	*what = s.done;
	return 0;
}

int spif_vault_purge(struct spif_catalog *c, struct spif_err *err)
{
	sqlite3 *db = spif_catalog_db(c);
	if (!sqlite3_get_autocommit(db))
		return spif_err_set(err, SPIF_EX_SOFTWARE,
		                    "spif_vault_purge: must be called after the commit, not inside a transaction");
	/* KEKs a committed replacement or retirement left behind (this run's,
	 * or a killed run's): destroyed, and the event says so */
	struct spif_kek_store *ks;
	json_t *gone = NULL;
	int rc = 0;
	if (vlt_store_open(c, NULL, &ks, err) < 0) {
		/* a token out of reach: its leftovers wait for a run that has it;
		 * the WAL is purged all the same */
		if (err && err->code != SPIF_EX_UNAVAILABLE)
			return -1;
	} else {
		rc = spif_vault_destroy_old_keks(c, ks, &gone, err);
		spif_kek_store_close(ks);
	}
	if (json_array_size(gone)) {
		struct spif_err e2 = {0};
		if (spif_catalog_begin(c, &e2) == 0) {
			json_t *d = json_pack("{s:O}", "keks", gone);
			if (spif_audit_append(c, "kek.destroyed", "keys", d, NULL, &e2) < 0 || spif_catalog_commit(c, &e2) < 0)
				spif_catalog_rollback(c);
			json_decref(d);
		}
	}
	json_decref(gone);
	if (rc < 0)
		return -1;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "PRAGMA wal_checkpoint(TRUNCATE)", &st, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	int busy = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "checkpoint", err);
	if (busy)
		return spif_err_set(err, SPIF_EX_TEMPFAIL,
		                    "%s/catalog.db: the WAL could not be checkpointed and truncated (another "
		                    "spif is reading the catalog); try again", spif_catalog_home(c));
	/* through SQLite's own descriptors: closing one of ours would drop this
	 * process's locks on the catalog (see spif_catalog_sync) */
	const char *home = spif_catalog_home(c);
	if (spif_catalog_sync(c, err) < 0)
		return -1;
	if (vlt_fsync_path(home, O_DIRECTORY) < 0)
		return spif_err_sys(err, SPIF_EX_IOERR, errno, "%s: fsync", home);
	return 0;
}

int spif_vault_retire_keks(struct spif_catalog *c, json_t **what, struct spif_err *err)
{
	*what = NULL;
	if (vlt_in_tx(c, "spif_vault_retire_keks", err) < 0)
		return -1;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c,
	        "SELECT bucket FROM keks k WHERE destroyed IS NULL AND"
	        " NOT EXISTS (SELECT 1 FROM data_keys d WHERE d.bucket=k.bucket) ORDER BY bucket",
	        &st, err) < 0)
		return -1;
	json_t *list = json_array();
	struct spif_conf conf;
	struct spif_err ce = {0};
	int have_conf = spif_conf_load(&conf, &ce) == 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char bucket[64], kp[PATH_MAX];
		struct kek_row kr;
		vlt_col_copy(st, 0, bucket, sizeof bucket);
		if (vlt_kek_lookup(c, bucket, &kr, err) < 0) {
			sqlite3_finalize(st);
			json_decref(list);
			return -1;
		}
		ref_where(c, kr.key_file, kp);
		json_array_append_new(list, json_pack("{s:s,s:i,s:s,s:s,s:s,s:o,s:o}", "bucket", bucket, "generation",
		                                      kr.gen, "ref", kr.key_file, "key_file", kp, "created", kr.created,
		                                      "custodian", str_or_null(kr.custodian), "escrow",
		                                      escrow_of(&kr, bucket, have_conf ? &conf : NULL)));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return spif_catalog_sqlerr(c, rc, "keks", err);
	}
	char now[32];
	spif_now_utc(now);
	size_t i;
	json_t *k;
	/* the rows only: the keys themselves are destroyed after the commit
	 * (spif_vault_destroy_old_keks), so that a rollback leaves them whole */
	json_array_foreach(list, i, k) {
		if (spif_catalog_prepare(c, "UPDATE keks SET destroyed=?, custodian_wrapped=NULL"
		                            " WHERE bucket=?", &st, err) < 0)
			goto fail;
		sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, json_string_value(json_object_get(k, "bucket")), -1,
		                  SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			spif_catalog_sqlerr(c, rc, "keks", err);
			goto fail;
		}
	}
	*what = json_pack("{s:s,s:o,s:[s,s]}", "method", "key-encryption keys destroyed",
	                  "keks", list, "cannot_vouch_for",
	                  "copies of the key files made outside spif (backups of $SPIF_HOME/keys)",
	                  "escrow copies of a KEK held by a custodian (listed under escrow), until the "
	                  "custodian confirms their destruction");
	return 0;
fail:
	json_decref(list);
	return -1;
}
