/* encoding.c - see encoding.h. */
#include "encoding.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

int spif_enc_parse(const char *name)
{
	static const struct {
		const char *name;
		enum spif_enc enc;
	} names[] = {
		{"auto", SPIF_ENC_AUTO},        {"utf-8", SPIF_ENC_UTF8},
		{"utf8", SPIF_ENC_UTF8},        {"utf-8-bom", SPIF_ENC_UTF8_BOM},
		{"utf8-bom", SPIF_ENC_UTF8_BOM}, {"cp932", SPIF_ENC_CP932},
		{"windows-31j", SPIF_ENC_CP932}, {"sjis", SPIF_ENC_CP932},
		{"shift_jis", SPIF_ENC_CP932},  {"euc-jp", SPIF_ENC_EUCJP},
		{"eucjp", SPIF_ENC_EUCJP},
	};
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcasecmp(name, names[i].name) == 0)
			return (int)names[i].enc;
	return -1;
}

const char *spif_enc_name(enum spif_enc e)
{
	switch (e) {
	case SPIF_ENC_AUTO:
		return "auto";
	case SPIF_ENC_UTF8:
		return "utf-8";
	case SPIF_ENC_UTF8_BOM:
		return "utf-8-bom";
	case SPIF_ENC_CP932:
		return "cp932";
	case SPIF_ENC_EUCJP:
		return "euc-jp";
	}
	return "?";
}

const char *spif_enc_iconv_name(enum spif_enc e)
{
	switch (e) {
	case SPIF_ENC_CP932:
		return "CP932";
	case SPIF_ENC_EUCJP:
		return "EUC-JP";
	default:
		return NULL;
	}
}

size_t spif_ascii_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i zero = _mm_setzero_si128();
	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* high bit set, or equal to zero */
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(x, _mm_cmpeq_epi8(x, zero)));
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#else
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, s + i, 8);
		uint64_t bad = (v & 0x8080808080808080ull) |
		               ((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull);
		if (bad)
			break;
	}
#endif
	while (i < n && s[i] != 0 && s[i] < 0x80)
		i++;
	return i;
}

/* The length of the UTF-8 sequence led by c, and the range its second byte
 * must fall in (which is what rules out overlongs, surrogates and code
 * points above U+10FFFF); 0 if c cannot lead. */
static int u8_lead(unsigned c, unsigned *lo, unsigned *hi)
{
	*lo = 0x80, *hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF) {
		if (c == 0xE0)
			*lo = 0xA0;
		else if (c == 0xED)
			*hi = 0x9F;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (c == 0xF0)
			*lo = 0x90;
		else if (c == 0xF4)
			*hi = 0x8F;
		return 4;
	}
	return 0;
}

/* Scalar strict UTF-8 from s[i]; see spif_utf8_scan. */
static size_t utf8_scalar(const unsigned char *s, size_t n, size_t i, enum spif_u8stop *why)
{
	for (;;) {
		i += spif_ascii_prefix(s + i, n - i);
		if (i >= n) {
			*why = SPIF_U8_END;
			return n;
		}
		if (s[i] == 0) {
			*why = SPIF_U8_NUL;
			return i;
		}
		/* Multi-byte characters come in runs (Japanese text): decode the
		 * run here rather than going back to the ASCII path each time. */
		while (i < n && s[i] >= 0x80) {
			unsigned lo, hi;
			int len = u8_lead(s[i], &lo, &hi);
			if (!len) {
				*why = SPIF_U8_BAD;
				return i;
			}
			for (int k = 1; k < len; k++) {
				if (i + (size_t)k >= n) {
					*why = SPIF_U8_TRUNC;
					return i;
				}
				unsigned c = s[i + (size_t)k];
				if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) {
					*why = SPIF_U8_BAD;
					return i;
				}
			}
			i += (size_t)len;
		}
	}
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <tmmintrin.h>
#define HAVE_UTF8_SSSE3 1

/* The "lookup" validator of Keiser and Lemire ("Validating UTF-8 in less
 * than one instruction per byte", 2021), 16 bytes at a time: each byte is
 * classified from its own high nibble and its predecessor's two nibbles,
 * and the three classes ANDed give the errors of every two-byte window;
 * three- and four-byte sequences are checked by where continuation bytes
 * must be.  It says only whether a block is good, so the caller finds the
 * exact spot with the scalar code.  Returns the offset of the first block
 * that has an error or a NUL, or the end of the whole blocks; every
 * character that ends before that offset is valid. */
__attribute__((target("ssse3"))) static size_t utf8_blocks(const unsigned char *s, size_t n)
{
	enum {
		TOO_SHORT = 1 << 0, TOO_LONG = 1 << 1, OVERLONG_3 = 1 << 2, TOO_LARGE = 1 << 3,
		SURROGATE = 1 << 4, OVERLONG_2 = 1 << 5, TOO_LARGE_1000 = 1 << 6, OVERLONG_4 = 1 << 6,
		TWO_CONTS = 1 << 7,
		CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
	};
	static const unsigned char t1h[16] = {
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
		TOO_SHORT | OVERLONG_3 | SURROGATE, TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
	};
	static const unsigned char t1l[16] = {
		CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
		CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, CARRY | TOO_LARGE | TOO_LARGE_1000,
		CARRY | TOO_LARGE | TOO_LARGE_1000,
	};
	static const unsigned char t2h[16] = {
		TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
		TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
		TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
	};
	/* a block ending inside a character leaves these bits for the next */
	static const unsigned char tmax[16] = {
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1,
	};
	const __m128i b1h = _mm_loadu_si128((const __m128i *)(const void *)t1h);
	const __m128i b1l = _mm_loadu_si128((const __m128i *)(const void *)t1l);
	const __m128i b2h = _mm_loadu_si128((const __m128i *)(const void *)t2h);
	const __m128i maxv = _mm_loadu_si128((const __m128i *)(const void *)tmax);
	const __m128i nib = _mm_set1_epi8(0x0F), zero = _mm_setzero_si128();
	__m128i prev = zero, incomplete = zero;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i in = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(in, zero)))
			break;
		__m128i err;
		if (!_mm_movemask_epi8(in)) {
			err = incomplete; /* ASCII: only a character cut before it can be wrong */
		} else {
			__m128i p1 = _mm_alignr_epi8(in, prev, 15);
			__m128i sc = _mm_and_si128(
				_mm_and_si128(
					_mm_shuffle_epi8(b1h, _mm_and_si128(_mm_srli_epi16(p1, 4), nib)),
					_mm_shuffle_epi8(b1l, _mm_and_si128(p1, nib))),
				_mm_shuffle_epi8(b2h, _mm_and_si128(_mm_srli_epi16(in, 4), nib)));
			__m128i p2 = _mm_alignr_epi8(in, prev, 14), p3 = _mm_alignr_epi8(in, prev, 13);
			__m128i must23 = _mm_or_si128(_mm_subs_epu8(p2, _mm_set1_epi8((char)(0xE0 - 0x80))),
			                              _mm_subs_epu8(p3, _mm_set1_epi8((char)(0xF0 - 0x80))));
			__m128i m80 = _mm_and_si128(must23, _mm_set1_epi8((char)0x80));
			err = _mm_xor_si128(m80, sc);
		}
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(err, zero)) != 0xFFFF)
			break;
		incomplete = _mm_subs_epu8(in, maxv);
		prev = in;
	}
	return i;
}
#endif

size_t spif_utf8_scan(const unsigned char *s, size_t n, enum spif_u8stop *why)
{
	size_t i = 0;
#ifdef HAVE_UTF8_SSSE3
	if (n >= 64 && __builtin_cpu_supports("ssse3")) {
		i = utf8_blocks(s, n);
		/* back to the start of a character cut by the block boundary */
		for (int k = 0; k < 3 && i > 0 && (s[i - 1] & 0xC0) == 0x80; k++)
			i--;
		if (i > 0 && s[i - 1] >= 0xC0)
			i--;
	}
#endif
	return utf8_scalar(s, n, i, why);
}

size_t spif_utf8_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		enum spif_u8stop why;
		i += spif_utf8_scan(s + i, n - i, &why);
		if (why != SPIF_U8_NUL)
			return i;
		i++; /* NUL is valid UTF-8; only readers reject it */
	}
}

size_t spif_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned lo, hi;
	int len = u8_lead(s[0], &lo, &hi);
	if (s[0] < 0x80 || !len || (size_t)len > n) {
		*cp = s[0];
		return 1;
	}
	uint32_t c = s[0] & (0x7Fu >> len);
	for (int k = 1; k < len; k++)
		c = (c << 6) | (s[k] & 0x3Fu);
	*cp = c;
	return (size_t)len;
}

/* How much of s[0..n) converts with cd: n if all of it does (a character
 * cut at the end counts as valid unless complete). */
static size_t iconv_valid(iconv_t cd, const unsigned char *s, size_t n, int complete)
{
	char out[4096];
	char *in = (char *)(uintptr_t)s;
	size_t inleft = n;
	iconv(cd, NULL, NULL, NULL, NULL);
	while (inleft) {
		char *o = out;
		size_t oleft = sizeof out;
		if (iconv(cd, &in, &inleft, &o, &oleft) != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		if (errno == EINVAL && !complete)
			return n;
		return (size_t)((const unsigned char *)in - s);
	}
	return n;
}

/* Of the characters in CP932 bytes s[0..n): how many are half-width
 * katakana (single bytes A1-DF) and how many are double-byte. */
static void cp932_shape(const unsigned char *s, size_t n, size_t *kana, size_t *dbcs)
{
	*kana = *dbcs = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = s[i];
		if (c < 0x80)
			continue;
		if (c >= 0xA1 && c <= 0xDF) {
			(*kana)++;
		} else {
			(*dbcs)++;
			i++;
		}
	}
}

enum spif_enc spif_enc_guess(const unsigned char *s, size_t n, int complete)
{
	enum spif_u8stop why = SPIF_U8_END;
	size_t u = spif_utf8_valid_prefix(s, n);
	if (u < n)
		spif_utf8_scan(s + u, n - u, &why);
	if (u == n || (why == SPIF_U8_TRUNC && !complete))
		return SPIF_ENC_UTF8;

	iconv_t cp = iconv_open("UTF-8", "CP932");
	iconv_t eu = iconv_open("UTF-8", "EUC-JP");
	enum spif_enc r = SPIF_ENC_AUTO;
	if (cp != (iconv_t)-1 && eu != (iconv_t)-1) {
		size_t c = iconv_valid(cp, s, n, complete);
		size_t e = iconv_valid(eu, s, n, complete);
		if (c == e && c > u) {
			/* both valid (or both fail at the same byte): EUC-JP text
			 * read as CP932 comes out as half-width katakana, real
			 * CP932 text is mostly double-byte */
			size_t kana, dbcs;
			cp932_shape(s, c, &kana, &dbcs);
			r = kana > dbcs ? SPIF_ENC_EUCJP : SPIF_ENC_CP932;
		} else if (c > e && c > u) {
			r = SPIF_ENC_CP932;
		} else if (e > c && e > u) {
			r = SPIF_ENC_EUCJP;
		} else {
			/* UTF-8 gets furthest (or nothing gets anywhere): so
			 * that the error names UTF-8 */
			r = SPIF_ENC_UTF8;
		}
	}
	if (cp != (iconv_t)-1)
		iconv_close(cp);
	if (eu != (iconv_t)-1)
		iconv_close(eu);
	return r;
}

static void bit_set(unsigned char *map, unsigned i)
{
	map[i >> 3] |= (unsigned char)(1u << (i & 7));
}

static int bit_get(const unsigned char *map, unsigned i)
{
	return map[i >> 3] >> (i & 7) & 1;
}

/* Mark seq in map if it decodes to exactly one character that encodes back
 * to other bytes (or not at all). */
static void lossy_try(iconv_t dec, iconv_t enc, const unsigned char *seq, size_t len,
                      unsigned char *map, unsigned idx)
{
	char mid[16], back[16];
	char *in = (char *)(uintptr_t)seq, *o = mid;
	size_t inleft = len, oleft = sizeof mid;
	iconv(dec, NULL, NULL, NULL, NULL);
	if (iconv(dec, &in, &inleft, &o, &oleft) == (size_t)-1 || inleft)
		return; /* not a character: the decoder rejects it anyway */
	char *m = mid, *b = back;
	size_t mleft = (size_t)(o - mid), bleft = sizeof back;
	iconv(enc, NULL, NULL, NULL, NULL);
	if (iconv(enc, &m, &mleft, &b, &bleft) == (size_t)-1 || (size_t)(b - back) != len ||
	    memcmp(back, seq, len) != 0)
		bit_set(map, idx);
}

int spif_lossy_build(struct spif_lossy *t, enum spif_enc enc)
{
	memset(t, 0, sizeof *t);
	t->enc = enc;
	const char *name = spif_enc_iconv_name(enc);
	if (!name)
		return 0;
	iconv_t dec = iconv_open("UTF-8", name);
	if (dec == (iconv_t)-1)
		return -1;
	iconv_t back = iconv_open(name, "UTF-8");
	if (back == (iconv_t)-1) {
		int e = errno;
		iconv_close(dec);
		errno = e;
		return -1;
	}
	unsigned char seq[3];
	if (enc == SPIF_ENC_CP932) {
		for (unsigned a = 0x81; a <= 0xFC; a++) {
			if (a >= 0xA0 && a <= 0xDF)
				continue; /* single-byte range */
			for (unsigned b = 0x40; b <= 0xFC; b++) {
				seq[0] = (unsigned char)a, seq[1] = (unsigned char)b;
				lossy_try(dec, back, seq, 2, t->two, a << 8 | b);
			}
		}
	} else {
		for (unsigned a = 0x8E; a <= 0xFE; a++) {
			if (a == 0x8F || (a > 0x8F && a < 0xA1))
				continue;
			for (unsigned b = 0xA1; b <= 0xFE; b++) {
				seq[0] = (unsigned char)a, seq[1] = (unsigned char)b;
				lossy_try(dec, back, seq, 2, t->two, a << 8 | b);
			}
		}
		for (unsigned a = 0xA1; a <= 0xFE; a++)
			for (unsigned b = 0xA1; b <= 0xFE; b++) {
				seq[0] = 0x8F, seq[1] = (unsigned char)a, seq[2] = (unsigned char)b;
				lossy_try(dec, back, seq, 3, t->three, a << 8 | b);
			}
	}
	iconv_close(dec);
	iconv_close(back);
	return 0;
}

size_t spif_lossy_scan(const struct spif_lossy *t, const unsigned char *s, size_t n,
                       size_t *first)
{
	size_t count = 0, i = 0;
	while (i < n) {
		/* NUL never reaches here (the reader stops at it), so the ASCII
		 * prefix is simply the run below 0x80 */
		i += spif_ascii_prefix(s + i, n - i);
		if (i >= n)
			break;
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		int hit = 0;
		size_t len = 2;
		if (t->enc == SPIF_ENC_CP932) {
			if (c >= 0xA1 && c <= 0xDF)
				len = 1;
			else if (i + 1 < n)
				hit = bit_get(t->two, c << 8 | s[i + 1]);
		} else if (c == 0x8F) {
			len = 3;
			if (i + 2 < n)
				hit = bit_get(t->three, (unsigned)s[i + 1] << 8 | s[i + 2]);
		} else if (i + 1 < n) {
			hit = bit_get(t->two, c << 8 | s[i + 1]);
		}
		if (hit && count++ == 0)
			*first = i;
		i += len;
	}
	return count;
}
