/* auditlog.c - every row of the catalog under the audit log.  See
 * auditlog.h for the design and spif-catalog(5) for what it proves. */
#include "auditlog.h"

#include <gcrypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auditlog_tree.h"
#include "catalog_priv.h"
#include "digest.h"
#include "mynumber.h"

/* meta keys spif rewrites without an event (or fixed before the first). */
#define META_UNCOVERED "('audit_head','merkle_edge','checkpoint_last','catalog_id','created')"
/* Tables that are not covered, and why: see auditlog.h. */
static const char *const uncovered[] = {"events", "merkle", "pending_rows", "cert_proofs"};
/* Rows per "catalog.cover" event when a whole table is recorded. */
#define COVER_CHUNK 5000

struct spif_auditlog {
	sqlite3 *db;
	long long token; /* this connection's tag in pending_rows */
	int dirty;       /* spif_tx() ran since the last drain */
	int drain_limit; /* 0: all of them */
	/* the Merkle store, opened at first use (its tables come with a
	 * migration), and the edge as of the event whose hash is edge_head */
	struct spif_tiles tiles;
	int tiles_open, edge_ok;
	struct spif_merkle_edge edge;
	char edge_head[65];
};

/* ---- the SQL functions ------------------------------------------------- */

/* The encoding is built in one buffer and hashed with one call: a digest
 * context per row (gcry_md_open polls for entropy) was most of the time
 * verify spent on a table of 100,000 rows. */
struct rowbuf {
	char *p;
	size_t n, cap;
	char stack[2048];
};

static int rb_room(struct rowbuf *b, size_t n)
{
	if (b->n + n <= b->cap)
		return 0;
	size_t cap = b->cap * 2;
	while (cap < b->n + n)
		cap *= 2;
	char *p = b->p == b->stack ? malloc(cap) : realloc(b->p, cap);
	if (!p)
		return -1;
	if (b->p == b->stack)
		memcpy(p, b->stack, b->n);
	b->p = p;
	b->cap = cap;
	return 0;
}

/* "LEN:" then the tag (when not 0) and the bytes, then "," */
static int put_netstring(struct rowbuf *b, char tag, const void *p, size_t n)
{
	if (rb_room(b, n + 24) < 0)
		return -1;
	char tmp[24];
	int k = 0;
	size_t len = n + (tag ? 1 : 0);
	do
		tmp[k++] = (char)('0' + len % 10);
	while (len /= 10);
	while (k)
		b->p[b->n++] = tmp[--k];
	b->p[b->n++] = ':';
	if (tag)
		b->p[b->n++] = tag;
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n++] = ',';
	return 0;
}

static int put_value(struct rowbuf *b, sqlite3_value *v)
{
	char t[40];
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER: {
		int l = snprintf(t, sizeof t, "%lld", (long long)sqlite3_value_int64(v));
		return put_netstring(b, 'i', t, (size_t)l);
	}
	case SQLITE_FLOAT: {
		int l = snprintf(t, sizeof t, "%.17g", sqlite3_value_double(v));
		return put_netstring(b, 'r', t, (size_t)l);
	}
	case SQLITE_TEXT: {
		const unsigned char *s = sqlite3_value_text(v);
		return put_netstring(b, 't', s, (size_t)sqlite3_value_bytes(v));
	}
	case SQLITE_BLOB: {
		const void *p = sqlite3_value_blob(v);
		return put_netstring(b, 'b', p, (size_t)sqlite3_value_bytes(v));
	}
	default:
		return put_netstring(b, 'n', "", 0);
	}
}

void spif_rowhash_values(const char *table, const char *pk, int n, sqlite3_value **v, unsigned char out[32])
{
	struct rowbuf b;
	b.p = b.stack;
	b.n = 0;
	b.cap = sizeof b.stack;
	int bad = put_netstring(&b, 0, table, strlen(table)) < 0 ||
	          put_netstring(&b, 0, pk ? pk : "", pk ? strlen(pk) : 0) < 0;
	for (int i = 0; i < n && !bad; i++)
		bad = put_value(&b, v[i]) < 0;
	if (bad)
		memset(out, 0, 32); /* out of memory: a hash no row has */
	else
		gcry_md_hash_buffer(GCRY_MD_SHA256, out, b.p, b.n);
	if (b.p != b.stack)
		free(b.p);
}

/* spif_rowhash(tbl, pk, col, ...): the row's hash, 64 hex digits. */
static void fn_rowhash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	if (argc < 2) {
		sqlite3_result_error(ctx, "spif_rowhash: table and key needed", -1);
		return;
	}
	unsigned char h[32];
	char hex[65];
	spif_rowhash_values((const char *)sqlite3_value_text(argv[0]), (const char *)sqlite3_value_text(argv[1]),
	                    argc - 2, argv + 2, h);
	spif_hex(h, 32, hex);
	sqlite3_result_text(ctx, hex, 64, SQLITE_TRANSIENT);
}

/* spif_tx(): this connection's token.  A row of a covered table written
 * outside a transaction could not be recorded with its event: refused, so
 * that such a path shows in testing rather than as a false alarm later. */
static void fn_tx(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	struct spif_auditlog *al = sqlite3_user_data(ctx);
	if (sqlite3_get_autocommit(al->db)) {
		sqlite3_result_error(ctx, "a catalog row changed outside a transaction", -1);
		return;
	}
	al->dirty = 1;
	sqlite3_result_int64(ctx, al->token);
}

int spif_auditlog_attach(sqlite3 *db, struct spif_auditlog **out, struct spif_err *err)
{
	*out = NULL;
	struct spif_auditlog *al = calloc(1, sizeof *al);
	if (!al)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	al->db = db;
	unsigned char rnd[8];
	uint64_t tok = 0;
	gcry_create_nonce(rnd, sizeof rnd);
	for (int i = 0; i < 8; i++)
		tok = tok << 8 | rnd[i];
	al->token = (long long)(tok & INT64_MAX);
	int flags = SQLITE_UTF8 | SQLITE_INNOCUOUS;
	int rc = sqlite3_create_function_v2(db, "spif_rowhash", -1, flags | SQLITE_DETERMINISTIC, NULL, fn_rowhash,
	                                    NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "spif_tx", 0, flags, al, fn_tx, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		free(al);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "catalog: register functions: %s", sqlite3_errstr(rc));
	}
	*out = al;
	return 0;
}

void spif_auditlog_free(struct spif_auditlog *al)
{
	if (al && al->tiles_open)
		spif_tiles_close(&al->tiles);
	free(al);
}

struct spif_tiles *spif_auditlog_tiles(struct spif_catalog *c, struct spif_err *err)
{
	struct spif_auditlog *al = spif_catalog_auditlog(c);
	if (!al->tiles_open) {
		if (spif_tiles_open(&al->tiles, al->db, err) < 0)
			return NULL;
		al->tiles_open = 1;
	}
	return &al->tiles;
}

int spif_auditlog_tree_append(struct spif_catalog *c, long long prev_seq, const char *prev_hex,
                              const unsigned char hash[32], struct spif_err *err)
{
	struct spif_auditlog *al = spif_catalog_auditlog(c);
	struct spif_tiles *t = spif_auditlog_tiles(c, err);
	if (!t)
		return -1;
	/* the cached edge serves while the log ends where it was left; after a
	 * rollback, or another process's append, it is read again */
	if (!al->edge_ok || al->edge.n != (uint64_t)prev_seq || strcmp(al->edge_head, prev_hex) != 0) {
		int found;
		al->edge_ok = 0;
		if (spif_tiles_edge_load(t, &al->edge, &found, err) < 0)
			return -1;
		if (!found || al->edge.n != (uint64_t)prev_seq) {
			/* tiles that do not end where the log does (restored from
			 * elsewhere, or edited): rebuilt from the events, which are
			 * what verify checks them against anyway */
			if (spif_tiles_rebuild(t, err) < 0 || spif_tiles_edge_load(t, &al->edge, &found, err) < 0)
				return -1;
			if (!found || al->edge.n != (uint64_t)prev_seq)
				return spif_err_set(err, SPIF_EX_DATAERR, "the Merkle tree cannot be rebuilt from the audit "
				                    "log: run spif catalog verify");
		}
	}
	if (spif_tiles_append(t, &al->edge, hash, err) < 0 || spif_tiles_edge_save(t, &al->edge, err) < 0) {
		al->edge_ok = 0;
		return -1;
	}
	spif_hex(hash, 32, al->edge_head);
	al->edge_ok = 1;
	return 0;
}

/* ---- the triggers ------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t n, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* s quoted with q ('"' identifier, '\'' string), q doubled inside */
static void sb_quoted(struct sbuf *b, const char *s, char q)
{
	sb_add(b, &q, 1);
	for (const char *p = s; *p; p++) {
		sb_add(b, p, 1);
		if (*p == q)
			sb_add(b, p, 1);
	}
	sb_add(b, &q, 1);
}

/* A covered table: its name, columns in order, and primary key columns. */
struct table {
	char *name;
	char **cols;
	int ncols;
	int *pk; /* indexes into cols, in key order */
	int npk;
};

static void table_free(struct table *t)
{
	for (int i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	free(t->pk);
	free(t->name);
	memset(t, 0, sizeof *t);
}

static int is_covered(const char *name)
{
	if (strncmp(name, "sqlite_", 7) == 0)
		return 0;
	for (size_t i = 0; i < sizeof uncovered / sizeof *uncovered; i++)
		if (strcmp(name, uncovered[i]) == 0)
			return 0;
	return 1;
}

static int dberr(sqlite3 *db, int rc, const char *what, struct spif_err *err)
{
	return spif_err_set(err, (rc & 0xff) == SQLITE_BUSY ? SPIF_EX_TEMPFAIL : SPIF_EX_SOFTWARE,
	                    "catalog: %s: %s", what, sqlite3_errmsg(db));
}

/* Every covered table of db with its columns, by name. */
static int load_tables(sqlite3 *db, struct table **out, int *n, struct spif_err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st, *ci;
	int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1, &st,
	                            NULL);
	if (rc != SQLITE_OK)
		return dberr(db, rc, "read schema", err);
	rc = sqlite3_prepare_v2(db, "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", -1, &ci, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return dberr(db, rc, "read schema", err);
	}
	struct table *v = NULL;
	int nv = 0, fail = 0;
	while (!fail && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!is_covered(name))
			continue;
		struct table *nt = realloc(v, (size_t)(nv + 1) * sizeof *v);
		if (!nt) {
			fail = 1;
			break;
		}
		v = nt;
		struct table *t = &v[nv++];
		memset(t, 0, sizeof *t);
		t->name = strdup(name);
		int pkpos[64] = {0};
		sqlite3_bind_text(ci, 1, name, -1, SQLITE_TRANSIENT);
		while (!fail && sqlite3_step(ci) == SQLITE_ROW) {
			char **nc = realloc(t->cols, (size_t)(t->ncols + 1) * sizeof *nc);
			if (!nc) {
				fail = 1;
				break;
			}
			t->cols = nc;
			int pk = sqlite3_column_int(ci, 1);
			if (pk > 0 && pk <= 64)
				pkpos[pk - 1] = t->ncols + 1;
			t->cols[t->ncols++] = strdup((const char *)sqlite3_column_text(ci, 0));
		}
		sqlite3_reset(ci);
		t->pk = calloc(64, sizeof *t->pk);
		if (!t->name || !t->pk)
			fail = 1;
		for (int k = 0; !fail && k < 64 && pkpos[k]; k++)
			t->pk[t->npk++] = pkpos[k] - 1;
		for (int k = 0; !fail && k < t->ncols; k++)
			if (!t->cols[k])
				fail = 1;
	}
	sqlite3_finalize(ci);
	sqlite3_finalize(st);
	if (fail) {
		for (int i = 0; i < nv; i++)
			table_free(&v[i]);
		free(v);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	*out = v;
	*n = nv;
	return 0;
}

static void free_tables(struct table *v, int n)
{
	for (int i = 0; i < n; i++)
		table_free(&v[i]);
	free(v);
}

/* The primary key as text: CAST(X."c" AS TEXT), json_array(X."a",X."b"),
 * or the rowid for a table without one.  pfx is "NEW.", "OLD." or "". */
static void sb_pk(struct sbuf *b, const struct table *t, const char *pfx)
{
	if (t->npk == 1) {
		sb_str(b, "CAST(");
		sb_str(b, pfx);
		sb_quoted(b, t->cols[t->pk[0]], '"');
		sb_str(b, " AS TEXT)");
	} else if (t->npk > 1) {
		sb_str(b, "json_array(");
		for (int k = 0; k < t->npk; k++) {
			if (k)
				sb_str(b, ",");
			sb_str(b, pfx);
			sb_quoted(b, t->cols[t->pk[k]], '"');
		}
		sb_str(b, ")");
	} else {
		sb_str(b, "CAST(");
		sb_str(b, pfx);
		sb_str(b, "rowid AS TEXT)");
	}
}

/* spif_tx(),'T',PK,spif_rowhash('T',PK,X."c1",...) */
static void sb_row(struct sbuf *b, const struct table *t, const char *pfx)
{
	sb_str(b, "spif_tx(),");
	sb_quoted(b, t->name, '\'');
	sb_str(b, ",");
	sb_pk(b, t, pfx);
	sb_str(b, ",spif_rowhash(");
	sb_quoted(b, t->name, '\'');
	sb_str(b, ",");
	sb_pk(b, t, pfx);
	for (int i = 0; i < t->ncols; i++) {
		sb_str(b, ",");
		sb_str(b, pfx);
		sb_quoted(b, t->cols[i], '"');
	}
	sb_str(b, ")");
}

/* meta's keys that are not covered are left out */
static void sb_cond(struct sbuf *b, const struct table *t, const char *pfx, const char *join)
{
	if (strcmp(t->name, "meta") != 0)
		return;
	sb_str(b, join);
	sb_str(b, pfx);
	sb_str(b, "\"key\" NOT IN " META_UNCOVERED);
}

static const char *const trig_kind[3] = {"ins", "upd", "del"};

static void trigger_name(struct sbuf *b, const struct table *t, int kind)
{
	struct sbuf n = {0};
	sb_str(&n, "spif_row_");
	sb_str(&n, t->name);
	sb_str(&n, "_");
	sb_str(&n, trig_kind[kind]);
	sb_quoted(b, n.p ? n.p : "", '"');
	free(n.p);
}

/* The CREATE TRIGGER statement for one table and kind (see auditlog.h). */
static char *trigger_sql(const struct table *t, int kind)
{
	static const char *const ev[3] = {"INSERT", "UPDATE", "DELETE"};
	static const char ins[] = "INSERT INTO pending_rows(tx,tbl,pk,hash) SELECT ";
	struct sbuf b = {0};
	sb_str(&b, "CREATE TRIGGER ");
	trigger_name(&b, t, kind);
	sb_str(&b, " AFTER ");
	sb_str(&b, ev[kind]);
	sb_str(&b, " ON ");
	sb_quoted(&b, t->name, '"');
	sb_str(&b, " BEGIN ");
	if (kind == 1) { /* a changed key: the old one is gone */
		sb_str(&b, ins);
		sb_str(&b, "spif_tx(),");
		sb_quoted(&b, t->name, '\'');
		sb_str(&b, ",");
		sb_pk(&b, t, "OLD.");
		sb_str(&b, ",NULL WHERE ");
		sb_pk(&b, t, "OLD.");
		sb_str(&b, " IS NOT ");
		sb_pk(&b, t, "NEW.");
		sb_cond(&b, t, "OLD.", " AND ");
		sb_str(&b, "; ");
	}
	sb_str(&b, ins);
	if (kind == 2) {
		sb_str(&b, "spif_tx(),");
		sb_quoted(&b, t->name, '\'');
		sb_str(&b, ",");
		sb_pk(&b, t, "OLD.");
		sb_str(&b, ",NULL");
		sb_cond(&b, t, "OLD.", " WHERE ");
	} else {
		sb_row(&b, t, "NEW.");
		sb_cond(&b, t, "NEW.", " WHERE ");
	}
	sb_str(&b, "; END");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* Create or recreate the triggers of every covered table of db whose
 * triggers are missing or differ; changed[i] set for those tables.  The
 * same function builds the expected schema (verify) and the real one. */
static int cover(sqlite3 *db, struct table *v, int n, char *changed, struct spif_err *err)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?", -1, &st,
	                            NULL);
	if (rc != SQLITE_OK)
		return dberr(db, rc, "read schema", err);
	int r = 0;
	for (int i = 0; i < n && r == 0; i++) {
		for (int k = 0; k < 3 && r == 0; k++) {
			char *sql = trigger_sql(&v[i], k);
			struct sbuf name = {0};
			sb_str(&name, "spif_row_");
			sb_str(&name, v[i].name);
			sb_str(&name, "_");
			sb_str(&name, trig_kind[k]);
			if (!sql || name.oom) {
				free(sql);
				free(name.p);
				r = spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
				break;
			}
			sqlite3_bind_text(st, 1, name.p, -1, SQLITE_TRANSIENT);
			int same = sqlite3_step(st) == SQLITE_ROW &&
			           strcmp((const char *)sqlite3_column_text(st, 0), sql) == 0;
			sqlite3_reset(st);
			if (!same) {
				struct sbuf drop = {0};
				sb_str(&drop, "DROP TRIGGER IF EXISTS ");
				sb_quoted(&drop, name.p, '"');
				if (drop.oom)
					r = spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
				else if ((rc = sqlite3_exec(db, drop.p, NULL, NULL, NULL)) != SQLITE_OK ||
				         (rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
					r = dberr(db, rc, "create trigger", err);
				free(drop.p);
				changed[i] = 1;
			}
			free(name.p);
			free(sql);
		}
	}
	sqlite3_finalize(st);
	return r;
}

/* Put every row of t in pending_rows, as its triggers would. */
static int pend_table(sqlite3 *db, const struct table *t, struct spif_err *err)
{
	struct sbuf b = {0};
	sb_str(&b, "INSERT INTO pending_rows(tx,tbl,pk,hash) SELECT ");
	sb_row(&b, t, "");
	sb_str(&b, " FROM ");
	sb_quoted(&b, t->name, '"');
	sb_cond(&b, t, "", " WHERE ");
	if (b.oom) {
		free(b.p);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	int rc = sqlite3_exec(db, b.p, NULL, NULL, NULL);
	free(b.p);
	return rc == SQLITE_OK ? 0 : dberr(db, rc, "record rows", err);
}

static int pending_exist(struct spif_catalog *c, int *yes, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT EXISTS(SELECT 1 FROM pending_rows WHERE tx = ?)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, spif_catalog_auditlog(c)->token);
	int rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
	spif_catalog_release(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "read pending rows", err);
	return 0;
}

int spif_auditlog_migrated(struct spif_catalog *c, struct spif_err *err)
{
	sqlite3 *db = spif_catalog_db(c);
	struct table *v;
	int n;
	if (load_tables(db, &v, &n, err) < 0)
		return -1;
	char *changed = calloc((size_t)n + 1, 1);
	int rc = changed ? cover(db, v, n, changed, err) : spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	/* the tree first: the events that record the rows go into it */
	struct spif_tiles *t = rc == 0 ? spif_auditlog_tiles(c, err) : NULL;
	if (rc == 0 && !t)
		rc = -1;
	if (rc == 0) {
		struct spif_merkle_edge e;
		int found;
		long long head;
		char hh[65];
		if ((rc = spif_tiles_edge_load(t, &e, &found, err)) == 0 &&
		    (rc = spif_audit_head(c, &head, hh, err)) == 0 && (!found || e.n != (uint64_t)head))
			rc = spif_tiles_rebuild(t, err);
	}
	for (int i = 0; rc == 0 && i < n; i++)
		if (changed[i])
			rc = pend_table(db, &v[i], err);
	int more = 0;
	if (rc == 0)
		rc = pending_exist(c, &more, err);
	struct spif_auditlog *al = spif_catalog_auditlog(c);
	al->drain_limit = COVER_CHUNK;
	while (rc == 0 && more) {
		json_t *d = json_pack("{s:s}", "why", "the rows as they were when the audit log began to cover their table");
		rc = spif_audit_append(c, "catalog.cover", NULL, d, NULL, err);
		json_decref(d);
		if (rc == 0)
			rc = pending_exist(c, &more, err);
	}
	al->drain_limit = 0;
	al->dirty = 0;
	free(changed);
	free_tables(v, n);
	return rc;
}

/* ---- draining into events ---------------------------------------------- */

int spif_auditlog_drain(struct spif_catalog *c, json_t **rows, struct spif_err *err)
{
	*rows = NULL;
	struct spif_auditlog *al = spif_catalog_auditlog(c);
	if (!al || !al->dirty)
		return 0;
	sqlite3_stmt *st;
	int chunk = al->drain_limit > 0;
	if (spif_catalog_cached(c, chunk ? "SELECT tbl, pk, hash, seq FROM pending_rows WHERE tx = ?1 ORDER BY seq LIMIT ?2"
	                                 : "SELECT tbl, pk, hash, max(seq) FROM pending_rows WHERE tx = ?1"
	                                   " GROUP BY tbl, pk ORDER BY tbl, pk", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, al->token);
	if (chunk)
		sqlite3_bind_int(st, 2, al->drain_limit);
	json_t *arr = json_array();
	long long last = 0;
	int rc, oom = !arr;
	while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tbl = (const char *)sqlite3_column_text(st, 0);
		char *pk = strdup(sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		const char *h = (const char *)sqlite3_column_text(st, 2);
		if (!pk || !tbl) {
			free(pk);
			oom = 1;
			break;
		}
		spif_mask_numbers(pk);
		json_t *r = json_pack("[s,s,o]", tbl, pk, h ? json_string(h) : json_null());
		free(pk);
		if (!r || json_array_append_new(arr, r) < 0)
			oom = 1;
		last = sqlite3_column_int64(st, 3);
	}
	spif_catalog_release(st);
	if (oom) {
		json_decref(arr);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return spif_catalog_sqlerr(c, rc, "read pending rows", err);
	}
	if (spif_catalog_cached(c, chunk ? "DELETE FROM pending_rows WHERE seq <= ?" : "DELETE FROM pending_rows", &st,
	                        err) < 0) {
		json_decref(arr);
		return -1;
	}
	if (chunk)
		sqlite3_bind_int64(st, 1, last);
	rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return spif_catalog_sqlerr(c, rc, "clear pending rows", err);
	}
	if (!chunk)
		al->dirty = 0;
	if (json_array_size(arr) == 0)
		json_decref(arr);
	else
		*rows = arr;
	return 0;
}

int spif_auditlog_flush(struct spif_catalog *c, struct spif_err *err)
{
	struct spif_auditlog *al = spif_catalog_auditlog(c);
	if (!al || !al->dirty)
		return 0;
	int more;
	if (pending_exist(c, &more, err) < 0)
		return -1;
	if (!more) {
		al->dirty = 0;
		return 0;
	}
	return spif_audit_append(c, "catalog.rows", NULL, NULL, NULL, err);
}

/* ---- the scan ----------------------------------------------------------- */

/* Every covered row's key (tbl NUL pk, the pk masked as in the events)
 * and hash, and the schema's differences (reported only if the chain
 * holds).  The scan runs in slices (scan_slice), so that verify's reading
 * thread can do one whenever the thread that hashes events is behind,
 * instead of waiting: the scan costs about a third of the event pass, and
 * done after it, it was a third more wall time. */
struct rowscan {
	struct spif_catalog *c;
	struct scanned {
		size_t koff;
		uint32_t klen, tl;
		unsigned char hash[32];
	} *v;
	size_t n, cap;
	char *keys;
	size_t klen, kcap;
	char **schema;
	size_t nschema;
	int oom;
	/* where the scan stands */
	struct table *tv;
	int ntv, ti, began, schema_done;
	sqlite3_stmt *st;
	size_t tl;
	int nv;
};

static void rowscan_free(struct rowscan *s)
{
	sqlite3_finalize(s->st);
	free_tables(s->tv, s->ntv);
	free(s->v);
	free(s->keys);
	for (size_t i = 0; i < s->nschema; i++)
		free(s->schema[i]);
	free(s->schema);
}

static void schema_collect(void *ctx, const char *what)
{
	struct rowscan *s = ctx;
	char **v = realloc(s->schema, (s->nschema + 1) * sizeof *v);
	if (!v || !(v[s->nschema] = strdup(what))) {
		if (v)
			s->schema = v;
		s->oom = 1;
		return;
	}
	s->schema = v;
	s->nschema++;
}

static int scan_add(struct rowscan *s, const char *tbl, size_t tl, const char *pk, size_t pl,
                    const unsigned char h[32])
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		struct scanned *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	size_t need = tl + 1 + pl + 1;
	if (s->klen + need > s->kcap) {
		size_t cap = s->kcap ? s->kcap * 2 : 65536;
		while (cap < s->klen + need)
			cap *= 2;
		char *k = realloc(s->keys, cap);
		if (!k)
			return -1;
		s->keys = k;
		s->kcap = cap;
	}
	char *k = s->keys + s->klen;
	memcpy(k, tbl, tl + 1);
	if (pl)
		memcpy(k + tl + 1, pk, pl);
	k[tl + 1 + pl] = '\0';
	spif_mask_numbers(k + tl + 1);
	struct scanned *e = &s->v[s->n++];
	e->koff = s->klen;
	e->klen = (uint32_t)(tl + 1 + pl);
	e->tl = (uint32_t)tl;
	memcpy(e->hash, h, 32);
	s->klen += need;
	return 0;
}

/* The next table's rows: its statement, or NULL past the last table. */
static int scan_open(struct rowscan *s, sqlite3 *db, struct spif_err *err)
{
	const struct table *t = &s->tv[s->ti];
	struct sbuf b = {0};
	sb_str(&b, "SELECT ");
	sb_pk(&b, t, "");
	for (int k = 0; k < t->ncols; k++) {
		sb_str(&b, ",");
		sb_quoted(&b, t->cols[k], '"');
	}
	sb_str(&b, " FROM ");
	sb_quoted(&b, t->name, '"');
	sb_cond(&b, t, "", " WHERE ");
	int r = b.oom ? SQLITE_NOMEM : sqlite3_prepare_v2(db, b.p, -1, &s->st, NULL);
	free(b.p);
	if (r != SQLITE_OK)
		return dberr(db, r, "read table", err);
	s->tl = strlen(t->name);
	s->nv = t->ncols < 256 ? t->ncols : 256;
	return 0;
}

/* Up to budget rows of the scan: 1 when it is complete, 0 when there is
 * more, -1 on an error. */
static int scan_slice(struct rowscan *s, int budget, struct spif_err *err)
{
	sqlite3 *db = spif_catalog_db(s->c);
	if (!s->began) {
		if (load_tables(db, &s->tv, &s->ntv, err) < 0)
			return -1;
		s->began = 1;
	}
	while (budget > 0) {
		if (!s->st) {
			if (s->ti == s->ntv)
				return 1;
			if (scan_open(s, db, err) < 0)
				return -1;
		}
		const struct table *t = &s->tv[s->ti];
		sqlite3_value *vals[256];
		int r = SQLITE_ROW;
		while (budget-- > 0 && (r = sqlite3_step(s->st)) == SQLITE_ROW) {
			const char *pk = (const char *)sqlite3_column_text(s->st, 0);
			size_t pl = pk ? (size_t)sqlite3_column_bytes(s->st, 0) : 0;
			for (int k = 0; k < s->nv; k++)
				vals[k] = sqlite3_column_value(s->st, k + 1);
			unsigned char h[32];
			spif_rowhash_values(t->name, pk ? pk : "", s->nv, vals, h);
			if (scan_add(s, t->name, s->tl, pk, pl, h) < 0)
				return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		}
		if (budget >= 0) { /* the table ended (or failed) before the budget */
			sqlite3_finalize(s->st);
			s->st = NULL;
			if (r != SQLITE_DONE)
				return dberr(db, r, "read table", err);
			s->ti++;
		}
	}
	return s->ti == s->ntv && !s->st;
}

static int scan_tables(struct rowscan *s, struct spif_err *err)
{
	int r;
	while ((r = scan_slice(s, 1 << 20, err)) == 0)
		;
	return r < 0 ? -1 : 0;
}

/* The rows read against the log's replay. */
struct unseen_ctx {
	void (*fn)(void *ctx, const struct spif_row_problem *p);
	void *ctx;
	char *key;
	size_t cap;
	int oom;
};

static void report_unseen(void *ctx, const char *key, size_t n, long long seq)
{
	struct unseen_ctx *u = ctx;
	if (n + 1 > u->cap) {
		char *k = realloc(u->key, n + 1);
		if (!k) {
			u->oom = 1;
			return;
		}
		u->key = k;
		u->cap = n + 1;
	}
	memcpy(u->key, key, n);
	u->key[n] = '\0';
	size_t tl = strnlen(u->key, n);
	struct spif_row_problem p = {u->key, tl < n ? u->key + tl + 1 : "", "deleted", seq};
	u->fn(u->ctx, &p);
}

static int compare_rows(struct rowscan *s, struct spif_replay *r,
                        void (*fn)(void *ctx, const struct spif_row_problem *p), void *ctx, struct spif_err *err)
{
	enum { BATCH = 32 };
	for (size_t i = 0; i < s->n; i += BATCH) {
		size_t m = s->n - i < BATCH ? s->n - i : BATCH;
		const char *keys[BATCH];
		size_t lens[BATCH];
		struct spif_replay_row got[BATCH];
		for (size_t k = 0; k < m; k++) {
			keys[k] = s->keys + s->v[i + k].koff;
			lens[k] = s->v[i + k].klen;
		}
		if (spif_replay_lookup(r, keys, lens, m, got) < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		for (size_t k = 0; k < m; k++) {
			struct scanned *x = &s->v[i + k];
			if (got[k].exists && memcmp(got[k].hash, x->hash, 32) == 0)
				continue;
			struct spif_row_problem p = {keys[k], keys[k] + x->tl + 1, got[k].exists ? "changed" : "added",
			                             got[k].seq};
			fn(ctx, &p);
		}
	}
	/* what the log says exists and the scan did not meet */
	struct unseen_ctx u = {.fn = fn, .ctx = ctx};
	int rc = spif_replay_unseen(r, report_unseen, &u);
	free(u.key);
	if (rc < 0 || u.oom)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return 0;
}

int spif_auditlog_check_rows(struct spif_catalog *c, struct spif_replay *r,
                             void (*fn)(void *ctx, const struct spif_row_problem *p), void *ctx,
                             long long *rows, struct spif_err *err)
{
	struct rowscan s = {.c = c};
	int rc = scan_tables(&s, err);
	if (rc == 0)
		rc = compare_rows(&s, r, fn, ctx, err);
	*rows = (long long)s.n;
	rowscan_free(&s);
	return rc;
}

/* ---- the whole check ---------------------------------------------------- */

/* One slice of the schema check and the scan (audit.h: verify calls it
 * while its hashing thread is behind, then until *done). */
static int meanwhile(void *ctx, int *done, struct spif_err *err)
{
	struct rowscan *s = ctx;
	*done = 0;
	if (!s->schema_done) {
		s->schema_done = 1;
		if (spif_auditlog_check_schema(s->c, schema_collect, s, err) < 0)
			return -1;
	} else {
		int r = scan_slice(s, 512, err);
		if (r < 0)
			return -1;
		*done = r;
	}
	if (s->oom)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return 0;
}

int spif_auditlog_verify(struct spif_catalog *c, struct spif_verify *v,
                         void (*schema_fn)(void *ctx, const char *what),
                         void (*row_fn)(void *ctx, const struct spif_row_problem *p), void *ctx, long long *rows,
                         struct spif_err *err)
{
	*rows = 0;
	struct spif_replay *r = spif_replay_new();
	if (!r)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	struct rowscan s = {.c = c};
	/* one snapshot for the log and the tables it is compared with */
	int began = sqlite3_get_autocommit(spif_catalog_db(c));
	if (began && spif_catalog_exec(c, "BEGIN", err) < 0) {
		spif_replay_free(r);
		return -1;
	}
	int rc = spif_audit_verify_ex(c, v, r, meanwhile, &s, err);
	/* a broken chain says nothing trustworthy about the rows */
	if (rc == 0 && v->bad_seq == 0) {
		for (size_t i = 0; i < s.nschema; i++)
			schema_fn(ctx, s.schema[i]);
		rc = compare_rows(&s, r, row_fn, ctx, err);
		*rows = (long long)s.n;
	}
	if (began)
		spif_catalog_exec(c, "COMMIT", NULL);
	rowscan_free(&s);
	spif_replay_free(r);
	return rc;
}

/* ---- the schema --------------------------------------------------------- */

/* The schema the migrations create, built in memory. */
static int expected_schema(sqlite3 **out, struct spif_err *err)
{
	sqlite3 *db;
	*out = NULL;
	int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "catalog: in-memory schema: %s", sqlite3_errstr(rc));
	}
	int n;
	const char *const *m = spif_catalog_migrations(&n);
	for (int i = 0; i < n; i++)
		if ((rc = sqlite3_exec(db, m[i], NULL, NULL, NULL)) != SQLITE_OK) {
			dberr(db, rc, "in-memory schema", err);
			sqlite3_close(db);
			return -1;
		}
	struct table *v;
	int nt;
	if (load_tables(db, &v, &nt, err) < 0) {
		sqlite3_close(db);
		return -1;
	}
	char *changed = calloc((size_t)nt + 1, 1);
	int r = changed ? cover(db, v, nt, changed, err) : spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	free(changed);
	free_tables(v, nt);
	if (r < 0) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int spif_auditlog_check_schema(struct spif_catalog *c, void (*fn)(void *ctx, const char *what), void *ctx,
                               struct spif_err *err)
{
	static const char q[] = "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%'"
	                        " ORDER BY name";
	sqlite3 *mem;
	if (expected_schema(&mem, err) < 0)
		return -1;
	sqlite3 *db = spif_catalog_db(c);
	sqlite3_stmt *a = NULL, *b = NULL;
	int rc = sqlite3_prepare_v2(mem, q, -1, &a, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, q, -1, &b, NULL);
	if (rc != SQLITE_OK) {
		int r = dberr(rc == SQLITE_OK ? db : mem, rc, "read schema", err);
		sqlite3_finalize(a);
		sqlite3_close(mem);
		return r;
	}
	int ra = sqlite3_step(a), rb = sqlite3_step(b);
	char msg[512];
	while (ra == SQLITE_ROW || rb == SQLITE_ROW) {
		const char *na = ra == SQLITE_ROW ? (const char *)sqlite3_column_text(a, 1) : NULL;
		const char *nb = rb == SQLITE_ROW ? (const char *)sqlite3_column_text(b, 1) : NULL;
		int cmp = !na ? 1 : !nb ? -1 : strcmp(na, nb);
		if (cmp < 0) {
			snprintf(msg, sizeof msg, "the %s %.200s is missing", sqlite3_column_text(a, 0), na);
			fn(ctx, msg);
			ra = sqlite3_step(a);
		} else if (cmp > 0) {
			snprintf(msg, sizeof msg, "the %s %.200s is not one spif creates", sqlite3_column_text(b, 0), nb);
			fn(ctx, msg);
			rb = sqlite3_step(b);
		} else {
			const char *sa = (const char *)sqlite3_column_text(a, 2), *sb = (const char *)sqlite3_column_text(b, 2);
			const char *ta = (const char *)sqlite3_column_text(a, 0), *tb = (const char *)sqlite3_column_text(b, 0);
			if (strcmp(ta, tb) != 0 || (sa || sb) != (sa && sb) || (sa && strcmp(sa, sb) != 0)) {
				snprintf(msg, sizeof msg, "the %s %.200s differs from the one spif creates", tb, nb);
				fn(ctx, msg);
			}
			ra = sqlite3_step(a);
			rb = sqlite3_step(b);
		}
	}
	int r = 0;
	if (ra != SQLITE_DONE)
		r = dberr(mem, ra, "read schema", err);
	else if (rb != SQLITE_DONE)
		r = dberr(db, rb, "read schema", err);
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	sqlite3_close(mem);
	return r;
}
