/* pgp_priv.h - what pgp.c (GPGME: set-up, signing, verifying, decrypting)
 * and pgp_encrypt.c (gpg run directly for encryption) share, for lib/
 * only.  Commands use pgp.h.
 *
 * Nothing here keeps state: GPGME's initialisation is idempotent and every
 * call makes its own context (see pgp.c). */
#ifndef SPIF_PGP_PRIV_H
#define SPIF_PGP_PRIV_H

#include <gpgme.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "pgp.h"

/* GPGME's initialisation, before any other GPGME call; 0, or -1 with err
 * (SPIF_EX_UNAVAILABLE).  Idempotent.  It also fixes which gpg GPGME runs,
 * the one in PATH, which is the one pgp_encrypt.c runs too. */
int spif_pgp_init(struct spif_err *err);
/* A fresh OpenPGP context with spif's settings (local keylist, offline,
 * pinentry loopback without a callback, armor, no symkey cache), or -1
 * with err set.  The caller releases it. */
int spif_pgp_ctx(gpgme_ctx_t *ctx, struct spif_err *err);
/* The secret key keyid for signing in *key (a reference, the caller
 * unrefs it), or -1 with err set: missing, ambiguous,
 * expired/revoked/disabled/invalid or unable to sign. */
int spif_pgp_sign_key(gpgme_ctx_t ctx, const char *keyid, gpgme_key_t *key, struct spif_err *err);
/* Copy a fingerprint into fpr[41]; 0, or -1 (fpr "") when it does not fit. */
int spif_pgp_put_fpr(char fpr[41], const char *s);

/* gpg's log (its standard error) in mem[0, len): the last non-empty line,
 * or the first that says what went wrong, without "gpg: " and with
 * control characters blanked, in buf; NULL when there is none. */
const char *spif_pgp_last_log_line(const char *mem, size_t len, char *buf, size_t bufsz);
const char *spif_pgp_first_log_line(const char *mem, size_t len, char *buf, size_t bufsz);

/* The output side: a GPGME write callback around a spif_pgp_sink. */
struct pgp_sink {
	spif_pgp_sink fn;
	void *ctx;
	int failed; /* the sink failed: errnum says why */
	int errnum;
};

/* Hand n bytes to s->fn: n, or -1 with errno once the sink has failed
 * (and ever after: s->failed, s->errnum).  GPGME's write callback. */
ssize_t spif_pgp_sink_write(void *handle, const void *buf, size_t n);

/* A growing buffer as a sink (spif_pgp_membuf_put is a spif_pgp_sink),
 * kept NUL-terminated; what it drops on the way is wiped (it may hold a
 * data key), and so is what spif_pgp_membuf_wipe frees. */
struct pgp_membuf {
	unsigned char *p;
	size_t n, cap;
};
int spif_pgp_membuf_put(void *ctx, const void *buf, size_t n);
void spif_pgp_membuf_wipe(struct pgp_membuf *m);

#endif
