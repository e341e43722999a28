/* vault.c - see vault.h
 *
 * File format (all integers big-endian):
 *
 *   header H (48 bytes):
 *     0  magic "SPIFVLT1"           8
 *     8  format version (1)         4
 *    12  chunk size (plaintext)     4
 *    16  file id (files.id)         8
 *    24  data key id (data_keys.id) 8
 *    32  salt (random)             16
 *   then chunks i = 0, 1, ...:
 *     ciphertext length L (<= chunk size)  4
 *     ciphertext                           L
 *     GCM tag                             16
 *
 * Chunk i is AES-256-GCM under the file's data key with nonce
 * salt[0..4) || i (8 bytes) and associated data SHA-256(H) || i (8 bytes)
 * || final (1 byte).  Every chunk but the last holds exactly chunk size
 * bytes; the last has final = 1 and may be empty (it is empty when the data
 * is empty or a multiple of the chunk size), so a file cut at a chunk
 * boundary has no final chunk and is detected.
 *
 * Keys: the data key is 32 random bytes, stored only in data_keys.wrapped,
 * AES key wrapped (RFC 3394, 40 bytes) under the KEK of its bucket.  A KEK
 * is 32 random bytes in $SPIF_HOME/keys/kek-BUCKET.key; keks.check_value is
 * HMAC-SHA256(KEK, "spif kek check") cut to 16 bytes, in hex, so that a
 * replaced key file is told apart from a damaged wrapped key.
 *
 * This file is the format itself (writer, reader, header checks, the raw
 * key helpers the recovery test uses); the keks rows, the erase and the
 * move to another month are in vault_kek.c, vault_erase.c and
 * vault_rebucket.c (see vault_priv.h). */
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


static const char AUTH_FAILED[] = "authentication failed (altered, reordered or from another file)";

static int write_all(int fd, const void *buf, size_t n)
{
	return spif_sink_fd(&fd, buf, n);
}

static int gcm_open(gcry_cipher_hd_t *h, const unsigned char dk[KEY_LEN], struct spif_err *err)
{
	gcry_error_t ge = gcry_cipher_open(h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, GCRY_CIPHER_SECURE);
	if (!ge) {
		ge = gcry_cipher_setkey(*h, dk, KEY_LEN);
		if (ge)
			gcry_cipher_close(*h);
	}
	if (ge) {
		*h = NULL;
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: AES-256-GCM: %s", gcry_strerror(ge));
	}
	return 0;
}

/* Nonce and associated data of chunk i. */
static void chunk_params(const unsigned char salt[VLT_SALT], const unsigned char hh[32], uint64_t i,
                         int final, unsigned char nonce[VLT_NONCE], unsigned char aad[VLT_AAD])
{
	memcpy(nonce, salt, 4);
	put_be64(nonce + 4, i);
	memcpy(aad, hh, 32);
	put_be64(aad + 32, i);
	aad[40] = final ? 1 : 0;
}

/* ---- writer --------------------------------------------------------------- */

struct spif_vault_writer {
	struct spif_atomic at;
	gcry_cipher_hd_t gcm;
	unsigned char salt[VLT_SALT];
	unsigned char hh[32];     /* SHA-256 of the header */
	unsigned char *buf;       /* [length 4][chunk][tag 16] */
	size_t fill;              /* plaintext bytes waiting in buf + 4 */
	uint64_t index;           /* next chunk */
	struct spif_sha256 *sha;  /* of the ciphertext file */
	long long size;
	int werrno;               /* the first write error (sticky) */
	char why[256];            /* and what failed */
};

static void writer_free(struct spif_vault_writer *w)
{
	if (w->gcm)
		gcry_cipher_close(w->gcm);
	if (w->buf) {
		explicit_bzero(w->buf, 4 + SPIF_VAULT_CHUNK + VLT_TAG);
		free(w->buf);
	}
	spif_sha256_free(w->sha);
	explicit_bzero(w, sizeof *w);
	free(w);
}

/* Encrypt len bytes of src (which may be buf + 4) as the next chunk and
 * write it.  0 or -1 with w->werrno set. */
static int seal(struct spif_vault_writer *w, const unsigned char *src, size_t len, int final)
{
	unsigned char nonce[VLT_NONCE], aad[VLT_AAD];
	unsigned char *ct = w->buf + 4;
	chunk_params(w->salt, w->hh, w->index, final, nonce, aad);
	gcry_error_t ge = gcry_cipher_setiv(w->gcm, nonce, sizeof nonce);
	if (!ge)
		ge = gcry_cipher_authenticate(w->gcm, aad, sizeof aad);
	if (!ge)
		ge = gcry_cipher_final(w->gcm);
	if (!ge)
		ge = src == ct ? gcry_cipher_encrypt(w->gcm, ct, len, NULL, 0)
		               : gcry_cipher_encrypt(w->gcm, ct, len, src, len);
	if (!ge)
		ge = gcry_cipher_gettag(w->gcm, ct + len, VLT_TAG);
	if (ge) {
		w->werrno = EIO;
		snprintf(w->why, sizeof w->why, "libgcrypt: AES-256-GCM: %s", gcry_strerror(ge));
		return -1;
	}
	put_be32(w->buf, (uint32_t)len);
	size_t n = 4 + len + VLT_TAG;
	if (write_all(w->at.fd, w->buf, n) < 0) {
		w->werrno = errno ? errno : EIO;
		snprintf(w->why, sizeof w->why, "write");
		return -1;
	}
	spif_sha256_update(w->sha, w->buf, n);
	w->size += (long long)n;
	w->index++;
	return 0;
}

int spif_vault_write(void *ctx, const void *buf, size_t n)
{
	struct spif_vault_writer *w = ctx;
	const unsigned char *p = buf;
	if (w->werrno) {
		errno = w->werrno;
		return -1;
	}
	while (n) {
		if (w->fill == 0 && n >= SPIF_VAULT_CHUNK) {
			/* a whole chunk straight from the caller's buffer */
			if (seal(w, p, SPIF_VAULT_CHUNK, 0) < 0)
				goto fail;
			p += SPIF_VAULT_CHUNK;
			n -= SPIF_VAULT_CHUNK;
			continue;
		}
		size_t k = SPIF_VAULT_CHUNK - w->fill;
		if (k > n)
			k = n;
		memcpy(w->buf + 4 + w->fill, p, k);
		w->fill += k;
		p += k;
		n -= k;
		if (w->fill == SPIF_VAULT_CHUNK) {
			if (seal(w, w->buf + 4, SPIF_VAULT_CHUNK, 0) < 0)
				goto fail;
			w->fill = 0;
		}
	}
	return 0;
fail:
	errno = w->werrno;
	return -1;
}

int spif_vault_create(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                      const char *bucket, struct spif_vault_writer **wp, char path[PATH_MAX],
                      struct spif_err *err)
{
	*wp = NULL;
	path[0] = '\0';
	if (!vlt_valid_bucket(bucket))
		return vlt_bad_bucket(bucket, err);
	if (vlt_in_tx(c, "spif_vault_create", err) < 0)
		return -1;
	char fid[24];
	spif_file_id_format(file_id, fid);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT 1 FROM files WHERE id=?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no file %s in the catalog", fid);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "files", err);

	unsigned char dk[KEY_LEN], wrapped[WRAP_LEN];
	(void)mlock(dk, sizeof dk); /* out of swap if allowed */
	struct spif_kek_store *ks;
	struct spif_kek kek;
	if (vlt_store_open(c, conf, &ks, err) < 0)
		return -1;
	rc = vlt_kek_get(c, ks, bucket, 1, &kek, err);
	gcry_randomize(dk, sizeof dk, GCRY_VERY_STRONG_RANDOM);
	if (rc == 0)
		rc = spif_kek_wrap(&kek, dk, wrapped, err);
	spif_kek_forget(&kek);
	spif_kek_store_close(ks);
	if (rc < 0)
		goto fail_key;

	char now[32];
	spif_now_utc(now);
	if (spif_catalog_prepare(c, "INSERT INTO data_keys(file_id,bucket,wrapped,created)"
	                            " VALUES(?,?,?,?)", &st, err) < 0)
		goto fail_key;
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_text(st, 2, bucket, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, wrapped, WRAP_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		spif_catalog_sqlerr(c, rc, "data_keys", err);
		goto fail_key;
	}
	long long dkid = sqlite3_last_insert_rowid(spif_catalog_db(c));

	char dir[PATH_MAX], name[64];
	vlt_join(dir, sizeof dir, spif_catalog_home(c), "vault");
	/* F000001-N.spv, or F000001-N~K.spv when a run killed before its
	 * commit left a file under the ids this one reuses: that file opens
	 * with no key of this catalog, but it is not ours to delete (a
	 * catalog restored from a backup reuses ids too) */
	struct stat ex;
	snprintf(name, sizeof name, "%s-%lld.spv", fid, dkid);
	vlt_join(path, PATH_MAX, dir, name);
	for (int k = 2; path[0] && lstat(path, &ex) == 0 && k < 1000; k++) {
		snprintf(name, sizeof name, "%s-%lld~%d.spv", fid, dkid, k);
		vlt_join(path, PATH_MAX, dir, name);
	}
	if (!dir[0] || !path[0]) {
		spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", spif_catalog_home(c));
		goto fail_key;
	}
	if (spif_home_mkdir(dir, conf, err) < 0)
		goto fail_key;

	struct spif_vault_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->buf = malloc(4 + SPIF_VAULT_CHUNK + VLT_TAG)) || !(w->sha = spif_sha256_new())) {
		if (w)
			writer_free(w);
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto fail_key;
	}
	w->at.fd = -1;
	if (gcm_open(&w->gcm, dk, err) < 0) {
		writer_free(w);
		goto fail_key;
	}
	explicit_bzero(dk, sizeof dk);
	explicit_bzero(wrapped, sizeof wrapped);

	unsigned char h[VLT_HDR];
	memcpy(h, VLT_MAGIC, 8);
	put_be32(h + 8, VLT_VERSION);
	put_be32(h + 12, SPIF_VAULT_CHUNK);
	put_be64(h + 16, (uint64_t)file_id);
	put_be64(h + 24, (uint64_t)dkid);
	gcry_randomize(w->salt, VLT_SALT, GCRY_STRONG_RANDOM);
	memcpy(h + 32, w->salt, VLT_SALT);
	gcry_md_hash_buffer(GCRY_MD_SHA256, w->hh, h, sizeof h);

	if (spif_atomic_open_home(&w->at, path, spif_file_mode(conf), err) < 0) {
		writer_free(w);
		path[0] = '\0';
		return -1;
	}
	if (write_all(w->at.fd, h, sizeof h) < 0) {
		int e = errno;
		spif_err_sys(err, spif_exit_for_errno(e) == SPIF_EX_NOPERM ? SPIF_EX_NOPERM : SPIF_EX_IOERR,
		             e, "%s", path);
		spif_vault_abort(w);
		path[0] = '\0';
		return -1;
	}
	spif_sha256_update(w->sha, h, sizeof h);
	w->size = sizeof h;
	*wp = w;
	return 0;
fail_key:
	explicit_bzero(dk, sizeof dk);
	explicit_bzero(wrapped, sizeof wrapped);
	path[0] = '\0';
	return -1;
}

int spif_vault_finish(struct spif_vault_writer *w, char sha256[65], long long *size,
                      struct spif_err *err)
{
	if (!w->werrno)
		seal(w, w->buf + 4, w->fill, 1);
	w->fill = 0;
	if (w->werrno) {
		if (strcmp(w->why, "write") == 0)
			spif_err_sys(err, w->werrno == ENOSPC || w->werrno == EDQUOT ? SPIF_EX_IOERR
			             : spif_exit_for_errno(w->werrno), w->werrno, "%s", w->at.path);
		else
			spif_err_set(err, SPIF_EX_SOFTWARE, "%s: %s", w->at.path, w->why);
		spif_vault_abort(w);
		return -1;
	}
	if (spif_atomic_commit(&w->at, err) < 0) {
		spif_vault_abort(w);
		return -1;
	}
	spif_sha256_hex(w->sha, sha256);
	if (size)
		*size = w->size;
	writer_free(w);
	return 0;
}

void spif_vault_abort(struct spif_vault_writer *w)
{
	if (!w)
		return;
	spif_atomic_abort(&w->at);
	writer_free(w);
}

/* ---- reader --------------------------------------------------------------- */

/* How many data keys file_id has: >= 0, or -1 with err. */
static long long count_keys(struct spif_catalog *c, long long file_id, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT count(*) FROM data_keys WHERE file_id=?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int rc = sqlite3_step(st);
	long long n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	if (n < 0)
		return spif_catalog_sqlerr(c, rc, "data_keys", err);
	return n;
}

static int erased(const char *fid, struct spif_err *err)
{
	return spif_err_set(err, SPIF_EX_DATAERR, "%s: its data key was destroyed (crypto-erased)", fid);
}

struct vault_rd {
	int fd;
	const char *path;
	gcry_cipher_hd_t gcm;
	unsigned char salt[VLT_SALT];
	unsigned char hh[32];
	uint32_t chunk;
	unsigned char *ct; /* chunk + tag */
	unsigned char *pt; /* chunk */
};

/* Decrypt chunk i (len bytes in r->ct) into r->pt and check its tag as
 * final or not.  0 when authentic, 1 when not, -1 on a libgcrypt error. */
static int open_chunk(struct vault_rd *r, uint64_t i, size_t len, int final)
{
	unsigned char nonce[VLT_NONCE], aad[VLT_AAD];
	chunk_params(r->salt, r->hh, i, final, nonce, aad);
	gcry_error_t ge = gcry_cipher_setiv(r->gcm, nonce, sizeof nonce);
	if (!ge)
		ge = gcry_cipher_authenticate(r->gcm, aad, sizeof aad);
	if (!ge)
		ge = gcry_cipher_final(r->gcm);
	if (!ge)
		ge = gcry_cipher_decrypt(r->gcm, r->pt, len, r->ct, len);
	if (ge)
		return -1;
	ge = gcry_cipher_checktag(r->gcm, r->ct + len, VLT_TAG);
	if (gcry_err_code(ge) == GPG_ERR_CHECKSUM) {
		explicit_bzero(r->pt, len);
		return 1;
	}
	return ge ? -1 : 0;
}

/* One pass over the chunks: authenticate each (and emit it when fn). */
static int vault_pass(struct vault_rd *r, spif_sink_fn fn, void *ctx, struct spif_err *err)
{
	if (lseek(r->fd, VLT_HDR, SEEK_SET) < 0)
		return spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", r->path);
	unsigned char len4[4];
	ssize_t k = read_full(r->fd, len4, 4);
	if (k < 0)
		return spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", r->path);
	if (k == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: truncated: no final chunk", r->path);
	for (uint64_t i = 0;; i++) {
		if (k < 4)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: chunk %llu: truncated", r->path,
			                    (unsigned long long)i);
		uint32_t len = get_be32(len4);
		if (len > r->chunk)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: chunk %llu: bad length %lu (altered)",
			                    r->path, (unsigned long long)i, (unsigned long)len);
		k = read_full(r->fd, r->ct, (size_t)len + VLT_TAG);
		if (k < 0)
			return spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", r->path);
		if ((size_t)k < (size_t)len + VLT_TAG)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: chunk %llu: truncated", r->path,
			                    (unsigned long long)i);
		/* look ahead: the last chunk in the file must be the final one */
		k = read_full(r->fd, len4, 4);
		if (k < 0)
			return spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", r->path);
		int last = k == 0;
		int rc = open_chunk(r, i, len, last);
		if (rc == 1 && open_chunk(r, i, len, !last) == 0) {
			explicit_bzero(r->pt, len);
			if (last)
				return spif_err_set(err, SPIF_EX_DATAERR, "%s: truncated: no final chunk", r->path);
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: chunk %llu: data after the final chunk",
			                    r->path, (unsigned long long)i);
		}
		if (rc == 1)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: chunk %llu: %s", r->path,
			                    (unsigned long long)i, AUTH_FAILED);
		if (rc < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: chunk %llu: libgcrypt error", r->path,
			                    (unsigned long long)i);
		if (!last && len != r->chunk) {
			explicit_bzero(r->pt, len);
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: chunk %llu: short chunk before the end",
			                    r->path, (unsigned long long)i);
		}
		if (fn && len && fn(ctx, r->pt, len) < 0) {
			int e = errno;
			explicit_bzero(r->pt, len);
			return spif_err_sys(err, e == ENOSPC ? SPIF_EX_IOERR : spif_exit_for_errno(e), e,
			                    "%s: writing its contents", r->path);
		}
		explicit_bzero(r->pt, len);
		if (last)
			return 0;
	}
}

static int vault_read(struct spif_catalog *c, struct spif_kek_store *given, long long file_id, const char *path,
                      int passes, spif_sink_fn fn, void *ctx, struct spif_err *err);

int spif_vault_read(struct spif_catalog *c, long long file_id, const char *path, spif_sink_fn fn,
                    void *ctx, struct spif_err *err)
{
	return vault_read(c, NULL, file_id, path, 2, fn, ctx, err);
}

int spif_vault_read_once(struct spif_catalog *c, long long file_id, const char *path, spif_sink_fn fn,
                         void *ctx, struct spif_err *err)
{
	return vault_read(c, NULL, file_id, path, 1, fn, ctx, err);
}

int spif_vault_read_with(struct spif_catalog *c, struct spif_kek_store *ks, long long file_id, const char *path,
                         spif_sink_fn fn, void *ctx, struct spif_err *err)
{
	return vault_read(c, ks, file_id, path, 2, fn, ctx, err);
}

static int vault_read(struct spif_catalog *c, struct spif_kek_store *given, long long file_id, const char *path,
                      int passes, spif_sink_fn fn, void *ctx, struct spif_err *err)
{
	struct spif_kek_store *ks = given;
	struct spif_kek kek = {0};
	char fid[24];
	spif_file_id_format(file_id, fid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT) {
			long long n = count_keys(c, file_id, err);
			if (n < 0)
				return -1;
			if (n == 0)
				return erased(fid, err);
		}
		return spif_err_sys(err, spif_exit_for_errno(e), e, "%s", path);
	}
	struct vault_rd r = {.fd = fd, .path = path};
	unsigned char h[VLT_HDR], dk[KEY_LEN];
	(void)mlock(dk, sizeof dk); /* out of swap if allowed */
	int ret = -1;
	sqlite3_stmt *st = NULL;
	ssize_t k = read_full(fd, h, sizeof h);
	if (k < 0) {
		spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", path);
		goto out;
	}
	if (k < VLT_HDR || memcmp(h, VLT_MAGIC, 8) != 0) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s: not a spif vault file", path);
		goto out;
	}
	if (get_be32(h + 8) != VLT_VERSION) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s: vault format version %lu is not one this spif reads",
		             path, (unsigned long)get_be32(h + 8));
		goto out;
	}
	r.chunk = get_be32(h + 12);
	if (r.chunk == 0 || r.chunk > VLT_CHUNK_MAX) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s: damaged header (chunk size %lu)", path,
		             (unsigned long)r.chunk);
		goto out;
	}
	uint64_t hfile = get_be64(h + 16), dkid = get_be64(h + 24);
	memcpy(r.salt, h + 32, VLT_SALT);
	gcry_md_hash_buffer(GCRY_MD_SHA256, r.hh, h, sizeof h);
	if (hfile != (uint64_t)file_id) {
		char other[24];
		spif_file_id_format((long long)(hfile & 0x7fffffffffffffffULL), other);
		spif_err_set(err, SPIF_EX_DATAERR, "%s: this vault file belongs to %s, not %s", path, other,
		             fid);
		goto out;
	}

	if (spif_catalog_prepare(c, "SELECT file_id,bucket,wrapped FROM data_keys WHERE id=?", &st,
	                         err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)dkid);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		long long n = count_keys(c, file_id, err);
		if (n == 0)
			erased(fid, err);
		else if (n > 0)
			spif_err_set(err, SPIF_EX_DATAERR,
			             "%s: its data key (%llu) is not in the catalog: destroyed, or a vault "
			             "file from another catalog", path, (unsigned long long)dkid);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		spif_catalog_sqlerr(c, rc, "data_keys", err);
		goto out;
	}
	if (sqlite3_column_int64(st, 0) != file_id) {
		char other[24];
		spif_file_id_format(sqlite3_column_int64(st, 0), other);
		spif_err_set(err, SPIF_EX_DATAERR, "%s: its data key (%llu) belongs to %s, not %s", path,
		             (unsigned long long)dkid, other, fid);
		goto out;
	}
	char bucket[64];
	vlt_col_copy(st, 1, bucket, sizeof bucket);
	if (!ks && vlt_store_open(c, NULL, &ks, err) < 0)
		goto out;
	if (vlt_kek_get(c, ks, bucket, 0, &kek, err) < 0)
		goto out;
	rc = spif_kek_unwrap(&kek, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), dk, err);
	spif_kek_forget(&kek);
	if (rc < 0)
		goto out;
	if (rc == 1) {
		struct kek_row kr;
		char kp[PATH_MAX];
		if (vlt_kek_lookup(c, bucket, &kr, err) < 0)
			goto out;
		vlt_kek_where(ks, bucket, &kr, kp);
		spif_err_set(err, SPIF_EX_DATAERR,
		             "key for %s does not match the catalog: data key %llu does not unwrap under %s",
		             bucket, (unsigned long long)dkid, kp);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = gcm_open(&r.gcm, dk, err);
	explicit_bzero(dk, sizeof dk);
	if (rc < 0)
		goto out;
	r.ct = malloc((size_t)r.chunk + VLT_TAG);
	r.pt = malloc(r.chunk);
	if (!r.ct || !r.pt) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	/* pass 1 authenticates everything; pass 2 (which checks again, in case
	 * the file changed meanwhile) emits.  A caller whose output has no
	 * name until the reading succeeded asks for the second alone. */
	if ((passes > 1 && vault_pass(&r, NULL, NULL, err) < 0) || vault_pass(&r, fn, ctx, err) < 0)
		goto out;
	ret = 0;
out:
	if (st)
		sqlite3_finalize(st);
	if (r.gcm)
		gcry_cipher_close(r.gcm);
	if (r.pt) {
		explicit_bzero(r.pt, r.chunk);
		free(r.pt);
	}
	free(r.ct);
	spif_kek_forget(&kek);
	if (ks != given)
		spif_kek_store_close(ks);
	explicit_bzero(dk, sizeof dk);
	close(fd);
	return ret;
}

/* Read a vault file's header: 0 with its file id and data key id, or -1. */
static int read_header(const char *path, long long *file_id, long long *key_id)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	unsigned char h[VLT_HDR];
	ssize_t k = read_full(fd, h, sizeof h);
	close(fd);
	if (k < VLT_HDR || memcmp(h, VLT_MAGIC, 8) != 0)
		return -1;
	*file_id = (long long)get_be64(h + 16);
	*key_id = (long long)get_be64(h + 24);
	return 0;
}

int spif_vault_sweep(struct spif_catalog *c, long long file_id, struct spif_err *err)
{
	char dir[PATH_MAX], fid[24], prefix[32];
	vlt_join(dir, sizeof dir, spif_catalog_home(c), "vault");
	spif_file_id_format(file_id, fid);
	int plen = snprintf(prefix, sizeof prefix, "%s-", fid);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", dir);
	}
	int removed = 0, ret = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		/* final names only: a hidden temporary may be another run's,
		 * still being written */
		if (strncmp(de->d_name, prefix, (size_t)plen) != 0 || l < 5 || strcmp(de->d_name + l - 4, ".spv") != 0)
			continue;
		char p[PATH_MAX];
		long long hf, hk;
		vlt_join(p, sizeof p, dir, de->d_name);
		if (!p[0] || read_header(p, &hf, &hk) < 0 || hf != file_id)
			continue; /* not one of its vault files: not ours to judge */
		sqlite3_stmt *st;
		if (spif_catalog_prepare(c, "SELECT EXISTS(SELECT 1 FROM data_keys WHERE id=?)", &st, err) < 0) {
			ret = -1;
			break;
		}
		sqlite3_bind_int64(st, 1, hk);
		int rc = sqlite3_step(st);
		int has_key = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
		sqlite3_finalize(st);
		if (has_key < 0) {
			ret = spif_catalog_sqlerr(c, rc, "data_keys", err);
			break;
		}
		if (has_key)
			continue;
		if (unlink(p) < 0 && errno != ENOENT) {
			ret = spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s: unlink", p);
			break;
		}
		removed++;
	}
	closedir(d);
	if (removed && vlt_fsync_path(dir, O_DIRECTORY) < 0 && ret == 0)
		ret = spif_err_sys(err, SPIF_EX_IOERR, errno, "%s: fsync", dir);
	return ret < 0 ? -1 : removed;
}

size_t spif_vault_wrapped_keys(struct spif_catalog *c, long long file_id, long long key_id,
                               unsigned char keys[][40], size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;
	if (spif_catalog_prepare(c, "SELECT wrapped FROM data_keys WHERE file_id = ? AND (?2 = 0 OR id = ?2)",
	                         &st, NULL) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_int64(st, 2, key_id);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) == 40)
			memcpy(keys[n++], sqlite3_column_blob(st, 0), 40);
	sqlite3_finalize(st);
	return n;
}

int spif_vault_keys_gone(struct spif_catalog *c, unsigned char keys[][40], size_t n)
{
	return !spif_catalog_files_contain(c, (const unsigned char (*)[40])keys, n);
}

long long spif_vault_copy_key_id(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	unsigned char h[VLT_HDR];
	ssize_t k = read_full(fd, h, sizeof h);
	close(fd);
	if (k < VLT_HDR || memcmp(h, VLT_MAGIC, 8) != 0)
		return -1;
	return (long long)get_be64(h + 24);
}

/* ---- the vault format, for forensic checks ------------------------------ */

int spif_vault_unwrap_raw(const unsigned char kek[32], const unsigned char wrapped[40], unsigned char dk[32])
{
	gcry_cipher_hd_t h;
	if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_AESWRAP, GCRY_CIPHER_SECURE))
		return 1;
	int rc = gcry_cipher_setkey(h, kek, 32) || gcry_cipher_decrypt(h, dk, 32, wrapped, 40) ? 1 : 0;
	gcry_cipher_close(h);
	if (rc)
		explicit_bzero(dk, 32);
	return rc;
}

int spif_vault_try_key(const unsigned char dk[32], const unsigned char *buf, size_t n, unsigned char *pt,
                       size_t *ptn)
{
	if (n < VLT_HDR + 4 + VLT_TAG || memcmp(buf, VLT_MAGIC, 8) != 0 || get_be32(buf + 8) != VLT_VERSION)
		return 0;
	uint32_t chunk = get_be32(buf + 12), len = get_be32(buf + VLT_HDR);
	if (chunk == 0 || chunk > VLT_CHUNK_MAX || len > chunk || VLT_HDR + 4 + (size_t)len + VLT_TAG > n)
		return 0;
	struct vault_rd r = {.fd = -1, .chunk = chunk};
	memcpy(r.salt, buf + 32, VLT_SALT);
	gcry_md_hash_buffer(GCRY_MD_SHA256, r.hh, buf, VLT_HDR);
	r.ct = malloc((size_t)len + VLT_TAG);
	r.pt = malloc(len ? len : 1);
	int ok = 0;
	if (r.ct && r.pt && gcm_open(&r.gcm, dk, NULL) == 0) {
		memcpy(r.ct, buf + VLT_HDR + 4, (size_t)len + VLT_TAG);
		/* the first chunk, whether or not it is also the last */
		ok = open_chunk(&r, 0, len, 0) == 0 || open_chunk(&r, 0, len, 1) == 0;
		if (ok && pt && ptn) {
			size_t k = len < *ptn ? len : *ptn;
			memcpy(pt, r.pt, k);
			*ptn = k;
		}
		gcry_cipher_close(r.gcm);
	}
	if (r.pt)
		explicit_bzero(r.pt, len);
	free(r.pt);
	free(r.ct);
	return ok;
}
