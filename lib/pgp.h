/* pgp.h - OpenPGP through GPGME, offline: no keyserver, no WKD, the keyring
 * of $GNUPGHOME only.  Detached signatures for certificates and checkpoints
 * (encryption comes with spif encrypt). */
#ifndef SPIF_PGP_H
#define SPIF_PGP_H

#include <stddef.h>

#include "err.h"

/* Sign data with the secret key keyid (fingerprint, key id or e-mail):
 * an ASCII-armored detached signature in *sig (malloc'd, NUL-terminated)
 * and the signing key's fingerprint in fpr.  No such secret key, or an
 * expired/revoked one: SPIF_EX_UNAVAILABLE "no secret key for KEYID" (or
 * the reason); GnuPG not usable: SPIF_EX_UNAVAILABLE. */
int spif_pgp_sign(const char *keyid, const void *data, size_t n, char **sig, char fpr[41],
                  struct spif_err *err);

/* Verify a detached signature over data.  0 when good, with the signer's
 * fingerprint and primary user id; -1 otherwise: SPIF_FOUND (1) "bad signature"
 * or "signature by unknown key FPR", SPIF_EX_DATAERR when sig is not an
 * OpenPGP signature, SPIF_EX_UNAVAILABLE when GnuPG is not usable. */
int spif_pgp_verify(const void *data, size_t n, const char *sig, size_t siglen, char fpr[41],
                    char *uid, size_t uidlen, struct spif_err *err);

#endif
