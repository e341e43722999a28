/* shred.h - what the files of spif shred share: the options, the stop
 * flag, and the targets (targets.c): collected, checked and opened before
 * main.c destroys them.  Private to cmd/shred/. */
#ifndef SPIF_SHRED_H
#define SPIF_SHRED_H

#include <signal.h>
#include <stddef.h>

#include "cli.h"
#include "xalloc.h"
#include "dispose.h"

struct opts {
	const char *method, *reason, *destination, *sign_key, *file_id, *wait;
	int passes, zero, force, dry_run, resume, bypass, changed_ok;
};

/* Set by SIGINT, SIGTERM and SIGHUP from the start (cli_signal.h): a run never dies half-way
 * through a write. */
extern volatile sig_atomic_t stop_flag;

/* The targets: the paths given (argv from optind), the copies of
 * --file, and first whatever an interrupted run left "disposing"; then
 * the catalog's other rows at those paths. */
void collect(struct cli *c, struct spif_catalog *cat, const struct opts *o, int argc, char **argv,
             struct spif_dispose_copy **v, size_t *n);
/* Holds and retention periods: refused (exit 77), or a governance bypass
 * recorded, before anything is destroyed. */
void check_retention(struct cli *c, struct spif_catalog *cat, const struct opts *o,
                     const struct spif_dispose_copy *v, size_t n);
/* Every target checked and (but for vault copies and missing ones) opened
 * once, probed and hashed (t->tg, t->m); the first refusal ends the run,
 * except with --dry-run, which gets whether any was refused. */
int check_targets(struct cli *c, struct spif_catalog *cat, const struct opts *o, struct spif_dispose_copy *v,
                  size_t n);
/* The descriptors check_targets opened, closed and freed. */
void close_targets(struct spif_dispose_copy *v, size_t n);
/* --dry-run: one line per target on stdout. */
void dry_run(const struct opts *o, const struct spif_dispose_copy *v, size_t n);

#endif
