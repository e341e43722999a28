/* intl.h - the locale and the "spif" text domain, set once at
 * the start of every program (cli_init, and the front spif.c).
 *
 * The messages' directory is found from the running program, the way its
 * commands are (exec.h), so that a build tree and an install under any
 * PREFIX each read their own spif.mo and never another spif's:
 *   1. ../locale beside the program's directory (build/asan/bin: the
 *      sanitised build's build/asan/locale);
 *   2. ../BUILDDIR/locale (bin/ of a build tree: build/locale);
 *   3. ../share/locale (PREFIX/bin/spif);
 *   4. ../../share/locale (PREFIX/libexec/spif/spif-CMD);
 *   5. SPIF_LOCALEDIR, PREFIX/share/locale as built.
 * The first that is a directory counts.  Nothing comes from the
 * environment but the locale itself (LANG, LC_*, LANGUAGE), which a setgid
 * spif keeps (cli.c): a caller cannot point it at other messages.  Needs
 * only libc, so the front links it with exec.c alone. */
#ifndef SPIF_CMD_I18N_H
#define SPIF_CMD_I18N_H

#include "i18n.h" /* lib/: the domain and its markers */

void cli_i18n_init(void);

#endif
