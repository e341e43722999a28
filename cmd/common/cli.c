/* cli.c - see cli.h */
#include "cli.h"
#include "tempfile.h"
#include "retention.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "digest.h"
#include "text.h"
#include "intl.h"

/* In a child of a setgid spif, before it runs anything: the group goes,
 * for good (real, effective and saved), so that gpg, gpg-agent, and any
 * program the caller's gpg.conf or gpg-agent.conf names run as the caller
 * alone.  A spif command the child runs gets the group again from its own
 * setgid bit.  (posix_spawn does not run this; lib/pgp.c asks it for
 * POSIX_SPAWN_RESETIDS instead.) */
static void child_drop_group(void)
{
	gid_t g = getgid();
	(void)setresgid(g, g, g);
}

/* Is name=value (env entry) one a setgid spif passes on? */
static int env_kept(const char *e)
{
	static const char *const keep[] = {"LANG=", "LANGUAGE=", "LC_", "TERM=", "GPG_TTY=", "SPIF_LOCK_FD=",
	                                   "COLUMNS=", "NO_COLOR="};
	for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
		if (strncmp(e, keep[i], strlen(keep[i])) == 0)
			return 1;
	/* a zone name, never a file (TZ=/path would be read with the group) */
	if (strncmp(e, "TZ=", 3) == 0 && !strchr(e, '/') && !strstr(e, ".."))
		return 1;
	return 0;
}

/* Secure-execution hygiene (cli.h, home.h): run from cli_init when setgid. */
static void secure_setup(struct cli *c)
{
	/* 0, 1 and 2 open: else the catalog could become "stderr" */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n != fd)
				_exit(SPIF_EX_SOFTWARE);
		}
	/* a file size limit the caller set must not cut a catalog or vault
	 * write short (as far as the hard limit allows) */
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_FSIZE, &rl);
	}
	/* the environment: only what is listed, then what is known */
	const char *h = getenv("SPIF_HOME");
	c->home_ignored = h && *h;
	uid_t uid = getuid();
	char gnupghome[PATH_MAX] = "", sudo[64] = "";
	const char *g = getenv("GNUPGHOME");
	struct stat st;
	/* the caller's own GnuPG home only: a directory they own */
	if (g && *g == '/' && strlen(g) < sizeof gnupghome && lstat(g, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == uid)
		snprintf(gnupghome, sizeof gnupghome, "%s", g);
	else if (c->conf.gnupghome[0] && uid == 0)
		snprintf(gnupghome, sizeof gnupghome, "%s", c->conf.gnupghome);
	const char *su = getenv("SUDO_USER");
	if (su && uid == 0)
		snprintf(sudo, sizeof sudo, "%s", su);
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n++;
	char **kept = calloc(n + 1, sizeof *kept);
	size_t k = 0;
	for (char **e = environ; kept && *e; e++)
		if (env_kept(*e))
			kept[k++] = strdup(*e);
	clearenv();
	for (size_t i = 0; i < k; i++) {
		if (kept[i]) {
			char *eq = strchr(kept[i], '=');
			*eq = '\0';
			setenv(kept[i], eq + 1, 1);
		}
		free(kept[i]);
	}
	free(kept);
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	struct passwd *pw = getpwuid(uid);
	if (pw) {
		setenv("HOME", pw->pw_dir, 1);
		setenv("USER", pw->pw_name, 1);
		setenv("LOGNAME", pw->pw_name, 1);
	}
	if (gnupghome[0])
		setenv("GNUPGHOME", gnupghome, 1);
	if (sudo[0])
		setenv("SUDO_USER", sudo, 1);
	(void)pthread_atfork(NULL, NULL, child_drop_group);
}

void cli_init(struct cli *c, const char *prog, int argc, char **argv)
{
	memset(c, 0, sizeof *c);
	c->prog = prog;
	/* No core dump, whatever the command: one would hold records with
	 * numbers and keys, in a file nothing tracks or shreds.  Not dumpable
	 * also keeps other processes of the same user out (ptrace,
	 * /proc/PID/mem); exec resets it, so gpg is not affected.  Nothing
	 * better to do if either fails. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
	umask(077); /* files spif creates are private unless a group install says otherwise */
	cli_i18n_init(); /* the locale, and the messages for it */
	struct spif_err e = {0};
	if (spif_crypto_init(&e) < 0 || spif_conf_load(&c->conf, &e) < 0 ||
	    spif_actor_init(&c->actor, argc, argv, &e) < 0)
		cli_die(c, &e);
	if (spif_secure())
		secure_setup(c);
	if (c->conf.group[0])
		umask(007);
	/* Legal dates and times for people are in spif.conf's zone, whatever
	 * the host's TZ (calendar.h): installed here, once, before any thread
	 * starts; from then on localtime_r only reads it. */
	char tz[160];
	if (spif_zone_tz(c->conf.timezone, tz, sizeof tz, &e) < 0) {
		spif_err_prefix(&e, "%s", c->conf.path[0] ? c->conf.path : "spif.conf");
		cli_die(c, &e);
	}
	setenv("TZ", tz, 1);
	tzset();
}

void cli_done(struct cli *c)
{
	spif_actor_free(&c->actor);
}

void cli_die(const struct cli *c, const struct spif_err *e)
{
	fprintf(stderr, "%s: %s\n", c->prog, e->msg[0] ? e->msg : _("failed"));
	exit(e->code ? e->code : SPIF_EX_SOFTWARE);
}

void cli_fail(const struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, _(fmt), ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void cli_usage(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, _(fmt), ap);
	va_end(ap);
	fprintf(stderr, _(" (see '%s --help')\n"), c->prog);
	exit(SPIF_EX_USAGE);
}

/* The one way talk reaches stderr: an optional prefix ("prog: ", or
 * "\rprog: " for a progress line), the message translated (intl.h), and
 * an optional end of line.  Every cli_note* and cli_progress goes through
 * it, so that none forgets the translation or the prefix. */
enum { SAY_BARE, SAY_PREFIX, SAY_PROGRESS };
static void say(const struct cli *c, int pre, int eol, const char *fmt, va_list ap)
{
	if (pre != SAY_BARE)
		fprintf(stderr, pre == SAY_PROGRESS ? "\r%s: " : "%s: ", c->prog);
	vfprintf(stderr, _(fmt), ap);
	if (eol)
		fputc('\n', stderr);
}

void cli_note(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(c, SAY_PREFIX, 1, fmt, ap);
	va_end(ap);
}

void cli_note_begin(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(c, SAY_PREFIX, 0, fmt, ap);
	va_end(ap);
}

void cli_note_more(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(c, SAY_BARE, 0, fmt, ap);
	va_end(ap);
}

void cli_note_end(const struct cli *c)
{
	(void)c;
	fputc('\n', stderr);
}

void cli_progress(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(c, SAY_PROGRESS, 0, fmt, ap);
	va_end(ap);
}

void cli_progress_line(const struct cli *c, const char *line)
{
	(void)c;
	fputs(line, stderr);
}

/* The home, said once when a setgid spif ignored --home or $SPIF_HOME. */
static int resolve_home(struct cli *c, struct spif_err *e)
{
	if (spif_home_resolve(c->home_opt, &c->conf, c->home, sizeof c->home, e) < 0)
		return -1;
	if (spif_secure() && (c->home_opt || c->home_ignored) && !c->home_noted) {
		c->home_noted = 1;
		cli_note(c, "note: %s is ignored by a system install (setgid): the home is %s",
		         c->home_opt ? "--home" : "SPIF_HOME", c->home);
	}
	return 0;
}

/* What killed runs of this user left (tempfile.h): destroyed, each said. */
static void sweep(const struct cli *c, struct spif_catalog *cat)
{
	struct spif_err e = {0};
	struct spif_leftover *v;
	size_t n;
	if (spif_tempfile_sweep(cat, 0, &v, &n, &e) < 0) {
		cli_note(c, "note: outputs of killed runs not swept: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].fate == SPIF_LEFTOVER_FAILED)
			cli_note(c, "note: %s, left by a killed spif %s (pid %lld), could not be destroyed: %s",
			         v[i].path, v[i].command, v[i].pid, v[i].why);
		else if (v[i].fate != SPIF_LEFTOVER_GONE)
			cli_note(c, "note: %s %s, left by a killed spif %s (pid %lld) writing %s",
			         v[i].fate == SPIF_LEFTOVER_DESTROYED ? _("destroyed") : _("unlinked"), v[i].path, v[i].command,
			         v[i].pid, v[i].target);
	free(v);
}

struct spif_catalog *cli_catalog(struct cli *c, int flags)
{
	struct spif_err e = {0};
	struct spif_catalog *cat;
	if (resolve_home(c, &e) < 0 ||
	    spif_catalog_open(c->home, &c->conf, flags, &c->actor, &cat, &e) < 0)
		cli_die(c, &e);
	if (spif_catalog_note(cat))
		cli_note(c, "note: %s", spif_catalog_note(cat));
	if (!(flags & SPIF_CAT_READONLY) && !c->no_sweep)
		sweep(c, cat);
	return cat;
}

void cli_check_home(struct cli *c)
{
	struct spif_err e = {0};
	static const char *const names[] = {"", "/catalog.db", "/catalog.db-wal", "/catalog.db-shm"};
	if (resolve_home(c, &e) < 0)
		cli_die(c, &e);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof p, "%s%s", c->home, names[i]);
		if (spif_check_perms(p, &c->conf, &e) < 0)
			cli_die(c, &e);
	}
}

struct spif_catalog *cli_catalog_if_exists(struct cli *c)
{
	char p[PATH_MAX + 16];
	cli_check_home(c);
	snprintf(p, sizeof p, "%s/catalog.db", c->home);
	if (faccessat(AT_FDCWD, p, F_OK, AT_EACCESS) != 0) /* effective ids: setgid (home.h) */
		return NULL;
	return cli_catalog(c, 0);
}

void cli_permit(struct cli *c, struct spif_request rq)
{
	struct spif_err e = {0};
	char db[PATH_MAX + 16];
	struct spif_catalog *cat = NULL;
	cli_check_home(c);
	snprintf(db, sizeof db, "%s/catalog.db", c->home);
	/* read-only is enough to be allowed; a refusal is written when the
	 * catalog can be (SPIF_CAT_READONLY opens read-write where it can) */
	if (faccessat(AT_FDCWD, db, F_OK, AT_EACCESS) == 0 && spif_catalog_open(c->home, &c->conf, SPIF_CAT_READONLY, &c->actor, &cat, &e) < 0)
		cli_die(c, &e);
	cli_permit_in(c, cat, rq);
	spif_catalog_close(cat);
}

void cli_permit_in(struct cli *c, struct spif_catalog *cat, struct spif_request rq)
{
	struct spif_err e = {0};
	if (spif_operator_check(cat, &c->conf, &rq, &c->permit, &e) < 0)
		cli_die(c, &e);
	if (c->permit.person[0])
		snprintf(c->actor.operator_, sizeof c->actor.operator_, "%s", c->permit.person);
	/* the signature says who: an operator's own key, not the office's,
	 * which co-signs later (spif catalog cert cosign) */
	if (!c->org_key[0])
		snprintf(c->org_key, sizeof c->org_key, "%s", c->conf.sign_key);
	if (c->permit.key[0])
		snprintf(c->conf.sign_key, sizeof c->conf.sign_key, "%s", c->permit.key);
}

void cli_permit_sub(struct cli *c, const char *sub, const char *sub2, const char *arg)
{
	/* sub2 NULL: the subcommand has none */
	static const struct {
		const char *prog, *sub, *sub2;
		enum spif_act act;
	} map[] = {
		{"spif-catalog", "ls", NULL, SPIF_ACT_LIST},
		{"spif-catalog", "show", NULL, SPIF_ACT_LIST},
		{"spif-catalog", "log", NULL, SPIF_ACT_AUDIT},
		{"spif-catalog", "verify", NULL, SPIF_ACT_AUDIT},
		{"spif-catalog", "review", NULL, SPIF_ACT_AUDIT},
		{"spif-catalog", "report", NULL, SPIF_ACT_AUDIT},
		{"spif-catalog", "cert", "ls", SPIF_ACT_AUDIT},
		{"spif-catalog", "cert", "show", SPIF_ACT_AUDIT},
		{"spif-catalog", "cert", "export", SPIF_ACT_AUDIT},
		{"spif-catalog", "cert", "verify", SPIF_ACT_AUDIT},
		{"spif-catalog", "cert", "confirm", SPIF_ACT_CONFIRM},
		{"spif-catalog", "cert", "cosign", SPIF_ACT_COSIGN},
		{"spif-catalog", "check", NULL, SPIF_ACT_LIST},
		{"spif-catalog", "copy", NULL, SPIF_ACT_SHRED},
		{"spif-catalog", "checkpoint", NULL, SPIF_ACT_AUDIT},
		{"spif-catalog", "key", NULL, SPIF_ACT_AUDIT},
		{"spif-catalog", "backup", NULL, SPIF_ACT_BACKUP},
		{"spif-catalog", "restore-test", NULL, SPIF_ACT_BACKUP},
		{"spif-catalog", "restore", NULL, SPIF_ACT_RESTORE},
		{"spif-media", "add", NULL, SPIF_ACT_MEDIA},
		{"spif-media", "retire", NULL, SPIF_ACT_MEDIA},
		{"spif-media", "ls", NULL, SPIF_ACT_LIST},
		{"spif-export", "ls", NULL, SPIF_ACT_LIST},
		{"spif-export", "return", NULL, SPIF_ACT_CHECKOUT},
		{"spif-export", "destroyed", NULL, SPIF_ACT_CHECKOUT},
		{"spif-export", "lost", NULL, SPIF_ACT_CHECKOUT},
		{"spif-export", "delivered", NULL, SPIF_ACT_CHECKOUT},
		{"spif-vault", "keys", NULL, SPIF_ACT_AUDIT},
		{"spif-vault", "escrow", "ls", SPIF_ACT_AUDIT},
		{"spif-vault", "escrow", "destroyed", SPIF_ACT_ESCROW},
		{"spif-retain", "schedule", "add", SPIF_ACT_SCHEDULE},
		{"spif-retain", "schedule", "rm", SPIF_ACT_SCHEDULE},
		{"spif-retain", "schedule", "ls", SPIF_ACT_LIST},
		{"spif-retain", "schedule", "show", SPIF_ACT_LIST},
		{"spif-retain", "assign", NULL, SPIF_ACT_RETAIN},
		{"spif-retain", "event", NULL, SPIF_ACT_RETAIN},
		{"spif-retain", "hold", NULL, SPIF_ACT_HOLD},
		{"spif-retain", "release", NULL, SPIF_ACT_HOLD},
		{"spif-retain", "holds", NULL, SPIF_ACT_LIST},
		{"spif-retain", "due", NULL, SPIF_ACT_LIST},
		{"spif-retain", "report", NULL, SPIF_ACT_LIST},
		{"spif-retain", "plan", NULL, SPIF_ACT_PLAN},
		{"spif-retain", "purge", NULL, SPIF_ACT_PURGE},
		/* retain approve asks itself, with the plan it read (plan.c) */
		{"spif-operator", "ls", NULL, SPIF_ACT_AUDIT},
		{"spif-operator", "show", NULL, SPIF_ACT_AUDIT},
		{"spif-operator", "add", NULL, SPIF_ACT_ADMIN},
		{"spif-operator", "grant", NULL, SPIF_ACT_ADMIN},
		{"spif-operator", "revoke", NULL, SPIF_ACT_ADMIN},
		{"spif-operator", "lock", NULL, SPIF_ACT_ADMIN},
		{"spif-operator", "unlock", NULL, SPIF_ACT_ADMIN},
		{"spif-operator", "retire", NULL, SPIF_ACT_ADMIN},
		{"spif-operator", "approvals", NULL, SPIF_ACT_AUDIT},
		/* operator approve asks itself, with the name it approves for */
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
		if (strcmp(map[i].prog, c->prog) != 0 || strcmp(map[i].sub, sub) != 0)
			continue;
		if (map[i].sub2 && (!sub2 || strcmp(map[i].sub2, sub2) != 0))
			continue;
		int confirm = map[i].act == SPIF_ACT_CONFIRM;
		cli_permit(c, (struct spif_request){.act = map[i].act, .object = confirm ? arg : NULL});
		return;
	}
}

int cli_open_input(const struct cli *c, const char *path)
{
	if (strcmp(path, "-") == 0)
		return 0;
	/* as the caller: a setgid spif must not open the home for them */
	int g = spif_as_caller();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int saved = errno;
	spif_as_service(g);
	errno = saved;
	if (fd < 0)
		cli_fail(c, errno == EACCES ? SPIF_EX_NOPERM : SPIF_EX_NOINPUT, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		cli_fail(c, SPIF_EX_NOINPUT, "%s: is a directory", path);
	return fd;
}

void cli_help(const char *text)
{
	fputs(_(text), stdout);
}

void cli_heading(const char *const *names, const int *widths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *h = _(names[i]);
		int w = widths[i] < 0 ? -widths[i] : widths[i], pad = w - spif_text_columns(h);
		if (i)
			putchar(' ');
		for (int k = 0; widths[i] > 0 && k < pad; k++)
			putchar(' ');
		fputs(h, stdout);
		for (int k = 0; widths[i] < 0 && i + 1 < n && k < pad; k++)
			putchar(' ');
	}
	putchar('\n');
}

void cli_bad_option(const struct cli *c, int argc, char **argv)
{
	/* getopt was told to be quiet (opterr = 0): say it in one line */
	const char *arg = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";
	if (optopt > 0 && optopt < 128)
		cli_usage(c, "-%c: unknown option or missing value", optopt);
	cli_usage(c, "%s: unknown option or missing value", arg);
}

int cli_parse_date(const char *s)
{
	long day; /* the calendar's own rule (retention.h), one for every date */
	return spif_day_parse(s, &day);
}

static void lock_waiting(const struct spif_lock_wait *w, const struct spif_lock_holder *who)
{
	char s[160];
	spif_lock_holder_str(who, s, sizeof s);
	cli_note(w->arg, "waiting up to %.0f s for the disposal lock, held by %s (--wait)", w->wait, s);
}

void cli_lock_wait(struct cli *c, const char *opt, volatile sig_atomic_t *stop, struct spif_lock_wait *w)
{
	memset(w, 0, sizeof *w);
	int tty = isatty(STDERR_FILENO);
	w->wait = tty ? 300 : 600;
	if (opt) {
		char *end;
		long v = strtol(opt, &end, 10);
		if (end == opt || *end || v < 0 || v > 86400)
			cli_usage(c, "--wait %s: not a number of seconds from 0 to 86400", opt);
		w->wait = (double)v;
	}
	w->stop = stop;
	w->arg = c;
	if (tty)
		w->waiting = lock_waiting;
}
