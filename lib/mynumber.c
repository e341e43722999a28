/* mynumber.c - check digits and the normalising view; see mynumber.h. */
#include "mynumber.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

int spif_mynumber_check_digit(const char *d)
{
	static const int w[11] = {6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
	int sum = 0;
	for (int i = 0; i < 11; i++) {
		if (d[i] < '0' || d[i] > '9')
			return -1;
		sum += (d[i] - '0') * w[i];
	}
	int r = sum % 11;
	return r <= 1 ? 0 : 11 - r;
}

int spif_mynumber_valid(const char *s, size_t n)
{
	if (n != 12 || s[11] < '0' || s[11] > '9')
		return 0;
	return spif_mynumber_check_digit(s) == s[11] - '0';
}

int spif_corpnum_check_digit(const char *d)
{
	int sum = 0;
	/* n counts from the right of the 12-digit base: odd n weight 1, even 2 */
	for (int i = 0; i < 12; i++) {
		if (d[i] < '0' || d[i] > '9')
			return -1;
		int n = 12 - i;
		sum += (d[i] - '0') * ((n % 2) ? 1 : 2);
	}
	return 9 - sum % 9;
}

int spif_corpnum_valid(const char *s, size_t n)
{
	if (n != 13 || s[0] < '1' || s[0] > '9')
		return 0;
	return spif_corpnum_check_digit(s + 1) == s[0] - '0';
}

/* Decode one character of the view's alphabet at s (n bytes left).
 * Returns its byte length and sets *digit (0-9) or *digit = -1 for a
 * separator; returns 0 for anything else. */
static size_t view_char(const unsigned char *s, size_t n, int *digit)
{
	if (s[0] >= '0' && s[0] <= '9') {
		*digit = s[0] - '0';
		return 1;
	}
	if (s[0] == '-' || s[0] == ' ' || s[0] == '.') {
		*digit = -1;
		return 1;
	}
	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBC && s[2] >= 0x90 && s[2] <= 0x99) {
		*digit = s[2] - 0x90; /* ０-９ U+FF10..FF19 */
		return 3;
	}
	if (n >= 3) {
		unsigned c = (unsigned)s[0] << 16 | (unsigned)s[1] << 8 | s[2];
		switch (c) {
		case 0xE28090: /* ‐ U+2010 */
		case 0xE28892: /* − U+2212 */
		case 0xEFBC8D: /* － U+FF0D */
		case 0xE383BC: /* ー U+30FC */
		case 0xEFBC8E: /* ． U+FF0E */
		case 0xE38080: /* U+3000 */
			*digit = -1;
			return 3;
		}
	}
	return 0;
}

static int is_space_at(const unsigned char *s, size_t n)
{
	if (n >= 1 && s[0] == ' ')
		return 1;
	if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;
	return 0;
}

int spif_number_view(const char *str, size_t n, char out[14])
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, end = n;
	int k;
	/* leading and trailing spaces are not part of the value */
	while (i < end && (k = is_space_at(s + i, end - i)) > 0)
		i += (size_t)k;
	while (end > i) {
		if (s[end - 1] == ' ')
			end--;
		else if (end - i >= 3 && s[end - 3] == 0xE3 && s[end - 2] == 0x80 && s[end - 1] == 0x80)
			end -= 3;
		else
			break;
	}
	int nd = 0;
	int group[8], ng = 0, run = 0; /* lengths of digit groups between separators */
	int last_sep = 1;
	while (i < end) {
		int d;
		size_t len = view_char(s + i, end - i, &d);
		if (len == 0)
			return -1;
		i += len;
		if (d < 0) {
			if (last_sep || ng >= 7)
				return -1; /* two separators in a row, or a leading one */
			group[ng++] = run;
			run = 0;
			last_sep = 1;
			continue;
		}
		if (nd >= 13)
			return -1;
		out[nd++] = (char)('0' + d);
		run++;
		last_sep = 0;
	}
	if (nd == 0) {
		out[0] = '\0';
		return ng == 0 ? 0 : -1;
	}
	if (last_sep)
		return -1;
	group[ng++] = run;
	out[nd] = '\0';
	if (ng > 1) {
		/* separators only where they split 4-4-4 or 1-4-4-4 */
		int ok4 = ng == 3 && group[0] == 4 && group[1] == 4 && group[2] == 4;
		int ok13 = ng == 4 && group[0] == 1 && group[1] == 4 && group[2] == 4 && group[3] == 4;
		if (!ok4 && !ok13)
			return -1;
	}
	return nd;
}

enum spif_numval spif_number_classify(const char *s, size_t n, int corporate_ok, uint64_t *key)
{
	char d[14];
	int nd = spif_number_view(s, n, d);
	if (nd == 0)
		return SPIF_NUM_EMPTY;
	if (nd < 0) {
		/* digits with stray separators are a length problem, anything else
		 * is not a number */
		const unsigned char *u = (const unsigned char *)s;
		for (size_t i = 0; i < n;) {
			int dg;
			size_t len = view_char(u + i, n - i, &dg);
			if (len == 0)
				return SPIF_NUM_NOT_DIGITS;
			i += len;
		}
		return SPIF_NUM_BAD_LENGTH;
	}
	if (nd == 12) {
		if (!spif_mynumber_valid(d, 12))
			return SPIF_NUM_BAD_CHECK;
		if (key) {
			uint64_t v = 0;
			for (int i = 0; i < 12; i++)
				v = v * 10 + (uint64_t)(d[i] - '0');
			*key = v;
		}
		return SPIF_NUM_PERSONAL;
	}
	if (nd == 13 && corporate_ok)
		return spif_corpnum_valid(d, 13) ? SPIF_NUM_CORPORATE : SPIF_NUM_BAD_CHECK;
	return SPIF_NUM_BAD_LENGTH;
}

const char *spif_numval_reason(enum spif_numval v)
{
	switch (v) {
	case SPIF_NUM_BAD_CHECK:
		return "check digit does not match";
	case SPIF_NUM_BAD_LENGTH:
		return "not a 12-digit Individual Number";
	case SPIF_NUM_NOT_DIGITS:
		return "not a number (letters or other characters)";
	default:
		return "valid";
	}
}

/* Overwrite the digits of s[start, end) with '*' or '＊'. */
static void star_digits(unsigned char *s, size_t start, size_t end)
{
	for (size_t k = start; k < end;) {
		int d;
		size_t l = view_char(s + k, end - k, &d);
		if (d >= 0) {
			if (l == 1)
				s[k] = '*';
			else { /* ０-９ -> ＊ U+FF0A, same length */
				s[k] = 0xEF;
				s[k + 1] = 0xBC;
				s[k + 2] = 0x8A;
			}
		}
		k += l ? l : 1;
	}
}

/* The next run of digits at or after i: either one group, or groups
 * joined by single separators in the 4-4-4 / 1-4-4-4 shapes.  Sets
 * [*start, *end) and the digits (up to 13 kept, *nd counts them all);
 * returns 0 when there is none. */
static int next_run(const unsigned char *s, size_t n, size_t *i, size_t *start, size_t *end,
                    char digits[14], int *nd)
{
	while (*i < n) {
		int d;
		size_t len = view_char(s + *i, n - *i, &d);
		if (len == 0 || d < 0) {
			*i += len ? len : 1;
			continue;
		}
		size_t gstart[4], gend[4];
		int glen[4], ng = 0;
		size_t j = *i;
		*nd = 0;
		while (ng < 4) {
			gstart[ng] = j;
			glen[ng] = 0;
			size_t l;
			while (j < n && (l = view_char(s + j, n - j, &d)) > 0 && d >= 0) {
				if (*nd < 13)
					digits[*nd] = (char)('0' + d);
				(*nd)++;
				glen[ng]++;
				j += l;
			}
			gend[ng] = j;
			ng++;
			int d2;
			if (j >= n || (l = view_char(s + j, n - j, &d)) == 0 || d >= 0 || j + l >= n ||
			    view_char(s + j + l, n - j - l, &d2) == 0 || d2 < 0)
				break;
			j += l; /* a single separator followed by a digit */
		}
		*start = gstart[0];
		*end = gend[0];
		if (ng >= 3 && glen[0] == 4 && glen[1] == 4 && glen[2] == 4)
			*end = gend[2];
		else if (ng >= 4 && glen[0] == 1 && glen[1] == 4 && glen[2] == 4 && glen[3] == 4)
			*end = gend[3];
		if (*end == gend[0])
			*nd = glen[0]; /* only the first group counts */
		else if (*end == gend[2] && glen[0] == 4)
			*nd = 12;
		else
			*nd = 13;
		digits[*nd < 13 ? *nd : 13] = '\0';
		*i = *end;
		return 1;
	}
	return 0;
}

int spif_mask_numbers(char *str)
{
	unsigned char *s = (unsigned char *)str;
	size_t n = strlen(str), i = 0, start, end;
	char digits[14];
	int nd, runs = 0;
	while (next_run(s, n, &i, &start, &end, digits, &nd))
		if (nd >= 12) {
			star_digits(s, start, end);
			runs++;
		}
	return runs;
}

int spif_text_has_number(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, start, end;
	char digits[14];
	int nd;
	while (next_run(s, n, &i, &start, &end, digits, &nd))
		if (nd == 12 && spif_mynumber_valid(digits, 12))
			return 1;
	return 0;
}

/* Does t, what follows a mark in a column name, leave the mark the head of
 * the name?  It does when it is empty, or only digits, spaces, _ - . : # and
 * their full-width forms (扶養親族_個人番号_1), the words 番号 (マイナンバー
 * 番号), 欄 or 又は法人番号, and bracketed notes (個人番号（本人）, my_number
 * (spouse)).  Anything else makes the mark a modifier of another thing:
 * 個人番号カード交付日 is a date, 個人番号確認済 a flag, マイナンバーカード番号
 * the card's. */
static int trailer_ok(const char *t)
{
	static const char *const words[] = {"番号", "又は法人番号", "または法人番号", "欄",
		"０", "１", "２", "３", "４", "５", "６", "７", "８", "９", "　", "＿", "－", "：", "＃"};
	static const char *const open[] = {"(", "（", "[", "［", "【", "<", "＜"};
	static const char *const close[] = {")", "）", "]", "］", "】", ">", "＞"};
	while (*t) {
		if (strchr("0123456789 _-.:#", *t)) {
			t++;
			continue;
		}
		size_t i, l = 0;
		for (i = 0; i < sizeof words / sizeof *words && !l; i++)
			if (strncmp(t, words[i], strlen(words[i])) == 0)
				l = strlen(words[i]);
		if (l) {
			t += l;
			continue;
		}
		for (i = 0; i < sizeof open / sizeof *open; i++)
			if (strncmp(t, open[i], strlen(open[i])) == 0)
				break;
		if (i == sizeof open / sizeof *open)
			return 0;
		const char *c = strstr(t + strlen(open[i]), close[i]);
		if (!c)
			return 0;
		t = c + strlen(close[i]);
	}
	return 1;
}

/* A mark ends a name (spif_is_number_field_name) when what follows it is a
 * trailer.  ASCII marks are matched case-insensitively and not right after a
 * letter ("dummy_number" holds no my_number), except at a camelCase step
 * (employeeMyNumber); Japanese ones byte for byte.  Each occurrence is
 * tried: 個人番号カードの個人番号 is a number field. */
int spif_is_number_field_name(const char *name)
{
	static const char *const marks[] = {
		"個人番号", "個人識別番号", "共通番号", "マイナンバー", "ﾏｲﾅﾝﾊﾞｰ",
		"my number", "my_number", "my-number", "mynumber",
		"kojin bango", "kojin_bango", "kojin-bango", "kojinbango",
		"individual number", "individual_number", "individual-number", "individualnumber",
	};
	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
		int ascii = (unsigned char)marks[i][0] < 0x80;
		for (const char *p = name; (p = ascii ? strcasestr(p, marks[i]) : strstr(p, marks[i])) != NULL; p++) {
			if (ascii && p > name && isalpha((unsigned char)p[-1]) &&
			    !(islower((unsigned char)p[-1]) && isupper((unsigned char)p[0])))
				continue;
			if (trailer_ok(p + strlen(marks[i])))
				return 1;
		}
	}
	return 0;
}

int spif_number_field_allows_corporate(const char *name)
{
	return strstr(name, "法人番号") != NULL;
}
