/* export.h - checkouts (持出し): what leaves the office, in one archive, and
 * the ledger (持出し簿) that follows it until it is back or destroyed.
 *
 * An export is one OpenPGP message (encrypted to every recipient, signed
 * by the operator's key when there is one) holding a pax tar of a BagIt
 * 1.0 bag (bagit.h): the records of each file under data/ (NDJSON, or CSV
 * in the encoding asked), redacted or cut to chosen fields if asked, with
 * SHA-256 and SHA-512 manifests, bag-info.txt with the custody items, and
 * spif/checkout.json, the ledger row as canonical JSON.  Numbers leave
 * only encrypted: a plain directory or tar is written only when the
 * detector finds no Individual Number in the payload on the way out.
 *
 * The run is one stream: records -> selection/redaction -> hashes -> tar
 * (libarchive) -> a pipe -> gpg -> the output, an unnamed file linked in
 * place only at the commit.  No plaintext reaches a file, not even a
 * temporary one (export_run.c says how the sizes a tar header needs are
 * known).  The catalog changes once, at the end, in one transaction: the
 * ledger row, the archive registered as an "export" copy of each file,
 * the event.  A run that fails or is killed leaves neither output nor row.
 *
 * The ledger's states: out, then returned (the archive came back and its
 * hash was checked), destroyed-by-recipient (their deletion certificate,
 * signed by a recipient's key, registered) or lost (every file held); a
 * disclosure answer, delivered (handed to the person it is about).  A
 * file is not marked disposed while an export of it is out
 * (spif_export_outstanding, which lib/dispose.c asks), and its disposal
 * certificate lists every export and how it ended (spif_export_fates).
 *
 * lib/ prints nothing: what the user should hear as it happens goes to
 * the note callback. */
#ifndef SPIF_EXPORT_H
#define SPIF_EXPORT_H

#include <jansson.h>

#include "bagit.h"
#include "catalog.h"
#include "home.h"
#include "pseudonym.h"
#include "record.h"
#include "redact.h"

/* ---- the ledger ------------------------------------------------------- */

enum spif_export_state {
	SPIF_EXPORT_OUT = 0,
	SPIF_EXPORT_RETURNED,
	SPIF_EXPORT_DESTROYED, /* destroyed-by-recipient */
	SPIF_EXPORT_LOST,
	SPIF_EXPORT_DELIVERED, /* a disclosure answer handed to the person */
};
const char *spif_export_state_name(enum spif_export_state s);

/* "EX-2026-000001": 1 when s is one, else 0. */
int spif_export_id_valid(const char *s);

/* One ledger row.  In a listing the strings are valid during the
 * callback; from spif_export_get they are owned (spif_export_row_free). */
struct spif_export_row {
	char *id;
	char *files;        /* JSON array of {"file","label","purpose","records","persons","path",...} */
	long long records, persons;
	char *recipients;   /* JSON array of {"key","fingerprint"} */
	char *organisation, *person, *basis, *reason, *operator_, *approver;
	char *medium, *seal, *created, *due, *format, *path, *signer;
	char *archive_sha256;
	long long archive_size;
	char *checkout_sha256;
	enum spif_export_state state;
	char *closed, *closed_by, *fate; /* fate: JSON, or NULL while out */
	long long event_seq;
};
void spif_export_row_free(struct spif_export_row *r);

/* One export: SPIF_EX_DATAERR "no export ID" when unknown. */
int spif_export_get(struct spif_catalog *c, const char *id, struct spif_export_row *r, struct spif_err *err);
/* The ledger oldest first: every row, or only those out (outstanding), or
 * only those out and past their due date on today ("YYYY-MM-DD"). */
#define SPIF_EXPORT_LIST_OUT 1
#define SPIF_EXPORT_LIST_OVERDUE 2
int spif_export_list(struct spif_catalog *c, int which, const char *today,
                     int (*fn)(void *ctx, const struct spif_export_row *r), void *ctx, struct spif_err *err);

/* How many exports of file_id are out: >= 0, or -1 with err.  A file
 * with one out is not marked disposed (lib/dispose.c asks this). */
int spif_export_outstanding(struct spif_catalog *c, long long file_id, struct spif_err *err);
/* Every export of file_id and how it ended, for its disposal certificate:
 * a JSON array (new reference; empty when none), or NULL with err. */
json_t *spif_export_fates(struct spif_catalog *c, long long file_id, struct spif_err *err);

/* The archive came back: the file at path (NULL: the registered one)
 * must be the archive that left (SHA-256 and size; a bag directory: its
 * tag manifest), else SPIF_EX_DATAERR and nothing changes.  Then, in one
 * transaction with an "export.return" event: the row returned, with who
 * received it and the state of its seal (seal_intact 0: broken, which the
 * ledger keeps); the export copies point at path, so that spif shred
 * finds them there.  SPIF_EX_DATAERR when the export is not out. */
int spif_export_return(struct spif_catalog *c, const char *id, const char *received_by, int seal_intact,
                       const char *path, struct spif_err *err);

/* The recipient's deletion certificate: cert_path, with its detached
 * signature cert_path.asc (or .sig), or cleartext-signed; the signature
 * must be good and by one of the export's recipients' keys (SPIF_FOUND
 * "... not by a recipient's key" otherwise, SPIF_EX_DATAERR when there is
 * no signature).  In one transaction ("export.destroyed"): the row
 * destroyed-by-recipient, its fate naming the certificate (SHA-256,
 * signer, signature); the export copies disposed when the archive is not
 * here (the recipient held it); a file with no copy left becomes
 * disposed.  *kept (may be NULL) is set when the archive is still at its
 * path here: a copy to shred as usual. */
int spif_export_destroyed(struct spif_catalog *c, const char *id, const char *cert_path, int *kept,
                          struct spif_err *err);

/* Lost: the row lost with the reason, and an incident hold placed on each
 * of its files (retention.h), in one transaction ("export.lost").
 * *holds (may be NULL) gets the hold ids as a JSON array. */
int spif_export_lost(struct spif_catalog *c, const char *id, const char *reason, json_t **holds,
                     struct spif_err *err);

/* A disclosure answer (開示請求, subject.h: its export event names the
 * subject) handed to the person it is about: it is theirs from then on,
 * so the checkout ends there rather than by return or destruction.  In
 * one transaction ("export.delivered"): the row delivered, its fate
 * naming who received it (and note, may be NULL); an export copy whose
 * archive is no longer at its path here is settled (disposed: the person
 * holds it, not the office).  *kept (may be NULL) is set when the archive
 * is still here: a copy to shred as usual.  SPIF_EX_NOINPUT for an
 * unknown export; SPIF_EX_DATAERR for one that is not a disclosure answer
 * or not out. */
int spif_export_delivered(struct spif_catalog *c, const char *id, const char *received_by, const char *note,
                          int *kept, struct spif_err *err);

/* ---- the run ---------------------------------------------------------- */

/* A payload made by the caller instead of read from a file's copy (a
 * disclosure request, subject.h: only the records of one person): the
 * bytes of data/NAME for one file, in fmt and enc, with what it holds. */
struct spif_export_part {
	const char *data;
	size_t len;
	enum spif_format fmt;
	enum spif_enc enc;
	const char *source;       /* the copy it was read from (for the ledger) */
	int vault;                /* that copy is the vault's */
	long long records, persons;
};

/* A tag file of the caller's, added to the bag before spif/checkout.json. */
struct spif_export_tag {
	const char *name;         /* relative to the bag: "spif/history.json" */
	const char *data;
	size_t len;
};

enum spif_export_form {
	SPIF_EXPORT_BAG = 0, /* OpenPGP message of a tar of the bag (the default) */
	SPIF_EXPORT_DIR,     /* the bag as a directory: only with no number in it */
	SPIF_EXPORT_TAR,     /* a tar of the bag, unencrypted: only with no number in it */
	SPIF_EXPORT_ZIP,     /* --zip-aes256: a ZIP of the bag, WinZip AES-256 under a password (weak) */
};
const char *spif_export_form_name(enum spif_export_form f);

struct spif_export_opts {
	const long long *files;   /* file ids (or NULL with purpose) */
	size_t nfiles;
	const char *purpose;      /* every file of this purpose that is not disposed */
	const char *const *recipients; /* bag: at least one (at most 16) */
	size_t nrecipients;
	const char *sign_key;     /* NULL or "": unsigned */
	enum spif_export_form form;
	enum spif_format to;      /* NDJSON (default) or CSV */
	enum spif_enc enc;        /* CSV: UTF-8 (default), UTF-8 with BOM, CP932, EUC-JP */
	int redact;               /* run the redaction engine with op (and psn) */
	enum spif_redact_op op;
	struct spif_psn *psn;     /* borrowed */
	char **fields;            /* keep only these (drop 0) or drop these (drop 1) */
	size_t nfields;
	int drop;
	const char *organisation, *person, *basis, *reason, *medium, *seal, *due;
	const char *approver;     /* who approved (operator.h: the gate found it), NULL: none needed */
	const char *out;
	const char *zip_password; /* SPIF_EXPORT_ZIP: the password (never from argv) */
	const char *home;
	const struct spif_conf *conf;
	/* a disclosure request (subject.h): parts[i] is files[i]'s payload
	 * (then nfiles may be 0: nothing is held); subject goes into the
	 * ledger row and the export's event as "subject"; tags into the bag */
	const struct spif_export_part *parts;
	json_t *subject;          /* borrowed */
	const struct spif_export_tag *tags;
	size_t ntags;
	void (*note)(void *ctx, const char *msg);
	void *note_ctx;
	/* called with the archive's bytes so far as they are written (NULL:
	 * not called); the command shows progress with it, lib/ never prints */
	void (*progress)(void *ctx, long long bytes);
};

struct spif_export_result {
	char id[32];
	char sha256[65];          /* of the archive (a directory: of its tag manifest) */
	long long size;
	long long records, persons;
	size_t nfiles;
	char signer[41];          /* "" when unsigned */
	char medium[80];          /* the registered medium it went on, "" when none */
	char path[4096];          /* the output's absolute path */
};

/* Errors: SPIF_EX_USAGE (options), SPIF_EX_NOINPUT (an unknown file, no
 * file of the purpose), SPIF_EX_DATAERR (a disposed file, no readable
 * copy, a copy changed since it was catalogued, a vault copy that fails
 * authentication, a number in a plain payload, a field not in a file),
 * SPIF_EX_UNAVAILABLE (a recipient's or the signer's key missing,
 * expired, revoked; no GnuPG), SPIF_EX_NOPERM (an unregistered or retired
 * medium where media must be registered), SPIF_EX_CANTCREAT (the output
 * exists), SPIF_EX_IOERR (disk full), SPIF_EX_TEMPFAIL (another export is
 * running). */
int spif_export_run(struct spif_catalog *c, const struct spif_export_opts *o, struct spif_export_result *r,
                    struct spif_err *err);

/* ---- checking an archive ---------------------------------------------- */

struct spif_export_check {
	struct spif_bag_report bag;
	int encrypted;            /* it was an OpenPGP message */
	int zip;                  /* it was a password ZIP (--zip-aes256) */
	int sig_status;           /* 0 unsigned, 1 good, -1 not good */
	char signer[41];
	char sig_problem[300];    /* why the signature is not good */
	char sha256[65];          /* of the file as given ("" for a directory) */
};

/* Check an export: a directory bag, a tar, or an OpenPGP message of a tar
 * (decrypted with the keys in the keyring, its signature checked).
 * Every problem of the bag goes to fn.  0 when it could be read (see
 * r->bag.problems and r->sig_status), -1 with err when it could not. */
int spif_export_check(const char *path, spif_bag_problem_fn fn, void *ctx, struct spif_export_check *r,
                      struct spif_err *err);
/* Does path look like a ZIP (its first bytes)?  For a command to know
 * that it must ask for a password. */
int spif_export_is_zip(const char *path);
/* The same; a ZIP (--zip-aes256) is read with zip_password (SPIF_EX_USAGE
 * without one; a wrong one is SPIF_EX_DATAERR). */
int spif_export_check_with(const char *path, const char *zip_password, spif_bag_problem_fn fn, void *ctx,
                           struct spif_export_check *r, struct spif_err *err);
void spif_export_check_free(struct spif_export_check *r);

#endif
