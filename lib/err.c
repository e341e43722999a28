/* err.c - see err.h */
#include "err.h"
#include "i18n.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Both messages from one format and its arguments: msg translated, en as
 * written; errnum (or 0) appended as ": description", each in its own
 * language. */
static void set_both(struct spif_err *err, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void set_both(struct spif_err *err, int errnum, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(err->msg, sizeof err->msg, _(fmt), ap);
	int m = vsnprintf(err->en, sizeof err->en, fmt, again);
	va_end(again);
	if (!errnum)
		return;
	const char *en = strerrordesc_np(errnum);
	if (n >= 0 && (size_t)n < sizeof err->msg)
		snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
	if (m >= 0 && (size_t)m < sizeof err->en)
		snprintf(err->en + m, sizeof err->en - (size_t)m, ": %s", en ? en : strerror(errnum));
}

int spif_err_set(struct spif_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		set_both(err, 0, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return -1;
}

int spif_err_sys(struct spif_err *err, int code, int errnum, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		set_both(err, errnum, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return -1;
}

/* "pre: " in front of the message in m (size 1024). */
static void prefix(char m[1024], const char *pre)
{
	char old[1024];
	memcpy(old, m, sizeof old);
	/* truncation is fine: the message stays one line */
	size_t n = strlen(pre);
	if (n > sizeof old - 3)
		n = sizeof old - 3;
	memcpy(m, pre, n);
	memcpy(m + n, ": ", 2);
	size_t room = sizeof old - n - 3, ol = strnlen(old, sizeof old - 1);
	if (ol > room)
		ol = room;
	memcpy(m + n + 2, old, ol);
	m[n + 2 + ol] = '\0';
}

static void prefixv(struct spif_err *err, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void prefixv(struct spif_err *err, const char *fmt, va_list ap)
{
	char pre[512], pre_en[512];
	va_list again;
	va_copy(again, ap);
	vsnprintf(pre, sizeof pre, _(fmt), ap);
	vsnprintf(pre_en, sizeof pre_en, fmt, again);
	va_end(again);
	prefix(err->msg, pre);
	prefix(err->en, pre_en);
}

void spif_err_prefix(struct spif_err *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	prefixv(err, fmt, ap);
	va_end(ap);
}

int spif_err_wrap(struct spif_err *err, int code, const struct spif_err *inner, const char *fmt, ...)
{
	if (!err)
		return -1;
	if (inner != err)
		*err = *inner;
	va_list ap;
	va_start(ap, fmt);
	prefixv(err, fmt, ap);
	va_end(ap);
	err->code = code;
	return -1;
}

int spif_err_setv(struct spif_err *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		set_both(err, 0, fmt, ap);
		err->code = code;
	}
	return -1;
}

int spif_exit_for_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return SPIF_EX_NOINPUT;
	case EACCES:
	case EPERM:
	case EROFS:
		return SPIF_EX_NOPERM;
	case EWOULDBLOCK:
		return SPIF_EX_TEMPFAIL;
	default:
		return SPIF_EX_IOERR;
	}
}
