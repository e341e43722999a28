/* tempfile.h - hidden outputs being written, recorded so that a killed
 * run's leftovers are found and destroyed.
 *
 * An output (-o) is written under no name at all where the file system
 * has O_TMPFILE (atomic.h), and a killed run leaves nothing.  Elsewhere
 * (FUSE, some network file systems) it is written to a hidden
 * ".NAME.spif-XXXXXX" beside the target, and a kill -9, a crash or a
 * power cut before the commit leaves it there, holding records with
 * numbers, known to nobody.  So its name goes into the catalog's
 * tempfiles table first:
 *
 *   - spif_tempfile_record commits the row (path, target, pid, uid, time,
 *     command) with its event BEFORE the file is created: there is never a
 *     moment when the file exists and the catalog does not know of it.
 *   - The writer holds an flock on the file while it writes (atomic.c).
 *   - spif_tempfile_forget drops the row once the file is linked into
 *     place or removed.
 *   - spif_tempfile_sweep destroys the file of a row whose writer is gone
 *     (its flock is free and its pid is not alive: both, so that a writer
 *     between creating and locking, or one whose lock the file system
 *     cannot show, is never touched; a pid reused by another process only
 *     delays the sweep until that one ends), overwriting it through a
 *     descriptor opened with no symbolic link followed (wipe.h), then
 *     drops the row with an event.
 *
 * Where no catalog exists (a stream tool run with no home) the fallback
 * cannot be recorded; the man pages say so. */
#ifndef SPIF_TEMPFILE_H
#define SPIF_TEMPFILE_H

#include <limits.h>
#include <stddef.h>

#include "catalog.h"
#include "err.h"

/* Record path (absolute: the hidden temporary) for target, written by
 * this process for command ("ingest"), in a transaction of its own with a
 * "tempfile.record" event.  The catalog must not be in a transaction. */
int spif_tempfile_record(struct spif_catalog *c, const char *path, const char *target, const char *command,
                         struct spif_err *err);
/* Drop the row of path.  Outside a transaction: one of its own with a
 * "tempfile.forget" event.  Inside the caller's (an output put in place
 * while its copy is registered): the deletion joins it and the caller's
 * event records it; a rollback brings the row back for a sweep to drop. */
int spif_tempfile_forget(struct spif_catalog *c, const char *path, struct spif_err *err);

/* What a sweep did with one row. */
enum spif_leftover_fate {
	SPIF_LEFTOVER_DESTROYED, /* overwritten and unlinked */
	SPIF_LEFTOVER_UNLINKED,  /* a second name of a committed output: the name removed */
	SPIF_LEFTOVER_GONE,      /* the file was not there: only the row dropped */
	SPIF_LEFTOVER_FAILED,    /* could not be destroyed: why says; the row stays */
};
struct spif_leftover {
	char path[PATH_MAX];
	char target[PATH_MAX];
	long long pid;
	long long uid;
	char created[32];
	char command[32];
	enum spif_leftover_fate fate;
	char why[256];
};

/* For each row (all_uids 0: only the real uid's, what every writing
 * command does; 1: every row, for catalog check) whose writer is gone:
 * destroy its file and drop the row with a "tempfile.destroy" event.
 * Rows whose writer may still be writing are left alone and not listed.
 * *out (free() it) gets one entry per row acted on; -1 with err only when
 * the catalog cannot be read or written. */
int spif_tempfile_sweep(struct spif_catalog *c, int all_uids, struct spif_leftover **out, size_t *n,
                        struct spif_err *err);
/* How many rows there are (all uids), for tests and listings. */
int spif_tempfile_count(struct spif_catalog *c, long long *n, struct spif_err *err);

#endif
