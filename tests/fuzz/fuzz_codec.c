/* fuzz_codec.c - CP932 and EUC-JP (encoding.h, and the record reader and
 * writer that decode and encode with it).
 *
 * Input: one option byte (bit 0: EUC-JP instead of CP932), then the text.
 *
 * Properties:
 *  - spif_ascii_prefix and spif_utf8_scan agree with a plain byte-by-byte
 *    reference (the library's are vectorised: SSE2, and the SSSE3
 *    validator for 64 bytes and more), and spif_utf8_decode gives the code
 *    point of each valid character; text that is valid UTF-8 is guessed
 *    UTF-8;
 *  - where the text decodes (iconv, as the reader decodes), the lossy table
 *    marks exactly the codes spif-records(5) lists as read but never
 *    written by Windows (NEC-selected IBM extensions ED40-EEFC, the IBM
 *    codes FA4A-FA54 and FA58-FA5B, the NEC row 13 duplicates of JIS X 0208
 *    at 8790-879C), spif_lossy_scan counts them, and encoding the decoded
 *    text gives the same bytes back exactly when there are none of them
 *    (always, for EUC-JP);
 *  - the same through the record layer: the text as the one value of a
 *    one-column CSV (its CR, LF, NUL, comma and quote bytes made '_', which
 *    keeps every multi-byte character whole: none of those bytes is ever
 *    inside one) reads as one record whose value is the decoded text, with
 *    the reader's lossy count; written back in the same encoding it is
 *    byte-identical to the source exactly when that count is 0. */
#include "fuzz.h"

#include <iconv.h>

#include "record.h"

static iconv_t dec[2], enc[2];
static struct spif_lossy tab[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char *const names[2] = {"CP932", "EUC-JP"};
	for (int k = 0; k < 2; k++) {
		dec[k] = iconv_open("UTF-8", names[k]);
		enc[k] = iconv_open(names[k], "UTF-8");
		FZ_CHECK(dec[k] != (iconv_t)-1 && enc[k] != (iconv_t)-1, "iconv_open %s", names[k]);
		FZ_CHECK(spif_lossy_build(&tab[k], k ? SPIF_ENC_EUCJP : SPIF_ENC_CP932) == 0, "spif_lossy_build");
	}
	return 0;
}

/* ---- UTF-8, byte by byte ------------------------------------------------ */

static size_t ref_ascii(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] && s[i] < 0x80)
		i++;
	return i;
}

/* Length of the strict UTF-8 sequence led by c and the range of its second
 * byte (RFC 3629 table 3-7), 0 if c cannot lead. */
static int ref_lead(unsigned c, unsigned *lo, unsigned *hi)
{
	*lo = 0x80, *hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c == 0xE0)
		return *lo = 0xA0, 3;
	if (c == 0xED)
		return *hi = 0x9F, 3;
	if (c >= 0xE1 && c <= 0xEF)
		return 3;
	if (c == 0xF0)
		return *lo = 0x90, 4;
	if (c == 0xF4)
		return *hi = 0x8F, 4;
	if (c >= 0xF1 && c <= 0xF3)
		return 4;
	return 0;
}

static size_t ref_utf8(const uint8_t *s, size_t n, enum spif_u8stop *why)
{
	size_t i = 0;
	while (i < n) {
		unsigned lo, hi, c = s[i];
		if (c == 0)
			return *why = SPIF_U8_NUL, i;
		if (c < 0x80) {
			i++;
			continue;
		}
		int len = ref_lead(c, &lo, &hi);
		if (!len)
			return *why = SPIF_U8_BAD, i;
		for (int k = 1; k < len; k++) {
			if (i + (size_t)k >= n)
				return *why = SPIF_U8_TRUNC, i;
			unsigned b = s[i + (size_t)k];
			if (k == 1 ? b < lo || b > hi : b < 0x80 || b > 0xBF)
				return *why = SPIF_U8_BAD, i;
		}
		i += (size_t)len;
	}
	return *why = SPIF_U8_END, n;
}

static void check_utf8(const uint8_t *s, size_t n)
{
	FZ_CHECK(spif_ascii_prefix(s, n) == ref_ascii(s, n), "spif_ascii_prefix");
	enum spif_u8stop w1, w2;
	size_t a = spif_utf8_scan(s, n, &w1), b = ref_utf8(s, n, &w2);
	FZ_CHECK(a == b && w1 == w2, "spif_utf8_scan says %zu (stop %d), the reference %zu (stop %d)", a, (int)w1,
	         b, (int)w2);
	for (size_t i = 0; i < a;) {
		uint32_t cp;
		size_t k = spif_utf8_decode(s + i, a - i, &cp);
		unsigned lo, hi;
		int len = s[i] < 0x80 ? 1 : ref_lead(s[i], &lo, &hi);
		FZ_CHECK(k == (size_t)len, "spif_utf8_decode length at %zu", i);
		uint32_t want = len == 1 ? s[i] : s[i] & (0x7Fu >> len);
		for (int j = 1; j < len; j++)
			want = want << 6 | (s[i + (size_t)j] & 0x3F);
		FZ_CHECK(cp == want, "spif_utf8_decode at %zu", i);
		i += k;
	}
	if (spif_utf8_valid_prefix(s, n) == n)
		FZ_CHECK(spif_enc_guess(s, n, 1) == SPIF_ENC_UTF8, "valid UTF-8 not guessed UTF-8");
}

/* ---- CP932 / EUC-JP ---------------------------------------------------- */

/* The codes spif-records(5) says Windows reads but never writes. */
static int documented_lossy(int eucjp, unsigned code)
{
	if (eucjp)
		return 0;
	if (code >= 0xED40 && code <= 0xEEFC)
		return 1;
	if ((code >= 0xFA4A && code <= 0xFA54) || (code >= 0xFA58 && code <= 0xFA5B))
		return 1;
	switch (code) { /* ≒ ≡ ∫ √ ⊥ ∠ ∵ ∩ ∪ */
	case 0x8790: case 0x8791: case 0x8792: case 0x8795: case 0x8796:
	case 0x8797: case 0x879A: case 0x879B: case 0x879C:
		return 1;
	}
	return 0;
}

/* Run cd over s[0, n) into out; 0 when all of it converts. */
static int conv(iconv_t cd, const uint8_t *s, size_t n, struct fz_buf *out)
{
	out->n = 0;
	fz_buf_add(out, "", 0);
	char *in = (char *)(uintptr_t)s;
	size_t il = n;
	iconv(cd, NULL, NULL, NULL, NULL);
	while (il) {
		char tmp[4096], *o = tmp;
		size_t ol = sizeof tmp;
		size_t r = iconv(cd, &in, &il, &o, &ol);
		fz_buf_add(out, tmp, (size_t)(o - tmp));
		if (r == (size_t)-1 && errno != E2BIG)
			return -1;
	}
	return 0;
}

/* The documented lossy characters in s (which decodes whole), checking
 * each against the table on the way. */
static size_t count_lossy(int eucjp, const uint8_t *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		/* one byte: ASCII; CP932 half-width katakana; the C1 controls
		 * that the C library's EUC-JP decodes as themselves */
		if (c < 0x80 || (!eucjp && c >= 0xA1 && c <= 0xDF) || (eucjp && c < 0xA1 && c != 0x8E && c != 0x8F)) {
			i++;
			continue;
		}
		size_t len = eucjp && c == 0x8F ? 3 : 2;
		FZ_CHECK(i + len <= n, "a character cut at the end decoded");
		unsigned code = len == 3 ? (unsigned)s[i + 1] << 8 | s[i + 2] : c << 8 | s[i + 1];
		const unsigned char *map = len == 3 ? tab[eucjp].three : tab[eucjp].two;
		int in_table = map[code >> 3] >> (code & 7) & 1;
		FZ_CHECK(in_table == documented_lossy(eucjp, code),
		         "%s code %s%04X is %s the lossy table but %s documented as written back differently",
		         eucjp ? "EUC-JP" : "CP932", len == 3 ? "8F" : "", code, in_table ? "in" : "not in",
		         in_table ? "not" : "is");
		count += (size_t)in_table;
		i += len;
	}
	return count;
}

/* The text as a one-column CSV through the reader and the writer. */
static void check_records(int eucjp, const uint8_t *x, size_t n, const struct fz_buf *decoded, size_t lossy)
{
	struct fz_buf src = {0}, out = {0};
	fz_buf_add(&src, "v\r\n", 3);
	fz_buf_add(&src, x, n);
	fz_buf_add(&src, "\r\n", 2);
	enum spif_enc e = eucjp ? SPIF_ENC_EUCJP : SPIF_ENC_CP932;
	struct spif_err err = {0};
	struct spif_reader *rd = spif_reader_open(fz_fd(0, src.p, src.n), "fuzz", SPIF_FMT_CSV, e, &err);
	FZ_CHECK(rd, "spif_reader_open: %s", err.msg);
	struct spif_record rec;
	spif_record_init(&rec);
	FZ_CHECK(spif_reader_next(rd, &rec, &err) == 1, "text that decodes does not read: %s", err.msg);
	FZ_CHECK(rec.n == 1 && fz_same(rec.f[0].val, rec.f[0].vlen, decoded->p, decoded->n),
	         "the value read is not the decoded text");
	struct spif_writer *w = spif_writer_open(fz_sink, &out, "out", SPIF_FMT_CSV, e, spif_reader_dialect(rd), &err);
	FZ_CHECK(w, "spif_writer_open: %s", err.msg);
	FZ_CHECK(spif_writer_put(w, &rec, &err) == 0, "writing it back: %s", err.msg);
	FZ_CHECK(spif_reader_next(rd, &rec, &err) == 0, "a second record: %s", err.msg);
	long long first = 0, nl = spif_reader_lossy(rd, &first);
	FZ_CHECK(nl == (long long)lossy, "the reader counts %lld lossy characters, the table %zu", nl, lossy);
	FZ_CHECK(!nl || first == 2, "the first lossy character is put in row %lld, not 2", first);
	spif_writer_set_final_eol(w, spif_reader_dialect(rd)->final_eol);
	FZ_CHECK(spif_writer_finish(w, &err) == 0, "spif_writer_finish: %s", err.msg);
	int same = fz_same(out.p, out.n, src.p, src.n);
	FZ_CHECK(same == !lossy, "written back %s, with %zu lossy characters", same ? "identical" : "different", lossy);
	spif_writer_close(w);
	spif_record_free(&rec);
	spif_reader_close(rd);
	fz_buf_free(&src);
	fz_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int eucjp = data[0] & 1;
	const uint8_t *x = data + 1;
	size_t n = size - 1;
	check_utf8(x, n);

	/* what the reader sees once the CSV structure bytes are out of the way */
	uint8_t *t = malloc(n + 1);
	FZ_CHECK(t, "out of memory");
	for (size_t i = 0; i < n; i++)
		t[i] = x[i] == '\r' || x[i] == '\n' || x[i] == 0 || x[i] == ',' || x[i] == '"' ? '_' : x[i];
	struct fz_buf u = {0}, back = {0};
	if (conv(dec[eucjp], t, n, &u) == 0) {
		size_t lossy = count_lossy(eucjp, t, n);
		size_t first = 0, scanned = spif_lossy_scan(&tab[eucjp], t, n, &first);
		FZ_CHECK(scanned == lossy, "spif_lossy_scan counts %zu, %zu expected", scanned, lossy);
		FZ_CHECK(conv(enc[eucjp], u.p, u.n, &back) == 0, "decoded text does not encode back");
		int same = fz_same(back.p, back.n, t, n);
		FZ_CHECK(same == !lossy, "encode(decode(x)) is %s, with %zu lossy characters",
		         same ? "identical" : "different", lossy);
		if (n)
			check_records(eucjp, t, n, &u, lossy);
	}
	fz_buf_free(&u);
	fz_buf_free(&back);
	free(t);
	return 0;
}
