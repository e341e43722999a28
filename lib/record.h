/* record.h - the record stream: NDJSON, CSV and TSV, in UTF-8, CP932 or
 * EUC-JP.  See spif-records(5).
 *
 * A record is an ordered list of fields (key, value), both UTF-8.  Keys
 * starting with '@' are spif's metadata (@file, @row); a reader of CSV/TSV
 * produces no metadata, the caller adds it.  Values are never Unicode-
 * normalised: what comes in goes out, so CP932 -> record -> CP932 is
 * byte-identical for text as Windows writes it.
 *
 * Readers stream: memory use does not grow with the number of records,
 * only with the size of the largest record. */
#ifndef SPIF_RECORD_H
#define SPIF_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

enum spif_format { SPIF_FMT_NONE = 0, SPIF_FMT_CSV, SPIF_FMT_TSV, SPIF_FMT_NDJSON };
enum spif_enc {
	SPIF_ENC_AUTO = 0,
	SPIF_ENC_UTF8,
	SPIF_ENC_UTF8_BOM, /* UTF-8 that starts with EF BB BF */
	SPIF_ENC_CP932,
	SPIF_ENC_EUCJP,
};

/* "csv", "tsv", "ndjson" <-> enum; parse returns SPIF_FMT_NONE if unknown. */
enum spif_format spif_format_parse(const char *name);
const char *spif_format_name(enum spif_format f);
/* The format a file's name says: .tsv and .tab TSV, .ndjson and .jsonl
 * NDJSON; any other name is fallback (ingest reads sources, CSV by
 * default; the filters read "-" as another spif command's NDJSON). */
enum spif_format spif_format_from_name(const char *path, enum spif_format fallback);
/* "auto", "utf-8" (also "utf8"), "utf-8-bom", "cp932" (also "windows-31j",
 * "sjis", "shift_jis"), "euc-jp" (also "eucjp"); -1 if unknown. */
int spif_enc_parse(const char *name);
const char *spif_enc_name(enum spif_enc e); /* canonical: "utf-8", "utf-8-bom", "cp932", "euc-jp" */

#define SPIF_FIELD_QUOTED 1u /* CSV source had this field in quotes */

struct spif_field {
	const char *key;  /* NUL-terminated UTF-8 */
	size_t klen;
	const char *val;  /* NUL-terminated UTF-8 (no NUL inside: input NULs are rejected) */
	size_t vlen;
	unsigned flags;
};

/* Storage is owned by the record and reused from one record to the next. */
struct spif_record {
	struct spif_field *f;
	size_t n, cap;
	char *buf;        /* arena for keys and values */
	size_t blen, bcap;
	long long row;    /* source row: header is row 1 for CSV/TSV, so the
	                     first data record is row 2; line number for NDJSON */
};

void spif_record_init(struct spif_record *r);
void spif_record_free(struct spif_record *r);
void spif_record_clear(struct spif_record *r);
/* Append a field (copies key and value).  Returns -1 only on ENOMEM. */
int spif_record_add(struct spif_record *r, const char *key, size_t klen,
                    const char *val, size_t vlen, unsigned flags);
/* Field by key, or NULL. */
const struct spif_field *spif_record_get(const struct spif_record *r, const char *key);
/* Replace the value of field i (copies).  -1 on ENOMEM. */
int spif_record_set(struct spif_record *r, size_t i, const char *val, size_t vlen);

/* How a CSV/TSV source was written, so that writing it back can produce the
 * same bytes.  A reader fills it from the header row; a writer given NULL
 * uses the defaults (CRLF, minimal quoting, final line ending). */
struct spif_dialect {
	char eol[3];       /* "\r\n" or "\n" */
	int quote_all;     /* every header field was quoted */
	int final_eol;     /* the last record ended with a line ending */
	int bom;           /* UTF-8 source started with a BOM */
};

struct spif_reader;

/* Open a reader on fd (not closed by the reader).  name is for messages
 * ("-" shows as "(stdin)").  fmt must not be NONE.  enc AUTO decides from the
 * BOM and from validity (UTF-8, else CP932, else EUC-JP) over the first
 * bytes that are not ASCII.  Errors: code and "NAME: ..." message. */
struct spif_reader *spif_reader_open(int fd, const char *name, enum spif_format fmt,
                                     enum spif_enc enc, struct spif_err *err);

/* Raw source bytes, in order, as they are read (for hashing the content).
 * Set before the first spif_reader_next. */
void spif_reader_set_tap(struct spif_reader *rd,
                         void (*tap)(void *ctx, const void *buf, size_t n), void *ctx);

/* Next record: 1 got one, 0 end of input, -1 error (err set, and the reader
 * must not be used again).  For CSV/TSV the header is read on the first call;
 * keys are the header names.  Errors name "NAME:ROW: ..." and are:
 *   SPIF_EX_DATAERR: empty input ("no header row"); duplicate header name;
 *     a record with more/fewer fields than the header; unterminated quote;
 *     a byte that does not decode ("byte offset N: not valid CP932", offset
 *     counted from the start of the file, 0-based); a NUL byte; a field
 *     longer than the limit; NDJSON that is not an object per line, or a
 *     value that is not a string (metadata '@' keys may be numbers).
 *   SPIF_EX_IOERR: read(2) failed. */
int spif_reader_next(struct spif_reader *rd, struct spif_record *rec, struct spif_err *err);

/* After the first successful spif_reader_next (or at EOF): */
enum spif_enc spif_reader_encoding(const struct spif_reader *rd); /* decided encoding */
const struct spif_dialect *spif_reader_dialect(const struct spif_reader *rd); /* CSV/TSV */
size_t spif_reader_ncols(const struct spif_reader *rd);              /* header width */
const char *spif_reader_colname(const struct spif_reader *rd, size_t i);
/* CP932/EUC-JP: how many characters were decoded from bytes that encoding
 * back would write differently (NEC-selected IBM extensions such as EEE0 for
 * 髙), and the row of the first; 0 when a write-back is byte-identical. */
long long spif_reader_lossy(const struct spif_reader *rd, long long *first_row);
long long spif_reader_bytes(const struct spif_reader *rd); /* raw bytes read so far */
void spif_reader_close(struct spif_reader *rd);

/* Largest field accepted (bytes of UTF-8); a longer one is bad input: no
 * column of a tax or registry file comes near it, while a runaway quote or a
 * binary file does. */
#define SPIF_FIELD_MAX (1024u * 1024u)

struct spif_writer;

/* Where a writer's bytes go: fn writes all n bytes and returns 0, or returns
 * -1 with errno set (ENOSPC, EPIPE, ...). */
typedef int (*spif_sink_fn)(void *ctx, const void *buf, size_t n);

/* Open a writer.  For CSV/TSV the header is written from the first record's
 * keys (fields whose key starts with '@' are left out); every later record
 * must have the same keys in the same order.  enc is the output encoding
 * (UTF-8, UTF-8-BOM, CP932, EUC-JP); NDJSON is always UTF-8.  dialect may be
 * NULL.  A CSV field is quoted when it must be (separator, quote, CR or LF)
 * or when its SPIF_FIELD_QUOTED flag is set or the dialect says quote_all.
 * NDJSON writes fields in record order, "@row" as a JSON number and every
 * other value as a JSON string.  name is for messages.  The writer buffers;
 * nothing is promised written before spif_writer_finish returns 0. */
struct spif_writer *spif_writer_open(spif_sink_fn fn, void *ctx, const char *name,
                                     enum spif_format fmt, enum spif_enc enc,
                                     const struct spif_dialect *dialect, struct spif_err *err);
/* A sink that write(2)s to the file descriptor *(int *)ctx, retrying on
 * EINTR and short writes. */
int spif_sink_fd(void *ctx, const void *buf, size_t n);
/* For a thread that writes a pipe (through spif_sink_fd or not): SIGPIPE
 * blocked in that thread only, so that a reader that stopped early and
 * closed its end makes the write fail with EPIPE rather than end the
 * process. */
void spif_thread_block_sigpipe(void);

/* 0 or -1.  A character that the output encoding cannot represent is
 * SPIF_EX_DATAERR "NAME:ROW: field F: character U+XXXX has no CP932 code";
 * a write error is SPIF_EX_IOERR (ENOSPC included). */
int spif_writer_put(struct spif_writer *w, const struct spif_record *rec, struct spif_err *err);
/* NDJSON: write "@row": rec->row as each record's first field (ingest's
 * metadata; the record's own '@' fields follow in their order). */
void spif_writer_set_rowmeta(struct spif_writer *w, int on);
/* CSV/TSV: whether the output ends with a line break, as the source did;
 * the dialect given at open is the one seen at the first record, and only
 * the end of the source tells (call before spif_writer_finish). */
void spif_writer_set_final_eol(struct spif_writer *w, int on);
/* CSV/TSV: write the header now from these names (so that a source with no
 * records still writes back its header); a no-op for NDJSON.  Later records
 * must match it. */
int spif_writer_put_header(struct spif_writer *w, const char *const *names, size_t n,
                           struct spif_err *err);
/* Flush; 0 or -1.  Must be called for the output to be complete. */
int spif_writer_finish(struct spif_writer *w, struct spif_err *err);
long long spif_writer_bytes(const struct spif_writer *w);
void spif_writer_close(struct spif_writer *w); /* frees; does not flush */

/* Validate UTF-8 (strict: no overlongs, no surrogates, <= U+10FFFF).
 * Returns the length of the valid prefix. */
size_t spif_utf8_valid_prefix(const unsigned char *s, size_t n);

/* ------------------------------------------------------------------ */
/* The codec interface.  Internal to libspif: commands use the functions
 * above, which dispatch on the format to one reader codec and one writer
 * codec per format, the way libarchive puts its formats behind one
 * vtable: lib/csv.c (CSV and TSV) and lib/ndjson.c.  A codec sees its
 * input as UTF-8 text through struct spif_in and puts bytes through
 * struct spif_out (lib/io.h); it knows nothing of file descriptors or of
 * the source's encoding.  A codec's functions take the state its open
 * returned; errors are as documented above, named with in->name or
 * out->name. */

struct spif_in;
struct spif_out;

struct spif_reader_codec {
	/* State for reading in (set up, nothing read yet); NULL with err set. */
	void *(*open)(struct spif_in *in, enum spif_format fmt, struct spif_err *err);
	/* As spif_reader_next; rec arrives cleared. */
	int (*next)(void *st, struct spif_record *rec, struct spif_err *err);
	/* The source's layout and header; NULL for a format that has none. */
	const struct spif_dialect *(*dialect)(const void *st);
	size_t (*ncols)(const void *st);
	const char *(*colname)(const void *st, size_t i);
	void (*close)(void *st);
};

/* Options a writer may be given after it is open (spif_writer_set_*):
 * the codec keeps the pointer and reads them when it writes. */
struct spif_wopts {
	int rowmeta;   /* NDJSON: "@row" first */
	int final_eol; /* CSV/TSV: end the output with a line break */
};

struct spif_writer_codec {
	/* State for writing to out; enc is the output encoding (UTF-8 for
	 * NDJSON), dialect may be NULL.  NULL with err set. */
	void *(*open)(struct spif_out *out, enum spif_format fmt, enum spif_enc enc,
	              const struct spif_dialect *dialect, const struct spif_wopts *opt,
	              struct spif_err *err);
	int (*put)(void *st, const struct spif_record *rec, struct spif_err *err);
	/* At most once, before any put; NULL for a format without a header
	 * (spif_writer_put_header is then a no-op). */
	int (*put_header)(void *st, const char *const *names, size_t n, struct spif_err *err);
	/* What ends the output, before the last flush; NULL for nothing. */
	int (*finish)(void *st, struct spif_err *err);
	void (*close)(void *st);
};

/* For the codecs' readers: an empty arena of at least bytes and room for
 * nf fields (what the record held is dropped); room for nf fields, keeping
 * them.  -1 only on ENOMEM. */
int spif_record_reserve(struct spif_record *r, size_t bytes, size_t nf);
int spif_record_room(struct spif_record *r, size_t nf);

/* A key or column name for a one-line message, in dst (cap >= 16): at
 * most about 64 bytes, control characters as '?', and digits as '*' when
 * it holds 10 or more (a "name" may be data). */
const char *spif_shown(char *dst, size_t cap, const char *s, size_t n);

/* A hash of a key, 8 bytes at a time (keys are often long: Japanese
 * column names run to 30 bytes and more). */
static inline uint64_t spif_key_hash(const char *s, size_t n)
{
	uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ull;
	for (; n >= 8; s += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDull;
		h ^= h >> 32;
	}
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)(unsigned char)s[i] << (8 * i);
	h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
	return h ^ (h >> 29);
}

/* The keys of the records a writer is given, per field position: records
 * from one source have the same keys, so a writer works out once what it
 * needs from a key (NDJSON: its JSON form), and checks that a record has
 * the last record's keys with one memcmp when they are packed back to
 * back, as a reader lays them out. */
struct spif_key {
	char *key;   /* NUL-terminated copy */
	size_t klen;
	char *form;  /* made by spif_keys.form, with 16 bytes of slack; NULL without one */
	size_t flen;
	int is_row;  /* the key is "@row" */
	int is_meta; /* the key starts with '@' */
};

struct spif_keys {
	/* a key's form for the codec (flen set), or NULL on ENOMEM; NULL: none */
	char *(*form)(const char *key, size_t klen, size_t *flen);
	struct spif_key *k;
	size_t n, cap;
	unsigned long gen; /* bumped whenever an entry changes */
	/* the last record's keys when they were packed back to back */
	char *kb;
	size_t kb_len, kb_cap, kb_n;
	size_t *kb_off, kb_offcap;
};

/* Bring ks in line with rec's keys: k[0..rec->n) are rec's afterwards.
 * 0, or -1 on ENOMEM. */
int spif_keys_check(struct spif_keys *ks, const struct spif_record *rec);
void spif_keys_free(struct spif_keys *ks);

#endif
