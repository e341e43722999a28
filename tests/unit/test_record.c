/* test_record.c - the record stream: CSV/TSV/NDJSON readers and writers,
 * encodings (UTF-8, CP932, EUC-JP, auto), error rows and byte offsets,
 * CP932 round trips, streaming across read boundaries. */
#include "record.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- helpers ---------------------------------------------------------- */

struct mem {
	char *p;
	size_t n, cap;
};

static void mem_add(struct mem *m, const void *b, size_t n)
{
	if (m->n + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 256;
		while (cap < m->n + n + 1)
			cap *= 2;
		char *p = realloc(m->p, cap);
		if (!p)
			abort();
		m->p = p;
		m->cap = cap;
	}
	if (n)
		memcpy(m->p + m->n, b, n);
	m->n += n;
	m->p[m->n] = '\0';
}

static int mem_sink(void *ctx, const void *b, size_t n)
{
	mem_add(ctx, b, n);
	return 0;
}

static void mem_tap(void *ctx, const void *b, size_t n)
{
	mem_add(ctx, b, n);
}

/* A file descriptor reading data (an unlinked temporary file). */
static int data_fd(const void *data, size_t n)
{
	char path[] = "/tmp/spif-test-record-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	unlink(path);
	const char *p = data;
	size_t left = n;
	while (left) {
		ssize_t k = write(fd, p, left);
		if (k <= 0)
			abort();
		p += k;
		left -= (size_t)k;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* A pipe fed by a child that writes data in pieces of step bytes, so that
 * the reader sees short reads at odd places. */
static int pipe_fd(const void *data, size_t n, size_t step, pid_t *pid)
{
	int p[2];
	if (pipe(p) < 0)
		abort();
	*pid = fork();
	if (*pid < 0)
		abort();
	if (*pid == 0) {
		close(p[0]);
		const char *s = data;
		while (n) {
			size_t k = n < step ? n : step;
			ssize_t w = write(p[1], s, k);
			if (w <= 0)
				_exit(1);
			s += w;
			n -= (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

/* The result of reading a whole input. */
struct run {
	int rc;              /* last spif_reader_next result: 0 or -1 */
	long long nrec;
	struct spif_err err;
	struct mem dump;     /* "ROW|k=v|k=v\n" per record ("*" after a quoted field) */
	enum spif_enc enc;
	struct spif_dialect d;
	long long lossy, lossy_row, bytes;
	size_t ncols;
	struct mem tap;
};

static void run_fd(struct run *r, int fd, enum spif_format fmt, enum spif_enc enc)
{
	memset(r, 0, sizeof *r);
	struct spif_reader *rd = spif_reader_open(fd, "t", fmt, enc, &r->err);
	if (!rd) {
		r->rc = -2;
		return;
	}
	spif_reader_set_tap(rd, mem_tap, &r->tap);
	struct spif_record rec;
	spif_record_init(&rec);
	while ((r->rc = spif_reader_next(rd, &rec, &r->err)) == 1) {
		char row[32];
		int k = snprintf(row, sizeof row, "%lld", rec.row);
		mem_add(&r->dump, row, (size_t)k);
		for (size_t i = 0; i < rec.n; i++) {
			mem_add(&r->dump, "|", 1);
			mem_add(&r->dump, rec.f[i].key, rec.f[i].klen);
			mem_add(&r->dump, "=", 1);
			mem_add(&r->dump, rec.f[i].val, rec.f[i].vlen);
			if (rec.f[i].flags & SPIF_FIELD_QUOTED)
				mem_add(&r->dump, "*", 1);
		}
		mem_add(&r->dump, "\n", 1);
		r->nrec++;
	}
	if (!r->dump.p)
		mem_add(&r->dump, "", 0);
	r->enc = spif_reader_encoding(rd);
	r->d = *spif_reader_dialect(rd);
	r->lossy = spif_reader_lossy(rd, &r->lossy_row);
	r->bytes = spif_reader_bytes(rd);
	r->ncols = spif_reader_ncols(rd);
	spif_record_free(&rec);
	spif_reader_close(rd);
}

static void run_data(struct run *r, const void *data, size_t n, enum spif_format fmt,
                     enum spif_enc enc)
{
	int fd = data_fd(data, n);
	run_fd(r, fd, fmt, enc);
	close(fd);
}

#define RUN(r, s, fmt, enc) run_data((r), (s), sizeof(s) - 1, (fmt), (enc))

static void run_free(struct run *r)
{
	free(r->dump.p);
	free(r->tap.p);
}

static void check_err(struct run *r, int code, const char *msg, const char *what)
{
	ok(r->rc == -1 && r->err.code == code && strcmp(r->err.msg, msg) == 0, "%s", what);
	if (strcmp(r->err.msg, msg) != 0)
		printf("#   got \"%s\" (code %d), expected \"%s\"\n", r->err.msg, r->err.code, msg);
}

static void check_dump(struct run *r, const char *want, const char *what)
{
	ok(r->dump.p && strcmp(r->dump.p, want) == 0, "%s", what);
	if (!r->dump.p || strcmp(r->dump.p, want) != 0)
		printf("#   got:\n%s#   expected:\n%s", r->dump.p ? r->dump.p : "(null)\n", want);
}

/* Write records with a writer into memory. */
static int write_all(struct mem *out, enum spif_format fmt, enum spif_enc enc,
                     const struct spif_dialect *d, const struct spif_record *recs, size_t n,
                     int rowmeta, struct spif_err *err)
{
	struct spif_writer *w = spif_writer_open(mem_sink, out, "out", fmt, enc, d, err);
	if (!w)
		return -1;
	spif_writer_set_rowmeta(w, rowmeta);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = spif_writer_put(w, &recs[i], err);
	if (r == 0)
		r = spif_writer_finish(w, err);
	spif_writer_close(w);
	return r;
}

static void rec_of(struct spif_record *r, long long row, const char *const *kv, size_t n)
{
	spif_record_init(r);
	r->row = row;
	for (size_t i = 0; i + 1 < n; i += 2)
		spif_record_add(r, kv[i], strlen(kv[i]), kv[i + 1], strlen(kv[i + 1]), 0);
}

/* --- records ---------------------------------------------------------- */

static void test_records(void)
{
	struct spif_record r;
	spif_record_init(&r);
	ok(spif_record_add(&r, "a", 1, "1", 1, 0) == 0, "record_add");
	for (int i = 0; i < 200; i++) { /* enough to move the arena */
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		spif_record_add(&r, k, strlen(k), "value-value-value-value", 23, 0);
	}
	const struct spif_field *f = spif_record_get(&r, "a");
	ok(f && strcmp(f->val, "1") == 0, "record_get after the arena moved");
	f = spif_record_get(&r, "k199");
	ok(f && f->vlen == 23, "record_get last field");
	ok(spif_record_get(&r, "nope") == NULL, "record_get missing key -> NULL");
	spif_record_set(&r, 0, "xyz-longer-than-before", 22);
	is_str(r.f[0].val, "xyz-longer-than-before", "record_set longer value");
	spif_record_set(&r, 0, "**", 2);
	is_str(r.f[0].val, "**", "record_set shorter value in place");
	spif_record_set(&r, 1, r.f[2].val, r.f[2].vlen); /* value from the arena itself */
	is_str(r.f[1].val, "value-value-value-value", "record_set from its own arena");
	spif_record_clear(&r);
	is_int(r.n, 0, "record_clear empties");
	spif_record_free(&r);

	is_int(spif_format_parse("tsv"), SPIF_FMT_TSV, "format_parse tsv");
	is_int(spif_format_parse("xml"), SPIF_FMT_NONE, "format_parse unknown");
	is_str(spif_format_name(SPIF_FMT_NDJSON), "ndjson", "format_name");
	is_int(spif_enc_parse("Windows-31J"), SPIF_ENC_CP932, "enc_parse windows-31j");
	is_int(spif_enc_parse("utf8"), SPIF_ENC_UTF8, "enc_parse utf8");
	is_int(spif_enc_parse("eucjp"), SPIF_ENC_EUCJP, "enc_parse eucjp");
	is_int(spif_enc_parse("latin1"), -1, "enc_parse unknown");
	is_str(spif_enc_name(SPIF_ENC_UTF8_BOM), "utf-8-bom", "enc_name");
}

static void test_utf8_valid(void)
{
	static const struct {
		const char *s;
		size_t want;
	} v[] = {
		{"abc", 3},
		{"\xE3\x81\x82", 3},               /* あ */
		{"a\xC0\xAF", 1},                  /* overlong '/' */
		{"ab\xE0\x80\xAF", 2},             /* overlong 3-byte */
		{"\xED\xA0\x80", 0},               /* surrogate U+D800 */
		{"x\xF4\x90\x80\x80", 1},          /* above U+10FFFF */
		{"\xF0\xA0\xAE\xB7z", 5},          /* 𠮷 */
		{"\xE3\x81", 0},                   /* cut short */
		{"ok\xFF", 2},
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		is_int(spif_utf8_valid_prefix((const unsigned char *)v[i].s, strlen(v[i].s)), v[i].want,
		       "utf8_valid_prefix case %zu", i);
	/* long ASCII run then a bad byte: the fast path must find it exactly */
	unsigned char big[300];
	memset(big, 'a', sizeof big);
	big[257] = 0x80;
	is_int(spif_utf8_valid_prefix(big, sizeof big), 257, "utf8_valid_prefix after 257 ASCII bytes");
}

/* --- CSV reading ------------------------------------------------------ */

static void test_csv_basic(void)
{
	struct run r;
	RUN(&r, "id,name,note\r\n1,\"Yamada \"\"Taro\"\"\",\"line1\r\nline2\"\r\n2,b,\"\"\r\n",
	    SPIF_FMT_CSV, SPIF_ENC_UTF8);
	check_dump(&r,
	           "2|id=1|name=Yamada \"Taro\"*|note=line1\r\nline2*\n"
	           "3|id=2|name=b|note=*\n",
	           "quoted fields with \"\" and an embedded CRLF; rows count records");
	is_int(r.rc, 0, "CRLF file ends cleanly");
	is_str(r.d.eol, "\r\n", "CRLF detected from the header");
	ok(r.d.final_eol && !r.d.quote_all && !r.d.bom, "dialect: final eol, minimal quoting, no BOM");
	is_int(r.enc, SPIF_ENC_UTF8, "encoding utf-8");
	run_free(&r);

	RUN(&r, "a,b\n1,2\n3,4", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_dump(&r, "2|a=1|b=2\n3|a=3|b=4\n", "LF file, last line without line end");
	is_str(r.d.eol, "\n", "LF detected from the header");
	is_int(r.d.final_eol, 0, "no final line end noticed");
	run_free(&r);

	RUN(&r, "a,b\n1,2\r\n3,4\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_dump(&r, "2|a=1|b=2\n3|a=3|b=4\n", "mixed CRLF and LF accepted");
	run_free(&r);

	RUN(&r, "\"a\",\"b\"\n\"1\",\"2\"\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.d.quote_all, "quote_all when every header field is quoted");
	check_dump(&r, "2|a=1*|b=2*\n", "quoted flags kept per field");
	run_free(&r);

	RUN(&r, "a\tb c\n1,2\t\"x\ty\"\n", SPIF_FMT_TSV, SPIF_ENC_AUTO);
	check_dump(&r, "2|a=1,2|b c=x\ty*\n", "TSV: tab separated, quotes work the same");
	run_free(&r);

	RUN(&r, "a,b\n1,x\"y\"\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_dump(&r, "2|a=1|b=x\"y\"\n", "a quote inside an unquoted field is data");
	run_free(&r);

	RUN(&r, "a,b\r\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.nrec == 0 && r.ncols == 2, "header-only file: no records, no error");
	run_free(&r);

	RUN(&r, "a,b", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.nrec == 0 && r.ncols == 2 && !r.d.final_eol,
	   "header-only file without a line end");
	run_free(&r);

	RUN(&r, "a,b\n1,2\n\n\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.nrec == 1, "trailing blank lines are ignored");
	run_free(&r);

	RUN(&r, "a\n1\n\n2\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_dump(&r, "2|a=1\n3|a=\n4|a=2\n", "one column: a blank line inside is an empty value");
	run_free(&r);

	RUN(&r, "a,b\n,\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_dump(&r, "2|a=|b=\n", "empty fields");
	run_free(&r);
}

static void test_csv_errors(void)
{
	struct run r;
	RUN(&r, "", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: no header row", "empty input: no header row");
	run_free(&r);

	RUN(&r, "\xEF\xBB\xBF", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: no header row", "only a BOM: no header row");
	run_free(&r);

	RUN(&r, "a,b,a,b\n1,2,3,4\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: duplicate column name \"a\"", "duplicate header name");
	run_free(&r);

	RUN(&r, "621498320257,x,621498320257\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: duplicate column name \"************\"",
	          "a header that is really data: no number in the message");
	run_free(&r);

	RUN(&r, "a,b\n1,\"x\ny\"\n1,2,3\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:3: 3 fields, header has 2",
	          "too many fields; the row counts records, not lines");
	is_int(r.nrec, 1, "the good record before it was returned");
	run_free(&r);

	RUN(&r, "a,b,c,d,e,f\n1,2,3,4,5\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:2: 5 fields, header has 6", "too few fields");
	run_free(&r);

	RUN(&r, "a,b\n1,2\n\n3,4\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:3: 1 field, header has 2", "a blank line in the body");
	run_free(&r);

	RUN(&r, "a,b\n1,2\n3,\"open\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:3: unterminated quoted field", "unterminated quote at EOF");
	run_free(&r);

	RUN(&r, "a,b\n\"ab\"c,2\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:2: field 1: text after the closing quote",
	          "garbage after a closing quote");
	run_free(&r);

	RUN(&r, "a,b\n1,2\n3,x\0y\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:3: byte offset 11: NUL byte", "NUL byte with its offset");
	is_int(r.nrec, 1, "records before the NUL came out");
	run_free(&r);

	RUN(&r, "a,b\n1,\xE3\x81\x82\n2,x\xC3\x28\n", SPIF_FMT_CSV, SPIF_ENC_UTF8);
	check_err(&r, SPIF_EX_DATAERR, "t:3: byte offset 13: not valid UTF-8",
	          "invalid UTF-8 with the exact offset");
	check_dump(&r, "2|a=1|b=\xE3\x81\x82\n", "the valid row before it came out");
	run_free(&r);

	RUN(&r, "a,b\n1,\xED\xA0\x80\n", SPIF_FMT_CSV, SPIF_ENC_UTF8);
	check_err(&r, SPIF_EX_DATAERR, "t:2: byte offset 6: not valid UTF-8", "UTF-8 surrogate rejected");
	run_free(&r);

	RUN(&r, "a,b\n1,\xE3\x81", SPIF_FMT_CSV, SPIF_ENC_UTF8);
	check_err(&r, SPIF_EX_DATAERR, "t:2: byte offset 6: not valid UTF-8",
	          "UTF-8 cut at the end of the file");
	run_free(&r);

	RUN(&r, "a,@b\n1,2\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == -1 && r.err.code == SPIF_EX_DATAERR && strstr(r.err.msg, "\"@b\""),
	   "a column name starting with '@' is refused");
	run_free(&r);

	int dfd = open("/", O_RDONLY | O_DIRECTORY);
	run_fd(&r, dfd, SPIF_FMT_CSV, SPIF_ENC_AUTO);
	close(dfd);
	ok(r.rc == -1 && r.err.code == SPIF_EX_IOERR && strstr(r.err.msg, "t: read error: "),
	   "read(2) failing is IOERR: %s", r.err.msg);
	run_free(&r);

	/* a field just over the limit */
	size_t big = SPIF_FIELD_MAX + 1;
	char *s = malloc(big + 16);
	memcpy(s, "a\n", 2);
	memset(s + 2, 'x', big);
	memcpy(s + 2 + big, "\n", 1);
	run_data(&r, s, big + 3, SPIF_FMT_CSV, SPIF_ENC_UTF8);
	ok(r.rc == -1 && r.err.code == SPIF_EX_DATAERR && strstr(r.err.msg, "t:2: field 1: longer than"),
	   "a field longer than SPIF_FIELD_MAX is refused");
	run_free(&r);
	free(s);
}

/* --- encodings -------------------------------------------------------- */

static void test_encodings(void)
{
	struct run r;
	/* CP932: rows 2 and 3 are fine, row 4 holds 0x80 at byte offset 24 */
	static const char cp[] = "id,name\r\n1,\x8E\x52\r\n2,\x93\x63\r\n3,a\x80\r\n4,z\r\n";
	RUN(&r, cp, SPIF_FMT_CSV, SPIF_ENC_CP932);
	check_err(&r, SPIF_EX_DATAERR, "t:4: byte offset 24: not valid CP932",
	          "invalid CP932 byte: offset and row");
	check_dump(&r, "2|id=1|name=山\n3|id=2|name=田\n", "rows before the bad byte decoded");
	run_free(&r);

	RUN(&r, "a\n\x82", SPIF_FMT_CSV, SPIF_ENC_CP932);
	check_err(&r, SPIF_EX_DATAERR, "t:2: byte offset 2: not valid CP932",
	          "CP932 lead byte cut at the end of the file");
	run_free(&r);

	RUN(&r, "a\n\x82\0", SPIF_FMT_CSV, SPIF_ENC_CP932);
	check_err(&r, SPIF_EX_DATAERR, "t:2: byte offset 2: not valid CP932",
	          "CP932 lead byte followed by NUL");
	run_free(&r);

	RUN(&r, "a\n1\n\0", SPIF_FMT_CSV, SPIF_ENC_EUCJP);
	check_err(&r, SPIF_EX_DATAERR, "t:3: byte offset 4: NUL byte", "EUC-JP: NUL byte");
	run_free(&r);

	RUN(&r, "a\n\xA4\xA2\n", SPIF_FMT_CSV, SPIF_ENC_EUCJP);
	check_dump(&r, "2|a=あ\n", "EUC-JP decodes");
	run_free(&r);

	RUN(&r, "a\n\x8F\xB0\xA1\n", SPIF_FMT_CSV, SPIF_ENC_EUCJP);
	check_dump(&r, "2|a=丂\n", "EUC-JP three-byte JIS X 0212 decodes");
	run_free(&r);

	/* auto */
	RUN(&r, "a,b\n1,あ\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.enc == SPIF_ENC_UTF8, "auto: UTF-8");
	run_free(&r);

	RUN(&r, "\xEF\xBB\xBFname,b\n1,2\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.enc == SPIF_ENC_UTF8_BOM && r.d.bom, "auto: UTF-8 with BOM");
	check_dump(&r, "2|name=1|b=2\n", "BOM stripped from the first header name");
	ok(r.tap.n == 14 && memcmp(r.tap.p, "\xEF\xBB\xBF", 3) == 0, "the tap saw the BOM too");
	run_free(&r);

	RUN(&r, "id,name\r\n1,\x8E\x52\x93\x63\r\n2,\xEE\xE0\r\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.enc == SPIF_ENC_CP932, "auto: CP932");
	check_dump(&r, "2|id=1|name=山田\n3|id=2|name=髙\n", "auto: CP932 decoded");
	run_free(&r);

	RUN(&r, "id,name\n1,\xBB\xB3\xC5\xC4\xC2\xC0\xCF\xBA\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.enc == SPIF_ENC_EUCJP, "auto: EUC-JP (CP932 reading would be half-width kana)");
	check_dump(&r, "2|id=1|name=山田太郎\n", "auto: EUC-JP decoded");
	run_free(&r);

	RUN(&r, "a,b\n1,2\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.enc == SPIF_ENC_UTF8, "auto: all ASCII is UTF-8");
	run_free(&r);

	RUN(&r, "a,b\n1,\xFF\xFF\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:2: byte offset 6: not valid UTF-8",
	          "auto: valid in nothing, the error names UTF-8");
	run_free(&r);

	RUN(&r, "id,name\n1,\x8E\x52\x93\x63\n2,\x93\x63\x80\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:3: byte offset 19: not valid CP932",
	          "auto: a CP932 file with a corrupt byte names CP932 and that byte");
	is_int(r.nrec, 1, "... after the good row");
	run_free(&r);

	/* auto, the first non-ASCII byte far into the file (past a read) */
	size_t pre = 3 << 20;
	char *big = malloc(pre + 64);
	memcpy(big, "a,b\n", 4);
	for (size_t i = 4; i + 4 <= pre; i += 4)
		memcpy(big + i, "1,2\n", 4);
	memcpy(big + pre, "9,\x8E\x52\n", 5);
	run_data(&r, big, pre + 5, SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(r.rc == 0 && r.enc == SPIF_ENC_CP932 && r.nrec == (long long)(pre / 4),
	   "auto decides on the first non-ASCII byte 3 MiB in");
	ok(r.dump.n > 12 && strcmp(r.dump.p + r.dump.n - 11, "|a=9|b=山\n") == 0,
	   "... and decodes it as CP932");
	run_free(&r);
	free(big);
}

/* Bytes, ASCII filler, then s straddling the read boundary at 1 MiB. */
static void test_boundaries(void)
{
	struct run r;
	size_t at = 1 << 20, n = at + 64;
	char *b = malloc(n);
	memcpy(b, "a\n", 2);
	for (size_t i = 2; i < at - 1; i++)
		b[i] = (i % 50 == 0) ? '\n' : 'x';
	b[at - 2] = '\n';
	b[at - 1] = (char)0x8E; /* 山 = 8E 52, cut by the first read */
	b[at] = 0x52;
	memcpy(b + at + 1, "\n", 1);
	run_data(&r, b, at + 2, SPIF_FMT_CSV, SPIF_ENC_CP932);
	ok(r.rc == 0 && r.dump.n > 9 && strcmp(r.dump.p + r.dump.n - 6, "a=山\n") == 0,
	   "CP932 character cut by a read decodes");
	run_free(&r);

	b[at - 1] = (char)0xE3, b[at] = (char)0x81, b[at + 1] = (char)0x82; /* あ */
	b[at + 2] = '\n';
	run_data(&r, b, at + 3, SPIF_FMT_CSV, SPIF_ENC_UTF8);
	ok(r.rc == 0 && r.dump.n > 9 && strcmp(r.dump.p + r.dump.n - 6, "a=あ\n") == 0,
	   "UTF-8 character cut by a read decodes");
	run_free(&r);
	free(b);

	/* a pipe delivering 7 bytes at a time, quoted newlines everywhere */
	struct mem src = {0}, want = {0};
	mem_add(&src, "k,v\r\n", 5);
	for (int i = 0; i < 3000; i++) {
		char line[128], exp[128];
		int k = snprintf(line, sizeof line, "%d,\"multi\r\nline \"\"%d\"\"\"\r\n", i, i);
		mem_add(&src, line, (size_t)k);
		k = snprintf(exp, sizeof exp, "%d|k=%d|v=multi\r\nline \"%d\"*\n", i + 2, i, i);
		mem_add(&want, exp, (size_t)k);
	}
	pid_t pid;
	int fd = pipe_fd(src.p, src.n, 7, &pid);
	run_fd(&r, fd, SPIF_FMT_CSV, SPIF_ENC_AUTO);
	close(fd);
	waitpid(pid, NULL, 0);
	check_dump(&r, want.p, "3000 records through a pipe in 7-byte writes");
	ok(r.tap.n == src.n && memcmp(r.tap.p, src.p, src.n) == 0 && r.bytes == (long long)src.n,
	   "the tap saw every byte once, in order");
	run_free(&r);
	free(src.p);
	free(want.p);

	/* a 5 MiB record of 8 quoted fields: the buffer grows with the largest
	 * record, and a record spans several reads */
	size_t fl = 640 << 10;
	struct mem big = {0};
	mem_add(&big, "f1,f2,f3,f4,f5,f6,f7,f8\r\n", 25);
	char *q = malloc(fl);
	memset(q, 'q', fl);
	for (int i = 0; i < 8; i++) {
		mem_add(&big, i ? ",\"" : "\"", i ? 2 : 1);
		mem_add(&big, q, fl);
		mem_add(&big, "\"", 1);
	}
	mem_add(&big, "\r\n", 2);
	run_data(&r, big.p, big.n, SPIF_FMT_CSV, SPIF_ENC_UTF8);
	ok(r.rc == 0 && r.nrec == 1 && r.dump.n == 2 + 8 * (4 + fl + 1), "a 5 MiB record");
	run_free(&r);
	free(q);
	free(big.p);
}

/* --- CP932 round trip and lossy characters ---------------------------- */

static void test_cp932_roundtrip(void)
{
	/* 髙 FBFC, 﨑 FAB1, ㈱ 878A, ～ 8160, ① 8740, 外字 F040 and F9FC, and a
	 * field that needs quotes */
	static const char src[] = "\x8E\x81\x96\xBC,\x94\xF5\x8D\x6C\r\n"
	                          "\xFB\xFC\xFA\xB1,\x87\x8A\x81\x60\r\n"
	                          "\x87\x40,\"\xF0\x40,\xF9\xFC\"\r\n";
	int fd = data_fd(src, sizeof src - 1);
	struct spif_err e = {0};
	struct spif_reader *rd = spif_reader_open(fd, "t", SPIF_FMT_CSV, SPIF_ENC_AUTO, &e);
	struct mem out = {0};
	struct spif_writer *w = NULL;
	struct spif_record rec;
	spif_record_init(&rec);
	int r;
	while ((r = spif_reader_next(rd, &rec, &e)) == 1) {
		if (!w)
			w = spif_writer_open(mem_sink, &out, "out", SPIF_FMT_CSV,
			                     spif_reader_encoding(rd), spif_reader_dialect(rd), &e);
		if (spif_writer_put(w, &rec, &e) < 0)
			break;
	}
	is_int(spif_reader_encoding(rd), SPIF_ENC_CP932, "round trip: source detected as CP932");
	ok(r == 0 && w && spif_writer_finish(w, &e) == 0, "round trip: read and write without error");
	ok(out.n == sizeof src - 1 && memcmp(out.p, src, out.n) == 0,
	   "CP932 -> records -> CP932 is byte-identical (NEC/IBM extensions, 外字)");
	long long first;
	is_int(spif_reader_lossy(rd, &first), 0, "no lossy characters in Windows-written CP932");
	spif_record_free(&rec);
	spif_writer_close(w);
	spif_reader_close(rd);
	close(fd);
	free(out.p);

	struct run rr;
	RUN(&rr, "a\r\nx\r\n\xEE\xE0\r\n\xED\x95\x87\x90\r\n", SPIF_FMT_CSV, SPIF_ENC_CP932);
	check_dump(&rr, "2|a=x\n3|a=髙\n4|a=﨑≒\n", "NEC-selected IBM extensions decode");
	is_int(rr.lossy, 3, "lossy: EEE0, ED95 and 8790 would be written back differently");
	is_int(rr.lossy_row, 3, "lossy: first at row 3");
	run_free(&rr);

	RUN(&rr, "a\n\xEE\xE0\n", SPIF_FMT_CSV, SPIF_ENC_AUTO);
	ok(rr.enc == SPIF_ENC_CP932 && rr.lossy == 1 && rr.lossy_row == 2, "lossy counted under auto too");
	run_free(&rr);

	/* the same through the writer: 﨑 from ED95 comes back as FAB1 */
	struct spif_record w1;
	static const char *const kv[] = {"a", "髙﨑"};
	rec_of(&w1, 2, kv, 2);
	struct mem o = {0};
	e = (struct spif_err){0};
	ok(write_all(&o, SPIF_FMT_CSV, SPIF_ENC_CP932, NULL, &w1, 1, 0, &e) == 0 &&
	       o.n == 9 && memcmp(o.p, "a\r\n\xFB\xFC\xFA\xB1\r\n", 9) == 0,
	   "writer encodes 髙﨑 as Windows does (FBFC FAB1)");
	free(o.p);
	spif_record_free(&w1);

	static const char *const kv2[] = {"name", "吉田", "kana", "\xF0\xA0\xAE\xB7"};
	rec_of(&w1, 7, kv2, 4);
	o = (struct mem){0};
	ok(write_all(&o, SPIF_FMT_CSV, SPIF_ENC_CP932, NULL, &w1, 1, 0, &e) == -1 &&
	       e.code == SPIF_EX_DATAERR &&
	       strcmp(e.msg, "out:7: field \"kana\": character U+20BB7 has no CP932 code") == 0,
	   "𠮷 has no CP932 code: DATAERR with row and field");
	printf("# %s\n", e.msg);
	free(o.p);
	spif_record_free(&w1);
}

/* EUC-JP: the same round trip, and laziness over a long file. */
static void test_eucjp_and_lazy(void)
{
	/* 氏,b / 山田 太郎, ｱ (8E B1), 丂 (JIS X 0212, 8F B0 A1) */
	static const char src[] = "\xBB\xE1,b\n\xBB\xB3\xC5\xC4 \xC2\xC0\xCF\xBA,\x8E\xB1\x8F\xB0\xA1\n";
	int fd = data_fd(src, sizeof src - 1);
	struct spif_err e = {0};
	struct spif_reader *rd = spif_reader_open(fd, "t", SPIF_FMT_CSV, SPIF_ENC_EUCJP, &e);
	struct mem out = {0};
	struct spif_writer *w = NULL;
	struct spif_record rec;
	spif_record_init(&rec);
	int r;
	while ((r = spif_reader_next(rd, &rec, &e)) == 1) {
		if (!w)
			w = spif_writer_open(mem_sink, &out, "out", SPIF_FMT_CSV, SPIF_ENC_EUCJP,
			                     spif_reader_dialect(rd), &e);
		spif_writer_put(w, &rec, &e);
	}
	ok(r == 0 && w && spif_writer_finish(w, &e) == 0 && out.n == sizeof src - 1 &&
	       memcmp(out.p, src, out.n) == 0,
	   "EUC-JP -> records -> EUC-JP is byte-identical (half-width kana, JIS X 0212)");
	is_int(spif_reader_ncols(rd), 2, "ncols");
	ok(spif_reader_colname(rd, 0) && strcmp(spif_reader_colname(rd, 0), "氏") == 0 &&
	       strcmp(spif_reader_colname(rd, 1), "b") == 0 && spif_reader_colname(rd, 2) == NULL,
	   "colname");
	long long first;
	is_int(spif_reader_lossy(rd, &first), 0, "EUC-JP: nothing lossy");
	spif_record_free(&rec);
	spif_writer_close(w);
	spif_reader_close(rd);
	close(fd);
	free(out.p);

	/* 3 MiB of good rows, then a bad byte: every good row comes out first,
	 * then the error, and the reader refuses to go on */
	struct mem m = {0};
	mem_add(&m, "n,v\n", 4);
	long long rows = 0;
	while (m.n < (3u << 20)) {
		char line[64];
		int k = snprintf(line, sizeof line, "%lld,あいう\n", rows++);
		mem_add(&m, line, (size_t)k);
	}
	size_t bad = m.n + 2;
	mem_add(&m, "x,\xE3\x28\n", 6);
	fd = data_fd(m.p, m.n);
	rd = spif_reader_open(fd, "big", SPIF_FMT_CSV, SPIF_ENC_UTF8, &e);
	spif_record_init(&rec);
	long long got = 0;
	while ((r = spif_reader_next(rd, &rec, &e)) == 1)
		got++;
	char want[128];
	snprintf(want, sizeof want, "big:%lld: byte offset %zu: not valid UTF-8", rows + 2, bad);
	ok(r == -1 && got == rows && strcmp(e.msg, want) == 0,
	   "bad UTF-8 3 MiB in: %lld rows first, then \"%s\"", got, e.msg);
	ok(spif_reader_next(rd, &rec, &e) == -1 && e.code == SPIF_EX_SOFTWARE,
	   "the reader refuses to be used after an error");
	spif_record_free(&rec);
	spif_reader_close(rd);
	close(fd);
	free(m.p);
}

/* --- NDJSON ----------------------------------------------------------- */

static void test_ndjson_read(void)
{
	struct run r;
	RUN(&r, "{\"z\":\"1\",\"a\":\"2\",\"m\":\"3\"}\n{\"@row\":12,\"@file\":\"F1\",\"x\":\"\"}\r\n",
	    SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_dump(&r, "1|z=1|a=2|m=3\n2|@row=12|@file=F1|x=\n",
	           "NDJSON: key order kept, @row integer kept as text, rec->row is the line");
	is_int(r.rc, 0, "NDJSON: clean end");
	run_free(&r);

	RUN(&r, "{ \"a\" : \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\" , \"b\":\"\"}",
	    SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_dump(&r, "1|a=x\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80|b=\n",
	           "NDJSON: escapes and whitespace; last line without newline");
	run_free(&r);

	RUN(&r, "{}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_dump(&r, "1\n", "NDJSON: an empty object is a record with no fields");
	run_free(&r);

	RUN(&r, "{\"a\":\"1\"}\n{\"a\":\"1\",\"b\":\"2\",\"a\":\"3\"}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:2: duplicate key \"a\"", "NDJSON: duplicate key");
	run_free(&r);

	RUN(&r, "{\"a\":123456789012}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: field \"a\" is not a string", "NDJSON: number value");
	run_free(&r);

	RUN(&r, "{\"a\":\"1\"}\n{\"b\":[1,{\"c\":null}]}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:2: field \"b\" is not a string", "NDJSON: array value");
	run_free(&r);

	struct mem lk = {0};
	mem_add(&lk, "{\"", 2);
	for (int i = 0; i < 50; i++)
		mem_add(&lk, "名前\\n", 8);
	mem_add(&lk, "\":true}\n", 8);
	run_data(&r, lk.p, lk.n, SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	ok(r.rc == -1 && strlen(r.err.msg) < 120 && strstr(r.err.msg, "名前?名前?") &&
	       strstr(r.err.msg, "...\" is not a string"),
	   "a long key in a message is cut, control characters hidden: %s", r.err.msg);
	run_free(&r);
	free(lk.p);

	RUN(&r, "{\"@row\":1.5}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: field \"@row\" is not a string or an integer",
	          "NDJSON: @row must be an integer");
	run_free(&r);

	RUN(&r, "{\"a\":\"1\"}\n\n{\"a\":\"2\"}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:2: not a JSON object", "NDJSON: an empty line");
	run_free(&r);

	RUN(&r, "[\"a\"]\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: not a JSON object", "NDJSON: an array");
	run_free(&r);

	RUN(&r, "{\"a\":\"621498320257\" \"b\":\"2\"}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: invalid JSON: column 21: ',' or '}' expected",
	          "NDJSON: invalid JSON, no content echoed");
	run_free(&r);

	RUN(&r, "{\"a\":\"x\"} x\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: invalid JSON: column 11: text after the object",
	          "NDJSON: trailing text");
	run_free(&r);

	RUN(&r, "{\"a\":\"x\\u0000\"}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	ok(r.rc == -1 && r.err.code == SPIF_EX_DATAERR && strstr(r.err.msg, "NUL"),
	   "NDJSON: \\u0000 refused");
	run_free(&r);

	RUN(&r, "{\"a\":\"\\ud800x\"}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	ok(r.rc == -1 && strstr(r.err.msg, "surrogate"), "NDJSON: lone surrogate refused");
	run_free(&r);

	RUN(&r, "{\"a\":\"tab\there\"}\n", SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	ok(r.rc == -1 && strstr(r.err.msg, "control character"), "NDJSON: raw control character refused");
	run_free(&r);

	RUN(&r, "{\"a\":\"1\"}\n{\"a\":\"\xE3\x81\"}\n", SPIF_FMT_NDJSON, SPIF_ENC_CP932);
	check_err(&r, SPIF_EX_DATAERR, "t:2: byte offset 16: not valid UTF-8",
	          "NDJSON is UTF-8 whatever encoding is asked");
	run_free(&r);

	/* many keys: the duplicate check grows its table */
	struct mem m = {0};
	mem_add(&m, "{", 1);
	for (int i = 0; i < 500; i++) {
		char kv[32];
		int k = snprintf(kv, sizeof kv, "%s\"k%d\":\"%d\"", i ? "," : "", i, i);
		mem_add(&m, kv, (size_t)k);
	}
	mem_add(&m, ",\"k77\":\"again\"}\n", 16);
	run_data(&r, m.p, m.n, SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_err(&r, SPIF_EX_DATAERR, "t:1: duplicate key \"k77\"", "NDJSON: duplicate among 500 keys");
	run_free(&r);
	free(m.p);
}

/* --- writers ---------------------------------------------------------- */

static void test_ndjson_write(void)
{
	struct spif_record rec[2];
	static const char *const kv[] = {"na\"me", "a\"b\\c/d\n\r\t\b\f\x01\x1f é", "@row", "42",
	                                 "@file", "123"};
	rec_of(&rec[0], 2, kv, 6);
	static const char *const kv2[] = {"na\"me", "long value that is over sixteen bytes \" ok",
	                                  "@row", "x1", "@file", "0"};
	rec_of(&rec[1], 3, kv2, 6);
	struct mem o = {0};
	struct spif_err e = {0};
	ok(write_all(&o, SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, rec, 2, 0, &e) == 0, "NDJSON write");
	is_str(o.p,
	       "{\"na\\\"me\":\"a\\\"b\\\\c/d\\n\\r\\t\\b\\f\\u0001\\u001f é\",\"@row\":42,\"@file\":\"123\"}\n"
	       "{\"na\\\"me\":\"long value that is over sixteen bytes \\\" ok\",\"@row\":\"x1\",\"@file\":\"0\"}\n",
	       "NDJSON escaping; @row a number only when it is digits");
	free(o.p);
	spif_record_free(&rec[0]);
	spif_record_free(&rec[1]);

	static const char *const kv3[] = {"a", "1", "b", "2"};
	rec_of(&rec[0], 5, kv3, 4);
	o = (struct mem){0};
	ok(write_all(&o, SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, rec, 1, 1, &e) == 0 &&
	       strcmp(o.p, "{\"@row\":5,\"a\":\"1\",\"b\":\"2\"}\n") == 0,
	   "rowmeta: @row first, as a number");
	free(o.p);
	spif_record_free(&rec[0]);

	/* written NDJSON reads back the same */
	static const char *const kv4[] = {"k", "\"q\" \\ \x01 改行\n", "@row", "9"};
	rec_of(&rec[0], 9, kv4, 4);
	o = (struct mem){0};
	write_all(&o, SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, rec, 1, 0, &e);
	struct run r;
	run_data(&r, o.p, o.n, SPIF_FMT_NDJSON, SPIF_ENC_AUTO);
	check_dump(&r, "1|k=\"q\" \\ \x01 改行\n|@row=9\n", "NDJSON write then read is lossless");
	run_free(&r);
	free(o.p);
	spif_record_free(&rec[0]);

	/* a value larger than the writer's buffer */
	size_t big = 3 << 20;
	char *v = malloc(big);
	memset(v, '"', big);
	spif_record_init(&rec[0]);
	spif_record_add(&rec[0], "k", 1, v, big, 0);
	o = (struct mem){0};
	ok(write_all(&o, SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, rec, 1, 0, &e) == 0 &&
	       o.n == 2 * big + 9,
	   "a 3 MiB value of quotes is escaped in pieces");
	free(o.p);
	free(v);
	spif_record_free(&rec[0]);
}

static int full_sink(void *ctx, const void *b, size_t n)
{
	(void)ctx, (void)b, (void)n;
	errno = ENOSPC;
	return -1;
}

static void test_csv_write(void)
{
	struct spif_record rec[3];
	static const char *const a[] = {"@row", "2", "id", "1", "name", "a,b", "note", "say \"hi\""};
	static const char *const b[] = {"id", "2", "name", "line\nbreak", "note", "cr\rx"};
	static const char *const c[] = {"id", "3", "name", " plain ", "note", ""};
	rec_of(&rec[0], 2, a, 8);
	rec_of(&rec[1], 3, b, 6);
	rec_of(&rec[2], 4, c, 6);
	rec[2].f[0].flags = SPIF_FIELD_QUOTED;
	struct mem o = {0};
	struct spif_err e = {0};
	ok(write_all(&o, SPIF_FMT_CSV, SPIF_ENC_UTF8, NULL, rec, 3, 0, &e) == 0, "CSV write");
	is_str(o.p,
	       "id,name,note\r\n1,\"a,b\",\"say \"\"hi\"\"\"\r\n2,\"line\nbreak\",\"cr\rx\"\r\n"
	       "\"3\", plain ,\r\n",
	       "CSV: minimal quoting, quotes doubled, QUOTED flag honoured, @ keys left out");
	free(o.p);

	struct spif_dialect d = {"\n", 1, 0, 0};
	o = (struct mem){0};
	ok(write_all(&o, SPIF_FMT_TSV, SPIF_ENC_UTF8_BOM, &d, rec + 1, 2, 0, &e) == 0, "TSV write");
	is_str(o.p,
	       "\xEF\xBB\xBF\"id\"\t\"name\"\t\"note\"\n2\t\"line\nbreak\"\t\"cr\rx\"\n"
	       "\"3\"\t plain \t",
	       "quote_all dialect quotes the header only (records keep their own quoting), LF, "
	       "no final line end, BOM for utf-8-bom");
	free(o.p);

	static const char *const bad[] = {"id", "4", "note", "x", "name", "y"};
	spif_record_free(&rec[2]);
	rec_of(&rec[2], 9, bad, 6);
	o = (struct mem){0};
	ok(write_all(&o, SPIF_FMT_CSV, SPIF_ENC_UTF8, NULL, rec + 1, 2, 0, &e) == -1 &&
	       e.code == SPIF_EX_DATAERR && strcmp(e.msg, "out:9: record keys differ from the header") == 0,
	   "CSV: keys in another order are refused");
	free(o.p);

	/* header from put_header, no records */
	o = (struct mem){0};
	struct spif_writer *w = spif_writer_open(mem_sink, &o, "out", SPIF_FMT_CSV, SPIF_ENC_UTF8,
	                                         NULL, &e);
	static const char *const names[] = {"x", "y z"};
	ok(spif_writer_put_header(w, names, 2, &e) == 0 && spif_writer_finish(w, &e) == 0 &&
	       strcmp(o.p, "x,y z\r\n") == 0 && spif_writer_bytes(w) == 7,
	   "put_header with no records writes the header");
	spif_writer_close(w);
	free(o.p);

	/* sink failures */
	w = spif_writer_open(full_sink, NULL, "out.csv", SPIF_FMT_CSV, SPIF_ENC_UTF8, NULL, &e);
	int r = spif_writer_put(w, &rec[0], &e);
	if (r == 0)
		r = spif_writer_finish(w, &e);
	ok(r == -1 && e.code == SPIF_EX_IOERR && strstr(e.msg, "out.csv") &&
	       strstr(e.msg, strerror(ENOSPC)),
	   "a sink failure is IOERR with strerror (%s)", e.msg);
	spif_writer_close(w);

	int fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		w = spif_writer_open(spif_sink_fd, &fd, "full", SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, &e);
		r = spif_writer_put(w, &rec[0], &e);
		if (r == 0)
			r = spif_writer_finish(w, &e);
		ok(r == -1 && e.code == SPIF_EX_IOERR && strstr(e.msg, "No space left"),
		   "spif_sink_fd on /dev/full: %s", e.msg);
		spif_writer_close(w);
		close(fd);
	} else {
		ok(1, "# SKIP no /dev/full");
	}

	/* spif_sink_fd through a pipe larger than its buffer */
	int p[2];
	if (pipe(p) == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			static char chunk[200000];
			memset(chunk, 'z', sizeof chunk);
			_exit(spif_sink_fd(&p[1], chunk, sizeof chunk) == 0 ? 0 : 1);
		}
		close(p[1]);
		size_t got = 0;
		char tmp[4096];
		ssize_t k;
		while ((k = read(p[0], tmp, sizeof tmp)) > 0)
			got += (size_t)k;
		close(p[0]);
		int st;
		waitpid(pid, &st, 0);
		ok(got == 200000 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "spif_sink_fd writes everything through a pipe");
	}
	for (int i = 0; i < 3; i++)
		spif_record_free(&rec[i]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_records();
	test_utf8_valid();
	test_csv_basic();
	test_csv_errors();
	test_encodings();
	test_boundaries();
	test_cp932_roundtrip();
	test_eucjp_and_lazy();
	test_ndjson_read();
	test_ndjson_write();
	test_csv_write();
	return tap_done();
}
