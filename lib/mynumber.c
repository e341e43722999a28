/* mynumber.c - check digits and the normalising view; see mynumber.h. */
#include "mynumber.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect.h"
#include "numview.h"

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

/* Decode one character of the view's alphabet at s (n bytes left):
 * numview.h's digits and its JOIN separators (a LIST one - a comma, a
 * slash, a line break - in a number field means a list or garbage, not a
 * number).  Returns its byte length and sets *digit (0-9) or *digit = -1
 * for a separator; returns 0 for anything else. */
static size_t view_char(const unsigned char *s, size_t n, int *digit)
{
	size_t l = spif_nv_digit(s, n, 0, digit);
	if (l)
		return l;
	int k;
	if ((l = spif_nv_sep(s, n, 0, &k)) != 0 && !SPIF_SEP_IS_LIST(k)) {
		*digit = -1;
		return l;
	}
	return 0;
}

/* A space (of any width) at s, or ending at s[n]: its byte length, else 0. */
static size_t is_space_at(const unsigned char *s, size_t n)
{
	int k;
	size_t l = n ? spif_nv_sep(s, n, 0, &k) : 0;
	return l && k == SPIF_SEP_SPACE ? l : 0;
}

static size_t is_space_before(const unsigned char *s, size_t n)
{
	int k;
	size_t l = spif_nv_sep_before(s, n, &k);
	return l && k == SPIF_SEP_SPACE ? l : 0;
}

int spif_number_view(const char *str, size_t n, char out[14])
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, end = n, k;
	/* leading and trailing spaces are not part of the value */
	while (i < end && (k = is_space_at(s + i, end - i)) > 0)
		i += k;
	while (end > i && (k = is_space_before(s + i, end - i)) > 0)
		end -= k;
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

/* The masking of names and logs is the detector's, failing closed (see
 * detect.h): whatever it could take for a number, in any context, is
 * masked, so that a label, a path or a command line never keeps one the
 * detector would find in a file.  Masking a window can cut a longer run
 * short and leave 12 digits that now make a run of their own (個人番号 1 2 3
 * 4 5 6 7 8 9 0 1 8 2026-1016-0001), so the scan is repeated until it
 * masks nothing new; each repeat masks a digit at least.  A run counts once
 * however many findings overlap in it. */
struct maskctx {
	char *s;
	size_t end;  /* the furthest end masked in this pass */
	int runs;    /* runs that held a finding */
	int changed; /* a digit was masked in this pass */
	int valid;   /* a valid Individual Number was among the findings */
};

static int mask_one(void *ctx, const struct spif_finding *f)
{
	struct maskctx *m = ctx;
	int d;
	for (size_t k = f->start; k < f->end && !m->changed; k++)
		m->changed = spif_nv_digit((const unsigned char *)m->s, f->end, k, &d) != 0;
	spif_mask_span(m->s, f->start, f->end);
	if (f->start >= m->end)
		m->runs++;
	if (f->end > m->end)
		m->end = f->end;
	m->valid |= f->valid && !f->corporate;
	return 0;
}

/* Mask s until nothing more is found; *valid: a valid number was. */
static int mask_all(char *s, int *valid)
{
	static const struct spif_detect_opts fc = {.fail_closed = 1};
	size_t n = strlen(s);
	int runs = 0, first = 1;
	*valid = 0;
	for (;;) {
		/* the scan reads a snapshot: masking what it reads under it would
		 * hide the windows that overlap one already masked (and whether
		 * they were valid); short of memory, it reads s itself, and the
		 * next pass finds what this one missed */
		char *snap = strdup(s);
		struct maskctx m = {.s = s};
		spif_detect(snap ? snap : s, n, &fc, mask_one, &m);
		free(snap);
		*valid |= m.valid;
		if (!m.changed)
			break;
		/* a later pass finds only what the earlier ones left: new runs
		 * inside ones already counted are not counted again */
		runs += first ? m.runs : 0;
		first = 0;
	}
	return runs;
}

int spif_mask_numbers(char *str)
{
	int valid;
	return mask_all(str, &valid);
}

static int valid_stop(void *ctx, const struct spif_finding *f)
{
	(void)ctx;
	return f->valid && !f->corporate;
}

int spif_text_has_number(const char *str)
{
	char *copy = strdup(str);
	int valid = 0;
	if (copy) {
		mask_all(copy, &valid);
		free(copy);
		return valid;
	}
	/* out of memory: one pass over the text as it is */
	static const struct spif_detect_opts fc = {.fail_closed = 1};
	return spif_detect(str, strlen(str), &fc, valid_stop, NULL) != 0;
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
		"　", "＿", "－", "：", "＃"};
	static const char *const open[] = {"(", "（", "[", "［", "【", "<", "＜"};
	static const char *const close[] = {")", "）", "]", "］", "】", ">", "＞"};
	while (*t) {
		int d;
		size_t dl = spif_nv_digit((const unsigned char *)t, strnlen(t, 3), 0, &d);
		if (dl || strchr(" _-.:#", *t)) {
			t += dl ? dl : 1;
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
