/* subject.c - a disclosure request (開示請求); see subject.h.
 *
 * Invariants: the number lives only in the caller's digits[] and in the
 * records found (which are the person's own and go into the encrypted
 * package); nothing derived from it but the keyed pseudonym reaches the
 * catalog.  A file is read once, from the copy export would read, and a
 * plain copy is hashed as it is read: one whose bytes are not the
 * catalogued ones gives no records (its file is listed as not searched). */
#include "subject.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "catalog_query.h"
#include "detect.h"
#include "digest.h"
#include "export_priv.h"
#include "grow.h"
#include "mynumber.h"
#include "numview.h"
#include "pseudonym.h"
#include "vault.h"
#include "vault_feed.h"

/* ---- the number ------------------------------------------------------------ */

int spif_subject_read(const char *path, char digits[13], struct spif_err *err)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spif_err_sys(err, SPIF_EX_NOINPUT, errno, "%s", path);
	char buf[256];
	size_t n = 0;
	ssize_t r;
	int big = 0;
	while ((r = read(fd, buf + n, sizeof buf - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			if (fd)
				close(fd);
			explicit_bzero(buf, sizeof buf);
			return spif_err_sys(err, SPIF_EX_IOERR, e, "%s", path);
		}
		n += (size_t)r;
		if (n == sizeof buf) {
			big = 1;
			break;
		}
	}
	if (fd)
		close(fd);
	/* white space around it aside (a final line break) */
	size_t a = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	while (a < n && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\n' || buf[a] == '\r'))
		a++;
	char d[14];
	int k = big ? -1 : spif_number_view(buf + a, n - a, d);
	int ok = k == 12 && spif_mynumber_valid(d, 12);
	explicit_bzero(buf, sizeof buf);
	if (k == 12)
		memcpy(digits, d, 13);
	explicit_bzero(d, sizeof d);
	if (k != 12) {
		explicit_bzero(digits, 13);
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: does not hold one Individual Number (12 digits)", path);
	}
	if (!ok) {
		explicit_bzero(digits, 13);
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: not an Individual Number: its check digit is wrong", path);
	}
	return 0;
}

static int any_valid(void *ctx, const struct spif_finding *f)
{
	(void)ctx;
	return f->valid && !f->corporate;
}

int spif_subject_in_text(const char *s)
{
	struct spif_detect_opts d = {.number_field = 1};
	return spif_detect(s, strlen(s), &d, any_valid, NULL) != 0;
}

/* ---- matching ---------------------------------------------------------------- */

/* The first i >= from where s[i] may start a digit (an ASCII digit or
 * the lead byte of a full-width one), else n.  Records are mostly
 * letters, kana and kanji: sixteen bytes are looked at at once. */
static size_t next_digit(const unsigned char *s, size_t n, size_t i)
{
#ifdef __SSE2__
	const __m128i lo = _mm_set1_epi8((char)('0' ^ 0x80)), hi = _mm_set1_epi8((char)('9' ^ 0x80)),
	              flip = _mm_set1_epi8((char)0x80), fw = _mm_set1_epi8((char)SPIF_FW_DIGIT_B0);
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
		__m128i x = _mm_xor_si128(v, flip); /* unsigned order as signed */
		__m128i dig = _mm_andnot_si128(_mm_or_si128(_mm_cmplt_epi8(x, lo), _mm_cmpgt_epi8(x, hi)),
		                               _mm_set1_epi8(-1));
		int m = _mm_movemask_epi8(_mm_or_si128(dig, _mm_cmpeq_epi8(v, fw)));
		if (m)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#endif
	for (; i < n; i++)
		if ((unsigned char)(s[i] - '0') < 10 || s[i] == SPIF_FW_DIGIT_B0)
			return i;
	return n;
}

/* The person's number as an automaton over digits: dfa[k][d] is how
 * many of its digits are matched after digit d when k were (KMP). */
struct matcher {
	const char *t;         /* the 12 ASCII digits */
	unsigned char dfa[12][10];
};

static void matcher_init(struct matcher *m, const char *t)
{
	m->t = t;
	for (int d = 0; d < 10; d++)
		m->dfa[0][d] = t[0] - '0' == d;
	for (int k = 1, x = 0; k < 12; k++) {
		for (int d = 0; d < 10; d++)
			m->dfa[k][d] = t[k] - '0' == d ? (unsigned char)(k + 1) : m->dfa[x][d];
		x = m->dfa[x][t[k] - '0'];
	}
}

/* Do the digits of s[0, n), everything else skipped, hold the number in
 * a row?  Any finding of the detector whose digits are the number makes
 * this true (a finding's span holds only digits and separators), so a
 * value or a line for which it is false cannot match; most stop here. */
static int digits_hold(const struct matcher *m, const unsigned char *s, size_t n)
{
	unsigned k = 0;
	for (size_t i = next_digit(s, n, 0); i < n;) {
		unsigned d = (unsigned)(s[i] - '0');
		if (d < 10) {
			i++;
		} else if (s[i] == SPIF_FW_DIGIT_B0 && n - i >= 3 && s[i + 1] == SPIF_FW_DIGIT_B1 &&
		           (d = (unsigned)(s[i + 2] - SPIF_FW_DIGIT_B2)) < 10) {
			i += 3;
		} else {
			i = next_digit(s, n, i + 1);
			continue;
		}
		if ((k = m->dfa[k][d]) == 12)
			return 1;
	}
	return 0;
}

struct hit {
	const unsigned char *s;
	const char *t;
};

/* A finding of the detector: is it the person's number? */
static int is_theirs(void *ctx, const struct spif_finding *f)
{
	const struct hit *h = ctx;
	char got[13];
	int k = 0, d;
	for (size_t i = f->start; i < f->end && k < 13;) {
		size_t len = spif_nv_digit(h->s, f->end, i, &d);
		if (len) {
			got[k++] = (char)('0' + d);
			i += len;
		} else
			i++;
	}
	int same = k == 12 && memcmp(got, h->t, 12) == 0;
	explicit_bzero(got, sizeof got);
	return same;
}

/* Is rec the person's: does one of its values hold their number? */
static int theirs(const struct spif_record *rec, const struct matcher *m)
{
	/* the number-field view for every value: with the digits compared, a
	 * looser form cannot make a false match, and free text may hold the
	 * number in any grouping */
	struct spif_detect_opts d = {.number_field = 1};
	for (size_t i = 0; i < rec->n; i++) {
		const struct spif_field *f = &rec->f[i];
		if (f->key[0] == '@' || f->vlen < 12 || !digits_hold(m, (const unsigned char *)f->val, f->vlen))
			continue;
		struct hit h = {(const unsigned char *)f->val, m->t};
		if (spif_detect(f->val, f->vlen, &d, is_theirs, &h))
			return 1;
	}
	return 0;
}

/* ---- one file ------------------------------------------------------------------ */

struct job {
	struct spif_file f;
	char fid[24];
	char *path;            /* NULL: nothing to read it from */
	int vault;
	enum spif_format fmt;
	enum spif_enc enc;
	char *buf;             /* the person's records, encoded (wiped) */
	size_t len, cap;
	long long records;
	int changed;           /* a plain copy whose bytes are not the catalog's */
	int rc;
	struct spif_err e;
};

static int mem_sink(void *ctx, const void *b, size_t n)
{
	struct job *j = ctx;
	if (spif_grow_wipe((void **)&j->buf, &j->cap, j->len + n, 1) < 0) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(j->buf + j->len, b, n);
	j->len += n;
	return 0;
}

struct pool {
	const struct spif_subject_opts *o;
	struct matcher m;
	struct job *v;
	size_t n;
	atomic_size_t next;
};

/* The records of the reader on fd that are the person's, into j's
 * writer; a plain copy is hashed to its end (h), against the catalog. */
static int pick(const struct pool *P, struct job *j, int fd, enum spif_format fmt, enum spif_enc enc,
                struct spif_sha256 *h, struct spif_err *e)
{
	struct spif_reader *rd = spif_reader_open(fd, j->vault ? j->fid : j->path, fmt, enc, e);
	struct spif_writer *w = NULL;
	if (rd && h)
		spif_reader_set_tap(rd, spif_sha256_tap, h);
	struct spif_record rec;
	spif_record_init(&rec);
	int r = rd ? 0 : -1, failed = !rd;
	while (r == 0 && (r = spif_reader_next(rd, &rec, e)) > 0) {
		r = 0;
		if (!theirs(&rec, &P->m))
			continue;
		/* the writer at the first record found: a CSV copy's dialect
		 * (separator, quoting, line ends) is known from then on */
		if (!w && !(w = spif_writer_open(mem_sink, j, j->fid, j->fmt, j->enc,
		                                 j->fmt == SPIF_FMT_NDJSON ? NULL : spif_reader_dialect(rd), e))) {
			failed = 1;
			break;
		}
		if (spif_writer_put(w, &rec, e) < 0) {
			failed = 1;
			break;
		}
		j->records++;
	}
	if (r < 0)
		failed = 1;
	if (!failed && w && spif_writer_finish(w, e) < 0)
		failed = 1;
	if (h) { /* the rest of the copy, for its hash */
		char sink[16384];
		ssize_t got;
		while ((got = read(fd, sink, sizeof sink)) != 0)
			if (got < 0 && errno != EINTR)
				break;
			else if (got > 0)
				spif_sha256_update(h, sink, (size_t)got);
	}
	spif_writer_close(w);
	spif_reader_close(rd);
	spif_record_free(&rec);
	return failed ? -1 : 0;
}

/* A vault copy: its NDJSON lines as they are decrypted, each looked at
 * raw first.  A line is one record (the vault's writer escapes line
 * breaks) and holds every value's digits as written (it writes UTF-8
 * as is), so a line whose digits, everything else skipped, do not hold
 * the number holds no value that does; only the other lines (and any
 * with a backslash, where an escape could hide a digit or a separator)
 * are parsed, from an anonymous memory file.  Measured on 10 files of
 * 20,000 wide rows: parsing every record took 3x the CPU of the
 * decryption; the raw look costs about what the decryption does. */
static int search_vault(const struct pool *P, struct job *j, int fd, struct spif_err *e)
{
	int mfd = memfd_create("spif-subject", MFD_CLOEXEC);
	if (mfd < 0)
		return spif_err_sys(e, SPIF_EX_SOFTWARE, errno, "memfd_create");
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	int rc = 0, any = 0;
	if (!buf)
		rc = spif_err_set(e, SPIF_EX_SOFTWARE, "out of memory");
	for (;;) {
		if (rc < 0)
			break;
		if (len == cap && spif_grow_wipe((void **)&buf, &cap, cap + 1, 1) < 0) {
			rc = spif_err_set(e, SPIF_EX_SOFTWARE, "out of memory");
			break;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = spif_err_sys(e, SPIF_EX_IOERR, errno, "%s", j->fid);
			break;
		}
		len += (size_t)r;
		size_t at = 0;
		for (;;) {
			char *nl = memchr(buf + at, '\n', len - at);
			if (!nl && r > 0)
				break;
			size_t end = nl ? (size_t)(nl - buf) + 1 : len;
			if (end == at)
				break;
			const unsigned char *l = (const unsigned char *)buf + at;
			if (memchr(l, '\\', end - at) || digits_hold(&P->m, l, end - at)) {
				if (spif_sink_fd(&mfd, l, end - at) < 0) {
					rc = spif_err_sys(e, SPIF_EX_IOERR, errno, "memfd");
					break;
				}
				any = 1;
			}
			at = end;
		}
		/* what is left over moves down; the bytes behind it are
		 * overwritten by the next read, and all wiped at the end */
		memmove(buf, buf + at, len - at);
		len -= at;
		if (r == 0)
			break;
	}
	if (buf) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	if (rc == 0 && any) {
		if (lseek(mfd, 0, SEEK_SET) < 0)
			rc = spif_err_sys(e, SPIF_EX_SOFTWARE, errno, "memfd");
		else
			rc = pick(P, j, mfd, SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, e);
	}
	(void)ftruncate(mfd, 0);
	close(mfd);
	return rc;
}

static void search(const struct pool *P, struct job *j)
{
	struct spif_err e = {0};
	if (j->vault) {
		/* the vault copy decrypted into a pipe by a thread (vault_feed.h),
		 * whose own error says why its records ended */
		struct spif_vault_feed *feed;
		int fd;
		if (spif_vault_feed_start(P->o->home, P->o->conf, j->f.id, j->path, &feed, &fd, &j->e) < 0) {
			j->rc = -1;
			return;
		}
		int rc = search_vault(P, j, fd, &e);
		struct spif_err fe = {0};
		if (spif_vault_feed_finish(feed, rc < 0, &fe) < 0) {
			j->e = fe;
			j->rc = -1;
		} else if (rc < 0) {
			j->e = e;
			j->rc = -1;
		}
	} else {
		int fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct spif_sha256 *h = fd >= 0 ? spif_sha256_new() : NULL;
		if (!h) {
			/* gone since it was listed: not searched, as a changed one */
			if (fd >= 0)
				close(fd);
			j->changed = 1;
			return;
		}
		int rc = pick(P, j, fd, j->fmt, j->enc, h, &e);
		close(fd);
		char hex[65];
		spif_sha256_hex(h, hex);
		spif_sha256_free(h);
		if (!j->f.sha256 || strcmp(hex, j->f.sha256) != 0)
			j->changed = 1; /* whatever it said: it is not the catalogued file */
		else if (rc < 0) {
			j->e = e;
			j->rc = -1;
		}
	}
	if (j->changed || j->rc < 0) { /* nothing of it is used */
		if (j->buf)
			explicit_bzero(j->buf, j->cap);
		j->len = 0;
		j->records = 0;
	}
}

static void *worker(void *arg)
{
	struct pool *P = arg;
	for (size_t i; (i = atomic_fetch_add(&P->next, 1)) < P->n;)
		if (P->v[i].path)
			search(P, &P->v[i]);
	return NULL;
}

/* ---- the access history ---------------------------------------------------------- */

/* What of an event's details the person is shown: to whom and why
 * (exports, disposals); paths, hashes and other people's requests stay. */
static const char *const shown_keys[] = {"organisation", "person", "basis", "reason", "medium", "due",
                                         "method", "certificate", "records"};

static int history_event(void *ctx, const struct spif_event_row *ev)
{
	json_t *a = ctx;
	json_t *e = json_pack("{s:I,s:s,s:s,s:s?,s:s?}", "seq", (json_int_t)ev->seq, "time", ev->time ? ev->time : "",
	                      "action", ev->action ? ev->action : "", "operator", ev->operator_, "object", ev->object);
	if (!e)
		return 1;
	json_t *d = ev->details ? json_loads(ev->details, 0, NULL) : NULL;
	if (json_is_object(d)) {
		if (json_object_get(d, "subject"))
			json_object_set_new(e, "disclosure", json_true()); /* someone's request: whose, not shown */
		else
			for (size_t i = 0; i < sizeof shown_keys / sizeof *shown_keys; i++) {
				json_t *v = json_object_get(d, shown_keys[i]);
				if (v && !json_is_null(v))
					json_object_set(e, shown_keys[i], v);
			}
	}
	json_decref(d);
	json_array_append_new(a, e);
	return 0;
}

/* spif/access-history.json: each file's record count and events. */
static char *history(struct spif_catalog *c, const struct job *v, size_t n, struct spif_err *err)
{
	json_t *files = json_array(), *unread = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct job *j = &v[i];
		if (!j->path || j->changed) {
			json_array_append_new(unread, json_pack("{s:s,s:s}", "file", j->fid, "why",
			                                        j->path ? "its copy changed since it was catalogued"
			                                                : "no vault copy and no copy with its catalogued content"));
			continue;
		}
		if (!j->records)
			continue;
		json_t *ev = json_array();
		struct spif_event_filter f = {.file_id = j->f.id};
		if (spif_catalog_filter_events(c, &f, history_event, ev, err) != 0) {
			json_decref(ev);
			json_decref(files);
			json_decref(unread);
			if (!err->code)
				spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			return NULL;
		}
		json_array_append_new(files, json_pack("{s:s,s:s?,s:s?,s:I,s:s,s:o}", "file", j->fid, "label", j->f.label,
		                                       "purpose", j->f.purpose, "records", (json_int_t)j->records,
		                                       "source", j->vault ? "vault" : "copy", "events", ev));
	}
	json_t *doc = json_pack("{s:s,s:o,s:o}", "about",
	                        "the files holding your records and every access to them recorded in the audit log "
	                        "(ingest, reads, exports and to whom, disposals)", "files", files, "not_searched", unread);
	char *s = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!s)
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return s;
}

/* ---- the request ------------------------------------------------------------------- */

struct ids {
	long long *v;
	size_t n, cap;
};

static int live_file(void *ctx, const struct spif_file *f)
{
	struct ids *x = ctx;
	if (f->state == SPIF_FILE_DISPOSED)
		return 0;
	if (spif_grow((void **)&x->v, &x->cap, x->n + 1, sizeof *x->v) < 0)
		return 1;
	x->v[x->n++] = f->id;
	return 0;
}

static int load_key(struct spif_catalog *c, const struct spif_subject_opts *o, struct spif_psn **psn,
                    struct spif_err *err)
{
	struct spif_err e = {0};
	if (spif_psn_key_load(o->home, SPIF_SUBJECT_KEY, psn, &e) == 0)
		return 0;
	if (e.code != SPIF_EX_UNAVAILABLE) {
		*err = e;
		return -1;
	}
	char path[PATH_MAX + 80];
	if (spif_psn_key_create(c, o->home, o->conf, SPIF_SUBJECT_KEY, path, err) < 0)
		return -1;
	return spif_psn_key_load(o->home, SPIF_SUBJECT_KEY, psn, err);
}

int spif_subject_run(struct spif_catalog *c, const char digits[13], const struct spif_subject_opts *o,
                     struct spif_subject_result *res, struct spif_err *err)
{
	memset(res, 0, sizeof *res);
	if (!o->recipients || !o->nrecipients)
		return spif_err_set(err, SPIF_EX_USAGE, "a disclosure goes encrypted: give -r RECIPIENT");
	struct ids ids = {0};
	struct job *v = NULL;
	struct spif_psn *psn = NULL;
	struct spif_export_part *parts = NULL;
	long long *fids = NULL;
	json_t *subject = NULL;
	char *hist = NULL;
	size_t n = 0;
	int rc = -1;
	if (spif_catalog_list_files(c, -1, live_file, &ids, err) != 0) {
		if (!err->code)
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if (ids.n && !(v = calloc(ids.n, sizeof *v))) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	for (; n < ids.n; n++) {
		struct job *j = &v[n];
		if (spif_catalog_get_file(c, ids.v[n], &j->f, err) < 0)
			goto out;
		spif_file_id_format(j->f.id, j->fid);
		if (spif_export_source(c, &j->f, &j->path, &j->vault, &j->fmt, &j->enc, err) < 0)
			goto out;
	}
	struct pool P = {.o = o, .v = v, .n = n};
	matcher_init(&P.m, digits);
	atomic_init(&P.next, 0);
	size_t nt = o->threads > 0 ? (size_t)o->threads : 2;
	if (nt > n)
		nt = n;
	pthread_t th[8];
	size_t started = 0;
	for (; started < nt && started < 8; started++)
		if (pthread_create(&th[started], NULL, worker, &P) != 0)
			break;
	if (!started && n)
		worker(&P);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	explicit_bzero(&P.m, sizeof P.m); /* its table spells the number */

	size_t nf = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].rc < 0) {
			*err = v[i].e;
			goto out;
		}
		if (v[i].path && !v[i].changed)
			res->searched++;
		else
			res->unread++;
		if (v[i].records) {
			nf++;
			res->records += v[i].records;
		}
	}
	parts = calloc(nf + 1, sizeof *parts);
	fids = calloc(nf + 1, sizeof *fids);
	if (!parts || !fids) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0, k = 0; i < n; i++) {
		if (!v[i].records)
			continue;
		fids[k] = v[i].f.id;
		parts[k++] = (struct spif_export_part){.data = v[i].buf, .len = v[i].len, .fmt = v[i].fmt,
		                                       .enc = v[i].enc, .source = v[i].path, .vault = v[i].vault,
		                                       .records = v[i].records, .persons = 1};
	}
	res->files = nf;
	/* the key after the search, so that a request that fails there
	 * leaves the catalog as it was, even on the first request */
	if (load_key(c, o, &psn, err) < 0)
		goto out;
	spif_psn_token(psn, digits, res->pseudonym);
	if (!(hist = history(c, v, n, err)))
		goto out;
	subject = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "pseudonym", res->pseudonym, "key", SPIF_SUBJECT_KEY,
	                    "records", (json_int_t)res->records, "files", (json_int_t)nf, "persons",
	                    (json_int_t)(res->records > 0), "searched", (json_int_t)res->searched, "not_searched",
	                    (json_int_t)res->unread);
	if (!subject) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	struct spif_export_tag tag = {"spif/access-history.json", hist, strlen(hist)};
	struct spif_export_opts x = {
		.files = fids, .nfiles = nf, .recipients = o->recipients, .nrecipients = o->nrecipients,
		.sign_key = o->sign_key, .form = SPIF_EXPORT_BAG, .to = SPIF_FMT_NDJSON, .enc = SPIF_ENC_UTF8,
		.organisation = "本人", .person = o->person, .basis = o->basis ? o->basis : SPIF_SUBJECT_BASIS,
		.reason = o->reason, .medium = o->medium, .seal = o->seal, .due = o->due, .out = o->out,
		.home = o->home, .conf = o->conf, .parts = parts, .subject = subject, .tags = &tag, .ntags = 1,
		.note = o->note, .note_ctx = o->note_ctx,
	};
	if (spif_export_run(c, &x, &res->x, err) < 0)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < ids.n && v; i++) {
		if (v[i].buf) {
			explicit_bzero(v[i].buf, v[i].cap);
			free(v[i].buf);
		}
		free(v[i].path);
		spif_file_free(&v[i].f);
	}
	free(v);
	free(ids.v);
	free(parts);
	free(fids);
	free(hist);
	json_decref(subject);
	spif_psn_free(psn);
	return rc;
}
