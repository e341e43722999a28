/* home.c - see home.h */
#include "atomic.h"
#include "home.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SPIF_SYSCONFDIR
#define SPIF_SYSCONFDIR "/etc"
#endif

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int copy_value(char *dst, size_t n, const char *v)
{
	if (strlen(v) >= n)
		return -1;
	strcpy(dst, v);
	return 0;
}

/* The keys of the operators' block (lib/operator.h): parsed after the
 * file is read, from their text. */
struct op_keys {
	char lockout_after[32], lockout_window[32], office_hours[32], purge_requires_plan[16];
	char bulk_read[32], purge_lock_alarm[32];
};
static int op_keys_apply(struct spif_conf *c, const struct op_keys *k, const char *path,
                         struct spif_err *err);

int spif_conf_load(struct spif_conf *c, struct spif_err *err)
{
	memset(c, 0, sizeof *c);
	struct op_keys ok;
	memset(&ok, 0, sizeof ok);
	/* a setgid spif trusts only the system's spif.conf (home.h) */
	const char *path = spif_secure() ? NULL : getenv("SPIF_CONF");
	char def[PATH_MAX];
	if (!path || !*path) {
		snprintf(def, sizeof def, "%s/spif/spif.conf", SPIF_SYSCONFDIR);
		path = def;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	}
	snprintf(c->path, sizeof c->path, "%s", path);
	struct stat cst;
	if (spif_secure() && fstat(fileno(f), &cst) == 0 &&
	    (cst.st_uid != 0 || (cst.st_mode & (S_IWGRP | S_IWOTH)))) {
		fclose(f);
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s: a system install trusts it only owned by root and writable by no one "
		                    "else (chown root, chmod go-w)", path);
	}
	/* whole lines, however long: a long comment cut at a buffer's end
	 * would be read on as a line of its own and stop every command */
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = spif_err_set(err, SPIF_EX_DATAERR, "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		struct { const char *k; char *dst; size_t n; } keys[] = {
			{"home", c->home, sizeof c->home},
			{"group", c->group, sizeof c->group},
			{"title", c->title, sizeof c->title},
			{"location", c->location, sizeof c->location},
			{"contact", c->contact, sizeof c->contact},
			{"sign_key", c->sign_key, sizeof c->sign_key},
			{"custodian_key", c->custodian_key, sizeof c->custodian_key},
			{"trusted_media", c->trusted_media, sizeof c->trusted_media},
			{"timezone", c->timezone, sizeof c->timezone},
			/* operators: lib/operator.h */
			{"lockout_after", ok.lockout_after, sizeof ok.lockout_after},
			{"lockout_window", ok.lockout_window, sizeof ok.lockout_window},
			{"office_hours", ok.office_hours, sizeof ok.office_hours},
			{"purge_requires_plan", ok.purge_requires_plan, sizeof ok.purge_requires_plan},
			{"bulk_read", ok.bulk_read, sizeof ok.bulk_read},
			{"purge_lock_alarm", ok.purge_lock_alarm, sizeof ok.purge_lock_alarm},
			{"gnupghome", c->gnupghome, sizeof c->gnupghome},
			{"checkpoint_log", c->checkpoint_log, sizeof c->checkpoint_log},
			{"checkpoint_syslog", c->checkpoint_syslog, sizeof c->checkpoint_syslog},
			/* spif export */
			{"org_name", c->org_name, sizeof c->org_name},
			{"contact_name", c->contact_name, sizeof c->contact_name},
			{"contact_phone", c->contact_phone, sizeof c->contact_phone},
			{"contact_email", c->contact_email, sizeof c->contact_email},
			{"require_registered_media", NULL, 0},
		};
		size_t i;
		for (i = 0; i < sizeof keys / sizeof *keys; i++)
			if (strcmp(key, keys[i].k) == 0)
				break;
		/* the vault's key storage and backups (kek.h, backup.h) */
		struct { const char *k; char *dst; size_t n; } vkeys[] = {
			{"pkcs11_module", c->pkcs11_module, sizeof c->pkcs11_module},
			{"pkcs11_token", c->pkcs11_token, sizeof c->pkcs11_token},
			{"pkcs11_pin_file", c->pkcs11_pin_file, sizeof c->pkcs11_pin_file},
			{"backup_key", c->backup_key, sizeof c->backup_key},
		};
		for (size_t k = 0; i == sizeof keys / sizeof *keys && k < sizeof vkeys / sizeof *vkeys; k++)
			if (strcmp(key, vkeys[k].k) == 0) {
				if (copy_value(vkeys[k].dst, vkeys[k].n, val) < 0) {
					rc = spif_err_set(err, SPIF_EX_DATAERR, "%s:%d: value too long", path, lineno);
					goto done;
				}
				goto next;
			}
		if (i == sizeof keys / sizeof *keys) {
			rc = spif_err_set(err, SPIF_EX_DATAERR, "%s:%d: unknown key \"%s\"", path, lineno, key);
			break;
		}
		if (!keys[i].dst) { /* the one yes/no key */
			if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0) {
				rc = spif_err_set(err, SPIF_EX_DATAERR, "%s:%d: %s: expected yes or no", path,
				                  lineno, key);
				break;
			}
			c->require_registered_media = strcmp(val, "yes") == 0;
			continue;
		}
		if (copy_value(keys[i].dst, keys[i].n, val) < 0) {
			rc = spif_err_set(err, SPIF_EX_DATAERR, "%s:%d: value too long", path, lineno);
			break;
		}
		/* checkpoints go where the home's owner cannot rewrite them
		 * unnoticed: a path that does not depend on the directory spif
		 * runs in, and an answer that is not a guess */
		if (keys[i].dst == c->checkpoint_log && c->checkpoint_log[0] != '/') {
			rc = spif_err_set(err, SPIF_EX_DATAERR, "%s:%d: checkpoint_log must be an absolute path", path,
			                  lineno);
			break;
		}
		if (keys[i].dst == c->checkpoint_syslog && strcmp(val, "yes") != 0 && strcmp(val, "no") != 0) {
			rc = spif_err_set(err, SPIF_EX_DATAERR, "%s:%d: checkpoint_syslog must be yes or no", path,
			                  lineno);
			break;
		}
	next:;
	}
done:
	free(line);
	fclose(f);
	if (rc == 0)
		rc = op_keys_apply(c, &ok, path, err);
	if (rc == 0 && c->group[0]) {
		struct group *g = getgrnam(c->group);
		if (!g)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: group \"%s\" does not exist", path, c->group);
		c->gid = g->gr_gid;
	}
	return rc;
}

int spif_home_resolve(const char *opt_home, const struct spif_conf *c, char *out, size_t n,
                      struct spif_err *err)
{
	if (spif_secure()) {
		/* the system's home, whatever --home or $SPIF_HOME say (home.h) */
		if (c->home[0] != '/')
			return spif_err_set(err, SPIF_EX_NOPERM,
			                    "this spif is a system install (setgid): its home comes only from "
			                    "%s/spif/spif.conf, which names no absolute home", SPIF_SYSCONFDIR);
		if (snprintf(out, n, "%s", c->home) >= (int)n)
			return spif_err_set(err, SPIF_EX_USAGE, "home path too long");
		return 0;
	}
	const char *h = opt_home;
	if (!h || !*h)
		h = getenv("SPIF_HOME");
	if (!h || !*h)
		h = c->home[0] ? c->home : NULL;
	int len;
	if (h)
		len = snprintf(out, n, "%s", h);
	else {
		const char *xdg = getenv("XDG_DATA_HOME");
		const char *home = getenv("HOME");
		if (xdg && *xdg == '/')
			len = snprintf(out, n, "%s/spif", xdg);
		else if (home && *home)
			len = snprintf(out, n, "%s/.local/share/spif", home);
		else
			return spif_err_set(err, SPIF_EX_USAGE, "no home: set SPIF_HOME or use --home");
	}
	if (len < 0 || (size_t)len >= n)
		return spif_err_set(err, SPIF_EX_USAGE, "home path too long");
	return 0;
}

mode_t spif_file_mode(const struct spif_conf *c)
{
	return c->group[0] ? 0660 : 0600;
}

mode_t spif_dir_mode(const struct spif_conf *c)
{
	return c->group[0] ? 02770 : 0700;
}

int spif_check_perms(const char *path, const struct spif_conf *c, struct spif_err *err)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	}
	if (st.st_mode & S_IWOTH)
		return spif_err_set(err, SPIF_EX_NOPERM,
		                    "%s: others can write it (mode %04o); refusing to use it (chmod o-w)",
		                    path, (unsigned)(st.st_mode & 07777));
	if (st.st_mode & S_IWGRP) {
		if (!c->group[0])
			return spif_err_set(err, SPIF_EX_NOPERM,
			                    "%s: its group can write it (mode %04o) and spif.conf names no "
			                    "group; refusing to use it (chmod g-w)",
			                    path, (unsigned)(st.st_mode & 07777));
		if (st.st_gid != c->gid)
			return spif_err_set(err, SPIF_EX_NOPERM,
			                    "%s: group-writable by gid %u, not by the configured group "
			                    "\"%s\"; refusing to use it",
			                    path, (unsigned)st.st_gid, c->group);
	}
	if (st.st_uid != geteuid() && st.st_uid != 0 && !c->group[0])
		return spif_err_set(err, SPIF_EX_NOPERM, "%s: owned by uid %u, not by you; refusing to use it",
		                    path, (unsigned)st.st_uid);
	return 0;
}

int spif_home_prepare(const char *home, const struct spif_conf *c, struct spif_err *err)
{
	struct stat st;
	if (stat(home, &st) < 0) {
		if (errno != ENOENT)
			return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", home);
		/* create the parents as the user's own, the home itself private */
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof tmp, "%s", home);
		for (char *p = tmp + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
				return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", tmp);
			*p = '/';
		}
		if (mkdir(home, 0700) < 0 && errno != EEXIST)
			return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", home);
		if (c->group[0]) {
			if (chown(home, (uid_t)-1, c->gid) < 0)
				return spif_err_sys(err, SPIF_EX_NOPERM, errno, "%s: chgrp %s", home, c->group);
		}
		if (chmod(home, spif_dir_mode(c)) < 0)
			return spif_err_sys(err, SPIF_EX_NOPERM, errno, "%s", home);
	} else if (!S_ISDIR(st.st_mode)) {
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: not a directory", home);
	}
	return spif_check_perms(home, c, err);
}

/* ---- operators' keys ------------------------------------------------------ */

/* "15", "15m", "1h", "900s": seconds; -1 when not that. */
static long long duration(const char *v)
{
	char *end;
	long long n = strtoll(v, &end, 10);
	if (end == v || n <= 0)
		return -1;
	if (!*end || strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		return n * 60;
	if (strcmp(end, "s") == 0)
		return n;
	if (strcmp(end, "h") == 0)
		return n * 3600;
	return -1;
}

/* "HH:MM" -> minutes after midnight, -1 when not that. */
static int clock_time(const char *v)
{
	if (strlen(v) != 5 || v[2] != ':' || !isdigit((unsigned char)v[0]) || !isdigit((unsigned char)v[1]) ||
	    !isdigit((unsigned char)v[3]) || !isdigit((unsigned char)v[4]))
		return -1;
	int h = (v[0] - '0') * 10 + v[1] - '0', m = (v[3] - '0') * 10 + v[4] - '0';
	return h < 24 && m < 60 ? h * 60 + m : -1;
}

static int op_keys_apply(struct spif_conf *c, const struct op_keys *k, const char *path,
                         struct spif_err *err)
{
	char *end;
	if (k->lockout_after[0]) {
		long v = strtol(k->lockout_after, &end, 10);
		if (*end || v < 1 || v > 1000)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: lockout_after = %s: not a number from 1 to 1000",
			                    path, k->lockout_after);
		c->lockout_after = (int)v;
	}
	if (k->lockout_window[0]) {
		long long v = duration(k->lockout_window);
		if (v < 0 || v > 7 * 86400)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: lockout_window = %s: not a duration (15m, 1h) "
			                    "of at most a week", path, k->lockout_window);
		c->lockout_window = (int)v;
	}
	if (k->office_hours[0]) {
		char a[6] = "", b[6] = "";
		const char *dash = strchr(k->office_hours, '-');
		if (dash && dash - k->office_hours == 5 && strlen(dash + 1) == 5) {
			memcpy(a, k->office_hours, 5);
			memcpy(b, dash + 1, 5);
		}
		int s = clock_time(a), e = clock_time(b);
		if (s < 0 || e < 0 || e <= s)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: office_hours = %s: not HH:MM-HH:MM (08:00-19:00)",
			                    path, k->office_hours);
		c->office_start = s;
		c->office_end = e;
	}
	if (k->purge_requires_plan[0]) {
		if (strcmp(k->purge_requires_plan, "yes") == 0)
			c->purge_requires_plan = 1;
		else if (strcmp(k->purge_requires_plan, "no") == 0)
			c->purge_requires_plan = -1;
		else
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: purge_requires_plan = %s: yes or no", path,
			                    k->purge_requires_plan);
	}
	if (k->bulk_read[0]) {
		long long v = strtoll(k->bulk_read, &end, 10);
		if (*end || v < 1)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: bulk_read = %s: not a positive number", path,
			                    k->bulk_read);
		c->bulk_read = v;
	}
	if (k->purge_lock_alarm[0]) {
		long long v = duration(k->purge_lock_alarm);
		if (v < 60 || v > 30 * 86400)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: purge_lock_alarm = %s: not a duration (30m, 6h) "
			                    "from a minute to 30 days", path, k->purge_lock_alarm);
		c->purge_lock_alarm = v;
	}
	if (c->gnupghome[0] && c->gnupghome[0] != '/')
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: gnupghome = %s: not an absolute path", path,
		                    c->gnupghome);
	return 0;
}

/* ---- the trust boundary ---------------------------------------------------- */

int spif_secure(void)
{
	return getauxval(AT_SECURE) != 0;
}

/* Set while this thread works on the home's own files (spif_home_work):
 * then what would run as the caller runs with the service's group. */
static _Thread_local int home_work;

int spif_home_work(int on)
{
	int was = home_work;
	home_work = on;
	return was;
}

int spif_as_caller(void)
{
	gid_t r, e, s;
	if (home_work || !spif_secure() || getresgid(&r, &e, &s) < 0 || r == e)
		return -1;
	/* the raw system call changes this thread's credentials only */
	if (syscall(SYS_setresgid, (gid_t)-1, r, (gid_t)-1) < 0)
		return -1;
	return (int)e;
}

void spif_as_service(int token)
{
	if (token >= 0)
		(void)syscall(SYS_setresgid, (gid_t)-1, (gid_t)token, (gid_t)-1);
}

int spif_home_mkdir(const char *path, const struct spif_conf *conf, struct spif_err *err)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: not a directory", path);
		return spif_check_perms(path, conf, err);
	}
	if (errno != ENOENT)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", path);
	if (conf->group[0] && chown(path, (uid_t)-1, conf->gid) < 0)
		return spif_err_sys(err, SPIF_EX_NOPERM, errno, "%s: chgrp %s", path, conf->group);
	if (chmod(path, spif_dir_mode(conf)) < 0)
		return spif_err_sys(err, SPIF_EX_NOPERM, errno, "%s", path);
	spif_fsync_dir_of(path);
	return spif_check_perms(path, conf, err);
}

/* ---- locks inside the home ------------------------------------------------ */

/* The holder's record: "uid=N\nname=S\npid=N\nsince=N\n", rewritten
 * in place by whoever takes the lock. */
static void holder_write(int f)
{
	char buf[256], name[33] = "";
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		snprintf(name, sizeof name, "%s", pw->pw_name);
	int n = snprintf(buf, sizeof buf, "uid=%lld\nname=%s\npid=%lld\nsince=%lld\n", (long long)getuid(), name,
	                 (long long)getpid(), (long long)time(NULL));
	/* advisory: a record that cannot be written only makes a waiter's
	 * message vaguer */
	if (ftruncate(f, 0) == 0 && pwrite(f, buf, (size_t)n, 0) < 0)
		return;
}

static long long num_field(const char *s, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, k) == 0 && p[k] == '=') {
			char *end;
			long long v = strtoll(p + k + 1, &end, 10);
			return end != p + k + 1 && (*end == '\n' || !*end) && v >= 0 ? v : -1;
		}
	}
	return -1;
}

/* Who the record says holds it; a record whose pid no longer runs is
 * stale (its writer exited, and the present holder, if spif, has not yet
 * written its own). */
static void holder_read(int f, struct spif_lock_holder *h)
{
	char buf[257];
	memset(h, 0, sizeof *h);
	h->uid = -1;
	ssize_t n = pread(f, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	long long pid = num_field(buf, "pid");
	if (pid <= 1 || pid > 0x7fffffff || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
		return;
	h->pid = pid;
	h->uid = num_field(buf, "uid");
	long long since = num_field(buf, "since");
	h->since = since > 0 ? since : 0;
	const char *p = strstr(buf, "name=");
	if (p && (p == buf || p[-1] == '\n')) {
		p += 5;
		size_t k = 0;
		while (k < sizeof h->name - 1 && (isalnum((unsigned char)p[k]) || (p[k] && strchr("._-", p[k]))))
			k++;
		if (p[k] == '\n') {
			memcpy(h->name, p, k);
			h->name[k] = '\0';
		}
	}
}

void spif_lock_holder_str(const struct spif_lock_holder *h, char *buf, size_t n)
{
	if (!h || !h->pid) {
		snprintf(buf, n, "a process that left no record");
		return;
	}
	char since[32] = "an unknown time";
	if (h->since) {
		struct tm tm;
		time_t t = (time_t)h->since;
		gmtime_r(&t, &tm);
		strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	char uid[80] = "an unknown user";
	if (h->uid >= 0)
		snprintf(uid, sizeof uid, "uid %lld%s%s%s", h->uid, h->name[0] ? " (" : "", h->name, h->name[0] ? ")" : "");
	snprintf(buf, n, "%s, pid %lld, since %s", uid, h->pid, since);
}

int spif_home_lock(const char *home, const struct spif_conf *conf, const char *name,
                   const struct spif_lock_wait *w, int *fd, struct spif_lock_holder *who, struct spif_err *err)
{
	char path[PATH_MAX];
	struct spif_lock_holder h_;
	struct spif_lock_holder *h = who ? who : &h_;
	memset(h, 0, sizeof *h);
	h->uid = -1;
	*fd = -1;
	if (snprintf(path, sizeof path, "%s/%s", home, name) >= (int)sizeof path)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", home);
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, spif_file_mode(conf));
	if (f < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	if (spif_check_perms(path, conf, err) < 0) {
		close(f);
		return -1;
	}
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int told = 0;
	for (;;) {
		if (flock(f, LOCK_EX | LOCK_NB) == 0)
			break;
		int e = errno;
		if (e != EWOULDBLOCK && e != EINTR) {
			close(f);
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s: lock", path);
		}
		holder_read(f, h);
		char s[160];
		if (w && w->alarm > 0 && h->pid && h->since && (long long)time(NULL) - h->since > w->alarm) {
			close(f);
			spif_lock_holder_str(h, s, sizeof s);
			return spif_err_set(err, SPIF_FOUND, "%s has been held for %lld minutes, longer than "
			                    "purge_lock_alarm (%lld minutes): by %s", path,
			                    ((long long)time(NULL) - h->since) / 60, w->alarm / 60, s);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		double waited = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (!w || waited >= w->wait || (w->stop && *w->stop)) {
			close(f);
			spif_lock_holder_str(h, s, sizeof s);
			return spif_err_set(err, SPIF_EX_TEMPFAIL, "%s is held by %s%s", path, s,
			                    w && w->stop && *w->stop ? "; interrupted while waiting"
			                    : w && w->wait > 0 ? "; gave up waiting" : "");
		}
		if (!told && w->waiting)
			w->waiting(w, h->pid ? h : NULL);
		told = 1;
		/* polled, not a blocking flock: lib installs no SIGALRM, and a
		 * signal must end the wait; 50-150 ms so that waiters spread */
		struct timespec d = {0, (50 + (long)((unsigned)getpid() * 7919u % 100)) * 1000000L};
		nanosleep(&d, NULL);
	}
	holder_write(f);
	*fd = f;
	return 0;
}
