/* cli.h - what every command program shares: its name, one-line errors
 * with the documented exit codes, the catalog chosen by --home, SPIF_HOME
 * or spif.conf, and the one question every command asks before it acts:
 * may the real uid do this (cli_permit, lib/operator.h).  Only cmd/ prints
 * and exits; lib/ returns errors.
 *
 * A system install's commands are setgid (home.h: the trust boundary);
 * cli_init then runs them the way a setgid program must run: standard
 * descriptors open, a clean environment (fixed PATH, the caller's own
 * HOME and GnuPG home, no SPIF_HOME, SPIF_CONF, SPIF_EXEC_PATH or
 * TMPDIR), no core dumps, file size limits raised to what is allowed, and
 * every child (gpg, gpg-agent, what gpg.conf names) without the group. */
#ifndef SPIF_CLI_H
#define SPIF_CLI_H

#include <limits.h>

#include "audit.h"
#include "catalog.h"
#include "err.h"
#include "home.h"
#include "intl.h"
#include "operator.h"

struct cli {
	const char *prog;      /* "spif-ingest" */
	const char *home_opt;  /* --home, or NULL */
	struct spif_conf conf;
	struct spif_actor actor;
	char home[PATH_MAX];
	struct spif_permit permit; /* what cli_permit learnt */
	char org_key[256];         /* spif.conf sign_key, before an operator's own replaced it */
	int home_ignored;          /* secure mode: $SPIF_HOME was set (and ignored) */
	int home_noted;            /* ... and that was said */
	int no_sweep;              /* cli_catalog leaves killed runs' outputs to the caller */
};

/* Set up a command: no core dumps, private umask, locale, libgcrypt,
 * spif.conf, the actor for the audit log.  Dies on a broken spif.conf. */
void cli_init(struct cli *c, const char *prog, int argc, char **argv);
void cli_done(struct cli *c);

/* Print "prog: message" on stderr and exit with the error's code.  The
 * format of cli_fail, cli_usage and cli_note is translated here (i18n.h),
 * so it must be a literal at the call; e->msg was translated when set. */
_Noreturn void cli_die(const struct cli *c, const struct spif_err *e);
_Noreturn void cli_fail(const struct cli *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A usage error: one line, exit 64. */
_Noreturn void cli_usage(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A note on stderr ("prog: message"), no exit. */
void cli_note(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One note said in parts, for a summary whose clauses depend on the run:
 * "prog: " and the first part, then more parts, then the newline.  Each
 * part's format is a literal of its own (to be translated), never a
 * string built beforehand. */
void cli_note_begin(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_note_more(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_note_end(const struct cli *c);
/* A progress line ("\rprog: message", no newline: the next one writes
 * over it; cli_note_end ends it).  cli_progress_line writes a line
 * lib/progress.h made (it starts with '\r'; nothing in it to translate). */
void cli_progress(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_progress_line(const struct cli *c, const char *line);

/* Open the catalog (SPIF_CAT_CREATE or 0); dies on failure.  Opened to
 * be written, it first destroys the hidden outputs this user's killed
 * runs left (lib/tempfile.h), each said in a note, unless no_sweep. */
struct spif_catalog *cli_catalog(struct cli *c, int flags);

/* Resolve the home and refuse it (exit 77) if others could write it or the
 * catalog in it, without creating anything. */
void cli_check_home(struct cli *c);

/* The catalog if there is one (after cli_check_home), else NULL: for
 * commands that must not create one just to refuse their input. */
struct spif_catalog *cli_catalog_if_exists(struct cli *c);

/* May the real uid do rq->act (on rq->purpose / rq->file_id / rq->object,
 * with rq->reason)?  Asked once per action, before anything is done:
 * resolves the home and asks lib/operator.h with the catalog, if there is
 * one.  On a refusal (recorded in the catalog) dies with exit 77 and one
 * line.  When allowed: an operator with their own OpenPGP key signs with
 * it (conf.sign_key), and root acting through sudo (an operator flag) is
 * recorded as "root (sudo from X, unverified)". */
void cli_permit(struct cli *c, struct spif_request rq);
/* The same with the catalog the command has open already (NULL: there is
 * none yet), for a command that asks once per file. */
void cli_permit_in(struct cli *c, struct spif_catalog *cat, struct spif_request rq);
/* The same for a command with subcommands (spif-catalog, spif-retain,
 * spif-operator): the action is found from sub, sub2 (cert's and
 * schedule's) and arg (the certificate of cert confirm).  Nothing is
 * asked for an unknown subcommand: the command says it is unknown. */
void cli_permit_sub(struct cli *c, const char *sub, const char *sub2, const char *arg);

/* Open an input file ("-" is stdin, fd 0): missing or a directory is 66,
 * unreadable 77; dies with one line.  Opened as the caller (home.h). */
int cli_open_input(const struct cli *c, const char *path);

/* --help: the command's usage text (marked N_()), in the locale's words. */
void cli_help(const char *text);

/* A table's heading line on stdout: names[i] (marked N_()) translated and
 * padded by display columns (text.h) to widths[i]: negative left-aligned
 * like %-Ns, positive right-aligned like %Ns; the last one unpadded.  The
 * rows stay in printf widths, so a heading's translation must fit. */
void cli_heading(const char *const *names, const int *widths, size_t n);

/* getopt_long's complaint is replaced by ours: call for '?' and ':'. */
_Noreturn void cli_bad_option(const struct cli *c, int argc, char **argv);

/* How long a disposer waits for purge.lock (spif_home_lock): opt is
 * --wait SECONDS (0 to 86400) or NULL for the default: 300 s when stderr
 * is a terminal, which is told once that it waits and for whom, and 600 s
 * otherwise, silently (a cron purge has nobody to retry it, and must not
 * fail because an operator's shred holds the lock for a second).  stop is
 * the command's signal flag. */
void cli_lock_wait(struct cli *c, const char *opt, volatile sig_atomic_t *stop, struct spif_lock_wait *w);

/* Parse a strictly formatted YYYY-MM-DD that is a real calendar date. */
int cli_parse_date(const char *s);

#endif
