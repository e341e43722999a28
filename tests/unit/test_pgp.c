/* test_pgp.c - OpenPGP through GPGME, in throwaway GNUPGHOMEs.
 * Detached signatures: sign and verify, a flipped byte, garbage, unknown,
 * expired, revoked, passphrase-protected and deleted keys, and
 * interoperation with plain `gpg --verify`.  Encryption: streaming to and
 * from file descriptors (200 MB in constant memory), both ways with plain
 * gpg, signed messages (good, bad, unknown signer), recipients that are
 * missing, ambiguous, expired, revoked or cannot encrypt, altered and
 * truncated messages, no secret key, passphrases right and wrong, failing
 * sinks, and the in-memory variants for wrapping keys. */
#include "pgp.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* --- encryption ------------------------------------------------------- */

/* Sinks for the tests. */
struct mem {
	char *p;
	size_t n, cap;
};

static int mem_sink(void *ctx, const void *b, size_t n)
{
	struct mem *m = ctx;
	if (m->n + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->n + n + 1)
			cap *= 2;
		char *q = realloc(m->p, cap);
		if (!q)
			return -1;
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->n, b, n);
	m->n += n;
	m->p[m->n] = '\0';
	return 0;
}

static void mem_free(struct mem *m)
{
	free(m->p);
	m->p = NULL;
	m->n = m->cap = 0;
}

static int fd_sink(void *ctx, const void *b, size_t n)
{
	int fd = *(int *)ctx;
	const char *p = b;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Takes `left` bytes, then fails with ENOSPC. */
struct failing {
	size_t left, got;
};

static int failing_sink(void *ctx, const void *b, size_t n)
{
	struct failing *f = ctx;
	(void)b;
	if (n > f->left) {
		errno = ENOSPC;
		return -1;
	}
	f->left -= n;
	f->got += n;
	return 0;
}

/* Resident set size now, in KiB. */
static long rss_kb(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &res) != 2)
		res = 0;
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Counts bytes, checks they are all zero, watches the RSS; or writes
 * them to fd when fd >= 0. */
struct counting {
	int fd;
	unsigned long long n, nonzero, calls;
	long max_rss;
};

static int counting_sink(void *ctx, const void *b, size_t n)
{
	struct counting *c = ctx;
	if (c->fd >= 0 && fd_sink(&c->fd, b, n) < 0)
		return -1;
	if (c->fd < 0) {
		const unsigned char *p = b;
		for (size_t i = 0; i < n; i++)
			if (p[i])
				c->nonzero++;
	}
	c->n += n;
	if (c->calls++ % 256 == 0) {
		long r = rss_kb();
		if (r > c->max_rss)
			c->max_rss = r;
	}
	return 0;
}

/* Make a key: an ed25519 primary for signing, and when encr a cv25519
 * subkey for encryption (both valid one day from now, or from when
 * extra's --faked-system-time says). */
static int gen_enc_key(const char *uid, const char *extra, int encr, char fpr[41])
{
	const char *email = strchr(uid, '<');
	char who[128];
	snprintf(who, sizeof who, "%s", email ? email + 1 : uid);
	who[strcspn(who, ">")] = '\0';
	if (gen_key(uid, extra) != 0 || list_fpr(who, fpr) != 0)
		return -1;
	if (encr && run("gpg --batch %s --pinentry-mode loopback --quick-add-key %s cv25519 encr 1d",
			extra, fpr) != 0)
		return -1;
	return 0;
}

/* Encrypt file in to file out. */
static int enc_file(const char *in, const char *out, struct spif_pgp_enc *e, struct spif_err *err)
{
	int ifd = open(in, O_RDONLY);
	int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(err, 0, sizeof *err);
	int rc = ifd < 0 || ofd < 0 ? -1 : spif_pgp_encrypt_fd(ifd, fd_sink, &ofd, e, err);
	if (ifd >= 0)
		close(ifd);
	if (ofd >= 0 && close(ofd) != 0)
		rc = -1;
	return rc;
}

/* Decrypt file in into m (emptied first). */
static int dec_file(const char *in, struct mem *m, const char *pass, char signer[41], int *st,
                    struct spif_err *err)
{
	mem_free(m);
	memset(err, 0, sizeof *err);
	strcpy(signer, "junk");
	*st = 42;
	int fd = open(in, O_RDONLY);
	if (fd < 0)
		return -2;
	int rc = spif_pgp_decrypt_fd(fd, mem_sink, m, pass, signer, st, err);
	close(fd);
	return rc;
}

static int same_file(const char *path, const void *data, size_t n)
{
	size_t len = 0;
	char *b = read_file(path, &len);
	int same = b && len == n && memcmp(b, data, n) == 0;
	free(b);
	return same;
}

/* Flip one byte of a file at offset off (from the end when negative). */
static int flip_byte(const char *path, long off)
{
	size_t len = 0;
	char *b = read_file(path, &len);
	if (!b || len == 0) {
		free(b);
		return -1;
	}
	size_t at = off < 0 ? len - (size_t)-off : (size_t)off;
	if (at >= len) {
		free(b);
		return -1;
	}
	b[at] ^= 0x20;
	int rc = write_file(path, b, len);
	free(b);
	return rc;
}

static void test_encrypt(const char *tmp)
{
	char h[256], fT[41] = "", fS[41] = "", fG[41] = "", fO[41] = "", fR[41] = "", fN[41] = "",
		     fL[41] = "";
	snprintf(h, sizeof h, "%s/spif-enc.XXXXXX", tmp);
	if (!mkdtemp(h) || chmod(h, 0700) != 0) {
		ok(0, "cannot make a GNUPGHOME for encryption");
		return;
	}
	setenv("GNUPGHOME", h, 1);

	const char *nopass = "--passphrase ''";
	ok(gen_enc_key("Spif Test <t@example.invalid>", nopass, 1, fT) == 0,
	   "gpg makes the test key with an encryption subkey (%s)", fT);
	ok(gen_enc_key("Spif Second <s@example.invalid>", nopass, 1, fS) == 0,
	   "and a second recipient (%s)", fS);
	ok(gen_enc_key("Spif Gone <g@example.invalid>", nopass, 0, fG) == 0,
	   "and a signer to be deleted");
	ok(gen_enc_key("Spif Old <o@example.invalid>",
		       "--faked-system-time 20200101T000000! --passphrase ''", 1, fO) == 0,
	   "and a key that expired in 2020");
	ok(gen_enc_key("Spif Revoked <r@example.invalid>", nopass, 1, fR) == 0
	   && run("sed 's/^:-----BEGIN/-----BEGIN/' '%s/openpgp-revocs.d/%s.rev' | "
		  "gpg --batch --import", h, fR) == 0,
	   "and a revoked one");
	ok(gen_enc_key("Spif Signonly <n@example.invalid>", nopass, 0, fN) == 0,
	   "and one that cannot encrypt");
	ok(gen_enc_key("Spif Locked <l@example.invalid>", "--passphrase 'sekrit'", 1, fL) == 0,
	   "and a passphrase-protected one");
	char fD[41] = "", fE[41] = "";
	ok(gen_enc_key("Spif Disabled <xdisabled@example.invalid>", nopass, 1, fD) == 0
	   && run("echo disable | gpg --batch --command-fd 0 --edit-key %s", fD) == 0,
	   "and a disabled one");
	/* made in 2020, valid ten years; its encryption subkey for one day */
	ok(run("gpg --batch --passphrase '' --pinentry-mode loopback --faked-system-time "
	       "20200101T000000! --quick-gen-key 'Spif Subold <xsubold@example.invalid>' "
	       "ed25519 sign 10y") == 0
	   && list_fpr("xsubold@example.invalid", fE) == 0
	   && run("gpg --batch --passphrase '' --pinentry-mode loopback --faked-system-time "
		  "20200102T000000! --quick-add-key %s cv25519 encr 1d", fE) == 0,
	   "and one whose encryption subkey expired in 2020");
	run("gpgconf --reload gpg-agent"); /* forget the cached passphrase */

	/* 100 000 bytes of every value, CR, LF and NUL included */
	enum { PN = 100000 };
	unsigned char *plain = malloc(PN);
	for (size_t i = 0; i < PN; i++)
		plain[i] = (unsigned char)(i * 7 + i / 251);
	char pin[512], pout[512], pgpo[512], pstat[512];
	snprintf(pin, sizeof pin, "%s/plain", h);
	snprintf(pout, sizeof pout, "%s/msg.gpg", h);
	snprintf(pgpo, sizeof pgpo, "%s/gpg.out", h);
	snprintf(pstat, sizeof pstat, "%s/gpg.status", h);
	ok(write_file(pin, plain, PN) == 0, "wrote the plaintext");

	struct spif_err err;
	struct mem m = {0};
	char signer[41];
	int st, rc;

	/* --- spif encrypts, gpg and spif decrypt -------------------------- */
	const char *rT[] = {"t@example.invalid"};
	char fprs[2][41];
	struct spif_pgp_enc e = {.recipients = rT, .nrecipients = 1, .fprs = fprs};
	rc = enc_file(pin, pout, &e, &err);
	is_int(rc, 0, "encrypt_fd to one recipient (%s)", rc ? err.msg : "ok");
	is_str(fprs[0], fT, "fprs names the recipient's primary key");
	size_t clen = 0;
	char *ct = read_file(pout, &clen);
	ok(ct && clen > PN && !memmem(ct, clen, plain + 5000, 64)
	   && strncmp(ct, "-----BEGIN", 10) != 0,
	   "binary ciphertext, %zu bytes, plaintext not in it", clen);
	free(ct);
	is_int(run("gpg --batch --yes -o '%s' --decrypt '%s'", pgpo, pout), 0,
	       "plain gpg --decrypt opens it");
	ok(same_file(pgpo, plain, PN), "gpg gets the plaintext back");
	is_int(run("gpg --batch --list-packets '%s' 2>/dev/null | grep -q 'compressed packet'", pout), 1,
	       "no compressed packet inside");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	is_int(rc, 0, "decrypt_fd opens it (%s)", rc ? err.msg : "ok");
	ok(m.n == PN && memcmp(m.p, plain, PN) == 0, "decrypt_fd gives the plaintext back");
	ok(signer[0] == '\0' && st == 0, "unsigned: no signer, status 0");

	/* armored, two recipients, signed */
	const char *rTS[] = {"t@example.invalid", fS};
	e = (struct spif_pgp_enc){.recipients = rTS, .nrecipients = 2, .fprs = fprs,
				  .sign_key = "t@example.invalid", .armor = 1};
	rc = enc_file(pin, pout, &e, &err);
	is_int(rc, 0, "encrypt_fd, armored, two recipients, signed (%s)", rc ? err.msg : "ok");
	ok(strcmp(fprs[0], fT) == 0 && strcmp(fprs[1], fS) == 0, "both fingerprints reported");
	ct = read_file(pout, &clen);
	ok(ct && strncmp(ct, "-----BEGIN PGP MESSAGE-----", 27) == 0, "ASCII-armored");
	free(ct);
	is_int(run("gpg --batch --yes --status-file '%s' -o '%s' --decrypt '%s'", pstat, pgpo, pout),
	       0, "gpg --decrypt opens it");
	ok(same_file(pgpo, plain, PN), "gpg gets the plaintext back");
	is_int(run("grep -q '^\\[GNUPG:\\] GOODSIG' '%s'", pstat), 0, "gpg: good signature");
	is_int(run("grep -q '^\\[GNUPG:\\] ENC_TO' '%s' && test $(grep -c ENC_TO '%s') = 2", pstat,
		   pstat), 0, "gpg: two recipients");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == 0 && m.n == PN && memcmp(m.p, plain, PN) == 0, "decrypt_fd opens it (%s)",
	   rc ? err.msg : "ok");
	is_str(signer, fT, "decrypt_fd names the signer");
	is_int(st, 1, "good signature: status 1");

	/* one key named twice (gpg is handed the same fingerprint twice, and
	 * takes it twice): one reader */
	const char *rTT[] = {"t@example.invalid", fT};
	e = (struct spif_pgp_enc){.recipients = rTT, .nrecipients = 2, .fprs = fprs};
	rc = enc_file(pin, pout, &e, &err);
	ok(rc == 0 && strcmp(fprs[0], fT) == 0 && strcmp(fprs[1], fT) == 0,
	   "a key named twice: encrypted (%s)", rc ? err.msg : "ok");
	is_int(run("test $(gpg --batch --list-packets '%s' 2>/dev/null | grep -c '^:pubkey enc') = 1",
		   pout), 0, "  for one reader");

	/* --- gpg encrypts, spif decrypts ---------------------------------- */
	is_int(run("gpg --batch --yes -o '%s' --encrypt -r t@example.invalid '%s'", pout, pin), 0,
	       "gpg --encrypt (compressed, gpg's defaults)");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == 0 && m.n == PN && memcmp(m.p, plain, PN) == 0 && st == 0 && !signer[0],
	   "decrypt_fd opens gpg's message (%s)", rc ? err.msg : "ok");
	is_int(run("gpg --batch --yes -o '%s' --encrypt --sign -r %s -u %s '%s'", pout, fT, fT, pin),
	       0, "gpg --encrypt --sign");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == 0 && m.n == PN && memcmp(m.p, plain, PN) == 0, "decrypt_fd opens it (%s)",
	   rc ? err.msg : "ok");
	ok(st == 1 && strcmp(signer, fT) == 0, "and reports the good signature by %s", signer);

	/* a bad signature: sign (uncompressed), change the signed text, then
	 * encrypt the signed message as it is (--no-literal), so that the
	 * encryption is intact and only the signature fails */
	char psig[512], ptxt[512];
	snprintf(psig, sizeof psig, "%s/signed.gpg", h);
	snprintf(ptxt, sizeof ptxt, "%s/text", h);
	static const char text[] = "certificate of disposal: 3 records\n";
	ok(write_file(ptxt, text, strlen(text)) == 0
	   && run("gpg --batch --yes -z0 -u %s -o '%s' --sign '%s'", fT, psig, ptxt) == 0,
	   "gpg --sign, uncompressed");
	size_t slen = 0;
	char *sb = read_file(psig, &slen);
	char *at = sb ? memmem(sb, slen, "3 records", 9) : NULL;
	if (at)
		*at = '4';
	ok(at && write_file(psig, sb, slen) == 0, "changed the signed text");
	free(sb);
	is_int(run("gpg --batch --yes --no-literal -o '%s' --encrypt -r %s '%s'", pout, fT, psig), 0,
	       "gpg encrypts the altered signed message");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	/* gpg stops at the bad signature, before the end of the message */
	is_int(rc, -1, "decrypt_fd fails on the bad signature");
	ok(m.n == strlen(text) && memcmp(m.p, "certificate of disposal: 4", 26) == 0,
	   "(the altered text had reached the sink)");
	is_int(st, -1, "bad signature: status -1");
	is_str(signer, fT, "the signer is still named");
	ok(err.code == SPIF_FOUND && strstr(err.msg, "bad signature by ") == err.msg
	   && strstr(err.msg, fT), "SPIF_FOUND: %s", err.msg);

	/* signed by a key that is then deleted */
	is_int(run("gpg --batch --yes -o '%s' --encrypt --sign -r %s -u %s '%s'", pout, fT, fG, pin),
	       0, "gpg --encrypt --sign with the doomed key");
	is_int(run("gpg --batch --yes --delete-secret-and-public-key %s", fG), 0, "delete it");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == 0 && m.n == PN && memcmp(m.p, plain, PN) == 0, "decrypt_fd still decrypts (%s)",
	   rc ? err.msg : "ok");
	is_int(st, -1, "unknown signer: status -1");
	is_str(signer, fG, "signer: the signing key's fingerprint");
	ok(err.code == SPIF_FOUND && strstr(err.msg, "signature by unknown key ") == err.msg,
	   "described: %s", err.msg);

	/* --- altered, truncated, not OpenPGP ------------------------------ */
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1};
	ok(enc_file(pin, pout, &e, &err) == 0 && flip_byte(pout, PN / 2) == 0,
	   "encrypt, then flip a byte in the middle");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	is_int(rc, -1, "altered message fails");
	is_int(err.code, SPIF_EX_DATAERR, "altered: DATAERR");
	is_str(err.msg, "the message was altered (integrity check failed)", "altered: message");
	ok(m.n > 0, "(plaintext had reached the sink, %zu bytes, before the check failed)", m.n);
	ok(enc_file(pin, pout, &e, &err) == 0 && truncate(pout, (off_t)PN / 2) == 0,
	   "encrypt, then cut the message in half");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_DATAERR
	   && (strstr(err.msg, "truncated") || strstr(err.msg, "altered")),
	   "truncated message fails: %s", err.msg);
	ok(enc_file(pin, pout, &e, &err) == 0 && truncate(pout, (off_t)PN - 2000) == 0,
	   "encrypt, then cut the end off");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_DATAERR
	   && (strstr(err.msg, "truncated") || strstr(err.msg, "altered")),
	   "truncated message fails: %s", err.msg);
	char pjunk[512];
	snprintf(pjunk, sizeof pjunk, "%s/junk", h);
	static const char junk[] = "this is not an OpenPGP message\n";
	write_file(pjunk, junk, strlen(junk));
	rc = dec_file(pjunk, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_DATAERR
	   && strcmp(err.msg, "not an OpenPGP message") == 0, "junk: %s", err.msg);
	write_file(pjunk, "", 0);
	rc = dec_file(pjunk, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_DATAERR
	   && strcmp(err.msg, "not an OpenPGP message") == 0, "empty input: %s", err.msg);
	rc = dec_file(psig, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_DATAERR && strstr(err.msg, "not an encrypted"),
	   "signed but not encrypted: %s", err.msg);

	/* --- recipients that do not work ---------------------------------- */
	struct { const char *who, *msg; } bad[] = {
		{"nobody@example.invalid", "no public key for nobody@example.invalid"},
		{"example.invalid", "example.invalid: more than one key matches; give the fingerprint"},
		{"o@example.invalid", "o@example.invalid: key is expired"},
		{fR, "key is revoked"},
		{"n@example.invalid", "n@example.invalid: key cannot encrypt (no encryption subkey)"},
		{"xdisabled@example.invalid", "xdisabled@example.invalid: key is disabled"},
		{"xsubold@example.invalid", "xsubold@example.invalid: encryption subkey is expired"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *r2[] = {"t@example.invalid", bad[i].who};
		strcpy(fprs[0], "x");
		strcpy(fprs[1], "x");
		e = (struct spif_pgp_enc){.recipients = r2, .nrecipients = 2, .fprs = fprs};
		struct failing f = {0, 0};
		memset(&err, 0, sizeof err);
		int ifd = open(pin, O_RDONLY);
		rc = spif_pgp_encrypt_fd(ifd, failing_sink, &f, &e, &err);
		close(ifd);
		ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strstr(err.msg, bad[i].msg)
		   && f.got == 0 && !fprs[0][0] && !fprs[1][0],
		   "recipient %s refused, nothing written: %d %s", bad[i].who, err.code, err.msg);
	}
	const char *r0[] = {""};
	e = (struct spif_pgp_enc){.recipients = r0, .nrecipients = 1};
	ok(enc_file(pin, pout, &e, &err) == -1 && err.code == SPIF_EX_USAGE,
	   "empty recipient: USAGE (%s)", err.msg);
	e = (struct spif_pgp_enc){0};
	ok(enc_file(pin, pout, &e, &err) == -1 && err.code == SPIF_EX_USAGE,
	   "no recipients: USAGE (%s)", err.msg);
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1, .passphrase = "pw"};
	ok(enc_file(pin, pout, &e, &err) == -1 && err.code == SPIF_EX_USAGE,
	   "recipients and passphrase: USAGE (%s)", err.msg);
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1, .sign_key = "nobody@x.invalid"};
	ok(enc_file(pin, pout, &e, &err) == -1 && err.code == SPIF_EX_UNAVAILABLE
	   && strcmp(err.msg, "no secret key for nobody@x.invalid") == 0,
	   "unknown signing key: %s", err.msg);
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1, .sign_key = fO};
	ok(enc_file(pin, pout, &e, &err) == -1 && err.code == SPIF_EX_UNAVAILABLE
	   && strstr(err.msg, "key is expired"), "expired signing key: %s", err.msg);
	run("gpgconf --reload gpg-agent"); /* forget the locked key's passphrase */
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1, .sign_key = fL};
	double t1 = now();
	ok(enc_file(pin, pout, &e, &err) == -1 && err.code == SPIF_EX_UNAVAILABLE
	   && strstr(err.msg, "passphrase-protected") && now() - t1 < 30,
	   "a passphrase-protected signing key fails at once: %s", err.msg);

	/* gpg.conf adds no recipient (recipient, hidden-recipient, encrypt-to,
	 * default-recipient), and batch mode there (in which gpg would not
	 * ask for its recipients) changes nothing */
	char conf[512];
	snprintf(conf, sizeof conf, "%s/gpg.conf", h);
	char line[512];
	snprintf(line, sizeof line, "recipient %s\nhidden-recipient %s\nencrypt-to %s\n"
		 "default-recipient %s\nbatch\n", fS, fS, fS, fS);
	write_file(conf, line, strlen(line));
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1, .fprs = fprs};
	rc = enc_file(pin, pout, &e, &err);
	unlink(conf);
	ok(rc == 0 && strcmp(fprs[0], fT) == 0
	   && run("test $(gpg --batch --list-packets '%s' 2>&1 | grep -c "
		  "':pubkey enc packet:') = 1", pout) == 0
	   && run("gpg --batch --yes -o '%s' --decrypt '%s'", pgpo, pout) == 0,
	   "gpg.conf adds no recipient: exactly the named one (%s)", rc ? err.msg : "ok");

	/* --- passphrases ---------------------------------------------------- */
	const char *pw = "correct horse battery staple";
	e = (struct spif_pgp_enc){.passphrase = pw};
	rc = enc_file(pin, pout, &e, &err);
	is_int(rc, 0, "symmetric encryption (%s)", rc ? err.msg : "ok");
	is_int(run("gpg --batch --yes --pinentry-mode loopback --no-symkey-cache "
		   "--passphrase '%s' -o '%s' --decrypt '%s'", pw, pgpo, pout), 0,
	       "gpg --decrypt with the passphrase");
	ok(same_file(pgpo, plain, PN), "gpg gets the plaintext back");
	rc = dec_file(pout, &m, pw, signer, &st, &err);
	ok(rc == 0 && m.n == PN && memcmp(m.p, plain, PN) == 0 && st == 0,
	   "decrypt_fd with the passphrase (%s)", rc ? err.msg : "ok");
	rc = dec_file(pout, &m, "Tr0ub4dor&3", signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strcmp(err.msg, "wrong passphrase") == 0,
	   "wrong passphrase: %d %s (not cached from the last run)", err.code, err.msg);
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strstr(err.msg, "passphrase"),
	   "no passphrase: %s", err.msg);
	is_int(run("gpg --batch --yes --pinentry-mode loopback --no-symkey-cache "
		   "--passphrase '%s' -o '%s' --symmetric '%s'", pw, pout, pin), 0, "gpg --symmetric");
	rc = dec_file(pout, &m, pw, signer, &st, &err);
	ok(rc == 0 && m.n == PN && memcmp(m.p, plain, PN) == 0,
	   "decrypt_fd opens gpg's symmetric message (%s)", rc ? err.msg : "ok");
	e = (struct spif_pgp_enc){.passphrase = "two\nlines"};
	ok(enc_file(pin, pout, &e, &err) == -1 && err.code == SPIF_EX_USAGE,
	   "a passphrase with a line break: USAGE");

	/* --- no secret key, locked secret key ------------------------------- */
	const char *rS[] = {"s@example.invalid"};
	e = (struct spif_pgp_enc){.recipients = rS, .nrecipients = 1};
	ok(enc_file(pin, pout, &e, &err) == 0
	   && run("gpg --batch --yes --delete-secret-keys %s", fS) == 0,
	   "encrypt to the second key, then delete its secret key");
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE
	   && strncmp(err.msg, "no secret key to decrypt it (for ", 33) == 0
	   && strlen(err.msg) == 33 + 16 + 1, "no secret key: %s", err.msg);
	const char *rL[] = {"l@example.invalid"};
	e = (struct spif_pgp_enc){.recipients = rL, .nrecipients = 1};
	ok(enc_file(pin, pout, &e, &err) == 0, "encrypt to the passphrase-protected key");
	run("gpgconf --reload gpg-agent");
	double t0 = now();
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strstr(err.msg, "passphrase-protected"),
	   "its secret key is locked: %s", err.msg);
	ok(now() - t0 < 30, "and that fails fast");

	/* --- sinks that fail, input from a pipe ------------------------------ */
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1};
	struct failing f = {1000, 0};
	memset(&err, 0, sizeof err);
	int ifd = open(pin, O_RDONLY);
	rc = spif_pgp_encrypt_fd(ifd, failing_sink, &f, &e, &err);
	close(ifd);
	ok(rc == -1 && err.code == SPIF_EX_IOERR && strstr(err.msg, strerror(ENOSPC)),
	   "encrypt: a failing sink fails the call: %s", err.msg);
	ok(enc_file(pin, pout, &e, &err) == 0, "encrypt again");
	f = (struct failing){1000, 0};
	memset(&err, 0, sizeof err);
	ifd = open(pout, O_RDONLY);
	rc = spif_pgp_decrypt_fd(ifd, failing_sink, &f, NULL, signer, &st, &err);
	close(ifd);
	ok(rc == -1 && err.code == SPIF_EX_IOERR && strstr(err.msg, strerror(ENOSPC)),
	   "decrypt: a failing sink fails the call: %s", err.msg);
	memset(&err, 0, sizeof err);
	rc = spif_pgp_decrypt_fd(-1, mem_sink, &m, NULL, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_IOERR, "bad input fd: %s", err.msg);

	FILE *pipe = popen("head -c 3000000 /dev/zero", "r");
	int ofd = open(pout, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(&err, 0, sizeof err);
	rc = pipe ? spif_pgp_encrypt_fd(fileno(pipe), fd_sink, &ofd, &e, &err) : -1;
	if (pipe)
		pclose(pipe);
	close(ofd);
	is_int(rc, 0, "encrypt from a pipe (%s)", rc ? err.msg : "ok");
	struct counting c = {.fd = -1};
	ifd = open(pout, O_RDONLY);
	memset(&err, 0, sizeof err);
	rc = spif_pgp_decrypt_fd(ifd, counting_sink, &c, NULL, signer, &st, &err);
	close(ifd);
	ok(rc == 0 && c.n == 3000000 && c.nonzero == 0, "and back: %llu zero bytes", c.n);

	/* --- gpg writing the output itself, read back behind it ------------- */
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1, .fprs = fprs};
	struct mem tapped = {0};
	unlink(pout);
	ofd = open(pout, O_RDWR | O_CREAT | O_EXCL, 0600);
	ifd = open(pin, O_RDONLY);
	memset(&err, 0, sizeof err);
	rc = spif_pgp_encrypt_to_fd(ifd, ofd, mem_sink, &tapped, &e, &err);
	close(ifd);
	close(ofd);
	is_int(rc, 0, "encrypt_to_fd into a file (%s)", rc ? err.msg : "ok");
	is_str(fprs[0], fT, "with the recipient's fingerprint");
	ct = read_file(pout, &clen);
	ok(ct && clen > PN && tapped.n == clen && memcmp(ct, tapped.p, clen) == 0,
	   "the tap saw every byte gpg wrote (%zu of %zu)", tapped.n, clen);
	free(ct);
	rc = dec_file(pout, &m, NULL, signer, &st, &err);
	ok(rc == 0 && m.n == PN && memcmp(m.p, plain, PN) == 0, "and it decrypts (%s)",
	   rc ? err.msg : "ok");
	mem_free(&tapped);
	int pp[2];
	ok(pipe2(pp, 0) == 0, "a pipe for output");
	ifd = open(pin, O_RDONLY);
	memset(&err, 0, sizeof err);
	rc = spif_pgp_encrypt_to_fd(ifd, pp[1], mem_sink, &tapped, &e, &err);
	close(ifd);
	close(pp[0]);
	close(pp[1]);
	ok(rc == -1 && err.code == SPIF_EX_SOFTWARE && tapped.n == 0,
	   "a tap needs a regular file: %s", err.msg);
	ofd = open("/dev/full", O_WRONLY);
	ifd = open(pin, O_RDONLY);
	memset(&err, 0, sizeof err);
	rc = ofd >= 0 ? spif_pgp_encrypt_to_fd(ifd, ofd, NULL, NULL, &e, &err) : -1;
	close(ifd);
	if (ofd >= 0)
		close(ofd);
	ok(rc == -1 && err.code == SPIF_EX_IOERR && strstr(err.msg, strerror(ENOSPC)),
	   "no room on the output: %d %s", err.code, err.msg);

	ifd = open(h, O_RDONLY | O_DIRECTORY);
	f = (struct failing){1 << 30, 0};
	memset(&err, 0, sizeof err);
	rc = spif_pgp_encrypt_fd(ifd, failing_sink, &f, &e, &err);
	close(ifd);
	ok(rc == -1 && err.code == SPIF_EX_IOERR, "an input that cannot be read: %d %s", err.code,
	   err.msg);

	/* --- in memory: wrapping a data key ---------------------------------- */
	unsigned char dk[32];
	for (size_t i = 0; i < sizeof dk; i++)
		dk[i] = (unsigned char)(i * 37 + 11);
	char *wrapped = NULL;
	size_t wn = 0;
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1, .fprs = fprs};
	memset(&err, 0, sizeof err);
	rc = spif_pgp_encrypt_buf(dk, sizeof dk, &e, &wrapped, &wn, &err);
	is_int(rc, 0, "encrypt_buf (%s)", rc ? err.msg : "ok");
	ok(wrapped && wn == strlen(wrapped)
	   && strncmp(wrapped, "-----BEGIN PGP MESSAGE-----", 27) == 0
	   && strstr(wrapped, "-----END PGP MESSAGE-----"), "armored, NUL-terminated, %zu bytes", wn);
	is_str(fprs[0], fT, "with the recipient's fingerprint");
	void *unwrapped = NULL;
	size_t un = 0;
	memset(&err, 0, sizeof err);
	rc = spif_pgp_decrypt_buf(wrapped, wn, NULL, &unwrapped, &un, signer, &st, &err);
	ok(rc == 0 && un == sizeof dk && memcmp(unwrapped, dk, sizeof dk) == 0,
	   "decrypt_buf gives the 32 bytes back (%s)", rc ? err.msg : "ok");
	free(unwrapped);
	write_file(pout, wrapped, wn);
	ok(run("gpg --batch --yes -o '%s' --decrypt '%s'", pgpo, pout) == 0
	   && same_file(pgpo, dk, sizeof dk), "gpg unwraps it too");
	free(wrapped);
	unwrapped = (void *)"x";
	memset(&err, 0, sizeof err);
	rc = spif_pgp_decrypt_buf(junk, strlen(junk), NULL, &unwrapped, &un, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_DATAERR && unwrapped == NULL, "decrypt_buf junk: %s",
	   err.msg);
	e = (struct spif_pgp_enc){.recipients = rS, .nrecipients = 1};
	rc = spif_pgp_encrypt_buf(dk, sizeof dk, &e, &wrapped, &wn, &err);
	ok(rc == 0, "encrypt_buf to a key without its secret here");
	memset(&err, 0, sizeof err);
	rc = spif_pgp_decrypt_buf(wrapped, wn, NULL, &unwrapped, &un, signer, &st, &err);
	ok(rc == -1 && err.code == SPIF_EX_UNAVAILABLE && strstr(err.msg, "no secret key"),
	   "decrypt_buf: %s", err.msg);
	free(wrapped);
	e = (struct spif_pgp_enc){.passphrase = pw};
	rc = spif_pgp_encrypt_buf("", 0, &e, &wrapped, &wn, &err);
	ok(rc == 0 && wrapped && strstr(wrapped, "BEGIN PGP MESSAGE"),
	   "encrypt_buf: empty data, symmetric");
	free(wrapped);

	/* --- 200 MB in constant memory --------------------------------------- */
	char pbig[512], pbige[512];
	snprintf(pbig, sizeof pbig, "%s/big", h);
	snprintf(pbige, sizeof pbige, "%s/big.gpg", h);
	const long long BIG = 200LL << 20;
	int bfd = open(pbig, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(bfd >= 0 && ftruncate(bfd, BIG) == 0 && close(bfd) == 0, "a 200 MB input file");
	long rss0 = rss_kb();
	c = (struct counting){.fd = open(pbige, O_WRONLY | O_CREAT | O_TRUNC, 0600), .max_rss = rss0};
	ifd = open(pbig, O_RDONLY);
	e = (struct spif_pgp_enc){.recipients = rT, .nrecipients = 1};
	memset(&err, 0, sizeof err);
	t0 = now();
	rc = spif_pgp_encrypt_fd(ifd, counting_sink, &c, &e, &err);
	double dt = now() - t0;
	close(ifd);
	close(c.fd);
	ok(rc == 0 && c.n > (unsigned long long)BIG, "encrypt 200 MB (%s)", rc ? err.msg : "ok");
	printf("# encrypt_fd 200 MB: %.2f s, %llu bytes out in %llu writes, RSS %ld -> %ld KiB\n",
	       dt, c.n, c.calls, rss0, c.max_rss);
	ok(c.max_rss - rss0 < 32 * 1024, "RSS grew by %ld KiB (< 32 MiB)", c.max_rss - rss0);
	rss0 = rss_kb();
	c = (struct counting){.fd = -1, .max_rss = rss0};
	ifd = open(pbige, O_RDONLY);
	memset(&err, 0, sizeof err);
	t0 = now();
	rc = spif_pgp_decrypt_fd(ifd, counting_sink, &c, NULL, signer, &st, &err);
	dt = now() - t0;
	close(ifd);
	ok(rc == 0 && c.n == (unsigned long long)BIG && c.nonzero == 0,
	   "decrypt 200 MB: every byte back (%s)", rc ? err.msg : "ok");
	printf("# decrypt_fd 200 MB: %.2f s, RSS %ld -> %ld KiB\n", dt, rss0, c.max_rss);
	ok(c.max_rss - rss0 < 32 * 1024, "RSS grew by %ld KiB (< 32 MiB)", c.max_rss - rss0);
	unlink(pbig);
	unlink(pbige);

	mem_free(&m);
	free(plain);
	run("gpgconf --kill all");
	run("rm -rf '%s'", h);
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
	char pfpr[41] = "x";
	memset(&err, 0, sizeof err);
	is_int(spif_pgp_can_sign("spif-test@example.invalid", pfpr, &err), 0, "can_sign: a usable key (%s)", err.msg);
	is_str(pfpr, fpr1, "can_sign reports the primary fingerprint");
	is_int(spif_pgp_can_sign("spif-test@example.invalid", NULL, &err), 0, "can_sign without a fingerprint wanted");
	ok(spif_pgp_can_sign("nobody@example.invalid", pfpr, &err) == -1 && err.code == SPIF_EX_UNAVAILABLE,
	   "can_sign: no such key is UNAVAILABLE (%s)", err.msg);

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
	/* what the probe is for: the key is there, but cannot sign unattended */
	memset(&err, 0, sizeof err);
	ok(spif_pgp_can_sign(fpr_pw, NULL, &err) == -1 && err.code == SPIF_EX_UNAVAILABLE &&
	   strstr(err.msg, "passphrase"), "can_sign: a passphrase-protected key cannot (%s)", err.msg);

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

	test_encrypt(tmp);
	return tap_done();
}
