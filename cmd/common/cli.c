/* cli.c - see cli.h */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
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
	setlocale(LC_ALL, "");
	struct spif_err e = {0};
	if (spif_crypto_init(&e) < 0 || spif_conf_load(&c->conf, &e) < 0 ||
	    spif_actor_init(&c->actor, argc, argv, &e) < 0)
		cli_die(c, &e);
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
	fprintf(stderr, "%s: %s\n", c->prog, e->msg[0] ? e->msg : "failed");
	exit(e->code ? e->code : SPIF_EX_SOFTWARE);
}

void cli_fail(const struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void cli_usage(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", c->prog);
	exit(SPIF_EX_USAGE);
}

void cli_note(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct spif_catalog *cli_catalog(struct cli *c, int flags)
{
	struct spif_err e = {0};
	struct spif_catalog *cat;
	if (spif_home_resolve(c->home_opt, &c->conf, c->home, sizeof c->home, &e) < 0 ||
	    spif_catalog_open(c->home, &c->conf, flags, &c->actor, &cat, &e) < 0)
		cli_die(c, &e);
	if (spif_catalog_note(cat))
		cli_note(c, "note: %s", spif_catalog_note(cat));
	return cat;
}

void cli_check_home(struct cli *c)
{
	struct spif_err e = {0};
	static const char *const names[] = {"", "/catalog.db", "/catalog.db-wal", "/catalog.db-shm"};
	if (spif_home_resolve(c->home_opt, &c->conf, c->home, sizeof c->home, &e) < 0)
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
	if (access(p, F_OK) != 0)
		return NULL;
	return cli_catalog(c, 0);
}

int cli_open_input(const struct cli *c, const char *path)
{
	if (strcmp(path, "-") == 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cli_fail(c, errno == EACCES ? SPIF_EX_NOPERM : SPIF_EX_NOINPUT, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		cli_fail(c, SPIF_EX_NOINPUT, "%s: is a directory", path);
	return fd;
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
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return -1;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return -1;
	return 0;
}
