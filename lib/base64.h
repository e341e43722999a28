/* base64.h - standard base64 (RFC 4648 section 4, with padding), strict
 * on the way in: every character, the padding and the bits the padding
 * leaves over are checked, so one value has one encoding.  Used for the
 * ENC[...] field tokens, signed notes and checkpoints. */
#ifndef SPIF_BASE64_H
#define SPIF_BASE64_H

#include <stddef.h>

/* The encoded length of n bytes (no NUL). */
#define SPIF_B64_LEN(n) (((n) + 2) / 3 * 4)

/* Encode n bytes at in to out (SPIF_B64_LEN(n) chars, no NUL); returns
 * the end. */
char *spif_b64_encode(const unsigned char *in, size_t n, char *out);
/* The decoded length of the len chars at s when they are strict base64,
 * else (size_t)-1. */
size_t spif_b64_check(const char *s, size_t len);
/* Decode len chars that spif_b64_check accepted into out. */
void spif_b64_decode(const char *s, size_t len, unsigned char *out);

#endif
