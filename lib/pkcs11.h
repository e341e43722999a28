/* pkcs11.h - the few PKCS#11 operations the vault's key-encryption keys
 * need, on one token named by its label.
 *
 * The module is dlopen'ed (spif.conf pkcs11_module), so that a spif built
 * here runs where no token library is installed; only p11-kit's header is
 * needed to build.  A KEK is a token object (CKA_TOKEN) that is an AES-256
 * secret key, CKA_SENSITIVE and not CKA_EXTRACTABLE: its value never
 * leaves the token, and destroying the object (C_DestroyObject) is the
 * zeroisation the token performs.  Data keys are wrapped and unwrapped by
 * the token with CKM_AES_KEY_WRAP (RFC 3394: 40 bytes for a 32-byte key,
 * the same bytes a software KEK makes), through a session object that
 * lives only for the call.
 *
 * Errors: a module that will not load, a token that is not there, a PIN
 * file that cannot be read or a PIN the token refuses are
 * SPIF_EX_UNAVAILABLE (69), one line naming what is missing. */
#ifndef SPIF_PKCS11_H
#define SPIF_PKCS11_H

#include <jansson.h>

#include "err.h"

struct spif_p11;

/* Load module, find the token labelled label, open a read-write session
 * and log in as the user with pin. */
int spif_p11_open(const char *module, const char *label, const char *pin, struct spif_p11 **out,
                  struct spif_err *err);
/* Log out, close the session, finalize (the module stays loaded). */
void spif_p11_close(struct spif_p11 *p);

/* What the token is, for a certificate: {"label","manufacturer","model",
 * "serial","hardware": bool, "module"} and, for SoftHSM, "token_files":
 * where it keeps its objects (directories.tokendir of SOFTHSM2_CONF). */
json_t *spif_p11_describe(struct spif_p11 *p);

/* The object labelled label: 0 and *obj, 1 when there is none, -1 with err. */
int spif_p11_find(struct spif_p11 *p, const char *label, unsigned long *obj, struct spif_err *err);
/* A new KEK object labelled label with CKA_ID id (16 bytes).  value NULL:
 * generated inside the token (it never existed outside); else those 32
 * bytes are imported (a KEK escrowed to a custodian must exist outside
 * once).  Either way it is sensitive and not extractable. */
int spif_p11_create(struct spif_p11 *p, const char *label, const unsigned char id[16],
                    const unsigned char *value, unsigned long *obj, struct spif_err *err);
/* CKA_ID of obj (16 bytes): the check value a keks row holds for it. */
int spif_p11_id(struct spif_p11 *p, unsigned long obj, unsigned char id[16], struct spif_err *err);
/* Wrap the 32-byte key dk under obj: 40 bytes. */
int spif_p11_wrap(struct spif_p11 *p, unsigned long obj, const unsigned char dk[32], unsigned char out[40],
                  struct spif_err *err);
/* Unwrap 40 bytes under obj into dk: 0, 1 when they do not unwrap under
 * it (the integrity check failed), -1 with err. */
int spif_p11_unwrap(struct spif_p11 *p, unsigned long obj, const unsigned char in[40], unsigned char dk[32],
                    struct spif_err *err);
/* C_DestroyObject. */
int spif_p11_destroy(struct spif_p11 *p, unsigned long obj, struct spif_err *err);
/* Every object whose label starts with prefix, through fn (label, obj);
 * a non-zero return from fn stops and is returned. */
int spif_p11_list(struct spif_p11 *p, const char *prefix,
                  int (*fn)(void *ctx, const char *label, unsigned long obj), void *ctx, struct spif_err *err);
/* What the token says of obj: CKA_EXTRACTABLE, CKA_SENSITIVE, and whether
 * reading CKA_VALUE was refused (1) or gave the key (0). */
int spif_p11_key_attrs(struct spif_p11 *p, unsigned long obj, int *extractable, int *sensitive,
                       int *value_refused, struct spif_err *err);

#endif
