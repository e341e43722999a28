/* kek.h - where the vault's key-encryption keys (KEKs) live, and what
 * destroying one means there.
 *
 * A KEK protects the data keys of one disposal month ("bucket"); a bucket
 * has one KEK at a time, its generation n counting from 1.  Crypto-erase
 * replaces a month's KEK (vault.h): the month's other data keys are
 * rewrapped under generation n + 1 and generation n is destroyed, so that
 * every copy of the erased file's wrapped data key, wherever it lingers
 * (free blocks, the WAL, a backup), wraps under a key that is gone.
 *
 * Two stores, chosen by spif.conf:
 *   - files (the default): $SPIF_HOME/keys/kek-BUCKET.key for generation 1,
 *     kek-BUCKET-N.key after, 32 random bytes, 0600.  Destroying one is
 *     wipe.h's overwrite (one random pass, synced, read back, renamed,
 *     unlinked) and is only as good as the medium: where spif cannot vouch
 *     that an overwrite reaches it (copy-on-write, flash, a virtual disk
 *     nobody vouched for in trusted_media), the destruction says its
 *     storage may keep remnants, and names the medium.
 *   - a PKCS#11 token (pkcs11_module, pkcs11_token, pkcs11_pin_file): the
 *     KEK is a non-extractable, sensitive token object labelled
 *     spif-kek-BUCKET-N; wrapping and unwrapping happen in the token, and
 *     destroying it is C_DestroyObject.
 *
 * A KEK is named in the catalog (keks.key_file) by its reference:
 * "keys/kek-2034-03-2.key" or "pkcs11:spif-kek-2034-03-2", and checked by
 * keks.check_value: HMAC-SHA256(KEK, "spif kek check") cut to 16 bytes for
 * a file, the object's random CKA_ID for a token object (its value cannot
 * be read), both in hex, so that a replaced key is told apart from a
 * damaged wrapped key. */
#ifndef SPIF_KEK_H
#define SPIF_KEK_H

#include <jansson.h>
#include <limits.h>

#include "err.h"
#include "home.h"

#define SPIF_KEK_LEN 32
#define SPIF_KEK_WRAP_LEN 40
#define SPIF_KEK_CHECK_HEX 33 /* 16 bytes in hex, and its NUL */

struct spif_kek_store;

/* One KEK in use.  Zero it with spif_kek_forget. */
struct spif_kek {
	struct spif_kek_store *ks;
	int token;
	unsigned char key[SPIF_KEK_LEN]; /* a key file's contents */
	unsigned long obj;               /* a token's object */
	void *h;                         /* libgcrypt's AES key wrap handle, opened once */
	char bucket[64];
	int gen;
};

/* The store spif.conf names, for home.  conf NULL: spif.conf is read here
 * ($SPIF_CONF, else the system one), as the command did.  A token that
 * cannot be used (module, token, PIN) is SPIF_EX_UNAVAILABLE, one line. */
int spif_kek_store_open(const struct spif_conf *conf, const char *home, struct spif_kek_store **out,
                        struct spif_err *err);
void spif_kek_store_close(struct spif_kek_store *ks);
int spif_kek_store_is_token(const struct spif_kek_store *ks);
const struct spif_conf *spif_kek_store_conf(const struct spif_kek_store *ks);
/* Where KEKs live, in an auditor's words, for certificates and spif vault
 * keys: {"store": "key files"|"PKCS#11 token", "where": ..., ...}. */
json_t *spif_kek_store_describe(struct spif_kek_store *ks);

/* The reference generation gen of bucket has in this store. */
void spif_kek_ref(const struct spif_kek_store *ks, const char *bucket, int gen, char ref[PATH_MAX]);
/* A reference's bucket and generation; 0, or -1 when it is not one. */
int spif_kek_parse_ref(const char *ref, char bucket[64], int *gen, int *token);

/* A new KEK: generation gen of bucket.  value NULL: fresh random bytes (a
 * token generates it inside); else those 32 bytes (the copy escrowed to a
 * custodian).  check gets its check value, ref its reference. */
int spif_kek_create(struct spif_kek_store *ks, const char *bucket, int gen, const unsigned char *value,
                    struct spif_kek *k, char ref[PATH_MAX], char check[SPIF_KEK_CHECK_HEX], struct spif_err *err);
/* The KEK ref names, checked against check: 0, 1 when it does not exist
 * (err untouched), -1 with err (unreadable; SPIF_EX_DATAERR "key for B
 * does not match the catalog: WHERE" when the check fails). */
int spif_kek_load(struct spif_kek_store *ks, const char *bucket, const char *ref, const char *check,
                  struct spif_kek *k, struct spif_err *err);
/* The check value of a loaded KEK (what the catalog should hold). */
int spif_kek_check(struct spif_kek *k, char check[SPIF_KEK_CHECK_HEX], struct spif_err *err);
int spif_kek_wrap(struct spif_kek *k, const unsigned char dk[SPIF_KEK_LEN], unsigned char out[SPIF_KEK_WRAP_LEN],
                  struct spif_err *err);
/* 0, 1 when in does not unwrap under k (integrity check), -1 with err. */
int spif_kek_unwrap(struct spif_kek *k, const unsigned char *in, size_t inlen, unsigned char dk[SPIF_KEK_LEN],
                    struct spif_err *err);
void spif_kek_forget(struct spif_kek *k);
/* n random bytes for key material (getrandom(2)). */
int spif_kek_random(unsigned char *out, size_t n, struct spif_err *err);
/* Where ref's key is, for messages: the key file's full path, or
 * "token LABEL: object spif-kek-...". */
void spif_kek_where(const struct spif_kek_store *ks, const char *ref, char *out, size_t n);

/* Destroy the KEK ref names.  *how (may be NULL) describes it for the
 * certificate: {"destroyed_by": ..., "remnants": null or why its storage
 * may keep some, "medium": ...}.  0 destroyed, 1 it did not exist, -1 with
 * err (nothing destroyed). */
int spif_kek_destroy(struct spif_kek_store *ks, const char *ref, json_t **how, struct spif_err *err);

/* Every KEK the store holds (key files in keys/, token objects labelled
 * spif-kek-), through fn; a non-zero return from fn stops and is
 * returned. */
int spif_kek_list(struct spif_kek_store *ks,
                  int (*fn)(void *ctx, const char *bucket, int gen, const char *ref), void *ctx,
                  struct spif_err *err);

/* For spif vault keys: a token object's CKA_EXTRACTABLE, CKA_SENSITIVE
 * and whether reading its value was refused; -1 for a key file. */
int spif_kek_token_attrs(struct spif_kek_store *ks, const char *ref, int *extractable, int *sensitive,
                         int *value_refused, struct spif_err *err);

#endif
