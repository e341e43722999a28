/* test_detect.c - the number detector: forms, digit boundaries, grouped
 * runs, check digits, keywords and their 300-character window, context,
 * number fields, 法人番号, masking and offsets. */
#include <stdlib.h>

#include "detect.h"
#include "mynumber.h"
#include "tap.h"

#define MAXF 16

struct got {
	int n;
	struct spif_finding f[MAXF];
	int stop_at; /* return non-zero from the callback at this finding (1-based) */
};

static int collect(void *ctx, const struct spif_finding *f)
{
	struct got *g = ctx;
	if (g->n < MAXF)
		g->f[g->n] = *f;
	g->n++;
	return g->stop_at && g->n == g->stop_at ? 7 : 0;
}

static struct got run(const char *s, const struct spif_detect_opts *o)
{
	struct got g;
	memset(&g, 0, sizeof g);
	spif_detect(s, strlen(s), o, collect, &g);
	return g;
}

static struct got run_ctx(const char *pre, const char *s, const char *post)
{
	struct got g;
	memset(&g, 0, sizeof g);
	spif_detect_ctx(pre, pre ? strlen(pre) : 0, s, strlen(s), post, post ? strlen(post) : 0, NULL,
	                collect, &g);
	return g;
}

/* One finding, covering exactly the bytes of `num` inside s. */
static void one(const char *s, const char *num, enum spif_form form, const char *what)
{
	struct got g = run(s, NULL);
	is_int(g.n, 1, "%s: one finding", what);
	if (g.n != 1)
		return;
	const char *at = strstr(s, num);
	is_int(g.f[0].start, at - s, "%s: start", what);
	is_int(g.f[0].end, at - s + (long)strlen(num), "%s: end", what);
	is_str(spif_form_name(g.f[0].form), spif_form_name(form), "%s: form %s", what,
	       spif_form_name(form));
	is_int(g.f[0].corporate, 0, "%s: not corporate", what);
}

static void none(const char *s, const char *what)
{
	struct got g = run(s, NULL);
	is_int(g.n, 0, "%s: no finding", what);
}

/* s = prefix + k copies of filler + suffix (malloc'd) */
static char *build(const char *prefix, const char *filler, int k, const char *suffix)
{
	size_t n = strlen(prefix) + strlen(filler) * (size_t)k + strlen(suffix) + 1;
	char *s = malloc(n), *p = s;
	p = stpcpy(p, prefix);
	for (int i = 0; i < k; i++)
		p = stpcpy(p, filler);
	stpcpy(p, suffix);
	return s;
}

/* Does a digit (ASCII or full-width) start at s[i]? */
static int digit_here(const char *s, size_t n, size_t i)
{
	const unsigned char *u = (const unsigned char *)s;
	if (i >= n)
		return 0;
	if (u[i] >= '0' && u[i] <= '9')
		return 1;
	return u[i] == 0xEF && n - i >= 3 && u[i + 1] == 0xBC && u[i + 2] >= 0x90 && u[i + 2] <= 0x99;
}

/* Does a digit end at s[i] (the character before s[i])? */
static int digit_ends(const char *s, size_t i)
{
	const unsigned char *u = (const unsigned char *)s;
	if (i >= 1 && u[i - 1] >= '0' && u[i - 1] <= '9')
		return 1;
	return i >= 3 && u[i - 3] == 0xEF && u[i - 2] == 0xBC && u[i - 1] >= 0x90 && u[i - 1] <= 0x99;
}

/* A generated checksum-valid number (12 ASCII digits) from seed: 11 digits
 * of a small LCG, then the check digit. */
static void gen_number(unsigned seed, char out[13])
{
	for (int i = 0; i < 11; i++) {
		seed = seed * 1103515245u + 12345u;
		out[i] = (char)('0' + (seed >> 16) % 10);
	}
	out[11] = (char)('0' + spif_mynumber_check_digit(out));
	out[12] = '\0';
}

/* num written in groups of the given lengths (summing to 12), sep between
 * them, into out; returns out. */
static char *grouped(const char *num, const int *lens, int nl, const char *sep, char *out, size_t cap)
{
	size_t o = 0, at = 0;
	for (int g = 0; g < nl; g++) {
		if (g)
			o += (size_t)snprintf(out + o, cap - o, "%s", sep);
		o += (size_t)snprintf(out + o, cap - o, "%.*s", lens[g], num + at);
		at += (size_t)lens[g];
	}
	return out;
}

/* One finding covering exactly num inside s, with the confidence want
 * (-1: no finding at all). */
static void expect(const char *s, const char *num, int want, const char *what)
{
	struct got g = run(s, NULL);
	if (want < 0) {
		is_int(g.n, 0, "%s: no finding", what);
		return;
	}
	is_int(g.n, 1, "%s: one finding", what);
	if (g.n != 1)
		return;
	const char *at = strstr(s, num);
	ok(at && g.f[0].start == (size_t)(at - s) && g.f[0].end == (size_t)(at - s) + strlen(num),
	   "%s: the span is the number", what);
	is_int(g.f[0].confidence, want, "%s: %s", what, want == SPIF_CONF_HIGH ? "high" : "low");
}

static int conf_of(const char *s)
{
	struct got g = run(s, NULL);
	return g.n == 1 ? (int)g.f[0].confidence : -1;
}

int main(void)
{
	/* --- every form ---------------------------------------------------- */
	one("621498320257", "621498320257", SPIF_FORM_PLAIN, "plain");
	one("123456789018", "123456789018", SPIF_FORM_PLAIN, "plain, worked example");
	static const char *const seps[][2] = {
		{"-", "hyphen-minus"}, {"‐", "U+2010 hyphen"}, {"−", "U+2212 minus"},
		{"－", "U+FF0D full-width hyphen-minus"}, {"ー", "U+30FC choonpu"}, {".", "dot"},
		{"．", "U+FF0E full-width dot"}, {" ", "space"}, {"　", "U+3000 ideographic space"},
	};
	for (size_t i = 0; i < sizeof seps / sizeof seps[0]; i++) {
		char num[64], what[96];
		snprintf(num, sizeof num, "6214%s9832%s0257", seps[i][0], seps[i][0]);
		snprintf(what, sizeof what, "4-4-4 with %s", seps[i][1]);
		one(num, num, SPIF_FORM_GROUPED, what);
		/* full-width digits with the same separator */
		snprintf(num, sizeof num, "６２１４%s９８３２%s０２５７", seps[i][0], seps[i][0]);
		snprintf(what, sizeof what, "full-width 4-4-4 with %s", seps[i][1]);
		one(num, num, SPIF_FORM_MIXED, what);
	}
	one("６２１４９８３２０２５７", "６２１４９８３２０２５７", SPIF_FORM_FULLWIDTH, "full-width digits");
	one("6214９８３２0257", "6214９８３２0257", SPIF_FORM_MIXED, "half- and full-width digits mixed");
	one("６２１４-9832－０２５７", "６２１４-9832－０２５７", SPIF_FORM_MIXED, "mixed digits and separators");
	one("6214-9832 0257", "6214-9832 0257", SPIF_FORM_GROUPED, "different separators between groups");
	one("6214－9832－0257", "6214－9832－0257", SPIF_FORM_GROUPED,
	    "ASCII digits with full-width separators are grouped");
	one("6214ー9832ー0257", "6214ー9832ー0257", SPIF_FORM_GROUPED, "choonpu as a hyphen");
	one("202610160001", "202610160001", SPIF_FORM_PLAIN, "a date-like order number that passes is found");
	one("2026-1016-0001", "2026-1016-0001", SPIF_FORM_GROUPED, "the same grouped");
	is_int(conf_of("202610160001"), SPIF_CONF_LOW, "... with low confidence (no keyword)");

	/* --- every separator people and office programs type --------------- */
	{
		/* JOIN kinds: a 4-4-4 is found without a keyword (low), high with
		 * one; LIST kinds: only with a keyword */
		static const struct { const char *sep, *name; int list; } seps2[] = {
			{"-", "hyphen-minus", 0}, {"\xE2\x80\x90", "U+2010 hyphen", 0},
			{"\xE2\x80\x91", "U+2011 non-breaking hyphen", 0}, {"\xE2\x80\x92", "U+2012 figure dash", 0},
			{"\xE2\x80\x93", "U+2013 en dash", 0}, {"\xE2\x80\x94", "U+2014 em dash", 0},
			{"\xE2\x80\x95", "U+2015 horizontal bar", 0}, {"\xE2\x88\x92", "U+2212 minus", 0},
			{"\xEF\xBC\x8D", "U+FF0D full-width hyphen-minus", 0}, {"\xE3\x83\xBC", "U+30FC choonpu", 0},
			{"\xEF\xBD\xB0", "U+FF70 half-width choonpu", 0}, {"\xE2\x81\x83", "U+2043 hyphen bullet", 0},
			{"\xEF\xB9\x98", "U+FE58 small em dash", 0}, {"\xEF\xB9\xA3", "U+FE63 small hyphen-minus", 0},
			{".", "dot", 0}, {"\xEF\xBC\x8E", "U+FF0E full-width dot", 0}, {"\xC2\xB7", "U+00B7 middle dot", 0},
			{"\xE2\x80\xA4", "U+2024 one dot leader", 0}, {"\xE2\x80\xA7", "U+2027 hyphenation point", 0},
			{"\xE3\x83\xBB", "U+30FB nakaguro", 0}, {"\xEF\xBD\xA5", "U+FF65 half-width nakaguro", 0},
			{" ", "space", 0}, {"\xC2\xA0", "U+00A0 no-break space", 0}, {"\xE1\x9A\x80", "U+1680 ogham space", 0},
			{"\xE2\x80\x80", "U+2000 en quad", 0}, {"\xE2\x80\x81", "U+2001 em quad", 0},
			{"\xE2\x80\x82", "U+2002 en space", 0}, {"\xE2\x80\x83", "U+2003 em space", 0},
			{"\xE2\x80\x84", "U+2004 three-per-em space", 0}, {"\xE2\x80\x85", "U+2005 four-per-em space", 0},
			{"\xE2\x80\x86", "U+2006 six-per-em space", 0}, {"\xE2\x80\x87", "U+2007 figure space", 0},
			{"\xE2\x80\x88", "U+2008 punctuation space", 0}, {"\xE2\x80\x89", "U+2009 thin space", 0},
			{"\xE2\x80\x8A", "U+200A hair space", 0}, {"\xE2\x80\xAF", "U+202F narrow no-break space", 0},
			{"\xE2\x81\x9F", "U+205F medium mathematical space", 0}, {"\xE3\x80\x80", "U+3000 ideographic space", 0},
			{"_", "underscore", 0}, {"\xEF\xBC\xBF", "U+FF3F full-width underscore", 0},
			{"\xC2\xAD", "U+00AD soft hyphen", 0}, {"\xE2\x80\x8B", "U+200B zero width space", 0},
			{"\xE2\x80\x8C", "U+200C zero width non-joiner", 0}, {"\xE2\x80\x8D", "U+200D zero width joiner", 0},
			{"\xE2\x81\xA0", "U+2060 word joiner", 0}, {"\xEF\xBB\xBF", "U+FEFF", 0},
			{"/", "slash", 1}, {"\xEF\xBC\x8F", "U+FF0F full-width slash", 1},
			{"\xE2\x88\x95", "U+2215 division slash", 1}, {"\xE2\x81\x84", "U+2044 fraction slash", 1},
			{",", "comma", 1}, {"\xEF\xBC\x8C", "U+FF0C full-width comma", 1},
			{"\xE3\x80\x81", "U+3001 ideographic comma", 1}, {"\xEF\xBD\xA4", "U+FF64 half-width ideographic comma", 1},
			{"\t", "tab", 1}, {"\n", "line feed", 1}, {"\r", "carriage return", 1}, {"\r\n", "CR LF", 1},
			{"\v", "vertical tab", 1}, {"\f", "form feed", 1}, {"\xC2\x85", "U+0085 next line", 1},
			{"\xE2\x80\xA8", "U+2028 line separator", 1}, {"\xE2\x80\xA9", "U+2029 paragraph separator", 1},
		};
		static const int l444[] = {4, 4, 4};
		for (size_t i = 0; i < sizeof seps2 / sizeof seps2[0]; i++) {
			char num[13], w[160], s[256], what[160];
			gen_number(1000 + (unsigned)i, num);
			grouped(num, l444, 3, seps2[i].sep, w, sizeof w);
			snprintf(s, sizeof s, "個人番号：%s。", w);
			snprintf(what, sizeof what, "keyword, 4-4-4 with %s", seps2[i].name);
			expect(s, w, SPIF_CONF_HIGH, what);
			snprintf(s, sizeof s, "備考 %s です", w);
			snprintf(what, sizeof what, "no keyword, 4-4-4 with %s", seps2[i].name);
			expect(s, w, seps2[i].list ? -1 : SPIF_CONF_LOW, what);
			/* full-width digits, the same separator, after マイナンバー */
			size_t o = 0;
			for (int k = 0; k < 12; k++) {
				if (k && k % 4 == 0)
					o += (size_t)snprintf(w + o, sizeof w - o, "%s", seps2[i].sep);
				o += (size_t)snprintf(w + o, sizeof w - o, "\xEF\xBC%c", (char)(0x90 + num[k] - '0'));
			}
			snprintf(s, sizeof s, "マイナンバー%s", w);
			snprintf(what, sizeof what, "keyword, full-width 4-4-4 with %s", seps2[i].name);
			expect(s, w, SPIF_CONF_HIGH, what);
			/* doubled: the same separator twice between groups */
			char sep2[16];
			snprintf(sep2, sizeof sep2, "%s%s", seps2[i].sep, seps2[i].sep);
			grouped(num, l444, 3, sep2, w, sizeof w);
			snprintf(s, sizeof s, "個人番号 %s", w);
			snprintf(what, sizeof what, "keyword, 4-4-4 with %s doubled", seps2[i].name);
			expect(s, w, SPIF_CONF_HIGH, what);
			snprintf(s, sizeof s, "備考 %s", w);
			snprintf(what, sizeof what, "no keyword, 4-4-4 with %s doubled", seps2[i].name);
			expect(s, w, -1, what);
		}
	}

	/* --- groupings other than 4-4-4 ------------------------------------- */
	{
		static const struct { int n, len[12]; const char *name; int low; } gr[] = {
			{4, {3, 3, 3, 3}, "3-3-3-3", 1}, {2, {6, 6}, "6-6", 1},
			{6, {2, 2, 2, 2, 2, 2}, "2-2-2-2-2-2", 0}, {12, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, "digit by digit", 0},
			{2, {4, 8}, "4-8", 0}, {2, {8, 4}, "8-4", 0}, {2, {5, 7}, "5-7", 0}, {2, {2, 10}, "2-10", 0},
			{3, {3, 4, 5}, "3-4-5", 0}, {4, {4, 4, 2, 2}, "4-4-2-2", 0}, {2, {1, 11}, "1-11", 0},
			{3, {6, 3, 3}, "6-3-3", 0}, {3, {2, 5, 5}, "2-5-5", 0},
		};
		static const char *const gseps[] = {"-", " ", "\xE3\x80\x80", ".", "_", "\xC2\xA0", "\xE2\x80\x89",
			"/", ",", "\n", " - ", "--", "\r\n"};
		for (size_t i = 0; i < sizeof gr / sizeof gr[0]; i++)
			for (size_t j = 0; j < sizeof gseps / sizeof gseps[0]; j++) {
				char num[13], w[200], s[300], what[160];
				gen_number(5000 + (unsigned)(i * 31 + j), num);
				grouped(num, gr[i].len, gr[i].n, gseps[j], w, sizeof w);
				int list = j >= 7; /* a LIST separator or two separators */
				snprintf(s, sizeof s, "本人の個人番号は%sです", w);
				snprintf(what, sizeof what, "keyword, %s with separator %zu", gr[i].name, j);
				expect(s, w, SPIF_CONF_HIGH, what);
				snprintf(s, sizeof s, "本人の番号は%sです", w);
				snprintf(what, sizeof what, "no keyword, %s with separator %zu", gr[i].name, j);
				expect(s, w, gr[i].low && !list ? SPIF_CONF_LOW : -1, what);
			}
	}

	/* --- how far a loose run reaches ------------------------------------ */
	{
		char num[13], w[120], s[300];
		static const int l444[] = {4, 4, 4}, l1[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
		gen_number(77, num);
		grouped(num, l444, 3, " - ", w, sizeof w);
		snprintf(s, sizeof s, "個人番号 %s 1件", w);
		expect(s, w, -1, "three separators and a count after: the run holds 13 digits");
		grouped(num, l444, 3, "\r\n   ", w, sizeof w);
		snprintf(s, sizeof s, "個人番号\r\n%s", w);
		expect(s, w, -1, "four separators break every run (CR LF and three spaces)");
		grouped(num, l444, 3, "\r\n ", w, sizeof w);
		snprintf(s, sizeof s, "個人番号\r\n%s\r\n", w);
		expect(s, w, SPIF_CONF_HIGH, "CR LF and an indent (three separators) between groups");
		grouped(num, l1, 12, " ", w, sizeof w);
		snprintf(s, sizeof s, "個人番号 %s 3", w);
		expect(s, w, -1, "digit by digit, and a thirteenth digit: a table, not a number");
		snprintf(s, sizeof s, "個人番号 %s、3", w);
		expect(s, w, SPIF_CONF_HIGH, "digit by digit, then 、 and a digit: the list comma ends the spaced run");
		/* a thousands-grouped amount: 3-3-3-3 after a shorter head is none */
		char amt[140];
		static const int l3[] = {3, 3, 3, 3};
		grouped(num, l3, 4, ",", w, sizeof w);
		snprintf(amt, sizeof amt, "7,%s", w);
		snprintf(s, sizeof s, "個人番号欄 空欄、支払金額 %s円", amt);
		expect(s, w, -1, "an amount 7,ddd,ddd,ddd,ddd: no 3-3-3-3 in it");
		grouped(num, l3, 4, "-", w, sizeof w);
		snprintf(s, sizeof s, "個人番号 123-%s", w);
		expect(s, w, -1, "3-3-3-3-3 with one separator: a longer regular run");
		static const int l6[] = {6, 6};
		grouped(num, l6, 2, "-", w, sizeof w);
		snprintf(s, sizeof s, "個人番号 %s-123456", w);
		expect(s, w, -1, "6-6-6 with one separator: a longer regular run");
		snprintf(s, sizeof s, "20261016 %s", w);
		expect(s, w, SPIF_CONF_LOW, "6-6 after a date and a space");
		/* a LIST separator among others joins two values */
		grouped(num, l444, 3, "\xEF\xBD\xA5", w, sizeof w);
		{
			/* the phone's last groups and the number's first one pass the
			 * checksum together */
			char win[13];
			unsigned b = 0;
			do
				snprintf(win, sizeof win, "1464%04u%.4s", b++, num);
			while (!spif_mynumber_valid(win, 12));
			snprintf(s, sizeof s, "個人番号 TEL 07-1464-%.4s／%s で照会", win + 4, w);
			expect(s, w, SPIF_CONF_HIGH, "a phone, ／ and a 4-4-4: the phone's groups and ／ make no window");
		}
		/* across the edges of text (spif_detect_ctx) */
		grouped(num, l1, 12, " ", w, sizeof w);
		struct got g = run_ctx("個人番号 ", w, NULL);
		is_int(g.n, 1, "digit by digit, keyword in pre: one finding");
		g = run_ctx("個人番号 5 ", w, NULL);
		is_int(g.n, 0, "digit by digit, a digit and a space in pre continue the run");
		g = run_ctx("個人番号", w, " 5");
		is_int(g.n, 0, "digit by digit, a space and a digit in post continue the run");
		g = run_ctx("個人番号", w, " - 5");
		is_int(g.n, 1, "... three separators end the spaced run (a loose one goes on)");
		g = run_ctx("個人番号", w, "    5");
		is_int(g.n, 1, "... four end every run");
		grouped(num, l444, 3, "--", w, sizeof w);
		char t[128];
		snprintf(t, sizeof t, "%s-", w);
		g = run_ctx("マイナンバー", t, "-1");
		is_int(g.n, 0, "doubled separators: the run goes on across the end of text");
	}

	/* --- boundaries ---------------------------------------------------- */
	none("1621498320257", "a digit before (13 digits)");
	none("6214983202571", "a digit after (13 digits)");
	none("１621498320257", "a full-width digit before");
	none("621498320257１", "a full-width digit after");
	none("99621498320257", "inside a longer run");
	none("62149832025", "11 digits");
	one("個人番号621498320257", "621498320257", SPIF_FORM_PLAIN, "kanji before touches the number");
	one("621498320257番", "621498320257", SPIF_FORM_PLAIN, "kanji after touches the number");
	one("ID621498320257X", "621498320257", SPIF_FORM_PLAIN, "letters around");
	one("（621498320257）", "621498320257", SPIF_FORM_PLAIN, "full-width parentheses around");
	one("「6214-9832-0257」。", "6214-9832-0257", SPIF_FORM_GROUPED, "brackets and a full stop");
	one("番号:621498320257,", "621498320257", SPIF_FORM_PLAIN, "ASCII punctuation");
	one("マイナンバー621498320257", "621498320257", SPIF_FORM_PLAIN,
	    "a choonpu ending a word is not part of the number");
	one("6214-9832-0257.", "6214-9832-0257", SPIF_FORM_GROUPED, "a separator after, then no digit");
	one("-6214-9832-0257", "6214-9832-0257", SPIF_FORM_GROUPED, "a separator before, no digit before it");
	one("03-1234-5678 621498320257", "621498320257", SPIF_FORM_PLAIN,
	    "a 12-digit group after a phone number and a space");
	one("1234--6214-9832-0257", "6214-9832-0257", SPIF_FORM_GROUPED,
	    "two separators break a run: the 4-4-4 after them stands alone");

	/* --- check digits -------------------------------------------------- */
	none("621498320258", "wrong check digit");
	none("6214-9832-0258", "wrong check digit, grouped");
	none("６２１４９８３２０２５８", "wrong check digit, full-width");

	/* --- grouped runs longer than 4-4-4 -------------------------------- */
	/* a card number: 4-4-4-4 with one kind of separator yields nothing
	 * from three of its groups, whichever three */
	none("6214-9832-0257-1234", "16 digits 4-4-4-4 (card): a separator and digits after");
	none("1234-6214-9832-0257", "16 digits 4-4-4-4: digits and a separator before");
	none("1234 6214 9832 0257", "card number with spaces");
	none("1234.6214.9832.0257", "card number with dots");
	none("1234ー6214ー9832ー0257", "card number with choonpu");
	none("６２１４－９８３２－０２５７－１２３４", "full-width card-like run");
	none("4444-1234-6214-9832-0257", "20 digits 4-4-4-4-4");
	none("1234-6214 9832-0257", "a 4-digit neighbour joined like one of the window's separators");
	none("6214-98320257", "4-8 is not a shape");
	none("621-4983-20257", "3-4-5 is not a shape");
	none("6214--9832--0257", "two separators between groups");
	none("5-8356-7825-6246", "1-4-4-4 without corporate: the 4-4-4 tail's check digit fails");
	one("6214-9832-0257-", "6214-9832-0257", SPIF_FORM_GROUPED, "a trailing separator without a digit after");
	/* a 4-4-4 one separator away from other digits: a date, a postal code,
	 * a count.  Three 4-digit groups inside a longer run are a number when
	 * the group next to them is not 4 digits long, or is joined another way */
	one("2026-10-16 6214-9832-0257", "6214-9832-0257", SPIF_FORM_GROUPED, "after a date and a space");
	one("〒100-0001 6214-9832-0257", "6214-9832-0257", SPIF_FORM_GROUPED,
	    "after a postal code (4 digits, but joined by a space)");
	one("No.3 6214 9832 0257", "6214 9832 0257", SPIF_FORM_GROUPED, "after No.3 and a space");
	one("6214 9832 0257 1件", "6214 9832 0257", SPIF_FORM_GROUPED, "before a count");
	one("16 621498320257", "621498320257", SPIF_FORM_PLAIN, "12 digits after a number and a space");
	one("12-6214-9832-0257", "6214-9832-0257", SPIF_FORM_GROUPED, "a 2-digit group before the 4-4-4");
	one("6214-9832-0257-1", "6214-9832-0257", SPIF_FORM_GROUPED, "a 1-digit group after the 4-4-4");
	one("12345-6214-9832-0257", "6214-9832-0257", SPIF_FORM_GROUPED, "a 5-digit group before");
	one("6214-9832-0257 2026-10-16", "6214-9832-0257", SPIF_FORM_GROUPED, "a year after, joined by a space");
	one("0001 6214.9832.0257", "6214.9832.0257", SPIF_FORM_GROUPED, "a 4-digit group before, joined by a space");
	one("5-6214-9832-0257", "6214-9832-0257", SPIF_FORM_GROUPED, "1-4-4-4 without corporate: a valid tail");
	one("2026．10．16　６２１４－９８３２－０２５７", "６２１４－９８３２－０２５７", SPIF_FORM_MIXED,
	    "full-width, after a date with full-width dots and U+3000");
	{
		static const char *const kw[][2] = {
			{"個人番号 2026-10-16 6214-9832-0257", "2026-10-16"},
			{"個人番号 〒100-0001 6214-9832-0257", "〒100-0001"},
			{"個人番号 No.3 6214 9832 0257", "No.3"},
			{"個人番号 6214 9832 0257 1件", "1件"},
			{"個人番号 16 621498320257", "16 "},
		};
		for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
			is_int(conf_of(kw[i][0]), SPIF_CONF_HIGH, "with a keyword and %s: found, high", kw[i][1]);
	}
	{
		/* two windows that share groups, both checksum-valid: the first
		 * is the finding, the second may not overlap it */
		struct got g = run("6507-5846 2921.3688", NULL);
		is_int(g.n, 1, "overlapping windows: one finding");
		is_int(g.n == 1 ? (long)g.f[0].end : -1, 14, "... the first window");
	}

	/* --- several numbers ----------------------------------------------- */
	{
		const char *s = "本人621498320257、配偶者６２１４ ９８３２ ０２５７と123456789018";
		struct got g = run(s, NULL);
		is_int(g.n, 3, "three numbers in one text");
		if (g.n == 3) {
			is_int(g.f[0].char_offset, 2, "first at character 2");
			is_int(g.f[0].start, 6, "first at byte 6");
			is_int(g.f[1].char_offset, 18, "second at character 18");
			is_int(g.f[1].form, SPIF_FORM_MIXED, "second is full-width grouped");
			is_int(g.f[2].char_offset, 33, "third at character 33");
			ok(g.f[0].end <= g.f[1].start && g.f[1].end <= g.f[2].start, "in order, not overlapping");
		}
	}
	{
		struct got g;
		memset(&g, 0, sizeof g);
		g.stop_at = 1;
		const char *s = "621498320257 123456789018";
		int rc = spif_detect(s, strlen(s), NULL, collect, &g);
		is_int(rc, 7, "a non-zero return from the callback stops the scan and is returned");
		is_int(g.n, 1, "... after one call");
	}
	{
		/* text need not be NUL-terminated: n bounds it */
		struct got g;
		memset(&g, 0, sizeof g);
		spif_detect("6214983202579999", 12, NULL, collect, &g);
		is_int(g.n, 1, "n bounds the text (digits after n are not looked at)");
	}

	/* --- char_offset with multibyte text before ------------------------ */
	{
		const char *s = "ﾏｲﾅﾝﾊﾞｰ：（株）山﨑　太郎様の番号は ６２１４-９８３２-０２５７ です";
		struct got g = run(s, NULL);
		is_int(g.n, 1, "number after half-width kana, kanji, U+3000");
		if (g.n == 1) {
			is_int(g.f[0].char_offset, 22, "char_offset counts characters");
			is_int(g.f[0].start, 64, "start counts bytes");
			ok(g.f[0].confidence == SPIF_CONF_HIGH, "half-width kana ﾏｲﾅﾝﾊﾞｰ is a keyword");
		}
	}

	/* --- keywords ------------------------------------------------------ */
	{
		struct got g = run("マイナンバー：621498320257", NULL);
		is_int(g.n == 1 ? (int)g.f[0].confidence : -1, SPIF_CONF_HIGH, "keyword before: high");
		is_str(g.n == 1 && g.f[0].keyword ? g.f[0].keyword : "", "マイナンバー", "keyword reported");
		g = run("621498320257（個人番号カード）", NULL);
		is_int(g.n == 1 ? (int)g.f[0].confidence : -1, SPIF_CONF_HIGH, "keyword after: high");
		is_str(g.n == 1 && g.f[0].keyword ? g.f[0].keyword : "", "個人番号カード",
		       "the longest keyword at a position");
		g = run("621498320257", NULL);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_LOW && g.f[0].keyword == NULL,
		   "no keyword: low, keyword NULL");
		g = run("個人番号は通知カードの 621498320257 です。マイナンバーカードも", NULL);
		is_str(g.n == 1 && g.f[0].keyword ? g.f[0].keyword : "", "通知カード",
		       "the nearest keyword (before: 2 characters away; after: 4)");
		g = run("個人番号 621498320257(mynumber)", NULL);
		is_str(g.n == 1 && g.f[0].keyword ? g.f[0].keyword : "", "個人番号",
		       "a tie (1 character each side) goes to the keyword before");
		g = run("個人番号:  621498320257(mynumber)", NULL);
		is_str(g.n == 1 && g.f[0].keyword ? g.f[0].keyword : "", "mynumber",
		       "the nearer keyword after");
	}
	{
		static const char *const kws[] = {"マイナンバー", "個人番号", "共通番号", "個人番号カード",
			"通知カード", "個人識別番号", "個人識別ナンバー", "マイナンバーカード", "My Number",
			"MYNUMBER", "my_number", "Individual Number", "Kojin Bango", "ﾏｲﾅﾝﾊﾞｰ"};
		for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++) {
			char *s = build(kws[i], "", 0, " 6214-9832-0257");
			is_int(conf_of(s), SPIF_CONF_HIGH, "keyword %s -> high", kws[i]);
			free(s);
		}
		is_int(conf_of("dummy number 621498320257"), SPIF_CONF_LOW, "'dummy number' is not 'my number'");
		is_int(conf_of("番号 621498320257"), SPIF_CONF_LOW, "番号 alone is no keyword");
		is_int(conf_of("受付番号 621498320257"), SPIF_CONF_LOW, "受付番号 is no keyword");
		is_int(conf_of("法人番号 621498320257"), SPIF_CONF_LOW, "法人番号 is no keyword for a 個人番号");
		is_int(conf_of("ｍｙ ｎｕｍｂｅｒ 621498320257"), SPIF_CONF_LOW,
		       "full-width letters are not matched (ASCII only)");
	}
	{
		/* the window: 300 characters, counted in characters (あ is 3 bytes) */
		char *s = build("マイナンバー", "あ", 294, "621498320257");
		is_int(conf_of(s), SPIF_CONF_HIGH, "keyword starting 300 characters before: high");
		free(s);
		s = build("マイナンバー", "あ", 295, "621498320257");
		is_int(conf_of(s), SPIF_CONF_LOW, "keyword starting 301 characters before: low");
		free(s);
		s = build("マイナンバー", "a", 295, "621498320257");
		is_int(conf_of(s), SPIF_CONF_LOW, "... also with ASCII filler");
		s = (free(s), build("621498320257", "あ", 296, "個人番号"));
		is_int(conf_of(s), SPIF_CONF_HIGH, "keyword ending 300 characters after: high");
		free(s);
		s = build("621498320257", "あ", 297, "個人番号");
		is_int(conf_of(s), SPIF_CONF_LOW, "keyword ending 301 characters after: low");
		free(s);
		s = build("my number", "x", 291, "６２１４－９８３２－０２５７");
		is_int(conf_of(s), SPIF_CONF_HIGH, "ASCII keyword, 300 characters: high");
		free(s);
		s = build("my number", "漢", 292, "６２１４－９８３２－０２５７");
		is_int(conf_of(s), SPIF_CONF_LOW, "ASCII keyword, 301 characters: low");
		free(s);
		/* a number far from one keyword but near another is high */
		s = build("マイナンバー", "あ", 400, "621498320257 通知カード");
		is_int(conf_of(s), SPIF_CONF_HIGH, "a far keyword before and a near one after");
		free(s);
	}

	/* --- context (spif_detect_ctx) -------------------------------------- */
	{
		struct got g = run_ctx("マイナンバー", "：621498320257 を確認", NULL);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "keyword only in pre: high");
		is_int(g.n == 1 ? (long)g.f[0].char_offset : -1, 1, "offsets are in text, not pre");
		g = run_ctx(NULL, "番号 621498320257 は", "通知カードで確認");
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "keyword only in post: high");
		g = run_ctx("マイナン", "バー621498320257", NULL);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "keyword across the edge of pre and text");
		g = run_ctx(NULL, "621498320257 マイナ", "ンバー");
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "keyword across the edge of text and post");
		char *pre = build("個人番号", "あ", 290, "");
		g = run_ctx(pre, "あああああああ621498320257", NULL);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_LOW, "keyword in pre but 301 characters away: low");
		g = run_ctx(pre, "ああああああ621498320257", NULL);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "... 300 characters: high");
		free(pre);
		g = run_ctx("621498320257 個人番号", "ありません", "");
		is_int(g.n, 0, "numbers in pre are never reported");
		g = run_ctx("1", "621498320257 は", NULL);
		is_int(g.n, 0, "a digit at the end of pre continues the run");
		g = run_ctx(NULL, "番号 621498320257", "9");
		is_int(g.n, 0, "a digit at the start of post continues the run");
		g = run_ctx(NULL, "番号 6214-9832-0257", "-1234");
		is_int(g.n, 0, "a separator and 4 digits in post continue a 4-4-4 (card)");
		g = run_ctx("1234-", "6214-9832-0257 は", NULL);
		is_int(g.n, 0, "digits and a separator in pre continue a 4-4-4");
		g = run_ctx("ab", "6214-9832-0257", "。");
		is_int(g.n, 1, "context without digits changes nothing");
		g = run_ctx("2026-10-", "16 6214-9832-0257 は", NULL);
		is_int(g.n, 1, "a date across the edge of pre does not hide a 4-4-4");
		g = run_ctx("〒100-0001 ", "6214-9832-0257 は", NULL);
		is_int(g.n, 1, "a 4-digit group in pre joined by another separator does not hide it");
		g = run_ctx("5678 ", "6214 9832 0257 は", NULL);
		is_int(g.n, 0, "a 4-digit group in pre joined by the same separator does (card)");
		g = run_ctx("1234", " 6214 9832 0257 は", NULL);
		is_int(g.n, 0, "... also when the separator is in text");
		g = run_ctx(NULL, "番号 6214 9832 0257", " 1件");
		is_int(g.n, 1, "a count across the edge of post does not hide it");
		g = run_ctx(NULL, "番号 6214 9832 0257 ", "1234");
		is_int(g.n, 0, "a 4-digit group in post joined by the same separator does (card)");
		g = run_ctx(NULL, "番号 6214 9832 0257", "-1234");
		is_int(g.n, 1, "a 4-digit group in post joined by another separator does not");
	}

	/* --- number fields ------------------------------------------------- */
	{
		struct spif_detect_opts nf = {.number_field = 1};
		struct got g = run("621498320257", &nf);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "number field: high without keyword");
		ok(g.n == 1 && g.f[0].keyword == NULL, "number field: no keyword needed");
		g = run("６２１４－９８３２－０２５７", &nf);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "number field, full-width grouped: high");
		g = run("621498320258", &nf);
		is_int(g.n, 0, "number field: an invalid number is no finding (the caller classifies it)");
	}

	/* --- the field's name as context ------------------------------------ */
	{
		struct spif_detect_opts fo = {.field_name = "マイナンバーカード番号"};
		struct got g = run("621498320257", &fo);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "a keyword in the field's name: high");
		is_str(g.n == 1 && g.f[0].keyword ? g.f[0].keyword : "", "マイナンバーカード番号",
		       "... and it is the keyword reported");
		g = run("通知カード 621498320257", &fo);
		is_str(g.n == 1 && g.f[0].keyword ? g.f[0].keyword : "", "通知カード",
		       "a keyword in the text is reported before the name's");
		fo.field_name = "備考";
		g = run("621498320257", &fo);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_LOW, "a name without a keyword: low");
		fo.field_name = "Employee My Number";
		ok(run("621498320257", &fo).f[0].confidence == SPIF_CONF_HIGH, "an ASCII keyword in the name");
		is_str(spif_keyword_in("前職の個人番号メモ", strlen("前職の個人番号メモ"), 0), "個人番号",
		       "keyword_in: found inside a name");
		ok(spif_keyword_in("受給者番号", strlen("受給者番号"), 0) == NULL, "keyword_in: none");
		ok(spif_keyword_in("法人番号", strlen("法人番号"), 0) == NULL, "keyword_in: 法人番号 is not personal");
		is_str(spif_keyword_in("法人番号", strlen("法人番号"), 1), "法人番号", "keyword_in: ... but corporate");
	}

	/* --- corporate ----------------------------------------------------- */
	{
		struct spif_detect_opts co = {.corporate = 1};
		none("5835678256246", "13-digit 法人番号 without corporate");
		struct got g = run("5835678256246", &co);
		ok(g.n == 1 && g.f[0].corporate && g.f[0].form == SPIF_FORM_PLAIN, "13-digit 法人番号 with corporate");
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_LOW, "... low without keyword");
		g = run("法人番号：5-8356-7825-6246", &co);
		ok(g.n == 1 && g.f[0].corporate && g.f[0].form == SPIF_FORM_GROUPED, "1-4-4-4 with corporate");
		ok(g.n == 1 && g.f[0].end - g.f[0].start == 16, "... covering all 13 digits and 3 separators");
		is_str(g.n == 1 && g.f[0].keyword ? g.f[0].keyword : "", "法人番号", "法人番号 is its keyword");
		g = run("corporate number 7123456789012", &co);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "corporate number (English) -> high");
		g = run("個人番号 7123456789012", &co);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_LOW, "個人番号 is not a 法人番号 keyword");
		g = run("2835678256246", &co);
		is_int(g.n, 0, "an invalid 法人番号");
		g = run("0123456789012", &co);
		is_int(g.n, 0, "a 法人番号 never starts with 0");
		g = run("621498320257 と ５８３５６７８２５６２４６", &co);
		ok(g.n == 2 && !g.f[0].corporate && g.f[1].corporate && g.f[1].form == SPIF_FORM_FULLWIDTH,
		   "personal and corporate in one text");
		g = run("58356782562461", &co);
		is_int(g.n, 0, "14 digits: neither");
	}

	/* --- masking ------------------------------------------------------- */
	{
		char s[] = "番号：６２１４－9832－０２５７です";
		size_t n0 = strlen(s);
		struct got g = run(s, NULL);
		ok(g.n == 1, "a mixed number to mask");
		if (g.n == 1) {
			spif_mask_span(s, g.f[0].start, g.f[0].end);
			is_str(s, "番号：＊＊＊＊－****－＊＊＊＊です", "masked: digits starred, separators kept");
			is_int(strlen(s), n0, "same byte length");
			is_int(run(s, NULL).n, 0, "nothing left to find");
		}
		char t[] = "a 6214 9832 0257 b";
		spif_mask_span(t, 2, 16);
		is_str(t, "a **** **** **** b", "spaces kept");
		char u[] = "621498320257";
		spif_mask_span(u, 0, 6);
		is_str(u, "******320257", "only [start, end) is touched");
	}

	/* --- has_digit ----------------------------------------------------- */
	{
		ok(!spif_has_digit("", 0), "has_digit: empty");
		ok(!spif_has_digit("abcdef", 6), "has_digit: letters");
		ok(!spif_has_digit("あいう（）：ＡＢＣ", strlen("あいう（）：ＡＢＣ")), "has_digit: full-width non-digits");
		ok(spif_has_digit("abc7", 4), "has_digit: ASCII digit");
		ok(spif_has_digit("ab０", 5), "has_digit: full-width digit");
		ok(!spif_has_digit("ab\xEF\xBC", 4), "has_digit: a cut full-width lead at the end");
		char *s = build("", "あ（ｘ", 40, "９");
		ok(spif_has_digit(s, strlen(s)), "has_digit: a full-width digit after 40 blocks");
		ok(!spif_has_digit(s, strlen(s) - 3), "has_digit: ... not when cut before it");
		free(s);
		s = build("", "x", 100, "");
		for (int k = 0; k < 100; k++) {
			s[k] = '5';
			if (!spif_has_digit(s, 100) || spif_has_digit(s, (size_t)k))
				break;
			s[k] = 'x';
			if (k == 99)
				ok(1, "has_digit: a digit found at every position of 100, never before it");
		}
		free(s);
	}

	/* --- every length and position (the quick filters' edges) ----------- */
	{
		int bad = 0;
		for (int pad = 0; pad <= 80; pad++) {
			char *s = build("", "x", pad, "621498320257");
			char *t = build("621498320257", "x", pad, "");
			char *u = build("", "あ", pad, "６２１４９８３２０２５７");
			char *v = build("６２１４－９８３２－０２５７", "（", pad, "");
			bad += run(s, NULL).n != 1 || run(t, NULL).n != 1 || run(u, NULL).n != 1 || run(v, NULL).n != 1;
			s[strlen(s) - 1] = 'x'; /* 11 digits: none */
			bad += run(s, NULL).n != 0;
			free(s), free(t), free(u), free(v);
		}
		is_int(bad, 0, "a number is found at the start and end of texts of every length up to 116 bytes");
	}

	/* --- a number not found is not hidden by other text ----------------- */
	{
		char *s = build("", "前職分を含む、", 50, "個人番号621498320257を含む");
		struct got g = run(s, NULL);
		ok(g.n == 1 && g.f[0].confidence == SPIF_CONF_HIGH, "number after 350 characters of text");
		free(s);
	}

	/* --- robustness: random bytes (run under ASan/UBSan) ---------------- */
	{
		static const char *const bits[] = {"1", "2", "0", "６", "９", "-", " ", "－", "ー", "．",
			"　", "個人番号", "マイナンバー", "\xEF", "\xEF\xBC", "\x80", "a", "あ", "mY nUmBeR", ".",
			"621498320257", "6214-9832-0257", "６２１４９８３２０２５７", "123456789018", "6214 9832",
			"5835678256246", "5-8356-7825-6246", "、", "法人番号", "\xC2\xA0", "/", ",", "\n", "\r\n",
			"・", "_", "\xE2\x80\x89", "\xEF\xBD\xB0", "1 2 3 4", "62 14 98", " - ", "--"};
		unsigned seed = 12345;
		int bad = 0;
		long total = 0;
		for (int t = 0; t < 3000; t++) {
			char buf[512], pre[64], post[64];
			size_t n = 0, np = 0, nq = 0;
			while (n < 400) {
				seed = seed * 1103515245u + 12345u;
				const char *b = bits[(seed >> 16) % (sizeof bits / sizeof bits[0])];
				size_t l = strlen(b);
				memcpy(buf + n, b, l);
				n += l;
			}
			for (np = 0; np < 40; np++) {
				seed = seed * 1103515245u + 12345u;
				pre[np] = "1-マ\xE3"[(seed >> 16) % 6];
			}
			for (nq = 0; nq < 40; nq++) {
				seed = seed * 1103515245u + 12345u;
				post[nq] = "2 ー\xEF"[(seed >> 16) % 6];
			}
			struct got g;
			memset(&g, 0, sizeof g);
			struct spif_detect_opts o = {.corporate = t & 1};
			spif_detect_ctx(pre, np, buf, n, post, nq, &o, collect, &g);
			total += g.n;
			for (int k = 0; k < g.n && k < MAXF; k++) {
				if (g.f[k].end > n || g.f[k].start >= g.f[k].end || (k && g.f[k].start < g.f[k - 1].end))
					bad++;
				/* 12 (13) digits, starting and ending with one, no digit
				 * on either side; masked, none is left in the span */
				char copy[512];
				memcpy(copy, buf, n);
				spif_mask_span(copy, g.f[k].start, g.f[k].end);
				int digits = 0;
				for (size_t b = g.f[k].start; b < g.f[k].end; b++)
					digits += digit_here(buf, g.f[k].end, b);
				if (digits != (g.f[k].corporate ? 13 : 12) || spif_has_digit(copy + g.f[k].start,
				                                                            g.f[k].end - g.f[k].start))
					bad++;
				if (!digit_here(buf, n, g.f[k].start) || !digit_ends(buf, g.f[k].end))
					bad++; /* starts and ends with a digit */
				if (digit_ends(buf, g.f[k].start) || digit_here(buf, n, g.f[k].end))
					bad++; /* no digit touches it */
				if (g.f[k].keyword && strpbrk(g.f[k].keyword, "0123456789"))
					bad++; /* a finding carries offsets and a static keyword, never digits */
			}
		}
		is_int(bad, 0, "random texts: findings in range, ordered, masking removes each (%ld found)", total);
		ok(total > 1000, "... and the random texts did hold numbers (%ld)", total);
	}

	/* --- failing closed: whatever the detector finds, masking removes --- */
	{
		static const char *const bits[] = {"1", "2", "0", "７", "-", " ", "－", "ー", "．", "　", "/", ",",
			"\n", "\xC2\xA0", "_", "・", "個人番号", "x", "あ", "--", " - ", "6214-9832-0257",
			"123456789018", "6 2 1 4", "9 8 3 2", "0 2 5 7", "5-8356-7825-6246", "5835678256246", "、"};
		unsigned seed = 777;
		int bad = 0;
		long total = 0;
		for (int t = 0; t < 3000; t++) {
			char buf[600];
			size_t n = 0;
			while (n < 300) {
				seed = seed * 1103515245u + 12345u;
				const char *b = bits[(seed >> 16) % (sizeof bits / sizeof bits[0])];
				memcpy(buf + n, b, strlen(b));
				n += strlen(b);
			}
			buf[n] = '\0';
			struct spif_detect_opts co = {.corporate = 1};
			total += run(buf, NULL).n + run(buf, &co).n;
			int has = spif_text_has_number(buf), valid = 0;
			struct got g = run(buf, NULL);
			for (int k = 0; k < g.n && k < MAXF; k++)
				valid |= !g.f[k].corporate;
			if (valid && !has)
				bad++; /* a path holding what the detector finds is refused */
			spif_mask_numbers(buf);
			if (run(buf, NULL).n || run(buf, &co).n || spif_text_has_number(buf))
				bad++;
		}
		is_int(bad, 0, "random texts: after spif_mask_numbers the detector finds nothing (%ld before)", total);
		ok(total > 1000, "... and they did hold numbers (%ld)", total);
	}

	return tap_done();
}
