/* ledger.h - the paper records an office files and stamps: the disposal
 * ledger (廃棄簿), the ledger of checkouts (持出し簿) and the register of
 * specific personal information files (特定個人情報ファイル簿), as rows.
 *
 * The rows come from the queries that already own each subject (the
 * certificates of spif_retention_report's fiscal year and spif_cert_load,
 * spif_export_list, spif_catalog_list_files): no SQL here, so a ledger
 * never says what the catalog's own listings do not.  Dates are legal
 * dates (calendar.h, spif.conf's zone); a fiscal year's bounds are local
 * midnights, as in spif retain report.  The same rows become text
 * (spif_ledger_text) or a PDF (ledger_pdf.h): the two cannot disagree.
 * No cell ever holds an Individual Number: what came from outside
 * (labels, purposes, reasons, names) goes through spif_mask_numbers.
 *
 * The footer names the catalog and the SHA-256 fingerprint of its
 * checkpoint key (what `spif catalog key export --fingerprint` prints),
 * with the size and root of the last signed checkpoint: a filed page can
 * be tied to the log it was printed from.  Nothing here writes the
 * catalog: a catalog with no key yet says so instead of making one. */
#ifndef SPIF_LEDGER_H
#define SPIF_LEDGER_H

#include <stddef.h>

#include "catalog.h"

enum spif_ledger_kind { SPIF_LEDGER_DISPOSAL, SPIF_LEDGER_CHECKOUT, SPIF_LEDGER_FILES };

/* "disposal", "checkout", "files" -> the kind; -1 for anything else. */
int spif_ledger_parse(const char *name);

/* A table for people: a title, headings, rows of cells (strings, "-" for
 * none), a footer; what ledger_pdf.h lays out on A4 and spif_ledger_text
 * as lines.  Every string is owned by the table. */
struct spif_table {
	char *title;            /* "廃棄簿 / Disposal ledger" */
	char *subtitle;         /* the period and the as-of date */
	size_t ncols;
	char **heads;           /* ncols: "証明書番号\nCertificate" */
	double *widths;         /* ncols: relative column widths */
	size_t nrows;
	char **cells;           /* nrows * ncols, row-major */
	char *body;             /* instead of columns: preformatted lines (a
	                         * certificate's rendering), set in a fixed font */
	char *footer;           /* catalog id, checkpoint key fingerprint, checkpoint */
	char fingerprint[65];   /* the checkpoint key's SHA-256, "" when none */
	int landscape;
};
void spif_table_free(struct spif_table *t);

/* The ledger of kind for the fiscal year (1 April of fiscal_year to 31
 * March after, local dates) as of the day today.  The file register lists
 * the files registered by the end of the year, in their state now.  0, or
 * -1 with err. */
int spif_ledger_build(struct spif_catalog *c, enum spif_ledger_kind kind, int fiscal_year, long today,
                      struct spif_table *t, struct spif_err *err);

/* The catalog's footer line and key fingerprint into t (a certificate's
 * page carries the same as a ledger's). */
int spif_ledger_footer(struct spif_catalog *c, struct spif_table *t, struct spif_err *err);

/* The table as text (UTF-8, columns padded by display width) to fd. */
int spif_ledger_text(const struct spif_table *t, int fd, struct spif_err *err);

#endif
