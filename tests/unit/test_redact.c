/* test_redact.c - the redaction engine: the text-window reader fed
 * unevenly through a pipe, and the windows it gives. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mynumber.h"
#include "redact.h"
#include "tap.h"
#include "textscan.h"

static void skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_n, why);
	fflush(stdout);
}

static void bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

/* A checksum-valid Individual Number from 11 digits (generated, never a
 * real person's). */
static void make_number(const char *base, char out[13])
{
	memcpy(out, base, 11);
	out[11] = (char)('0' + spif_mynumber_check_digit(base));
	out[12] = '\0';
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- the window reader, fed unevenly ------------------------------------ */

/* A writer that sends the text in two parts: a short one, then (once the
 * reader has taken all of it) a large one in a single write, so that the
 * reader's next read returns as much as it asks for. */
struct feed {
	int fd;
	const char *text;
	size_t n, first;
};

static void *feed_thread(void *arg)
{
	struct feed *f = arg;
	if (write_all(f->fd, f->text, f->first) == 0) {
		int q;
		while (ioctl(f->fd, FIONREAD, &q) == 0 && q > 0)
			usleep(1000);
		write_all(f->fd, f->text + f->first, f->n - f->first);
	}
	close(f->fd);
	return NULL;
}

/* Every window of the text through a pipe written as above: the windows,
 * one after the other, must be the text, and each must come with its
 * context as the text has it. */
static void uneven_pipe(size_t first, size_t total, const char *what)
{
	int p[2];
	if (pipe(p) < 0)
		bail("pipe");
	/* room for the large write in one go, as a pipe enlarged with
	 * F_SETPIPE_SZ (or a socket, or a network file system) gives it */
	if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < (1 << 20)) {
		skip("cannot make a pipe of 1 MiB");
		close(p[0]);
		close(p[1]);
		return;
	}
	char *text = malloc(total + 1), num[13];
	if (!text)
		bail("malloc");
	for (size_t i = 0; i < total; i++)
		text[i] = i % 64 == 63 ? '\n' : 'a' + (char)(i % 26);
	make_number("12345678901", num);
	memcpy(text + total - 40, " 個人番号 ", 14);
	memcpy(text + total - 26, num, 12);
	struct feed f = {.fd = p[1], .text = text, .n = total, .first = first};
	pthread_t th;
	if (pthread_create(&th, NULL, feed_thread, &f) != 0)
		bail("pthread_create");
	struct spif_textscan *ts;
	struct spif_textwin w;
	struct spif_err e = {0};
	size_t at = 0, windows = 0;
	int rc, same = 1, ctx_ok = 1;
	if (spif_textscan_open(p[0], "pipe", SPIF_ENC_UTF8, &ts, &e) < 0)
		bail(e.msg);
	while ((rc = spif_textscan_next(ts, &w, &e)) > 0) {
		windows++;
		if (at + w.n > total || memcmp(text + at, w.text, w.n) != 0)
			same = 0;
		if (w.npre > at || memcmp(text + at - w.npre, w.pre, w.npre) != 0)
			ctx_ok = 0;
		if (at + w.n + w.npost > total || memcmp(text + at + w.n, w.post, w.npost) != 0)
			ctx_ok = 0;
		at += w.n;
	}
	is_int(rc, 0, "%s: read to the end (%s)", what, rc < 0 ? e.msg : "no error");
	ok(same && at == total, "%s: the windows are the text, all of it (%zu of %zu bytes)", what, at, total);
	ok(ctx_ok, "%s: each window's context is the text around it", what);
	ok(windows >= 2, "%s: in windows (%zu)", what, windows);
	spif_textscan_close(ts);
	close(p[0]);
	pthread_join(th, NULL);
	free(text);
}

static void test_textscan(void)
{
	/* a short read that leaves the reader wanting more (under half a
	 * window), then one that returns all it asks for */
	uneven_pipe(400 << 10, (400 << 10) + (1 << 20), "400 KiB then 1 MiB");
	uneven_pipe(100 << 10, (100 << 10) + (1 << 20), "100 KiB then 1 MiB");
	uneven_pipe(500 << 10, (500 << 10) + (1 << 20) + 12345, "500 KiB then 1 MiB and more");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_textscan();
	return tap_done();
}
