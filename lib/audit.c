/* audit.c - see audit.h */
#include "catalog_priv.h"
#include "audit.h"

#include <gcrypt.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditlog.h"
#include "auditlog_tree.h"
#include "digest.h"
#include "mynumber.h"

/* An event carries its command line up to this many bytes of JSON. */
#define ARGV_MAX 1024

static const char zero_hash[65] =
	"0000000000000000000000000000000000000000000000000000000000000000";

int spif_actor_init(struct spif_actor *a, int argc, char **argv, struct spif_err *err)
{
	memset(a, 0, sizeof *a);
	/* Identity is the real uid and nothing else: not the effective ids (a
	 * system install's commands are setgid), not the environment.  Under
	 * sudo the real uid is root and SUDO_USER is only what the caller's
	 * environment claims (anyone can set it): it is kept, as recorded and
	 * not trusted, only when the real uid is root, and it names a person
	 * only when the operator table says root acts through sudo
	 * (lib/operator.h: the event then says "root (sudo from X,
	 * unverified)").  From any other uid it is dropped: that process was
	 * not started by sudo, whatever its environment says. */
	uid_t uid = getuid();
	struct passwd *pw = getpwuid(uid);
	if (pw)
		snprintf(a->operator_, sizeof a->operator_, "%s", pw->pw_name);
	else
		snprintf(a->operator_, sizeof a->operator_, "uid:%u", (unsigned)uid);
	const char *su = getenv("SUDO_USER");
	if (su && uid == 0)
		snprintf(a->sudo_user, sizeof a->sudo_user, "%s", su);
	if (gethostname(a->host, sizeof a->host - 1) < 0)
		strcpy(a->host, "unknown");
	a->pid = (long)getpid();
	json_t *arr = json_array();
	for (int i = 0; i < argc; i++) {
		char *str = strdup(argv[i]);
		if (!str)
			break;
		spif_mask_numbers(str);
		json_t *js = json_string(str); /* NULL for bytes that are not UTF-8 */
		json_array_append_new(arr, js ? js : json_string("(not UTF-8)"));
		free(str);
	}
	a->argv_json = json_dumps(arr, JSON_COMPACT);
	if (a->argv_json && strlen(a->argv_json) > ARGV_MAX) {
		/* "spif shred DIR/..." with thousands of files: every event of the run
		 * carried them all, and the log grew with the square of the count.
		 * Keep the head and a digest of the whole; each event's object
		 * names its own file anyway. */
		char hex[65], tail[160];
		spif_sha256_buf(a->argv_json, strlen(a->argv_json), hex);
		size_t keep = 0, len = 2;
		while (keep < json_array_size(arr)) {
			size_t l = strlen(json_string_value(json_array_get(arr, keep))) + 4;
			if (len + l > ARGV_MAX / 2)
				break;
			len += l;
			keep++;
		}
		size_t more = json_array_size(arr) - keep;
		while (json_array_size(arr) > keep)
			json_array_remove(arr, keep);
		snprintf(tail, sizeof tail, "... %zu more argument%s (sha256 of the whole list: %s)", more,
		         more == 1 ? "" : "s", hex);
		json_array_append_new(arr, json_string(tail));
		free(a->argv_json);
		a->argv_json = json_dumps(arr, JSON_COMPACT);
	}
	json_decref(arr);
	if (!a->argv_json)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return 0;
}

void spif_actor_free(struct spif_actor *a)
{
	free(a->argv_json);
	a->argv_json = NULL;
}

/* Keys whose values spif computes itself as hex digests or OpenPGP
 * fingerprints: these often hold a run of 12 decimal digits, and masking
 * them would corrupt them. */
static int is_digest_key(const char *k)
{
	size_t n = strlen(k);
	return strcmp(k, "hash") == 0 || strcmp(k, "prev_hash") == 0 || strcmp(k, "signer") == 0 ||
	       (n >= 6 && strcmp(k + n - 6, "sha256") == 0);
}

/* Mask digit runs in every string of a JSON value, recursively. */
static void mask_json(json_t *v)
{
	if (json_is_string(v)) {
		char *s = strdup(json_string_value(v));
		if (s && spif_mask_numbers(s) > 0)
			json_string_set(v, s);
		free(s);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) mask_json(e);
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e) if (!is_digest_key(k)) mask_json(e);
	}
}

/* The canonical encoding: each field as the netstring "LEN:BYTES,", built
 * in one buffer so that an event is one call to SHA-256 (22 small writes
 * into a digest context were most of verify's hashing time). */
enum { F_TIME, F_OP, F_SUDO, F_HOST, F_ARGV, F_ACTION, F_OBJECT, F_DETAILS, F_PREV, F_HASH, NFIELDS };

struct event_fields {
	long long seq, pid;
	const char *f[NFIELDS]; /* NULL: NULL in the catalog */
	size_t n[NFIELDS];
};

static char *put_len(char *o, size_t n)
{
	char tmp[24];
	int k = 0;
	do
		tmp[k++] = (char)('0' + n % 10);
	while (n /= 10);
	while (k)
		*o++ = tmp[--k];
	*o++ = ':';
	return o;
}

static char *put_str(char *o, const char *s, size_t n)
{
	o = put_len(o, n);
	if (n)
		memcpy(o, s, n);
	o += n;
	*o++ = ',';
	return o;
}

static char *put_int(char *o, long long v)
{
	char tmp[24];
	int k = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		tmp[k++] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		tmp[k++] = '-';
	o = put_len(o, (size_t)k);
	while (k)
		*o++ = tmp[--k];
	*o++ = ',';
	return o;
}

/* Room the encoding of e needs. */
static size_t encoded_max(const struct event_fields *e)
{
	size_t n = 2 * 48;
	for (int i = 0; i < F_HASH; i++)
		n += e->n[i] + 24;
	return n;
}

/* prev_hash, seq, time, operator, sudo_user, host, pid, argv, action,
 * object, details: see audit.h. */
static size_t encode_event(char *buf, const struct event_fields *e)
{
	char *o = buf;
	o = put_str(o, e->f[F_PREV], e->n[F_PREV]);
	o = put_int(o, e->seq);
	o = put_str(o, e->f[F_TIME], e->n[F_TIME]);
	o = put_str(o, e->f[F_OP], e->n[F_OP]);
	o = put_str(o, e->f[F_SUDO], e->n[F_SUDO]);
	o = put_str(o, e->f[F_HOST], e->n[F_HOST]);
	o = put_int(o, e->pid);
	o = put_str(o, e->f[F_ARGV], e->n[F_ARGV]);
	o = put_str(o, e->f[F_ACTION], e->n[F_ACTION]);
	o = put_str(o, e->f[F_OBJECT], e->n[F_OBJECT]);
	o = put_str(o, e->f[F_DETAILS], e->n[F_DETAILS]);
	return (size_t)(o - buf);
}

static void set_field(struct event_fields *e, int i, const char *s)
{
	e->f[i] = s;
	e->n[i] = s ? strlen(s) : 0;
}

static int hash_fields(const struct event_fields *e, unsigned char out[32])
{
	char stack[4096];
	size_t need = encoded_max(e);
	char *buf = need <= sizeof stack ? stack : malloc(need);
	if (!buf)
		return -1;
	gcry_md_hash_buffer(GCRY_MD_SHA256, out, buf, encode_event(buf, e));
	if (buf != stack)
		free(buf);
	return 0;
}

void spif_audit_hash(const char *prev, long long seq, const char *time, const char *op,
                     const char *sudo, const char *host, long long pid, const char *argv,
                     const char *action, const char *object, const char *details,
                     char out[65])
{
	struct event_fields e = {.seq = seq, .pid = pid};
	set_field(&e, F_PREV, prev);
	set_field(&e, F_TIME, time);
	set_field(&e, F_OP, op);
	set_field(&e, F_SUDO, sudo);
	set_field(&e, F_HOST, host);
	set_field(&e, F_ARGV, argv);
	set_field(&e, F_ACTION, action);
	set_field(&e, F_OBJECT, object);
	set_field(&e, F_DETAILS, details);
	unsigned char h[32];
	if (hash_fields(&e, h) < 0) {
		out[0] = '\0';
		return;
	}
	spif_hex(h, 32, out);
}

int spif_audit_head(struct spif_catalog *c, long long *seq, char hash[65], struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", &st, err) < 0)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 1));
	} else {
		*seq = 0;
		memcpy(hash, zero_hash, 65);
	}
	spif_catalog_release(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read audit head", err);
	return 0;
}

/* The head is also kept in meta, so that a removed tail of the log shows:
 * the chain alone cannot tell a cut-off log from a short one.  (Signed
 * checkpoints kept elsewhere are what proves it against someone who can
 * rewrite meta too.) */
static int set_head(struct spif_catalog *c, long long seq, const char *hash, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "INSERT OR REPLACE INTO meta(key,value) VALUES('audit_head',?)",
	                         &st, err) < 0)
		return -1;
	char v[96];
	snprintf(v, sizeof v, "%lld:%s", seq, hash);
	sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "record audit head", err);
	return 0;
}

int spif_audit_append(struct spif_catalog *c, const char *action, const char *object,
                      json_t *details, long long *seq_out, struct spif_err *err)
{
	if (!spif_catalog_in_tx(c))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "audit event outside a transaction");
	const struct spif_actor *a = spif_catalog_actor(c);
	if (!a->argv_json)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "audit event without an actor");
	long long prev_seq;
	char prev[65], hash[65], now[32];
	if (spif_audit_head(c, &prev_seq, prev, err) < 0)
		return -1;
	/* the rows this transaction changed go into the event (auditlog.h);
	 * they are spif's own (table names, keys, hashes), added after the
	 * masking so that a hash is never taken for a number */
	json_t *rows;
	if (spif_auditlog_drain(c, &rows, err) < 0)
		return -1;
	json_t *copy = details ? json_deep_copy(details) : json_object();
	char *dj = NULL;
	if (copy) {
		mask_json(copy);
		if (rows)
			json_object_set_new(copy, "rows", rows);
		rows = NULL;
		dj = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(copy);
	}
	json_decref(rows);
	if (!dj)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	char *obj = object ? strdup(object) : NULL;
	if (obj)
		spif_mask_numbers(obj);
	long long seq = prev_seq + 1;
	spif_now_utc(now);
	const char *sudo = a->sudo_user[0] ? a->sudo_user : NULL;
	struct event_fields e = {.seq = seq, .pid = a->pid};
	set_field(&e, F_PREV, prev);
	set_field(&e, F_TIME, now);
	set_field(&e, F_OP, a->operator_);
	set_field(&e, F_SUDO, sudo);
	set_field(&e, F_HOST, a->host);
	set_field(&e, F_ARGV, a->argv_json);
	set_field(&e, F_ACTION, action);
	set_field(&e, F_OBJECT, obj);
	set_field(&e, F_DETAILS, dj);
	unsigned char hb[32];
	if (hash_fields(&e, hb) < 0) {
		free(dj);
		free(obj);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	spif_hex(hb, 32, hash);
	sqlite3_stmt *st;
	int rc = -1;
	if (spif_catalog_cached(c,
	        "INSERT INTO events(seq,time,operator,sudo_user,host,pid,argv,action,object,details,"
	        "prev_hash,hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", &st, err) == 0) {
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, a->operator_, -1, SQLITE_STATIC);
		if (sudo)
			sqlite3_bind_text(st, 4, sudo, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_text(st, 5, a->host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, a->pid);
		sqlite3_bind_text(st, 7, a->argv_json, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, action, -1, SQLITE_STATIC);
		if (obj)
			sqlite3_bind_text(st, 9, obj, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 9);
		sqlite3_bind_text(st, 10, dj, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, prev, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, hash, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		spif_catalog_release(st);
		if (s == SQLITE_DONE)
			rc = set_head(c, seq, hash, err);
		else
			spif_catalog_sqlerr(c, s, "append audit event", err);
	}
	/* and the Merkle tree over the events grows with it */
	if (rc == 0)
		rc = spif_auditlog_tree_append(c, prev_seq, prev, hb, err);
	free(dj);
	free(obj);
	if (rc == 0 && seq_out)
		*seq_out = seq;
	return rc;
}

/* ---- verification -----------------------------------------------------
 *
 * One pass over the events with two threads: this one steps SQLite and
 * copies each event's columns into a batch; a worker re-encodes and hashes
 * them, checks the chain, grows the Merkle edge (comparing each stored tile
 * as it completes) and hands the details to the replay.  SQLite's reading
 * and the hashing cost about the same, so the pass takes about half the
 * time it would on one core. */

#define BATCH_EVENTS 2048
#define BATCH_BYTES (4u << 20)
#define NBATCH 3

struct rec {
	long long seq, pid;
	size_t off[NFIELDS];
	size_t len[NFIELDS];
	unsigned short nulls; /* bit i: field i is NULL */
};

struct batch {
	struct rec r[BATCH_EVENTS];
	int n;
	char *buf;
	size_t used, cap;
};

struct tile_level {
	spif_hash *h;
	size_t n;
};

struct vstate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch b[NBATCH];
	int full[NBATCH]; /* handed to the worker */
	int head, tail;   /* next to fill, next to take */
	int done;         /* the reader has no more */
	int stop;         /* the worker found the first bad event */
	/* the worker's */
	struct spif_verify *v;
	struct spif_replay *replay;
	char prev[65];
	long long expect;
	struct spif_merkle_edge edge;
	struct tile_level tiles[8]; /* levels 8, 16, ... 64 */
	char *enc;
	size_t enccap;
	int oom;
};

static void tree_bad(struct spif_verify *v, unsigned level, unsigned long long idx, const char *what)
{
	if (v->tree_bad)
		return;
	v->tree_bad = 1;
	snprintf(v->tree_why, sizeof v->tree_why, "the Merkle tile at level %u, index %llu %s", level, idx, what);
}

static void on_tile(void *ctx, unsigned level, uint64_t lo, const spif_hash h)
{
	struct vstate *s = ctx;
	if (level % SPIF_TILE_LEVELS)
		return;
	struct tile_level *t = &s->tiles[level / SPIF_TILE_LEVELS - 1];
	uint64_t idx = lo >> level;
	if (idx >= t->n)
		tree_bad(s->v, level, (unsigned long long)idx, "is missing");
	else if (memcmp(t->h[idx], h, SPIF_MERKLE_HASH) != 0)
		tree_bad(s->v, level, (unsigned long long)idx, "does not match the events");
}

static const char *rf(const struct batch *b, const struct rec *r, int i)
{
	return r->nulls & (1u << i) ? NULL : b->buf + r->off[i];
}

/* One event: 0 good, 1 bad (v says why), -1 out of memory. */
static int check_event(struct vstate *s, const struct batch *b, const struct rec *r)
{
	struct spif_verify *v = s->v;
	long long seq = r->seq;
	const char *stored_prev = rf(b, r, F_PREV), *stored = rf(b, r, F_HASH);
	if (seq != s->expect) {
		v->bad_seq = s->expect;
		snprintf(v->why, sizeof v->why, "event %lld is missing (the log jumps from %lld to %lld): removed",
		         s->expect, s->expect - 1, seq);
		return 1;
	}
	if (!stored_prev || r->len[F_PREV] != 64 || memcmp(stored_prev, s->prev, 64) != 0) {
		v->bad_seq = seq;
		snprintf(v->why, sizeof v->why,
		         "event %lld does not follow event %lld (its previous hash differs): "
		         "an event was removed, inserted or reordered", seq, seq - 1);
		return 1;
	}
	struct event_fields e = {.seq = seq, .pid = r->pid};
	for (int i = 0; i < NFIELDS; i++) {
		e.f[i] = rf(b, r, i);
		e.n[i] = r->len[i];
	}
	size_t need = encoded_max(&e);
	if (need > s->enccap) {
		char *p = realloc(s->enc, need * 2);
		if (!p)
			return -1;
		s->enc = p;
		s->enccap = need * 2;
	}
	unsigned char h[32];
	char hex[65];
	gcry_md_hash_buffer(GCRY_MD_SHA256, h, s->enc, encode_event(s->enc, &e));
	spif_hex(h, 32, hex);
	if (!stored || r->len[F_HASH] != 64 || memcmp(hex, stored, 64) != 0) {
		v->bad_seq = seq;
		snprintf(v->why, sizeof v->why, "event %lld does not match its hash: it was changed", seq);
		return 1;
	}
	if (s->replay && spif_replay_add(s->replay, seq, e.f[F_DETAILS], e.n[F_DETAILS]) < 0) {
		v->bad_seq = seq;
		snprintf(v->why, sizeof v->why, "event %lld records rows in a form spif does not write", seq);
		return 1;
	}
	spif_hash leaf;
	spif_merkle_leaf_hash(h, 32, leaf);
	spif_merkle_edge_append(&s->edge, leaf, on_tile, s);
	memcpy(s->prev, hex, 65);
	v->events++;
	s->expect++;
	return 0;
}

static void *worker(void *arg)
{
	struct vstate *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->full[s->tail] && !s->done)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->full[s->tail]) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		struct batch *b = &s->b[s->tail];
		pthread_mutex_unlock(&s->mu);
		int bad = 0;
		for (int i = 0; i < b->n && !bad; i++)
			bad = check_event(s, b, &b->r[i]);
		pthread_mutex_lock(&s->mu);
		b->n = 0;
		b->used = 0;
		s->full[s->tail] = 0;
		s->tail = (s->tail + 1) % NBATCH;
		if (bad) {
			s->stop = 1;
			s->oom = bad < 0;
		}
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (bad)
			break;
	}
	return NULL;
}

/* The batch being filled, for the function the events are read through. */
struct taker {
	struct batch *b;
	int oom;
};

/* spif_verify_take(seq,time,operator,sudo_user,host,pid,argv,action,
 * object,details,prev_hash,hash): copy one event into the batch.  Reading
 * the row as a function's arguments costs a quarter less than 24 calls
 * of sqlite3_column_*, and this thread is the one verify waits for. */
static void take_row(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	static const int col[NFIELDS] = {1, 2, 3, 4, 6, 7, 8, 9, 10, 11};
	struct taker *t = sqlite3_user_data(ctx);
	struct batch *b = t->b;
	sqlite3_result_null(ctx);
	if (argc != 12 || t->oom)
		return;
	struct rec *r = &b->r[b->n];
	r->seq = sqlite3_value_int64(v[0]);
	r->pid = sqlite3_value_int64(v[5]);
	r->nulls = 0;
	for (int i = 0; i < NFIELDS; i++) {
		sqlite3_value *x = v[col[i]];
		const void *p = sqlite3_value_blob(x);
		size_t n = (size_t)sqlite3_value_bytes(x);
		if (!p && sqlite3_value_type(x) == SQLITE_NULL)
			r->nulls |= (unsigned short)(1u << i);
		if (b->used + n + 1 > b->cap) {
			size_t cap = b->cap ? b->cap : BATCH_BYTES;
			while (cap < b->used + n + 1)
				cap *= 2;
			char *nb = realloc(b->buf, cap);
			if (!nb) {
				t->oom = 1;
				return;
			}
			b->buf = nb;
			b->cap = cap;
		}
		r->off[i] = b->used;
		r->len[i] = n;
		if (n)
			memcpy(b->buf + b->used, p, n);
		b->buf[b->used + n] = '\0';
		b->used += n + 1;
	}
	b->n++;
}

/* The stored tiles, by level. */
static int load_tiles(struct spif_catalog *c, struct vstate *s, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT level, idx, hash FROM merkle ORDER BY level, idx", &st, err) < 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int level = sqlite3_column_int(st, 0);
		long long idx = sqlite3_column_int64(st, 1);
		if (level <= 0 || level % SPIF_TILE_LEVELS || level > 64 || sqlite3_column_bytes(st, 2) != SPIF_MERKLE_HASH) {
			tree_bad(s->v, (unsigned)level, (unsigned long long)idx, "is not one spif writes");
			continue;
		}
		struct tile_level *t = &s->tiles[level / SPIF_TILE_LEVELS - 1];
		if (idx != (long long)t->n) {
			tree_bad(s->v, (unsigned)level, (unsigned long long)t->n, "is missing");
			continue;
		}
		if ((t->n & (t->n - 1)) == 0 || t->n == 0) {
			spif_hash *nh = realloc(t->h, (t->n ? t->n * 2 : 64) * sizeof *nh);
			if (!nh) {
				sqlite3_finalize(st);
				return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			}
			t->h = nh;
		}
		memcpy(t->h[t->n++], sqlite3_column_blob(st, 2), SPIF_MERKLE_HASH);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read merkle tiles", err);
	return 0;
}

/* The head recorded in meta must be the last event reached. */
static int check_head(struct spif_catalog *c, struct spif_verify *v, struct spif_err *err)
{
	sqlite3_stmt *st;
	long long hseq = 0;
	char hh[65] = "";
	if (spif_catalog_prepare(c, "SELECT value FROM meta WHERE key='audit_head'", &st, err) < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *hv = (const char *)sqlite3_column_text(st, 0);
		if (!hv || sscanf(hv, "%lld:%64s", &hseq, hh) != 2)
			hseq = -1;
	}
	sqlite3_finalize(st);
	if (hseq != v->events || (hseq > 0 && strcmp(hh, v->head) != 0)) {
		v->bad_seq = v->events + 1;
		if (hseq > v->events)
			snprintf(v->why, sizeof v->why,
			         "the log ends at event %lld but its recorded head is event %lld: "
			         "events were removed from the end", v->events, hseq);
		else
			snprintf(v->why, sizeof v->why,
			         "the recorded head of the log does not match its last event %lld", v->events);
	}
	return 0;
}

/* The edge in meta, and the number of tiles, against the events. */
static int check_tree(struct spif_catalog *c, struct vstate *s, struct spif_err *err)
{
	struct spif_verify *v = s->v;
	for (unsigned k = 0; k < 8; k++) {
		unsigned level = (k + 1) * SPIF_TILE_LEVELS;
		uint64_t want = level >= 64 ? 0 : s->edge.n >> level;
		if (s->tiles[k].n > want)
			tree_bad(v, level, (unsigned long long)want, "is beyond the events");
	}
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT value FROM meta WHERE key='merkle_edge'", &st, err) < 0)
		return -1;
	struct spif_merkle_edge e;
	int rc = sqlite3_step(st), ok = 0;
	if (rc == SQLITE_ROW && spif_tiles_edge_parse((const char *)sqlite3_column_text(st, 0), &e) == 0 &&
	    e.n == s->edge.n && e.count == s->edge.count) {
		ok = 1;
		for (unsigned i = 0; i < e.count; i++)
			ok &= e.levels[i] == s->edge.levels[i] && memcmp(e.h[i], s->edge.h[i], SPIF_MERKLE_HASH) == 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read merkle edge", err);
	if (!ok && !v->tree_bad) {
		v->tree_bad = 1;
		snprintf(v->tree_why, sizeof v->tree_why, "the Merkle edge recorded in meta does not match the events");
	}
	return 0;
}

int spif_audit_verify_ex(struct spif_catalog *c, struct spif_verify *v, struct spif_replay *replay,
                         int (*meanwhile)(void *ctx, int *done, struct spif_err *err), void *mctx,
                         struct spif_err *err)
{
	memset(v, 0, sizeof *v);
	memcpy(v->head, zero_hash, 65);
	struct vstate *s = calloc(1, sizeof *s);
	if (!s)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	s->v = v;
	s->replay = replay;
	s->expect = 1;
	memcpy(s->prev, zero_hash, 65);
	spif_merkle_edge_init(&s->edge);
	int rc = -1;
	sqlite3_stmt *st = NULL;
	/* one read transaction: the events, the tiles and meta as of one
	 * moment (a caller that began one has the tables in it too) */
	int began = sqlite3_get_autocommit(spif_catalog_db(c));
	if (began && spif_catalog_exec(c, "BEGIN", err) < 0)
		goto out_free;
	struct taker tk = {0};
	sqlite3 *db = spif_catalog_db(c);
	/* registered for this read only, and only for SQL given directly */
	if (sqlite3_create_function_v2(db, "spif_verify_take", 12, SQLITE_UTF8 | SQLITE_DIRECTONLY, &tk, take_row,
	                               NULL, NULL, NULL) != SQLITE_OK) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "catalog: register a function: %s", sqlite3_errmsg(db));
		goto out_tx;
	}
	if (load_tiles(c, s, err) < 0 ||
	    spif_catalog_prepare(c,
	        "SELECT spif_verify_take(seq,time,operator,sudo_user,host,pid,argv,action,object,details,"
	        "prev_hash,hash) FROM events ORDER BY seq", &st, err) < 0)
		goto out_tx;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, worker, s) != 0) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "cannot start a thread");
		goto out_sync;
	}
	int step = SQLITE_DONE, oom = 0, mdone = !meanwhile, mrc = 0;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->full[s->head] && !s->stop) {
			/* the worker is behind: a slice of the caller's reads
			 * rather than a wait */
			if (!mdone && mrc == 0) {
				pthread_mutex_unlock(&s->mu);
				mrc = meanwhile(mctx, &mdone, err);
				pthread_mutex_lock(&s->mu);
				if (mrc < 0)
					s->stop = 1;
				continue;
			}
			pthread_cond_wait(&s->cv, &s->mu);
		}
		int stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		struct batch *b = &s->b[s->head];
		tk.b = b;
		while (b->n < BATCH_EVENTS && b->used < BATCH_BYTES && (step = sqlite3_step(st)) == SQLITE_ROW)
			if (tk.oom) {
				oom = 1;
				break;
			}
		int last = oom || (b->n < BATCH_EVENTS && b->used < BATCH_BYTES);
		pthread_mutex_lock(&s->mu);
		if (b->n) {
			s->full[s->head] = 1;
			s->head = (s->head + 1) % NBATCH;
		}
		if (last)
			s->done = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (last)
			break;
	}
	pthread_mutex_lock(&s->mu);
	s->done = 1;
	int stopped = s->stop;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	/* the events are read: this thread does the rest of the caller's
	 * reads while the worker finishes hashing them */
	while (mrc == 0 && !mdone && !oom && !stopped && step == SQLITE_DONE)
		mrc = meanwhile(mctx, &mdone, err);
	pthread_join(th, NULL);
	if (mrc < 0)
		goto out_sync;
	if (oom || s->oom) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out_sync;
	}
	if (!s->stop && step != SQLITE_DONE) {
		spif_catalog_sqlerr(c, step, "read audit log", err);
		goto out_sync;
	}
	memcpy(v->head, s->prev, 65);
	if (v->bad_seq == 0 && check_head(c, v, err) < 0)
		goto out_sync;
	if (v->bad_seq == 0 && check_tree(c, s, err) < 0)
		goto out_sync;
	spif_merkle_edge_root(&s->edge, v->root);
	rc = 0;
out_sync:
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
out_tx:
	sqlite3_finalize(st);
	sqlite3_create_function_v2(spif_catalog_db(c), "spif_verify_take", 12, SQLITE_UTF8, NULL, NULL, NULL, NULL,
	                           NULL);
	if (began)
		spif_catalog_exec(c, "COMMIT", NULL);
out_free:
	for (int i = 0; i < NBATCH; i++)
		free(s->b[i].buf);
	for (int i = 0; i < 8; i++)
		free(s->tiles[i].h);
	free(s->enc);
	free(s);
	return rc;
}

int spif_audit_verify(struct spif_catalog *c, struct spif_verify *v, struct spif_err *err)
{
	return spif_audit_verify_ex(c, v, NULL, NULL, NULL, err);
}
