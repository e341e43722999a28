/* err.h - errors as values, and the exit codes every command shares.
 *
 * lib/ never prints and never exits: a function that fails fills a
 * struct spif_err and returns -1 (or NULL).  The command decides what to
 * print (one line, "spif-CMD: message") and which code to exit with. */
#ifndef SPIF_ERR_H
#define SPIF_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* sysexits(3) values, named here so that every command agrees. */
enum spif_exit {
	SPIF_OK = 0,
	SPIF_FOUND = 1,       /* ran, but found or left something */
	SPIF_EX_USAGE = 64,
	SPIF_EX_DATAERR = 65, /* bad input data */
	SPIF_EX_NOINPUT = 66,
	SPIF_EX_UNAVAILABLE = 69,
	SPIF_EX_SOFTWARE = 70,
	SPIF_EX_CANTCREAT = 73,
	SPIF_EX_IOERR = 74,
	SPIF_EX_TEMPFAIL = 75, /* locked: try again */
	SPIF_EX_NOPERM = 77,
};

struct spif_err {
	int code;       /* one of enum spif_exit; 0 when no error */
	char msg[1024]; /* one line, never a full Individual Number */
	/* The same in English: the format as written, errno's English
	 * description.  What the catalog keeps (a purge item's reason, an
	 * event) and --json prints, whoever ran the command; msg is what a
	 * person reads.  A word lib/ translated before passing it in through
	 * %s stays translated here (lib/ passes English words, see i18n.h). */
	char en[1024];
};

/* Set err (when not NULL) and return -1, so that callers can write
 * "return spif_err_set(err, SPIF_EX_DATAERR, "...", ...);".  The format
 * of all three is looked up in the "spif" text domain (i18n.h) for msg,
 * and used as it is for en: it must be a literal, for `make pot` to find
 * it. */
int spif_err_set(struct spif_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like spif_err_set, with ": strerror(errnum)" appended. */
int spif_err_sys(struct spif_err *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Put "prefix: " in front of an error already set (for file names). */
void spif_err_prefix(struct spif_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* err becomes "fmt...: " followed by inner's message, each in its own
 * language, with code: a failure explained by the one beneath it
 * (inner may be err itself). */
int spif_err_wrap(struct spif_err *err, int code, const struct spif_err *inner, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* spif_err_set with its arguments as a va_list, for a module's own
 * wrapper (which must be an xgettext keyword in the Makefile). */
int spif_err_setv(struct spif_err *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* The exit code for an errno from an I/O call. */
int spif_exit_for_errno(int errnum);

#endif
