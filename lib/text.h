/* text.h - laying out UTF-8 text for people: columns on a terminal or a
 * printed page, where kanji and kana take two. */
#ifndef SPIF_TEXT_H
#define SPIF_TEXT_H

#include <stdio.h>

/* Display columns of a UTF-8 string by East Asian Width (UAX #11), as a
 * terminal lays it out: 2 for kanji, kana and full-width forms (and 外字 in
 * the private use area), 1 for ASCII, half-width katakana (U+FF61-FF9F: 3
 * bytes, one column) and ambiguous-width characters, 0 for combining marks
 * and variation selectors.  A byte that is not valid UTF-8 counts 1. */
int spif_text_columns(const char *s);
/* The columns of one code point by the same rule. */
int spif_text_codepoint_columns(unsigned cp);
/* s with every control character shown as an escape (\n, \r, \t, \\ for
 * the backslash itself, \xHH for the rest, ESC as \x1b), so that a label,
 * purpose or path holding them can neither forge a table row nor move a
 * terminal's cursor.  malloc'd; NULL when out of memory. */
char *spif_text_escaped(const char *s);
/* Print s escaped so. */
void spif_text_put(FILE *f, const char *s);
/* Print s escaped and pad it with spaces to width columns (nothing when
 * wider). */
void spif_text_pad(FILE *f, const char *s, int width);

#endif
