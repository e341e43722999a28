/* test_prefetch.c - records parsed on another thread come out exactly as a
 * plain read loop gives them: same order, rows and values, across many
 * turns of the ring; errors and the end-of-file dialect arrive in place;
 * stopping early is clean. */
#include "prefetch.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int data_fd(const char *data, size_t n)
{
	char path[] = "/tmp/spif-test-prefetch-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	unlink(path);
	if (write(fd, data, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* "a,b\n" then rows "i,x<i>" (i from 0), the last with or without "\n" */
static char *csv(int rows, int final_eol, const char *bad_row_text, int bad_at)
{
	size_t cap = 64 + (size_t)rows * 32;
	char *s = malloc(cap), *o = s;
	o += sprintf(o, "a,b\n");
	for (int i = 0; i < rows; i++) {
		if (i == bad_at)
			o += sprintf(o, "%s", bad_row_text);
		else
			o += sprintf(o, "%d,x%d", i, i);
		if (i + 1 < rows || final_eol)
			*o++ = '\n';
	}
	*o = '\0';
	return s;
}

static void test_order(int rows, int final_eol)
{
	char *s = csv(rows, final_eol, NULL, -1);
	int fd = data_fd(s, strlen(s));
	struct spif_err e = {0};
	struct spif_reader *rd = spif_reader_open(fd, "t", SPIF_FMT_CSV, SPIF_ENC_AUTO, &e);
	struct spif_prefetch *p = spif_prefetch_start(rd, &e);
	struct spif_record *rec;
	int rc, n = 0, wrong = 0;
	while ((rc = spif_prefetch_next(p, &rec, &e)) > 0) {
		char want[32];
		snprintf(want, sizeof want, "x%d", n);
		if (rec->n != 2 || rec->row != n + 2 || strcmp(rec->f[1].val, want) != 0 ||
		    atoi(rec->f[0].val) != n)
			wrong++;
		/* the caller may change the record it holds */
		rec->f[1].val = "changed";
		n++;
	}
	ok(rc == 0, "%d rows: ends with 0", rows);
	is_int(n, rows, "%d rows: every record, once", rows);
	is_int(wrong, 0, "%d rows: in order, rows and values intact", rows);
	is_int(spif_prefetch_dialect(p)->final_eol, final_eol,
	       "%d rows: final line break %s seen at the end", rows, final_eol ? "" : "absence");
	is_int(spif_prefetch_next(p, &rec, &e), 0, "%d rows: end repeats", rows);
	spif_prefetch_end(p);
	spif_reader_close(rd);
	close(fd);
	free(s);
}

static void test_error(void)
{
	char *s = csv(3000, 1, "1,2,3", 2500);
	int fd = data_fd(s, strlen(s));
	struct spif_err e = {0};
	struct spif_reader *rd = spif_reader_open(fd, "t", SPIF_FMT_CSV, SPIF_ENC_AUTO, &e);
	struct spif_prefetch *p = spif_prefetch_start(rd, &e);
	struct spif_record *rec;
	int rc, n = 0;
	while ((rc = spif_prefetch_next(p, &rec, &e)) > 0)
		n++;
	is_int(rc, -1, "a bad row: -1");
	is_int(n, 2500, "a bad row: every record before it first");
	is_int(e.code, SPIF_EX_DATAERR, "a bad row: the reader's code");
	ok(strstr(e.msg, "t:2502:") != NULL, "a bad row: the reader's message (%s)", e.msg);
	spif_prefetch_end(p);
	spif_reader_close(rd);
	close(fd);
	free(s);
}

static void test_stop_early(void)
{
	char *s = csv(100000, 1, NULL, -1);
	int fd = data_fd(s, strlen(s));
	struct spif_err e = {0};
	struct spif_reader *rd = spif_reader_open(fd, "t", SPIF_FMT_CSV, SPIF_ENC_AUTO, &e);
	struct spif_prefetch *p = spif_prefetch_start(rd, &e);
	struct spif_record *rec;
	int n = 0;
	while (n < 10 && spif_prefetch_next(p, &rec, &e) > 0)
		n++;
	spif_prefetch_end(p); /* the thread is mid-file, the ring is full */
	ok(n == 10, "stopping after 10 of 100000 records returns");
	spif_reader_close(rd);
	close(fd);
	free(s);
}

int main(void)
{
	test_order(0, 1);
	test_order(1, 0);
	test_order(63, 1);
	test_order(64, 0);
	test_order(513, 1);
	test_order(20000, 0);
	test_error();
	test_stop_early();
	return tap_done();
}
