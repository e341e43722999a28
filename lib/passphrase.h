/* passphrase.h - a passphrase given in a file (spif encrypt
 * --passphrase-file): the file's first line, never an argument (argv is
 * visible to every user of the machine, and is recorded in the audit log).
 *
 * The file is outside input: the line ends at LF (a CR before it is
 * dropped, as a Windows editor writes it), an empty first line is refused
 * rather than taken for a passphrase, and so is one longer than
 * SPIF_PASSPHRASE_MAX bytes.  What was read is wiped from the stack. */
#ifndef SPIF_PASSPHRASE_H
#define SPIF_PASSPHRASE_H

#include "err.h"

#define SPIF_PASSPHRASE_MAX 1024

/* *out (malloc'd; the caller wipes and frees it).  Errors: SPIF_EX_NOPERM
 * or SPIF_EX_NOINPUT "PATH: why" when it cannot be opened, SPIF_EX_IOERR on
 * a read error, SPIF_EX_DATAERR "PATH: the first line (the passphrase) is
 * empty" / "PATH: the passphrase is longer than 1024 bytes". */
int spif_passphrase_read(const char *path, char **out, struct spif_err *err);

#endif
