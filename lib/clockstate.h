/* clockstate.h - whether the host's clock is synchronised, as far as the
 * host can tell, for a forensic bundle's data/host.json (forensic.h).
 *
 * Each source that is present is asked and what it said is recorded, not
 * only a verdict: timedatectl (show -p NTPSynchronized --value), chronyc
 * (-n tracking: its "Leap status"), ntpq (-c rv: leap_none / leap_alarm),
 * and the kernel's own view (adjtimex: STA_UNSYNC).  A responder reading
 * the bundle later sees which tool said what; "unknown" when none could
 * say.
 *
 * Invariants, and why:
 * - A tool is run only from an absolute path under /usr/bin, /usr/sbin or
 *   /bin, never found through $PATH, with a clean environment (PATH, LANG
 *   and LC_ALL fixed), standard input /dev/null, its effective ids reset
 *   to the real ones (POSIX_SPAWN_RESETIDS: a setgid spif lends its group
 *   to no child), at most SPIF_CLOCK_OUTPUT bytes of its output read and
 *   at most SPIF_CLOCK_TIMEOUT_MS waited for (then it is killed): a hung
 *   or chatty tool cannot stop or flood the bundle.
 * - Nothing is printed (lib/): a tool's stderr goes into its detail, cut
 *   to one line, digit runs masked (the bundle is checked for numbers on
 *   the way out, and a tool's output is outside input).
 * - The test seam SPIF_CLOCK_TOOLS (none: no source at all; DIR: the tools
 *   only from DIR, and no adjtimex) is honoured only outside secure
 *   execution (home.h, spif_secure): a setgid run never takes a program
 *   path from the environment. */
#ifndef SPIF_CLOCKSTATE_H
#define SPIF_CLOCKSTATE_H

#include <jansson.h>

#define SPIF_CLOCK_TIMEOUT_MS 2000
#define SPIF_CLOCK_OUTPUT 4096

/* What every source present said: a JSON array of
 * {"source":NAME,"synchronized":true|false|null,"detail":TEXT} (null: it
 * was there and could not say), and in *state "synchronised" (every
 * source that could say says so), "unsynchronised" (one says not) or
 * "unknown" (none could say).  NULL only when out of memory. */
json_t *spif_clock_sources(const char **state);

#endif
