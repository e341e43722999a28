/* numview.c - the separator table; see numview.h for the alphabet and
 * why each kind is what it is. */
#include "numview.h"

#define D SPIF_SEP_DASH
#define P SPIF_SEP_DOT
#define S SPIF_SEP_SPACE
#define U SPIF_SEP_UNDERSCORE
#define L SPIF_SEP_SLASH
#define C SPIF_SEP_COMMA
#define B SPIF_SEP_BREAK
const unsigned char spif_nv_ascii_sep[128] = {
	['-'] = D, ['.'] = P, [' '] = S, ['_'] = U, ['/'] = L, [','] = C,
	['\t'] = B, ['\n'] = B, ['\r'] = B, ['\v'] = B, ['\f'] = B,
};
#undef D
#undef P
#undef S
#undef U
#undef L
#undef C
#undef B

/* Two- and three-byte separators (UTF-8), by their bytes. */
static int kind_of(unsigned v)
{
	switch (v) {
	case 0xC2A0: /* U+00A0 no-break space */
		return SPIF_SEP_SPACE;
	case 0xC2B7: /* · U+00B7 */
		return SPIF_SEP_DOT;
	case 0xC2AD: /* U+00AD soft hyphen */
		return SPIF_SEP_INVISIBLE;
	case 0xC285: /* U+0085 next line */
		return SPIF_SEP_BREAK;

	case 0xE19A80: /* U+1680 ogham space mark */
	case 0xE28080: case 0xE28081: case 0xE28082: case 0xE28083: case 0xE28084: /* U+2000..200A */
	case 0xE28085: case 0xE28086: case 0xE28087: case 0xE28088: case 0xE28089: case 0xE2808A:
	case 0xE280AF: /* U+202F narrow no-break space */
	case 0xE2819F: /* U+205F medium mathematical space */
	case 0xE38080: /* U+3000 ideographic space */
		return SPIF_SEP_SPACE;
	case 0xE2808B: case 0xE2808C: case 0xE2808D: /* U+200B..200D zero width */
	case 0xE281A0: /* U+2060 word joiner */
	case 0xEFBBBF: /* U+FEFF */
		return SPIF_SEP_INVISIBLE;
	case 0xE28090: case 0xE28091: case 0xE28092: case 0xE28093: case 0xE28094: case 0xE28095: /* U+2010..2015 */
	case 0xE28892: /* − U+2212 */
	case 0xEFBC8D: /* － U+FF0D */
	case 0xE383BC: /* ー U+30FC */
	case 0xEFBDB0: /* ｰ U+FF70 */
	case 0xE28183: /* ⁃ U+2043 */
	case 0xEFB998: /* ﹘ U+FE58 */
	case 0xEFB9A3: /* ﹣ U+FE63 */
		return SPIF_SEP_DASH;
	case 0xEFBC8E: /* ． U+FF0E */
	case 0xE280A4: /* ․ U+2024 */
	case 0xE280A7: /* ‧ U+2027 */
	case 0xE383BB: /* ・ U+30FB */
	case 0xEFBDA5: /* ･ U+FF65 */
		return SPIF_SEP_DOT;
	case 0xEFBCBF: /* ＿ U+FF3F */
		return SPIF_SEP_UNDERSCORE;
	case 0xEFBC8F: /* ／ U+FF0F */
	case 0xE28895: /* ∕ U+2215 */
	case 0xE28184: /* ⁄ U+2044 */
		return SPIF_SEP_SLASH;
	case 0xEFBC8C: /* ， U+FF0C */
	case 0xE38081: /* 、 U+3001 */
	case 0xEFBDA4: /* ､ U+FF64 */
		return SPIF_SEP_COMMA;
	case 0xE280A8: /* U+2028 line separator */
	case 0xE280A9: /* U+2029 paragraph separator */
		return SPIF_SEP_BREAK;
	}
	return SPIF_SEP_NONE;
}

size_t spif_nv_sep_mb(const unsigned char *s, size_t n, size_t i, int *kind)
{
	unsigned char c = s[i];
	size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 0;
	if (!len || n - i < len)
		return 0;
	/* most characters after a digit are kana and kanji: turn them away
	 * by their first two bytes before the table's search */
	unsigned char c1 = s[i + 1];
	switch (c) {
	case 0xC2: if (c1 != 0xA0 && c1 != 0xB7 && c1 != 0xAD && c1 != 0x85) return 0; break;
	case 0xE1: if (c1 != 0x9A) return 0; break;
	case 0xE2: if (c1 != 0x80 && c1 != 0x81 && c1 != 0x88) return 0; break;
	case 0xE3: if (c1 != 0x80 && c1 != 0x83) return 0; break;
	case 0xEF: if (c1 < 0xB9 || c1 > 0xBD) return 0; break;
	default: return 0;
	}
	int k = kind_of(spif_nv_sep_code(s + i, len));
	if (!k)
		return 0;
	*kind = k;
	return len;
}

size_t spif_nv_sep_before(const unsigned char *s, size_t n, int *kind)
{
	if (n == 0)
		return 0;
	if (s[n - 1] < 0x80) {
		size_t l = spif_nv_sep(s, n, n - 1, kind);
		if (l && s[n - 1] == '\n' && n >= 2 && s[n - 2] == '\r')
			return 2; /* CR LF */
		return l;
	}
	for (size_t len = 2; len <= 3; len++)
		if (n >= len && s[n - len] >= 0xC2 && spif_nv_sep_mb(s, n, n - len, kind) == len)
			return len;
	return 0;
}

int spif_nv_number_char(const char *str, size_t n, size_t i)
{
	const unsigned char *s = (const unsigned char *)str;
	int d, k;
	return i < n && (spif_nv_digit(s, n, i, &d) || spif_nv_sep(s, n, i, &k));
}

void spif_nv_star(char *str, size_t start, size_t end)
{
	unsigned char *s = (unsigned char *)str;
	for (size_t k = start; k < end;) {
		int d;
		size_t l = spif_nv_digit(s, end, k, &d);
		if (l == 1) {
			s[k] = '*';
		} else if (l == 3) { /* ０-９ -> ＊ U+FF0A, same length */
			s[k + 1] = 0xBC;
			s[k + 2] = 0x8A;
		}
		k += l ? l : 1;
	}
}
