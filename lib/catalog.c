/* catalog.c - see catalog.h */
#include "catalog.h"
#include "catalog_priv.h"
#include "grow.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "audit.h"
#include "auditlog.h"
#include "digest.h"
#include "retention.h"

/* Enough for every statement the per-file paths use. */
#define STMT_CACHE 48

struct spif_catalog {
	sqlite3 *db;
	char home[PATH_MAX];
	char path[PATH_MAX];
	char id[33];
	struct spif_actor actor;
	int in_tx;
	const char *note; /* for the user, about how it was opened; or NULL */
	/* statements run once per file or event (see spif_catalog_cached) */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	int ncache;
	/* the audit log's state on this connection (auditlog.h), and
	 * spif.conf as it was opened with (for checkpoints) */
	struct spif_auditlog *al;
	struct spif_conf conf;
};

/* The ledger of checkouts (持出し簿) and the registry of media: one
 * migration, kept in a block of its own so that its number is one line
 * in the list below.  exports: one row per archive that left (its files
 * in export_files, each with the export copy registered for it); the
 * state moves out -> returned | destroyed-by-recipient | lost once, and
 * fate holds how (JSON).  media: removable media and where each is kept;
 * a retired one stays, as the ledger names it. */
#define SPIF_MIGRATION_EXPORTS \
	"CREATE TABLE media(" \
	" id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('usb','dvd','hdd','other'))," \
	" location TEXT NOT NULL, uuid TEXT, serial TEXT, device TEXT," \
	" added TEXT NOT NULL, added_by TEXT NOT NULL," \
	" state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','retired'))," \
	" retired TEXT, retired_by TEXT, retire_reason TEXT);" \
	"CREATE INDEX media_uuid ON media(uuid) WHERE uuid IS NOT NULL;" \
	"CREATE TABLE exports(" \
	" id TEXT PRIMARY KEY, year INTEGER NOT NULL, n INTEGER NOT NULL," \
	" files TEXT NOT NULL, records INTEGER NOT NULL, persons INTEGER NOT NULL," \
	" recipients TEXT NOT NULL, organisation TEXT NOT NULL, person TEXT," \
	" basis TEXT NOT NULL, reason TEXT NOT NULL, operator TEXT NOT NULL, approver TEXT," \
	" medium TEXT REFERENCES media(id), seal TEXT, created TEXT NOT NULL, due TEXT," \
	" format TEXT NOT NULL, path TEXT NOT NULL, signer TEXT," \
	" archive_sha256 TEXT NOT NULL, archive_size INTEGER NOT NULL, checkout_sha256 TEXT NOT NULL," \
	" state TEXT NOT NULL DEFAULT 'out'" \
	"  CHECK (state IN ('out','returned','destroyed-by-recipient','lost'))," \
	" closed TEXT, closed_by TEXT, fate TEXT, event_seq INTEGER NOT NULL," \
	" UNIQUE (year, n));" \
	"CREATE INDEX exports_open ON exports(due) WHERE state = 'out';" \
	"CREATE TABLE export_files(" \
	" export_id TEXT NOT NULL REFERENCES exports(id), file_id INTEGER NOT NULL REFERENCES files(id)," \
	" copy_id INTEGER REFERENCES copies(id), PRIMARY KEY (export_id, file_id));" \
	"CREATE INDEX export_files_file ON export_files(file_id);"

/* Incidents (lib/incident.h): a suspected leak kept as rows, with the
 * files involved and their record and person counts as they were when
 * the file was named (what a report to the PPC asks for), and the notes
 * written while it is open.  A hold placed because of an incident is of
 * kind 'incident' (lib/retention.h): its release is a second person's.
 * Holds placed by a lost export or copy before this migration said so
 * only in their reason; they become incident holds here. */
#define SPIF_MIGRATION_INCIDENTS \
	"CREATE TABLE incidents(" \
	" id TEXT PRIMARY KEY, year INTEGER NOT NULL, n INTEGER NOT NULL," \
	" opened TEXT NOT NULL, opened_by TEXT NOT NULL, summary TEXT NOT NULL," \
	" state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','closed'))," \
	" closed TEXT, closed_by TEXT, close_note TEXT, UNIQUE (year, n));" \
	"CREATE TABLE incident_files(" \
	" incident_id TEXT NOT NULL REFERENCES incidents(id), file_id INTEGER NOT NULL REFERENCES files(id)," \
	" records INTEGER NOT NULL, persons INTEGER NOT NULL, hold_id INTEGER REFERENCES holds(id)," \
	" added TEXT NOT NULL, PRIMARY KEY (incident_id, file_id));" \
	"CREATE INDEX incident_files_file ON incident_files(file_id);" \
	"CREATE TABLE incident_notes(" \
	" id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT NOT NULL REFERENCES incidents(id)," \
	" time TEXT NOT NULL, operator TEXT NOT NULL, note TEXT NOT NULL);" \
	"CREATE INDEX incident_notes_incident ON incident_notes(incident_id);" \
	"ALTER TABLE holds ADD COLUMN kind TEXT NOT NULL DEFAULT 'hold' CHECK (kind IN ('hold','incident'));" \
	"UPDATE holds SET kind = 'incident' WHERE reason LIKE 'incident:%';"

/* The second person, before and after (migration 10): an approver's
 * approvals that let one operator bypass a governance schedule or export
 * records with numbers, for one file or every file of a purpose, until a
 * time (approval.h), kept as rows so that the gate (operator.h) finds
 * them; and the organisation's co-signatures of certificates that their
 * sanitizer signed with their own key (cert.h, spif_cert_cosign). */
#define SPIF_MIGRATION_SECOND \
	"CREATE TABLE approvals(" \
	" id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('bypass','export'))," \
	" file_id INTEGER REFERENCES files(id), purpose TEXT, for_uid INTEGER NOT NULL REFERENCES operators(uid)," \
	" approver_uid INTEGER NOT NULL, approver TEXT NOT NULL, reason TEXT NOT NULL," \
	" approved TEXT NOT NULL, expires TEXT NOT NULL, revoked TEXT, revoked_by TEXT," \
	" CHECK ((file_id IS NULL) != (purpose IS NULL)), CHECK (approver_uid != for_uid));" \
	"CREATE INDEX approvals_for ON approvals(for_uid, kind) WHERE revoked IS NULL;" \
	"CREATE TABLE cert_cosignatures(cert_id TEXT PRIMARY KEY REFERENCES certificates(id)," \
	" signer TEXT NOT NULL, signature TEXT NOT NULL, signed TEXT NOT NULL, event_seq INTEGER NOT NULL);"

/* Outputs being written under a hidden name (tempfile.h): a file system
 * without O_TMPFILE makes spif write -o to ".NAME.spif-XXXXXX" beside
 * it, and the name is recorded here, committed, before the file exists,
 * so that a run killed before its commit leaves a row that points at what
 * it left; catalog check and every writing command destroy it.  One row
 * per file being written; deleted when it is put in place or removed. */
#define SPIF_MIGRATION_TEMPFILES \
	"CREATE TABLE tempfiles(" \
	" path TEXT PRIMARY KEY, target TEXT NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL," \
	" created TEXT NOT NULL, command TEXT NOT NULL);" \
	"CREATE INDEX tempfiles_uid ON tempfiles(uid);"

/* Every checkpoint spif signs (checkpoint.h), not only the last: a
 * forensic bundle proves consistency from the last one issued before its
 * window, and whoever audits can list them.  size and root (hex) are the
 * note's own, repeated for queries; note is the signed note as issued.
 * Covered by the row triggers like every table: the row is recorded by
 * the "catalog.checkpoint" event that follows it, so a row rewritten
 * later shows in verify (and its note no longer verifies with the key). */
#define SPIF_MIGRATION_CHECKPOINTS \
	"CREATE TABLE checkpoints(" \
	" id INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL, root TEXT NOT NULL," \
	" note TEXT NOT NULL, created TEXT NOT NULL);" \
	"CREATE INDEX checkpoints_created ON checkpoints(created);"

/* A disclosure answer (開示請求, subject.h) ends when it is handed to the
 * person: the state 'delivered' (export.h, spif_export_delivered), which
 * the CHECK of exports did not allow.  SQLite cannot widen a CHECK: the
 * table is made anew with the same rows, as migration 5 did for copies;
 * export_files refers to exports and foreign keys are on, so its rows
 * wait in a temporary table while exports is replaced. */
#define SPIF_MIGRATION_DELIVERED \
	"CREATE TABLE exports_new(" \
	" id TEXT PRIMARY KEY, year INTEGER NOT NULL, n INTEGER NOT NULL," \
	" files TEXT NOT NULL, records INTEGER NOT NULL, persons INTEGER NOT NULL," \
	" recipients TEXT NOT NULL, organisation TEXT NOT NULL, person TEXT," \
	" basis TEXT NOT NULL, reason TEXT NOT NULL, operator TEXT NOT NULL, approver TEXT," \
	" medium TEXT REFERENCES media(id), seal TEXT, created TEXT NOT NULL, due TEXT," \
	" format TEXT NOT NULL, path TEXT NOT NULL, signer TEXT," \
	" archive_sha256 TEXT NOT NULL, archive_size INTEGER NOT NULL, checkout_sha256 TEXT NOT NULL," \
	" state TEXT NOT NULL DEFAULT 'out'" \
	"  CHECK (state IN ('out','returned','destroyed-by-recipient','lost','delivered'))," \
	" closed TEXT, closed_by TEXT, fate TEXT, event_seq INTEGER NOT NULL," \
	" UNIQUE (year, n));" \
	"INSERT INTO exports_new SELECT * FROM exports;" \
	"CREATE TEMP TABLE export_files_keep AS SELECT export_id, file_id, copy_id FROM export_files;" \
	"DROP TABLE export_files;" \
	"DROP TABLE exports;" \
	"ALTER TABLE exports_new RENAME TO exports;" \
	"CREATE INDEX exports_open ON exports(due) WHERE state = 'out';" \
	"CREATE TABLE export_files(" \
	" export_id TEXT NOT NULL REFERENCES exports(id), file_id INTEGER NOT NULL REFERENCES files(id)," \
	" copy_id INTEGER REFERENCES copies(id), PRIMARY KEY (export_id, file_id));" \
	"CREATE INDEX export_files_file ON export_files(file_id);" \
	"INSERT INTO export_files(export_id, file_id, copy_id) SELECT export_id, file_id, copy_id" \
	" FROM temp.export_files_keep;" \
	"DROP TABLE temp.export_files_keep;"

/* Numbered migrations: migrations[i] takes the schema from version i to
 * i + 1.  Never edit one that has shipped; add a new one. */
static const char *const migrations[] = {
	/* 1: files, copies, events */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE files("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" label TEXT NOT NULL, purpose TEXT NOT NULL, source TEXT,"
	" received TEXT NOT NULL, format TEXT NOT NULL, encoding TEXT NOT NULL,"
	" number_fields TEXT NOT NULL DEFAULT '[]',"
	" records INTEGER NOT NULL, persons INTEGER NOT NULL, invalid INTEGER NOT NULL DEFAULT 0,"
	" sha256 TEXT NOT NULL, created TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','redacted','disposed')),"
	" schedule TEXT, retain_until TEXT);"
	"CREATE INDEX files_state ON files(state);"
	"CREATE TABLE copies("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" file_id INTEGER REFERENCES files(id),"
	" kind TEXT NOT NULL CHECK (kind IN ('source','output','vault','encrypted','export','found')),"
	" path TEXT NOT NULL, sha256 TEXT, size INTEGER,"
	" encrypted INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'present' CHECK (state IN ('present','disposing','disposed')),"
	" details TEXT);"
	"CREATE INDEX copies_file ON copies(file_id);"
	"CREATE INDEX copies_path ON copies(path);"
	"CREATE TABLE events("
	" seq INTEGER PRIMARY KEY, time TEXT NOT NULL, operator TEXT NOT NULL, sudo_user TEXT,"
	" host TEXT NOT NULL, pid INTEGER NOT NULL, argv TEXT NOT NULL, action TEXT NOT NULL,"
	" object TEXT, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	/* append-only: the chain detects tampering, the triggers stop accidents */
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
	/* 2: disposal certificates and their confirmations by a second person */
	"CREATE TABLE certificates("
	" id TEXT PRIMARY KEY, year INTEGER NOT NULL, n INTEGER NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('disposal','redaction')),"
	" file_id INTEGER REFERENCES files(id), issued TEXT NOT NULL, operator TEXT NOT NULL,"
	" body TEXT NOT NULL, sha256 TEXT NOT NULL, signature TEXT, signer TEXT,"
	" event_seq INTEGER NOT NULL, UNIQUE (year, n));"
	"CREATE INDEX certificates_file ON certificates(file_id);"
	"CREATE TABLE certificate_copies("
	" cert_id TEXT NOT NULL REFERENCES certificates(id),"
	" copy_id INTEGER NOT NULL REFERENCES copies(id), PRIMARY KEY (cert_id, copy_id));"
	"CREATE TABLE confirmations("
	" cert_id TEXT PRIMARY KEY REFERENCES certificates(id), operator TEXT NOT NULL,"
	" confirmed TEXT NOT NULL, body TEXT NOT NULL, signature TEXT, signer TEXT,"
	" event_seq INTEGER NOT NULL);"
	/* a certificate, once issued, is never rewritten */
	"CREATE TRIGGER certificates_no_update BEFORE UPDATE ON certificates"
	" BEGIN SELECT RAISE(ABORT, 'certificates are immutable'); END;"
	"CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates"
	" BEGIN SELECT RAISE(ABORT, 'certificates are immutable'); END;",
	/* 3: the vault's keys: KEKs per disposal month (the key itself lives in
	 * $SPIF_HOME/keys/, never here) and each file's wrapped data key */
	"CREATE TABLE keks("
	" bucket TEXT PRIMARY KEY, created TEXT NOT NULL, key_file TEXT NOT NULL,"
	" check_value TEXT NOT NULL, custodian TEXT, custodian_wrapped TEXT,"
	" destroyed TEXT);"
	"CREATE TABLE data_keys("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" file_id INTEGER NOT NULL REFERENCES files(id), bucket TEXT NOT NULL REFERENCES keks(bucket),"
	" wrapped BLOB NOT NULL, created TEXT NOT NULL);"
	"CREATE INDEX data_keys_file ON data_keys(file_id);"
	"CREATE INDEX data_keys_bucket ON data_keys(bucket);",
	/* 4: retention: schedules, the dates a file's events give it, holds,
	 * each file's disposal date (indexed so that "what is due" visits only
	 * what is due), plans approved for a purge, and purges with their items
	 * (what a killed purge was doing, for the next one to finish) */
	"CREATE TABLE schedules("
	" name TEXT PRIMARY KEY, period TEXT NOT NULL, start TEXT NOT NULL,"
	" cutoff TEXT NOT NULL DEFAULT 'none', grace TEXT NOT NULL DEFAULT '0d',"
	" action TEXT NOT NULL CHECK (action IN ('shred','redact')),"
	" mode TEXT NOT NULL CHECK (mode IN ('governance','compliance')),"
	" basis TEXT, created TEXT NOT NULL,"
	" origin TEXT NOT NULL DEFAULT 'admin' CHECK (origin IN ('default','admin')));"
	"CREATE TABLE file_events("
	" file_id INTEGER NOT NULL REFERENCES files(id), name TEXT NOT NULL, date TEXT NOT NULL,"
	" recorded TEXT NOT NULL, PRIMARY KEY (file_id, name));"
	"CREATE TABLE holds("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" file_id INTEGER REFERENCES files(id), purpose TEXT,"
	" reason TEXT NOT NULL, placed_by TEXT NOT NULL, placed TEXT NOT NULL,"
	" released TEXT, released_by TEXT, release_reason TEXT,"
	" CHECK ((file_id IS NULL) <> (purpose IS NULL)));"
	"CREATE INDEX holds_file ON holds(file_id) WHERE released IS NULL AND file_id IS NOT NULL;"
	"CREATE INDEX holds_purpose ON holds(purpose) WHERE released IS NULL AND purpose IS NOT NULL;"
	"ALTER TABLE files ADD COLUMN dispose_on TEXT;"
	"ALTER TABLE files ADD COLUMN retain_floor TEXT;"
	"CREATE INDEX files_due ON files(state, schedule, dispose_on) WHERE dispose_on IS NOT NULL;"
	"CREATE INDEX certificates_issued ON certificates(issued);"
	"CREATE TABLE plans("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL UNIQUE, made TEXT NOT NULL,"
	" operator TEXT NOT NULL, as_of TEXT NOT NULL, entries INTEGER NOT NULL);"
	"CREATE TABLE purges("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT,"
	" operator TEXT NOT NULL, plan_id INTEGER REFERENCES plans(id), today TEXT NOT NULL,"
	" disposed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE purge_items("
	" purge_id INTEGER NOT NULL REFERENCES purges(id), file_id INTEGER NOT NULL REFERENCES files(id),"
	" action TEXT NOT NULL CHECK (action IN ('shred','redact')),"
	" state TEXT NOT NULL CHECK (state IN ('started','done','failed')),"
	" started TEXT NOT NULL, claim_seq INTEGER, finished TEXT, certificates TEXT, error TEXT,"
	" PRIMARY KEY (purge_id, file_id));"
	"CREATE INDEX purge_items_open ON purge_items(file_id) WHERE state = 'started';",
	/* 5: a copy can be "lost": gone outside spif (deleted by hand, a USB
	 * stick lost or handed back) and declared so, which settles it for
	 * disposal.  SQLite cannot widen a CHECK: the table is made anew with
	 * the same ids (and AUTOINCREMENT sequence), following SQLite's
	 * documented procedure.  certificate_copies refers to copies and
	 * foreign keys are on (and cannot be switched off in a transaction),
	 * so its rows wait in a temporary table while copies is replaced. */
	"CREATE TABLE copies_new("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" file_id INTEGER REFERENCES files(id),"
	" kind TEXT NOT NULL CHECK (kind IN ('source','output','vault','encrypted','export','found')),"
	" path TEXT NOT NULL, sha256 TEXT, size INTEGER,"
	" encrypted INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'present' CHECK (state IN ('present','disposing','disposed','lost')),"
	" details TEXT);"
	"INSERT INTO copies_new(id,file_id,kind,path,sha256,size,encrypted,created,state,details)"
	" SELECT id,file_id,kind,path,sha256,size,encrypted,created,state,details FROM copies;"
	"UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'copies')"
	" WHERE name = 'copies_new';"
	"CREATE TEMP TABLE certificate_copies_keep AS SELECT cert_id, copy_id FROM certificate_copies;"
	"DROP TABLE certificate_copies;"
	"DROP TABLE copies;"
	"ALTER TABLE copies_new RENAME TO copies;"
	"CREATE INDEX copies_file ON copies(file_id);"
	"CREATE INDEX copies_path ON copies(path);"
	"CREATE TABLE certificate_copies("
	" cert_id TEXT NOT NULL REFERENCES certificates(id),"
	" copy_id INTEGER NOT NULL REFERENCES copies(id), PRIMARY KEY (cert_id, copy_id));"
	"INSERT INTO certificate_copies(cert_id, copy_id) SELECT cert_id, copy_id FROM certificate_copies_keep;"
	"DROP TABLE temp.certificate_copies_keep;"
	/* and retention by default: the schedule a purpose's files get when
	 * ingested without --schedule (spif retain schedule bind) */
	"CREATE TABLE schedule_purposes("
	" purpose TEXT PRIMARY KEY, schedule TEXT NOT NULL REFERENCES schedules(name),"
	" bound TEXT NOT NULL, bound_by TEXT NOT NULL);",
	/* 6: who may do what (lib/operator.h): operators by real uid, their
	 * grants per purpose (and file), the refusals that count towards a
	 * lockout, and approved purge plans with their entries (the second
	 * person; the nightly purge applies them without the file).  The log's
	 * time is indexed for catalog log --since and catalog review. */
	"CREATE TABLE operators("
	" uid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, roles TEXT NOT NULL, key TEXT,"
	" sudo INTEGER NOT NULL DEFAULT 0,"
	" state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','locked','retired')),"
	" added TEXT NOT NULL, added_by TEXT NOT NULL, changed TEXT);"
	"CREATE TABLE grants("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, uid INTEGER NOT NULL REFERENCES operators(uid),"
	" purpose TEXT NOT NULL, file_id INTEGER REFERENCES files(id),"
	" granted TEXT NOT NULL, granted_by TEXT NOT NULL, revoked TEXT, revoked_by TEXT);"
	"CREATE INDEX grants_uid ON grants(uid) WHERE revoked IS NULL;"
	"CREATE TABLE refusals("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, uid INTEGER NOT NULL,"
	" operator TEXT NOT NULL, action TEXT NOT NULL, event_seq INTEGER);"
	"CREATE INDEX refusals_uid ON refusals(uid, time);"
	"CREATE TABLE plan_approvals("
	" plan_id INTEGER PRIMARY KEY REFERENCES plans(id), approver TEXT NOT NULL,"
	" approved TEXT NOT NULL, event_seq INTEGER NOT NULL);"
	"CREATE TABLE plan_entries("
	" plan_id INTEGER NOT NULL REFERENCES plans(id), file_id INTEGER NOT NULL REFERENCES files(id),"
	" PRIMARY KEY (plan_id, file_id));"
	"CREATE INDEX events_time ON events(time);",
	/* 7: every row under the audit log (auditlog.h): the rows a
	 * transaction changed, waiting for its event (the triggers that fill
	 * it are generated from the tables' columns after the migrations,
	 * spif_auditlog_migrated); the Merkle tree's tiles (auditlog_tree.h);
	 * each certificate's inclusion proof under a signed checkpoint
	 * (checkpoint.h), found by its event */
	"CREATE TABLE pending_rows(seq INTEGER PRIMARY KEY, tx INTEGER NOT NULL, tbl TEXT NOT NULL, pk TEXT,"
	" hash TEXT);"
	"CREATE TABLE merkle(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
	" PRIMARY KEY (level, idx)) WITHOUT ROWID;"
	"CREATE TABLE cert_proofs(cert_id TEXT PRIMARY KEY REFERENCES certificates(id),"
	" tree_size INTEGER NOT NULL, proof TEXT NOT NULL);"
	"CREATE INDEX certificates_event ON certificates(event_seq);",
	/* 8: checkouts (持出し簿) and the media they travel on (export.h, media.h) */
	SPIF_MIGRATION_EXPORTS,
	/* 9: incidents, and which holds are theirs (incident.h) */
	SPIF_MIGRATION_INCIDENTS,
	/* 10: the second person: approvals before the act, co-signatures after */
	SPIF_MIGRATION_SECOND,
	/* 11: hidden outputs being written (tempfile.h) */
	SPIF_MIGRATION_TEMPFILES,
	/* 12: every checkpoint, not only the last (checkpoint.h) */
	SPIF_MIGRATION_CHECKPOINTS,
	/* 13: a disclosure answer delivered to the person (export.h) */
	SPIF_MIGRATION_DELIVERED,
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof *migrations))

int spif_catalog_step_done(struct spif_catalog *c, sqlite3_stmt *st, const char *what, struct spif_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, what, err);
}

int spif_catalog_sqlerr(struct spif_catalog *c, int rc, const char *what, struct spif_err *err)
{
	int prim = rc & 0xff;
	int code = SPIF_EX_SOFTWARE;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		code = SPIF_EX_TEMPFAIL;
	else if (prim == SQLITE_FULL || prim == SQLITE_IOERR || prim == SQLITE_CANTOPEN)
		code = SPIF_EX_IOERR;
	else if (prim == SQLITE_READONLY || prim == SQLITE_PERM || prim == SQLITE_AUTH)
		code = SPIF_EX_NOPERM;
	else if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
		code = SPIF_EX_DATAERR;
	const char *msg = c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
	if (code == SPIF_EX_TEMPFAIL)
		return spif_err_set(err, code, "%s: the catalog is busy (another spif is writing); try again", what);
	return spif_err_set(err, code, "%s: %s: %s", c ? c->path : "catalog", what, msg);
}

int spif_catalog_exec(struct spif_catalog *c, const char *sql, struct spif_err *err)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return spif_catalog_sqlerr(c, rc, "exec", err);
	return 0;
}

int spif_catalog_prepare(struct spif_catalog *c, const char *sql, sqlite3_stmt **st,
                         struct spif_err *err)
{
	int rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK)
		return spif_catalog_sqlerr(c, rc, "prepare", err);
	return 0;
}

/* Parsing SQL was a third of the CPU of certifying a small file: a run
 * that disposes of thousands prepares each statement once.  The key is
 * the text's address (a string literal), with strcmp for the same text
 * compiled elsewhere. */
int spif_catalog_cached(struct spif_catalog *c, const char *sql, sqlite3_stmt **st,
                        struct spif_err *err)
{
	for (int i = 0; i < c->ncache; i++)
		if (c->cache[i].sql == sql || strcmp(c->cache[i].sql, sql) == 0) {
			*st = c->cache[i].st;
			/* a caller that forgot to release must not leak its
			 * bindings or its open read into this use */
			sqlite3_reset(*st);
			sqlite3_clear_bindings(*st);
			return 0;
		}
	if (c->ncache == STMT_CACHE)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "catalog: statement cache full");
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	if (rc != SQLITE_OK)
		return spif_catalog_sqlerr(c, rc, "prepare", err);
	c->cache[c->ncache].sql = sql;
	c->cache[c->ncache++].st = *st;
	return 0;
}

void spif_catalog_release(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

int spif_catalog_begin(struct spif_catalog *c, struct spif_err *err)
{
	int rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return spif_catalog_sqlerr(c, rc, "begin", err);
	c->in_tx = 1;
	return 0;
}

int spif_catalog_commit(struct spif_catalog *c, struct spif_err *err)
{
	/* rows changed after the transaction's last event get one of their own */
	if (spif_auditlog_flush(c, err) < 0) {
		spif_catalog_rollback(c);
		return -1;
	}
	int rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		spif_catalog_sqlerr(c, rc, "commit", err);
		spif_catalog_rollback(c);
		return -1;
	}
	c->in_tx = 0;
	return 0;
}

void spif_catalog_rollback(struct spif_catalog *c)
{
	if (c->in_tx || !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	c->in_tx = 0;
}

int spif_catalog_in_tx(const struct spif_catalog *c)
{
	return c->in_tx;
}

int spif_catalog_need_tx(struct spif_catalog *c, const char *fn, struct spif_err *err)
{
	if (!spif_catalog_in_tx(c))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: must be called inside a transaction", fn);
	return 0;
}

const char *spif_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

void spif_col_copy(sqlite3_stmt *st, int i, char *out, size_t n)
{
	snprintf(out, n, "%s", spif_col_text(st, i));
}

static int user_version(struct spif_catalog *c)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

int spif_catalog_schema_version(struct spif_catalog *c)
{
	return user_version(c);
}

static int load_id(struct spif_catalog *c, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT value FROM meta WHERE key='catalog_id'", &st, err) < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(c->id, sizeof c->id, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

/* Bring the schema up to date in one transaction. */
static int migrate(struct spif_catalog *c, struct spif_err *err)
{
	int v = user_version(c);
	if (v > NMIGRATIONS)
		return spif_err_set(err, SPIF_EX_SOFTWARE,
		                    "%s: schema version %d is newer than this spif knows (%d); upgrade spif",
		                    c->path, v, NMIGRATIONS);
	if (v == NMIGRATIONS)
		return load_id(c, err);
	if (spif_catalog_begin(c, err) < 0)
		return -1;
	v = user_version(c); /* another process may have migrated meanwhile */
	for (; v < NMIGRATIONS; v++) {
		if (spif_catalog_exec(c, migrations[v], err) < 0)
			goto fail;
		if (v == 0) {
			unsigned char rnd[16];
			char hex[33], now[32], sql[256];
			gcry_create_nonce(rnd, sizeof rnd);
			spif_hex(rnd, sizeof rnd, hex);
			spif_now_utc(now);
			snprintf(sql, sizeof sql,
			         "INSERT INTO meta(key,value) VALUES('catalog_id','%s'),('created','%s')",
			         hex, now);
			if (spif_catalog_exec(c, sql, err) < 0)
				goto fail;
		}
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", v + 1);
		if (spif_catalog_exec(c, pragma, err) < 0)
			goto fail;
	}
	/* the triggers, tiles and first record of rows (an event needs an
	 * actor: a catalog opened to be read gets one for this) */
	if (!c->actor.argv_json && spif_actor_init(&c->actor, 0, NULL, err) < 0)
		goto fail;
	if (spif_auditlog_migrated(c, err) < 0)
		goto fail;
	if (spif_catalog_commit(c, err) < 0)
		return -1;
	return load_id(c, err);
fail:
	spif_catalog_rollback(c);
	return -1;
}

static int check_catalog_perms(const char *path, const struct spif_conf *conf, struct spif_err *err)
{
	static const char *const sfx[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX + 8];
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		if (spif_check_perms(p, conf, err) < 0)
			return -1;
	}
	return 0;
}

/* "file:" URI for path, every byte but [A-Za-z0-9/._~-] percent-encoded. */
static void file_uri(const char *path, const char *query, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	o += (size_t)snprintf(out, n, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < n; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._~-", *p))
			out[o++] = (char)*p;
		else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	snprintf(out + o, n - o, "?%s", query);
}

/* A catalog that cannot be written here -- a copy on read-only media kept
 * as evidence, or one this user may only read -- is opened read-only:
 * with its WAL when SQLite can share it, else as an immutable file (then a
 * WAL left beside it is not read, and *note says so). */
static int open_readonly(struct spif_catalog *c, const char **note, struct spif_err *err)
{
	char uri[3 * PATH_MAX + 64];
	file_uri(c->path, "mode=ro", uri, sizeof uri);
	int rc = sqlite3_open_v2(uri, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW |
	                         SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(c->db);
		c->db = NULL;
		file_uri(c->path, "mode=ro&immutable=1", uri, sizeof uri);
		rc = sqlite3_open_v2(uri, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW |
		                     SQLITE_OPEN_NOMUTEX, NULL);
		char wal[PATH_MAX + 8];
		struct stat st;
		snprintf(wal, sizeof wal, "%s-wal", c->path);
		if (rc == SQLITE_OK && stat(wal, &st) == 0 && st.st_size > 0)
			*note = "catalog.db-wal is not empty but cannot be read here (read-only); what is shown "
			        "ends at the catalog's last checkpoint";
	}
	if (rc != SQLITE_OK)
		return spif_catalog_sqlerr(c, rc, "open read-only", err);
	if (spif_auditlog_attach(c->db, &c->al, err) < 0)
		return -1;
	int v = user_version(c);
	if (v != NMIGRATIONS)
		return spif_err_set(err, SPIF_EX_DATAERR,
		                    "%s: schema version %d, this spif reads %d; open it once where it can be "
		                    "written", c->path, v, NMIGRATIONS);
	return load_id(c, err);
}

int spif_catalog_open(const char *home, const struct spif_conf *conf, int flags,
                      const struct spif_actor *actor, struct spif_catalog **out,
                      struct spif_err *err)
{
	*out = NULL;
	if (spif_crypto_init(err) < 0)
		return -1;
	struct spif_catalog *c = calloc(1, sizeof *c);
	if (!c)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	snprintf(c->home, sizeof c->home, "%s", home);
	snprintf(c->path, sizeof c->path, "%s/catalog.db", home);
	c->conf = *conf;
	if (actor) {
		c->actor = *actor;
		c->actor.argv_json = actor->argv_json ? strdup(actor->argv_json) : NULL;
	}
	struct stat st;
	int exists = stat(c->path, &st) == 0;
	if (!exists && !(flags & SPIF_CAT_CREATE)) {
		spif_err_set(err, SPIF_EX_NOINPUT, "%s: no catalog yet (nothing has been ingested)", c->path);
		goto fail;
	}
	if (flags & SPIF_CAT_CREATE) {
		if (spif_home_prepare(home, conf, err) < 0)
			goto fail;
	} else if (spif_check_perms(home, conf, err) < 0)
		goto fail;
	if (check_catalog_perms(c->path, conf, err) < 0)
		goto fail;
	if ((flags & SPIF_CAT_READONLY) && exists &&
	    /* effective ids: a system install's commands are setgid (home.h) */
	    (faccessat(AT_FDCWD, home, W_OK, AT_EACCESS) != 0 ||
	     faccessat(AT_FDCWD, c->path, W_OK, AT_EACCESS) != 0)) {
		if (open_readonly(c, &c->note, err) < 0)
			goto fail;
		*out = c;
		return 0;
	}
	/* new files 0600 (0660 for a group install): sqlite uses the umask */
	mode_t old = umask(conf->group[0] ? 007 : 077);
	/* one thread uses a connection at a time (verify's second thread
	 * never calls SQLite): without SQLite's own mutex around every call,
	 * which was a tenth of verify's time */
	int rc = sqlite3_open_v2(c->path, &c->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
	                         SQLITE_OPEN_NOMUTEX, NULL);
	/* wait for another writer before anything, the WAL pragma included:
	 * a pipe of spif commands opens one catalog from several processes */
	if (rc == SQLITE_OK)
		sqlite3_busy_timeout(c->db, 10000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		spif_catalog_sqlerr(c, rc, "open", err);
		goto fail;
	}
	if (spif_auditlog_attach(c->db, &c->al, err) < 0)
		goto fail;
	if (spif_catalog_exec(c, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
	                         " PRAGMA secure_delete=ON;", err) < 0)
		goto fail;
	/* SQLite creates 0644 less the umask; spif wants exactly 0600 (0660 in
	 * the configured group), and the WAL and shm files follow the database */
	if (!exists) {
		static const char *const sfx[] = {"", "-wal", "-shm"};
		for (size_t i = 0; i < 3; i++) {
			char p[PATH_MAX + 8];
			snprintf(p, sizeof p, "%s%s", c->path, sfx[i]);
			if (conf->group[0] && chown(p, (uid_t)-1, conf->gid) < 0 && errno != ENOENT) {
				spif_err_sys(err, SPIF_EX_NOPERM, errno, "%s: chgrp %s", p, conf->group);
				goto fail;
			}
			if (chmod(p, spif_file_mode(conf)) < 0 && errno != ENOENT) {
				spif_err_sys(err, SPIF_EX_NOPERM, errno, "%s", p);
				goto fail;
			}
		}
	}
	if (migrate(c, err) < 0)
		goto fail;
	if (check_catalog_perms(c->path, conf, err) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	spif_catalog_close(c);
	return -1;
}

void spif_catalog_close(struct spif_catalog *c)
{
	if (!c)
		return;
	if (c->db) {
		spif_catalog_rollback(c);
		for (int i = 0; i < c->ncache; i++)
			sqlite3_finalize(c->cache[i].st);
		spif_auditlog_free(c->al);
		sqlite3_close(c->db);
	}
	free(c->actor.argv_json);
	free(c);
}

sqlite3 *spif_catalog_db(struct spif_catalog *c) { return c->db; }
const char *spif_catalog_note(const struct spif_catalog *c) { return c->note; }
const char *spif_catalog_id(const struct spif_catalog *c) { return c->id; }
const char *spif_catalog_home(const struct spif_catalog *c) { return c->home; }
const struct spif_actor *spif_catalog_actor(const struct spif_catalog *c) { return &c->actor; }
struct spif_auditlog *spif_catalog_auditlog(struct spif_catalog *c) { return c->al; }
const struct spif_conf *spif_catalog_conf(const struct spif_catalog *c) { return &c->conf; }

const char *const *spif_catalog_migrations(int *n)
{
	*n = NMIGRATIONS;
	return migrations;
}

long long spif_id_parse(const char *s, char letter)
{
	if (*s == letter || *s == letter + ('a' - 'A'))
		s++;
	if (!*s)
		return -1;
	long long v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000000LL)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > 0 ? v : -1;
}

long long spif_file_id_parse(const char *s)
{
	return spif_id_parse(s, 'F');
}

void spif_file_id_format(long long id, char out[24])
{
	snprintf(out, 24, "F%06lld", id);
}

void spif_file_id_in_records(const char *text, size_t n, char fid[24])
{
	static const char pre[] = "{\"@file\":\"";
	fid[0] = '\0';
	if (n < sizeof pre || memcmp(text, pre, sizeof pre - 1) != 0)
		return;
	const char *s = text + sizeof pre - 1, *q = memchr(s, '"', n - (sizeof pre - 1));
	if (!q || q - s >= 24)
		return;
	char id[24];
	memcpy(id, s, (size_t)(q - s));
	id[q - s] = '\0';
	long long v = spif_file_id_parse(id);
	if (v > 0)
		spif_file_id_format(v, fid);
}

static const char *const file_states[] = {"active", "redacted", "disposed"};
static const char *const copy_states[] = {"present", "disposing", "disposed", "lost"};

static int state_parse(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *spif_file_state_name(enum spif_file_state s)
{
	return (unsigned)s < 3 ? file_states[s] : "?";
}

int spif_file_state_parse(const char *name)
{
	return state_parse(file_states, 3, name);
}

const char *spif_copy_state_name(enum spif_copy_state s)
{
	return (unsigned)s < 4 ? copy_states[s] : "?";
}

int spif_copy_state_parse(const char *name)
{
	return state_parse(copy_states, 4, name);
}

int spif_copy_settled(enum spif_copy_state s)
{
	return s == SPIF_COPY_DISPOSED || s == SPIF_COPY_LOST;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

void spif_file_from_row(sqlite3_stmt *st, struct spif_file *f)
{
	f->id = sqlite3_column_int64(st, 0);
	f->label = col_dup(st, 1);
	f->purpose = col_dup(st, 2);
	f->source = col_dup(st, 3);
	f->received = col_dup(st, 4);
	f->format = col_dup(st, 5);
	f->encoding = col_dup(st, 6);
	f->number_fields = col_dup(st, 7);
	f->records = sqlite3_column_int64(st, 8);
	f->persons = sqlite3_column_int64(st, 9);
	f->invalid = sqlite3_column_int64(st, 10);
	f->sha256 = col_dup(st, 11);
	f->created = col_dup(st, 12);
	/* the schema's CHECK admits only the names parse knows */
	int s = spif_file_state_parse((const char *)sqlite3_column_text(st, 13));
	f->state = s < 0 ? SPIF_FILE_ACTIVE : (enum spif_file_state)s;
	f->schedule = col_dup(st, 14);
	f->retain_until = col_dup(st, 15);
}

void spif_copy_from_row(sqlite3_stmt *st, struct spif_copy *cp)
{
	memset(cp, 0, sizeof *cp);
	cp->id = sqlite3_column_int64(st, 0);
	cp->file_id = sqlite3_column_int64(st, 1);
	cp->kind = col_dup(st, 2);
	cp->path = col_dup(st, 3);
	cp->sha256 = col_dup(st, 4);
	cp->size = sqlite3_column_int64(st, 5);
	cp->encrypted = sqlite3_column_int(st, 6);
	cp->created = col_dup(st, 7);
	int s = spif_copy_state_parse((const char *)sqlite3_column_text(st, 8));
	cp->state = s < 0 ? SPIF_COPY_PRESENT : (enum spif_copy_state)s;
	cp->details = col_dup(st, 9);
}

void spif_file_free(struct spif_file *f)
{
	free(f->label); free(f->purpose); free(f->source); free(f->received);
	free(f->format); free(f->encoding); free(f->number_fields); free(f->sha256);
	free(f->created); free(f->schedule); free(f->retain_until);
	memset(f, 0, sizeof *f);
}

void spif_copy_free(struct spif_copy *c)
{
	free(c->kind); free(c->path); free(c->sha256); free(c->created);
	free(c->details);
	memset(c, 0, sizeof *c);
}

void spif_copies_free(struct spif_copy *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		spif_copy_free(&v[i]);
	free(v);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int spif_catalog_add_file(struct spif_catalog *c, struct spif_file *f, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c,
	        "INSERT INTO files(label,purpose,source,received,format,encoding,number_fields,"
	        "records,persons,invalid,sha256,created,state,schedule,retain_until)"
	        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st, err) < 0)
		return -1;
	bind_text(st, 1, f->label);
	bind_text(st, 2, f->purpose);
	bind_text(st, 3, f->source);
	bind_text(st, 4, f->received);
	bind_text(st, 5, f->format);
	bind_text(st, 6, f->encoding);
	bind_text(st, 7, f->number_fields ? f->number_fields : "[]");
	sqlite3_bind_int64(st, 8, f->records);
	sqlite3_bind_int64(st, 9, f->persons);
	sqlite3_bind_int64(st, 10, f->invalid);
	bind_text(st, 11, f->sha256);
	bind_text(st, 12, f->created);
	bind_text(st, 13, spif_file_state_name(f->state));
	bind_text(st, 14, f->schedule);
	bind_text(st, 15, f->retain_until);
	int rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "add file", err);
	f->id = sqlite3_last_insert_rowid(c->db);
	return 0;
}

int spif_catalog_add_copy(struct spif_catalog *c, struct spif_copy *cp, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c,
	        "INSERT INTO copies(file_id,kind,path,sha256,size,encrypted,created,state,details)"
	        " VALUES(?,?,?,?,?,?,?,?,?)", &st, err) < 0)
		return -1;
	if (cp->file_id > 0)
		sqlite3_bind_int64(st, 1, cp->file_id);
	else
		sqlite3_bind_null(st, 1);
	bind_text(st, 2, cp->kind);
	bind_text(st, 3, cp->path);
	bind_text(st, 4, cp->sha256);
	sqlite3_bind_int64(st, 5, cp->size);
	sqlite3_bind_int(st, 6, cp->encrypted);
	bind_text(st, 7, cp->created);
	bind_text(st, 8, spif_copy_state_name(cp->state));
	bind_text(st, 9, cp->details);
	int rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "add copy", err);
	cp->id = sqlite3_last_insert_rowid(c->db);
	return 0;
}

int spif_catalog_set_copy_state(struct spif_catalog *c, long long copy_id, enum spif_copy_state state,
                                struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "UPDATE copies SET state = ? WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, spif_copy_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, copy_id);
	int rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "set copy state", err);
	return 0;
}

int spif_catalog_get_file(struct spif_catalog *c, long long id, struct spif_file *f,
                          struct spif_err *err)
{
	sqlite3_stmt *st;
	memset(f, 0, sizeof *f);
	if (spif_catalog_cached(c, "SELECT " SPIF_FILE_COLUMNS " FROM files WHERE id=?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		spif_file_from_row(st, f);
	spif_catalog_release(st);
	if (rc == SQLITE_ROW)
		return 0;
	char fid[24];
	spif_file_id_format(id, fid);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no file %s in the catalog", fid);
	return spif_catalog_sqlerr(c, rc, "get file", err);
}

int spif_copies_read(struct spif_catalog *c, sqlite3_stmt *st, const char *what, struct spif_copy **out,
                     size_t *n, struct spif_err *err)
{
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *p = *out;
		if (spif_grow(&p, &cap, *n + 1, sizeof **out) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		*out = p;
		spif_copy_from_row(st, &(*out)[(*n)++]);
	}
	if (rc == SQLITE_DONE)
		return 0;
	spif_copies_free(*out, *n);
	*out = NULL;
	*n = 0;
	if (rc == SQLITE_NOMEM)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return spif_catalog_sqlerr(c, rc, what, err);
}

int spif_catalog_get_copies(struct spif_catalog *c, long long file_id, struct spif_copy **out,
                            size_t *n, struct spif_err *err)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (spif_catalog_cached(c, "SELECT " SPIF_COPY_COLUMNS " FROM copies WHERE file_id=? ORDER BY id",
	                        &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, file_id);
	int rc = spif_copies_read(c, st, "get copies", out, n, err);
	spif_catalog_release(st);
	return rc;
}

/* The real clock, always: the audit log, certificates and what a purge
 * finds due must not be steerable from the environment (a variable that
 * set the date would let anyone dispose of files early and stamp the log
 * with a false time). */
static time_t now_time(long *ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*ms = ts.tv_nsec / 1000000;
	return ts.tv_sec;
}

void spif_now_utc(char out[32])
{
	long ms;
	time_t t = now_time(&ms);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[24];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", buf, (int)(ms % 1000));
}

void spif_today(char out[11])
{
	long ms;
	spif_day_format(spif_legal_day(now_time(&ms)), out);
}

/* ---- the catalog's own files, through SQLite's handles ------------------ */

static sqlite3_file *sqlite_file(struct spif_catalog *c, int op)
{
	sqlite3_file *f = NULL;
	if (sqlite3_file_control(c->db, "main", op, &f) != SQLITE_OK || !f || !f->pMethods)
		return NULL;
	return f;
}

int spif_catalog_sync(struct spif_catalog *c, struct spif_err *err)
{
	static const int ops[] = {SQLITE_FCNTL_FILE_POINTER, SQLITE_FCNTL_JOURNAL_POINTER};
	for (size_t i = 0; i < 2; i++) {
		sqlite3_file *f = sqlite_file(c, ops[i]);
		if (!f) /* no WAL open: nothing of it to sync */
			continue;
		int rc = f->pMethods->xSync(f, SQLITE_SYNC_FULL);
		if (rc != SQLITE_OK)
			return spif_err_set(err, SPIF_EX_IOERR, "%s%s: fsync: %s", c->path, i ? "-wal" : "",
			                    sqlite3_errstr(rc));
	}
	return 0;
}

/* Where a needle may start: a bitmap of the needles' first four bytes, so
 * that a search for hundreds of keys is still one pass. */
#define NEEDLE_BITS 20

static uint32_t needle_slot(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return (v * 2654435761u) >> (32 - NEEDLE_BITS);
}

static int scan_file(sqlite3_file *f, const unsigned char (*needles)[40], size_t n, const unsigned char *bits)
{
	sqlite3_int64 size = 0;
	if (f->pMethods->xFileSize(f, &size) != SQLITE_OK)
		return 1;
	const size_t win = 1 << 20;
	unsigned char *buf = malloc(win + 40);
	if (!buf)
		return 1;
	int found = 0;
	size_t have = 0;
	for (sqlite3_int64 off = 0; off < size && !found;) {
		size_t want = size - off < (sqlite3_int64)win ? (size_t)(size - off) : win;
		int rc = f->pMethods->xRead(f, buf + have, (int)want, off);
		if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
			found = 1; /* unreadable: not proved absent */
			break;
		}
		off += (sqlite3_int64)want;
		have += want;
		for (size_t i = 0; i + 40 <= have && !found; i++) {
			uint32_t s = needle_slot(buf + i);
			if (!(bits[s >> 3] & (1u << (s & 7))))
				continue;
			for (size_t k = 0; k < n && !found; k++)
				found = memcmp(buf + i, needles[k], 40) == 0;
		}
		/* keep the tail: a needle may straddle two reads */
		if (have > 39) {
			memmove(buf, buf + have - 39, 39);
			have = 39;
		}
	}
	explicit_bzero(buf, win + 40);
	free(buf);
	return found;
}

int spif_catalog_files_contain(struct spif_catalog *c, const unsigned char (*needles)[40], size_t n)
{
	if (!n)
		return 0;
	unsigned char *bits = calloc(1, (1u << NEEDLE_BITS) / 8);
	if (!bits)
		return 1;
	for (size_t k = 0; k < n; k++) {
		uint32_t s = needle_slot(needles[k]);
		bits[s >> 3] |= (unsigned char)(1u << (s & 7));
	}
	int found = 0;
	sqlite3_file *db = sqlite_file(c, SQLITE_FCNTL_FILE_POINTER);
	sqlite3_file *wal = sqlite_file(c, SQLITE_FCNTL_JOURNAL_POINTER);
	if (!db)
		found = 1;
	else
		found = scan_file(db, needles, n, bits) || (wal && scan_file(wal, needles, n, bits));
	free(bits);
	return found;
}
