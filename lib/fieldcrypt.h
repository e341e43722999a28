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

#include <jansson.h>
#include <stddef.h>

#include "err.h"
#include "record.h"

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

/* ---- the key line --------------------------------------------------------
 *
 * Read from outside input, so every member is checked before it is used:
 * a stream that is not one, of another version or damaged is
 * SPIF_EX_DATAERR naming the stream ("NAME:1: ..."). */
struct spif_keyline {
	enum spif_format fmt;   /* of the records after it */
	enum spif_enc enc;      /* CSV/TSV: theirs (NDJSON: UTF-8, not written) */
	const char *file;       /* "F000001", or "" */
	const char *mode;       /* "public-key" or "passphrase" */
	const char *key;        /* the data key, an armored OpenPGP message */
	char **fields;          /* the sealed fields, nfields > 0 */
	size_t nfields;
	json_t *root;           /* parsed: owns the strings above */
};

/* The line for h (root unused) and the recipients' fingerprints:
 * {"@spif-encrypted":{...}} and a line feed, ASCII only (so that it reads
 * the same in UTF-8, CP932 and EUC-JP).  malloc'd; NULL when out of memory. */
char *spif_keyline_make(const struct spif_keyline *h, char (*recipients)[41], size_t nrecipients);
/* Read the key line off fd a byte at a time, so that the records after it
 * are left for a reader; *line (malloc'd) without its line end.  name is
 * the stream, for messages. */
int spif_keyline_read(int fd, const char *name, char **line, struct spif_err *err);
/* Parse and check a key line; free h with spif_keyline_free, also after
 * an error. */
int spif_keyline_parse(const char *line, const char *name, struct spif_keyline *h,
                       struct spif_err *err);
void spif_keyline_free(struct spif_keyline *h);

/* ---- records ---------------------------------------------------------------
 *
 * The (file, row) a record's fields are bound to: in NDJSON its @file and
 * @row (its position in the stream when it has no @row); in CSV and TSV,
 * which carry no metadata, the stream's file and the record's row (header
 * row 1, first record 2), the only things their readers can know again.
 * CSV/TSV seal whether the source had the value in quotes with it, as its
 * first character ('"' or '='), since ENC[...] is quoted wherever it goes. */
struct spif_colspec {
	const char *name;    /* the stream, for messages */
	char *const *fields;
	size_t nfields;
	int meta;            /* NDJSON: @file and @row come from the record */
	char file[24];       /* CSV/TSV: the stream's file ("" when none) */
	long long line_base; /* where records' rows are in the file, for messages */
};

/* Every record of rd, first (already read, or NULL) before them, with the
 * fields of s sealed (open 0) or opened (open 1) under the 32-byte key
 * raw, into wr (not finished), on two threads, each with its own handle on
 * the key.  The number of records, or -1 with err ("NAME:LINE: no field
 * \"F\"", "NAME:LINE: field \"F\": does not open here ...", ...);
 * *values gets how many values were sealed or opened. */
long long spif_columns_run(const struct spif_colspec *s, const unsigned char raw[32], int open,
                           struct spif_reader *rd, const struct spif_record *first,
                           struct spif_writer *wr, long long *values, struct spif_err *err);
/* A CSV/TSV source with no records still has its header to write: rd's
 * columns as wr's header (a no-op for NDJSON). */
int spif_columns_header(struct spif_reader *rd, struct spif_writer *wr, struct spif_err *err);
/* Every name of fields must be in the input: the first that is not in rec
 * (rec NULL: not among rd's columns, a CSV/TSV with no records), or NULL. */
const char *spif_columns_missing(char *const *fields, size_t n, const struct spif_record *rec,
                                 struct spif_reader *rd);

#endif
