/* auditlog_tree.h - the Merkle tree over the events, kept as they are
 * appended: its tiles in the catalog, its proofs from them.
 *
 * Leaf i (0-based) is event i + 1: its entry is the event's 32-byte chain
 * hash (binary), its leaf hash spif_merkle_leaf_hash(entry).  The store:
 * - merkle(level, idx, hash) WITHOUT ROWID holds the hash of every complete
 *   subtree of 2^level leaves starting at idx * 2^level, for the levels
 *   8, 16, 24, ... -- one row per 256 events, one per 65,536, ...;
 * - meta 'merkle_edge' holds the right edge (spif_merkle_edge: the roots
 *   of the complete subtrees of the whole tree, one per set bit of its
 *   size), so that an append is O(log n) and reports each subtree it
 *   completes; the ones at those levels go into merkle.
 * A complete subtree is then answered from one row (level a multiple of 8),
 * from events.hash (level 0), or by hashing at most 128 children read from
 * the level below with one statement.  A proof at 10^7 events reads a few
 * thousand hashes: milliseconds.
 *
 * The store needs only a connection with events(seq, hash) and merkle (and
 * meta for the edge), so that tests and benchmarks can fill one with
 * synthetic leaves through the same functions. */
#ifndef SPIF_AUDITLOG_TREE_H
#define SPIF_AUDITLOG_TREE_H

#include <sqlite3.h>

#include "merkle.h"

/* Every how many levels a tile is stored. */
#define SPIF_TILE_LEVELS 8

struct spif_tiles_memo;
struct spif_tiles {
	sqlite3 *db;
	sqlite3_stmt *leaf, *leaves, *tile, *tiles, *put, *edge_get, *edge_put;
	struct spif_err *failed; /* the first error of an append's callbacks */
	struct spif_err cb_err;
	/* subtrees hashed from their children, remembered until the next
	 * append (auditlog_tree.c: the proofs of one checkpoint share them) */
	struct spif_tiles_memo *memo;
	uint64_t gen;
};

int spif_tiles_open(struct spif_tiles *t, sqlite3 *db, struct spif_err *err);
void spif_tiles_close(struct spif_tiles *t);

/* The spif_merkle_subtree_fn over the store (ctx is the struct spif_tiles). */
int spif_tiles_subtree(void *ctx, unsigned level, uint64_t lo, spif_hash out, struct spif_err *err);

/* Append the leaf of one event (its binary chain hash) to e, storing the
 * tiles it completes. */
int spif_tiles_append(struct spif_tiles *t, struct spif_merkle_edge *e, const unsigned char entry[32],
                      struct spif_err *err);

/* The edge in meta: 0 and *found 1 when there is one (and it parses). */
int spif_tiles_edge_load(struct spif_tiles *t, struct spif_merkle_edge *e, int *found, struct spif_err *err);
int spif_tiles_edge_save(struct spif_tiles *t, const struct spif_merkle_edge *e, struct spif_err *err);
/* The edge's text form in meta: "N L:HEX L:HEX ..."; parse is strict. */
char *spif_tiles_edge_text(const struct spif_merkle_edge *e);
int spif_tiles_edge_parse(const char *s, struct spif_merkle_edge *e);

/* Rebuild tiles and edge from the events (an upgrade, or a store found
 * not to match its events). */
int spif_tiles_rebuild(struct spif_tiles *t, struct spif_err *err);

/* "0a1b..." (64 hex) -> 32 bytes; -1 when not lowercase hex of that length. */
int spif_hex_to_hash(const char *hex, size_t n, unsigned char out[32]);

#endif
