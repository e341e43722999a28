/* export_priv.h - what export.c (the ledger) and export_run.c (the run)
 * share inside libspif. */
#ifndef SPIF_EXPORT_PRIV_H
#define SPIF_EXPORT_PRIV_H

#include "export.h"

/* The next ledger number of the year of now (a UTC catalog time, counted
 * in JST like certificates): id "EX-YYYY-NNNNNN".  Call under the export
 * lock, so that no other run takes it before the commit. */
int spif_export_next_id(struct spif_catalog *c, const char *now, char id[32], int *year, long long *n,
                        struct spif_err *err);

/* The lock one export run holds from choosing its number to its commit
 * ($SPIF_HOME/export.lock, flock; released when the process ends):
 * SPIF_EX_TEMPFAIL when another run holds it.  *fd gets the descriptor. */
int spif_export_lock(const char *home, const struct spif_conf *conf, int *fd, struct spif_err *err);

/* What the run hands the ledger, inside its transaction. */
struct spif_export_new {
	const char *id;
	int year;
	long long n;
	json_t *row;              /* the ledger row as in spif/checkout.json (borrowed) */
	const char *path;         /* the output, absolute */
	const char *archive_sha256;
	long long archive_size;
	const char *checkout_sha256, *tagmanifest_sha256;
	const long long *file_ids;
	const long long *copy_ids; /* the export copy registered for each file */
	size_t nfiles;
};
/* Insert the row and its files, with the "export" event.  In a transaction. */
int spif_export_insert(struct spif_catalog *c, const struct spif_export_new *x, struct spif_err *err);

/* Where file f's records are read from, as export chooses (export_run.c):
 * its live vault copy (*vault 1, NDJSON), else a present unencrypted copy
 * recorded with the file's content hash (its format and encoding; the
 * reader must hash it again against f->sha256, since it may have changed
 * since).  *path is malloc'd, NULL when there is nothing to read. */
int spif_export_source(struct spif_catalog *c, const struct spif_file *f, char **path, int *vault,
                       enum spif_format *fmt, enum spif_enc *enc, struct spif_err *err);

/* The records of f as held, byte for byte, from the copy
 * spif_export_source chose (path, vault): a vault copy's NDJSON
 * plaintext, or the copy itself hashed against f->sha256 as it goes
 * (SPIF_EX_DATAERR when it changed).  Through sink; out names what a
 * failing sink writes.  held_size: the bytes it will give, -1 unknown. */
long long spif_export_held_size(const struct spif_file *f, const char *path, int vault);
int spif_export_emit_held(struct spif_catalog *c, const struct spif_file *f, const char *path, int vault,
                          const char *out, spif_sink_fn sink, void *ctx, struct spif_err *err);

#endif
