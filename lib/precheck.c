/* precheck.c - see precheck.h */
#include "precheck.h"
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path into dir ("." for a bare name, "/" for root). */
static void dir_of(const char *path, char dir[PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, PATH_MAX, ".");
	else if (slash == path)
		snprintf(dir, PATH_MAX, "/");
	else
		snprintf(dir, PATH_MAX, "%.*s", (int)(slash - path), path);
}

/* May this account create and remove entries in dir? */
static int dir_writable(const char *dir, const char *what, char *why, size_t n)
{
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0)
		return 0;
	int err = errno;
	if (err == ENOENT)
		return 0; /* nothing there to remove from: not this check's business */
	struct stat st;
	if (err == EROFS)
		snprintf(why, n, "%s %s: %s", _(what), dir, strerror(EROFS));
	else if (stat(dir, &st) == 0)
		snprintf(why, n, _("no write and search permission on %s %s (owner uid %u, mode %04o), needed to rename "
		         "and unlink"), _(what), dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	else
		snprintf(why, n, "%s %s: %s", _(what), dir, strerror(err));
	return -1;
}

int spif_precheck_path(const char *path, char *why, size_t n)
{
	struct stat st, ds;
	char dir[PATH_MAX];
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			snprintf(why, n, "%s", _("no such file: gone outside spif? (spif catalog check; spif catalog copy lost)"));
		else
			snprintf(why, n, "%s", strerror(errno));
		return 1;
	}
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0) {
		if (errno == EROFS)
			snprintf(why, n, _("%s: it cannot be overwritten"), strerror(EROFS));
		else
			snprintf(why, n, _("no write permission on it (owner uid %u, mode %04o), needed to overwrite it"),
			         (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return 1;
	}
	dir_of(path, dir);
	if (dir_writable(dir, N_("its directory"), why, n) < 0)
		return 2;
	/* a sticky directory (/tmp) lets only the file's owner, the
	 * directory's owner or root rename or unlink it */
	uid_t me = geteuid();
	if (stat(dir, &ds) == 0 && (ds.st_mode & S_ISVTX) && me != 0 && me != st.st_uid && me != ds.st_uid) {
		snprintf(why, n, _("its directory %s is sticky and the file belongs to uid %u: only its owner may "
		         "rename and unlink it"), dir, (unsigned)st.st_uid);
		return 2;
	}
	return 0;
}

long spif_precheck(struct spif_dispose_copy *v, size_t n, const char *home, int *late)
{
	long first = -1;
	if (late)
		*late = 0;
	int keys_checked = 0, keys_ok = 1;
	char keys_why[400] = "";
	for (size_t i = 0; i < n; i++) {
		struct spif_dispose_copy *t = &v[i];
		char why[400] = "";
		int bad = 0;
		if (t->absent || t->wiped || t->done)
			continue;
		if (t->crypto) {
			char dir[PATH_MAX];
			dir_of(t->path, dir);
			bad = dir_writable(dir, N_("the vault directory"), why, sizeof why) < 0 ? 2 : 0;
			if (!bad && home) {
				if (!keys_checked) {
					char kd[PATH_MAX];
					snprintf(kd, sizeof kd, "%s/keys", home);
					keys_ok = dir_writable(kd, N_("the key directory"), keys_why, sizeof keys_why) == 0;
					if (keys_ok && faccessat(AT_FDCWD, kd, R_OK, AT_EACCESS) < 0 && errno != ENOENT) {
						keys_ok = 0;
						snprintf(keys_why, sizeof keys_why, _("the keys in %.300s cannot be read"), kd);
					}
					keys_checked = 1;
				}
				if (!keys_ok) {
					bad = 2;
					snprintf(why, sizeof why, "%s", keys_why);
				}
			}
		} else
			bad = spif_precheck_path(t->found_at[0] ? t->found_at : t->path, why, sizeof why);
		if (!bad)
			continue;
		if (late && bad == 2)
			*late = 1;
		if (!t->refusal[0])
			snprintf(t->refusal, sizeof t->refusal, "%s", why);
		if (first < 0)
			first = (long)i;
	}
	return first;
}
