/* checkpoint.h - signed checkpoints of the audit log, and the inclusion
 * proofs that tie each certificate's event to one.
 *
 * A checkpoint is a C2SP tlog-checkpoint (note.h): origin
 * "spif.catalog/<catalog id>", the number of events, and the Merkle root
 * over them (auditlog_tree.h), signed with the catalog's own Ed25519 key.
 * The key is made at first use and kept in $SPIF_HOME/keys/checkpoint.key
 * (the PRIVATE+KEY text, 0600 in a 0700 keys/, or the group's modes in a
 * group install); its name is the origin, and its public half is what
 * `spif catalog key export` prints for auditors and the paper ledger.
 *
 * What a checkpoint proves (spif-catalog(5)): whoever keeps one away from
 * the host can later check, with a consistency proof, that the log they
 * are shown is the log they were given a checkpoint of, with events only
 * added since.  A rewritten, cut-off or emptied log fails, whoever did it
 * and however well they recomputed the hashes on the host.  A checkpoint
 * signs the log as it is; every one issued is kept as a row of
 * checkpoints (migration 12), recorded by a "catalog.checkpoint" event
 * that follows it (so the next checkpoint covers the row, and a row
 * rewritten later shows in verify), and the last one also in meta
 * 'checkpoint_last' (uncovered: the only one a catalog upgraded from
 * before the table has, and a note that checks itself).
 *
 * Each certificate gets, at the first checkpoint after its event, an
 * inclusion proof of that event under the checkpoint (cert_proofs): a
 * document that verifies offline, without the catalog, given the public
 * key. */
#ifndef SPIF_CHECKPOINT_H
#define SPIF_CHECKPOINT_H

#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "merkle.h"
#include "note.h"

#define SPIF_CHECKPOINT_KEY "keys/checkpoint.key"
#define SPIF_PROOF_FORMAT "spif-inclusion/1"

/* "spif.catalog/<catalog id>": the checkpoints' origin and the key's name. */
void spif_checkpoint_origin(const struct spif_catalog *c, char out[SPIF_NOTE_NAME_MAX]);

/* The catalog's signing key, made (and kept) when missing and create is
 * set; SPIF_EX_NOINPUT when missing and not.  Clear it with
 * spif_note_signer_clear. */
int spif_checkpoint_signer(struct spif_catalog *c, int create, struct spif_note_signer *s, struct spif_err *err);
/* Its public half. */
int spif_checkpoint_verifier(struct spif_catalog *c, int create, struct spif_note_verifier *v,
                             struct spif_err *err);
/* A verifier key given as text (a file's first line). */
int spif_checkpoint_verifier_parse(const char *text, size_t n, struct spif_note_verifier *v, struct spif_err *err);
/* SHA-256 of the verifier key's text form, 64 hex digits: the fingerprint
 * to write on paper. */
int spif_checkpoint_fingerprint(const struct spif_note_verifier *v, char hex[65]);

/* Sign the log as it is now: the note in *note (malloc'd), recorded as the
 * last checkpoint, with an inclusion proof for every certificate that has
 * none yet; then appended to spif.conf's checkpoint_log and sent to syslog
 * when checkpoint_syslog is yes.  Not inside a transaction.  When only the
 * publishing fails, -1 with err and *note set all the same.  note may be
 * NULL (the end of a command that disposed of something: spif shred,
 * spif retain purge).  Errors begin "checkpoint: ". */
int spif_checkpoint_issue(struct spif_catalog *c, char **note, struct spif_err *err);
/* The last checkpoint issued (the signed note, malloc'd) in *note, NULL
 * when none was; reads only.  0, or -1 with err. */
int spif_checkpoint_last(struct spif_catalog *c, char **note, struct spif_err *err);
/* One kept checkpoint, as listed: the strings are valid during the call. */
struct spif_checkpoint_row {
	long long id;
	uint64_t size;
	const char *root;     /* hex */
	const char *note;     /* the signed note */
	const char *created;  /* UTC */
};
/* Every checkpoint kept, oldest first, through fn (nonzero stops and is
 * returned).  0, or -1 with err. */
int spif_checkpoint_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_checkpoint_row *r),
                         void *ctx, struct spif_err *err);

/* Which checkpoint spif_checkpoint_before found. */
enum spif_checkpoint_pick {
	SPIF_CHECKPOINT_NONE = 0, /* none was ever issued */
	SPIF_CHECKPOINT_LAST,     /* no since: the last one issued */
	SPIF_CHECKPOINT_BEFORE,   /* the last one issued before since */
	SPIF_CHECKPOINT_FIRST,    /* none before since: the first one */
};
const char *spif_checkpoint_pick_name(enum spif_checkpoint_pick p);
/* The checkpoint a window starting at since (a UTC time or date as the
 * catalog writes them, compared as text like event times; NULL: no
 * window) proves consistency from: *note (malloc'd, NULL with
 * SPIF_CHECKPOINT_NONE) and when it was issued (created, "" when only
 * meta has it).  0, or -1 with err. */
int spif_checkpoint_before(struct spif_catalog *c, const char *since, char **note, char created[32],
                           enum spif_checkpoint_pick *how, struct spif_err *err);
/* Append a note and a blank line to path (O_APPEND, created with mode),
 * then fsync: the form of a checkpoint log. */
int spif_checkpoint_append(const char *path, const char *note, mode_t mode, struct spif_err *err);
/* The note as one syslog line: its lines joined by spaces. */
void spif_checkpoint_syslog(const char *note);

/* The next note in a file of them (one, or a checkpoint log): from *off,
 * its start and length; 0 when there is none left, -1 when malformed. */
int spif_checkpoint_next(const char *buf, size_t n, size_t *off, size_t *start, size_t *len);

/* What spif_checkpoint_check found. */
struct spif_checkpoint_result {
	uint64_t size;       /* events the checkpoint vouches for */
	char origin[SPIF_NOTE_NAME_MAX];
};
/* Does the log of n events with root (as verify recomputed it from the
 * events) extend the checkpoint note[0, len) signed by v, for this
 * catalog?  0 yes; -1 with SPIF_FOUND and the reason when not; other
 * codes when it could not be checked. */
int spif_checkpoint_check(struct spif_catalog *c, const struct spif_note_verifier *v, const char *note, size_t len,
                          uint64_t n, const spif_hash root, struct spif_checkpoint_result *res,
                          struct spif_err *err);

/* A certificate's inclusion proof document (canonical JSON, malloc'd):
 * the one stored when a checkpoint was issued after its event; else one
 * made now under a new checkpoint where the catalog can be written, or
 * under the last one issued if it covers the event. */
int spif_cert_proof(struct spif_catalog *c, const char *cert_id, char **doc, struct spif_err *err);
/* Only the stored one: *doc NULL when there is none yet. */
int spif_cert_stored_proof(struct spif_catalog *c, const char *cert_id, char **doc, struct spif_err *err);

/* What an inclusion proof showed. */
struct spif_inclusion {
	char certificate[32];
	char catalog[SPIF_NOTE_NAME_MAX];
	long long seq;       /* the certificate's event */
	uint64_t tree_size;  /* the checkpoint's */
	char signer[41];     /* details.signer of the event: the OpenPGP key, "" unsigned */
};
/* Check a proof document offline: it is well formed; its event hashes to
 * its chain hash and is the issuing event of the certificate whose body
 * (body_n bytes, or NULL not to check) it names; the event is the leaf it
 * says under the checkpoint's root; the checkpoint is signed by v and its
 * origin is the certificate's catalog.  0 good, -1 with SPIF_FOUND and the
 * reason otherwise. */
int spif_cert_proof_verify(const char *body, size_t body_n, const char *doc, size_t doc_n,
                           const struct spif_note_verifier *v, struct spif_inclusion *out, struct spif_err *err);

#endif
