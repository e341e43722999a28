/* fuzz_vault.c - reading vault files (vault.h), as spif vault cat does:
 * spif_vault_read of a file's copy into a sink, and spif_vault_copy_key_id
 * (which spif redact --file and the sweep use to read a copy's header).
 *
 * Set up once: a throwaway home (fuzz_home.h, fixed KEK) and two genuine
 * vault copies of file F000001 written by the library: a short one (one
 * final chunk) and one of exactly SPIF_VAULT_CHUNK bytes (a full chunk and
 * an empty final chunk).
 *
 * Input: an option byte, then data.  Option bits 0-1:
 *   0  the data is the vault file
 *   1  the short copy, edited by the data (below)
 *   2  the long copy, edited by the data
 *   3  the short copy's 48-byte header, then the data: chunks that pass
 *      the header checks and reach the chunk parser
 * An edit is 5 bytes: an operation (mod 4: XOR a byte, truncate, insert a
 * byte, delete a byte), a 24-bit position (mod the length) and a byte.
 *
 * Properties:
 *  - spif_vault_read succeeds exactly when the file is one of the genuine
 *    copies, byte for byte, and then gives its plaintext exactly; every
 *    other file is SPIF_EX_DATAERR and nothing reaches the sink (the whole
 *    file is authenticated before a byte is given out);
 *  - spif_vault_copy_key_id is the data key id of the header when the file
 *    starts with a whole header with the magic, else -1. */
#include "fuzz_home.h"

#include "vault.h"

static long long file_id;
static char path[PATH_MAX];
static struct fz_buf genuine[2], plain[2];

/* Write a vault copy of file_id holding p[0, n); its bytes into *copy. */
static void make_copy(const void *p, size_t n, struct fz_buf *copy)
{
	struct spif_err err = {0};
	struct spif_vault_writer *w;
	char vpath[PATH_MAX], sha[65];
	long long size;
	FZ_CHECK(spif_catalog_begin(fz_cat, &err) == 0, "begin: %s", err.msg);
	FZ_CHECK(spif_vault_create(fz_cat, &fz_conf, file_id, "indefinite", &w, vpath, &err) == 0,
	         "spif_vault_create: %s", err.msg);
	FZ_CHECK(spif_vault_write(w, p, n) == 0, "spif_vault_write: %s", strerror(errno));
	FZ_CHECK(spif_vault_finish(w, sha, &size, &err) == 0, "spif_vault_finish: %s", err.msg);
	FZ_CHECK(spif_catalog_commit(fz_cat, &err) == 0, "commit: %s", err.msg);
	FZ_CHECK(fz_slurp(vpath, copy) == 0 && (long long)copy->n == size, "reading back %s", vpath);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_home_init();
	file_id = fz_add_file("vault.ndjson");
	static const char recs[] = "{\"@row\":1,\"受給者番号\":\"0001\",\"氏名\":\"髙橋 一郎\"}\n"
	                           "{\"@row\":2,\"受給者番号\":\"0002\",\"氏名\":\"山﨑 花子\"}\n";
	fz_buf_add(&plain[0], recs, sizeof recs - 1);
	for (size_t i = 0; i < SPIF_VAULT_CHUNK; i++)
		fz_buf_add(&plain[1], &(char){(char)('a' + i % 26)}, 1);
	make_copy(plain[0].p, plain[0].n, &genuine[0]);
	make_copy(plain[1].p, plain[1].n, &genuine[1]);
	snprintf(path, sizeof path, "%s/input.spv", fz_dir());
	return 0;
}

static void edit(struct fz_buf *f, struct fz *z)
{
	while (z->n >= 5) {
		unsigned op = fz_u8(z) & 3;
		size_t pos = (size_t)fz_u8(z) << 16;
		pos |= (size_t)fz_u16(z);
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
	}
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = {data, size};
	unsigned mode = fz_u8(&z) & 3;
	struct fz_buf f = {0}, out = {0};
	fz_buf_add(&f, "", 0);
	if (mode == 1 || mode == 2) {
		fz_buf_add(&f, genuine[mode - 1].p, genuine[mode - 1].n);
		edit(&f, &z);
	} else {
		if (mode == 3)
			fz_buf_add(&f, genuine[0].p, 48);
		fz_buf_add(&f, z.p, z.n);
	}
	fz_spit(path, f.p, f.n);

	long long kid = spif_vault_copy_key_id(path);
	if (f.n >= 48 && memcmp(f.p, "SPIFVLT1", 8) == 0)
		FZ_CHECK(kid == (long long)be64(f.p + 24), "spif_vault_copy_key_id: %lld", kid);
	else
		FZ_CHECK(kid == -1, "spif_vault_copy_key_id of a file with no header: %lld", kid);

	struct spif_err err = {0};
	int rc = spif_vault_read(fz_cat, file_id, path, fz_sink, &out, &err);
	int which = -1;
	for (int k = 0; k < 2; k++)
		if (fz_same(f.p, f.n, genuine[k].p, genuine[k].n))
			which = k;
	if (which >= 0) {
		FZ_CHECK(rc == 0, "a genuine copy does not read: %s", err.msg);
		FZ_CHECK(fz_same(out.p, out.n, plain[which].p, plain[which].n), "a genuine copy reads as other bytes");
	} else {
		FZ_CHECK(rc < 0, "a damaged or foreign file reads (%zu bytes out)", out.n);
		FZ_CHECK(err.code == SPIF_EX_DATAERR, "a damaged file is not SPIF_EX_DATAERR: %s", err.msg);
		FZ_CHECK(out.n == 0, "%zu bytes of a damaged file reached the sink", out.n);
	}
	fz_buf_free(&f);
	fz_buf_free(&out);
	return 0;
}
