/* pgp.h - OpenPGP, offline: no keyserver, no WKD, the keyring of
 * $GNUPGHOME only.  Detached signatures for certificates and checkpoints;
 * whole-stream encryption and decryption for spif encrypt; wrapping small
 * secrets (data keys) to recipients.  GPGME signs, verifies, decrypts and
 * picks the signing key; a whole-stream encryption runs gpg itself, with
 * its recipients looked up by gpg --list-keys (see pgp_encrypt.c for why). */
#ifndef SPIF_PGP_H
#define SPIF_PGP_H

#include <stddef.h>

#include "err.h"

/* Where decrypted or encrypted bytes go: write all n bytes, 0 or -1 with
 * errno set (the same contract as spif_sink_fn in record.h). */
typedef int (*spif_pgp_sink)(void *ctx, const void *buf, size_t n);

/* Sign data with the secret key keyid (fingerprint, key id or e-mail):
 * an ASCII-armored detached signature in *sig (malloc'd, NUL-terminated)
 * and the signing key's fingerprint in fpr.  No such secret key, or an
 * expired/revoked one: SPIF_EX_UNAVAILABLE "no secret key for KEYID" (or
 * the reason); GnuPG not usable: SPIF_EX_UNAVAILABLE. */
int spif_pgp_sign(const char *keyid, const void *data, size_t n, char **sig, char fpr[41],
                  struct spif_err *err);

/* Can keyid sign, now?  The one probe a command (or a lib protocol) asks
 * before anything changes, so that a certificate that cannot be signed
 * stops it before the first copy goes, not after: it signs a few fixed
 * bytes and throws the signature away, so a passphrase-protected key or
 * an agent that cannot start fails here exactly as it would later.  0
 * with the key's fingerprint in fpr (fpr may be NULL), or -1 with the
 * errors of spif_pgp_sign. */
int spif_pgp_can_sign(const char *keyid, char fpr[41], struct spif_err *err);

/* Verify a detached signature over data.  0 when good, with the signer's
 * fingerprint and primary user id; -1 otherwise: SPIF_FOUND (1) "bad signature"
 * or "signature by unknown key FPR", SPIF_EX_DATAERR when sig is not an
 * OpenPGP signature, SPIF_EX_UNAVAILABLE when GnuPG is not usable. */
int spif_pgp_verify(const void *data, size_t n, const char *sig, size_t siglen, char fpr[41],
                    char *uid, size_t uidlen, struct spif_err *err);

/* Encryption, for spif encrypt and for wrapping keys to a custodian.
 * Recipients are key ids, fingerprints or e-mails in the keyring; each must
 * resolve to exactly one usable encryption key: missing is
 * SPIF_EX_UNAVAILABLE "no public key for RECIPIENT"; expired, revoked or
 * disabled is SPIF_EX_UNAVAILABLE "RECIPIENT: key is expired" (...).  Never
 * a network lookup.  Compression off.  When passphrase is given (and no
 * recipients) the encryption is symmetric (at most 1024 bytes, one line).
 * At most 16 recipients. */
struct spif_pgp_enc {
	const char *const *recipients;
	size_t nrecipients;
	const char *sign_key;   /* NULL: unsigned */
	int armor;
	const char *passphrase; /* symmetric mode */
	char (*fprs)[41];       /* out: the recipients' fingerprints (nrecipients of them) */
};
/* Read all of in_fd, write the OpenPGP message through fn.  gpg reads
 * in_fd itself (it becomes gpg's standard input), so the caller must not
 * read it concurrently.  A failing fn stops gpg: the error is fn's errno. */
int spif_pgp_encrypt_fd(int in_fd, spif_pgp_sink fn, void *ctx, struct spif_pgp_enc *e,
                        struct spif_err *err);
/* The same, with gpg writing the message straight to out_fd, no copy
 * through this process (the fast way for a command's output).  When tap
 * is not NULL, out_fd must be a regular file open for reading and
 * writing: tap sees every byte gpg writes, read back behind it while it
 * works (for the hash of the output).  A failing write is SPIF_EX_IOERR. */
int spif_pgp_encrypt_to_fd(int in_fd, int out_fd, spif_pgp_sink tap, void *tapctx,
                           struct spif_pgp_enc *e, struct spif_err *err);
/* Read an OpenPGP message from in_fd, write the plaintext through fn.
 * signer gets the signer's fingerprint ("" when unsigned); *sig_status is
 * 0 unsigned, 1 good, -1 not good.  A signature that is not good (bad, or
 * by an unknown, expired or revoked key) over a message that decrypted
 * whole returns 0 with err set to SPIF_FOUND and the reason ("bad
 * signature by FPR"): the caller decides.  When gpg stops at a bad
 * signature before the end of the message, it returns -1 with that
 * SPIF_FOUND error, and what fn got must be discarded.  Not OpenPGP:
 * SPIF_EX_DATAERR "not an OpenPGP message"; no secret key:
 * SPIF_EX_UNAVAILABLE "no secret key to decrypt it (for KEYIDS)". */
int spif_pgp_decrypt_fd(int in_fd, spif_pgp_sink fn, void *ctx, const char *passphrase,
                        char signer[41], int *sig_status, struct spif_err *err);
/* Buffers, for wrapping a data key to recipients (armored out, malloc'd,
 * NUL-terminated).  decrypt_buf reports the signature and takes a
 * passphrase as decrypt_fd does; *out is malloc'd (the caller wipes it). */
int spif_pgp_encrypt_buf(const void *data, size_t n, struct spif_pgp_enc *e, char **out,
                         size_t *outn, struct spif_err *err);
int spif_pgp_decrypt_buf(const void *data, size_t n, const char *passphrase, void **out,
                         size_t *outn, char signer[41], int *sig_status, struct spif_err *err);

#endif
