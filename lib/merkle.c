/* merkle.c - RFC 9162 Merkle tree hashing, proofs and their verification.
 * See merkle.h. */
#include <gcrypt.h>
#include <string.h>

#include "merkle.h"

static void sha256_2(const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc,
                     spif_hash out)
{
	gcry_buffer_t iov[3] = {
		{.size = na, .len = na, .data = (void *)a},
		{.size = nb, .len = nb, .data = (void *)b},
		{.size = nc, .len = nc, .data = (void *)c},
	};
	gcry_md_hash_buffers(GCRY_MD_SHA256, 0, out, iov, 3);
}

void spif_merkle_leaf_hash(const void *entry, size_t n, spif_hash out)
{
	static const unsigned char zero = 0x00;
	sha256_2(&zero, 1, entry, n, "", 0, out);
}

void spif_merkle_node_hash(const spif_hash left, const spif_hash right, spif_hash out)
{
	static const unsigned char one = 0x01;
	sha256_2(&one, 1, left, SPIF_MERKLE_HASH, right, SPIF_MERKLE_HASH, out);
}

void spif_merkle_empty_root(spif_hash out)
{
	gcry_md_hash_buffer(GCRY_MD_SHA256, out, "", 0);
}

/* The largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k < n - k) /* k * 2 < n, without overflow */
		k <<= 1;
	return k;
}

static int is_pow2(uint64_t n) { return n && !(n & (n - 1)); }

static unsigned log2u(uint64_t n)
{
	unsigned l = 0;
	while (n >>= 1)
		l++;
	return l;
}

int spif_merkle_range_hash(uint64_t lo, uint64_t hi, spif_merkle_subtree_fn fn, void *ctx,
                           spif_hash out, struct spif_err *err)
{
	uint64_t n = hi - lo;
	if (hi < lo)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "merkle: range %llu..%llu is backwards",
		                    (unsigned long long)lo, (unsigned long long)hi);
	if (n == 0) {
		spif_merkle_empty_root(out);
		return 0;
	}
	if (is_pow2(n)) {
		if (lo % n)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "merkle: subtree at %llu is not aligned",
			                    (unsigned long long)lo);
		return fn(ctx, log2u(n), lo, out, err);
	}
	uint64_t k = split_point(n);
	spif_hash l, r;
	if (spif_merkle_range_hash(lo, lo + k, fn, ctx, l, err) < 0 ||
	    spif_merkle_range_hash(lo + k, hi, fn, ctx, r, err) < 0)
		return -1;
	spif_merkle_node_hash(l, r, out);
	return 0;
}

int spif_merkle_root(uint64_t n, spif_merkle_subtree_fn fn, void *ctx, spif_hash out,
                     struct spif_err *err)
{
	return spif_merkle_range_hash(0, n, fn, ctx, out, err);
}

static int push(spif_hash *proof, size_t *len, const spif_hash h, struct spif_err *err)
{
	if (*len >= SPIF_MERKLE_MAX_PROOF)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "merkle: proof too long");
	memcpy(proof[(*len)++], h, SPIF_MERKLE_HASH);
	return 0;
}

/* RFC 9162 2.1.3.1 PATH(m, D[lo:hi]), m absolute: the deepest sibling first. */
static int path(uint64_t m, uint64_t lo, uint64_t hi, spif_merkle_subtree_fn fn, void *ctx,
                spif_hash *proof, size_t *len, struct spif_err *err)
{
	if (hi - lo <= 1)
		return 0;
	uint64_t k = split_point(hi - lo);
	spif_hash sib;
	if (m < lo + k) {
		if (path(m, lo, lo + k, fn, ctx, proof, len, err) < 0 ||
		    spif_merkle_range_hash(lo + k, hi, fn, ctx, sib, err) < 0)
			return -1;
	} else {
		if (path(m, lo + k, hi, fn, ctx, proof, len, err) < 0 ||
		    spif_merkle_range_hash(lo, lo + k, fn, ctx, sib, err) < 0)
			return -1;
	}
	return push(proof, len, sib, err);
}

int spif_merkle_inclusion_proof(uint64_t index, uint64_t n, spif_merkle_subtree_fn fn, void *ctx,
                                spif_hash *proof, size_t *len, struct spif_err *err)
{
	*len = 0;
	if (index >= n)
		return spif_err_set(err, SPIF_EX_DATAERR, "merkle: leaf %llu is not in a tree of %llu",
		                    (unsigned long long)index, (unsigned long long)n);
	return path(index, 0, n, fn, ctx, proof, len, err);
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[lo:hi], b), m an absolute size. */
static int subproof(uint64_t m, uint64_t lo, uint64_t hi, int b, spif_merkle_subtree_fn fn,
                    void *ctx, spif_hash *proof, size_t *len, struct spif_err *err)
{
	spif_hash h;
	if (m == hi) {
		if (b)
			return 0;
		if (spif_merkle_range_hash(lo, hi, fn, ctx, h, err) < 0)
			return -1;
		return push(proof, len, h, err);
	}
	uint64_t k = split_point(hi - lo);
	if (m <= lo + k) {
		if (subproof(m, lo, lo + k, b, fn, ctx, proof, len, err) < 0 ||
		    spif_merkle_range_hash(lo + k, hi, fn, ctx, h, err) < 0)
			return -1;
	} else {
		if (subproof(m, lo + k, hi, 0, fn, ctx, proof, len, err) < 0 ||
		    spif_merkle_range_hash(lo, lo + k, fn, ctx, h, err) < 0)
			return -1;
	}
	return push(proof, len, h, err);
}

int spif_merkle_consistency_proof(uint64_t m, uint64_t n, spif_merkle_subtree_fn fn, void *ctx,
                                  spif_hash *proof, size_t *len, struct spif_err *err)
{
	*len = 0;
	if (m == 0 || m > n)
		return spif_err_set(err, SPIF_EX_DATAERR, "merkle: no consistency proof from %llu to %llu",
		                    (unsigned long long)m, (unsigned long long)n);
	if (m == n)
		return 0;
	return subproof(m, 0, n, 1, fn, ctx, proof, len, err);
}

/* why is a literal: translated, and extracted (a keyword in the Makefile) */
#define merkle_fail(err, why) spif_err_set((err), SPIF_EX_DATAERR, why)

int spif_merkle_verify_inclusion(uint64_t index, uint64_t n, const spif_hash leaf_hash,
                                 const spif_hash *proof, size_t len, const spif_hash root,
                                 struct spif_err *err)
{
	if (index >= n)
		return merkle_fail(err, "the leaf index is outside the tree");
	uint64_t fn = index, sn = n - 1;
	spif_hash r;
	memcpy(r, leaf_hash, SPIF_MERKLE_HASH);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return merkle_fail(err, "the inclusion proof is too long");
		if ((fn & 1) || fn == sn) {
			spif_merkle_node_hash(proof[i], r, r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			spif_merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return merkle_fail(err, "the inclusion proof is too short");
	if (memcmp(r, root, SPIF_MERKLE_HASH) != 0)
		return merkle_fail(err, "the inclusion proof does not lead to the root");
	return 0;
}

int spif_merkle_verify_consistency(uint64_t m, uint64_t n, const spif_hash root1,
                                   const spif_hash root2, const spif_hash *proof, size_t len,
                                   struct spif_err *err)
{
	if (m == 0 || m > n)
		return merkle_fail(err, "no consistency proof can join these sizes");
	if (m == n) {
		if (len != 0)
			return merkle_fail(err, "a consistency proof between equal sizes must be empty");
		if (memcmp(root1, root2, SPIF_MERKLE_HASH) != 0)
			return merkle_fail(err, "two different roots for the same size");
		return 0;
	}
	if (len == 0)
		return merkle_fail(err, "the consistency proof is empty");
	/* When m is a power of two its root is the first node of the path. */
	const spif_hash *p = proof;
	size_t np = len;
	spif_hash first;
	int prepend = is_pow2(m);
	uint64_t fn = m - 1, sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	spif_hash fr, sr;
	if (prepend)
		memcpy(first, root1, SPIF_MERKLE_HASH);
	else {
		memcpy(first, p[0], SPIF_MERKLE_HASH);
		p++;
		np--;
	}
	memcpy(fr, first, SPIF_MERKLE_HASH);
	memcpy(sr, first, SPIF_MERKLE_HASH);
	for (size_t i = 0; i < np; i++) {
		if (sn == 0)
			return merkle_fail(err, "the consistency proof is too long");
		if ((fn & 1) || fn == sn) {
			spif_merkle_node_hash(p[i], fr, fr);
			spif_merkle_node_hash(p[i], sr, sr);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			spif_merkle_node_hash(sr, p[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return merkle_fail(err, "the consistency proof is too short");
	if (memcmp(fr, root1, SPIF_MERKLE_HASH) != 0)
		return merkle_fail(err, "the older tree is not a prefix of the newer one");
	if (memcmp(sr, root2, SPIF_MERKLE_HASH) != 0)
		return merkle_fail(err, "the consistency proof does not lead to the newer root");
	return 0;
}

void spif_merkle_edge_init(struct spif_merkle_edge *e)
{
	memset(e, 0, sizeof *e);
}

void spif_merkle_edge_append(struct spif_merkle_edge *e, const spif_hash leaf,
                             void (*on_complete)(void *ctx, unsigned level, uint64_t lo,
                                                 const spif_hash h),
                             void *ctx)
{
	spif_hash h;
	unsigned level = 0;
	uint64_t lo = e->n;
	memcpy(h, leaf, SPIF_MERKLE_HASH);
	while (e->count > 0 && e->levels[e->count - 1] == level) {
		e->count--;
		spif_merkle_node_hash(e->h[e->count], h, h);
		lo -= (uint64_t)1 << level;
		level++;
		if (on_complete)
			on_complete(ctx, level, lo, h);
	}
	memcpy(e->h[e->count], h, SPIF_MERKLE_HASH);
	e->levels[e->count++] = level;
	e->n++;
}

void spif_merkle_edge_root(const struct spif_merkle_edge *e, spif_hash out)
{
	if (e->count == 0) {
		spif_merkle_empty_root(out);
		return;
	}
	spif_hash r;
	memcpy(r, e->h[e->count - 1], SPIF_MERKLE_HASH);
	for (unsigned i = e->count - 1; i-- > 0;)
		spif_merkle_node_hash(e->h[i], r, r);
	memcpy(out, r, SPIF_MERKLE_HASH);
}
