/* forensic.h - a forensic bundle of an incident (spif export --forensic),
 * and its offline verification.
 *
 * What it is: the same package as an export (export.h), one OpenPGP
 * message encrypted to the responders and signed, holding a pax tar of a
 * BagIt bag, whose payload is the record of the incident:
 *   data/events.ndjson   every event in the window that touches the
 *                        incident, its files, their holds, copies,
 *                        certificates and exports, and every operator
 *                        event, each as the log holds it (its fields hash
 *                        to its chain hash);
 *   data/proofs.json     a checkpoint signed now by the catalog's key, an
 *                        inclusion proof of each event under it, and a
 *                        consistency proof from the last checkpoint
 *                        issued before the window (none before it: the
 *                        first; no --since: the last before this run),
 *                        consistency_from saying which and why;
 *   data/rows.json       the catalog rows involved (incident, files,
 *                        copies, holds, events of files, exports and
 *                        their files, certificates and confirmations with
 *                        their signatures, operators); never a key table;
 *   data/host.json       tool version, host name, spif.conf's SHA-256, the
 *                        clock's synchronisation: what each source present
 *                        said (timedatectl, chronyc, ntpq, adjtimex;
 *                        clockstate.h) and the verdict, "unknown" when
 *                        none could say;
 *   data/spif.conf       the configuration in force, when there is one;
 *   data/F000001.ndjson  only with_records: each file's records as held,
 *   data/F000002.csv     byte for byte: its vault copy's NDJSON, else a
 *                        present copy whose SHA-256 is the catalog's, in
 *                        its own format and encoding (export_priv.h,
 *                        spif_export_emit_held: export's own reader, so a
 *                        changed copy is never read);
 * and the tag files spif/custody.json (who, when, from where, why, what:
 * the SHA-256 of every payload file; with records, "records" says for
 * every file of the incident where its records came from, or that it is
 * disposed and none are left, and "approver" who approved them leaving)
 * with its detached OpenPGP signature spif/custody.json.asc by the
 * responder's key.
 *
 * Invariants:
 * - Every file involved is held first (incident.h), in a transaction of
 *   its own committed before anything is read: nothing involved can be
 *   disposed of while the bundle is made or after.
 * - No Individual Number but in the records asked for: every string of
 *   the rest of the payload goes through the detector on the way out
 *   (hashes, signatures and notes excepted), and one that may be a
 *   number stops the run, fail closed, with nothing written.  Records
 *   leave only with_records, which the command grants as it grants an
 *   export that keeps numbers (SPIF_ACT_EXPORT per file: grant, reason,
 *   a second person's approval).
 * - A file of the incident with nothing to read its records from (no
 *   vault copy, no copy with its catalogued content) or whose copy
 *   changed fails the run, SPIF_EX_DATAERR naming it: a bundle that says
 *   it holds the records of the incident holds all of them.  A disposed
 *   file has none, and custody.json says so.
 * - One stream, as export's (export_run.c): the tar is made by a producer
 *   thread into a pipe that is gpg's input, gpg writes the unnamed
 *   output, read back behind it for its SHA-256.  Records go from their
 *   copy to the tar to gpg in fixed buffers: memory does not grow with
 *   the rows, and no plaintext reaches a file, not even a temporary one.
 *   Records are read twice, as export reads a payload whose size it
 *   must count: first only hashed (and counted against the size the
 *   vault header or the copy announces), so that custody.json, which
 *   names their SHA-256, is whole and signed before the stream starts;
 *   then into the tar, where the second reading must hash the same or
 *   the run fails.  Signing inside the stream would start a second gpg
 *   while the first is being started in the other thread, and a child
 *   forked then can keep the other's pipe ends open: both wait forever.
 * - The output is whole or absent (atomic.h); the run ends with an
 *   "incident.forensic" event naming its SHA-256 and recipients (and,
 *   with records, the files whose records left and the approver).
 * - Records that leave are a checkout (export.h): the ledger's next
 *   number is taken under export's lock before custody.json is signed,
 *   which names it; the row (format "forensic", organisation and basis
 *   the incident) and an export copy of each file whose records it holds
 *   commit in the same transaction as the event, so that such a file is
 *   not disposed of while the bundle is out.
 * - Verification needs nothing but the bundle, the recipient's secret key
 *   and the catalog's public key: every event's hash, every inclusion
 *   proof, the checkpoints' signatures and the consistency proof, and
 *   every payload file's SHA-256, records included, against the one
 *   custody.json gives.  It reads the bundle in one pass, decrypted
 *   into a pipe (decrypt_pipe.h): the payload is hashed as it streams by
 *   and only the small documents are kept, so a bundle of any size is
 *   checked in bounded memory. */
#ifndef SPIF_FORENSIC_H
#define SPIF_FORENSIC_H

#include <stddef.h>

#include "catalog.h"
#include "err.h"
#include "home.h"
#include "note.h"

struct spif_forensic_opts {
	const char *incident;             /* INC-YYYY-NNNNNN, open */
	const long long *files;           /* more files to add to it first (may be 0) */
	size_t nfiles;
	const char *since, *until;        /* UTC times or dates ("YYYY-MM-DD"), NULL: open-ended */
	const char *const *recipients;    /* the responders (1..16) */
	size_t nrecipients;
	const char *sign_key;             /* the responder's key: signs the package and custody.json */
	const char *reason;               /* why (custody.json); required with with_records */
	int with_records;                 /* bundle each file's records as held (the caller passed the gate) */
	const char *approver;             /* with_records: who approved them leaving (custody.json), or NULL */
	const long long *gated;           /* with_records: the files the gate let go; any other file of the */
	size_t ngated;                    /* incident with records fails the run (fail closed) */
	const char *out;
	const struct spif_conf *conf;
};

struct spif_forensic_result {
	char sha256[65];
	long long size;
	long long events;
	size_t files;
	size_t records;                   /* files whose records are in it */
	char export_id[32];               /* with records: its checkout (EX-...), else "" */
	char signer[41];
	char path[4096];
};

/* Make the bundle.  SPIF_EX_DATAERR: an unknown or closed incident, a
 * number found in the payload; SPIF_EX_USAGE: no signing key;
 * SPIF_EX_UNAVAILABLE: a key missing; SPIF_EX_CANTCREAT: the output
 * exists. */
int spif_forensic_run(struct spif_catalog *c, const struct spif_forensic_opts *o, struct spif_forensic_result *r,
                      struct spif_err *err);

/* One problem found by verify (what: one line naming the event or file). */
typedef void (*spif_forensic_problem_fn)(void *ctx, const char *what);

struct spif_forensic_report {
	long long events, proofs;   /* events checked, proofs verified */
	long long payload, records; /* payload files whose SHA-256 is custody.json's; of them, record files */
	long long problems;
	int consistency;            /* 1 checked, 0 none in the bundle */
	char catalog[64];
	unsigned long long tree_size;
};

/* Check a bundle's payload (the tar bytes, already decrypted) against the
 * catalog's public key v: 0 with r filled (problems through fn), -1 with
 * err when it is not a forensic bundle (SPIF_EX_DATAERR) or cannot be
 * read. */
int spif_forensic_verify_tar(const void *tar, size_t n, const struct spif_note_verifier *v,
                             spif_forensic_problem_fn fn, void *ctx, struct spif_forensic_report *r,
                             struct spif_err *err);

/* The same from a file: an OpenPGP message (decrypted with the keyring's
 * secret key) or a tar. */
int spif_forensic_verify_file(const char *path, const struct spif_note_verifier *v, spif_forensic_problem_fn fn,
                              void *ctx, struct spif_forensic_report *r, struct spif_err *err);

#endif
