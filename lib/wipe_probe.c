/* wipe_probe.c - where a target's bytes live: the probe of wipe.h
 * (spif_wipe_probe, spif_wipe_probe_target) and its verdict rules
 * (wipe_priv.h).
 *
 * fstat for the kind of file, fstatfs for the filesystem,
 * /proc/self/mountinfo (matched on st_dev) for the exact ext* type and the
 * superblock options, FIEMAP for shared extents, FS_IOC_GETFLAGS for
 * per-file data journalling, /sys/dev/block/MAJ:MIN for the device (loop
 * devices: the image file is probed in turn; device-mapper and md: the
 * slaves).  The verdict is conservative: anything not known to write in
 * place, on a medium known to keep what it is given where it is given it,
 * is "does not reach the medium", with the reason.  What follows from a
 * device number is kept for the run while the mount table stays as it
 * was (see dev_facts); what the target's descriptor says never is. */
#include "wipe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "i18n.h"
#include "mountinfo.h"
#include "wipe_priv.h"

#define MAX_DEPTH 3 /* loop device on a file on a loop device on ... */

/* Each reason twice: in English, for certificates and events, and in the
 * reader's language, for what is printed (loc; NULL: not wanted).  lib/
 * only translates (i18n.h); each format is marked N_() for make pot. */
#define SAY(en, loc, n, fmt, ...)                                    \
	do {                                                         \
		char *say_loc_ = (loc);                              \
		snprintf((en), (n), fmt, ##__VA_ARGS__);             \
		if (say_loc_)                                        \
			snprintf(say_loc_, (n), _(fmt), ##__VA_ARGS__); \
	} while (0)

/* ---- small helpers -------------------------------------------------------- */

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* First line of a (sysfs/proc) file, whitespace trimmed at both ends.
 * 0, or -1 when it cannot be read or is empty. */
static int read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char *s = fgets(buf, (int)n, f);
	fclose(f);
	if (!s)
		return -1;
	size_t len = strlen(buf);
	while (len && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	size_t lead = 0;
	while (buf[lead] && isspace((unsigned char)buf[lead]))
		lead++;
	memmove(buf, buf + lead, len - lead + 1);
	return buf[0] ? 0 : -1;
}

static int read_linef(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int read_linef(char *buf, size_t n, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof path)
		return -1;
	return read_line(path, buf, n);
}

static int existsf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int existsf(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof path)
		return 0;
	return access(path, F_OK) == 0;
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* "name" followed by digits only (loop0, zram1, nbd12). */
static int name_num(const char *s, const char *name)
{
	if (!starts(s, name))
		return 0;
	s += strlen(name);
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* ---- the kind of file ----------------------------------------------------- */

/* lstat (or stat when follow) and refuse anything but a regular file. */
static int check_regular(const char *path, int follow, struct stat *st, struct spif_err *err)
{
	if ((follow ? stat(path, st) : lstat(path, st)) < 0) {
		int e = errno;
		return spif_err_sys(err, spif_exit_for_errno(e), e, "%s", path);
	}
	const char *what = spif_wipe_not_regular(st->st_mode);
	if (what)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: %s", path, what);
	return 0;
}

/* ---- filesystem ----------------------------------------------------------- */

static const struct {
	unsigned long magic;
	const char *name;
} fs_magic[] = {
	{0xEF53, "ext4"}, {0x9123683E, "btrfs"}, {0x58465342, "xfs"}, {0x2FC12FC1, "zfs"},
	{0xCA451A4E, "bcachefs"}, {0xF2F52010, "f2fs"}, {0x3434, "nilfs2"}, {0x01021994, "tmpfs"},
	{0x858458F6, "ramfs"}, {0x794C7630, "overlay"}, {0x6969, "nfs"}, {0xFF534D42, "cifs"},
	{0xFE534D42, "smb2"}, {0x517B, "smb"}, {0x00C36400, "ceph"}, {0x01021997, "9p"},
	{0x6B414653, "afs"}, {0x5346414F, "afs"}, {0x65735546, "fuse"}, {0x4D44, "vfat"},
	{0x2011BAB0, "exfat"}, {0x5346544E, "ntfs"}, {0x7366746E, "ntfs3"}, {0x73717368, "squashfs"},
	{0xE0F5E1E2, "erofs"}, {0x28CD3D45, "cramfs"}, {0x9660, "iso9660"}, {0x15013346, "udf"},
	{0x01161970, "gfs2"}, {0x7461636F, "ocfs2"}, {0x3153464A, "jfs"}, {0x52654973, "reiserfs"},
	{0x482B, "hfsplus"}, {0x4244, "hfs"}, {0xF15F, "ecryptfs"}, {0x137F, "minix"},
	{0x138F, "minix"}, {0x2468, "minix2"}, {0x2478, "minix2"}, {0x4D5A, "minix3"},
	{0x5A4F4653, "zonefs"}, {0x9FA0, "proc"}, {0x62656572, "sysfs"}, {0x1CD1, "devpts"},
	{0x27E0EB, "cgroup"}, {0x63677270, "cgroup2"}, {0x64626720, "debugfs"},
	{0x74726163, "tracefs"}, {0xDE5E81E4, "efivarfs"}, {0x73636673, "securityfs"},
	{0xCAFE4A11, "bpf"}, {0x6E736673, "nsfs"}, {0x50495045, "pipefs"},
};

/* The mountinfo line of the mount whose device is maj:min. */
struct mountrec {
	int found;
	char fstype[32];
	char superopts[1024];
};

static void mountinfo_lookup(unsigned maj, unsigned min, struct mountrec *mr)
{
	memset(mr, 0, sizeof *mr);
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		struct spif_mountinfo m;
		if (spif_mountinfo_parse(line, &m) < 0 || m.maj != maj || m.min != min || !m.fstype || !*m.fstype)
			continue;
		copy_str(mr->fstype, sizeof mr->fstype, m.fstype);
		if (m.superopts)
			copy_str(mr->superopts, sizeof mr->superopts, m.superopts);
		mr->found = 1;
		break;
	}
	free(line);
	fclose(f);
}

/* opt appears as a whole item in a comma-separated list. */
static int has_opt(const char *list, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = list; (p = strstr(p, opt)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The filesystem's name: from the magic number, refined by mountinfo where
 * one magic number covers several (ext2/3/4, nfs/nfs4, fuse.*, msdos/vfat,
 * cifs/smb3, ntfs) or the magic number is not in the table. */
static void fs_name(unsigned long magic, const struct mountrec *mr, char *out, size_t n)
{
	const char *name = NULL;
	for (size_t i = 0; i < sizeof fs_magic / sizeof *fs_magic; i++)
		if (fs_magic[i].magic == magic) {
			name = fs_magic[i].name;
			break;
		}
	if (!name) {
		if (mr->found && mr->fstype[0])
			copy_str(out, n, mr->fstype);
		else
			snprintf(out, n, "0x%lx", magic);
		return;
	}
	copy_str(out, n, name);
	if (!mr->found)
		return;
	const char *t = mr->fstype;
	static const char *const ext[] = {"ext2", "ext3", "ext4", NULL};
	static const char *const fat[] = {"vfat", "msdos", NULL};
	if ((strcmp(name, "ext4") == 0 && is_one_of(t, ext)) ||
	    (strcmp(name, "nfs") == 0 && starts(t, "nfs")) ||
	    (strcmp(name, "fuse") == 0 && starts(t, "fuse")) ||
	    (strcmp(name, "vfat") == 0 && is_one_of(t, fat)) ||
	    ((strcmp(name, "cifs") == 0 || strcmp(name, "smb2") == 0) && (starts(t, "cifs") || starts(t, "smb"))) ||
	    (starts(name, "ntfs") && starts(t, "ntfs")))
		copy_str(out, n, t);
}

static int fs_verdict(const char *fstype, int data_journal, int journal_flag, int shared_extents, char *reason,
                      char *loc, size_t n)
{
	static const char *const journalled[] = {"ext3", "ext4", NULL};
	static const char *const in_place[] = {"ext2", "ext3", "ext4", "xfs", "vfat", "msdos", "exfat", NULL};
	static const char *const cow[] = {"btrfs", "zfs", "bcachefs", NULL};
	static const char *const logfs[] = {"f2fs", "nilfs2", NULL};
	static const char *const remote[] = {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "ceph", "9p",
	                                     "afs", "fuse.sshfs", "fuse.rclone", "fuse.s3fs", NULL};
	static const char *const rofs[] = {"squashfs", "erofs", "cramfs", "iso9660", NULL};
	if (!fstype || !fstype[0]) {
		SAY(reason, loc, n, N_("the filesystem is unknown"));
		return 0;
	}
	if (is_one_of(fstype, in_place)) {
		if (data_journal && is_one_of(fstype, journalled)) {
			SAY(reason, loc, n, N_("%s is mounted data=journal: old data stays in the journal"), fstype);
			return 0;
		}
		if (journal_flag && is_one_of(fstype, journalled)) {
			SAY(reason, loc, n, N_("the file has data journalling on (chattr +j): old data stays in the "
			                    "journal"));
			return 0;
		}
		if (shared_extents) {
			SAY(reason, loc, n, N_("shared extents (reflink or snapshot): other copies of the blocks remain"));
			return 0;
		}
		if (reason && n)
			reason[0] = '\0';
		if (loc && n)
			loc[0] = '\0';
		return 1;
	}
	if (is_one_of(fstype, cow))
		SAY(reason, loc, n, N_("%s is copy-on-write"), fstype);
	else if (is_one_of(fstype, logfs))
		SAY(reason, loc, n, N_("%s is log-structured"), fstype);
	else if (strcmp(fstype, "tmpfs") == 0)
		SAY(reason, loc, n, N_("tmpfs keeps data in memory and swap"));
	else if (strcmp(fstype, "ramfs") == 0)
		SAY(reason, loc, n, N_("ramfs keeps data in memory"));
	else if (is_one_of(fstype, remote))
		SAY(reason, loc, n, N_("%s: the data is on another machine"), fstype);
	else if (strcmp(fstype, "overlay") == 0)
		SAY(reason, loc, n, N_("overlay: the lower layers keep their copies"));
	else if (starts(fstype, "fuse"))
		SAY(reason, loc, n, N_("%s: a user-space filesystem decides where the data goes"), fstype);
	else if (is_one_of(fstype, rofs))
		SAY(reason, loc, n, N_("%s is read-only"), fstype);
	else if (starts(fstype, "ntfs"))
		SAY(reason, loc, n, N_("%s: overwriting in place is not assured"), fstype);
	else
		SAY(reason, loc, n, N_("%s is not known to overwrite in place"), fstype);
	return 0;
}

int spif_wipe_fs_verdict(const char *fstype, int data_journal, int journal_flag, int shared_extents,
                         char *reason, size_t n)
{
	return fs_verdict(fstype, data_journal, journal_flag, shared_extents, reason, NULL, n);
}

static int medium_verdict(int rotational, const char *why, const char *why_loc, char *reason, char *loc, size_t n)
{
	if (why && why[0]) {
		snprintf(reason, n, "%s", why);
		if (loc)
			snprintf(loc, n, "%s", why_loc && why_loc[0] ? why_loc : why);
		return 0;
	}
	if (rotational == 1) {
		if (reason && n)
			reason[0] = '\0';
		if (loc && n)
			loc[0] = '\0';
		return 1;
	}
	if (rotational == 0)
		SAY(reason, loc, n, N_("the medium is an SSD or flash (wear levelling keeps old blocks)"));
	else
		SAY(reason, loc, n, N_("the medium is unknown"));
	return 0;
}

int spif_wipe_medium_verdict(int rotational, const char *why, char *reason, size_t n)
{
	return medium_verdict(rotational, why, NULL, reason, NULL, n);
}

/* ---- the device ----------------------------------------------------------- */

struct devinfo {
	char name[64];
	char model[128];
	char serial[128];
	int rotational;
	int is_loop;
	char backing[PATH_MAX];
	char why[192]; /* non-empty: the device cannot be trusted to keep an overwrite in place */
	char why_local[192]; /* the same in the reader's language */
	char disk[64]; /* the whole disk the verdict is about */
	int attestable; /* only its kind is unknown (virtual disk, USB): an administrator may vouch */
};

static void dev_lookup(unsigned maj, unsigned min, struct devinfo *d, int depth);

/* device-mapper and md: the slaves decide.  rotational only when all agree. */
static void dev_slaves(const char *disk, const char *diskname, struct devinfo *d, int depth)
{
	char dmname[128];
	if (read_linef(dmname, sizeof dmname, "%s/dm/name", disk) == 0 &&
	    (ends(dmname, "-real") || ends(dmname, "-cow") || ends(dmname, "-tpool") ||
	     ends(dmname, "-vpool") || ends(dmname, "-tdata")))
		SAY(d->why, d->why_local, sizeof d->why, N_("device-mapper snapshot, thin or deduplicating volume (%.64s): "
		                                "old blocks may remain elsewhere"), dmname);

	char path[PATH_MAX];
	int k = snprintf(path, sizeof path, "%s/slaves", disk);
	DIR *dir = k > 0 && (size_t)k < sizeof path ? opendir(path) : NULL;
	if (!dir)
		return;
	int nslaves = 0, rot = -2;
	struct devinfo *sub = malloc(sizeof *sub);
	struct dirent *de;
	while (sub && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char dev[32];
		unsigned a, b;
		if (read_linef(dev, sizeof dev, "%s/slaves/%s/dev", disk, de->d_name) < 0 ||
		    sscanf(dev, "%u:%u", &a, &b) != 2)
			continue;
		nslaves++;
		if (depth >= 8) {
			SAY(d->why, d->why_local, sizeof d->why, N_("%.32s is stacked too deeply to examine"), diskname);
			rot = -1;
			break;
		}
		dev_lookup(a, b, sub, depth + 1);
		if (sub->is_loop && !d->why[0])
			SAY(d->why, d->why_local, sizeof d->why, N_("%.32s sits on a loop device (%.32s) whose image file was not "
			                                "examined"), diskname, sub->name);
		if (sub->why[0] && !d->why[0]) {
			copy_str(d->why, sizeof d->why, sub->why);
			copy_str(d->why_local, sizeof d->why_local, sub->why_local);
		}
		if (rot == -2)
			rot = sub->rotational;
		else if (rot != sub->rotational)
			rot = -1;
		if (nslaves == 1) {
			copy_str(d->model, sizeof d->model, sub->model);
			copy_str(d->serial, sizeof d->serial, sub->serial);
		} else {
			d->model[0] = d->serial[0] = '\0';
		}
	}
	free(sub);
	closedir(dir);
	if (nslaves > 0)
		d->rotational = rot == -2 ? -1 : rot;
}

static void dev_lookup(unsigned maj, unsigned min, struct devinfo *d, int depth)
{
	memset(d, 0, sizeof *d);
	d->rotational = -1;
	char link[64];
	snprintf(link, sizeof link, "/sys/dev/block/%u:%u", maj, min);
	char *dir = realpath(link, NULL);
	if (!dir)
		return;
	char disk[PATH_MAX];
	copy_str(disk, sizeof disk, dir);
	copy_str(d->name, sizeof d->name, base_of(dir));
	if (existsf("%s/partition", dir)) {
		char *slash = strrchr(disk, '/');
		if (slash && slash != disk)
			*slash = '\0';
	}
	const char *diskname = base_of(disk);

	char v[256];
	if (read_linef(v, sizeof v, "%s/queue/rotational", disk) == 0 && (v[0] == '0' || v[0] == '1') && !v[1])
		d->rotational = v[0] - '0';
	if (read_linef(d->model, sizeof d->model, "%s/device/model", disk) < 0 &&
	    read_linef(d->model, sizeof d->model, "%s/device/vendor", disk) < 0 &&
	    read_linef(d->model, sizeof d->model, "%s/device/name", disk) < 0) /* MMC/SD */
		d->model[0] = '\0';
	if (read_linef(d->serial, sizeof d->serial, "%s/device/serial", disk) < 0 &&
	    read_linef(d->serial, sizeof d->serial, "%s/serial", disk) < 0 &&
	    read_linef(d->serial, sizeof d->serial, "%s/device/wwid", disk) < 0)
		d->serial[0] = '\0';

	if (name_num(diskname, "loop")) {
		d->is_loop = 1;
		if (read_linef(d->backing, sizeof d->backing, "%s/loop/backing_file", disk) < 0)
			d->backing[0] = '\0';
	} else if (starts(diskname, "dm-") || starts(diskname, "md")) {
		dev_slaves(disk, diskname, d, depth);
	} else if (name_num(diskname, "zram") || name_num(diskname, "ram")) {
		SAY(d->why, d->why_local, sizeof d->why, N_("the medium is memory (%.32s)"), diskname);
		d->rotational = -1;
	} else if (name_num(diskname, "nbd") || name_num(diskname, "rbd") || name_num(diskname, "drbd")) {
		SAY(d->why, d->why_local, sizeof d->why, N_("the medium is a network block device (%.32s): the data is on "
		                                "another machine"), diskname);
		d->rotational = -1;
	} else if (strstr(dir, "/virtio") || starts(diskname, "xvd") || strstr(dir, "/vbd-") ||
	           strstr(dir, "/VMBUS") || strstr(d->model, "QEMU") || strstr(d->model, "VBOX") ||
	           strstr(d->model, "Virtual")) {
		/* A virtual disk's queue/rotational is a default, not a fact
		 * about the host's storage (often a copy-on-write image). */
		SAY(d->why, d->why_local, sizeof d->why, N_("the medium is a virtual disk (%.32s): where its blocks land on "
		                                "the host, and whether it is flash, is unknown"), diskname);
		d->rotational = -1;
		d->attestable = 1;
	} else if (strstr(dir, "/usb")) {
		/* USB bridges report rotational 1 unless the device says
		 * otherwise, and most flash sticks do not. */
		SAY(d->why, d->why_local, sizeof d->why, N_("the medium is on USB (%.32s), which does not reliably say "
		                                "whether it is flash"), diskname);
		d->rotational = -1;
		d->attestable = 1;
	}
	snprintf(d->disk, sizeof d->disk, "%.63s", diskname);
	free(dir);
}

/* ---- the probe ------------------------------------------------------------ */

static int fiemap_shared(int fd)
{
	const unsigned count = 64;
	struct fiemap *fm = calloc(1, sizeof *fm + count * sizeof(struct fiemap_extent));
	if (!fm)
		return 0;
	int shared = 0;
	unsigned long long start = 0;
	for (int round = 0; round < 1000000 && !shared; round++) {
		memset(fm, 0, sizeof *fm + count * sizeof(struct fiemap_extent));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_extent_count = count;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0 || fm->fm_mapped_extents == 0)
			break;
		int last = 0;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			if (fm->fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED)
				shared = 1;
			if (fm->fm_extents[i].fe_flags & FIEMAP_EXTENT_LAST)
				last = 1;
		}
		const struct fiemap_extent *e = &fm->fm_extents[fm->fm_mapped_extents - 1];
		if (last || e->fe_logical + e->fe_length <= start)
			break;
		start = e->fe_logical + e->fe_length;
	}
	free(fm);
	return shared;
}

static int probe_path(const char *path, int follow, struct spif_probe_cache *pc, struct spif_medium *m, int depth,
                      struct spif_err *err);

/* ---- what is known of a device, for the run --------------------------------- */

/* The mount record of maj:min, its device, and whether it journals data. */
struct devfacts {
	unsigned maj, min;
	unsigned long magic;
	struct mountrec mr;
	struct devinfo d;
	int data_journal;
};

static void devfacts_lookup(unsigned maj, unsigned min, unsigned long magic, struct devfacts *f)
{
	memset(f, 0, sizeof *f);
	f->maj = maj, f->min = min, f->magic = magic;
	mountinfo_lookup(maj, min, &f->mr);
	char fstype[32];
	fs_name(magic, &f->mr, fstype, sizeof fstype);
	dev_lookup(maj, min, &f->d, 0);
	if (f->mr.found && has_opt(f->mr.superopts, "data=journal"))
		f->data_journal = 1;
	else if (starts(fstype, "ext") && f->d.name[0]) {
		/* A default set in the superblock (tune2fs -o journal_data) is
		 * not shown in mountinfo; /proc/fs/ext4/DEV/options shows all. */
		char opts[PATH_MAX];
		snprintf(opts, sizeof opts, "/proc/fs/ext4/%s/options", f->d.name);
		FILE *fp = fopen(opts, "re");
		if (fp) {
			char line[256];
			while (fgets(line, sizeof line, fp))
				if (strcmp(line, "data=journal\n") == 0)
					f->data_journal = 1;
			fclose(fp);
		}
	}
}

/* These facts, looked up once per device and kept while the mount table
 * stays as it was, for a caller that probes many targets in one run
 * (spif shred of 2,000 files read /proc/self/mountinfo and a dozen sysfs
 * files for each, a tenth of its time, to learn the same facts 2,000
 * times).  The cache is the caller's (wipe.h), not this file's: lib/ keeps
 * no state of its own.  The kernel marks an open /proc/self/mountinfo with
 * POLLPRI when any mount in this namespace changes; a change empties the
 * cache, so a filesystem remounted with other options, or a loop device
 * attached anew (its filesystem must be unmounted first), is looked up
 * again.  What the target's own descriptor says (fstatfs, FIEMAP, its
 * flags) is never kept: only what follows from its st_dev. */
#define DEVCACHE 8
struct spif_probe_cache {
	pthread_mutex_t mu;
	int watch; /* /proc/self/mountinfo, open; -1: cannot be watched, so nothing is kept */
	int n, next;
	struct devfacts *v[DEVCACHE];
};

struct spif_probe_cache *spif_probe_cache_new(void)
{
	struct spif_probe_cache *pc = calloc(1, sizeof *pc);
	if (!pc)
		return NULL;
	pthread_mutex_init(&pc->mu, NULL);
	pc->watch = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	return pc;
}

static void devcache_clear(struct spif_probe_cache *pc)
{
	for (int i = 0; i < pc->n; i++) {
		free(pc->v[i]);
		pc->v[i] = NULL;
	}
	pc->n = pc->next = 0;
}

void spif_probe_cache_free(struct spif_probe_cache *pc)
{
	if (!pc)
		return;
	devcache_clear(pc);
	if (pc->watch >= 0)
		close(pc->watch);
	pthread_mutex_destroy(&pc->mu);
	free(pc);
}

static void dev_facts(struct spif_probe_cache *pc, unsigned maj, unsigned min, unsigned long magic,
                      struct devfacts *out)
{
	if (!pc || pc->watch < 0) {
		devfacts_lookup(maj, min, magic, out);
		return;
	}
	pthread_mutex_lock(&pc->mu);
	struct pollfd p = {.fd = pc->watch, .events = POLLPRI};
	if (poll(&p, 1, 0) != 0) /* a change, or poll failing: trust nothing kept */
		devcache_clear(pc);
	for (int i = 0; i < pc->n; i++) {
		const struct devfacts *f = pc->v[i];
		if (f->maj == maj && f->min == min && f->magic == magic) {
			*out = *f;
			pthread_mutex_unlock(&pc->mu);
			return;
		}
	}
	devfacts_lookup(maj, min, magic, out);
	struct devfacts *keep = malloc(sizeof *keep);
	if (keep) {
		*keep = *out;
		int slot = pc->n < DEVCACHE ? pc->n++ : pc->next++ % DEVCACHE;
		free(pc->v[slot]);
		pc->v[slot] = keep;
	}
	pthread_mutex_unlock(&pc->mu);
}

/* Where the bytes of the file open as fd (fstat st) live: everything about
 * the file from its descriptor, the device from its st_dev.  path names it
 * in messages, and is statfs'd only when fd is -1 (a loop device's image
 * file that cannot be opened). */
static int probe_fd(int fd, const char *path, const struct stat *st, struct spif_probe_cache *pc,
                    struct spif_medium *m, int depth, struct spif_err *err)
{
	memset(m, 0, sizeof *m);
	m->rotational = -1;
	m->backing_rotational = -1;
	m->dev_major = major(st->st_dev);
	m->dev_minor = minor(st->st_dev);
	m->nlink = (long)st->st_nlink;
	m->ino = (unsigned long long)st->st_ino;
	m->size = (long long)st->st_size;
	m->allocated = (long long)st->st_blocks * 512;

	struct statfs sf;
	int journal_flag = 0;
	if ((fd >= 0 ? fstatfs(fd, &sf) : statfs(path, &sf)) < 0) {
		int e = errno;
		return spif_err_sys(err, spif_exit_for_errno(e), e, "%s: statfs", path);
	}
	if (fd >= 0) {
		m->shared_extents = fiemap_shared(fd);
		int flags = 0;
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_JOURNAL_DATA_FL))
			journal_flag = 1;
	}

	struct devfacts *df = malloc(sizeof *df);
	if (!df)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", path);
	dev_facts(pc, m->dev_major, m->dev_minor, (unsigned long)sf.f_type & 0xFFFFFFFFUL, df);
	const struct mountrec *mr = &df->mr;
	const struct devinfo *d = &df->d;
	fs_name((unsigned long)sf.f_type & 0xFFFFFFFFUL, mr, m->fstype, sizeof m->fstype);
	copy_str(m->device, sizeof m->device, d->name);
	copy_str(m->model, sizeof m->model, d->model);
	copy_str(m->serial, sizeof m->serial, d->serial);
	m->rotational = d->rotational;
	m->data_journal = df->data_journal;

	m->reaches_medium = fs_verdict(m->fstype, m->data_journal, journal_flag, m->shared_extents, m->reason,
	                               m->reason_local, sizeof m->reason);
	if (d->is_loop) {
		copy_str(m->backing, sizeof m->backing, d->backing);
		struct spif_medium *sub = malloc(sizeof *sub);
		char why[sizeof m->reason] = "", why_loc[sizeof m->reason] = "";
		if (!d->backing[0])
			SAY(why, why_loc, sizeof why, N_("the loop device %s has no backing file"), d->name);
		else if (ends(d->backing, " (deleted)"))
			SAY(why, why_loc, sizeof why, N_("the loop device's image file has been deleted"));
		else if (depth >= MAX_DEPTH)
			SAY(why, why_loc, sizeof why, N_("loop devices are stacked too deeply to examine"));
		else if (!sub)
			SAY(why, why_loc, sizeof why, N_("the medium is unknown"));
		else {
			struct spif_err e2 = {0};
			if (probe_path(d->backing, 1, pc, sub, depth + 1, &e2) < 0)
				SAY(why, why_loc, sizeof why, N_("the loop device's image file cannot be examined (%.160s)"),
				         e2.msg);
			else {
				copy_str(m->backing_fstype, sizeof m->backing_fstype, sub->fstype);
				/* the medium under the image: a loop's own flag means nothing */
				m->backing_rotational = sub->backing[0] ? sub->backing_rotational : sub->rotational;
				if (!sub->reaches_medium) {
					snprintf(why, sizeof why, "the loop device's image file is on %s (%.180s)",
					         sub->fstype, sub->reason);
					snprintf(why_loc, sizeof why_loc, _("the loop device's image file is on %s (%.180s)"),
					         sub->fstype, sub->reason_local);
				}
				/* the image's disk decides, and may be vouched for --
				 * but only the disk: never this filesystem's own verdict */
				m->attestable = m->reaches_medium && sub->attestable;
				copy_str(m->medium_disk, sizeof m->medium_disk, sub->medium_disk);
			}
		}
		free(sub);
		if (m->reaches_medium && why[0]) {
			m->reaches_medium = 0;
			copy_str(m->reason, sizeof m->reason, why);
			copy_str(m->reason_local, sizeof m->reason_local, why_loc);
		}
	} else if (m->reaches_medium) {
		if (!d->name[0])
			m->reaches_medium = medium_verdict(-1, "", "", m->reason, m->reason_local, sizeof m->reason);
		else {
			m->reaches_medium = medium_verdict(d->rotational, d->why, d->why_local, m->reason, m->reason_local,
			                                   sizeof m->reason);
			m->attestable = !m->reaches_medium && d->attestable;
			copy_str(m->medium_disk, sizeof m->medium_disk, d->disk);
		}
	}
	if (m->reaches_medium)
		m->attestable = 0;
	free(df);
	return 0;
}

/* A loop device's image file, by the path /sys gives (followed: it is the
 * kernel's, not a target); an unreadable one is still probed by path. */
static int probe_path(const char *path, int follow, struct spif_probe_cache *pc, struct spif_medium *m, int depth,
                      struct spif_err *err)
{
	struct stat st;
	if (check_regular(path, follow, &st, err) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
	if (fd >= 0) {
		struct stat fst;
		if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
			close(fd);
			return spif_err_set(err, SPIF_EX_TEMPFAIL, "%s: changed while being examined; try again",
			                    path);
		}
	}
	int rc = probe_fd(fd, path, &st, pc, m, depth, err);
	if (fd >= 0)
		close(fd);
	return rc;
}

int spif_wipe_probe_target(const struct spif_target *t, struct spif_probe_cache *pc, struct spif_medium *m,
                           struct spif_err *err)
{
	struct stat st; /* now: the links and the size may have changed since it was opened */
	if (fstat(t->fd, &st) < 0) {
		int e = errno;
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s", t->path);
	}
	return probe_fd(t->fd, t->path, &st, pc, m, 0, err);
}

int spif_wipe_probe(const char *path, struct spif_medium *m, struct spif_err *err)
{
	struct spif_target t;
	if (spif_target_open(&t, path, 0, err) < 0)
		return -1;
	int rc = spif_wipe_probe_target(&t, NULL, m, err);
	spif_target_close(&t);
	return rc;
}

