/* fuzz_ndjson.c - the NDJSON reader and the writers (record.h), used as
 * the commands use them.
 *
 * Input: one option byte, then the NDJSON source.  Option bits:
 *   0  as spif ingest does: drop the record's '@' fields and let the
 *      NDJSON writer put "@row" first (spif_writer_set_rowmeta)
 *   1  write CSV instead of NDJSON (spif ingest --format ndjson --to csv),
 *      header from the first record, no source dialect
 *   2-3  the CSV's encoding: UTF-8, CP932, EUC-JP, UTF-8 with a BOM
 *   4-5  a size the source is grown to by repeating it (see fz_grow; the
 *        next byte is then the jitter)
 *
 * Properties, wherever reading the source succeeds:
 *  - every key and value is valid UTF-8 with no NUL, as long as it says,
 *    no key twice in a record, rows are the line numbers 1, 2, ...;
 *  - NDJSON: writing the records cannot fail (except the documented
 *    refusal of a record that already has "@row" when the writer adds it);
 *    reading what was written gives the same records (with "@row" first,
 *    holding the source row, when the writer added it), and writing those
 *    again gives the same bytes;
 *  - CSV: when the writer takes every record (same keys throughout, every
 *    character has a code in the encoding) the CSV reads back as the same
 *    records, keys and values. */
#include "fuzz.h"

#include "record.h"

static void check_record(const struct spif_record *rec, long long line)
{
	FZ_CHECK(rec->row == line, "record on line %lld has row %lld", line, rec->row);
	for (size_t i = 0; i < rec->n; i++) {
		const struct spif_field *f = &rec->f[i];
		FZ_CHECK(strlen(f->key) == f->klen && strlen(f->val) == f->vlen, "field %zu: a NUL inside, or a wrong length", i);
		FZ_CHECK(spif_utf8_valid_prefix((const unsigned char *)f->key, f->klen) == f->klen &&
		         spif_utf8_valid_prefix((const unsigned char *)f->val, f->vlen) == f->vlen,
		         "field %zu: not valid UTF-8", i);
		for (size_t j = 0; j < i; j++)
			FZ_CHECK(!fz_same(f->key, f->klen, rec->f[j].key, rec->f[j].klen), "fields %zu and %zu: same key", j, i);
	}
}

/* Drop the '@' fields, as spif ingest does before writing. */
static void drop_meta(struct spif_record *rec)
{
	size_t j = 0;
	for (size_t i = 0; i < rec->n; i++)
		if (rec->f[i].key[0] != '@')
			rec->f[j++] = rec->f[i];
	rec->n = j;
}

struct out {
	struct fz_buf recs, bytes;
	long long n;
	size_t first_n;  /* fields of the first record written */
	int first_blank; /* it had one field, named "" */
	int first_feff;  /* its first key starts with U+FEFF */
	int last_blank;  /* the last had one field, holding "" */
};

/* Read NDJSON src; each record (flattened into o->recs) is written with w
 * when w is given.  1 read and written whole; 0 reading failed; -1 the
 * writer refused a record (err says why). */
static int nd_pass(int slot, const void *src, size_t n, int ingest, int stamped, struct spif_writer *w,
                   struct out *o, struct spif_err *err)
{
	struct spif_reader *rd = spif_reader_open(fz_fd(slot, src, n), "fuzz", SPIF_FMT_NDJSON, SPIF_ENC_AUTO, err);
	FZ_CHECK(rd, "spif_reader_open: %s", err->msg);
	struct spif_record rec;
	spif_record_init(&rec);
	int r, ret = 1;
	while ((r = spif_reader_next(rd, &rec, err)) > 0) {
		o->n++;
		check_record(&rec, o->n);
		struct spif_record view = rec;
		if (stamped) { /* what the writer added: "@row" first, the row */
			char want[32];
			snprintf(want, sizeof want, "%lld", rec.row);
			FZ_CHECK(rec.n >= 1 && strcmp(rec.f[0].key, "@row") == 0 && strcmp(rec.f[0].val, want) == 0,
			         "record %lld: \"@row\" is not first, or not its row", o->n);
			view.f++;
			view.n--;
		}
		if (ingest)
			drop_meta(&rec), view = rec;
		fz_rec_flatten(&o->recs, &view, 1);
		if (o->n == 1) {
			o->first_n = rec.n;
			o->first_blank = rec.n == 1 && rec.f[0].klen == 0;
			o->first_feff = rec.n >= 1 && strncmp(rec.f[0].key, "\xEF\xBB\xBF", 3) == 0;
		}
		o->last_blank = rec.n == 1 && rec.f[0].vlen == 0;
		if (w && spif_writer_put(w, &rec, err) < 0) {
			ret = -1;
			break;
		}
	}
	if (r < 0) {
		FZ_CHECK(err->code == SPIF_EX_DATAERR, "a read error that is not bad data: %s", err->msg);
		ret = 0;
	}
	enum spif_enc got = spif_reader_encoding(rd); /* a BOM is allowed, and dropped */
	FZ_CHECK(got == SPIF_ENC_UTF8 || got == SPIF_ENC_UTF8_BOM, "NDJSON read as %s", spif_enc_name(got));
	spif_record_free(&rec);
	spif_reader_close(rd);
	return ret;
}

static void out_free(struct out *o)
{
	fz_buf_free(&o->recs);
	fz_buf_free(&o->bytes);
}

static void ndjson_round(const uint8_t *src, size_t n, int ingest)
{
	struct spif_err e = {0};
	struct out a = {0}, b = {0}, c = {0};
	struct spif_writer *w = spif_writer_open(fz_sink, &a.bytes, "out", SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, &e);
	FZ_CHECK(w, "spif_writer_open: %s", e.msg);
	spif_writer_set_rowmeta(w, ingest);
	int r = nd_pass(0, src, n, ingest, 0, w, &a, &e);
	if (r < 0)
		FZ_CHECK(!ingest && strstr(e.msg, "already has \"@row\""), "writing record %lld: %s", a.n, e.msg);
	if (r > 0) {
		FZ_CHECK(spif_writer_finish(w, &e) == 0, "spif_writer_finish: %s", e.msg);
		spif_writer_close(w);
		w = spif_writer_open(fz_sink, &c.bytes, "out", SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, &e);
		FZ_CHECK(w, "spif_writer_open: %s", e.msg);
		FZ_CHECK(nd_pass(1, a.bytes.p, a.bytes.n, 0, ingest, w, &b, &e) > 0, "what was written does not read back: %s",
		         e.msg);
		FZ_CHECK(fz_same(a.recs.p, a.recs.n, b.recs.p, b.recs.n), "the records read back differ from the records written");
		FZ_CHECK(spif_writer_finish(w, &e) == 0, "spif_writer_finish: %s", e.msg);
		FZ_CHECK(fz_same(a.bytes.p, a.bytes.n, c.bytes.p, c.bytes.n),
		         "writing the records read back gives other bytes (%zu, then %zu)", a.bytes.n, c.bytes.n);
	}
	spif_writer_close(w);
	out_free(&a);
	out_free(&b);
	out_free(&c);
}

/* The records of CSV src, '@' fields and rows left out, onto recs: 1, or 0
 * when it does not read. */
static int csv_records(const void *src, size_t n, enum spif_enc enc, struct fz_buf *recs, struct spif_err *err)
{
	struct spif_reader *rd = spif_reader_open(fz_fd(1, src, n), "fuzz", SPIF_FMT_CSV, enc, err);
	FZ_CHECK(rd, "spif_reader_open: %s", err->msg);
	struct spif_record rec;
	spif_record_init(&rec);
	int r;
	while ((r = spif_reader_next(rd, &rec, err)) > 0)
		fz_rec_flatten(recs, &rec, 0);
	spif_record_free(&rec);
	spif_reader_close(rd);
	return r == 0;
}

static void csv_round(const uint8_t *src, size_t n, enum spif_enc enc)
{
	struct spif_err e = {0};
	struct out a = {0};
	struct fz_buf back = {0}, want = {0};
	struct spif_writer *w = spif_writer_open(fz_sink, &a.bytes, "out", SPIF_FMT_CSV, enc, NULL, &e);
	FZ_CHECK(w, "spif_writer_open: %s", e.msg);
	int r = nd_pass(0, src, n, 1, 0, w, &a, &e);
	if (r < 0)
		FZ_CHECK(e.code == SPIF_EX_DATAERR, "writing record %lld as CSV: %s", a.n, e.msg);
	/* Known and left out: a CSV cannot hold a record with no fields (the
	 * header line would be blank: "no header row"), nor a single column
	 * named "" (the same), nor, in a single column, an empty last value
	 * (a blank last line, which readers ignore); the writer writes them
	 * all the same.  Nor, in UTF-8 with no BOM, a first column name that
	 * starts with U+FEFF: written first in the file, it reads as a BOM. */
	int representable = a.first_n > 0 && !a.first_blank && !(a.first_n == 1 && a.last_blank) &&
	                    !(enc == SPIF_ENC_UTF8 && a.first_feff);
	if (r > 0 && a.n > 0 && representable) {
		FZ_CHECK(spif_writer_finish(w, &e) == 0, "spif_writer_finish: %s", e.msg);
		/* the records as CSV holds them: no row */
		struct spif_record rec;
		spif_record_init(&rec);
		struct spif_reader *rd = spif_reader_open(fz_fd(0, src, n), "fuzz", SPIF_FMT_NDJSON, SPIF_ENC_AUTO, &e);
		FZ_CHECK(rd, "spif_reader_open: %s", e.msg);
		while (spif_reader_next(rd, &rec, &e) > 0) {
			drop_meta(&rec);
			fz_rec_flatten(&want, &rec, 0);
		}
		spif_reader_close(rd);
		spif_record_free(&rec);
		FZ_CHECK(csv_records(a.bytes.p, a.bytes.n, enc, &back, &e), "the CSV written (%s) does not read back: %s",
		         spif_enc_name(enc), e.msg);
		FZ_CHECK(fz_same(want.p, want.n, back.p, back.n), "the CSV records read back differ from the records written");
	}
	spif_writer_close(w);
	out_free(&a);
	fz_buf_free(&back);
	fz_buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum spif_enc encs[4] = {SPIF_ENC_UTF8, SPIF_ENC_CP932, SPIF_ENC_EUCJP, SPIF_ENC_UTF8_BOM};
	if (size < 1)
		return 0;
	struct fz z = {data, size};
	unsigned opt = fz_u8(&z), cls = opt >> 4 & 3;
	unsigned jitter = cls ? fz_u8(&z) * 16u : 0;
	struct fz_buf src = {0};
	fz_grow(&src, z.p, z.n, cls, jitter);
	if (opt & 2)
		csv_round(src.p, src.n, encs[opt >> 2 & 3]);
	else
		ndjson_round(src.p, src.n, opt & 1);
	fz_buf_free(&src);
	return 0;
}
