/* xalloc.h - allocation for commands that cannot be forgotten to check:
 * each of these returns memory or ends the program with one line,
 * "spif-CMD: out of memory", and exit 70 (the way signify's xmalloc
 * does).  For cmd/ only: lib/ returns SPIF_EX_SOFTWARE as an error value
 * instead, and grows arrays with lib/grow.h. */
#ifndef SPIF_XALLOC_H
#define SPIF_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* realloc of nmemb * size, checked for overflow */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
