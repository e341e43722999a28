/* atomic.h - output files that appear whole or not at all.
 *
 * Data is written to a file beside the target (same filesystem) that has
 * no name yet, fsync'd, then linked into place without replacing anything:
 * an existing target is refused rather than overwritten, because the old
 * contents would be left on the medium unaccounted for.
 *
 * The file is unnamed (O_TMPFILE) so that a run killed before its commit
 * (kill -9, a crash, a power cut) leaves no file behind: a named temporary
 * would stay, hidden, holding records with numbers that no rerun removes
 * and no catalog entry points at.  A file system without O_TMPFILE gets
 * the old way, a hidden named temporary ".NAME.spif-XXXXXX" in the same
 * directory; then tmp holds its name (tmp[0] is '\0' for an unnamed one),
 * so that a caller can remove it from a signal handler or note where it
 * is.  Given a catalog (spif_atomic_open_rec), that name is recorded in
 * it, committed, before the file is created, the file is flock'ed while
 * it is written, and the row is dropped once the file is put in place or
 * removed (tempfile.h): what a killed run leaves is found and destroyed
 * by the next writing command or spif catalog check.  Without a catalog
 * (a stream tool run with no home) the fallback is not recorded.  The
 * unnamed file needs none of this. */
#ifndef SPIF_ATOMIC_H
#define SPIF_ATOMIC_H

#include <limits.h>
#include <sys/types.h>

#include "err.h"

struct spif_catalog;

struct spif_atomic {
	int fd;
	char path[PATH_MAX];
	char tmp[PATH_MAX]; /* the named temporary; "" when the file is unnamed */
	int home;           /* a file of spif's home (spif_atomic_open_home) */
	/* the named temporary's row in a catalog (tempfile.h), or cat NULL */
	struct spif_catalog *cat;
	char command[32];
};

/* Create the temporary file (mode).  SPIF_EX_CANTCREAT when path exists
 * or its directory cannot be written.  The file is the caller's (-o): in
 * a system install it is created and named as the caller, never with the
 * setgid group that reaches the home (home.h). */
int spif_atomic_open(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err);
/* The same for a file spif keeps in its own home (vault, keys), with the
 * group that reaches it. */
int spif_atomic_open_home(struct spif_atomic *a, const char *path, mode_t mode, struct spif_err *err);
/* spif_atomic_open, for an output written by command ("ingest"): where
 * the fallback is taken, its name is recorded in cat (NULL: not
 * recorded) before the file is created.  Errors of the catalog are the
 * catalog's (SPIF_EX_TEMPFAIL when it is busy): nothing is created then. */
int spif_atomic_open_rec(struct spif_atomic *a, struct spif_catalog *cat, const char *command, const char *path,
                         mode_t mode, struct spif_err *err);
/* Record the named temporary of a file opened before a catalog was at
 * hand (ingest's first run creates it only once the input has proved
 * good; the file is still empty and must stay so until this returns), or
 * move its row to connection cat (the one that will be open at commit or
 * abort).  Nothing for an unnamed file.  Not inside a transaction. */
int spif_atomic_record(struct spif_atomic *a, struct spif_catalog *cat, const char *command, struct spif_err *err);
/* fsync, put in place (refusing to replace), fsync the directory; drop
 * the temporary's row (inside cat's transaction when one is open). */
int spif_atomic_commit(struct spif_atomic *a, struct spif_err *err);
/* Remove the temporary file (after a failure) and drop its row.  Safe to
 * call twice. */
void spif_atomic_abort(struct spif_atomic *a);
/* fsync the directory that holds path. */
int spif_fsync_dir_of(const char *path);
/* The named temporary a killed run would leave (the fallback above), or
 * NULL when the file has no name: what a catalog step would record. */
const char *spif_atomic_tmpname(const struct spif_atomic *a);

#endif
