/* ledger_pdf.h - a table (ledger.h) as an A4 PDF an office prints, stamps
 * and files: Japanese text set by Pango in IPAex Gothic (a certificate's
 * preformatted lines in IPA Gothic, whose fixed half- and full-width
 * advances keep the columns spif_text_columns counted), the headings on
 * every page, 押印欄 (stamp boxes for 実施者, 確認者, 管理者) on every
 * page, "n / m" and the footer (catalog, checkpoint key fingerprint, last
 * checkpoint) at the foot of each.
 *
 * It lays out and writes, nothing else: the rows come made (ledger.h), so
 * no SQL and no catalog here, and the PDF and the text cannot say
 * different things.  It writes to an fd (the caller's atomic output or
 * stdout) through cairo's stream surface; a write error stops it with
 * SPIF_EX_IOERR.  Pages are counted in a first pass that only measures,
 * so that page 1 can already say "1 / m".
 *
 * Pango's font map is released before returning; fontconfig's and
 * cairo's caches stay, reachable from their globals (releasing them while
 * a failed surface still holds a font aborts inside cairo). */
#ifndef SPIF_LEDGER_PDF_H
#define SPIF_LEDGER_PDF_H

#include "err.h"
#include "ledger.h"

/* The table as PDF to fd.  0, or -1 with err. */
int spif_table_pdf(const struct spif_table *t, int fd, struct spif_err *err);

#endif
