/* atomic.h - output files that appear whole or not at all.
 *
 * Data is written to a hidden temporary file beside the target (same
 * filesystem), fsync'd, then linked into place without replacing anything:
 * an existing target is refused rather than overwritten, because the old
 * contents would be left on the medium unaccounted for. */
#ifndef SPIF_ATOMIC_H
#define SPIF_ATOMIC_H

#include <limits.h>
#include <sys/types.h>

#include "err.h"

struct spif_atomic {
	int fd;
	char path[PATH_MAX];
	char tmp[PATH_MAX];
};

/* Create the temporary file (mode).  SPIF_EX_CANTCREAT when path exists
 * or its directory cannot be written. */
int spif_atomic_open(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err);
/* fsync, put in place (refusing to replace), fsync the directory. */
int spif_atomic_commit(struct spif_atomic *a, struct spif_err *err);
/* Remove the temporary file (after a failure).  Safe to call twice. */
void spif_atomic_abort(struct spif_atomic *a);
/* fsync the directory that holds path. */
int spif_fsync_dir_of(const char *path);

#endif
