/* auditlog.h - every row of the catalog under the audit log.
 *
 * The hash chain (audit.h) proves the events were not edited; this module
 * makes the events say what every other table holds, so that a row changed
 * outside spif shows.  Design (spif-catalog(5), "Coverage"):
 *
 * - Each covered table -- every table of the schema but events (the chain
 *   itself), merkle (derived from events, recomputed by verify),
 *   pending_rows (scratch) and cert_proofs (each proof checks itself
 *   against a signed checkpoint) -- has AFTER INSERT, UPDATE and DELETE
 *   triggers, generated here from the table's columns.  They insert
 *   (tbl, pk, hash) into pending_rows, hash being spif_rowhash(tbl, pk,
 *   every column in order): SHA-256 of the netstrings of tbl and pk, then
 *   of each value with a type letter (n NULL, i integer, r real as %.17g,
 *   t text, b blob); NULL for a deleted row.  pk is the primary key as
 *   text (json_array of the columns for a composite one).  meta is covered
 *   but for the keys spif rewrites with every event or checkpoint
 *   (audit_head, merkle_edge, checkpoint_last) and the two fixed at
 *   creation before any event exists (catalog_id, which every checkpoint
 *   names as its origin, and created).
 * - spif_rowhash and spif_tx are functions of spif's own connection.  The
 *   sqlite3 shell, or any program without them, cannot run the triggers,
 *   so its INSERT, UPDATE or DELETE of a covered table is refused; one
 *   who drops a trigger first changes the schema, which verify compares
 *   with what the migrations create (a fresh schema built in memory).
 * - spif_audit_append drains the rows this connection's transaction left
 *   in pending_rows into the event it writes: details gets
 *   "rows":[[tbl,pk,hash|null],...] (the last hash per row, sorted), which
 *   the chain hashes like the rest.  A transaction that changes rows after
 *   its last event gets one more event at commit, "catalog.rows".  Rows in
 *   pending_rows are tagged with a random token of the connection that
 *   wrote them (spif_tx()), so rows another program left there are never
 *   taken into spif's events: they stay unrecorded, and verify names them.
 * - verify replays the log (the last hash per row from the events) and
 *   scans every covered table: a row whose hash differs, that no event
 *   records, or that events record and is gone, is reported with its table
 *   and key.  Rows never hold an Individual Number, nor do keys.
 *
 * When coverage begins on a catalog that has rows (an upgrade), or a
 * migration changes a covered table's columns, the rows as they are then
 * are recorded by "catalog.cover" events: the log vouches for them from
 * that point on. */
#ifndef SPIF_AUDITLOG_H
#define SPIF_AUDITLOG_H

#include <jansson.h>
#include <sqlite3.h>

#include "catalog.h"

struct spif_auditlog;
struct spif_tiles;

/* The per-connection state: register spif_tx and spif_rowhash on db.
 * Called by spif_catalog_open on every connection; freed by close. */
int spif_auditlog_attach(sqlite3 *db, struct spif_auditlog **out, struct spif_err *err);
void spif_auditlog_free(struct spif_auditlog *al);

/* What lib/catalog.c keeps for this module (defined there). */
struct spif_auditlog *spif_catalog_auditlog(struct spif_catalog *c);
const struct spif_conf *spif_catalog_conf(const struct spif_catalog *c);
/* The migrations, in order (for the expected schema). */
const char *const *spif_catalog_migrations(int *n);

/* Inside migrate's transaction, after the migrations ran: (re)generate the
 * triggers, build the Merkle tiles of events that have none, and record
 * the rows of every table whose triggers were new or changed. */
int spif_auditlog_migrated(struct spif_catalog *c, struct spif_err *err);

/* The rows this connection changed since the last drain, as a JSON array
 * of [tbl, pk, hash|null] (NULL *rows when none), and forget them.  Keys
 * have their digit runs masked as event strings do. */
int spif_auditlog_drain(struct spif_catalog *c, json_t **rows, struct spif_err *err);
/* Append the event whose chain hash is hash (binary) to the Merkle tree,
 * the log having ended at prev_seq with prev_hex: storing the tiles it
 * completes and the edge (auditlog_tree.h).  Inside the event's
 * transaction. */
int spif_auditlog_tree_append(struct spif_catalog *c, long long prev_seq, const char *prev_hex,
                              const unsigned char hash[32], struct spif_err *err);
/* The connection's Merkle store (for roots and proofs); NULL with err. */
struct spif_tiles *spif_auditlog_tiles(struct spif_catalog *c, struct spif_err *err);
/* Before COMMIT: an event for rows changed after the transaction's last
 * event, if any. */
int spif_auditlog_flush(struct spif_catalog *c, struct spif_err *err);

/* ---- verification ----------------------------------------------------- */

/* The replay: the last recorded hash of every row, from the events. */
struct spif_replay;
struct spif_replay *spif_replay_new(void);
void spif_replay_free(struct spif_replay *r);
/* Take the "rows" of one event's details (JSON text of n bytes); events
 * must come in order.  -1 when the rows are malformed. */
int spif_replay_add(struct spif_replay *r, long long seq, const char *details, size_t n);
/* What the log last recorded of a row. */
struct spif_replay_row {
	long long seq;   /* the event, 0 when none */
	int exists;      /* recorded with hash (not deleted, not unknown) */
	unsigned char hash[32];
};
/* Look up n keys (tbl NUL pk, lens[i] bytes) at most 32 at a time, marking
 * each as met.  -1 out of memory. */
int spif_replay_lookup(struct spif_replay *r, const char *const *keys, const size_t *lens, size_t n,
                       struct spif_replay_row *out);
/* fn for every row the log says exists and no lookup met (deleted outside
 * spif).  -1 out of memory. */
int spif_replay_unseen(struct spif_replay *r, void (*fn)(void *ctx, const char *key, size_t n, long long seq),
                       void *ctx);

/* One row that does not match the log. */
struct spif_row_problem {
	const char *table, *key;
	const char *what;   /* "changed", "added" or "deleted" */
	long long seq;      /* the event that last recorded it, 0 when none */
};
/* Scan every covered table against the replay; fn for each row that does
 * not match.  *rows gets the number of rows checked.  0, or -1 with err. */
int spif_auditlog_check_rows(struct spif_catalog *c, struct spif_replay *r,
                             void (*fn)(void *ctx, const struct spif_row_problem *p), void *ctx,
                             long long *rows, struct spif_err *err);

/* Compare the schema (every table, index and trigger) with the one the
 * migrations create; fn(ctx, what) for each difference, in words.  0, or
 * -1 with err. */
int spif_auditlog_check_schema(struct spif_catalog *c, void (*fn)(void *ctx, const char *what), void *ctx,
                               struct spif_err *err);

/* Everything verify checks inside the catalog, in one read transaction:
 * the chain, the head and the Merkle tree (spif_audit_verify), then, when
 * the chain is intact, the schema (schema_fn for each difference) and
 * every row (row_fn for each that does not match the log; *rows the
 * number checked).  0, or -1 with err. */
struct spif_verify;
int spif_auditlog_verify(struct spif_catalog *c, struct spif_verify *v,
                         void (*schema_fn)(void *ctx, const char *what),
                         void (*row_fn)(void *ctx, const struct spif_row_problem *p), void *ctx, long long *rows,
                         struct spif_err *err);

/* The canonical row hash, as spif_rowhash computes it (for tests). */
void spif_rowhash_values(const char *table, const char *pk, int n, sqlite3_value **v, unsigned char out[32]);

#endif
