/* peek.c - see peek.h */
#include "peek.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A pipe: tee what it holds into a scratch pipe and read that.  tee never
 * consumes, so each round copies from the start again; rounds repeat until
 * n bytes are there, the writer has gone (POLLHUP) or the pipe is full. */
static int peek_pipe(int fd, void *buf, size_t n, size_t *got, struct spif_err *err)
{
	int sp[2];
	if (pipe2(sp, O_CLOEXEC) < 0)
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "pipe");
	int rc = 0;
	for (;;) {
		ssize_t t = tee(fd, sp[1], n, 0); /* blocks until there is data or no writer */
		if (t < 0 && errno == EINTR)
			continue;
		if (t < 0) {
			rc = spif_err_sys(err, SPIF_EX_IOERR, errno, "cannot read the input");
			break;
		}
		size_t have = 0;
		while (have < (size_t)t) {
			ssize_t r = read(sp[0], (char *)buf + have, (size_t)t - have);
			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				break;
			}
			have += (size_t)r;
		}
		*got = have;
		if (t == 0 || have >= n)
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int avail = 0, size = fcntl(fd, F_GETPIPE_SZ);
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
			break; /* nothing more is coming */
		if (ioctl(fd, FIONREAD, &avail) == 0 && size > 0 && avail >= size)
			break; /* full: the writer waits for us */
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	close(sp[0]);
	close(sp[1]);
	return rc;
}

int spif_fd_peek(int fd, void *buf, size_t n, size_t *got, struct spif_err *err)
{
	struct stat sb;
	*got = 0;
	if (n == 0)
		return 0;
	if (fstat(fd, &sb) < 0)
		return spif_err_sys(err, SPIF_EX_IOERR, errno, "cannot read the input");
	if (S_ISFIFO(sb.st_mode))
		return peek_pipe(fd, buf, n, got, err);
	if (S_ISSOCK(sb.st_mode)) {
		ssize_t r;
		do
			r = recv(fd, buf, n, MSG_PEEK | MSG_WAITALL);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return spif_err_sys(err, SPIF_EX_IOERR, errno, "cannot read the input");
		*got = (size_t)r;
		return 0;
	}
	off_t at = lseek(fd, 0, SEEK_CUR);
	if (at < 0)
		return spif_err_set(err, SPIF_EX_USAGE, "cannot look at the input before reading it "
		                    "(a terminal?): give a file or a pipe");
	while (*got < n) {
		ssize_t r = pread(fd, (char *)buf + *got, n - *got, at + (off_t)*got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return spif_err_sys(err, SPIF_EX_IOERR, errno, "cannot read the input");
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}
