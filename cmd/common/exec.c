/* exec.c - see exec.h */
#include "exec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#ifndef SPIF_LIBEXECDIR
#define SPIF_LIBEXECDIR "/usr/local/libexec/spif"
#endif

/* dir/spif-cmd into out: 0 when it is executable (errno from access). */
static int try_dir(const char *dir, const char *cmd, char *out, size_t n)
{
	int w = snprintf(out, n, "%s/spif-%s", dir, cmd);
	if (w < 0 || (size_t)w >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return access(out, X_OK);
}

int cli_self_dir(char *out, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", out, n - 1);
	if (len <= 0)
		return -1;
	out[len] = '\0';
	char *slash = strrchr(out, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

int cli_command_path(const char *cmd, char *out, size_t n)
{
	/* a setgid spif (a system install) runs only its own programs: the
	 * caller's environment names none of them */
	const char *env = getauxval(AT_SECURE) ? NULL : getenv("SPIF_EXEC_PATH");
	if (env && *env && try_dir(env, cmd, out, n) == 0)
		return 0;
	char self[PATH_MAX];
	if (cli_self_dir(self, sizeof self) == 0) {
		if (try_dir(self, cmd, out, n) == 0)
			return 0;
		/* PREFIX/bin/spif finds PREFIX/libexec/spif wherever PREFIX was
		 * installed, whatever PREFIX it was built for */
		size_t k = strlen(self);
		if (k + sizeof "/../libexec/spif" <= sizeof self) {
			memcpy(self + k, "/../libexec/spif", sizeof "/../libexec/spif");
			if (try_dir(self, cmd, out, n) == 0)
				return 0;
		}
	}
	return try_dir(SPIF_LIBEXECDIR, cmd, out, n) == 0 ? 0 : -1;
}
