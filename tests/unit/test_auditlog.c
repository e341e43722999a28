/* test_auditlog.c - the audit log's Merkle tile store against a brute-force
 * store around the tile boundaries, its edge form, the replay of "rows",
 * and a catalog whose every row is covered.
 *
 * With arguments it is the bats suites' tool (tests/bats/audit.bats):
 *   test_auditlog sql HOME SQL        run SQL through spif's own connection,
 *                                     in a transaction (so recorded), to make
 *                                     a state a test needs
 *   test_auditlog rewrite HOME SEQ FROM TO
 *                                     an insider's rewrite: event SEQ's
 *                                     details with FROM replaced by TO, and
 *                                     every hash after it, the head, the
 *                                     Merkle tiles and edge recomputed, the
 *                                     triggers put back as they were
 *   test_auditlog cut HOME N          the log cut to its first N events, the
 *                                     same way (N = 0: every event deleted)
 * The attacks use a connection of their own with spif's functions on it,
 * as a tiny C program linked with libspif would: nothing on the host can
 * tell their result from a log spif wrote; a checkpoint kept elsewhere can. */
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_priv.h"
#include "audit.h"
#include "auditlog.h"
#include "auditlog_tree.h"
#include "digest.h"
#include "merkle.h"
#include "tap.h"

/* ---- the tile store against brute force --------------------------------- */

/* Brute force: the hash of every complete subtree, level by level from
 * the leaves, by the definition (RFC 9162 2.1.1) and nothing else. */
struct brute {
	spif_hash *leaf;
	uint64_t n;
	spif_hash *level[64];
	uint64_t count[64];
};

static void brute_build(struct brute *b)
{
	for (int l = 1; l < 64; l++) {
		free(b->level[l]);
		b->level[l] = NULL;
		b->count[l] = 0;
	}
	b->level[0] = b->leaf;
	b->count[0] = b->n;
	for (int l = 1; l < 64 && b->count[l - 1] >= 2; l++) {
		b->count[l] = b->count[l - 1] / 2;
		b->level[l] = malloc(b->count[l] * sizeof(spif_hash));
		for (uint64_t i = 0; i < b->count[l]; i++)
			spif_merkle_node_hash(b->level[l - 1][2 * i], b->level[l - 1][2 * i + 1], b->level[l][i]);
	}
}

static void brute_free(struct brute *b)
{
	for (int l = 1; l < 64; l++)
		free(b->level[l]);
	free(b->leaf);
}

static int brute_fn(void *ctx, unsigned level, uint64_t lo, spif_hash out, struct spif_err *err)
{
	const struct brute *b = ctx;
	uint64_t idx = lo >> level;
	if (level >= 64 || idx >= b->count[level])
		return spif_err_set(err, SPIF_EX_SOFTWARE, "brute: beyond the leaves");
	memcpy(out, b->level[level][idx], 32);
	return 0;
}

static sqlite3 *store_db(void)
{
	sqlite3 *db;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	                     "CREATE TABLE events(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL);"
	                     "CREATE TABLE merkle(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
	                     " PRIMARY KEY (level, idx)) WITHOUT ROWID;",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return NULL;
	return db;
}

/* Append leaves up to n: events rows and the store, the brute leaves. */
static int fill(sqlite3 *db, struct spif_tiles *t, struct spif_merkle_edge *e, struct brute *b, uint64_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO events(seq, hash) VALUES(?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	struct spif_err err = {0};
	for (uint64_t i = b->n; i < n; i++) {
		unsigned char entry[32];
		char hex[65];
		gcry_md_hash_buffer(GCRY_MD_SHA256, entry, &i, sizeof i);
		spif_hex(entry, 32, hex);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
		sqlite3_bind_text(st, 2, hex, 64, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE || spif_tiles_append(t, e, entry, &err) < 0)
			return -1;
		sqlite3_reset(st);
		spif_merkle_leaf_hash(entry, 32, b->leaf[i]);
	}
	b->n = n;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(st);
	return 0;
}

static int same_proof(const spif_hash *a, size_t na, const spif_hash *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

/* Every proof (or a sample, for large n) from the store equals brute
 * force's, and verifies. */
static void check_size(struct spif_tiles *t, struct brute *b, const struct spif_merkle_edge *e)
{
	uint64_t n = b->n;
	brute_build(b);
	struct brute *sized = b;
	struct spif_err err = {0};
	spif_hash r1, r2, re;
	int ok_root = spif_merkle_root(n, spif_tiles_subtree, t, r1, &err) == 0 &&
	              spif_merkle_root(n, brute_fn, sized, r2, &err) == 0;
	spif_merkle_edge_root(e, re);
	ok(ok_root && memcmp(r1, r2, 32) == 0 && memcmp(r1, re, 32) == 0 && e->n == n,
	   "%llu leaves: the root from the tiles is brute force's and the edge's", (unsigned long long)n);
	int bad = 0, checked = 0;
	uint64_t step = n > 1024 ? n / 37 : 1;
	for (uint64_t i = 0; i < n; i += step) {
		for (int pass = 0; pass < 2; pass++) {
			uint64_t idx = pass ? n - 1 - i : i;
			spif_hash p1[SPIF_MERKLE_MAX_PROOF], p2[SPIF_MERKLE_MAX_PROOF];
			size_t l1, l2;
			if (spif_merkle_inclusion_proof(idx, n, spif_tiles_subtree, t, p1, &l1, &err) < 0 ||
			    spif_merkle_inclusion_proof(idx, n, brute_fn, sized, p2, &l2, &err) < 0 || !same_proof(p1, l1, p2, l2) ||
			    spif_merkle_verify_inclusion(idx, n, b->leaf[idx], p1, l1, r1, NULL) < 0)
				bad++;
			checked++;
		}
	}
	ok(!bad, "%llu leaves: %d inclusion proofs from the tiles are brute force's and verify", (unsigned long long)n,
	   checked);
	bad = checked = 0;
	for (uint64_t m = 1; m <= n; m += m < 600 ? 1 : n / 29 + 1) {
		spif_hash p1[SPIF_MERKLE_MAX_PROOF], p2[SPIF_MERKLE_MAX_PROOF], rm;
		size_t l1, l2;
		if (spif_merkle_consistency_proof(m, n, spif_tiles_subtree, t, p1, &l1, &err) < 0 ||
		    spif_merkle_consistency_proof(m, n, brute_fn, sized, p2, &l2, &err) < 0 || !same_proof(p1, l1, p2, l2) ||
		    spif_merkle_root(m, brute_fn, sized, rm, &err) < 0 ||
		    spif_merkle_verify_consistency(m, n, rm, r1, p1, l1, NULL) < 0)
			bad++;
		checked++;
	}
	ok(!bad, "%llu leaves: %d consistency proofs from the tiles are brute force's and verify", (unsigned long long)n,
	   checked);
}

static void test_tiles(void)
{
	static const uint64_t sizes[] = {1, 2, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537};
	sqlite3 *db = store_db();
	struct spif_tiles t;
	struct spif_err err = {0};
	ok(db && spif_tiles_open(&t, db, &err) == 0, "a tile store on a bare connection");
	struct brute b = {.leaf = calloc(65537, sizeof(spif_hash))};
	struct spif_merkle_edge e;
	spif_merkle_edge_init(&e);
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		if (fill(db, &t, &e, &b, sizes[i]) < 0) {
			ok(0, "fill to %llu", (unsigned long long)sizes[i]);
			break;
		}
		check_size(&t, &b, &e);
	}
	/* one row per 256 leaves at level 8, one per 65,536 at 16 */
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT level, count(*) FROM merkle GROUP BY level ORDER BY level", -1, &st, NULL);
	long long l8 = -1, l16 = -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 0) == 8)
			l8 = sqlite3_column_int64(st, 1);
		if (sqlite3_column_int(st, 0) == 16)
			l16 = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	is_int(l8, 65537 / 256, "the store keeps the complete tiles of level 8");
	is_int(l16, 1, "and of level 16");
	/* the edge saved and read back; rebuilt from the events, the same */
	struct spif_merkle_edge back;
	int found;
	ok(spif_tiles_edge_save(&t, &e, &err) == 0 && spif_tiles_edge_load(&t, &back, &found, &err) == 0 && found &&
	   back.n == e.n && back.count == e.count && memcmp(back.h, e.h, sizeof e.h[0] * e.count) == 0,
	   "the edge's text form reads back");
	sqlite3_exec(db, "UPDATE merkle SET hash = zeroblob(32) WHERE level = 8 AND idx = 3", NULL, NULL, NULL);
	ok(spif_tiles_rebuild(&t, &err) == 0 && spif_tiles_edge_load(&t, &back, &found, &err) == 0 &&
	   back.n == e.n && memcmp(back.h, e.h, sizeof e.h[0] * e.count) == 0, "a rebuild from the events gives the same edge");
	spif_hash r1, r2;
	brute_build(&b);
	ok(spif_merkle_root(b.n, spif_tiles_subtree, &t, r1, &err) == 0 &&
	   spif_merkle_root(b.n, brute_fn, &b, r2, &err) == 0 && memcmp(r1, r2, 32) == 0,
	   "and tiles that give brute force's root again");
	static const char *const badedge[] = {"", "x", "3 1:00", "3 0:" "0000000000000000000000000000000000000000000000000000000000000000",
	                                      "1 0:" "000000000000000000000000000000000000000000000000000000000000000g",
	                                      "2 0:0000000000000000000000000000000000000000000000000000000000000000 1:"
	                                      "0000000000000000000000000000000000000000000000000000000000000000"};
	int rejected = 0;
	for (size_t i = 0; i < sizeof badedge / sizeof *badedge; i++)
		rejected += spif_tiles_edge_parse(badedge[i], &back) < 0;
	is_int(rejected, (long long)(sizeof badedge / sizeof *badedge), "malformed edges are refused");
	spif_tiles_close(&t);
	sqlite3_close(db);
	brute_free(&b);
}

/* ---- the replay of rows ------------------------------------------------- */

static void note_problem(void *ctx, const struct spif_row_problem *p)
{
	(void)p;
	(*(int *)ctx)++;
}

static void note_schema(void *ctx, const char *what)
{
	printf("#   schema: %s\n", what);
	(*(int *)ctx)++;
}

static void test_replay(void)
{
	struct spif_replay *r = spif_replay_new();
	static const char h1[] = "1111111111111111111111111111111111111111111111111111111111111111";
	char d[512];
	snprintf(d, sizeof d, "{\"a\":{\"rows\":[[\"x\",\"y\",\"z\"]]},\"b\":\"\\\"rows\\\":[[\",\"rows\":"
	         "[[\"copies\",\"3\",\"%s\"],[\"file_events\",\"[1,\\\"\\u9000\\u8077\\\"]\",null]],\"z\":[1,{\"q\":2}]}", h1);
	ok(spif_replay_add(r, 7, d, strlen(d)) == 0, "rows are read from details with other keys around them");
	static const char bad[] = "{\"rows\":[[\"copies\",\"3\",\"nothex\"]]}";
	ok(spif_replay_add(r, 8, bad, strlen(bad)) < 0, "a malformed hash is refused");
	ok(spif_replay_add(r, 9, "{\"x\":1}", 7) == 0, "details without rows are fine");
	spif_replay_free(r);
}

/* ---- a catalog ---------------------------------------------------------- */

static void test_catalog(void)
{
	char dir[] = "/tmp/spif-test-auditlog.XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	char *argv[] = {"test_auditlog", NULL};
	struct spif_actor a;
	struct spif_conf conf = {0};
	struct spif_catalog *c;
	struct spif_err err = {0};
	char home[64];
	snprintf(home, sizeof home, "%s/home", dir);
	ok(spif_actor_init(&a, 1, argv, &err) == 0 && spif_catalog_open(home, &conf, SPIF_CAT_CREATE, &a, &c, &err) == 0,
	   "a new catalog");
	struct spif_file f = {.label = "a.csv", .purpose = "x", .received = "2026-01-01", .format = "csv",
	                      .encoding = "utf-8", .sha256 = "00", .created = "2026-01-01T00:00:00.000Z"};
	long long seq = 0;
	ok(spif_catalog_begin(c, &err) == 0 && spif_catalog_add_file(c, &f, &err) == 0 &&
	   spif_audit_append(c, "ingest", "F000001", NULL, &seq, &err) == 0 && spif_catalog_commit(c, &err) == 0,
	   "a file and its event");
	struct spif_copy cp = {.file_id = f.id, .kind = "output", .path = "/tmp/x", .created = "2026-01-01T00:00:00.000Z"};
	ok(spif_catalog_begin(c, &err) == 0 && spif_catalog_add_copy(c, &cp, &err) == 0 && spif_catalog_commit(c, &err) == 0,
	   "a copy with no event of its own: one is added at commit");
	struct spif_verify v;
	int problems = 0;
	long long rows;
	ok(spif_auditlog_verify(c, &v, note_schema, note_problem, &problems, &rows, &err) == 0 && v.bad_seq == 0 &&
	   !v.tree_bad && problems == 0 && rows == 2 && v.events == 2, "verify: 2 events, 2 rows, nothing outside spif");
	ok(sqlite3_exec(spif_catalog_db(c), "UPDATE copies SET path = '/etc/passwd'", NULL, NULL, NULL) != SQLITE_OK,
	   "a change outside a transaction is refused even on spif's connection");
	spif_catalog_close(c);
	spif_actor_free(&a);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ok(system(cmd) == 0, "cleaned up");
}

/* ---- the tool ------------------------------------------------------------ */

static int die(const char *what, const char *msg)
{
	fprintf(stderr, "test_auditlog: %s: %s\n", what, msg);
	return 1;
}

static int tool_sql(const char *home, const char *sql, int argc, char **argv)
{
	struct spif_actor a;
	struct spif_conf conf = {0};
	struct spif_catalog *c;
	struct spif_err err = {0};
	if (spif_conf_load(&conf, &err) < 0 || spif_actor_init(&a, argc, argv, &err) < 0 ||
	    spif_catalog_open(home, &conf, 0, &a, &c, &err) < 0)
		return die("open", err.msg);
	int rc = 0;
	if (spif_catalog_begin(c, &err) < 0 || spif_catalog_exec(c, sql, &err) < 0 || spif_catalog_commit(c, &err) < 0)
		rc = die("sql", err.msg);
	spif_catalog_close(c);
	spif_actor_free(&a);
	return rc;
}

/* The attacker's connection: spif's functions registered on it, the
 * append-only triggers dropped for the work and put back word for word. */
static int rewrite(const char *home, long long seq, const char *from, const char *to, long long cut)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/catalog.db", home);
	sqlite3 *db;
	struct spif_auditlog *al;
	struct spif_err err = {0};
	if (sqlite3_open(path, &db) != SQLITE_OK || spif_auditlog_attach(db, &al, &err) < 0)
		return die("open", sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 10000);
	char *trig[2] = {NULL, NULL};
	static const char *const names[2] = {"events_no_update", "events_no_delete"};
	sqlite3_stmt *st;
	for (int i = 0; i < 2; i++) {
		sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE name = ?", -1, &st, NULL);
		sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			trig[i] = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	int rc = 0;
	sqlite3_exec(db, "BEGIN IMMEDIATE; DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;", NULL, NULL, NULL);
	if (cut >= 0) {
		sqlite3_prepare_v2(db, "DELETE FROM events WHERE seq > ?", -1, &st, NULL);
		sqlite3_bind_int64(st, 1, cut);
		sqlite3_step(st);
		sqlite3_finalize(st);
		seq = cut + 1;
	} else {
		sqlite3_prepare_v2(db, "UPDATE events SET details = replace(details, ?, ?) WHERE seq = ?", -1, &st, NULL);
		sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, seq);
		sqlite3_step(st);
		if (sqlite3_changes(db) != 1)
			rc = die("rewrite", "no such event");
		sqlite3_finalize(st);
	}
	/* every hash from seq on, as lib/audit.c computes them */
	char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000", h[65];
	long long last = 0;
	sqlite3_prepare_v2(db, "SELECT hash FROM events WHERE seq = ?", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, seq - 1);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(prev, sizeof prev, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_stmt *up;
	sqlite3_prepare_v2(db, "UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", -1, &up, NULL);
	sqlite3_prepare_v2(db, "SELECT seq,time,operator,sudo_user,host,pid,argv,action,object,details FROM events"
	                       " WHERE seq >= ? ORDER BY seq", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, seq);
#define T(i) ((const char *)sqlite3_column_text(st, i))
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		spif_audit_hash(prev, last, T(1), T(2), T(3), T(4), sqlite3_column_int64(st, 5), T(6), T(7), T(8), T(9), h);
		sqlite3_bind_text(up, 1, prev, 64, SQLITE_TRANSIENT);
		sqlite3_bind_text(up, 2, h, 64, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 3, last);
		sqlite3_step(up);
		sqlite3_reset(up);
		memcpy(prev, h, 65);
	}
#undef T
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	sqlite3_prepare_v2(db, "SELECT max(seq), hash FROM events", -1, &st, NULL);
	char head[96] = "";
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 1))
		snprintf(head, sizeof head, "%lld:%s", sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (head[0]) {
		sqlite3_prepare_v2(db, "UPDATE meta SET value = ? WHERE key = 'audit_head'", -1, &st, NULL);
		sqlite3_bind_text(st, 1, head, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	} else
		sqlite3_exec(db, "DELETE FROM meta WHERE key = 'audit_head'", NULL, NULL, NULL);
	struct spif_tiles t;
	if (rc == 0 && (spif_tiles_open(&t, db, &err) < 0 || spif_tiles_rebuild(&t, &err) < 0))
		rc = die("tiles", err.msg);
	else if (rc == 0)
		spif_tiles_close(&t);
	for (int i = 0; i < 2; i++)
		if (trig[i] && sqlite3_exec(db, trig[i], NULL, NULL, NULL) != SQLITE_OK)
			rc = die("trigger", sqlite3_errmsg(db));
	sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	free(trig[0]);
	free(trig[1]);
	sqlite3_close(db);
	spif_auditlog_free(al);
	return rc;
}

int main(int argc, char **argv)
{
	struct spif_err err = {0};
	if (spif_crypto_init(&err) < 0)
		return die("libgcrypt", err.msg);
	if (argc == 4 && strcmp(argv[1], "sql") == 0)
		return tool_sql(argv[2], argv[3], argc, argv);
	if (argc == 6 && strcmp(argv[1], "rewrite") == 0)
		return rewrite(argv[2], atoll(argv[3]), argv[4], argv[5], -1);
	if (argc == 4 && strcmp(argv[1], "cut") == 0)
		return rewrite(argv[2], 0, NULL, NULL, atoll(argv[3]));
	if (argc > 1) {
		fprintf(stderr, "usage: test_auditlog [sql HOME SQL | rewrite HOME SEQ FROM TO | cut HOME N]\n");
		return 64;
	}
	test_tiles();
	test_replay();
	test_catalog();
	return tap_done();
}
