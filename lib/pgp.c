/* pgp.c - see pgp.h
 *
 * Every call makes its own GPGME context, so there is no state here
 * besides GPGME's own initialisation (gpgme_check_version is idempotent).
 * Nothing goes to the network: keys are listed from the local keyring only
 * (GPGME_KEYLIST_MODE_LOCAL), gpg runs with --disable-dirmngr
 * (gpgme_set_offline) and auto-key-retrieve is never enabled.  Secret keys
 * protected by a passphrase are not supported: pinentry runs in loopback
 * mode without a passphrase callback, so gpg fails at once instead of
 * waiting for a prompt nobody will answer. */
#include "pgp.h"

#include <gpgme.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A fresh OpenPGP context with spif's settings, or -1 with err set. */
static int pgp_ctx(gpgme_ctx_t *ctx, struct spif_err *err)
{
	*ctx = NULL;
	if (!gpgme_check_version("1.8.0"))
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME is older than 1.8.0");
	gpgme_error_t e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	if (e)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "GnuPG is not usable: %s",
				    gpgme_strerror(e));
	e = gpgme_new(ctx);
	if (e) {
		*ctx = NULL;
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME: %s", gpgme_strerror(e));
	}
	e = gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP);
	if (!e)
		e = gpgme_set_keylist_mode(*ctx, GPGME_KEYLIST_MODE_LOCAL);
	if (!e)
		e = gpgme_set_pinentry_mode(*ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	if (e) {
		gpgme_release(*ctx);
		*ctx = NULL;
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME: %s", gpgme_strerror(e));
	}
	gpgme_set_offline(*ctx, 1);              /* gpg --disable-dirmngr */
	gpgme_set_passphrase_cb(*ctx, NULL, NULL); /* fail, never prompt */
	gpgme_set_armor(*ctx, 1);
	gpgme_set_textmode(*ctx, 0);             /* sign the bytes exactly */
	return 0;
}

/* A data object reading n bytes at p (not copied; p may be NULL when n
 * is 0). */
static gpgme_error_t data_from(gpgme_data_t *dh, const void *p, size_t n)
{
	return gpgme_data_new_from_mem(dh, p && n ? p : "", p ? n : 0, 0);
}

/* Copy a fingerprint into fpr[41]; 0, or -1 when it does not fit. */
static int put_fpr(char fpr[41], const char *s)
{
	size_t len = s ? strlen(s) : 0;
	if (len > 40) {
		fpr[0] = '\0';
		return -1;
	}
	memcpy(fpr, s ? s : "", len);
	fpr[len] = '\0';
	return 0;
}

/* Copy a user id, cut at a UTF-8 character boundary when too long. */
static void put_uid(char *uid, size_t uidlen, const char *s)
{
	if (!uid || uidlen == 0)
		return;
	size_t len = s ? strlen(s) : 0;
	if (len >= uidlen) {
		len = uidlen - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(uid, s ? s : "", len);
	uid[len] = '\0';
}

/* The last line gpg wrote to its log (stderr), without "gpg: ", in buf;
 * NULL when there is none. */
static const char *gpg_diag(gpgme_ctx_t ctx, char *buf, size_t bufsz)
{
	gpgme_data_t dh = NULL;
	const char *ret = NULL;
	if (gpgme_data_new(&dh))
		return NULL;
	gpgme_error_t e = gpgme_op_getauditlog(ctx, dh, GPGME_AUDITLOG_DIAG);
	size_t len = 0;
	char *mem = gpgme_data_release_and_get_mem(dh, &len);
	if (!e && mem) {
		/* the last non-empty line */
		size_t end = len;
		while (end > 0 && (mem[end - 1] == '\n' || mem[end - 1] == '\r'))
			end--;
		size_t beg = end;
		while (beg > 0 && mem[beg - 1] != '\n')
			beg--;
		if (end - beg > 5 && memcmp(mem + beg, "gpg: ", 5) == 0)
			beg += 5;
		if (end > beg && bufsz > 0) {
			size_t k = end - beg < bufsz - 1 ? end - beg : bufsz - 1;
			for (size_t i = 0; i < k; i++) {
				unsigned char c = (unsigned char)mem[beg + i];
				buf[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
			}
			buf[k] = '\0';
			ret = buf;
		}
	}
	gpgme_free(mem);
	return ret;
}

/* What the status lines of a signing run told us. */
struct sign_status {
	int need_passphrase;
};

static gpgme_error_t sign_status_cb(void *opaque, const char *keyword, const char *args)
{
	(void)args;
	if (keyword && strcmp(keyword, "NEED_PASSPHRASE") == 0)
		((struct sign_status *)opaque)->need_passphrase = 1;
	return 0;
}

int spif_pgp_sign(const char *keyid, const void *data, size_t n, char **sig, char fpr[41],
                  struct spif_err *err)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_error_t e;
	int rc = -1;

	*sig = NULL;
	fpr[0] = '\0';
	if (!keyid || !*keyid)
		return spif_err_set(err, SPIF_EX_USAGE, "no signing key given");
	if (pgp_ctx(&ctx, err) < 0)
		return -1;

	e = gpgme_get_key(ctx, keyid, &key, 1);
	switch (gpg_err_code(e)) {
	case GPG_ERR_NO_ERROR:
		break;
	case GPG_ERR_EOF:
	case GPG_ERR_NOT_FOUND:
	case GPG_ERR_NO_SECKEY:
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "no secret key for %s", keyid);
		goto out;
	case GPG_ERR_AMBIGUOUS_NAME:
		spif_err_set(err, SPIF_EX_UNAVAILABLE,
			     "%s: more than one secret key matches; give the fingerprint", keyid);
		goto out;
	default:
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: %s", keyid, gpgme_strerror(e));
		goto out;
	}
	if (!key->secret) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "no secret key for %s", keyid);
		goto out;
	}
	/* key->can_sign is gpg's "usable for signing" over all subkeys. */
	const char *why = key->revoked ? "revoked" : key->expired ? "expired"
		: key->disabled ? "disabled" : key->invalid ? "invalid" : NULL;
	if (why) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: key is %s", keyid, why);
		goto out;
	}
	if (!key->can_sign) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: key cannot sign", keyid);
		goto out;
	}

	struct sign_status st = {0};
	gpgme_set_status_cb(ctx, sign_status_cb, &st);
	gpgme_set_ctx_flag(ctx, "full-status", "1"); /* else only a few lines */
	if ((e = gpgme_signers_add(ctx, key)) || (e = data_from(&in, data, n))
	    || (e = gpgme_data_new(&out))) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME: %s", gpgme_strerror(e));
		goto out;
	}
	e = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH);
	gpgme_sign_result_t res = gpgme_op_sign_result(ctx);
	if (!e && res && res->invalid_signers)
		e = res->invalid_signers->reason ? res->invalid_signers->reason
		                                 : gpg_error(GPG_ERR_UNUSABLE_SECKEY);
	if (e) {
		/* a passphrase-protected key ends here too (no passphrase
		 * callback in loopback mode: "No passphrase given" or
		 * "Bad passphrase"), as does an agent that cannot start */
		char diag[256];
		if (st.need_passphrase)
			spif_err_set(err, SPIF_EX_UNAVAILABLE,
				     "%s: cannot sign: the secret key is passphrase-protected and "
				     "spif never prompts (preset the passphrase in gpg-agent)",
				     keyid);
		else
			spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: cannot sign: %s", keyid,
				     gpg_diag(ctx, diag, sizeof diag) ? diag : gpgme_strerror(e));
		goto out;
	}
	if (!res || !res->signatures || !res->signatures->fpr) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: gpg made no signature", keyid);
		goto out;
	}

	/* The sign result names the (sub)key that made the signature.  We
	 * report the primary key's fingerprint instead when that subkey
	 * belongs to the key we asked for: it is what `gpg --list-keys`
	 * shows first and what spif_pgp_verify returns, so the two compare. */
	const char *used = res->signatures->fpr;
	for (gpgme_subkey_t sk = key->subkeys; sk; sk = sk->next)
		if (sk->fpr && strcasecmp(sk->fpr, used) == 0) {
			used = key->subkeys->fpr;
			break;
		}
	if (put_fpr(fpr, used) < 0) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE,
			     "%s: fingerprint longer than 40 hex digits (not a v4 key)", keyid);
		goto out;
	}

	size_t len = 0;
	char *mem = gpgme_data_release_and_get_mem(out, &len);
	out = NULL;
	if (!mem || len == 0) {
		gpgme_free(mem);
		fpr[0] = '\0';
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: gpg made no signature", keyid);
		goto out;
	}
	*sig = malloc(len + 1);
	if (!*sig) {
		gpgme_free(mem);
		fpr[0] = '\0';
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	memcpy(*sig, mem, len);
	(*sig)[len] = '\0';
	gpgme_free(mem);
	rc = 0;
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_key_unref(key);
	gpgme_release(ctx);
	return rc;
}

/* Why signature s is not good, or NULL when it is.
 *
 * A good signature is one gpg checked cryptographically (status
 * GPG_ERR_NO_ERROR, i.e. GOODSIG) by a key that is not expired or revoked.
 * Key validity (the web of trust: GPGME_SIGSUM_VALID/GREEN need a trusted
 * key) is deliberately not required: spif checks that the signature was
 * made by the key it names, and whether that key is the right one is the
 * operator's decision -- callers compare the returned fingerprint with
 * the key they expect.  Only a key the operator explicitly marked as never
 * valid (GPGME_SIGSUM_RED with a good status) is refused. */
static const char *sig_problem(gpgme_signature_t s, char *buf, size_t bufsz)
{
	const char *who = s->fpr ? s->fpr : "?";
	switch (gpg_err_code(s->status)) {
	case GPG_ERR_NO_ERROR:
		break;
	case GPG_ERR_BAD_SIGNATURE:
		return "bad signature";
	case GPG_ERR_NO_PUBKEY:
		snprintf(buf, bufsz, "signature by unknown key %s", who);
		return buf;
	case GPG_ERR_KEY_EXPIRED:
		snprintf(buf, bufsz, "signature by expired key %s", who);
		return buf;
	case GPG_ERR_CERT_REVOKED:
		snprintf(buf, bufsz, "signature by revoked key %s", who);
		return buf;
	case GPG_ERR_SIG_EXPIRED:
		return "signature expired";
	default:
		snprintf(buf, bufsz, "cannot check signature: %s", gpgme_strerror(s->status));
		return buf;
	}
	if (s->summary & GPGME_SIGSUM_KEY_REVOKED) {
		snprintf(buf, bufsz, "signature by revoked key %s", who);
		return buf;
	}
	if (s->summary & GPGME_SIGSUM_KEY_EXPIRED) {
		snprintf(buf, bufsz, "signature by expired key %s", who);
		return buf;
	}
	if (s->summary & GPGME_SIGSUM_SIG_EXPIRED)
		return "signature expired";
	if (s->summary & GPGME_SIGSUM_RED) {
		snprintf(buf, bufsz, "signature by key %s marked as not valid", who);
		return buf;
	}
	if (s->wrong_key_usage) {
		snprintf(buf, bufsz, "signature by key %s not meant for signing", who);
		return buf;
	}
	return NULL;
}

int spif_pgp_verify(const void *data, size_t n, const char *sig, size_t siglen, char fpr[41],
                    char *uid, size_t uidlen, struct spif_err *err)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_data_t sd = NULL, td = NULL;
	gpgme_error_t e;
	int rc = -1;

	fpr[0] = '\0';
	put_uid(uid, uidlen, "");
	if (!sig || siglen == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "not an OpenPGP signature");
	if (pgp_ctx(&ctx, err) < 0)
		return -1;
	if ((e = data_from(&sd, sig, siglen)) || (e = data_from(&td, data, n))) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME: %s", gpgme_strerror(e));
		goto out;
	}
	e = gpgme_op_verify(ctx, sd, td, NULL);
	switch (gpg_err_code(e)) {
	case GPG_ERR_NO_ERROR:
		break;
	case GPG_ERR_NO_DATA:
	case GPG_ERR_BAD_DATA:
	case GPG_ERR_INV_PACKET:
	case GPG_ERR_INV_ARMOR:
	case GPG_ERR_UNKNOWN_PACKET:
		spif_err_set(err, SPIF_EX_DATAERR, "not an OpenPGP signature");
		goto out;
	default: {
		char diag[256];
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "cannot verify: %s",
			     gpg_diag(ctx, diag, sizeof diag) ? diag : gpgme_strerror(e));
		goto out;
	}
	}
	gpgme_verify_result_t res = gpgme_op_verify_result(ctx);
	if (!res || !res->signatures) {
		spif_err_set(err, SPIF_EX_DATAERR, "not an OpenPGP signature");
		goto out;
	}

	/* Several signatures in one file: every one must be good; the
	 * first names the signer.  spif itself makes one. */
	gpgme_signature_t first = res->signatures;
	char why[256];
	for (gpgme_signature_t s = res->signatures; s; s = s->next) {
		const char *p = sig_problem(s, why, sizeof why);
		if (p) {
			put_fpr(fpr, s->fpr); /* best effort: cleared if too long */
			spif_err_set(err, SPIF_FOUND, "%s", p);
			goto out;
		}
	}

	/* Good: report the primary key's fingerprint and user id. */
	const char *pfpr = first->fpr;
	if (first->fpr && !gpgme_get_key(ctx, first->fpr, &key, 0) && key) {
		if (key->subkeys && key->subkeys->fpr)
			pfpr = key->subkeys->fpr;
		gpgme_user_id_t u = key->uids;
		for (gpgme_user_id_t v = key->uids; v; v = v->next)
			if (!v->revoked && !v->invalid) {
				u = v;
				break;
			}
		if (u)
			put_uid(uid, uidlen, u->uid);
	}
	if (!pfpr || put_fpr(fpr, pfpr) < 0) {
		put_uid(uid, uidlen, "");
		spif_err_set(err, SPIF_EX_UNAVAILABLE,
			     "signing key's fingerprint is not a v4 fingerprint");
		goto out;
	}
	rc = 0;
out:
	gpgme_data_release(sd);
	gpgme_data_release(td);
	gpgme_key_unref(key);
	gpgme_release(ctx);
	return rc;
}
