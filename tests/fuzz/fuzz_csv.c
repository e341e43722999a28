/* fuzz_csv.c - the CSV/TSV reader and writer (record.h), used as spif
 * ingest uses them: read a source, open the writer at the first record with
 * the source's dialect, write the header from the column names, every
 * record, the source's final line ending, finish.
 *
 * Input: one option byte, then the source.  Option bits 0-1 pick the
 * encoding it is read in (auto, UTF-8, CP932, EUC-JP), bit 2 TSV instead
 * of CSV, bits 3-4 a size the source is grown to by repeating it (see
 * fz_grow; the next byte is then the jitter).  The output is written in
 * the encoding the reader settled on.
 *
 * Properties, wherever reading the source succeeds:
 *  - every key and value is valid UTF-8 with no NUL, as long as it says,
 *    and every record has the header's keys in the header's order;
 *  - writing the records back cannot fail (a character read in an
 *    encoding can be written in it);
 *  - reading what was written gives the same records (keys, values, rows),
 *    the same line ending, final line ending and BOM, and no characters
 *    that would not survive another round (the writer never writes
 *    NEC-selected codes);
 *  - writing those again gives the same bytes as the first time: one
 *    round trip reaches a fixed point. */
#include "fuzz.h"

#include "record.h"

struct pass {
	struct fz_buf recs; /* flattened records */
	struct fz_buf out;  /* what the writer wrote */
	struct spif_dialect d;
	enum spif_enc enc;
	long long nrec, lossy;
	char msg[1024];
};

static void check_record(const struct spif_reader *rd, const struct spif_record *rec)
{
	FZ_CHECK(rec->n == spif_reader_ncols(rd), "record with %zu fields, header has %zu", rec->n,
	         spif_reader_ncols(rd));
	for (size_t i = 0; i < rec->n; i++) {
		const struct spif_field *f = &rec->f[i];
		FZ_CHECK(strcmp(f->key, spif_reader_colname(rd, i)) == 0, "field %zu: key is not the column name", i);
		FZ_CHECK(strlen(f->key) == f->klen && strlen(f->val) == f->vlen, "field %zu: a NUL inside, or a wrong length", i);
		FZ_CHECK(spif_utf8_valid_prefix((const unsigned char *)f->key, f->klen) == f->klen &&
		         spif_utf8_valid_prefix((const unsigned char *)f->val, f->vlen) == f->vlen,
		         "field %zu: not valid UTF-8", i);
	}
}

/* Read src in enc, writing every record back to p->out.  0 when the whole
 * source was read; -1 when reading failed (p->msg says why). */
static int read_write(int slot, const uint8_t *src, size_t n, enum spif_format fmt, enum spif_enc enc,
                      struct pass *p)
{
	struct spif_err e = {0};
	int fd = fz_fd(slot, src, n);
	struct spif_reader *rd = spif_reader_open(fd, "fuzz", fmt, enc, &e);
	FZ_CHECK(rd, "spif_reader_open: %s", e.msg);
	struct spif_record rec;
	spif_record_init(&rec);
	struct spif_writer *w = NULL;
	int r;
	while ((r = spif_reader_next(rd, &rec, &e)) >= 0) {
		if (!w) {
			enum spif_enc oe = spif_reader_encoding(rd);
			w = spif_writer_open(fz_sink, &p->out, "out", fmt, oe, spif_reader_dialect(rd), &e);
			FZ_CHECK(w, "spif_writer_open: %s", e.msg);
			size_t nc = spif_reader_ncols(rd);
			const char **names = calloc(nc + 1, sizeof *names);
			FZ_CHECK(names, "out of memory");
			for (size_t i = 0; i < nc; i++)
				names[i] = spif_reader_colname(rd, i);
			FZ_CHECK(spif_writer_put_header(w, names, nc, &e) == 0, "writing the header back: %s", e.msg);
			free(names);
		}
		if (r == 0)
			break;
		check_record(rd, &rec);
		fz_rec_flatten(&p->recs, &rec, 1);
		p->nrec++;
		FZ_CHECK(spif_writer_put(w, &rec, &e) == 0, "writing record %lld back: %s", p->nrec, e.msg);
	}
	int ret = 0;
	if (r < 0) {
		snprintf(p->msg, sizeof p->msg, "%s", e.msg);
		FZ_CHECK(e.code == SPIF_EX_DATAERR, "a read error that is not bad data: %s", e.msg);
		ret = -1;
	} else {
		p->d = *spif_reader_dialect(rd);
		p->enc = spif_reader_encoding(rd);
		p->lossy = spif_reader_lossy(rd, NULL);
		spif_writer_set_final_eol(w, p->d.final_eol);
		FZ_CHECK(spif_writer_finish(w, &e) == 0, "finishing the writer: %s", e.msg);
	}
	spif_writer_close(w);
	spif_record_free(&rec);
	spif_reader_close(rd);
	return ret;
}

static void pass_free(struct pass *p)
{
	fz_buf_free(&p->recs);
	fz_buf_free(&p->out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum spif_enc encs[4] = {SPIF_ENC_AUTO, SPIF_ENC_UTF8, SPIF_ENC_CP932, SPIF_ENC_EUCJP};
	if (size < 1)
		return 0;
	struct fz z = {data, size};
	unsigned opt = fz_u8(&z), cls = opt >> 3 & 3;
	enum spif_enc enc = encs[opt & 3];
	enum spif_format fmt = opt & 4 ? SPIF_FMT_TSV : SPIF_FMT_CSV;
	struct fz_buf src = {0};
	unsigned jitter = cls ? fz_u8(&z) * 16u : 0;
	fz_grow(&src, z.p, z.n, cls, jitter);
	struct pass a = {0}, b = {0};
	int r = read_write(0, src.p, src.n, fmt, enc, &a);
	fz_buf_free(&src);
	if (r < 0) {
		pass_free(&a);
		return 0;
	}
	/* the output, read in the encoding the source was read in */
	enum spif_enc again = a.enc;
	if (a.enc == SPIF_ENC_UTF8 && a.d.bom)
		again = SPIF_ENC_UTF8_BOM;
	FZ_CHECK(read_write(1, a.out.p, a.out.n, fmt, again, &b) == 0,
	         "what was written (%s) does not read back: %s", spif_enc_name(a.enc), b.msg);
	FZ_CHECK(b.nrec == a.nrec, "%lld records read, %lld read back", a.nrec, b.nrec);
	FZ_CHECK(fz_same(a.recs.p, a.recs.n, b.recs.p, b.recs.n),
	         "the records read back differ from the records written");
	FZ_CHECK(strcmp(a.d.eol, b.d.eol) == 0, "line ending not kept");
	FZ_CHECK(a.d.final_eol == b.d.final_eol, "final line ending not kept");
	FZ_CHECK(a.d.bom == b.d.bom, "BOM not kept");
	FZ_CHECK(b.lossy == 0, "the writer wrote %lld codes that do not survive a round trip", b.lossy);
	/* one round trip reaches a fixed point */
	FZ_CHECK(fz_same(a.out.p, a.out.n, b.out.p, b.out.n),
	         "writing the records read back gives other bytes (%zu, then %zu)", a.out.n, b.out.n);
	pass_free(&a);
	pass_free(&b);
	return 0;
}
