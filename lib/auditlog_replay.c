/* auditlog_replay.c - the replay of the audit log's "rows": the last
 * recorded hash of every row, from the events' details, for verify to
 * compare the tables with.  See auditlog.h.
 *
 * A million events are read in about a second, so this is built for it:
 * the details are compact JSON that jansson wrote, and only the top-level
 * "rows" is read, by a small reader of that JSON, without building a tree;
 * the rows go into an open-addressing table whose lookups are batched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "auditlog.h"
#include "auditlog_tree.h"

#define R_HASH 1 /* the row exists with hash */
#define R_SEEN 2 /* the scan met it */

/* The last hash of every row the log records, in an open-addressing table
 * of 64-byte entries.  A key of up to 14 bytes ("files" NUL "100000") is
 * kept in the entry, a longer one in keys (kb then holds its offset and
 * length).  At a million events the table no longer fits the caches and a
 * lookup is one memory access: they are done in batches, each slot
 * prefetched before any is read, and the table sits on huge pages where
 * the kernel gives them. */
#define R_INLINE 14
#define R_BATCH 32
struct rentry {
	uint64_t h; /* 0: empty */
	long long seq;
	unsigned char hash[32];
	uint8_t flags;
	uint8_t inl; /* the key's length when inline, 0 when in keys */
	unsigned char kb[R_INLINE];
};

/* A row of an event, waiting for its batch. */
struct rop {
	uint64_t h;
	size_t koff, klen;
	long long seq;
	unsigned char hash[32];
	int has;
};

struct spif_replay {
	struct rentry *tab;
	size_t cap, n, bytes;
	char *keys;
	size_t klen, kcap;
	char *scratch;
	size_t scap;
	struct rop ops[R_BATCH];
	int nops;
	char *opkeys;
	size_t opklen, opkcap;
};

static struct rentry *r_alloc(size_t cap, size_t *bytes)
{
	size_t n = cap * sizeof(struct rentry);
	void *p = NULL;
	if (n >= (2u << 20)) {
		if (posix_memalign(&p, 2u << 20, n) != 0)
			return NULL;
		madvise(p, n, MADV_HUGEPAGE);
		memset(p, 0, n);
	} else
		p = calloc(cap, sizeof(struct rentry));
	*bytes = n;
	return p;
}

struct spif_replay *spif_replay_new(void)
{
	struct spif_replay *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->cap = 1024;
	r->tab = r_alloc(r->cap, &r->bytes);
	if (!r->tab) {
		free(r);
		return NULL;
	}
	return r;
}

void spif_replay_free(struct spif_replay *r)
{
	if (!r)
		return;
	free(r->tab);
	free(r->keys);
	free(r->scratch);
	free(r->opkeys);
	free(r);
}

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	/* FNV's low bits depend only on the keys' low bits, and keys differ
	 * in a few digits: mixed (murmur3's finaliser) before they index the
	 * table */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h | 1;
}

static const char *r_key(const struct spif_replay *r, const struct rentry *e, size_t *n)
{
	if (e->inl) {
		*n = e->inl;
		return (const char *)e->kb;
	}
	uint32_t off, len;
	memcpy(&off, e->kb, 4);
	memcpy(&len, e->kb + 4, 4);
	*n = len;
	return r->keys + off;
}

static struct rentry *r_find(struct spif_replay *r, const char *key, size_t n, uint64_t h)
{
	size_t mask = r->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct rentry *e = &r->tab[i];
		if (!e->h)
			return e;
		if (e->h == h) {
			size_t kn;
			const char *k = r_key(r, e, &kn);
			if (kn == n && memcmp(k, key, n) == 0)
				return e;
		}
	}
}

/* Room for extra more keys at a load of at most one half. */
static int r_reserve(struct spif_replay *r, size_t extra)
{
	if ((r->n + extra) * 2 <= r->cap)
		return 0;
	size_t cap = r->cap;
	while ((r->n + extra) * 2 > cap)
		cap *= cap < ((size_t)1 << 20) ? 4 : 2;
	size_t bytes;
	struct rentry *t = r_alloc(cap, &bytes);
	if (!t)
		return -1;
	for (size_t i = 0; i < r->cap; i++) {
		if (!r->tab[i].h)
			continue;
		size_t k = r->tab[i].h & (cap - 1);
		while (t[k].h)
			k = (k + 1) & (cap - 1);
		t[k] = r->tab[i];
	}
	free(r->tab);
	r->tab = t;
	r->cap = cap;
	r->bytes = bytes;
	return 0;
}

/* The entry for key (tbl NUL pk, hash h), created when missing; room must
 * have been reserved.  NULL on OOM. */
static struct rentry *r_get_h(struct spif_replay *r, const char *key, size_t n, uint64_t h)
{
	struct rentry *e = r_find(r, key, n, h);
	if (e->h)
		return e;
	if (n <= R_INLINE) {
		memcpy(e->kb, key, n);
		e->inl = (uint8_t)n;
	} else {
		if (r->klen + n > r->kcap) {
			size_t cap = r->kcap ? r->kcap * 2 : 65536;
			while (cap < r->klen + n)
				cap *= 2;
			char *k = r->klen + n > UINT32_MAX ? NULL : realloc(r->keys, cap);
			if (!k)
				return NULL;
			r->keys = k;
			r->kcap = cap;
		}
		memcpy(r->keys + r->klen, key, n);
		uint32_t off = (uint32_t)r->klen, len = (uint32_t)n;
		memcpy(e->kb, &off, 4);
		memcpy(e->kb + 4, &len, 4);
		e->inl = 0;
		r->klen += n;
	}
	e->h = h;
	r->n++;
	return e;
}

static void r_prefetch(const struct spif_replay *r, uint64_t h)
{
	__builtin_prefetch(&r->tab[h & (r->cap - 1)], 1);
}

/* Apply the rows waiting in ops, in order. */
static int r_flush(struct spif_replay *r)
{
	if (!r->nops)
		return 0;
	if (r_reserve(r, (size_t)r->nops) < 0)
		return -1;
	for (int i = 0; i < r->nops; i++)
		r_prefetch(r, r->ops[i].h);
	for (int i = 0; i < r->nops; i++) {
		struct rop *o = &r->ops[i];
		struct rentry *e = r_get_h(r, r->opkeys + o->koff, o->klen, o->h);
		if (!e)
			return -1;
		e->seq = o->seq;
		e->flags = o->has ? R_HASH : 0;
		if (o->has)
			memcpy(e->hash, o->hash, 32);
	}
	r->nops = 0;
	r->opklen = 0;
	return 0;
}

/* One row of event seq: key (tbl NUL pk) now has hash (has) or is gone. */
static int r_put(struct spif_replay *r, const char *key, size_t n, long long seq, const unsigned char *hash)
{
	if (r->opklen + n > r->opkcap) {
		size_t cap = r->opkcap ? r->opkcap * 2 : 4096;
		while (cap < r->opklen + n)
			cap *= 2;
		char *k = realloc(r->opkeys, cap);
		if (!k)
			return -1;
		r->opkeys = k;
		r->opkcap = cap;
	}
	memcpy(r->opkeys + r->opklen, key, n);
	struct rop *o = &r->ops[r->nops++];
	o->h = fnv(key, n);
	o->koff = r->opklen;
	o->klen = n;
	o->seq = seq;
	o->has = hash != NULL;
	if (hash)
		memcpy(o->hash, hash, 32);
	r->opklen += n;
	return r->nops == R_BATCH ? r_flush(r) : 0;
}

/* A minimal reader of the compact JSON jansson writes: enough to find the
 * top-level "rows" and read its strings. */
struct jp {
	const char *p, *end;
};

static int utf8_put(char *o, unsigned long c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

static int hex4(const char *p, unsigned long *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
		      : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (unsigned long)d;
	}
	return 0;
}

/* A string at j->p (the quote) decoded into out (room for as many bytes as
 * the source has); *n its length.  -1 when malformed. */
static int jp_string(struct jp *j, char *out, size_t *n)
{
	const char *p = j->p;
	if (p >= j->end || *p != '"')
		return -1;
	p++;
	size_t o = 0;
	while (p < j->end && *p != '"') {
		if (*p != '\\') {
			if (out)
				out[o] = *p;
			o++;
			p++;
			continue;
		}
		if (++p >= j->end)
			return -1;
		char e = *p++, ch;
		switch (e) {
		case '"': ch = '"'; break;
		case '\\': ch = '\\'; break;
		case '/': ch = '/'; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 't': ch = '\t'; break;
		case 'u': {
			unsigned long u, lo;
			if (j->end - p < 4 || hex4(p, &u) < 0)
				return -1;
			p += 4;
			if (u >= 0xd800 && u < 0xdc00 && j->end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
			    hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			char tmp[4];
			int l = utf8_put(tmp, u);
			if (out)
				memcpy(out + o, tmp, (size_t)l);
			o += (size_t)l;
			continue;
		}
		default:
			return -1;
		}
		if (out)
			out[o] = ch;
		o++;
	}
	if (p >= j->end)
		return -1;
	j->p = p + 1;
	*n = o;
	return 0;
}

/* Skip one value: a string, a scalar, or an object or array with all
 * that is in it. */
static int jp_skip(struct jp *j)
{
	int depth = 0;
	while (j->p < j->end) {
		char ch = *j->p;
		if (ch == '"') {
			size_t n;
			if (jp_string(j, NULL, &n) < 0)
				return -1;
		} else if (ch == '{' || ch == '[') {
			depth++;
			j->p++;
		} else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return 0;
			depth--;
			j->p++;
		} else if (ch == ',' && depth == 0)
			return 0;
		else
			j->p++;
		if (depth == 0 && j->p < j->end && (*j->p == ',' || *j->p == '}' || *j->p == ']'))
			return 0;
	}
	return depth == 0 ? 0 : -1;
}

static int jp_eat(struct jp *j, char ch)
{
	if (j->p >= j->end || *j->p != ch)
		return -1;
	j->p++;
	return 0;
}

static int replay_rows(struct spif_replay *r, long long seq, struct jp *j)
{
	if (jp_eat(j, '[') < 0)
		return -1;
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		/* [tbl, pk, hash|null] into scratch as tbl NUL pk */
		size_t need = (size_t)(j->end - j->p) + 1;
		if (need > r->scap) {
			char *s = realloc(r->scratch, need);
			if (!s)
				return -1;
			r->scratch = s;
			r->scap = need;
		}
		size_t tn, pn;
		if (jp_eat(j, '[') < 0 || jp_string(j, r->scratch, &tn) < 0)
			return -1;
		r->scratch[tn] = '\0';
		if (jp_eat(j, ',') < 0 || jp_string(j, r->scratch + tn + 1, &pn) < 0 || jp_eat(j, ',') < 0)
			return -1;
		unsigned char h[32];
		int has = 0;
		if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0)
			j->p += 4;
		else {
			if (j->end - j->p < 66 || j->p[0] != '"' || j->p[65] != '"' || spif_hex_to_hash(j->p + 1, 64, h) < 0)
				return -1;
			j->p += 66;
			has = 1;
		}
		if (jp_eat(j, ']') < 0)
			return -1;
		if (r_put(r, r->scratch, tn + 1 + pn, seq, has ? h : NULL) < 0)
			return -1;
		if (jp_eat(j, ',') == 0)
			continue;
		return jp_eat(j, ']');
	}
}

int spif_replay_add(struct spif_replay *r, long long seq, const char *details, size_t n)
{
	static const char key[] = "\"rows\":[";
	if (!details || n < sizeof key || !memmem(details, n, key, sizeof key - 1))
		return 0;
	struct jp j = {details, details + n};
	if (jp_eat(&j, '{') < 0)
		return -1;
	if (j.p < j.end && *j.p == '}')
		return 0;
	for (;;) {
		const char *k = j.p;
		size_t kn;
		if (jp_string(&j, NULL, &kn) < 0)
			return -1;
		int rows = j.p - k == 6 && memcmp(k, "\"rows\"", 6) == 0;
		if (jp_eat(&j, ':') < 0)
			return -1;
		if (rows)
			return replay_rows(r, seq, &j);
		if (jp_skip(&j) < 0)
			return -1;
		if (jp_eat(&j, ',') < 0)
			return 0; /* the end of the object: no rows */
	}
}

/* ---- what the scan asks ------------------------------------------------- */

int spif_replay_lookup(struct spif_replay *r, const char *const *keys, const size_t *lens, size_t n,
                       struct spif_replay_row *out)
{
	if (n > R_BATCH || r_flush(r) < 0 || r_reserve(r, n) < 0)
		return -1;
	uint64_t h[R_BATCH];
	for (size_t k = 0; k < n; k++) {
		h[k] = fnv(keys[k], lens[k]);
		r_prefetch(r, h[k]);
	}
	for (size_t k = 0; k < n; k++) {
		struct rentry *e = r_get_h(r, keys[k], lens[k], h[k]);
		if (!e)
			return -1;
		e->flags |= R_SEEN;
		out[k].seq = e->seq;
		out[k].exists = (e->flags & R_HASH) != 0;
		memcpy(out[k].hash, e->hash, 32);
	}
	return 0;
}

int spif_replay_unseen(struct spif_replay *r, void (*fn)(void *ctx, const char *key, size_t n, long long seq),
                       void *ctx)
{
	if (r_flush(r) < 0)
		return -1;
	for (size_t i = 0; i < r->cap; i++) {
		struct rentry *e = &r->tab[i];
		if (!e->h || (e->flags & (R_HASH | R_SEEN)) != R_HASH)
			continue;
		size_t kl;
		const char *k = r_key(r, e, &kl);
		fn(ctx, k, kl, e->seq);
	}
	return 0;
}
