/* base64.c - see base64.h. */
#include <stdint.h>

#include "base64.h"

static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for the alphabet, -1 otherwise. */
static const signed char b64_val[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Encode n bytes at in to out (4 * ceil(n / 3) chars, no NUL); returns
 * the end. */
char *spif_b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64_alpha[v >> 18];
		*out++ = b64_alpha[(v >> 12) & 63];
		*out++ = b64_alpha[(v >> 6) & 63];
		*out++ = b64_alpha[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*out++ = b64_alpha[v >> 18];
		*out++ = b64_alpha[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = b64_alpha[v >> 18];
		*out++ = b64_alpha[(v >> 12) & 63];
		*out++ = b64_alpha[(v >> 6) & 63];
		*out++ = '=';
	}
	return out;
}

/* The decoded length of the len chars at s when they are strict base64,
 * else (size_t)-1.  Checks every character, the padding and that the
 * bits the padding leaves over are zero. */
size_t spif_b64_check(const char *s, size_t len)
{
	if (len % 4)
		return (size_t)-1;
	if (len == 0)
		return 0;
	size_t pad = s[len - 1] == '=' ? s[len - 2] == '=' ? 2 : 1 : 0;
	for (size_t i = 0; i < len - pad; i++)
		if (b64_val[(unsigned char)s[i]] < 0)
			return (size_t)-1;
	if (pad == 2 && (b64_val[(unsigned char)s[len - 3]] & 15))
		return (size_t)-1;
	if (pad == 1 && (b64_val[(unsigned char)s[len - 2]] & 3))
		return (size_t)-1;
	return len / 4 * 3 - pad;
}

/* Decode len chars of checked base64 (spif_b64_check passed) into out. */
void spif_b64_decode(const char *s, size_t len, unsigned char *out)
{
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = (uint32_t)b64_val[(unsigned char)s[i]] << 18
			| (uint32_t)b64_val[(unsigned char)s[i + 1]] << 12;
		*out++ = (unsigned char)(v >> 16);
		if (s[i + 2] == '=')
			break;
		v |= (uint32_t)b64_val[(unsigned char)s[i + 2]] << 6;
		*out++ = (unsigned char)(v >> 8);
		if (s[i + 3] == '=')
			break;
		v |= (uint32_t)b64_val[(unsigned char)s[i + 3]];
		*out++ = (unsigned char)v;
	}
}
