/* note.c - C2SP signed notes (Ed25519) and tlog checkpoints.  See note.h. */
#include <gcrypt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "note.h"

#define ALG_ED25519 0x01
static const char dash[] = "\xe2\x80\x94 "; /* U+2014 EM DASH and a space */

static int valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= SPIF_NOTE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c == '+' || c == 0x7f)
			return 0;
	}
	return 1;
}

static uint32_t key_hash(const char *name, const unsigned char pub[32])
{
	unsigned char alg = ALG_ED25519, h[32];
	gcry_buffer_t iov[4] = {
		{.size = strlen(name), .len = strlen(name), .data = (void *)name},
		{.size = 1, .len = 1, .data = (void *)"\n"},
		{.size = 1, .len = 1, .data = &alg},
		{.size = 32, .len = 32, .data = (void *)pub},
	};
	gcry_md_hash_buffers(GCRY_MD_SHA256, 0, h, iov, 4);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static int gcry_fail(struct spif_err *err, const char *what, gcry_error_t e)
{
	return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: %s", what, gcry_strerror(e));
}

/* Copy an opaque or plain MPI's bytes into out[n], right-aligned (EdDSA
 * values are fixed-length little-endian strings that libgcrypt may hand
 * back as MPIs without their leading zeros). */
static int mpi_bytes(gcry_sexp_t s, const char *tok, unsigned char *out, size_t n)
{
	gcry_sexp_t l = gcry_sexp_find_token(s, tok, 0);
	if (!l)
		return -1;
	size_t len = 0;
	const char *p = gcry_sexp_nth_data(l, 1, &len);
	int rc = -1;
	if (p && len <= n) {
		memset(out, 0, n - len);
		memcpy(out + n - len, p, len);
		rc = 0;
	}
	gcry_sexp_release(l);
	return rc;
}

int spif_note_signer_from_seed(const char *name, const unsigned char seed[32],
                               struct spif_note_signer *s, struct spif_err *err)
{
	if (!valid_name(name))
		return spif_err_set(err, SPIF_EX_DATAERR,
		                    "a key name must be one word without '+' (at most %d bytes)",
		                    SPIF_NOTE_NAME_MAX - 1);
	memset(s, 0, sizeof *s);
	gcry_sexp_t key = NULL;
	gcry_ctx_t ctx = NULL;
	gcry_error_t e = gcry_sexp_build(&key, NULL, "(private-key (ecc (curve Ed25519)(flags eddsa)(d %b)))",
	                                 32, seed);
	if (!e)
		e = gcry_mpi_ec_new(&ctx, key, NULL);
	gcry_sexp_release(key);
	if (e)
		return gcry_fail(err, "Ed25519 key", e);
	gcry_mpi_t q = gcry_mpi_ec_get_mpi("q@eddsa", ctx, 1);
	gcry_ctx_release(ctx);
	if (!q)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "Ed25519 key: no public point");
	unsigned int bits = 0;
	const unsigned char *qb = gcry_mpi_get_opaque(q, &bits);
	int rc = 0;
	if (!qb || bits != 256)
		rc = spif_err_set(err, SPIF_EX_SOFTWARE, "Ed25519 key: unexpected public key form");
	else {
		memcpy(s->v.pub, qb, 32);
		memcpy(s->seed, seed, 32);
		snprintf(s->v.name, sizeof s->v.name, "%s", name);
		s->v.keyhash = key_hash(name, s->v.pub);
	}
	gcry_mpi_release(q);
	return rc;
}

int spif_note_generate(const char *name, struct spif_note_signer *s, struct spif_err *err)
{
	unsigned char seed[32];
	gcry_randomize(seed, sizeof seed, GCRY_VERY_STRONG_RANDOM);
	int rc = spif_note_signer_from_seed(name, seed, s, err);
	explicit_bzero(seed, sizeof seed);
	return rc;
}

void spif_note_signer_clear(struct spif_note_signer *s)
{
	explicit_bzero(s, sizeof *s);
}

static char *key_text(const char *prefix, const struct spif_note_verifier *v, const unsigned char k[32])
{
	unsigned char raw[33];
	char b64[SPIF_B64_LEN(33) + 1];
	raw[0] = ALG_ED25519;
	memcpy(raw + 1, k, 32);
	*spif_b64_encode(raw, sizeof raw, b64) = '\0';
	explicit_bzero(raw, sizeof raw);
	size_t n = strlen(prefix) + strlen(v->name) + 10 + sizeof b64 + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s+%08" PRIx32 "+%s", prefix, v->name, v->keyhash, b64);
	explicit_bzero(b64, sizeof b64);
	return out;
}

char *spif_note_verifier_text(const struct spif_note_verifier *v)
{
	return key_text("", v, v->pub);
}

char *spif_note_signer_text(const struct spif_note_signer *s)
{
	return key_text("PRIVATE+KEY+", &s->v, s->seed);
}

/* "NAME+HASH+B64": the name, the hash and the 32 key bytes. */
static int parse_key(const char *text, char name[SPIF_NOTE_NAME_MAX], uint32_t *hash,
                     unsigned char key[32], struct spif_err *err)
{
	const char *p1 = strchr(text, '+');
	const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	if (!p1 || !p2 || (size_t)(p1 - text) >= SPIF_NOTE_NAME_MAX || p2 - p1 != 9)
		return spif_err_set(err, SPIF_EX_DATAERR, "not a signed-note key (NAME+HASH+KEY)");
	memcpy(name, text, (size_t)(p1 - text));
	name[p1 - text] = '\0';
	char hex[9];
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	char *end;
	unsigned long h = strtoul(hex, &end, 16);
	if (*end || !valid_name(name) || strspn(hex, "0123456789abcdef") != 8)
		return spif_err_set(err, SPIF_EX_DATAERR, "not a signed-note key (NAME+HASH+KEY)");
	const char *b = p2 + 1;
	size_t blen = strcspn(b, "\r\n");
	if (b[blen] && strspn(b + blen, "\r\n") != strlen(b + blen))
		return spif_err_set(err, SPIF_EX_DATAERR, "not a signed-note key: text after the key");
	unsigned char raw[33];
	if (spif_b64_check(b, blen) != 33)
		return spif_err_set(err, SPIF_EX_DATAERR, "not an Ed25519 signed-note key");
	spif_b64_decode(b, blen, raw);
	if (raw[0] != ALG_ED25519) {
		explicit_bzero(raw, sizeof raw);
		return spif_err_set(err, SPIF_EX_DATAERR, "signed-note key of an unknown algorithm %u",
		                    raw[0]);
	}
	memcpy(key, raw + 1, 32);
	explicit_bzero(raw, sizeof raw);
	*hash = (uint32_t)h;
	return 0;
}

int spif_note_verifier_parse(const char *text, struct spif_note_verifier *v, struct spif_err *err)
{
	memset(v, 0, sizeof *v);
	if (parse_key(text, v->name, &v->keyhash, v->pub, err) < 0)
		return -1;
	if (key_hash(v->name, v->pub) != v->keyhash)
		return spif_err_set(err, SPIF_EX_DATAERR, "signed-note key: the key hash does not match the key");
	return 0;
}

int spif_note_signer_parse(const char *text, struct spif_note_signer *s, struct spif_err *err)
{
	static const char pfx[] = "PRIVATE+KEY+";
	if (strncmp(text, pfx, sizeof pfx - 1) != 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "not a signed-note signer key");
	char name[SPIF_NOTE_NAME_MAX];
	uint32_t hash;
	unsigned char seed[32];
	if (parse_key(text + sizeof pfx - 1, name, &hash, seed, err) < 0)
		return -1;
	int rc = spif_note_signer_from_seed(name, seed, s, err);
	explicit_bzero(seed, sizeof seed);
	if (rc == 0 && s->v.keyhash != hash) {
		spif_note_signer_clear(s);
		return spif_err_set(err, SPIF_EX_DATAERR, "signer key: the key hash does not match the key");
	}
	return rc;
}

static int ed25519_sign(const unsigned char seed[32], const unsigned char pub[32], const char *msg,
                        size_t n, unsigned char sig[64], struct spif_err *err)
{
	gcry_sexp_t key = NULL, data = NULL, sv = NULL;
	gcry_error_t e = gcry_sexp_build(&key, NULL,
	                                 "(private-key (ecc (curve Ed25519)(flags eddsa)(q %b)(d %b)))",
	                                 32, pub, 32, seed);
	if (!e)
		e = gcry_sexp_build(&data, NULL, "(data (flags eddsa)(hash-algo sha512)(value %b))", n, msg);
	if (!e)
		e = gcry_pk_sign(&sv, data, key);
	int rc = 0;
	if (e)
		rc = gcry_fail(err, "Ed25519 signature", e);
	else if (mpi_bytes(sv, "r", sig, 32) < 0 || mpi_bytes(sv, "s", sig + 32, 32) < 0)
		rc = spif_err_set(err, SPIF_EX_SOFTWARE, "Ed25519 signature: unexpected form");
	gcry_sexp_release(key);
	gcry_sexp_release(data);
	gcry_sexp_release(sv);
	return rc;
}

static int ed25519_verify(const unsigned char pub[32], const char *msg, size_t n,
                          const unsigned char sig[64])
{
	gcry_sexp_t key = NULL, data = NULL, sv = NULL;
	gcry_error_t e = gcry_sexp_build(&key, NULL, "(public-key (ecc (curve Ed25519)(flags eddsa)(q %b)))",
	                                 32, pub);
	if (!e)
		e = gcry_sexp_build(&data, NULL, "(data (flags eddsa)(hash-algo sha512)(value %b))", n, msg);
	if (!e)
		e = gcry_sexp_build(&sv, NULL, "(sig-val (eddsa (r %b)(s %b)))", 32, sig, 32, sig + 32);
	if (!e)
		e = gcry_pk_verify(sv, data, key);
	gcry_sexp_release(key);
	gcry_sexp_release(data);
	gcry_sexp_release(sv);
	return e ? -1 : 0;
}

int spif_note_sign(const struct spif_note_signer *s, const char *text, size_t n, char **note,
                   struct spif_err *err)
{
	*note = NULL;
	if (n == 0 || text[n - 1] != '\n')
		return spif_err_set(err, SPIF_EX_SOFTWARE, "a note's text must end in a newline");
	if (memchr(text, '\0', n) || (n >= 2 && memmem(text, n, "\n\n", 2)))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "a note's text must not hold a blank line");
	unsigned char blob[68];
	blob[0] = (unsigned char)(s->v.keyhash >> 24);
	blob[1] = (unsigned char)(s->v.keyhash >> 16);
	blob[2] = (unsigned char)(s->v.keyhash >> 8);
	blob[3] = (unsigned char)s->v.keyhash;
	if (ed25519_sign(s->seed, s->v.pub, text, n, blob + 4, err) < 0)
		return -1;
	char b64[SPIF_B64_LEN(68) + 1];
	*spif_b64_encode(blob, sizeof blob, b64) = '\0';
	size_t total = n + 1 + strlen(dash) + strlen(s->v.name) + 1 + strlen(b64) + 2;
	char *out = malloc(total);
	if (!out)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	snprintf(out, total, "%.*s\n%s%s %s\n", (int)n, text, dash, s->v.name, b64);
	*note = out;
	return 0;
}

int spif_note_open(const char *note, size_t n, const struct spif_note_verifier *v, size_t *text_len,
                   struct spif_err *err)
{
	/* The signatures follow the last blank line; the text before it ends
	 * in a newline of its own. */
	size_t split = 0;
	int found = 0;
	for (size_t i = n; i-- > 1;)
		if (note[i] == '\n' && note[i - 1] == '\n') {
			split = i; /* note[split] is the blank line's newline */
			found = 1;
			break;
		}
	if (!found || n == 0 || note[n - 1] != '\n' || memchr(note, '\0', n))
		return spif_err_set(err, SPIF_EX_DATAERR, "not a signed note: no signature block");
	const char *p = note + split + 1, *end = note + n;
	int seen_key = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t dl = strlen(dash);
		if (!eol || (size_t)(eol - p) < dl || memcmp(p, dash, dl) != 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "not a signed note: a malformed signature line");
		const char *nm = p + dl;
		const char *sp = memchr(nm, ' ', (size_t)(eol - nm));
		if (!sp)
			return spif_err_set(err, SPIF_EX_DATAERR, "not a signed note: a malformed signature line");
		const char *b = sp + 1;
		size_t blen = (size_t)(eol - b);
		unsigned char blob[68];
		size_t dlen = spif_b64_check(b, blen);
		if (dlen == (size_t)-1 || dlen < 5)
			return spif_err_set(err, SPIF_EX_DATAERR, "not a signed note: a signature is not base64");
		if ((size_t)(sp - nm) == strlen(v->name) && memcmp(nm, v->name, (size_t)(sp - nm)) == 0 &&
		    dlen == sizeof blob) {
			spif_b64_decode(b, blen, blob);
			uint32_t h = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
			if (h == v->keyhash) {
				seen_key = 1;
				if (ed25519_verify(v->pub, note, split, blob + 4) == 0) {
					*text_len = split;
					return 0;
				}
			}
		}
		p = eol + 1;
	}
	if (seen_key)
		return spif_err_set(err, SPIF_EX_DATAERR, "the signature by %s does not verify: the note was altered",
		                    v->name);
	return spif_err_set(err, SPIF_EX_DATAERR, "the note carries no signature by %s", v->name);
}

char *spif_checkpoint_text(const char *origin, uint64_t size, const spif_hash root)
{
	char b64[SPIF_B64_LEN(SPIF_MERKLE_HASH) + 1];
	*spif_b64_encode(root, SPIF_MERKLE_HASH, b64) = '\0';
	size_t n = strlen(origin) + 24 + sizeof b64 + 4;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
	return out;
}

int spif_checkpoint_parse(const char *text, size_t n, char origin[SPIF_NOTE_NAME_MAX], uint64_t *size,
                          spif_hash root, struct spif_err *err)
{
	const char *p = text, *end = text + n;
	const char *l1 = memchr(p, '\n', n);
	const char *l2 = l1 ? memchr(l1 + 1, '\n', (size_t)(end - l1 - 1)) : NULL;
	const char *l3 = l2 ? memchr(l2 + 1, '\n', (size_t)(end - l2 - 1)) : NULL;
	if (!l3 || l1 == p || (size_t)(l1 - p) >= SPIF_NOTE_NAME_MAX)
		return spif_err_set(err, SPIF_EX_DATAERR, "not a checkpoint: it needs origin, size and root lines");
	memcpy(origin, p, (size_t)(l1 - p));
	origin[l1 - p] = '\0';
	const char *s = l1 + 1;
	size_t slen = (size_t)(l2 - s);
	if (slen == 0 || slen > 20 || strspn(s, "0123456789") < slen || (slen > 1 && s[0] == '0'))
		return spif_err_set(err, SPIF_EX_DATAERR, "not a checkpoint: the size is not a decimal number");
	uint64_t v = 0;
	for (size_t i = 0; i < slen; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return spif_err_set(err, SPIF_EX_DATAERR, "not a checkpoint: the size is too large");
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	const char *r = l2 + 1;
	size_t rlen = (size_t)(l3 - r);
	if (spif_b64_check(r, rlen) != SPIF_MERKLE_HASH)
		return spif_err_set(err, SPIF_EX_DATAERR, "not a checkpoint: the root is not a base64 SHA-256");
	spif_b64_decode(r, rlen, root);
	*size = v;
	return 0;
}
