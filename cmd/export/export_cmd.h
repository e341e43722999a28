/* export_cmd.h - what the files of spif export share: the options (one
 * parser for every subcommand; each says which apply to it) and the
 * subcommands.  Private to cmd/export/. */
#ifndef SPIF_EXPORT_CMD_H
#define SPIF_EXPORT_CMD_H

#include "cli.h"
#include "export.h"

struct opts {
	/* the export */
	long long *files;
	size_t nfiles;
	const char *purpose;
	const char **recipients;
	size_t nrecipients;
	const char *sign_key, *key;
	int redact;
	enum spif_redact_op op;
	char **fields;
	size_t nfields;
	int drop;
	enum spif_export_form form;
	int form_set;
	enum spif_format to;
	enum spif_enc enc;
	int enc_set;
	const char *org, *person, *basis, *medium, *seal, *due, *reason, *out;
	int zip;                      /* --zip-aes256 */
	const char *passphrase_file;  /* its password, or verify's */
	/* the ledger */
	int outstanding, overdue, json;
	const char *received_by, *certificate;
	const char *note;             /* delivered --note */
	/* the forensic bundle (forensic.c) */
	int forensic;
	const char *incident, *since, *until;
	/* a disclosure request */
	const char *subject_file;
	unsigned seen;  /* which options were given (O_* below) */
	char **args;    /* what is left after the options */
	int nargs;
};

enum {
	O_FILE = 1 << 0, O_PURPOSE = 1 << 1, O_RCPT = 1 << 2, O_SIGN = 1 << 3, O_REDACT = 1 << 4,
	O_FIELDS = 1 << 5, O_DROP = 1 << 6, O_FORMAT = 1 << 7, O_TO = 1 << 8, O_OUTENC = 1 << 9,
	O_ORG = 1 << 10, O_PERSON = 1 << 11, O_BASIS = 1 << 12, O_MEDIUM = 1 << 13, O_SEAL = 1 << 14,
	O_DUE = 1 << 15, O_REASON = 1 << 16, O_OUT = 1 << 17, O_OUTST = 1 << 18, O_OVERDUE = 1 << 19,
	O_JSON = 1 << 20, O_RECEIVED = 1 << 21, O_CERT = 1 << 22, O_KEY = 1 << 23,
	O_FORENSIC = 1 << 24, O_INCIDENT = 1 << 25, O_SINCE = 1 << 26, O_UNTIL = 1 << 27,
	O_ZIP = 1 << 28, O_PASS = 1 << 29,
	O_SUBJECT = 1 << 30,
};
#define O_NOTE (1u << 31)

/* main.c: options that do not belong to a subcommand are a usage error. */
void allow(const struct cli *c, const struct opts *o, const char *sub, unsigned ok);

/* main.c: the ZIP password, from file's first line (spif_passphrase_read)
 * or asked at the terminal (twice when confirm), never from argv; a
 * password for a new ZIP (confirm) must be at least 12 bytes.  The caller
 * wipes and frees it; every failure exits. */
char *export_password(struct cli *c, const char *file, int confirm);

/* ledger.c: the subcommands after the export; each returns the exit code. */
int cmd_verify(struct cli *c, const struct opts *o);
int cmd_ls(struct cli *c, const struct opts *o);
int cmd_return(struct cli *c, const struct opts *o);
int cmd_destroyed(struct cli *c, const struct opts *o);
int cmd_lost(struct cli *c, const struct opts *o);
int cmd_delivered(struct cli *c, const struct opts *o);

/* forensic.c: spif export --forensic, and the forensic part of verify
 * (--key: the catalog's public key) after the bag's own check. */
int cmd_forensic(struct cli *c, const struct opts *o);
int forensic_verify(struct cli *c, const char *path, const char *keyfile);
/* subject.c: a disclosure request (--subject-file). */
int cmd_subject(struct cli *c, struct opts *o);

#endif
