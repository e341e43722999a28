/* atomic.c - see atomic.h */
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "tempfile.h"

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

static int atomic_open(struct spif_atomic *a, struct spif_catalog *cat, const char *command, const char *path,
                       mode_t mode, int home, struct spif_err *err);

int spif_atomic_open(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err)
{
	return atomic_open(a, NULL, NULL, path, mode, 0, err);
}

int spif_atomic_open_rec(struct spif_atomic *a, struct spif_catalog *cat, const char *command, const char *path,
                         mode_t mode, struct spif_err *err)
{
	return atomic_open(a, cat, command, path, mode, 0, err);
}

int spif_atomic_open_home(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err)
{
	return atomic_open(a, NULL, NULL, path, mode, 1, err);
}

/* The catalog is spif's, not the caller's: its rows are written with the
 * service's ids (g: the token of spif_as_caller, taken back after). */
static int record(struct spif_atomic *a, struct spif_catalog *cat, const char *command, const char *target, int *g,
                  struct spif_err *err)
{
	spif_as_service(*g);
	int rc = spif_tempfile_record(cat, a->tmp, target, command, err);
	*g = a->home ? -1 : spif_as_caller();
	if (rc == 0) {
		a->cat = cat;
		snprintf(a->command, sizeof a->command, "%s", command);
	}
	return rc;
}

/* Drop the row of the named temporary (its file is in place or gone). */
static void settle(struct spif_atomic *a)
{
	if (a->cat && a->tmp[0]) {
		struct spif_err e = {0};
		spif_tempfile_forget(a->cat, a->tmp, &e); /* else a sweep finds it gone */
	}
	a->cat = NULL;
}

/* ".NAME.spif-XXXXXX" in the directory absdir, X random. */
static int temp_name(struct spif_atomic *a, const char *absdir, const char *base)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[6];
	char x[7];
	if (getentropy(r, sizeof r) < 0)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		x[i] = set[r[i] % (sizeof set - 1)];
	x[6] = '\0';
	if (snprintf(a->tmp, sizeof a->tmp, "%s/.%s.spif-%s", strcmp(absdir, "/") ? absdir : "", base, x) >=
	    (int)sizeof a->tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int open_named(struct spif_atomic *a, struct spif_catalog *cat, const char *command, const char *dir,
                      const char *base, int *g, struct spif_err *err)
{
	char absdir[PATH_MAX], target[PATH_MAX + NAME_MAX + 2];
	if (!realpath(dir, absdir))
		return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", a->path);
	snprintf(target, sizeof target, "%s/%s", strcmp(absdir, "/") ? absdir : "", base);
	for (int tries = 0;; tries++) {
		if (temp_name(a, absdir, base) < 0) {
			int e = errno;
			a->tmp[0] = '\0';
			return spif_err_sys(err, SPIF_EX_CANTCREAT, e, "%s", a->path);
		}
		/* the catalog knows the name before the file exists (tempfile.h) */
		if (cat && record(a, cat, command, target, g, err) < 0) {
			a->tmp[0] = '\0';
			return -1;
		}
		a->fd = open(a->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (a->fd >= 0)
			break;
		int e = errno;
		spif_as_service(*g);
		settle(a);
		*g = a->home ? -1 : spif_as_caller();
		if (e != EEXIST || tries >= 16) {
			a->tmp[0] = '\0';
			return spif_err_sys(err, SPIF_EX_CANTCREAT, e, "%s", a->path);
		}
	}
	/* held while it is written: a sweep leaves a locked file alone */
	flock(a->fd, LOCK_EX);
	return 0;
}

static int atomic_open(struct spif_atomic *a, struct spif_catalog *cat, const char *command, const char *path,
                       mode_t mode, int home, struct spif_err *err)
{
	memset(a, 0, sizeof *a);
	a->fd = -1;
	a->home = home;
	int g = home ? -1 : spif_as_caller();
	int rc = -1;
	struct stat st;
	if (lstat(path, &st) == 0) {
		spif_err_set(err, SPIF_EX_CANTCREAT, "%s: already exists; spif does not overwrite (remove it with spif shred)",
		             path);
		goto out;
	}
	char d[PATH_MAX], b[PATH_MAX];
	snprintf(d, sizeof d, "%s", path);
	snprintf(b, sizeof b, "%s", path);
	const char *dir = dirname(d);
	if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path) {
		spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", path);
		goto out;
	}
	/* unnamed: nothing to find or remove if the run dies before commit */
	a->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (a->fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", path);
		goto out;
	}
	/* no O_TMPFILE here: a hidden named one (see atomic.h) */
	if (a->fd < 0 && open_named(a, cat, command, dir, basename(b), &g, err) < 0)
		goto out;
	fchmod(a->fd, mode);
	rc = 0;
out:
	spif_as_service(g);
	return rc;
}

int spif_atomic_record(struct spif_atomic *a, struct spif_catalog *cat, const char *command, struct spif_err *err)
{
	if (!a->tmp[0] || a->cat == cat)
		return 0;
	if (a->cat) { /* recorded through another connection: only hand it over */
		a->cat = cat;
		return 0;
	}
	char d[PATH_MAX], b[PATH_MAX], absdir[PATH_MAX], target[PATH_MAX + NAME_MAX + 2];
	snprintf(d, sizeof d, "%s", a->path);
	snprintf(b, sizeof b, "%s", a->path);
	int g = a->home ? -1 : spif_as_caller();
	char *r = realpath(dirname(d), absdir);
	int e = errno;
	spif_as_service(g);
	if (!r)
		return spif_err_sys(err, SPIF_EX_CANTCREAT, e, "%s", a->path);
	snprintf(target, sizeof target, "%s/%s", strcmp(absdir, "/") ? absdir : "", basename(b));
	g = -1; /* record() leaves it as the caller */
	int rc = record(a, cat, command, target, &g, err);
	spif_as_service(g);
	return rc;
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
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", a->tmp);
	int rc = atomic_commit(a, err);
	spif_as_service(g);
	if (rc == 0 && a->cat) { /* in place: the row goes (tmp was cleared) */
		snprintf(a->tmp, sizeof a->tmp, "%s", tmp);
		settle(a);
		a->tmp[0] = '\0';
	}
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
	settle(a);
	a->tmp[0] = '\0';
}

const char *spif_atomic_tmpname(const struct spif_atomic *a)
{
	return a->tmp[0] ? a->tmp : NULL;
}
