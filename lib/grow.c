/* grow.c - array growth; see grow.h. */
#include "grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t spif_grow_cap(size_t cap, size_t need, size_t elem)
{
	if (elem == 0 || need > SIZE_MAX / elem)
		return 0;
	if (need <= cap)
		return cap;
	size_t n = cap ? cap : SPIF_GROW_MIN;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return need; /* doubling would overflow; need itself does not */
		n *= 2;
	}
	return n;
}

int spif_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = spif_grow_cap(*cap, need, elem);
	void *p = n ? realloc(*buf, n * elem) : NULL;
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	*buf = p;
	*cap = n;
	return 0;
}

int spif_grow_wipe(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = spif_grow_cap(*cap, need, elem);
	void *p = n ? malloc(n * elem) : NULL;
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	if (*buf && *cap) /* *cap * elem fits: it was allocated */
		memcpy(p, *buf, *cap * elem);
	spif_free_wipe(*buf, *cap * elem);
	*buf = p;
	*cap = n;
	return 0;
}

void spif_free_wipe(void *p, size_t n)
{
	if (!p)
		return;
	explicit_bzero(p, n);
	free(p);
}
