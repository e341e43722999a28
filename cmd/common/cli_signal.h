/* cli_signal.h - the one signal setup of a command: SIGINT, SIGTERM and
 * SIGHUP, in one of two ways.
 *
 * A run that must never stop half-way (shred, a purge) passes a flag:
 * the signal only sets it, and the command stops at its next safe point
 * (between copies, between batches), leaving the catalog consistent.
 *
 * A run that may simply end (encrypt) passes NULL: the signal removes
 * the temporary file the command registered, if any, and then ends the
 * process the way the signal would have (default action, raised again),
 * so that an interrupted decryption never leaves plaintext behind under a
 * hidden name.  The name is registered and cleared with every signal
 * blocked, so the handler never sees half a name. */
#ifndef SPIF_CLI_SIGNAL_H
#define SPIF_CLI_SIGNAL_H

#include <signal.h>

/* Install the handler for SIGINT, SIGTERM and SIGHUP (see above). */
void cli_signals(volatile sig_atomic_t *stop);

/* The temporary file a signal must remove (NULL or "": none any more,
 * it is gone or in place). */
void cli_signal_temp(const char *path);

#endif
