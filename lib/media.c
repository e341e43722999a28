/* media.c - see media.h */
#include "media.h"
#include "catalog_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "mountinfo.h"

/* ---- which filesystem ------------------------------------------------- */

/* The mount of device maj:min that holds real (the longest mount point
 * that is a prefix of it): its mount point, type and source. */
static int mount_of(unsigned maj, unsigned min, const char *real, struct spif_fsident *id)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0, best = 0;
	int found = 0;
	while (getline(&line, &cap, f) > 0) {
		struct spif_mountinfo m;
		if (spif_mountinfo_parse(line, &m) < 0 || m.maj != maj || m.min != min)
			continue;
		const char *mp = m.mountpoint;
		size_t L = strlen(mp);
		int prefix = real ? (strcmp(mp, "/") == 0 || (strncmp(real, mp, L) == 0 &&
		                                             (real[L] == '/' || real[L] == '\0')))
		                  : 1;
		if (!prefix || (found && L <= best))
			continue;
		found = 1;
		best = L;
		snprintf(id->mountpoint, sizeof id->mountpoint, "%s", mp);
		snprintf(id->fstype, sizeof id->fstype, "%s", m.fstype ? m.fstype : "");
		if (m.source)
			snprintf(id->source, sizeof id->source, "%s", m.source);
	}
	free(line);
	fclose(f);
	return found ? 0 : -1;
}

static int read_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int ok = fgets(out, (int)n, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	size_t L = strlen(out);
	while (L && out[L - 1] == ' ')
		out[--L] = '\0';
	return L ? 0 : -1;
}

/* The whole disk of block device maj:min ("sdb" for sdb1) and its sysfs
 * directory; -1 when it is not a block device. */
static int disk_of(unsigned maj, unsigned min, char *disk, size_t dn, char *sys, size_t sn)
{
	char p[96], real[PATH_MAX];
	snprintf(p, sizeof p, "/sys/dev/block/%u:%u", maj, min);
	if (!realpath(p, real))
		return -1;
	char part[PATH_MAX + 16];
	snprintf(part, sizeof part, "%s/partition", real);
	if (access(part, F_OK) == 0) {
		char *slash = strrchr(real, '/');
		if (slash)
			*slash = '\0';
	}
	const char *base = strrchr(real, '/');
	if (snprintf(disk, dn, "%s", base ? base + 1 : real) >= (int)dn)
		return -1;
	snprintf(sys, sn, "%s", real);
	return 0;
}

/* The disk under the filesystem of path, "" when none. */
static void disk_of_path(const char *path, char *disk, size_t n)
{
	struct stat st;
	char sys[PATH_MAX];
	disk[0] = '\0';
	if (path && stat(path, &st) == 0 &&
	    disk_of(major(st.st_dev), minor(st.st_dev), disk, n, sys, sizeof sys) < 0)
		disk[0] = '\0';
}

/* UUID from /dev/disk/by-uuid: the link whose target is device maj:min. */
static int uuid_by_link(unsigned maj, unsigned min, char *out, size_t n)
{
	DIR *d = opendir("/dev/disk/by-uuid");
	if (!d)
		return -1;
	struct dirent *e;
	int found = -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[PATH_MAX];
		struct stat st;
		snprintf(p, sizeof p, "/dev/disk/by-uuid/%s", e->d_name);
		if (stat(p, &st) == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == maj && minor(st.st_rdev) == min) {
			found = snprintf(out, n, "%s", e->d_name) < (int)n ? 0 : -1;
			break;
		}
	}
	closedir(d);
	return found;
}

/* UUID from blkid(8) on the device node dev: its superblock (-p, never
 * the cache, which may still hold the filesystem a loop device or a
 * reused device name had before), else, when the device cannot be read,
 * the cache. */
static int blkid_run(const char *dev, int probe, char *out, size_t n);

static int uuid_by_blkid(const char *dev, char *out, size_t n)
{
	return blkid_run(dev, 1, out, n) == 0 || blkid_run(dev, 0, out, n) == 0 ? 0 : -1;
}

static int blkid_run(const char *dev, int probe, char *out, size_t n)
{
	static const char *const progs[] = {"/sbin/blkid", "/usr/sbin/blkid", "/bin/blkid", "/usr/bin/blkid"};
	const char *prog = NULL;
	for (size_t i = 0; i < sizeof progs / sizeof *progs && !prog; i++)
		if (access(progs[i], X_OK) == 0)
			prog = progs[i];
	if (!prog)
		return -1;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	char *argv[] = {(char *)prog, "-o", "value", "-s", "UUID", "--", (char *)dev, NULL};
	char *pargv[] = {(char *)prog, "-p", "-o", "value", "-s", "UUID", "--", (char *)dev, NULL};
	pid_t pid;
	extern char **environ;
	int e = posix_spawn(&pid, prog, &fa, NULL, probe ? pargv : argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e != 0) {
		close(p[0]);
		return -1;
	}
	char buf[128];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(p[0], buf + got, sizeof buf - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof buf - 1)
			break;
	}
	close(p[0]);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!buf[0] || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		return -1;
	for (char *q = buf; *q; q++)
		if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F') || *q == '-'))
			return -1;
	return snprintf(out, n, "%s", buf) < (int)n ? 0 : -1;
}

int spif_media_identify(const char *path, const char *home, int always, struct spif_fsident *id,
                        struct spif_err *err)
{
	memset(id, 0, sizeof *id);
	struct stat st;
	if (stat(path, &st) < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	char dev[PATH_MAX] = "";
	if (S_ISBLK(st.st_mode)) {
		id->maj = major(st.st_rdev);
		id->min = minor(st.st_rdev);
		snprintf(dev, sizeof dev, "%s", path);
		snprintf(id->source, sizeof id->source, "%s", path);
		(void)mount_of(id->maj, id->min, NULL, id); /* where it is mounted, if it is */
	} else {
		id->maj = major(st.st_dev);
		id->min = minor(st.st_dev);
		char real[PATH_MAX];
		if (!realpath(path, real))
			snprintf(real, sizeof real, "%s", path);
		(void)mount_of(id->maj, id->min, real, id);
	}
	char sys[PATH_MAX];
	if (disk_of(id->maj, id->min, id->disk, sizeof id->disk, sys, sizeof sys) == 0) {
		char root[64], hd[64], v[16];
		disk_of_path("/", root, sizeof root);
		disk_of_path(home, hd, sizeof hd);
		char rp[PATH_MAX + 16];
		snprintf(rp, sizeof rp, "%s/removable", sys);
		int removable = read_line(rp, v, sizeof v) == 0 && strcmp(v, "1") == 0;
		id->is_medium = removable || (strcmp(id->disk, root) != 0 && (!hd[0] || strcmp(id->disk, hd) != 0));
		if (!id->is_medium && !always)
			return 0;
		/* the device's serial number, where the kernel shows one */
		static const char *const ser[] = {"device/serial", "device/wwid", "serial", "wwid"};
		for (size_t i = 0; i < sizeof ser / sizeof *ser && !id->serial[0]; i++) {
			snprintf(rp, sizeof rp, "%s/%s", sys, ser[i]);
			if (read_line(rp, id->serial, sizeof id->serial) < 0)
				id->serial[0] = '\0';
		}
		if (uuid_by_link(id->maj, id->min, id->uuid, sizeof id->uuid) < 0) {
			if (!dev[0]) {
				/* the device node: the mount's source when it is that device,
				 * else /dev/NAME from sysfs */
				struct stat ds;
				if (id->source[0] == '/' && stat(id->source, &ds) == 0 && S_ISBLK(ds.st_mode) &&
				    major(ds.st_rdev) == id->maj && minor(ds.st_rdev) == id->min)
					snprintf(dev, sizeof dev, "%s", id->source);
				else {
					char ue[96], line[256];
					snprintf(ue, sizeof ue, "/sys/dev/block/%u:%u/uevent", id->maj, id->min);
					FILE *f = fopen(ue, "re");
					while (f && fgets(line, sizeof line, f))
						if (strncmp(line, "DEVNAME=", 8) == 0) {
							line[strcspn(line, "\n")] = '\0';
							snprintf(dev, sizeof dev, "/dev/%s", line + 8);
						}
					if (f)
						fclose(f);
				}
			}
			if (dev[0] && uuid_by_blkid(dev, id->uuid, sizeof id->uuid) < 0)
				id->uuid[0] = '\0';
		}
	}
	return 0;
}

/* ---- the registry ----------------------------------------------------- */

int spif_media_id_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return 0;
	return 1;
}

int spif_media_kind_valid(const char *kind)
{
	static const char *const k[] = {"usb", "dvd", "hdd", "other"};
	for (size_t i = 0; i < 4; i++)
		if (strcmp(kind, k[i]) == 0)
			return 1;
	return 0;
}

void spif_media_free(struct spif_media *m)
{
	free(m->id); free(m->kind); free(m->location); free(m->uuid); free(m->serial); free(m->device);
	free(m->added); free(m->added_by); free(m->retired_at); free(m->retired_by); free(m->retire_reason);
	memset(m, 0, sizeof *m);
}

#define MEDIA_COLUMNS "id,kind,location,uuid,serial,device,added,added_by,state,retired,retired_by,retire_reason"

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static void from_row(sqlite3_stmt *st, struct spif_media *m)
{
	memset(m, 0, sizeof *m);
	m->id = dup_col(st, 0);
	m->kind = dup_col(st, 1);
	m->location = dup_col(st, 2);
	m->uuid = dup_col(st, 3);
	m->serial = dup_col(st, 4);
	m->device = dup_col(st, 5);
	m->added = dup_col(st, 6);
	m->added_by = dup_col(st, 7);
	const unsigned char *s = sqlite3_column_text(st, 8);
	m->retired = s && strcmp((const char *)s, "retired") == 0;
	m->retired_at = dup_col(st, 9);
	m->retired_by = dup_col(st, 10);
	m->retire_reason = dup_col(st, 11);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static json_t *jopt(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

int spif_media_add(struct spif_catalog *c, const struct spif_media *m, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (!spif_catalog_in_tx(c))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "spif_media_add: not in a transaction");
	if (spif_catalog_prepare(c, "SELECT id FROM media WHERE id = ?1 OR (?2 IS NOT NULL AND uuid = ?2"
	                            " AND state = 'active')", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_TRANSIENT);
	bind_opt(st, 2, m->uuid);
	int rc = sqlite3_step(st);
	char other[80] = "";
	if (rc == SQLITE_ROW)
		snprintf(other, sizeof other, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW && strcmp(other, m->id) == 0)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "medium %s is registered already", m->id);
	if (rc == SQLITE_ROW)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "that filesystem (UUID %s) is registered already as %s",
		                    m->uuid, other);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "media", err);
	char now[32];
	spif_now_utc(now);
	const struct spif_actor *a = spif_catalog_actor(c);
	if (spif_catalog_prepare(c, "INSERT INTO media(id,kind,location,uuid,serial,device,added,added_by)"
	                            " VALUES(?,?,?,?,?,?,?,?)", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, m->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, m->location, -1, SQLITE_TRANSIENT);
	bind_opt(st, 4, m->uuid);
	bind_opt(st, 5, m->serial);
	bind_opt(st, 6, m->device);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, a->operator_, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "add medium", err);
	json_t *d = json_pack("{s:s,s:s,s:o,s:o,s:o}", "kind", m->kind, "location", m->location, "uuid",
	                      jopt(m->uuid), "serial", jopt(m->serial), "device", jopt(m->device));
	rc = spif_audit_append(c, "media.add", m->id, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_media_get(struct spif_catalog *c, const char *id, struct spif_media *m, struct spif_err *err)
{
	sqlite3_stmt *st;
	memset(m, 0, sizeof *m);
	if (spif_catalog_prepare(c, "SELECT " MEDIA_COLUMNS " FROM media WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		from_row(st, m);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no medium %s is registered (spif media add)", id);
	return spif_catalog_sqlerr(c, rc, "media", err);
}

int spif_media_find(struct spif_catalog *c, const struct spif_fsident *id, struct spif_media *m,
                    struct spif_err *err)
{
	sqlite3_stmt *st;
	memset(m, 0, sizeof *m);
	if (!id->uuid[0] && !id->serial[0])
		return 0;
	/* the active one first, then the latest retired */
	if (spif_catalog_prepare(c, "SELECT " MEDIA_COLUMNS " FROM media WHERE (?1 IS NOT NULL AND uuid = ?1)"
	                            " OR (?1 IS NULL AND ?2 IS NOT NULL AND serial = ?2)"
	                            " ORDER BY state = 'active' DESC, added DESC LIMIT 1", &st, err) < 0)
		return -1;
	bind_opt(st, 1, id->uuid);
	bind_opt(st, 2, id->serial);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		from_row(st, m);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return spif_catalog_sqlerr(c, rc, "media", err);
}

int spif_media_retire(struct spif_catalog *c, const char *id, const char *reason, struct spif_err *err)
{
	struct spif_media m;
	if (spif_media_get(c, id, &m, err) < 0)
		return -1;
	int retired = m.retired;
	spif_media_free(&m);
	if (retired)
		return spif_err_set(err, SPIF_EX_DATAERR, "medium %s is retired already", id);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT MIN(id) FROM exports WHERE medium = ? AND state = 'out'", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	char ex[32] = "";
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(ex, sizeof ex, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "exports", err);
	if (ex[0])
		return spif_err_set(err, SPIF_EX_DATAERR,
		                    "medium %s carries %s, which is still out: record its return first (spif export "
		                    "return)", id, ex);
	char now[32];
	spif_now_utc(now);
	if (spif_catalog_prepare(c, "UPDATE media SET state = 'retired', retired = ?, retired_by = ?,"
	                            " retire_reason = ? WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, spif_catalog_actor(c)->operator_, -1, SQLITE_TRANSIENT);
	bind_opt(st, 3, reason);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "retire medium", err);
	json_t *d = json_pack("{s:o}", "reason", jopt(reason));
	rc = spif_audit_append(c, "media.retire", id, d, NULL, err);
	json_decref(d);
	return rc;
}

int spif_media_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_media *m), void *ctx,
                    struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT " MEDIA_COLUMNS " FROM media ORDER BY id", &st, err) < 0)
		return -1;
	int rc, stop = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_media m;
		from_row(st, &m);
		stop = fn(ctx, &m);
		spif_media_free(&m);
		if (stop)
			break;
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list media", err);
	return 0;
}
