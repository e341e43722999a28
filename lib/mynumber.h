/* mynumber.h - Individual Numbers (個人番号, 12 digits) and Corporate
 * Numbers (法人番号, 13 digits): check digits, and the normalising view used
 * for matching.  The view is for matching only: spif never rewrites a value
 * into it.
 *
 * 個人番号: the last digit checks the first 11, weights 6,5,4,3,2,7,6,5,4,3,2
 * left to right, r = sum mod 11, check = 0 if r <= 1 else 11 - r.
 * 法人番号: the first digit checks the 12 after it, weights 1,2 alternating
 * from the right, check = 9 - (sum mod 9). */
#ifndef SPIF_MYNUMBER_H
#define SPIF_MYNUMBER_H

#include <stddef.h>
#include <stdint.h>

/* d: 11 ASCII digits.  The check digit 0..9, or -1 if d is not digits. */
int spif_mynumber_check_digit(const char *d);
/* s: exactly 12 ASCII digits with a matching check digit -> 1, else 0. */
int spif_mynumber_valid(const char *s, size_t n);
/* d: the 12-digit base.  The check digit 1..9, or -1. */
int spif_corpnum_check_digit(const char *d);
/* s: exactly 13 ASCII digits whose first digit checks the rest -> 1, else 0. */
int spif_corpnum_valid(const char *s, size_t n);

/* The normalising view of one whole value (UTF-8): digits are numview.h's
 * (ASCII and full-width ０-９); between digit groups its JOIN separators
 * (dashes and hyphens such as - ‐ − － ー, dots and 中黒, spaces of every
 * width, underscores, invisible ones) are skipped, but only where they
 * split a 12-digit number 4-4-4 or a 13-digit one 1-4-4-4; leading and
 * trailing spaces are ignored.  On success the digits are written to
 * out (NUL-terminated, at most 13 + 1 bytes) and their count returned; if
 * the value holds anything else (letters, a LIST separator such as a comma
 * or a slash, a separator elsewhere, more than 13 digits) -1 is returned.
 * An empty value gives 0. */
int spif_number_view(const char *s, size_t n, char out[14]);

/* What a value in a number field is. */
enum spif_numval {
	SPIF_NUM_EMPTY = 0,     /* empty or only spaces: fine */
	SPIF_NUM_PERSONAL,      /* a valid 12-digit 個人番号 */
	SPIF_NUM_CORPORATE,     /* a valid 13-digit 法人番号 */
	SPIF_NUM_BAD_CHECK,     /* 12 (or 13) digits, wrong check digit */
	SPIF_NUM_BAD_LENGTH,    /* digits, but not 12 (or 13) of them */
	SPIF_NUM_NOT_DIGITS,    /* letters or other characters */
};
/* Classify a number-field value.  corporate_ok: 13-digit corporate numbers
 * are accepted (a field such as 提出義務者の個人番号又は法人番号).  When the
 * result is PERSONAL and key is not NULL, *key is the number as an integer
 * (for counting distinct persons in memory; it never leaves the process). */
enum spif_numval spif_number_classify(const char *s, size_t n, int corporate_ok, uint64_t *key);
/* A short English phrase for a non-fine classification, e.g. "check digit
 * does not match"; never contains the value. */
const char *spif_numval_reason(enum spif_numval v);

/* Mask, in place, every run of digits in a UTF-8 string that may be a
 * number: whatever the detector (detect.h) finds with fail_closed - every
 * form it knows, with or without a keyword, valid numbers split by any of
 * numview.h's separators in any grouping, and every group of 12 or more
 * digits and every 4-4-4 (1-4-4-4) split by JOIN separators (dashes,
 * dots, spaces ...) whatever its check digit.  Each ASCII
 * digit becomes '*' and each full-width digit '＊' (same byte length, same
 * width); separators stay.  Used for labels, purposes, command lines in the
 * audit log and anything else that might echo user input.  Returns how
 * many runs it masked. */
int spif_mask_numbers(char *s);

/* Does s hold a valid 12-digit number in any form the detector knows
 * (fail_closed, as spif_mask_numbers: 621498320257, 6214-9832-0257,
 * １２３４_５６７８_９０１８, 123456/789018 ...)?  For names spif must store,
 * such as paths: it cannot tell an Individual Number from a timestamp that
 * happens to pass the checksum, so a caller refuses and asks for a rename.
 * A group of 13 digits or more is none (a timestamp, a 法人番号). */
int spif_text_has_number(const char *s);

/* Does a column name say it holds Individual Numbers?  It does when it
 * ends in 個人番号, 個人識別番号, 共通番号, マイナンバー, ﾏｲﾅﾝﾊﾞｰ, my number,
 * kojin bango or individual number (the ASCII ones in any case, written
 * with a space, _, - or nothing between the words), so that 扶養親族1_個人番号
 * and EmployeeMyNumber count; digits, spaces, _ - . :, a bracketed note,
 * 番号, 欄 or 又は法人番号 may follow (個人番号（本人）, マイナンバー番号,
 * 提出義務者の個人番号又は法人番号).  A name where anything else follows is
 * about something else: 個人番号カード交付日 (a date), 個人番号確認済 (a flag),
 * 通知カード番号 and マイナンバーカード番号 are not number fields. */
int spif_is_number_field_name(const char *name);
/* Does it also allow a 13-digit 法人番号 (the name contains 法人番号)? */
int spif_number_field_allows_corporate(const char *name);

#endif
