/* detect.c - finding Individual Numbers (and Corporate Numbers) in text;
 * see detect.h.
 *
 * How the text is read.  Digits and separators are numview.h's (the one
 * place that knows them): a "digit" is 0-9 or ０-９; a "separator" is a
 * dash, dot, space, underscore, invisible, slash, comma or line break of
 * any of the kinds listed there.  A group is a maximal sequence of digits.
 * Groups form runs at three levels, by the gap between them:
 *   level 1  exactly one separator of a JOIN kind (- . space _ ...)
 *   level 2  exactly one separator of any kind (a LIST one too: , / tab
 *            line break ...); these runs are the "standard" ones
 *   level 3  one to three separators of any kinds (6214 - 9832 - 0257,
 *            6214--9832--0257, CR LF and an indent), the "loose" run.
 * Four separators or more, or any other character, end every run.  Then:
 *
 *  - a group of exactly 12 digits is a candidate wherever it stands in its
 *    run: the characters on both sides of it are not digits
 *    (03-1234-5678 621498320257 holds one); 13 digits, with corporate on,
 *    a 法人番号 candidate;
 *  - in a standard run, a window of groups in a regular shape, 4-4-4,
 *    3-3-3-3 or 6-6 (1-4-4-4 for a 法人番号, tried first as it starts
 *    earlier), is a candidate, the whole run or a window of a longer one,
 *    unless a group next to it has the shape's group length (for 3-3-3-3,
 *    three digits or fewer: the head of an amount such as 1,234,567,890,123)
 *    and is joined by one of the separators inside the window: then they
 *    are part of a longer regular run, and 1234-5678-9012-3456 (a card
 *    number) holds no finding whichever three groups are taken, while
 *    2026-10-16 6214-9832-0257, 〒100-0001 6214-9832-0257, No.3 6214 9832
 *    0257 and 6214 9832 0257 1件 each hold one.  Windows never overlap: one
 *    that shares a group with an earlier finding is not tried.  A window
 *    with a LIST separator inside needs a keyword (below), and all its
 *    separators must then be that one: a LIST separator among others
 *    joins two values (TEL 03-1234-5678／6214 9832 0257);
 *  - any other way of writing 12 digits - groupings such as 2-2-2-2-2-2,
 *    8-4 or one digit at a time, doubled separators, a line break inside -
 *    is a candidate when a whole run, at some level, holds exactly those
 *    12 digits (and is not one of the shapes above, which the windows
 *    decide): 個人番号 6 2 1 4 9 8 3 2 0 2 5 7 is one, while in a table of
 *    single digits no run holds exactly 12.  It always needs a keyword,
 *    and a run of single separators may mix a LIST one with others only
 *    at level 3 (as a window may not);
 *  - a candidate is a finding when its check digit is valid (the checks
 *    are mynumber.c's, not repeated here).
 *  Anything else may touch a number: kanji, kana, letters, punctuation.
 *
 * Confidence is high for a number field, or when a keyword lies wholly
 * within the 300 characters (code points, not bytes; at most 1,200 bytes)
 * before the number's first digit or within the 300 after its last one, in
 * the text or in the pre/post context; low otherwise, and a candidate that
 * needs a keyword and has none is no finding.  Why: a lone 4-4-4 typed with
 * dashes or spaces is how people write the number, but three values in a
 * CSV line (1234,5678,9012), a column of years or a row of single-digit
 * counts pass the checksum one time in ten too, and only the context tells
 * them apart.  The keyword reported is the nearest (fewest characters
 * between it and the number; a tie goes to the one before).  Keywords:
 * KEYWORDS[] below - Purview's lists, ASCII ones case-insensitively and not
 * right after an ASCII letter ("dummy number" is none), Japanese ones byte
 * for byte.  Keywords are looked for only around a checksum-valid
 * candidate, with one forward cursor per text (checksum-valid candidates
 * come in order: two of them either have the same span or do not overlap),
 * so the whole stays O(n) even when numbers are dense.
 *
 * With context (spif_detect_ctx), pre and post also decide the digit
 * boundaries at the edges of text: a digit just across an edge touches
 * the group there, a separator and digits continue the standard run
 * (their group a neighbour as above), and up to three separators and a
 * digit continue the loose runs, which then hold no candidate.  A keyword
 * in the field's name (spif_detect_opts.field_name) counts as context for
 * every number.
 *
 * fail_closed (for masking names and logs; spif_mask_numbers) drops every
 * judgement that could leave a number unmasked: no keyword is needed, the
 * neighbour rule and the no-overlap rule are off, and every group of 12
 * digits or more and every 4-4-4 and 1-4-4-4 window with JOIN separators
 * is reported whatever its check digit (valid says which pass), as
 * masking always did.  Findings may then overlap and
 * come out of order; they carry no keyword and no character offset.
 *
 * Speed: a text shorter than 12 bytes, or with fewer than 12 digits (a
 * branch-free count the compiler vectorises), cannot hold a number and
 * returns at once; otherwise a vectorised block scan skips to the next
 * digit.  Nothing is allocated; the stack holds under 3 KB. */
#include "detect.h"

#include <stdint.h>
#include <string.h>

#include "mynumber.h"
#include "numview.h"

#define KW_WINDOW 300            /* characters */
#define KW_WINDOW_BYTES (KW_WINDOW * 4)

const char *spif_form_name(enum spif_form f)
{
	switch (f) {
	case SPIF_FORM_PLAIN: return "plain";
	case SPIF_FORM_GROUPED: return "grouped";
	case SPIF_FORM_FULLWIDTH: return "fullwidth";
	case SPIF_FORM_MIXED: return "mixed";
	}
	return "plain";
}

/* ---- characters --------------------------------------------------------- */

/* A digit at s[i]: its byte length (1 ASCII, 3 full-width), else 0. */
static inline size_t digit_at(const unsigned char *s, size_t n, size_t i, int *d)
{
	return spif_nv_digit(s, n, i, d);
}

/* A separator at s[i]: its byte length, else 0; *list: it is of a LIST
 * kind. */
static inline size_t sep_at(const unsigned char *s, size_t n, size_t i, int *list)
{
	int k;
	size_t l = spif_nv_sep(s, n, i, &k);
	if (l)
		*list = SPIF_SEP_IS_LIST(k);
	return l;
}

/* The same, for the character that ends at s[n] (looking backwards). */
static size_t digit_before(const unsigned char *s, size_t n)
{
	return spif_nv_digit_before(s, n);
}

static size_t sep_before(const unsigned char *s, size_t n, int *list)
{
	int k;
	size_t l = spif_nv_sep_before(s, n, &k);
	if (l)
		*list = SPIF_SEP_IS_LIST(k);
	return l;
}

/* Index of the first digit at or after i, or n.  A few bytes are probed
 * one by one (digits come in clusters); then blocks of BLOCK bytes are
 * tested for "an ASCII digit, or the last byte of ０-９ (EF BC 90..99)"
 * with no early exit inside a block, which the compiler vectorises; only a
 * block that holds a digit is looked at byte by byte.  Other full-width
 * forms (（ ： Ａ ﾏ, all EF ..) do not stop the block loop. */
#define BLOCK 32
#define PROBE 16
static size_t next_digit(const unsigned char *s, size_t n, size_t i)
{
	int d;
	size_t lim = n - i > PROBE ? i + PROBE : n;
	for (; i < lim; i++)
		if (digit_at(s, n, i, &d))
			return i;
	if (i == n)
		return n;
	/* s[i-2], s[i-1] are not the start of a digit; p runs over the last
	 * byte of a character */
	size_t p = i;
	while (n - p >= BLOCK) {
		unsigned acc = 0;
		for (size_t j = 0; j < BLOCK; j++) {
			unsigned char c = s[p + j];
			acc |= ((unsigned char)(c - '0') < 10) |
			       ((s[p + j - 2] == SPIF_FW_DIGIT_B0) & (s[p + j - 1] == SPIF_FW_DIGIT_B1) &
			        ((unsigned char)(c - SPIF_FW_DIGIT_B2) < 10));
		}
		if (acc)
			break;
		p += BLOCK;
	}
	for (p -= 2; p < n; p++)
		if (digit_at(s, n, p, &d))
			return p;
	return n;
}

/* Could s[0, n) hold 12 digits?  A filter that may say yes wrongly but
 * never no wrongly: it counts ASCII digits plus 0xBC bytes (every ０-９ is
 * EF BC 90..99, so holds one).  Blocks of BLOCK bytes are summed without
 * branches (the compiler vectorises them), shorter rests 8 bytes at a time
 * in a word (SWAR), the last few bytes one by one. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t swar_digits(uint64_t x);
static inline uint64_t swar_bc(uint64_t x);
static inline unsigned swar_count(uint64_t x)
{
	/* each mask has at most the top bit of a byte set: sum them with one
	 * multiply (no popcount instruction needed) */
	return (unsigned)((((swar_digits(x) >> 7) + (swar_bc(x) >> 7)) * ONES) >> 56);
}

static int twelve_digits(const unsigned char *s, size_t n)
{
	size_t cnt = 0, i = 0;
	while (n - i >= BLOCK) {
		unsigned char acc = 0;
		for (size_t j = 0; j < BLOCK; j++) {
			unsigned char c = s[i + j];
			acc += ((unsigned char)(c - '0') < 10) + (c == SPIF_FW_DIGIT_B1);
		}
		cnt += acc;
		if (cnt >= 12)
			return 1;
		i += BLOCK;
	}
	for (; n - i >= 8; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		cnt += swar_count(x);
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (i < n && n >= 8) { /* the last 8 bytes, less those already counted */
		uint64_t x;
		memcpy(&x, s + n - 8, 8);
		x >>= 8 * (8 - (n - i)); /* the new bytes, low; zero bytes (no digit) above */
		cnt += swar_count(x);
		i = n;
	}
#endif
	for (; i < n; i++)
		cnt += ((unsigned char)(s[i] - '0') < 10) + (s[i] == SPIF_FW_DIGIT_B1);
	return cnt >= 12;
}

/* The ASCII digits, and the 0xBC bytes, of a word: the top bit of each
 * such byte. */
static inline uint64_t swar_digits(uint64_t x)
{
	uint64_t t = x ^ (ONES * '0');
	return ~(((t & ~HIGHS) + ONES * (0x80 - 10)) | t) & HIGHS;
}

static inline uint64_t swar_bc(uint64_t x)
{
	uint64_t y = x ^ (ONES * SPIF_FW_DIGIT_B1);
	return ~(((y & ~HIGHS) + ~HIGHS) | y) & HIGHS;
}

/* s[0, n) for n < 8 in a word, zero bytes above (a zero byte is neither). */
static inline uint64_t load_short(const unsigned char *s, size_t n)
{
	uint64_t x = 0;
	switch (n) {
	case 7: x |= (uint64_t)s[6] << 48; /* fall through */
	case 6: x |= (uint64_t)s[5] << 40; /* fall through */
	case 5: x |= (uint64_t)s[4] << 32; /* fall through */
	case 4: x |= (uint64_t)s[3] << 24; /* fall through */
	case 3: x |= (uint64_t)s[2] << 16; /* fall through */
	case 2: x |= (uint64_t)s[1] << 8;  /* fall through */
	case 1: x |= (uint64_t)s[0];       /* fall through */
	default: break;
	}
	return x;
}

int spif_has_digit(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	if (n >= BLOCK)
		return next_digit(s, n, 0) < n;
	/* short: up to four words that cover it (overlapping, which an "is
	 * there any" does not mind), no loop; an ASCII digit answers, a 0xBC
	 * byte (the middle of ０-９, but also of （ Ａ ...) sends it to the exact
	 * scan */
	uint64_t a, b = 0, c = 0, d = 0;
	if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		if (n > 16) {
			memcpy(&c, s + 8, 8);
			memcpy(&d, s + n - 16, 8);
		}
	} else {
		a = load_short(s, n);
	}
	if (swar_digits(a) | swar_digits(b) | swar_digits(c) | swar_digits(d))
		return 1;
	if (swar_bc(a) | swar_bc(b) | swar_bc(c) | swar_bc(d))
		return next_digit(s, n, 0) < n;
	return 0;
}

void spif_mask_span(char *s, size_t start, size_t end)
{
	spif_nv_star(s, start, end);
}

/* ---- keywords ----------------------------------------------------------- */

#define KW_PERS 1u  /* counts for an Individual Number */
#define KW_CORP 2u  /* counts for a Corporate Number */
#define KW_ASCII 4u /* ASCII, matched case-insensitively, not after a letter */

struct keyword {
	const char *s;
	unsigned char len, chars, flags;
};

/* Grouped by first character, longer ones first where one is the start of
 * another, so that the first match at a position is the longest.  The
 * personal list is Purview's (Keywords_japanese_my_number_personal) plus
 * common English and romanised forms and the half-width kana spelling; the
 * corporate one is Purview's corporate list (which leaves out 個人番号 and
 * 通知カード) plus "corporate number". */
#define K(s, c, f) {s, sizeof s - 1, c, f}
static const struct keyword KEYWORDS[] = {
	/* 0 マ */
	K("マイナンバーカード番号", 11, KW_PERS | KW_CORP),
	K("マイナンバーカード", 9, KW_PERS | KW_CORP),
	K("マイナンバー", 6, KW_PERS | KW_CORP),
	/* 3 ﾏ */
	K("ﾏｲﾅﾝﾊﾞｰ", 7, KW_PERS),
	/* 4 個 */
	K("個人番号カード", 7, KW_PERS | KW_CORP),
	K("個人番号", 4, KW_PERS),
	K("個人識別番号", 6, KW_PERS | KW_CORP),
	K("個人識別ナンバー", 8, KW_PERS | KW_CORP),
	/* 8 共 */
	K("共通番号", 4, KW_PERS | KW_CORP),
	/* 9 通 */
	K("通知カード", 5, KW_PERS),
	/* 10 法 */
	K("法人番号", 4, KW_CORP),
	/* 11 指 */
	K("指定通知書", 5, KW_CORP),
	/* 12 m */
	K("my number", 9, KW_PERS | KW_ASCII),
	K("mynumber", 8, KW_PERS | KW_ASCII),
	K("my_number", 9, KW_PERS | KW_ASCII),
	/* 15 i */
	K("individual number", 17, KW_PERS | KW_ASCII),
	/* 16 k */
	K("kojin bango", 11, KW_PERS | KW_ASCII),
	K("kojin_bango", 11, KW_PERS | KW_ASCII),
	/* 18 c */
	K("corporate number", 16, KW_CORP | KW_ASCII),
};
#undef K

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static inline int is_lead(unsigned char c)
{
	return (c & 0xC0) != 0x80;
}

/* Characters in s[a, b): the bytes that do not continue one. */
static size_t count_chars(const unsigned char *s, size_t a, size_t b)
{
	size_t c = 0, i = a;
	for (; b - i >= BLOCK; i += BLOCK) { /* fixed trip count: vectorised */
		unsigned char k = 0;
		for (size_t j = 0; j < BLOCK; j++)
			k += (s[i + j] & 0xC0) != 0x80;
		c += k;
	}
	for (; i < b; i++)
		c += (s[i] & 0xC0) != 0x80;
	return c;
}

/* The longest keyword of the kind that starts at b[i] (the window is
 * b[0, n)), or NULL. */
static const struct keyword *kw_at(const unsigned char *b, size_t n, size_t i, unsigned kind)
{
	unsigned char c = b[i];
	size_t first, count;
	if (c < 0x80) {
		switch (c | 0x20) {
		case 'm': first = 12, count = 3; break;
		case 'i': first = 15, count = 1; break;
		case 'k': first = 16, count = 2; break;
		case 'c': first = 18, count = 1; break;
		default: return NULL;
		}
		if (i > 0 && (b[i - 1] | 0x20) >= 'a' && (b[i - 1] | 0x20) <= 'z')
			return NULL; /* "dummy number" is no keyword */
	} else {
		if (c < 0xE3 || n - i < 12)
			return NULL; /* every Japanese keyword is 12 bytes or more */
		switch ((unsigned)c << 16 | (unsigned)b[i + 1] << 8 | b[i + 2]) {
		case 0xE3839E: first = 0, count = 3; break;  /* マ */
		case 0xEFBE8F: first = 3, count = 1; break;  /* ﾏ */
		case 0xE5808B: first = 4, count = 4; break;  /* 個 */
		case 0xE585B1: first = 8, count = 1; break;  /* 共 */
		case 0xE9809A: first = 9, count = 1; break;  /* 通 */
		case 0xE6B395: first = 10, count = 1; break; /* 法 */
		case 0xE68C87: first = 11, count = 1; break; /* 指 */
		default: return NULL;
		}
	}
	for (size_t k = first; k < first + count; k++) {
		const struct keyword *w = &KEYWORDS[k];
		if (!(w->flags & kind) || n - i < w->len)
			continue;
		size_t j = 1;
		if (w->flags & KW_ASCII)
			while (j < w->len && lower(b[i + j]) == (unsigned char)w->s[j])
				j++;
		else
			while (j < w->len && b[i + j] == (unsigned char)w->s[j])
				j++;
		if (j == w->len)
			return w;
	}
	return NULL;
}

const char *spif_keyword_in(const char *str, size_t n, int corporate)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned kind = corporate ? KW_CORP : KW_PERS;
	for (size_t i = 0; i < n; i++) {
		const struct keyword *w = is_lead(s[i]) ? kw_at(s, n, i, kind) : NULL;
		if (w)
			return w->s;
	}
	return NULL;
}

/* Start of the window of up to want characters that ends at s[end];
 * *chars gets how many it holds. */
static size_t back_chars(const unsigned char *s, size_t end, size_t want, size_t maxbytes,
                         size_t *chars)
{
	size_t p = end, c = 0;
	while (p > 0 && c < want && end - p < maxbytes) {
		p--;
		c += is_lead(s[p]);
	}
	*chars = c;
	return p;
}

/* End of the window of up to want characters that starts at s[start]. */
static size_t fwd_chars(const unsigned char *s, size_t n, size_t start, size_t want,
                        size_t maxbytes, size_t *chars)
{
	size_t p = start, c = 0;
	while (p < n && p - start < maxbytes) {
		if (is_lead(s[p])) {
			if (c == want)
				break;
			c++;
		}
		p++;
	}
	*chars = c;
	return p;
}

/* Where the keyword search stands, per kind (personal, corporate).
 * Findings come in order, so one cursor moves forward through text and the
 * whole costs O(n) however dense the numbers are: text before cur has been
 * searched from where the cursor last started afresh (curchars characters
 * lie before cur), and the last keywords found are kept in order.  The
 * cursor stops at the first keyword after a number, so at most one kept
 * keyword lies after the next number's start and the one before it is the
 * nearest before: a ring of four is plenty.  A cursor more than a window
 * behind the next number jumps to that number's window instead of
 * searching what lies between. */
#define KW_RING 4
struct kwocc {
	size_t pos, chars; /* where it starts: byte, character */
	const struct keyword *w;
};
struct kwstate {
	size_t cur, curchars;
	unsigned first, count; /* ring[first], ... count of them */
	struct kwocc ring[KW_RING];
};

struct scan {
	const unsigned char *pre, *s, *post;
	size_t npre, n, npost;
	const struct spif_detect_opts *o;
	struct kwstate kw[2]; /* set up on first use (kwinit) */
	unsigned kwinit;
};

/* Near the edges of text, where the window reaches into pre or post: the
 * window is copied (a keyword may lie across the edge) and searched.  The
 * nearest keyword before start: *dist gets the characters between them. */
static const struct keyword *edge_before(const struct scan *sc, size_t start, unsigned kind,
                                         size_t *dist)
{
	unsigned char buf[KW_WINDOW_BYTES + 8];
	size_t cin, cpre;
	size_t p = back_chars(sc->s, start, KW_WINDOW, KW_WINDOW_BYTES, &cin);
	size_t pp = back_chars(sc->pre, sc->npre, KW_WINDOW - cin, KW_WINDOW_BYTES - (start - p), &cpre);
	memcpy(buf, sc->pre + pp, sc->npre - pp);
	memcpy(buf + (sc->npre - pp), sc->s + p, start - p);
	size_t len = sc->npre - pp + start - p, at = 0;
	for (size_t i = len; i-- > 0;) {
		if (!is_lead(buf[i]))
			continue;
		at++;
		const struct keyword *w = kw_at(buf, len, i, kind);
		if (w) {
			*dist = at - w->chars;
			return w;
		}
	}
	return NULL;
}

/* The first keyword after end, at most maxd characters away. */
static const struct keyword *edge_after(const struct scan *sc, size_t end, unsigned kind, size_t maxd)
{
	unsigned char buf[KW_WINDOW_BYTES + 8];
	size_t cin, cpost;
	size_t q = fwd_chars(sc->s, sc->n, end, KW_WINDOW, KW_WINDOW_BYTES, &cin);
	size_t len = q - end;
	size_t qq = fwd_chars(sc->post, sc->npost, 0, KW_WINDOW - cin, KW_WINDOW_BYTES - len, &cpost);
	memcpy(buf, sc->s + end, len);
	memcpy(buf + len, sc->post, qq);
	len += qq;
	size_t at = 0;
	for (size_t i = 0; i < len && at <= maxd; i++) {
		if (!is_lead(buf[i]))
			continue;
		const struct keyword *w = kw_at(buf, len, i, kind);
		if (w)
			return at + w->chars <= KW_WINDOW && at <= maxd ? w : NULL;
		at++;
	}
	return NULL;
}

/* Is a keyword (of any kind) possibly starting at s[i]?  The first byte,
 * and for a Japanese one the third byte too: マ ﾏ 個 共 通 法 指 m i k c. */
static inline int kw_maybe(const unsigned char *s, size_t n, size_t i)
{
	unsigned char c = s[i];
	if (c < 0x80)
		return (c | 0x20) == 'm' || (c | 0x20) == 'i' || (c | 0x20) == 'k' || (c | 0x20) == 'c';
	if (n - i < 12 || !(c == 0xE3 || c == 0xE5 || c == 0xE6 || c == 0xE9 || c == 0xEF))
		return 0;
	switch (s[i + 2]) {
	case 0x9E: case 0x8F: case 0x8B: case 0xB1: case 0x9A: case 0x95: case 0x87:
		return 1;
	}
	return 0;
}

/* Per byte: 1 continues a character; 2 starts one that a keyword may
 * start with (m i k c, and the lead bytes of マ ﾏ 個 共 通 法 指); 0 starts
 * any other. */
static const unsigned char KW_BYTE[256] = {
	[0x80] = 1, [0x81] = 1, [0x82] = 1, [0x83] = 1, [0x84] = 1, [0x85] = 1, [0x86] = 1, [0x87] = 1,
	[0x88] = 1, [0x89] = 1, [0x8A] = 1, [0x8B] = 1, [0x8C] = 1, [0x8D] = 1, [0x8E] = 1, [0x8F] = 1,
	[0x90] = 1, [0x91] = 1, [0x92] = 1, [0x93] = 1, [0x94] = 1, [0x95] = 1, [0x96] = 1, [0x97] = 1,
	[0x98] = 1, [0x99] = 1, [0x9A] = 1, [0x9B] = 1, [0x9C] = 1, [0x9D] = 1, [0x9E] = 1, [0x9F] = 1,
	[0xA0] = 1, [0xA1] = 1, [0xA2] = 1, [0xA3] = 1, [0xA4] = 1, [0xA5] = 1, [0xA6] = 1, [0xA7] = 1,
	[0xA8] = 1, [0xA9] = 1, [0xAA] = 1, [0xAB] = 1, [0xAC] = 1, [0xAD] = 1, [0xAE] = 1, [0xAF] = 1,
	[0xB0] = 1, [0xB1] = 1, [0xB2] = 1, [0xB3] = 1, [0xB4] = 1, [0xB5] = 1, [0xB6] = 1, [0xB7] = 1,
	[0xB8] = 1, [0xB9] = 1, [0xBA] = 1, [0xBB] = 1, [0xBC] = 1, [0xBD] = 1, [0xBE] = 1, [0xBF] = 1,
	['m'] = 2, ['M'] = 2, ['i'] = 2, ['I'] = 2, ['k'] = 2, ['K'] = 2, ['c'] = 2, ['C'] = 2,
	[0xE3] = 2, [0xE5] = 2, [0xE6] = 2, [0xE9] = 2, [0xEF] = 2,
};

/* Search text[k->cur, ...) on until a keyword is found at or after stop
 * (byte), or the cursor passes maxchars characters, or text ends. */
static void kw_advance(const struct scan *sc, struct kwstate *k, unsigned kind, size_t stop,
                       size_t maxchars)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, i = k->cur, c = k->curchars;
	for (; i < n && c < maxchars; i++) {
		unsigned t = KW_BYTE[s[i]];
		if (t == 2 && kw_maybe(s, n, i)) {
			const struct keyword *w = kw_at(s, n, i, kind);
			if (w) {
				unsigned slot = (k->first + k->count) % KW_RING;
				if (k->count == KW_RING)
					k->first = (k->first + 1) % KW_RING;
				else
					k->count++;
				k->ring[slot].pos = i;
				k->ring[slot].chars = c;
				k->ring[slot].w = w;
				if (i >= stop) {
					k->cur = i + 1; /* past its first byte */
					k->curchars = c + 1;
					return;
				}
			}
		}
		c += t != 1;
	}
	k->cur = i;
	k->curchars = c;
}

/* The nearest keyword of the kind that lies wholly within the KW_WINDOW
 * characters before the number [start, end) or after it; NULL if none.
 * cs and ce are the characters before start and before end.  Distance is
 * counted in characters between keyword and number; a tie goes to the one
 * before. */
static const char *find_keyword(struct scan *sc, size_t start, size_t end, size_t cs, size_t ce,
                                int corporate)
{
	unsigned kind = corporate ? KW_CORP : KW_PERS;
	struct kwstate *k = &sc->kw[corporate];
	if (!(sc->kwinit & (1u << corporate))) {
		sc->kwinit |= 1u << corporate;
		k->first = k->count = 0;
		k->cur = k->curchars = (size_t)-1;
	}
	const struct keyword *best = NULL;
	size_t bestd = (size_t)-1;

	/* a cursor far behind (or none yet) starts afresh at the window */
	if (k->cur == (size_t)-1 || (k->cur < start && start - k->cur > KW_WINDOW_BYTES)) {
		size_t c;
		k->cur = back_chars(sc->s, start, KW_WINDOW, KW_WINDOW_BYTES, &c);
		k->curchars = cs - c;
		k->count = 0;
	}
	/* search on to the first keyword after the number (or the window's end) */
	if (k->count == 0 || k->ring[(k->first + k->count - 1) % KW_RING].pos < end)
		kw_advance(sc, k, kind, end, ce + KW_WINDOW);

	/* before: the last keyword that starts before start */
	if (cs < KW_WINDOW && sc->npre) {
		best = edge_before(sc, start, kind, &bestd);
	} else {
		for (unsigned j = k->count; j-- > 0;) {
			const struct kwocc *o = &k->ring[(k->first + j) % KW_RING];
			if (o->pos >= start)
				continue;
			if (cs - o->chars <= KW_WINDOW) {
				best = o->w;
				bestd = cs - o->chars - o->w->chars;
			}
			break;
		}
	}
	if (best && bestd == 0)
		return best->s;

	/* after: the first keyword that starts at or after end */
	const struct kwocc *after = NULL;
	for (unsigned j = k->count; j-- > 0;) {
		const struct kwocc *o = &k->ring[(k->first + j) % KW_RING];
		if (o->pos < end)
			break;
		after = o;
	}
	if (after) {
		size_t d = after->chars - ce;
		if (d + after->w->chars <= KW_WINDOW && d < bestd)
			return after->w->s;
	} else if (k->cur == sc->n && sc->npost && k->curchars - ce < KW_WINDOW) {
		const struct keyword *w = edge_after(sc, end, kind, bestd == (size_t)-1 ? bestd : bestd - 1);
		if (w)
			return w->s;
	}
	return best ? best->s : NULL;
}

/* ---- the scan ----------------------------------------------------------- */

struct group {
	size_t start, end;
	unsigned nd;       /* digits, saturating at 99; 99 also for a group that a
	                      digit touches across an edge of text */
	unsigned ascii, wide;
	unsigned sep;      /* the separator joining it to the group before
	                      (spif_nv_sep_code), 0 for the first of a run */
	int list;          /* that separator is of a LIST kind */
	int edge;          /* a group of pre or post: a neighbour only, never part
	                      of a finding */
};

struct emit {
	int (*fn)(void *ctx, const struct spif_finding *f);
	void *ctx;
	size_t cpos, chars; /* characters counted in s[0, cpos) */
};

#define C_CORP 1u      /* a 法人番号 candidate (13 digits) */
#define C_NEEDKW 2u    /* a finding only with a keyword (or in a number field) */
#define C_UNCHECKED 4u /* fail_closed: reported whatever its check digit */

/* Check a candidate [start, end) and report it when its check digit holds
 * (*hit = 1: it is a finding), or, with fail_closed, when it holds or the
 * candidate is C_UNCHECKED.  Returns what the callback returned, 0 if not
 * called. */
static int candidate(struct scan *sc, struct emit *em, size_t start, size_t end, enum spif_form form,
                     unsigned flags, int *hit)
{
	char d[14];
	size_t k = 0, total = 0;
	for (size_t i = start; i < end;) {
		int v;
		size_t l = digit_at(sc->s, end, i, &v);
		if (l) {
			if (k < 13)
				d[k++] = (char)('0' + v);
			total++;
			i += l;
		} else {
			i++;
		}
	}
	int corporate = (flags & C_CORP) != 0;
	int valid = corporate ? total == 13 && spif_corpnum_valid(d, 13) : total == 12 && spif_mynumber_valid(d, 12);
	*hit = 0;
	struct spif_finding f;
	memset(&f, 0, sizeof f);
	f.start = start;
	f.end = end;
	f.form = form;
	f.corporate = corporate;
	f.valid = valid;
	if (sc->o->fail_closed) {
		if (!valid && !(flags & C_UNCHECKED))
			return 0;
		*hit = valid;
		f.confidence = SPIF_CONF_LOW;
		return em->fn(em->ctx, &f);
	}
	if (!valid)
		return 0;
	em->chars += count_chars(sc->s, em->cpos, start);
	em->cpos = start;
	f.char_offset = em->chars;
	if (sc->o->number_field) {
		f.confidence = SPIF_CONF_HIGH;
	} else {
		size_t ce = em->chars + count_chars(sc->s, start, end);
		f.keyword = find_keyword(sc, start, end, em->chars, ce, corporate);
		if (!f.keyword && sc->o->field_name) /* the field's name is context too */
			f.keyword = spif_keyword_in(sc->o->field_name, strlen(sc->o->field_name), corporate);
		f.confidence = f.keyword ? SPIF_CONF_HIGH : SPIF_CONF_LOW;
		if (!f.keyword && (flags & C_NEEDKW))
			return 0;
	}
	*hit = 1;
	return em->fn(em->ctx, &f);
}

static enum spif_form form_of(unsigned ascii, unsigned wide, int sep)
{
	if (ascii && wide)
		return SPIF_FORM_MIXED;
	if (!sep)
		return wide ? SPIF_FORM_FULLWIDTH : SPIF_FORM_PLAIN;
	return wide ? SPIF_FORM_MIXED : SPIF_FORM_GROUPED;
}

/* Read one digit group at s[i]; returns its end. */
static inline size_t read_group(const unsigned char *s, size_t n, size_t i, struct group *g)
{
	int d;
	size_t l;
	g->start = i;
	g->nd = 0;
	g->ascii = g->wide = 0;
	while (i < n && (l = digit_at(s, n, i, &d)) != 0) {
		if (g->nd < 99)
			g->nd++;
		g->ascii |= l == 1;
		g->wide |= l == 3;
		i += l;
	}
	g->end = i;
	return i;
}

/* Digits (at most 7: only a shape's group length or not matters) of the
 * group that ends at s[n], and of the one that starts at s[i]. */
static unsigned digits_back(const unsigned char *s, size_t n)
{
	unsigned c = 0;
	size_t l;
	while (c < 7 && (l = digit_before(s, n)) != 0) {
		n -= l;
		c++;
	}
	return c;
}

static unsigned digits_fwd(const unsigned char *s, size_t n, size_t i)
{
	unsigned c = 0;
	size_t l;
	int d;
	while (c < 7 && i < n && (l = digit_at(s, n, i, &d)) != 0) {
		i += l;
		c++;
	}
	return c;
}

/* The gap after the group that ends at s[j]: the level of the runs it
 * joins (1 one JOIN separator, 2 one LIST separator, 3 two or three
 * separators) when a digit follows it in text, else 0.  *len: the gap's
 * bytes; *code and *list: its first separator's. */
static inline int gap_at(const unsigned char *s, size_t n, size_t j, size_t *len, unsigned *code, int *list)
{
	size_t p = j, l;
	unsigned c = 0;
	int d, lst;
	while (p < n && c < 4 && (l = sep_at(s, n, p, &lst)) != 0) {
		if (!c) {
			*code = spif_nv_sep_code(s + p, l);
			*list = lst;
		}
		p += l;
		c++;
	}
	if (c == 0 || c > 3 || p >= n || !digit_at(s, n, p, &d))
		return 0;
	*len = p - j;
	return c > 1 ? 3 : *list ? 2 : 1;
}

/* The standard run that starts at text[i], across the start of text: 1
 * when a digit of pre touches it; 2 when a group of pre continues it
 * through one separator (its digits in *nd, the separator in *sep, *list);
 * 0 when it starts here. */
static int left_edge(const struct scan *sc, size_t i, unsigned *nd, unsigned *sep, int *list)
{
	const unsigned char *p = sc->pre;
	size_t np = sc->npre, l;
	if (!np)
		return 0;
	if (i == 0) {
		if (digit_before(p, np))
			return 1;
		if ((l = sep_before(p, np, list)) == 0 || !digit_before(p, np - l))
			return 0;
		*sep = spif_nv_sep_code(p + np - l, l);
		*nd = digits_back(p, np - l);
		return 2;
	}
	if (sep_before(sc->s, i, list) != i || !digit_before(p, np))
		return 0;
	*sep = spif_nv_sep_code(sc->s, i);
	*nd = digits_back(p, np);
	return 2;
}

/* The same at the end of text, for the run whose last group in text ends
 * at j. */
static int right_edge(const struct scan *sc, size_t j, unsigned *nd, unsigned *sep, int *list)
{
	const unsigned char *q = sc->post;
	size_t nq = sc->npost, l;
	int d;
	if (!nq)
		return 0;
	if (j == sc->n) {
		if (digit_at(q, nq, 0, &d))
			return 1;
		if ((l = sep_at(q, nq, 0, list)) == 0 || l >= nq || !digit_at(q, nq, l, &d))
			return 0;
		*sep = spif_nv_sep_code(q, l);
		*nd = digits_fwd(q, nq, l);
		return 2;
	}
	if ((l = sep_at(sc->s, sc->n, j, list)) == 0 || j + l != sc->n || !digit_at(q, nq, 0, &d))
		return 0;
	*sep = spif_nv_sep_code(sc->s + j, l);
	*nd = digits_fwd(q, nq, 0);
	return 2;
}

/* The level (1-3, as gap_at) at which the loose runs that start at text[i]
 * go on into pre: up to three separators, in text and then in pre, and a
 * digit before them; 0 when they do not. */
static int loose_left(const struct scan *sc, size_t i)
{
	size_t p = i, l;
	unsigned c = 0;
	int list = 0, lst;
	if (!sc->npre)
		return 0;
	while (p > 0 && c < 4 && (l = sep_before(sc->s, p, &lst)) != 0) {
		p -= l;
		c++;
		list = lst;
	}
	if (p > 0)
		return 0; /* a digit or anything else in text before them */
	size_t q = sc->npre;
	while (q > 0 && c < 4 && (l = sep_before(sc->pre, q, &lst)) != 0) {
		q -= l;
		c++;
		list = lst;
	}
	if (c == 0 || c > 3 || !digit_before(sc->pre, q))
		return 0;
	return c > 1 ? 3 : list ? 2 : 1;
}

/* The same at the end of text, for the loose runs whose last group ends at
 * text[j]. */
static int loose_right(const struct scan *sc, size_t j)
{
	size_t p = j, l;
	unsigned c = 0;
	int list = 0, lst, d;
	if (!sc->npost)
		return 0;
	while (p < sc->n && c < 4 && (l = sep_at(sc->s, sc->n, p, &lst)) != 0) {
		p += l;
		c++;
		list = lst;
	}
	if (p < sc->n)
		return 0;
	size_t q = 0;
	while (q < sc->npost && c < 4 && (l = sep_at(sc->post, sc->npost, q, &lst)) != 0) {
		q += l;
		c++;
		list = lst;
	}
	if (c == 0 || c > 3 || q >= sc->npost || !digit_at(sc->post, sc->npost, q, &d))
		return 0;
	return c > 1 ? 3 : list ? 2 : 1;
}

/* The regular shapes of a standard run, longest first where one ends
 * another: glen is the group length a neighbour must have (for 3, or be
 * shorter than) to make the window part of a longer regular run. */
struct shape {
	unsigned char k, len[4], glen;
	unsigned flags; /* C_CORP, C_UNCHECKED */
};
static const struct shape SHAPES[] = {
	{4, {1, 4, 4, 4}, 4, C_CORP | C_UNCHECKED},
	{3, {4, 4, 4, 0}, 4, C_UNCHECKED},
	{4, {3, 3, 3, 3}, 3, 0},
	{2, {6, 6, 0, 0}, 6, 0},
};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

/* The last groups of a standard run, oldest first: a 4-group window and a
 * neighbour on each side. */
#define RING 6
struct run {
	struct group g[RING];
	unsigned n;
	size_t done;         /* end of the last finding: a window or a loose run may not overlap it */
	size_t lstart, lend; /* the span of the last loose candidate tried */
};

static void push(struct run *ru, const struct group *g)
{
	if (ru->n == RING) {
		memmove(ru->g, ru->g + 1, (RING - 1) * sizeof *ru->g);
		ru->n--;
	}
	ru->g[ru->n++] = *g;
}

/* Does the neighbour nb, joined to the window w[0, k) by the separator sep,
 * leave the window a number?  Not when it is glen digits long (or, for
 * groups of 3, shorter: the head of an amount) and joined by one of the
 * window's own separators: then the window is groups of a longer regular
 * run such as a card number (1234-5678-9012-3456).  A neighbour of another
 * length (2026-10-16 6214-9832-0257, No.3 6214 9832 0257), or one joined
 * another way (〒100-0001 6214-9832-0257), does. */
static int free_side(const struct group *nb, unsigned sep, const struct group *w, unsigned k, unsigned glen)
{
	if (!nb || !(nb->nd == glen || (glen == 3 && nb->nd < 3)))
		return 1;
	for (unsigned m = 1; m < k; m++)
		if (w[m].sep == sep)
			return 0;
	return 1;
}

/* The windows of the run that end at its group e (whose right neighbour,
 * if any, is e + 1), shape by shape.  With fail_closed every window is
 * tried, neighbours and earlier findings aside. */
static int windows(struct scan *sc, struct emit *em, struct run *ru, unsigned e, int corp)
{
	int fc = sc->o->fail_closed;
	size_t s0, s1; /* the shapes that end with a group of its length */
	switch (ru->g[e].nd) {
	case 4: s0 = corp || fc ? 0 : 1, s1 = 2; break;
	case 3: s0 = 2, s1 = 3; break;
	case 6: s0 = 3, s1 = 4; break;
	default: return 0;
	}
	for (size_t s = s0; s < s1; s++) {
		const struct shape *sh = &SHAPES[s];
		unsigned k = sh->k;
		if (e + 1 < k)
			continue;
		unsigned b = e + 1 - k;
		const struct group *w = &ru->g[b];
		if (w[0].edge || (!fc && w[0].start < ru->done))
			continue;
		unsigned ascii = 0, wide = 0, list = 0, m;
		for (m = 0; m < k && !w[m].edge && w[m].nd == sh->len[m]; m++) {
			ascii |= w[m].ascii;
			wide |= w[m].wide;
			list |= m && w[m].list;
		}
		if (m < k)
			continue;
		/* a LIST separator among others joins two values, not the groups
		 * of one (TEL 03-1234-5678／6214 9832 0257 holds no 5678／6214 9832) */
		if (list && !fc) {
			for (m = 2; m < k && w[m].sep == w[1].sep; m++)
				;
			if (m < k)
				continue;
		}
		const struct group *right = e + 1 < ru->n ? &ru->g[e + 1] : NULL;
		if (!fc && (!free_side(b ? &ru->g[b - 1] : NULL, w[0].sep, w, k, sh->glen) ||
		            !free_side(right, right ? right->sep : 0, w, k, sh->glen)))
			continue;
		/* a LIST separator inside: only with a keyword, and, failing
		 * closed, only when valid (2024,2025,2026 stays) */
		unsigned flags = list ? (sh->flags & ~C_UNCHECKED) | C_NEEDKW : sh->flags;
		int hit, r = candidate(sc, em, w[0].start, w[k - 1].end, form_of(ascii, wide, 1), flags, &hit);
		if (r)
			return r;
		if (hit && !fc) {
			ru->done = w[k - 1].end;
			return 0;
		}
	}
	return 0;
}

/* A run at one level (see the top): its span, digits and groups so far. */
struct piece {
	size_t start, end;
	unsigned nd, ng;          /* digits (saturating at 99), groups (at most 99) */
	unsigned char len[4];     /* digits of its first four groups */
	unsigned ascii, wide;
	int edge;                 /* it goes on into pre or post */
	int loose;                /* it spans a gap of two separators or more */
	int list;                 /* it spans a LIST separator */
	int mixed;                /* its one-separator gaps are not all the same */
	unsigned sep;             /* its first one-separator gap */
};

/* Add the group g, which follows a gap of level lvl (its first separator
 * sep, list), to the run p; fresh: the run starts with it. */
static void piece_add(struct piece *p, const struct group *g, int lvl, unsigned sep, int list, int fresh,
                      int edge)
{
	if (fresh) {
		p->start = g->start;
		p->nd = p->ng = p->ascii = p->wide = p->sep = 0;
		p->edge = edge;
		p->loose = p->list = p->mixed = 0;
	} else if (lvl == 3) {
		p->loose = 1;
	} else {
		p->list |= list;
		p->mixed |= p->sep && p->sep != sep;
		if (!p->sep)
			p->sep = sep;
	}
	if (p->ng < 4)
		p->len[p->ng] = (unsigned char)g->nd;
	if (p->ng < 99)
		p->ng++;
	p->nd = p->nd + g->nd > 99 ? 99 : p->nd + g->nd;
	p->ascii |= g->ascii;
	p->wide |= g->wide;
	p->end = g->end;
}

/* A run that has ended: a candidate when it holds exactly 12 digits in
 * two groups or more and is not a regular shape within one standard run
 * (the windows decide those, neighbours and all). */
static int piece_end(struct scan *sc, struct emit *em, struct run *ru, const struct piece *p)
{
	int fc = sc->o->fail_closed;
	if (p->nd != 12 || p->ng < 2 || p->edge || (!fc && p->start < ru->done))
		return 0;
	if (!fc && !p->loose && p->list && p->mixed)
		return 0; /* a LIST separator among others: values in a list, as in windows() */
	for (size_t s = 0; s < NSHAPES && !p->loose; s++)
		if (p->ng == SHAPES[s].k && memcmp(p->len, SHAPES[s].len, p->ng) == 0)
			return 0;
	if (p->start == ru->lstart && p->end == ru->lend)
		return 0; /* the same run at a higher level */
	ru->lstart = p->start;
	ru->lend = p->end;
	int hit, r = candidate(sc, em, p->start, p->end, form_of(p->ascii, p->wide, 1), C_NEEDKW, &hit);
	if (!r && hit && !fc)
		ru->done = p->end;
	return r;
}

/* The loose run that starts at text[i]: its groups, the standard runs in
 * it (windows), and its runs at the three levels (pieces).  *j: where it
 * ends.  Returns what a callback returned, else 0. */
static int loose_run(struct scan *sc, struct emit *em, size_t i, size_t *jp)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n;
	int corp = sc->o->corporate, fc = sc->o->fail_closed, r, hit;
	struct run ru;
	ru.n = 0;
	ru.done = 0;
	ru.lstart = ru.lend = (size_t)-1;
	struct piece pc[3];
	unsigned nb_nd = 0, sep = 0;
	int list = 0;
	int left = left_edge(sc, i, &nb_nd, &sep, &list);
	int lloose = loose_left(sc, i);
	if (left == 2) {
		struct group nb = {.nd = nb_nd, .edge = 1};
		push(&ru, &nb);
	}
	size_t j = i, gl = 0;
	unsigned fresh = 7; /* levels whose run starts at the next group */
	int same = 1;       /* no gap of level 2 or 3 yet: pc[1] and pc[2] are pc[0] */
	int plvl = 0;       /* the gap before it: its level, first separator, kind */
	unsigned psep = 0;
	int plist = 0;
	for (int first = 1;; first = 0) {
		struct group cur;
		j = read_group(s, n, j, &cur);
		cur.sep = sep;
		cur.list = list;
		cur.edge = 0;
		unsigned gcode = 0;
		int glist = 0;
		int lvl = gap_at(s, n, j, &gl, &gcode, &glist);
		unsigned rnd = 0, rsep = 0;
		int rlist = 0;
		int right = lvl == 1 || lvl == 2 ? 0 : right_edge(sc, j, &rnd, &rsep, &rlist);
		if ((first && left == 1) || right == 1)
			cur.nd = 99; /* touched by a digit across the edge */
		push(&ru, &cur);
		/* the windows that end just before it: it is their neighbour */
		if (ru.n >= 2 && (r = windows(sc, em, &ru, ru.n - 2, corp)) != 0)
			return r;
		if (fc ? cur.nd >= 12 : cur.nd == 12 || (cur.nd == 13 && corp)) {
			if ((r = candidate(sc, em, cur.start, cur.end, form_of(cur.ascii, cur.wide, 0),
			                   (cur.nd == 13 ? C_CORP : 0) | C_UNCHECKED, &hit)) != 0)
				return r;
			if (hit && !fc)
				ru.done = cur.end;
		}
		/* a run of one group holds no loose candidate: most runs end here */
		if (first && lvl == 0 && right != 2) {
			if ((r = windows(sc, em, &ru, ru.n - 1, corp)) != 0)
				return r;
			break;
		}
		/* until a gap of level 2 or 3, the runs at the three levels are one */
		for (int k = 0; k < (same ? 1 : 3); k++)
			piece_add(&pc[k], &cur, plvl, psep, plist, fresh >> k & 1, first && lloose && lloose <= k + 1);
		if (same && lvl >= 2) {
			for (int k = 1; k < 3; k++) {
				pc[k] = pc[0];
				pc[k].edge = lloose && lloose <= k + 1;
			}
			same = 0;
		}
		if (lvl == 0) {
			/* the end of every run: the standard run's last windows, then
			 * the pieces, which go on into post at levels from rl up */
			if (right == 2) {
				struct group nb = {.nd = rnd, .sep = rsep, .list = rlist, .edge = 1};
				push(&ru, &nb);
			}
			if ((r = windows(sc, em, &ru, ru.n - 1 - (right == 2), corp)) != 0)
				return r;
			int rl = loose_right(sc, j);
			for (int k = 0; k < (same ? 1 : 3); k++) {
				pc[k].edge |= rl && rl <= k + 1;
				if ((r = piece_end(sc, em, &ru, &pc[k])) != 0)
					return r;
			}
			break;
		}
		if (lvl == 3) {
			/* two separators or more end the standard run: its last windows */
			if ((r = windows(sc, em, &ru, ru.n - 1, corp)) != 0)
				return r;
			ru.n = 0;
			sep = 0;
			list = 0;
		} else {
			sep = gcode;
			list = glist;
		}
		/* the runs at levels below the gap's end here */
		fresh = 0;
		for (int k = 0; k + 1 < lvl; k++) {
			if ((r = piece_end(sc, em, &ru, &pc[k])) != 0)
				return r;
			fresh |= 1u << k;
		}
		plvl = lvl;
		psep = gcode;
		plist = glist;
		j += gl;
	}
	*jp = j;
	return 0;
}

static int scan(struct scan *sc, struct emit *em)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, j;
	size_t i = next_digit(s, n, 0);
	while (i < n) {
		if (n - i < 12)
			return 0; /* too short for a number (12 ASCII digits at the least) */
		int r = loose_run(sc, em, i, &j);
		if (r)
			return r;
		i = next_digit(s, n, j);
	}
	return 0;
}

int spif_detect_ctx(const char *pre, size_t npre, const char *text, size_t n, const char *post,
                    size_t npost, const struct spif_detect_opts *o,
                    int (*fn)(void *ctx, const struct spif_finding *f), void *ctx)
{
	static const struct spif_detect_opts defaults;
	if (n < 12 || !twelve_digits((const unsigned char *)text, n))
		return 0; /* no number without 12 digits */
	struct scan sc; /* not zeroed as a whole: the keyword state is big and set up on use */
	o = o ? o : &defaults;
	sc.pre = (const unsigned char *)(pre ? pre : "");
	sc.s = (const unsigned char *)text;
	sc.post = (const unsigned char *)(post ? post : "");
	sc.npre = pre && !o->fail_closed ? npre : 0;
	sc.n = n;
	sc.npost = post && !o->fail_closed ? npost : 0;
	sc.o = o;
	sc.kwinit = 0;
	struct emit em = {.fn = fn, .ctx = ctx};
	return scan(&sc, &em);
}

int spif_detect(const char *text, size_t n, const struct spif_detect_opts *o,
                int (*fn)(void *ctx, const struct spif_finding *f), void *ctx)
{
	if (n < 12)
		return 0;
	return spif_detect_ctx(NULL, 0, text, n, NULL, 0, o, fn, ctx);
}
