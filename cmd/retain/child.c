/* child.c - a purge's children: spif shred and spif redact --file, found
 * where spif itself finds its commands (cmd/common/exec.h, so that
 * SPIF_EXEC_PATH reaches them too), run one at a time under the purge's
 * lock (the descriptor in SPIF_LOCK_FD, inherited), their output read so
 * that a failure's reason is its last line of stderr. */
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
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		cli_fail(c, SPIF_EX_SOFTWARE, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(path, args);
		cli_note(c, "%s: %s", path, strerror(errno));
		_exit(SPIF_EX_UNAVAILABLE);
	}
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
