/* digest.c - see digest.h */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
/* gcc says ASan is on with __SANITIZE_ADDRESS__, clang (the fuzz
 * build) with __has_feature */
#if defined(__SANITIZE_ADDRESS__)
#define SPIF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPIF_ASAN 1
#endif
#endif
#ifdef SPIF_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#define SECMEM_POOL 32768 /* bytes, a multiple of the page size */

struct spif_sha256 {
	gcry_md_hd_t md;
};

int spif_crypto_init(struct spif_err *err)
{
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return 0;
	if (!gcry_check_version("1.8.0"))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt is older than 1.8");
	/* secure memory (locked where allowed, wiped when freed) for what
	 * asks for it: key schedules, secret key numbers.  Unlocked it still
	 * works, and libgcrypt must not warn of that on stderr. */
	gcry_control(GCRYCTL_DISABLE_SECMEM_WARN, 0);
	gcry_control(GCRYCTL_INIT_SECMEM, SECMEM_POOL, 0);
	gcry_control(GCRYCTL_AUTO_EXPAND_SECMEM, SECMEM_POOL, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
#ifdef SPIF_ASAN
	/* The leak checker does not look into the pool (mapped apart from
	 * the heap), so what libgcrypt keeps only through it (its entropy
	 * collector's buffer) would count as leaked: the first block's page
	 * starts the pool. */
	void *p = gcry_malloc_secure(1);
	if (p) {
		uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
		__lsan_register_root_region((void *)((uintptr_t)p & ~(page - 1)), SECMEM_POOL);
		gcry_free(p);
	}
#endif
	return 0;
}

struct spif_sha256 *spif_sha256_new(void)
{
	struct spif_sha256 *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	if (gcry_md_open(&h->md, GCRY_MD_SHA256, 0)) {
		free(h);
		return NULL;
	}
	return h;
}

void spif_sha256_update(struct spif_sha256 *h, const void *buf, size_t n)
{
	gcry_md_write(h->md, buf, n);
}

void spif_sha256_tap(void *ctx, const void *buf, size_t n)
{
	gcry_md_write(((struct spif_sha256 *)ctx)->md, buf, n);
}

void spif_hex(const unsigned char *in, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[in[i] >> 4];
		out[2 * i + 1] = x[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void spif_sha256_hex(struct spif_sha256 *h, char hex[65])
{
	spif_hex(gcry_md_read(h->md, GCRY_MD_SHA256), 32, hex);
	gcry_md_reset(h->md);
}

void spif_sha256_free(struct spif_sha256 *h)
{
	if (h) {
		gcry_md_close(h->md);
		free(h);
	}
}

void spif_sha256_buf(const void *buf, size_t n, char hex[65])
{
	unsigned char d[32];
	gcry_md_hash_buffer(GCRY_MD_SHA256, d, buf, n);
	spif_hex(d, 32, hex);
}

int spif_sha256_file(const char *path, char hex[65], long long *size, struct spif_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	struct spif_sha256 *h = spif_sha256_new();
	char *buf = malloc(1 << 20);
	if (!h || !buf) {
		close(fd);
		spif_sha256_free(h);
		free(buf);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	long long total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, 1 << 20);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			spif_sha256_free(h);
			free(buf);
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s", path);
		}
		if (r == 0)
			break;
		spif_sha256_update(h, buf, (size_t)r);
		total += r;
	}
	close(fd);
	free(buf);
	spif_sha256_hex(h, hex);
	spif_sha256_free(h);
	if (size)
		*size = total;
	return 0;
}
