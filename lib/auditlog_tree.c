/* auditlog_tree.c - the Merkle tiles of the audit log.  See auditlog_tree.h. */
#include "auditlog_tree.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

static int sqlerr(sqlite3 *db, int rc, const char *what, struct spif_err *err)
{
	return spif_err_set(err, (rc & 0xff) == SQLITE_BUSY ? SPIF_EX_TEMPFAIL : SPIF_EX_SOFTWARE,
	                    "catalog: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int spif_tiles_open(struct spif_tiles *t, sqlite3 *db, struct spif_err *err)
{
	static const char *const sql[7] = {
		"SELECT hash FROM events WHERE seq = ?",
		"SELECT hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq",
		"SELECT hash FROM merkle WHERE level = ? AND idx = ?",
		"SELECT hash FROM merkle WHERE level = ? AND idx >= ? AND idx <= ? ORDER BY idx",
		"INSERT OR REPLACE INTO merkle(level, idx, hash) VALUES(?, ?, ?)",
		"SELECT value FROM meta WHERE key = 'merkle_edge'",
		"INSERT OR REPLACE INTO meta(key, value) VALUES('merkle_edge', ?)",
	};
	memset(t, 0, sizeof *t);
	t->db = db;
	sqlite3_stmt **st[7] = {&t->leaf, &t->leaves, &t->tile, &t->tiles, &t->put, &t->edge_get, &t->edge_put};
	for (int i = 0; i < 7; i++) {
		int rc = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL);
		if (rc != SQLITE_OK) {
			sqlerr(db, rc, "merkle tiles", err);
			spif_tiles_close(t);
			return -1;
		}
	}
	return 0;
}

void spif_tiles_close(struct spif_tiles *t)
{
	sqlite3_stmt *st[7] = {t->leaf, t->leaves, t->tile, t->tiles, t->put, t->edge_get, t->edge_put};
	for (int i = 0; i < 7; i++)
		sqlite3_finalize(st[i]);
	t->leaf = t->leaves = t->tile = t->tiles = t->put = t->edge_get = t->edge_put = NULL;
	free(t->memo);
	t->memo = NULL;
}

/* The subtrees between the stored levels, hashed from up to 128 children
 * each, remembered by (level, index).  The proofs a checkpoint stores for
 * a batch of certificates (a purge's, a shred of 2,000 files) share most
 * of their siblings: without the memo each proof hashed them again, and
 * the proofs were a fifth of such a shred's time.  A complete subtree
 * never changes in an append-only log; still, an entry counts only until
 * the next append (gen), so that nothing computed inside a transaction
 * that is then rolled back outlives it. */
#define MEMO_SLOTS 1024
struct spif_tiles_memo {
	uint64_t key; /* (index << 6 | level) + 1; 0: empty */
	uint64_t gen;
	spif_hash h;
};

static struct spif_tiles_memo *memo_slot(struct spif_tiles *t, unsigned level, uint64_t lo, uint64_t *key)
{
	if (!t->memo && !(t->memo = calloc(MEMO_SLOTS, sizeof *t->memo)))
		return NULL; /* no memo: every subtree is hashed, as before */
	*key = ((lo >> level) << 6 | level) + 1;
	uint64_t x = *key * 0x9E3779B97F4A7C15ULL;
	return &t->memo[(x >> 32) % MEMO_SLOTS];
}

/* 1 + the value of a lowercase hex digit, 0 for anything else */
static const unsigned char hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

int spif_hex_to_hash(const char *hex, size_t n, unsigned char out[32])
{
	if (!hex || n != 64)
		return -1;
	int bad = 0;
	for (size_t i = 0; i < 32; i++) {
		unsigned hi = hexval[(unsigned char)hex[2 * i]], lo = hexval[(unsigned char)hex[2 * i + 1]];
		bad |= !hi | !lo;
		out[i] = (unsigned char)((hi - 1) << 4 | ((lo - 1) & 15));
	}
	return bad ? -1 : 0;
}

/* The leaf hash of the event whose chain hash the column holds. */
static int leaf_of(sqlite3_stmt *st, int col, spif_hash out)
{
	unsigned char entry[32];
	if (spif_hex_to_hash((const char *)sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col),
	                     entry) < 0)
		return -1;
	spif_merkle_leaf_hash(entry, sizeof entry, out);
	return 0;
}

static void fold(spif_hash *h, size_t k)
{
	for (; k > 1; k /= 2)
		for (size_t i = 0; i < k / 2; i++)
			spif_merkle_node_hash(h[2 * i], h[2 * i + 1], h[i]);
}

int spif_tiles_subtree(void *ctx, unsigned level, uint64_t lo, spif_hash out, struct spif_err *err)
{
	struct spif_tiles *t = ctx;
	if (level >= 64 || lo % ((uint64_t)1 << level))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "merkle: no subtree at level %u, leaf %" PRIu64, level, lo);
	int rc;
	if (level == 0) {
		sqlite3_bind_int64(t->leaf, 1, (sqlite3_int64)(lo + 1));
		rc = sqlite3_step(t->leaf);
		int bad = rc == SQLITE_ROW ? leaf_of(t->leaf, 0, out) : -1;
		sqlite3_reset(t->leaf);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return sqlerr(t->db, rc, "read event hash", err);
		if (bad)
			return spif_err_set(err, SPIF_EX_DATAERR, "merkle: event %" PRIu64 " is missing or its hash is "
			                    "malformed", lo + 1);
		return 0;
	}
	if (level % SPIF_TILE_LEVELS == 0) {
		sqlite3_bind_int(t->tile, 1, (int)level);
		sqlite3_bind_int64(t->tile, 2, (sqlite3_int64)(lo >> level));
		rc = sqlite3_step(t->tile);
		int ok = rc == SQLITE_ROW && sqlite3_column_bytes(t->tile, 0) == SPIF_MERKLE_HASH;
		if (ok)
			memcpy(out, sqlite3_column_blob(t->tile, 0), SPIF_MERKLE_HASH);
		sqlite3_reset(t->tile);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return sqlerr(t->db, rc, "read merkle tile", err);
		if (!ok)
			return spif_err_set(err, SPIF_EX_DATAERR, "merkle: the tile at level %u, leaf %" PRIu64
			                    " is missing or malformed", level, lo);
		return 0;
	}
	uint64_t key = 0;
	struct spif_tiles_memo *m = memo_slot(t, level, lo, &key);
	if (m && m->key == key && m->gen == t->gen) {
		memcpy(out, m->h, SPIF_MERKLE_HASH);
		return 0;
	}
	/* 2^(level % 8) children from the stored level below, in one read */
	unsigned base = level - level % SPIF_TILE_LEVELS;
	size_t k = (size_t)1 << (level - base);
	spif_hash h[1u << (SPIF_TILE_LEVELS - 1)];
	sqlite3_stmt *st = base ? t->tiles : t->leaves;
	size_t got = 0;
	int bad = 0;
	if (base) {
		sqlite3_bind_int(st, 1, (int)base);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(lo >> base));
		sqlite3_bind_int64(st, 3, (sqlite3_int64)((lo >> base) + k - 1));
	} else {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(lo + 1));
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(lo + k));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && got < k) {
		if (base) {
			if (sqlite3_column_bytes(st, 0) != SPIF_MERKLE_HASH)
				bad = 1;
			else
				memcpy(h[got], sqlite3_column_blob(st, 0), SPIF_MERKLE_HASH);
		} else if (leaf_of(st, 0, h[got]) < 0)
			bad = 1;
		got++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlerr(t->db, rc, "read merkle level", err);
	if (bad || got != k)
		return spif_err_set(err, SPIF_EX_DATAERR, "merkle: the %s under level %u, leaf %" PRIu64
		                    " are missing or malformed", base ? "tiles" : "events", level, lo);
	fold(h, k);
	memcpy(out, h[0], SPIF_MERKLE_HASH);
	if (m) {
		m->key = key;
		m->gen = t->gen;
		memcpy(m->h, h[0], SPIF_MERKLE_HASH);
	}
	return 0;
}

static void on_complete(void *ctx, unsigned level, uint64_t lo, const spif_hash h)
{
	struct spif_tiles *t = ctx;
	if (level % SPIF_TILE_LEVELS || t->failed)
		return;
	sqlite3_bind_int(t->put, 1, (int)level);
	sqlite3_bind_int64(t->put, 2, (sqlite3_int64)(lo >> level));
	sqlite3_bind_blob(t->put, 3, h, SPIF_MERKLE_HASH, SQLITE_STATIC);
	int rc = sqlite3_step(t->put);
	sqlite3_reset(t->put);
	sqlite3_clear_bindings(t->put);
	if (rc != SQLITE_DONE) {
		sqlerr(t->db, rc, "store merkle tile", &t->cb_err);
		t->failed = &t->cb_err;
	}
}

int spif_tiles_append(struct spif_tiles *t, struct spif_merkle_edge *e, const unsigned char entry[32],
                      struct spif_err *err)
{
	spif_hash leaf;
	spif_merkle_leaf_hash(entry, 32, leaf);
	t->gen++; /* the memo's subtrees count no longer */
	t->failed = NULL;
	spif_merkle_edge_append(e, leaf, on_complete, t);
	if (t->failed) {
		if (err)
			*err = *t->failed;
		t->failed = NULL;
		return -1;
	}
	return 0;
}

char *spif_tiles_edge_text(const struct spif_merkle_edge *e)
{
	size_t n = 24 + (size_t)e->count * (4 + 2 * SPIF_MERKLE_HASH);
	char *s = malloc(n), *p = s;
	if (!s)
		return NULL;
	p += snprintf(p, n, "%" PRIu64, e->n);
	for (unsigned i = 0; i < e->count; i++) {
		p += sprintf(p, " %u:", e->levels[i]);
		spif_hex(e->h[i], SPIF_MERKLE_HASH, p);
		p += 2 * SPIF_MERKLE_HASH;
	}
	return s;
}

int spif_tiles_edge_parse(const char *s, struct spif_merkle_edge *e)
{
	spif_merkle_edge_init(e);
	if (!s || *s < '0' || *s > '9')
		return -1;
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	uint64_t bits = 0;
	unsigned prev = 64;
	while (*end == ' ') {
		char *p = end + 1;
		unsigned long l = strtoul(p, &end, 10);
		if (end == p || *end != ':' || l >= prev || e->count >= 64)
			return -1;
		if (spif_hex_to_hash(end + 1, strnlen(end + 1, 64) == 64 && (end[65] == ' ' || !end[65]) ? 64 : 0,
		                     e->h[e->count]) < 0)
			return -1;
		e->levels[e->count++] = (unsigned)l;
		bits |= (uint64_t)1 << l;
		prev = (unsigned)l;
		end += 65;
	}
	/* one subtree per set bit of n, largest first */
	if (*end || bits != n)
		return -1;
	e->n = n;
	return 0;
}

int spif_tiles_edge_load(struct spif_tiles *t, struct spif_merkle_edge *e, int *found, struct spif_err *err)
{
	*found = 0;
	spif_merkle_edge_init(e);
	int rc = sqlite3_step(t->edge_get);
	if (rc == SQLITE_ROW && spif_tiles_edge_parse((const char *)sqlite3_column_text(t->edge_get, 0), e) == 0)
		*found = 1;
	sqlite3_reset(t->edge_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlerr(t->db, rc, "read merkle edge", err);
	if (!*found)
		spif_merkle_edge_init(e);
	return 0;
}

int spif_tiles_edge_save(struct spif_tiles *t, const struct spif_merkle_edge *e, struct spif_err *err)
{
	char *s = spif_tiles_edge_text(e);
	if (!s)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	sqlite3_bind_text(t->edge_put, 1, s, -1, SQLITE_STATIC);
	int rc = sqlite3_step(t->edge_put);
	sqlite3_reset(t->edge_put);
	sqlite3_clear_bindings(t->edge_put);
	free(s);
	if (rc != SQLITE_DONE)
		return sqlerr(t->db, rc, "record merkle edge", err);
	return 0;
}

int spif_tiles_rebuild(struct spif_tiles *t, struct spif_err *err)
{
	int rc = sqlite3_exec(t->db, "DELETE FROM merkle", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(t->db, rc, "clear merkle tiles", err);
	sqlite3_stmt *st;
	rc = sqlite3_prepare_v2(t->db, "SELECT seq, hash FROM events ORDER BY seq", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(t->db, rc, "read events", err);
	struct spif_merkle_edge e;
	spif_merkle_edge_init(&e);
	int r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		unsigned char entry[32];
		if ((uint64_t)sqlite3_column_int64(st, 0) != e.n + 1 ||
		    spif_hex_to_hash((const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1),
		                     entry) < 0) {
			r = spif_err_set(err, SPIF_EX_DATAERR, "merkle: event %" PRIu64 " is missing or malformed: "
			                 "run spif catalog verify", e.n + 1);
			break;
		}
		if ((r = spif_tiles_append(t, &e, entry, err)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return -1;
	if (rc != SQLITE_DONE)
		return sqlerr(t->db, rc, "read events", err);
	return spif_tiles_edge_save(t, &e, err);
}
