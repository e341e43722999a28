/* fieldcrypt.h - column-level encryption of records.
 *
 * One random 256-bit data key per stream, wrapped to the recipients by a
 * single OpenPGP operation and carried in the stream's first line, the key
 * line (spif encrypt writes it; spif-records(5) has every member):
 *   {"@spif-encrypted":{"v":1,"scheme":"aes-256-gcm","format":"ndjson",
 *    "fields":[...],"file":"F000001","mode":"public-key","recipients":[...],
 *    "key":"-----BEGIN PGP MESSAGE-----..."}}
 * Each listed field's value becomes
 *   ENC[aes-256-gcm,v1,<nonce base64>,<ciphertext base64>,<tag base64>]
 * sealed with AES-256-GCM whose associated data binds @file, @row and the
 * field name, so a value moved to another row, file or field fails to
 * open.  Every other field stays readable. */
#ifndef SPIF_FIELDCRYPT_H
#define SPIF_FIELDCRYPT_H

#include <stddef.h>

#include "err.h"

struct spif_fieldkey;

/* A fresh random key / a key from 32 raw bytes.  NULL on failure. */
struct spif_fieldkey *spif_fieldkey_new(void);
struct spif_fieldkey *spif_fieldkey_from(const unsigned char raw[32]);
/* The raw key (for wrapping); 32 bytes. */
const unsigned char *spif_fieldkey_raw(const struct spif_fieldkey *k);
void spif_fieldkey_free(struct spif_fieldkey *k); /* wipes it */

/* Seal value[0, n) into a NUL-terminated ENC[...] string in *out (malloc'd). */
int spif_field_seal(struct spif_fieldkey *k, const char *file, const char *row, const char *field,
                    const char *value, size_t n, char **out, size_t *outn, struct spif_err *err);
/* Open an ENC[...] string.  Not ENC[...]: SPIF_EX_DATAERR "not an ENC[...]
 * value"; wrong place or tampered: SPIF_EX_DATAERR "does not open here
 * (moved from another row or field, or altered)". */
int spif_field_open(struct spif_fieldkey *k, const char *file, const char *row, const char *field,
                    const char *enc, size_t n, char **out, size_t *outn, struct spif_err *err);
/* Is this value an ENC[...] string? */
int spif_field_is_sealed(const char *v, size_t n);

#endif
