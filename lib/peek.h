/* peek.h - look at the first bytes of an input without taking them.
 *
 * spif encrypt hands its input descriptor whole to gpg (which reads it
 * itself, for speed), yet must know first what the input is: records of a
 * catalogued file, an OpenPGP message, a column-encrypted stream.  Reading
 * would take the bytes from gpg, so they are looked at instead: a regular
 * file with pread at the current offset, a pipe with tee(2), which copies
 * what the pipe holds without consuming it, a socket with MSG_PEEK. */
#ifndef SPIF_PEEK_H
#define SPIF_PEEK_H

#include <stddef.h>

#include "err.h"

/* Up to n bytes from fd's current position into buf, *got of them (fewer
 * only at the end of the input, or when a pipe's writer stalls with its
 * pipe full).  The input is left as it was.  0, or -1 with err set when fd
 * is a kind of file that cannot be peeked at (a terminal) or cannot be
 * read. */
int spif_fd_peek(int fd, void *buf, size_t n, size_t *got, struct spif_err *err);

#endif
