/* encrypt.h - what the parts of spif encrypt share: the options, and the
 * output (-o through a temporary file put in place at the end, or standard
 * output) with its registration in the catalog.  main.c: options, whole
 * streams and columns; output.c: the output; decrypt.c: -d. */
#ifndef SPIF_CMD_ENCRYPT_H
#define SPIF_CMD_ENCRYPT_H

#include <jansson.h>

#include "atomic.h"
#include "catalog.h"
#include "cli.h"
#include "digest.h"
#include "progress.h"
#include "record.h"

struct opts {
	const char **recipients;
	size_t nrecipients;
	char **fields;
	size_t nfields;
	const char *sign_key, *out, *input, *pass_file, *reason;
	char *passphrase;
	int decrypt, armor, require_sig;
	enum spif_format fmt, to;
	enum spif_enc enc, out_enc;
	int out_enc_set;
};

/* Where the data go: standard output, or -o FILE through a temporary file
 * put in place only when all is well.  The output is hashed for the
 * catalog, and its first bytes kept to tell whether it is records. */
struct output {
	struct spif_atomic a;
	int atomic;
	int fd;
	const char *name;
	struct spif_sha256 *h;
	long long size;
	char head[64];
	size_t headn;
	struct spif_progress prog; /* bytes out, for a person waiting */
};

void output_open(struct cli *c, struct output *w, const char *path, struct spif_catalog *cat,
                 const char *command);
int output_tap(void *ctx, const void *buf, size_t n);
void output_progress_done(struct output *w);
int output_sink(void *ctx, const void *buf, size_t n);
_Noreturn void fail_out(struct cli *c, struct output *w, const struct spif_err *e);
void input_file(struct spif_catalog *cat, const char *input, char fid[24]);
int output_commit(struct cli *c, struct output *w, struct spif_catalog *cat, const char *fid,
                  const char *kind, int encrypted, json_t *copy_details, const char *action,
                  json_t *event);
const char *shown_input(const struct opts *o);
void output_abort(struct output *w);
void settled(void);

/* decrypt.c: -d, OpenPGP or a column-encrypted stream, told apart by its
 * first bytes. */
int decrypt(struct cli *c, struct opts *o, int fd);

#endif
