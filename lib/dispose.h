/* dispose.h - what spif shred and a retention purge share: a copy being
 * destroyed, its "disposing" mark, cryptographic erase of many vault
 * copies at once, and the disposal certificate of a file's copies.
 *
 * The protocol that makes a disposal happen once, whatever kills it:
 *   1. mark each copy "disposing" (with a shred.start event), committed
 *      before anything is destroyed;
 *   2. destroy (overwrite, or erase the data keys: committed, purged,
 *      checked gone, ciphertext unlinked);
 *   3. in one transaction: the copies "disposed", the file "disposed" when
 *      none is left, the certificate and its event.
 * A crash before 3 leaves copies "disposing", which the next disposer
 * finishes; after 3 there is nothing left to do.  A certificate is only
 * issued in the transaction that moves its copies out of "disposing", so
 * none is issued twice.  A run that stops before 3 (an interruption, a
 * failure) puts a copy back to "present" only when nothing of it was
 * destroyed yet; one whose destruction had begun stays "disposing".
 *
 * An overwritten copy is renamed before it is unlinked, to names derived
 * from a seed recorded in its shred.start event (with its device and
 * inode): a run finishing a copy that is gone from its path looks for it
 * under those names (spif_dispose_resume_info, spif_wipe_find_renamed).
 *
 * A certificate is about the bytes destroyed, so what is destroyed must be
 * the copy the catalog knows: the file at a copy's path is opened once
 * (struct spif_target) and hashed before anything is destroyed, and a
 * catalogued copy whose contents are not those it was catalogued with is
 * refused (shred.refused event) unless the operator says to go on, and
 * then its certificate says so with both hashes.  The hash taken then is
 * recorded in the shred.start event, so that a run finishing the copy
 * after an interruption, when the file may be partly overwritten, still
 * certifies what it held ("sha256_before") and says it resumed; such a
 * copy is matched on the device and inode recorded there instead, since
 * its contents may no longer be whole. */
#ifndef SPIF_DISPOSE_H
#define SPIF_DISPOSE_H

#include <jansson.h>
#include <limits.h>

#include "catalog.h"
#include "home.h"
#include "wipe.h"

/* One copy to destroy. */
struct spif_dispose_copy {
	char path[PATH_MAX];
	long long copy_id;  /* 0 until registered (a found copy) */
	long long file_id;  /* 0: not catalogued */
	char kind[16];
	int resumed;        /* left "disposing" by an interrupted run */
	unsigned char name_seed[SPIF_WIPE_SEED]; /* the rename names (see above) */
	int have_seed, renames;
	unsigned was_major, was_minor; /* the file when it was marked (resumed: from its event) */
	unsigned long long was_ino;
	char found_at[PATH_MAX]; /* resumed and gone from its path, but found here under a
	                            name the interrupted run gave it */
	long long found_size; /* its size then (0: truncated after the read-back matched) */
	struct spif_target *tg; /* opened once, hashed, probed: the rows at one path share the first
	                           row's (own_tg), which closes and frees it */
	int own_tg;
	char catalogued_sha256[65]; /* copies.sha256 of a catalogued copy, "" when none */
	char start_sha256[65]; /* the contents when its disposal began: from this run's hash, or
	                          for a resumed copy from its shred.start event ("" unknown) */
	int changed;        /* not the copy the catalog knows (other contents, or, resumed,
	                       another file at its path), destroyed with --changed-ok */
	char changed_why[128]; /* then how (spif_dispose_is_catalogued) */
	struct spif_medium m;
	struct spif_wipe_result r;
	int attested;       /* the medium's kind is unknown, but spif.conf vouches for its disk */
	char refusal[400];  /* why it would be refused (--dry-run) */
	int crypto;         /* by cryptographic erase (a vault copy) */
	json_t *erased;     /* what key material was destroyed, for the certificate */
	int done;           /* destroyed in this run */
	int wiped;          /* its path was destroyed for another catalog row (a sibling) */
	int absent;         /* resumed and gone: a vault copy's ciphertext, or an overwritten
	                       copy found neither at its path nor under its rename names */
	int failed;         /* spif_dispose_crypto: not destroyed (code, error say why) */
	int code;
	char error[1536];    /* for a person, in their language */
	char error_en[1536]; /* the same in English, for the catalog (a purge item) */
};

struct spif_dispose_opts {
	const char *command;     /* "spif shred", "spif retain purge" */
	int passes, zero;        /* of the overwrite, for the certificate */
	const char *reason, *destination, *sign_key;
};

/* "disposing", registering a found copy first; with its shred.start
 * event (the rename seed, the file's device and inode, and its hash when
 * t->tg is hashed: "sha256").  Inside the caller's transaction. */
int spif_dispose_mark(struct spif_catalog *c, struct spif_dispose_copy *t, struct spif_err *err);

/* Whether the file opened as t->tg is the copy the catalog knows: for a
 * catalogued copy its hash against copies.sha256; for a resumed one its
 * device and inode against its shred.start event (its contents may be
 * partly overwritten).  1 it is (or nothing was recorded to tell), 0 not,
 * with why ("changed since it was catalogued", ...). */
int spif_dispose_is_catalogued(const struct spif_dispose_copy *t, char *why, size_t n);
/* A copy refused because it is not the copy the catalog knows: a
 * shred.refused event with why and the hashes (catalogued, found).
 * Inside the caller's transaction. */
int spif_dispose_refused(struct spif_catalog *c, const struct spif_dispose_copy *t, const char *why,
                         struct spif_err *err);
/* After a failure or an interruption, with a shred.failed event: back to
 * "present" when nothing of the copy was destroyed (keep 0), or left
 * "disposing" for the next run when its destruction had begun (keep 1). */
int spif_dispose_unmark(struct spif_catalog *c, struct spif_dispose_copy *t, const char *why, int keep,
                        struct spif_err *err);

/* For a copy left "disposing": the rename seed, renames, file identity
 * and hash its last shred.start event recorded (have_seed stays 0 when it
 * recorded none, start_sha256 "").  Then, when the copy is gone from its path, the file under one of
 * those names: found_at and found_size, else absent.  The path is checked
 * with lstat only; 0, or -1 on a catalog error. */
int spif_dispose_resume_info(struct spif_catalog *c, struct spif_dispose_copy *t, struct spif_err *err);

/* A vault copy, as a target for crypto-erase (size and absence filled). */
void spif_dispose_crypto_target(struct spif_dispose_copy *t);

/* Cryptographic erase of n vault copies (already "disposing", outside any
 * transaction): the KEK store of spif.conf opened first (a token that is
 * missing or refuses its PIN fails every target and puts the ones this
 * run marked back to "present": nothing destroyed); their data keys
 * deleted in one transaction (every key of
 * the file when no other vault copy of it stays, else only the key the
 * copy was written under), with each month's KEK replaced once in it
 * (spif_vault_rotate, a kek.rotated event) and the old KEKs destroyed
 * after its commit (a kek.destroyed event; each target's key material
 * then says so), the WAL checkpointed and truncated once, the
 * database and its WAL searched once for every erased key, the
 * ciphertexts unlinked and their directories synced.  Each target gets
 * erased, r.verified and r.pattern, or failed with its code and error
 * (then it stays "disposing" for the next run).  -1 only when nothing
 * could be done at all. */
int spif_dispose_crypto(struct spif_catalog *c, struct spif_dispose_copy **v, size_t n,
                        struct spif_err *err);

/* Inside the caller's transaction: the group's copies disposed, their file
 * disposed when none is left (with a file.disposed event), and one
 * certificate for them.  A group is of one class (spif_dispose_class),
 * so that what one certificate claims holds for each of its copies.  id gets the certificate's number. */
int spif_dispose_certify(struct spif_catalog *c, const struct spif_conf *conf,
                         const struct spif_dispose_opts *o, struct spif_dispose_copy **group, size_t ng,
                         int forced_medium, const char *medium_reason, char id[32], int *file_disposed,
                         struct spif_err *err);

/* The certificate of a redaction (spif redact --file, redact.h): the vault
 * copy that held the numbers crypto-erased, the record kept in a new copy
 * without them.  Built here, beside the disposal certificate, so that what
 * the two claim is worded in one place. */
struct spif_redaction_cert {
	const struct spif_file *file;
	const struct spif_copy *old;    /* the vault copy that held the numbers */
	const char *kept;               /* the new copy's path (NULL: not known) */
	long long in_fields, elsewhere; /* numbers removed in number fields / elsewhere */
	const char *op;                 /* the operator's name (NULL: mask) */
	json_t *key_material;           /* what this run's erase destroyed (borrowed) */
	long long resumed_event;        /* 0: erased by this run; else the seq of the redact.file
	                                   event of the interrupted run that erased it (its bytes
	                                   cannot be searched for again) */
	int verified;                   /* this run: the old wrapped key was searched for after
	                                   the purge and is in neither catalog file */
	const char *reason, *sign_key;
};
/* Inside the caller's transaction: the old copy "disposed" and the
 * certificate ("redaction") issued.  id gets its number. */
int spif_dispose_certify_redaction(struct spif_catalog *c, const struct spif_conf *conf,
                                   const struct spif_redaction_cert *in, char id[32], struct spif_err *err);

/* After the data keys are erased and before the certificates are issued:
 * retire the KEKs no data key uses any more (one transaction, a
 * kek.retired event), destroy them after its commit (a kek.destroyed
 * event), then purge the WAL.  The key material of the n
 * targets v (their "erased", which their certificates will carry) then
 * says which of their KEKs were destroyed, so that a certificate for the
 * last file of a month tells that its KEK is gone.  v may be NULL.
 * Outside any transaction.  A KEK still in use, "indefinite" included, is
 * never touched; a crash before the certificates leaves the copies
 * "disposing" for the next run, as after the erase. */
int spif_dispose_retire_keks(struct spif_catalog *c, struct spif_dispose_copy **v, size_t n,
                             struct spif_err *err);

/* The lock every disposer takes ($SPIF_HOME/purge.lock, spif_home_lock):
 * a purge, spif shred, spif redact --file, a catalog backup.  It waits as
 * w says (NULL: tries once); SPIF_EX_TEMPFAIL when another still holds
 * it, SPIF_FOUND when w's alarm rang; both say who holds it.
 *
 * Why one lock for every disposal, not one per file: every run first
 * collects and finishes the copies an interrupted run left "disposing",
 * and a live run's copies are "disposing" too (no per-run lease tells
 * them apart); a crypto-erase replaces the month's KEK and rewraps every
 * other data key of that month (two runs would each wrap under a
 * different new KEK); the KEK retirement and the WAL purge look at the
 * whole catalog file.  A disposer holds it from its first catalog read to
 * its checkpoint; waiters poll it (--wait) instead of failing.
 * A child a purge runs inherits the purge's lock: SPIF_LOCK_FD names the
 * inherited descriptor, which is used when it is that same lock file.  The
 * lock is released when the process (and any child holding it) exits. */
int spif_dispose_lock(const char *home, const struct spif_conf *conf, const struct spif_lock_wait *w, int *fd,
                      struct spif_err *err);

/* The certificate class of a destroyed copy: 0 overwritten, 1
 * crypto-erased, 2 missing when its disposal resumed (not verified), 3
 * overwritten by an interrupted run and found truncated under a name it
 * gave it (removed by this one). */
int spif_dispose_class(const struct spif_dispose_copy *t);

/* How a medium is described in a certificate. */
const char *spif_dispose_media_type(const struct spif_medium *m);

/* Is any of the n 40-byte keys anywhere in catalog.db or its WAL?  One pass
 * over each file whatever n is.  1 yes, 0 no. */
int spif_dispose_keys_left(struct spif_catalog *c, unsigned char (*keys)[40], size_t n);

/* ---- a run's targets, from the catalog ---------------------------------- */

/* A new zeroed target at the end of the malloc'd array *v of *n (which may
 * move); NULL when out of memory. */
struct spif_dispose_copy *spif_dispose_add(struct spif_dispose_copy **v, size_t *n);
/* The catalog's copy at t->path that is not disposed (the newest when
 * there are several): t's copy_id, file_id, kind, catalogued_sha256, and
 * resumed when it is "disposing".  None: kind "found" (a stray copy, certified as not
 * catalogued).  0, or -1 with err. */
int spif_dispose_lookup(struct spif_catalog *c, struct spif_dispose_copy *t, struct spif_err *err);
/* Append every copy an earlier run left "disposing" (killed mid-way), as
 * resumed targets: a run finishes them first, whatever it was asked. */
int spif_dispose_leftovers(struct spif_catalog *c, struct spif_dispose_copy **v, size_t *n,
                           struct spif_err *err);
/* Append the other catalog rows, not disposed, at the paths of the
 * targets already in *v (the same file ingested twice, say) and not
 * listed yet: destroying a path disposes of them too, or the catalog would
 * call a destroyed copy present. */
int spif_dispose_siblings(struct spif_catalog *c, struct spif_dispose_copy **v, size_t *n,
                          struct spif_err *err);

#endif
