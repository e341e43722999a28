/* test_peek.c - looking at an input's first bytes leaves them all there:
 * regular files (at any offset), pipes (whole, slow writer, closed early,
 * empty), sockets, and a terminal-like input that cannot be peeked at. */
#include "peek.h"
#include "tap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* All that is left on fd. */
static size_t slurp(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;
	while (got < n && (r = read(fd, buf + got, n - got)) > 0)
		got += (size_t)r;
	return got;
}

int main(void)
{
	struct spif_err err = {0};
	char buf[64], rest[256];
	size_t got;

	/* a regular file, read from an offset */
	char path[] = "/tmp/spif-peek.XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0 && write(fd, "{\"@file\":\"F000001\",\"x\":\"1\"}\n", 28) == 28, "a file");
	lseek(fd, 2, SEEK_SET);
	ok(spif_fd_peek(fd, buf, 8, &got, &err) == 0 && got == 8 && memcmp(buf, "@file\":\"", 8) == 0,
	   "file: the bytes at the offset");
	ok(slurp(fd, rest, sizeof rest) == 26 && rest[0] == '@', "file: all still there");
	ok(spif_fd_peek(fd, buf, 8, &got, &err) == 0 && got == 0, "file: nothing at the end");
	close(fd);
	unlink(path);

	/* a pipe whose writer gives 3 bytes, waits, then the rest */
	int p[2];
	ok(pipe(p) == 0, "a pipe");
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (write(p[1], "abc", 3) != 3)
			_exit(1);
		usleep(100000);
		if (write(p[1], "defghijklmnop", 13) != 13)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	ok(spif_fd_peek(p[0], buf, 10, &got, &err) == 0 && got == 10 && memcmp(buf, "abcdefghij", 10) == 0,
	   "pipe: waits for a slow writer");
	ok(slurp(p[0], rest, sizeof rest) == 16 && memcmp(rest, "abcdefghijklmnop", 16) == 0,
	   "pipe: nothing taken");
	waitpid(pid, NULL, 0);
	close(p[0]);

	/* a pipe that ends before n bytes, and an empty one */
	ok(pipe(p) == 0 && write(p[1], "xy", 2) == 2 && close(p[1]) == 0, "a short pipe");
	ok(spif_fd_peek(p[0], buf, 10, &got, &err) == 0 && got == 2, "pipe: fewer at its end");
	ok(slurp(p[0], rest, sizeof rest) == 2, "pipe: still there");
	close(p[0]);
	ok(pipe(p) == 0 && close(p[1]) == 0, "an empty pipe");
	ok(spif_fd_peek(p[0], buf, 10, &got, &err) == 0 && got == 0, "pipe: empty");
	close(p[0]);

	/* a socket */
	int sv[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && write(sv[1], "hello", 5) == 5 &&
	   shutdown(sv[1], SHUT_WR) == 0, "a socket");
	ok(spif_fd_peek(sv[0], buf, 4, &got, &err) == 0 && got == 4 && memcmp(buf, "hell", 4) == 0,
	   "socket: peeked");
	ok(slurp(sv[0], rest, sizeof rest) == 5, "socket: nothing taken");
	close(sv[0]);
	close(sv[1]);

	/* /dev/null reads as an empty file; a directory cannot be read */
	fd = open("/dev/null", O_RDONLY);
	ok(spif_fd_peek(fd, buf, 4, &got, &err) == 0 && got == 0, "/dev/null: empty");
	close(fd);
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	memset(&err, 0, sizeof err);
	ok(spif_fd_peek(fd, buf, 4, &got, &err) == -1 && err.code == SPIF_EX_IOERR, "a directory: %s",
	   err.msg);
	close(fd);
	return tap_done();
}
