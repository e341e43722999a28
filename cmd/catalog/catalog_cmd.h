/* catalog_cmd.h - what the files of spif catalog share: the options, the
 * helpers every subcommand prints with, and one entry per subcommand.
 * main.c parses, dispatches, and lists and shows files and their log;
 * store.c checks the copies on disk, settles lost ones and makes
 * backups; audit.c verifies the log, signs checkpoints and prints the
 * review; cert.c is spif catalog cert; report.c prints the ledgers. */
#ifndef SPIF_CATALOG_CMD_H
#define SPIF_CATALOG_CMD_H

#include <jansson.h>

#include "cli.h"
#include "cli_json.h"
#include "xalloc.h"
#include "note.h"

struct opts {
	int json;
	const char *file;
	const char *state;
	long long limit;
	const char *format, *out, *note, *sign;
	const char *op_name, *since, *until, *action, *reason; /* log and review filters; copy lost */
	const char *checkpoint, *key, *append;
	int syslog, fingerprint;
	const char *ledger, *fiscal_year; /* report */
};

extern const char usage_text[];
const char *log_bound(struct cli *c, const char *opt, const char *arg, int next_day, char out[32]);
void read_whole(const struct cli *c, const char *path, char **data, size_t *n, int optional);
struct spif_catalog *catalog_if_readable(struct cli *c);
void verifier(struct cli *c, struct spif_catalog *cat, const char *keyfile, struct spif_note_verifier *v);

int cmd_ls(struct cli *c, const struct opts *o);
int cmd_show(struct cli *c, const struct opts *o, const char *idarg);
int cmd_log(struct cli *c, const struct opts *o);
int cmd_check(struct cli *c, const struct opts *o);
int cmd_copy(struct cli *c, const struct opts *o, int nargs, char **args);
int cmd_review(struct cli *c, const struct opts *o);
int cmd_verify(struct cli *c, const struct opts *o);
int cmd_checkpoint(struct cli *c, const struct opts *o);
int cmd_checkpoint_ls(struct cli *c, const struct opts *o);
int cmd_key(struct cli *c, const struct opts *o);
int cert_cmd(struct cli *c, const struct opts *o, const char *sub, int nargs, char **args);
int backup_sub(int argc, char **argv);
/* report.c: the ledgers, and the output of a table (text or PDF) that
 * cert show --format pdf shares */
struct spif_table;
int cmd_report(struct cli *c, const struct opts *o);
int table_format(struct cli *c, const struct opts *o, int json_ok);
void table_emit(struct cli *c, const struct opts *o, const struct spif_table *t, int pdf);
int cmd_backup(struct cli *c, int argc, char **argv);

#endif
