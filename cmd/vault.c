/* vault.c - spif vault cat ID | ls: the records kept encrypted in the vault.
 *
 * cat records who read what (an access event, committed before a byte is
 * written) and then streams the file's records as NDJSON for the next
 * command in a pipe.  A damaged vault copy emits nothing: every chunk is
 * authenticated before the first one is written out. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vault.h"

static const char usage_text[] =
	"usage: spif vault cat ID [--reason TEXT]\n"
	"       spif vault ls [--json]\n"
	"\n"
	"  cat   stream file ID's records from its vault copy (NDJSON with @file and\n"
	"        @row), after recording the access in the audit log\n"
	"  ls    the vault copies: file, state, bucket, size, path\n"
	"\n"
	"Exit: 0 ok, 64 usage, 65 unknown id, no vault copy, damaged copy or erased key,\n"
	"66 no catalog or missing key file, 74 I/O, 77 permission.\n";

static int cmd_cat(struct cli *c, const char *idarg, const char *reason)
{
	struct spif_err e = {0};
	long long id = spif_file_id_parse(idarg);
	if (id < 0)
		cli_usage(c, "%s: not a file id (F000001)", idarg);
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_READ, .file_id = id, .reason = reason});
	struct spif_catalog *cat = cli_catalog(c, 0);
	struct spif_file f;
	struct spif_copy *cp;
	size_t n;
	if (spif_catalog_get_file(cat, id, &f, &e) < 0 || spif_catalog_get_copies(cat, id, &cp, &n, &e) < 0)
		cli_die(c, &e);
	const struct spif_copy *v = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(cp[i].kind, "vault") == 0 && cp[i].state == SPIF_COPY_PRESENT)
			v = &cp[i];
	char fid[24];
	spif_file_id_format(id, fid);
	if (!v)
		cli_fail(c, SPIF_EX_DATAERR, "%s has no vault copy%s", fid,
		         f.state == SPIF_FILE_DISPOSED ? " (disposed)" : " (ingest it with --store)");
	/* who read it, before it is read: the PIA's "every operation on numbers
	 * is logged with the operator identified" */
	json_t *d = json_pack("{s:I,s:s,s:o}", "copy", (json_int_t)v->id, "path", v->path, "reason",
	                      reason ? json_string(reason) : json_null());
	if (spif_catalog_begin(cat, &e) < 0 || spif_audit_append(cat, "vault.read", fid, d, NULL, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
	json_decref(d);
	int one = 1;
	if (spif_vault_read(cat, id, v->path, spif_sink_fd, &one, &e) < 0)
		cli_die(c, &e);
	spif_copies_free(cp, n);
	spif_file_free(&f);
	spif_catalog_close(cat);
	return 0;
}

static int ls_row(void *ctx, const struct spif_vault_entry *v)
{
	const int *json = ctx;
	char fid[24];
	spif_file_id_format(v->file_id, fid);
	const char *state = spif_copy_state_name(v->state);
	if (*json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:s}", "file", fid, "state", state, "bucket", v->bucket,
		                      "size", (json_int_t)v->size, "path", v->path);
		char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
		json_decref(j);
	} else
		printf("%-8s %-9s %-11s %12lld %s\n", fid, state, v->bucket, v->size, v->path);
	return 0;
}

static int cmd_ls(struct cli *c, int json)
{
	struct spif_err e = {0};
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_LIST});
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	if (!json)
		printf("%-8s %-9s %-11s %12s %s\n", "FILE", "STATE", "BUCKET", "SIZE", "PATH");
	if (spif_vault_list(cat, ls_row, &json, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	cli_init(&c, "spif-vault", argc, argv);
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},        {"reason", required_argument, NULL, 'r'},
		{"home", required_argument, NULL, 'H'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch, json = 0;
	const char *reason = NULL;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'r': reason = optarg; break;
		case 'H': c.home_opt = optarg; break;
		case 'h': fputs(usage_text, stdout); cli_done(&c); return 0;
		default: cli_bad_option(&c, argc, argv);
		}
	}
	int nargs = argc - optind;
	int rc;
	if (nargs == 2 && strcmp(argv[optind], "cat") == 0)
		rc = cmd_cat(&c, argv[optind + 1], reason);
	else if (nargs == 1 && strcmp(argv[optind], "ls") == 0)
		rc = cmd_ls(&c, json);
	else
		cli_usage(&c, "expected: cat ID or ls");
	cli_done(&c);
	return rc;
}
