/* prefetch.c - a reader thread filling a ring of records.
 *
 * Hand-over is in batches so that the two threads meet on the mutex once
 * every BATCH records, not once a record: the producer publishes what it
 * parsed and waits for room a batch at a time; the consumer releases what
 * it used a batch at a time.  The ring's records keep their storage from
 * one use to the next, like a single spif_record in a plain read loop. */
#include "prefetch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RING 512
#define BATCH 64 /* RING is a multiple of BATCH, and at least two of them */

struct spif_prefetch {
	struct spif_reader *rd;
	struct spif_record slot[RING];
	struct spif_dialect sd[RING]; /* the dialect as each record left it */
	enum spif_enc senc[RING];
	pthread_t th;
	int threaded;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	unsigned long long produced, consumed;
	int done, stop, end_rc;
	struct spif_err end_err;
	struct spif_dialect end_d;
	enum spif_enc end_enc;
	/* the consumer's own */
	unsigned long long cur, avail;
	int have_cur, at_end;
};

static void snapshot(struct spif_prefetch *p, struct spif_dialect *d, enum spif_enc *enc)
{
	const struct spif_dialect *rd = spif_reader_dialect(p->rd);
	if (rd)
		*d = *rd;
	else
		memset(d, 0, sizeof *d);
	*enc = spif_reader_encoding(p->rd);
}

/* Parse one record into the slot for record number k: the reader's result. */
static int produce_one(struct spif_prefetch *p, unsigned long long k, struct spif_err *err)
{
	size_t i = (size_t)(k % RING);
	int rc = spif_reader_next(p->rd, &p->slot[i], err);
	if (rc > 0)
		snapshot(p, &p->sd[i], &p->senc[i]);
	return rc;
}

static void finish(struct spif_prefetch *p, int rc, const struct spif_err *err)
{
	p->done = 1;
	p->end_rc = rc;
	if (rc < 0)
		p->end_err = *err;
	snapshot(p, &p->end_d, &p->end_enc);
}

static void *producer(void *arg)
{
	struct spif_prefetch *p = arg;
	unsigned long long k = 0;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		p->produced = k;
		pthread_cond_broadcast(&p->cv);
		while (!p->stop && k + BATCH - p->consumed > RING)
			pthread_cond_wait(&p->cv, &p->mu);
		int stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			return NULL;
		struct spif_err err = {0};
		int rc = 1;
		for (int b = 0; b < BATCH && (rc = produce_one(p, k, &err)) > 0; b++)
			k++;
		if (rc <= 0) {
			pthread_mutex_lock(&p->mu);
			p->produced = k;
			finish(p, rc, &err);
			pthread_cond_broadcast(&p->cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
	}
}

struct spif_prefetch *spif_prefetch_start(struct spif_reader *rd, struct spif_err *err)
{
	struct spif_prefetch *p = calloc(1, sizeof *p);
	if (!p) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		return NULL;
	}
	p->rd = rd;
	for (size_t i = 0; i < RING; i++)
		spif_record_init(&p->slot[i]);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->threaded = pthread_create(&p->th, NULL, producer, p) == 0;
	return p;
}

int spif_prefetch_next(struct spif_prefetch *p, struct spif_record **rec, struct spif_err *err)
{
	if (p->at_end) {
		if (p->end_rc < 0)
			*err = p->end_err;
		return p->end_rc;
	}
	if (p->have_cur)
		p->cur++;
	p->have_cur = 0;
	if (!p->threaded) {
		int rc = produce_one(p, p->cur, err);
		if (rc <= 0) {
			finish(p, rc, err);
			p->at_end = 1;
			return rc;
		}
	} else if (p->cur == p->avail) {
		pthread_mutex_lock(&p->mu);
		p->consumed = p->cur; /* everything before cur is free again */
		pthread_cond_broadcast(&p->cv);
		while (p->produced == p->cur && !p->done)
			pthread_cond_wait(&p->cv, &p->mu);
		p->avail = p->produced;
		int ended = p->produced == p->cur && p->done;
		pthread_mutex_unlock(&p->mu);
		if (ended) {
			p->at_end = 1;
			if (p->end_rc < 0)
				*err = p->end_err;
			return p->end_rc;
		}
	}
	p->have_cur = 1;
	*rec = &p->slot[p->cur % RING];
	return 1;
}

const struct spif_dialect *spif_prefetch_dialect(const struct spif_prefetch *p)
{
	return p->at_end ? &p->end_d : &p->sd[p->cur % RING];
}

enum spif_enc spif_prefetch_encoding(const struct spif_prefetch *p)
{
	return p->at_end ? p->end_enc : p->senc[p->cur % RING];
}

void spif_prefetch_end(struct spif_prefetch *p)
{
	if (!p)
		return;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	for (size_t i = 0; i < RING; i++)
		spif_record_free(&p->slot[i]);
	free(p);
}
