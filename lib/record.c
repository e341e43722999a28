/* record.c - records, and the CSV/TSV/NDJSON readers and writers; see
 * record.h.
 *
 * The input (read(2), decoding to UTF-8, where decoding stopped) and the
 * output buffer are io.c's; the parsers below see UTF-8 text only.  They
 * restart a record from its first byte when they run out of text, and a
 * complete record is copied into the caller's record in one piece.
 *
 * CSV rules beyond RFC 4180: LF or CRLF ends a record (mixed is fine); a
 * lone CR, or a quote inside an unquoted field, is data (as Excel reads
 * it); text after a closing quote is an error; blank lines (LF or CRLF)
 * at the very end are ignored, elsewhere a blank line is a one-field
 * record, and a line of CRs is a record wherever it is; a column name
 * starting with '@' is refused, since '@' keys are spif's metadata and a
 * CSV writer leaves them out.
 *
 * NDJSON is parsed by hand rather than with jansson: a strict parser for
 * flat objects of strings runs at ~500 MB/s where json_loadb per line
 * managed ~26 MB/s on the same file, and its messages can give a column
 * without quoting the text (which may hold Individual Numbers). */
#include "record.h"

#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encoding.h"
#include "io.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define F_ESC 0x100u /* internal: quoted field holds "" pairs */

/* ------------------------------------------------------------------ */
/* names                                                                */

enum spif_format spif_format_parse(const char *name)
{
	if (!name)
		return SPIF_FMT_NONE;
	if (strcmp(name, "csv") == 0)
		return SPIF_FMT_CSV;
	if (strcmp(name, "tsv") == 0)
		return SPIF_FMT_TSV;
	if (strcmp(name, "ndjson") == 0)
		return SPIF_FMT_NDJSON;
	return SPIF_FMT_NONE;
}

const char *spif_format_name(enum spif_format f)
{
	switch (f) {
	case SPIF_FMT_CSV:
		return "csv";
	case SPIF_FMT_TSV:
		return "tsv";
	case SPIF_FMT_NDJSON:
		return "ndjson";
	case SPIF_FMT_NONE:
		break;
	}
	return "none";
}

static int fw_digit(const char *s, size_t i, size_t n)
{
	return i + 2 < n && (unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBC &&
	       (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99;
}

/* A key or column name for a one-line message: at most about 64 bytes
 * (cut at a character boundary), control characters shown as '?'.  A
 * "name" may be data (a file without a header row): if it holds 10 digits
 * or more, ASCII or full-width, they are shown as '*', so that a message
 * never carries an Individual Number. */
static const char *shown(char *dst, size_t cap, const char *s, size_t n)
{
	size_t digits = 0, o = 0, i = 0;
	for (size_t k = 0; k < n; k++)
		digits += (s[k] >= '0' && s[k] <= '9') || fw_digit(s, k, n);
	int mask = digits >= 10;
	while (i < n && o + 8 < cap) {
		unsigned char c = (unsigned char)s[i];
		if (mask && ((c >= '0' && c <= '9') || fw_digit(s, i, n))) {
			dst[o++] = '*';
			i += c < 0x80 ? 1 : 3;
		} else if (c < 0x20 || c == 0x7F) {
			dst[o++] = '?';
			i++;
		} else {
			size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
			if (len > n - i || o + len + 4 >= cap)
				break;
			memcpy(dst + o, s + i, len);
			o += len;
			i += len;
		}
	}
	if (i < n) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

/* ------------------------------------------------------------------ */
/* records                                                              */

void spif_record_init(struct spif_record *r)
{
	memset(r, 0, sizeof *r);
}

void spif_record_free(struct spif_record *r)
{
	free(r->f);
	free(r->buf);
	spif_record_init(r);
}

void spif_record_clear(struct spif_record *r)
{
	r->n = 0;
	r->blen = 0;
	r->row = 0;
}

static int in_arena(const struct spif_record *r, const char *p)
{
	uintptr_t a = (uintptr_t)r->buf, x = (uintptr_t)p;
	return r->buf && x >= a && x < a + r->bcap;
}

/* Room for n fields. */
static int rec_fields(struct spif_record *r, size_t n)
{
	if (n <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap : 16;
	while (cap < n)
		cap *= 2;
	struct spif_field *f = realloc(r->f, cap * sizeof *f);
	if (!f)
		return -1;
	r->f = f;
	r->cap = cap;
	return 0;
}

/* Room for extra more bytes in the arena; fields are moved along.  A new
 * arena is allocated and copied rather than realloc'd so that the old one
 * stays readable until the caller has copied a value that may live in it
 * (spif_record_set(r, i, r->f[j].val, ...)); the caller frees *old. */
static int rec_grow(struct spif_record *r, size_t extra, char **old)
{
	*old = NULL;
	if (extra <= r->bcap - r->blen)
		return 0;
	if (r->blen > SIZE_MAX / 2 - extra)
		return -1;
	size_t need = r->blen + extra, cap = r->bcap ? r->bcap : 4096;
	while (cap < need)
		cap *= 2;
	char *nb = malloc(cap);
	if (!nb)
		return -1;
	if (r->blen)
		memcpy(nb, r->buf, r->blen);
	for (size_t i = 0; i < r->n; i++) {
		if (in_arena(r, r->f[i].key))
			r->f[i].key = nb + (r->f[i].key - r->buf);
		if (in_arena(r, r->f[i].val))
			r->f[i].val = nb + (r->f[i].val - r->buf);
	}
	*old = r->buf;
	r->buf = nb;
	r->bcap = cap;
	return 0;
}

int spif_record_add(struct spif_record *r, const char *key, size_t klen, const char *val,
                    size_t vlen, unsigned flags)
{
	char *old;
	if (klen > SIZE_MAX / 4 || vlen > SIZE_MAX / 4 || rec_fields(r, r->n + 1) < 0 ||
	    rec_grow(r, klen + vlen + 2, &old) < 0)
		return -1;
	char *k = r->buf + r->blen, *v = k + klen + 1;
	if (klen)
		memcpy(k, key, klen);
	k[klen] = '\0';
	if (vlen)
		memcpy(v, val, vlen);
	v[vlen] = '\0';
	r->blen += klen + vlen + 2;
	free(old);
	r->f[r->n++] = (struct spif_field){k, klen, v, vlen, flags};
	return 0;
}

const struct spif_field *spif_record_get(const struct spif_record *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return &r->f[i];
	return NULL;
}

int spif_record_set(struct spif_record *r, size_t i, const char *val, size_t vlen)
{
	struct spif_field *f = &r->f[i];
	if (vlen <= f->vlen && in_arena(r, f->val)) {
		/* shorter or equal (masking): overwrite in place */
		char *v = (char *)(uintptr_t)f->val;
		if (vlen)
			memmove(v, val, vlen);
		v[vlen] = '\0';
		f->vlen = vlen;
		return 0;
	}
	char *old;
	if (vlen > SIZE_MAX / 4 || rec_grow(r, vlen + 1, &old) < 0)
		return -1;
	char *v = r->buf + r->blen;
	if (vlen)
		memcpy(v, val, vlen);
	v[vlen] = '\0';
	r->blen += vlen + 1;
	free(old);
	f->val = v;
	f->vlen = vlen;
	return 0;
}

/* ------------------------------------------------------------------ */
/* reader: input and decoding                                           */

enum { P_OK, P_MORE, P_END, P_ERR };
enum term { T_SEP, T_LF, T_CRLF, T_EOF };

struct fspan {
	size_t s, e; /* txt offsets of the field's content */
	unsigned fl;
};

struct spif_reader {
	struct spif_in in; /* the text, in UTF-8 */
	enum spif_format fmt;
	int sep;
	int failed;

	/* CSV/TSV */
	int header_done;
	long long row; /* row of the record being read */
	struct spif_dialect d;
	size_t ncols, hblen;
	char *hblock; /* header names, NUL-terminated, back to back */
	size_t *hoff, *hlen;
	struct fspan *fs;
	size_t nf, fcap;
	size_t rec_end; /* txt offset just past the record just parsed */
	enum term rec_term;

	/* NDJSON: dup-key detection, a hash set of field indexes per line
	 * (a slot is live when its generation is the line's) */
	long long line;
	uint32_t *ht_gen, *ht_idx;
	size_t ht_cap;
	uint32_t gen;
};

/* ------------------------------------------------------------------ */
/* reader: CSV/TSV                                                      */

/* Successive separators and line-end bytes from a starting point, found
 * 64 bytes at a time: m has a bit per such byte, sep a bit per separator.
 * The loads may run past the text into the buffer's slack; callers stop
 * at end. */
struct scan {
	const unsigned char *blk;
	uint64_t m, sep;
};

#ifdef __SSE2__
static inline void scan_block(struct scan *sc, int sep)
{
	const __m128i vs = _mm_set1_epi8((char)sep), cr = _mm_set1_epi8('\r'),
	              lf = _mm_set1_epi8('\n');
	uint64_t m = 0, ms = 0;
	for (int k = 0; k < 4; k++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(sc->blk + 16 * k));
		__m128i ts = _mm_cmpeq_epi8(x, vs);
		__m128i t = _mm_or_si128(ts, _mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, lf)));
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(t) << (16 * k);
		ms |= (uint64_t)(unsigned)_mm_movemask_epi8(ts) << (16 * k);
	}
	sc->m = m;
	sc->sep = ms;
}
#else
static inline void scan_block(struct scan *sc, int sep)
{
	uint64_t m = 0, ms = 0;
	for (int i = 0; i < 64; i++) {
		int c = sc->blk[i];
		if (c == sep)
			ms |= (uint64_t)1 << i;
		if (c == sep || c == '\r' || c == '\n')
			m |= (uint64_t)1 << i;
	}
	sc->m = m;
	sc->sep = ms;
}
#endif

static inline void scan_at(struct scan *sc, const unsigned char *p, int sep)
{
	sc->blk = p;
	scan_block(sc, sep);
}

/* The next special byte (or end); *is_sep says whether it is the
 * separator. */
static inline const unsigned char *scan_next(struct scan *sc, const unsigned char *end, int sep,
                                             int *is_sep)
{
	while (!sc->m) {
		sc->blk += 64;
		if (sc->blk >= end)
			return end;
		scan_block(sc, sep);
	}
	unsigned b = (unsigned)__builtin_ctzll(sc->m);
	sc->m &= sc->m - 1;
	*is_sep = (int)(sc->sep >> b & 1);
	const unsigned char *q = sc->blk + b;
	return q < end ? q : end;
}

/* Room for one more field span. */
static int grow_spans(struct spif_reader *rd)
{
	size_t cap = rd->fcap ? rd->fcap * 2 : 64;
	struct fspan *f = realloc(rd->fs, cap * sizeof *f);
	if (!f)
		return -1;
	rd->fs = f;
	rd->fcap = cap;
	return 0;
}

static int too_long(struct spif_reader *rd, size_t field, struct spif_err *err)
{
	spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: field %zu: longer than %u bytes", rd->in.name,
	             rd->row, field, SPIF_FIELD_MAX);
	return P_ERR;
}

/* Out of text inside a record that started at start, in the field that
 * started at fb: ask for more, unless that is already too much. */
static int csv_more(struct spif_reader *rd, const unsigned char *start, const unsigned char *fb,
                    const unsigned char *end, struct spif_err *err)
{
	if ((size_t)(end - fb) > (size_t)SPIF_FIELD_MAX + 2)
		return too_long(rd, rd->nf + 1, err);
	if ((size_t)(end - start) > SPIF_RECORD_MAX) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: record longer than %zu bytes", rd->in.name,
		             rd->row, SPIF_RECORD_MAX);
		return P_ERR;
	}
	return P_MORE;
}

/* One quoted field from p (at its opening quote).  Sets its end *fe, the
 * position after its terminator *next and the terminator. */
static int csv_quoted(struct spif_reader *rd, const unsigned char *start, const unsigned char *p,
                      const unsigned char *end, const unsigned char **fe,
                      const unsigned char **next, enum term *t, unsigned *fl,
                      struct spif_err *err)
{
	int eof = rd->in.text_eof;
	const unsigned char *q = p + 1;
	*fl = SPIF_FIELD_QUOTED;
	for (;;) {
		q = memchr(q, '"', (size_t)(end - q));
		if (!q) {
			if (!eof)
				return csv_more(rd, start, p, end, err);
			spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: unterminated quoted field",
			             rd->in.name, rd->row);
			return P_ERR;
		}
		if (q + 1 == end) {
			if (!eof)
				return csv_more(rd, start, p, end, err);
			break;
		}
		if (q[1] != '"')
			break;
		*fl |= F_ESC;
		q += 2;
	}
	*fe = q;
	const unsigned char *a = q + 1;
	if (a == end) {
		*t = T_EOF;
		*next = a;
	} else if (*a == rd->sep) {
		*t = T_SEP;
		*next = a + 1;
	} else if (*a == '\n') {
		*t = T_LF;
		*next = a + 1;
	} else if (*a == '\r' && a + 1 == end && !eof) {
		return csv_more(rd, start, p, end, err);
	} else if (*a == '\r' && a + 1 < end && a[1] == '\n') {
		*t = T_CRLF;
		*next = a + 2;
	} else {
		spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: field %zu: text after the closing quote",
		             rd->in.name, rd->row, rd->nf + 1);
		return P_ERR;
	}
	return P_OK;
}

/* Parse one record at txt[tpos..tlen) into rd->fs.  P_MORE when the text
 * ends inside it (and is not the end of the input).  The hot loop keeps
 * its state in locals: stores to rd->fs could otherwise alias rd's fields
 * and force reloads. */
static int csv_try(struct spif_reader *rd, struct spif_err *err)
{
	const unsigned char *base = rd->in.txt, *start = base + rd->in.tpos, *end = base + rd->in.tlen;
	const unsigned char *p = start;
	int eof = rd->in.text_eof, sep = rd->sep, r;
	struct fspan *fs = rd->fs;
	size_t nf = 0, fcap = rd->fcap;
	struct scan sc;

	rd->nf = 0;
	if (p == end)
		return eof ? P_END : P_MORE;
	scan_at(&sc, p, sep);
	for (;;) {
		const unsigned char *fe = end, *next = end;
		enum term t = T_EOF;
		unsigned fl = 0;
		if (nf == fcap) {
			rd->nf = nf;
			if (grow_spans(rd) < 0) {
				spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in.name);
				return P_ERR;
			}
			fs = rd->fs;
			fcap = rd->fcap;
		}
		if (p < end && *p == '"') {
			rd->nf = nf;
			r = csv_quoted(rd, start, p, end, &fe, &next, &t, &fl, err);
			if (r != P_OK)
				return r;
			if (t == T_SEP)
				scan_at(&sc, next, sep);
			p++; /* content starts after the quote */
		} else {
			int is_sep;
			const unsigned char *q = scan_next(&sc, end, sep, &is_sep);
			for (;;) {
				if (q == end) {
					if (!eof) {
						rd->nf = nf;
						return csv_more(rd, start, p, end, err);
					}
					t = T_EOF;
					break;
				}
				if (is_sep) {
					t = T_SEP;
					next = q + 1;
					break;
				}
				if (*q == '\n') {
					t = T_LF;
					next = q + 1;
					break;
				}
				if (q + 1 == end && !eof) {
					rd->nf = nf;
					return csv_more(rd, start, p, end, err);
				}
				if (q + 1 < end && q[1] == '\n') {
					t = T_CRLF;
					next = q + 2;
					break;
				}
				q = scan_next(&sc, end, sep, &is_sep); /* a lone CR is data */
			}
			fe = q;
		}
		if ((size_t)(fe - p) > SPIF_FIELD_MAX) {
			rd->nf = nf;
			return too_long(rd, nf + 1, err);
		}
		fs[nf].s = (size_t)(p - base);
		fs[nf].e = (size_t)(fe - base);
		fs[nf].fl = fl;
		nf++;
		if (t != T_SEP) {
			rd->nf = nf;
			rd->rec_term = t;
			rd->rec_end = (size_t)(next - base);
			return P_OK;
		}
		p = next;
	}
}

/* Parse the next record, reading as needed. */
static int csv_parse(struct spif_reader *rd, struct spif_err *err)
{
	for (;;) {
		int r = csv_try(rd, err);
		if (r != P_MORE)
			return r;
		int f = spif_in_fill(&rd->in);
		if (f < 0) {
			spif_in_error(&rd->in, rd->row, err);
			return P_ERR;
		}
	}
}

static int blank_record(const struct spif_reader *rd)
{
	return rd->nf == 1 && rd->fs[0].s == rd->fs[0].e && !(rd->fs[0].fl & SPIF_FIELD_QUOTED);
}

/* A blank line was just parsed: P_END if nothing but blank lines (LF or
 * CRLF) follows it to the end of the input, P_OK if more follows.  A CR
 * that does not end a line is data here as anywhere, so a line of CRs is a
 * record and not a blank line; a CR that is the last byte read so far may
 * still start a CRLF, and is looked at again when more has been read. */
static int trailing_blanks(struct spif_reader *rd, struct spif_err *err)
{
	for (;;) {
		const unsigned char *p = rd->in.txt + rd->rec_end, *end = rd->in.txt + rd->in.tlen;
		for (;;) {
			if (p < end && *p == '\n')
				p++;
			else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
				p += 2;
			else
				break;
		}
		if (p < end && !(*p == '\r' && p + 1 == end && !rd->in.text_eof))
			return P_OK;
		if (p == end && rd->in.text_eof)
			return P_END;
		/* read on, keeping the blank line; then parse it again */
		int f = spif_in_fill(&rd->in);
		if (f < 0) {
			spif_in_error(&rd->in, rd->row, err);
			return P_ERR;
		}
		int r = csv_try(rd, err);
		if (r != P_OK)
			return r == P_MORE ? P_ERR : r; /* cannot happen: it parsed before */
	}
}

/* In-place "" -> " in a quoted field's content; returns the new length. */
static size_t unquote(char *s, size_t n)
{
	char *w = memchr(s, '"', n);
	if (!w)
		return n;
	const char *r = w, *e = s + n;
	while (r < e) {
		if (*r == '"') {
			*w++ = '"';
			r += 2;
		} else {
			*w++ = *r++;
		}
	}
	return (size_t)(w - s);
}

static uint64_t key_hash(const char *s, size_t n);

/* DATAERR for the first column (in column order) whose name an earlier
 * column already has; 0 if the names are distinct. */
static int check_dups(struct spif_reader *rd, struct spif_err *err)
{
	size_t n = rd->ncols, cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	size_t *slot = malloc(cap * sizeof *slot); /* column + 1, 0 for empty */
	if (!slot)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in.name);
	memset(slot, 0, cap * sizeof *slot);
	for (size_t i = 0; i < n; i++) {
		const char *nm = rd->hblock + rd->hoff[i];
		size_t len = rd->hlen[i], h = (size_t)key_hash(nm, len) & (cap - 1);
		for (; slot[h]; h = (h + 1) & (cap - 1)) {
			size_t j = slot[h] - 1;
			if (rd->hlen[j] == len && memcmp(rd->hblock + rd->hoff[j], nm, len) == 0) {
				char b[80];
				free(slot);
				return spif_err_set(err, SPIF_EX_DATAERR,
				                    "%s:1: duplicate column name \"%s\"", rd->in.name,
				                    shown(b, sizeof b, nm, len));
			}
		}
		slot[h] = i + 1;
	}
	free(slot);
	return 0;
}

static int read_header(struct spif_reader *rd, struct spif_err *err)
{
	int r = csv_parse(rd, err);
	if (r == P_ERR)
		return -1;
	if (r == P_END || blank_record(rd))
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: no header row", rd->in.name);
	size_t n = rd->nf, total = 0;
	for (size_t i = 0; i < n; i++)
		total += rd->fs[i].e - rd->fs[i].s + 1;
	rd->hblock = malloc(total);
	rd->hoff = malloc(n * sizeof *rd->hoff);
	rd->hlen = malloc(n * sizeof *rd->hlen);
	if (!rd->hblock || !rd->hoff || !rd->hlen)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in.name);
	int all_quoted = 1;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fspan *f = &rd->fs[i];
		char *d = rd->hblock + off;
		size_t len = f->e - f->s;
		memcpy(d, rd->in.txt + f->s, len);
		if (f->fl & F_ESC)
			len = unquote(d, len);
		d[len] = '\0';
		rd->hoff[i] = off;
		rd->hlen[i] = len;
		off += len + 1;
		if (!(f->fl & SPIF_FIELD_QUOTED))
			all_quoted = 0;
	}
	rd->hblen = off;
	rd->ncols = n;
	for (size_t i = 0; i < n; i++)
		if (rd->hblock[rd->hoff[i]] == '@') {
			char b[80];
			return spif_err_set(err, SPIF_EX_DATAERR,
			                    "%s:1: column name \"%s\" starts with '@', which spif keeps "
			                    "for its metadata",
			                    rd->in.name,
			                    shown(b, sizeof b, rd->hblock + rd->hoff[i], rd->hlen[i]));
		}
	if (check_dups(rd, err) < 0)
		return -1;
	rd->d.quote_all = all_quoted;
	rd->d.bom = rd->in.bom;
	if (rd->rec_term == T_LF)
		memcpy(rd->d.eol, "\n", 2);
	else
		memcpy(rd->d.eol, "\r\n", 3);
	rd->d.final_eol = rd->rec_term != T_EOF;
	spif_in_consumed(&rd->in, rd->rec_end, 1);
	rd->in.tpos = rd->rec_end;
	rd->header_done = 1;
	rd->row = 2;
	return 0;
}

static int rec_reserve(struct spif_record *rec, size_t bytes, size_t nf)
{
	if (rec_fields(rec, nf) < 0)
		return -1;
	if (bytes > rec->bcap) {
		size_t cap = rec->bcap ? rec->bcap : 4096;
		while (cap < bytes)
			cap *= 2;
		char *b = malloc(cap);
		if (!b)
			return -1;
		free(rec->buf);
		rec->buf = b;
		rec->bcap = cap;
	}
	return 0;
}

/* Fill rec from the record just parsed: the header names and the record's
 * text are each copied in one piece, and the values are cut out of the
 * copy in place (the byte after each value, a separator or a quote or a
 * line end, becomes its NUL). */
static int csv_build(struct spif_reader *rd, struct spif_record *rec)
{
	size_t K = rd->hblen, L = rd->rec_end - rd->in.tpos, n = rd->ncols;
	if (rec_reserve(rec, K + L + 1, n) < 0)
		return -1;
	/* locals: the NUL stores below are char stores, which may alias
	 * anything reached through rd or rec */
	char *buf = rec->buf, *t = buf + K - rd->in.tpos;
	const struct fspan *fs = rd->fs;
	const size_t *hoff = rd->hoff, *hlen = rd->hlen;
	struct spif_field *f = rec->f;
	memcpy(buf, rd->hblock, K);
	memcpy(buf + K, rd->in.txt + rd->in.tpos, L);
	buf[K + L] = '\0';
	for (size_t i = 0; i < n; i++) {
		char *v = t + fs[i].s;
		size_t len = fs[i].e - fs[i].s;
		unsigned fl = fs[i].fl;
		if (fl & F_ESC)
			len = unquote(v, len);
		v[len] = '\0';
		f[i].key = buf + hoff[i];
		f[i].klen = hlen[i];
		f[i].val = v;
		f[i].vlen = len;
		f[i].flags = fl & SPIF_FIELD_QUOTED;
	}
	rec->n = n;
	rec->blen = K + L + 1;
	rec->row = rd->row;
	return 0;
}

static int csv_next(struct spif_reader *rd, struct spif_record *rec, struct spif_err *err)
{
	if (!rd->header_done && read_header(rd, err) < 0)
		return -1;
	int r = csv_parse(rd, err);
	if (r == P_OK && blank_record(rd))
		r = trailing_blanks(rd, err);
	if (r == P_ERR)
		return -1;
	if (r == P_END) {
		if (rd->in.tlen > rd->in.tpos) /* only blank lines were left */
			rd->d.final_eol = 1;
		rd->in.tpos = rd->in.tlen;
		return 0;
	}
	if (rd->nf != rd->ncols)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: %zu field%s, header has %zu",
		                    rd->in.name, rd->row, rd->nf, rd->nf == 1 ? "" : "s", rd->ncols);
	if (csv_build(rd, rec) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in.name);
	rd->d.final_eol = rd->rec_term != T_EOF;
	spif_in_consumed(&rd->in, rd->rec_end, rd->row);
	rd->in.tpos = rd->rec_end;
	rd->row++;
	return 1;
}

/* ------------------------------------------------------------------ */
/* reader: NDJSON                                                       */

/* A strict parser for what spif writes: one flat object per line whose
 * values are strings (integers allowed for '@' keys).  Other JSON is
 * parsed only far enough to say what is wrong.  Messages give a column,
 * never the text: a line may hold Individual Numbers. */
struct jp {
	struct spif_reader *rd;
	struct spif_err *err;
	const unsigned char *s, *p, *end; /* the line */
	char *out;                        /* arena cursor */
	long long line;
};

static int jp_fail(struct jp *j, const char *what)
{
	return spif_err_set(j->err, SPIF_EX_DATAERR, "%s:%lld: invalid JSON: column %zu: %s",
	                    j->rd->in.name, j->line, (size_t)(j->p - j->s) + 1, what);
}

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

/* First byte in [p, end) that is '"', '\\' or a control character. */
static const unsigned char *json_stop(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), c1f = _mm_set1_epi8(0x1F);
	for (; p + 16 <= end; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i t = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
		                         _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x));
		unsigned m = (unsigned)_mm_movemask_epi8(t);
		if (m)
			return p + __builtin_ctz(m);
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && *p >= 0x20)
		p++;
	return p;
}

static int hexval(const unsigned char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static char *put_utf8(char *o, uint32_t c)
{
	if (c < 0x80) {
		*o++ = (char)c;
	} else if (c < 0x800) {
		*o++ = (char)(0xC0 | c >> 6);
		*o++ = (char)(0x80 | (c & 0x3F));
	} else if (c < 0x10000) {
		*o++ = (char)(0xE0 | c >> 12);
		*o++ = (char)(0x80 | (c >> 6 & 0x3F));
		*o++ = (char)(0x80 | (c & 0x3F));
	} else {
		*o++ = (char)(0xF0 | c >> 18);
		*o++ = (char)(0x80 | (c >> 12 & 0x3F));
		*o++ = (char)(0x80 | (c >> 6 & 0x3F));
		*o++ = (char)(0x80 | (c & 0x3F));
	}
	return o;
}

/* \uXXXX (and a following low surrogate) at j->p; appends the character. */
static int jp_uescape(struct jp *j)
{
	int c = j->end - j->p >= 6 ? hexval(j->p + 2) : -1;
	if (c < 0)
		return jp_fail(j, "bad \\u escape");
	j->p += 6;
	uint32_t cp = (uint32_t)c;
	if (c >= 0xD800 && c <= 0xDBFF) {
		int lo = j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' ? hexval(j->p + 2) : -1;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return jp_fail(j, "unpaired surrogate in \\u escape");
		j->p += 6;
		cp = 0x10000 + (((uint32_t)c - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
	} else if (c >= 0xDC00 && c <= 0xDFFF) {
		return jp_fail(j, "unpaired surrogate in \\u escape");
	} else if (c == 0) {
		return jp_fail(j, "\\u0000 (a NUL character)");
	}
	j->out = put_utf8(j->out, cp);
	return 0;
}

/* The string at j->p (its opening quote), unescaped to j->out and
 * NUL-terminated; *len is its length. */
static int jp_string(struct jp *j, size_t *len)
{
	char *o0 = j->out;
	j->p++;
	for (;;) {
		const unsigned char *q = json_stop(j->p, j->end);
		size_t k = (size_t)(q - j->p);
		memcpy(j->out, j->p, k);
		j->out += k;
		j->p = q;
		if (q == j->end)
			return jp_fail(j, "unterminated string");
		if (*q == '"')
			break;
		if (*q < 0x20)
			return jp_fail(j, "control character in a string");
		if (q + 1 == j->end)
			return jp_fail(j, "unterminated string");
		char c;
		switch (q[1]) {
		case '"':
			c = '"';
			break;
		case '\\':
			c = '\\';
			break;
		case '/':
			c = '/';
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			if (jp_uescape(j) < 0)
				return -1;
			continue;
		default:
			return jp_fail(j, "bad escape in a string");
		}
		*j->out++ = c;
		j->p += 2;
	}
	j->p++;
	*len = (size_t)(j->out - o0);
	*j->out++ = '\0';
	return 0;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A JSON number at j->p; *integer says it has no fraction or exponent. */
static int jp_number(struct jp *j, int *integer)
{
	const unsigned char *p = j->p, *e = j->end;
	*integer = 1;
	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0') {
		p++;
	} else if (p < e && is_digit(*p)) {
		while (p < e && is_digit(*p))
			p++;
	} else {
		j->p = p;
		return jp_fail(j, "bad number");
	}
	if (p < e && *p == '.') {
		*integer = 0;
		if (++p >= e || !is_digit(*p)) {
			j->p = p;
			return jp_fail(j, "bad number");
		}
		while (p < e && is_digit(*p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		*integer = 0;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !is_digit(*p)) {
			j->p = p;
			return jp_fail(j, "bad number");
		}
		while (p < e && is_digit(*p))
			p++;
	}
	j->p = p;
	return 0;
}

/* Any JSON value (checked, then dropped), to tell "not a string" from
 * "not JSON". */
static int jp_skip(struct jp *j, int depth)
{
	size_t len;
	int integer;
	char *o = j->out;
	if (depth > 64)
		return jp_fail(j, "nested too deeply");
	if (j->p >= j->end)
		return jp_fail(j, "value expected");
	switch (*j->p) {
	case '"': {
		int r = jp_string(j, &len);
		j->out = o;
		return r;
	}
	case '{':
	case '[': {
		int obj = *j->p == '{';
		j->p++;
		jp_ws(j);
		if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
			j->p++;
			return 0;
		}
		for (;;) {
			if (obj) {
				if (j->p >= j->end || *j->p != '"')
					return jp_fail(j, "string key expected");
				int r = jp_string(j, &len);
				j->out = o;
				if (r < 0)
					return -1;
				jp_ws(j);
				if (j->p >= j->end || *j->p != ':')
					return jp_fail(j, "':' expected");
				j->p++;
				jp_ws(j);
			}
			if (jp_skip(j, depth + 1) < 0)
				return -1;
			jp_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				jp_ws(j);
				continue;
			}
			if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
				j->p++;
				return 0;
			}
			return jp_fail(j, obj ? "',' or '}' expected" : "',' or ']' expected");
		}
	}
	case 't':
	case 'f':
	case 'n': {
		const char *lit = *j->p == 't' ? "true" : *j->p == 'f' ? "false" : "null";
		size_t n = strlen(lit);
		if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
			return jp_fail(j, "unexpected character");
		j->p += n;
		return 0;
	}
	default:
		if (*j->p == '-' || is_digit(*j->p))
			return jp_number(j, &integer);
		return jp_fail(j, "unexpected character");
	}
}

/* A hash of a key, 8 bytes at a time (keys are often long: Japanese
 * column names run to 30 bytes and more). */
static uint64_t key_hash(const char *s, size_t n)
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

/* Insert field i of rec in the line's key set; 1 if its key was there. */
static int ht_insert(struct spif_reader *rd, const struct spif_record *rec, size_t i)
{
	const struct spif_field *f = &rec->f[i];
	size_t mask = rd->ht_cap - 1, h = (size_t)key_hash(f->key, f->klen) & mask;
	while (rd->ht_gen[h] == rd->gen) {
		const struct spif_field *g = &rec->f[rd->ht_idx[h]];
		if (g->klen == f->klen && memcmp(g->key, f->key, f->klen) == 0)
			return 1;
		h = (h + 1) & mask;
	}
	rd->ht_gen[h] = rd->gen;
	rd->ht_idx[h] = (uint32_t)i;
	return 0;
}

/* Keep the key set under half full: rebuild it bigger for n fields. */
static int ht_room(struct spif_reader *rd, const struct spif_record *rec, size_t n)
{
	if (n * 2 <= rd->ht_cap)
		return 0;
	size_t cap = rd->ht_cap ? rd->ht_cap * 2 : 256;
	while (cap < n * 2)
		cap *= 2;
	uint32_t *g = calloc(cap, sizeof *g), *ix = malloc(cap * sizeof *ix);
	if (!g || !ix || n > UINT32_MAX) {
		free(g);
		free(ix);
		return -1;
	}
	free(rd->ht_gen);
	free(rd->ht_idx);
	rd->ht_gen = g;
	rd->ht_idx = ix;
	rd->ht_cap = cap;
	rd->gen = 1;
	for (size_t i = 0; i + 1 < n && i < rec->n; i++)
		ht_insert(rd, rec, i);
	return 0;
}

/* The object on line [s, end) into rec. */
static int nd_line(struct spif_reader *rd, struct spif_record *rec, const unsigned char *s,
                   const unsigned char *end, long long line, struct spif_err *err)
{
	struct jp j = {rd, err, s, s, end, NULL, line};
	size_t n = (size_t)(end - s);
	if (rec_reserve(rec, n + 16, 16) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in.name);
	j.out = rec->buf;
	rec->row = line;
	if (++rd->gen == 0) { /* wrapped: clear the set */
		if (rd->ht_gen)
			memset(rd->ht_gen, 0, rd->ht_cap * sizeof *rd->ht_gen);
		rd->gen = 1;
	}
	jp_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: not a JSON object", rd->in.name, line);
	j.p++;
	jp_ws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
	} else {
		for (;;) {
			size_t klen, vlen;
			if (j.p >= j.end || *j.p != '"')
				return jp_fail(&j, "string key expected");
			char *key = j.out;
			if (jp_string(&j, &klen) < 0)
				return -1;
			jp_ws(&j);
			if (j.p >= j.end || *j.p != ':')
				return jp_fail(&j, "':' expected");
			j.p++;
			jp_ws(&j);
			char *val = j.out;
			unsigned fl = 0;
			if (j.p < j.end && *j.p == '"') {
				if (jp_string(&j, &vlen) < 0)
					return -1;
			} else {
				const unsigned char *v0 = j.p;
				int integer = 0;
				if (j.p < j.end && (*j.p == '-' || is_digit(*j.p))) {
					if (jp_number(&j, &integer) < 0)
						return -1;
				} else if (jp_skip(&j, 0) < 0) {
					return -1;
				}
				char b[80];
				if (key[0] != '@' || !integer)
					return spif_err_set(err, SPIF_EX_DATAERR,
					                    "%s:%lld: field \"%s\" is not a string%s",
					                    rd->in.name, line, shown(b, sizeof b, key, klen),
					                    key[0] == '@' ? " or an integer" : "");
				vlen = (size_t)(j.p - v0);
				memcpy(j.out, v0, vlen);
				j.out += vlen;
				*j.out++ = '\0';
			}
			if (vlen > SPIF_FIELD_MAX) {
				char b[80];
				return spif_err_set(err, SPIF_EX_DATAERR,
				                    "%s:%lld: field \"%s\": longer than %u bytes", rd->in.name,
				                    line, shown(b, sizeof b, key, klen), SPIF_FIELD_MAX);
			}
			if (rec_fields(rec, rec->n + 1) < 0 || ht_room(rd, rec, rec->n + 1) < 0)
				return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in.name);
			rec->f[rec->n] = (struct spif_field){key, klen, val, vlen, fl};
			if (ht_insert(rd, rec, rec->n)) {
				char b[80];
				return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: duplicate key \"%s\"",
				                    rd->in.name, line, shown(b, sizeof b, key, klen));
			}
			rec->n++;
			jp_ws(&j);
			if (j.p < j.end && *j.p == ',') {
				j.p++;
				jp_ws(&j);
				continue;
			}
			if (j.p < j.end && *j.p == '}') {
				j.p++;
				break;
			}
			return jp_fail(&j, "',' or '}' expected");
		}
	}
	jp_ws(&j);
	if (j.p != j.end)
		return jp_fail(&j, "text after the object");
	rec->blen = (size_t)(j.out - rec->buf);
	return 0;
}

static int nd_next(struct spif_reader *rd, struct spif_record *rec, struct spif_err *err)
{
	for (;;) {
		const unsigned char *s = rd->in.txt + rd->in.tpos, *end = rd->in.txt + rd->in.tlen;
		const unsigned char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl && !rd->in.text_eof) {
			if ((size_t)(end - s) > SPIF_RECORD_MAX)
				return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: line longer than %zu bytes",
				                    rd->in.name, rd->line + 1, SPIF_RECORD_MAX);
			int f = spif_in_fill(&rd->in);
			if (f < 0)
				return spif_in_error(&rd->in, rd->line + 1, err);
			continue;
		}
		if (!nl && s == end)
			return 0;
		const unsigned char *le = nl ? nl : end;
		if (nd_line(rd, rec, s, le, rd->line + 1, err) < 0)
			return -1;
		rd->line++;
		size_t next = (size_t)((nl ? nl + 1 : end) - rd->in.txt);
		spif_in_consumed(&rd->in, next, rd->line);
		rd->in.tpos = next;
		return 1;
	}
}

/* ------------------------------------------------------------------ */
/* reader: API                                                          */

struct spif_reader *spif_reader_open(int fd, const char *name, enum spif_format fmt,
                                     enum spif_enc enc, struct spif_err *err)
{
	if (!name || !strcmp(name, "-"))
		name = "(stdin)";
	if (fmt != SPIF_FMT_CSV && fmt != SPIF_FMT_TSV && fmt != SPIF_FMT_NDJSON) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: no record format given", name);
		return NULL;
	}
	if ((unsigned)enc > (unsigned)SPIF_ENC_EUCJP) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: unknown encoding", name);
		return NULL;
	}
	struct spif_reader *rd = calloc(1, sizeof *rd);
	if (!rd) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", name);
		return NULL;
	}
	/* NDJSON is UTF-8 whatever was asked */
	if (spif_in_open(&rd->in, fd, name, fmt == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8 : enc, err) < 0) {
		free(rd);
		return NULL;
	}
	rd->fmt = fmt;
	rd->sep = fmt == SPIF_FMT_TSV ? '\t' : ',';
	rd->row = 1;
	memcpy(rd->d.eol, "\r\n", 3);
	rd->d.final_eol = 1;
	return rd;
}

void spif_reader_set_tap(struct spif_reader *rd, void (*tap)(void *ctx, const void *buf, size_t n),
                         void *ctx)
{
	rd->in.tap = tap;
	rd->in.tap_ctx = ctx;
}

int spif_reader_next(struct spif_reader *rd, struct spif_record *rec, struct spif_err *err)
{
	if (rd->failed)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: reader used after an error", rd->in.name);
	spif_record_clear(rec);
	int r = rd->fmt == SPIF_FMT_NDJSON ? nd_next(rd, rec, err) : csv_next(rd, rec, err);
	if (r < 0) {
		rd->failed = 1;
		spif_record_clear(rec);
	}
	return r;
}

enum spif_enc spif_reader_encoding(const struct spif_reader *rd)
{
	return rd->in.enc;
}

const struct spif_dialect *spif_reader_dialect(const struct spif_reader *rd)
{
	return &rd->d;
}

size_t spif_reader_ncols(const struct spif_reader *rd)
{
	return rd->ncols;
}

const char *spif_reader_colname(const struct spif_reader *rd, size_t i)
{
	return i < rd->ncols ? rd->hblock + rd->hoff[i] : NULL;
}

long long spif_reader_lossy(const struct spif_reader *rd, long long *first_row)
{
	if (first_row)
		*first_row = rd->in.lossy_row;
	return rd->in.lossy;
}

long long spif_reader_bytes(const struct spif_reader *rd)
{
	return rd->in.bytes;
}

void spif_reader_close(struct spif_reader *rd)
{
	if (!rd)
		return;
	spif_in_close(&rd->in);
	free(rd->hblock);
	free(rd->hoff);
	free(rd->hlen);
	free(rd->fs);
	free(rd->ht_gen);
	free(rd->ht_idx);
	free(rd);
}

/* ------------------------------------------------------------------ */
/* writer                                                               */

/* A key's JSON form, ,"key":" (comma and the value's opening quote
 * included), kept per field position: records from one source have the
 * same keys, so each is escaped once.  esc has 16 bytes of slack so that
 * it can be copied in 16-byte pieces. */
struct kcache {
	char *key, *esc;
	size_t klen, elen;
	int is_row;  /* the key is "@row" */
	int is_meta; /* the key starts with '@' */
};

struct spif_writer {
	struct spif_out out;
	enum spif_format fmt;
	enum spif_enc enc;
	struct spif_dialect d;
	int sep, rowmeta, failed, finished;
	/* CSV/TSV */
	int have_header;
	size_t nh;
	char *hblock;
	size_t *hoff, *hlen;
	iconv_t cd;
	char *cv; /* conversion scratch */
	size_t cvcap;
	/* NDJSON */
	struct kcache *kc;
	size_t nkc;
	/* the keys of the last record when they were packed back to back (as
	 * a CSV reader lays them out): one memcmp then checks them all */
	char *kb;
	size_t kb_len, kb_n;
	size_t *kb_off;
	unsigned long kc_gen;         /* bumped whenever an entry changes */
	unsigned long hdr_ok_gen;     /* CSV: the cache as it matched the header */
	size_t hdr_ok_n;
	unsigned char qtab[256];      /* CSV: 1 needs quotes, 2 not ASCII */
};

struct spif_writer *spif_writer_open(spif_sink_fn fn, void *ctx, const char *name,
                                     enum spif_format fmt, enum spif_enc enc,
                                     const struct spif_dialect *dialect, struct spif_err *err)
{
	if (!name || !strcmp(name, "-"))
		name = "(stdout)";
	if (fmt != SPIF_FMT_CSV && fmt != SPIF_FMT_TSV && fmt != SPIF_FMT_NDJSON) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: no record format given", name);
		return NULL;
	}
	if ((unsigned)enc > (unsigned)SPIF_ENC_EUCJP) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: unknown encoding", name);
		return NULL;
	}
	struct spif_writer *w = calloc(1, sizeof *w);
	if (!w || spif_out_open(&w->out, fn, ctx, name) < 0) {
		free(w);
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", name);
		return NULL;
	}
	w->fmt = fmt;
	w->cd = (iconv_t)-1;
	w->sep = fmt == SPIF_FMT_TSV ? '\t' : ',';
	w->enc = fmt == SPIF_FMT_NDJSON || enc == SPIF_ENC_AUTO ? SPIF_ENC_UTF8 : enc;
	memcpy(w->d.eol, "\r\n", 3);
	w->d.final_eol = 1;
	if (dialect) {
		w->d.quote_all = dialect->quote_all;
		w->d.final_eol = dialect->final_eol;
		w->d.bom = dialect->bom;
		if (strcmp(dialect->eol, "\n") == 0)
			memcpy(w->d.eol, "\n", 2);
	}
	for (int c = 0x80; c < 256; c++)
		w->qtab[c] = 2;
	w->qtab[w->sep] = w->qtab['"'] = w->qtab['\r'] = w->qtab['\n'] = 1;
	w->hdr_ok_gen = (unsigned long)-1;
	const char *out = spif_enc_iconv_name(w->enc);
	if (out && (w->cd = iconv_open(out, "UTF-8")) == (iconv_t)-1) {
		spif_err_sys(err, SPIF_EX_UNAVAILABLE, errno, "%s: cannot encode %s with iconv", name,
		             out);
		spif_writer_close(w);
		return NULL;
	}
	return w;
}

void spif_writer_set_rowmeta(struct spif_writer *w, int on)
{
	w->rowmeta = on;
}

/* --- NDJSON --- */

static const unsigned char json_esc[256] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
	['"'] = '"',  ['\\'] = '\\',
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
	[0x06] = 'u', [0x07] = 'u', [0x0B] = 'u', [0x0E] = 'u', [0x0F] = 'u', [0x10] = 'u',
	[0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
	[0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1A] = 'u', [0x1B] = 'u', [0x1C] = 'u',
	[0x1D] = 'u', [0x1E] = 'u', [0x1F] = 'u',
};

/* s[0..n) JSON-escaped to o (room for 6n bytes); returns the new end.
 * 16 bytes at a time are stored before they are looked at: bytes past an
 * escape are simply written again. */
static unsigned char *json_escape(unsigned char *o, const unsigned char *s, size_t n)
{
	const unsigned char *e = s + n;
	for (;;) {
#ifdef __SSE2__
		const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'),
		              c1f = _mm_set1_epi8(0x1F);
		while (e - s >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
			__m128i t = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
			                         _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x));
			_mm_storeu_si128((__m128i *)(void *)o, x);
			unsigned m = (unsigned)_mm_movemask_epi8(t);
			if (m) {
				unsigned k = (unsigned)__builtin_ctz(m);
				s += k;
				o += k;
				break;
			}
			s += 16;
			o += 16;
		}
#endif
		while (s < e && !json_esc[*s])
			*o++ = *s++;
		if (s == e)
			return o;
		unsigned c = *s++, x = json_esc[c];
		*o++ = '\\';
		if (x == 'u') {
			static const char hex[] = "0123456789abcdef";
			*o++ = 'u', *o++ = '0', *o++ = '0';
			*o++ = (unsigned char)hex[c >> 4], *o++ = (unsigned char)hex[c & 15];
		} else {
			*o++ = (unsigned char)x;
		}
	}
}

/* Copy n bytes from src, which has 16 bytes of readable slack, to o, which
 * has room for n + 16. */
static inline unsigned char *copy_padded(unsigned char *o, const char *src, size_t n)
{
#ifdef __SSE2__
	for (size_t k = 0; k < n; k += 16)
		_mm_storeu_si128((__m128i *)(void *)(o + k),
		                 _mm_loadu_si128((const __m128i *)(const void *)(src + k)));
#else
	memcpy(o, src, n);
#endif
	return o + n;
}

/* Set cache entry i to key k. */
static int key_set(struct spif_writer *w, size_t i, const char *k, size_t klen)
{
	if (i >= w->nkc) {
		struct kcache *kc = realloc(w->kc, (i + 1) * sizeof *kc);
		if (!kc)
			return -1;
		memset(kc + w->nkc, 0, (i + 1 - w->nkc) * sizeof *kc);
		w->kc = kc;
		w->nkc = i + 1;
	}
	struct kcache *c = &w->kc[i];
	char *key = malloc(klen + 1), *esc = malloc(6 * klen + 6 + 16);
	if (!key || !esc) {
		free(key);
		free(esc);
		return -1;
	}
	free(c->key);
	free(c->esc);
	memcpy(key, k, klen);
	key[klen] = '\0';
	esc[0] = ',';
	esc[1] = '"';
	unsigned char *o = json_escape((unsigned char *)esc + 2, (const unsigned char *)k, klen);
	*o++ = '"';
	*o++ = ':';
	*o++ = '"';
	memset(o, 0, 16);
	*c = (struct kcache){key, esc, klen, (size_t)(o - (unsigned char *)esc),
	                     klen == 4 && memcmp(k, "@row", 4) == 0, klen && k[0] == '@'};
	w->kc_gen++;
	return 0;
}

/* Bring the key cache in line with rec's keys.  Keys packed back to back
 * are checked with one memcmp against the last record's; otherwise key by
 * key. */
static int keys_check(struct spif_writer *w, const struct spif_record *rec)
{
	size_t n = rec->n;
	if (n && n == w->kb_n) {
		uintptr_t k0 = (uintptr_t)rec->f[0].key;
		size_t i = 0;
		for (; i < n; i++)
			if ((uintptr_t)rec->f[i].key - k0 != w->kb_off[i] || rec->f[i].klen != w->kc[i].klen)
				break;
		if (i == n && memcmp(rec->f[0].key, w->kb, w->kb_len) == 0)
			return 0;
	}
	int packed = n > 0;
	for (size_t i = 0; i < n; i++) {
		const struct spif_field *f = &rec->f[i];
		if (!(i < w->nkc && w->kc[i].klen == f->klen && memcmp(w->kc[i].key, f->key, f->klen) == 0) &&
		    key_set(w, i, f->key, f->klen) < 0)
			return -1;
		if (i && f->key != rec->f[i - 1].key + rec->f[i - 1].klen + 1)
			packed = 0;
	}
	/* remember a packed layout for next time */
	w->kb_n = 0;
	if (!packed)
		return 0;
	size_t len = (size_t)(rec->f[n - 1].key - rec->f[0].key) + rec->f[n - 1].klen + 1;
	char *kb = realloc(w->kb, len);
	size_t *off = realloc(w->kb_off, n * sizeof *off);
	if (kb)
		w->kb = kb;
	if (off)
		w->kb_off = off;
	if (!kb || !off)
		return 0; /* only the shortcut is lost */
	memcpy(kb, rec->f[0].key, len);
	for (size_t i = 0; i < n; i++)
		off[i] = (size_t)(rec->f[i].key - rec->f[0].key);
	w->kb_len = len;
	w->kb_n = n;
	return 0;
}

/* Decimal digits of v (>= 0 assumed small) into o; returns the new end. */
static unsigned char *put_ll(unsigned char *o, long long v)
{
	char tmp[24];
	int n = 0;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		*o++ = '-';
	while (n)
		*o++ = (unsigned char)tmp[--n];
	return o;
}

static int all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 18 || (s[0] == '0' && n > 1))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* A long value in pieces (the record did not fit the buffer at once). */
static int put_json_big(struct spif_writer *w, const unsigned char *s, size_t n)
{
	while (n) {
		size_t k = n < 65536 ? n : 65536;
		if (spif_out_room(&w->out, 6 * k) < 0)
			return -1;
		unsigned char *o = json_escape(w->out.buf + w->out.len, s, k);
		w->out.total += o - (w->out.buf + w->out.len);
		w->out.len = (size_t)(o - w->out.buf);
		s += k;
		n -= k;
	}
	return 0;
}

static int nd_put(struct spif_writer *w, const struct spif_record *rec, struct spif_err *err)
{
	if (keys_check(w, rec) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out.name);
	size_t bound = 64;
	for (size_t i = 0; i < rec->n; i++) {
		const struct kcache *kc = &w->kc[i];
		if (w->rowmeta && kc->is_row)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: record already has \"@row\"",
			                    w->out.name, rec->row);
		bound += kc->elen + 6 * rec->f[i].vlen + 2;
	}
	if (bound > w->out.cap) { /* a huge record: piece by piece */
		unsigned char num[32];
		size_t nlen = (size_t)(put_ll(num, rec->row) - num);
		if (spif_out_put(&w->out, "{", 1) < 0)
			return spif_out_error(&w->out, err);
		if (w->rowmeta && (spif_out_put(&w->out, "\"@row\":", 7) < 0 || spif_out_put(&w->out, num, nlen) < 0))
			return spif_out_error(&w->out, err);
		for (size_t i = 0; i < rec->n; i++) {
			const struct spif_field *f = &rec->f[i];
			const struct kcache *kc = &w->kc[i];
			int first = !i && !w->rowmeta, raw = kc->is_row && all_digits(f->val, f->vlen);
			if (spif_out_put(&w->out, kc->esc + first, kc->elen - first - raw) < 0)
				return spif_out_error(&w->out, err);
			if (raw ? spif_out_put(&w->out, f->val, f->vlen) < 0
			        : (put_json_big(w, (const unsigned char *)f->val, f->vlen) < 0 ||
			           spif_out_put(&w->out, "\"", 1) < 0))
				return spif_out_error(&w->out, err);
		}
		if (spif_out_put(&w->out, "}\n", 2) < 0)
			return spif_out_error(&w->out, err);
		return 0;
	}
	if (spif_out_room(&w->out, bound) < 0)
		return spif_out_error(&w->out, err);
	unsigned char *o0 = w->out.buf + w->out.len, *o = o0;
	*o++ = '{';
	if (w->rowmeta) {
		memcpy(o, "\"@row\":", 7);
		o = put_ll(o + 7, rec->row);
	}
	const struct spif_field *f = rec->f;
	const struct kcache *kc = w->kc;
	for (size_t i = 0; i < rec->n; i++) {
		size_t first = !i && !w->rowmeta;
		if (kc[i].is_row && all_digits(f[i].val, f[i].vlen)) {
			o = copy_padded(o, kc[i].esc + first, kc[i].elen - first - 1);
			memcpy(o, f[i].val, f[i].vlen);
			o += f[i].vlen;
			continue;
		}
		o = copy_padded(o, kc[i].esc + first, kc[i].elen - first);
		o = json_escape(o, (const unsigned char *)f[i].val, f[i].vlen);
		*o++ = '"';
	}
	*o++ = '}';
	*o++ = '\n';
	w->out.len += (size_t)(o - o0);
	w->out.total += o - o0;
	return 0;
}

/* --- CSV/TSV --- */

/* Does s[0..n) need quotes (separator, quote, CR, LF)?  *high: it has
 * bytes above ASCII. */
static int csv_needs_quotes(const struct spif_writer *w, const unsigned char *s, size_t n,
                            int *high)
{
	size_t i = 0;
	unsigned acc = 0;
#ifdef __SSE2__
	if (n >= 16) {
		const __m128i vs = _mm_set1_epi8((char)w->sep), q = _mm_set1_epi8('"'),
		              cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
		int need = 0, hi = 0;
		for (; i + 16 <= n; i += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i t = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vs), _mm_cmpeq_epi8(x, q)),
			                         _mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, lf)));
			need |= _mm_movemask_epi8(t);
			hi |= _mm_movemask_epi8(x);
		}
		acc = (need ? 1u : 0u) | (hi ? 2u : 0u);
	}
#endif
	for (; i < n; i++)
		acc |= w->qtab[s[i]];
	*high = (acc & 2) != 0;
	return acc & 1;
}

/* s[0..n) (UTF-8) in the output encoding, in w->cv; *out, *outlen.  An
 * unrepresentable character is a DATAERR naming the field. */
static int csv_convert(struct spif_writer *w, const char *s, size_t n, const char **out,
                       size_t *outlen, long long row, const char *key, size_t klen,
                       struct spif_err *err)
{
	/* EUC-JP can take 3 bytes for a 2-byte UTF-8 character */
	size_t need = n + n / 2 + 16;
	if (need > w->cvcap) {
		char *p = realloc(w->cv, need);
		if (!p)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out.name);
		w->cv = p;
		w->cvcap = need;
	}
	char *in = (char *)(uintptr_t)s, *o = w->cv;
	size_t il = n, ol = w->cvcap;
	iconv(w->cd, NULL, NULL, NULL, NULL);
	if (iconv(w->cd, &in, &il, &o, &ol) == (size_t)-1) {
		uint32_t cp;
		char b[80];
		spif_utf8_decode((const unsigned char *)in, il, &cp);
		return spif_err_set(err, SPIF_EX_DATAERR,
		                    "%s:%lld: field \"%s\": character U+%04X has no %s code", w->out.name,
		                    row, shown(b, sizeof b, key, klen), (unsigned)cp,
		                    spif_enc_iconv_name(w->enc));
	}
	*out = w->cv;
	*outlen = (size_t)(o - w->cv);
	return 0;
}

static int csv_field(struct spif_writer *w, const char *s, size_t n, unsigned flags,
                     long long row, const char *key, size_t klen, struct spif_err *err)
{
	int high;
	int quote = csv_needs_quotes(w, (const unsigned char *)s, n, &high) ||
	            (flags & SPIF_FIELD_QUOTED);
	if (high && w->cd != (iconv_t)-1 && csv_convert(w, s, n, &s, &n, row, key, klen, err) < 0)
		return -1;
	if (!quote)
		return spif_out_put(&w->out, s, n) < 0 ? spif_out_error(&w->out, err) : 0;
	if (spif_out_put(&w->out, "\"", 1) < 0)
		return spif_out_error(&w->out, err);
	/* the output encodings never use '"' inside a multi-byte character */
	const char *q;
	while ((q = memchr(s, '"', n))) {
		size_t k = (size_t)(q - s) + 1;
		if (spif_out_put(&w->out, s, k) < 0 || spif_out_put(&w->out, "\"", 1) < 0)
			return spif_out_error(&w->out, err);
		s += k;
		n -= k;
	}
	if (spif_out_put(&w->out, s, n) < 0 || spif_out_put(&w->out, "\"", 1) < 0)
		return spif_out_error(&w->out, err);
	return 0;
}

/* Keep the header names and write the header line. */
static int csv_header(struct spif_writer *w, const char *const *names, const size_t *lens,
                      size_t n, struct spif_err *err)
{
	size_t total = 0, k = 0;
	for (size_t i = 0; i < n; i++)
		if (names[i][0] != '@')
			total += lens[i] + 1;
	w->hblock = malloc(total ? total : 1);
	w->hoff = malloc((n ? n : 1) * sizeof *w->hoff);
	w->hlen = malloc((n ? n : 1) * sizeof *w->hlen);
	if (!w->hblock || !w->hoff || !w->hlen)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out.name);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		if (names[i][0] == '@')
			continue;
		memcpy(w->hblock + off, names[i], lens[i] + 1);
		w->hoff[k] = off;
		w->hlen[k++] = lens[i];
		off += lens[i] + 1;
	}
	w->nh = k;
	w->have_header = 1;
	if (w->enc == SPIF_ENC_UTF8_BOM && spif_out_put(&w->out, "\xEF\xBB\xBF", 3) < 0)
		return spif_out_error(&w->out, err);
	for (size_t i = 0; i < k; i++) {
		const char *nm = w->hblock + w->hoff[i];
		if (i && spif_out_put(&w->out, &(char){(char)w->sep}, 1) < 0)
			return spif_out_error(&w->out, err);
		/* a quoted header is written quoted; records keep their own
		 * fields' quoting (SPIF_FIELD_QUOTED) */
		if (csv_field(w, nm, w->hlen[i], w->d.quote_all ? SPIF_FIELD_QUOTED : 0, 1, nm, w->hlen[i],
		              err) < 0)
			return -1;
	}
	return 0;
}

int spif_writer_put_header(struct spif_writer *w, const char *const *names, size_t n,
                           struct spif_err *err)
{
	if (w->fmt == SPIF_FMT_NDJSON)
		return 0;
	if (w->failed)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: writer used after an error", w->out.name);
	if (w->have_header || w->finished)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: header already written", w->out.name);
	size_t *lens = malloc((n ? n : 1) * sizeof *lens);
	if (!lens)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out.name);
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(names[i]);
	int r = csv_header(w, names, lens, n, err);
	free(lens);
	if (r < 0)
		w->failed = 1;
	return r;
}

/* s[0..n) inside quotes, quotes doubled, to o (room for 2n + 2). */
static unsigned char *csv_quote(unsigned char *o, const char *s, size_t n)
{
	const char *q;
	*o++ = '"';
	while ((q = memchr(s, '"', n))) {
		size_t k = (size_t)(q - s) + 1;
		memcpy(o, s, k);
		o += k;
		*o++ = '"';
		s += k;
		n -= k;
	}
	memcpy(o, s, n);
	o += n;
	*o++ = '"';
	return o;
}

/* A record field by field (line end first), through csv_field: for output
 * that needs converting, or a record too big for the buffer. */
static int csv_put_fields(struct spif_writer *w, const struct spif_record *rec, struct spif_err *err)
{
	if (spif_out_put(&w->out, w->d.eol, strlen(w->d.eol)) < 0)
		return spif_out_error(&w->out, err);
	size_t j = 0;
	for (size_t i = 0; i < rec->n; i++) {
		const struct spif_field *f = &rec->f[i];
		if (f->key[0] == '@')
			continue;
		if (j++ && spif_out_put(&w->out, &(char){(char)w->sep}, 1) < 0)
			return spif_out_error(&w->out, err);
		if (csv_field(w, f->val, f->vlen, f->flags, rec->row, f->key, f->klen, err) < 0)
			return -1;
	}
	return 0;
}

/* A record in UTF-8 (keys already checked): straight into the buffer when
 * it fits, else field by field. */
static int csv_put_fast(struct spif_writer *w, const struct spif_record *rec,
                        struct spif_err *err)
{
	size_t eol = strlen(w->d.eol), bound = eol + 16;
	for (size_t i = 0; i < rec->n; i++)
		bound += 2 * rec->f[i].vlen + 3;
	if (bound > w->out.cap)
		return csv_put_fields(w, rec, err);
	if (spif_out_room(&w->out, bound) < 0)
		return spif_out_error(&w->out, err);
	unsigned char *o0 = w->out.buf + w->out.len, *o = o0;
	memcpy(o, w->d.eol, eol);
	o += eol;
	int j = 0, sep = w->sep;
	const struct kcache *kc = w->kc;
	for (size_t i = 0; i < rec->n; i++) {
		const struct spif_field *f = &rec->f[i];
		if (kc[i].is_meta)
			continue;
		if (j++)
			*o++ = (unsigned char)sep;
		const unsigned char *v = (const unsigned char *)f->val;
		size_t n = f->vlen;
		int high;
		if (f->flags & SPIF_FIELD_QUOTED) {
			o = csv_quote(o, f->val, n);
		} else if (n < 16) {
			/* short: copy while looking, quote afterwards if need be */
			unsigned acc = 0;
			for (size_t k = 0; k < n; k++)
				acc |= w->qtab[o[k] = v[k]];
			o = acc & 1 ? csv_quote(o, f->val, n) : o + n;
		} else if (csv_needs_quotes(w, v, n, &high)) {
			o = csv_quote(o, f->val, n);
		} else {
			memcpy(o, v, n);
			o += n;
		}
	}
	w->out.len += (size_t)(o - o0);
	w->out.total += o - o0;
	return 0;
}

static int csv_put(struct spif_writer *w, const struct spif_record *rec, struct spif_err *err)
{
	if (!w->have_header) {
		const char **names = malloc((rec->n ? rec->n : 1) * sizeof *names);
		size_t *lens = malloc((rec->n ? rec->n : 1) * sizeof *lens);
		int r = -1;
		if (names && lens) {
			for (size_t i = 0; i < rec->n; i++) {
				names[i] = rec->f[i].key;
				lens[i] = rec->f[i].klen;
			}
			r = csv_header(w, names, lens, rec->n, err);
		} else {
			spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out.name);
		}
		free(names);
		free(lens);
		if (r < 0)
			return -1;
	}
	/* the key cache says cheaply whether these are the keys that matched
	 * the header last time */
	if (keys_check(w, rec) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out.name);
	if (w->hdr_ok_n != rec->n || w->hdr_ok_gen != w->kc_gen) {
		size_t j = 0, others = 0;
		for (size_t i = 0; i < rec->n; i++) {
			const struct spif_field *f = &rec->f[i];
			if (f->key[0] == '@')
				continue;
			others++;
			if (j < w->nh && f->klen == w->hlen[j] &&
			    memcmp(f->key, w->hblock + w->hoff[j], f->klen) == 0)
				j++;
		}
		if (j != w->nh || others != w->nh)
			return spif_err_set(err, SPIF_EX_DATAERR,
			                    "%s:%lld: record keys differ from the header", w->out.name,
			                    rec->row);
		w->hdr_ok_n = rec->n;
		w->hdr_ok_gen = w->kc_gen;
	}
	if (w->cd == (iconv_t)-1)
		return csv_put_fast(w, rec, err);
	return csv_put_fields(w, rec, err);
}

int spif_writer_put(struct spif_writer *w, const struct spif_record *rec, struct spif_err *err)
{
	if (w->failed || w->finished)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: writer used after %s", w->out.name,
		                    w->failed ? "an error" : "finishing");
	int r = w->fmt == SPIF_FMT_NDJSON ? nd_put(w, rec, err) : csv_put(w, rec, err);
	if (r < 0)
		w->failed = 1;
	return r;
}

int spif_writer_finish(struct spif_writer *w, struct spif_err *err)
{
	if (w->failed)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: writer used after an error", w->out.name);
	if (w->finished)
		return 0;
	if (w->fmt != SPIF_FMT_NDJSON && w->have_header && w->d.final_eol &&
	    spif_out_put(&w->out, w->d.eol, strlen(w->d.eol)) < 0)
		return spif_out_error(&w->out, err);
	if (spif_out_flush(&w->out) < 0) {
		w->failed = 1;
		return spif_out_error(&w->out, err);
	}
	w->finished = 1;
	return 0;
}

void spif_writer_set_final_eol(struct spif_writer *w, int on)
{
	w->d.final_eol = on;
}

long long spif_writer_bytes(const struct spif_writer *w)
{
	return w->out.total;
}

void spif_writer_close(struct spif_writer *w)
{
	if (!w)
		return;
	if (w->cd != (iconv_t)-1)
		iconv_close(w->cd);
	for (size_t i = 0; i < w->nkc; i++) {
		free(w->kc[i].key);
		free(w->kc[i].esc);
	}
	free(w->kc);
	free(w->kb);
	free(w->kb_off);
	free(w->cv);
	free(w->hblock);
	free(w->hoff);
	free(w->hlen);
	spif_out_close(&w->out);
	free(w);
}
