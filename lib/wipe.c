/* wipe.c - see wipe.h
 *
 * Everything here works on a target opened once (wipe_target.c): its
 * descriptor and its directory's.
 *
 * The probe: fstat for the kind of file, fstatfs for the filesystem,
 * /proc/self/mountinfo (matched on st_dev) for the exact ext* type and the
 * superblock options, FIEMAP for shared extents, FS_IOC_GETFLAGS for
 * per-file data journalling, /sys/dev/block/MAJ:MIN for the device (loop
 * devices: the image file is probed in turn; device-mapper and md: the
 * slaves).  The verdict is conservative: anything not known to write in
 * place, on a medium known to keep what it is given where it is given it,
 * is "does not reach the medium", with the reason.
 *
 * The overwrite: AES-256-CTR keystream under a fresh random key per pass,
 * optional zeros, fdatasync per pass, the page cache dropped before the
 * read-back (or O_DIRECT), then truncate, a random rename, unlink,
 * directory fsyncs.  Small files are done one stage after the other, the
 * last pass regenerated for the read-back; large ones in a pipeline where
 * hashing, writing and reading back overlap (see pipe_pass). */
#include "wipe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
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

#include "digest.h"
#include "home.h"
#include "wipe_priv.h"
#include "mountinfo.h"

#define MAX_DEPTH 3 /* loop device on a file on a loop device on ... */

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

int spif_wipe_fs_verdict(const char *fstype, int data_journal, int journal_flag, int shared_extents,
                         char *reason, size_t n)
{
	static const char *const journalled[] = {"ext3", "ext4", NULL};
	static const char *const in_place[] = {"ext2", "ext3", "ext4", "xfs", "vfat", "msdos", "exfat", NULL};
	static const char *const cow[] = {"btrfs", "zfs", "bcachefs", NULL};
	static const char *const logfs[] = {"f2fs", "nilfs2", NULL};
	static const char *const remote[] = {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "ceph", "9p",
	                                     "afs", "fuse.sshfs", "fuse.rclone", "fuse.s3fs", NULL};
	static const char *const rofs[] = {"squashfs", "erofs", "cramfs", "iso9660", NULL};
	if (!fstype || !fstype[0]) {
		snprintf(reason, n, "the filesystem is unknown");
		return 0;
	}
	if (is_one_of(fstype, in_place)) {
		if (data_journal && is_one_of(fstype, journalled)) {
			snprintf(reason, n, "%s is mounted data=journal: old data stays in the journal", fstype);
			return 0;
		}
		if (journal_flag && is_one_of(fstype, journalled)) {
			snprintf(reason, n, "the file has data journalling on (chattr +j): old data stays in the "
			                    "journal");
			return 0;
		}
		if (shared_extents) {
			snprintf(reason, n, "shared extents (reflink or snapshot): other copies of the blocks remain");
			return 0;
		}
		if (reason && n)
			reason[0] = '\0';
		return 1;
	}
	if (is_one_of(fstype, cow))
		snprintf(reason, n, "%s is copy-on-write", fstype);
	else if (is_one_of(fstype, logfs))
		snprintf(reason, n, "%s is log-structured", fstype);
	else if (strcmp(fstype, "tmpfs") == 0)
		snprintf(reason, n, "tmpfs keeps data in memory and swap");
	else if (strcmp(fstype, "ramfs") == 0)
		snprintf(reason, n, "ramfs keeps data in memory");
	else if (is_one_of(fstype, remote))
		snprintf(reason, n, "%s: the data is on another machine", fstype);
	else if (strcmp(fstype, "overlay") == 0)
		snprintf(reason, n, "overlay: the lower layers keep their copies");
	else if (starts(fstype, "fuse"))
		snprintf(reason, n, "%s: a user-space filesystem decides where the data goes", fstype);
	else if (is_one_of(fstype, rofs))
		snprintf(reason, n, "%s is read-only", fstype);
	else if (starts(fstype, "ntfs"))
		snprintf(reason, n, "%s: overwriting in place is not assured", fstype);
	else
		snprintf(reason, n, "%s is not known to overwrite in place", fstype);
	return 0;
}

int spif_wipe_medium_verdict(int rotational, const char *why, char *reason, size_t n)
{
	if (why && why[0]) {
		snprintf(reason, n, "%s", why);
		return 0;
	}
	if (rotational == 1) {
		if (reason && n)
			reason[0] = '\0';
		return 1;
	}
	if (rotational == 0)
		snprintf(reason, n, "the medium is an SSD or flash (wear levelling keeps old blocks)");
	else
		snprintf(reason, n, "the medium is unknown");
	return 0;
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
		snprintf(d->why, sizeof d->why, "device-mapper snapshot, thin or deduplicating volume (%.64s): "
		                                "old blocks may remain elsewhere", dmname);

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
			snprintf(d->why, sizeof d->why, "%.32s is stacked too deeply to examine", diskname);
			rot = -1;
			break;
		}
		dev_lookup(a, b, sub, depth + 1);
		if (sub->is_loop && !d->why[0])
			snprintf(d->why, sizeof d->why, "%.32s sits on a loop device (%.32s) whose image file was not "
			                                "examined", diskname, sub->name);
		if (sub->why[0] && !d->why[0])
			copy_str(d->why, sizeof d->why, sub->why);
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
		snprintf(d->why, sizeof d->why, "the medium is memory (%.32s)", diskname);
		d->rotational = -1;
	} else if (name_num(diskname, "nbd") || name_num(diskname, "rbd") || name_num(diskname, "drbd")) {
		snprintf(d->why, sizeof d->why, "the medium is a network block device (%.32s): the data is on "
		                                "another machine", diskname);
		d->rotational = -1;
	} else if (strstr(dir, "/virtio") || starts(diskname, "xvd") || strstr(dir, "/vbd-") ||
	           strstr(dir, "/VMBUS") || strstr(d->model, "QEMU") || strstr(d->model, "VBOX") ||
	           strstr(d->model, "Virtual")) {
		/* A virtual disk's queue/rotational is a default, not a fact
		 * about the host's storage (often a copy-on-write image). */
		snprintf(d->why, sizeof d->why, "the medium is a virtual disk (%.32s): where its blocks land on "
		                                "the host, and whether it is flash, is unknown", diskname);
		d->rotational = -1;
		d->attestable = 1;
	} else if (strstr(dir, "/usb")) {
		/* USB bridges report rotational 1 unless the device says
		 * otherwise, and most flash sticks do not. */
		snprintf(d->why, sizeof d->why, "the medium is on USB (%.32s), which does not reliably say "
		                                "whether it is flash", diskname);
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

static int probe_path(const char *path, int follow, struct spif_medium *m, int depth, struct spif_err *err);

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
 * stays as it was.  A shred of 2,000 files read /proc/self/mountinfo and a
 * dozen sysfs files for each, a tenth of its time, to learn the same facts
 * 2,000 times.  The kernel marks an open /proc/self/mountinfo with POLLPRI
 * when any mount in this namespace changes; a change empties the cache, so
 * a filesystem remounted with other options, or a loop device attached
 * anew (its filesystem must be unmounted first), is looked up again.  What
 * the target's own descriptor says (fstatfs, FIEMAP, its flags) is never
 * kept: only what follows from its st_dev. */
#define DEVCACHE 8
static struct {
	pthread_mutex_t mu;
	int watch; /* /proc/self/mountinfo, open: 0 not yet, -1 unavailable */
	int n, next;
	struct devfacts *v[DEVCACHE];
} devcache = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, {0}};

static void devcache_clear(void)
{
	for (int i = 0; i < devcache.n; i++) {
		free(devcache.v[i]);
		devcache.v[i] = NULL;
	}
	devcache.n = devcache.next = 0;
}

static void dev_facts(unsigned maj, unsigned min, unsigned long magic, struct devfacts *out)
{
	pthread_mutex_lock(&devcache.mu);
	if (devcache.watch == 0) {
		int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
		devcache.watch = fd >= 0 ? fd : -1; /* fd 0 is never ours here: stdin is open */
		if (fd == 0)
			devcache.watch = -1, close(fd);
	}
	if (devcache.watch > 0) {
		struct pollfd p = {.fd = devcache.watch, .events = POLLPRI};
		if (poll(&p, 1, 0) != 0) /* a change, or poll failing: trust nothing kept */
			devcache_clear();
		for (int i = 0; i < devcache.n; i++) {
			const struct devfacts *f = devcache.v[i];
			if (f->maj == maj && f->min == min && f->magic == magic) {
				*out = *f;
				pthread_mutex_unlock(&devcache.mu);
				return;
			}
		}
	}
	devfacts_lookup(maj, min, magic, out);
	if (devcache.watch > 0) {
		struct devfacts *keep = malloc(sizeof *keep);
		if (keep) {
			*keep = *out;
			int slot = devcache.n < DEVCACHE ? devcache.n++ : devcache.next++ % DEVCACHE;
			free(devcache.v[slot]);
			devcache.v[slot] = keep;
		}
	}
	pthread_mutex_unlock(&devcache.mu);
}

/* Where the bytes of the file open as fd (fstat st) live: everything about
 * the file from its descriptor, the device from its st_dev.  path names it
 * in messages, and is statfs'd only when fd is -1 (a loop device's image
 * file that cannot be opened). */
static int probe_fd(int fd, const char *path, const struct stat *st, struct spif_medium *m, int depth,
                    struct spif_err *err)
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
	dev_facts(m->dev_major, m->dev_minor, (unsigned long)sf.f_type & 0xFFFFFFFFUL, df);
	const struct mountrec *mr = &df->mr;
	const struct devinfo *d = &df->d;
	fs_name((unsigned long)sf.f_type & 0xFFFFFFFFUL, mr, m->fstype, sizeof m->fstype);
	copy_str(m->device, sizeof m->device, d->name);
	copy_str(m->model, sizeof m->model, d->model);
	copy_str(m->serial, sizeof m->serial, d->serial);
	m->rotational = d->rotational;
	m->data_journal = df->data_journal;

	m->reaches_medium = spif_wipe_fs_verdict(m->fstype, m->data_journal, journal_flag, m->shared_extents,
	                                         m->reason, sizeof m->reason);
	if (d->is_loop) {
		copy_str(m->backing, sizeof m->backing, d->backing);
		struct spif_medium *sub = malloc(sizeof *sub);
		char why[sizeof m->reason] = "";
		if (!d->backing[0])
			snprintf(why, sizeof why, "the loop device %s has no backing file", d->name);
		else if (ends(d->backing, " (deleted)"))
			snprintf(why, sizeof why, "the loop device's image file has been deleted");
		else if (depth >= MAX_DEPTH)
			snprintf(why, sizeof why, "loop devices are stacked too deeply to examine");
		else if (!sub)
			snprintf(why, sizeof why, "the medium is unknown");
		else {
			struct spif_err e2 = {0};
			if (probe_path(d->backing, 1, sub, depth + 1, &e2) < 0)
				snprintf(why, sizeof why, "the loop device's image file cannot be examined (%.160s)",
				         e2.msg);
			else {
				copy_str(m->backing_fstype, sizeof m->backing_fstype, sub->fstype);
				/* the medium under the image: a loop's own flag means nothing */
				m->backing_rotational = sub->backing[0] ? sub->backing_rotational : sub->rotational;
				if (!sub->reaches_medium)
					snprintf(why, sizeof why, "the loop device's image file is on %s (%.180s)",
					         sub->fstype, sub->reason);
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
		}
	} else if (m->reaches_medium) {
		if (!d->name[0])
			m->reaches_medium = spif_wipe_medium_verdict(-1, "", m->reason, sizeof m->reason);
		else {
			m->reaches_medium = spif_wipe_medium_verdict(d->rotational, d->why, m->reason, sizeof m->reason);
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
static int probe_path(const char *path, int follow, struct spif_medium *m, int depth, struct spif_err *err)
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
	int rc = probe_fd(fd, path, &st, m, depth, err);
	if (fd >= 0)
		close(fd);
	return rc;
}

int spif_wipe_probe_target(const struct spif_target *t, struct spif_medium *m, struct spif_err *err)
{
	struct stat st; /* now: the links and the size may have changed since it was opened */
	if (fstat(t->fd, &st) < 0) {
		int e = errno;
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s", t->path);
	}
	return probe_fd(t->fd, t->path, &st, m, 0, err);
}

int spif_wipe_probe(const char *path, struct spif_medium *m, struct spif_err *err)
{
	struct spif_target t;
	if (spif_target_open(&t, path, 0, err) < 0)
		return -1;
	int rc = spif_wipe_probe_target(&t, m, err);
	spif_target_close(&t);
	return rc;
}

/* ---- the overwrite -------------------------------------------------------- */

/* Small files go through 1 MiB buffers: hash, then each pass, then the
 * read-back, one after the other.  From PIPE_MIN on the work is pipelined
 * in BIG chunks over a ring of RING keystream buffers (see pipe_pass):
 * RING * BIG + BIG + 2 * CHUNK = 22 MiB of buffers, whatever the size. */
#define CHUNK (1024 * 1024)
#define BIG (4 * 1024 * 1024)
#define RING 4
#define PIPE_MIN (4LL * 1024 * 1024)
#define FILL_STEP (256 * 1024) /* keystream made in cache-sized steps */

struct wipe_ctx {
	const char *path;
	int fd;
	int rfd;               /* the file again, O_DIRECT for the read-back, or -1 */
	int wfd;               /* the file again, O_DIRECT for the writes, or -1 */
	unsigned char *buf, *chk;
	size_t bufsz;          /* of buf and chk: CHUNK, or less for a file shorter than that */
	unsigned char *ring[RING], *back; /* pipelined: keystream kept for the compare, read-back */
	gcry_cipher_hd_t h;
	unsigned char ctr[16]; /* the last random pass's initial counter */
	const struct spif_wipe_opts *o;
	const struct spif_wipe_hooks *hooks;
	struct spif_sha256 *sha;
	long long size;        /* st_size when opened: what sha256_before covers */
	long long len, done, total;
};

static int stopped(const struct wipe_ctx *c)
{
	return c->o->stop && *c->o->stop;
}

static int pwrite_all(int fd, const unsigned char *p, size_t n, off_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		p += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

/* Read up to n bytes; fewer only at end of file. */
ssize_t spif_pread_full(int fd, unsigned char *p, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, p + got, n - got, off + (off_t)got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* fd opened again through /proc/self/fd with O_DIRECT and flags, when the
 * filesystem allows and it is still the same file; else -1. */
static int reopen_direct(int fd, int flags)
{
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	int d = open(self, flags | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (d >= 0) {
		struct stat a, b;
		if (fstat(d, &a) < 0 || fstat(fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
			close(d);
			d = -1;
		}
	}
	return d;
}

static int interrupted(struct wipe_ctx *c, struct spif_wipe_result *r, const char *when, struct spif_err *err)
{
	if (c->fd >= 0)
		fdatasync(c->fd);
	r->interrupted = 1;
	return spif_err_set(err, SPIF_EX_TEMPFAIL, "%s: interrupted %s; the file is left in place", c->path, when);
}

/* The keystream of the cipher's current position (or zeros when !random). */
static int fill(struct wipe_ctx *c, unsigned char *p, size_t n, int random)
{
	if (!random) {
		memset(p, 0, n);
		return 0;
	}
	for (size_t i = 0; i < n; i += FILL_STEP) {
		size_t k = n - i < FILL_STEP ? n - i : FILL_STEP;
		memset(p + i, 0, k);
		if (gcry_cipher_encrypt(c->h, p + i, k, NULL, 0))
			return -1;
	}
	return 0;
}

/* A fresh key and initial counter for a random pass. */
static int new_key(struct wipe_ctx *c, struct spif_err *err)
{
	unsigned char key[32];
	gcry_randomize(key, sizeof key, GCRY_STRONG_RANDOM);
	gcry_randomize(c->ctr, sizeof c->ctr, GCRY_STRONG_RANDOM);
	gcry_error_t ge = gcry_cipher_setkey(c->h, key, sizeof key);
	explicit_bzero(key, sizeof key);
	if (ge || gcry_cipher_setctr(c->h, c->ctr, sizeof c->ctr))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR set-up failed", c->path);
	return 0;
}

/* Hash the contents [0, size) into c->sha through buf (c->bufsz bytes). */
static int hash_all(struct wipe_ctx *c, unsigned char *buf, struct spif_wipe_result *r, struct spif_err *err)
{
	for (long long off = 0; off < c->size;) {
		if (stopped(c))
			return interrupted(c, r, "before overwriting", err);
		size_t n = (size_t)(c->size - off < CHUNK ? c->size - off : CHUNK);
		ssize_t got = spif_pread_full(c->fd, buf, n, (off_t)off);
		if (got < 0) {
			int e = errno;
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: reading at byte %lld", c->path, off);
		}
		spif_sha256_update(c->sha, buf, (size_t)got);
		if ((size_t)got < n)
			break; /* shrank under us: the hash is of what was there */
		off += got;
	}
	return 0;
}

/* One pass over [0, len): random under a fresh key, or zeros. */
static int write_pass(struct wipe_ctx *c, int random, int passno, struct spif_wipe_result *r,
                      struct spif_err *err)
{
	if (random && new_key(c, err) < 0)
		return -1;
	for (long long off = 0; off < c->len;) {
		if (stopped(c))
			return interrupted(c, r, c->done ? "part way through overwriting" : "before overwriting", err);
		size_t n = (size_t)(c->len - off < CHUNK ? c->len - off : CHUNK);
		if (fill(c, c->buf, n, random) < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR failed", c->path);
		r->overwrite_begun = 1;
		if (pwrite_all(c->fd, c->buf, n, (off_t)off) < 0) {
			int e = errno;
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: writing pass %d at byte %lld", c->path, passno,
			                    off);
		}
		off += (long long)n;
		c->done += (long long)n;
		if (c->o->progress)
			c->o->progress(c->o->progress_ctx, c->done, c->total);
	}
	if (fdatasync(c->fd) < 0) {
		int e = errno;
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: fdatasync after pass %d", c->path, passno);
	}
	return 0;
}

/* Read [off, off+n) back into back and compare it with want.  The range
 * has been written; unless synced (fdatasync'd and dropped already) its
 * writeback is waited for (sync_file_range) and its pages dropped from
 * the cache, so that the read-back comes from the device, not from memory
 * (on tmpfs the pages are the storage and stay); where the filesystem
 * allows, the read goes through c->rfd, O_DIRECT, bypassing the cache
 * altogether. */
static int read_back(struct wipe_ctx *c, const unsigned char *want, unsigned char *back, long long off, size_t n,
                     int synced, struct spif_err *err)
{
	int hooked = c->hooks && c->hooks->before_readback;
	if (hooked)
		c->hooks->before_readback(c->hooks->ctx, c->fd, off, (long long)n);
	if (!synced || hooked) {
		if (sync_file_range(c->fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
		                    SYNC_FILE_RANGE_WAIT_AFTER) < 0) {
			int e = errno;
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: writing back at byte %lld", c->path, off);
		}
		posix_fadvise(c->fd, (off_t)off, (off_t)n, POSIX_FADV_DONTNEED);
	}
	ssize_t got = -1;
	if (c->rfd >= 0) {
		got = spif_pread_full(c->rfd, back, n, (off_t)off);
		if (got < 0 && errno == EINVAL) { /* O_DIRECT refused: buffered, cache dropped */
			close(c->rfd);
			c->rfd = -1;
		}
	}
	if (c->rfd < 0)
		got = spif_pread_full(c->fd, back, n, (off_t)off);
	if (got < 0) {
		int e = errno;
		return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: reading back at byte %lld", c->path, off);
	}
	size_t cmp = (size_t)got;
	if (cmp < n || memcmp(want, back, n) != 0) {
		size_t i = 0;
		while (i < cmp && want[i] == back[i])
			i++;
		return spif_err_set(err, SPIF_EX_IOERR, "%s: verification failed at byte %lld", c->path,
		                    off + (long long)i);
	}
	return 0;
}

/* Read the last pass back and compare it with the regenerated pattern
 * (the small-file path; fdatasync has made the written pages clean). */
static int verify(struct wipe_ctx *c, int random, struct spif_wipe_result *r, struct spif_err *err)
{
	posix_fadvise(c->fd, 0, (off_t)c->len, POSIX_FADV_DONTNEED);
	if (c->rfd < 0)
		c->rfd = reopen_direct(c->fd, O_RDONLY);
	if (random && gcry_cipher_setctr(c->h, c->ctr, sizeof c->ctr))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR failed", c->path);
	for (long long off = 0; off < c->len;) {
		if (stopped(c))
			return interrupted(c, r, "while verifying", err);
		size_t n = (size_t)(c->len - off < CHUNK ? c->len - off : CHUNK);
		if (fill(c, c->buf, n, random) < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR failed", c->path);
		if (read_back(c, c->buf, c->chk, off, n, 1, err) < 0)
			return -1;
		off += (long long)n;
	}
	return 0;
}

/* ---- the pipelined overwrite (large files) -------------------------------
 *
 * One pass, three stages that overlap: a hashing thread reads the original
 * contents ahead of the writer (first pass only: every byte is hashed
 * before it is overwritten); the writer (the calling thread) makes the
 * keystream of a chunk into a ring buffer, writes it (O_DIRECT where the
 * filesystem allows, else through the page cache with the writeback
 * started at once) and reports progress; on the last pass a verifying
 * thread follows: for each written chunk it waits for the writeback,
 * drops the cached pages, reads the chunk back from the device and
 * compares it with the ring buffer, which is only then free for the
 * writer again.  The pass ends with fdatasync, as on the small-file path.
 * A failure or *stop in any stage stops them all; threads are always
 * joined before returning.  (So on a large file a read error while hashing
 * is reported after the bytes before it have been overwritten; the file
 * stays in place either way.)  Without threads (pthread_create failing)
 * the stages run one after the other, as for small files.
 *
 * Why: SHA-256 (about 1 GB/s on one core), writing and reading back each
 * take about as long as the device's write of the file; one after the
 * other they took three times that, side by side little more than the
 * slowest of them. */

struct pipe {
	struct wipe_ctx *c;
	long long nchunks;
	int verifying;          /* a verifying thread runs */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu: */
	long long hashed;       /* bytes [0, hashed) hashed: they may be overwritten */
	long long written;      /* chunks [0, written) written */
	long long verified;     /* chunks [0, verified) read back and matched */
	int failed;             /* a stage failed or stopped: the others stop too */
	const char *stop_when;  /* stopped by *stop: when, for the message */
	struct spif_err err;    /* the first failure */
};

static size_t chunk_len(const struct wipe_ctx *c, long long k)
{
	long long off = k * BIG;
	return (size_t)(c->len - off < BIG ? c->len - off : BIG);
}

/* The first failure wins: e (copied) or a stop with when. */
static void pipe_fail(struct pipe *p, const struct spif_err *e, const char *when)
{
	pthread_mutex_lock(&p->mu);
	if (!p->failed) {
		p->failed = 1;
		if (e)
			p->err = *e;
		p->stop_when = when;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void pipe_set(struct pipe *p, long long *field, long long v)
{
	pthread_mutex_lock(&p->mu);
	*field = v;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static int pipe_failed(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	int f = p->failed;
	pthread_mutex_unlock(&p->mu);
	return f;
}

static void *hasher(void *arg)
{
	struct pipe *p = arg;
	struct wipe_ctx *c = p->c;
	for (long long off = 0; off < c->size;) {
		if (pipe_failed(p))
			return NULL;
		size_t n = (size_t)(c->size - off < CHUNK ? c->size - off : CHUNK);
		ssize_t got = spif_pread_full(c->fd, c->chk, n, (off_t)off);
		if (got < 0) {
			int errnum = errno;
			struct spif_err e = {0};
			spif_err_sys(&e, SPIF_EX_IOERR, errnum, "%s: reading at byte %lld", c->path, off);
			pipe_fail(p, &e, NULL);
			return NULL;
		}
		spif_sha256_update(c->sha, c->chk, (size_t)got);
		if ((size_t)got < n)
			break; /* shrank under us: the hash is of what was there */
		off += got;
		pipe_set(p, &p->hashed, off);
	}
	pipe_set(p, &p->hashed, LLONG_MAX);
	return NULL;
}

static void *verifier(void *arg)
{
	struct pipe *p = arg;
	struct wipe_ctx *c = p->c;
	for (long long k = 0; k < p->nchunks; k++) {
		pthread_mutex_lock(&p->mu);
		while (!p->failed && p->written <= k)
			pthread_cond_wait(&p->cv, &p->mu);
		int failed = p->failed, all_written = p->written == p->nchunks;
		pthread_mutex_unlock(&p->mu);
		if (failed)
			return NULL;
		if (all_written && stopped(c)) { /* while writing, the writer answers *stop */
			pipe_fail(p, NULL, "while verifying");
			return NULL;
		}
		struct spif_err e = {0};
		if (read_back(c, c->ring[k % RING], c->back, k * BIG, chunk_len(c, k), 0, &e) < 0) {
			pipe_fail(p, &e, NULL);
			return NULL;
		}
		pipe_set(p, &p->verified, k + 1);
	}
	return NULL;
}

/* Write a chunk: O_DIRECT, or through the page cache with its writeback
 * started now rather than at the next fdatasync.  -1 with errno. */
static int write_chunk(struct wipe_ctx *c, const unsigned char *buf, size_t n, long long off)
{
	if (c->wfd >= 0) {
		if (pwrite_all(c->wfd, buf, n, (off_t)off) == 0)
			return 0;
		if (errno != EINVAL)
			return -1;
		close(c->wfd); /* O_DIRECT refused: through the page cache */
		c->wfd = -1;
	}
	if (pwrite_all(c->fd, buf, n, (off_t)off) < 0)
		return -1;
	sync_file_range(c->fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
	return 0;
}

static int pipe_pass(struct wipe_ctx *c, int random, int passno, int hashing, int verifying,
                     struct spif_wipe_result *r, struct spif_err *err)
{
	if (random && new_key(c, err) < 0)
		return -1;
	struct pipe p = {.c = c, .nchunks = (c->len + BIG - 1) / BIG, .hashed = LLONG_MAX};
	if (pthread_mutex_init(&p.mu, NULL) != 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: cannot create a mutex", c->path);
	if (pthread_cond_init(&p.cv, NULL) != 0) {
		pthread_mutex_destroy(&p.mu);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: cannot create a condition variable", c->path);
	}
	/* the threads take no signals: *stop is set in this one */
	pthread_t ht, vt;
	int have_h = 0, have_v = 0;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (hashing) {
		p.hashed = 0;
		have_h = pthread_create(&ht, NULL, hasher, &p) == 0;
	}
	if (verifying)
		have_v = pthread_create(&vt, NULL, verifier, &p) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	p.verifying = have_v;
	int rc = 0;
	if (hashing && !have_h) { /* no thread: hash first, as the small-file path does */
		p.hashed = LLONG_MAX;
		rc = hash_all(c, c->chk, r, err);
		if (rc < 0)
			pipe_fail(&p, NULL, NULL);
	}

	for (long long k = 0; rc == 0 && k < p.nchunks; k++) {
		long long off = k * BIG;
		size_t n = chunk_len(c, k);
		if (stopped(c)) {
			pipe_fail(&p, NULL, c->done ? "part way through overwriting" : "before overwriting");
			break;
		}
		long long need = off + (long long)n < c->size ? off + (long long)n : c->size;
		pthread_mutex_lock(&p.mu);
		while (!p.failed && ((p.verifying && k - p.verified >= RING) || p.hashed < need))
			pthread_cond_wait(&p.cv, &p.mu);
		int failed = p.failed;
		pthread_mutex_unlock(&p.mu);
		if (failed)
			break;
		unsigned char *buf = c->ring[k % RING];
		struct spif_err e = {0};
		if (fill(c, buf, n, random) < 0) {
			spif_err_set(&e, SPIF_EX_SOFTWARE, "%s: AES-256-CTR failed", c->path);
			pipe_fail(&p, &e, NULL);
			break;
		}
		r->overwrite_begun = 1;
		if (write_chunk(c, buf, n, off) < 0) {
			int errnum = errno;
			spif_err_sys(&e, SPIF_EX_IOERR, errnum, "%s: writing pass %d at byte %lld", c->path, passno, off);
			pipe_fail(&p, &e, NULL);
			break;
		}
		/* no verifier to pace the writer: keep what is in flight bounded */
		if (!p.verifying && k >= RING) {
			long long o2 = (k - RING) * BIG;
			sync_file_range(c->fd, (off_t)o2, BIG, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
			                SYNC_FILE_RANGE_WAIT_AFTER);
			posix_fadvise(c->fd, (off_t)o2, BIG, POSIX_FADV_DONTNEED);
		}
		c->done += (long long)n;
		if (c->o->progress)
			c->o->progress(c->o->progress_ctx, c->done, c->total);
		pipe_set(&p, &p.written, k + 1);
	}
	if (rc == 0 && !pipe_failed(&p) && fdatasync(c->fd) < 0) {
		int errnum = errno;
		struct spif_err e = {0};
		spif_err_sys(&e, SPIF_EX_IOERR, errnum, "%s: fdatasync after pass %d", c->path, passno);
		pipe_fail(&p, &e, NULL);
	}
	if (have_h)
		pthread_join(ht, NULL);
	if (have_v)
		pthread_join(vt, NULL);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	if (rc < 0)
		return rc;
	if (p.failed) {
		if (p.stop_when)
			return interrupted(c, r, p.stop_when, err);
		if (err)
			*err = p.err;
		return -1;
	}
	if (verifying && !have_v) /* no thread: read back afterwards */
		return verify(c, random, r, err);
	return 0;
}

/* A name of len characters [a-z0-9] for rename `round`, `attempt`: random,
 * or with a seed SHA-256(seed, round, attempt, block) so that the names
 * can be worked out again after a crash (spif_wipe_find_renamed). */
static void rename_name(const unsigned char *seed, int round, int attempt, char *out, size_t len)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i = 0;
	for (uint32_t block = 0; i < len; block++) {
		unsigned char b[64];
		if (seed) {
			unsigned char in[SPIF_WIPE_SEED + 12];
			uint32_t v[3] = {(uint32_t)round, (uint32_t)attempt, block};
			memcpy(in, seed, SPIF_WIPE_SEED);
			for (int k = 0; k < 3; k++)
				for (int j = 0; j < 4; j++)
					in[SPIF_WIPE_SEED + 4 * k + j] = (unsigned char)(v[k] >> (24 - 8 * j));
			gcry_md_hash_buffer(GCRY_MD_SHA256, b, in, sizeof in); /* the first 32 bytes */
		} else
			gcry_create_nonce(b, sizeof b);
		for (size_t j = 0; j < (seed ? 32 : sizeof b) && i < len; j++)
			if (b[j] < 252) /* 252 = 7 * 36: no bias */
				out[i++] = alnum[b[j] % 36];
	}
	out[len] = '\0';
}

#define RENAME_TRIES 32 /* names tried per rename before giving that rename up */

/* Whether dirfd/name is still our file. */
static int still_ours(int dirfd, const char *name, const struct stat *st)
{
	struct stat now;
	return fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
	       now.st_ino == st->st_ino;
}

/* Rename dirfd/cur to a fresh name of the same length (rename_name);
 * cur is updated.  1 renamed, 0 no free name found, -1 error (errno). */
static int rename_random(int dirfd, char *cur, const unsigned char *seed, int round)
{
	size_t len = strlen(cur);
	char next[NAME_MAX + 1];
	for (int tries = 0; tries < RENAME_TRIES; tries++) {
		rename_name(seed, round, tries, next, len);
		if (strcmp(next, cur) == 0)
			continue;
		if (renameat2(dirfd, cur, dirfd, next, RENAME_NOREPLACE) == 0) {
			memcpy(cur, next, len + 1);
			return 1;
		}
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
			return -1;
		/* no RENAME_NOREPLACE here: look first (a small race, but never
		 * over a name that was there when we looked) */
		struct stat st;
		if (fstatat(dirfd, next, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
			continue;
		if (renameat(dirfd, cur, dirfd, next) < 0)
			return -1;
		memcpy(cur, next, len + 1);
		return 1;
	}
	return 0;
}


int spif_wipe_file(const char *path, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                   struct spif_err *err)
{
	return spif_wipe_file_hooked(path, o, r, err, NULL);
}

int spif_wipe_file_hooked(const char *path, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                          struct spif_err *err, const struct spif_wipe_hooks *hooks)
{
	if (r)
		memset(r, 0, sizeof *r);
	if (!o || o->passes < 1)
		return spif_err_set(err, SPIF_EX_USAGE, "%s: the number of passes must be at least 1", path);
	struct spif_target t;
	if (spif_target_open(&t, path, 1, err) < 0)
		return -1;
	int rc = spif_wipe_target_hooked(&t, o, r, err, hooks);
	spif_target_close(&t);
	return rc;
}

int spif_wipe_target(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                     struct spif_err *err)
{
	return spif_wipe_target_hooked(t, o, r, err, NULL);
}

static int wipe_target_as_caller(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                            struct spif_err *err, const struct spif_wipe_hooks *hooks);

int spif_wipe_target_hooked(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                            struct spif_err *err, const struct spif_wipe_hooks *hooks)
{
	int g = spif_as_caller(); /* the caller's file, as the caller (home.h) */
	int rc = wipe_target_as_caller(t, o, r, err, hooks);
	spif_as_service(g);
	return rc;
}

static int wipe_target_as_caller(struct spif_target *t, const struct spif_wipe_opts *o, struct spif_wipe_result *r,
                            struct spif_err *err, const struct spif_wipe_hooks *hooks)
{
	struct spif_wipe_result local;
	if (!r)
		r = &local;
	memset(r, 0, sizeof *r);
	const char *path = t->path;
	if (!o || o->passes < 1)
		return spif_err_set(err, SPIF_EX_USAGE, "%s: the number of passes must be at least 1", path);
	if (t->fd < 0 || t->dirfd < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: not open", path);
	if (spif_crypto_init(err) < 0)
		return -1;

	/* Everything below is on the target's descriptors: the file itself,
	 * and its directory for the renames and the unlink. */
	int dirfd = t->dirfd;
	struct wipe_ctx c = {.path = path, .fd = t->fd, .rfd = -1, .wfd = -1, .o = o, .hooks = hooks};
	int rc = -1, have_cipher = 0;
	struct stat fst;

	/* Removing the name needs a writable directory: find out before
	 * anything is overwritten rather than after (a read-only filesystem
	 * is reported from the open below). */
	if (faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0 && errno != EROFS) {
		int e = errno;
		spif_err_sys(err, spif_exit_for_errno(e), e, "%s: its directory does not let it be renamed and "
		             "removed", path);
		goto out;
	}
	/* opened read-only: why it could not be opened to be written */
	if (t->write_errno) {
		int e = t->write_errno;
		spif_err_sys(err, spif_exit_for_errno(e), e, "%s", path);
		goto out;
	}
	if (fstat(c.fd, &fst) < 0) {
		int e = errno;
		spif_err_sys(err, SPIF_EX_IOERR, e, "%s", path);
		goto out;
	}
	if (fst.st_nlink > 1 && !o->allow_links) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s: has %ld hard links; other names would keep the data (use "
		             "--force to overwrite anyway)", path, (long)fst.st_nlink);
		goto out;
	}

	/* Everything allocated, and the slack after the end in the last block. */
	c.size = (long long)fst.st_size;
	long long blk = fst.st_blksize > 0 ? (long long)fst.st_blksize : 4096;
	long long alloc = (long long)fst.st_blocks * 512;
	long long a = (c.size + blk - 1) / blk * blk, b = (alloc + blk - 1) / blk * blk;
	c.len = a > b ? a : b;
	int big = c.len >= PIPE_MIN;

	/* A small file gets small buffers: no fresh pages to fault in and
	 * clear for every file of a batch. */
	c.bufsz = c.len < CHUNK ? (size_t)(c.len + 4095) / 4096 * 4096 : CHUNK;
	if (c.bufsz == 0)
		c.bufsz = 4096;
	if (posix_memalign((void **)&c.buf, 4096, c.bufsz) != 0 || posix_memalign((void **)&c.chk, 4096, c.bufsz) != 0 ||
	    !(c.sha = spif_sha256_new())) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", path);
		goto out;
	}
	for (int i = 0; big && i < RING; i++)
		if (posix_memalign((void **)&c.ring[i], 4096, BIG) != 0) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", path);
			goto out;
		}
	if (big && posix_memalign((void **)&c.back, 4096, BIG) != 0) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", path);
		goto out;
	}
	if (gcry_cipher_open(&c.h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CTR, 0)) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "%s: AES-256-CTR is not available", path);
		goto out;
	}
	have_cipher = 1;
	snprintf(r->pattern, sizeof r->pattern, "%d pass%s random (AES-256-CTR keystream)%s", o->passes,
	         o->passes == 1 ? "" : "es", o->zero ? " + 1 pass zeros" : "");

	r->bytes = c.len;
	int npasses = o->passes + (o->zero ? 1 : 0);
	if (__builtin_mul_overflow(c.len, (long long)npasses, &c.total))
		c.total = LLONG_MAX;

	/* The contents just before overwriting.  A target hashed before must
	 * still hold what was hashed (a certificate names that hash): a small
	 * file is read again, a large one only when its stamp moved.  Only a
	 * large file not hashed before is hashed during its first pass. */
	int hashed_now = 0;
	if (t->hashed && big && spif_wipe_same_stamp(&t->hst, &fst)) {
		memcpy(r->sha256_before, t->sha256, sizeof r->sha256_before);
		hashed_now = 1;
	} else if (t->hashed || !big) {
		if (hash_all(&c, c.buf, r, err) < 0)
			goto out;
		spif_sha256_hex(c.sha, r->sha256_before);
		explicit_bzero(c.buf, c.bufsz);
		hashed_now = 1;
		if (t->hashed && strcmp(r->sha256_before, t->sha256) != 0) {
			r->changed = 1;
			spif_err_set(err, SPIF_EX_TEMPFAIL, "%s: changed since it was examined; nothing of it was "
			             "overwritten; try again", path);
			goto out;
		}
	}

	if (big) {
		/* Unless hashed above, the contents are hashed during the first
		 * pass, each chunk before it is overwritten; the last pass is
		 * read back as it is written. */
		c.wfd = reopen_direct(c.fd, O_WRONLY);
		c.rfd = reopen_direct(c.fd, O_RDONLY);
		for (int p = 1; p <= o->passes; p++) {
			int hashing = p == 1 && !hashed_now;
			if (pipe_pass(&c, 1, p, hashing, p == o->passes && !o->zero, r, err) < 0)
				goto out;
			if (hashing)
				spif_sha256_hex(c.sha, r->sha256_before);
			r->passes_done++;
		}
		if (o->zero && pipe_pass(&c, 0, o->passes + 1, 0, 1, r, err) < 0)
			goto out;
	} else {
		for (int p = 1; p <= o->passes; p++) {
			if (write_pass(&c, 1, p, r, err) < 0)
				goto out;
			r->passes_done++;
		}
		if (o->zero && write_pass(&c, 0, o->passes + 1, r, err) < 0)
			goto out;
		if (verify(&c, !o->zero, r, err) < 0)
			goto out;
	}
	r->verified = 1;
	size_t pl = strlen(r->pattern);
	snprintf(r->pattern + pl, sizeof r->pattern - pl, ", verified");

	/* Past this point the data is gone (each pass was synced); what
	 * remains is the size and the name.  The truncation needs no sync of
	 * its own: the unlink below, made durable by the directory's fsync,
	 * frees the inode whatever size it had. */
	if (ftruncate(c.fd, 0) < 0) {
		int e = errno;
		spif_err_sys(err, SPIF_EX_IOERR, e, "%s: truncating", path);
		goto out;
	}
	/* Renames to names of the same length, each synced: the old name's
	 * bytes in the directory block are overwritten where the filesystem
	 * reuses the entry, and each round makes that more likely where it
	 * writes a new one (GNU shred renames once per shorter length). */
	int renames = o->renames == 0 ? SPIF_WIPE_RENAMES : o->renames < 0 ? 0 : o->renames;
	char *name = t->name;
	for (int i = 0; i < renames; i++) {
		if (!still_ours(dirfd, name, &fst)) {
			spif_err_set(err, SPIF_EX_IOERR, "%s: overwritten, but its name (now %s) was replaced before "
			             "it could be removed", path, name);
			goto out;
		}
		int k = rename_random(dirfd, name, o->name_seed, i);
		if (k < 0) {
			int e = errno;
			spif_err_sys(err, spif_exit_for_errno(e), e, "%s: overwritten, but renaming it (now %s) failed",
			             path, name);
			goto out;
		}
		if (k > 0 && fsync(dirfd) < 0) {
			int e = errno;
			spif_err_sys(err, SPIF_EX_IOERR, e, "%s: overwritten; fsync of its directory (name now %s)",
			             path, name);
			goto out;
		}
		if (hooks && hooks->after_rename && hooks->after_rename(hooks->ctx, i, name)) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "%s: stopped by a test after rename %d (now %s)", path, i, name);
			goto out;
		}
	}
	if (!still_ours(dirfd, name, &fst)) {
		spif_err_set(err, SPIF_EX_IOERR, "%s: overwritten, but its name (now %s) was replaced before it "
		             "could be removed", path, name);
		goto out;
	}
	if (unlinkat(dirfd, name, 0) < 0) {
		int e = errno;
		spif_err_sys(err, spif_exit_for_errno(e), e, "%s: overwritten, but removing it (now %s) failed",
		             path, name);
		goto out;
	}
	if (fsync(dirfd) < 0) {
		int e = errno;
		spif_err_sys(err, SPIF_EX_IOERR, e, "%s: removed; fsync of its directory", path);
		goto out;
	}
	t->fd = -1; /* closed here, for the error close may report */
	if (close(c.fd) < 0) {
		int e = errno;
		spif_err_sys(err, SPIF_EX_IOERR, e, "%s: removed; close", path);
		goto out;
	}
	rc = 0;
out:
	if (have_cipher)
		gcry_cipher_close(c.h);
	explicit_bzero(c.ctr, sizeof c.ctr);
	if (c.buf) {
		explicit_bzero(c.buf, c.bufsz);
		free(c.buf);
	}
	if (c.chk) {
		explicit_bzero(c.chk, c.bufsz); /* the hash's reads (large files) held the original contents */
		free(c.chk);
	}
	for (int i = 0; i < RING; i++)
		free(c.ring[i]);
	free(c.back);
	spif_sha256_free(c.sha);
	if (c.wfd >= 0)
		close(c.wfd);
	if (c.rfd >= 0)
		close(c.rfd);
	return rc;
}

static int find_renamed_as_caller(const char *path, const unsigned char *seed, int renames, unsigned maj, unsigned min,
                           unsigned long long ino, char *found, size_t n, struct spif_err *err);

int spif_wipe_find_renamed(const char *path, const unsigned char *seed, int renames, unsigned maj, unsigned min,
                           unsigned long long ino, char *found, size_t n, struct spif_err *err)
{
	int g = spif_as_caller(); /* the caller's file, as the caller (home.h) */
	int rc = find_renamed_as_caller(path, seed, renames, maj, min, ino, found, n, err);
	spif_as_service(g);
	return rc;
}

static int find_renamed_as_caller(const char *path, const unsigned char *seed, int renames, unsigned maj, unsigned min,
                           unsigned long long ino, char *found, size_t n, struct spif_err *err)
{
	const char *base = base_of(path);
	size_t len = strlen(base), dl = (size_t)(base - path);
	if (!seed || len == 0 || len > NAME_MAX)
		return 0;
	if (spif_crypto_init(err) < 0)
		return -1;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%.*s", dl ? (int)dl : 1, dl ? path : ".");
	int dirfd = spif_wipe_open_dir(dir, 0);
	if (dirfd < 0) {
		int e = errno;
		if (e == ENOENT)
			return 0;
		if (e == ELOOP)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: a directory on its path is a symbolic link", path);
		return spif_err_sys(err, spif_exit_for_errno(e), e, "%s", dir);
	}
	if (renames <= 0)
		renames = SPIF_WIPE_RENAMES;
	/* the last round first: where a crash most likely left it */
	int hit = 0;
	char name[NAME_MAX + 1];
	for (int round = renames - 1; round >= 0 && !hit; round--)
		for (int t = 0; t < RENAME_TRIES && !hit; t++) {
			struct stat st;
			rename_name(seed, round, t, name, len);
			hit = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
			      major(st.st_dev) == maj && minor(st.st_dev) == min && (unsigned long long)st.st_ino == ino;
		}
	close(dirfd);
	if (hit)
		snprintf(found, n, "%.*s%s", (int)dl, path, name);
	return hit;
}
