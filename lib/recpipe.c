/* recpipe.c - see recpipe.h */
#include "recpipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 512, NBATCH = 4 };

struct batch {
	struct spif_record r[BATCH];
	size_t n;
	long long base; /* ordinal of r[0] */
	int ready;      /* filled, its first half done: the worker's */
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *b;
	int eof;            /* no batch after the last ready one */
	long long nbatches; /* batches handed over so far */
	int failed;         /* either side: both stop */
	struct spif_err werr;
	struct spif_writer *wr;
	spif_recpipe_fn fn;
	void *ctx;
	spif_recpipe_fn seen; /* in order, before each record is written */
	void *ctx_seen;
};

static void *worker(void *arg)
{
	struct pipe *p = arg;
	for (long long idx = 0;; idx++) {
		struct batch *b = &p->b[idx % NBATCH];
		pthread_mutex_lock(&p->mu);
		while (!b->ready && !p->failed && !(p->eof && idx >= p->nbatches))
			pthread_cond_wait(&p->cv, &p->mu);
		int go = b->ready && !p->failed;
		pthread_mutex_unlock(&p->mu);
		if (!go)
			break;
		int rc = 0;
		for (size_t i = b->n / 2; i < b->n && rc == 0; i++)
			rc = p->fn(p->ctx, &b->r[i], b->base + (long long)i, &p->werr);
		for (size_t i = 0; i < b->n && rc == 0; i++) {
			if (p->seen)
				rc = p->seen(p->ctx_seen, &b->r[i], b->base + (long long)i, &p->werr);
			if (rc == 0)
				rc = spif_writer_put(p->wr, &b->r[i], &p->werr);
		}
		pthread_mutex_lock(&p->mu);
		b->ready = 0;
		if (rc < 0)
			p->failed = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (rc < 0)
			break;
	}
	return NULL;
}

static int copy_record(struct spif_record *dst, const struct spif_record *src)
{
	spif_record_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		if (spif_record_add(dst, src->f[i].key, src->f[i].klen, src->f[i].val, src->f[i].vlen,
		                    src->f[i].flags) < 0)
			return -1;
	dst->row = src->row;
	return 0;
}

long long spif_recpipe_run(struct spif_reader *rd, const struct spif_record *first,
                           struct spif_writer *wr, spif_recpipe_fn fn, void *ctx_main,
                           void *ctx_worker, struct spif_err *err)
{
	return spif_recpipe_run_seen(rd, first, wr, fn, ctx_main, ctx_worker, NULL, NULL, err);
}

long long spif_recpipe_run_seen(struct spif_reader *rd, const struct spif_record *first,
                                struct spif_writer *wr, spif_recpipe_fn fn, void *ctx_main,
                                void *ctx_worker, spif_recpipe_fn seen, void *ctx_seen,
                                struct spif_err *err)
{
	struct pipe p = {.wr = wr, .fn = fn, .ctx = ctx_worker, .seen = seen, .ctx_seen = ctx_seen};
	p.b = calloc(NBATCH, sizeof *p.b);
	if (!p.b)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	for (size_t k = 0; k < NBATCH; k++)
		for (size_t i = 0; i < BATCH; i++)
			spif_record_init(&p.b[k].r[i]);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, worker, &p) != 0) {
		free(p.b);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "cannot start a thread");
	}

	struct spif_err merr = {0};
	long long total = 0;
	int rc = 1, mfail = 0;
	for (long long idx = 0; rc > 0; idx++) {
		struct batch *b = &p.b[idx % NBATCH];
		pthread_mutex_lock(&p.mu);
		while (b->ready && !p.failed)
			pthread_cond_wait(&p.cv, &p.mu);
		int stop = p.failed;
		pthread_mutex_unlock(&p.mu);
		if (stop)
			break;
		size_t n = 0;
		if (first && idx == 0) {
			if (copy_record(&b->r[0], first) < 0) {
				spif_err_set(&merr, SPIF_EX_SOFTWARE, "out of memory");
				rc = -1;
			} else {
				n = 1;
			}
		}
		while (rc > 0 && n < BATCH && (rc = spif_reader_next(rd, &b->r[n], &merr)) > 0)
			n++;
		b->n = n;
		b->base = total;
		total += (long long)n;
		for (size_t i = 0; rc >= 0 && i < n / 2; i++)
			if (fn(ctx_main, &b->r[i], b->base + (long long)i, &merr) < 0)
				rc = -1;
		pthread_mutex_lock(&p.mu);
		if (rc < 0) {
			p.failed = 1;
			mfail = 1;
		} else if (n > 0) {
			b->ready = 1;
			p.nbatches = idx + 1;
		}
		if (rc <= 0)
			p.eof = 1;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
	}
	pthread_join(th, NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	for (size_t k = 0; k < NBATCH; k++)
		for (size_t i = 0; i < BATCH; i++)
			spif_record_free(&p.b[k].r[i]);
	free(p.b);
	if (mfail || p.failed) {
		/* the first error: the worker's batches came before this one's */
		if (err)
			*err = p.werr.code ? p.werr : merr;
		return -1;
	}
	return total;
}
