/* test_wipe.c - the probe (kinds of file, filesystems, media, loop
 * devices), the verdict rules, the target opened once (no symbolic link
 * followed, a directory swapped afterwards, contents changed after they
 * were hashed), and the overwrite: passes, verification,
 * renames, unlink, hard links, interruption; large files (the pipelined
 * overwrite), and a byte changed on the medium caught by the read-back; on
 * a loop-mounted ext4 image (root only) that the bytes are really gone
 * from the image. */
#include "digest.h"
#include "tap.h"
#include "wipe.h"
#include "wipe_priv.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

static void skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_n, why);
	fflush(stdout);
}

static int write_file(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	const char *p = buf;
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k <= 0) {
			close(fd);
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	int rc = fsync(fd);
	return close(fd) < 0 ? -1 : rc;
}

/* The whole file in a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	unsigned char *buf = malloc(cap);
	size_t k;
	while (buf && (k = fread(buf + len, 1, cap - len, f)) > 0) {
		len += k;
		if (len == cap) {
			unsigned char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	*n = len;
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void pjoin(char *out, size_t n, const char *dir, const char *name)
{
	int k = snprintf(out, n, "%s/%s", dir, name);
	if (k < 0 || (size_t)k >= n) {
		printf("Bail out! path too long: %s/%s\n", dir, name);
		exit(1);
	}
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static void show(const char *what, const struct spif_medium *m)
{
	printf("# probe %s: fstype=%s dev=%u:%u device=%s model=\"%s\" serial=\"%s\" rotational=%d "
	       "backing=\"%s\" backing_fstype=%s backing_rotational=%d data_journal=%d shared=%d nlink=%ld "
	       "size=%lld allocated=%lld reaches_medium=%d reason=\"%s\"\n",
	       what, m->fstype, m->dev_major, m->dev_minor, m->device, m->model, m->serial, m->rotational,
	       m->backing, m->backing_fstype, m->backing_rotational, m->data_journal, m->shared_extents,
	       m->nlink, m->size, m->allocated, m->reaches_medium, m->reason);
}

struct prog {
	int calls;
	long long last_done, total;
	int monotonic;
	volatile sig_atomic_t *stop_after_first;
};

static void on_progress(void *ctx, long long done, long long total)
{
	struct prog *p = ctx;
	if (done < p->last_done)
		p->monotonic = 0;
	p->calls++;
	p->last_done = done;
	p->total = total;
	if (p->stop_after_first)
		*p->stop_after_first = 1;
}

static void test_verdicts(void)
{
	char why[256];
	ok(spif_wipe_fs_verdict("ext4", 0, 0, 0, why, sizeof why) == 1, "ext4 writes in place");
	ok(spif_wipe_fs_verdict("ext2", 0, 0, 0, why, sizeof why) == 1, "ext2 writes in place");
	ok(spif_wipe_fs_verdict("xfs", 0, 0, 0, why, sizeof why) == 1, "xfs without shared extents writes in place");
	ok(spif_wipe_fs_verdict("vfat", 0, 0, 0, why, sizeof why) == 1, "vfat writes in place");
	ok(spif_wipe_fs_verdict("ext4", 1, 0, 0, why, sizeof why) == 0 &&
	   strcmp(why, "ext4 is mounted data=journal: old data stays in the journal") == 0,
	   "ext4 data=journal refused: %s", why);
	ok(spif_wipe_fs_verdict("ext3", 0, 1, 0, why, sizeof why) == 0 && has(why, "chattr +j"),
	   "per-file data journalling refused: %s", why);
	ok(spif_wipe_fs_verdict("xfs", 0, 0, 1, why, sizeof why) == 0 &&
	   strcmp(why, "shared extents (reflink or snapshot): other copies of the blocks remain") == 0,
	   "xfs with shared extents refused: %s", why);
	ok(spif_wipe_fs_verdict("btrfs", 0, 0, 0, why, sizeof why) == 0 && strcmp(why, "btrfs is copy-on-write") == 0,
	   "btrfs: %s", why);
	ok(spif_wipe_fs_verdict("zfs", 0, 0, 0, why, sizeof why) == 0 && strcmp(why, "zfs is copy-on-write") == 0,
	   "zfs: %s", why);
	ok(spif_wipe_fs_verdict("f2fs", 0, 0, 0, why, sizeof why) == 0 && strcmp(why, "f2fs is log-structured") == 0,
	   "f2fs: %s", why);
	ok(spif_wipe_fs_verdict("tmpfs", 0, 0, 0, why, sizeof why) == 0 &&
	   strcmp(why, "tmpfs keeps data in memory and swap") == 0, "tmpfs: %s", why);
	ok(spif_wipe_fs_verdict("nfs4", 0, 0, 0, why, sizeof why) == 0 && has(why, "on another machine"),
	   "nfs4: %s", why);
	ok(spif_wipe_fs_verdict("overlay", 0, 0, 0, why, sizeof why) == 0 &&
	   strcmp(why, "overlay: the lower layers keep their copies") == 0, "overlay: %s", why);
	ok(spif_wipe_fs_verdict("fuse.sshfs", 0, 0, 0, why, sizeof why) == 0, "fuse.sshfs: %s", why);
	ok(spif_wipe_fs_verdict("weirdfs", 0, 0, 0, why, sizeof why) == 0 && has(why, "weirdfs"),
	   "an unknown filesystem is refused: %s", why);
	ok(spif_wipe_fs_verdict("", 0, 0, 0, why, sizeof why) == 0, "no filesystem name is refused: %s", why);

	ok(spif_wipe_medium_verdict(1, "", why, sizeof why) == 1, "a rotational disk keeps overwrites in place");
	ok(spif_wipe_medium_verdict(0, "", why, sizeof why) == 0 &&
	   strcmp(why, "the medium is an SSD or flash (wear levelling keeps old blocks)") == 0, "SSD: %s", why);
	ok(spif_wipe_medium_verdict(-1, "", why, sizeof why) == 0 && strcmp(why, "the medium is unknown") == 0,
	   "unknown medium: %s", why);
	ok(spif_wipe_medium_verdict(1, "the medium is memory (zram0)", why, sizeof why) == 0 &&
	   strcmp(why, "the medium is memory (zram0)") == 0, "a distrusted device overrides rotational");
}

static void test_probe(const char *dir)
{
	char path[PATH_MAX], other[PATH_MAX];
	struct spif_medium m;
	struct spif_err err = {0};
	static char buf[10000];
	memset(buf, 'x', sizeof buf);

	pjoin(path, sizeof path, dir, "plain");
	ok(write_file(path, buf, sizeof buf) == 0, "wrote a 10000-byte file");
	ok(spif_wipe_probe(path, &m, &err) == 0, "probe of a regular file: %s", err.msg);
	ok(m.fstype[0] != '\0', "fstype is known: %s", m.fstype);
	is_int(m.nlink, 1, "one link");
	is_int(m.size, 10000, "size");
	ok(m.allocated >= 0, "allocated %lld", m.allocated);
	ok(m.reaches_medium || m.reason[0], "a verdict, with a reason when negative");
	ok(m.rotational >= -1 && m.rotational <= 1, "rotational is -1, 0 or 1");
	show("TMPDIR file", &m);
	struct stat st;
	stat(path, &st);
	ok(m.dev_major == major(st.st_dev) && m.dev_minor == minor(st.st_dev), "device numbers from st_dev");

	pjoin(other, sizeof other, dir, "link");
	ok(symlink(path, other) == 0, "made a symlink");
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_probe(other, &m, &err), -1, "probe refuses a symlink");
	is_int(err.code, SPIF_EX_DATAERR, "symlink: DATAERR");
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "%s: is a symbolic link", other);
	is_str(err.msg, want, "symlink message");
	unlink(other);

	memset(&err, 0, sizeof err);
	is_int(spif_wipe_probe(dir, &m, &err), -1, "probe refuses a directory");
	is_int(err.code, SPIF_EX_DATAERR, "directory: DATAERR");
	snprintf(want, sizeof want, "%s: is a directory", dir);
	is_str(err.msg, want, "directory message");

	pjoin(other, sizeof other, dir, "fifo");
	ok(mkfifo(other, 0600) == 0, "made a FIFO");
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_probe(other, &m, &err), -1, "probe refuses a FIFO (without blocking)");
	is_int(err.code, SPIF_EX_DATAERR, "FIFO: DATAERR");
	ok(has(err.msg, ": is a FIFO"), "FIFO message: %s", err.msg);
	unlink(other);

	pjoin(other, sizeof other, dir, "sock");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (s >= 0 && strlen(other) < sizeof sa.sun_path) {
		memcpy(sa.sun_path, other, strlen(other) + 1);
		ok(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0, "made a socket");
		memset(&err, 0, sizeof err);
		ok(spif_wipe_probe(other, &m, &err) == -1 && err.code == SPIF_EX_DATAERR && has(err.msg, ": is a socket"),
		   "probe refuses a socket: %s", err.msg);
		unlink(other);
	} else {
		skip("no AF_UNIX socket");
		skip("no AF_UNIX socket");
	}
	if (s >= 0)
		close(s);

	memset(&err, 0, sizeof err);
	is_int(spif_wipe_probe("/dev/null", &m, &err), -1, "probe refuses /dev/null");
	is_int(err.code, SPIF_EX_DATAERR, "device: DATAERR");
	is_str(err.msg, "/dev/null: is a device", "device message");

	pjoin(other, sizeof other, dir, "missing");
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_probe(other, &m, &err), -1, "probe of a missing file fails");
	is_int(err.code, SPIF_EX_NOINPUT, "missing: NOINPUT");
	snprintf(want, sizeof want, "%s: No such file or directory", other);
	is_str(err.msg, want, "missing message");

	/* a file in /dev/shm: tmpfs */
	struct statfs sf;
	if (statfs("/dev/shm", &sf) == 0 && (unsigned long)sf.f_type == 0x01021994UL) {
		char shm[] = "/dev/shm/spif-wipe-test-XXXXXX";
		int fd = mkstemp(shm);
		ok(fd >= 0 && write(fd, buf, 100) == 100, "a file in /dev/shm");
		if (fd >= 0)
			close(fd);
		memset(&err, 0, sizeof err);
		ok(spif_wipe_probe(shm, &m, &err) == 0, "probe on /dev/shm: %s", err.msg);
		is_str(m.fstype, "tmpfs", "/dev/shm is tmpfs");
		is_int(m.reaches_medium, 0, "tmpfs does not reach a medium");
		is_str(m.reason, "tmpfs keeps data in memory and swap", "tmpfs reason");
		show("/dev/shm file", &m);
		/* and the overwrite works there (it just proves nothing about the medium) */
		struct spif_wipe_opts o = {.passes = 1};
		struct spif_wipe_result r;
		memset(&err, 0, sizeof err);
		ok(spif_wipe_file(shm, &o, &r, &err) == 0 && r.verified && !exists(shm), "wipe on tmpfs: %s", err.msg);
		unlink(shm);
	} else {
		for (int i = 0; i < 6; i++)
			skip("/dev/shm is not tmpfs here");
	}
	unlink(path);
}

static void test_links(const char *dir)
{
	char path[PATH_MAX], other[PATH_MAX];
	pjoin(path, sizeof path, dir, "linked");
	pjoin(other, sizeof other, dir, "linked2");
	ok(write_file(path, "secret 123456789018\n", 20) == 0 && link(path, other) == 0, "a file with two links");
	struct spif_medium m;
	struct spif_err err = {0};
	ok(spif_wipe_probe(path, &m, &err) == 0 && m.nlink == 2, "probe counts 2 links");
	struct spif_wipe_opts o = {.passes = 1};
	struct spif_wipe_result r;
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_file(path, &o, &r, &err), -1, "a hard-linked file is refused");
	is_int(err.code, SPIF_EX_DATAERR, "hard links: DATAERR");
	char want[PATH_MAX + 128];
	snprintf(want, sizeof want, "%s: has 2 hard links; other names would keep the data (use --force to "
	         "overwrite anyway)", path);
	is_str(err.msg, want, "hard link message");
	ok(exists(path) && exists(other), "both names still there");
	size_t n = 0;
	unsigned char *c = slurp(other, &n);
	ok(c && n == 20 && memcmp(c, "secret 123456789018\n", 20) == 0, "contents untouched");
	free(c);

	o.allow_links = 1;
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(path, &o, &r, &err) == 0, "accepted with allow_links: %s", err.msg);
	ok(!exists(path), "the wiped name is gone");
	struct stat st;
	ok(stat(other, &st) == 0 && st.st_size == 0 && st.st_nlink == 1,
	   "the other name remains, emptied (the data was overwritten in place)");
	unlink(other);
}

static void test_wipe(const char *top)
{
	char dir[PATH_MAX], path[PATH_MAX];
	pjoin(dir, sizeof dir, top, "w");
	mkdir(dir, 0700);
	pjoin(path, sizeof path, dir, "my-number-file.csv");

	size_t size = 3 * 1024 * 1024;
	unsigned char *data = malloc(size);
	for (size_t i = 0; i < size; i++)
		data[i] = (unsigned char)("0123456789,name\n"[i % 16] ^ (i >> 20));
	ok(write_file(path, data, size) == 0, "wrote 3 MiB");
	char want_hash[65];
	spif_sha256_buf(data, size, want_hash);

	struct prog pr = {.monotonic = 1};
	struct spif_wipe_opts o = {.passes = 2, .zero = 1, .progress = on_progress, .progress_ctx = &pr};
	struct spif_wipe_result r;
	struct spif_err err = {0};
	ok(spif_wipe_file(path, &o, &r, &err) == 0, "wipe 3 MiB, 2 passes + zeros: %s", err.msg);
	ok(r.bytes >= (long long)size, "bytes per pass %lld >= size", r.bytes);
	is_int(r.verified, 1, "verified");
	is_int(r.passes_done, 2, "2 random passes done");
	is_int(r.interrupted, 0, "not interrupted");
	is_str(r.sha256_before, want_hash, "sha256_before is the SHA-256 of the original contents");
	ok(has(r.pattern, "2 passes random (AES-256-CTR keystream)") && has(r.pattern, "zeros") &&
	   has(r.pattern, "verified"), "pattern: %s", r.pattern);
	ok(!exists(path), "the file is gone");
	is_int(count_entries(dir), 0, "the directory holds no old name and no renamed leftover");
	ok(pr.calls >= 9, "progress per chunk (%d calls)", pr.calls);
	ok(pr.monotonic && pr.last_done == pr.total && pr.total == 3 * r.bytes, "progress reaches the total %lld",
	   pr.total);

	/* one pass, no zeros: the keystream is regenerated for the read-back */
	ok(write_file(path, data, 5000) == 0, "wrote 5000 bytes");
	struct stat st;
	stat(path, &st);
	struct spif_wipe_opts o1 = {.passes = 1, .renames = 5};
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(path, &o1, &r, &err) == 0, "wipe with 1 pass, 5 renames: %s", err.msg);
	ok(r.verified && r.passes_done == 1 && has(r.pattern, "1 pass random") && !has(r.pattern, "zeros"),
	   "1 pass verified: %s", r.pattern);
	ok(r.bytes >= 5000 && r.bytes % st.st_blksize == 0, "the slack of the last block is covered (%lld bytes)",
	   r.bytes);
	is_int(count_entries(dir), 0, "nothing left");

	/* empty file */
	ok(write_file(path, "", 0) == 0, "an empty file");
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(path, &o1, &r, &err) == 0 && r.bytes == 0 && r.verified && !exists(path),
	   "an empty file is removed: %s", err.msg);
	is_str(r.sha256_before, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "SHA-256 of nothing");

	/* stop preset: nothing happens */
	ok(write_file(path, data, size) == 0, "3 MiB again");
	volatile sig_atomic_t stop = 1;
	struct spif_wipe_opts os = {.passes = 1, .stop = &stop};
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_file(path, &os, &r, &err), -1, "stop set: fails");
	is_int(err.code, SPIF_EX_TEMPFAIL, "stop: TEMPFAIL");
	ok(has(err.msg, "interrupted"), "message: %s", err.msg);
	is_int(r.interrupted, 1, "interrupted");
	is_int(r.overwrite_begun, 0, "stopped before a byte was overwritten");
	size_t n = 0;
	unsigned char *c = slurp(path, &n);
	ok(c && n == size && memcmp(c, data, size) == 0, "the file is still there, unchanged");
	free(c);

	/* stop after the first chunk: left in place, partly overwritten */
	stop = 0;
	struct prog ps = {.monotonic = 1, .stop_after_first = &stop};
	os.progress = on_progress;
	os.progress_ctx = &ps;
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_file(path, &os, &r, &err), -1, "stop mid-pass: fails");
	ok(err.code == SPIF_EX_TEMPFAIL && r.interrupted && r.passes_done == 0 && !r.verified,
	   "TEMPFAIL, interrupted, no pass done: %s", err.msg);
	is_int(ps.calls, 1, "stopped after the current write");
	is_int(r.overwrite_begun, 1, "the overwrite had begun");
	c = slurp(path, &n);
	ok(c && n == size && memcmp(c, data, 1024 * 1024) != 0 && memcmp(c + 1024 * 1024, data + 1024 * 1024,
	   size - 1024 * 1024) == 0, "the file is in place under its name: first MiB overwritten, the rest not yet");
	free(c);
	is_int(count_entries(dir), 1, "only the original name in the directory");
	unlink(path);

	/* bad options, bad targets */
	ok(write_file(path, "x", 1) == 0, "a small file");
	struct spif_wipe_opts o0 = {.passes = 0};
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(path, &o0, &r, &err) == -1 && err.code == SPIF_EX_USAGE && exists(path),
	   "passes 0 is a usage error: %s", err.msg);
	char sl[PATH_MAX];
	pjoin(sl, sizeof sl, dir, "sl");
	ok(symlink(path, sl) == 0, "symlink to it");
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(sl, &o1, &r, &err) == -1 && err.code == SPIF_EX_DATAERR && has(err.msg, "is a symbolic link")
	   && exists(sl) && exists(path), "wipe refuses a symlink and touches neither: %s", err.msg);
	unlink(sl);
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(dir, &o1, &r, &err) == -1 && err.code == SPIF_EX_DATAERR && has(err.msg, "is a directory"),
	   "wipe refuses a directory: %s", err.msg);
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file("/dev/null", &o1, &r, &err) == -1 && err.code == SPIF_EX_DATAERR &&
	   has(err.msg, "is a device"), "wipe refuses /dev/null: %s", err.msg);
	pjoin(sl, sizeof sl, dir, "missing");
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(sl, &o1, &r, &err) == -1 && err.code == SPIF_EX_NOINPUT, "wipe of a missing file: %s",
	   err.msg);
	/* a directory that does not allow removing the name: refused before overwriting */
	if (geteuid() != 0 && chmod(dir, 0500) == 0) {
		memset(&err, 0, sizeof err);
		ok(spif_wipe_file(path, &o1, &r, &err) == -1 && err.code == SPIF_EX_NOPERM, "read-only directory: %s",
		   err.msg);
		c = slurp(path, &n);
		ok(c && n == 1 && c[0] == 'x', "nothing was overwritten");
		free(c);
		chmod(dir, 0700);
	} else {
		skip("root: directory permissions do not apply");
		skip("root: directory permissions do not apply");
	}
	/* a relative name (the directory is ".") */
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof cwd) && chdir(dir) == 0) {
		memset(&err, 0, sizeof err);
		ok(spif_wipe_file("my-number-file.csv", &o1, &r, &err) == 0 && !exists(path),
		   "a relative path works: %s", err.msg);
		if (chdir(cwd) != 0)
			perror("chdir");
	} else {
		skip("cannot chdir");
	}
	unlink(path);
	rmdir(dir);
	free(data);
}

/* ---- large files: the pipelined overwrite ------------------------------- */

/* A test-only hook: flip the byte at `at` of the file just before the
 * range holding it is read back, as a medium that lost the write would. */
struct corrupt {
	long long at;
	int calls, flipped;
};

static void corrupt_hook(void *ctx, int fd, long long off, long long n)
{
	struct corrupt *k = ctx;
	k->calls++;
	if (k->at < off || k->at >= off + n)
		return;
	unsigned char b;
	if (pread(fd, &b, 1, (off_t)k->at) == 1) {
		b ^= 0xFF;
		if (pwrite(fd, &b, 1, (off_t)k->at) == 1)
			k->flipped = 1;
	}
}

static unsigned char *pattern(size_t size)
{
	unsigned char *data = malloc(size);
	if (!data) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < size; i++)
		data[i] = (unsigned char)("0123456789,name\n"[i % 16] ^ (i >> 20) ^ (i >> 13));
	return data;
}

/* A file of size bytes with a mismatch injected at byte `at` of the last
 * pass: the wipe fails with the byte's offset and leaves the file. */
static void check_mismatch(const char *dir, size_t size, int zero, long long at, const char *what)
{
	char path[PATH_MAX];
	pjoin(path, sizeof path, dir, "mismatch.csv");
	unsigned char *data = pattern(size);
	ok(write_file(path, data, size) == 0, "%s: wrote %zu bytes", what, size);
	struct corrupt k = {.at = at};
	struct spif_wipe_hooks h = {.before_readback = corrupt_hook, .ctx = &k};
	struct spif_wipe_opts o = {.passes = 1, .zero = zero};
	struct spif_wipe_result r;
	struct spif_err err = {0};
	is_int(spif_wipe_file_hooked(path, &o, &r, &err, &h), -1, "%s: a byte changed on the medium fails the wipe",
	       what);
	is_int(k.flipped, 1, "%s: the hook changed byte %lld before it was read back", what, at);
	is_int(err.code, SPIF_EX_IOERR, "%s: IOERR", what);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "%s: verification failed at byte %lld", path, at);
	is_str(err.msg, want, "%s: message: %s", what, err.msg);
	ok(!r.verified && !r.interrupted && !has(r.pattern, "verified"), "%s: not verified, not interrupted", what);
	ok(exists(path), "%s: the file is left in place under its name", what);
	is_int(count_entries(dir), 1, "%s: no renamed leftover", what);
	unlink(path);
	free(data);
}

static void test_wipe_big(const char *top)
{
	char dir[PATH_MAX], path[PATH_MAX];
	pjoin(dir, sizeof dir, top, "big");
	mkdir(dir, 0700);
	pjoin(path, sizeof path, dir, "kojin-bango.csv");

	/* 37 MiB + 123 bytes: no multiple of a chunk, a block or a page */
	size_t size = 37u * 1024 * 1024 + 123;
	unsigned char *data = pattern(size);
	char want_hash[65];
	spif_sha256_buf(data, size, want_hash);
	ok(write_file(path, data, size) == 0, "wrote 37 MiB + 123 bytes");
	struct stat st;
	stat(path, &st);
	struct prog pr = {.monotonic = 1};
	struct spif_wipe_opts o1 = {.passes = 1, .progress = on_progress, .progress_ctx = &pr};
	struct spif_wipe_result r;
	struct spif_err err = {0};
	ok(spif_wipe_file(path, &o1, &r, &err) == 0, "wipe 37 MiB + 123 bytes, 1 pass: %s", err.msg);
	is_int(r.verified, 1, "verified");
	is_int(r.passes_done, 1, "1 pass done");
	is_int(r.interrupted, 0, "not interrupted");
	is_str(r.sha256_before, want_hash, "sha256_before is the SHA-256 of the original contents (hashed while "
	       "overwriting)");
	ok(r.bytes >= (long long)size && r.bytes % st.st_blksize == 0, "the slack of the last block is covered (%lld "
	   "bytes)", r.bytes);
	ok(has(r.pattern, "1 pass random (AES-256-CTR keystream), verified"), "pattern: %s", r.pattern);
	ok(!exists(path), "the file is gone");
	is_int(count_entries(dir), 0, "the directory holds no old name and no renamed leftover");
	ok(pr.calls >= 5 && pr.monotonic && pr.last_done == pr.total && pr.total == r.bytes,
	   "progress: %d calls, monotonic, reaches the total %lld", pr.calls, pr.total);

	/* several passes and zeros: 9 MiB + 5 bytes */
	size_t size2 = 9u * 1024 * 1024 + 5;
	char want2[65];
	spif_sha256_buf(data, size2, want2);
	ok(write_file(path, data, size2) == 0, "wrote 9 MiB + 5 bytes");
	struct prog p2 = {.monotonic = 1};
	struct spif_wipe_opts o3 = {.passes = 2, .zero = 1, .progress = on_progress, .progress_ctx = &p2};
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(path, &o3, &r, &err) == 0, "wipe 9 MiB + 5 bytes, 2 passes + zeros: %s", err.msg);
	ok(r.verified && r.passes_done == 2 && has(r.pattern, "zeros") && has(r.pattern, "verified"),
	   "verified, 2 passes: %s", r.pattern);
	is_str(r.sha256_before, want2, "sha256_before with several passes");
	ok(p2.monotonic && p2.last_done == p2.total && p2.total == 3 * r.bytes, "progress reaches 3 passes' worth");
	ok(!exists(path) && count_entries(dir) == 0, "gone");

	/* the verification still catches a byte that did not stick */
	check_mismatch(dir, size, 0, 20LL * 1024 * 1024 + 5, "large file, random pass");
	check_mismatch(dir, size2, 1, (long long)size2 - 1, "large file, zeros last");
	check_mismatch(dir, 64 * 1024 + 17, 0, 40000, "small file");

	/* stop preset: nothing happens */
	ok(write_file(path, data, size) == 0, "37 MiB + 123 bytes again");
	volatile sig_atomic_t stop = 1;
	struct spif_wipe_opts os = {.passes = 1, .stop = &stop};
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_file(path, &os, &r, &err), -1, "large file, stop set: fails");
	ok(err.code == SPIF_EX_TEMPFAIL && r.interrupted && has(err.msg, "interrupted before overwriting"),
	   "TEMPFAIL, interrupted before overwriting: %s", err.msg);
	size_t n = 0;
	unsigned char *c = slurp(path, &n);
	ok(c && n == size && memcmp(c, data, size) == 0, "the file is still there, unchanged");
	free(c);

	/* stop after the first chunk: left in place, partly overwritten */
	stop = 0;
	struct prog ps = {.monotonic = 1, .stop_after_first = &stop};
	os.progress = on_progress;
	os.progress_ctx = &ps;
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_file(path, &os, &r, &err), -1, "large file, stop mid-pass: fails");
	ok(err.code == SPIF_EX_TEMPFAIL && r.interrupted && r.passes_done == 0 && !r.verified &&
	   has(err.msg, "part way through overwriting"), "TEMPFAIL, interrupted, no pass done: %s", err.msg);
	is_int(ps.calls, 1, "stopped after the current write");
	is_int(r.overwrite_begun, 1, "the overwrite had begun");
	c = slurp(path, &n);
	size_t mib = 1024 * 1024;
	ok(c && n >= size && memcmp(c, data, mib) != 0 && memcmp(c + size - mib, data + size - mib, mib) == 0,
	   "the file is in place under its name: the start overwritten, the end not yet");
	free(c);
	is_int(count_entries(dir), 1, "only the original name in the directory");
	unlink(path);
	rmdir(dir);
	free(data);
}

/* ---- root: a loop-mounted ext4 image ----------------------------------- */

static const char marker[] = "SPIF-WIPE-MARKER-621498320257-";

static int image_has_marker(const char *img)
{
	size_t n = 0;
	unsigned char *c = slurp(img, &n);
	if (!c)
		return -1;
	int found = memmem(c, n, marker, sizeof marker - 1) != NULL;
	free(c);
	return found;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[3 * PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof cmd)
		return -1;
	return system(cmd);
}

static void umount_quiet(const char *mnt)
{
	sh("umount '%s' 2>/dev/null || umount -l '%s' 2>/dev/null", mnt, mnt);
}

static void test_loop(const char *top)
{
	const int ntests = 25;
	if (geteuid() != 0) {
		for (int i = 0; i < ntests; i++)
			skip("not root: no loop mount");
		return;
	}
	char img[PATH_MAX], mnt[PATH_MAX], path[PATH_MAX];
	pjoin(img, sizeof img, top, "ext4.img");
	pjoin(mnt, sizeof mnt, top, "mnt");
	pjoin(path, sizeof path, mnt, "secret.txt");
	if (strchr(top, '\'') || mkdir(mnt, 0700) != 0 ||
	    sh("truncate -s 16M '%s' && mkfs.ext4 -q -F '%s' >/dev/null 2>&1", img, img) != 0 ||
	    sh("mount -o loop '%s' '%s' 2>/dev/null", img, mnt) != 0) {
		for (int i = 0; i < ntests; i++)
			skip("mount -o loop does not work here");
		rmdir(mnt);
		unlink(img);
		return;
	}
	char img_real[PATH_MAX];
	if (!realpath(img, img_real))
		snprintf(img_real, sizeof img_real, "%s", img);

	size_t size = 256 * 1024;
	char *data = malloc(size);
	for (size_t i = 0; i < size; i++)
		data[i] = marker[i % (sizeof marker - 1)];
	ok(write_file(path, data, size) == 0, "a file full of a marker on the loop mount (fsync'd)");
	sync();
	ok(image_has_marker(img) == 1, "the marker is in the raw image before the wipe");

	struct spif_medium m, img_m;
	struct spif_err err = {0};
	/* a run's cache of device facts (shred keeps one for all its targets) */
	struct spif_probe_cache *pc = spif_probe_cache_new();
	struct spif_target ct;
	ok(spif_target_open(&ct, path, 0, &err) == 0 && spif_wipe_probe_target(&ct, pc, &m, &err) == 0 &&
	   m.data_journal == 0, "probe through a run's cache, mounted data=ordered: %s", err.msg);
	spif_target_close(&ct);
	ok(spif_wipe_probe(path, &m, &err) == 0, "probe on the loop mount: %s", err.msg);
	show("loop-mounted ext4 file", &m);
	ok(strncmp(m.device, "loop", 4) == 0, "device is a loop device: %s", m.device);
	is_str(m.backing, img_real, "backing is the image path");
	is_str(m.fstype, "ext4", "ext4 inside");
	spif_wipe_probe(img, &img_m, &err);
	show("the image file itself", &img_m);
	is_str(m.backing_fstype, img_m.fstype, "backing_fstype is the image file's filesystem");
	is_int(m.backing_rotational, img_m.backing[0] ? img_m.backing_rotational : img_m.rotational,
	       "backing_rotational is the image file's medium");
	is_int(m.reaches_medium, img_m.reaches_medium, "the verdict follows the image file's filesystem and medium");
	if (!m.reaches_medium)
		ok(has(m.reason, "image file"), "the reason names the image file: %s", m.reason);
	else
		ok(1, "the image file's medium is trusted");

	/* per-file data journalling (chattr +j) */
	char jpath[PATH_MAX];
	pjoin(jpath, sizeof jpath, mnt, "journalled");
	write_file(jpath, "j", 1);
	int jfd = open(jpath, O_RDONLY);
	int flags = 0;
	if (jfd >= 0 && ioctl(jfd, FS_IOC_GETFLAGS, &flags) == 0 &&
	    (flags |= FS_JOURNAL_DATA_FL, ioctl(jfd, FS_IOC_SETFLAGS, &flags) == 0)) {
		memset(&err, 0, sizeof err);
		ok(spif_wipe_probe(jpath, &m, &err) == 0 && m.data_journal == 1 && !m.reaches_medium &&
		   has(m.reason, "journal"), "chattr +j is seen: %s", m.reason);
	} else {
		skip("cannot set FS_JOURNAL_DATA_FL");
	}
	if (jfd >= 0)
		close(jfd);
	unlink(jpath);

	struct spif_wipe_opts o = {.passes = 1, .zero = 1};
	struct spif_wipe_result r;
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file(path, &o, &r, &err) == 0, "wipe on the loop mount: %s", err.msg);
	ok(r.verified && !exists(path), "verified and gone");
	is_int(count_entries(mnt), 1, "only lost+found is left");

	/* read-only: NOPERM */
	pjoin(jpath, sizeof jpath, mnt, "ro");
	write_file(jpath, "ro", 2);
	if (sh("mount -o remount,ro '%s' 2>/dev/null", mnt) == 0) {
		memset(&err, 0, sizeof err);
		ok(spif_wipe_file(jpath, &o, &r, &err) == -1, "wipe on a read-only mount fails");
		is_int(err.code, SPIF_EX_NOPERM, "read-only: NOPERM");
		char want[PATH_MAX + 64];
		snprintf(want, sizeof want, "%s: Read-only file system", jpath);
		is_str(err.msg, want, "read-only message");
	} else {
		for (int i = 0; i < 3; i++)
			skip("cannot remount read-only");
	}
	umount_quiet(mnt);
	ok(image_has_marker(img) == 0, "after umount the raw image no longer contains the marker");

	/* data=journal */
	if (sh("mount -o loop,data=journal '%s' '%s' 2>/dev/null", img, mnt) == 0) {
		pjoin(jpath, sizeof jpath, mnt, "dj");
		write_file(jpath, "dj", 2);
		memset(&err, 0, sizeof err);
		ok(spif_wipe_probe(jpath, &m, &err) == 0, "probe on a data=journal mount: %s", err.msg);
		is_int(m.data_journal, 1, "data_journal seen");
		is_int(m.reaches_medium, 0, "data=journal does not reach the medium");
		is_str(m.reason, "ext4 is mounted data=journal: old data stays in the journal", "data=journal reason");
		/* the same loop device, so the same st_dev, mounted anew with
		 * other options in the same run: the cache must not answer
		 * with what it learnt before the umount */
		memset(&err, 0, sizeof err);
		ok(spif_target_open(&ct, jpath, 0, &err) == 0 && spif_wipe_probe_target(&ct, pc, &m, &err) == 0 &&
		   m.data_journal == 1 && !m.reaches_medium,
		   "the run's cache sees the remount: data=journal on the same device: %s", m.reason);
		spif_target_close(&ct);
		umount_quiet(mnt);
	} else {
		for (int i = 0; i < 5; i++)
			skip("cannot mount data=journal");
	}
	spif_probe_cache_free(pc);
	ok(access(mnt, F_OK) == 0 && count_entries(mnt) == 0, "unmounted");
	rmdir(mnt);
	unlink(img);
	free(data);
}

/* root with mkfs.xfs / mkfs.btrfs: shared extents and copy-on-write */
static void test_cow(const char *top)
{
	char img[PATH_MAX], mnt[PATH_MAX], a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	pjoin(img, sizeof img, top, "cow.img");
	pjoin(mnt, sizeof mnt, top, "cowmnt");
	pjoin(a, sizeof a, mnt, "a");
	pjoin(b, sizeof b, mnt, "b");
	pjoin(c, sizeof c, mnt, "c");
	struct spif_medium m;
	struct spif_err err = {0};
	static char buf[65536];
	memset(buf, 'r', sizeof buf);

	/* xfs with reflink: cp --reflink shares the extents */
	if (geteuid() != 0 || strchr(top, '\'') || system("command -v mkfs.xfs >/dev/null 2>&1") != 0 ||
	    mkdir(mnt, 0700) != 0 ||
	    sh("truncate -s 320M '%s' && mkfs.xfs -q -f -m reflink=1 '%s' >/dev/null 2>&1", img, img) != 0 ||
	    sh("mount -o loop '%s' '%s' 2>/dev/null", img, mnt) != 0) {
		for (int i = 0; i < 6; i++)
			skip("needs root, mkfs.xfs and mount -o loop");
	} else {
		write_file(a, buf, sizeof buf);
		write_file(c, buf, sizeof buf);
		ok(sh("cp --reflink=always '%s' '%s' && sync", a, b) == 0, "cp --reflink on xfs");
		ok(spif_wipe_probe(c, &m, &err) == 0 && strcmp(m.fstype, "xfs") == 0 && m.shared_extents == 0,
		   "an unshared file on xfs: fstype %s, shared %d", m.fstype, m.shared_extents);
		memset(&err, 0, sizeof err);
		ok(spif_wipe_probe(a, &m, &err) == 0, "probe a reflinked file: %s", err.msg);
		is_int(m.shared_extents, 1, "FIEMAP shows the shared extent");
		is_int(m.reaches_medium, 0, "shared extents do not reach the medium");
		is_str(m.reason, "shared extents (reflink or snapshot): other copies of the blocks remain",
		       "shared extents reason");
		show("reflinked file on xfs", &m);
		umount_quiet(mnt);
	}
	rmdir(mnt);
	unlink(img);

	/* btrfs */
	if (geteuid() != 0 || strchr(top, '\'') || system("command -v mkfs.btrfs >/dev/null 2>&1") != 0 ||
	    mkdir(mnt, 0700) != 0 ||
	    sh("truncate -s 256M '%s' && mkfs.btrfs -q -f '%s' >/dev/null 2>&1", img, img) != 0 ||
	    sh("mount -o loop '%s' '%s' 2>/dev/null", img, mnt) != 0) {
		for (int i = 0; i < 3; i++)
			skip("needs root, mkfs.btrfs and mount -o loop");
	} else {
		write_file(a, buf, sizeof buf);
		memset(&err, 0, sizeof err);
		ok(spif_wipe_probe(a, &m, &err) == 0, "probe on btrfs: %s", err.msg);
		is_str(m.fstype, "btrfs", "btrfs by its magic number");
		ok(m.reaches_medium == 0 && strcmp(m.reason, "btrfs is copy-on-write") == 0, "btrfs reason: %s",
		   m.reason);
		show("file on btrfs", &m);
		umount_quiet(mnt);
	}
	rmdir(mnt);
	unlink(img);
}

struct renames {
	int calls, stop_at;
	char last[NAME_MAX + 1];
};

static int count_rename(void *ctx, int round, const char *name)
{
	struct renames *rn = ctx;
	rn->calls++;
	snprintf(rn->last, sizeof rn->last, "%s", name);
	return round == rn->stop_at;
}

/* The renames before unlink: how many by default, and, with a seed, that a
 * file left renamed by a crash is found again (and nothing else is). */
static void test_renames(const char *top)
{
	char dir[PATH_MAX], path[PATH_MAX], found[PATH_MAX], left[PATH_MAX];
	const char *base = "給与支払報告書.csv";
	pjoin(dir, sizeof dir, top, "r");
	mkdir(dir, 0700);
	pjoin(path, sizeof path, dir, base);
	struct spif_wipe_result r;
	struct spif_err err = {0};
	struct renames rn = {.stop_at = -1};
	struct spif_wipe_hooks h = {.after_rename = count_rename, .ctx = &rn};
	struct spif_wipe_opts o = {.passes = 1};
	ok(write_file(path, "abc", 3) == 0, "a small file");
	ok(spif_wipe_file_hooked(path, &o, &r, &err, &h) == 0 && !exists(path), "wiped: %s", err.msg);
	is_int(rn.calls, SPIF_WIPE_RENAMES, "renamed SPIF_WIPE_RENAMES times by default");
	is_int(SPIF_WIPE_RENAMES, 3, "which is 3");
	is_int((int)strlen(rn.last), (int)strlen(base), "to names of the same length in bytes");
	ok(strspn(rn.last, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(rn.last), "of [a-z0-9]: %s", rn.last);
	is_int(count_entries(dir), 0, "nothing left");

	/* a crash after the second rename, with a seed */
	unsigned char seed[SPIF_WIPE_SEED], other[SPIF_WIPE_SEED];
	memset(seed, 7, sizeof seed);
	memset(other, 8, sizeof other);
	ok(write_file(path, "secret", 6) == 0, "a file again");
	struct stat st, st2;
	ok(stat(path, &st) == 0, "its inode");
	rn = (struct renames){.stop_at = 1};
	o.name_seed = seed;
	is_int(spif_wipe_file_hooked(path, &o, &r, &err, &h), -1, "stopped after the second rename, as by a crash");
	ok(!exists(path) && count_entries(dir) == 1, "gone from its name; one entry in the directory");
	pjoin(left, sizeof left, dir, rn.last);
	ok(stat(left, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_size == 0,
	   "left under the last name, truncated (renames come after the read-back)");
	unsigned maj = major(st.st_dev), min = minor(st.st_dev);
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_find_renamed(path, seed, 0, maj, min, st.st_ino, found, sizeof found, &err), 1,
	       "found again from the seed");
	is_str(found, left, "under the name it was given");
	is_int(spif_wipe_find_renamed(path, other, 0, maj, min, st.st_ino, found, sizeof found, &err), 0,
	       "another seed: not found");
	is_int(spif_wipe_find_renamed(path, seed, 0, maj, min, st.st_ino + 1, found, sizeof found, &err), 0,
	       "another inode under that name is not taken for it");
	is_int(spif_wipe_find_renamed(path, NULL, 0, maj, min, st.st_ino, found, sizeof found, &err), 0,
	       "no seed: not looked for");
	is_int(spif_wipe_find_renamed(path, seed, 1, maj, min, st.st_ino, found, sizeof found, &err), 0,
	       "looked for only among the renames asked for");
	ok(spif_wipe_find_renamed(path, seed, 0, maj, min, st.st_ino, found, sizeof found, &err) == 1,
	   "found once more");
	/* finished by another wipe, which removes it */
	rn = (struct renames){.stop_at = -1};
	memset(&err, 0, sizeof err);
	ok(spif_wipe_file_hooked(found, &o, &r, &err, &h) == 0 && count_entries(dir) == 0, "finished: %s", err.msg);
	rmdir(dir);
}

/* ---- the target: opened once ------------------------------------------- */

static void test_target(const char *top)
{
	char dir[PATH_MAX], real[PATH_MAX], link[PATH_MAX], sub[PATH_MAX], via[PATH_MAX], path[PATH_MAX];
	pjoin(dir, sizeof dir, top, "t");
	mkdir(dir, 0700);
	pjoin(real, sizeof real, dir, "real");
	mkdir(real, 0700);
	pjoin(sub, sizeof sub, real, "sub");
	mkdir(sub, 0700);
	pjoin(link, sizeof link, dir, "link");
	ok(symlink(real, link) == 0, "a symbolic link to a directory");

	/* both ways of opening a directory: openat2, and the walk */
	for (int how = 1; how <= 2; how++) {
		const char *name = how == 1 ? "openat2" : "walk";
		int fd = spif_wipe_open_dir(real, how);
		if (fd < 0 && how == 1 && (errno == ENOSYS || errno == EPERM)) {
			for (int k = 0; k < 4; k++)
				skip("openat2 is not available here");
			continue;
		}
		ok(fd >= 0, "%s: a real directory opens", name);
		if (fd >= 0)
			close(fd);
		errno = 0;
		fd = spif_wipe_open_dir(link, how);
		ok(fd < 0 && errno == ELOOP, "%s: a symbolic link as the last component is ELOOP", name);
		pjoin(via, sizeof via, link, "sub");
		errno = 0;
		fd = spif_wipe_open_dir(via, how);
		ok(fd < 0 && errno == ELOOP, "%s: a symbolic link along the way is ELOOP", name);
		errno = 0;
		fd = spif_wipe_open_dir("/proc/self/cwd", how);
		ok(fd < 0 && errno == ELOOP, "%s: a magic link is not followed either", name);
		if (fd >= 0)
			close(fd);
	}

	struct spif_target t, t2;
	struct spif_err err = {0};
	struct spif_wipe_opts o1 = {.passes = 1};
	struct spif_wipe_result r;
	pjoin(path, sizeof path, real, "f");
	ok(write_file(path, "real\n", 5) == 0, "a file in the real directory");
	pjoin(via, sizeof via, link, "f");
	is_int(spif_target_open(&t, via, 1, &err), -1, "a target through a symbolic link is refused");
	ok(err.code == SPIF_EX_DATAERR && has(err.msg, "a directory on its path is a symbolic link"), "%s", err.msg);
	ok(t.fd == -1 && t.dirfd == -1, "and nothing is left open");

	/* opened, hashed; then its directory is swapped for a symbolic link to
	 * another holding a file of the same name: the overwrite, renames and
	 * unlink still reach the file that was opened and hashed */
	memset(&err, 0, sizeof err);
	ok(spif_target_open(&t, path, 1, &err) == 0 && spif_target_hash(&t, NULL, &err) == 0, "opened and hashed: %s",
	   err.msg);
	char want[65];
	spif_sha256_buf("real\n", 5, want);
	is_str(t.sha256, want, "the hash is of its contents");
	struct spif_medium m;
	ok(spif_wipe_probe_target(&t, NULL, &m, &err) == 0 && m.ino == (unsigned long long)t.st.st_ino,
	   "probed through the descriptor: %s", err.msg);
	char away[PATH_MAX], other[PATH_MAX], ofile[PATH_MAX], afile[PATH_MAX];
	pjoin(away, sizeof away, dir, "real.away");
	pjoin(other, sizeof other, dir, "other");
	pjoin(ofile, sizeof ofile, other, "f");
	pjoin(afile, sizeof afile, away, "f");
	mkdir(other, 0700);
	ok(write_file(ofile, "other\n", 6) == 0 && rename(real, away) == 0 && symlink(other, real) == 0,
	   "its directory moved aside, a symbolic link to another in its place");
	memset(&err, 0, sizeof err);
	ok(spif_wipe_target(&t, &o1, &r, &err) == 0, "wiped: %s", err.msg);
	is_str(r.sha256_before, want, "sha256_before is of the file opened");
	ok(!exists(afile), "the file opened is gone (from the directory moved aside)");
	size_t n = 0;
	unsigned char *c = slurp(ofile, &n);
	ok(c && n == 6 && memcmp(c, "other\n", 6) == 0, "the file the symbolic link leads to is untouched");
	free(c);
	is_int(t.fd, -1, "the wipe closed the file");
	spif_target_close(&t);
	unlink(ofile);
	unlink(real);
	rename(away, real);

	/* contents changed after they were hashed: nothing is overwritten */
	ok(write_file(path, "one\n", 4) == 0, "a small file");
	memset(&err, 0, sizeof err);
	ok(spif_target_open(&t, path, 1, &err) == 0 && spif_target_hash(&t, NULL, &err) == 0, "opened and hashed");
	ok(write_file(path, "two\n", 4) == 0, "then rewritten, same size");
	memset(&err, 0, sizeof err);
	is_int(spif_wipe_target(&t, &o1, &r, &err), -1, "the wipe refuses it");
	ok(err.code == SPIF_EX_TEMPFAIL && r.changed && !r.overwrite_begun && has(err.msg, "changed since it was "
	   "examined"), "changed, nothing overwritten: %s", err.msg);
	c = slurp(path, &n);
	ok(c && n == 4 && memcmp(c, "two\n", 4) == 0, "the file holds what was written last");
	free(c);
	spif_target_close(&t);

	/* a large file hashed before is not read again while its stamp holds */
	size_t big = 5 * 1024 * 1024 + 7;
	unsigned char *data = malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 12));
	spif_sha256_buf(data, big, want);
	ok(write_file(path, data, big) == 0, "5 MiB");
	memset(&err, 0, sizeof err);
	ok(spif_target_open(&t, path, 1, &err) == 0 && spif_target_hash(&t, NULL, &err) == 0, "opened and hashed");
	is_str(t.sha256, want, "its hash");
	memset(&err, 0, sizeof err);
	ok(spif_wipe_target(&t, &o1, &r, &err) == 0 && r.verified && !exists(path), "wiped: %s", err.msg);
	is_str(r.sha256_before, want, "sha256_before is the hash taken before");
	spif_target_close(&t);
	/* ... and is read again, and refused, once it moved */
	ok(write_file(path, data, big) == 0, "5 MiB again");
	memset(&err, 0, sizeof err);
	ok(spif_target_open(&t, path, 1, &err) == 0 && spif_target_hash(&t, NULL, &err) == 0, "opened and hashed");
	usleep(20000); /* past the filesystem's clock tick */
	int wfd = open(path, O_WRONLY | O_CLOEXEC);
	ok(wfd >= 0 && pwrite(wfd, "X", 1, 3 * 1024 * 1024) == 1 && close(wfd) == 0, "one byte changed");
	memset(&err, 0, sizeof err);
	ok(spif_wipe_target(&t, &o1, &r, &err) == -1 && r.changed && !r.overwrite_begun, "refused: %s", err.msg);
	c = slurp(path, &n);
	ok(c && n == big && c[3 * 1024 * 1024] == 'X' && memcmp(c, data, 3 * 1024 * 1024) == 0,
	   "nothing was overwritten");
	free(c);
	spif_target_close(&t);
	unlink(path);
	free(data);

	/* many targets in one directory share one descriptor of it, and can be
	 * moved out of the way of the low numbers */
	char p2[PATH_MAX];
	pjoin(p2, sizeof p2, real, "g");
	ok(write_file(path, "a", 1) == 0 && write_file(p2, "b", 1) == 0, "two files");
	memset(&err, 0, sizeof err);
	ok(spif_target_open(&t, path, 1, &err) == 0 && spif_target_open(&t2, p2, 1, &err) == 0, "both opened");
	is_int(spif_target_share_dir(&t2, &t), 1, "the second shares the first's directory");
	ok(t2.dirfd == t.dirfd && !t2.own_dir, "one descriptor");
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 1100) {
		ok(spif_target_park(&t, 1024, &err) == 0 && t.fd >= 1024 && t.dirfd >= 1024, "parked from 1024");
	} else
		skip("the limit on open files is too low to park");
	t2.dirfd = t.dirfd;
	memset(&err, 0, sizeof err);
	ok(spif_wipe_target(&t2, &o1, &r, &err) == 0 && !exists(p2), "wiped through the shared directory: %s", err.msg);
	spif_target_close(&t2);
	ok(t.dirfd >= 0 && fcntl(t.dirfd, F_GETFD) >= 0, "the owner's directory stays open");
	ok(spif_wipe_target(&t, &o1, &r, &err) == 0 && !exists(path), "and the owner wiped: %s", err.msg);
	spif_target_close(&t);

	/* read-only when asked: examined, never written */
	ok(write_file(path, "r", 1) == 0, "a file");
	memset(&err, 0, sizeof err);
	ok(spif_target_open(&t, path, 0, &err) == 0 && (fcntl(t.fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	   "opened read-only");
	spif_target_close(&t);
	unlink(path);
	unlink(link);
	rmdir(sub);
	rmdir(real);
	rmdir(other);
	rmdir(dir);
}

int main(void)
{
	if (spif_crypto_init(NULL) < 0) {
		printf("Bail out! libgcrypt\n");
		return 1;
	}
	const char *tmp = getenv("TMPDIR");
	char top[PATH_MAX];
	snprintf(top, sizeof top, "%s/spif-wipe-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(top)) {
		printf("Bail out! mkdtemp %s: %s\n", top, strerror(errno));
		return 1;
	}
	test_verdicts();
	test_probe(top);
	test_links(top);
	test_wipe(top);
	test_target(top);
	test_renames(top);
	test_wipe_big(top);
	test_loop(top);
	test_cow(top);
	ok(count_entries(top) == 0 && rmdir(top) == 0, "the temporary directory is left empty and removed");
	return tap_done();
}
