/* bagit.c - see bagit.h */
#include "bagit.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gcrypt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "digest.h"
#include "grow.h"

#define TAG_MAX ((size_t)16 << 20) /* a tag file spif reads into memory, at most */

/* ---- hashing: SHA-256 and SHA-512 in one pass ----------------------------- */

static int md_open(gcry_md_hd_t *md)
{
	if (gcry_md_open(md, 0, 0))
		return -1;
	if (gcry_md_enable(*md, GCRY_MD_SHA256) || gcry_md_enable(*md, GCRY_MD_SHA512)) {
		gcry_md_close(*md);
		*md = NULL;
		return -1;
	}
	return 0;
}

static void md_hex(gcry_md_hd_t md, char sha256[65], char sha512[129])
{
	gcry_md_final(md);
	spif_hex(gcry_md_read(md, GCRY_MD_SHA256), 32, sha256);
	spif_hex(gcry_md_read(md, GCRY_MD_SHA512), 64, sha512);
}

/* ---- writing ---------------------------------------------------------- */

struct bag_file {
	char *name;            /* relative to the bag: "data/F000001.ndjson" */
	char sha256[65], sha512[129];
	long long size;
	int fd;                /* directory bag: the file, unnamed until the commit */
	int named;             /* directory bag without O_TMPFILE: it has its name already */
};

struct spif_bag {
	int dir;               /* a directory bag (else tar) */
	char top[256];
	/* tar */
	struct archive *ar;
	spif_sink_fn fn;
	void *ctx;
	int werrno;            /* the sink's errno, once it failed */
	/* directory */
	char path[PATH_MAX];   /* where it goes */
	char tmp[PATH_MAX];    /* the hidden directory it is made in */
	mode_t fmode, dmode;
	int committed;
	/* the payload file being written */
	int in_file;
	long long want, got;
	gcry_md_hd_t md;
	/* payload files, then tag files, as written */
	struct bag_file *pay, *tags;
	size_t npay, cpay, ntags, ctags;
	/* the caller's tag files, written at the finish */
	struct { char *name; unsigned char *data; size_t n; } *extra;
	size_t nextra, cextra;
	long long bytes;
	time_t now;
	char lastdir[PATH_MAX]; /* tar: the directory entry last written for a tag file */
};

static int tar_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	struct spif_bag *b = ctx;
	if (b->werrno)
		return -1;
	if (b->fn(b->ctx, buf, n) < 0) {
		b->werrno = errno ? errno : EIO;
		archive_set_error(a, b->werrno, "%s", strerror(b->werrno));
		return -1;
	}
	return (int)n;
}

static ssize_t tar_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	return tar_write(a, ctx, buf, n);
}

static int tar_err(struct spif_bag *b, const char *what, struct spif_err *err)
{
	if (b->werrno)
		return spif_err_sys(err, spif_exit_for_errno(b->werrno), b->werrno, "%s", what);
	return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: libarchive: %s", what,
	                    b->ar && archive_error_string(b->ar) ? archive_error_string(b->ar) : "failed");
}

static int valid_name(const char *s, int slash_ok)
{
	if (!*s || strlen(s) > 200 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '%' || (*p == '/' && !slash_ok))
			return 0;
	return !strstr(s, "/../") && strncmp(s, "../", 3) != 0 && s[0] != '/';
}

static struct spif_bag *bag_new(void)
{
	struct spif_bag *b = calloc(1, sizeof *b);
	if (b)
		b->now = time(NULL);
	return b;
}

/* A tar entry header for top/name. */
static int tar_header(struct spif_bag *b, const char *name, int isdir, long long size, struct spif_err *err)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s%s", b->top, name, isdir && *name ? "/" : "");
	if (isdir && !*name)
		snprintf(p, sizeof p, "%s/", b->top);
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	archive_entry_set_pathname_utf8(e, p);
	archive_entry_set_filetype(e, isdir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, isdir ? 0700 : 0600); /* the recipient's copy is private too */
	archive_entry_set_size(e, isdir ? 0 : size);
	archive_entry_set_mtime(e, b->now, 0);
	int rc = archive_write_header(b->ar, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK)
		return tar_err(b, p, err);
	return 0;
}

/* A stream bag: a pax tar, or (zip_password) a ZIP whose entries are
 * stored (not compressed: as with gpg, a compressed length says
 * something of the plaintext, and costs time) and encrypted with WinZip
 * AES-256 (AE-2).  libarchive is asked for exactly that; one that cannot
 * do it is refused, never allowed to fall back to ZipCrypto. */
static int bag_open_stream(const char *top, const char *zip_password, spif_sink_fn fn, void *ctx,
                           struct spif_bag **out, struct spif_err *err)
{
	*out = NULL;
	if (!valid_name(top, 0) || strlen(top) >= sizeof((struct spif_bag *)0)->top)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "bag: bad top directory name");
	struct spif_bag *b = bag_new();
	if (!b)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	snprintf(b->top, sizeof b->top, "%s", top);
	b->fn = fn;
	b->ctx = ctx;
	b->ar = archive_write_new();
	/* pax: long names, sizes past 8 GiB and UTF-8 names in extended
	 * headers, and only when needed (restricted), so plain ustar readers
	 * read the rest; no blocking: each write goes to the sink as it is */
	int fmt_ok = b->ar && (zip_password ? archive_write_set_format_zip(b->ar) == ARCHIVE_OK &&
	                                          archive_write_set_options(b->ar, "zip:compression=store") == ARCHIVE_OK
	                                    : archive_write_set_format_pax_restricted(b->ar) == ARCHIVE_OK);
	if (fmt_ok && zip_password &&
	    (archive_write_set_options(b->ar, "zip:encryption=aes256") != ARCHIVE_OK ||
	     archive_write_set_passphrase(b->ar, zip_password) != ARCHIVE_OK)) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "bag: this libarchive cannot write AES-256 ZIP encryption (%s); "
		             "spif never falls back to ZipCrypto",
		             archive_error_string(b->ar) ? archive_error_string(b->ar) : "no crypto support");
		spif_bag_close(b);
		return -1;
	}
	if (!fmt_ok || archive_write_set_bytes_per_block(b->ar, 0) != ARCHIVE_OK ||
	    archive_write_open(b->ar, b, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
		tar_err(b, "bag", err);
		spif_bag_close(b);
		return -1;
	}
	static const char bagit[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	if (tar_header(b, "", 1, 0, err) < 0 || tar_header(b, "data", 1, 0, err) < 0 ||
	    spif_bag_tag(b, "bagit.txt", bagit, sizeof bagit - 1, err) < 0) {
		spif_bag_close(b);
		return -1;
	}
	*out = b;
	return 0;
}

int spif_bag_open_tar(const char *top, spif_sink_fn fn, void *ctx, struct spif_bag **out,
                      struct spif_err *err)
{
	return bag_open_stream(top, NULL, fn, ctx, out, err);
}

int spif_bag_open_zip(const char *top, const char *password, spif_sink_fn fn, void *ctx, struct spif_bag **out,
                      struct spif_err *err)
{
	if (!password || !*password)
		return spif_err_set(err, SPIF_EX_USAGE, "a ZIP bag needs a password");
	return bag_open_stream(top, password, fn, ctx, out, err);
}

/* Make a directory (mode dmode) under the hidden one. */
static int dir_mkdir(struct spif_bag *b, const char *rel, struct spif_err *err)
{
	char p[2 * PATH_MAX + 8];
	snprintf(p, sizeof p, "%s/%s", b->tmp, rel);
	if (mkdir(p, b->dmode) < 0 && errno != EEXIST)
		return spif_err_sys(err, spif_exit_for_errno(errno) == SPIF_EX_IOERR ? SPIF_EX_CANTCREAT
		                         : spif_exit_for_errno(errno), errno, "%s", p);
	return 0;
}

/* A new file rel in a directory bag: unnamed when the file system can. */
static int dir_file(struct spif_bag *b, const char *rel, int *named, struct spif_err *err)
{
	char p[2 * PATH_MAX + 8], d[2 * PATH_MAX + 8];
	snprintf(p, sizeof p, "%s/%s", b->tmp, rel);
	snprintf(d, sizeof d, "%s", p);
	*named = 0;
	int fd = open(dirname(d), O_TMPFILE | O_RDWR | O_CLOEXEC, b->fmode);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		fd = open(p, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, b->fmode);
		*named = fd >= 0;
	}
	if (fd < 0)
		return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", p);
	fchmod(fd, b->fmode);
	return fd;
}

int spif_bag_open_dir(const char *path, mode_t fmode, mode_t dmode, struct spif_bag **out,
                      struct spif_err *err)
{
	*out = NULL;
	struct stat st;
	if (lstat(path, &st) == 0)
		return spif_err_set(err, SPIF_EX_CANTCREAT,
		                    "%s: already exists; spif does not overwrite (remove it with spif shred)", path);
	struct spif_bag *b = bag_new();
	if (!b)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	b->dir = 1;
	b->fmode = fmode;
	b->dmode = dmode;
	char d[PATH_MAX], n[PATH_MAX];
	snprintf(b->path, sizeof b->path, "%s", path);
	snprintf(d, sizeof d, "%s", path);
	snprintf(n, sizeof n, "%s", path);
	const char *base = basename(n);
	snprintf(b->top, sizeof b->top, "%s", base);
	if (snprintf(b->tmp, sizeof b->tmp, "%s/.%s.spif-XXXXXX", dirname(d), base) >= (int)sizeof b->tmp ||
	    !mkdtemp(b->tmp)) {
		int e = errno;
		b->tmp[0] = '\0';
		spif_bag_close(b);
		return spif_err_sys(err, SPIF_EX_CANTCREAT, e, "%s", path);
	}
	chmod(b->tmp, dmode);
	static const char bagit[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	if (dir_mkdir(b, "data", err) < 0 || spif_bag_tag(b, "bagit.txt", bagit, sizeof bagit - 1, err) < 0) {
		spif_bag_close(b);
		return -1;
	}
	*out = b;
	return 0;
}

static struct bag_file *add_file(struct bag_file **v, size_t *n, size_t *cap)
{
	void *p = *v;
	if (spif_grow(&p, cap, *n + 1, sizeof **v) < 0)
		return NULL;
	*v = p;
	struct bag_file *f = &(*v)[(*n)++];
	memset(f, 0, sizeof *f);
	f->fd = -1;
	return f;
}

/* All n bytes to fd, or -1 with errno. */
static int fd_write(int fd, const void *buf, size_t n)
{
	return spif_sink_fd(&fd, buf, n);
}

/* Write a whole small file (a tag file) now, and remember its hashes. */
static int write_whole(struct spif_bag *b, const char *rel, const void *data, size_t n, struct spif_err *err)
{
	struct bag_file *f = add_file(&b->tags, &b->ntags, &b->ctags);
	if (!f || !(f->name = strdup(rel)))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	f->size = (long long)n;
	gcry_md_hd_t md;
	if (md_open(&md) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: cannot hash");
	gcry_md_write(md, data, n);
	md_hex(md, f->sha256, f->sha512);
	gcry_md_close(md);
	if (b->dir) {
		const char *slash = strrchr(rel, '/');
		if (slash) {
			char d[PATH_MAX];
			snprintf(d, sizeof d, "%.*s", (int)(slash - rel), rel);
			if (dir_mkdir(b, d, err) < 0)
				return -1;
		}
		if ((f->fd = dir_file(b, rel, &f->named, err)) < 0)
			return -1;
		if (fd_write(f->fd, data, n) < 0)
			return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s/%s", b->path, rel);
		return 0;
	}
	const char *slash = strrchr(rel, '/');
	if (slash && (strlen(b->lastdir) != (size_t)(slash - rel) || strncmp(b->lastdir, rel, (size_t)(slash - rel)))) {
		snprintf(b->lastdir, sizeof b->lastdir, "%.*s", (int)(slash - rel), rel);
		if (tar_header(b, b->lastdir, 1, 0, err) < 0)
			return -1;
	}
	if (tar_header(b, rel, 0, (long long)n, err) < 0)
		return -1;
	if (n && archive_write_data(b->ar, data, n) != (la_ssize_t)n)
		return tar_err(b, rel, err);
	if (archive_write_finish_entry(b->ar) != ARCHIVE_OK)
		return tar_err(b, rel, err);
	return 0;
}

int spif_bag_tag(struct spif_bag *b, const char *name, const void *data, size_t n, struct spif_err *err)
{
	if (!valid_name(name, 1) || strncmp(name, "data/", 5) == 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "bag: bad tag file name");
	if (strcmp(name, "bagit.txt") == 0)
		return write_whole(b, name, data, n, err);
	void *p = b->extra;
	if (spif_grow(&p, &b->cextra, b->nextra + 1, sizeof *b->extra) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	b->extra = p;
	b->extra[b->nextra].name = strdup(name);
	b->extra[b->nextra].data = malloc(n ? n : 1);
	b->extra[b->nextra].n = n;
	if (!b->extra[b->nextra].name || !b->extra[b->nextra].data) {
		free(b->extra[b->nextra].name);
		free(b->extra[b->nextra].data);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	memcpy(b->extra[b->nextra].data, data, n);
	b->nextra++;
	return 0;
}

int spif_bag_file_begin(struct spif_bag *b, const char *name, long long size, struct spif_err *err)
{
	if (b->in_file || !valid_name(name, 0))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "bag: bad payload file");
	char rel[PATH_MAX];
	snprintf(rel, sizeof rel, "data/%s", name);
	struct bag_file *f = add_file(&b->pay, &b->npay, &b->cpay);
	if (!f || !(f->name = strdup(rel)))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (md_open(&b->md) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: cannot hash");
	b->want = size;
	b->got = 0;
	b->in_file = 1;
	if (b->dir)
		return (f->fd = dir_file(b, rel, &f->named, err)) < 0 ? -1 : 0;
	if (size < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "bag: a tar entry needs its size");
	return tar_header(b, rel, 0, size, err);
}

int spif_bag_write(void *ctx, const void *buf, size_t n)
{
	struct spif_bag *b = ctx;
	if (!b->in_file) {
		errno = EINVAL;
		return -1;
	}
	if (n == 0)
		return 0;
	if (!b->dir && b->got + (long long)n > b->want) {
		/* more than its header said: never cut silently */
		errno = EFBIG;
		return -1;
	}
	gcry_md_write(b->md, buf, n);
	b->got += (long long)n;
	if (b->dir)
		return fd_write(b->pay[b->npay - 1].fd, buf, n);
	la_ssize_t w = archive_write_data(b->ar, buf, n);
	if (w != (la_ssize_t)n) {
		errno = b->werrno ? b->werrno : EIO;
		return -1;
	}
	return 0;
}

int spif_bag_file_end(struct spif_bag *b, char sha256[65], char sha512[129], struct spif_err *err)
{
	if (!b->in_file)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "bag: no payload file open");
	struct bag_file *f = &b->pay[b->npay - 1];
	b->in_file = 0;
	md_hex(b->md, f->sha256, f->sha512);
	gcry_md_close(b->md);
	b->md = NULL;
	f->size = b->got;
	if (!b->dir && b->got != b->want)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: %lld bytes where %lld were announced", f->name,
		                    b->got, b->want);
	if (!b->dir && archive_write_finish_entry(b->ar) != ARCHIVE_OK)
		return tar_err(b, f->name, err);
	b->bytes += b->got;
	if (sha256)
		memcpy(sha256, f->sha256, 65);
	if (sha512)
		memcpy(sha512, f->sha512, 129);
	return 0;
}

/* Append "fmt..." to a growing string; -1 on ENOMEM. */
struct str {
	char *p;
	size_t n, cap;
};

static int str_add(struct str *s, const char *t, size_t n)
{
	void *p = s->p;
	if (spif_grow(&p, &s->cap, s->n + n + 1, 1) < 0)
		return -1;
	s->p = p;
	memcpy(s->p + s->n, t, n);
	s->n += n;
	s->p[s->n] = '\0';
	return 0;
}

static int str_cat(struct str *s, const char *t)
{
	return str_add(s, t, strlen(t));
}

/* A manifest of files v (payload or tag), with sha256 or sha512. */
static int manifest(struct str *s, const struct bag_file *v, size_t n, int sha512)
{
	for (size_t i = 0; i < n; i++)
		if (str_cat(s, sha512 ? v[i].sha512 : v[i].sha256) < 0 || str_cat(s, "  ") < 0 ||
		    str_cat(s, v[i].name) < 0 || str_cat(s, "\n") < 0)
			return -1;
	return 0;
}

void spif_bag_size_text(long long bytes, char out[32])
{
	static const char *const unit[] = {"bytes", "KB", "MB", "GB", "TB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, 32, "%lld bytes", bytes);
	else
		snprintf(out, 32, "%.1f %s", v, unit[u]);
}

/* One bag-info line, its value on one line whatever it was given. */
static int meta_line(struct str *s, const char *label, const char *value)
{
	if (str_cat(s, label) < 0 || str_cat(s, ": ") < 0)
		return -1;
	for (const char *p = value ? value : ""; *p; p++) {
		char c = *p == '\r' || *p == '\n' ? ' ' : *p;
		if (str_add(s, &c, 1) < 0)
			return -1;
	}
	return str_cat(s, "\n");
}

int spif_bag_finish(struct spif_bag *b, const struct spif_bag_meta *meta, size_t nmeta, char tagsha[65],
                    struct spif_err *err)
{
	struct str m256 = {0}, m512 = {0}, info = {0}, tm = {0};
	int rc = -1;
	if (b->in_file) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "bag: a payload file is still open");
		goto out;
	}
	if (manifest(&m256, b->pay, b->npay, 0) < 0 || manifest(&m512, b->pay, b->npay, 1) < 0)
		goto nomem;
	for (size_t i = 0; i < nmeta; i++)
		if (meta_line(&info, meta[i].label, meta[i].value) < 0)
			goto nomem;
	char oxum[64], size[32];
	snprintf(oxum, sizeof oxum, "%lld.%zu", b->bytes, b->npay);
	spif_bag_size_text(b->bytes, size);
	if (meta_line(&info, "Payload-Oxum", oxum) < 0 || meta_line(&info, "Bag-Size", size) < 0)
		goto nomem;
	/* empty files are fine: a bag with no payload still has its manifests */
	if (write_whole(b, "manifest-sha256.txt", m256.p ? m256.p : "", m256.n, err) < 0 ||
	    write_whole(b, "manifest-sha512.txt", m512.p ? m512.p : "", m512.n, err) < 0 ||
	    write_whole(b, "bag-info.txt", info.p, info.n, err) < 0)
		goto out;
	for (size_t i = 0; i < b->nextra; i++)
		if (write_whole(b, b->extra[i].name, b->extra[i].data, b->extra[i].n, err) < 0)
			goto out;
	if (manifest(&tm, b->tags, b->ntags, 0) < 0)
		goto nomem;
	spif_sha256_buf(tm.p, tm.n, tagsha);
	if (write_whole(b, "tagmanifest-sha256.txt", tm.p, tm.n, err) < 0)
		goto out;
	if (!b->dir && archive_write_close(b->ar) != ARCHIVE_OK) {
		tar_err(b, "bag", err);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
out:
	free(m256.p);
	free(m512.p);
	free(info.p);
	free(tm.p);
	return rc;
}

/* fsync and name one file of a directory bag. */
static int dir_link(struct spif_bag *b, struct bag_file *f, struct spif_err *err)
{
	char p[2 * PATH_MAX + 8];
	snprintf(p, sizeof p, "%s/%s", b->tmp, f->name);
	if (fsync(f->fd) < 0)
		return spif_err_sys(err, SPIF_EX_IOERR, errno, "%s/%s", b->path, f->name);
	if (!f->named) {
		char self[64];
		snprintf(self, sizeof self, "/proc/self/fd/%d", f->fd);
		if (linkat(AT_FDCWD, self, AT_FDCWD, p, AT_SYMLINK_FOLLOW) < 0 &&
		    linkat(f->fd, "", AT_FDCWD, p, AT_EMPTY_PATH) < 0)
			return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s/%s", b->path, f->name);
		f->named = 1;
	}
	close(f->fd);
	f->fd = -1;
	return 0;
}

int spif_bag_commit(struct spif_bag *b, struct spif_err *err)
{
	if (!b->dir)
		return 0;
	for (size_t i = 0; i < b->npay; i++)
		if (dir_link(b, &b->pay[i], err) < 0)
			return -1;
	for (size_t i = 0; i < b->ntags; i++)
		if (dir_link(b, &b->tags[i], err) < 0)
			return -1;
	static const char *const sub[] = {"data", "spif", ""};
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX + 8];
		snprintf(p, sizeof p, "%s/%s", b->tmp, sub[i]);
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	/* renameat2 NOREPLACE: a path that appeared meanwhile is not replaced */
	if (renameat2(AT_FDCWD, b->tmp, AT_FDCWD, b->path, RENAME_NOREPLACE) < 0)
		return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", b->path);
	b->committed = 1;
	spif_fsync_dir_of(b->path);
	return 0;
}

long long spif_bag_payload_bytes(const struct spif_bag *b)
{
	return b->bytes;
}

long long spif_bag_payload_files(const struct spif_bag *b)
{
	return (long long)b->npay;
}

static void files_free(struct spif_bag *b, struct bag_file *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].fd >= 0)
			close(v[i].fd);
		if (b->dir && !b->committed && v[i].named) {
			char p[2 * PATH_MAX + 8];
			snprintf(p, sizeof p, "%s/%s", b->tmp, v[i].name);
			unlink(p);
		}
		free(v[i].name);
	}
	free(v);
}

void spif_bag_close(struct spif_bag *b)
{
	if (!b)
		return;
	if (b->ar) {
		archive_write_free(b->ar); /* no close: what failed is not flushed */
		b->ar = NULL;
	}
	if (b->md)
		gcry_md_close(b->md);
	files_free(b, b->pay, b->npay);
	files_free(b, b->tags, b->ntags);
	if (b->dir && !b->committed && b->tmp[0]) {
		static const char *const sub[] = {"data", "spif"};
		for (size_t i = 0; i < 2; i++) {
			char p[PATH_MAX + 8];
			snprintf(p, sizeof p, "%s/%s", b->tmp, sub[i]);
			rmdir(p);
		}
		rmdir(b->tmp);
	}
	for (size_t i = 0; i < b->nextra; i++) {
		free(b->extra[i].name);
		free(b->extra[i].data);
	}
	free(b->extra);
	free(b);
}

/* ---- checking --------------------------------------------------------- */

struct seen {
	char *path;            /* relative to the bag */
	long long size;
	char sha256[65], sha512[129];
	char *content;         /* a tag file's bytes (NUL-terminated), else NULL */
	size_t clen;
};

struct problem {
	char *path;
	char kind[16];
	char *detail;
};

struct check {
	struct seen *v;
	size_t n, cap;
	struct problem *p;
	size_t np, pcap;
	int oom;
};

static struct seen *seen_add(struct check *k, const char *path)
{
	void *p = k->v;
	if (spif_grow(&p, &k->cap, k->n + 1, sizeof *k->v) < 0) {
		k->oom = 1;
		return NULL;
	}
	k->v = p;
	struct seen *s = &k->v[k->n];
	memset(s, 0, sizeof *s);
	if (!(s->path = strdup(path))) {
		k->oom = 1;
		return NULL;
	}
	k->n++;
	return s;
}

static struct seen *seen_find(struct check *k, const char *path)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i].path, path) == 0)
			return &k->v[i];
	return NULL;
}

/* Add a problem, or extend one of the same kind at the same path. */
static void problem(struct check *k, const char *kind, const char *path, const char *detail)
{
	for (size_t i = 0; i < k->np; i++)
		if (strcmp(k->p[i].path, path) == 0 && strcmp(k->p[i].kind, kind) == 0) {
			if (!detail || (k->p[i].detail && strstr(k->p[i].detail, detail)))
				return;
			size_t a = k->p[i].detail ? strlen(k->p[i].detail) : 0, n = a + strlen(detail) + 3;
			char *d = malloc(n);
			if (!d) {
				k->oom = 1;
				return;
			}
			snprintf(d, n, "%s%s%s", a ? k->p[i].detail : "", a ? ", " : "", detail);
			free(k->p[i].detail);
			k->p[i].detail = d;
			return;
		}
	void *p = k->p;
	if (spif_grow(&p, &k->pcap, k->np + 1, sizeof *k->p) < 0) {
		k->oom = 1;
		return;
	}
	k->p = p;
	struct problem *q = &k->p[k->np];
	q->path = strdup(path);
	q->detail = detail ? strdup(detail) : NULL;
	snprintf(q->kind, sizeof q->kind, "%s", kind);
	if (!q->path || (detail && !q->detail)) {
		free(q->path);
		free(q->detail);
		k->oom = 1;
		return;
	}
	k->np++;
}

static int is_payload(const char *rel)
{
	return strncmp(rel, "data/", 5) == 0;
}

/* Manifest names: "manifest-ALG.txt" (tag 0) or "tagmanifest-ALG.txt"
 * (tag 1); the algorithm in alg.  0 when rel is neither. */
static int manifest_alg(const char *rel, int tag, char alg[16])
{
	const char *pre = tag ? "tagmanifest-" : "manifest-";
	size_t pl = strlen(pre), n = strlen(rel);
	if (strncmp(rel, pre, pl) != 0 || n <= pl + 4 || strcmp(rel + n - 4, ".txt") != 0 ||
	    n - pl - 4 >= 16 || strchr(rel, '/'))
		return 0;
	snprintf(alg, 16, "%.*s", (int)(n - pl - 4), rel + pl);
	return 1;
}

/* Undo the manifest path encoding (%0A, %0D, %25) in place. */
static void pct_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '%' && p[1] && p[2]) {
			if (strncasecmp(p + 1, "0A", 2) == 0) {
				*o++ = '\n';
				p += 2;
				continue;
			}
			if (strncasecmp(p + 1, "0D", 2) == 0) {
				*o++ = '\r';
				p += 2;
				continue;
			}
			if (strncmp(p + 1, "25", 2) == 0) {
				*o++ = '%';
				p += 2;
				continue;
			}
		}
		*o++ = *p;
	}
	*o = '\0';
}

/* Check every line of manifest m (algorithm alg, tag or payload) against
 * what was seen. */
static void check_manifest(struct check *k, struct seen *m, const char *alg, int tag)
{
	int sha512 = strcmp(alg, "sha512") == 0;
	char det[160];
	if (!sha512 && strcmp(alg, "sha256") != 0) {
		problem(k, "invalid", m->path, "an algorithm spif does not check (sha256 and sha512 only)");
		return;
	}
	if (!m->content) {
		problem(k, "invalid", m->path, "too large to read");
		return;
	}
	char *text = strdup(m->content);
	if (!text) {
		k->oom = 1;
		return;
	}
	int lineno = 0;
	for (char *save = NULL, *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		lineno++;
		size_t L = strlen(ln);
		if (L && ln[L - 1] == '\r')
			ln[--L] = '\0';
		if (!L)
			continue;
		size_t hl = strcspn(ln, " \t");
		char *path = ln + hl;
		while (*path == ' ' || *path == '\t')
			path++;
		if (*path == '*') /* sha256sum's binary mark */
			path++;
		size_t want = sha512 ? 128 : 64;
		if (hl != want || !*path) {
			snprintf(det, sizeof det, "line %d is not \"HASH PATH\"", lineno);
			problem(k, "invalid", m->path, det);
			continue;
		}
		ln[hl] = '\0';
		pct_decode(path);
		if (strncmp(path, "./", 2) == 0)
			path += 2;
		if (tag ? is_payload(path) : !is_payload(path)) {
			snprintf(det, sizeof det, "lists %s, which is not a %s file", path, tag ? "tag" : "payload");
			problem(k, "invalid", m->path, det);
			continue;
		}
		struct seen *s = seen_find(k, path);
		if (!s) {
			snprintf(det, sizeof det, "listed in %s", m->path);
			problem(k, "missing", path, det);
			continue;
		}
		if (strcasecmp(sha512 ? s->sha512 : s->sha256, ln) != 0)
			problem(k, "mismatched", path, alg);
	}
	free(text);
}

/* Is path listed in manifest m?  (A simple scan: manifests are small.) */
static int listed(const struct seen *m, const char *path)
{
	if (!m->content)
		return 1; /* reported already */
	size_t pl = strlen(path);
	for (const char *ln = m->content; *ln;) {
		const char *nl = strchr(ln, '\n');
		size_t L = nl ? (size_t)(nl - ln) : strlen(ln);
		if (L && ln[L - 1] == '\r')
			L--;
		size_t hl = 0;
		while (hl < L && ln[hl] != ' ' && ln[hl] != '\t')
			hl++;
		size_t i = hl;
		while (i < L && (ln[i] == ' ' || ln[i] == '\t'))
			i++;
		if (i < L && ln[i] == '*')
			i++;
		if (i + 2 <= L && ln[i] == '.' && ln[i + 1] == '/')
			i += 2;
		/* compare decoded: paths spif writes need no decoding, others
		 * are decoded into a copy */
		char tmp[PATH_MAX];
		if (L - i < sizeof tmp) {
			memcpy(tmp, ln + i, L - i);
			tmp[L - i] = '\0';
			pct_decode(tmp);
			if (strlen(tmp) == pl && memcmp(tmp, path, pl) == 0)
				return 1;
		}
		ln = nl ? nl + 1 : ln + L;
	}
	return 0;
}

static int cmp_problem(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : strcmp(x->kind, y->kind);
}

/* Everything was read: judge the bag, report, free. */
static int judge(struct check *k, spif_bag_problem_fn fn, void *ctx, struct spif_bag_report *r,
                 struct spif_err *err)
{
	char det[200];
	struct seen *bagit = seen_find(k, "bagit.txt");
	if (!bagit)
		problem(k, "missing", "bagit.txt", "every bag has one");
	else if (!bagit->content || !strstr(bagit->content, "BagIt-Version: ") ||
	         !strstr(bagit->content, "Tag-File-Character-Encoding: "))
		problem(k, "invalid", "bagit.txt", "no BagIt-Version or Tag-File-Character-Encoding line");
	int npm = 0;
	char alg[16];
	for (size_t i = 0; i < k->n; i++) {
		struct seen *s = &k->v[i];
		if (is_payload(s->path)) {
			r->payload_files++;
			r->payload_bytes += s->size;
		}
		if (manifest_alg(s->path, 0, alg)) {
			npm++;
			check_manifest(k, s, alg, 0);
		} else if (manifest_alg(s->path, 1, alg)) {
			check_manifest(k, s, alg, 1);
		}
	}
	if (!npm)
		problem(k, "missing", "manifest-sha256.txt", "no payload manifest");
	/* every payload file in every payload manifest */
	for (size_t i = 0; i < k->n; i++) {
		if (!is_payload(k->v[i].path))
			continue;
		for (size_t j = 0; j < k->n; j++)
			if (manifest_alg(k->v[j].path, 0, alg) && !listed(&k->v[j], k->v[i].path)) {
				snprintf(det, sizeof det, "not in %s", k->v[j].path);
				problem(k, "extra", k->v[i].path, det);
			}
	}
	struct seen *info = seen_find(k, "bag-info.txt");
	if (info && info->content) {
		const char *ox = strstr(info->content, "Payload-Oxum:");
		if (ox && (ox == info->content || ox[-1] == '\n')) {
			long long bytes = -1, files = -1;
			if (sscanf(ox + 13, " %lld.%lld", &bytes, &files) != 2 || bytes != r->payload_bytes ||
			    files != r->payload_files) {
				snprintf(det, sizeof det, "Payload-Oxum %lld.%lld, but the payload is %lld.%lld", bytes, files,
				         r->payload_bytes, r->payload_files);
				problem(k, "invalid", "bag-info.txt", det);
			}
		}
		r->bag_info = info->content;
		info->content = NULL;
	}
	struct seen *co = seen_find(k, "spif/checkout.json");
	if (co && co->content) {
		r->checkout = co->content;
		co->content = NULL;
	}
	struct seen *tm = seen_find(k, "tagmanifest-sha256.txt");
	if (tm)
		memcpy(r->tagsha, tm->sha256, 65);
	if (k->oom)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (k->np)
		qsort(k->p, k->np, sizeof *k->p, cmp_problem);
	for (size_t i = 0; i < k->np; i++)
		fn(ctx, k->p[i].kind, k->p[i].path, k->p[i].detail);
	r->problems = (long long)k->np;
	return 0;
}

static void check_free(struct check *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].path);
		free(k->v[i].content);
	}
	free(k->v);
	for (size_t i = 0; i < k->np; i++) {
		free(k->p[i].path);
		free(k->p[i].detail);
	}
	free(k->p);
}

void spif_bag_report_free(struct spif_bag_report *r)
{
	free(r->bag_info);
	free(r->checkout);
	r->bag_info = r->checkout = NULL;
}

/* Take one file's bytes through read_fn into s (hashes, size, and the
 * content of a tag file).  0, or -1 with err. */
struct reader {
	ssize_t (*read)(void *ctx, void *buf, size_t n);
	void *ctx;
};

static int take(struct check *k, struct seen *s, const struct reader *rd, unsigned char *buf, size_t bufsz,
                struct spif_err *err)
{
	gcry_md_hd_t md;
	if (md_open(&md) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: cannot hash");
	int keep = !is_payload(s->path);
	struct str c = {0};
	for (;;) {
		ssize_t r = rd->read(rd->ctx, buf, bufsz);
		if (r < 0) {
			gcry_md_close(md);
			free(c.p);
			return -1;
		}
		if (r == 0)
			break;
		gcry_md_write(md, buf, (size_t)r);
		s->size += r;
		if (keep && c.n + (size_t)r <= TAG_MAX && str_add(&c, (const char *)buf, (size_t)r) < 0)
			k->oom = 1;
		if (keep && c.n + (size_t)r > TAG_MAX) {
			free(c.p);
			c.p = NULL;
			c.n = c.cap = 0;
			keep = 0;
		}
	}
	md_hex(md, s->sha256, s->sha512);
	gcry_md_close(md);
	if (keep && !c.p)
		c.p = strdup("");
	s->content = c.p;
	s->clen = c.n;
	return 0;
}

struct tar_rd {
	struct archive *a;
	struct spif_err *err;
	const char *path;
};

static ssize_t tar_read(void *ctx, void *buf, size_t n)
{
	struct tar_rd *t = ctx;
	la_ssize_t r = archive_read_data(t->a, buf, n);
	if (r < 0) {
		const char *m = archive_error_string(t->a) ? archive_error_string(t->a) : "read error";
		if (strstr(m, "passphrase")) /* a ZIP opened with the wrong password */
			spif_err_set(t->err, SPIF_EX_DATAERR, "wrong password: %s does not open (%s)", t->path, m);
		else
			spif_err_set(t->err, SPIF_EX_DATAERR, "the archive is damaged at %s: %s", t->path, m);
		return -1;
	}
	return r;
}

/* The bag-relative path of a tar entry name, with the top directory
 * checked (or learnt from the first entry); NULL when it is outside.
 * RFC 8493 asks a serialised bag for one top directory, but a bag packed
 * from inside its directory (tar -C BAG .) has none: its first entry is
 * "./" or a file at the root, and then the archive's root is the bag
 * (top becomes ".", every name is the bag-relative path). */
static const char *tar_rel(const char *name, int is_file, char *top, size_t topsz)
{
	while (strncmp(name, "./", 2) == 0)
		name += 2;
	const char *slash = strchr(name, '/');
	size_t tl = slash ? (size_t)(slash - name) : strlen(name);
	if (!top[0]) {
		if (tl == 0 || (!slash && is_file)) {
			snprintf(top, topsz, ".");
			return name;
		}
		if (tl >= topsz)
			return NULL;
		memcpy(top, name, tl);
		top[tl] = '\0';
	}
	if (strcmp(top, ".") == 0)
		return name;
	if (strlen(top) != tl || strncmp(name, top, tl) != 0)
		return NULL;
	return slash ? slash + 1 : "";
}

/* The bag in an archive on fd: a tar stream, or (zip_password) a ZIP
 * file, read through its central directory (fd must be seekable). */
static int check_archive(int fd, const char *zip_password, spif_bag_problem_fn fn, void *ctx,
                         struct spif_bag_report *report, struct spif_err *err)
{
	memset(report, 0, sizeof *report);
	struct check k = {0};
	struct archive *a = archive_read_new();
	unsigned char *buf = malloc(1 << 20);
	int rc = -1;
	if (!a || !buf) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	const char *what = zip_password ? "a ZIP archive" : "a tar archive";
	if (zip_password) {
		archive_read_support_format_zip_seekable(a);
		archive_read_add_passphrase(a, zip_password);
	} else
		archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		spif_err_set(err, SPIF_EX_DATAERR, "not %s: %s", what, archive_error_string(a) ? archive_error_string(a) : "?");
		goto out;
	}
	struct archive_entry *e;
	int first = 1;
	char det[200];
	for (;;) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			spif_err_set(err, SPIF_EX_DATAERR, "%s%s: %s", first ? "not " : "damaged: ", what,
			             archive_error_string(a) ? archive_error_string(a) : "?");
			goto out;
		}
		first = 0;
		const char *name = archive_entry_pathname_utf8(e);
		if (!name)
			name = archive_entry_pathname(e);
		if (!name)
			name = "?";
		mode_t type = archive_entry_filetype(e);
		const char *rel = tar_rel(name, type != AE_IFDIR, report->top, sizeof report->top);
		if (!rel) {
			problem(&k, "invalid", name, "outside the bag's directory");
			continue;
		}
		if (type == AE_IFDIR || !*rel)
			continue;
		char relbuf[PATH_MAX];
		snprintf(relbuf, sizeof relbuf, "%s", rel);
		size_t L = strlen(relbuf);
		while (L && relbuf[L - 1] == '/')
			relbuf[--L] = '\0';
		if (type != AE_IFREG || archive_entry_hardlink(e)) {
			snprintf(det, sizeof det, "%s: only regular files belong in a bag",
			         archive_entry_hardlink(e) ? "a hard link" : type == AE_IFLNK ? "a symbolic link"
			                                                                   : "not a regular file");
			problem(&k, "invalid", relbuf, det);
			continue;
		}
		if (seen_find(&k, relbuf)) {
			problem(&k, "invalid", relbuf, "in the archive twice");
			continue;
		}
		struct seen *s = seen_add(&k, relbuf);
		if (!s)
			break;
		struct tar_rd t = {a, err, s->path};
		struct reader rd = {tar_read, &t};
		if (take(&k, s, &rd, buf, 1 << 20, err) < 0)
			goto out;
	}
	if (first && !k.np) {
		spif_err_set(err, SPIF_EX_DATAERR, "not %s: it is empty", what);
		goto out;
	}
	rc = judge(&k, fn, ctx, report, err);
out:
	if (strcmp(report->top, ".") == 0) /* no top directory: the bag has no name */
		report->top[0] = '\0';
	if (rc < 0)
		spif_bag_report_free(report);
	if (a)
		archive_read_free(a);
	free(buf);
	check_free(&k);
	return rc;
}

int spif_bag_check_tar(int fd, spif_bag_problem_fn fn, void *ctx, struct spif_bag_report *report,
                       struct spif_err *err)
{
	return check_archive(fd, NULL, fn, ctx, report, err);
}

int spif_bag_check_zip(int fd, const char *password, spif_bag_problem_fn fn, void *ctx,
                       struct spif_bag_report *report, struct spif_err *err)
{
	memset(report, 0, sizeof *report);
	if (!password || !*password)
		return spif_err_set(err, SPIF_EX_USAGE, "a ZIP bag needs its password");
	return check_archive(fd, password, fn, ctx, report, err);
}

/* ---- a directory ------------------------------------------------------ */

struct fd_rd {
	int fd;
	const char *path;
	struct spif_err *err;
};

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
	struct fd_rd *f = ctx;
	for (;;) {
		ssize_t r = read(f->fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			spif_err_sys(f->err, SPIF_EX_IOERR, errno, "%s", f->path);
		return r;
	}
}

/* nftw has no context argument: the walk's state, for one walk at a time
 * in this thread */
static _Thread_local struct walk {
	struct check *k;
	size_t rootlen;
	unsigned char *buf;
	struct spif_err *err;
	int failed;
} *walk_state;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	struct walk *w = walk_state;
	const char *rel = path + w->rootlen;
	while (*rel == '/')
		rel++;
	if (!*rel || flag == FTW_D || flag == FTW_DP)
		return 0;
	if (flag == FTW_DNR || flag == FTW_NS) {
		problem(w->k, "invalid", rel, "cannot be read");
		return 0;
	}
	if (flag == FTW_SL || flag == FTW_SLN || !S_ISREG(st->st_mode)) {
		problem(w->k, "invalid", rel, flag == FTW_SL || flag == FTW_SLN
		                                  ? "a symbolic link: only regular files belong in a bag"
		                                  : "not a regular file: only regular files belong in a bag");
		return 0;
	}
	struct seen *s = seen_add(w->k, rel);
	if (!s)
		return 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		spif_err_sys(w->err, spif_exit_for_errno(errno), errno, "%s", path);
		w->failed = 1;
		return 1;
	}
	struct fd_rd f = {fd, path, w->err};
	struct reader rd = {fd_read, &f};
	int rc = take(w->k, s, &rd, w->buf, 1 << 20, w->err);
	close(fd);
	if (rc < 0) {
		w->failed = 1;
		return 1;
	}
	return 0;
}

int spif_bag_check_dir(const char *dir, spif_bag_problem_fn fn, void *ctx, struct spif_bag_report *report,
                       struct spif_err *err)
{
	memset(report, 0, sizeof *report);
	struct stat st;
	if (stat(dir, &st) < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: not a directory", dir);
	char d[PATH_MAX];
	snprintf(d, sizeof d, "%s", dir);
	size_t L = strlen(d);
	while (L > 1 && d[L - 1] == '/')
		d[--L] = '\0';
	char n[PATH_MAX];
	snprintf(n, sizeof n, "%s", d);
	snprintf(report->top, sizeof report->top, "%s", basename(n));
	struct check k = {0};
	struct walk w = {&k, L, malloc(1 << 20), err, 0};
	if (!w.buf)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	walk_state = &w;
	int r = nftw(d, walk_one, 16, FTW_PHYS);
	walk_state = NULL;
	free(w.buf);
	int rc = -1;
	if (w.failed)
		goto out;
	if (r < 0) {
		spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", dir);
		goto out;
	}
	rc = judge(&k, fn, ctx, report, err);
out:
	if (rc < 0)
		spif_bag_report_free(report);
	check_free(&k);
	return rc;
}
