/* test_pgp.c - OpenPGP detached signatures through GPGME, in a throwaway
 * GNUPGHOME: sign and verify, a flipped byte, garbage, unknown, expired,
 * revoked, passphrase-protected and deleted keys, and interoperation with
 * plain `gpg --verify`. */
#include "pgp.h"
#include "tap.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HDR "-----BEGIN PGP SIGNATURE-----"

static char home[256];

/* Run a shell command (gpg's chatter to /dev/null); its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(cmd, sizeof cmd - 20, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof cmd - 20)
		return -1;
	strcat(cmd, " >/dev/null 2>&1");
	int st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int gen_key(const char *uid, const char *extra)
{
	return run("gpg --batch %s --pinentry-mode loopback --quick-gen-key '%s' ed25519 sign 1d",
		   extra, uid);
}

/* The primary fingerprint of the key matching who, per `gpg --list-keys`. */
static int list_fpr(const char *who, char fpr[41])
{
	char cmd[512], line[4096];
	fpr[0] = '\0';
	snprintf(cmd, sizeof cmd, "gpg --batch --with-colons --list-keys '%s' 2>/dev/null", who);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	int seen_pub = 0;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "pub:", 4) == 0)
			seen_pub = 1;
		if (seen_pub && !fpr[0] && strncmp(line, "fpr:", 4) == 0) {
			/* fpr:::::::::FINGERPRINT: - field 10 */
			char *p = line;
			for (int i = 0; i < 9 && p; i++)
				p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
			if (p) {
				size_t k = strcspn(p, ":\n");
				if (k <= 40) {
					memcpy(fpr, p, k);
					fpr[k] = '\0';
				}
			}
		}
	}
	pclose(f);
	return fpr[0] ? 0 : -1;
}

static int write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int rc = fwrite(buf, 1, n, f) == n ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0;
	*n = 0;
	for (;;) {
		if (*n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *p = realloc(buf, cap);
			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		size_t got = fread(buf + *n, 1, 4096, f);
		*n += got;
		if (got < 4096)
			break;
	}
	fclose(f);
	buf[*n] = '\0';
	return buf;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	/* a hang (a pinentry waiting for a passphrase) must fail, not block */
	alarm(300);

	if (run("gpg --version") != 0 || run("gpgconf --version") != 0) {
		ok(1, "# SKIP gpg (gnupg) is not installed");
		return tap_done();
	}

	/* gpg-agent's sockets live in GNUPGHOME (no /run/user here), and a
	 * socket path must fit in 108 bytes: a long $TMPDIR falls back to /tmp */
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(home, sizeof home, "%s/spif-pgp.XXXXXX", tmp);
	if (!mkdtemp(home) || chmod(home, 0700) != 0) {
		printf("Bail out! cannot make a GNUPGHOME\n");
		return 1;
	}
	setenv("GNUPGHOME", home, 1);

	const char *me = "Spif Test <spif-test@example.invalid>";
	char fpr1[41], fpr2[41], fpr_old[41], fpr_rev[41], fpr_pw[41];
	is_int(gen_key(me, "--passphrase ''"), 0, "gpg generates the test key");
	is_int(gen_key("Spif Other <spif-other@example.invalid>", "--passphrase ''"), 0,
	       "gpg generates the other key");
	ok(list_fpr("spif-test@example.invalid", fpr1) == 0 && strlen(fpr1) == 40,
	   "test key fingerprint %s", fpr1);
	ok(list_fpr("spif-other@example.invalid", fpr2) == 0 && strlen(fpr2) == 40,
	   "other key fingerprint %s", fpr2);

	/* --- sign, verify ------------------------------------------------ */
	static const char data[] = "disposal certificate\r\nline two\n\0binary\xff tail";
	size_t n = sizeof data - 1;
	struct spif_err err = {0};
	char *sig = NULL, fpr[41] = "x", uid[256] = "x";

	int rc = spif_pgp_sign("spif-test@example.invalid", data, n, &sig, fpr, &err);
	is_int(rc, 0, "sign by e-mail (%s)", rc ? err.msg : "ok");
	ok(sig && strncmp(sig, HDR, strlen(HDR)) == 0, "signature is ASCII-armored");
	is_str(fpr, fpr1, "sign reports the primary fingerprint");

	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(data, n, sig, sig ? strlen(sig) : 0, fpr, uid, sizeof uid, &err);
	is_int(rc, 0, "verify good signature (%s)", rc ? err.msg : "ok");
	is_str(fpr, fpr1, "verify reports the signer's fingerprint");
	is_str(uid, me, "verify reports the primary user id");

	/* a short uid buffer truncates, fpr still there */
	char small[5];
	rc = spif_pgp_verify(data, n, sig, strlen(sig), fpr, small, sizeof small, &err);
	ok(rc == 0 && strcmp(small, "Spif") == 0, "uid truncated to the buffer");
	rc = spif_pgp_verify(data, n, sig, strlen(sig), fpr, NULL, 0, &err);
	ok(rc == 0 && strcmp(fpr, fpr1) == 0, "uid may be NULL");

	/* plain gpg agrees */
	char dpath[512], spath[512];
	snprintf(dpath, sizeof dpath, "%s/data", home);
	snprintf(spath, sizeof spath, "%s/data.asc", home);
	ok(write_file(dpath, data, n) == 0 && write_file(spath, sig, strlen(sig)) == 0,
	   "wrote data and signature files");
	is_int(run("gpg --batch --verify '%s' '%s'", spath, dpath), 0,
	       "gpg --verify accepts the detached signature");

	/* one flipped byte */
	char bad[sizeof data];
	memcpy(bad, data, sizeof data);
	bad[3] ^= 0x01;
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(bad, n, sig, strlen(sig), fpr, uid, sizeof uid, &err);
	is_int(rc, -1, "flipped byte fails");
	is_int(err.code, SPIF_FOUND, "flipped byte: code 1");
	is_str(err.msg, "bad signature", "flipped byte: bad signature");
	is_str(uid, "", "no uid on failure");

	/* text mode is off: CRLF -> LF is a different text */
	static const char lf[] = "disposal certificate\nline two\n\0binary\xff tail";
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(lf, sizeof lf - 1, sig, strlen(sig), fpr, uid, sizeof uid, &err);
	ok(rc == -1 && err.code == SPIF_FOUND, "line endings are signed as bytes");

	/* truncated data */
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(data, n - 1, sig, strlen(sig), fpr, uid, sizeof uid, &err);
	ok(rc == -1 && err.code == SPIF_FOUND, "truncated data fails");

	/* garbage signatures */
	static const char junk[] = "this is not a signature\n";
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(data, n, junk, strlen(junk), fpr, uid, sizeof uid, &err);
	is_int(rc, -1, "garbage signature fails");
	is_int(err.code, SPIF_EX_DATAERR, "garbage signature: DATAERR (%s)", err.msg);
	is_str(err.msg, "not an OpenPGP signature", "garbage signature: message");
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(data, n, "", 0, fpr, uid, sizeof uid, &err);
	ok(rc == -1 && err.code == SPIF_EX_DATAERR, "empty signature: DATAERR");
	static const char armored_junk[] =
		HDR "\n\nbm90IGEgc2lnbmF0dXJlIGF0IGFsbA==\n=AAAA\n-----END PGP SIGNATURE-----\n";
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(data, n, armored_junk, strlen(armored_junk), fpr, uid, sizeof uid, &err);
	ok(rc == -1 && err.code == SPIF_EX_DATAERR, "armored junk: DATAERR (%d %s)", err.code,
	   err.msg);
	/* a signature cut in half */
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(data, n, sig, strlen(sig) / 2, fpr, uid, sizeof uid, &err);
	ok(rc == -1 && (err.code == SPIF_EX_DATAERR || err.code == SPIF_FOUND),
	   "truncated signature fails (%d %s)", err.code, err.msg);

	/* sign by fingerprint, empty data */
	char *sig0 = NULL;
	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign(fpr1, NULL, 0, &sig0, fpr, &err);
	ok(rc == 0 && strcmp(fpr, fpr1) == 0, "sign empty data by fingerprint (%s)",
	   rc ? err.msg : "ok");
	rc = spif_pgp_verify(NULL, 0, sig0, sig0 ? strlen(sig0) : 0, fpr, uid, sizeof uid, &err);
	ok(rc == 0 && strcmp(fpr, fpr1) == 0, "verify signature over empty data");
	rc = spif_pgp_verify("x", 1, sig0, sig0 ? strlen(sig0) : 0, fpr, uid, sizeof uid, &err);
	ok(rc == -1 && err.code == SPIF_FOUND, "empty-data signature does not cover \"x\"");
	free(sig0);

	/* --- keys that cannot sign -------------------------------------- */
	char *nosig = (char *)"untouched";
	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign("nobody@example.invalid", data, n, &nosig, fpr, &err);
	is_int(rc, -1, "unknown key cannot sign");
	is_int(err.code, SPIF_EX_UNAVAILABLE, "unknown key: UNAVAILABLE");
	is_str(err.msg, "no secret key for nobody@example.invalid", "unknown key: message");
	ok(nosig == NULL && fpr[0] == '\0', "unknown key: outputs cleared");

	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign("example.invalid", data, n, &nosig, fpr, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strstr(err.msg, "more than one"),
	   "ambiguous key id: %s", err.msg);

	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign("", data, n, &nosig, fpr, &err);
	ok(rc == -1 && err.code == SPIF_EX_USAGE, "empty key id: USAGE");

	/* expired: a key made and used in 2020, valid for one day */
	is_int(gen_key("Spif Old <spif-old@example.invalid>",
		       "--faked-system-time 20200101T000000! --passphrase ''"), 0,
	       "gpg generates a key in 2020");
	ok(list_fpr("spif-old@example.invalid", fpr_old) == 0, "old key fingerprint");
	char opath[512];
	snprintf(opath, sizeof opath, "%s/old.asc", home);
	is_int(run("gpg --batch --faked-system-time 20200101T120000! -u %s --armor "
		   "--detach-sign -o '%s' '%s'", fpr_old, opath, dpath), 0,
	       "gpg signs with it in 2020");
	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign(fpr_old, data, n, &nosig, fpr, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strstr(err.msg, "key is expired"),
	   "expired key cannot sign: %s", err.msg);
	size_t olen = 0;
	char *old = read_file(opath, &olen);
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(data, n, old ? old : "", olen, fpr, uid, sizeof uid, &err);
	ok(rc == -1 && err.code == SPIF_FOUND && strstr(err.msg, "expired"),
	   "signature by an expired key: %d %s", err.code, err.msg);
	free(old);

	/* revoked: sign while good, then import the revocation certificate
	 * gpg left in openpgp-revocs.d */
	is_int(gen_key("Spif Revoked <spif-rev@example.invalid>", "--passphrase ''"), 0,
	       "gpg generates a key to revoke");
	ok(list_fpr("spif-rev@example.invalid", fpr_rev) == 0, "revoked key fingerprint");
	char *rsig = NULL;
	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign(fpr_rev, data, n, &rsig, fpr, &err);
	ok(rc == 0, "sign before revocation (%s)", rc ? err.msg : "ok");
	is_int(run("sed 's/^:-----BEGIN/-----BEGIN/' '%s/openpgp-revocs.d/%s.rev' | "
		   "gpg --batch --import", home, fpr_rev), 0, "import the revocation");
	memset(&err, 0, sizeof err);
	rc = spif_pgp_verify(data, n, rsig ? rsig : "", rsig ? strlen(rsig) : 0, fpr, uid,
			     sizeof uid, &err);
	ok(rc == -1 && err.code == SPIF_FOUND && strstr(err.msg, "revoked"),
	   "signature by a revoked key: %d %s", err.code, err.msg);
	free(rsig);
	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign(fpr_rev, data, n, &nosig, fpr, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strstr(err.msg, "key is revoked"),
	   "revoked key cannot sign: %s", err.msg);

	/* passphrase-protected: fails at once, no prompt */
	is_int(gen_key("Spif Locked <spif-pw@example.invalid>", "--passphrase 'sekrit'"), 0,
	       "gpg generates a passphrase-protected key");
	ok(list_fpr("spif-pw@example.invalid", fpr_pw) == 0, "locked key fingerprint");
	run("gpgconf --reload gpg-agent"); /* forget the cached passphrase */
	double t0 = now();
	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign(fpr_pw, data, n, &nosig, fpr, &err);
	double dt = now() - t0;
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strstr(err.msg, "passphrase"),
	   "passphrase-protected key: UNAVAILABLE (%s)", err.msg);
	ok(dt < 30, "and fails fast (%.1fs)", dt);
	ok(nosig == NULL, "no signature left behind");

	/* --- the signer's public key is gone ---------------------------- */
	char *osig = NULL;
	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign("spif-other@example.invalid", data, n, &osig, fpr, &err);
	ok(rc == 0 && strcmp(fpr, fpr2) == 0, "sign with the other key (%s)",
	   rc ? err.msg : "ok");
	is_int(run("gpg --batch --yes --delete-secret-and-public-key %s", fpr2), 0,
	       "delete the other key");
	/* even when gpg.conf asks for keys from the network: none fetched */
	char conf[512];
	snprintf(conf, sizeof conf, "%s/gpg.conf", home);
	static const char netconf[] = "auto-key-retrieve\nkeyserver hkps://keys.example.invalid\n"
		"auto-key-locate wkd,keyserver\n";
	ok(write_file(conf, netconf, strlen(netconf)) == 0, "gpg.conf with auto-key-retrieve");
	memset(&err, 0, sizeof err);
	t0 = now();
	rc = spif_pgp_verify(data, n, osig ? osig : "", osig ? strlen(osig) : 0, fpr, uid,
			     sizeof uid, &err);
	dt = now() - t0;
	unlink(conf);
	ok(dt < 30, "no key fetched from the network (%.1fs)", dt);
	char sock[600] = "";
	FILE *pf = popen("gpgconf --list-dirs dirmngr-socket", "r");
	if (pf) {
		if (!fgets(sock, sizeof sock, pf))
			sock[0] = '\0';
		pclose(pf);
		sock[strcspn(sock, "\n")] = '\0';
	}
	ok(sock[0] && access(sock, F_OK) != 0, "dirmngr was never started (%s)", sock);
	is_int(rc, -1, "signature by a deleted key fails");
	is_int(err.code, SPIF_FOUND, "deleted key: code 1");
	ok(strstr(err.msg, "signature by unknown key ") == err.msg
	   && strstr(err.msg, fpr2 + 24) != NULL,
	   "deleted key: %s", err.msg);
	free(osig);

	/* the first signature still verifies after all this */
	rc = spif_pgp_verify(data, n, sig, strlen(sig), fpr, uid, sizeof uid, &err);
	ok(rc == 0 && strcmp(fpr, fpr1) == 0, "first signature still good");
	free(sig);

	/* --- GnuPG not usable: a home gpg cannot use ---------------------- */
	char nohome[512];
	snprintf(nohome, sizeof nohome, "%s/missing/dir", home);
	setenv("GNUPGHOME", nohome, 1);
	memset(&err, 0, sizeof err);
	rc = spif_pgp_sign("spif-test@example.invalid", data, n, &nosig, fpr, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE, "missing GNUPGHOME: UNAVAILABLE (%s)",
	   err.msg);
	setenv("GNUPGHOME", home, 1);

	run("gpgconf --kill all");
	run("rm -rf '%s'", home);
	return tap_done();
}
