/* fuzz_fieldcrypt.c - ENC[...] field tokens (fieldcrypt.h), under a fixed
 * test key and the place spif encrypt binds a value to: @file F000001,
 * @row 2, field 個人番号.  The token parser itself is static in
 * fieldcrypt.c; spif_field_is_sealed and spif_field_open are the public
 * ways in, and both go through it.
 *
 * Input: an option byte.  Bit 0 clear: the rest is a token, as spif
 * encrypt --decrypt finds it in a field.  Bit 0 set: the next two bytes
 * pick a position, the third a byte to XOR there, and the rest is a value
 * to seal.
 *
 * Properties:
 *  - a token: spif_field_open refuses it as "not an ENC[...] value"
 *    exactly when spif_field_is_sealed says it is not one; otherwise it
 *    opens, or is refused as "does not open here"; what opens seals again
 *    into a token that opens to the same bytes;
 *  - a value: it seals into a token spif_field_is_sealed accepts, of the
 *    form ENC[aes-256-gcm,v1,NONCE,CT,TAG], that opens to the same bytes
 *    in its place and not in another row or field; with any one byte of
 *    the token changed it does not open at all (the encoding is strict:
 *    one text per sealed value). */
#include "fuzz.h"

#include "fieldcrypt.h"

#define FILE_ID "F000001"
#define ROW "2"
#define FIELD "個人番号"

static struct spif_fieldkey *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const unsigned char raw[32] = "spif fuzz test key, not secret.";
	key = spif_fieldkey_from(raw);
	FZ_CHECK(key, "spif_fieldkey_from");
	return 0;
}

/* Open tok in place (or elsewhere): 0 with *pt, else the error. */
static int try_open(const char *row, const char *field, const char *tok, size_t n, char **pt, size_t *ptn,
                    struct spif_err *e)
{
	memset(e, 0, sizeof *e);
	int rc = spif_field_open(key, FILE_ID, row, field, tok, n, pt, ptn, e);
	if (rc < 0) {
		FZ_CHECK(*pt == NULL, "a failed open returned a plaintext");
		FZ_CHECK(e->code == SPIF_EX_DATAERR, "open failed with code %d: %s", e->code, e->msg);
	}
	return rc;
}

static void token(const uint8_t *tok, size_t n)
{
	struct spif_err e;
	char *pt = NULL;
	size_t ptn = 0;
	int sealed = spif_field_is_sealed((const char *)tok, n);
	int rc = try_open(ROW, FIELD, (const char *)tok, n, &pt, &ptn, &e);
	if (rc < 0) {
		int not_enc = strcmp(e.msg, "not an ENC[...] value") == 0;
		FZ_CHECK(not_enc == !sealed, "is_sealed says %d, open says: %s", sealed, e.msg);
		return;
	}
	FZ_CHECK(sealed, "opened a value that is_sealed refuses");
	char *again = NULL, *back = NULL;
	size_t an = 0, bn = 0;
	FZ_CHECK(spif_field_seal(key, FILE_ID, ROW, FIELD, pt, ptn, &again, &an, &e) == 0, "seal: %s", e.msg);
	FZ_CHECK(try_open(ROW, FIELD, again, an, &back, &bn, &e) == 0, "a fresh seal does not open: %s", e.msg);
	FZ_CHECK(fz_same(pt, ptn, back, bn), "sealed again, it opens to other bytes");
	free(pt);
	free(again);
	free(back);
}

static void value(unsigned pos, unsigned flip, const uint8_t *v, size_t n)
{
	struct spif_err e = {0};
	char *tok = NULL, *pt = NULL;
	size_t tn = 0, ptn = 0;
	FZ_CHECK(spif_field_seal(key, FILE_ID, ROW, FIELD, (const char *)v, n, &tok, &tn, &e) == 0, "seal: %s", e.msg);
	FZ_CHECK(tok && strlen(tok) == tn, "the token's length");
	FZ_CHECK(tn > 20 && memcmp(tok, "ENC[aes-256-gcm,v1,", 19) == 0 && tok[tn - 1] == ']', "the token's form");
	FZ_CHECK(spif_field_is_sealed(tok, tn), "a fresh token is not is_sealed");
	FZ_CHECK(try_open(ROW, FIELD, tok, tn, &pt, &ptn, &e) == 0, "a fresh token does not open: %s", e.msg);
	FZ_CHECK(fz_same(v, n, pt, ptn), "it opens to other bytes");
	FZ_CHECK(pt[ptn] == '\0', "the plaintext is not NUL-terminated");
	free(pt);
	pt = NULL;
	FZ_CHECK(try_open("3", FIELD, tok, tn, &pt, &ptn, &e) < 0, "it opens in another row");
	FZ_CHECK(try_open(ROW, "氏名", tok, tn, &pt, &ptn, &e) < 0, "it opens in another field");
	size_t at = pos % tn;
	tok[at] ^= (char)(flip ? flip : 1);
	FZ_CHECK(try_open(ROW, FIELD, tok, tn, &pt, &ptn, &e) < 0, "it opens with byte %zu changed", at);
	free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = {data, size};
	unsigned opt = fz_u8(&z);
	if (opt & 1) {
		unsigned pos = fz_u16(&z), flip = fz_u8(&z);
		value(pos, flip, z.p, z.n);
	} else {
		token(z.p, z.n);
	}
	return 0;
}
