/* grow.h - the one rule for growing an array, for the whole library.
 *
 * A buffer that must hold need elements grows by doubling its capacity
 * (from SPIF_GROW_MIN when it has none), so that filling it one element at
 * a time costs amortised O(1) per element; every size computation is
 * checked for overflow, and a failure is a value (-1, errno ENOMEM, the
 * buffer and its capacity untouched), never an abort.
 *
 * Buffers that held record data (source text, field values, converted
 * output) grow with spif_grow_wipe instead: realloc(3) may move the bytes
 * and leave the old copy in freed memory, where the next allocation, a
 * core dump or swap can find it, and that copy may hold Individual
 * Numbers.  spif_grow_wipe allocates the new buffer itself, copies, and
 * clears the old one before freeing it; spif_free_wipe does the same for
 * the last buffer.
 *
 * Usage, with a typed pointer (void ** must not alias it):
 *	void *p = v->items;
 *	if (spif_grow(&p, &v->cap, v->n + 1, sizeof *v->items) < 0)
 *		return -1;
 *	v->items = p; */
#ifndef SPIF_GROW_H
#define SPIF_GROW_H

#include <stddef.h>

#define SPIF_GROW_MIN 16 /* elements in a first allocation, at least */

/* The capacity that the rule gives for need elements of elem bytes, grown
 * from cap; cap itself when need <= cap; 0 when need * elem overflows
 * size_t (or elem is 0).  For code that must move the data itself. */
size_t spif_grow_cap(size_t cap, size_t need, size_t elem);

/* Make *buf (capacity *cap elements of elem bytes) hold at least need
 * elements, with realloc(3).  0, or -1 with errno ENOMEM and nothing
 * changed. */
int spif_grow(void **buf, size_t *cap, size_t need, size_t elem);

/* As spif_grow, for a buffer that held record data: a new buffer is
 * allocated, the old capacity copied to it, and the old buffer cleared
 * (explicit_bzero) and freed. */
int spif_grow_wipe(void **buf, size_t *cap, size_t need, size_t elem);

/* Clear n bytes at p and free it (p may be NULL). */
void spif_free_wipe(void *p, size_t n);

#endif
