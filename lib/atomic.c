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

int spif_atomic_open(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err)
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
	if (snprintf(a->tmp, sizeof a->tmp, "%s/.%s.spif-XXXXXX", dirname(d), basename(b)) >=
	    (int)sizeof a->tmp)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", path);
	snprintf(a->path, sizeof a->path, "%s", path);
	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd < 0) {
		int e = errno;
		a->tmp[0] = '\0';
		return spif_err_sys(err, SPIF_EX_CANTCREAT,
		                    e, "%s", path);
	}
	fchmod(a->fd, mode);
	return 0;
}

int spif_atomic_commit(struct spif_atomic *a, struct spif_err *err)
{
	if (fsync(a->fd) < 0) {
		int e = errno;
		spif_atomic_abort(a);
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s", a->path);
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
		close(a->fd);
	a->fd = -1;
	if (a->tmp[0])
		unlink(a->tmp);
	a->tmp[0] = '\0';
}
