/* purge.h - the bookkeeping of a retention purge and of its plans: a run,
 * the files it claims, how each ends, and the approved plans (廃棄計画) a
 * purge may be limited to.  See spif-retain(1) and spif-catalog(5).
 *
 * A claim and the re-check that the file is due (spif_retention_check)
 * are one transaction, so a hold placed before it stops the disposal and
 * one placed after it is refused (retention.h, spif_hold_place).  An item
 * stays "started" until it ends done or failed: a purge that was killed
 * leaves its items for the next one (spif_purge_leftovers), which finishes
 * them without disposing of or certifying anything twice (dispose.h).
 *
 * Every change goes through the catalog in the caller's transaction with
 * its audit event; nothing here prints or exits. */
#ifndef SPIF_PURGE_H
#define SPIF_PURGE_H

#include <jansson.h>

#include "catalog.h"
#include "retention.h"

/* ---- purges ---------------------------------------------------------- */

/* A purge run: started (in a transaction, "purge.start"), its files
 * claimed one by one ("purge.claim": the file is committed to disposal,
 * holds on it are refused until the item ends), each ended done with its
 * certificates or failed with the reason ("purge.done" / "purge.failed"),
 * the run finished with its counts ("purge.end").  claim_seq gets the seq
 * of the claim's event: the certificates issued after it are the item's. */
int spif_purge_begin(struct spif_catalog *c, long day, long long plan_id, long long *purge_id,
                     struct spif_err *err);
int spif_purge_claim(struct spif_catalog *c, long long purge_id, long long file_id,
                     enum spif_action action, const char *schedule, long long *claim_seq,
                     struct spif_err *err);
int spif_purge_item_done(struct spif_catalog *c, long long purge_id, long long file_id,
                         json_t *certificates, struct spif_err *err);
int spif_purge_item_failed(struct spif_catalog *c, long long purge_id, long long file_id,
                           const char *why, struct spif_err *err);
int spif_purge_end(struct spif_catalog *c, long long purge_id, long long disposed,
                   long long failed, struct spif_err *err);
/* Items an interrupted purge left "started": their purge id, file, action
 * and the seq of their claim event, through fn. */
int spif_purge_leftovers(struct spif_catalog *c,
                         int (*fn)(void *ctx, long long purge_id, long long file_id,
                                   enum spif_action action, long long claim_seq),
                         void *ctx, struct spif_err *err);
/* The certificates issued for a file after the audit event after_seq (its
 * claim), as a JSON array of ids: the audit log orders them, not a clock. */
json_t *spif_file_certificates_since(struct spif_catalog *c, long long file_id, long long after_seq);

/* ---- plans ---------------------------------------------------------- */

/* Register a plan (its SHA-256 over the plan text) with a "retain.plan"
 * event; *plan_id gets its number.  Look one up by hash (0 when unknown). */
int spif_plan_register(struct spif_catalog *c, const char *sha256, long as_of, long long entries,
                       long long *plan_id, struct spif_err *err);
long long spif_plan_lookup(struct spif_catalog *c, const char *sha256);

/* ---- what a purge asks of a file's copies ---------------------------- */

/* How many copies of file_id are "disposing" now: a redaction is not done
 * while one is left (its shred was interrupted).  0, or -1 with err. */
int spif_file_disposing_copies(struct spif_catalog *c, long long file_id, long long *n,
                               struct spif_err *err);

#endif
