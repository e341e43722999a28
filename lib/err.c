/* err.c - see err.h */
#include "err.h"
#include "i18n.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int spif_err_set(struct spif_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, _(fmt), ap);
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
		int n = vsnprintf(err->msg, sizeof err->msg, _(fmt), ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof err->msg)
			snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
		err->code = code;
	}
	return -1;
}

void spif_err_prefix(struct spif_err *err, const char *fmt, ...)
{
	if (!err)
		return;
	char pre[512], old[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, _(fmt), ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* truncation is fine: the message stays one line */
	size_t n = strlen(pre);
	if (n > sizeof err->msg - 3)
		n = sizeof err->msg - 3;
	memcpy(err->msg, pre, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof err->msg - n - 3, ol = strlen(old);
	if (ol > room)
		ol = room;
	memcpy(err->msg + n + 2, old, ol);
	err->msg[n + 2 + ol] = '\0';
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
