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
 * replaced key file is told apart from a damaged wrapped key. */
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
#include "digest.h"
#include "kek.h"
#include "pgp.h"

#define VLT_MAGIC "SPIFVLT1"
#define VLT_VERSION 1u
#define VLT_HDR 48
#define VLT_SALT 16
#define VLT_TAG 16
#define VLT_NONCE 12
#define VLT_AAD (32 + 8 + 1)
#define VLT_CHUNK_MAX (64u << 20) /* largest chunk size a reader accepts */
#define KEY_LEN 32
#define WRAP_LEN 40

static const char AUTH_FAILED[] = "authentication failed (altered, reordered or from another file)";

/* ---- small helpers -------------------------------------------------------- */

static void put_be32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* All n bytes or -1 with errno: the one write loop is spif_sink_fd. */
static int write_all(int fd, const void *buf, size_t n)
{
	return spif_sink_fd(&fd, buf, n);
}

/* Read up to n bytes; fewer only at end of file.  -1 with errno. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int in_tx(struct spif_catalog *c, const char *fn, struct spif_err *err)
{
	if (sqlite3_get_autocommit(spif_catalog_db(c)))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: must be called inside a transaction", fn);
	return 0;
}

/* "indefinite" or "YYYY-MM". */
static int valid_bucket(const char *b)
{
	if (!b)
		return 0;
	if (strcmp(b, "indefinite") == 0)
		return 1;
	if (strlen(b) != 7 || b[4] != '-')
		return 0;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (b[i] < '0' || b[i] > '9'))
			return 0;
	int month = (b[5] - '0') * 10 + (b[6] - '0');
	return b[0] != '0' && month >= 1 && month <= 12;
}

static int bad_bucket(const char *b, struct spif_err *err)
{
	return spif_err_set(err, SPIF_EX_USAGE,
	                    "bad key bucket \"%.64s\": expected a disposal month YYYY-MM or \"indefinite\"",
	                    b ? b : "(null)");
}

static void join(char *out, size_t n, const char *a, const char *b)
{
	int k = snprintf(out, n, "%s/%s", a, b);
	if (k < 0 || (size_t)k >= n)
		out[0] = '\0';
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* ---- key-encryption keys (where they live: kek.c) ------------------------ */

struct kek_row {
	int found;
	char key_file[PATH_MAX]; /* the KEK's reference (kek.h), as stored */
	char check[SPIF_KEK_CHECK_HEX];
	char created[32];
	char destroyed[32];  /* "" while the KEK exists */
	char custodian[256]; /* "" when none */
	int gen;             /* its generation, from the reference */
};

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, n, "%s", t ? (const char *)t : "");
}

static int ref_gen(const char *ref)
{
	char b[64];
	int gen, tok;
	return spif_kek_parse_ref(ref, b, &gen, &tok) == 0 ? gen : 1;
}

static int kek_lookup(struct spif_catalog *c, const char *bucket, struct kek_row *r,
                      struct spif_err *err)
{
	sqlite3_stmt *st;
	memset(r, 0, sizeof *r);
	if (spif_catalog_cached(c, "SELECT key_file,check_value,created,destroyed,custodian"
	                           " FROM keks WHERE bucket=?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->found = 1;
		col_copy(st, 0, r->key_file, sizeof r->key_file);
		col_copy(st, 1, r->check, sizeof r->check);
		col_copy(st, 2, r->created, sizeof r->created);
		col_copy(st, 3, r->destroyed, sizeof r->destroyed);
		col_copy(st, 4, r->custodian, sizeof r->custodian);
		r->gen = ref_gen(r->key_file);
	}
	spif_catalog_release(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "keks", err);
	return 0;
}

/* Where the KEK of a row is, for messages and certificates: the key
 * file's full path, or the token object. */
static void kek_where(struct spif_kek_store *ks, const char *bucket, const struct kek_row *r, char out[PATH_MAX])
{
	char ref[PATH_MAX];
	if (r && r->found && r->key_file[0])
		snprintf(ref, sizeof ref, "%s", r->key_file);
	else
		spif_kek_ref(ks, bucket, 1, ref);
	spif_kek_where(ks, ref, out, PATH_MAX);
}

/* Does any data key still use bucket?  1, 0, or -1 with err. */
static int bucket_in_use(struct spif_catalog *c, const char *bucket, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT EXISTS(SELECT 1 FROM data_keys WHERE bucket=?)", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	int used = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	spif_catalog_release(st);
	if (used < 0)
		return spif_catalog_sqlerr(c, rc, "data_keys", err);
	return used;
}

struct maxgen {
	const char *bucket;
	int max;
};

static int maxgen_fn(void *ctx, const char *bucket, int gen, const char *ref)
{
	(void)ref;
	struct maxgen *m = ctx;
	if (strcmp(bucket, m->bucket) == 0 && gen > m->max)
		m->max = gen;
	return 0;
}

/* The generation a new KEK of bucket gets: past the row's and past every
 * key of that bucket the store holds (a leftover of a run killed before
 * its commit, or a newer catalog's key that an older one restored here
 * must not take over). */
static int next_gen(struct spif_kek_store *ks, const char *bucket, const struct kek_row *r, struct spif_err *err)
{
	struct maxgen m = {bucket, r && r->found ? r->gen : 0};
	if (spif_kek_list(ks, maxgen_fn, &m, err) < 0)
		return -1;
	return m.max + 1;
}

/* The custodian's copy of a KEK (armored OpenPGP): *wrapped malloc'd,
 * custodian its fingerprint.  Nothing when none is configured. */
static int escrow_wrap(const struct spif_conf *conf, const char *bucket, const unsigned char key[SPIF_KEK_LEN],
                       char **wrapped, size_t *wrappedn, char custodian[256], struct spif_err *err)
{
	*wrapped = NULL;
	*wrappedn = 0;
	custodian[0] = '\0';
	if (!conf || !conf->custodian_key[0])
		return 0;
	const char *rcpt = conf->custodian_key;
	char fprs[1][41];
	memset(fprs, 0, sizeof fprs);
	struct spif_pgp_enc e = {.recipients = &rcpt, .nrecipients = 1, .armor = 1, .fprs = fprs};
	if (spif_pgp_encrypt_buf(key, SPIF_KEK_LEN, &e, wrapped, wrappedn, err) < 0) {
		spif_err_prefix(err, "wrapping the key for %s to the custodian %s", bucket, conf->custodian_key);
		return -1;
	}
	snprintf(custodian, 256, "%s", fprs[0][0] ? fprs[0] : conf->custodian_key);
	return 0;
}

/* Write bucket's keks row for the KEK ref (inserted, or replacing the
 * row of a KEK destroyed, lost, or being replaced). */
static int kek_row_put(struct spif_catalog *c, const char *bucket, const char *ref, const char *check,
                       const char *custodian, const char *wrapped, size_t wrappedn, struct spif_err *err)
{
	char now[32];
	spif_now_utc(now);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c,
	        "INSERT INTO keks(bucket,created,key_file,check_value,custodian,custodian_wrapped,destroyed)"
	        " VALUES(?1,?2,?3,?4,?5,?6,NULL) ON CONFLICT(bucket) DO UPDATE SET"
	        " created=?2, key_file=?3, check_value=?4, custodian=?5, custodian_wrapped=?6,"
	        " destroyed=NULL", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, ref, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, check, -1, SQLITE_TRANSIENT);
	if (custodian && custodian[0]) {
		sqlite3_bind_text(st, 5, custodian, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, wrapped, (int)wrappedn, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(st, 5);
		sqlite3_bind_null(st, 6);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "keks", err);
	return 0;
}

/* Make a new KEK for bucket, generation gen: the custodian's copy first
 * (nothing is made when it fails), the key in the store, the keks row.
 * When adopt is set, k is an existing key (ref) that has no row yet. */
static int kek_make(struct spif_catalog *c, struct spif_kek_store *ks, const char *bucket, int gen,
                    int adopt, const char *adopt_ref, struct spif_kek *k, struct spif_err *err)
{
	const struct spif_conf *conf = spif_kek_store_conf(ks);
	char *wrapped = NULL, custodian[256], ref[PATH_MAX], check[SPIF_KEK_CHECK_HEX];
	size_t wrappedn = 0;
	int made = 0;
	if (adopt) {
		snprintf(ref, sizeof ref, "%s", adopt_ref);
		if (spif_kek_check(k, check, err) < 0)
			goto fail;
		if (!k->token && escrow_wrap(conf, bucket, k->key, &wrapped, &wrappedn, custodian, err) < 0)
			goto fail;
	} else {
		/* escrowed: the key exists outside the store once, to be wrapped
		 * to the custodian (a token then imports it); else the store makes
		 * it (a token inside itself) */
		unsigned char v[SPIF_KEK_LEN];
		int esc = conf->custodian_key[0] != 0;
		if (esc) {
			if (spif_kek_random(v, sizeof v, err) < 0 ||
			    escrow_wrap(conf, bucket, v, &wrapped, &wrappedn, custodian, err) < 0) {
				explicit_bzero(v, sizeof v);
				goto fail;
			}
		} else
			custodian[0] = '\0';
		int rc = spif_kek_create(ks, bucket, gen, esc ? v : NULL, k, ref, check, err);
		explicit_bzero(v, sizeof v);
		if (rc < 0)
			goto fail;
		made = 1;
	}
	if (kek_row_put(c, bucket, ref, check, custodian, wrapped, wrappedn, err) < 0)
		goto fail;
	free(wrapped);
	return 0;
fail:
	/* a key no data key was ever wrapped under: nothing to account for */
	if (made) {
		struct spif_err e2 = {0};
		spif_kek_destroy(ks, ref, NULL, &e2);
	}
	free(wrapped);
	spif_kek_forget(k);
	return -1;
}

/* The KEK of bucket into k.  create: make it when missing (or when its
 * key is gone and no data key uses it).  Errors name where the key is. */
static int kek_get(struct spif_catalog *c, struct spif_kek_store *ks, const char *bucket, int create,
                   struct spif_kek *k, struct spif_err *err)
{
	struct kek_row r;
	char ref[PATH_MAX], where[PATH_MAX];
	memset(k, 0, sizeof *k);
	if (kek_lookup(c, bucket, &r, err) < 0)
		return -1;
	if (r.found && r.destroyed[0]) {
		if (create) {
			int g = next_gen(ks, bucket, &r, err);
			return g < 0 ? -1 : kek_make(c, ks, bucket, g, 0, NULL, k, err);
		}
		return spif_err_set(err, SPIF_EX_DATAERR, "key for %s was destroyed on %s (crypto-erased)",
		                    bucket, r.destroyed);
	}
	if (r.found && r.key_file[0])
		snprintf(ref, sizeof ref, "%s", r.key_file);
	else
		spif_kek_ref(ks, bucket, 1, ref);
	int rc = spif_kek_load(ks, bucket, ref, r.found ? r.check : NULL, k, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (create) {
			int used = r.found ? bucket_in_use(c, bucket, err) : 0;
			if (used < 0)
				return -1;
			if (!used) { /* lost while it protected nothing: make another */
				int g = next_gen(ks, bucket, &r, err);
				return g < 0 ? -1 : kek_make(c, ks, bucket, g, 0, NULL, k, err);
			}
		}
		spif_kek_where(ks, ref, where, sizeof where);
		return spif_err_set(err, SPIF_EX_NOINPUT, "key for %s is missing: %s", bucket, where);
	}
	if (!r.found) {
		if (!create) {
			spif_kek_forget(k);
			spif_kek_where(ks, ref, where, sizeof where);
			return spif_err_set(err, SPIF_EX_DATAERR, "key for %s is not in the catalog: %s", bucket, where);
		}
		/* a key with no row (its transaction rolled back, or the catalog
		 * was restored): keep using it rather than replace it */
		return kek_make(c, ks, bucket, k->gen, 1, ref, k, err);
	}
	return 0;
}

/* The KEK store for c's home: conf's (NULL: spif.conf read again). */
static int store_open(struct spif_catalog *c, const struct spif_conf *conf, struct spif_kek_store **ks,
                      struct spif_err *err)
{
	return spif_kek_store_open(conf, spif_catalog_home(c), ks, err);
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
	if (!valid_bucket(bucket))
		return bad_bucket(bucket, err);
	if (in_tx(c, "spif_vault_create", err) < 0)
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
	if (store_open(c, conf, &ks, err) < 0)
		return -1;
	rc = kek_get(c, ks, bucket, 1, &kek, err);
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
	join(dir, sizeof dir, spif_catalog_home(c), "vault");
	/* F000001-N.spv, or F000001-N~K.spv when a run killed before its
	 * commit left a file under the ids this one reuses: that file opens
	 * with no key of this catalog, but it is not ours to delete (a
	 * catalog restored from a backup reuses ids too) */
	struct stat ex;
	snprintf(name, sizeof name, "%s-%lld.spv", fid, dkid);
	join(path, PATH_MAX, dir, name);
	for (int k = 2; path[0] && lstat(path, &ex) == 0 && k < 1000; k++) {
		snprintf(name, sizeof name, "%s-%lld~%d.spv", fid, dkid, k);
		join(path, PATH_MAX, dir, name);
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
                      spif_sink_fn fn, void *ctx, struct spif_err *err);

int spif_vault_read(struct spif_catalog *c, long long file_id, const char *path, spif_sink_fn fn,
                    void *ctx, struct spif_err *err)
{
	return vault_read(c, NULL, file_id, path, fn, ctx, err);
}

int spif_vault_read_with(struct spif_catalog *c, struct spif_kek_store *ks, long long file_id, const char *path,
                         spif_sink_fn fn, void *ctx, struct spif_err *err)
{
	return vault_read(c, ks, file_id, path, fn, ctx, err);
}

static int vault_read(struct spif_catalog *c, struct spif_kek_store *given, long long file_id, const char *path,
                      spif_sink_fn fn, void *ctx, struct spif_err *err)
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
	col_copy(st, 1, bucket, sizeof bucket);
	if (!ks && store_open(c, NULL, &ks, err) < 0)
		goto out;
	if (kek_get(c, ks, bucket, 0, &kek, err) < 0)
		goto out;
	rc = spif_kek_unwrap(&kek, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), dk, err);
	spif_kek_forget(&kek);
	if (rc < 0)
		goto out;
	if (rc == 1) {
		struct kek_row kr;
		char kp[PATH_MAX];
		if (kek_lookup(c, bucket, &kr, err) < 0)
			goto out;
		kek_where(ks, bucket, &kr, kp);
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
	 * the file changed meanwhile) emits */
	if (vault_pass(&r, NULL, NULL, err) < 0 || vault_pass(&r, fn, ctx, err) < 0)
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
		join(out, PATH_MAX, spif_catalog_home(c), ref);
}

static int erase_keys(struct spif_catalog *c, long long file_id, long long key_id, json_t **what,
                      struct spif_err *err)
{
	*what = NULL;
	if (in_tx(c, "spif_vault_erase_key", err) < 0)
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
		col_copy(st, 1, bucket, sizeof bucket);
		json_array_append_new(keys, json_pack("{s:I,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0),
		                                      "bucket", bucket));
		if (json_object_get(seen, bucket))
			continue;
		json_object_set_new(seen, bucket, json_true());
		struct kek_row kr;
		memset(&kr, 0, sizeof kr);
		kr.found = sqlite3_column_type(st, 2) != SQLITE_NULL;
		col_copy(st, 2, kr.key_file, sizeof kr.key_file);
		col_copy(st, 3, kr.destroyed, sizeof kr.destroyed);
		col_copy(st, 4, kr.custodian, sizeof kr.custodian);
		col_copy(st, 5, kr.created, sizeof kr.created);
		char ref[PATH_MAX], kp[PATH_MAX];
		if (kr.found && kr.key_file[0])
			snprintf(ref, sizeof ref, "%s", kr.key_file);
		else
			snprintf(ref, sizeof ref, "keys/kek-%s.key", bucket);
		ref_where(c, ref, kp);
		struct stat sb;
		int token = strncmp(ref, "pkcs11:", 7) == 0;
		int exists = kr.found && !kr.destroyed[0] && (token || stat(kp, &sb) == 0);
		json_t *k = json_pack("{s:s,s:i,s:s,s:b}", "bucket", bucket, "generation", ref_gen(ref), "key_file", kp,
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
	return erase_keys(c, file_id, 0, what, err);
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
	if (erase_keys(c, file_id, key_id, what, err) < 0)
		return -1;
	/* one copy's key: its month's KEK is replaced here (see vault.h) */
	struct spif_kek_store *ks;
	json_t *set = json_object(), *rot = NULL;
	erased_buckets(*what, set);
	int rc = store_open(c, NULL, &ks, err);
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

struct dk {
	long long id;
	unsigned char w[WRAP_LEN];
	int bad;
};

/* Replace bucket's KEK (row r): a new generation made, every data key of
 * the bucket rewrapped under it, the row pointed at it.  Appended to log. */
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
	struct dk *v = NULL;
	size_t n = 0, cap = 0, bad = 0;
	int ret = -1, made = 0;
	sqlite3_stmt *st;
	char newref[PATH_MAX] = "";
	if (spif_catalog_cached(c, "SELECT id, wrapped FROM data_keys WHERE bucket=?", &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			struct dk *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				spif_catalog_release(st);
				spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
				goto out;
			}
			v = nv;
		}
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].bad = sqlite3_column_bytes(st, 1) != WRAP_LEN;
		if (!v[n].bad)
			memcpy(v[n].w, sqlite3_column_blob(st, 1), WRAP_LEN);
		n++;
	}
	spif_catalog_release(st);
	if (rc != SQLITE_DONE) {
		spif_catalog_sqlerr(c, rc, "data_keys", err);
		goto out;
	}
	int gen = next_gen(ks, bucket, r, err);
	if (gen < 0 || kek_make(c, ks, bucket, gen, 0, NULL, &nw, err) < 0)
		goto out;
	made = 1;
	spif_kek_ref(ks, bucket, gen, newref);
	if (spif_catalog_cached(c, "UPDATE data_keys SET wrapped=? WHERE id=?", &st, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		unsigned char dk[KEY_LEN], w[WRAP_LEN];
		/* a key that does not unwrap opened nothing before: it stays as it
		 * is, and opens nothing after */
		int u = v[i].bad ? 1 : spif_kek_unwrap(&old, v[i].w, WRAP_LEN, dk, err);
		if (u < 0) {
			spif_catalog_release(st);
			goto out;
		}
		if (u == 1) {
			bad++;
			continue;
		}
		u = spif_kek_wrap(&nw, dk, w, err);
		explicit_bzero(dk, sizeof dk);
		if (u < 0) {
			spif_catalog_release(st);
			goto out;
		}
		sqlite3_bind_blob(st, 1, w, WRAP_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, v[i].id);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		explicit_bzero(w, sizeof w);
		if (rc != SQLITE_DONE) {
			spif_catalog_release(st);
			spif_catalog_sqlerr(c, rc, "data_keys", err);
			goto out;
		}
	}
	spif_catalog_release(st);
	char where[PATH_MAX];
	ref_where(c, r->key_file, where);
	json_t *e = json_pack("{s:s,s:i,s:s,s:s,s:s,s:i,s:I,s:o}", "bucket", bucket, "generation", r->gen, "ref",
	                      r->key_file, "key_file", where, "created", r->created, "replaced_by", gen, "rewrapped",
	                      (json_int_t)(n - bad), "escrow", escrow_of(r, bucket, spif_kek_store_conf(ks)));
	if (bad)
		json_object_set_new(e, "unreadable_keys_left", json_integer((json_int_t)bad));
	json_array_append_new(log, e);
	ret = 0;
out:
	if (ret < 0 && made) { /* the rollback takes its row: no key was ever wrapped under it for good */
		struct spif_err e2 = {0};
		spif_kek_destroy(ks, newref, NULL, &e2);
	}
	spif_kek_forget(&old);
	spif_kek_forget(&nw);
	if (v) {
		explicit_bzero(v, n * sizeof *v);
		free(v);
	}
	return ret;
}

int spif_vault_rotate(struct spif_catalog *c, struct spif_kek_store *ks, json_t *buckets, json_t **what,
                      struct spif_err *err)
{
	*what = NULL;
	if (in_tx(c, "spif_vault_rotate", err) < 0)
		return -1;
	json_t *log = json_array();
	const char *b;
	json_t *val;
	json_object_foreach(buckets, b, val) {
		struct kek_row r;
		if (kek_lookup(c, b, &r, err) < 0)
			goto fail;
		if (!r.found || r.destroyed[0])
			continue;
		int used = bucket_in_use(c, b, err);
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
	if (kek_lookup(s->c, bucket, &r, s->err) < 0)
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
	if (store_open(c, NULL, &ks, err) < 0) {
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
	if (fsync_path(home, O_DIRECTORY) < 0)
		return spif_err_sys(err, SPIF_EX_IOERR, errno, "%s: fsync", home);
	return 0;
}

int spif_vault_retire_keks(struct spif_catalog *c, json_t **what, struct spif_err *err)
{
	*what = NULL;
	if (in_tx(c, "spif_vault_retire_keks", err) < 0)
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
		col_copy(st, 0, bucket, sizeof bucket);
		if (kek_lookup(c, bucket, &kr, err) < 0) {
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
	if (store_open(c, conf, &ks, err) < 0)
		return -1;
	if (kek_get(c, ks, from, 0, &kek, err) < 0) {
		spif_kek_store_close(ks);
		return -1;
	}
	int rc = bad ? 1 : spif_kek_unwrap(&kek, wrapped, WRAP_LEN, dk, err);
	spif_kek_forget(&kek);
	if (rc == 1)
		rc = spif_err_set(err, SPIF_EX_DATAERR,
		                  "key for %s does not match the catalog: data key %lld does not unwrap", from, id);
	if (rc == 0)
		rc = kek_get(c, ks, bucket, 1, &kek, err);
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
	if (erase_keys(c, file_id, old_id, &what, err) < 0)
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
	if (!valid_bucket(bucket))
		return bad_bucket(bucket, err);
	if (in_tx(c, "spif_vault_rebucket", err) < 0)
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
		col_copy(st, 1, r->bucket, sizeof r->bucket);
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
		col_copy(st, 1, v->path, sizeof v->path);
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
	join(dir, sizeof dir, spif_catalog_home(c), "vault");
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
		join(p, sizeof p, dir, de->d_name);
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
	if (removed && fsync_path(dir, O_DIRECTORY) < 0 && ret == 0)
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
