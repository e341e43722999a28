/* redact.h - the redaction engine: find every Individual Number and remove
 * it from records, free text, or a file's vault copy.
 *
 * Every string field is scanned, and so is every field name (a CSV or TSV
 * header cell, an NDJSON key).  Number fields (the catalog's for the
 * records' @file, those named by the caller, and those whose names say so,
 * see spif_is_number_field_name) lose every digit whatever the checksum
 * says: a mistyped number is still someone's number.  Elsewhere a
 * checksum-valid number in any form people type is removed, with high
 * confidence near a keyword and low without; below the caller's minimum it
 * is left and counted as left.  A number in a field name is always counted
 * and removed (masked: a name must stay a name, whatever the operator),
 * whatever the minimum: a name is never a way past the gate.
 *
 * Fail closed: a field the caller names that the input lacks is an error,
 * never a silent no-op; a pseudonym needs its key (no key, no output); a
 * value that cannot have a pseudonym (a mistyped number) is masked instead.
 * In check mode nothing is changed and everything is counted.
 *
 * Nothing here ever keeps, prints or returns a number: findings are
 * reported by row, field (its name with any number in it masked), offset,
 * form and confidence, and one in a name with "in":"name".  lib/ never
 * prints: the report goes to a stream the caller opened, errors come back
 * as values. */
#ifndef SPIF_REDACT_H
#define SPIF_REDACT_H

#include <stdio.h>

#include "catalog.h"
#include "err.h"
#include "home.h"
#include "pseudonym.h"
#include "record.h"

/* What becomes of a number. */
enum spif_redact_op {
	SPIF_OP_MASK = 0,  /* digits become '*' ('＊' full-width), separators kept */
	SPIF_OP_EMPTY,     /* the field becomes empty */
	SPIF_OP_DROP,      /* number fields (and fields named =drop) are dropped as
	                      columns; elsewhere findings are masked */
	SPIF_OP_PSEUDONYM, /* PSN:... (pseudonym.h); a mistyped number is masked */
};
/* "mask", "empty", "drop", "pseudonym" <-> the op; parse gives -1 if unknown. */
int spif_redact_op_parse(const char *s);
const char *spif_redact_op_name(enum spif_redact_op op);

/* --field NAME[=OP]: an operator for one field. */
struct spif_redact_field {
	const char *name;
	enum spif_redact_op op;
	int has_op;
};

/* Does op, or any of the n fields' own, make pseudonyms (and so need a key)? */
int spif_redact_uses_psn(enum spif_redact_op op, const struct spif_redact_field *fields, size_t n);

/* What an input is by its name: 1 for free text (.txt .log .eml), else 0
 * and *fmt: TSV (.tsv .tab), NDJSON (.ndjson .jsonl, and "-": in a pipe,
 * the records of another spif command), CSV otherwise. */
int spif_redact_guess_format(const char *input, enum spif_format *fmt);

struct spif_redact_opts {
	enum spif_redact_op op;                 /* for every field not named with its own */
	const struct spif_redact_field *fields; /* borrowed for the redactor's life */
	size_t nfields;
	const char *const *numfields;           /* more number fields, by name (borrowed) */
	size_t nnumfields;
	int high_only;                          /* leave low-confidence numbers (but in number fields, names) */
	int corporate;                          /* also 13-digit 法人番号 */
	int check;                              /* change nothing, count everything */
	enum spif_format fmt;                   /* of the records: NDJSON carries @file and @row */
	const char *input;                      /* the input's name, for messages */
	struct spif_psn *psn;                   /* the pseudonym key (borrowed); needed for pseudonym */
	FILE *report;                           /* NULL, or one NDJSON line per finding */
	/* The catalog, for the number fields of the records' @file and for
	 * spif_redact_register_output: catalog (borrowed) when given, else
	 * opened when first needed if home holds one (home NULL: none). */
	struct spif_catalog *catalog;
	const char *home;
	const struct spif_conf *conf;
	const struct spif_actor *actor;
};

/* What was found and done. */
struct spif_redact_counts {
	long long records;   /* records (text: windows) */
	long long high, low; /* numbers removed (check: found), by confidence */
	long long left;      /* low-confidence numbers left (high_only) */
	long long in_fields, elsewhere; /* removed in number fields / elsewhere */
};

/* The engine, opaque: the options, the per-field plans (what each field
 * gets, made once per column and kept while the keys stay), the counts,
 * the field value being rebuilt, and the catalog when one was needed. */
struct spif_redactor;

/* SPIF_EX_USAGE when an operator makes pseudonyms and there is no key. */
int spif_redactor_new(const struct spif_redact_opts *o, struct spif_redactor **out, struct spif_err *err);
/* Frees; closes the catalog when the redactor opened it. */
void spif_redactor_free(struct spif_redactor *r);
const struct spif_redact_counts *spif_redactor_counts(const struct spif_redactor *r);

/* "N records, N numbers removed (N high, N low confidence)[, N
 * low-confidence left (--min-confidence high)]" (windows for text, found
 * in check mode), in buf; returns buf. */
const char *spif_redact_summary(const struct spif_redactor *r, int text, char *buf, size_t n);

/* Redact one record in place (and count it): values replaced, dropped
 * fields removed, keys that hold a number replaced by their masked names
 * (strings that live in the redactor).  The numbers in a CSV or TSV
 * header are counted once, with the first record (at row 1); in NDJSON,
 * in every record.  In check mode the record is left as it was.  Fail
 * closed: on the first record every field the options name must be one
 * of its keys, else SPIF_EX_USAGE "--field NAME: no such field in INPUT"
 * (or --number-field). */
int spif_redact_record(struct spif_redactor *r, struct spif_record *rec, struct spif_err *err);

/* The header of a CSV or TSV that has no records, from its reader (after
 * the end): the fields named checked against it as against a first
 * record, and the numbers in it counted.  Returns the names to write back
 * (malloc'd; the reader's strings, or the redactor's masked ones), or NULL
 * with err. */
const char **spif_redact_header(struct spif_redactor *r, const struct spif_reader *rd, size_t *n,
                                struct spif_err *err);

/* Free text from fd, in windows (textscan.h): decoded from in_enc,
 * redacted, and written in out_enc (CP932, EUC-JP, else as UTF-8) to fn
 * (not called in check mode; may then be NULL).  --op drop masks. */
int spif_redact_text(struct spif_redactor *r, int fd, const char *name, enum spif_enc in_enc,
                     enum spif_enc out_enc, spif_sink_fn fn, void *ctx, struct spif_err *err);

/* Register path (sha256, size) as a redacted copy ("output", details
 * {"redacted":true,...}) of the catalogued file the records came from,
 * with a "redact" event.  Nothing to do when the records named no file or
 * there is no catalog; when they named one this catalog does not hold,
 * *unknown gets its id (else NULL) and nothing is registered. */
int spif_redact_register_output(struct spif_redactor *r, const char *path, const char *sha256, long long size,
                                const char **unknown, struct spif_err *err);


/* ---- the retention action "keep the record, lose the number" -----------
 *
 * spif_redact_file, under the disposal lock (dispose.h):
 *   1. a new vault copy under a new data key, written from the old one with
 *      every number removed (field names too);
 *   2. the new copy read back and scanned (values and names): any number
 *      left and nothing changes;
 *   3. in one transaction: the new copy registered, the old one
 *      "disposing", the file "redacted" (no number fields left), the old
 *      copy's data key erased, and the redact.file event; then the purge,
 *      and the proof that the old key is in neither catalog file;
 *   4. in one transaction: the old copy "disposed" and the certificate of
 *      the removal (spif_dispose_certify_redaction).
 * Holds and the file's schedule bind as for spif shred.  A run killed
 * between 3 and 4 leaves the old copy "disposing": the next run finds the
 * redact.file event that names it and finishes with 4 (purging again)
 * rather than refuse.  A copy with numbers outside the vault (other than a
 * redacted output) is refused: "redacted" must be true of the file. */
struct spif_redact_file_opts {
	long long file_id;
	enum spif_redact_op op;   /* mask, empty or pseudonym: the record stays */
	struct spif_psn *psn;     /* with pseudonym (borrowed) */
	int corporate;            /* also 13-digit 法人番号 */
	const char *reason;       /* 理由, on the certificate (needed with bypass) */
	const char *sign_key;     /* NULL or "": the certificate is unsigned */
	int bypass;               /* a governance schedule's date may be passed (recorded) */
	const char *home;         /* the vault copy is read through a connection of its own */
	const struct spif_conf *conf;
	void (*note)(void *ctx, const char *msg); /* what the user should know as it happens (may be NULL) */
	void *note_ctx;
};

struct spif_redact_file_result {
	char cert[32];       /* the certificate's number */
	char summary[160];   /* "F000001 redacted: N records, N numbers removed; certificate DC-..." */
	int resumed;         /* an interrupted run's redaction was finished */
	long long records, removed;
	int verified;        /* the old copy's wrapped key was searched for and is gone
	                        (0: the certificate says FAILED) */
};

/* Errors: SPIF_EX_USAGE (drop, or pseudonym without a key), SPIF_EX_DATAERR (no such file, not active, no vault copy, a
 * "disposing" copy no event explains), SPIF_FOUND (a copy with numbers
 * outside the vault), SPIF_EX_NOPERM (held or kept by its schedule),
 * SPIF_EX_TEMPFAIL (another disposer), SPIF_EX_SOFTWARE (numbers found in
 * the rewritten copy: nothing changed), or those of the vault and catalog. */
int spif_redact_file(struct spif_catalog *c, const struct spif_redact_file_opts *o,
                     struct spif_redact_file_result *res, struct spif_err *err);

#endif
