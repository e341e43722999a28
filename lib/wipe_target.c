/* wipe_target.c - a file to destroy, opened once (see wipe.h): its
 * directory opened with no symbolic link followed (openat2, or a walk with
 * O_NOFOLLOW), then the file in it by name (fstatat for its kind, openat
 * O_NOFOLLOW, fstat to see it is the file looked at), and its hash through
 * that descriptor.  Everything else (wipe.c) goes through the two
 * descriptors, so that no step can be shown another file than the others. */
#include "wipe.h"
#include "wipe_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#endif
#if defined(SYS_openat2) && defined(RESOLVE_NO_SYMLINKS)
#define HAVE_OPENAT2 1
#endif

#include "digest.h"
#include "home.h"

#define CHUNK (1024 * 1024) /* the hash reads this much at a time */

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* What a file of this mode is, when it is not a regular file; else NULL. */
const char *spif_wipe_not_regular(mode_t mode)
{
	if (S_ISREG(mode))
		return NULL;
	if (S_ISLNK(mode))
		return "is a symbolic link";
	if (S_ISDIR(mode))
		return "is a directory";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "is a device";
	if (S_ISFIFO(mode))
		return "is a FIFO";
	if (S_ISSOCK(mode))
		return "is a socket";
	return "is not a regular file";
}

/* The same file, unchanged: its identity, size, modification and change
 * times (the change time moves with any write, and no caller can set it). */
int spif_wipe_same_stamp(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* ---- the directory, with no symbolic link followed ------------------------ */

#ifdef HAVE_OPENAT2
static int open_dir_openat2(const char *dir)
{
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof how);
}
#endif

/* Where openat2 is missing (before Linux 5.6) or refused (a seccomp filter
 * answers ENOSYS or EPERM): one component at a time from "/" (or the
 * working directory), each opened O_PATH | O_NOFOLLOW | O_DIRECTORY and
 * checked to be a directory; a symbolic link is ELOOP. */
static int open_dir_walk(const char *dir)
{
	int cur = open(dir[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return -1;
	char comp[NAME_MAX + 1];
	for (const char *p = dir; *p;) {
		while (*p == '/')
			p++;
		size_t k = strcspn(p, "/");
		if (k == 0)
			break;
		if (k > NAME_MAX) {
			close(cur);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, k);
		comp[k] = '\0';
		p += k;
		struct stat st;
		int next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		if (next >= 0 && (fstat(next, &st) < 0 || !S_ISDIR(st.st_mode))) {
			/* O_PATH | O_NOFOLLOW can give the link itself */
			e = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
			close(next);
			next = -1;
		} else if (next < 0 && e == ENOTDIR && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		           S_ISLNK(st.st_mode))
			e = ELOOP;
		close(cur);
		if (next < 0) {
			errno = e;
			return -1;
		}
		cur = next;
	}
	int fd = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e = errno;
	close(cur);
	errno = e;
	return fd;
}

int spif_wipe_open_dir(const char *dir, int how)
{
#ifdef HAVE_OPENAT2
	if (how != 2) {
		int fd = open_dir_openat2(dir);
		if (fd >= 0 || how == 1 || (errno != ENOSYS && errno != EPERM))
			return fd;
	}
#else
	if (how == 1) {
		errno = ENOSYS;
		return -1;
	}
#endif
	return open_dir_walk(dir);
}

void spif_target_close(struct spif_target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->own_dir && t->dirfd >= 0)
		close(t->dirfd);
	t->fd = t->dirfd = -1;
	t->own_dir = 0;
}

static int target_open_as_caller(struct spif_target *t, const char *path, int writable, struct spif_err *err);

int spif_target_open(struct spif_target *t, const char *path, int writable, struct spif_err *err)
{
	int g = spif_as_caller(); /* the caller's file, as the caller (home.h) */
	int rc = target_open_as_caller(t, path, writable, err);
	spif_as_service(g);
	return rc;
}

static int target_open_as_caller(struct spif_target *t, const char *path, int writable, struct spif_err *err)
{
	memset(t, 0, sizeof *t);
	t->fd = t->dirfd = -1;
	t->path = path;
	size_t plen = strlen(path);
	if (plen == 0)
		return spif_err_sys(err, SPIF_EX_NOINPUT, ENOENT, "%s", path);
	if (path[plen - 1] == '/') { /* names a directory, if anything: say what */
		struct stat st;
		if (lstat(path, &st) < 0) {
			int e = errno;
			return spif_err_sys(err, spif_exit_for_errno(e), e, "%s", path);
		}
		const char *what = spif_wipe_not_regular(st.st_mode);
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: %s", path, what ? what : "is not a regular file");
	}
	const char *base = base_of(path);
	if (strlen(base) > NAME_MAX)
		return spif_err_sys(err, SPIF_EX_NOINPUT, ENAMETOOLONG, "%s", path);
	char *dir = base == path ? strdup(".") : base - 1 == path ? strdup("/") : strndup(path, (size_t)(base - 1 - path));
	if (!dir)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", path);
	t->dirfd = spif_wipe_open_dir(dir, 0);
	int e = errno;
	free(dir);
	if (t->dirfd < 0) {
		if (e == ELOOP)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: a directory on its path is a symbolic link", path);
		return spif_err_sys(err, spif_exit_for_errno(e), e, "%s", path);
	}
	t->own_dir = 1;
	copy_str(t->base, sizeof t->base, base);
	copy_str(t->name, sizeof t->name, base);
	struct stat st;
	const char *what;
	if (fstat(t->dirfd, &t->dst) < 0 || fstatat(t->dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		spif_err_sys(err, spif_exit_for_errno(e), e, "%s", path);
		goto fail;
	}
	/* its kind from the directory entry: a FIFO or a device is never opened */
	if ((what = spif_wipe_not_regular(st.st_mode)) != NULL) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s: %s", path, what);
		goto fail;
	}
	const int fl = O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK;
	t->fd = openat(t->dirfd, base, (writable ? O_RDWR : O_RDONLY) | fl);
	if (t->fd < 0 && writable && (errno == EROFS || errno == EACCES || errno == EPERM || errno == ETXTBSY)) {
		/* examined all the same; the overwrite reports it before writing */
		t->write_errno = errno;
		t->fd = openat(t->dirfd, base, O_RDONLY | fl);
	}
	if (t->fd < 0) {
		e = errno;
		if (e == ELOOP)
			spif_err_set(err, SPIF_EX_DATAERR, "%s: is a symbolic link", path);
		else
			spif_err_sys(err, spif_exit_for_errno(e), e, "%s", path);
		goto fail;
	}
	if (fstat(t->fd, &t->st) < 0 || !S_ISREG(t->st.st_mode) || t->st.st_dev != st.st_dev ||
	    t->st.st_ino != st.st_ino) {
		spif_err_set(err, SPIF_EX_TEMPFAIL, "%s: was replaced while being opened; try again", path);
		goto fail;
	}
	int flags = fcntl(t->fd, F_GETFL);
	if (flags >= 0)
		fcntl(t->fd, F_SETFL, flags & ~O_NONBLOCK);
	return 0;
fail:
	spif_target_close(t);
	return -1;
}

int spif_target_share_dir(struct spif_target *t, const struct spif_target *owner)
{
	if (!owner || owner == t || owner->dirfd < 0 || t->dirfd < 0 || !t->own_dir ||
	    owner->dst.st_dev != t->dst.st_dev || owner->dst.st_ino != t->dst.st_ino)
		return 0;
	close(t->dirfd);
	t->dirfd = owner->dirfd;
	t->own_dir = 0;
	return 1;
}

static int park(int *fd, int floor)
{
	if (*fd < 0 || *fd >= floor)
		return 0;
	int hi = fcntl(*fd, F_DUPFD_CLOEXEC, floor);
	if (hi < 0)
		return -1;
	close(*fd);
	*fd = hi;
	return 0;
}

int spif_target_park(struct spif_target *t, int floor, struct spif_err *err)
{
	if (park(&t->fd, floor) < 0 || (t->own_dir && park(&t->dirfd, floor) < 0)) {
		int e = errno;
		return spif_err_sys(err, spif_exit_for_errno(e), e, "%s", t->path);
	}
	return 0;
}

/* ---- its contents ---------------------------------------------------------- */

int spif_target_hash(struct spif_target *t, volatile sig_atomic_t *stop, struct spif_err *err)
{
	struct stat a, b;
	if (fstat(t->fd, &a) < 0) {
		int e = errno;
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s", t->path);
	}
	size_t bufsz = a.st_size < CHUNK ? (size_t)(a.st_size + 4095) / 4096 * 4096 : CHUNK;
	if (bufsz == 0)
		bufsz = 4096;
	unsigned char *buf = malloc(bufsz);
	struct spif_sha256 *sha = spif_sha256_new();
	int rc = -1;
	if (!buf || !sha) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", t->path);
		goto out;
	}
	posix_fadvise(t->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	long long off = 0;
	for (;;) {
		if (stop && *stop) {
			spif_err_set(err, SPIF_EX_TEMPFAIL, "%s: interrupted while it was being examined; nothing was "
			             "destroyed", t->path);
			goto out;
		}
		ssize_t got = spif_pread_full(t->fd, buf, bufsz, (off_t)off);
		if (got < 0) {
			int e = errno;
			spif_err_sys(err, SPIF_EX_IOERR, e, "%s: reading at byte %lld", t->path, off);
			goto out;
		}
		if (got == 0)
			break;
		spif_sha256_update(sha, buf, (size_t)got);
		off += got;
	}
	/* the hash is of one state of the file, or of none */
	if (fstat(t->fd, &b) < 0 || !spif_wipe_same_stamp(&a, &b) || off != (long long)b.st_size) {
		spif_err_set(err, SPIF_EX_TEMPFAIL, "%s: changed while being examined; try again", t->path);
		goto out;
	}
	spif_sha256_hex(sha, t->sha256);
	t->hst = b;
	t->hashed = 1;
	rc = 0;
out:
	if (buf) {
		explicit_bzero(buf, bufsz); /* it held the contents */
		free(buf);
	}
	spif_sha256_free(sha);
	return rc;
}
