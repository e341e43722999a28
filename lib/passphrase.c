/* passphrase.c - see passphrase.h */
#include "passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "home.h"

int spif_passphrase_read(const char *path, char **out, struct spif_err *err)
{
	*out = NULL;
	int g = spif_as_caller(); /* the caller's file, opened as the caller (home.h) */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	spif_as_service(g);
	if (fd < 0)
		return spif_err_set(err, errno == EACCES ? SPIF_EX_NOPERM : SPIF_EX_NOINPUT, "%s: %s", path,
		                    strerror(errno));
	/* enough to tell a line over the limit from one at it */
	char buf[SPIF_PASSPHRASE_MAX + 76];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			explicit_bzero(buf, sizeof buf);
			return spif_err_set(err, SPIF_EX_IOERR, "%s: %s", path, strerror(e));
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	size_t len = strcspn(buf, "\n");
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len == 0 || len > SPIF_PASSPHRASE_MAX) {
		explicit_bzero(buf, sizeof buf);
		return spif_err_set(err, SPIF_EX_DATAERR, len ? "%s: the passphrase is longer than 1024 bytes"
		                    : "%s: the first line (the passphrase) is empty", path);
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	if (!*out)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return 0;
}
