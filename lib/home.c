/* home.c - see home.h */
#include "home.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int spif_conf_load(struct spif_conf *c, struct spif_err *err)
{
	memset(c, 0, sizeof *c);
	const char *path = getenv("SPIF_CONF");
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
	char line[1024];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
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
	}
	fclose(f);
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
