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
 * Crypto-erase (NIST SP 800-88 Purge): delete the file's wrapped data key
 * from the catalog with secure_delete on, checkpoint and truncate the WAL,
 * fsync database, WAL and directory, delete the ciphertext; when every file
 * of a disposal month is disposed, destroy that month's KEK too, which makes
 * every copy of those wrapped data keys (backups of the catalog included)
 * useless.  Time does not depend on the file's size. */
#ifndef SPIF_VAULT_H
#define SPIF_VAULT_H

#include <jansson.h>
#include <limits.h>

#include "catalog.h"
#include "home.h"
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

/* Inside the caller's transaction: destroy file_id's wrapped data key(s)
 * (the row is deleted with secure_delete on).  *what gets a JSON object
 * describing what key material was destroyed and where, for the
 * certificate.  Then, after the commit, call spif_vault_purge. */
int spif_vault_erase_key(struct spif_catalog *c, long long file_id, json_t **what,
                         struct spif_err *err);
/* The same for one vault copy: only the data key that copy (path) was
 * written under, read from its header; the file's other copies stay
 * readable (spif redact --file replaces a copy this way). */
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
/* After the commit: checkpoint and truncate the WAL, fsync the database,
 * the WAL and the directory, so the deleted key is gone from the files. */
int spif_vault_purge(struct spif_catalog *c, struct spif_err *err);
/* Destroy the KEKs whose files are all disposed (inside a transaction;
 * overwrites and unlinks the key files, records it).  *what lists them.
 * After the commit, spif_vault_purge again: the custodian's copy of a
 * retired KEK must not linger in the WAL. */
int spif_vault_retire_keks(struct spif_catalog *c, json_t **what, struct spif_err *err);

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
