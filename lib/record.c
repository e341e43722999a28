/* record.c - records, and the reader and writer that dispatch by format to
 * a codec; see record.h.
 *
 * Everything format-specific is in the codecs (csv.c for CSV and TSV,
 * ndjson.c), and everything about file descriptors, buffers and source
 * encodings in io.c: what is left here is the record itself, the table of
 * codecs, and what the codecs share (names for messages, the key cache). */
#include "numview.h"
#include "record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "grow.h"
#include "io.h"
#include "ndjson.h"

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

enum spif_format spif_format_from_name(const char *path, enum spif_format fallback)
{
	const char *dot = strrchr(path, '.');
	if (dot && (strcasecmp(dot, ".tsv") == 0 || strcasecmp(dot, ".tab") == 0))
		return SPIF_FMT_TSV;
	if (dot && (strcasecmp(dot, ".ndjson") == 0 || strcasecmp(dot, ".jsonl") == 0))
		return SPIF_FMT_NDJSON;
	return fallback;
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
	int d;
	return spif_nv_digit((const unsigned char *)s, n, i, &d) == 3;
}

/* A key or column name for a one-line message: at most about 64 bytes
 * (cut at a character boundary), control characters shown as '?'.  A
 * "name" may be data (a file without a header row): if it holds 10 digits
 * or more, ASCII or full-width, they are shown as '*', so that a message
 * never carries an Individual Number. */
const char *spif_shown(char *dst, size_t cap, const char *s, size_t n)
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

/* The arena is allocated at least this big: most records fit at once.
 * It grows by the rule of grow.h, and the old one is wiped: it held field
 * values. */
#define ARENA_MIN ((size_t)4096)

void spif_record_init(struct spif_record *r)
{
	memset(r, 0, sizeof *r);
}

void spif_record_free(struct spif_record *r)
{
	free(r->f);
	spif_free_wipe(r->buf, r->bcap);
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

int spif_record_room(struct spif_record *r, size_t n)
{
	if (n <= r->cap) /* the usual case, once per record: no call */
		return 0;
	void *f = r->f;
	if (spif_grow(&f, &r->cap, n, sizeof *r->f) < 0)
		return -1;
	r->f = f;
	return 0;
}

/* Room for extra more bytes in the arena; fields are moved along.  A new
 * arena is allocated and copied rather than realloc'd so that the old one
 * stays readable until the caller has copied a value that may live in it
 * (spif_record_set(r, i, r->f[j].val, ...)); the caller then wipes and
 * frees *old, *oldcap bytes (it held field values). */
static int rec_grow(struct spif_record *r, size_t extra, char **old, size_t *oldcap)
{
	*old = NULL;
	*oldcap = 0;
	if (extra <= r->bcap - r->blen)
		return 0;
	if (r->blen > SIZE_MAX / 2 - extra)
		return -1;
	size_t need = r->blen + extra;
	size_t cap = spif_grow_cap(r->bcap, need < ARENA_MIN ? ARENA_MIN : need, 1);
	char *nb = cap ? malloc(cap) : NULL;
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
	*oldcap = r->bcap;
	r->buf = nb;
	r->bcap = cap;
	return 0;
}

int spif_record_add(struct spif_record *r, const char *key, size_t klen, const char *val,
                    size_t vlen, unsigned flags)
{
	char *old;
	size_t oldcap;
	if (klen > SIZE_MAX / 4 || vlen > SIZE_MAX / 4 || spif_record_room(r, r->n + 1) < 0 ||
	    rec_grow(r, klen + vlen + 2, &old, &oldcap) < 0)
		return -1;
	char *k = r->buf + r->blen, *v = k + klen + 1;
	if (klen)
		memcpy(k, key, klen);
	k[klen] = '\0';
	if (vlen)
		memcpy(v, val, vlen);
	v[vlen] = '\0';
	r->blen += klen + vlen + 2;
	spif_free_wipe(old, oldcap);
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
	size_t oldcap;
	if (vlen > SIZE_MAX / 4 || rec_grow(r, vlen + 1, &old, &oldcap) < 0)
		return -1;
	char *v = r->buf + r->blen;
	if (vlen)
		memcpy(v, val, vlen);
	v[vlen] = '\0';
	r->blen += vlen + 1;
	spif_free_wipe(old, oldcap);
	f->val = v;
	f->vlen = vlen;
	return 0;
}

int spif_record_reserve(struct spif_record *rec, size_t bytes, size_t nf)
{
	if (spif_record_room(rec, nf) < 0)
		return -1;
	if (bytes > rec->bcap) {
		/* what the arena held is dropped: no copy, but a wipe */
		size_t cap = spif_grow_cap(rec->bcap, bytes < ARENA_MIN ? ARENA_MIN : bytes, 1);
		char *b = cap ? malloc(cap) : NULL;
		if (!b)
			return -1;
		spif_free_wipe(rec->buf, rec->bcap);
		rec->buf = b;
		rec->bcap = cap;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the key cache                                                        */

/* Set entry i to key k. */
static int key_set(struct spif_keys *ks, size_t i, const char *k, size_t klen)
{
	if (i >= ks->n) {
		void *v = ks->k;
		if (spif_grow(&v, &ks->cap, i + 1, sizeof *ks->k) < 0)
			return -1;
		ks->k = v;
		memset(ks->k + ks->n, 0, (i + 1 - ks->n) * sizeof *ks->k);
		ks->n = i + 1;
	}
	struct spif_key *c = &ks->k[i];
	char *key = malloc(klen + 1), *form = NULL;
	size_t flen = 0;
	if (key && ks->form)
		form = ks->form(k, klen, &flen);
	if (!key || (ks->form && !form)) {
		free(key);
		free(form);
		return -1;
	}
	free(c->key);
	free(c->form);
	memcpy(key, k, klen);
	key[klen] = '\0';
	*c = (struct spif_key){key, klen, form, flen, klen == 4 && memcmp(k, "@row", 4) == 0,
	                       klen && k[0] == '@'};
	ks->gen++;
	return 0;
}

/* Keys packed back to back are checked with one memcmp against the last
 * record's; otherwise key by key. */
int spif_keys_check(struct spif_keys *ks, const struct spif_record *rec)
{
	size_t n = rec->n;
	if (n && n == ks->kb_n) {
		uintptr_t k0 = (uintptr_t)rec->f[0].key;
		size_t i = 0;
		for (; i < n; i++)
			if ((uintptr_t)rec->f[i].key - k0 != ks->kb_off[i] || rec->f[i].klen != ks->k[i].klen)
				break;
		if (i == n && memcmp(rec->f[0].key, ks->kb, ks->kb_len) == 0)
			return 0;
	}
	int packed = n > 0;
	for (size_t i = 0; i < n; i++) {
		const struct spif_field *f = &rec->f[i];
		if (!(i < ks->n && ks->k[i].klen == f->klen && memcmp(ks->k[i].key, f->key, f->klen) == 0) &&
		    key_set(ks, i, f->key, f->klen) < 0)
			return -1;
		if (i && f->key != rec->f[i - 1].key + rec->f[i - 1].klen + 1)
			packed = 0;
	}
	/* remember a packed layout for next time */
	ks->kb_n = 0;
	if (!packed)
		return 0;
	size_t len = (size_t)(rec->f[n - 1].key - rec->f[0].key) + rec->f[n - 1].klen + 1;
	void *kb = ks->kb, *off = ks->kb_off;
	int r = spif_grow(&kb, &ks->kb_cap, len, 1);
	ks->kb = kb;
	if (r < 0 || spif_grow(&off, &ks->kb_offcap, n, sizeof *ks->kb_off) < 0)
		return 0; /* only the shortcut is lost */
	ks->kb_off = off;
	memcpy(ks->kb, rec->f[0].key, len);
	for (size_t i = 0; i < n; i++)
		ks->kb_off[i] = (size_t)(rec->f[i].key - rec->f[0].key);
	ks->kb_len = len;
	ks->kb_n = n;
	return 0;
}

void spif_keys_free(struct spif_keys *ks)
{
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->k[i].key);
		free(ks->k[i].form);
	}
	free(ks->k);
	free(ks->kb);
	free(ks->kb_off);
	ks->k = NULL;
	ks->kb = NULL;
	ks->kb_off = NULL;
	ks->n = ks->cap = ks->kb_n = ks->kb_cap = ks->kb_offcap = 0;
}

/* ------------------------------------------------------------------ */
/* codecs                                                               */

static const struct {
	const struct spif_reader_codec *reader;
	const struct spif_writer_codec *writer;
} codecs[] = {
	[SPIF_FMT_CSV] = {&spif_csv_reader, &spif_csv_writer},
	[SPIF_FMT_TSV] = {&spif_csv_reader, &spif_csv_writer},
	[SPIF_FMT_NDJSON] = {&spif_ndjson_reader, &spif_ndjson_writer},
};

static int known_format(enum spif_format fmt)
{
	return (unsigned)fmt < sizeof codecs / sizeof *codecs && codecs[fmt].reader;
}

/* ------------------------------------------------------------------ */
/* reader                                                               */

struct spif_reader {
	const struct spif_reader_codec *c;
	void *st;
	struct spif_in in; /* the text, in UTF-8 */
	int failed;
};

struct spif_reader *spif_reader_open(int fd, const char *name, enum spif_format fmt,
                                     enum spif_enc enc, struct spif_err *err)
{
	if (!name || !strcmp(name, "-"))
		name = "(stdin)";
	if (!known_format(fmt)) {
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
	rd->c = codecs[fmt].reader;
	if (!(rd->st = rd->c->open(&rd->in, fmt, err))) {
		spif_in_close(&rd->in);
		free(rd);
		return NULL;
	}
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
	int r = rd->c->next(rd->st, rec, err);
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
	/* a format without one: what a writer given NULL would use */
	static const struct spif_dialect none = {"\r\n", 0, 1, 0};
	return rd->c->dialect ? rd->c->dialect(rd->st) : &none;
}

size_t spif_reader_ncols(const struct spif_reader *rd)
{
	return rd->c->ncols ? rd->c->ncols(rd->st) : 0;
}

const char *spif_reader_colname(const struct spif_reader *rd, size_t i)
{
	return rd->c->colname ? rd->c->colname(rd->st, i) : NULL;
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
	rd->c->close(rd->st);
	spif_in_close(&rd->in);
	free(rd);
}

/* ------------------------------------------------------------------ */
/* writer                                                               */

struct spif_writer {
	const struct spif_writer_codec *c;
	void *st;
	struct spif_out out;
	struct spif_wopts opt;
	int failed, finished;
	int header_done; /* a put or put_header succeeded: the header is out */
};

struct spif_writer *spif_writer_open(spif_sink_fn fn, void *ctx, const char *name,
                                     enum spif_format fmt, enum spif_enc enc,
                                     const struct spif_dialect *dialect, struct spif_err *err)
{
	if (!name || !strcmp(name, "-"))
		name = "(stdout)";
	if (!known_format(fmt)) {
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
	w->opt.final_eol = dialect ? dialect->final_eol : 1;
	if (fmt == SPIF_FMT_NDJSON || enc == SPIF_ENC_AUTO)
		enc = SPIF_ENC_UTF8;
	w->c = codecs[fmt].writer;
	if (!(w->st = w->c->open(&w->out, fmt, enc, dialect, &w->opt, err))) {
		spif_out_close(&w->out);
		free(w);
		return NULL;
	}
	return w;
}

void spif_writer_set_rowmeta(struct spif_writer *w, int on)
{
	w->opt.rowmeta = on;
}

void spif_writer_set_final_eol(struct spif_writer *w, int on)
{
	w->opt.final_eol = on;
}

int spif_writer_put(struct spif_writer *w, const struct spif_record *rec, struct spif_err *err)
{
	if (w->failed || w->finished)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: writer used after %s", w->out.name,
		                    w->failed ? "an error" : "finishing");
	int r = w->c->put(w->st, rec, err);
	if (r < 0)
		w->failed = 1;
	else
		w->header_done = 1;
	return r;
}

int spif_writer_put_header(struct spif_writer *w, const char *const *names, size_t n,
                           struct spif_err *err)
{
	if (!w->c->put_header)
		return 0;
	if (w->failed)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: writer used after an error", w->out.name);
	/* refused, but the writer stays usable */
	if (w->header_done || w->finished)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: header already written", w->out.name);
	int r = w->c->put_header(w->st, names, n, err);
	if (r < 0)
		w->failed = 1;
	else
		w->header_done = 1;
	return r;
}

int spif_writer_finish(struct spif_writer *w, struct spif_err *err)
{
	if (w->failed)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: writer used after an error", w->out.name);
	if (w->finished)
		return 0;
	if ((w->c->finish && w->c->finish(w->st, err) < 0) ||
	    (spif_out_flush(&w->out) < 0 && spif_out_error(&w->out, err) < 0)) {
		w->failed = 1;
		return -1;
	}
	w->finished = 1;
	return 0;
}

long long spif_writer_bytes(const struct spif_writer *w)
{
	return w->out.total;
}

void spif_writer_close(struct spif_writer *w)
{
	if (!w)
		return;
	w->c->close(w->st);
	spif_out_close(&w->out);
	free(w);
}
