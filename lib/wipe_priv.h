/* wipe_priv.h - the verdict rules of wipe.c and what wipe.c and
 * wipe_target.c share, for them and their unit test
 * (tests/unit/test_wipe.c) only; commands use wipe.h. */
#ifndef SPIF_WIPE_PRIV_H
#define SPIF_WIPE_PRIV_H

#include <stddef.h>
#include <sys/stat.h>

#include "wipe.h"

/* Whether an overwrite through filesystem fstype lands on the blocks that
 * held the data.  data_journal: mounted data=journal; journal_flag: the
 * file has data journalling on (chattr +j); shared_extents: FIEMAP showed
 * a shared extent.  1, or 0 with one phrase in reason. */
int spif_wipe_fs_verdict(const char *fstype, int data_journal, int journal_flag, int shared_extents,
                         char *reason, size_t n);

/* Whether the medium keeps an overwrite where it was written: rotational
 * as in struct spif_medium, why: "" or why the device cannot be trusted
 * (virtual disk, memory, network, device-mapper snapshot...).  1, or 0
 * with one phrase in reason. */
int spif_wipe_medium_verdict(int rotational, const char *why, char *reason, size_t n);

/* For the unit test: spif_wipe_file with hooks into the overwrite (NULL:
 * none, which is what spif_wipe_file passes). */
struct spif_wipe_hooks {
	/* Called before bytes [off, off+n) of the last pass are read back
	 * (from a worker thread on large files), with the file's descriptor
	 * (open read-write): a test may change the file there to see the
	 * verification catch it. */
	void (*before_readback)(void *ctx, int fd, long long off, long long n);
	/* Called after rename `round` (0-based) to name, synced: nonzero
	 * stops the wipe there as a crash would (-1, the file left under
	 * name). */
	int (*after_rename)(void *ctx, int round, const char *name);
	void *ctx;
};

int spif_wipe_file_hooked(const char *path, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                          struct spif_err *err, const struct spif_wipe_hooks *hooks);
int spif_wipe_target_hooked(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                            struct spif_err *err, const struct spif_wipe_hooks *hooks);

/* What a file of this mode is ("is a symbolic link", "is a FIFO"...), when
 * it is not a regular file; else NULL. */
const char *spif_wipe_not_regular(mode_t mode);
/* The same file, unchanged: its identity, size, modification and change
 * times (the change time moves with any write, and no caller can set it). */
int spif_wipe_same_stamp(const struct stat *a, const struct stat *b);

/* For the unit test: open path's directory as spif_target_open does, by
 * openat2 (how 1), by the walk one component at a time (how 2), or either
 * (0: openat2 where the kernel has it).  The directory descriptor, or -1
 * with errno (ELOOP: a symbolic link on the way). */
int spif_wipe_open_dir(const char *dir, int how);

/* pread until n bytes or the end: how many were read, -1 with errno. */
ssize_t spif_pread_full(int fd, unsigned char *p, size_t n, off_t off);

#endif
