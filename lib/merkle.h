/* merkle.h - the Merkle tree over the audit log, with RFC 9162 hashing
 * (the same as RFC 6962): leaf = SHA-256(0x00 || entry), node =
 * SHA-256(0x01 || left || right), the tree of n leaves split at k, the
 * largest power of two below n.  Roots, inclusion proofs and consistency
 * proofs, made and checked.
 *
 * The algorithms here know nothing of where hashes are kept.  A caller
 * hands them a function that gives the hash of one *complete* subtree
 * (2^l leaves starting at a multiple of 2^l); every range the RFC's
 * recursion visits is a sum of such subtrees, so a store that keeps the
 * hashes of every 2^8-leaf tile (and of every 2^16, ...) answers any of
 * them from at most a few hundred hashes, and a proof at 10^7 leaves costs
 * milliseconds, not a pass over the log.
 *
 * Verification needs no store at all: it is what an auditor runs offline,
 * with a proof, a root from a signed checkpoint, and nothing else.  It
 * follows RFC 9162 section 2.1.3.2 and 2.1.4.2 step by step (which
 * rejects proofs that are too long, too short or for indices out of
 * range); the tests run the published RFC 6962 vectors through it. */
#ifndef SPIF_MERKLE_H
#define SPIF_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SPIF_MERKLE_HASH 32
/* A proof has at most one hash per level, and a 64-bit size has 64 levels. */
#define SPIF_MERKLE_MAX_PROOF 64

typedef unsigned char spif_hash[SPIF_MERKLE_HASH];

void spif_merkle_leaf_hash(const void *entry, size_t n, spif_hash out);
void spif_merkle_node_hash(const spif_hash left, const spif_hash right, spif_hash out);
/* The root of the empty tree: SHA-256 of nothing. */
void spif_merkle_empty_root(spif_hash out);

/* Give the hash of the complete subtree of leaves [lo, lo + 2^level).
 * 0, or -1 with err (a store that cannot answer). */
typedef int (*spif_merkle_subtree_fn)(void *ctx, unsigned level, uint64_t lo, spif_hash out,
                                      struct spif_err *err);

/* MTH of leaves [lo, hi), any size; lo must be a multiple of the largest
 * power of two not above hi - lo (as every range of RFC 9162's recursion is). */
int spif_merkle_range_hash(uint64_t lo, uint64_t hi, spif_merkle_subtree_fn fn, void *ctx,
                           spif_hash out, struct spif_err *err);
/* The root of the first n leaves. */
int spif_merkle_root(uint64_t n, spif_merkle_subtree_fn fn, void *ctx, spif_hash out,
                     struct spif_err *err);

/* The inclusion proof of leaf index (0-based) in the tree of size n: *len
 * hashes into proof (room for SPIF_MERKLE_MAX_PROOF), RFC 9162 PATH order. */
int spif_merkle_inclusion_proof(uint64_t index, uint64_t n, spif_merkle_subtree_fn fn, void *ctx,
                                spif_hash *proof, size_t *len, struct spif_err *err);
/* The consistency proof from size m to size n (0 < m <= n). */
int spif_merkle_consistency_proof(uint64_t m, uint64_t n, spif_merkle_subtree_fn fn, void *ctx,
                                  spif_hash *proof, size_t *len, struct spif_err *err);

/* 0 when proof shows leaf_hash at index in the tree of size n with root;
 * -1 otherwise (with a reason in err when err is not NULL). */
int spif_merkle_verify_inclusion(uint64_t index, uint64_t n, const spif_hash leaf_hash,
                                 const spif_hash *proof, size_t len, const spif_hash root,
                                 struct spif_err *err);
/* 0 when proof shows the tree of size n with root2 extends the tree of
 * size m with root1 (append only); -1 otherwise. */
int spif_merkle_verify_consistency(uint64_t m, uint64_t n, const spif_hash root1,
                                   const spif_hash root2, const spif_hash *proof, size_t len,
                                   struct spif_err *err);

/* The right edge of a growing tree: the roots of its complete subtrees,
 * largest first, one per set bit of n.  Appending is O(log n); each
 * subtree the append completes is reported (level >= 1), so that a store
 * can keep the ones it wants (tiles).  The root of the whole tree folds
 * the edge right to left. */
struct spif_merkle_edge {
	uint64_t n;
	spif_hash h[64];
	unsigned levels[64];
	unsigned count;
};
void spif_merkle_edge_init(struct spif_merkle_edge *e);
void spif_merkle_edge_append(struct spif_merkle_edge *e, const spif_hash leaf,
                             void (*on_complete)(void *ctx, unsigned level, uint64_t lo,
                                                 const spif_hash h),
                             void *ctx);
void spif_merkle_edge_root(const struct spif_merkle_edge *e, spif_hash out);

#endif
