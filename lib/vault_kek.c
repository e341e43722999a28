/* vault_kek.c - the keks rows: a disposal month's key-encryption key
 * looked up, made (with its custodian's escrow copy first), adopted when
 * a key has no row, and the generation a new one takes.  Where the keys
 * themselves live (files or a PKCS#11 token) is kek.c's; this file is the
 * catalog's side, shared by the writer, the reader and the erase.
 *
 * Invariant: a KEK is made before any data key is wrapped under it, and a
 * key made in a transaction that rolls back is destroyed again, so a key
 * with no row protects nothing committed.
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


int vlt_in_tx(struct spif_catalog *c, const char *fn, struct spif_err *err)
{
	if (sqlite3_get_autocommit(spif_catalog_db(c)))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: must be called inside a transaction", fn);
	return 0;
}

/* "indefinite" or "YYYY-MM". */
int vlt_valid_bucket(const char *b)
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

int vlt_bad_bucket(const char *b, struct spif_err *err)
{
	return spif_err_set(err, SPIF_EX_USAGE,
	                    "bad key bucket \"%.64s\": expected a disposal month YYYY-MM or \"indefinite\"",
	                    b ? b : "(null)");
}

void vlt_join(char *out, size_t n, const char *a, const char *b)
{
	int k = snprintf(out, n, "%s/%s", a, b);
	if (k < 0 || (size_t)k >= n)
		out[0] = '\0';
}

int vlt_fsync_path(const char *path, int flags)
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

void vlt_col_copy(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, n, "%s", t ? (const char *)t : "");
}

int vlt_ref_gen(const char *ref)
{
	char b[64];
	int gen, tok;
	return spif_kek_parse_ref(ref, b, &gen, &tok) == 0 ? gen : 1;
}

int vlt_kek_lookup(struct spif_catalog *c, const char *bucket, struct kek_row *r,
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
		vlt_col_copy(st, 0, r->key_file, sizeof r->key_file);
		vlt_col_copy(st, 1, r->check, sizeof r->check);
		vlt_col_copy(st, 2, r->created, sizeof r->created);
		vlt_col_copy(st, 3, r->destroyed, sizeof r->destroyed);
		vlt_col_copy(st, 4, r->custodian, sizeof r->custodian);
		r->gen = vlt_ref_gen(r->key_file);
	}
	spif_catalog_release(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "keks", err);
	return 0;
}

/* Where the KEK of a row is, for messages and certificates: the key
 * file's full path, or the token object. */
void vlt_kek_where(struct spif_kek_store *ks, const char *bucket, const struct kek_row *r, char out[PATH_MAX])
{
	char ref[PATH_MAX];
	if (r && r->found && r->key_file[0])
		snprintf(ref, sizeof ref, "%s", r->key_file);
	else
		spif_kek_ref(ks, bucket, 1, ref);
	spif_kek_where(ks, ref, out, PATH_MAX);
}

/* Does any data key still use bucket?  1, 0, or -1 with err. */
int vlt_bucket_in_use(struct spif_catalog *c, const char *bucket, struct spif_err *err)
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
int vlt_next_gen(struct spif_kek_store *ks, const char *bucket, const struct kek_row *r, struct spif_err *err)
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
int vlt_kek_make(struct spif_catalog *c, struct spif_kek_store *ks, const char *bucket, int gen,
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
int vlt_kek_get(struct spif_catalog *c, struct spif_kek_store *ks, const char *bucket, int create,
                   struct spif_kek *k, struct spif_err *err)
{
	struct kek_row r;
	char ref[PATH_MAX], where[PATH_MAX];
	memset(k, 0, sizeof *k);
	if (vlt_kek_lookup(c, bucket, &r, err) < 0)
		return -1;
	if (r.found && r.destroyed[0]) {
		if (create) {
			int g = vlt_next_gen(ks, bucket, &r, err);
			return g < 0 ? -1 : vlt_kek_make(c, ks, bucket, g, 0, NULL, k, err);
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
			int used = r.found ? vlt_bucket_in_use(c, bucket, err) : 0;
			if (used < 0)
				return -1;
			if (!used) { /* lost while it protected nothing: make another */
				int g = vlt_next_gen(ks, bucket, &r, err);
				return g < 0 ? -1 : vlt_kek_make(c, ks, bucket, g, 0, NULL, k, err);
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
		return vlt_kek_make(c, ks, bucket, k->gen, 1, ref, k, err);
	}
	return 0;
}

/* The KEK store for c's home: conf's (NULL: spif.conf read again). */
int vlt_store_open(struct spif_catalog *c, const struct spif_conf *conf, struct spif_kek_store **ks,
                      struct spif_err *err)
{
	return spif_kek_store_open(conf, spif_catalog_home(c), ks, err);
}
