/* pseudonym.h - keyed pseudonyms of Individual Numbers, and the key store
 * that holds their keys.
 *
 * A pseudonym is "PSN:" and 26 base32 characters of HMAC-SHA256(key,
 * digits): the same key and number always give the same token, so joins
 * across files still work, and a token never holds 12 digits in a row, so
 * it can never pass for (or be found again as) a number.  Pseudonyms are
 * still specific personal information: a keyed hash of a number can
 * identify the person, so output holding them stays under the same
 * controls.
 *
 * Keys live in $SPIF_HOME/keys/psn-NAME.key: 32 random bytes, created
 * atomically (never replacing one), mode as spif.conf says (0600 by
 * default), with a key.create event.  A name is letters, digits, - _ .
 * (at most 64, not starting with a dot), so it can never leave keys/. */
#ifndef SPIF_PSEUDONYM_H
#define SPIF_PSEUDONYM_H

#include <limits.h>
#include <stddef.h>

#include "catalog.h"
#include "err.h"
#include "home.h"

/* A loaded key, ready to make tokens. */
struct spif_psn;

/* Is name a valid key name (see above)?  1 or 0. */
int spif_psn_key_name_valid(const char *name);

/* Create key name in home's key store (keys/ made when missing), with its
 * key.create event in c (which must be open for writing).  path gets the
 * key file's path.  Errors: SPIF_EX_USAGE for a bad name,
 * SPIF_EX_CANTCREAT when keys/ or the file cannot be made (an existing key
 * is never replaced), SPIF_EX_IOERR, or the catalog's. */
int spif_psn_key_create(struct spif_catalog *c, const char *home, const struct spif_conf *conf,
                        const char *name, char path[PATH_MAX + 80], struct spif_err *err);

/* Load key name from home's key store.  SPIF_EX_UNAVAILABLE when it is
 * missing or not a 32-byte key ("pseudonym key NAME: ..."), SPIF_EX_USAGE
 * for a bad name. */
int spif_psn_key_load(const char *home, const char *name, struct spif_psn **out, struct spif_err *err);
void spif_psn_free(struct spif_psn *p);

/* The token for digits (the 12 or 13 ASCII digits of a number, whatever
 * form it was written in): "PSN:" + 26 characters, NUL-terminated. */
void spif_psn_token(struct spif_psn *p, const char *digits, char out[32]);

/* Is v a pseudonym token (it starts with "PSN:")?  Never a number,
 * whatever its digits. */
int spif_psn_is_token(const char *v);

#endif
