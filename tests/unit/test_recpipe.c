/* test_recpipe.c - records through a function on two threads: every
 * record, in order, each with its ordinal; an error from either thread or
 * from the writer stops the run and is the one reported. */
#include "recpipe.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mem {
	char *p;
	size_t n, cap;
};

static int mem_sink(void *ctx, const void *b, size_t n)
{
	struct mem *m = ctx;
	if (m->n + n + 1 > m->cap) {
		m->cap = (m->n + n + 1) * 2;
		m->p = realloc(m->p, m->cap);
	}
	memcpy(m->p + m->n, b, n);
	m->n += n;
	m->p[m->n] = '\0';
	return 0;
}

/* Appends "#ordinal" to field v; fails on the record whose v is fail_at. */
struct ctx {
	const char *fail_at;
	long long calls;
};

static int mark(void *c, struct spif_record *rec, long long ordinal, struct spif_err *err)
{
	struct ctx *x = c;
	x->calls++;
	if (x->fail_at && strcmp(rec->f[0].val, x->fail_at) == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "failed at %s", x->fail_at);
	char v[64];
	snprintf(v, sizeof v, "%s#%lld", rec->f[0].val, ordinal);
	return spif_record_set(rec, 0, v, strlen(v));
}

/* n records {"v":"0"} ... through mark; the output in out. */
static long long run_n(int n, const char *fail_main, const char *fail_worker, struct mem *out,
                       struct spif_err *err, long long *calls)
{
	int p[2];
	if (pipe(p) < 0)
		return -2;
	if (fork() == 0) {
		close(p[0]);
		FILE *f = fdopen(p[1], "w");
		for (int i = 0; i < n; i++)
			fprintf(f, "{\"v\":\"%d\"}\n", i);
		fclose(f);
		_exit(0);
	}
	close(p[1]);
	struct spif_reader *rd = spif_reader_open(p[0], "in", SPIF_FMT_NDJSON, SPIF_ENC_UTF8, err);
	struct spif_writer *w = spif_writer_open(mem_sink, out, "out", SPIF_FMT_NDJSON, SPIF_ENC_UTF8,
	                                         NULL, err);
	struct ctx cm = {fail_main, 0}, cw = {fail_worker, 0};
	long long r = spif_recpipe_run(rd, NULL, w, mark, &cm, &cw, err);
	if (r >= 0)
		spif_writer_finish(w, err);
	spif_writer_close(w);
	spif_reader_close(rd);
	close(p[0]);
	*calls = cm.calls + cw.calls;
	return r;
}

int main(void)
{
	struct mem out = {0};
	struct spif_err err = {0};
	long long calls = 0;
	long long r = run_n(5000, NULL, NULL, &out, &err, &calls);
	is_int(r, 5000, "every record (%s)", err.msg);
	is_int(calls, 5000, "each through the function once");
	int good = out.p != NULL;
	const char *s = out.p;
	for (int i = 0; good && i < 5000; i++) {
		char want[64];
		int k = snprintf(want, sizeof want, "{\"v\":\"%d#%d\"}\n", i, i);
		good = strncmp(s, want, (size_t)k) == 0;
		s += k;
	}
	ok(good && *s == '\0', "in order, each with its ordinal");
	free(out.p);
	out = (struct mem){0};

	/* record 100 is in the first half of its batch: the reading thread's */
	r = run_n(5000, "100", NULL, &out, &err, &calls);
	ok(r == -1 && err.code == SPIF_EX_DATAERR && strcmp(err.msg, "failed at 100") == 0,
	   "an error on the reading thread: %s", err.msg);
	ok(!out.p || !strstr(out.p, "\"100#"), "and that record is not written");
	free(out.p);
	out = (struct mem){0};
	memset(&err, 0, sizeof err);
	/* record 1300 is in the second half of batch 2: the worker's */
	r = run_n(5000, NULL, "1300", &out, &err, &calls);
	ok(r == -1 && strcmp(err.msg, "failed at 1300") == 0, "an error on the worker: %s", err.msg);
	ok(!out.p || !strstr(out.p, "\"1024#"), "nothing of its batch is written");
	free(out.p);
	out = (struct mem){0};
	r = run_n(0, NULL, NULL, &out, &err, &calls);
	ok(r == 0 && out.n == 0, "no records");
	free(out.p);
	return tap_done();
}
