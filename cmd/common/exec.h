/* exec.h - where the spif-CMD programs are, for every program that runs
 * one: the front (spif CMD) and a purge's children (spif shred, spif
 * redact --file).  One rule in one place, so that what `spif shred` runs
 * and what a purge runs as its shred are always the same program:
 *   1. $SPIF_EXEC_PATH/spif-CMD, when SPIF_EXEC_PATH is set (a test's
 *      stub, a packager's layout), except in a setgid program (a system
 *      install, AT_SECURE), whose caller chooses nothing it runs;
 *   2. spif-CMD beside the running program (a build tree, or libexec when
 *      the running program is itself a command);
 *   3. ../libexec/spif/spif-CMD from the running program's directory
 *      (an installed front, PREFIX/bin/spif, finds PREFIX/libexec/spif
 *      even when installed under a PREFIX other than the one it was
 *      built with, or moved with its tree);
 *   4. SPIF_LIBEXECDIR/spif-CMD (the PREFIX of the build).
 * Only the first executable one counts: a command is never looked up in
 * $PATH, which an operator's shell may point anywhere.  Needs nothing but
 * libc, so the front links it without the rest of cmd/common. */
#ifndef SPIF_EXEC_H
#define SPIF_EXEC_H

#include <stddef.h>

/* The path of spif-cmd into out (n bytes).  0 when it is executable; -1
 * when none is, with out holding the last place tried and errno why. */
int cli_command_path(const char *cmd, char *out, size_t n);

/* The directory of the running program into out: 0, or -1. */
int cli_self_dir(char *out, size_t n);

#endif
