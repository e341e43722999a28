/* fieldcrypt.h - column-level encryption of records.
 *
 * One random 256-bit data key per stream, wrapped to the recipients by a
 * single OpenPGP operation and carried in the stream's first line, the key
 * line (spif encrypt writes it; spif-records(5) has every member):
 *   {"@spif-encrypted":{"v":2,"scheme":"aes-256-gcm","format":"ndjson",
 *    "fields":[...],"file":"F000001","stream":"<16 random bytes, base64>",
 *    "mode":"public-key","recipients":[...],
 *    "key":"-----BEGIN PGP MESSAGE-----..."}}
 * Each listed field's value becomes
 *   ENC[aes-256-gcm,v1,<nonce base64>,<ciphertext base64>,<tag base64>]
 * sealed with AES-256-GCM whose associated data binds the stream's
 * random identifier, @file, @row and the field name, so a value moved to
 * another row, file, field or stream fails to open.  Every other field
 * stays readable.
 *
 * A value alone cannot tell that its record was removed, or that two
 * records traded their sealed values together with their @row.  So the
 * stream ends with a trailer line, {"@spif-trailer":"ENC[...]"}, sealed
 * the same way and bound to the stream: it holds the number of records and
 * a SHA-256 over their rows in stream order, as sops protects a whole
 * document with one MAC.  Records reordered, removed, added or cut off at
 * the end, and rows traded, no longer match it.
 *
 * Version 1 streams (no stream identifier, no trailer) are still read;
 * they have none of these protections. */
#ifndef SPIF_FIELDCRYPT_H
#define SPIF_FIELDCRYPT_H

#include <jansson.h>
#include <stddef.h>

#include "digest.h"
#include "err.h"
#include "record.h"

struct spif_fieldkey;

/* A fresh random key / a key from 32 raw bytes.  NULL on failure. */
struct spif_fieldkey *spif_fieldkey_new(void);
struct spif_fieldkey *spif_fieldkey_from(const unsigned char raw[32]);
/* The raw key (for wrapping); 32 bytes. */
const unsigned char *spif_fieldkey_raw(const struct spif_fieldkey *k);
void spif_fieldkey_free(struct spif_fieldkey *k); /* wipes it */

/* Seal value[0, n) into a NUL-terminated ENC[...] string in *out
 * (malloc'd), for the place (stream, file, row, field).  stream is the
 * stream's identifier as the key line has it; NULL seals as version 1,
 * without one. */
int spif_field_seal_in(struct spif_fieldkey *k, const char *stream, const char *file,
                       const char *row, const char *field, const char *value, size_t n,
                       char **out, size_t *outn, struct spif_err *err);
/* Open an ENC[...] string sealed for that place.  Not ENC[...]:
 * SPIF_EX_DATAERR "not an ENC[...] value"; wrong place or tampered:
 * SPIF_EX_DATAERR "does not open here (moved from another row or field, or
 * altered)". */
int spif_field_open_in(struct spif_fieldkey *k, const char *stream, const char *file,
                       const char *row, const char *field, const char *enc, size_t n,
                       char **out, size_t *outn, struct spif_err *err);
/* The same, version 1 (no stream). */
int spif_field_seal(struct spif_fieldkey *k, const char *file, const char *row, const char *field,
                    const char *value, size_t n, char **out, size_t *outn, struct spif_err *err);
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
	int v;                  /* 2 (1: read only) */
	const char *stream;     /* v2: the stream's identifier, base64 (v1: NULL) */
	enum spif_format fmt;   /* of the records after it */
	enum spif_enc enc;      /* CSV/TSV: theirs (NDJSON: UTF-8, not written) */
	const char *file;       /* "F000001", or "" */
	const char *mode;       /* "public-key" or "passphrase" */
	const char *key;        /* the data key, an armored OpenPGP message */
	char **fields;          /* the sealed fields, nfields > 0 */
	size_t nfields;
	json_t *root;           /* parsed: owns the strings above */
};

/* A new stream identifier: 16 random bytes, base64 (24 characters). */
#define SPIF_STREAM_B64 24
int spif_stream_new(char id[SPIF_STREAM_B64 + 1], struct spif_err *err);

/* The version 2 line for h (v and root unused; stream set) and the
 * recipients' fingerprints: {"@spif-encrypted":{...}} and a line feed,
 * ASCII only (so that it reads the same in UTF-8, CP932 and EUC-JP).
 * malloc'd; NULL when out of memory or h has no stream. */
char *spif_keyline_make(const struct spif_keyline *h, char (*recipients)[41], size_t nrecipients);
/* Read the key line off fd a byte at a time, so that the records after it
 * are left for a reader; *line (malloc'd) without its line end.  name is
 * the stream, for messages. */
int spif_keyline_read(int fd, const char *name, char **line, struct spif_err *err);
/* Parse and check a key line, version 1 or 2; free h with
 * spif_keyline_free, also after an error. */
int spif_keyline_parse(const char *line, const char *name, struct spif_keyline *h,
                       struct spif_err *err);
void spif_keyline_free(struct spif_keyline *h);
/* The stream's data key, out of h->key (an OpenPGP message, so outside
 * input) with the caller's secret keys or passphrase: 0 with the 32 bytes
 * in raw (the caller wipes them) and who signed the message in signer and
 * sig_status (as spif_pgp_decrypt_buf says it), or -1: decryption's
 * errors, or SPIF_EX_DATAERR "NAME:1: the key line holds no 256-bit key"
 * when what it held is not 32 bytes. */
int spif_keyline_unwrap(const struct spif_keyline *h, const char *name, const char *passphrase,
                        unsigned char raw[32], char signer[41], int *sig_status, struct spif_err *err);

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
	const char *stream;  /* v2: the stream's identifier (NULL: version 1) */
	char *const *fields;
	size_t nfields;
	int meta;            /* NDJSON: @file and @row come from the record */
	char file[24];       /* CSV/TSV: the stream's file ("" when none) */
	long long line_base; /* where records' rows are in the file, for messages */
};

/* What the trailer vouches for: the records, counted, and their rows (as
 * they are bound, above) in stream order, hashed: SHA-256 over the
 * netstrings "LEN:ROW," one after the other. */
struct spif_tally {
	long long records;
	struct spif_sha256 *h; /* running */
	char rows[65];         /* the hash in hex, once spif_tally_end has run */
};
int spif_tally_init(struct spif_tally *t, struct spif_err *err);
int spif_tally_add(struct spif_tally *t, const char *row, size_t n);  /* -1: out of memory */
void spif_tally_end(struct spif_tally *t);
void spif_tally_free(struct spif_tally *t);

/* Every record of rd, first (already read, or NULL) before them, with the
 * fields of s sealed (open 0) or opened (open 1) under the 32-byte key
 * raw, into wr (not finished), on two threads, each with its own handle on
 * the key; and, when tally is not NULL, each record's row into it, in
 * order.  The number of records, or -1 with err ("NAME:LINE: no field
 * \"F\"", "NAME:LINE: field \"F\": does not open here ...", ...);
 * *values gets how many values were sealed or opened.  Sealing NDJSON
 * refuses a record whose first field is "@spif-trailer", the trailer's
 * key. */
long long spif_columns_run(const struct spif_colspec *s, const unsigned char raw[32], int open,
                           struct spif_reader *rd, const struct spif_record *first,
                           struct spif_writer *wr, long long *values, struct spif_tally *tally,
                           struct spif_err *err);
/* A CSV/TSV source with no records still has its header to write: rd's
 * columns as wr's header (a no-op for NDJSON). */
int spif_columns_header(struct spif_reader *rd, struct spif_writer *wr, struct spif_err *err);
/* Every name of fields must be in the input: the first that is not in rec
 * (rec NULL: not among rd's columns, a CSV/TSV with no records), or NULL. */
const char *spif_columns_missing(char *const *fields, size_t n, const struct spif_record *rec,
                                 struct spif_reader *rd);

/* ---- the trailer (version 2) ------------------------------------------------
 *
 * The last line of the stream, after the records in every format:
 *   {"@spif-trailer":"ENC[aes-256-gcm,v1,...]"} and a line feed
 * sealing {"records":N,"rows":"<hex>"} (CSV and TSV add "final_eol",
 * whether the source's last row had a line end, which the line end before
 * the trailer hides) under the data key, with associated data binding the
 * stream, its file, format, encoding and sealed fields.  Every trouble is
 * SPIF_EX_DATAERR "NAME:LINE: ...", LINE being the trailer's (or where it
 * should have been). */

/* The trailer line for h (stream set) after the records of t (ended
 * here), malloc'd; NULL with err. */
char *spif_trailer_make(const struct spif_keyline *h, const unsigned char raw[32],
                        struct spif_tally *t, int final_eol, struct spif_err *err);
/* Check the trailer line line[0, n) (no line end) of stream name, line
 * lineno, against t (ended here): 0 with *final_eol, or -1 with err: it
 * does not open, or the count or the rows differ. */
int spif_trailer_check(const struct spif_keyline *h, const unsigned char raw[32], const char *line,
                       size_t n, struct spif_tally *t, const char *name, long long lineno,
                       int *final_eol, struct spif_err *err);

/* Reading a version 2 stream: a thread copies what follows the key line
 * on fd into a pipe, *rfd, which the record reader reads, and takes the
 * trailer line off, so that no reader (a CSV one least of all) ever sees
 * it.  A trailer is a line starting {"@spif-trailer": -- which no record
 * line of a stream spif wrote can start with (see fieldcrypt.c).  NULL
 * with err on failure. */
struct spif_trailer_cut;
struct spif_trailer_cut *spif_trailer_cut_start(int fd, int *rfd, struct spif_err *err);
/* Once the reader has reached the end of *rfd: wait for the thread, then
 * check what it took off as spif_trailer_check does.  Also -1 when the
 * stream has no trailer ("NAME:LINE: no trailer ..."), has more after it,
 * or could not be read (SPIF_EX_IOERR). */
int spif_trailer_cut_check(struct spif_trailer_cut *c, const struct spif_keyline *h,
                           const unsigned char raw[32], struct spif_tally *t, const char *name,
                           int *final_eol, struct spif_err *err);
/* Stop the thread (at once, however far it got), close *rfd, free. */
void spif_trailer_cut_free(struct spif_trailer_cut *c);

#endif
