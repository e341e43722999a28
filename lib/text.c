/* text.c - see text.h */
#include "text.h"

#include <stdlib.h>

#include <stddef.h>

/* Wide (2 columns): East Asian Width W and F (Unicode UAX #11), plus the
 * private use area, where Japanese offices keep their 外字 (kanji the
 * standard lacks).  Ambiguous characters (Greek, Cyrillic, ※, box
 * drawing) are 1, as wcwidth(3) and most terminals count them.  Sorted. */
static const struct { unsigned lo, hi; } wide[] = {
	{0x1100, 0x115F},   /* Hangul Jamo initials */
	{0x231A, 0x231B},   {0x2329, 0x232A}, {0x23E9, 0x23EC}, {0x23F0, 0x23F0}, {0x23F3, 0x23F3},
	{0x25FD, 0x25FE},   {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267F, 0x267F}, {0x2693, 0x2693},
	{0x26A1, 0x26A1},   {0x26AA, 0x26AB}, {0x26BD, 0x26BE}, {0x26C4, 0x26C5}, {0x26CE, 0x26CE},
	{0x26D4, 0x26D4},   {0x26EA, 0x26EA}, {0x26F2, 0x26F3}, {0x26F5, 0x26F5}, {0x26FA, 0x26FA},
	{0x26FD, 0x26FD},   {0x2705, 0x2705}, {0x270A, 0x270B}, {0x2728, 0x2728}, {0x274C, 0x274C},
	{0x274E, 0x274E},   {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797}, {0x27B0, 0x27B0},
	{0x27BF, 0x27BF},   {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55},
	{0x2E80, 0x303E},   /* CJK radicals, ideographic description, CJK symbols and punctuation */
	{0x3041, 0x3096},   /* hiragana (U+3099/309A, combining voicing marks, are 0) */
	{0x309B, 0x33FF},   /* kana, bopomofo, Hangul compatibility, kanbun, CJK compatibility */
	{0x3400, 0x4DBF},   /* CJK extension A */
	{0x4E00, 0x9FFF},   /* CJK unified ideographs */
	{0xA000, 0xA4CF},   /* Yi */
	{0xA960, 0xA97F},   {0xAC00, 0xD7A3}, /* Hangul */
	{0xE000, 0xF8FF},   /* private use: 外字 */
	{0xF900, 0xFAFF},   /* CJK compatibility ideographs */
	{0xFE10, 0xFE19},   {0xFE30, 0xFE6F}, /* vertical forms, CJK compatibility forms, small forms */
	{0xFF01, 0xFF60},   /* full-width ASCII and punctuation (FF61-FF9F half-width kana are 1) */
	{0xFFE0, 0xFFE6},   /* full-width signs ￥ ￡ */
	{0x16FE0, 0x18CFF}, {0x1AFF0, 0x1B2FF}, /* Tangut, kana supplement and extensions */
	{0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A},
	{0x1F200, 0x1F251}, {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF},
	{0x20000, 0x3FFFD}, /* CJK extensions B and on (JIS X 0213 kanji) */
	{0xF0000, 0x10FFFD}, /* supplementary private use */
};

/* Zero columns: combining marks and selectors that ride on the character
 * before (the voicing marks of decomposed kana, the ideographic variation
 * selectors some registries attach to names). */
static const struct { unsigned lo, hi; } zero[] = {
	{0x0300, 0x036F}, {0x200B, 0x200F}, {0x2060, 0x2064}, {0x3099, 0x309A},
	{0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

#define IN(tab, cp) in_table(tab, sizeof tab / sizeof *tab, cp)

static int in_table(const void *tab, size_t n, unsigned cp)
{
	const struct { unsigned lo, hi; } *t = tab;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cp < t[mid].lo)
			hi = mid;
		else if (cp > t[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int spif_text_codepoint_columns(unsigned cp)
{
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return 0; /* control characters take no column (they should not be here) */
	if (IN(zero, cp))
		return 0;
	return IN(wide, cp) ? 2 : 1;
}

/* One UTF-8 sequence at p: its code point and length; an invalid or cut
 * sequence is one byte of one column (as a terminal shows U+FFFD). */
static size_t decode(const unsigned char *p, unsigned *cp)
{
	int len = p[0] < 0x80 ? 1 : p[0] < 0xC2 ? 0 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : p[0] < 0xF5 ? 4 : 0;
	if (len == 1) {
		*cp = p[0];
		return 1;
	}
	unsigned v = len ? p[0] & (0x7F >> len) : 0;
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			len = 0;
		else
			v = v << 6 | (p[i] & 0x3F);
		if (!len)
			break;
	}
	if (!len || (len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF))) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = v;
	return (size_t)len;
}

int spif_text_columns(const char *s)
{
	int w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned cp;
		p += decode(p, &cp);
		w += spif_text_codepoint_columns(cp);
	}
	return w;
}

char *spif_text_escaped(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += *p == '\\' || *p == '\n' || *p == '\r' || *p == '\t' ? 2 : *p < 0x20 || *p == 0x7f ? 4 : 1;
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\' || *p == '\n' || *p == '\r' || *p == '\t') {
			*o++ = '\\';
			*o++ = *p == '\n' ? 'n' : *p == '\r' ? 'r' : *p == '\t' ? 't' : '\\';
		} else if (*p < 0x20 || *p == 0x7f) {
			static const char hex[] = "0123456789abcdef";
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		} else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

void spif_text_put(FILE *f, const char *s)
{
	char *e = spif_text_escaped(s);
	fputs(e ? e : "?", f);
	free(e);
}

void spif_text_pad(FILE *f, const char *s, int width)
{
	char *e = spif_text_escaped(s);
	const char *t = e ? e : "?";
	fputs(t, f);
	for (int w = spif_text_columns(t); w < width; w++)
		fputc(' ', f);
	free(e);
}
