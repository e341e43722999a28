/* pgp_encrypt.c - see pgp.h: spif_pgp_encrypt_fd, spif_pgp_encrypt_to_fd
 * and spif_pgp_encrypt_buf.
 *
 * GPGME signs, verifies and decrypts (pgp.c); encryption runs gpg itself,
 * and gpg --list-keys beside it for the recipients, for the reasons below.
 * The offline rules of pgp.c hold here too: no gpg.conf, no dirmngr, no
 * key fetched or located, a passphrase through a pipe only. */
#include "pgp.h"
#include "pgp_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <gpgme.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- encryption: gpg chooses the keys and moves the bytes ---------------
 *
 * Every recipient is looked up in the keyring by a gpg --list-keys run
 * (lookup_start, lookup_end: the rules GPGME's keylist applied), the
 * signing key through GPGME (spif_pgp_sign_key), so that a missing, ambiguous,
 * expired, revoked, disabled or unusable key is refused with its reason
 * and nothing is written.  The bytes do not go through GPGME either:
 * GPGME 1.18 pumps every byte of a stream through its own single-threaded
 * poll loop and formats each buffer it moves for its debug trace even
 * when tracing is off (_gpgme_debug_buffer), which made a 100 MB stream
 * take twice as long as gpg -z0 on its own, whatever the buffer sizes.  So
 * gpg is run here, the program GPGME uses, with gpg's own home as GPGME's
 * (spif never sets another): the caller's input descriptor becomes gpg's
 * standard input (gpg reads the file or pipe itself, no copy through this
 * process), its standard output is the caller's descriptor or a pipe read
 * here into the caller's sink while gpg works on the next block, and its
 * status and log lines go to memory files, which never fill up and stall
 * it.  A passphrase reaches gpg through a pipe (--passphrase-fd), never
 * argv or the environment.
 *
 * Start-up.  Before anything else, GPGME runs gpg --version (see
 * spif_pgp_init); a key lookup through it is then a second gpg run, and the
 * gpg that encrypts a third, one after the other: an empty input took
 * 38 ms where gpg alone takes 10, and 100 MB 1.17 times gpg's time
 * (measured on two cores, best of many).  Now the lookups and the gpg
 * that encrypts start together (24 ms, 1.09 times).  That gpg starts
 * with no recipient on its command line: it asks for them on its command
 * channel (--command-fd, "GET_LINE pklist.user_id.enter", as it would ask
 * a user at a terminal) and, before it has its answers, has read no input
 * and written no output.  Only when every recipient is approved does gpg
 * get their fingerprints, one per question; it must take each (a
 * "KEY_CONSIDERED FPR 0" status line) and no other key, and only then
 * does the empty line that ends the list let it go on (gpg_recipients).
 * On a refusal gpg is stopped unanswered, having written nothing.  A
 * signing key is resolved before gpg starts, since -u is on its command
 * line.  A pipe between gpg and its output, to hold the bytes back until
 * the keys are approved, would let gpg start encrypting at once, but
 * costs half again gpg's time on a 100 MB stream. */

#define GPG_MAX_ARGS 64
#define PASS_MAX 1024 /* fits a pipe's smallest buffer: written before gpg starts */

/* The gpg GPGME runs (the one in PATH, see spif_pgp_init), found without
 * starting anything.  NULL, with err set, when there is none. */
static const char *gpg_program(struct spif_err *err)
{
	const char *prog = gpgme_get_dirinfo("gpg-name");
	if (!prog || !*prog)
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "GnuPG is not usable: no gpg in PATH");
	return prog && *prog ? prog : NULL;
}

/* A running gpg. */
struct gpg_proc {
	pid_t pid;
	int out;    /* read end of its standard output */
	int status; /* memory file holding its status lines (--status-fd 3) */
	int log;    /* memory file holding its standard error */
};

/* fd moved out of the way of 0..4 (which the child's are made of). */
static int high_dup(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Start gpg with argv: in_fd as its standard input, out_fd as its
 * standard output (or, when out_fd is -1, a pipe whose read end is p->out),
 * fd4 (or -1) as its fd 4: the passphrase pipe or the command channel.
 * 0, or -1 with err set. */
static int gpg_spawn(const char *prog, char *const *argv, int in_fd, int out_fd, int fd4,
                     struct gpg_proc *p, struct spif_err *err)
{
	int pfd[2] = {-1, -1}, in = -1, outw = -1, st = -1, lg = -1, pw = -1, rc = -1;
	p->pid = -1;
	p->out = p->status = p->log = -1;
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (out_fd < 0) {
		if (pipe2(pfd, O_CLOEXEC) < 0) {
			spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "pipe");
			goto out;
		}
		/* a bigger pipe: fewer trips between gpg and this process
		 * (the default 64 KiB is kept when the system allows no more) */
		(void)fcntl(pfd[0], F_SETPIPE_SZ, 1 << 20);
	}
	p->status = memfd_create("spif-gpg-status", MFD_CLOEXEC);
	p->log = memfd_create("spif-gpg-log", MFD_CLOEXEC);
	if (p->status < 0 || p->log < 0) {
		spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "memfd_create");
		goto out;
	}
	in = high_dup(in_fd);
	outw = high_dup(out_fd >= 0 ? out_fd : pfd[1]);
	st = high_dup(p->status);
	lg = high_dup(p->log);
	if (fd4 >= 0)
		pw = high_dup(fd4);
	if (in < 0 || outw < 0 || st < 0 || lg < 0 || (fd4 >= 0 && pw < 0)) {
		spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "dup");
		goto out;
	}
	if (posix_spawn_file_actions_adddup2(&fa, in, 0) || posix_spawn_file_actions_adddup2(&fa, outw, 1)
	    || posix_spawn_file_actions_adddup2(&fa, lg, 2) || posix_spawn_file_actions_adddup2(&fa, st, 3)
	    || (pw >= 0 && posix_spawn_file_actions_adddup2(&fa, pw, 4))) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	/* gpg runs as the caller alone, never with a setgid spif's group
	 * (home.h: it reads the caller's gpg.conf, which may name programs) */
	posix_spawnattr_t at;
	int e = posix_spawnattr_init(&at);
	if (e == 0 && (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_RESETIDS)) == 0)
		e = posix_spawn(&p->pid, prog, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	if (e != 0) {
		p->pid = -1;
		spif_err_sys(err, SPIF_EX_UNAVAILABLE, e, "GnuPG is not usable: %s", prog);
		goto out;
	}
	p->out = pfd[0];
	pfd[0] = -1;
	rc = 0;
out:
	posix_spawn_file_actions_destroy(&fa);
	close_fd(&pfd[0]);
	close_fd(&pfd[1]);
	close_fd(&in);
	close_fd(&outw);
	close_fd(&st);
	close_fd(&lg);
	close_fd(&pw);
	if (rc < 0) {
		close_fd(&p->status);
		close_fd(&p->log);
	}
	return rc;
}

/* Wait for gpg; its exit status (128 + signal when killed), -1 on error. */
static int gpg_wait(struct gpg_proc *p)
{
	int ws;
	pid_t r;
	do
		r = waitpid(p->pid, &ws, 0);
	while (r < 0 && errno == EINTR);
	p->pid = -1;
	if (r < 0)
		return -1;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

/* The contents of a memory file, NUL-terminated, at most max bytes (the
 * last ones: what gpg said at the end matters most).  NULL on failure. */
static char *memfd_text(int fd, size_t max, size_t *len)
{
	struct stat sb;
	*len = 0;
	if (fd < 0 || fstat(fd, &sb) < 0)
		return NULL;
	size_t size = (size_t)sb.st_size, n = size > max ? max : size;
	char *buf = malloc(n + 1);
	if (!buf)
		return NULL;
	ssize_t got = n ? pread(fd, buf, n, (off_t)(size - n)) : 0;
	if (got < 0) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = (size_t)got;
	return buf;
}

/* What gpg's status lines said about an encryption. */
struct enc_status {
	int end_encryption;
	int sig_created;
	int need_passphrase; /* a secret key (the signer's) wanted its passphrase */
	int inv_recp, inv_sgnr; /* reason codes, -1 when none */
	char inv_recp_who[64], inv_sgnr_who[64];
	int sys_errno;          /* a FAILURE that was a system error (ENOSPC...) */
};

static void enc_status_line(struct enc_status *s, const char *kw, const char *args)
{
	if (strcmp(kw, "END_ENCRYPTION") == 0)
		s->end_encryption = 1;
	else if (strcmp(kw, "SIG_CREATED") == 0)
		s->sig_created = 1;
	else if (strcmp(kw, "NEED_PASSPHRASE") == 0 || strcmp(kw, "USERID_HINT") == 0)
		s->need_passphrase = 1;
	else if (strcmp(kw, "FAILURE") == 0 && !s->sys_errno) {
		/* FAILURE LOCATION CODE: a gpg-error value */
		const char *sp = strchr(args, ' ');
		gpg_err_code_t c = gpg_err_code((gpgme_error_t)strtoul(sp ? sp + 1 : "0", NULL, 10));
		if (c & GPG_ERR_SYSTEM_ERROR)
			s->sys_errno = gpgme_err_code_to_errno(c);
	}
	else if ((strcmp(kw, "INV_RECP") == 0 && s->inv_recp < 0)
		 || (strcmp(kw, "INV_SGNR") == 0 && s->inv_sgnr < 0)) {
		int recp = kw[4] == 'R';
		char *who = recp ? s->inv_recp_who : s->inv_sgnr_who;
		int code = atoi(args);
		const char *sp = strchr(args, ' ');
		snprintf(who, sizeof s->inv_recp_who, "%.*s", sp ? (int)strcspn(sp + 1, " ") : 1,
			 sp ? sp + 1 : "?");
		*(recp ? &s->inv_recp : &s->inv_sgnr) = code;
	}
}

/* After gpg failed while writing into fd (the output file itself): was it
 * the file system that was full?  gpg says so only in its log ("write
 * error: No space left on device", in the locale's words) and with no
 * FAILURE status line, so both are asked: the log for strerror(ENOSPC)
 * or strerror(EDQUOT) as gpg, which shares the locale, would word it, and
 * the file system for the room left (gpg's partial output is still held
 * by fd, so the space it took is still taken).  The answer is an errno,
 * 0 for neither. */
static int out_full(int fd, const char *log)
{
	if (log && strstr(log, strerror(ENOSPC)))
		return ENOSPC;
	if (log && strstr(log, strerror(EDQUOT)))
		return EDQUOT;
	struct statvfs v;
	if (fd < 0 || fstatvfs(fd, &v) < 0 || !v.f_frsize)
		return 0;
	/* root may write into the reserved blocks; others only into f_bavail */
	unsigned long long left = (unsigned long long)(geteuid() == 0 ? v.f_bfree : v.f_bavail) * v.f_frsize;
	return left < 64 * 1024 ? ENOSPC : 0;
}

/* Parse the "[GNUPG:] KEYWORD ARGS" lines of text. */
static void enc_status_parse(struct enc_status *s, char *text)
{
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "[GNUPG:] ", 9) == 0) {
			char *kw = line + 9, *args = strchr(kw, ' ');
			if (args)
				*args++ = '\0';
			enc_status_line(s, kw, args ? args : "");
		}
		line = nl ? nl + 1 : NULL;
	}
}

/* gpg's reason codes of INV_RECP and INV_SGNR (doc/DETAILS). */
static const char *inv_reason(int code)
{
	static const char *const why[] = {
		"no specific reason given", "not found", "ambiguous specification", "wrong key usage",
		"key revoked", "key expired", "no CRL known", "CRL too old", "policy mismatch",
		"not a secret key", "key not trusted", "missing certificate",
		"missing issuer certificate", "key disabled", "syntax error in specification",
	};
	return code >= 0 && code < (int)(sizeof why / sizeof *why) ? why[code] : "unusable key";
}

/* A pipe holding the passphrase and a line feed, read end in *fd. */
static int pass_pipe(const char *pass, int *fd, struct spif_err *err)
{
	int pp[2];
	size_t n = strlen(pass);
	*fd = -1;
	if (pipe2(pp, O_CLOEXEC) < 0)
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "pipe");
	/* at most PASS_MAX + 1 bytes: within the pipe's buffer, no reader needed */
	int ok = write(pp[1], pass, n) == (ssize_t)n && write(pp[1], "\n", 1) == 1;
	close(pp[1]);
	if (!ok) {
		close(pp[0]);
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "cannot hand over the passphrase");
	}
	*fd = pp[0];
	return 0;
}

/* gpg's status lines as they come, read from the memory file it writes
 * them to, from where the last call stopped (pread: the file offset is
 * shared with gpg, whose writes move it). */
struct status_tail {
	int fd;
	off_t off;          /* where the next line starts in the file */
	char line[1024];
};

/* The next whole status line in t->line (without its line feed; a longer
 * line is cut), or NULL when gpg has not written one more yet. */
static const char *status_next(struct status_tail *t)
{
	ssize_t r = pread(t->fd, t->line, sizeof t->line - 1, t->off);
	if (r <= 0)
		return NULL;
	char *nl = memchr(t->line, '\n', (size_t)r);
	if (!nl && (size_t)r < sizeof t->line - 1)
		return NULL; /* half a line: gpg is still writing it */
	size_t n = nl ? (size_t)(nl - t->line) : (size_t)r;
	t->off += (off_t)n + (nl ? 1 : 0);
	t->line[n] = '\0';
	return t->line;
}

/* Whether gpg has exited (without reaping it: gpg_wait does). */
static int gpg_gone(const struct gpg_proc *p)
{
	siginfo_t si;
	si.si_pid = 0;
	return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != 0;
}

/* Whether fpr[0, n) is the fingerprint want (NULL or "": none). */
static int same_fpr(const char *want, const char *fpr, size_t n)
{
	return want && *want && strlen(want) == n && strncasecmp(want, fpr, n) == 0;
}

/* Answer gpg's questions for recipients on its command channel cmd with
 * the fingerprints fprs[0, nr), then let it go on (see "Start-up" above).
 * Every key gpg takes shows as "KEY_CONSIDERED FPR 0": before its first
 * question only the signer's (sfpr, or NULL), after it only the ones
 * answered.  0; or -1 with err set, gpg not told it may write (the caller
 * stops it). */
static int gpg_recipients(struct gpg_proc *p, int cmd, char (*fprs)[41], size_t nr,
                          const char *const *who, const char *sfpr, struct spif_err *err)
{
	struct status_tail t = {.fd = p->status};
	size_t asked = 0;
	unsigned taken = 0; /* bit i: gpg took fprs[i] */
	while (asked <= nr) {
		const char *line = status_next(&t);
		if (!line && gpg_gone(p) && !(line = status_next(&t))) {
			/* its first complaint, if it made one, is why */
			size_t llen = 0;
			char *log = memfd_text(p->log, 64 << 10, &llen), diag[256];
			const char *why = log ? spif_pgp_first_log_line(log, llen, diag, sizeof diag) : NULL;
			spif_err_set(err, SPIF_EX_UNAVAILABLE, "cannot encrypt: gpg ended before it "
				     "had its recipients%s%s", why ? ": " : "", why ? why : "");
			free(log);
			return -1;
		}
		if (!line) {
			nanosleep(&(struct timespec){0, 100000}, NULL);
			continue;
		}
		if (strncmp(line, "[GNUPG:] ", 9) != 0)
			continue;
		const char *kw = line + 9, *args = strchr(kw, ' ');
		size_t kwlen = args ? (size_t)(args - kw) : strlen(kw);
		args = args ? args + 1 : "";
		if (kwlen == 8 && memcmp(kw, "GET_LINE", 8) == 0
		    && strcmp(args, "pklist.user_id.enter") == 0) {
			/* the next fingerprint; the empty line that ends the
			 * list only when gpg has taken every one */
			for (size_t i = 0; asked == nr && i < nr; i++)
				if (!(taken & 1u << i))
					return spif_err_set(err, SPIF_EX_UNAVAILABLE,
							    "cannot encrypt to %s: gpg did not take key %s",
							    who[i], fprs[i]);
			char ans[48];
			int n = snprintf(ans, sizeof ans, "%s\n", asked < nr ? fprs[asked] : "");
			if (write(cmd, ans, (size_t)n) != n)
				return spif_err_sys(err, SPIF_EX_SOFTWARE, errno,
						    "cannot hand gpg its recipients");
			asked++;
		} else if (kwlen > 4 && memcmp(kw, "GET_", 4) == 0) {
			/* a question spif does not answer (it would take the
			 * next fingerprint for its answer) */
			return spif_err_set(err, SPIF_EX_UNAVAILABLE,
					    "cannot encrypt: gpg asked %.*s %.60s", (int)kwlen, kw, args);
		} else if (kwlen == 14 && memcmp(kw, "KEY_CONSIDERED", 14) == 0) {
			/* KEY_CONSIDERED FPR FLAGS: flags 0 is a key gpg took
			 * (a key named twice is one recipient, taken twice) */
			size_t flen = strcspn(args, " ");
			int ours = 0;
			if (strtoul(args + flen, NULL, 10) != 0 || (asked == 0 && same_fpr(sfpr, args, flen)))
				continue;
			for (size_t i = 0; asked > 0 && i < nr; i++)
				if (same_fpr(fprs[i], args, flen)) {
					taken |= 1u << i;
					ours = 1;
				}
			if (!ours)
				return spif_err_set(err, SPIF_EX_UNAVAILABLE,
						    "cannot encrypt: gpg would also encrypt to %.*s, "
						    "which was not asked for", (int)flen, args);
		}
	}
	return 0;
}

/* ---- recipients: what gpg --list-keys says ----------------------------
 *
 * Each recipient is looked up by a gpg --list-keys run of its own, started
 * beside the gpg that encrypts (see "Start-up" above), and must name
 * exactly one key usable for encryption.  GPGME reads the same listing,
 * but only after its gpg --version; run here, the lookups take no longer
 * than the encrypting gpg's own start.  The rules are those GPGME's
 * keylist applied (doc/DETAILS): a key is revoked, expired or invalid by
 * its validity field ("r", "e", "i"), disabled by "D" in its capabilities
 * ("d" in the validity of older gpg), usable for encryption by "E" there;
 * when it is not, its first encryption subkey ("e") says why.  Like the
 * encrypting gpg it reads no gpg.conf, so both see the same keyring, and
 * it neither checks nor writes the trustdb.  --list-keys never reaches a
 * network. */

/* A running lookup: gpg's colon listing goes to a memory file. */
struct lookup {
	struct gpg_proc p;
	int list;
};

static int lookup_start(const char *prog, const char *who, struct lookup *l, struct spif_err *err)
{
	l->p.pid = -1;
	l->p.out = l->p.status = l->p.log = -1;
	l->list = memfd_create("spif-gpg-keys", MFD_CLOEXEC);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (l->list < 0 || null < 0) {
		if (null >= 0)
			close(null);
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "memfd_create");
	}
	const char *argv[] = {prog, "--options", "/dev/null", "--batch", "--no-tty",
			      "--no-auto-check-trustdb", "--with-colons", "--list-keys", "--", who, NULL};
	int rc = gpg_spawn(prog, (char *const *)argv, null, l->list, -1, &l->p, err);
	close(null);
	return rc;
}

static void lookup_free(struct lookup *l)
{
	if (l->p.pid > 0) {
		kill(l->p.pid, SIGTERM);
		gpg_wait(&l->p);
	}
	close_fd(&l->p.status);
	close_fd(&l->p.log);
	close_fd(&l->list);
}

/* Field i (0-based) of colon line ln, in buf; "" when it has none. */
static const char *colon_field(const char *ln, int i, char *buf, size_t bufsz)
{
	for (; i > 0 && ln; i--)
		if ((ln = strchr(ln, ':')))
			ln++;
	size_t n = ln ? strcspn(ln, ":\n") : 0;
	if (n >= bufsz)
		n = bufsz - 1;
	memcpy(buf, ln ? ln : "", n);
	buf[n] = '\0';
	return buf;
}

/* Why the key whose pub line has validity v and capabilities caps cannot
 * be encrypted to (sub: why its encryption subkey cannot, "" when it has
 * none), or NULL when it can. */
static const char *key_problem(const char *v, const char *caps, const char *sub, char *buf,
			       size_t bufsz)
{
	if (strchr(v, 'r'))
		return "key is revoked";
	if (strchr(v, 'e'))
		return "key is expired";
	if (strchr(caps, 'D') || strchr(v, 'd'))
		return "key is disabled";
	if (strchr(v, 'i'))
		return "key is invalid";
	if (strchr(caps, 'E'))
		return NULL;
	if (!*sub)
		return "key cannot encrypt (no encryption subkey)";
	snprintf(buf, bufsz, "encryption subkey is %s", sub);
	return buf;
}

/* Wait for lookup l of who and read its answer: the one usable key's
 * fingerprint in fpr.  0, or -1 with err set. */
static int lookup_end(struct lookup *l, const char *who, char fpr[41], struct spif_err *err)
{
	enum { MAX_LIST = 16 << 20 };
	int status = gpg_wait(&l->p);
	struct stat sb;
	size_t len = 0;
	char *text = fstat(l->list, &sb) == 0 && sb.st_size <= MAX_LIST
		   ? memfd_text(l->list, MAX_LIST, &len) : NULL;
	if (!text && fstat(l->list, &sb) == 0 && sb.st_size > MAX_LIST)
		/* megabytes of keys: certainly more than one */
		return spif_err_set(err, SPIF_EX_UNAVAILABLE,
				    "%s: more than one key matches; give the fingerprint", who);
	if (!text)
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "cannot read gpg's key listing");
	int matched = 0, nusable = 0, want_fpr = 0;
	char why[128] = "", buf[128], v[16] = "", caps[32] = "", sub[16] = "", kfpr[80] = "",
	     ufpr[80] = "", f[64];
	fpr[0] = '\0';
	/* one key after the other: pub, fpr, uid..., sub, fpr, ...; each is
	 * judged when the next one starts, or at the end */
	for (char *ln = text;; ) {
		int end = !ln || !*ln;
		colon_field(end ? "" : ln, 0, f, sizeof f);
		if (matched > 0 && (end || strcmp(f, "pub") == 0)) {
			const char *p = key_problem(v, caps, sub, buf, sizeof buf);
			if (p && !why[0])
				snprintf(why, sizeof why, "%s", p);
			if (!p && nusable++ == 0)
				memcpy(ufpr, kfpr, sizeof ufpr);
		}
		if (end)
			break;
		if (strcmp(f, "pub") == 0) {
			matched++;
			colon_field(ln, 1, v, sizeof v);
			colon_field(ln, 11, caps, sizeof caps);
			sub[0] = kfpr[0] = '\0';
			want_fpr = 1;
		} else if (strcmp(f, "fpr") == 0 && want_fpr) {
			colon_field(ln, 9, kfpr, sizeof kfpr);
			want_fpr = 0;
		} else if (strcmp(f, "sub") == 0) {
			want_fpr = 0;
			colon_field(ln, 11, f, sizeof f);
			if (!sub[0] && strchr(f, 'e')) {
				colon_field(ln, 1, f, sizeof f);
				snprintf(sub, sizeof sub, "%s", strchr(f, 'r') ? "revoked"
					 : strchr(f, 'e') ? "expired" : strchr(f, 'i') ? "invalid"
					 : "not usable");
			}
		}
		char *nl = strchr(ln, '\n');
		ln = nl ? nl + 1 : NULL;
	}
	free(text);
	if (nusable > 1)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE,
				    "%s: more than one key matches; give the fingerprint", who);
	if (nusable == 1 && strlen(ufpr) != 40)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE,
				    "%s: fingerprint not of 40 hex digits (not a v4 key)", who);
	if (nusable == 1) {
		memcpy(fpr, ufpr, 41);
		return 0;
	}
	if (matched)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: %s", who, why);
	/* nothing listed: gpg says so with exit status 2 ("error reading
	 * key: No public key", in the user's language); anything else is
	 * gpg failing */
	if (status == 0 || status == 2)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "no public key for %s", who);
	size_t llen = 0;
	char *log = memfd_text(l->p.log, 64 << 10, &llen), diag[256];
	const char *line = log ? spif_pgp_first_log_line(log, llen, diag, sizeof diag) : NULL;
	spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: cannot list keys: %s", who,
		     line ? line : status < 0 ? "gpg vanished" : "gpg failed");
	free(log);
	return -1;
}

/* Where an encryption's output goes: through this process into sink (gpg
 * writes to a pipe), or straight from gpg into fd, with tap (or NULL)
 * reading fd back behind it. */
struct enc_out {
	struct pgp_sink *sink;
	int fd;
	struct pgp_sink *tap;
};

/* Read gpg's output pipe into out until it ends; on a failing sink, stop
 * gpg.  Its exit status. */
static int gpg_drain_pipe(struct gpg_proc *p, struct pgp_sink *out)
{
	enum { BUF = 256 * 1024 };
	char *buf = malloc(BUF);
	if (!buf) {
		out->failed = 1;
		out->errnum = ENOMEM;
	}
	while (buf && !out->failed) {
		ssize_t r = read(p->out, buf, BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (spif_pgp_sink_write(out, buf, (size_t)r) < 0)
			break;
	}
	free(buf);
	if (out->failed)
		kill(p->pid, SIGTERM); /* it would block on a full pipe nobody reads */
	close_fd(&p->out);
	return gpg_wait(p);
}

/* gpg writes the regular file fd itself, from offset off; hand every byte
 * it has written so far to tap, read back from the page cache, until gpg
 * has exited and the rest is read too.  One copy, in parallel with gpg,
 * instead of a pipe read and a write.  Its exit status. */
static int gpg_follow_file(struct gpg_proc *p, int fd, off_t off, struct pgp_sink *tap)
{
	enum { BUF = 256 * 1024 };
	char *buf = malloc(BUF);
	int status = -1, done = 0;
	if (!buf) {
		tap->failed = 1;
		tap->errnum = ENOMEM;
		kill(p->pid, SIGTERM);
		return gpg_wait(p);
	}
	for (;;) {
		ssize_t r = pread(fd, buf, BUF, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			tap->failed = 1;
			tap->errnum = errno;
		} else if (r > 0) {
			off += r;
			/* spif_pgp_sink_write returns the count it took, or -1: keep reading
			 * while there is more, gpg gone or not */
			if (spif_pgp_sink_write(tap, buf, (size_t)r) >= 0)
				continue;
		}
		if (tap->failed || done)
			break;
		/* caught up: gpg still writing, or gone (then one last read) */
		int ws;
		pid_t w = waitpid(p->pid, &ws, WNOHANG);
		if (w == p->pid) {
			p->pid = -1;
			status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
			done = 1;
		} else if (w < 0 && errno != EINTR) {
			done = 1;
		} else {
			nanosleep(&(struct timespec){0, 1000000}, NULL);
		}
	}
	free(buf);
	if (p->pid > 0) {
		if (tap->failed)
			kill(p->pid, SIGTERM);
		status = gpg_wait(p);
	}
	return status;
}

/* Encrypt in_fd to out as e says. */
static int encrypt_run(int in_fd, struct enc_out *out, struct spif_pgp_enc *e, int armor,
                       struct spif_err *err)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t signer = NULL;
	char (*rfprs)[41] = NULL; /* the recipients' keys */
	struct lookup *look = NULL;
	size_t nlook = 0;
	int rc = -1, fd4 = -1, cmd = -1;
	struct gpg_proc p = {.pid = -1, .out = -1, .status = -1, .log = -1};

	if (!e)
		return spif_err_set(err, SPIF_EX_USAGE, "no encryption settings");
	int symmetric = e->passphrase != NULL;
	size_t nr = e->recipients ? e->nrecipients : 0;
	if (e->fprs)
		for (size_t i = 0; i < e->nrecipients; i++)
			e->fprs[i][0] = '\0';
	if (symmetric && nr > 0)
		return spif_err_set(err, SPIF_EX_USAGE,
				    "give recipients or a passphrase, not both");
	if (!symmetric && nr == 0)
		return spif_err_set(err, SPIF_EX_USAGE, "no recipients");
	if (nr > 16)
		return spif_err_set(err, SPIF_EX_USAGE, "more than 16 recipients");
	for (size_t i = 0; i < nr; i++)
		if (!e->recipients[i] || !*e->recipients[i]) /* "" would list every key */
			return spif_err_set(err, SPIF_EX_USAGE, "empty recipient");
	if (symmetric && !*e->passphrase)
		return spif_err_set(err, SPIF_EX_USAGE, "empty passphrase");
	if (symmetric && strpbrk(e->passphrase, "\r\n"))
		return spif_err_set(err, SPIF_EX_USAGE, "the passphrase contains a line break");
	if (symmetric && strlen(e->passphrase) > PASS_MAX)
		return spif_err_set(err, SPIF_EX_USAGE, "the passphrase is longer than %d bytes",
				    PASS_MAX);
	if (e->sign_key && !*e->sign_key)
		return spif_err_set(err, SPIF_EX_USAGE, "empty signing key id");
	if (in_fd < 0 || fcntl(in_fd, F_GETFL) == -1)
		return spif_err_sys(err, SPIF_EX_IOERR, EBADF, "cannot read the input");
	off_t out_off = 0;
	if (!out->sink) {
		struct stat sb;
		if (out->fd < 0 || fcntl(out->fd, F_GETFL) == -1)
			return spif_err_sys(err, SPIF_EX_IOERR, EBADF, "cannot write the output");
		if (out->tap && (fstat(out->fd, &sb) < 0 || !S_ISREG(sb.st_mode)
				 || (out_off = lseek(out->fd, 0, SEEK_CUR)) < 0))
			return spif_err_set(err, SPIF_EX_SOFTWARE,
					    "reading the output back needs a regular file");
	}
	if (spif_pgp_init(err) < 0)
		return -1;
	const char *prog = gpg_program(err);
	if (!prog)
		return -1;
	/* What goes on gpg's command line is settled before it starts: the
	 * signing key, and in symmetric mode (where gpg starts writing at
	 * once) GPGME's check that gpg is new enough.  Recipients need no
	 * GPGME: they are looked up while gpg starts. */
	if ((symmetric || e->sign_key) && spif_pgp_ctx(&ctx, err) < 0)
		return -1;
	if (e->sign_key && spif_pgp_sign_key(ctx, e->sign_key, &signer, err) < 0)
		goto out;

	/* gpg.conf has no say in the message (--options /dev/null; not
	 * --no-options, which also keeps gpg from making its home, so that
	 * it fails in an account that never ran gpg), since it could
	 * add a reader (recipient, hidden-recipient, encrypt-to or
	 * default-recipient lines: the first two have no command-line
	 * negation), turn batch mode on (then gpg would not ask for its
	 * recipients) or ask for network lookups; the lookups do not read it
	 * either (lookup_start).  ALWAYS_TRUST: the operator named each key,
	 * and spif checked that it is that one key, usable and not expired,
	 * revoked or disabled.  Whether it is the right person's key is the
	 * operator's call, not gpg's web of trust (which would refuse a key
	 * nobody certified, or ask).  No compression: compressed length
	 * leaks something about the plaintext, and costs time.  No network
	 * either way: no dirmngr (so no keyserver and no WKD), no key lookup
	 * by mail address, no key fetched for a signature.  With recipients
	 * gpg runs without --batch, since only then does it ask for them;
	 * --no-tty keeps every question on the command channel. */
	const char *argv[GPG_MAX_ARGS];
	size_t a = 0;
	argv[a++] = prog;
	static const char *const fixed[] = {
		"--options", "/dev/null", "--no-tty", "--status-fd", "3", "--disable-dirmngr",
		"--no-auto-key-locate", "--no-auto-key-retrieve", "--pinentry-mode", "loopback",
		"--always-trust", "--compress-algo", "none", "--output", "-",
	};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		argv[a++] = fixed[i];
	argv[a++] = armor ? "--armor" : "--no-armor";
	if (symmetric) {
		argv[a++] = "--batch";
		argv[a++] = "--symmetric";
		argv[a++] = "--passphrase-fd";
		argv[a++] = "4";
		/* the message passphrase is not left in gpg-agent's cache,
		 * where it would open the next message without being asked */
		argv[a++] = "--no-symkey-cache";
	} else {
		argv[a++] = "--command-fd";
		argv[a++] = "4";
		argv[a++] = "--encrypt";
	}
	if (signer) {
		argv[a++] = "--sign";
		argv[a++] = "--local-user";
		argv[a++] = signer->subkeys->fpr;
	}
	argv[a++] = "--";
	argv[a] = NULL;

	if (symmetric && pass_pipe(e->passphrase, &fd4, err) < 0)
		goto out;
	if (!symmetric) {
		/* the command channel; this process keeps its read end open
		 * too, so that an answer to a gpg that has gone is no SIGPIPE */
		int cp[2];
		if (pipe2(cp, O_CLOEXEC) < 0) {
			spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "pipe");
			goto out;
		}
		fd4 = cp[0];
		cmd = cp[1];
	}
	if (gpg_spawn(prog, (char *const *)argv, in_fd, out->sink ? -1 : out->fd, fd4, &p, err) < 0)
		goto out;
	if (symmetric)
		close_fd(&fd4);

	/* gpg starts while the recipients are looked up, side by side; it
	 * hears of them only when all are approved.  On a refusal it gets no
	 * answer and is stopped (below, at out) while it waits for one. */
	if (nr) {
		rfprs = calloc(nr, sizeof *rfprs);
		look = calloc(nr, sizeof *look);
		if (!rfprs || !look) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			goto out;
		}
		for (; nlook < nr; nlook++)
			if (lookup_start(prog, e->recipients[nlook], &look[nlook], err) < 0) {
				nlook++;
				goto out;
			}
		for (size_t i = 0; i < nr; i++)
			if (lookup_end(&look[i], e->recipients[i], rfprs[i], err) < 0)
				goto out;
		if (gpg_recipients(&p, cmd, rfprs, nr, e->recipients,
				   signer ? signer->subkeys->fpr : NULL, err) < 0)
			goto out;
		close_fd(&cmd);
	}
	struct pgp_sink none = {NULL, NULL, 0, 0};
	struct pgp_sink *fail = out->sink ? out->sink : out->tap ? out->tap : &none;
	int status = out->sink ? gpg_drain_pipe(&p, out->sink)
		   : out->tap ? gpg_follow_file(&p, out->fd, out_off, out->tap) : gpg_wait(&p);

	size_t slen = 0, llen = 0;
	char *stext = memfd_text(p.status, 1 << 20, &slen);
	char *ltext = memfd_text(p.log, 64 << 10, &llen);
	struct enc_status st = {.inv_recp = -1, .inv_sgnr = -1};
	int full;
	if (stext)
		enc_status_parse(&st, stext);
	char diag[256];
	const char *why = ltext ? spif_pgp_first_log_line(ltext, llen, diag, sizeof diag) : NULL;
	if (fail->failed)
		spif_err_sys(err, spif_exit_for_errno(fail->errnum), fail->errnum,
			     out->sink ? "cannot write the encrypted message"
				       : "cannot read the encrypted message back");
	else if (st.inv_recp >= 0)
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "cannot encrypt to %s: %s", st.inv_recp_who,
			     inv_reason(st.inv_recp));
	else if (signer && (st.inv_sgnr >= 0 || status != 0) && st.need_passphrase)
		spif_err_set(err, SPIF_EX_UNAVAILABLE,
			     "%s: cannot sign: the secret key is passphrase-protected and "
			     "spif never prompts (preset the passphrase in gpg-agent)",
			     e->sign_key);
	else if (signer && st.inv_sgnr >= 0)
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: cannot sign: %s", e->sign_key,
			     inv_reason(st.inv_sgnr));
	else if (status != 0 && st.sys_errno)
		spif_err_set(err, spif_exit_for_errno(st.sys_errno), "cannot encrypt: %s",
			     why ? why : strerror(st.sys_errno));
	else if (status != 0 && (full = out_full(out->sink ? -1 : out->fd, ltext)) != 0)
		spif_err_sys(err, SPIF_EX_IOERR, full, "cannot encrypt: cannot write the output");
	else if (status != 0 && ltext && strstr(ltext, "read error"))
		/* gpg ends the message and exits 2, without a FAILURE line */
		spif_err_set(err, SPIF_EX_IOERR, "cannot read the input: %s", why ? why : "?");
	else if (status != 0 || !st.end_encryption)
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "cannot encrypt: %s",
			     why ? why : status < 0 ? "gpg vanished" : "gpg failed");
	else if (signer && !st.sig_created)
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: gpg made no signature", e->sign_key);
	else
		rc = 0;
	free(stext);
	free(ltext);
	if (rc == 0 && e->fprs)
		for (size_t i = 0; i < nr; i++)
			spif_pgp_put_fpr(e->fprs[i], rfprs[i]);
out:
	close_fd(&cmd);
	if (p.pid > 0) {
		kill(p.pid, SIGTERM);
		gpg_wait(&p);
	}
	close_fd(&p.out);
	close_fd(&p.status);
	close_fd(&p.log);
	close_fd(&fd4);
	for (size_t i = 0; i < nlook; i++)
		lookup_free(&look[i]);
	free(look);
	free(rfprs);
	gpgme_key_unref(signer);
	gpgme_release(ctx);
	return rc;
}

int spif_pgp_encrypt_fd(int in_fd, spif_pgp_sink fn, void *ctx, struct spif_pgp_enc *e,
                        struct spif_err *err)
{
	if (!fn)
		return spif_err_set(err, SPIF_EX_USAGE, "no output");
	struct pgp_sink s = {fn, ctx, 0, 0};
	struct enc_out o = {.sink = &s, .fd = -1};
	return encrypt_run(in_fd, &o, e, e ? e->armor : 0, err);
}

int spif_pgp_encrypt_to_fd(int in_fd, int out_fd, spif_pgp_sink tap, void *tapctx,
                           struct spif_pgp_enc *e, struct spif_err *err)
{
	struct pgp_sink t = {tap, tapctx, 0, 0};
	struct enc_out o = {.fd = out_fd, .tap = tap ? &t : NULL};
	return encrypt_run(in_fd, &o, e, e ? e->armor : 0, err);
}

int spif_pgp_encrypt_buf(const void *data, size_t n, struct spif_pgp_enc *e, char **out,
                         size_t *outn, struct spif_err *err)
{
	*out = NULL;
	if (outn)
		*outn = 0;
	if (spif_pgp_init(err) < 0)
		return -1;
	/* gpg reads the data from a memory file, wiped afterwards (it may be
	 * a data key) */
	int fd = memfd_create("spif-pgp-in", MFD_CLOEXEC);
	if (fd < 0)
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "memfd_create");
	if ((n && write(fd, data, n) != (ssize_t)n) || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "memfd");
	}
	struct pgp_membuf m = {0};
	struct pgp_sink s = {spif_pgp_membuf_put, &m, 0, 0};
	struct enc_out o = {.sink = &s, .fd = -1};
	int rc = encrypt_run(fd, &o, e, 1, err);
	if (n) {
		static const char zero[4096];
		for (size_t off = 0; off < n; off += sizeof zero)
			if (pwrite(fd, zero, n - off < sizeof zero ? n - off : sizeof zero, (off_t)off) < 0)
				break;
	}
	close(fd);
	if (rc == 0 && m.n == 0)
		rc = spif_err_set(err, SPIF_EX_UNAVAILABLE, "gpg made no message");
	if (rc < 0) {
		spif_pgp_membuf_wipe(&m);
		return -1;
	}
	*out = (char *)m.p; /* NUL-terminated by spif_pgp_membuf_put */
	if (outn)
		*outn = m.n;
	return 0;
}

