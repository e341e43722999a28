/* child.c - a purge's children: spif shred and spif redact --file, found
 * where spif itself finds its commands (cmd/common/exec.h, so that
 * SPIF_EXEC_PATH reaches them too), run one at a time under the purge's
 * lock (the descriptor in SPIF_LOCK_FD, inherited), their output read so
 * that a failure's reason is its last line of stderr.
 *
 * That reason goes into the catalog (purge_items.error and the
 * purge.failed event), which is English whoever reads it, so a child
 * speaks English: its environment has LC_MESSAGES=C, LANGUAGE and LC_ALL
 * removed (LC_ALL's value kept as LC_CTYPE, so paths print as before).
 * The operator sees the same reason the log keeps. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "retain.h"

/* The environment a child runs in: this one, with English messages. */
static char **english_env(void)
{
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	char **v = xcalloc(n + 3, sizeof *v), *all = NULL;
	size_t k = 0;
	int ctype = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "LC_ALL=", 7) == 0)
			all = environ[i] + 7;
		else if (strncmp(environ[i], "LANGUAGE=", 9) != 0 && strncmp(environ[i], "LC_MESSAGES=", 12) != 0) {
			ctype |= strncmp(environ[i], "LC_CTYPE=", 9) == 0;
			v[k++] = environ[i];
		}
	}
	v[k++] = "LC_MESSAGES=C";
	static char keep[256];
	if (all && *all && !ctype && snprintf(keep, sizeof keep, "LC_CTYPE=%s", all) < (int)sizeof keep)
		v[k++] = keep;
	v[k] = NULL;
	return v;
}

/* Run spif-CMD with args under this purge's lock; its output is read (a
 * child that fails says why on its last line of stderr, which becomes the
 * reason).  Returns its exit status (128 + signal when killed). */
int run_child(const struct cli *c, const char *cmd, char **args, char *why, size_t whylen)
{
	char path[PATH_MAX];
	if (cli_command_path(cmd, path, sizeof path) < 0)
		cli_fail(c, SPIF_EX_UNAVAILABLE, "%s: %s", path, strerror(errno));
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		cli_fail(c, SPIF_EX_SOFTWARE, "pipe: %s", strerror(errno));
	char **env = english_env();
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		cli_fail(c, SPIF_EX_SOFTWARE, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execve(path, args, env);
		cli_note(c, "%s: %s", path, strerror(errno));
		_exit(SPIF_EX_UNAVAILABLE);
	}
	free(env);
	close(out[1]);
	close(err[1]);
	char ebuf[8192];
	size_t elen = 0;
	struct pollfd pf[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
	int open_fds = 2;
	while (open_fds) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char b[4096];
			ssize_t r = read(pf[k].fd, b, sizeof b);
			if (r <= 0) {
				close(pf[k].fd);
				pf[k].fd = -1;
				open_fds--;
				continue;
			}
			if (k == 1) { /* keep the end of stderr (b is smaller than ebuf) */
				if (elen + (size_t)r > sizeof ebuf - 1) {
					size_t drop = elen + (size_t)r - (sizeof ebuf - 1);
					memmove(ebuf, ebuf + drop, elen - drop);
					elen -= drop;
				}
				memcpy(ebuf + elen, b, (size_t)r);
				elen += (size_t)r;
			}
		}
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	ebuf[elen] = '\0';
	while (elen && (ebuf[elen - 1] == '\n' || ebuf[elen - 1] == '\r'))
		ebuf[--elen] = '\0';
	char *last = strrchr(ebuf, '\n');
	snprintf(why, whylen, "%.1000s", last ? last + 1 : ebuf);
	if (WIFSIGNALED(st)) {
		if (!why[0])
			snprintf(why, whylen, "spif-%s was killed by signal %d", cmd, WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return WEXITSTATUS(st);
}
