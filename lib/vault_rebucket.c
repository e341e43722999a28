/* vault_rebucket.c - a file's data key moved to another
 * disposal month when its retention changes: rewrapped under the new
 * month's KEK, or the vault copy re-encrypted under a fresh data key, so
 * that erasing the new month erases the file (see vault.h).
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


/* Rewrap data key id, wrapped under from's KEK, under bucket's KEK: only
 * for a key no vault copy in place was written under (its copy is being
 * disposed of, or missing), which there is nothing to re-encrypt for. */
static int rewrap(struct spif_catalog *c, const struct spif_conf *conf, long long id, const char *from,
                  const unsigned char *wrapped, int bad, const char *bucket, struct spif_err *err)
{
	unsigned char dk[KEY_LEN], nw[WRAP_LEN];
	(void)mlock(dk, sizeof dk); /* out of swap if allowed */
	struct spif_kek_store *ks;
	struct spif_kek kek;
	if (vlt_store_open(c, conf, &ks, err) < 0)
		return -1;
	if (vlt_kek_get(c, ks, from, 0, &kek, err) < 0) {
		spif_kek_store_close(ks);
		return -1;
	}
	int rc = bad ? 1 : spif_kek_unwrap(&kek, wrapped, WRAP_LEN, dk, err);
	spif_kek_forget(&kek);
	if (rc == 1)
		rc = spif_err_set(err, SPIF_EX_DATAERR,
		                  "key for %s does not match the catalog: data key %lld does not unwrap", from, id);
	if (rc == 0)
		rc = vlt_kek_get(c, ks, bucket, 1, &kek, err);
	if (rc == 0)
		rc = spif_kek_wrap(&kek, dk, nw, err);
	spif_kek_forget(&kek);
	spif_kek_store_close(ks);
	explicit_bzero(dk, sizeof dk);
	if (rc < 0)
		return -1;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "UPDATE data_keys SET bucket=?, wrapped=? WHERE id=?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, nw, WRAP_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	explicit_bzero(nw, sizeof nw);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "data_keys", err);
	return 0;
}

/* The copy row's details with the bucket it is now in and when it was
 * re-encrypted (the certificate's caveats read "rekeyed"); malloc'd. */
static char *rekeyed_details(struct spif_catalog *c, long long copy_id, const char *bucket)
{
	sqlite3_stmt *st;
	json_t *d = NULL;
	if (spif_catalog_prepare(c, "SELECT details FROM copies WHERE id=?", &st, NULL) == 0) {
		sqlite3_bind_int64(st, 1, copy_id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			d = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		sqlite3_finalize(st);
	}
	if (!json_is_object(d)) {
		json_decref(d);
		d = json_pack("{s:s}", "scheme", "aes-256-gcm chunks");
	}
	char now[32];
	spif_now_utc(now);
	json_object_set_new(d, "bucket", json_string(bucket));
	json_object_set_new(d, "rekeyed", json_string(now));
	char *s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(d);
	return s;
}

/* Re-encrypt the vault copy copy_id (path, written under data key old_id)
 * under a fresh data key in bucket: a new file (its own name, for its own
 * key id), the copy row pointed at it, the old data key erased as
 * crypto-erase does.  Inside the transaction: until it commits, the
 * catalog still names the old file and holds its key; once it has, the new
 * file and its key.  The old file is left for spif_vault_sweep. */
static int reencrypt(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                     long long copy_id, const char *path, long long old_id, const char *old_bucket,
                     const char *bucket, json_t *log, struct spif_err *err)
{
	struct spif_vault_writer *w;
	char np[PATH_MAX], sha[65];
	long long size;
	if (spif_vault_create(c, conf, file_id, bucket, &w, np, err) < 0)
		return -1;
	/* the old copy is authenticated whole before a byte goes to the new */
	if (spif_vault_read(c, file_id, path, spif_vault_write, w, err) < 0) {
		spif_vault_abort(w);
		return -1;
	}
	if (spif_vault_finish(w, sha, &size, err) < 0)
		return -1;
	long long new_id = spif_vault_copy_key_id(np);
	char *details = rekeyed_details(c, copy_id, bucket);
	sqlite3_stmt *st;
	int rc = -1;
	json_t *what = NULL;
	if (!details) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if (spif_catalog_prepare(c, "UPDATE copies SET path=?, sha256=?, size=?, details=? WHERE id=?", &st,
	                         err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, np, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, size);
	sqlite3_bind_text(st, 4, details, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, copy_id);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		spif_catalog_sqlerr(c, s, "copies", err);
		goto out;
	}
	if (vlt_erase_keys(c, file_id, old_id, &what, err) < 0)
		goto out;
	json_array_append_new(log, json_pack("{s:I,s:{s:s,s:I,s:s},s:{s:s,s:I,s:I}}", "copy", (json_int_t)copy_id,
	                                     "old", "path", path, "key", (json_int_t)old_id, "bucket", old_bucket,
	                                     "new", "path", np, "key", (json_int_t)new_id, "size", (json_int_t)size));
	rc = 0;
out:
	json_decref(what);
	free(details);
	if (rc < 0) { /* its key goes with the rollback: nothing could read it */
		unlink(np);
		spif_fsync_dir_of(np);
	}
	return rc;
}

int spif_vault_rebucket(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                        const char *bucket, json_t **what, struct spif_err *err)
{
	if (what)
		*what = NULL;
	if (!vlt_valid_bucket(bucket))
		return vlt_bad_bucket(bucket, err);
	if (vlt_in_tx(c, "spif_vault_rebucket", err) < 0)
		return -1;
	char fid[24];
	spif_file_id_format(file_id, fid);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT id,bucket,wrapped FROM data_keys WHERE file_id=? ORDER BY id",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	struct row {
		long long id;
		char bucket[64];
		unsigned char wrapped[WRAP_LEN];
		int bad;
	} *rows = NULL;
	struct vcopy {
		long long id, key_id;
		char path[PATH_MAX];
	} *cps = NULL;
	size_t n = 0, cap = 0, ncp = 0;
	int rc, ret = -1;
	json_t *reenc = json_array(), *rewrapped = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 2;
			struct row *v = realloc(rows, cap * sizeof *v);
			if (!v) {
				sqlite3_finalize(st);
				spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
				goto out;
			}
			rows = v;
		}
		struct row *r = &rows[n++];
		memset(r, 0, sizeof *r);
		r->id = sqlite3_column_int64(st, 0);
		vlt_col_copy(st, 1, r->bucket, sizeof r->bucket);
		r->bad = sqlite3_column_bytes(st, 2) != WRAP_LEN;
		if (!r->bad)
			memcpy(r->wrapped, sqlite3_column_blob(st, 2), WRAP_LEN);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		spif_catalog_sqlerr(c, rc, "data_keys", err);
		goto out;
	}
	if (n == 0) {
		spif_err_set(err, SPIF_EX_DATAERR,
		             "%s: no data key (not in the vault, or crypto-erased)", fid);
		goto out;
	}
	/* the vault copies in place, each with the key it was written under */
	if (spif_catalog_prepare(c, "SELECT id,path FROM copies WHERE file_id=? AND kind='vault'"
	                            " AND state='present' ORDER BY id", &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, file_id);
	size_t ccap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (ncp == ccap) {
			ccap = ccap ? ccap * 2 : 2;
			struct vcopy *v = realloc(cps, ccap * sizeof *v);
			if (!v) {
				sqlite3_finalize(st);
				spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
				goto out;
			}
			cps = v;
		}
		struct vcopy *v = &cps[ncp++];
		v->id = sqlite3_column_int64(st, 0);
		vlt_col_copy(st, 1, v->path, sizeof v->path);
		v->key_id = spif_vault_copy_key_id(v->path);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		spif_catalog_sqlerr(c, rc, "copies", err);
		goto out;
	}
	int swept = 0;
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		if (strcmp(r->bucket, bucket) == 0)
			continue;
		struct vcopy *v = NULL;
		for (size_t k = 0; k < ncp && !v; k++)
			if (cps[k].key_id == r->id)
				v = &cps[k];
		if (!v) {
			if (rewrap(c, conf, r->id, r->bucket, r->wrapped, r->bad, bucket, err) < 0)
				goto out;
			json_array_append_new(rewrapped, json_integer(r->id));
			continue;
		}
		/* A fresh data key, not the same one rewrapped: backups of the
		 * catalog taken before the move hold this key wrapped under the
		 * old month's KEK, and must open nothing the vault holds now.
		 * First the leftovers of an earlier attempt that rolled back (no
		 * key opens them), whose names the new file may need. */
		if (!swept++ && spif_vault_sweep(c, file_id, err) < 0)
			goto out;
		if (reencrypt(c, conf, file_id, v->id, v->path, r->id, r->bucket, bucket, reenc, err) < 0) {
			spif_err_prefix(err, "%s: re-encrypting its vault copy for the key of %s", fid, bucket);
			goto out;
		}
	}
	if (what)
		*what = json_pack("{s:s,s:O,s:O}", "bucket", bucket, "reencrypted", reenc, "rewrapped", rewrapped);
	ret = 0;
out:
	json_decref(reenc);
	json_decref(rewrapped);
	if (rows) {
		explicit_bzero(rows, n * sizeof *rows);
		free(rows);
	}
	free(cps);
	return ret;
}
