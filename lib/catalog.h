/* catalog.h - the SQLite catalog: every specific personal information file,
 * every copy of it, and (through audit.h) the log of what was done.
 * See spif-catalog(5).
 *
 * One catalog per home: $SPIF_HOME/catalog.db, WAL mode, schema changes as
 * numbered migrations applied on open.  Every state change happens inside
 * spif_catalog_begin/commit together with its audit event.  The catalog
 * never holds a full Individual Number, nor a hash of one: counts only. */
#ifndef SPIF_CATALOG_H
#define SPIF_CATALOG_H

#include "err.h"
#include "home.h"

struct spif_catalog;

/* Who is acting, for the audit log; filled by spif_actor_init (audit.h). */
struct spif_actor {
	char operator_[64];  /* login name of the real uid */
	char sudo_user[64];  /* $SUDO_USER as given (recorded, not trusted) */
	char host[256];
	long pid;
	char *argv_json;     /* JSON array of the arguments, numbers masked */
};

#define SPIF_CAT_CREATE 1 /* create home and catalog when missing */
#define SPIF_CAT_READONLY 2 /* the caller only reads: where the catalog cannot be
                               written (read-only media, a reader without write
                               permission) it is opened read-only, not refused */

/* Open (and migrate) the catalog in home.  Without SPIF_CAT_CREATE a
 * missing catalog is SPIF_EX_NOINPUT.  Permissions are checked (home.h):
 * SPIF_EX_NOPERM when others could write it.  actor may be NULL for
 * read-only use; it is copied. */
int spif_catalog_open(const char *home, const struct spif_conf *conf, int flags,
                      const struct spif_actor *actor, struct spif_catalog **out,
                      struct spif_err *err);
void spif_catalog_close(struct spif_catalog *c);
/* What the user should know about how the catalog was opened (a read-only
 * copy whose WAL could not be read), or NULL. */
const char *spif_catalog_note(const struct spif_catalog *c);
const char *spif_catalog_id(const struct spif_catalog *c);   /* random, fixed at creation */
const char *spif_catalog_home(const struct spif_catalog *c);
const struct spif_actor *spif_catalog_actor(const struct spif_catalog *c);
int spif_catalog_schema_version(struct spif_catalog *c);

/* A write transaction (BEGIN IMMEDIATE).  Another writer holding the
 * catalog for longer than the busy timeout is SPIF_EX_TEMPFAIL. */
int spif_catalog_begin(struct spif_catalog *c, struct spif_err *err);
int spif_catalog_commit(struct spif_catalog *c, struct spif_err *err);
void spif_catalog_rollback(struct spif_catalog *c);
int spif_catalog_in_tx(const struct spif_catalog *c);

/* fsync catalog.db and its WAL through SQLite's own file handles.  Never
 * open and close another descriptor on them in a process that has the
 * catalog open: closing any descriptor of a file drops every POSIX lock
 * the process holds on it, and another process could then take this one
 * for gone and reset the WAL under it (corruption). */
int spif_catalog_sync(struct spif_catalog *c, struct spif_err *err);
/* Does any of the n 40-byte needles (random key material) occur in the
 * raw bytes of catalog.db or its WAL?  Read through SQLite's handles, one
 * pass whatever n is.  1 yes (or unreadable: not proved absent), 0 no. */
int spif_catalog_files_contain(struct spif_catalog *c, const unsigned char (*needles)[40], size_t n);

/* The states a file and a copy go through (the schema's CHECKs list the
 * same names).  A file: active, then redacted (its numbers removed, the
 * records kept) and/or disposed (no copy left).  A copy: present, then
 * disposing (marked before a byte is destroyed, see dispose.h), then
 * disposed; or lost: gone outside spif and declared so (spif catalog copy
 * lost), which settles it as disposed does, without a claim that anything
 * was destroyed.  The zero value of each is the state a new row starts in. */
enum spif_file_state { SPIF_FILE_ACTIVE = 0, SPIF_FILE_REDACTED, SPIF_FILE_DISPOSED };
enum spif_copy_state { SPIF_COPY_PRESENT = 0, SPIF_COPY_DISPOSING, SPIF_COPY_DISPOSED, SPIF_COPY_LOST };

/* "active" ... <-> enum; parse returns -1 for a name that is not a state. */
const char *spif_file_state_name(enum spif_file_state s);
int spif_file_state_parse(const char *name);
const char *spif_copy_state_name(enum spif_copy_state s);
int spif_copy_state_parse(const char *name);
/* Nothing is left to do for a copy in this state: disposed, or lost. */
int spif_copy_settled(enum spif_copy_state s);

/* A file as the catalog knows it.  Strings are owned by the struct. */
struct spif_file {
	long long id;
	char *label, *purpose, *source, *received, *format, *encoding;
	char *number_fields; /* JSON array of field names */
	long long records, persons, invalid;
	char *sha256, *created;
	enum spif_file_state state;
	char *schedule, *retain_until; /* NULL until retention is set */
};
void spif_file_free(struct spif_file *f);

struct spif_copy {
	long long id, file_id; /* file_id 0: not catalogued */
	char *kind;            /* source, output, vault, encrypted, export, found (not catalogued) */
	char *path;
	char *sha256;
	long long size;
	int encrypted;
	char *created;
	enum spif_copy_state state;
	char *details;         /* JSON or NULL */
};
void spif_copy_free(struct spif_copy *c);

/* An id written as a capital letter and a number ("F000001", "H12"):
 * the number, for letter or its lower case or none before the digits;
 * -1 if malformed.  Every such id spif prints is read back by this. */
long long spif_id_parse(const char *s, char letter);
/* "F000001" <-> 1.  Parse accepts F000001, F1, 1; returns -1 if malformed. */
long long spif_file_id_parse(const char *s);
void spif_file_id_format(long long id, char out[24]);
/* The file whose records a stream's first n bytes (text) begin, as
 * spif's commands write them ({"@file":"F000001",...): "F000001" in fid,
 * else "".  Only looks, so text may be any bytes. */
void spif_file_id_in_records(const char *text, size_t n, char fid[24]);

/* Insert (inside a transaction); sets f->id / cp->id. */
int spif_catalog_add_file(struct spif_catalog *c, struct spif_file *f, struct spif_err *err);
int spif_catalog_add_copy(struct spif_catalog *c, struct spif_copy *cp, struct spif_err *err);
/* Set one copy's state inside a transaction. */
int spif_catalog_set_copy_state(struct spif_catalog *c, long long copy_id, enum spif_copy_state state,
                                struct spif_err *err);
/* Does this copy still hold Individual Numbers?  Not when redact wrote it
 * (or rewrote it) without them: its details say "redacted": true. */
int spif_copy_redacted(const struct spif_copy *cp);
/* Read; SPIF_EX_DATAERR "no file F000009" when missing. */
int spif_catalog_get_file(struct spif_catalog *c, long long id, struct spif_file *f,
                          struct spif_err *err);
/* Load the file's copies into *out (malloc'd array of n). */
int spif_catalog_get_copies(struct spif_catalog *c, long long file_id, struct spif_copy **out,
                            size_t *n, struct spif_err *err);
void spif_copies_free(struct spif_copy *v, size_t n);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" and today's legal
 * date "YYYY-MM-DD" (calendar.h: in spif.conf's zone), by the real clock. */
void spif_now_utc(char out[32]);
void spif_today(char out[11]);

#endif
