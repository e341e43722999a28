/* pgp.c - see pgp.h
 *
 * Every call makes its own GPGME context, so there is no state here
 * besides GPGME's own initialisation (gpgme_check_version is idempotent).
 * Nothing goes to the network: keys are listed from the local keyring only
 * (GPGME_KEYLIST_MODE_LOCAL), gpg runs with --disable-dirmngr
 * (gpgme_set_offline), so that no keyserver or WKD can be reached whatever
 * gpg.conf says, and auto-key-retrieve is never enabled (GPGME passes it
 * only when asked).  The gpgs encryption runs directly read no gpg.conf:
 * gpg --list-keys, local by nature, for the recipients, and the one that
 * encrypts, also told --no-auto-key-locate --no-auto-key-retrieve.
 * Secret keys protected by a passphrase are not supported: pinentry runs
 * in loopback mode without a passphrase callback, so gpg fails at once
 * instead of waiting for a prompt nobody will answer.  The one passphrase
 * spif does hand over is that of a passphrase-encrypted (symmetric)
 * message, through a callback on GPGME's command channel or a pipe to
 * gpg, never argv or the environment, and gpg-agent is told not to cache
 * it (--no-symkey-cache).
 *
 * Encryption runs gpg itself for the bytes, and gpg --list-keys beside it
 * for the recipients, which it hears of only when all are approved: that
 * is pgp_encrypt.c, which says why and how.  What both files need (GPGME's
 * set-up, the signing key, gpg's log lines, the sink) is in pgp_priv.h. */
#include "pgp.h"
#include "pgp_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <gpgme.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

/* GPGME's initialisation, needed before any other GPGME call (data
 * objects too); idempotent.
 *
 * Start-up cost.  The first context GPGME makes asks gpgconf where GnuPG
 * lives (gpgconf --list-dirs, --list-components) and then runs every
 * engine it found for its version (gpg, gpgsm, gpgconf --version): five
 * programs, about 40 ms, before the first gpg that does the work.  spif
 * speaks OpenPGP only, so "disable-gpgconf" skips gpgconf: GPGME takes the
 * gpg in PATH (the one a user typing gpg gets), knows no gpgsm or gpgconf,
 * and probes only gpg --version.  Without gpgconf GPGME assumes a GnuPG 1
 * installation, which changes nothing for GnuPG 2 (at most an obsolete
 * --use-agent when GPG_AGENT_INFO is set); "require-gnupg" makes a gpg
 * older than 2.2 an error at once instead of odd failures later (spif
 * needs --pinentry-mode and --no-symkey-cache).  Both flags must come
 * before gpgme_check_version and have no effect once GPGME knows its
 * engines, so repeating them is harmless.  The home directory stays gpg's
 * own choice ($GNUPGHOME or ~/.gnupg) as before: GPGME passes --homedir
 * only when told one. */
int spif_pgp_init(struct spif_err *err)
{
	(void)gpgme_set_global_flag("disable-gpgconf", "1");
	(void)gpgme_set_global_flag("require-gnupg", "2.2.7");
	if (!gpgme_check_version("1.8.0"))
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME is older than 1.8.0");
	return 0;
}

/* A fresh OpenPGP context with spif's settings, or -1 with err set. */
int spif_pgp_ctx(gpgme_ctx_t *ctx, struct spif_err *err)
{
	*ctx = NULL;
	if (spif_pgp_init(err) < 0)
		return -1;
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
	/* a message passphrase is not left in gpg-agent's cache, where it
	 * would open the next message without being asked for */
	(void)gpgme_set_ctx_flag(*ctx, "no-symkey-cache", "1");
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
int spif_pgp_put_fpr(char fpr[41], const char *s)
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

/* The last non-empty line of gpg's log mem[0, len), without "gpg: " and
 * with control characters blanked, in buf; NULL when there is none. */
const char *spif_pgp_last_log_line(const char *mem, size_t len, char *buf, size_t bufsz)
{
	size_t end = len;
	while (end > 0 && (mem[end - 1] == '\n' || mem[end - 1] == '\r'))
		end--;
	size_t beg = end;
	while (beg > 0 && mem[beg - 1] != '\n')
		beg--;
	if (end - beg > 5 && memcmp(mem + beg, "gpg: ", 5) == 0)
		beg += 5;
	if (end <= beg || bufsz == 0)
		return NULL;
	size_t k = end - beg < bufsz - 1 ? end - beg : bufsz - 1;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)mem[beg + i];
		buf[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	buf[k] = '\0';
	return buf;
}

/* The first line of gpg's log mem[0, len) that says what went wrong, as
 * spif_pgp_last_log_line gives a line: gpg reports the cause first and its
 * consequences after it ("... encryption failed: ..."), so its last line
 * is seldom the reason.  Notices it goes on after (a WARNING or Note, a
 * directory, keybox or trustdb created) are passed over; the last line
 * when every line is one. */
const char *spif_pgp_first_log_line(const char *mem, size_t len, char *buf, size_t bufsz)
{
	static const char *const notice[] = {"WARNING", "Warning", "NOTE", "Note"};
	for (size_t beg = 0, end; beg < len; beg = end + 1) {
		const char *nl = memchr(mem + beg, '\n', len - beg);
		end = nl ? (size_t)(nl - mem) : len;
		size_t b = beg, e = end;
		if (e - b > 5 && memcmp(mem + b, "gpg: ", 5) == 0)
			b += 5;
		while (e > b && (mem[e - 1] == '\r' || mem[e - 1] == ' '))
			e--;
		int skip = e == b || (e - b >= 8 && memcmp(mem + e - 8, " created", 8) == 0);
		for (size_t i = 0; !skip && i < sizeof notice / sizeof *notice; i++)
			skip = e - b >= strlen(notice[i]) && memcmp(mem + b, notice[i], strlen(notice[i])) == 0;
		if (!skip)
			return spif_pgp_last_log_line(mem + beg, end - beg, buf, bufsz);
	}
	return spif_pgp_last_log_line(mem, len, buf, bufsz);
}

/* The last line gpg wrote to its log (stderr) in a GPGME operation, as
 * spif_pgp_last_log_line gives it. */
static const char *gpg_diag(gpgme_ctx_t ctx, char *buf, size_t bufsz)
{
	gpgme_data_t dh = NULL;
	const char *ret = NULL;
	if (gpgme_data_new(&dh))
		return NULL;
	gpgme_error_t e = gpgme_op_getauditlog(ctx, dh, GPGME_AUDITLOG_DIAG);
	size_t len = 0;
	char *mem = gpgme_data_release_and_get_mem(dh, &len);
	if (!e && mem)
		ret = spif_pgp_last_log_line(mem, len, buf, bufsz);
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

/* The secret key keyid for signing in *key (a reference), or -1 with err
 * set: missing, ambiguous, expired/revoked/disabled/invalid or unable to
 * sign. */
int spif_pgp_sign_key(gpgme_ctx_t ctx, const char *keyid, gpgme_key_t *key, struct spif_err *err)
{
	*key = NULL;
	gpgme_error_t e = gpgme_get_key(ctx, keyid, key, 1);
	switch (gpg_err_code(e)) {
	case GPG_ERR_NO_ERROR:
		break;
	case GPG_ERR_EOF:
	case GPG_ERR_NOT_FOUND:
	case GPG_ERR_NO_SECKEY:
		*key = NULL;
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "no secret key for %s", keyid);
	case GPG_ERR_AMBIGUOUS_NAME:
		*key = NULL;
		return spif_err_set(err, SPIF_EX_UNAVAILABLE,
				    "%s: more than one secret key matches; give the fingerprint",
				    keyid);
	default:
		*key = NULL;
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: %s", keyid, gpgme_strerror(e));
	}
	const char *why = (*key)->revoked ? "revoked" : (*key)->expired ? "expired"
		: (*key)->disabled ? "disabled" : (*key)->invalid ? "invalid" : NULL;
	int rc = 0;
	if (!(*key)->secret)
		rc = spif_err_set(err, SPIF_EX_UNAVAILABLE, "no secret key for %s", keyid);
	else if (why)
		rc = spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: key is %s", keyid, why);
	/* key->can_sign is gpg's "usable for signing" over all subkeys. */
	else if (!(*key)->can_sign)
		rc = spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: key cannot sign", keyid);
	if (rc < 0) {
		gpgme_key_unref(*key);
		*key = NULL;
	}
	return rc;
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
	if (spif_pgp_ctx(&ctx, err) < 0)
		return -1;

	if (spif_pgp_sign_key(ctx, keyid, &key, err) < 0)
		goto out;

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
	if (spif_pgp_put_fpr(fpr, used) < 0) {
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

int spif_pgp_can_sign(const char *keyid, char fpr[41], struct spif_err *err)
{
	char *sig = NULL, own[41];
	int rc = spif_pgp_sign(keyid, "spif", 4, &sig, fpr ? fpr : own, err);
	free(sig);
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
	if (spif_pgp_ctx(&ctx, err) < 0)
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
			spif_pgp_put_fpr(fpr, s->fpr); /* best effort: cleared if too long */
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
	if (!pfpr || spif_pgp_put_fpr(fpr, pfpr) < 0) {
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

/* ---- decryption: the bytes through GPGME ---------------------------------
 *
 * (Encryption runs gpg itself: pgp_encrypt.c.)
 * Data flows through GPGME without being held: the
 * input is a data object on the caller's file descriptor (or on memory for
 * the _buf variants) and the output a callback data object whose write
 * callback hands each chunk to the caller's sink, so a stream of any size
 * costs the same memory.  gpg itself streams too (partial-length
 * packets), so neither side buffers the message. */

/* struct pgp_sink (pgp_priv.h) as a GPGME write callback, and the sink
 * gpg's output is read into in pgp_encrypt.c. */
ssize_t spif_pgp_sink_write(void *handle, const void *buf, size_t n)
{
	struct pgp_sink *s = handle;
	if (s->failed) {
		errno = s->errnum;
		return -1;
	}
	errno = 0;
	if (n > 0 && s->fn(s->ctx, buf, n) != 0) {
		s->failed = 1;
		s->errnum = errno ? errno : EIO;
		errno = s->errnum;
		return -1;
	}
	return (ssize_t)n;
}

/* Never written to: gpgme_data_new_from_cbs wants a non-const pointer. */
static struct gpgme_data_cbs sink_cbs = {NULL, spif_pgp_sink_write, NULL, NULL};

/* Bigger chunks than GPGME's 4 KiB default (fewer trips through its poll
 * loop), and wipe its buffers when they held plaintext.  Both flags are
 * optimisations: an older GPGME without them works the same. */
static void data_tune(gpgme_data_t dh, int sensitive)
{
	(void)gpgme_data_set_flag(dh, "io-buffer-size", "65536");
	if (sensitive)
		(void)gpgme_data_set_flag(dh, "sensitive", "1");
}

/* A growing buffer as a sink; what it drops on the way is wiped (it may
 * hold a data key).  struct pgp_membuf is in pgp_priv.h. */
int spif_pgp_membuf_put(void *ctx, const void *buf, size_t n)
{
	struct pgp_membuf *m = ctx;
	if (n >= SIZE_MAX / 2 - m->n) {
		errno = ENOMEM;
		return -1;
	}
	if (m->n + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 256;
		while (cap < m->n + n + 1)
			cap *= 2;
		unsigned char *q = malloc(cap);
		if (!q)
			return -1;
		if (m->p) {
			memcpy(q, m->p, m->n);
			explicit_bzero(m->p, m->cap);
			free(m->p);
		}
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->n, buf, n);
	m->n += n;
	m->p[m->n] = '\0';
	return 0;
}

void spif_pgp_membuf_wipe(struct pgp_membuf *m)
{
	if (m->p) {
		explicit_bzero(m->p, m->cap);
		free(m->p);
	}
	m->p = NULL;
	m->n = m->cap = 0;
}

/* What gpg's status lines told us; GPGME's results do not say which of
 * these happened (a failed decryption is one error code whatever the
 * cause). */
struct op_status {
	int need_passphrase;     /* a secret key wants its passphrase */
	int need_passphrase_sym; /* the message is encrypted with a passphrase */
	int bad_passphrase;
	int begin_decryption;
	int decrypting;          /* DECRYPTION_INFO: the session key worked */
	int decryption_failed;
	int decryption_okay;
	int badmdc, goodmdc;
	int aead;                /* DECRYPTION_INFO names an AEAD algorithm */
	int nodata;
	int plaintext;           /* a literal data packet was seen */
	int no_seckey;
	char keyids[256];        /* of NO_SECKEY: "KEYID, KEYID" */
};

static gpgme_error_t op_status_cb(void *opaque, const char *keyword, const char *args)
{
	struct op_status *st = opaque;
	if (!keyword)
		return 0;
	if (!args)
		args = "";
	if (strcmp(keyword, "NEED_PASSPHRASE") == 0)
		st->need_passphrase = 1;
	else if (strcmp(keyword, "NEED_PASSPHRASE_SYM") == 0)
		st->need_passphrase_sym = 1;
	else if (strcmp(keyword, "BAD_PASSPHRASE") == 0
		 || (strcmp(keyword, "ERROR") == 0 && strstr(args, "BAD_PASSPHRASE")))
		st->bad_passphrase = 1;
	else if (strcmp(keyword, "BEGIN_DECRYPTION") == 0)
		st->begin_decryption = 1;
	else if (strcmp(keyword, "DECRYPTION_FAILED") == 0)
		st->decryption_failed = 1;
	else if (strcmp(keyword, "DECRYPTION_OKAY") == 0)
		st->decryption_okay = 1;
	else if (strcmp(keyword, "BADMDC") == 0)
		st->badmdc = 1;
	else if (strcmp(keyword, "GOODMDC") == 0)
		st->goodmdc = 1;
	else if (strcmp(keyword, "NODATA") == 0)
		st->nodata = 1;
	else if (strcmp(keyword, "PLAINTEXT") == 0)
		st->plaintext = 1;
	else if (strcmp(keyword, "DECRYPTION_INFO") == 0) {
		/* MDC_METHOD SYM_ALGO [AEAD_ALGO] */
		int mdc = 0, sym = 0, aead = 0;
		st->decrypting = 1;
		if (sscanf(args, "%d %d %d", &mdc, &sym, &aead) == 3 && aead > 0)
			st->aead = 1;
	} else if (strcmp(keyword, "NO_SECKEY") == 0) {
		size_t k = strcspn(args, " ");
		size_t used = strlen(st->keyids);
		if (k > 0 && k <= 40 && used + k + 3 < sizeof st->keyids
		    && !strstr(st->keyids, args)) {
			if (used)
				memcpy(st->keyids + used, ", ", 2), used += 2;
			memcpy(st->keyids + used, args, k);
			st->keyids[used + k] = '\0';
		}
		st->no_seckey++;
	}
	return 0;
}

/* The passphrase for a passphrase-encrypted message, handed to gpg through
 * GPGME's command channel under pinentry loopback: never in argv or the
 * environment, never cached by gpg-agent (no-symkey-cache). */
struct pass {
	const char *pass;
	int asked_key; /* gpg wanted a secret key's passphrase instead */
	int tries;
};

static gpgme_error_t pass_cb(void *hook, const char *uid_hint, const char *info, int prev_was_bad,
                             int fd)
{
	struct pass *p = hook;
	(void)info;
	if (uid_hint) {
		/* a secret key's passphrase: spif never has those */
		p->asked_key = 1;
		return gpg_error(GPG_ERR_CANCELED);
	}
	/* no second try with the same wrong passphrase */
	if (!p->pass || prev_was_bad || ++p->tries > 2)
		return gpg_error(GPG_ERR_CANCELED);
	if (gpgme_io_writen(fd, p->pass, strlen(p->pass)) != 0 || gpgme_io_writen(fd, "\n", 1) != 0)
		return gpgme_error_from_syserror();
	return 0;
}

/* The input of a decryption: a GPGME data object on in_fd. */
static int open_fd_input(spif_pgp_sink fn, int in_fd, gpgme_data_t *in, struct spif_err *err)
{
	*in = NULL;
	if (!fn)
		return spif_err_set(err, SPIF_EX_USAGE, "no output");
	if (in_fd < 0 || fcntl(in_fd, F_GETFL) == -1)
		return spif_err_sys(err, SPIF_EX_IOERR, EBADF, "cannot read the input");
	if (spif_pgp_init(err) < 0)
		return -1;
	gpgme_error_t ge = gpgme_data_new_from_fd(in, in_fd);
	if (ge)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME: %s", gpgme_strerror(ge));
	data_tune(*in, 0);
	return 0;
}

/* Decrypt in to out_sink; see spif_pgp_decrypt_fd. */
static int decrypt_data(gpgme_data_t in, struct pgp_sink *out_sink, const char *passphrase,
                        char signer[41], int *sig_status, struct spif_err *err)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t out = NULL;
	gpgme_key_t key = NULL;
	gpgme_error_t ge;
	int rc = -1, keep_sig = 0;
	char diag[256];

	signer[0] = '\0';
	*sig_status = 0;
	if (passphrase && strpbrk(passphrase, "\r\n"))
		return spif_err_set(err, SPIF_EX_USAGE, "the passphrase contains a line break");
	if (spif_pgp_ctx(&ctx, err) < 0)
		return -1;
	struct op_status st = {0};
	gpgme_set_status_cb(ctx, op_status_cb, &st);
	gpgme_set_ctx_flag(ctx, "full-status", "1");
	/* Only with a passphrase: a passphrase callback takes gpg out of
	 * --batch (GPGME talks to it over --command-fd instead). */
	struct pass pw = {passphrase, 0, 0};
	if (passphrase)
		gpgme_set_passphrase_cb(ctx, pass_cb, &pw);
	if ((ge = gpgme_data_new_from_cbs(&out, &sink_cbs, out_sink))) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME: %s", gpgme_strerror(ge));
		goto out;
	}
	data_tune(out, 1);

	ge = gpgme_op_decrypt_verify(ctx, in, out);
	gpgme_decrypt_result_t dr = gpgme_op_decrypt_result(ctx);

	/* The signature, if any: every one must be good; the first names the
	 * signer, by its primary key's fingerprint as spif_pgp_verify does. */
	char sig_msg[300] = "";
	int badsig = 0;
	gpgme_verify_result_t vr = gpgme_op_verify_result(ctx);
	if (vr && vr->signatures) {
		gpgme_signature_t first = vr->signatures;
		const char *pfpr = first->fpr;
		if (first->fpr && !gpgme_get_key(ctx, first->fpr, &key, 0) && key && key->subkeys
		    && key->subkeys->fpr)
			pfpr = key->subkeys->fpr;
		spif_pgp_put_fpr(signer, pfpr); /* cleared when not a v4 fingerprint */
		*sig_status = 1;
		char why[256];
		for (gpgme_signature_t s = vr->signatures; s; s = s->next) {
			const char *p = sig_problem(s, why, sizeof why);
			if (!p)
				continue;
			*sig_status = -1;
			badsig = strcmp(p, "bad signature") == 0;
			if (badsig)
				snprintf(sig_msg, sizeof sig_msg, "bad signature by %s",
					 s == first && signer[0] ? signer : s->fpr ? s->fpr : "?");
			else
				snprintf(sig_msg, sizeof sig_msg, "%s", p);
			break;
		}
	}

	/* Failures, most specific first.  Plaintext may have reached the sink
	 * before gpg found out (the integrity check comes at the end): the
	 * caller must discard it when we return -1. */
	if (out_sink->failed) {
		spif_err_sys(err, spif_exit_for_errno(out_sink->errnum), out_sink->errnum,
			     "cannot write the plaintext");
		goto out;
	}
	if (st.badmdc) {
		spif_err_set(err, SPIF_EX_DATAERR, "the message was altered (integrity check failed)");
		goto out;
	}
	if (ge || st.decryption_failed || !st.decryption_okay) {
		gpg_err_code_t c = gpg_err_code(ge);
		if (badsig && st.decrypting) {
			/* gpg stops at a bad signature, before the end of the
			 * message and its integrity check */
			keep_sig = 1;
			spif_err_set(err, SPIF_FOUND, "%s", sig_msg);
		} else if (!st.decrypting && (st.need_passphrase || pw.asked_key)) {
			spif_err_set(err, SPIF_EX_UNAVAILABLE,
				     "cannot decrypt: the secret key is passphrase-protected and "
				     "spif never prompts (preset the passphrase in gpg-agent)");
		} else if (!st.decrypting && st.no_seckey) {
			spif_err_set(err, SPIF_EX_UNAVAILABLE, "no secret key to decrypt it (for %s)",
				     st.keyids[0] ? st.keyids : "?");
		} else if (st.need_passphrase_sym && !passphrase) {
			spif_err_set(err, SPIF_EX_UNAVAILABLE,
				     "the message is encrypted with a passphrase; none given");
		} else if (st.need_passphrase_sym && st.bad_passphrase) {
			/* gpg's "maybe": a wrong passphrase gives a wrong key,
			 * which the check bytes catch (all but 1 in 65536; the
			 * rest fail the integrity check) */
			spif_err_set(err, SPIF_EX_UNAVAILABLE, "wrong passphrase");
		} else if (dr && dr->unsupported_algorithm) {
			spif_err_set(err, SPIF_EX_UNAVAILABLE, "unsupported algorithm %s",
				     dr->unsupported_algorithm);
		} else if (dr && dr->legacy_cipher_nomdc) {
			spif_err_set(err, SPIF_EX_DATAERR,
				     "the message has no integrity protection (no MDC)");
		} else if (st.decrypting) {
			/* decrypting, then an error that is not the MDC: the
			 * message ends early or its packets are broken */
			spif_err_set(err, SPIF_EX_DATAERR,
				     "the message is truncated or damaged (%s)",
				     gpg_diag(ctx, diag, sizeof diag) ? diag
				     : gpgme_strerror(ge ? ge : gpg_error(GPG_ERR_DECRYPT_FAILED)));
		} else if (c & GPG_ERR_SYSTEM_ERROR) {
			int en = gpgme_err_code_to_errno(c);
			spif_err_sys(err, spif_exit_for_errno(en), en, "cannot read the input");
		} else if (st.nodata || c == GPG_ERR_NO_DATA || c == GPG_ERR_BAD_DATA
			   || c == GPG_ERR_INV_PACKET || c == GPG_ERR_INV_ARMOR
			   || c == GPG_ERR_UNKNOWN_PACKET || (!ge && !st.begin_decryption)) {
			if (st.plaintext)
				/* signed or literal only: OpenPGP, but nothing
				 * was decrypted, so nothing is vouched for */
				spif_err_set(err, SPIF_EX_DATAERR, "not an encrypted OpenPGP message");
			else
				spif_err_set(err, SPIF_EX_DATAERR, "not an OpenPGP message");
		} else {
			spif_err_set(err, SPIF_EX_UNAVAILABLE, "cannot decrypt: %s",
				     gpg_diag(ctx, diag, sizeof diag) ? diag : gpgme_strerror(ge));
		}
		goto out;
	}
	/* gpg 2.2 refuses a message without an MDC by itself; make sure */
	if (!st.goodmdc && !st.aead) {
		spif_err_set(err, SPIF_EX_DATAERR, "the message has no integrity protection (no MDC)");
		goto out;
	}
	/* decrypted and intact, the signature not good (an unknown, expired
	 * or revoked signer): informational, rc is 0 and the caller decides */
	if (*sig_status < 0)
		spif_err_set(err, SPIF_FOUND, "%s", sig_msg);
	rc = 0;
out:
	if (rc < 0 && !keep_sig) {
		/* a signature checked before the failure vouches for nothing */
		signer[0] = '\0';
		*sig_status = 0;
	}
	gpgme_data_release(out);
	gpgme_key_unref(key);
	gpgme_release(ctx);
	return rc;
}

int spif_pgp_decrypt_fd(int in_fd, spif_pgp_sink fn, void *ctx, const char *passphrase,
                        char signer[41], int *sig_status, struct spif_err *err)
{
	signer[0] = '\0';
	*sig_status = 0;
	gpgme_data_t in;
	if (open_fd_input(fn, in_fd, &in, err) < 0)
		return -1;
	struct pgp_sink s = {fn, ctx, 0, 0};
	int rc = decrypt_data(in, &s, passphrase, signer, sig_status, err);
	gpgme_data_release(in);
	return rc;
}

int spif_pgp_decrypt_buf(const void *data, size_t n, const char *passphrase, void **out,
                         size_t *outn, char signer[41], int *sig_status, struct spif_err *err)
{
	*out = NULL;
	if (outn)
		*outn = 0;
	signer[0] = '\0';
	*sig_status = 0;
	if (!data || n == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "not an OpenPGP message");
	if (spif_pgp_init(err) < 0)
		return -1;
	gpgme_data_t in = NULL;
	gpgme_error_t ge = data_from(&in, data, n);
	if (ge)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "GPGME: %s", gpgme_strerror(ge));
	struct pgp_membuf m = {0};
	struct pgp_sink s = {spif_pgp_membuf_put, &m, 0, 0};
	int rc = decrypt_data(in, &s, passphrase, signer, sig_status, err);
	gpgme_data_release(in);
	if (rc < 0) {
		spif_pgp_membuf_wipe(&m);
		return -1;
	}
	if (!m.p && spif_pgp_membuf_put(&m, "", 0) < 0) /* empty plaintext: still a buffer */
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	*out = m.p;
	if (outn)
		*outn = m.n;
	return 0;
}
