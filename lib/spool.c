/* spool.c - see spool.h */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SPOOL_BUF (1u << 20)

struct spif_spool {
	int fd;
	gcry_cipher_hd_t enc;
	unsigned char *buf;
	long long size;
};

static int open_tmp(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	/* filesystems without O_TMPFILE: a named file unlinked at once */
	char path[4096];
	snprintf(path, sizeof path, "%s/.spif-spool-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

int spif_spool_open(const char *dir, struct spif_spool **out, struct spif_err *err)
{
	*out = NULL;
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	struct spif_spool *s = calloc(1, sizeof *s);
	if (!s || !(s->buf = malloc(SPOOL_BUF))) {
		free(s);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	s->fd = open_tmp(dir);
	if (s->fd < 0) {
		int e = errno;
		free(s->buf);
		free(s);
		return spif_err_sys(err, SPIF_EX_CANTCREAT, e, "%s: temporary file", dir);
	}
	/* The key stays out of swap and core files: its page locked (left so:
	 * unlocking would unlock the whole page), the cipher's copy in
	 * libgcrypt's secure memory, this one wiped.  Memory that cannot be
	 * locked (RLIMIT_MEMLOCK) is used unlocked. */
	unsigned char key[32];
	(void)mlock(key, sizeof key);
	gcry_randomize(key, sizeof key, GCRY_STRONG_RANDOM);
	if (gcry_cipher_open(&s->enc, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CTR, GCRY_CIPHER_SECURE) ||
	    gcry_cipher_setkey(s->enc, key, sizeof key) || gcry_cipher_setctr(s->enc, NULL, 0)) {
		explicit_bzero(key, sizeof key);
		gcry_cipher_close(s->enc);
		close(s->fd);
		free(s->buf);
		free(s);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: cannot set up AES-256-CTR");
	}
	explicit_bzero(key, sizeof key);
	*out = s;
	return 0;
}

/* All n bytes or -1 with errno: the one write loop is spif_sink_fd. */
static int write_all(int fd, const void *buf, size_t n)
{
	return spif_sink_fd(&fd, buf, n);
}

int spif_spool_write(void *ctx, const void *data, size_t n)
{
	struct spif_spool *s = ctx;
	const unsigned char *p = data;
	while (n) {
		size_t k = n < SPOOL_BUF ? n : SPOOL_BUF;
		/* CTR is a stream: encrypting chunk by chunk continues the counter */
		if (gcry_cipher_encrypt(s->enc, s->buf, k, p, k)) {
			errno = EIO;
			return -1;
		}
		if (write_all(s->fd, s->buf, k) < 0)
			return -1;
		s->size += (long long)k;
		p += k;
		n -= k;
	}
	return 0;
}

int spif_spool_drain(struct spif_spool *s, spif_sink_fn fn, void *ctx, struct spif_err *err)
{
	if (gcry_cipher_setctr(s->enc, NULL, 0))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: cannot reset the counter");
	off_t off = 0;
	for (;;) {
		ssize_t r = pread(s->fd, s->buf, SPOOL_BUF, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return spif_err_sys(err, SPIF_EX_IOERR, errno, "reading the spool");
		if (r == 0)
			break;
		off += r;
		gcry_cipher_decrypt(s->enc, s->buf, (size_t)r, NULL, 0);
		if (fn(ctx, s->buf, (size_t)r) < 0)
			return spif_err_sys(err, SPIF_EX_IOERR, errno, "writing");
	}
	return 0;
}

long long spif_spool_size(const struct spif_spool *s)
{
	return s->size;
}

void spif_spool_close(struct spif_spool *s)
{
	if (!s)
		return;
	gcry_cipher_close(s->enc);
	close(s->fd);
	free(s->buf);
	free(s);
}
