/* audit-fill.c - fill a catalog for the "verify 1,000,000 events"
 * benchmark, through lib/audit (so the Merkle tiles and the rows each
 * event records are the library's own).
 *
 *   audit-fill HOME N          N events about 100,000 files: the first
 *                              100,000 register a file and its copy (two
 *                              rows each), then every third one changes a
 *                              file's retain_until (one row), the rest change
 *                              none (a file read, as spif vault cat logs)
 *   audit-fill HOME --sql SQL  run SQL through spif's connection, in a
 *                              transaction (recorded like any change spif
 *                              makes: the sqlite3 shell cannot write)
 *   audit-fill --tiles DB N    a tile store of N synthetic leaves filled
 *                              through the library's store functions, then
 *                              inclusion proofs timed: prints the proof's
 *                              size and the time per proof */
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_priv.h"
#include "audit.h"
#include "auditlog_tree.h"
#include "digest.h"

#define FILES 100000

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fill(struct spif_catalog *c, long long n, struct spif_err *e)
{
	sqlite3_stmt *upd;
	if (spif_catalog_prepare(c, "UPDATE files SET retain_until = ? WHERE id = ?", &upd, e) < 0)
		return -1;
	int rc = 0;
	for (long long i = 0; rc == 0 && i < n; i += 10000) {
		if ((rc = spif_catalog_begin(c, e)) < 0)
			break;
		for (long long k = i; rc == 0 && k < i + 10000 && k < n; k++) {
			char obj[24], day[16];
			long long fid = k % FILES + 1;
			spif_file_id_format(fid, obj);
			json_t *d;
			const char *action;
			if (k < FILES) {
				struct spif_file f = {.label = "給与支払報告書.csv", .purpose = "個人住民税の賦課",
				                      .received = "2026-04-01", .format = "csv", .encoding = "cp932",
				                      .records = 1000, .persons = 998,
				                      .sha256 = "9f1e5f003d2c4b1a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
				                      .created = "2026-04-01T09:00:00.000Z"};
				struct spif_copy cp = {.kind = "source", .path = "/srv/kyuyo/2026/給与支払報告書.csv",
				                       .sha256 = f.sha256, .size = 123456, .created = f.created};
				if (spif_catalog_add_file(c, &f, e) < 0)
					return -1;
				cp.file_id = f.id;
				if (spif_catalog_add_copy(c, &cp, e) < 0)
					return -1;
				d = json_pack("{s:s,s:I,s:I,s:s}", "label", f.label, "records", (json_int_t)1000, "persons",
				              (json_int_t)998, "purpose", f.purpose);
				action = "ingest";
			} else if (k % 3 == 0) {
				snprintf(day, sizeof day, "20%02lld-03-31", 30 + k % 60);
				sqlite3_bind_text(upd, 1, day, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(upd, 2, fid);
				if (sqlite3_step(upd) != SQLITE_DONE)
					return spif_err_set(e, SPIF_EX_SOFTWARE, "update: %s", sqlite3_errmsg(spif_catalog_db(c)));
				sqlite3_reset(upd);
				d = json_pack("{s:s,s:s}", "schedule", "kyuyo-7y", "retain_until", day);
				action = "retain.assign";
			} else {
				d = json_pack("{s:I,s:s,s:n}", "copy", (json_int_t)fid, "path", "/srv/spif/vault/F.spv", "reason");
				action = "vault.read";
			}
			rc = spif_audit_append(c, action, obj, d, NULL, e);
			json_decref(d);
		}
		if (rc == 0)
			rc = spif_catalog_commit(c, e);
	}
	sqlite3_finalize(upd);
	return rc;
}

/* A bare store of n synthetic leaves, then proofs timed. */
static int tiles(const char *path, long long n)
{
	sqlite3 *db;
	struct spif_err e = {0};
	remove(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
	                     "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	                     "CREATE TABLE events(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL);"
	                     "CREATE TABLE merkle(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
	                     " PRIMARY KEY (level, idx)) WITHOUT ROWID;", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "audit-fill: %s: %s\n", path, sqlite3_errmsg(db));
		return 74;
	}
	struct spif_tiles t;
	struct spif_merkle_edge edge;
	spif_merkle_edge_init(&edge);
	sqlite3_stmt *st;
	if (spif_tiles_open(&t, db, &e) < 0 ||
	    sqlite3_prepare_v2(db, "INSERT INTO events(seq, hash) VALUES(?, ?)", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "audit-fill: %s\n", e.msg);
		return 70;
	}
	double t0 = now();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (long long i = 0; i < n; i++) {
		unsigned char entry[32];
		char hex[65];
		gcry_md_hash_buffer(GCRY_MD_SHA256, entry, &i, sizeof i);
		spif_hex(entry, 32, hex);
		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_text(st, 2, hex, 64, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE || spif_tiles_append(&t, &edge, entry, &e) < 0) {
			fprintf(stderr, "audit-fill: fill: %s %s\n", e.msg, sqlite3_errmsg(db));
			return 70;
		}
		sqlite3_reset(st);
		if (i % 1000000 == 999999) {
			sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL);
		}
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(st);
	double t1 = now();
	spif_hash root, proof[SPIF_MERKLE_MAX_PROOF];
	spif_merkle_edge_root(&edge, root);
	/* proofs of leaves spread over the log, from a cold statement each */
	int tries = 200;
	size_t len = 0, maxlen = 0;
	double t2 = now();
	for (int k = 0; k < tries; k++) {
		uint64_t idx = (uint64_t)((n - 1) * (long long)k / (tries - 1));
		if (spif_merkle_inclusion_proof(idx, (uint64_t)n, spif_tiles_subtree, &t, proof, &len, &e) < 0) {
			fprintf(stderr, "audit-fill: proof: %s\n", e.msg);
			return 70;
		}
		if (len > maxlen)
			maxlen = len;
		unsigned char entry[32];
		spif_hash leaf;
		long long i = (long long)idx;
		gcry_md_hash_buffer(GCRY_MD_SHA256, entry, &i, sizeof i);
		spif_merkle_leaf_hash(entry, 32, leaf);
		if (spif_merkle_verify_inclusion(idx, (uint64_t)n, leaf, proof, len, root, &e) < 0) {
			fprintf(stderr, "audit-fill: a proof does not verify: %s\n", e.msg);
			return 70;
		}
	}
	double t3 = now();
	/* the proof as ID.proof.json carries it: hex, quoted, comma-separated */
	printf("tiles: %lld leaves filled in %.1fs; inclusion proof: %zu hashes = %zu bytes (%zu as hex in "
	       "ID.proof.json), %.2f ms each (%d proofs, each verified)\n", n, t1 - t0, maxlen,
	       maxlen * SPIF_MERKLE_HASH, maxlen * 67 + 1, (t3 - t2) * 1000 / tries, tries);
	printf("proof: %zu %.3f\n", maxlen * SPIF_MERKLE_HASH, (t3 - t2) * 1000 / tries);
	spif_tiles_close(&t);
	sqlite3_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	struct spif_err e = {0};
	if (argc == 4 && strcmp(argv[1], "--tiles") == 0) {
		if (spif_crypto_init(&e) < 0)
			return e.code;
		return tiles(argv[2], atoll(argv[3]));
	}
	if (argc != 3 && !(argc == 4 && strcmp(argv[2], "--sql") == 0)) {
		fprintf(stderr, "usage: audit-fill HOME N | audit-fill HOME --sql SQL | audit-fill --tiles DB N\n");
		return 64;
	}
	struct spif_conf conf = {0};
	struct spif_actor a;
	struct spif_catalog *c;
	if (spif_crypto_init(&e) < 0 || spif_actor_init(&a, argc, argv, &e) < 0 ||
	    (argc == 4 && spif_conf_load(&conf, &e) < 0) ||
	    spif_catalog_open(argv[1], &conf, argc == 4 ? 0 : SPIF_CAT_CREATE, &a, &c, &e) < 0) {
		fprintf(stderr, "audit-fill: %s\n", e.msg);
		return e.code;
	}
	int rc;
	if (argc == 4)
		rc = spif_catalog_begin(c, &e) < 0 || spif_catalog_exec(c, argv[3], &e) < 0 ||
		     spif_catalog_commit(c, &e) < 0 ? -1 : 0;
	else
		rc = fill(c, atoll(argv[2]), &e);
	spif_catalog_close(c);
	spif_actor_free(&a);
	if (rc < 0) {
		fprintf(stderr, "audit-fill: %s\n", e.msg);
		return e.code ? e.code : 70;
	}
	return 0;
}
