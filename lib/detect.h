/* detect.h - finding Individual Numbers (and, on request, Corporate
 * Numbers) in text, with a confidence, for redaction, and every form that
 * may be one, for masking names and logs (fail_closed).
 *
 * A finding is 12 digits, ASCII or full-width (０-９) or a mix, with a
 * valid check digit, written in one of the forms people type; the
 * character before and after must not be a digit (half- or full-width),
 * but anything else, kanji included, may touch it (個人番号621498320257 is
 * found).  Which characters are digits and separators: numview.h.  With
 * corporate on, 13-digit 法人番号 (plain or 1-4-4-4) too.
 *
 * Forms, and their confidence (a keyword - マイナンバー, 個人番号, 共通番号,
 * 個人番号カード, 通知カード, 個人識別番号, my number, ... see detect.c -
 * within 300 characters before or after the number, or the text being a
 * number field, makes any finding high):
 *   12 digits in a row                                      high / low
 *   4-4-4, 3-3-3-3 or 6-6 with one separator of a JOIN kind (dashes,
 *   dots, 中黒, spaces of every width, underscores, invisible ones)
 *   between the groups, the same or different ones           high / low
 *   the same shapes with a LIST separator among them (slashes, commas,
 *   、, tab, a line break)                                   high / none
 *   any other grouping (2-2-2-2-2-2, 8-4, one digit at a time ...),
 *   or groups split by two or three separators (6214 - 9832 - 0257,
 *   6214--9832--0257, a CR LF and an indent), when the run of groups
 *   holds exactly 12 digits                                  high / none
 * ("none": without a keyword it is no finding, because values in lists,
 * tables, dates and times pass the checksum one time in ten too.)  A 4-4-4
 * (3-3-3-3, 6-6) that is part of a longer run of groups of that length
 * joined the same way, such as a card number, is no finding.  Offsets are in
 * bytes of the UTF-8 text (and characters, for reports).  Nothing here
 * keeps or returns the digits. */
#ifndef SPIF_DETECT_H
#define SPIF_DETECT_H

#include <stddef.h>

enum spif_form {
	SPIF_FORM_PLAIN = 0,   /* 12 (13) ASCII digits in a row */
	SPIF_FORM_GROUPED,     /* ASCII digits with separators (4-4-4, 1-4-4-4, or any other grouping) */
	SPIF_FORM_FULLWIDTH,   /* full-width digits, no separators */
	SPIF_FORM_MIXED,       /* full-width with separators, or half and full mixed */
};
const char *spif_form_name(enum spif_form f); /* "plain", "grouped", "fullwidth", "mixed" */

enum spif_conf_level { SPIF_CONF_LOW = 0, SPIF_CONF_HIGH = 1 };

struct spif_finding {
	size_t start, end;         /* byte offsets in the text: [start, end) covers the digits and
	                              the separators between them, nothing around */
	size_t char_offset;        /* start, counted in characters */
	enum spif_form form;
	int corporate;             /* a 13-digit 法人番号 */
	int valid;                 /* its check digit holds: always, except with fail_closed */
	enum spif_conf_level confidence;
	const char *keyword;       /* the keyword that made it high (static string), or NULL */
};

struct spif_detect_opts {
	int corporate;             /* also find 法人番号 */
	int number_field;          /* the text is a number field: every finding is high */
	const char *field_name;    /* NULL, or the name of the field the text is (NUL-terminated):
	                              a keyword in it (a column named マイナンバーカード番号) is
	                              context for every number in the text, as one nearby is */
	int fail_closed;           /* for masking names and logs: every form that may be a number,
	                              with no keyword needed and no neighbour rule; every group
	                              of 12 digits or more and every 4-4-4 and 1-4-4-4 with JOIN
	                              separators whatever its check digit (valid 0).  Findings may overlap and come out of
	                              order; keyword NULL, confidence low, char_offset 0; pre and
	                              post are not looked at */
};

/* Call fn for each finding in text[0, n), in order; stops early when fn
 * returns non-zero (and returns that).  Returns 0 otherwise.  text is UTF-8
 * and need not be NUL-terminated.  O(n) time, no allocation. */
int spif_detect(const char *text, size_t n, const struct spif_detect_opts *o,
                int (*fn)(void *ctx, const struct spif_finding *f), void *ctx);

/* The same with context that lies outside text: up to 300 characters
 * before (pre) and after (post) it are searched for keywords but never for
 * numbers.  For streams cut into windows (spif redact --format text). */
int spif_detect_ctx(const char *pre, size_t npre, const char *text, size_t n, const char *post,
                    size_t npost, const struct spif_detect_opts *o,
                    int (*fn)(void *ctx, const struct spif_finding *f), void *ctx);

/* The first keyword for an Individual Number (for a Corporate Number when
 * corporate) that s[0, n) holds, as a static string, or NULL. */
const char *spif_keyword_in(const char *s, size_t n, int corporate);

/* Mask [start, end) of s in place: ASCII digits become '*', full-width
 * digits '＊' (same byte length); separators stay, so widths hold
 * (spif_nv_star). */
void spif_mask_span(char *s, size_t start, size_t end);

/* Does s[0, n) hold a digit (ASCII or full-width)?  A fast pre-check. */
int spif_has_digit(const char *s, size_t n);

#endif
