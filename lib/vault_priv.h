/* vault_priv.h - what the vault's files share and nobody else sees.
 *
 * The vault is one module (vault.h is its interface) in files of one
 * purpose each: vault.c the file format (writer, reader, header checks),
 * vault_kek.c the keks rows (a month's KEK looked up, made, adopted),
 * vault_erase.c crypto-erase (data keys erased, a month's KEK replaced,
 * old KEKs destroyed and retired, the WAL purged), vault_rebucket.c a
 * file's data key moved to another disposal month.  The format constants
 * are here so that every part reads headers the same way; the vlt_
 * functions are internal to libspif (no caller outside lib/vault*.c). */
#ifndef SPIF_VAULT_PRIV_H
#define SPIF_VAULT_PRIV_H

#include <errno.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "catalog_priv.h"
#include "kek.h"
#include "vault.h"

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

/* ---- small helpers -------------------------------------------------------- */

static inline void put_be32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* All n bytes or -1 with errno: the one write loop is spif_sink_fd. */

/* Read up to n bytes; fewer only at end of file.  -1 with errno. */
static inline ssize_t read_full(int fd, void *buf, size_t n)
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

/* ---- key-encryption key rows (vault_kek.c) ---------------------------------- */

struct kek_row {
	int found;
	char key_file[PATH_MAX]; /* the KEK's reference (kek.h), as stored */
	char check[SPIF_KEK_CHECK_HEX];
	char created[32];
	char destroyed[32];  /* "" while the KEK exists */
	char custodian[256]; /* "" when none */
	int gen;             /* its generation, from the reference */
};

int vlt_in_tx(struct spif_catalog *c, const char *fn, struct spif_err *err);
int vlt_valid_bucket(const char *b);
int vlt_bad_bucket(const char *b, struct spif_err *err);
void vlt_join(char *out, size_t n, const char *a, const char *b);
int vlt_fsync_path(const char *path, int flags);
void vlt_col_copy(sqlite3_stmt *st, int i, char *out, size_t n);
int vlt_ref_gen(const char *ref);
int vlt_kek_lookup(struct spif_catalog *c, const char *bucket, struct kek_row *r,
                      struct spif_err *err);
void vlt_kek_where(struct spif_kek_store *ks, const char *bucket, const struct kek_row *r, char out[PATH_MAX]);
int vlt_bucket_in_use(struct spif_catalog *c, const char *bucket, struct spif_err *err);
int vlt_next_gen(struct spif_kek_store *ks, const char *bucket, const struct kek_row *r, struct spif_err *err);
int vlt_kek_make(struct spif_catalog *c, struct spif_kek_store *ks, const char *bucket, int gen,
                    int adopt, const char *adopt_ref, struct spif_kek *k, struct spif_err *err);
int vlt_kek_get(struct spif_catalog *c, struct spif_kek_store *ks, const char *bucket, int create,
                   struct spif_kek *k, struct spif_err *err);
int vlt_store_open(struct spif_catalog *c, const struct spif_conf *conf, struct spif_kek_store **ks,
                      struct spif_err *err);
int vlt_erase_keys(struct spif_catalog *c, long long file_id, long long key_id, json_t **what,
                      struct spif_err *err);

#endif
