/* wipe.h - overwriting a file so that its data is gone from the medium
 * (NIST SP 800-88 Clear), and finding out first whether that can work.
 *
 * Overwriting reaches the medium only when the filesystem writes in place
 * and the device does too.  Copy-on-write (btrfs, zfs, xfs/ext4 reflinks,
 * snapshots), journalled data (ext3/4 data=journal), network and memory
 * filesystems, SSD/flash (wear levelling) and anything unknown make an
 * overwrite unprovable.  spif_wipe_probe says which, and why. */
#ifndef SPIF_WIPE_H
#define SPIF_WIPE_H

#include <limits.h>
#include <signal.h>

#include "err.h"

/* Where a file's bytes live. */
struct spif_medium {
	char fstype[32];          /* "ext4", "btrfs", "tmpfs", ... from statfs f_type */
	unsigned dev_major, dev_minor; /* st_dev of the file */
	char device[64];          /* block device name in /sys ("vda", "loop0", "sda1") or "" */
	char model[128];          /* from /sys (device/model or device/vendor), "" if none */
	char serial[128];         /* from /sys (device/serial or wwid), "" if none */
	int rotational;           /* 1 spinning, 0 SSD/flash, -1 unknown */
	char backing[PATH_MAX];   /* loop device: its backing file, "" otherwise */
	char backing_fstype[32];  /* and the filesystem that file lives on */
	int backing_rotational;   /* and whether that medium rotates (-1 unknown) */
	int data_journal;         /* ext3/ext4 mounted data=journal */
	int shared_extents;       /* FIEMAP reports a shared extent (reflink, snapshot) */
	long nlink;               /* hard links to the file */
	unsigned long long ino;   /* st_ino: with dev_major:dev_minor, the file itself */
	long long size;           /* st_size */
	long long allocated;      /* st_blocks * 512 */
	int reaches_medium;       /* 1 when an overwrite can be shown to reach the medium */
	char reason[256];         /* when 0: why not, one phrase, e.g. "tmpfs keeps data in
	                             memory and swap" or "btrfs is copy-on-write" */
	int attestable;           /* when 0 only because the medium's kind cannot be seen
	                             (a virtual disk, USB): the filesystem writes in place, and
	                             an administrator who knows the storage may vouch for it */
	char medium_disk[64];     /* the disk that verdict is about ("vda"), for a loop device
	                             the disk under its image file */
};

/* Find out where path's bytes live.  path must be a regular file (lstat:
 * symlinks, directories, devices, FIFOs and sockets are SPIF_EX_DATAERR
 * "PATH: is a symbolic link" etc.); missing is SPIF_EX_NOINPUT. */
int spif_wipe_probe(const char *path, struct spif_medium *m, struct spif_err *err);

struct spif_wipe_opts {
	int passes;               /* random passes, >= 1 */
	int zero;                 /* add a final pass of zeros */
	int allow_links;          /* overwrite even when nlink > 1 (--force) */
	volatile sig_atomic_t *stop; /* set by a signal handler: stop after the current write */
	void (*progress)(void *ctx, long long done, long long total); /* may be NULL */
	void *progress_ctx;
	int renames;              /* renames before unlink (SPIF_WIPE_RENAMES when 0, none when < 0) */
	const unsigned char *name_seed; /* SPIF_WIPE_SEED bytes: the rename names are derived from
	                             it, so that spif_wipe_find_renamed can find the file again
	                             after a crash; NULL: fresh random names */
};

#define SPIF_WIPE_RENAMES 3       /* renames to names of the same length, each synced */
#define SPIF_WIPE_SEED 16

struct spif_wipe_result {
	int passes_done;          /* passes written and fdatasync'd */
	long long bytes;          /* bytes overwritten per pass (the allocated size, >= st_size) */
	int verified;             /* 1: the last pass was read back and matched */
	char pattern[96];         /* e.g. "1 pass random (AES-256-CTR keystream) + zeros" */
	char sha256_before[65];   /* SHA-256 of the contents just before overwriting */
	int interrupted;          /* stopped by *stop: the file still exists, partly overwritten
	                             when overwrite_begun */
	int overwrite_begun;      /* a write of a pass was issued: the contents may have changed
	                             (set on failure and interruption too) */
};

/* Overwrite path and remove it: open O_NOFOLLOW|O_NOCTTY, refuse what
 * spif_wipe_probe refuses, refuse nlink > 1 unless allow_links, hash the
 * contents, overwrite the whole allocated size with random data (`passes`
 * times, fdatasync after each) and zeros when asked, read the last pass
 * back and compare (verification; a mismatch is SPIF_EX_IOERR and nothing
 * is removed), truncate to 0, rename to a name of the same length
 * (`renames` times, random or derived from name_seed) fsyncing the
 * directory each time, unlink, fsync the directory.  A rename happens only
 * after the read-back matched and the truncation.  Interrupted by *stop: returns -1 with SPIF_EX_TEMPFAIL and
 * r->interrupted = 1, the file left in place (under its original name).
 * Read-only filesystem: SPIF_EX_NOPERM. */
int spif_wipe_file(const char *path, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                   struct spif_err *err);

/* After a crash: the file that was at path (device maj:min, inode ino), if
 * spif_wipe_file had renamed it with name_seed seed and at most `renames`
 * renames (SPIF_WIPE_RENAMES when 0) and it is still there under one of
 * those names.  1 with its path in found, 0 when it is under none of them,
 * -1 when the directory cannot be read. */
int spif_wipe_find_renamed(const char *path, const unsigned char *seed, int renames, unsigned maj, unsigned min,
                           unsigned long long ino, char *found, size_t n, struct spif_err *err);

#endif
