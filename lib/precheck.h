/* precheck.h - can this account destroy every copy, before the first is
 * touched?
 *
 * A disposal is a run over copies; a failure in the middle leaves a file
 * half-destroyed: a purge run by the cron account once crypto-erased a
 * vault copy, issued its certificate, then could not unlink the source
 * copy (its directory belonged to an operator).  Every precondition that
 * can be known in advance is checked here for EVERY target first, and
 * --dry-run runs the same checks, so "would dispose" is not a guess:
 *  - overwrite: write permission on the file (to overwrite it in place),
 *    write and search permission on its directory (to rename and unlink
 *    it), not a sticky directory that keeps another user's file, not a
 *    read-only file system;
 *  - crypto-erase: the vault directory (to delete the ciphertext) and the
 *    key directory (the KEK file is overwritten and re-wrapped) writable.
 * Permission is asked with faccessat(AT_EACCESS), as the effective ids a
 * setgid install runs under.  The medium (spif_wipe_probe) and the locks
 * are checked where they were before; this adds what the account may do. */
#ifndef SPIF_PRECHECK_H
#define SPIF_PRECHECK_H

#include <stddef.h>

#include "dispose.h"

/* Check every target of v (crypto or overwrite, as already classified;
 * absent ones are skipped: nothing is left to touch).  A target this
 * account cannot destroy gets the reason in its refusal (unless it already
 * has one).  Returns the index of the first refused target, or -1.
 * *late (may be NULL) is set when a refusal is of the kind that would
 * strike only after something was destroyed (the file overwritten, then
 * not renamed or unlinked; a key erased, then its ciphertext left): such a
 * refusal stops even a run of one copy.  The others (the file itself
 * cannot be opened for writing) stop a run of one copy by themselves,
 * before anything is touched, but must stop a run of many up front. */
long spif_precheck(struct spif_dispose_copy *v, size_t n, const char *home, int *late);

/* The reason one path could not be overwritten, renamed and unlinked by
 * this account, into why (n bytes): 0 when it can; 1 when it cannot even
 * be opened for writing; 2 when it could be overwritten but not renamed
 * or unlinked (the worst case: destroyed, and yet still there). */
int spif_precheck_path(const char *path, char *why, size_t n);

#endif
