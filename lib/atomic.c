/* atomic.c - see atomic.h */
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"

int spif_fsync_dir_of(const char *path)
{
	char d[PATH_MAX];
	snprintf(d, sizeof d, "%s", path);
	int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int atomic_open(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err);

int spif_atomic_open(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err)
{
	int g = spif_as_caller();
	int rc = atomic_open(a, path, mode, err);
	spif_as_service(g);
	return rc;
}

int spif_atomic_open_home(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err)
{
	int rc = atomic_open(a, path, mode, err);
	a->home = 1;
	return rc;
}

static int atomic_open(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err)
{
	memset(a, 0, sizeof *a);
	a->fd = -1;
	struct stat st;
	if (lstat(path, &st) == 0)
		return spif_err_set(err, SPIF_EX_CANTCREAT,
		                    "%s: already exists; spif does not overwrite (remove it with spif shred)",
		                    path);
	char d[PATH_MAX], b[PATH_MAX];
	snprintf(d, sizeof d, "%s", path);
	snprintf(b, sizeof b, "%s", path);
	const char *dir = dirname(d);
	if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", path);
	/* unnamed: nothing to find or remove if the run dies before commit */
	a->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (a->fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", path);
	if (a->fd < 0) {
		/* no O_TMPFILE here: a hidden named one (see atomic.h) */
		if (snprintf(a->tmp, sizeof a->tmp, "%s/.%s.spif-XXXXXX", dir, basename(b)) >=
		    (int)sizeof a->tmp) {
			a->tmp[0] = '\0';
			return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", path);
		}
		a->fd = mkostemp(a->tmp, O_CLOEXEC);
		if (a->fd < 0) {
			int e = errno;
			a->tmp[0] = '\0';
			return spif_err_sys(err, SPIF_EX_CANTCREAT, e, "%s", path);
		}
	}
	fchmod(a->fd, mode);
	return 0;
}

/* Give the unnamed file fd the name path; link(2) rules: never replaces.
 * Through /proc (any user may), else AT_EMPTY_PATH (needs privilege). */
static int link_unnamed(int fd, const char *path)
{
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	int e = errno;
	if (e == ENOENT && access("/proc/self/fd", F_OK) != 0) /* no /proc mounted */
		return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
	errno = e;
	return -1;
}

static int atomic_commit(struct spif_atomic *a, struct spif_err *err);

int spif_atomic_commit(struct spif_atomic *a, struct spif_err *err)
{
	/* named where it was made: as the caller, unless it is the home's */
	int g = a->home ? -1 : spif_as_caller();
	int rc = atomic_commit(a, err);
	spif_as_service(g);
	return rc;
}

static int atomic_commit(struct spif_atomic *a, struct spif_err *err)
{
	if (fsync(a->fd) < 0) {
		int e = errno;
		spif_atomic_abort(a);
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s", a->path);
	}
	if (!a->tmp[0]) {
		/* linkat() fails with EEXIST instead of replacing a file that appeared */
		if (link_unnamed(a->fd, a->path) < 0) {
			int e = errno;
			spif_atomic_abort(a);
			return spif_err_sys(err, SPIF_EX_CANTCREAT, e, "%s", a->path);
		}
		close(a->fd);
		a->fd = -1;
		spif_fsync_dir_of(a->path);
		return 0;
	}
	close(a->fd);
	a->fd = -1;
	/* link() fails with EEXIST instead of replacing a file that appeared */
	if (link(a->tmp, a->path) < 0) {
		int e = errno;
		spif_atomic_abort(a);
		return spif_err_sys(err, SPIF_EX_CANTCREAT, e, "%s", a->path);
	}
	unlink(a->tmp);
	a->tmp[0] = '\0';
	spif_fsync_dir_of(a->path);
	return 0;
}

void spif_atomic_abort(struct spif_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd); /* an unnamed file is gone with its last descriptor */
	a->fd = -1;
	int g = a->home ? -1 : spif_as_caller();
	if (a->tmp[0])
		unlink(a->tmp);
	spif_as_service(g);
	a->tmp[0] = '\0';
}

const char *spif_atomic_tmpname(const struct spif_atomic *a)
{
	return a->tmp[0] ? a->tmp : NULL;
}
