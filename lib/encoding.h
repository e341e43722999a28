/* encoding.h - byte-level helpers behind io.c and csv.c: strict UTF-8 scanning,
 * the choice of encoding for --encoding auto, and the table of CP932/EUC-JP
 * byte sequences that do not survive a decode + encode round trip.
 *
 * Internal to libspif: commands use record.h. */
#ifndef SPIF_ENCODING_H
#define SPIF_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* Why spif_utf8_scan stopped. */
enum spif_u8stop {
	SPIF_U8_END = 0, /* every byte was valid */
	SPIF_U8_TRUNC,   /* the bytes end inside a character that may still be valid */
	SPIF_U8_BAD,     /* a byte sequence that is not UTF-8 */
	SPIF_U8_NUL,     /* a NUL byte (valid UTF-8, but never valid input) */
};

/* Strict UTF-8 scan of s[0..n): no overlongs, no surrogates, nothing above
 * U+10FFFF.  Stops at the first NUL or bad sequence; returns the length of
 * the good prefix and sets *why. */
size_t spif_utf8_scan(const unsigned char *s, size_t n, enum spif_u8stop *why);

/* Length of the ASCII prefix of s[0..n) that holds no NUL. */
size_t spif_ascii_prefix(const unsigned char *s, size_t n);

/* Decode the character at s (n > 0 bytes, assumed valid UTF-8); sets *cp and
 * returns its length (1 with *cp = the byte if it is not valid). */
size_t spif_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* The iconv(3) name for CP932 / EUC-JP, NULL for the UTF-8 family. */
const char *spif_enc_iconv_name(enum spif_enc e);

/* --encoding auto: s[0..n) starts at the first byte that is not ASCII;
 * complete says n reaches the end of the input (otherwise a character cut
 * at the end is not held against an encoding).  UTF-8 if valid; else
 * CP932 or EUC-JP by validity, EUC-JP when both are valid and the CP932
 * reading would be mostly half-width katakana.  When nothing is valid all
 * the way, the encoding whose valid prefix is longest wins, UTF-8 on a tie,
 * so that the error names the encoding the file was most likely written
 * in (a CP932 file with one corrupt byte gets "not valid CP932" at that
 * byte, garbage gets "not valid UTF-8").  Returns SPIF_ENC_AUTO only if
 * iconv cannot be opened. */
enum spif_enc spif_enc_guess(const unsigned char *s, size_t n, int complete);

/* Byte sequences of CP932 or EUC-JP that decode to a character which
 * encodes back to other bytes (NEC-selected IBM extensions, NEC row 13
 * duplicates): one bit per two-byte sequence, and one per EUC-JP
 * three-byte sequence 8F xx yy. */
struct spif_lossy {
	enum spif_enc enc;
	unsigned char two[65536 / 8];
	unsigned char three[65536 / 8];
};

/* Build the table from the C library's own conversion tables.
 * 0, or -1 with errno set if iconv cannot be opened. */
int spif_lossy_build(struct spif_lossy *t, enum spif_enc enc);

/* Count the characters in s[0..n) (whole characters, already decoded
 * without error) that are in the table; *first is set to the offset of the
 * first one when the count is not zero. */
size_t spif_lossy_scan(const struct spif_lossy *t, const unsigned char *s, size_t n,
                       size_t *first);

#endif
