/* subject.h - a disclosure request (開示請求): what is held about one
 * person, handed to them in the same package as an export.
 *
 * The person is named by their Individual Number, read from a file (or
 * standard input) and never from the command line, never written to a
 * message, an event or the catalog: the export's event and ledger row
 * carry a keyed pseudonym of it instead (pseudonym.h, key "subject" in
 * the home's key store, made on first use), so that repeated requests
 * about one person can be linked while the log stays free of the number.
 *
 * Every file that is not disposed is searched, once, from the copy export
 * would read (export_priv.h spif_export_source: its live vault copy, else
 * a present copy with the catalogued content; a copy whose SHA-256 is not
 * the catalog's is never used: its file is listed as not searched).  The
 * files are searched in parallel by a small pool of threads (a vault
 * copy's decryption runs in a thread of its own beside its reader).  A
 * record is the person's when one of its values holds their number in
 * any form the detector finds (detect.h with the number-field view: ASCII
 * or full-width digits, 4-4-4 and other groupings, every separator); a
 * value is first checked cheaply for the number's twelve digits in order,
 * separators aside, so that the detector runs only where it can match.
 *
 * The person's records are kept in memory (a few per file; the buffers are
 * wiped) in the format and encoding of the copy they came from, and go
 * into the bag as data/FNNNNNN.EXT, with spif/access-history.json: for
 * each of those files, its history from the audit log (ingest, reads,
 * exports and to whom, disposals), as マイナポータル shows the history of
 * national records.  Then spif_export_run writes, registers and enters the
 * package in the ledger as any export (to the organisation "本人").
 *
 * lib/ prints nothing: notes go to the note callback. */
#ifndef SPIF_SUBJECT_H
#define SPIF_SUBJECT_H

#include "export.h"

/* The default legal basis of a disclosure by a public body (行政機関等). */
#define SPIF_SUBJECT_BASIS "個人情報の保護に関する法律第76条第1項(開示請求)"
/* The pseudonym key of disclosure requests in the home's key store. */
#define SPIF_SUBJECT_KEY "subject"

/* Read one Individual Number from path ("-": standard input), in any form
 * spif_number_view accepts (full-width digits, 4-4-4 with dashes or
 * spaces), surrounding white space aside.  digits gets the 12 ASCII
 * digits.  SPIF_EX_NOINPUT when the file cannot be read, SPIF_EX_DATAERR
 * when it holds anything else or the check digit is wrong (the message
 * never shows the digits).  The caller wipes digits when done. */
int spif_subject_read(const char *path, char digits[13], struct spif_err *err);

/* Does s hold a valid Individual Number in any form the detector finds?
 * (The command line is refused when one of its words does.) */
int spif_subject_in_text(const char *s);

struct spif_subject_opts {
	const char *const *recipients;
	size_t nrecipients;
	const char *sign_key;
	const char *person, *basis, *reason, *medium, *seal, *due;
	const char *out;
	const char *home;
	const struct spif_conf *conf;
	int threads;              /* searching threads; 0: 2 */
	void (*note)(void *ctx, const char *msg);
	void *note_ctx;
};

struct spif_subject_result {
	struct spif_export_result x;
	char pseudonym[32];
	long long records;        /* the person's records found */
	size_t files;             /* files holding them */
	size_t searched;          /* files searched */
	size_t unread;            /* files not searched (no copy, a changed copy) */
};

/* Search, bag and export, as above.  Errors are spif_export_run's, and
 * the search's (SPIF_EX_DATAERR for a vault copy that fails
 * authentication).  Nothing is written and the catalog is unchanged on
 * failure, except for the pseudonym key when the first request fails
 * after its search (a recipient's key missing, the output existing):
 * the key stays, with its key.create event. */
int spif_subject_run(struct spif_catalog *c, const char digits[13], const struct spif_subject_opts *o,
                     struct spif_subject_result *r, struct spif_err *err);

#endif
