/* cert.h - disposal certificates: build, number, sign, store, render,
 * verify.  See spif-catalog(5).
 *
 * A certificate is one canonical JSON document (UTF-8, keys sorted, no
 * insignificant whitespace) that says what was destroyed, how, how it was
 * checked and by whom: the NIST SP 800-88 Appendix G items and the Japanese
 * record items (証明書番号, 対象ファイル名・事務, 件数・人数, 廃棄日時,
 * 廃棄方法, 実施者, 確認者, 理由).  It is issued only after the destruction
 * succeeded, in the same transaction as its audit event, optionally with a
 * detached OpenPGP signature.  A second person confirms it later with a
 * separate signed confirmation that names the certificate's hash, so the
 * certificate itself never changes. */
#ifndef SPIF_CERT_H
#define SPIF_CERT_H

#include <jansson.h>

#include "catalog.h"

/* What the command knows; cert adds the rest (id, times, tool, catalog,
 * audit head, sanitizer identity from the actor and spif.conf). */
struct spif_cert_input {
	const char *kind;          /* "disposal" or "redaction" */
	const char *command;       /* the spif command that did it ("spif shred") */
	const struct spif_file *file; /* NULL: not catalogued */
	json_t *copies;            /* array, one object per destroyed copy (borrowed) */
	json_t *sanitization;      /* object: category, method, ... (borrowed) */
	json_t *verification;      /* object: method, result (borrowed) */
	const char *destination;   /* post-sanitization destination */
	const char *reason;        /* 理由 */
	const char *sign_key;      /* NULL or "": unsigned */
	const long long *copy_ids; /* catalogued copies it covers */
	size_t ncopy_ids;
};

/* Inside a transaction: number (DC-YYYY-NNNNNN per year of issue), build,
 * sign, store, and append the "certificate" event.  id gets the number. */
int spif_cert_issue(struct spif_catalog *c, const struct spif_conf *conf,
                    const struct spif_cert_input *in, char id[32], struct spif_err *err);

/* The stored body (canonical JSON) and signature (NULL when unsigned). */
struct spif_cert {
	char id[32];
	char *body, *signature, *signer, *sha256, *operator_;
	char *confirmation, *confirmation_sig; /* NULL until confirmed (sig: NULL when unsigned) */
	char *confirmation_signer, *confirmer;
	long long event_seq, confirmation_seq;
	char *cosignature, *cosigner; /* the organisation's co-signature, NULL until made */
	long long cosign_seq;
};
int spif_cert_load(struct spif_catalog *c, const char *id, struct spif_cert *out,
                   struct spif_err *err);
void spif_cert_free(struct spif_cert *ct);

/* One certificate as spif catalog cert ls lists it; the strings are valid
 * during the callback only. */
struct spif_cert_row {
	const char *id, *kind, *issued, *operator_;
	long long file_id;        /* 0: not catalogued */
	int signed_;              /* it has a signature */
	const char *confirmed_by; /* the confirming operator, NULL until confirmed */
};
/* Every certificate in the order of issue (year, number), through fn; a
 * non-zero return from fn stops the listing and is returned. */
int spif_cert_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_cert_row *r), void *ctx,
                   struct spif_err *err);

/* A readable bilingual (日本語/English) rendering for printing and filing. */
char *spif_cert_render(const struct spif_cert *ct);

/* Confirmation by someone other than the sanitizer (refused for the same
 * operator: SPIF_EX_NOPERM).  Signed with sign_key when given. */
int spif_cert_confirm(struct spif_catalog *c, const struct spif_conf *conf, const char *id,
                      const char *sign_key, const char *note, struct spif_err *err);

/* The organisation's co-signature.  In a catalog with operators the
 * sanitizer signs a certificate with their own key (operator.h), so that
 * the signature says who; the organisation's key (spif.conf sign_key),
 * which lives with the service account, not with the operators, adds its
 * own detached signature over the same bytes afterwards: spif catalog cert
 * cosign, run by the service account (the nightly job) or an admin.
 * Inside a transaction: sign id's body with key, store it, event
 * "certificate.cosign" (its sha256 and signer).  1 added (fpr: the
 * signer), 0 nothing to add (co-signed already, or its own signature is by
 * that key: a personal install signs with the organisation's key).  fpr is
 * also read: "" the first time, then what a call set it to (key's
 * fingerprint), so that a run over many certificates signs nothing only
 * to find that a certificate's own signer is that key. */
int spif_cert_cosign(struct spif_catalog *c, const char *id, const char *key, char fpr[41], struct spif_err *err);
/* The certificates without a co-signature, in the order of issue, their
 * ids through fn (non-zero stops and is returned). */
int spif_cert_uncosigned(struct spif_catalog *c, int (*fn)(void *ctx, const char *id), void *ctx,
                         struct spif_err *err);

/* What spif_cert_verify checks besides the catalog's own copies: an
 * exported certificate and its signature, and an exported confirmation
 * and its signature (each NULL when not given). */
struct spif_cert_files {
	const char *body, *sig, *conf, *conf_sig;
	size_t body_n, sig_n, conf_n, conf_sig_n;
};

/* Check a certificate: body bytes (from the catalog, or from a file given)
 * match the catalog row and its hash, its signature verifies (and is there
 * when its event names a signer), its event is in an intact audit chain
 * and names it.  When it is confirmed, the confirmation too: the bytes
 * given (if any) are the catalog's, it names this certificate and its
 * SHA-256, its certificate.confirm event is in the chain and names its
 * hash, and its signature verifies.  When it is co-signed, the
 * co-signature verifies over the same bytes, by the key its event names.
 * 0 good; -1 with SPIF_FOUND and the reason when it does not hold. */
int spif_cert_verify(struct spif_catalog *c, const char *id, const struct spif_cert_files *in, char *summary,
                     size_t sumlen, struct spif_err *err);

/* Check an exported certificate without the catalog: its inclusion proof
 * (the ID.proof.json document, checkpoint.h) under a checkpoint signed by
 * v, made for this certificate's bytes; and its OpenPGP signature (in->sig)
 * by the key its event names, present when the event says it was signed.
 * A confirmation is not checked (it needs the catalog).  0 good, summary
 * says what was shown; -1 with SPIF_FOUND and the reason otherwise. */
struct spif_note_verifier;
int spif_cert_verify_offline(const struct spif_cert_files *in, const char *proof, size_t proof_n,
                             const struct spif_note_verifier *v, char *summary, size_t sumlen, struct spif_err *err);

#endif
