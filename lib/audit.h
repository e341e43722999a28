/* audit.h - the append-only, hash-chained audit log (the events table).
 *
 * Each event: seq, UTC time, operator (real uid's login name), sudo_user
 * (recorded, not trusted), host, pid, argv (numbers masked), action,
 * object, details (JSON), prev_hash, hash.  hash = SHA-256 over the
 * canonical encoding: the netstrings "LEN:BYTES," of prev_hash, seq, time,
 * operator, sudo_user, host, pid, argv, action, object and details, in that
 * order (integers in decimal, NULL as the empty string).  The first event's
 * prev_hash is 64 zeros.  No event ever holds a full Individual Number.
 *
 * The chain and the head in meta guard against accidents: anyone who can
 * write catalog.db can recompute them.  Each event also records the rows
 * its transaction changed (auditlog.h) and is a leaf of a Merkle tree
 * (auditlog_tree.h) whose signed checkpoints (checkpoint.h), kept off the
 * host, prove that the log was only ever appended to. */
#ifndef SPIF_AUDIT_H
#define SPIF_AUDIT_H

#include <jansson.h>

#include "catalog.h"

/* Who runs this process: operator, SUDO_USER, host, pid, and the command
 * line with every run of 12+ digits masked.  Free with spif_actor_free. */
int spif_actor_init(struct spif_actor *a, int argc, char **argv, struct spif_err *err);
void spif_actor_free(struct spif_actor *a);

/* Append one event inside the caller's transaction.  details may be NULL;
 * it is serialised as compact JSON with sorted keys after every string in
 * it has had its digit runs masked.  *seq (may be NULL) gets the new seq. */
int spif_audit_append(struct spif_catalog *c, const char *action, const char *object,
                      json_t *details, long long *seq, struct spif_err *err);

/* The head of the chain: seq (0 when empty) and its hash. */
int spif_audit_head(struct spif_catalog *c, long long *seq, char hash[65], struct spif_err *err);

struct spif_verify {
	long long events;    /* events checked */
	long long bad_seq;   /* first event that does not match, 0 if intact */
	char why[256];       /* what is wrong with it */
	char head[65];       /* hash of the last event */
	/* The Merkle tree over the events checked (auditlog_tree.h): its root,
	 * and whether the stored tiles and edge are the events' (tree_bad 0)
	 * or not (tree_why).  Checked only when the chain is intact. */
	unsigned char root[32];
	int tree_bad;
	char tree_why[256];
};
/* Recompute the chain, the head in meta and the Merkle tree.  0 with
 * v->bad_seq == 0 when intact, 0 with bad_seq set when not, -1 on an error
 * reading it.  In one read transaction (the caller's, if it began one). */
int spif_audit_verify(struct spif_catalog *c, struct spif_verify *v, struct spif_err *err);
/* The same, handing each event's details to replay (auditlog.h); and
 * the caller's own reads, in slices: meanwhile(mctx, &done) on this
 * thread (when not NULL; in the same read transaction) whenever the
 * second thread is behind with the hashing, and once every event is read,
 * until it sets done.  Its failure is this function's. */
struct spif_replay;
int spif_audit_verify_ex(struct spif_catalog *c, struct spif_verify *v, struct spif_replay *replay,
                         int (*meanwhile)(void *ctx, int *done, struct spif_err *err), void *mctx,
                         struct spif_err *err);

/* The canonical encoding's hash of one event (exposed for tests/bench). */
void spif_audit_hash(const char *prev, long long seq, const char *time, const char *op,
                     const char *sudo, const char *host, long long pid, const char *argv,
                     const char *action, const char *object, const char *details,
                     char out[65]);

#endif
