/* catalog_priv.h - the catalog's SQL side, for lib/ only: the SQLite
 * handle, statements, and filling file and copy structs from rows.
 *
 * Commands never run SQL (no SQL outside lib/): what they need from the
 * catalog is a function in the module that owns the subject (catalog.h,
 * catalog_query.h, cert.h, vault.h, ...), which returns structs and
 * errors as values.  Included by lib/ sources only. */
#ifndef SPIF_CATALOG_PRIV_H
#define SPIF_CATALOG_PRIV_H

#include <jansson.h>
#include <sqlite3.h>

#include "catalog.h"

sqlite3 *spif_catalog_db(struct spif_catalog *c);

/* Run one SQL statement with no result; -1 with err on failure. */
int spif_catalog_exec(struct spif_catalog *c, const char *sql, struct spif_err *err);
/* Prepare; -1 with err. */
int spif_catalog_prepare(struct spif_catalog *c, const char *sql, sqlite3_stmt **st,
                         struct spif_err *err);
/* A prepared statement kept for the life of the connection, for the
 * statements a purge runs thousands of times (preparing them again each
 * time was half its work).  sql is the key (a string literal: by address,
 * else by text).  Give it back with spif_catalog_release when done, never
 * finalize it: an un-reset statement would keep a read open. */
int spif_catalog_cached(struct spif_catalog *c, const char *sql, sqlite3_stmt **st, struct spif_err *err);
/* Reset a cached statement and clear its bindings (NULL is fine). */
void spif_catalog_release(sqlite3_stmt *st);

/* The events table's columns, in the order of the canonical encoding,
 * for a SELECT whose rows spif_event_json reads. */
#define SPIF_EVENT_COLUMNS "seq,time,operator,sudo_user,host,pid,argv,action,object,details,prev_hash,hash"
/* A row selected as SPIF_EVENT_COLUMNS, as the log holds it: each field
 * the text stored (NULL as null), so that its fields hash to its chain
 * hash (the event in an inclusion proof, in a forensic bundle). */
json_t *spif_event_json(sqlite3_stmt *st);

/* 0 inside a transaction; else -1 with SPIF_EX_SOFTWARE "FN: must be
 * called inside a transaction": for a function whose changes must commit
 * with the caller's event, never on their own. */
/* Step a statement that returns no row, and finalize it: 0, or -1 with
 * err naming what (the one way every lib module ends an INSERT/UPDATE). */
int spif_catalog_step_done(struct spif_catalog *c, sqlite3_stmt *st, const char *what, struct spif_err *err);
int spif_catalog_need_tx(struct spif_catalog *c, const char *fn, struct spif_err *err);
/* Column i of a row as text, "" for NULL. */
const char *spif_col_text(sqlite3_stmt *st, int i);
/* The same into a fixed buffer of n bytes (cut to fit). */
void spif_col_copy(sqlite3_stmt *st, int i, char *out, size_t n);

/* Turn an SQLite failure into err (SPIF_EX_TEMPFAIL for BUSY/LOCKED,
 * SPIF_EX_IOERR for FULL/IOERR, SPIF_EX_SOFTWARE otherwise). */
int spif_catalog_sqlerr(struct spif_catalog *c, int rc, const char *what, struct spif_err *err);

/* Fill a file struct from a statement's columns (SELECT of FILE_COLUMNS);
 * st is set from state. */
#define SPIF_FILE_COLUMNS "id,label,purpose,source,received,format,encoding,number_fields," \
	"records,persons,invalid,sha256,created,state,schedule,retain_until"
void spif_file_from_row(sqlite3_stmt *st, struct spif_file *f);
/* The same for a copy (SELECT of SPIF_COPY_COLUMNS; file_id NULL reads 0). */
#define SPIF_COPY_COLUMNS "id,file_id,kind,path,sha256,size,encrypted,created,state,details"
void spif_copy_from_row(sqlite3_stmt *st, struct spif_copy *cp);

/* Every row of st (a SELECT of SPIF_COPY_COLUMNS, bound) into a new
 * array *out of *n copies; st is left for the caller to reset or
 * finalize.  what names the query in an error. */
int spif_copies_read(struct spif_catalog *c, sqlite3_stmt *st, const char *what, struct spif_copy **out,
                     size_t *n, struct spif_err *err);

#endif
