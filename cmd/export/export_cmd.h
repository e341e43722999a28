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
	int with_records;             /* --with-records */
	/* a disclosure request */
	const char *subject_file;
	unsigned long long seen; /* which options were given (O_* below) */
	char **args;    /* what is left after the options */
	int nargs;
};

/* which options were given: one bit each, 64 of them (the last two went
 * past 32) */
#define O_FILE (1ull << 0)
#define O_PURPOSE (1ull << 1)
#define O_RCPT (1ull << 2)
#define O_SIGN (1ull << 3)
#define O_REDACT (1ull << 4)
#define O_FIELDS (1ull << 5)
#define O_DROP (1ull << 6)
#define O_FORMAT (1ull << 7)
#define O_TO (1ull << 8)
#define O_OUTENC (1ull << 9)
#define O_ORG (1ull << 10)
#define O_PERSON (1ull << 11)
#define O_BASIS (1ull << 12)
#define O_MEDIUM (1ull << 13)
#define O_SEAL (1ull << 14)
#define O_DUE (1ull << 15)
#define O_REASON (1ull << 16)
#define O_OUT (1ull << 17)
#define O_OUTST (1ull << 18)
#define O_OVERDUE (1ull << 19)
#define O_JSON (1ull << 20)
#define O_RECEIVED (1ull << 21)
#define O_CERT (1ull << 22)
#define O_KEY (1ull << 23)
#define O_FORENSIC (1ull << 24)
#define O_INCIDENT (1ull << 25)
#define O_SINCE (1ull << 26)
#define O_UNTIL (1ull << 27)
#define O_ZIP (1ull << 28)
#define O_PASS (1ull << 29)
#define O_SUBJECT (1ull << 30)
#define O_RECORDS (1ull << 31)
#define O_NOTE (1ull << 32)

/* main.c: options that do not belong to a subcommand are a usage error. */
void allow(const struct cli *c, const struct opts *o, const char *sub, unsigned long long ok);

/* main.c: add approver a to the list "A, B" (at most n bytes), once. */
void approver_add(char *approver, size_t n, const char *a);

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
