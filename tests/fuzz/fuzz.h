/* fuzz.h - what the libFuzzer harnesses share: reading the fuzz input a
 * piece at a time, handing bytes to lib/ through a file descriptor or a
 * file (the way the commands give it files), collecting a writer's output,
 * a throwaway directory, and the check that stops a run when a property
 * does not hold.
 *
 * A harness is one LLVMFuzzerTestOneInput over the public lib/ API; each
 * states its property at the top.  A property that fails calls abort(), so
 * that libFuzzer saves the input as a crash artifact.  Messages never quote
 * a value: an input may hold an Individual Number. */
#ifndef SPIF_FUZZ_H
#define SPIF_FUZZ_H

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* ---- failing a property --------------------------------------------- */

static void fz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void fz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fuzz: property does not hold at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
#define FZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* ---- reading the input ---------------------------------------------- */

struct fz {
	const uint8_t *p;
	size_t n;
};

/* One byte (0 once the input is used up). */
static inline unsigned fz_u8(struct fz *z)
{
	if (!z->n)
		return 0;
	z->n--;
	return *z->p++;
}

static inline unsigned fz_u16(struct fz *z)
{
	unsigned hi = fz_u8(z);
	return hi << 8 | fz_u8(z);
}

/* Up to want bytes; *got says how many. */
static inline const uint8_t *fz_take(struct fz *z, size_t want, size_t *got)
{
	const uint8_t *p = z->p;
	*got = want < z->n ? want : z->n;
	z->p += *got;
	z->n -= *got;
	return p;
}

/* ---- buffers ---------------------------------------------------------- */

struct fz_buf {
	unsigned char *p;
	size_t n, cap;
};

static inline void fz_buf_add(struct fz_buf *b, const void *src, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		FZ_CHECK(p, "out of memory");
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, src, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static inline void fz_buf_free(struct fz_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* A spif_sink_fn that collects into a struct fz_buf. */
static inline int fz_sink(void *ctx, const void *buf, size_t n)
{
	fz_buf_add(ctx, buf, n);
	return 0;
}

/* a[0, an) and b[0, bn) hold the same bytes (either may be NULL when empty). */
static inline int fz_same(const void *a, size_t an, const void *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* ---- handing bytes to lib/ -------------------------------------------- */

/* An anonymous in-memory file holding buf[0, n), positioned at its start:
 * what a reader gets from spif ingest FILE.  slot picks one of a few kept
 * open for the life of the process (reopening one per run would cost a
 * system call or two more each time). */
static inline int fz_fd(int slot, const void *buf, size_t n)
{
	static int fds[4] = {-1, -1, -1, -1};
	if (fds[slot] < 0) {
		fds[slot] = memfd_create("spif-fuzz", MFD_CLOEXEC);
		FZ_CHECK(fds[slot] >= 0, "memfd_create: %s", strerror(errno));
	}
	int fd = fds[slot];
	FZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate: %s", strerror(errno));
	const char *p = buf;
	size_t off = 0;
	while (off < n) {
		ssize_t k = pwrite(fd, p + off, n - off, (off_t)off);
		FZ_CHECK(k > 0, "pwrite: %s", strerror(errno));
		off += (size_t)k;
	}
	FZ_CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	return fd;
}

/* Write buf[0, n) to path (created 0600, truncated). */
static inline void fz_spit(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "we");
	FZ_CHECK(f, "%s: %s", path, strerror(errno));
	FZ_CHECK(fwrite(buf, 1, n, f) == n && fclose(f) == 0, "%s: write failed", path);
}

/* Read a whole file into b (which is reset first); -1 if it cannot be read. */
static inline int fz_slurp(const char *path, struct fz_buf *b)
{
	b->n = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
		fz_buf_add(b, tmp, k);
	fclose(f);
	fz_buf_add(b, "", 0);
	return 0;
}

/* The source a reader gets, grown to cross the reader's buffer sizes:
 * class 0 as it is; 1, 2, 3 src repeated to a little over 64 KiB (the
 * least a refill reads), 192 KiB (refills that keep a record and move it
 * down) or 1 MiB (a read, and the window --encoding auto decides on), plus
 * jitter bytes so that where characters and records fall on the
 * boundaries varies.  The cases where the parser runs out of text in the
 * middle of a record or a character are only reached this way.  (4 MiB,
 * the most one read asks for, costs seconds a run under the sanitizers.) */
static inline void fz_grow(struct fz_buf *out, const uint8_t *src, size_t n, unsigned cls, unsigned jitter)
{
	static const size_t base[4] = {0, 64u << 10, 192u << 10, 1u << 20};
	out->n = 0;
	fz_buf_add(out, src, n);
	if (!cls || !n)
		return;
	size_t want = base[cls & 3] + jitter % 4096;
	while (out->n < want)
		fz_buf_add(out, src, n < want - out->n ? n : want - out->n);
}

/* ---- a throwaway directory --------------------------------------------- */

static char fz_dir_path[PATH_MAX];

static int fz_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void fz_dir_remove(void)
{
	if (fz_dir_path[0] && !getenv("SPIF_FUZZ_KEEP"))
		nftw(fz_dir_path, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new directory under $TMPDIR, removed when the process exits normally
 * (libFuzzer's -runs limit included; not after a crash, so that what the
 * run left can be looked at). */
static inline const char *fz_dir(void)
{
	if (!fz_dir_path[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fz_dir_path, sizeof fz_dir_path, "%s/spif-fuzz.XXXXXX", t && *t ? t : "/tmp");
		FZ_CHECK(mkdtemp(fz_dir_path), "mkdtemp: %s", strerror(errno));
		atexit(fz_dir_remove);
	}
	return fz_dir_path;
}

/* ---- text ---------------------------------------------------------------- */

/* Append s[0, n) to b as valid UTF-8 with no NUL: a byte that does not
 * start a valid character becomes '?', a NUL ' '.  Record values reach the
 * detector and the writers this way: a reader never lets anything else
 * through. */
static inline void fz_utf8_clean(struct fz_buf *b, const uint8_t *s, size_t n)
{
	size_t i = 0;
	fz_buf_add(b, "", 0); /* b->p is never NULL after this */
	while (i < n) {
		enum spif_u8stop why;
		size_t k = spif_utf8_scan(s + i, n - i, &why);
		fz_buf_add(b, s + i, k);
		i += k;
		if (i < n) {
			fz_buf_add(b, s[i] ? "?" : " ", 1);
			i++;
		}
	}
}

/* ---- records ------------------------------------------------------------ */

/* A record, flattened onto the end of b: row (or 0), the field count, then
 * each key and value with its length.  Two reads that give the same
 * records give the same bytes. */
static inline void fz_rec_flatten(struct fz_buf *b, const struct spif_record *r, int with_row)
{
	long long row = with_row ? r->row : 0;
	size_t n = r->n;
	fz_buf_add(b, &row, sizeof row);
	fz_buf_add(b, &n, sizeof n);
	for (size_t i = 0; i < r->n; i++) {
		fz_buf_add(b, &r->f[i].klen, sizeof r->f[i].klen);
		fz_buf_add(b, r->f[i].key, r->f[i].klen);
		fz_buf_add(b, &r->f[i].vlen, sizeof r->f[i].vlen);
		fz_buf_add(b, r->f[i].val, r->f[i].vlen);
	}
}

#endif
