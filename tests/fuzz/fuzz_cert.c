/* fuzz_cert.c - certificate JSON (cert.h): spif_cert_verify given an
 * exported certificate or confirmation, as spif catalog cert verify
 * FILE.json calls it, and spif_cert_render, which parses a certificate's
 * JSON to print it.
 *
 * Set up once: a throwaway home (fuzz_home.h) with two unsigned
 * certificates issued by the library for file F000001, the first
 * confirmed by a second operator, the second not.
 *
 * Input: an option byte, then data.  Option bits 0-1:
 *   0  the data is FILE.json, read the way the command reads it: JSON with
 *      "format" spif-confirmation/1 is a confirmation naming its
 *      "certificate", anything else a certificate named by its "id"
 *   1  the first certificate's JSON edited by the data, as FILE.json
 *   2  its confirmation's JSON edited by the data, as FILE.confirm.json
 *   3  the first certificate's JSON as it is, with its confirmation edited
 *      by the data beside it (FILE.json and FILE.confirm.json)
 * (bit 2: the second certificate instead of the first, in modes 1 and 3).
 * An edit is 4 bytes: an operation (mod 4: XOR a byte, truncate, insert a
 * byte, delete a byte), a 16-bit position (mod the length) and a byte.
 * Signatures are not given: checking one runs gpg, too slow to fuzz.
 *
 * Properties:
 *  - verification passes exactly when every document given is,
 *    byte for byte, the one the catalog holds for the certificate it names
 *    (and a confirmation is given only for a confirmed certificate);
 *    otherwise it fails as SPIF_FOUND (does not hold) or SPIF_EX_DATAERR
 *    (no such certificate), never as an internal error;
 *  - spif_cert_render of the data as a certificate's body (the
 *    confirmation, in modes 2 and 3) gives text exactly when the body is
 *    JSON, and the genuine certificate's text names its number. */
#include "fuzz_home.h"

#include <jansson.h>

#include "cert.h"

static struct spif_cert genuine[2];

static void issue(const struct spif_file *f, char id[32])
{
	struct spif_err err = {0};
	json_t *copies = json_pack("[{s:s,s:I,s:s,s:s}]", "path", "/srv/in/源泉徴収票.csv", "size", (json_int_t)4096,
	                           "sha256_before", "0000000000000000000000000000000000000000000000000000000000000000",
	                           "media_type", "ssd");
	json_t *san = json_pack("{s:s,s:s,s:s}", "category", "Purge", "method", "crypto-erase", "description",
	                        "暗号化消去 (データ鍵の破棄)");
	json_t *ver = json_pack("{s:s,s:s}", "method", "the wrapped key is gone from the catalog files", "result",
	                        "pass");
	long long copy_id = 0;
	struct spif_cert_input in = {.kind = "disposal", .command = "spif shred", .file = f, .copies = copies,
	                             .sanitization = san, .verification = ver, .reason = "保存期間の満了",
	                             .copy_ids = &copy_id, .ncopy_ids = 0};
	FZ_CHECK(spif_catalog_begin(fz_cat, &err) == 0 && spif_cert_issue(fz_cat, &fz_conf, &in, id, &err) == 0 &&
	             spif_catalog_commit(fz_cat, &err) == 0,
	         "issuing a certificate: %s", err.msg);
	json_decref(copies);
	json_decref(san);
	json_decref(ver);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_home_init();
	struct spif_err err = {0};
	struct spif_file f;
	FZ_CHECK(spif_catalog_get_file(fz_cat, fz_add_file("源泉徴収票.csv"), &f, &err) == 0, "get file: %s", err.msg);
	char id[2][32];
	issue(&f, id[0]);
	issue(&f, id[1]);
	spif_file_free(&f);
	struct spif_catalog *other = fz_catalog_as("fuzz-confirmer");
	FZ_CHECK(spif_catalog_begin(other, &err) == 0 &&
	             spif_cert_confirm(other, &fz_conf, id[0], NULL, "確認しました", &err) == 0 &&
	             spif_catalog_commit(other, &err) == 0,
	         "confirming: %s", err.msg);
	spif_catalog_close(other);
	for (int k = 0; k < 2; k++)
		FZ_CHECK(spif_cert_load(fz_cat, id[k], &genuine[k], &err) == 0, "loading %s: %s", id[k], err.msg);
	FZ_CHECK(genuine[0].confirmation && !genuine[1].confirmation, "the set-up's confirmations");
	return 0;
}

static void edit(struct fz_buf *f, struct fz *z)
{
	while (z->n >= 4) {
		unsigned op = fz_u8(z) & 3, pos = fz_u16(z);
		unsigned char b = (unsigned char)fz_u8(z);
		size_t at = pos % (f->n + 1);
		switch (op) {
		case 0:
			if (at < f->n)
				f->p[at] ^= b ? b : 1;
			break;
		case 1:
			f->n = at;
			break;
		case 2:
			fz_buf_add(f, "", 1);
			memmove(f->p + at + 1, f->p + at, f->n - 1 - at);
			f->p[at] = b;
			break;
		case 3:
			if (at < f->n) {
				memmove(f->p + at, f->p + at + 1, f->n - at - 1);
				f->n--;
			}
			break;
		}
		f->p[f->n] = '\0';
	}
}

static int is(const struct fz_buf *b, const char *s)
{
	return s && fz_same(b->p, b->n, s, strlen(s));
}

/* What spif catalog cert verify does with FILE.json (and, when conf is
 * given, FILE.confirm.json beside it).  -2 when the command refuses the
 * file before verifying ("not a spif certificate or confirmation"). */
static int verify_file(const struct fz_buf *file, const struct fz_buf *conf, char cid[32], struct spif_err *err)
{
	json_t *j = json_loadb((const char *)file->p, file->n, 0, NULL);
	const char *fmt = json_string_value(json_object_get(j, "format"));
	int is_conf = fmt && strcmp(fmt, "spif-confirmation/1") == 0;
	const char *named = json_string_value(json_object_get(j, is_conf ? "certificate" : "id"));
	if (!named || strlen(named) >= 32) {
		json_decref(j);
		return -2;
	}
	snprintf(cid, 32, "%s", named);
	json_decref(j);
	struct spif_cert_files f = {0};
	if (is_conf) {
		f.conf = (const char *)file->p;
		f.conf_n = file->n;
	} else {
		f.body = (const char *)file->p;
		f.body_n = file->n;
		if (conf) {
			f.conf = (const char *)conf->p;
			f.conf_n = conf->n;
		}
	}
	char summary[768];
	int rc = spif_cert_verify(fz_cat, cid, &f, summary, sizeof summary, err);
	if (rc < 0)
		FZ_CHECK(err->code == SPIF_FOUND || err->code == SPIF_EX_DATAERR, "verification failed as %d: %s",
		         err->code, err->msg);
	else
		FZ_CHECK(strstr(summary, ": good: "), "verified, but the summary does not say good");
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = {data, size};
	unsigned opt = fz_u8(&z), mode = opt & 3;
	const struct spif_cert *g = &genuine[opt >> 2 & 1];
	struct fz_buf doc = {0}, conf = {0};
	fz_buf_add(&doc, "", 0);
	fz_buf_add(&conf, "", 0);
	char cid[32] = "";
	struct spif_err err = {0};
	int rc, expect;
	switch (mode) {
	case 0:
		fz_buf_add(&doc, z.p, z.n);
		rc = verify_file(&doc, NULL, cid, &err);
		if (rc == -2)
			break;
		/* good only if it is, byte for byte, a genuine document */
		expect = 0;
		for (int k = 0; k < 2; k++)
			if (strcmp(cid, genuine[k].id) == 0 && (is(&doc, genuine[k].body) || is(&doc, genuine[k].confirmation)))
				expect = 1;
		FZ_CHECK((rc == 0) == expect, "%s verifies %s", cid, rc == 0 ? "though it is not genuine" : "not, though genuine");
		break;
	case 1:
	case 2:
		fz_buf_add(&doc, mode == 1 ? g->body : genuine[0].confirmation,
		           strlen(mode == 1 ? g->body : genuine[0].confirmation));
		edit(&doc, &z);
		rc = verify_file(&doc, NULL, cid, &err);
		if (rc == -2)
			break;
		expect = mode == 1 ? strcmp(cid, g->id) == 0 && is(&doc, g->body)
		                   : strcmp(cid, genuine[0].id) == 0 && is(&doc, genuine[0].confirmation);
		FZ_CHECK((rc == 0) == expect, "edited: verifies %s", rc == 0 ? "though changed" : "not, though unchanged");
		break;
	case 3:
		fz_buf_add(&doc, g->body, strlen(g->body));
		fz_buf_add(&conf, genuine[0].confirmation, strlen(genuine[0].confirmation));
		edit(&conf, &z);
		rc = verify_file(&doc, &conf, cid, &err);
		FZ_CHECK(rc != -2, "a genuine certificate refused as not one");
		expect = g->confirmation && is(&conf, g->confirmation);
		FZ_CHECK((rc == 0) == expect, "with a confirmation beside it: verifies %s",
		         rc == 0 ? "though the confirmation is not its own" : "not, though it is");
		break;
	}

	/* rendering: the data as the body (or the confirmation) */
	struct spif_cert ct = *g;
	if (mode >= 2)
		ct.confirmation = (char *)conf.p;
	if (mode == 2)
		ct.confirmation = (char *)doc.p;
	else
		ct.body = (char *)doc.p;
	char *text = spif_cert_render(&ct);
	json_t *j = json_loads(ct.body, 0, NULL);
	FZ_CHECK(!text == !j, "rendering %s, though the body %s JSON", text ? "works" : "fails", j ? "is" : "is not");
	if (text && is(&doc, g->body))
		FZ_CHECK(strstr(text, g->id), "the genuine certificate's text does not name it");
	json_decref(j);
	free(text);
	fz_buf_free(&doc);
	fz_buf_free(&conf);
	return 0;
}
