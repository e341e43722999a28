/* text.h - laying out UTF-8 text for people: columns on a terminal or a
 * printed page, where kanji and kana take two. */
#ifndef SPIF_TEXT_H
#define SPIF_TEXT_H

#include <stdio.h>

/* Display columns of a UTF-8 string: 2 for CJK, kana and full-width forms
 * (3- and 4-byte sequences), 1 otherwise. */
int spif_text_columns(const char *s);
/* Print s and pad it with spaces to width columns (nothing when wider). */
void spif_text_pad(FILE *f, const char *s, int width);

#endif
