/* numview.h - the characters numbers are written with: which are digits,
 * which separate digit groups, and what a masked digit becomes.  This is
 * the one place that knows them; the detector (detect.c), the number-field
 * view and the masking of names (mynumber.c) all read them from here, so
 * that what one finds the others see too.
 *
 * Digits: ASCII 0-9 and full-width ０-９ (U+FF10..FF19, EF BC 90..99).
 * Nothing else (no other scripts' digits, no circled digits): a digit of
 * another kind is a character like a letter.
 *
 * Separators, by kind.  A JOIN kind joins the parts of one code (a
 * number typed 6214-9832-0257, 6214 9832 0257, 6214_9832_0257); a LIST
 * kind also separates values from each other (1234,5678 in CSV, a column
 * of years, 2026/10/16), so the detector trusts a number split by one only
 * with a keyword near (see detect.h).
 *   DASH       - ‐ ‑ ‒ – — ― (U+2010..2015) − (U+2212) － (U+FF0D)
 *              ー (U+30FC, typed for a hyphen) ｰ (U+FF70) ⁃ (U+2043)
 *              ﹘ (U+FE58) ﹣ (U+FE63)                                  JOIN
 *   DOT        . ． (U+FF0E) · (U+00B7) ․ (U+2024) ‧ (U+2027)
 *              ・ (中黒 U+30FB) ･ (U+FF65)                               JOIN
 *   SPACE      space, no-break U+00A0, U+1680, U+2000..200A (en quad ..
 *              hair space, thin U+2009), narrow no-break U+202F, U+205F,
 *              ideographic U+3000                                       JOIN
 *   UNDERSCORE _ ＿ (U+FF3F)                                             JOIN
 *   INVISIBLE  soft hyphen U+00AD, zero width space/non-joiner/joiner
 *              U+200B..200D, word joiner U+2060, U+FEFF: they show as
 *              nothing, so a number with one inside looks whole          JOIN
 *   SLASH      / ／ (U+FF0F) ∕ (U+2215) ⁄ (U+2044)                        LIST
 *   COMMA      , ， (U+FF0C) 、 (U+3001) ､ (U+FF64)                       LIST
 *   BREAK      tab, LF, CR, CR LF (one separator), VT, FF, NEL U+0085,
 *              U+2028, U+2029                                           LIST
 * Not separators: 。 and ｡ (a sentence ends there), 〜 ～ (ranges), ':'
 * (times), '+', brackets; anything else ends a run of digits.
 *
 * Masking keeps widths: an ASCII digit becomes '*', a full-width one
 * '＊' (U+FF0A, the same three bytes long), separators stay. */
#ifndef SPIF_NUMVIEW_H
#define SPIF_NUMVIEW_H

#include <stddef.h>

enum spif_sepkind {
	SPIF_SEP_NONE = 0,
	SPIF_SEP_DASH,
	SPIF_SEP_DOT,
	SPIF_SEP_SPACE,
	SPIF_SEP_UNDERSCORE,
	SPIF_SEP_INVISIBLE,
	SPIF_SEP_SLASH, /* the LIST kinds from here on */
	SPIF_SEP_COMMA,
	SPIF_SEP_BREAK,
};
#define SPIF_SEP_IS_LIST(k) ((k) >= SPIF_SEP_SLASH)

/* The full-width digit ０ is EF BC 90; ９ EF BC 99.  Exposed for the
 * detector's vectorised pre-filters, which look for these bytes. */
#define SPIF_FW_DIGIT_B0 0xEF
#define SPIF_FW_DIGIT_B1 0xBC
#define SPIF_FW_DIGIT_B2 0x90

/* A digit at s[i] (i < n): its byte length (1 ASCII, 3 full-width) and
 * *d its value, else 0. */
static inline size_t spif_nv_digit(const unsigned char *s, size_t n, size_t i, int *d)
{
	unsigned char c = s[i];
	if ((unsigned char)(c - '0') < 10) {
		*d = c - '0';
		return 1;
	}
	if (c == SPIF_FW_DIGIT_B0 && n - i >= 3 && s[i + 1] == SPIF_FW_DIGIT_B1 &&
	    (unsigned char)(s[i + 2] - SPIF_FW_DIGIT_B2) < 10) {
		*d = s[i + 2] - SPIF_FW_DIGIT_B2;
		return 3;
	}
	return 0;
}

/* The digit that ends at s[n] (looking backwards): its byte length, else 0. */
static inline size_t spif_nv_digit_before(const unsigned char *s, size_t n)
{
	int d;
	if (n >= 1 && spif_nv_digit(s, n, n - 1, &d) == 1)
		return 1;
	if (n >= 3 && spif_nv_digit(s, n, n - 3, &d) == 3)
		return 3;
	return 0;
}

/* ASCII separators by byte (0 for none); the rest in numview.c. */
extern const unsigned char spif_nv_ascii_sep[128];
size_t spif_nv_sep_mb(const unsigned char *s, size_t n, size_t i, int *kind);

/* A separator at s[i] (i < n): its byte length (1 to 3; CR LF is one
 * separator of 2) and *kind, else 0. */
static inline size_t spif_nv_sep(const unsigned char *s, size_t n, size_t i, int *kind)
{
	unsigned char c = s[i];
	if (c < 0x80) {
		int k = spif_nv_ascii_sep[c];
		if (!k)
			return 0;
		*kind = k;
		return c == '\r' && n - i >= 2 && s[i + 1] == '\n' ? 2 : 1;
	}
	return c < 0xC2 ? 0 : spif_nv_sep_mb(s, n, i, kind);
}

/* The separator that ends at s[n]: its byte length and *kind, else 0. */
size_t spif_nv_sep_before(const unsigned char *s, size_t n, int *kind);

/* A separator's bytes as one number, to tell separators apart (the same
 * character gives the same code). */
static inline unsigned spif_nv_sep_code(const unsigned char *s, size_t len)
{
	unsigned v = 0;
	for (size_t k = 0; k < len; k++)
		v = v << 8 | s[k];
	return v;
}

/* Is the character at s[i] (i < n) one a number can be made of: a digit
 * or a separator?  For cutting a stream into pieces: a piece must not end
 * between two of them, or a number could be cut in half. */
int spif_nv_number_char(const char *s, size_t n, size_t i);

/* Replace, in place, every digit in s[start, end) by '*' or '＊' (same
 * byte length); everything else stays. */
void spif_nv_star(char *s, size_t start, size_t end);

#endif
