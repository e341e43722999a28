/* ingest.h - registering a file spif ingest has read, and releasing its
 * records.
 *
 * spif ingest reads the whole source first (cmd/ingest.c: decode, check,
 * count, hash, spool).  Only then does spif_ingest_register give the
 * catalog the file (or, with copy_of, another copy of one it has), its
 * copies (the source, the vault with --store, -o FILE), its retention and
 * the event, in one transaction; -o is written and linked inside it.  A
 * failure rolls it all back: no row, no event, nothing at -o.  Only after
 * the commit does spif_ingest_emit release the records to standard
 * output.  The records were spooled before the file had an id: on the way
 * out each NDJSON line "{..." becomes "{"@file":"F000001",...". */
#ifndef SPIF_INGEST_H
#define SPIF_INGEST_H

#include <stddef.h>

#include "atomic.h"
#include "catalog.h"
#include "digest.h"
#include "err.h"
#include "home.h"
#include "record.h"
#include "spool.h"

/* The @file prefixer between the spool and a sink (private; here for its
 * size only). */
struct spif_ingest_inject {
	spif_sink_fn fn;
	void *ctx;
	char prefix[48];
	size_t plen;
	int at_line_start;
	struct spif_sha256 *hash; /* of what is written, for -o */
	long long size;
};

struct spif_ingest {
	/* the run */
	const char *name;             /* the input as messages show it */
	const char *input;            /* its path, or "-" (no source copy) */
	const char *out;              /* -o FILE, or NULL */
	struct spif_atomic *out_file; /* -o, opened before the read; NULL for stdout */
	const char *received;         /* YYYY-MM-DD, or NULL for today */
	const char *schedule;         /* assigned in the same transaction, or NULL */
	enum spif_format fmt, to;
	char *label, *purpose, *source; /* the caller's, numbers already masked */
	long long copy_of;            /* another copy of this file (its content must match) */
	char same_as[24];             /* --again: the active file with the same content */
	char *reason;                 /* --again's reason, numbers masked */
	const struct spif_conf *conf;
	struct spif_spool *spool;     /* the records to release, or NULL */
	struct spif_spool *vspool;    /* --store: NDJSON records for the vault, or NULL */
	/* what the read found */
	char **numfields;
	size_t nnum;
	long long records, persons, invalid, bytes;
	enum spif_enc enc;
	const char *sha256;
	/* set by spif_ingest_register */
	char fid[24];
	char bucket[16];              /* the vault KEK: the disposal month, or "indefinite" */
	struct spif_ingest_inject in;
};

/* Register g in cat (see above).  0, or -1 with err and nothing
 * registered, nothing left at -o (g->out_file aborted). */
int spif_ingest_register(struct spif_catalog *cat, struct spif_ingest *g, struct spif_err *err);

/* After spif_ingest_register: g->spool's records to fd, each NDJSON one
 * with its @file.  A failed write is an error prefixed with name. */
int spif_ingest_emit(struct spif_ingest *g, int fd, const char *name, struct spif_err *err);

/* The prefixer as a spif_sink_fn (ctx is a struct spif_ingest_inject),
 * for tests. */
int spif_ingest_inject_sink(void *ctx, const void *data, size_t n);

#endif
