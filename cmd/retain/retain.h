/* retain.h - what the files of spif retain share: the options (one parser
 * for every subcommand, then each says which of them apply to it), the
 * helpers that turn a bad argument into a usage error, the write that
 * installs the default schedules on first use, and the due list that due,
 * plan and purge read.  Private to cmd/retain/. */
#ifndef SPIF_RETAIN_H
#define SPIF_RETAIN_H

#include <signal.h>
#include <stddef.h>

#include "cli.h"
#include "cli_json.h"
#include "xalloc.h"
#include "retention.h"

enum {
	O_PERIOD = 1 << 0, O_FROM = 1 << 1, O_CUTOFF = 1 << 2, O_GRACE = 1 << 3, O_ACTION = 1 << 4,
	O_MODE = 1 << 5, O_BASIS = 1 << 6, O_SCHEDULE = 1 << 7, O_REASON = 1 << 8, O_PURPOSE = 1 << 9,
	O_ASOF = 1 << 10, O_JSON = 1 << 11, O_DRY = 1 << 12, O_PLAN = 1 << 13, O_SYSLOG = 1 << 14,
	O_FY = 1 << 15, O_ALL = 1 << 16, O_SIGN = 1 << 17, O_WAIT = 1 << 18,
};

struct opts {
	const char *period, *from, *cutoff, *grace, *action, *mode, *basis;
	const char *schedule, *reason, *purpose, *as_of, *plan, *sign, *wait;
	int fiscal_year;
	unsigned seen;
};

/* Set by SIGINT, SIGTERM and SIGHUP (cli_signal.h): a purge stops between batches, never inside one. */
extern volatile sig_atomic_t stop_flag;

/* main.c: options that do not belong to the subcommand are a usage error,
 * and so is a wrong number of arguments. */
void allow(const struct cli *c, const struct opts *o, const char *sub, unsigned ok);
void nargs(const struct cli *c, const char *sub, int have, int want, const char *what);
/* One JSON object per line on stdout; j is released. */
long long file_arg(const struct cli *c, const char *s);
long day_arg(const struct cli *c, const char *opt, const char *s);
/* A text an operator typed, going into the catalog: never a number. */
char *masked(const char *s);
/* A write: the catalog (created for the schedule commands, which come
 * before anything is ingested), a transaction, and the default schedules
 * on first use, inside it, so that a refused command leaves nothing. */
struct spif_catalog *begin_write(struct cli *c, int create, int defaults);
void commit(struct cli *c, struct spif_catalog *cat);

/* due.c: what is due on a day, kept (the callback's strings copied). */
struct due_list {
	struct spif_due *v;
	char **labels, **purposes;
	size_t n, cap;
};
void collect_due(struct cli *c, struct spif_catalog *cat, long day, struct due_list *l);
void due_free(struct due_list *l);

/* The subcommands; each returns the exit code. */
int cmd_schedule(struct cli *c, const struct opts *o, int argc, char **argv); /* schedule.c */
int cmd_assign(struct cli *c, const struct opts *o, int argc, char **argv);   /* assign.c */
int cmd_event(struct cli *c, const struct opts *o, int argc, char **argv);
int cmd_hold(struct cli *c, const struct opts *o, int argc, char **argv);     /* hold.c */
int cmd_release(struct cli *c, const struct opts *o, int argc, char **argv);
int cmd_holds(struct cli *c, const struct opts *o, int argc);
int cmd_due(struct cli *c, const struct opts *o, int argc);                   /* due.c */
int cmd_plan(struct cli *c, const struct opts *o, int argc);                  /* plan.c */
/* Read and check a plan: the SHA-256 of everything before its last line
 * must be what that line says, and a plan this catalog registered.  The
 * file ids of its entries go to ids; returns the plan's id.  When a purge
 * needs an approved plan (purge_requires_plan), it must be approved. */
long long read_plan(struct cli *c, struct spif_catalog *cat, const char *path, long long **ids, size_t *n);
/* approve FILE: a second person (an approver who did not make it) approves
 * a plan; with purge_requires_plan a purge applies only approved plans. */
int cmd_approve(struct cli *c, const struct opts *o, int argc, char **argv);
/* For a purge without --plan: 1 when it needs an approved plan, with the
 * oldest one no purge has finished in *plan_id (0: none) and its entries;
 * 0 when it disposes of what is due. */
int approved_plan(struct cli *c, struct spif_catalog *cat, long long *plan_id, long long **ids, size_t *n);
int cmd_purge(struct cli *c, const struct opts *o, int argc);                 /* purge.c */
int cmd_report(struct cli *c, const struct opts *o, int argc);                /* report.c */
int cmd_unscheduled(struct cli *c, const struct opts *o, int argc);           /* schedule.c */

/* child.c: run spif-CMD with args under this purge's lock; its output is
 * read (a child that fails says why on its last line of stderr, which
 * becomes why).  Returns its exit status (128 + signal when killed). */
int run_child(const struct cli *c, const char *cmd, char **args, char *why, size_t whylen);

#endif
