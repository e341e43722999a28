/* test_fieldcrypt.c - AES-256-GCM sealed field values: round trips (empty,
 * Japanese, 1 MiB), the exact format checked against libgcrypt directly,
 * values moved to another file, row or field, altered values and keys,
 * malformed ENC[...] strings, spif_field_is_sealed, and the cost of a
 * million seals.  The key line: made and parsed back, read off a stream
 * leaving the records, and every kind of bad one refused with its message.
 * Whole streams of records (CSV, NDJSON) sealed and opened back to the same
 * bytes, a value moved between rows refused, a missing field named.  The
 * passphrase file (spif encrypt --passphrase-file). */
#include "fieldcrypt.h"
#include "tap.h"

#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "passphrase.h"
#include "pgp.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seal then open in the same place; 1 when the value comes back. */
static int round_trip(struct spif_fieldkey *k, const char *v, size_t n, size_t *enclen)
{
	struct spif_err err = {0};
	char *enc = NULL, *dec = NULL;
	size_t en = 0, dn = 0;
	if (spif_field_seal(k, "a.csv", "7", "mynumber", v, n, &enc, &en, &err) < 0)
		return 0;
	int good = en == strlen(enc) && spif_field_is_sealed(enc, en)
		&& spif_field_open(k, "a.csv", "7", "mynumber", enc, en, &dec, &dn, &err) == 0
		&& dn == n && memcmp(dec, v, n) == 0 && dec[n] == '\0';
	if (enclen)
		*enclen = en;
	free(enc);
	free(dec);
	return good;
}

/* Open enc at (file, row, field); the error code, 0 when it opens. */
static int open_at(struct spif_fieldkey *k, const char *file, const char *row, const char *field,
                   const char *enc, size_t n, char *msg, size_t msgsz)
{
	struct spif_err err = {0};
	char *dec = (char *)"untouched";
	size_t dn = 99;
	int rc = spif_field_open(k, file, row, field, enc, n, &dec, &dn, &err);
	if (rc == 0) {
		free(dec);
		return 0;
	}
	snprintf(msg, msgsz, "%s", err.msg);
	return dec == NULL && dn == 0 ? err.code : -1;
}

/* A minimal base64 decoder, independent of the one under test. */
static size_t unb64(const char *s, size_t len, unsigned char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < len && s[i] != '='; i++) {
		const char *p = strchr(al, s[i]);
		if (!p)
			return (size_t)-1;
		v = v << 6 | (unsigned)(p - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return o;
}

/* ---- the key line ----------------------------------------------------- */

/* Parse line; the error code (0 when it parses) and its message in msg. */
static int parse_line(const char *line, char *msg, size_t msgsz)
{
	struct spif_err err = {0};
	struct spif_keyline h;
	int rc = spif_keyline_parse(line, "k.csv", &h, &err);
	snprintf(msg, msgsz, "%s", err.msg);
	spif_keyline_free(&h);
	return rc == 0 ? 0 : err.code;
}

/* A file holding text, open for reading from its start. */
static int text_fd(const char *text, size_t n)
{
	FILE *f = tmpfile();
	if (!f)
		return -1;
	int fd = dup(fileno(f));
	fclose(f);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	return fd;
}

static void test_keyline(void)
{
	struct spif_err err = {0};
	char msg[1024];
	char *fields[] = {"受給者の個人番号", "扶養親族1_個人番号"};
	char recips[2][41] = {"0123456789ABCDEF0123456789ABCDEF01234567", "89ABCDEF0123456789ABCDEF0123456789ABCDEF"};
	struct spif_keyline in = {.fmt = SPIF_FMT_CSV, .enc = SPIF_ENC_CP932, .file = "F000007",
	                          .stream = "q83vASNFZ4mrze8BI0VniQ==", .mode = "public-key", .key = "-----BEGIN PGP MESSAGE-----\n\nwcA=\n-----END PGP MESSAGE-----\n",
	                          .fields = fields, .nfields = 2};
	char *line = spif_keyline_make(&in, recips, 2);
	ok(line && line[strlen(line) - 1] == '\n', "key line made, ending in a line feed");
	int ascii = 1;
	for (const char *p = line; p && *p; p++)
		ascii &= (unsigned char)*p < 0x80;
	ok(ascii, "the key line is ASCII only (Japanese field names escaped)");
	static const char start[] = "{\"@spif-encrypted\":{\"v\":2,\"scheme\":\"aes-256-gcm\",\"format\":\"csv\","
	                            "\"encoding\":\"cp932\",\"fields\":[\"\\u53d7";
	ok(line && strncasecmp(line, start, sizeof start - 1) == 0, "members in the documented order: %.100s", line);
	ok(line && strstr(line, "],\"file\":\"F000007\",\"stream\":\"q83vASNFZ4mrze8BI0VniQ==\","
	                        "\"mode\":\"public-key\",\"recipients\":[\"0123"),
	   "then file, stream, mode, recipients");
	ok(line && strstr(line, "\"],\"key\":\"-----BEGIN PGP MESSAGE-----\\n\\nwcA=\\n-----END PGP MESSAGE-----\\n\"}}\n"),
	   "and the key, last");

	/* read it off a stream: the records after it stay there */
	char *stream = NULL;
	size_t sn = 0;
	FILE *m = open_memstream(&stream, &sn);
	fprintf(m, "%s", line);
	fputs("a,b\r\n1,2\r\n", m);
	fclose(m);
	int fd = text_fd(stream, sn);
	char *got = NULL;
	ok(spif_keyline_read(fd, "k.csv", &got, &err) == 0 && got && strlen(got) == strlen(line) - 1 &&
	   memcmp(got, line, strlen(got)) == 0, "read: the line without its line feed");
	char rest[32] = "";
	ssize_t r = read(fd, rest, sizeof rest - 1);
	is_str(r > 0 ? rest : "", "a,b\r\n1,2\r\n", "read: the records are left in the stream");
	close(fd);

	struct spif_keyline h;
	ok(spif_keyline_parse(got, "k.csv", &h, &err) == 0, "parsed back: %s", err.msg);
	ok(h.v == 2 && strcmp(h.stream, in.stream) == 0 && h.fmt == SPIF_FMT_CSV &&
	   h.enc == SPIF_ENC_CP932 && strcmp(h.file, "F000007") == 0 &&
	   strcmp(h.mode, "public-key") == 0 && strcmp(h.key, in.key) == 0 && h.nfields == 2 &&
	   strcmp(h.fields[0], fields[0]) == 0 && strcmp(h.fields[1], fields[1]) == 0,
	   "every member comes back");
	spif_keyline_free(&h);
	free(got);
	free(stream);
	free(line);

	/* NDJSON: no encoding member, UTF-8 */
	in.fmt = SPIF_FMT_NDJSON;
	in.nfields = 1;
	line = spif_keyline_make(&in, recips, 1);
	ok(line && !strstr(line, "\"encoding\""), "NDJSON: no encoding member");
	ok(line && spif_keyline_parse(line, "k", &h, &err) == 0 && h.enc == SPIF_ENC_UTF8 && h.nfields == 1,
	   "NDJSON parses back as UTF-8");
	spif_keyline_free(&h);
	free(line);
	/* no stream, no (version 2) line */
	in.stream = NULL;
	ok(spif_keyline_make(&in, recips, 1) == NULL, "no key line without a stream identifier");

	/* CRLF: the CR goes with the line end */
	fd = text_fd("{\"x\":1}\r\nrest", 14);
	ok(spif_keyline_read(fd, "k", &got, &err) == 0 && strcmp(got, "{\"x\":1}") == 0, "read: CRLF ends the line");
	free(got);
	close(fd);

	/* bad streams */
	fd = text_fd("{\"@spif-encrypted\":{", 20);
	got = (char *)"untouched";
	is_int(spif_keyline_read(fd, "k.csv", &got, &err), -1, "read: no line end");
	ok(got == NULL && err.code == SPIF_EX_DATAERR && strcmp(err.msg, "k.csv:1: the key line ends early") == 0,
	   "... %s", err.msg);
	close(fd);
	size_t bign = 70000;
	char *big = malloc(bign);
	memset(big, 'x', bign);
	fd = text_fd(big, bign);
	is_int(spif_keyline_read(fd, "k.csv", &got, &err), -1, "read: a line over 64 KiB");
	is_str(err.msg, "k.csv:1: key line longer than 65536 bytes", "... %s", err.msg);
	close(fd);
	free(big);

	static const struct {
		const char *line, *msg;
	} bad[] = {
		{"", "k.csv: not an OpenPGP message, nor a column-encrypted stream (its first line is not a key line)"},
		{"{\"@file\":\"F000001\"}", "k.csv: not an OpenPGP message, nor a column-encrypted stream (its first line is not a key line)"},
		{"{\"@spif-encrypted\":{},\"x\":1}", "k.csv: not an OpenPGP message, nor a column-encrypted stream (its first line is not a key line)"},
		{"{\"@spif-encrypted\":{\"v\":1},\"@spif-encrypted\":{\"v\":1}}", "k.csv: not an OpenPGP message, nor a column-encrypted stream (its first line is not a key line)"},
		{"{\"@spif-encrypted\":{\"v\":3,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[\"a\"],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: a key line of another version, or damaged"},
		{"{\"@spif-encrypted\":{\"v\":2,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[\"a\"],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: key line: no stream identifier, or a damaged one"},
		{"{\"@spif-encrypted\":{\"v\":2,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[\"a\"],\"file\":\"\",\"stream\":\"q83vASNFZ4mrze8BI0Vn\",\"key\":\"k\"}}",
		 "k.csv:1: key line: no stream identifier, or a damaged one"},
		{"{\"@spif-encrypted\":{\"v\":2,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[\"a\"],\"file\":\"\",\"stream\":\"q83vASNFZ4mrze8BI0VniR==\",\"key\":\"k\"}}",
		 "k.csv:1: key line: no stream identifier, or a damaged one"},
		{"{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-128-gcm\",\"format\":\"ndjson\",\"fields\":[\"a\"],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: a key line of another version, or damaged"},
		{"{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: a key line of another version, or damaged"},
		{"{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[\"a\"],\"key\":\"k\"}}",
		 "k.csv:1: a key line of another version, or damaged"},
		{"{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"xml\",\"fields\":[\"a\"],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: key line: unknown format xml"},
		{"{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"csv\",\"fields\":[\"a\"],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: key line: no or unknown encoding"},
		{"{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"tsv\",\"encoding\":\"auto\",\"fields\":[\"a\"],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: key line: no or unknown encoding"},
		{"{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[\"a\",7],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: key line: a field name that is not a string"},
		{"{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[\"\"],\"file\":\"\",\"key\":\"k\"}}",
		 "k.csv:1: key line: a field name that is not a string"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int code = parse_line(bad[i].line, msg, sizeof msg);
		ok(code == SPIF_EX_DATAERR && strcmp(msg, bad[i].msg) == 0, "bad key line %zu refused: %s", i, msg);
	}
	ok(parse_line("{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\",\"fields\":[\"a\"],"
	              "\"file\":\"\",\"key\":\"k\"}}", msg, sizeof msg) == 0, "the least a key line needs parses");
	struct spif_keyline h1;
	ok(spif_keyline_parse("{\"@spif-encrypted\":{\"v\":1,\"scheme\":\"aes-256-gcm\",\"format\":\"ndjson\","
	                      "\"fields\":[\"a\"],\"file\":\"\",\"key\":\"k\"}}", "k", &h1, &err) == 0 &&
	   h1.v == 1 && h1.stream == NULL, "version 1 is still read, without a stream");
	spif_keyline_free(&h1);
}

/* ---- whole streams of records ------------------------------------------- */

static int mem_sink(void *ctx, const void *buf, size_t n)
{
	return fwrite(buf, 1, n, ctx) == n ? 0 : -1;
}

/* text through spif_columns_run (seal or open) into *out, the rows into
 * tally (or NULL); the record count, or -1 with err. */
static long long run_tally(const char *text, enum spif_format fmt, const struct spif_colspec *s,
                           const unsigned char raw[32], int open, char **out, long long *values,
                           struct spif_tally *tally, struct spif_err *err)
{
	size_t outn = 0;
	FILE *m = open_memstream(out, &outn);
	int fd = text_fd(text, strlen(text));
	struct spif_reader *rd = spif_reader_open(fd, "in", fmt, SPIF_ENC_AUTO, err);
	struct spif_record rec;
	spif_record_init(&rec);
	long long n = -1;
	int rc = rd ? spif_reader_next(rd, &rec, err) : -1;
	struct spif_writer *wr = rc < 0 ? NULL
		: spif_writer_open(mem_sink, m, "out", fmt, SPIF_ENC_UTF8,
		                   fmt == SPIF_FMT_NDJSON ? NULL : spif_reader_dialect(rd), err);
	if (wr && rc > 0)
		n = spif_columns_run(s, raw, open, rd, &rec, wr, values, tally, err);
	if (wr && n >= 0 && spif_writer_finish(wr, err) < 0)
		n = -1;
	spif_writer_close(wr);
	spif_record_free(&rec);
	spif_reader_close(rd);
	close(fd);
	fclose(m);
	return n;
}

static long long run_text(const char *text, enum spif_format fmt, const struct spif_colspec *s,
                          const unsigned char raw[32], int open, char **out, long long *values,
                          struct spif_err *err)
{
	return run_tally(text, fmt, s, raw, open, out, values, NULL, err);
}

static const char *or_none(const char *s)
{
	return s ? s : "(none)";
}

static void test_columns(void)
{
	struct spif_err err = {0};
	struct spif_fieldkey *k = spif_fieldkey_new();
	const unsigned char *raw = spif_fieldkey_raw(k);
	char *fields[] = {"secret", "note"};

	/* CSV: quoted and unquoted values come back as they were */
	static const char csv[] = "id,secret,note\r\n1,alpha,\"a, b\"\r\n2,\"beta\",\r\n3,,plain\r\n";
	struct spif_colspec s = {.name = "in.csv", .fields = fields, .nfields = 2, .meta = 0, .file = "F000003",
	                         .line_base = 2};
	char *sealed = NULL, *back = NULL;
	long long values = 0;
	is_int(run_text(csv, SPIF_FMT_CSV, &s, raw, 0, &sealed, &values, &err), 3, "CSV: 3 records sealed (%s)", err.msg);
	is_int(values, 6, "CSV: 6 values sealed");
	ok(sealed && strstr(sealed, "ENC[aes-256-gcm,v1,") && !strstr(sealed, "alpha") && !strstr(sealed, "beta") &&
	   strstr(sealed, ",\"ENC["), "CSV: the values are ENC[...], quoted; the id is not");
	is_int(run_text(sealed, SPIF_FMT_CSV, &s, raw, 1, &back, &values, &err), 3, "CSV: opened (%s)", err.msg);
	is_str(back ? back : "", csv, "CSV: the same bytes, quoting included");
	free(back);
	back = NULL;
	/* another stream's file: the values do not open */
	struct spif_colspec other = s;
	snprintf(other.file, sizeof other.file, "F000004");
	is_int(run_text(sealed, SPIF_FMT_CSV, &other, raw, 1, &back, &values, &err), -1, "CSV: bound to its file");
	is_str(err.msg, "in.csv:3: field \"secret\": does not open here (moved from another row or field, or altered)",
	       "... %s", err.msg);
	free(back);
	back = NULL;
	free(sealed);
	sealed = NULL;

	/* NDJSON: bound to @file and @row; a value moved to another row fails */
	static const char nd[] = "{\"@file\":\"F000001\",\"@row\":2,\"secret\":\"alpha\",\"note\":\"x\"}\n"
	                         "{\"@file\":\"F000001\",\"@row\":3,\"secret\":\"beta\",\"note\":\"y\"}\n";
	struct spif_colspec sn = {.name = "in.ndjson", .fields = fields, .nfields = 2, .meta = 1, .line_base = 2};
	is_int(run_text(nd, SPIF_FMT_NDJSON, &sn, raw, 0, &sealed, &values, &err), 2, "NDJSON: sealed (%s)", err.msg);
	is_int(run_text(sealed, SPIF_FMT_NDJSON, &sn, raw, 1, &back, &values, &err), 2, "NDJSON: opened (%s)", err.msg);
	is_str(back ? back : "", nd, "NDJSON: the same bytes");
	free(back);
	back = NULL;
	/* swap the two secret values */
	char *a = sealed ? strstr(sealed, "\"secret\":\"") : NULL, *b = a ? strstr(a + 1, "\"secret\":\"") : NULL;
	ok(a && b, "two sealed secrets");
	if (a && b) {
		a += 10;
		b += 10;
		size_t la = strcspn(a, "\""), lb = strcspn(b, "\"");
		ok(la == lb, "of one length");
		char *t = strndup(a, la);
		memcpy(a, b, la);
		memcpy(b, t, la);
		free(t);
	}
	is_int(run_text(sealed, SPIF_FMT_NDJSON, &sn, raw, 1, &back, &values, &err), -1, "NDJSON: a moved value");
	ok(err.code == SPIF_EX_DATAERR && strstr(err.msg, "in.ndjson:") && strstr(err.msg, "field \"secret\": does not open here"),
	   "... refused: %s", err.msg);
	free(back);
	back = NULL;
	free(sealed);
	sealed = NULL;

	/* a field a record does not have */
	static const char partial[] = "{\"secret\":\"alpha\",\"note\":\"x\"}\n{\"secret\":\"beta\"}\n";
	is_int(run_text(partial, SPIF_FMT_NDJSON, &sn, raw, 0, &sealed, &values, &err), -1, "a record without a field");
	is_str(err.msg, "in.ndjson:2: no field \"note\"", "... %s", err.msg);
	free(sealed);
	sealed = NULL;

	/* missing: by the first record, or by the header of an empty CSV */
	struct spif_record rec;
	spif_record_init(&rec);
	spif_record_add(&rec, "secret", 6, "v", 1, 0);
	is_str(or_none(spif_columns_missing(fields, 2, &rec, NULL)), "note", "missing: note, by the record");
	is_str(or_none(spif_columns_missing(fields, 1, &rec, NULL)), "(none)", "missing: none");
	spif_record_free(&rec);
	int fd = text_fd("id,note\r\n", 9);
	struct spif_reader *rd = spif_reader_open(fd, "h.csv", SPIF_FMT_CSV, SPIF_ENC_AUTO, &err);
	spif_record_init(&rec);
	is_int(spif_reader_next(rd, &rec, &err), 0, "a CSV with only its header");
	is_str(or_none(spif_columns_missing(fields, 2, NULL, rd)), "secret", "missing: secret, by the header");
	/* and its header is written back */
	char *hdr = NULL;
	size_t hn = 0;
	FILE *m = open_memstream(&hdr, &hn);
	struct spif_writer *wr = spif_writer_open(mem_sink, m, "out", SPIF_FMT_CSV, SPIF_ENC_UTF8,
	                                          spif_reader_dialect(rd), &err);
	ok(spif_columns_header(rd, wr, &err) == 0 && spif_writer_finish(wr, &err) == 0, "header written");
	spif_writer_close(wr);
	fclose(m);
	is_str(hdr, "id,note\r\n", "... as it was");
	free(hdr);
	spif_record_free(&rec);
	spif_reader_close(rd);
	close(fd);
	spif_fieldkey_free(k);
}

/* ---- the trailer ---------------------------------------------------------- */

/* Read fd to its end into a malloc'd string. */
static char *slurp(int fd)
{
	char *p = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&p, &n);
	char b[65536];
	ssize_t r;
	while ((r = read(fd, b, sizeof b)) > 0)
		fwrite(b, 1, (size_t)r, m);
	fclose(m);
	return p;
}

/* A tally of the rows given, ended. */
static void tally_of(struct spif_tally *t, const char *const *rows, size_t n)
{
	struct spif_err err = {0};
	spif_tally_init(t, &err);
	for (size_t i = 0; i < n; i++)
		spif_tally_add(t, rows[i], strlen(rows[i]));
	spif_tally_end(t);
}

/* Check trailer line tl (with its line feed) against rows; 0, or -1 with
 * the message in err. */
static int check_rows(const struct spif_keyline *h, const unsigned char raw[32], const char *tl,
                      const char *const *rows, size_t n, int *final_eol, struct spif_err *err)
{
	struct spif_tally t;
	tally_of(&t, rows, n);
	int rc = spif_trailer_check(h, raw, tl, strlen(tl) - 1, &t, "e.ndjson", 9, final_eol, err);
	spif_tally_free(&t);
	return rc;
}

/* text (a stream after its key line) through the trailer cut: what the
 * reader gets in *got, and the check against rows. */
static int cut_text(const struct spif_keyline *h, const unsigned char raw[32], const char *text,
                    size_t textn, const char *const *rows, size_t n, char **got, struct spif_err *err)
{
	int fd = text_fd(text, textn), rfd = -1, final_eol = 1;
	struct spif_trailer_cut *c = spif_trailer_cut_start(fd, &rfd, err);
	if (!c) {
		close(fd);
		return -2;
	}
	*got = slurp(rfd);
	struct spif_tally t;
	tally_of(&t, rows, n);
	int rc = spif_trailer_cut_check(c, h, raw, &t, "e.ndjson", &final_eol, err);
	spif_tally_free(&t);
	spif_trailer_cut_free(c);
	close(fd);
	return rc;
}

static void test_trailer(void)
{
	struct spif_err err = {0};
	char hex[65];

	/* the rows' hash: SHA-256 over their netstrings, in order */
	struct spif_tally t;
	static const char *const rows3[] = {"2", "3", "10"};
	tally_of(&t, rows3, 3);
	spif_sha256_buf("1:2,1:3,2:10,", 13, hex);
	ok(t.records == 3 && strcmp(t.rows, hex) == 0, "tally: 3 rows, SHA-256 of \"1:2,1:3,2:10,\"");
	spif_tally_free(&t);
	tally_of(&t, NULL, 0);
	ok(t.records == 0 && strcmp(t.rows, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
	   "tally: no rows, the hash of nothing");
	spif_tally_free(&t);
	char longrow[301];
	memset(longrow, '7', 300);
	longrow[300] = '\0';
	const char *rows_long[] = {longrow, "2"};
	tally_of(&t, rows_long, 2);
	char *ns = NULL;
	ok(asprintf(&ns, "300:%s,1:2,", longrow) > 0, "a long row's netstring");
	spif_sha256_buf(ns, strlen(ns), hex);
	ok(strcmp(t.rows, hex) == 0, "tally: a row longer than the short path, the same netstrings");
	free(ns);
	spif_tally_free(&t);
	/* order, and where one row ends, count: "12","3" is not "1","23" */
	static const char *const a[] = {"12", "3"}, *const b[] = {"1", "23"}, *const c[] = {"3", "12"};
	struct spif_tally ta, tb, tc;
	tally_of(&ta, a, 2);
	tally_of(&tb, b, 2);
	tally_of(&tc, c, 2);
	ok(strcmp(ta.rows, tb.rows) != 0 && strcmp(ta.rows, tc.rows) != 0, "tally: split and order matter");
	spif_tally_free(&ta);
	spif_tally_free(&tb);
	spif_tally_free(&tc);

	/* the rows a run tallies: @row in NDJSON, else the place */
	struct spif_fieldkey *k = spif_fieldkey_new();
	const unsigned char *raw = spif_fieldkey_raw(k);
	char *fields[] = {"n"};
	char stream[SPIF_STREAM_B64 + 1], other[SPIF_STREAM_B64 + 1];
	ok(spif_stream_new(stream, &err) == 0 && spif_stream_new(other, &err) == 0 && strlen(stream) == 24 &&
	   strcmp(stream, other) != 0, "two stream identifiers, 24 characters, not alike");
	struct spif_colspec sn = {.name = "in.ndjson", .stream = stream, .fields = fields, .nfields = 1,
	                          .meta = 1, .line_base = 2};
	static const char nd[] = "{\"@file\":\"F000001\",\"@row\":7,\"n\":\"alpha\"}\n"
	                         "{\"@file\":\"F000001\",\"@row\":5,\"n\":\"beta\"}\n";
	char *sealed = NULL, *back = NULL;
	long long values = 0;
	spif_tally_init(&t, &err);
	is_int(run_tally(nd, SPIF_FMT_NDJSON, &sn, raw, 0, &sealed, &values, &t, &err), 2, "v2 NDJSON sealed (%s)",
	       err.msg);
	spif_tally_end(&t);
	static const char *const r75[] = {"7", "5"};
	tally_of(&ta, r75, 2);
	ok(t.records == 2 && strcmp(t.rows, ta.rows) == 0, "... its tally: rows 7 then 5, from @row");
	spif_tally_free(&t);
	spif_tally_free(&ta);
	spif_tally_init(&t, &err);
	is_int(run_tally(sealed, SPIF_FMT_NDJSON, &sn, raw, 1, &back, &values, &t, &err), 2, "... opened (%s)", err.msg);
	is_str(back ? back : "", nd, "... the same bytes");
	spif_tally_free(&t);
	free(back);
	back = NULL;
	/* the same key, another stream (or none): nothing opens */
	struct spif_colspec so = sn;
	so.stream = other;
	is_int(run_text(sealed, SPIF_FMT_NDJSON, &so, raw, 1, &back, &values, &err), -1, "another stream: refused");
	is_str(err.msg, "in.ndjson:2: field \"n\": does not open here (moved from another row or field, or altered)",
	       "... %s", err.msg);
	free(back);
	back = NULL;
	so.stream = NULL;
	is_int(run_text(sealed, SPIF_FMT_NDJSON, &so, raw, 1, &back, &values, &err), -1, "as version 1: refused");
	free(back);
	back = NULL;
	free(sealed);
	sealed = NULL;
	/* many batches (the threads take 512 records at a time): the rows
	 * still come in stream order */
	char *many = NULL, *expect = NULL;
	size_t manyn = 0, expectn = 0;
	FILE *mf = open_memstream(&many, &manyn), *ef = open_memstream(&expect, &expectn);
	for (int i = 0; i < 3001; i++) {
		int row = (i * 7919) % 3001 + 2; /* every row once, out of order */
		fprintf(mf, "{\"@row\":%d,\"n\":\"v%d\"}\n", row, i);
		fprintf(ef, "%d:%d,", row >= 1000 ? 4 : row >= 100 ? 3 : row >= 10 ? 2 : 1, row);
	}
	fclose(mf);
	fclose(ef);
	spif_tally_init(&t, &err);
	is_int(run_tally(many, SPIF_FMT_NDJSON, &sn, raw, 0, &sealed, &values, &t, &err), 3001, "3001 records sealed");
	spif_tally_end(&t);
	spif_sha256_buf(expect, expectn, hex);
	ok(t.records == 3001 && strcmp(t.rows, hex) == 0, "... their rows tallied in stream order");
	spif_tally_free(&t);
	free(sealed);
	sealed = NULL;
	free(many);
	free(expect);
	static const char nd_plain[] = "{\"n\":\"alpha\"}\n{\"n\":\"beta\"}\n{\"n\":\"\"}\n";
	spif_tally_init(&t, &err);
	is_int(run_tally(nd_plain, SPIF_FMT_NDJSON, &sn, raw, 0, &sealed, &values, &t, &err), 3, "no @row: sealed");
	spif_tally_end(&t);
	static const char *const r234[] = {"2", "3", "4"};
	tally_of(&ta, r234, 3);
	ok(strcmp(t.rows, ta.rows) == 0, "... rows 2, 3, 4, by place");
	spif_tally_free(&t);
	spif_tally_free(&ta);
	free(sealed);
	sealed = NULL;
	/* the trailer's key is not for records */
	static const char reserved[] = "{\"n\":\"a\"}\n{\"@spif-trailer\":\"x\",\"n\":\"b\"}\n";
	is_int(run_text(reserved, SPIF_FMT_NDJSON, &sn, raw, 0, &sealed, &values, &err), -1, "a field @spif-trailer");
	is_str(err.msg, "in.ndjson:2: a record whose first field is \"@spif-trailer\", the key spif keeps for "
	       "the last line of a column-encrypted stream", "... refused: %s", err.msg);
	free(sealed);
	sealed = NULL;

	/* made and checked */
	struct spif_keyline h = {.v = 2, .stream = stream, .fmt = SPIF_FMT_NDJSON, .file = "F000001",
	                         .fields = fields, .nfields = 1};
	tally_of(&t, r75, 2);
	char *tl = spif_trailer_make(&h, raw, &t, 1, &err);
	spif_tally_free(&t);
	ok(tl && strncmp(tl, "{\"@spif-trailer\":\"ENC[aes-256-gcm,v1,", 37) == 0 &&
	   strcmp(tl + strlen(tl) - 4, "]\"}\n") == 0, "trailer: %s", tl ? tl : err.msg);
	int fe = 0;
	ok(tl && check_rows(&h, raw, tl, r75, 2, &fe, &err) == 0 && fe == 1, "trailer: checks (%s)", err.msg);
	static const char *const r57[] = {"5", "7"}, *const r7[] = {"7"}, *const r755[] = {"7", "5", "5"};
	is_int(check_rows(&h, raw, tl, r57, 2, &fe, &err), -1, "rows reordered");
	is_str(err.msg, "e.ndjson:9: the records' rows are not the ones sealed, in the order sealed (records "
	       "reordered, or an @row changed)", "... %s", err.msg);
	is_int(check_rows(&h, raw, tl, r7, 1, &fe, &err), -1, "a record removed");
	is_str(err.msg, "e.ndjson:9: 1 record, where the trailer counts 2 (records added or removed)", "... %s",
	       err.msg);
	is_int(check_rows(&h, raw, tl, r755, 3, &fe, &err), -1, "a record added");
	is_str(err.msg, "e.ndjson:9: 3 records, where the trailer counts 2 (records added or removed)", "... %s",
	       err.msg);
	static const char notopen[] = "e.ndjson:9: the trailer does not open (from another stream, or altered)";
	struct spif_keyline hx = h;
	hx.stream = other;
	is_int(check_rows(&hx, raw, tl, r75, 2, &fe, &err), -1, "another stream's trailer");
	is_str(err.msg, notopen, "... %s", err.msg);
	hx = h;
	hx.file = "F000002";
	is_int(check_rows(&hx, raw, tl, r75, 2, &fe, &err), -1, "the key line's file changed");
	char *two[] = {"n", "m"};
	hx = h;
	hx.fields = two;
	hx.nfields = 2;
	is_int(check_rows(&hx, raw, tl, r75, 2, &fe, &err), -1, "the key line's fields changed");
	hx = h;
	hx.fmt = SPIF_FMT_CSV;
	hx.enc = SPIF_ENC_UTF8;
	is_int(check_rows(&hx, raw, tl, r75, 2, &fe, &err), -1, "the key line's format changed");
	struct spif_fieldkey *k2 = spif_fieldkey_new();
	is_int(check_rows(&h, spif_fieldkey_raw(k2), tl, r75, 2, &fe, &err), -1, "another key");
	spif_fieldkey_free(k2);
	char *bent = tl ? strdup(tl) : NULL;
	if (bent)
		bent[40] = bent[40] == 'A' ? 'B' : 'A';
	is_int(bent ? check_rows(&h, raw, bent, r75, 2, &fe, &err) : 0, -1, "a character changed");
	is_str(err.msg, notopen, "... %s", err.msg);
	free(bent);
	is_int(check_rows(&h, raw, "{\"@spif-trailer\":1}\n", r75, 2, &fe, &err), -1, "not a sealed trailer");
	/* a value of the stream, as a trailer, does not open (nor the other
	 * way round): the associated data begin differently */
	char *val = NULL;
	spif_field_seal_in(k, stream, "F000001", "7", "n", "{\"records\":2}", 13, &val, NULL, &err);
	char *fake = NULL;
	ok(val && asprintf(&fake, "{\"@spif-trailer\":\"%s\"}\n", val) > 0, "a value dressed as a trailer");
	is_int(fake ? check_rows(&h, raw, fake, r75, 2, &fe, &err) : 0, -1, "... does not open");
	free(val);
	free(fake);

	/* CSV: whether the source's last row had a line end */
	struct spif_keyline hc = {.v = 2, .stream = stream, .fmt = SPIF_FMT_CSV, .enc = SPIF_ENC_CP932,
	                          .file = "", .fields = fields, .nfields = 1};
	tally_of(&t, r234, 3);
	char *tc0 = spif_trailer_make(&hc, raw, &t, 0, &err);
	spif_tally_free(&t);
	fe = 1;
	ok(tc0 && check_rows(&hc, raw, tc0, r234, 3, &fe, &err) == 0 && fe == 0, "CSV: no final line end, said");
	is_int(tc0 ? check_rows(&h, raw, tc0, r234, 3, &fe, &err) : 0, -1, "... not an NDJSON stream's trailer");

	/* through the cut: the reader gets the records, never the trailer */
	static const char recs[] = "{\"@file\":\"F000001\",\"@row\":7,\"n\":\"x\"}\n"
	                           "{\"@file\":\"F000001\",\"@row\":5,\"n\":\"y\"}\n";
	char *text = NULL, *got = NULL;
	ok(tl && asprintf(&text, "%s%s", recs, tl) > 0, "records and their trailer");
	is_int(cut_text(&h, raw, text, strlen(text), r75, 2, &got, &err), 0, "cut: checks (%s)", err.msg);
	is_str(got ? got : "", recs, "cut: the reader sees the records only");
	free(got);
	is_int(cut_text(&h, raw, recs, strlen(recs), r75, 2, &got, &err), -1, "cut: no trailer");
	is_str(err.msg, "e.ndjson:4: no trailer: the stream is cut short (its last records may be missing)",
	       "... %s", err.msg);
	free(got);
	free(text);
	ok(asprintf(&text, "%s%s%s", recs, tl, recs) > 0, "... more after it");
	is_int(cut_text(&h, raw, text, strlen(text), r75, 2, &got, &err), -1, "cut: more after the trailer");
	is_str(err.msg, "e.ndjson:5: more after the trailer", "... %s", err.msg);
	is_str(got ? got : "", recs, "... the reader never saw the trailer nor what follows");
	free(got);
	free(text);
	/* CR LF, and a trailer that is the first line (no records) */
	struct spif_tally t0;
	tally_of(&t0, NULL, 0);
	char *t0l = spif_trailer_make(&h, raw, &t0, 1, &err);
	spif_tally_free(&t0);
	ok(t0l && asprintf(&text, "%.*s\r\n", (int)strlen(t0l) - 1, t0l) > 0, "a trailer alone, CR LF");
	is_int(cut_text(&h, raw, text, strlen(text), NULL, 0, &got, &err), 0, "cut: no records (%s)", err.msg);
	is_str(got ? got : "x", "", "... nothing for the reader");
	free(got);
	free(text);
	free(t0l);
	/* the marker inside a line is not a trailer; nor in a CSV quoted
	 * field (its quotes doubled) */
	static const char inside[] = "{\"n\":\"a\",\"m\":\"{\\\"@spif-trailer\\\":\"}\n"
	                             "x,\"a\n{\"\"@spif-trailer\"\":\"\"b\"\n";
	ok(asprintf(&text, "%s%s", inside, tl) > 0, "the marker's text within records");
	static const char *const r2[] = {"7", "5"};
	is_int(cut_text(&h, raw, text, strlen(text), r2, 2, &got, &err), 0, "cut: found at the end only (%s)",
	       err.msg);
	is_str(got ? got : "", inside, "... all of the records reach the reader");
	free(got);
	free(text);
	/* around the thread's 256 KiB reads: the trailer starting at every
	 * offset near the boundary, and a line end just before it */
	size_t edge = 256 * 1024;
	int all = 1;
	for (size_t off = edge - 20; off <= edge + 2 && tl; off++) {
		size_t tn = strlen(tl);
		char *big = malloc(off + tn);
		memset(big, 'z', off);
		big[0] = '{';
		big[off - 1] = '\n';
		memcpy(big + off, tl, tn);
		int rc = cut_text(&h, raw, big, off + tn, r75, 2, &got, &err);
		all &= rc == 0 && got && strlen(got) == off && memcmp(got, big, off) == 0;
		if (rc != 0)
			printf("# at %zu: %s\n", off, err.msg);
		free(got);
		free(big);
	}
	ok(all, "cut: a trailer across the read boundary is found, and nothing lost");
	/* stopped early: the reader gave up */
	size_t hugen = 4 << 20;
	char *huge = malloc(hugen);
	memset(huge, 'y', hugen);
	for (size_t i = 99; i < hugen; i += 100)
		huge[i] = '\n';
	int fd = text_fd(huge, hugen), rfd = -1;
	struct spif_trailer_cut *cut = spif_trailer_cut_start(fd, &rfd, &err);
	char small[100];
	ok(cut && read(rfd, small, sizeof small) == (ssize_t)sizeof small, "cut: a reader that reads a little");
	spif_trailer_cut_free(cut);
	ok(1, "... and stops: the thread ends");
	close(fd);
	free(huge);
	free(tl);
	free(tc0);
	spif_fieldkey_free(k);
}

/* ---- the data key out of a key line ------------------------------------- */

/* In a throwaway GnuPG home, with a passphrase (no key needed): the 32
 * bytes come back; a message holding another length, and a wrong
 * passphrase, are refused. */
static void test_unwrap(void)
{
	char home[256];
	const char *tmp = getenv("TMPDIR");
	snprintf(home, sizeof home, "%s/spif-unwrap.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(home)) {
		ok(0, "mkdtemp");
		return;
	}
	char *old = getenv("GNUPGHOME") ? strdup(getenv("GNUPGHOME")) : NULL;
	setenv("GNUPGHOME", home, 1);
	struct spif_err err = {0};
	unsigned char key[32], raw[32];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	struct spif_pgp_enc pe = {.passphrase = "correct horse", .armor = 1};
	char *armored = NULL, *short_one = NULL;
	size_t an = 0, sn = 0;
	int made = spif_pgp_encrypt_buf(key, sizeof key, &pe, &armored, &an, &err) == 0 &&
	           spif_pgp_encrypt_buf(key, 16, &pe, &short_one, &sn, &err) == 0;
	ok(made, "wrapped with a passphrase (%s)", made ? "ok" : err.msg);
	if (made) {
		struct spif_keyline h = {.key = armored};
		char signer[41] = "x";
		int sig = 7;
		memset(raw, 0, sizeof raw);
		ok(spif_keyline_unwrap(&h, "s", "correct horse", raw, signer, &sig, &err) == 0 &&
		   memcmp(raw, key, sizeof key) == 0, "unwrap: the 32 bytes back (%s)", err.msg);
		ok(signer[0] == '\0' && sig == 0, "... unsigned, and said so");
		memset(&err, 0, sizeof err);
		h.key = short_one;
		ok(spif_keyline_unwrap(&h, "s", "correct horse", raw, signer, &sig, &err) == -1 &&
		   err.code == SPIF_EX_DATAERR && strcmp(err.msg, "s:1: the key line holds no 256-bit key") == 0,
		   "unwrap: 16 bytes are no data key (%s)", err.msg);
		memset(&err, 0, sizeof err);
		h.key = armored;
		ok(spif_keyline_unwrap(&h, "s", "wrong", raw, signer, &sig, &err) == -1 && err.code != 0,
		   "unwrap: a wrong passphrase is refused (%s)", err.msg);
	}
	free(armored);
	free(short_one);
	if (old) {
		setenv("GNUPGHOME", old, 1);
		free(old);
	} else
		unsetenv("GNUPGHOME");
	char cmd[700];
	snprintf(cmd, sizeof cmd, "gpgconf --homedir '%s' --kill gpg-agent >/dev/null 2>&1; rm -rf '%s'", home, home);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", home);
}

/* ---- the passphrase file ------------------------------------------------ */

static int pass_of(const char *content, size_t n, char **out, struct spif_err *err)
{
	char path[] = "/tmp/spif-pass.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, content, n) != (ssize_t)n)
		return -2;
	close(fd);
	int rc = spif_passphrase_read(path, out, err);
	unlink(path);
	return rc;
}

static void test_passphrase(void)
{
	struct spif_err err = {0};
	char *p = NULL;
	ok(pass_of("correct horse\nsecond line\n", 26, &p, &err) == 0 && strcmp(p, "correct horse") == 0,
	   "the first line");
	free(p);
	ok(pass_of("windows\r\n", 9, &p, &err) == 0 && strcmp(p, "windows") == 0, "without its CR");
	free(p);
	ok(pass_of("no line end", 11, &p, &err) == 0 && strcmp(p, "no line end") == 0, "a file without a line end");
	free(p);
	is_int(pass_of("\nsecond\n", 8, &p, &err), -1, "an empty first line is refused");
	ok(p == NULL && err.code == SPIF_EX_DATAERR && strstr(err.msg, ": the first line (the passphrase) is empty"),
	   "... %s", err.msg);
	char *long_line = malloc(1100);
	memset(long_line, 'p', 1100);
	ok(pass_of(long_line, 1024, &p, &err) == 0 && strlen(p) == 1024, "1024 bytes: accepted");
	free(p);
	is_int(pass_of(long_line, 1025, &p, &err), -1, "1025 bytes: refused");
	ok(err.code == SPIF_EX_DATAERR && strstr(err.msg, ": the passphrase is longer than 1024 bytes"), "... %s", err.msg);
	is_int(pass_of(long_line, 1100, &p, &err), -1, "1100 bytes: refused");
	free(long_line);
	ok(spif_passphrase_read("/nonexistent/pass", &p, &err) == -1 && err.code == SPIF_EX_NOINPUT &&
	   strcmp(err.msg, "/nonexistent/pass: No such file or directory") == 0, "missing file: %s", err.msg);
}

int main(void)
{
	struct spif_err err = {0};
	ok(spif_crypto_init(&err) == 0, "libgcrypt initialised");

	struct spif_fieldkey *k = spif_fieldkey_new();
	ok(k != NULL, "a fresh key");
	const unsigned char *raw = spif_fieldkey_raw(k);
	unsigned char raw_copy[32];
	memcpy(raw_copy, raw, 32);
	struct spif_fieldkey *k2 = spif_fieldkey_new();
	ok(k2 && memcmp(spif_fieldkey_raw(k2), raw_copy, 32) != 0, "two fresh keys differ");
	struct spif_fieldkey *kcopy = spif_fieldkey_from(raw_copy);
	ok(kcopy && memcmp(spif_fieldkey_raw(kcopy), raw_copy, 32) == 0,
	   "a key from raw bytes keeps them");

	/* --- round trips ---------------------------------------------------- */
	size_t en = 0;
	ok(round_trip(k, "", 0, &en), "empty value round trip (%zu chars)", en);
	static const char num[] = "123456789018";
	ok(round_trip(k, num, strlen(num), &en), "12-digit number round trip (%zu chars)", en);
	static const char jp[] = "山田 太郎／東京都千代田区永田町１－７－１";
	ok(round_trip(k, jp, strlen(jp), NULL), "Japanese (UTF-8) round trip");
	static const char bin[] = "a\0b\r\n\xff\xfe";
	ok(round_trip(k, bin, sizeof bin - 1, NULL), "bytes with NUL, CR/LF, 0xff round trip");
	size_t big = 1 << 20;
	char *mib = malloc(big);
	for (size_t i = 0; i < big; i++)
		mib[i] = (char)(i * 31 + i / 4099);
	ok(round_trip(k, mib, big, &en), "1 MiB round trip (%zu chars)", en);
	for (size_t n = 0; n <= 7; n++)
		ok(round_trip(k, "abcdefg", n, NULL), "length %zu round trip (base64 padding)", n);

	/* the key from the raw bytes opens what the first key sealed */
	char *enc = NULL, *dec = NULL;
	size_t dn = 0;
	ok(spif_field_seal(k, "a.csv", "7", "mynumber", num, strlen(num), &enc, &en, &err) == 0,
	   "seal: %s", enc ? enc : err.msg);
	ok(spif_field_open(kcopy, "a.csv", "7", "mynumber", enc, en, &dec, &dn, &err) == 0
	   && dn == strlen(num) && strcmp(dec, num) == 0, "a copy of the key opens it");
	free(dec);

	/* --- the format, checked with libgcrypt directly -------------------- */
	static const char pre[] = "ENC[aes-256-gcm,v1,";
	ok(strncmp(enc, pre, strlen(pre)) == 0 && enc[en - 1] == ']', "ENC[aes-256-gcm,v1,...]");
	const char *c1 = strchr(enc + strlen(pre), ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	ok(c1 && c2 && !strchr(c2 + 1, ','), "three comma-separated parts");
	unsigned char nonce[32], ct[64], tag[32], pt[64];
	size_t nl = c1 ? unb64(enc + strlen(pre), (size_t)(c1 - enc) - strlen(pre), nonce) : 0;
	size_t cl = c2 ? unb64(c1 + 1, (size_t)(c2 - c1 - 1), ct) : 0;
	size_t tl = c2 ? unb64(c2 + 1, strlen(c2 + 1) - 1, tag) : 0;
	ok(nl == 12 && cl == strlen(num) && tl == 16,
	   "12-byte nonce, %zu-byte ciphertext, 16-byte tag", cl);
	ok(c1 && (size_t)(c1 - enc) - strlen(pre) == 16 && strlen(c2 + 1) - 1 == 24,
	   "standard base64 with padding (16 and 24 chars)");
	static const char aad[] = "spif-field-v1\0a.csv\0" "7\0mynumber";
	gcry_cipher_hd_t h;
	int gc = gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0) == 0
		&& gcry_cipher_setkey(h, raw_copy, 32) == 0 && gcry_cipher_setiv(h, nonce, 12) == 0
		&& gcry_cipher_authenticate(h, aad, sizeof aad - 1) == 0
		&& gcry_cipher_decrypt(h, pt, cl, ct, cl) == 0
		&& gcry_cipher_checktag(h, tag, 16) == 0;
	gcry_cipher_close(h);
	ok(gc && memcmp(pt, num, cl) == 0,
	   "plain AES-256-GCM with AAD \"spif-field-v1\\0file\\0row\\0field\" opens it");

	/* two seals of the same value differ (fresh nonce) */
	char *enc2 = NULL;
	size_t en2 = 0;
	spif_field_seal(k, "a.csv", "7", "mynumber", num, strlen(num), &enc2, &en2, &err);
	ok(enc2 && strcmp(enc, enc2) != 0 && strncmp(enc, enc2, strlen(pre) + 16) != 0,
	   "sealing twice gives different nonces and ciphertexts");
	free(enc2);

	/* nonces never repeat: not within a handle, not across two handles on
	 * the same key (spif encrypt seals on two threads, one handle each) */
	{
		enum { N = 2000 };
		struct spif_fieldkey *kk = spif_fieldkey_from(spif_fieldkey_raw(k));
		static char seen[2 * N][17];
		int distinct = kk != NULL;
		for (int i = 0; distinct && i < 2 * N; i++) {
			char *x = NULL;
			size_t xn = 0;
			distinct = spif_field_seal(i % 2 ? kk : k, "f", "2", "n", num, strlen(num), &x, &xn,
			                           &err) == 0;
			if (distinct)
				memcpy(seen[i], x + strlen(pre), 16), seen[i][16] = '\0';
			free(x);
		}
		for (int i = 0; distinct && i < 2 * N; i++)
			for (int j = i + 1; distinct && j < 2 * N; j++)
				distinct = strcmp(seen[i], seen[j]) != 0;
		ok(distinct, "%d nonces from two handles on one key, all different", 2 * N);
		spif_fieldkey_free(kk);
	}

	/* --- wrong place, wrong key, altered -------------------------------- */
	static const char nothere[] = "does not open here (moved from another row or field, or altered)";
	char msg[1024] = "";
	is_int(open_at(k, "a.csv", "8", "mynumber", enc, en, msg, sizeof msg), SPIF_EX_DATAERR,
	       "moved to another row: DATAERR");
	is_str(msg, nothere, "moved to another row: message");
	is_int(open_at(k, "a.csv", "7", "name", enc, en, msg, sizeof msg), SPIF_EX_DATAERR,
	       "moved to another field");
	is_int(open_at(k, "b.csv", "7", "mynumber", enc, en, msg, sizeof msg), SPIF_EX_DATAERR,
	       "moved to another file");
	/* the boundaries are not ambiguous: "a.csv","7" vs "a.csv7","" etc. */
	is_int(open_at(k, "a.csv7", "", "mynumber", enc, en, msg, sizeof msg), SPIF_EX_DATAERR,
	       "file and row run together do not open it");
	is_int(open_at(k, "a.csv", "", "7mynumber", enc, en, msg, sizeof msg), SPIF_EX_DATAERR,
	       "row and field run together do not open it");
	is_int(open_at(k2, "a.csv", "7", "mynumber", enc, en, msg, sizeof msg), SPIF_EX_DATAERR,
	       "another key does not open it");
	is_str(msg, nothere, "another key: same message");

	/* every base64 character of every part changed, one at a time, to
	 * another base64 character: never opens */
	int flips = 0, opened = 0, malformed = 0;
	char *alt = strdup(enc);
	for (size_t i = strlen(pre); i < en - 1; i++) {
		if (alt[i] == ',' || alt[i] == '=')
			continue;
		char orig = alt[i];
		alt[i] = orig == 'A' ? 'B' : 'A';
		int code = open_at(k, "a.csv", "7", "mynumber", alt, en, msg, sizeof msg);
		if (code == 0)
			opened++;
		else if (strcmp(msg, "not an ENC[...] value") == 0)
			malformed++; /* padding bits that must be zero */
		else if (code != SPIF_EX_DATAERR || strcmp(msg, nothere) != 0)
			opened += 1000;
		alt[i] = orig;
		flips++;
	}
	ok(opened == 0, "%d altered characters: none opens (%d caught as malformed)", flips,
	   malformed);
	free(alt);

	/* a flipped ciphertext byte, re-encoded properly */
	static const char spot[] = "0123456789";
	char *e3 = NULL;
	size_t e3n = 0;
	spif_field_seal(k, "f", "1", "x", spot, 10, &e3, &e3n, &err);
	unsigned char ctb[16];
	const char *p1 = strchr(e3 + strlen(pre), ','), *p2 = strchr(p1 + 1, ',');
	size_t cbl = unb64(p1 + 1, (size_t)(p2 - p1 - 1), ctb);
	ctb[3] ^= 1;
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char re[32];
	size_t ro = 0;
	for (size_t i = 0; i < cbl; i += 3) {
		unsigned v = (unsigned)ctb[i] << 16 | (i + 1 < cbl ? (unsigned)ctb[i + 1] << 8 : 0)
			| (i + 2 < cbl ? ctb[i + 2] : 0);
		re[ro++] = al[v >> 18];
		re[ro++] = al[(v >> 12) & 63];
		re[ro++] = i + 1 < cbl ? al[(v >> 6) & 63] : '=';
		re[ro++] = i + 2 < cbl ? al[v & 63] : '=';
	}
	ok(ro == (size_t)(p2 - p1 - 1), "re-encoded the altered ciphertext");
	memcpy((char *)p1 + 1, re, ro);
	is_int(open_at(k, "f", "1", "x", e3, e3n, msg, sizeof msg), SPIF_EX_DATAERR,
	       "one flipped ciphertext bit: DATAERR");
	is_str(msg, nothere, "flipped bit: message");
	free(e3);

	/* --- malformed ------------------------------------------------------ */
	const char *badv[] = {
		"",
		"123456789018",
		"ENC[",
		"ENC[aes-256-gcm,v1,]",
		"ENC[aes-128-gcm,v1,AAAAAAAAAAAAAAAA,,AAAAAAAAAAAAAAAAAAAAAA==]",
		"ENC[aes-256-gcm,v2,AAAAAAAAAAAAAAAA,,AAAAAAAAAAAAAAAAAAAAAA==]",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAA,,AAAAAAAAAAAAAAAAAAAAAA==]",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,,AAAAAAAAAAAAAAAAAAAAAA=]",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,,AAAAAAAAAAAAAAAAAAAAAB==]",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,A,AAAAAAAAAAAAAAAAAAAAAA==]",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,AA AA,AAAAAAAAAAAAAAAAAAAAAA==]",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,AA==AA==,AAAAAAAAAAAAAAAAAAAAAA==]",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,,AAAAAAAAAAAAAAAAAAAAAA==",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,,AAAAAAAAAAAAAAAAAAAAAA==,]",
		"ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,AAAA,AAAAAAAAAAAAAAAAAAAAAA==]x",
		" ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,AAAA,AAAAAAAAAAAAAAAAAAAAAA==]",
	};
	for (size_t i = 0; i < sizeof badv / sizeof *badv; i++) {
		int code = open_at(k, "f", "1", "x", badv[i], strlen(badv[i]), msg, sizeof msg);
		ok(code == SPIF_EX_DATAERR && strcmp(msg, "not an ENC[...] value") == 0
		   && !spif_field_is_sealed(badv[i], strlen(badv[i])),
		   "malformed %zu \"%.30s\": %s", i, badv[i], msg);
	}
	static const char wellformed[] = "ENC[aes-256-gcm,v1,AAAAAAAAAAAAAAAA,AAAA,AAAAAAAAAAAAAAAAAAAAAA==]";
	ok(spif_field_is_sealed(wellformed, strlen(wellformed)), "is_sealed: well-formed");
	is_int(open_at(k, "f", "1", "x", wellformed, strlen(wellformed), msg, sizeof msg),
	       SPIF_EX_DATAERR, "but made up: does not open (%s)", msg);
	ok(spif_field_is_sealed(enc, en), "is_sealed: a real one");
	ok(!spif_field_is_sealed(enc, en - 1), "is_sealed: cut by one");
	ok(!spif_field_is_sealed(NULL, 0), "is_sealed: NULL");
	/* not NUL-terminated: the length counts */
	char *nonul = malloc(en);
	memcpy(nonul, enc, en);
	ok(spif_field_is_sealed(nonul, en), "is_sealed reads exactly n bytes");
	ok(spif_field_open(k, "a.csv", "7", "mynumber", nonul, en, &dec, &dn, &err) == 0
	   && strcmp(dec, num) == 0, "open reads exactly n bytes");
	free(dec);
	free(nonul);
	free(enc);

	/* --- a million seals ------------------------------------------------ */
	enum { N = 1000000 };
	char row[32];
	double t0 = now();
	size_t total = 0;
	int fails = 0;
	for (int i = 0; i < N; i++) {
		snprintf(row, sizeof row, "%d", i);
		char *s = NULL;
		size_t sn = 0;
		if (spif_field_seal(k, "people.csv", row, "mynumber", num, 12, &s, &sn, NULL) < 0)
			fails++;
		total += sn;
		free(s);
	}
	double dt = now() - t0;
	ok(fails == 0, "1,000,000 seals");
	printf("# 1,000,000 seals of a 12-byte value: %.3f s (%.2f us each, %zu bytes out)\n", dt,
	       dt * 1e6 / N, total);
	/* generous: this binary runs under ASan/UBSan; at -O2 it is well under 1 s */
	ok(dt < 20, "in reasonable time under the sanitizers (%.2f s)", dt);

	/* one value opened a million times would be as fast; check a sample
	 * of opens for the timing too */
	char *s = NULL;
	size_t sn = 0;
	spif_field_seal(k, "people.csv", "42", "mynumber", num, 12, &s, &sn, NULL);
	t0 = now();
	int bad = 0;
	for (int i = 0; i < N / 10; i++) {
		char *d = NULL;
		size_t dl = 0;
		if (spif_field_open(k, "people.csv", "42", "mynumber", s, sn, &d, &dl, NULL) < 0
		    || dl != 12)
			bad++;
		free(d);
	}
	dt = now() - t0;
	free(s);
	ok(bad == 0, "100,000 opens");
	printf("# 100,000 opens: %.3f s (%.2f us each)\n", dt, dt * 1e6 / (N / 10));

	/* errors */
	char *o = (char *)"x";
	ok(spif_field_seal(NULL, "f", "1", "x", "v", 1, &o, NULL, &err) == -1 && o == NULL,
	   "no key: error");
	ok(spif_field_seal(k, NULL, "1", "x", "v", 1, &o, NULL, &err) == -1, "no file: error");

	spif_fieldkey_free(k);
	spif_fieldkey_free(k2);
	spif_fieldkey_free(kcopy);
	spif_fieldkey_free(NULL);
	free(mib);

	test_keyline();
	test_columns();
	test_trailer();
	test_passphrase();
	test_unwrap();
	return tap_done();
}
