/* csv.c - the CSV and TSV codec: a reader and a writer; see csv.h.
 *
 * The reader parses the UTF-8 text that io.c gives it.  It restarts a
 * record from its first byte when the text runs out (spif_in_fill keeps
 * the record and adds at least as much again), and copies a complete
 * record into the caller's record in one piece: the header names and the
 * record's text are each one memcpy, and the values are cut out of the
 * copy in place.  Separators and line ends are found 64 bytes at a time.
 *
 * CSV rules beyond RFC 4180: LF or CRLF ends a record (mixed is fine); a
 * lone CR, or a quote inside an unquoted field, is data (as Excel reads
 * it); text after a closing quote is an error; blank lines (LF or CRLF)
 * at the very end are ignored, elsewhere a blank line is a one-field
 * record, and a line of CRs is a record wherever it is; a column name
 * starting with '@' is refused, since '@' keys are spif's metadata and a
 * CSV writer leaves them out.
 *
 * The writer quotes a field when it must (separator, quote, CR, LF; the
 * only value of a one-column record when empty, which would otherwise be a
 * blank line; a first header name starting with U+FEFF, which a reader
 * would take for a byte order mark), when
 * the source had it quoted, or when the dialect says quote_all; it writes
 * UTF-8 records straight into the output buffer, and converts field by
 * field with iconv(3) for CP932 and EUC-JP. */
#include "csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "grow.h"
#include "io.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define F_ESC 0x100u /* internal: quoted field holds "" pairs */

/* ------------------------------------------------------------------ */
/* reader                                                               */

enum { P_OK, P_MORE, P_END, P_ERR };
enum term { T_SEP, T_LF, T_CRLF, T_EOF };

struct fspan {
	size_t s, e; /* txt offsets of the field's content */
	unsigned fl;
};

struct csv_reader {
	struct spif_in *in;
	int sep;
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
};

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
static int grow_spans(struct csv_reader *rd)
{
	void *f = rd->fs;
	if (spif_grow(&f, &rd->fcap, rd->fcap ? rd->fcap + 1 : 64, sizeof *rd->fs) < 0)
		return -1;
	rd->fs = f;
	return 0;
}

static int too_long(struct csv_reader *rd, size_t field, struct spif_err *err)
{
	spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: field %zu: longer than %u bytes", rd->in->name,
	             rd->row, field, SPIF_FIELD_MAX);
	return P_ERR;
}

/* Out of text inside a record that started at start, in the field that
 * started at fb: ask for more, unless that is already too much. */
static int csv_more(struct csv_reader *rd, const unsigned char *start, const unsigned char *fb,
                    const unsigned char *end, struct spif_err *err)
{
	if ((size_t)(end - fb) > (size_t)SPIF_FIELD_MAX + 2)
		return too_long(rd, rd->nf + 1, err);
	if ((size_t)(end - start) > SPIF_RECORD_MAX) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: record longer than %zu bytes", rd->in->name,
		             rd->row, SPIF_RECORD_MAX);
		return P_ERR;
	}
	return P_MORE;
}

/* One quoted field from p (at its opening quote).  Sets its end *fe, the
 * position after its terminator *next and the terminator. */
static int csv_quoted(struct csv_reader *rd, const unsigned char *start, const unsigned char *p,
                      const unsigned char *end, const unsigned char **fe,
                      const unsigned char **next, enum term *t, unsigned *fl,
                      struct spif_err *err)
{
	int eof = rd->in->text_eof;
	const unsigned char *q = p + 1;
	*fl = SPIF_FIELD_QUOTED;
	for (;;) {
		q = memchr(q, '"', (size_t)(end - q));
		if (!q) {
			if (!eof)
				return csv_more(rd, start, p, end, err);
			spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: unterminated quoted field",
			             rd->in->name, rd->row);
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
		             rd->in->name, rd->row, rd->nf + 1);
		return P_ERR;
	}
	return P_OK;
}

/* Parse one record at txt[tpos..tlen) into rd->fs.  P_MORE when the text
 * ends inside it (and is not the end of the input).  The hot loop keeps
 * its state in locals: stores to rd->fs could otherwise alias rd's fields
 * and force reloads. */
static int csv_try(struct csv_reader *rd, struct spif_err *err)
{
	const struct spif_in *in = rd->in;
	const unsigned char *base = in->txt, *start = base + in->tpos, *end = base + in->tlen;
	const unsigned char *p = start;
	int eof = in->text_eof, sep = rd->sep, r;
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
		if (nf == fcap) {
			rd->nf = nf;
			if (grow_spans(rd) < 0) {
				spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in->name);
				return P_ERR;
			}
			fs = rd->fs;
			fcap = rd->fcap;
		}
		/* the flags are stored at once: kept to the end of the loop,
		 * they would be one more value to spill */
		if (p < end && *p == '"') {
			unsigned fl;
			rd->nf = nf;
			r = csv_quoted(rd, start, p, end, &fe, &next, &t, &fl, err);
			if (r != P_OK)
				return r;
			fs[nf].fl = fl;
			if (t == T_SEP)
				scan_at(&sc, next, sep);
			p++; /* content starts after the quote */
		} else {
			int is_sep;
			const unsigned char *q = scan_next(&sc, end, sep, &is_sep);
			fs[nf].fl = 0;
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
static int csv_parse(struct csv_reader *rd, struct spif_err *err)
{
	for (;;) {
		int r = csv_try(rd, err);
		if (r != P_MORE)
			return r;
		int f = spif_in_fill(rd->in);
		if (f < 0) {
			spif_in_error(rd->in, rd->row, err);
			return P_ERR;
		}
	}
}

static int blank_record(const struct csv_reader *rd)
{
	return rd->nf == 1 && rd->fs[0].s == rd->fs[0].e && !(rd->fs[0].fl & SPIF_FIELD_QUOTED);
}

/* A blank line was just parsed: P_END if nothing but blank lines (LF or
 * CRLF) follows it to the end of the input, P_OK if more follows.  A CR
 * that does not end a line is data here as anywhere, so a line of CRs is a
 * record and not a blank line; a CR that is the last byte read so far may
 * still start a CRLF, and is looked at again when more has been read. */
static int trailing_blanks(struct csv_reader *rd, struct spif_err *err)
{
	for (;;) {
		const unsigned char *p = rd->in->txt + rd->rec_end, *end = rd->in->txt + rd->in->tlen;
		for (;;) {
			if (p < end && *p == '\n')
				p++;
			else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
				p += 2;
			else
				break;
		}
		if (p < end && !(*p == '\r' && p + 1 == end && !rd->in->text_eof))
			return P_OK;
		if (p == end && rd->in->text_eof)
			return P_END;
		/* read on, keeping the blank line; then parse it again */
		int f = spif_in_fill(rd->in);
		if (f < 0) {
			spif_in_error(rd->in, rd->row, err);
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

/* DATAERR for the first column (in column order) whose name an earlier
 * column already has; 0 if the names are distinct. */
static int check_dups(struct csv_reader *rd, struct spif_err *err)
{
	size_t n = rd->ncols, cap = n < SIZE_MAX / 2 ? spif_grow_cap(16, 2 * n, sizeof(size_t)) : 0;
	size_t *slot = cap ? calloc(cap, sizeof *slot) : NULL; /* column + 1, 0 for empty */
	if (!slot)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in->name);
	for (size_t i = 0; i < n; i++) {
		const char *nm = rd->hblock + rd->hoff[i];
		size_t len = rd->hlen[i], h = (size_t)spif_key_hash(nm, len) & (cap - 1);
		for (; slot[h]; h = (h + 1) & (cap - 1)) {
			size_t j = slot[h] - 1;
			if (rd->hlen[j] == len && memcmp(rd->hblock + rd->hoff[j], nm, len) == 0) {
				char b[80];
				free(slot);
				return spif_err_set(err, SPIF_EX_DATAERR,
				                    "%s:1: duplicate column name \"%s\"", rd->in->name,
				                    spif_shown(b, sizeof b, nm, len));
			}
		}
		slot[h] = i + 1;
	}
	free(slot);
	return 0;
}

static int read_header(struct csv_reader *rd, struct spif_err *err)
{
	int r = csv_parse(rd, err);
	if (r == P_ERR)
		return -1;
	if (r == P_END || blank_record(rd))
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: no header row", rd->in->name);
	size_t n = rd->nf, total = 0;
	for (size_t i = 0; i < n; i++)
		total += rd->fs[i].e - rd->fs[i].s + 1;
	rd->hblock = malloc(total);
	rd->hoff = malloc(n * sizeof *rd->hoff);
	rd->hlen = malloc(n * sizeof *rd->hlen);
	if (!rd->hblock || !rd->hoff || !rd->hlen)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in->name);
	int all_quoted = 1;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fspan *f = &rd->fs[i];
		char *d = rd->hblock + off;
		size_t len = f->e - f->s;
		memcpy(d, rd->in->txt + f->s, len);
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
			                    rd->in->name,
			                    spif_shown(b, sizeof b, rd->hblock + rd->hoff[i], rd->hlen[i]));
		}
	if (check_dups(rd, err) < 0)
		return -1;
	rd->d.quote_all = all_quoted;
	rd->d.bom = rd->in->bom;
	if (rd->rec_term == T_LF)
		memcpy(rd->d.eol, "\n", 2);
	else
		memcpy(rd->d.eol, "\r\n", 3);
	rd->d.final_eol = rd->rec_term != T_EOF;
	spif_in_consumed(rd->in, rd->rec_end, 1);
	rd->in->tpos = rd->rec_end;
	rd->header_done = 1;
	rd->row = 2;
	return 0;
}

/* Fill rec from the record just parsed: the header names and the record's
 * text are each copied in one piece, and the values are cut out of the
 * copy in place (the byte after each value, a separator or a quote or a
 * line end, becomes its NUL). */
static int csv_build(struct csv_reader *rd, struct spif_record *rec)
{
	size_t K = rd->hblen, L = rd->rec_end - rd->in->tpos, n = rd->ncols;
	if (spif_record_reserve(rec, K + L + 1, n) < 0)
		return -1;
	/* locals: the NUL stores below are char stores, which may alias
	 * anything reached through rd or rec */
	char *buf = rec->buf, *t = buf + K - rd->in->tpos;
	const struct fspan *fs = rd->fs;
	const size_t *hoff = rd->hoff, *hlen = rd->hlen;
	struct spif_field *f = rec->f;
	memcpy(buf, rd->hblock, K);
	memcpy(buf + K, rd->in->txt + rd->in->tpos, L);
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

static int csv_next(void *st, struct spif_record *rec, struct spif_err *err)
{
	struct csv_reader *rd = st;
	if (!rd->header_done && read_header(rd, err) < 0)
		return -1;
	int r = csv_parse(rd, err);
	if (r == P_OK && blank_record(rd))
		r = trailing_blanks(rd, err);
	if (r == P_ERR)
		return -1;
	if (r == P_END) {
		if (rd->in->tlen > rd->in->tpos) /* only blank lines were left */
			rd->d.final_eol = 1;
		rd->in->tpos = rd->in->tlen;
		return 0;
	}
	if (rd->nf != rd->ncols)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: %zu field%s, header has %zu",
		                    rd->in->name, rd->row, rd->nf, rd->nf == 1 ? "" : "s", rd->ncols);
	if (csv_build(rd, rec) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", rd->in->name);
	rd->d.final_eol = rd->rec_term != T_EOF;
	spif_in_consumed(rd->in, rd->rec_end, rd->row);
	rd->in->tpos = rd->rec_end;
	rd->row++;
	return 1;
}

static void *csv_ropen(struct spif_in *in, enum spif_format fmt, struct spif_err *err)
{
	struct csv_reader *rd = calloc(1, sizeof *rd);
	if (!rd) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", in->name);
		return NULL;
	}
	rd->in = in;
	rd->sep = fmt == SPIF_FMT_TSV ? '\t' : ',';
	rd->row = 1;
	memcpy(rd->d.eol, "\r\n", 3);
	rd->d.final_eol = 1;
	return rd;
}

static const struct spif_dialect *csv_dialect(const void *st)
{
	const struct csv_reader *rd = st;
	return &rd->d;
}

static size_t csv_ncols(const void *st)
{
	const struct csv_reader *rd = st;
	return rd->ncols;
}

static const char *csv_colname(const void *st, size_t i)
{
	const struct csv_reader *rd = st;
	return i < rd->ncols ? rd->hblock + rd->hoff[i] : NULL;
}

static void csv_rclose(void *st)
{
	struct csv_reader *rd = st;
	free(rd->hblock);
	free(rd->hoff);
	free(rd->hlen);
	free(rd->fs);
	free(rd);
}

const struct spif_reader_codec spif_csv_reader = {
	.open = csv_ropen,
	.next = csv_next,
	.dialect = csv_dialect,
	.ncols = csv_ncols,
	.colname = csv_colname,
	.close = csv_rclose,
};

/* ------------------------------------------------------------------ */
/* writer                                                               */

struct csv_writer {
	struct spif_out *out;
	const struct spif_wopts *opt;
	enum spif_enc enc;
	struct spif_dialect d; /* eol and quote_all; final_eol is in opt */
	int sep;
	int have_header;
	size_t nh;
	char *hblock;
	size_t *hoff, *hlen;
	iconv_t cd;
	char *cv; /* conversion scratch */
	size_t cvcap;
	struct spif_keys keys;
	unsigned long hdr_ok_gen; /* the key cache as it matched the header */
	size_t hdr_ok_n;
	unsigned char qtab[256];  /* 1 needs quotes, 2 not ASCII */
};

/* Does s[0..n) need quotes (separator, quote, CR, LF)?  *high: it has
 * bytes above ASCII. */
static int csv_needs_quotes(const struct csv_writer *w, const unsigned char *s, size_t n,
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
static int csv_convert(struct csv_writer *w, const char *s, size_t n, const char **out,
                       size_t *outlen, long long row, const char *key, size_t klen,
                       struct spif_err *err)
{
	/* EUC-JP can take 3 bytes for a 2-byte UTF-8 character */
	size_t need = n + n / 2 + 16;
	void *p = w->cv; /* it holds converted values: grown with a wipe */
	if (spif_grow_wipe(&p, &w->cvcap, need, 1) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out->name);
	w->cv = p;
	char *in = (char *)(uintptr_t)s, *o = w->cv;
	size_t il = n, ol = w->cvcap;
	iconv(w->cd, NULL, NULL, NULL, NULL);
	if (iconv(w->cd, &in, &il, &o, &ol) == (size_t)-1) {
		uint32_t cp;
		char b[80];
		spif_utf8_decode((const unsigned char *)in, il, &cp);
		return spif_err_set(err, SPIF_EX_DATAERR,
		                    "%s:%lld: field \"%s\": character U+%04X has no %s code", w->out->name,
		                    row, spif_shown(b, sizeof b, key, klen), (unsigned)cp,
		                    spif_enc_iconv_name(w->enc));
	}
	*out = w->cv;
	*outlen = (size_t)(o - w->cv);
	return 0;
}

static int csv_field(struct csv_writer *w, const char *s, size_t n, unsigned flags,
                     long long row, const char *key, size_t klen, struct spif_err *err)
{
	int high;
	int quote = csv_needs_quotes(w, (const unsigned char *)s, n, &high) ||
	            (flags & SPIF_FIELD_QUOTED);
	if (high && w->cd != (iconv_t)-1 && csv_convert(w, s, n, &s, &n, row, key, klen, err) < 0)
		return -1;
	if (!quote)
		return spif_out_put(w->out, s, n) < 0 ? spif_out_error(w->out, err) : 0;
	if (spif_out_put(w->out, "\"", 1) < 0)
		return spif_out_error(w->out, err);
	/* the output encodings never use '"' inside a multi-byte character */
	const char *q;
	while ((q = memchr(s, '"', n))) {
		size_t k = (size_t)(q - s) + 1;
		if (spif_out_put(w->out, s, k) < 0 || spif_out_put(w->out, "\"", 1) < 0)
			return spif_out_error(w->out, err);
		s += k;
		n -= k;
	}
	if (spif_out_put(w->out, s, n) < 0 || spif_out_put(w->out, "\"", 1) < 0)
		return spif_out_error(w->out, err);
	return 0;
}

/* Keep the header names and write the header line; lens NULL: the names'
 * strlen. */
static int csv_header(struct csv_writer *w, const char *const *names, const size_t *lens,
                      size_t n, struct spif_err *err)
{
	size_t total = 0, k = 0;
	for (size_t i = 0; i < n; i++)
		if (names[i][0] != '@')
			total += (lens ? lens[i] : strlen(names[i])) + 1;
	w->hblock = malloc(total ? total : 1);
	w->hoff = malloc((n ? n : 1) * sizeof *w->hoff);
	w->hlen = malloc((n ? n : 1) * sizeof *w->hlen);
	if (!w->hblock || !w->hoff || !w->hlen)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out->name);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		if (names[i][0] == '@')
			continue;
		size_t len = lens ? lens[i] : strlen(names[i]);
		memcpy(w->hblock + off, names[i], len + 1);
		w->hoff[k] = off;
		w->hlen[k++] = len;
		off += len + 1;
	}
	w->nh = k;
	w->have_header = 1;
	if (w->enc == SPIF_ENC_UTF8_BOM && spif_out_put(w->out, "\xEF\xBB\xBF", 3) < 0)
		return spif_out_error(w->out, err);
	for (size_t i = 0; i < k; i++) {
		const char *nm = w->hblock + w->hoff[i];
		if (i && spif_out_put(w->out, &(char){(char)w->sep}, 1) < 0)
			return spif_out_error(w->out, err);
		/* a quoted header is written quoted; records keep their own
		 * fields' quoting (SPIF_FIELD_QUOTED) */
		unsigned fl = w->d.quote_all ? SPIF_FIELD_QUOTED : 0;
		/* a first name starting with U+FEFF would be taken for a BOM and
		 * dropped; a lone empty name would be a blank line */
		if ((i == 0 && w->hlen[0] >= 3 && memcmp(nm, "\xEF\xBB\xBF", 3) == 0) || (k == 1 && !w->hlen[0]))
			fl = SPIF_FIELD_QUOTED;
		if (csv_field(w, nm, w->hlen[i], fl, 1, nm, w->hlen[i], err) < 0)
			return -1;
	}
	return 0;
}

static int csv_put_header(void *st, const char *const *names, size_t n, struct spif_err *err)
{
	return csv_header(st, names, NULL, n, err);
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
static int csv_put_fields(struct csv_writer *w, const struct spif_record *rec, struct spif_err *err)
{
	if (spif_out_put(w->out, w->d.eol, strlen(w->d.eol)) < 0)
		return spif_out_error(w->out, err);
	size_t j = 0;
	for (size_t i = 0; i < rec->n; i++) {
		const struct spif_field *f = &rec->f[i];
		if (f->key[0] == '@')
			continue;
		if (j++ && spif_out_put(w->out, &(char){(char)w->sep}, 1) < 0)
			return spif_out_error(w->out, err);
		/* one empty value alone on its line would be a blank line,
		 * which a reader skips: written "" */
		unsigned fl = f->flags | (w->nh == 1 && !f->vlen ? SPIF_FIELD_QUOTED : 0);
		if (csv_field(w, f->val, f->vlen, fl, rec->row, f->key, f->klen, err) < 0)
			return -1;
	}
	return 0;
}

/* A record in UTF-8 (keys already checked): straight into the buffer when
 * it fits, else field by field. */
static int csv_put_fast(struct csv_writer *w, const struct spif_record *rec,
                        struct spif_err *err)
{
	size_t eol = strlen(w->d.eol), bound = eol + 16;
	for (size_t i = 0; i < rec->n; i++)
		bound += 2 * rec->f[i].vlen + 3;
	if (bound > w->out->cap)
		return csv_put_fields(w, rec, err);
	if (spif_out_room(w->out, bound) < 0)
		return spif_out_error(w->out, err);
	unsigned char *o0 = w->out->buf + w->out->len, *o = o0;
	memcpy(o, w->d.eol, eol);
	o += eol;
	int j = 0, sep = w->sep;
	const struct spif_key *kc = w->keys.k;
	for (size_t i = 0; i < rec->n; i++) {
		const struct spif_field *f = &rec->f[i];
		if (kc[i].is_meta)
			continue;
		if (j++)
			*o++ = (unsigned char)sep;
		const unsigned char *v = (const unsigned char *)f->val;
		size_t n = f->vlen;
		int high;
		if ((f->flags & SPIF_FIELD_QUOTED) || (!n && w->nh == 1)) { /* "": see csv_put_fields */
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
	w->out->len += (size_t)(o - o0);
	w->out->total += o - o0;
	return 0;
}

static int csv_put(void *st, const struct spif_record *rec, struct spif_err *err)
{
	struct csv_writer *w = st;
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
			spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out->name);
		}
		free(names);
		free(lens);
		if (r < 0)
			return -1;
	}
	/* the key cache says cheaply whether these are the keys that matched
	 * the header last time */
	if (spif_keys_check(&w->keys, rec) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", w->out->name);
	if (w->hdr_ok_n != rec->n || w->hdr_ok_gen != w->keys.gen) {
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
			                    "%s:%lld: record keys differ from the header", w->out->name,
			                    rec->row);
		w->hdr_ok_n = rec->n;
		w->hdr_ok_gen = w->keys.gen;
	}
	if (w->cd == (iconv_t)-1)
		return csv_put_fast(w, rec, err);
	return csv_put_fields(w, rec, err);
}

static int csv_finish(void *st, struct spif_err *err)
{
	struct csv_writer *w = st;
	if (w->have_header && w->opt->final_eol &&
	    spif_out_put(w->out, w->d.eol, strlen(w->d.eol)) < 0)
		return spif_out_error(w->out, err);
	return 0;
}

static void csv_wclose(void *st)
{
	struct csv_writer *w = st;
	if (w->cd != (iconv_t)-1)
		iconv_close(w->cd);
	spif_keys_free(&w->keys);
	spif_free_wipe(w->cv, w->cvcap);
	free(w->hblock);
	free(w->hoff);
	free(w->hlen);
	free(w);
}

static void *csv_wopen(struct spif_out *out, enum spif_format fmt, enum spif_enc enc,
                       const struct spif_dialect *dialect, const struct spif_wopts *opt,
                       struct spif_err *err)
{
	struct csv_writer *w = calloc(1, sizeof *w);
	if (!w) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", out->name);
		return NULL;
	}
	w->out = out;
	w->opt = opt;
	w->enc = enc;
	w->cd = (iconv_t)-1;
	w->sep = fmt == SPIF_FMT_TSV ? '\t' : ',';
	memcpy(w->d.eol, "\r\n", 3);
	if (dialect) {
		w->d.quote_all = dialect->quote_all;
		if (strcmp(dialect->eol, "\n") == 0)
			memcpy(w->d.eol, "\n", 2);
	}
	for (int c = 0x80; c < 256; c++)
		w->qtab[c] = 2;
	w->qtab[w->sep] = w->qtab['"'] = w->qtab['\r'] = w->qtab['\n'] = 1;
	w->hdr_ok_gen = (unsigned long)-1;
	const char *ic = spif_enc_iconv_name(w->enc);
	if (ic && (w->cd = iconv_open(ic, "UTF-8")) == (iconv_t)-1) {
		spif_err_sys(err, SPIF_EX_UNAVAILABLE, errno, "%s: cannot encode %s with iconv",
		             out->name, ic);
		csv_wclose(w);
		return NULL;
	}
	return w;
}

const struct spif_writer_codec spif_csv_writer = {
	.open = csv_wopen,
	.put = csv_put,
	.put_header = csv_put_header,
	.finish = csv_finish,
	.close = csv_wclose,
};
