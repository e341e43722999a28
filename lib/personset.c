/* personset.c - see personset.h */
#include "personset.h"

#include <stdlib.h>
#include <string.h>

void spif_personset_init(struct spif_personset *s)
{
	memset(s, 0, sizeof *s);
}

static size_t slot_of(uint64_t v, size_t cap)
{
	v ^= v >> 33; /* splitmix-style finaliser: numbers are not random in their low bits */
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v & (cap - 1);
}

static int insert(uint64_t *slot, size_t cap, uint64_t stored)
{
	for (size_t i = slot_of(stored, cap);; i = (i + 1) & (cap - 1)) {
		if (slot[i] == stored)
			return 0;
		if (slot[i] == 0) {
			slot[i] = stored;
			return 1;
		}
	}
}

static int grow(struct spif_personset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	uint64_t *n = calloc(ncap, sizeof *n);
	if (!n)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i])
			insert(n, ncap, s->slot[i]);
	if (s->slot) {
		explicit_bzero(s->slot, s->cap * sizeof *s->slot);
		free(s->slot);
	}
	s->slot = n;
	s->cap = ncap;
	return 0;
}

int spif_personset_add(struct spif_personset *s, uint64_t number)
{
	if ((s->count + 1) * 2 > s->cap && grow(s) < 0)
		return -1;
	int r = insert(s->slot, s->cap, number + 1);
	s->count += (size_t)r;
	return r;
}

void spif_personset_free(struct spif_personset *s)
{
	if (s->slot) {
		explicit_bzero(s->slot, s->cap * sizeof *s->slot);
		free(s->slot);
	}
	memset(s, 0, sizeof *s);
}
