/* test_merkle.c - RFC 9162 hashing against the published RFC 6962
 * vectors, every proof of every small tree verified, tampering refused;
 * signed notes against Go's published example, byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "digest.h"
#include "merkle.h"
#include "note.h"
#include "tap.h"

static const char *const leaves_hex[] = {"", "00", "10", "2021", "3031", "40414243",
                                         "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"};
static const char *const roots_hex[] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static size_t unhex(const char *s, unsigned char *out)
{
	size_t n = strlen(s) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	return n;
}

static int eq_hex(const spif_hash h, const char *hex)
{
	char got[65];
	spif_hex(h, 32, got);
	if (strcmp(got, hex) != 0) {
		printf("#   got %s\n#   expected %s\n", got, hex);
		return 0;
	}
	return 1;
}

/* A store that keeps every leaf hash and computes subtrees by brute force:
 * slow, but independent of the code under test's recursion. */
struct store {
	spif_hash *leaf;
	size_t n;
	int calls;
};
static void brute(const struct store *s, uint64_t lo, uint64_t len, spif_hash out)
{
	if (len == 1) {
		memcpy(out, s->leaf[lo], 32);
		return;
	}
	spif_hash l, r;
	brute(s, lo, len / 2, l);
	brute(s, lo + len / 2, len / 2, r);
	spif_merkle_node_hash(l, r, out);
}
static int subtree(void *ctx, unsigned level, uint64_t lo, spif_hash out, struct spif_err *err)
{
	struct store *s = ctx;
	uint64_t len = (uint64_t)1 << level;
	s->calls++;
	if (lo + len > s->n)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of range");
	brute(s, lo, len, out);
	return 0;
}

static void check_vector_inclusion(struct store *s, uint64_t idx, uint64_t n, const char *const *want,
                                   size_t nwant)
{
	spif_hash proof[SPIF_MERKLE_MAX_PROOF];
	size_t len;
	struct spif_err err;
	ok(spif_merkle_inclusion_proof(idx, n, subtree, s, proof, &len, &err) == 0,
	   "inclusion proof of %llu in %llu", (unsigned long long)idx, (unsigned long long)n);
	is_int(len, nwant, "  has %zu hashes", nwant);
	for (size_t i = 0; i < nwant && i < len; i++)
		ok(eq_hex(proof[i], want[i]), "  hash %zu is the published one", i);
}

static void check_vector_consistency(struct store *s, uint64_t m, uint64_t n, const char *const *want,
                                     size_t nwant)
{
	spif_hash proof[SPIF_MERKLE_MAX_PROOF], r1, r2;
	size_t len;
	struct spif_err err;
	ok(spif_merkle_consistency_proof(m, n, subtree, s, proof, &len, &err) == 0,
	   "consistency proof %llu -> %llu", (unsigned long long)m, (unsigned long long)n);
	is_int(len, nwant, "  has %zu hashes", nwant);
	for (size_t i = 0; i < nwant && i < len; i++)
		ok(eq_hex(proof[i], want[i]), "  hash %zu is the published one", i);
	unhex(roots_hex[m], r1);
	unhex(roots_hex[n], r2);
	ok(spif_merkle_verify_consistency(m, n, r1, r2, proof, len, NULL) == 0, "  and verifies");
}

static void test_vectors(void)
{
	struct store s = {0};
	s.leaf = calloc(8, sizeof *s.leaf);
	for (size_t i = 0; i < 8; i++) {
		unsigned char buf[16];
		size_t n = unhex(leaves_hex[i], buf);
		spif_merkle_leaf_hash(buf, n, s.leaf[i]);
	}
	s.n = 8;
	struct spif_merkle_edge e;
	spif_merkle_edge_init(&e);
	for (uint64_t n = 0; n <= 8; n++) {
		spif_hash r;
		struct spif_err err;
		ok(spif_merkle_root(n, subtree, &s, r, &err) == 0 && eq_hex(r, roots_hex[n]),
		   "root of the %llu reference leaves is RFC 6962's", (unsigned long long)n);
		spif_merkle_edge_root(&e, r);
		ok(eq_hex(r, roots_hex[n]), "the incremental edge gives the same root at %llu",
		   (unsigned long long)n);
		if (n < 8)
			spif_merkle_edge_append(&e, s.leaf[n], NULL, NULL);
	}
	static const char *const inc0[] = {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
	static const char *const inc5[] = {
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
	check_vector_inclusion(&s, 0, 8, inc0, 3);
	check_vector_inclusion(&s, 5, 8, inc5, 3);
	static const char *const c28[] = {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
	static const char *const c68[] = {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
	static const char *const c25[] = {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"};
	check_vector_consistency(&s, 2, 8, c28, 2);
	check_vector_consistency(&s, 6, 8, c68, 3);
	check_vector_consistency(&s, 2, 5, c25, 2);
	free(s.leaf);
}

/* Every proof of every tree up to 40 leaves verifies, and a flipped bit,
 * a wrong index, a wrong size, a dropped or an extra hash never does. */
static void test_all_small_trees(void)
{
	enum { N = 40 };
	struct store s = {0};
	s.leaf = calloc(N, sizeof *s.leaf);
	s.n = N;
	for (int i = 0; i < N; i++) {
		unsigned char b[2] = {(unsigned char)i, (unsigned char)(i * 7)};
		spif_merkle_leaf_hash(b, 2, s.leaf[i]);
	}
	int bad_inc = 0, bad_con = 0, accepted_tamper = 0, checks = 0;
	struct spif_merkle_edge e;
	spif_merkle_edge_init(&e);
	int edge_mismatch = 0;
	for (uint64_t n = 1; n <= N; n++) {
		spif_hash root, er;
		struct spif_err err;
		spif_merkle_edge_append(&e, s.leaf[n - 1], NULL, NULL);
		spif_merkle_root(n, subtree, &s, root, &err);
		spif_merkle_edge_root(&e, er);
		edge_mismatch += memcmp(root, er, 32) != 0;
		for (uint64_t i = 0; i < n; i++) {
			spif_hash p[SPIF_MERKLE_MAX_PROOF];
			size_t len;
			spif_merkle_inclusion_proof(i, n, subtree, &s, p, &len, &err);
			bad_inc += spif_merkle_verify_inclusion(i, n, s.leaf[i], p, len, root, NULL) != 0;
			checks++;
			if (n > 1) {
				accepted_tamper += spif_merkle_verify_inclusion((i + 1) % n, n, s.leaf[i], p, len, root, NULL) == 0;
				/* The size is bound by the signed checkpoint, not by the path: the
				 * same path may fit another size's shape, but never that tree's root. */
				if (n < N) {
					spif_hash next;
					spif_merkle_root(n + 1, subtree, &s, next, &err);
					accepted_tamper += spif_merkle_verify_inclusion(i, n + 1, s.leaf[i], p, len, next, NULL) == 0;
				}
				accepted_tamper += spif_merkle_verify_inclusion(i, n, s.leaf[i], p, len - 1, root, NULL) == 0;
				p[len / 2][i % 32] ^= 1;
				accepted_tamper += spif_merkle_verify_inclusion(i, n, s.leaf[i], p, len, root, NULL) == 0;
				p[len / 2][i % 32] ^= 1;
				memcpy(p[len], p[0], 32);
				accepted_tamper += spif_merkle_verify_inclusion(i, n, s.leaf[i], p, len + 1, root, NULL) == 0;
			}
		}
		for (uint64_t m = 1; m <= n; m++) {
			spif_hash p[SPIF_MERKLE_MAX_PROOF], r1;
			size_t len;
			spif_merkle_root(m, subtree, &s, r1, &err);
			spif_merkle_consistency_proof(m, n, subtree, &s, p, &len, &err);
			bad_con += spif_merkle_verify_consistency(m, n, r1, root, p, len, NULL) != 0;
			if (m < n) {
				spif_hash other;
				memcpy(other, r1, 32);
				other[0] ^= 0x80;
				accepted_tamper += spif_merkle_verify_consistency(m, n, other, root, p, len, NULL) == 0;
				p[0][5] ^= 1;
				accepted_tamper += spif_merkle_verify_consistency(m, n, r1, root, p, len, NULL) == 0;
				p[0][5] ^= 1;
				if (len > 0)
					accepted_tamper += spif_merkle_verify_consistency(m, n, r1, root, p, len - 1, NULL) == 0;
			}
		}
	}
	ok(edge_mismatch == 0, "the incremental edge's root equals the recursive root for 1..%d leaves", N);
	ok(bad_inc == 0, "all %d inclusion proofs in trees of 1..%d leaves verify", checks, N);
	ok(bad_con == 0, "every consistency proof m -> n (1 <= m <= n <= %d) verifies", N);
	ok(accepted_tamper == 0, "no tampered proof, index, size or root is accepted (%d accepted)", accepted_tamper);
	spif_hash p[1], r;
	memset(r, 0, 32);
	ok(spif_merkle_verify_inclusion(3, 3, s.leaf[0], p, 0, r, NULL) < 0, "an index outside the tree is refused");
	ok(spif_merkle_verify_consistency(0, 3, r, r, p, 0, NULL) < 0, "consistency from the empty tree is refused");
	ok(spif_merkle_verify_consistency(4, 3, r, r, p, 0, NULL) < 0, "consistency to a smaller tree is refused");
	free(s.leaf);
}

static void on_complete(void *ctx, unsigned level, uint64_t lo, const spif_hash h)
{
	int *bad = ctx;
	(void)h;
	if (lo % ((uint64_t)1 << level))
		(*bad)++;
}

static void test_edge_reports(void)
{
	struct spif_merkle_edge e;
	spif_merkle_edge_init(&e);
	int bad = 0;
	spif_hash leaf = {0};
	for (int i = 0; i < 1000; i++)
		spif_merkle_edge_append(&e, leaf, on_complete, &bad);
	ok(bad == 0 && e.n == 1000 && e.count == 6, "the edge reports aligned complete subtrees (1000 = 6 bits set)");
}

static const char go_text[] = "If you think cryptography is the answer to your problem,\n"
                              "then you don't know what your problem is.\n";
static const char go_skey[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char go_vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char go_sig[] = "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

static void test_note(void)
{
	struct spif_note_signer s;
	struct spif_note_verifier v;
	struct spif_err err;
	ok(spif_note_signer_parse(go_skey, &s, &err) == 0, "Go's example signer key parses");
	char *vt = spif_note_verifier_text(&s.v);
	is_str(vt, go_vkey, "  and gives Go's verifier key");
	free(vt);
	char *st = spif_note_signer_text(&s);
	is_str(st, go_skey, "  and writes itself back the same");
	free(st);
	char *note = NULL;
	ok(spif_note_sign(&s, go_text, strlen(go_text), &note, &err) == 0, "signing Go's example");
	char want[512];
	snprintf(want, sizeof want, "%s\n%s", go_text, go_sig);
	ok(note && strcmp(note, want) == 0, "  gives Go's published note byte for byte");
	ok(spif_note_verifier_parse(go_vkey, &v, &err) == 0, "Go's verifier key parses");
	size_t tl = 0;
	ok(spif_note_open(want, strlen(want), &v, &tl, &err) == 0 && tl == strlen(go_text),
	   "Go's note opens with its key; the text is the signed part");
	char *bad = strdup(want);
	bad[10] ^= 0x20;
	ok(spif_note_open(bad, strlen(bad), &v, &tl, &err) < 0 && strstr(err.msg, "altered"),
	   "one changed letter of the text: refused as altered");
	free(bad);
	/* a different key of the same name */
	struct spif_note_signer other;
	spif_note_generate("PeterNeumann", &other, &err);
	ok(spif_note_open(want, strlen(want), &other.v, &tl, &err) < 0, "another key of the same name: refused");
	spif_note_signer_clear(&other);
	ok(spif_note_verifier_parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v, &err) < 0,
	   "a verifier key whose hash does not match is refused");
	ok(spif_note_verifier_parse("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v, &err) < 0,
	   "a name with a space is refused");
	free(note);
	spif_note_signer_clear(&s);

	/* a checkpoint, signed by a fresh key, round trip */
	spif_hash root;
	memset(root, 0xab, sizeof root);
	char *cp = spif_checkpoint_text("spif.catalog/test", 1234567, root);
	struct spif_note_signer k;
	ok(spif_note_generate("spif.catalog/test", &k, &err) == 0, "a fresh Ed25519 key");
	ok(spif_note_sign(&k, cp, strlen(cp), &note, &err) == 0, "a checkpoint is signed");
	ok(spif_note_open(note, strlen(note), &k.v, &tl, &err) == 0, "  and opens with the key");
	char origin[SPIF_NOTE_NAME_MAX];
	uint64_t size = 0;
	spif_hash r2;
	ok(spif_checkpoint_parse(note, tl, origin, &size, r2, &err) == 0 && size == 1234567 &&
	   memcmp(r2, root, 32) == 0 && strcmp(origin, "spif.catalog/test") == 0,
	   "  and parses back to origin, size and root");
	ok(spif_checkpoint_parse("o\n01\nAAAA\n", 10, origin, &size, r2, &err) < 0, "a size with a leading zero is refused");
	free(note);
	free(cp);
	spif_note_signer_clear(&k);
}

int main(void)
{
	struct spif_err err;
	if (spif_crypto_init(&err) < 0)
		return 1;
	test_vectors();
	test_all_small_trees();
	test_edge_reports();
	test_note();
	return tap_done();
}
