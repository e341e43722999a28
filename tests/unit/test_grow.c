/* test_grow.c - the array-growth rule (lib/grow.h): doubling, overflow
 * as an error value, and the wiping variant copying what it moves. */
#include "grow.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	is_int(spif_grow_cap(0, 1, 1), SPIF_GROW_MIN, "first allocation: SPIF_GROW_MIN");
	is_int(spif_grow_cap(0, 100, 8), 128, "from nothing: doubling from SPIF_GROW_MIN");
	is_int(spif_grow_cap(64, 65, 1), 128, "doubles");
	is_int(spif_grow_cap(64, 1000, 1), 1024, "doubles until it fits");
	is_int(spif_grow_cap(64, 10, 1), 64, "room already: unchanged");
	is_int(spif_grow_cap(0, SIZE_MAX / 2 + 1, 2), 0, "need * elem overflows: 0");
	is_int(spif_grow_cap(0, 5, 0), 0, "elem 0: 0");
	size_t half = SIZE_MAX / 2 + 1;
	ok(spif_grow_cap(half, half + 7, 1) == half + 7, "doubling would overflow: exactly need");

	/* one element at a time: few reallocations, contents kept */
	int *v = NULL;
	size_t cap = 0, moves = 0;
	for (int i = 0; i < 10000; i++) {
		size_t before = cap;
		void *p = v;
		if (spif_grow(&p, &cap, (size_t)i + 1, sizeof *v) < 0)
			break;
		v = p;
		moves += cap != before;
		v[i] = i;
	}
	int good = v != NULL;
	for (int i = 0; good && i < 10000; i++)
		good = v[i] == i;
	ok(good && cap >= 10000 && moves <= 11, "spif_grow: 10000 pushes, %zu growths, data kept",
	   moves);

	void *p = v;
	size_t c = cap;
	errno = 0;
	ok(spif_grow(&p, &c, SIZE_MAX / 2, sizeof *v) == -1 && errno == ENOMEM && p == v && c == cap,
	   "spif_grow overflow: -1 ENOMEM, buffer and capacity untouched");
	errno = 0;
	ok(spif_grow_wipe(&p, &c, SIZE_MAX / 2, sizeof *v) == -1 && errno == ENOMEM && p == v &&
	       c == cap,
	   "spif_grow_wipe overflow: the same");
	free(v);

	/* the wiping variant copies into a new buffer */
	char *s = NULL;
	size_t scap = 0;
	p = s;
	ok(spif_grow_wipe(&p, &scap, 10, 1) == 0 && scap == SPIF_GROW_MIN, "spif_grow_wipe from NULL");
	s = p;
	memcpy(s, "0123456789abcdef", 16);
	uintptr_t old = (uintptr_t)s;
	ok(spif_grow_wipe(&p, &scap, 17, 1) == 0 && scap == 32 && (uintptr_t)p != old &&
	       memcmp(p, "0123456789abcdef", 16) == 0,
	   "spif_grow_wipe moves to a new buffer and copies the old capacity");
	ok(spif_grow_wipe(&p, &scap, 20, 1) == 0 && scap == 32, "spif_grow_wipe: room, no move");
	spif_free_wipe(p, scap);
	spif_free_wipe(NULL, 0);
	ok(1, "spif_free_wipe(NULL) is a no-op");
	return tap_done();
}
