/* personset.h - counting distinct persons without keeping their numbers
 * anywhere but in this process's memory.
 *
 * An open-addressing set of 12-digit numbers as integers; it is the one
 * structure in ingest whose size grows with the input (8 bytes a person,
 * at most 2x for load).  Nothing from it is written out except its count;
 * its memory is wiped when it is freed. */
#ifndef SPIF_PERSONSET_H
#define SPIF_PERSONSET_H

#include <stddef.h>
#include <stdint.h>

struct spif_personset {
	uint64_t *slot; /* 0 = empty, else number + 1 */
	size_t cap, count;
};

void spif_personset_init(struct spif_personset *s);
/* 1 added, 0 already there, -1 out of memory. */
int spif_personset_add(struct spif_personset *s, uint64_t number);
void spif_personset_free(struct spif_personset *s);

#endif
