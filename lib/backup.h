/* backup.h - backups of a home that do not undo disposals, the drill that
 * shows one restores, and the restore.
 *
 * A backup directory holds:
 *   manifest.json      what was taken, when, from which catalog, and the
 *                      SHA-256 of every other file
 *   catalog.db         a consistent snapshot (SQLite's online backup API,
 *                      under the disposers' lock), with the custodian's
 *                      escrow copies of KEKs removed and the free pages
 *                      vacuumed; catalog.db.gpg instead when spif.conf
 *                      names backup_key (encrypted to that OpenPGP key)
 *   vault/F*.spv       the vault copies present when it was taken
 *   checkpoint         the home's last signed audit checkpoint, if any
 * and never a KEK nor a token object: a data key in the snapshot opens its
 * vault file only with the live KEK of its month and generation, which a
 * crypto-erase since has destroyed.  So a restore brings back what was
 * live then and is live still, and never a file disposed since (nor, a
 * cost of the same rule, the other files of a month whose KEK was replaced
 * since: take a backup after each purge).  Files 0600, directories 0700.
 *
 * The catalog snapshot holds no key that opens anything by itself, but
 * names every file and holds the audit log: keep it as the vault is kept. */
#ifndef SPIF_BACKUP_H
#define SPIF_BACKUP_H

#include <jansson.h>

#include "catalog.h"
#include "home.h"

/* Write a backup of c's home into dir (created; refused when it exists and
 * is not empty), with a catalog.backup event in c.  *manifest (may be
 * NULL) gets the manifest. */
int spif_backup_write(struct spif_catalog *c, const struct spif_conf *conf, const char *dir, json_t **manifest,
                      struct spif_err *err);

/* The restore drill: restore dir into a scratch home, verify its audit
 * chain, open a sample of its vault files (up to sample; 0: all) with
 * live's KEKs into nothing (no record is written anywhere), remove the
 * scratch home, and record the result as a catalog.restore-test event in
 * live.  *result: {ok, chain, events, sampled, opened, gone: [{file, why}],
 * failed: [{file, why}]}; ok is false when the chain is broken or a file
 * that the live catalog still holds does not open. */
int spif_backup_restore_test(struct spif_catalog *live, const struct spif_conf *conf, const char *dir, int sample,
                             json_t **result, struct spif_err *err);

/* Restore dir into home, which must hold no catalog yet: the catalog
 * snapshot, the vault files whose KEK still exists (checked against the
 * snapshot's keks rows in spif.conf's store: the key files of keys_from,
 * NULL: home's own keys/, or the token), every vault path rewritten to
 * home.  A file whose KEK is gone is not resurrected: its data keys are
 * deleted, its vault copy marked disposed, and *result's "gone" says why,
 * file by file.  A catalog.restore event in the restored catalog. */
int spif_backup_restore(const struct spif_conf *conf, const char *dir, const char *home, const char *keys_from,
                        const struct spif_actor *actor, json_t **result, struct spif_err *err);

#endif
