/* text.c - see text.h */
#include "text.h"

int spif_text_columns(const char *s)
{
	int w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x80)
			w++;
		else if (*p >= 0xE0)
			w += 2; /* lead byte of a 3- or 4-byte sequence */
		else if (*p >= 0xC0)
			w++; /* 2-byte sequences: Latin, Greek, Cyrillic */
	return w;
}

void spif_text_pad(FILE *f, const char *s, int width)
{
	fputs(s, f);
	for (int w = spif_text_columns(s); w < width; w++)
		fputc(' ', f);
}
