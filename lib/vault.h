/* vault.h - data at rest under its own keys, and cryptographic erase.
 *
 * A vault copy ($SPIF_HOME/vault/F000001-N.spv) is the file's records
 * encrypted with a fresh random 256-bit data key in AES-256-GCM chunks:
 * each chunk's nonce carries its index, and its associated data binds the
 * file header, the index and whether it is the last chunk, so truncation,
 * reordering and bit flips are all detected.  The data key is stored only
 * wrapped (AES key wrap, RFC 3394) under a key-encryption key (KEK) kept in
 * $SPIF_HOME/keys/ (0600), one KEK per disposal month ("2034-03", or
 * "indefinite" until retention is known), and also wrapped to a custodian's
 * OpenPGP key when spif.conf names one.  The catalog never holds an
 * unwrapped key; a vault copy never holds a plaintext number.
 *
 * Crypto-erase (NIST SP 800-88 Rev. 2 cryptographic erase): delete the
 * file's wrapped data key from the catalog with secure_delete on, and in
 * the same transaction replace its month's KEK (spif_vault_rotate): the
 * month's other data keys are rewrapped under a new generation of the KEK
 * and the row names it.  After the commit the old KEK is destroyed
 * (spif_vault_destroy_old_keks: a key file overwritten as spif shred
 * overwrites, or a token object destroyed, see kek.h), the WAL is
 * checkpointed and truncated, database, WAL and directory fsync'd, and the
 * ciphertext deleted.  The erased key exists then only wrapped under a
 * KEK that exists nowhere: whatever kept its bytes (free blocks, an old
 * WAL, a backup of the catalog, a copy of the home without keys/) keeps
 * nothing that opens.  When every file of a month is disposed, the month's
 * KEK is destroyed instead of replaced (spif_vault_retire_keks).  Time does
 * not depend on the file's size; a replacement rewraps the month's other
 * keys (microseconds each), once per month however many files a purge
 * erases.
 *
 * Crash safety: until the commit the catalog names the old KEK and the old
 * wrapped keys, which it still opens (the new KEK, made before, opens
 * nothing committed and is only a leftover); after it the new ones, and the
 * old KEK is a leftover that the next spif_vault_purge (every erase ends
 * with one) destroys: a KEK older than its row's generation, or any
 * generation up to a destroyed row's. */
#ifndef SPIF_VAULT_H
#define SPIF_VAULT_H

#include <jansson.h>
#include <limits.h>

#include "catalog.h"
#include "home.h"
#include "kek.h"
#include "record.h"

#define SPIF_VAULT_CHUNK (1u << 20) /* plaintext bytes per chunk */

struct spif_vault_writer;

/* Inside the caller's transaction: make a data key, wrap it under the KEK
 * of bucket ("indefinite" or "YYYY-MM"; created when missing), record it
 * for file_id, and start a new vault file (a hidden temporary until
 * finish).  path gets its final name. */
int spif_vault_create(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                      const char *bucket, struct spif_vault_writer **w, char path[PATH_MAX],
                      struct spif_err *err);
/* A spif_sink_fn: ctx is the writer. */
int spif_vault_write(void *ctx, const void *buf, size_t n);
/* Seal the last chunk, fsync, put the file in place.  sha256/size are the
 * ciphertext's.  It always consumes the writer: on failure the temporary
 * file is removed and spif_vault_abort must not be called. */
int spif_vault_finish(struct spif_vault_writer *w, char sha256[65], long long *size,
                      struct spif_err *err);
/* Remove the temporary file and forget the key material (after a failure). */
void spif_vault_abort(struct spif_vault_writer *w);

/* Stream a vault copy's plaintext into fn.  The whole file is
 * authenticated first (every chunk, the final one included), then
 * decrypted again chunk by chunk into fn, so that nothing is emitted as if
 * whole from a damaged file.  Errors: SPIF_EX_DATAERR "PATH: chunk N: ..."
 * (bit flip, reorder, truncation, wrong file), SPIF_EX_NOPERM / NOINPUT for
 * a missing or unreadable KEK ("key for 2034-03 is missing"), 
 * SPIF_EX_DATAERR "F000001: its data key was destroyed (crypto-erased)". */
int spif_vault_read(struct spif_catalog *c, long long file_id, const char *path, spif_sink_fn fn,
                    void *ctx, struct spif_err *err);

/* The same in one pass, for a caller that discards everything fn was
 * given when this fails (an export's output, unnamed until its commit):
 * each chunk is still authenticated before it reaches fn, but a damaged
 * chunk is found only when the reading reaches it, after the chunks before
 * it went out.  Half the work of spif_vault_read on a large copy. */
int spif_vault_read_once(struct spif_catalog *c, long long file_id, const char *path, spif_sink_fn fn,
                         void *ctx, struct spif_err *err);

/* The same with the KEKs of ks (a live home's, for a catalog restored
 * elsewhere: spif catalog restore-test). */
int spif_vault_read_with(struct spif_catalog *c, struct spif_kek_store *ks, long long file_id, const char *path,
                         spif_sink_fn fn, void *ctx, struct spif_err *err);
/* The plaintext size a vault copy announces by its header and its size
 * (vault_feed.c), for a size needed before the bytes (a tar header);
 * -1 when path is not a vault file of a known format.  Unauthenticated:
 * a reading must still yield exactly that many bytes. */
long long spif_vault_plain_size(const char *path);

/* Inside the caller's transaction: destroy file_id's wrapped data key(s)
 * (the row is deleted with secure_delete on).  *what gets a JSON object
 * describing what key material was destroyed and where, for the
 * certificate ("data_keys" names their buckets).  Then, still inside the
 * transaction, spif_vault_rotate for those buckets (once for a batch of
 * erasures); after the commit spif_vault_destroy_old_keks and
 * spif_vault_purge. */
int spif_vault_erase_key(struct spif_catalog *c, long long file_id, json_t **what,
                         struct spif_err *err);
/* The same for one vault copy: only the data key that copy (path) was
 * written under, read from its header; the file's other copies stay
 * readable (spif redact --file replaces a copy this way).  Its month's KEK
 * is replaced here (spif_vault_rotate, with a kek.rotated event), with the
 * KEKs of spif.conf. */
int spif_vault_erase_copy_key(struct spif_catalog *c, long long file_id, const char *path,
                              json_t **what, struct spif_err *err);
/* The wrapped data keys (40 bytes each) of file_id, all of them or only
 * key_id: read before an erase so that spif_vault_keys_gone can prove,
 * after the purge, that no copy of them is left in catalog.db or its WAL. */
size_t spif_vault_wrapped_keys(struct spif_catalog *c, long long file_id, long long key_id,
                               unsigned char keys[][40], size_t max);
int spif_vault_keys_gone(struct spif_catalog *c, unsigned char keys[][40], size_t n);
/* The data key id a vault copy was written under (from its header), or -1. */
long long spif_vault_copy_key_id(const char *path);
/* Inside the transaction that erased data keys: replace the KEK of each
 * bucket (the keys of the JSON object buckets) that still protects data
 * keys: a new generation (escrowed to the custodian when spif.conf names
 * one), every data key of the bucket rewrapped under it, the keks row
 * pointed at it.  The old KEK is untouched until the commit.  *what gets
 * an array, one object per bucket replaced: bucket, generation (the old
 * one), ref, key_file, created, replaced_by, rewrapped, escrow (the old
 * KEK's escrow copies, outstanding).  A bucket with no data key left is
 * skipped (spif_vault_retire_keks destroys its KEK). */
int spif_vault_rotate(struct spif_catalog *c, struct spif_kek_store *ks, json_t *buckets, json_t **what,
                      struct spif_err *err);
/* After the commit: destroy every KEK of ks that the catalog no longer
 * needs (older than its row's generation, or up to a destroyed row's),
 * this run's and any a killed run left.  *what lists them: bucket,
 * generation, ref, key_file, destroyed, and how (kek.h's description:
 * destroyed_by, remnants, medium or object).  What was destroyed before a
 * failure is listed too. */
int spif_vault_destroy_old_keks(struct spif_catalog *c, struct spif_kek_store *ks, json_t **what,
                                struct spif_err *err);
/* After the commit: spif_vault_destroy_old_keks with spif.conf's KEKs (a
 * kek.destroyed event when it destroyed any), then checkpoint and
 * truncate the WAL, fsync the database, the WAL and the directory, so the
 * deleted key is gone from the files. */
int spif_vault_purge(struct spif_catalog *c, struct spif_err *err);
/* Mark retired the KEKs whose files are all disposed (inside a
 * transaction; the keys themselves are destroyed after the commit by
 * spif_vault_destroy_old_keks).  *what lists them, with their escrow
 * copies.  After the commit, spif_vault_purge again: the custodian's copy
 * of a retired KEK must not linger in the WAL. */
int spif_vault_retire_keks(struct spif_catalog *c, json_t **what, struct spif_err *err);

/* Every KEK row (one per month: its current generation), through fn as
 * {bucket, generation, store, where, created, destroyed, custodian,
 * data_keys} and, for a token's live key, what the token says of it
 * (extractable, sensitive, value_readable).  fn must not keep kek. */
int spif_vault_keks(struct spif_catalog *c, struct spif_kek_store *ks, int (*fn)(void *ctx, json_t *kek), void *ctx,
                    struct spif_err *err);

/* ---- escrow ------------------------------------------------------------- */

/* The escrow copies of month's destroyed KEKs that no confirmation has
 * closed yet: an array of {bucket, generation, custodian, fingerprint,
 * created, event}.  From the kek.rotated and kek.retired events. */
int spif_vault_escrow_outstanding(struct spif_catalog *c, const char *month, json_t **out, struct spif_err *err);
/* Inside a transaction: record the custodian's confirmation that the
 * escrow copies of month's destroyed KEKs are destroyed (a
 * kek.escrow-destroyed event listing them; signature: an OpenPGP
 * signature of the confirmation by the confirming operator, or NULL).
 * SPIF_EX_DATAERR when none is outstanding.  *what gets the event's details. */
int spif_vault_escrow_confirm(struct spif_catalog *c, const char *month, const char *note, const char *signature,
                              const char *signer, json_t **what, struct spif_err *err);
/* For spif catalog cert verify: the state of the escrow copies a
 * certificate's body lists, one line into out ("" when it lists none).
 * 1 when all are confirmed destroyed, 0 when some are outstanding or there
 * are none. */
int spif_vault_escrow_summary(struct spif_catalog *c, const char *cert_body, char *out, size_t n);

/* A crypto-erase certificate's words, from a target's key material (what
 * spif_vault_erase_key gave, annotated with its KEK's fate by dispose.c):
 * the method, naming NIST SP 800-88 Rev. 2 and where the KEK lived and
 * how it was destroyed; and what that means for an auditor, with every
 * caveat that applies (escrow copies outstanding, a medium that may keep
 * remnants, a software token's files).  New JSON strings. */
json_t *spif_vault_erase_method(const json_t *erased);
json_t *spif_vault_erase_meaning(const json_t *erased);

/* ---- the vault format, for forensic checks (tests, restore drills) ------ */

/* Unwrap 40 bytes under a raw 32-byte KEK (AES key wrap): 0, 1 when they
 * do not unwrap. */
int spif_vault_unwrap_raw(const unsigned char kek[32], const unsigned char wrapped[40], unsigned char dk[32]);
/* Does dk open the vault file whose bytes start at buf (n bytes: its
 * header and at least its first chunk)?  1 when the first chunk
 * authenticates, with its plaintext (up to *ptn bytes) in pt; else 0. */
int spif_vault_try_key(const unsigned char dk[32], const unsigned char *buf, size_t n, unsigned char *pt,
                       size_t *ptn);

/* Move a file to another bucket when its retention becomes known or
 * changes.  Inside a transaction.  Each vault copy in place is
 * re-encrypted under a fresh data key wrapped by bucket's KEK (a new file,
 * F000001-N.spv for the new key N, written whole and fsync'd; the copy row
 * then names it), and the old data key is erased as crypto-erase does: a
 * backup of the catalog taken before the move holds a key that opens
 * nothing the vault holds now.  Re-encryption reads and writes the whole
 * copy (its time grows with the file's size) while the transaction holds
 * the catalog.  Until the commit the catalog names the old file and holds
 * its key, after it the new file and its key, so a crash at any point
 * leaves a copy that decrypts.  A key no copy in place was written under is
 * only rewrapped.  *what (may be NULL) describes what moved, for the
 * event.  After the commit: spif_vault_sweep, then spif_vault_purge (and
 * retire the KEKs of months left empty). */
int spif_vault_rebucket(struct spif_catalog *c, const struct spif_conf *conf, long long file_id,
                        const char *bucket, json_t **what, struct spif_err *err);
/* Delete file_id's vault files ($SPIF_HOME/vault/F000001-*.spv) that no
 * data key in the catalog opens: the ones a rebucket replaced, and the
 * leftovers of one that rolled back or was killed.  Returns how many
 * were removed (the directory is then fsync'd), or -1 with err. */
int spif_vault_sweep(struct spif_catalog *c, long long file_id, struct spif_err *err);

/* ---- what the vault holds (vault_query.c) ---------------------------- */

/* One vault copy as spif vault ls lists it; strings valid during the
 * callback only. */
struct spif_vault_entry {
	long long file_id;
	enum spif_copy_state state;
	const char *bucket; /* the disposal month of its file's data key, "-" when none is left */
	long long size;
	const char *path;
};
/* Every vault copy, disposed ones included, in the order they were made,
 * through fn; a non-zero return from fn stops and is returned. */
int spif_vault_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_vault_entry *v),
                    void *ctx, struct spif_err *err);

#endif
