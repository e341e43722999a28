/* spif.c - the front: "spif [--home DIR] COMMAND ARGS..." runs spif-COMMAND.
 *
 * Like git, each command is its own small program.  The front only finds
 * it (SPIF_EXEC_PATH, else next to this binary in a build tree, else in
 * LIBEXECDIR: cmd/common/exec.h), passes --home on as SPIF_HOME, and execs
 * it: no catalog is opened here. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "exec.h"
#include "intl.h"

/* The front's diagnostics go the way every command's do (cli.h), without
 * cli_init: the front opens nothing and reads no spif.conf. */
static const struct cli front = {.prog = "spif"};

static const struct {
	const char *name, *what;
} commands[] = {
	{"ingest", N_("register a specific personal information file and emit its records")},
	{"catalog", N_("list files, show one, read and verify the audit log; certificates")},
	{"shred", N_("destroy copies and issue a disposal certificate (NIST SP 800-88)")},
	{"redact", N_("find every Individual Number and remove it (records, CSV, text)")},
	{"vault", N_("read back records kept encrypted in the vault (ingest --store)")},
	{"encrypt", N_("encrypt for OpenPGP recipients, whole streams or chosen fields; -d decrypts")},
	{"retain", N_("retention schedules, holds, what is due, and the purge that disposes of it")},
	{"operator", N_("who may do what: operators, roles, grants, lockout (a system install)")},
	{"export", N_("take records out in an encrypted, signed bag; the ledger of checkouts (持出し簿)")},
	{"media", N_("the registry of removable media and where each is kept")},
	{"incident", N_("incidents: the files involved, held; notes; who closed them")},
};

static void usage(FILE *f)
{
	fputs(_("usage: spif [--home DIR] COMMAND [ARGS...]\n"
	         "       spif --version | help [COMMAND]\n\n"
	         "Lifecycle tools for specific personal information files (特定個人情報ファイル).\n\n"
	         "commands:\n"), f);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, _(commands[i].what));
	fputs(_("\nThe home (catalog) is --home, else $SPIF_HOME, else spif.conf's home,\n"
	         "else ${XDG_DATA_HOME:-~/.local/share}/spif.  See spif(7).\n"), f);
}

static int valid_name(const char *cmd)
{
	if (!*cmd)
		return 0;
	for (const char *p = cmd; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '-'))
			return 0;
	return 1;
}

static int run(const char *cmd, char **argv)
{
	char path[PATH_MAX + 16], name[64];
	if (!valid_name(cmd) || cli_command_path(cmd, path, sizeof path) < 0) {
		cli_note(&front, "'%s' is not a spif command (see 'spif help')", valid_name(cmd) ? cmd : "?");
		return SPIF_EX_USAGE;
	}
	snprintf(name, sizeof name, "spif-%s", cmd);
	argv[0] = name;
	execv(path, argv);
	cli_note(&front, "%s: %s", path, strerror(errno));
	return SPIF_EX_UNAVAILABLE;
}

int main(int argc, char **argv)
{
	int i = 1;
	cli_i18n_init();
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		if (strcmp(a, "--version") == 0) {
			printf("spif %s\n", SPIF_VERSION);
			return 0;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--home") == 0 && i + 1 < argc) {
			setenv("SPIF_HOME", argv[i + 1], 1);
			i += 2;
		} else if (strncmp(a, "--home=", 7) == 0) {
			setenv("SPIF_HOME", a + 7, 1);
			i++;
		} else {
			cli_usage(&front, "%s: unknown option", a);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return SPIF_EX_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		char *hargv[] = {NULL, "--help", NULL};
		return run(argv[i + 1], hargv);
	}
	return run(argv[i], argv + i);
}
