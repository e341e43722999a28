/* wipe.c - see wipe.h: the overwrite (the probe is wipe_probe.c).
 *
 * Everything here works on a target opened once (wipe_target.c): its
 * descriptor and its directory's.
 *
 * The overwrite: AES-256-CTR keystream under a fresh random key per pass,
 * optional zeros, fdatasync per pass, the page cache dropped before the
 * read-back (or O_DIRECT), then truncate, a random rename, unlink,
 * directory fsyncs.  Small files are done one stage after the other, the
 * last pass regenerated for the read-back; large ones in a pipeline where
 * hashing, writing and reading back overlap (see pipe_pass). */
#include "wipe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "digest.h"
#include "home.h"
#include "wipe_priv.h"
#include "mountinfo.h"

#define MAX_DEPTH 3 /* loop device on a file on a loop device on ... */
/* ---- the overwrite -------------------------------------------------------- */

/* Small files go through 1 MiB buffers: hash, then each pass, then the
 * read-back, one after the other.  From PIPE_MIN on the work is pipelined
 * in BIG chunks over a ring of RING keystream buffers (see pipe_pass):
 * RING * BIG + BIG + 2 * CHUNK = 22 MiB of buffers, whatever the size. */
#define CHUNK (1024 * 1024)
#define BIG (4 * 1024 * 1024)
#define RING 4
#define PIPE_MIN (4LL * 1024 * 1024)
#define FILL_STEP (256 * 1024) /* keystream made in cache-sized steps */

struct wipe_ctx {
	const char *path;
	int fd;
	int rfd;               /* the file again, O_DIRECT for the read-back, or -1 */
	int wfd;               /* the file again, O_DIRECT for the writes, or -1 */
	unsigned char *buf, *chk;
	size_t bufsz;          /* of buf and chk: CHUNK, or less for a file shorter than that */
	unsigned char *ring[RING], *back; /* pipelined: keystream kept for the compare, read-back */
	gcry_cipher_hd_t h;
	unsigned char ctr[16]; /* the last random pass's initial counter */
	const struct spif_wipe_opts *o;
	const struct spif_wipe_hooks *hooks;
	struct spif_sha256 *sha;
	long long size;        /* st_size when opened: what sha256_before covers */
	long long len, done, total;
};

static int stopped(const struct wipe_ctx *c)
{
	return c->o->stop && *c->o->stop;
}

static int pwrite_all(int fd, const unsigned char *p, size_t n, off_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		p += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

/* Read up to n bytes; fewer only at end of file. */
ssize_t spif_pread_full(int fd, unsigned char *p, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, p + got, n - got, off + (off_t)got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* fd opened again through /proc/self/fd with O_DIRECT and flags, when the
 * filesystem allows and it is still the same file; else -1. */
static int reopen_direct(int fd, int flags)
{
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	int d = open(self, flags | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (d >= 0) {
		struct stat a, b;
		if (fstat(d, &a) < 0 || fstat(fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
			close(d);
			d = -1;
		}
	}
	return d;
}

static int interrupted(struct wipe_ctx *c, struct spif_wipe_result *r, const char *when, struct spif_err *err)
{
	if (c->fd >= 0)
		fdatasync(c->fd);
	r->interrupted = 1;
	return spif_err_set(err, SPIF_EX_TEMPFAIL, "%s: interrupted %s; the file is left in place", c->path, when);
}

/* The keystream of the cipher's current position (or zeros when !random). */
static int fill(struct wipe_ctx *c, unsigned char *p, size_t n, int random)
{
	if (!random) {
		memset(p, 0, n);
		return 0;
	}
	for (size_t i = 0; i < n; i += FILL_STEP) {
		size_t k = n - i < FILL_STEP ? n - i : FILL_STEP;
		memset(p + i, 0, k);
		if (gcry_cipher_encrypt(c->h, p + i, k, NULL, 0))
			return -1;
	}
	return 0;
}

/* A fresh key and initial counter for a random pass. */
static int new_key(struct wipe_ctx *c, struct spif_err *err)
{
	unsigned char key[32];
	gcry_randomize(key, sizeof key, GCRY_STRONG_RANDOM);
	gcry_randomize(c->ctr, sizeof c->ctr, GCRY_STRONG_RANDOM);
	gcry_error_t ge = gcry_cipher_setkey(c->h, key, sizeof key);
	explicit_bzero(key, sizeof key);
	if (ge || gcry_cipher_setctr(c->h, c->ctr, sizeof c->ctr))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR set-up failed", c->path);
	return 0;
}

/* Hash the contents [0, size) into c->sha through buf (c->bufsz bytes). */
static int hash_all(struct wipe_ctx *c, unsigned char *buf, struct spif_wipe_result *r, struct spif_err *err)
{
	for (long long off = 0; off < c->size;) {
		if (stopped(c))
			return interrupted(c, r, "before overwriting", err);
		size_t n = (size_t)(c->size - off < CHUNK ? c->size - off : CHUNK);
		ssize_t got = spif_pread_full(c->fd, buf, n, (off_t)off);
		if (got < 0) {
			int e = errno;
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: reading at byte %lld", c->path, off);
		}
		spif_sha256_update(c->sha, buf, (size_t)got);
		if ((size_t)got < n)
			break; /* shrank under us: the hash is of what was there */
		off += got;
	}
	return 0;
}

/* One pass over [0, len): random under a fresh key, or zeros. */
static int write_pass(struct wipe_ctx *c, int random, int passno, struct spif_wipe_result *r,
                      struct spif_err *err)
{
	if (random && new_key(c, err) < 0)
		return -1;
	for (long long off = 0; off < c->len;) {
		if (stopped(c))
			return interrupted(c, r, c->done ? "part way through overwriting" : "before overwriting", err);
		size_t n = (size_t)(c->len - off < CHUNK ? c->len - off : CHUNK);
		if (fill(c, c->buf, n, random) < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR failed", c->path);
		r->overwrite_begun = 1;
		if (pwrite_all(c->fd, c->buf, n, (off_t)off) < 0) {
			int e = errno;
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: writing pass %d at byte %lld", c->path, passno,
			                    off);
		}
		off += (long long)n;
		c->done += (long long)n;
		if (c->o->progress)
			c->o->progress(c->o->progress_ctx, c->done, c->total);
	}
	if (fdatasync(c->fd) < 0) {
		int e = errno;
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: fdatasync after pass %d", c->path, passno);
	}
	return 0;
}

/* Read [off, off+n) back into back and compare it with want.  The range
 * has been written; unless synced (fdatasync'd and dropped already) its
 * writeback is waited for (sync_file_range) and its pages dropped from
 * the cache, so that the read-back comes from the device, not from memory
 * (on tmpfs the pages are the storage and stay); where the filesystem
 * allows, the read goes through c->rfd, O_DIRECT, bypassing the cache
 * altogether. */
static int read_back(struct wipe_ctx *c, const unsigned char *want, unsigned char *back, long long off, size_t n,
                     int synced, struct spif_err *err)
{
	int hooked = c->hooks && c->hooks->before_readback;
	if (hooked)
		c->hooks->before_readback(c->hooks->ctx, c->fd, off, (long long)n);
	if (!synced || hooked) {
		if (sync_file_range(c->fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
		                    SYNC_FILE_RANGE_WAIT_AFTER) < 0) {
			int e = errno;
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: writing back at byte %lld", c->path, off);
		}
		posix_fadvise(c->fd, (off_t)off, (off_t)n, POSIX_FADV_DONTNEED);
	}
	ssize_t got = -1;
	if (c->rfd >= 0) {
		got = spif_pread_full(c->rfd, back, n, (off_t)off);
		if (got < 0 && errno == EINVAL) { /* O_DIRECT refused: buffered, cache dropped */
			close(c->rfd);
			c->rfd = -1;
		}
	}
	if (c->rfd < 0)
		got = spif_pread_full(c->fd, back, n, (off_t)off);
	if (got < 0) {
		int e = errno;
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: reading back at byte %lld", c->path, off);
	}
	size_t cmp = (size_t)got;
	if (cmp < n || memcmp(want, back, n) != 0) {
		size_t i = 0;
		while (i < cmp && want[i] == back[i])
			i++;
		return spif_err_set(err, SPIF_EX_IOERR, "%s: verification failed at byte %lld", c->path,
		                    off + (long long)i);
	}
	return 0;
}

/* Read the last pass back and compare it with the regenerated pattern
 * (the small-file path; fdatasync has made the written pages clean). */
static int verify(struct wipe_ctx *c, int random, struct spif_wipe_result *r, struct spif_err *err)
{
	posix_fadvise(c->fd, 0, (off_t)c->len, POSIX_FADV_DONTNEED);
	if (c->rfd < 0)
		c->rfd = reopen_direct(c->fd, O_RDONLY);
	if (random && gcry_cipher_setctr(c->h, c->ctr, sizeof c->ctr))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR failed", c->path);
	for (long long off = 0; off < c->len;) {
		if (stopped(c))
			return interrupted(c, r, "while verifying", err);
		size_t n = (size_t)(c->len - off < CHUNK ? c->len - off : CHUNK);
		if (fill(c, c->buf, n, random) < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR failed", c->path);
		if (read_back(c, c->buf, c->chk, off, n, 1, err) < 0)
			return -1;
		off += (long long)n;
	}
	return 0;
}

/* ---- the pipelined overwrite (large files) -------------------------------
 *
 * One pass, three stages that overlap: a hashing thread reads the original
 * contents ahead of the writer (first pass only: every byte is hashed
 * before it is overwritten); the writer (the calling thread) makes the
 * keystream of a chunk into a ring buffer, writes it (O_DIRECT where the
 * filesystem allows, else through the page cache with the writeback
 * started at once) and reports progress; on the last pass a verifying
 * thread follows: for each written chunk it waits for the writeback,
 * drops the cached pages, reads the chunk back from the device and
 * compares it with the ring buffer, which is only then free for the
 * writer again.  The pass ends with fdatasync, as on the small-file path.
 * A failure or *stop in any stage stops them all; threads are always
 * joined before returning.  (So on a large file a read error while hashing
 * is reported after the bytes before it have been overwritten; the file
 * stays in place either way.)  Without threads (pthread_create failing)
 * the stages run one after the other, as for small files.
 *
 * Why: SHA-256 (about 1 GB/s on one core), writing and reading back each
 * take about as long as the device's write of the file; one after the
 * other they took three times that, side by side little more than the
 * slowest of them. */

struct pipe {
	struct wipe_ctx *c;
	long long nchunks;
	int verifying;          /* a verifying thread runs */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu: */
	long long hashed;       /* bytes [0, hashed) hashed: they may be overwritten */
	long long written;      /* chunks [0, written) written */
	long long verified;     /* chunks [0, verified) read back and matched */
	int failed;             /* a stage failed or stopped: the others stop too */
	const char *stop_when;  /* stopped by *stop: when, for the message */
	struct spif_err err;    /* the first failure */
};

static size_t chunk_len(const struct wipe_ctx *c, long long k)
{
	long long off = k * BIG;
	return (size_t)(c->len - off < BIG ? c->len - off : BIG);
}

/* The first failure wins: e (copied) or a stop with when. */
static void pipe_fail(struct pipe *p, const struct spif_err *e, const char *when)
{
	pthread_mutex_lock(&p->mu);
	if (!p->failed) {
		p->failed = 1;
		if (e)
			p->err = *e;
		p->stop_when = when;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void pipe_set(struct pipe *p, long long *field, long long v)
{
	pthread_mutex_lock(&p->mu);
	*field = v;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static int pipe_failed(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	int f = p->failed;
	pthread_mutex_unlock(&p->mu);
	return f;
}

static void *hasher(void *arg)
{
	struct pipe *p = arg;
	struct wipe_ctx *c = p->c;
	for (long long off = 0; off < c->size;) {
		if (pipe_failed(p))
			return NULL;
		size_t n = (size_t)(c->size - off < CHUNK ? c->size - off : CHUNK);
		ssize_t got = spif_pread_full(c->fd, c->chk, n, (off_t)off);
		if (got < 0) {
			int errnum = errno;
			struct spif_err e = {0};
			spif_err_sys(&e, SPIF_EX_IOERR, errnum, "%s: reading at byte %lld", c->path, off);
			pipe_fail(p, &e, NULL);
			return NULL;
		}
		spif_sha256_update(c->sha, c->chk, (size_t)got);
		if ((size_t)got < n)
			break; /* shrank under us: the hash is of what was there */
		off += got;
		pipe_set(p, &p->hashed, off);
	}
	pipe_set(p, &p->hashed, LLONG_MAX);
	return NULL;
}

static void *verifier(void *arg)
{
	struct pipe *p = arg;
	struct wipe_ctx *c = p->c;
	for (long long k = 0; k < p->nchunks; k++) {
		pthread_mutex_lock(&p->mu);
		while (!p->failed && p->written <= k)
			pthread_cond_wait(&p->cv, &p->mu);
		int failed = p->failed, all_written = p->written == p->nchunks;
		pthread_mutex_unlock(&p->mu);
		if (failed)
			return NULL;
		if (all_written && stopped(c)) { /* while writing, the writer answers *stop */
			pipe_fail(p, NULL, "while verifying");
			return NULL;
		}
		struct spif_err e = {0};
		if (read_back(c, c->ring[k % RING], c->back, k * BIG, chunk_len(c, k), 0, &e) < 0) {
			pipe_fail(p, &e, NULL);
			return NULL;
		}
		pipe_set(p, &p->verified, k + 1);
	}
	return NULL;
}

/* Write a chunk: O_DIRECT, or through the page cache with its writeback
 * started now rather than at the next fdatasync.  -1 with errno. */
static int write_chunk(struct wipe_ctx *c, const unsigned char *buf, size_t n, long long off)
{
	if (c->wfd >= 0) {
		if (pwrite_all(c->wfd, buf, n, (off_t)off) == 0)
			return 0;
		if (errno != EINVAL)
			return -1;
		close(c->wfd); /* O_DIRECT refused: through the page cache */
		c->wfd = -1;
	}
	if (pwrite_all(c->fd, buf, n, (off_t)off) < 0)
		return -1;
	sync_file_range(c->fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
	return 0;
}

static int pipe_pass(struct wipe_ctx *c, int random, int passno, int hashing, int verifying,
                     struct spif_wipe_result *r, struct spif_err *err)
{
	if (random && new_key(c, err) < 0)
		return -1;
	struct pipe p = {.c = c, .nchunks = (c->len + BIG - 1) / BIG, .hashed = LLONG_MAX};
	if (pthread_mutex_init(&p.mu, NULL) != 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: cannot create a mutex", c->path);
	if (pthread_cond_init(&p.cv, NULL) != 0) {
		pthread_mutex_destroy(&p.mu);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: cannot create a condition variable", c->path);
	}
	/* the threads take no signals: *stop is set in this one */
	pthread_t ht, vt;
	int have_h = 0, have_v = 0;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (hashing) {
		p.hashed = 0;
		have_h = pthread_create(&ht, NULL, hasher, &p) == 0;
	}
	if (verifying)
		have_v = pthread_create(&vt, NULL, verifier, &p) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	p.verifying = have_v;
	int rc = 0;
	if (hashing && !have_h) { /* no thread: hash first, as the small-file path does */
		p.hashed = LLONG_MAX;
		rc = hash_all(c, c->chk, r, err);
		if (rc < 0)
			pipe_fail(&p, NULL, NULL);
	}

	for (long long k = 0; rc == 0 && k < p.nchunks; k++) {
		long long off = k * BIG;
		size_t n = chunk_len(c, k);
		if (stopped(c)) {
			pipe_fail(&p, NULL, c->done ? "part way through overwriting" : "before overwriting");
			break;
		}
		long long need = off + (long long)n < c->size ? off + (long long)n : c->size;
		pthread_mutex_lock(&p.mu);
		while (!p.failed && ((p.verifying && k - p.verified >= RING) || p.hashed < need))
			pthread_cond_wait(&p.cv, &p.mu);
		int failed = p.failed;
		pthread_mutex_unlock(&p.mu);
		if (failed)
			break;
		unsigned char *buf = c->ring[k % RING];
		struct spif_err e = {0};
		if (fill(c, buf, n, random) < 0) {
			spif_err_set(&e, SPIF_EX_SOFTWARE, "%s: AES-256-CTR failed", c->path);
			pipe_fail(&p, &e, NULL);
			break;
		}
		r->overwrite_begun = 1;
		if (write_chunk(c, buf, n, off) < 0) {
			int errnum = errno;
			spif_err_sys(&e, SPIF_EX_IOERR, errnum, "%s: writing pass %d at byte %lld", c->path, passno, off);
			pipe_fail(&p, &e, NULL);
			break;
		}
		/* no verifier to pace the writer: keep what is in flight bounded */
		if (!p.verifying && k >= RING) {
			long long o2 = (k - RING) * BIG;
			sync_file_range(c->fd, (off_t)o2, BIG, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
			                SYNC_FILE_RANGE_WAIT_AFTER);
			posix_fadvise(c->fd, (off_t)o2, BIG, POSIX_FADV_DONTNEED);
		}
		c->done += (long long)n;
		if (c->o->progress)
			c->o->progress(c->o->progress_ctx, c->done, c->total);
		pipe_set(&p, &p.written, k + 1);
	}
	if (rc == 0 && !pipe_failed(&p) && fdatasync(c->fd) < 0) {
		int errnum = errno;
		struct spif_err e = {0};
		spif_err_sys(&e, SPIF_EX_IOERR, errnum, "%s: fdatasync after pass %d", c->path, passno);
		pipe_fail(&p, &e, NULL);
	}
	if (have_h)
		pthread_join(ht, NULL);
	if (have_v)
		pthread_join(vt, NULL);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	if (rc < 0)
		return rc;
	if (p.failed) {
		if (p.stop_when)
			return interrupted(c, r, p.stop_when, err);
		if (err)
			*err = p.err;
		return -1;
	}
	if (verifying && !have_v) /* no thread: read back afterwards */
		return verify(c, random, r, err);
	return 0;
}

/* A name of len characters [a-z0-9] for rename `round`, `attempt`: random,
 * or with a seed SHA-256(seed, round, attempt, block) so that the names
 * can be worked out again after a crash (spif_wipe_find_renamed). */
static void rename_name(const unsigned char *seed, int round, int attempt, char *out, size_t len)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i = 0;
	for (uint32_t block = 0; i < len; block++) {
		unsigned char b[64];
		if (seed) {
			unsigned char in[SPIF_WIPE_SEED + 12];
			uint32_t v[3] = {(uint32_t)round, (uint32_t)attempt, block};
			memcpy(in, seed, SPIF_WIPE_SEED);
			for (int k = 0; k < 3; k++)
				for (int j = 0; j < 4; j++)
					in[SPIF_WIPE_SEED + 4 * k + j] = (unsigned char)(v[k] >> (24 - 8 * j));
			gcry_md_hash_buffer(GCRY_MD_SHA256, b, in, sizeof in); /* the first 32 bytes */
		} else
			gcry_create_nonce(b, sizeof b);
		for (size_t j = 0; j < (seed ? 32 : sizeof b) && i < len; j++)
			if (b[j] < 252) /* 252 = 7 * 36: no bias */
				out[i++] = alnum[b[j] % 36];
	}
	out[len] = '\0';
}

#define RENAME_TRIES 32 /* names tried per rename before giving that rename up */

/* Whether dirfd/name is still our file. */
static int still_ours(int dirfd, const char *name, const struct stat *st)
{
	struct stat now;
	return fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
	       now.st_ino == st->st_ino;
}

/* Rename dirfd/cur to a fresh name of the same length (rename_name);
 * cur is updated.  1 renamed, 0 no free name found, -1 error (errno). */
static int rename_random(int dirfd, char *cur, const unsigned char *seed, int round)
{
	size_t len = strlen(cur);
	char next[NAME_MAX + 1];
	for (int tries = 0; tries < RENAME_TRIES; tries++) {
		rename_name(seed, round, tries, next, len);
		if (strcmp(next, cur) == 0)
			continue;
		if (renameat2(dirfd, cur, dirfd, next, RENAME_NOREPLACE) == 0) {
			memcpy(cur, next, len + 1);
			return 1;
		}
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
			return -1;
		/* no RENAME_NOREPLACE here: look first (a small race, but never
		 * over a name that was there when we looked) */
		struct stat st;
		if (fstatat(dirfd, next, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
			continue;
		if (renameat(dirfd, cur, dirfd, next) < 0)
			return -1;
		memcpy(cur, next, len + 1);
		return 1;
	}
	return 0;
}


int spif_wipe_file(const char *path, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                   struct spif_err *err)
{
	return spif_wipe_file_hooked(path, o, r, err, NULL);
}

int spif_wipe_file_hooked(const char *path, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                          struct spif_err *err, const struct spif_wipe_hooks *hooks)
{
	if (r)
		memset(r, 0, sizeof *r);
	if (!o || o->passes < 1)
		return spif_err_set(err, SPIF_EX_USAGE, "%s: the number of passes must be at least 1", path);
	struct spif_target t;
	if (spif_target_open(&t, path, 1, err) < 0)
		return -1;
	int rc = spif_wipe_target_hooked(&t, o, r, err, hooks);
	spif_target_close(&t);
	return rc;
}

int spif_wipe_target(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                     struct spif_err *err)
{
	return spif_wipe_target_hooked(t, o, r, err, NULL);
}

static int wipe_target_as_caller(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                            struct spif_err *err, const struct spif_wipe_hooks *hooks);

int spif_wipe_target_hooked(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                            struct spif_err *err, const struct spif_wipe_hooks *hooks)
{
	int g = spif_as_caller(); /* the caller's file, as the caller (home.h) */
	int rc = wipe_target_as_caller(t, o, r, err, hooks);
	spif_as_service(g);
	return rc;
}

static int wipe_target_as_caller(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                            struct spif_err *err, const struct spif_wipe_hooks *hooks)
{
	struct spif_wipe_result local;
	if (!r)
		r = &local;
	memset(r, 0, sizeof *r);
	const char *path = t->path;
	if (!o || o->passes < 1)
		return spif_err_set(err, SPIF_EX_USAGE, "%s: the number of passes must be at least 1", path);
	if (t->fd < 0 || t->dirfd < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: not open", path);
	if (spif_crypto_init(err) < 0)
		return -1;

	/* Everything below is on the target's descriptors: the file itself,
	 * and its directory for the renames and the unlink. */
	int dirfd = t->dirfd;
	struct wipe_ctx c = {.path = path, .fd = t->fd, .rfd = -1, .wfd = -1, .o = o, .hooks = hooks};
	int rc = -1, have_cipher = 0;
	struct stat fst;

	/* Removing the name needs a writable directory: find out before
	 * anything is overwritten rather than after (a read-only filesystem
	 * is reported from the open below). */
	if (faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0 && errno != EROFS) {
		int e = errno;
		spif_err_sys(err, spif_exit_for_errno(e), e, "%s: its directory does not let it be renamed and "
		             "removed", path);
		goto out;
	}
	/* opened read-only: why it could not be opened to be written */
	if (t->write_errno) {
		int e = t->write_errno;
		spif_err_sys(err, spif_exit_for_errno(e), e, "%s", path);
		goto out;
	}
	if (fstat(c.fd, &fst) < 0) {
		int e = errno;
		spif_err_sys(err, SPIF_EX_IOERR, e, "%s", path);
		goto out;
	}
	if (fst.st_nlink > 1 && !o->allow_links) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s: has %ld hard links; other names would keep the data (use "
		             "--force to overwrite anyway)", path, (long)fst.st_nlink);
		goto out;
	}

	/* Everything allocated, and the slack after the end in the last block. */
	c.size = (long long)fst.st_size;
	long long blk = fst.st_blksize > 0 ? (long long)fst.st_blksize : 4096;
	long long alloc = (long long)fst.st_blocks * 512;
	long long a = (c.size + blk - 1) / blk * blk, b = (alloc + blk - 1) / blk * blk;
	c.len = a > b ? a : b;
	int big = c.len >= PIPE_MIN;

	/* A small file gets small buffers: no fresh pages to fault in and
	 * clear for every file of a batch. */
	c.bufsz = c.len < CHUNK ? (size_t)(c.len + 4095) / 4096 * 4096 : CHUNK;
	if (c.bufsz == 0)
		c.bufsz = 4096;
	if (posix_memalign((void **)&c.buf, 4096, c.bufsz) != 0 || posix_memalign((void **)&c.chk, 4096, c.bufsz) != 0 ||
	    !(c.sha = spif_sha256_new())) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", path);
		goto out;
	}
	for (int i = 0; big && i < RING; i++)
		if (posix_memalign((void **)&c.ring[i], 4096, BIG) != 0) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", path);
			goto out;
		}
	if (big && posix_memalign((void **)&c.back, 4096, BIG) != 0) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", path);
		goto out;
	}
	if (gcry_cipher_open(&c.h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CTR, 0)) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR is not available", path);
		goto out;
	}
	have_cipher = 1;
	snprintf(r->pattern, sizeof r->pattern, "%d pass%s random (AES-256-CTR keystream)%s", o->passes,
	         o->passes == 1 ? "" : "es", o->zero ? " + 1 pass zeros" : "");

	r->bytes = c.len;
	int npasses = o->passes + (o->zero ? 1 : 0);
	if (__builtin_mul_overflow(c.len, (long long)npasses, &c.total))
		c.total = LLONG_MAX;

	/* The contents just before overwriting.  A target hashed before must
	 * still hold what was hashed (a certificate names that hash): a small
	 * file is read again, a large one only when its stamp moved.  Only a
	 * large file not hashed before is hashed during its first pass. */
	int hashed_now = 0;
	if (t->hashed && big && spif_wipe_same_stamp(&t->hst, &fst)) {
		memcpy(r->sha256_before, t->sha256, sizeof r->sha256_before);
		hashed_now = 1;
	} else if (t->hashed || !big) {
		if (hash_all(&c, c.buf, r, err) < 0)
			goto out;
		spif_sha256_hex(c.sha, r->sha256_before);
		explicit_bzero(c.buf, c.bufsz);
		hashed_now = 1;
		if (t->hashed && strcmp(r->sha256_before, t->sha256) != 0) {
			r->changed = 1;
			spif_err_set(err, SPIF_EX_TEMPFAIL, "%s: changed since it was examined; nothing of it was "
			             "overwritten; try again", path);
			goto out;
		}
	}

	if (big) {
		/* Unless hashed above, the contents are hashed during the first
		 * pass, each chunk before it is overwritten; the last pass is
		 * read back as it is written. */
		c.wfd = reopen_direct(c.fd, O_WRONLY);
		c.rfd = reopen_direct(c.fd, O_RDONLY);
		for (int p = 1; p <= o->passes; p++) {
			int hashing = p == 1 && !hashed_now;
			if (pipe_pass(&c, 1, p, hashing, p == o->passes && !o->zero, r, err) < 0)
				goto out;
			if (hashing)
				spif_sha256_hex(c.sha, r->sha256_before);
			r->passes_done++;
		}
		if (o->zero && pipe_pass(&c, 0, o->passes + 1, 0, 1, r, err) < 0)
			goto out;
	} else {
		for (int p = 1; p <= o->passes; p++) {
			if (write_pass(&c, 1, p, r, err) < 0)
				goto out;
			r->passes_done++;
		}
		if (o->zero && write_pass(&c, 0, o->passes + 1, r, err) < 0)
			goto out;
		if (verify(&c, !o->zero, r, err) < 0)
			goto out;
	}
	r->verified = 1;
	size_t pl = strlen(r->pattern);
	snprintf(r->pattern + pl, sizeof r->pattern - pl, ", verified");

	/* Past this point the data is gone (each pass was synced); what
	 * remains is the size and the name.  The truncation needs no sync of
	 * its own: the unlink below, made durable by the directory's fsync,
	 * frees the inode whatever size it had. */
	if (ftruncate(c.fd, 0) < 0) {
		int e = errno;
		spif_err_sys(err, SPIF_EX_IOERR, e, "%s: truncating", path);
		goto out;
	}
	/* Renames to names of the same length, each synced: the old name's
	 * bytes in the directory block are overwritten where the filesystem
	 * reuses the entry, and each round makes that more likely where it
	 * writes a new one (GNU shred renames once per shorter length). */
	int renames = o->renames == 0 ? SPIF_WIPE_RENAMES : o->renames < 0 ? 0 : o->renames;
	char *name = t->name;
	for (int i = 0; i < renames; i++) {
		if (!still_ours(dirfd, name, &fst)) {
			spif_err_set(err, SPIF_EX_IOERR, "%s: overwritten, but its name (now %s) was replaced before "
			             "it could be removed", path, name);
			goto out;
		}
		int k = rename_random(dirfd, name, o->name_seed, i);
		if (k < 0) {
			int e = errno;
			spif_err_sys(err, spif_exit_for_errno(e), e, "%s: overwritten, but renaming it (now %s) failed",
			             path, name);
			goto out;
		}
		if (k > 0 && fsync(dirfd) < 0) {
			int e = errno;
			spif_err_sys(err, SPIF_EX_IOERR, e, "%s: overwritten; fsync of its directory (name now %s)",
			             path, name);
			goto out;
		}
		if (hooks && hooks->after_rename && hooks->after_rename(hooks->ctx, i, name)) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "%s: stopped by a test after rename %d (now %s)", path, i, name);
			goto out;
		}
	}
	if (!still_ours(dirfd, name, &fst)) {
		spif_err_set(err, SPIF_EX_IOERR, "%s: overwritten, but its name (now %s) was replaced before it "
		             "could be removed", path, name);
		goto out;
	}
	if (unlinkat(dirfd, name, 0) < 0) {
		int e = errno;
		spif_err_sys(err, spif_exit_for_errno(e), e, "%s: overwritten, but removing it (now %s) failed",
		             path, name);
		goto out;
	}
	if (fsync(dirfd) < 0) {
		int e = errno;
		spif_err_sys(err, SPIF_EX_IOERR, e, "%s: removed; fsync of its directory", path);
		goto out;
	}
	t->fd = -1; /* closed here, for the error close may report */
	if (close(c.fd) < 0) {
		int e = errno;
		spif_err_sys(err, SPIF_EX_IOERR, e, "%s: removed; close", path);
		goto out;
	}
	rc = 0;
out:
	if (have_cipher)
		gcry_cipher_close(c.h);
	explicit_bzero(c.ctr, sizeof c.ctr);
	if (c.buf) {
		explicit_bzero(c.buf, c.bufsz);
		free(c.buf);
	}
	if (c.chk) {
		explicit_bzero(c.chk, c.bufsz); /* the hash's reads (large files) held the original contents */
		free(c.chk);
	}
	for (int i = 0; i < RING; i++)
		free(c.ring[i]);
	free(c.back);
	spif_sha256_free(c.sha);
	if (c.wfd >= 0)
		close(c.wfd);
	if (c.rfd >= 0)
		close(c.rfd);
	return rc;
}

static int find_renamed_as_caller(const char *path, const unsigned char *seed, int renames, unsigned maj, unsigned min,
                           unsigned long long ino, char *found, size_t n, struct spif_err *err);

int spif_wipe_find_renamed(const char *path, const unsigned char *seed, int renames, unsigned maj, unsigned min,
                           unsigned long long ino, char *found, size_t n, struct spif_err *err)
{
	int g = spif_as_caller(); /* the caller's file, as the caller (home.h) */
	int rc = find_renamed_as_caller(path, seed, renames, maj, min, ino, found, n, err);
	spif_as_service(g);
	return rc;
}

static int find_renamed_as_caller(const char *path, const unsigned char *seed, int renames, unsigned maj, unsigned min,
                           unsigned long long ino, char *found, size_t n, struct spif_err *err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t len = strlen(base), dl = (size_t)(base - path);
	if (!seed || len == 0 || len > NAME_MAX)
		return 0;
	if (spif_crypto_init(err) < 0)
		return -1;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%.*s", dl ? (int)dl : 1, dl ? path : ".");
	int dirfd = spif_wipe_open_dir(dir, 0);
	if (dirfd < 0) {
		int e = errno;
		if (e == ENOENT)
			return 0;
		if (e == ELOOP)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: a directory on its path is a symbolic link", path);
		return spif_err_sys(err, spif_exit_for_errno(e), e, "%s", dir);
	}
	if (renames <= 0)
		renames = SPIF_WIPE_RENAMES;
	/* the last round first: where a crash most likely left it */
	int hit = 0;
	char name[NAME_MAX + 1];
	for (int round = renames - 1; round >= 0 && !hit; round--)
		for (int t = 0; t < RENAME_TRIES && !hit; t++) {
			struct stat st;
			rename_name(seed, round, t, name, len);
			hit = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
			      major(st.st_dev) == maj && minor(st.st_dev) == min && (unsigned long long)st.st_ino == ino;
		}
	close(dirfd);
	if (hit)
		snprintf(found, n, "%.*s%s", (int)dl, path, name);
	return hit;
}
