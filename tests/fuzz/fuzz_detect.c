/* fuzz_detect.c - the detector (detect.h), as spif redact calls it on a
 * field's value.
 *
 * Input: an option byte (bit 0: corporate, bit 1: the text is a number
 * field, bit 2: give a field name, bits 4-5: the form the planted number
 * is written in), 11 bytes that make an Individual Number (each byte mod
 * 10 is a digit; the 12th is the check digit, mynumber.h), two bytes that
 * pick the ASCII letters around it, two that pick where in the text the
 * number goes, four that pick a window (below), with bit 2 a byte giving
 * the field name's length and the name, then the text.  Text that is not
 * UTF-8 is made UTF-8 first (a reader lets nothing else through).
 *
 * Properties:
 *  - the number, written plainly (12 ASCII digits) between two ASCII
 *    letters, is found: a finding covers exactly its 12 digits, form
 *    plain, not corporate; written 4-4-4 with one of the separators
 *    detect.h lists, or in full-width digits, it is found with exactly
 *    its span too;
 *  - every finding lies inside the text, after the previous one, starts
 *    and ends on a digit with no digit just outside it, holds a number
 *    with a valid check digit (spif_number_view / the mynumber.h checks)
 *    of 12 digits (13 with corporate), counts its characters right, and
 *    is high confidence when the text is a number field;
 *  - text with no digit has no finding; masking every finding
 *    (spif_mask_span) leaves no digit inside them and keeps the length;
 *  - a window of the text, its ends moved out of any run of digits and
 *    separators as spif redact --format text moves its cuts, searched with
 *    spif_detect_ctx and the text before and after as context, gives
 *    exactly the findings the whole text gives inside it: same spans,
 *    forms, confidence and keyword. */
#include "fuzz.h"

#include "detect.h"
#include "mynumber.h"
#include "numview.h"

struct found {
	struct spif_finding f[64];
	size_t n, total;
};

static int collect(void *ctx, const struct spif_finding *f)
{
	struct found *d = ctx;
	if (d->n < sizeof d->f / sizeof *d->f)
		d->f[d->n++] = *f;
	d->total++;
	return 0;
}

static size_t chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* A digit (ASCII or full-width) ends / starts at s[i]? */
static int digit_before(const char *s, size_t i)
{
	const unsigned char *u = (const unsigned char *)s;
	if (i >= 1 && u[i - 1] >= '0' && u[i - 1] <= '9')
		return 1;
	return i >= 3 && u[i - 3] == 0xEF && u[i - 2] == 0xBC && u[i - 1] >= 0x90 && u[i - 1] <= 0x99;
}

static int digit_at(const char *s, size_t n, size_t i)
{
	const unsigned char *u = (const unsigned char *)s;
	if (i < n && u[i] >= '0' && u[i] <= '9')
		return 1;
	return i + 3 <= n && u[i] == 0xEF && u[i + 1] == 0xBC && u[i + 2] >= 0x90 && u[i + 2] <= 0x99;
}

static void check_findings(const char *t, size_t n, const struct spif_detect_opts *o, const struct found *d)
{
	size_t prev_end = 0;
	if (!spif_has_digit(t, n))
		FZ_CHECK(d->total == 0, "findings in a text with no digit");
	for (size_t k = 0; k < d->n; k++) {
		const struct spif_finding *f = &d->f[k];
		FZ_CHECK(f->start < f->end && f->end <= n, "finding %zu: span outside the text", k);
		FZ_CHECK(f->start >= prev_end, "finding %zu: overlaps or comes before the one before", k);
		prev_end = f->end;
		FZ_CHECK(digit_at(t, n, f->start) && digit_before(t, f->end), "finding %zu: does not start and end on a digit",
		         k);
		FZ_CHECK(!digit_before(t, f->start) && !digit_at(t, n, f->end), "finding %zu: a digit just outside it", k);
		FZ_CHECK(f->char_offset == chars(t, f->start), "finding %zu: character offset", k);
		/* the digits of the finding, whatever separators the detector
		 * allowed between them (a number field's view is stricter) */
		char view[14];
		int nd = 0;
		for (size_t i = f->start; i < f->end && nd <= 13;) {
			int dv;
			size_t l = spif_nv_digit((const unsigned char *)t, f->end, i, &dv);
			if (l && nd < 13)
				view[nd] = (char)('0' + dv);
			nd += l != 0;
			i += l ? l : 1;
		}
		view[nd < 13 ? nd : 13] = '\0';
		FZ_CHECK(nd == (f->corporate ? 13 : 12), "finding %zu: %d digits in its normalised view", k, nd);
		FZ_CHECK(f->corporate ? o->corporate && spif_corpnum_valid(view, 13) : spif_mynumber_valid(view, 12),
		         "finding %zu: not a valid number", k);
		if (o->number_field)
			FZ_CHECK(f->confidence == SPIF_CONF_HIGH, "finding %zu: low in a number field", k);
	}
}

/* A digit or a separator starts at s[i]: the text reader's window rule. */
static int number_char(const char *s, size_t n, size_t i)
{
	return spif_nv_number_char(s, n, i);
}

/* A character boundary at or before i, out of any digit run. */
static size_t safe_cut(const char *s, size_t n, size_t i)
{
	while (i > 0 && i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	while (i > 0 && number_char(s, n, i)) {
		size_t back = i - 1;
		while (back > 0 && ((unsigned char)s[back] & 0xC0) == 0x80)
			back--;
		if (!number_char(s, n, back))
			break;
		i = back;
	}
	return i;
}

static void check_window(const char *t, size_t n, const struct spif_detect_opts *o, const struct found *whole,
                         unsigned wa, unsigned wb)
{
	if (whole->total > whole->n)
		return;
	size_t a = safe_cut(t, n, wa % (n + 1)), b = wb % (n + 1);
	b = safe_cut(t, n, a + b % (n - a + 1));
	if (b < a)
		b = a;
	struct found w = {0};
	spif_detect_ctx(t, a, t + a, b - a, t + b, n - b, o, collect, &w);
	size_t k = 0, ca = chars(t, a);
	for (size_t i = 0; i < whole->n; i++) {
		const struct spif_finding *f = &whole->f[i];
		if (f->start < a || f->end > b)
			continue;
		FZ_CHECK(k < w.n, "the window [%zu, %zu) misses the finding at %zu", a, b, f->start);
		const struct spif_finding *g = &w.f[k++];
		FZ_CHECK(g->start + a == f->start && g->end + a == f->end, "the window [%zu, %zu): a finding at %zu, not %zu",
		         a, b, g->start + a, f->start);
		FZ_CHECK(g->char_offset + ca == f->char_offset, "the window: character offset");
		FZ_CHECK(g->form == f->form && g->corporate == f->corporate, "the window: form");
		FZ_CHECK(g->confidence == f->confidence, "the window [%zu, %zu): confidence %d at %zu, %d in the whole text",
		         a, b, (int)g->confidence, f->start, (int)f->confidence);
		FZ_CHECK(!g->keyword == !f->keyword && (!g->keyword || strcmp(g->keyword, f->keyword) == 0),
		         "the window: keyword");
	}
	FZ_CHECK(k == w.n, "the window [%zu, %zu) has %zu findings, the whole text %zu there", a, b, w.n, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = {data, size};
	unsigned opt = fz_u8(&z);
	char d[13];
	for (int i = 0; i < 11; i++)
		d[i] = (char)('0' + fz_u8(&z) % 10);
	d[11] = (char)('0' + spif_mynumber_check_digit(d));
	d[12] = '\0';
	static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char l1 = letters[fz_u8(&z) % 52], l2 = letters[fz_u8(&z) % 52];
	unsigned cut = fz_u16(&z), wa = fz_u16(&z), wb = fz_u16(&z);
	struct spif_detect_opts o = {.corporate = opt & 1, .number_field = (opt >> 1) & 1};
	char name[64] = "";
	if (opt & 4) {
		size_t k;
		const uint8_t *p = fz_take(&z, fz_u8(&z) % 32, &k);
		struct fz_buf nb = {0};
		fz_utf8_clean(&nb, p, k);
		snprintf(name, sizeof name, "%s", nb.p ? (char *)nb.p : "");
		fz_buf_free(&nb);
		o.field_name = name;
	}
	struct fz_buf text = {0};
	fz_utf8_clean(&text, z.p, z.n);
	size_t at = text.n ? cut % (text.n + 1) : 0;
	while (at > 0 && at < text.n && (text.p[at] & 0xC0) == 0x80)
		at--; /* not inside a character */

	/* the number as written */
	static const char *const seps[] = {"-", ".", " ", "\xE2\x80\x90", "\xE2\x88\x92", "\xEF\xBC\x8D",
	                                   "\xE3\x83\xBC", "\xEF\xBC\x8E", "\xE3\x80\x80"};
	struct fz_buf num = {0};
	switch (opt >> 4 & 3) {
	case 0:
	case 3:
		fz_buf_add(&num, d, 12);
		break;
	case 1: { /* 4-4-4 */
		const char *s = seps[(opt >> 6) % (sizeof seps / sizeof *seps)];
		fz_buf_add(&num, d, 4);
		fz_buf_add(&num, s, strlen(s));
		fz_buf_add(&num, d + 4, 4);
		fz_buf_add(&num, s, strlen(s));
		fz_buf_add(&num, d + 8, 4);
		break;
	}
	case 2: /* full-width */
		for (int i = 0; i < 12; i++)
			fz_buf_add(&num, (char[3]){'\xEF', '\xBC', (char)(0x90 + d[i] - '0')}, 3);
		break;
	}
	struct fz_buf t = {0};
	fz_buf_add(&t, text.p, at);
	fz_buf_add(&t, &l1, 1);
	size_t start = t.n;
	fz_buf_add(&t, num.p, num.n);
	size_t end = t.n;
	fz_buf_add(&t, &l2, 1);
	fz_buf_add(&t, text.p + at, text.n - at);

	struct found f = {0};
	spif_detect((const char *)t.p, t.n, &o, collect, &f);
	check_findings((const char *)t.p, t.n, &o, &f);
	int hit = 0;
	for (size_t k = 0; k < f.n; k++)
		if (f.f[k].start == start && f.f[k].end == end && !f.f[k].corporate)
			hit = 1;
	FZ_CHECK(hit || f.n < f.total, "the number written %s between two letters is not found",
	         (opt >> 4 & 3) == 1 ? "4-4-4" : (opt >> 4 & 3) == 2 ? "in full-width digits" : "plainly");
	for (size_t k = 0; k < f.n; k++)
		if (f.f[k].start == start && (opt >> 4 & 3) % 3 == 0)
			FZ_CHECK(f.f[k].form == SPIF_FORM_PLAIN, "12 ASCII digits found as form %s", spif_form_name(f.f[k].form));

	check_window((const char *)t.p, t.n, &o, &f, wa, wb);

	/* the same text masked: no digit left where the findings were */
	for (size_t k = 0; k < f.n; k++)
		spif_mask_span((char *)t.p, f.f[k].start, f.f[k].end);
	FZ_CHECK(strlen((char *)t.p) == t.n, "masking changed the length");
	for (size_t k = 0; k < f.n; k++)
		for (size_t i = f.f[k].start; i < f.f[k].end; i++)
			FZ_CHECK(!digit_at((const char *)t.p, t.n, i), "a digit left in masked finding %zu", k);

	fz_buf_free(&text);
	fz_buf_free(&num);
	fz_buf_free(&t);
	return 0;
}
