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
#include <sys/stat.h>

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
	char reason_local[256];   /* the same in the reader's language, for what is printed;
	                             certificates and events keep reason */
	int attestable;           /* when 0 only because the medium's kind cannot be seen
	                             (a virtual disk, USB): the filesystem writes in place, and
	                             an administrator who knows the storage may vouch for it */
	char medium_disk[64];     /* the disk that verdict is about ("vda"), for a loop device
	                             the disk under its image file */
};

/* ---- a target, opened once ------------------------------------------------
 *
 * Whatever is said of a file (its medium, its hash) and whatever is done
 * to it (the overwrite, the renames, the unlink) must be about one and the
 * same file.  Resolving its path anew for each step lets anyone who can
 * rename things along the path (a parent directory swapped for a symbolic
 * link to another filesystem between the probe and the overwrite, a file
 * put in the place of another) make the steps see different files, and a
 * certificate describe bytes that were never overwritten.  So a target is
 * opened once, with no symbolic link followed at any component of its
 * path (openat2 RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS where the
 * kernel has it, else a walk from "/" one component at a time with
 * O_NOFOLLOW | O_DIRECTORY), and everything after works on its descriptor
 * and its directory's: the probe (fstat, fstatfs, ioctls on the
 * descriptor), the hash, the overwrite, and the renames and the unlink
 * relative to the directory, each checked on the directory to still name
 * the same device and inode. */
struct spif_target {
	const char *path;         /* as given, for messages (the caller keeps it) */
	int dirfd;                /* its directory, O_RDONLY | O_DIRECTORY */
	int own_dir;              /* dirfd is closed with this target (not borrowed) */
	int fd;                   /* the file: read-write, or read-only (write_errno) */
	int write_errno;          /* why it could not be opened read-write (EROFS, EACCES...), 0 */
	struct stat st;           /* fstat(fd) when opened */
	struct stat dst;          /* fstat(dirfd) */
	char base[NAME_MAX + 1];  /* its name in dirfd when opened */
	char name[NAME_MAX + 1];  /* its name now (the renames change it) */
	int hashed;               /* spif_target_hash done: */
	char sha256[65];          /*   its contents' SHA-256, */
	struct stat hst;          /*   and fstat(fd) when they were hashed */
};

/* Open path (a regular file) as a target: writable tries read-write first
 * and keeps the error (write_errno) when only read-only works, which
 * spif_wipe_target reports before writing anything.  A symbolic link at
 * any component, a directory, device, FIFO or socket is SPIF_EX_DATAERR
 * ("PATH: is a symbolic link", "PATH: a directory on its path is a symbolic
 * link", "PATH: is a FIFO"...), missing SPIF_EX_NOINPUT; a file replaced
 * while it was being opened SPIF_EX_TEMPFAIL.  Needs spif_target_close. */
int spif_target_open(struct spif_target *t, const char *path, int writable, struct spif_err *err);
/* Close what is still open (a borrowed directory is left to its owner). */
void spif_target_close(struct spif_target *t);
/* When t's directory is owner's (same device and inode), close t's own
 * descriptor of it and use owner's: runs over thousands of files in one
 * directory keep one descriptor of it.  owner must outlive t.  1 shared. */
int spif_target_share_dir(struct spif_target *t, const struct spif_target *owner);
/* Move the target's descriptors to numbers >= floor (F_DUPFD_CLOEXEC), so
 * that holding many leaves the low numbers to libraries that select(2).
 * A directory is moved only when owned: park a target before another
 * borrows its directory. */
int spif_target_park(struct spif_target *t, int floor, struct spif_err *err);
/* SHA-256 of its contents, through its descriptor, into t->sha256, with
 * t->hst.  A file that changed while it was read is SPIF_EX_TEMPFAIL
 * "PATH: changed while being examined; try again"; *stop (may be NULL)
 * stops it with SPIF_EX_TEMPFAIL. */
int spif_target_hash(struct spif_target *t, volatile sig_atomic_t *stop, struct spif_err *err);

/* What the probe learns from a device number (its mount record, its
 * sysfs facts), kept by a caller that probes many targets in one run and
 * dropped whenever the mount table changes (wipe_probe.c).  NULL from new
 * when out of memory, and NULL is a valid cache that keeps nothing. */
struct spif_probe_cache;
struct spif_probe_cache *spif_probe_cache_new(void);
void spif_probe_cache_free(struct spif_probe_cache *pc);

/* Find out where the target's bytes live: fstat, fstatfs and the ioctls
 * on its descriptor, the device from its st_dev (through pc, NULL: none). */
int spif_wipe_probe_target(const struct spif_target *t, struct spif_probe_cache *pc, struct spif_medium *m,
                           struct spif_err *err);
/* The same for a path, opened as a target (read-only) for the purpose. */
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
	int changed;              /* refused: a target hashed before (spif_target_hash) held
	                             other contents when the overwrite was to begin */
};

/* Overwrite the target and remove it: refuse nlink > 1 unless
 * allow_links, hash the contents, overwrite the whole allocated size with
 * random data (`passes` times, fdatasync after each) and zeros when asked,
 * read the last pass back and compare (verification; a mismatch is
 * SPIF_EX_IOERR and nothing is removed), truncate to 0, rename to a name
 * of the same length (`renames` times, random or derived from name_seed)
 * fsyncing the directory each time, unlink, fsync the directory, close
 * t->fd.  A rename happens only after the read-back matched and the
 * truncation.  Interrupted by *stop: returns -1 with SPIF_EX_TEMPFAIL and
 * r->interrupted = 1, the file left in place (under its original name).
 * Read-only filesystem: SPIF_EX_NOPERM.
 *
 * A target hashed before (spif_target_hash) must still hold what was
 * hashed: a small file is hashed again and compared before the first
 * write; a large one (4 MiB and more) is not read twice, but taken as
 * unchanged only when its size, change and modification times are those
 * of the hash.  Otherwise nothing is written: -1 with SPIF_EX_TEMPFAIL and
 * r->changed = 1.  sha256_before is then the hash taken before. */
int spif_wipe_target(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                     struct spif_err *err);

/* spif_wipe_target of path, opened as a target for the purpose (not
 * hashed before: the hash is taken as it is overwritten). */
int spif_wipe_file(const char *path, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                   struct spif_err *err);

/* After a crash: the file that was at path (device maj:min, inode ino), if
 * spif_wipe_target had renamed it with name_seed seed and at most `renames`
 * renames (SPIF_WIPE_RENAMES when 0) and it is still there under one of
 * those names.  1 with its path in found, 0 when it is under none of them
 * (or its directory is gone), -1 when the directory cannot be read.  The
 * directory is opened as a target's is, with no symbolic link followed. */
int spif_wipe_find_renamed(const char *path, const unsigned char *seed, int renames, unsigned maj, unsigned min,
                           unsigned long long ino, char *found, size_t n, struct spif_err *err);

#endif
