/* vault_feed.c - see vault_feed.h; and spif_vault_plain_size (vault.h),
 * which reads only the header and the size of a vault file. */
#include "vault_feed.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "record.h"
#include "vault.h"

struct spif_vault_feed {
	const char *home;
	const struct spif_conf *conf;
	long long id;
	char *path;
	int w, r;        /* the pipe's ends: the thread's, the reader's */
	pthread_t th;
	int once;        /* spif_vault_read_once: the reader discards a failed run */
	int rc;          /* the thread's result, err its error */
	struct spif_err e;
};

static void *feed_thread(void *arg)
{
	struct spif_vault_feed *f = arg;
	spif_thread_block_sigpipe(); /* a reader that stops early closes its end */
	struct spif_catalog *cat;
	f->rc = spif_catalog_open(f->home, f->conf, 0, NULL, &cat, &f->e);
	if (f->rc == 0) {
		f->rc = (f->once ? spif_vault_read_once : spif_vault_read)(cat, f->id, f->path, spif_sink_fd, &f->w,
		                                                           &f->e);
		spif_catalog_close(cat);
	}
	close(f->w);
	f->w = -1;
	return NULL;
}

static int feed_start(const char *home, const struct spif_conf *conf, long long file_id, const char *path, int once,
                      struct spif_vault_feed **out, int *fd, struct spif_err *err);

int spif_vault_feed_start(const char *home, const struct spif_conf *conf, long long file_id, const char *path,
                          struct spif_vault_feed **out, int *fd, struct spif_err *err)
{
	return feed_start(home, conf, file_id, path, 0, out, fd, err);
}

int spif_vault_feed_start_once(const char *home, const struct spif_conf *conf, long long file_id, const char *path,
                               struct spif_vault_feed **out, int *fd, struct spif_err *err)
{
	return feed_start(home, conf, file_id, path, 1, out, fd, err);
}

static int feed_start(const char *home, const struct spif_conf *conf, long long file_id, const char *path, int once,
                      struct spif_vault_feed **out, int *fd, struct spif_err *err)
{
	*out = NULL;
	*fd = -1;
	struct spif_vault_feed *f = calloc(1, sizeof *f);
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	f->home = home;
	f->conf = conf;
	f->id = file_id;
	f->once = once;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		free(f->path);
		free(f);
		return spif_err_sys(err, SPIF_EX_SOFTWARE, e, "pipe");
	}
	/* a chunk of the vault (1 MiB) in one write: fewer trips between the
	 * threads (the default 64 KiB pipe made the reader wait on every
	 * sixteenth of a chunk) */
	(void)fcntl(p[0], F_SETPIPE_SZ, (int)SPIF_VAULT_CHUNK);
	f->r = p[0];
	f->w = p[1];
	if (pthread_create(&f->th, NULL, feed_thread, f) != 0) {
		close(p[0]);
		close(p[1]);
		free(f->path);
		free(f);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "cannot start a thread");
	}
	*out = f;
	*fd = f->r;
	return 0;
}

int spif_vault_feed_finish(struct spif_vault_feed *f, int drain, struct spif_err *err)
{
	if (!f)
		return 0;
	if (drain) { /* let the thread finish, so that its error is its own */
		char sink[16384];
		ssize_t k;
		while ((k = read(f->r, sink, sizeof sink)) > 0 || (k < 0 && errno == EINTR))
			;
		explicit_bzero(sink, sizeof sink);
	}
	close(f->r); /* a thread still writing gets EPIPE */
	pthread_join(f->th, NULL);
	int rc = f->rc < 0 ? -1 : 0;
	if (rc < 0)
		*err = f->e;
	free(f->path);
	free(f);
	return rc;
}

/* Format 1 of vault.c: a 48-byte header ("SPIFVLT1", version 1, the chunk
 * size C at offset 12), then per chunk a 4-byte length, the ciphertext and
 * a 16-byte tag; every chunk holds C bytes but the last, which may be
 * empty.  So a file of S bytes holds k full chunks and a last one of r
 * bytes where S - 68 = k (C + 20) + r, r < C.  Only the header's fixed
 * fields are read: nothing here is authenticated, which is why the size
 * is only a forecast (see vault.h). */
long long spif_vault_plain_size(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	unsigned char h[48];
	struct stat st;
	long long rc = -1;
	if (pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    memcmp(h, "SPIFVLT1", 8) == 0 && h[8] == 0 && h[9] == 0 && h[10] == 0 && h[11] == 1) {
		long long c = (long long)h[12] << 24 | (long long)h[13] << 16 | (long long)h[14] << 8 | h[15];
		long long t = (long long)st.st_size - 48 - 20;
		if (c > 0 && t >= 0) {
			long long k = t / (c + 20), r = t - k * (c + 20);
			if (r < c)
				rc = k * c + r;
		}
	}
	close(fd);
	return rc;
}
