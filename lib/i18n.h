/* i18n.h - the one text domain, "spif", and its two markers.
 *
 * Messages are written in English in the source and looked up in the
 * domain at the few places they are produced: the error constructors
 * (err.c), cmd/common/cli.c's diagnostics and --help, and the report
 * headings; and a word a translated format takes through %s is looked up
 * too, where lib/ makes it, or (when JSON or a certificate keeps the same
 * word in English) marked N_() there and looked up where it is printed.
 * lib/ only translates, it never sets the locale: the command does that
 * once at start (cmd/common/intl.c).  With no catalog for the
 * locale (LANG=C, or no ja .mo installed) dgettext returns its argument,
 * so English is the default and needs nothing installed.  `make pot`
 * extracts _(), N_() and the format of every cli_* and spif_err_* call. */
#ifndef SPIF_I18N_H
#define SPIF_I18N_H

#include <libintl.h>

#define SPIF_TEXTDOMAIN "spif"
#define _(s) dgettext(SPIF_TEXTDOMAIN, s)
#define N_(s) s /* marked for extraction, translated where it is printed */

#endif
