/* vault.c - spif vault cat ID | ls | keys | escrow: the records kept
 * encrypted in the vault, and the keys that lock them.
 *
 * cat records who read what (an access event, committed before a byte is
 * written) and then streams the file's records as NDJSON for the next
 * command in a pipe.  A damaged vault copy emits nothing: every chunk is
 * authenticated before the first one is written out.  keys lists each
 * month's key-encryption key and where it lives; escrow lists the
 * custodian's copies of destroyed keys still outstanding, and "escrow
 * destroyed MONTH" records the custodian's confirmation (signed by the
 * confirming operator's OpenPGP key when one is configured). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_json.h"
#include "progress.h"
#include "kek.h"
#include "pgp.h"
#include "vault.h"

static const char usage_text[] = N_(
	"usage: spif vault cat ID [--reason TEXT]\n"
	"       spif vault ls [--json]\n"
	"       spif vault keys [--json]\n"
	"       spif vault escrow ls [MONTH] [--json]\n"
	"       spif vault escrow destroyed MONTH [--note TEXT] [--sign KEYID]\n"
	"\n"
	"  cat   stream file ID's records from its vault copy (NDJSON with @file and\n"
	"        @row), after recording the access in the audit log\n"
	"  ls    the vault copies: file, state, bucket, size, path\n"
	"  keys  each month's key-encryption key: generation, where it lives (key\n"
	"        file or PKCS#11 token), data keys under it, destroyed or not\n"
	"  escrow ls         the custodian's copies of destroyed keys not yet\n"
	"                    confirmed destroyed\n"
	"  escrow destroyed  record the custodian's confirmation that its copies of\n"
	"                    MONTH's destroyed keys are destroyed (signed with\n"
	"                    --sign, else spif.conf sign_key, when set)\n"
	"\n"
	"Exit: 0 ok, 64 usage, 65 unknown id, no vault copy, damaged copy, erased key\n"
	"or no escrow outstanding, 66 no catalog or missing key file, 69 PKCS#11 token\n"
	"unavailable or PIN refused, 74 I/O, 77 permission.\n");

/* stdout, with the progress line of a long read (progress.h) */
struct cat_out {
	int fd;
	long long n;
	struct spif_progress p;
};

static int cat_sink(void *ctx, const void *buf, size_t n)
{
	struct cat_out *o = ctx;
	char line[160];
	o->n += (long long)n;
	if (spif_progress_update(&o->p, o->n, N_("bytes"), -1, line, sizeof line))
		fputs(line, stderr);
	return spif_sink_fd(&o->fd, buf, n);
}

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
		         f.state == SPIF_FILE_DISPOSED ? _(" (disposed)") : _(" (ingest it with --store)"));
	/* who read it, before it is read: the PIA's "every operation on numbers
	 * is logged with the operator identified" */
	json_t *d = json_pack("{s:I,s:s,s:o}", "copy", (json_int_t)v->id, "path", v->path, "reason",
	                      reason ? json_string(reason) : json_null());
	if (spif_catalog_begin(cat, &e) < 0 || spif_audit_append(cat, "vault.read", fid, d, NULL, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
	json_decref(d);
	struct cat_out out = {.fd = 1};
	char pline[16];
	spif_progress_init(&out.p, 2, "spif-vault: cat", 0);
	int rc = spif_vault_read(cat, id, v->path, cat_sink, &out, &e);
	if (spif_progress_clear(&out.p, pline, sizeof pline))
		fputs(pline, stderr);
	if (rc < 0)
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
		cli_print_json(j);
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
		cli_heading((const char *const[]){N_("FILE"), N_("STATE"), N_("BUCKET"), N_("SIZE"),
		                                  N_("PATH")},
		            (const int[]){-8, -9, -11, 12, 0}, 5);
	if (spif_vault_list(cat, ls_row, &json, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

static int keks_row(void *ctx, json_t *k)
{
	const int *json = ctx;
	if (*json) {
		cli_print_json(json_incref(k));
		return 0;
	}
	const char *destroyed = json_string_value(json_object_get(k, "destroyed"));
	printf("%-11s %3lld %-6s %8lld %-10s %s\n", json_string_value(json_object_get(k, "bucket")),
	       (long long)json_integer_value(json_object_get(k, "generation")),
	       json_string_value(json_object_get(k, "store")),
	       (long long)json_integer_value(json_object_get(k, "data_keys")), destroyed ? "destroyed" : "live",
	       json_string_value(json_object_get(k, "where")));
	return 0;
}

static int cmd_keys(struct cli *c, int json)
{
	struct spif_err e = {0};
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_kek_store *ks;
	if (spif_kek_store_open(&c->conf, c->home, &ks, &e) < 0)
		cli_die(c, &e);
	if (!json) {
		json_t *d = spif_kek_store_describe(ks);
		const char *kind = json_string_value(json_object_get(d, "kind"));
		printf("# %s%s%s\n", _(json_string_value(json_object_get(d, "store"))), kind ? ": " : "", kind ? kind : "");
		json_decref(d);
		cli_heading((const char *const[]){N_("BUCKET"), N_("GEN"), N_("STORE"), N_("DATAKEYS"),
		                                  N_("STATE"), N_("WHERE")},
		            (const int[]){-11, 3, -6, 8, -10, 0}, 6);
	}
	if (spif_vault_keks(cat, ks, keks_row, &json, &e) < 0)
		cli_die(c, &e);
	spif_kek_store_close(ks);
	spif_catalog_close(cat);
	return 0;
}

static int cmd_escrow(struct cli *c, const char *sub, const char *month, int json, const char *note,
                      const char *sign)
{
	struct spif_err e = {0};
	if (month && (strlen(month) != 7 || month[4] != '-') && strcmp(month, "indefinite") != 0)
		cli_usage(c, "%s: not a month (YYYY-MM) or \"indefinite\"", month);
	if (strcmp(sub, "ls") == 0) {
		struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
		json_t *out;
		if (spif_vault_escrow_outstanding(cat, month, &out, &e) < 0)
			cli_die(c, &e);
		size_t i;
		json_t *x;
		json_array_foreach(out, i, x) {
			if (json)
				cli_print_json(json_incref(x));
			else
				printf("%-11s gen %-3lld %s  %s  made %s\n", json_string_value(json_object_get(x, "bucket")),
				       (long long)json_integer_value(json_object_get(x, "generation")),
				       json_string_value(json_object_get(x, "custodian")),
				       json_is_string(json_object_get(x, "fingerprint"))
				               ? json_string_value(json_object_get(x, "fingerprint")) : "-",
				       json_string_value(json_object_get(x, "created")));
		}
		json_decref(out);
		spif_catalog_close(cat);
		return 0;
	}
	if (strcmp(sub, "destroyed") != 0 || !month)
		cli_usage(c, "expected: escrow ls [MONTH] or escrow destroyed MONTH");
	struct spif_catalog *cat = cli_catalog(c, 0);
	json_t *out;
	if (spif_vault_escrow_outstanding(cat, month, &out, &e) < 0)
		cli_die(c, &e);
	/* the confirming operator signs what is confirmed, before it is recorded */
	char *sig = NULL, fpr[41] = "";
	const char *key = sign ? sign : c->conf.sign_key[0] ? c->conf.sign_key : NULL;
	if (key && json_array_size(out)) {
		json_t *doc = json_pack("{s:s,s:s,s:O,s:s}", "format", "spif-escrow-destroyed/1", "bucket", month,
		                        "escrow", out, "operator", c->actor.operator_);
		char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(doc);
		int rc = text ? spif_pgp_sign(key, text, strlen(text), &sig, fpr, &e) : -1;
		free(text);
		if (rc < 0)
			cli_die(c, &e);
	}
	json_decref(out);
	json_t *what;
	if (spif_catalog_begin(cat, &e) < 0 ||
	    spif_vault_escrow_confirm(cat, month, note, sig, sig ? fpr : NULL, &what, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
	printf("%s: %zu escrow cop%s recorded destroyed by %s%s\n", month, json_array_size(json_object_get(what, "escrow")),
	       json_array_size(json_object_get(what, "escrow")) == 1 ? "y" : "ies", c->actor.operator_,
	       sig ? " (signed)" : "");
	free(sig);
	json_decref(what);
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
		{"note", required_argument, NULL, 'N'},  {"sign", required_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	int ch, json = 0;
	const char *reason = NULL, *note = NULL, *sign = NULL;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'r': reason = optarg; break;
		case 'H': c.home_opt = optarg; break;
		case 'N': note = optarg; break;
		case 'S': sign = optarg; break;
		case 'h': cli_help(usage_text); cli_done(&c); return 0;
		default: cli_bad_option(&c, argc, argv);
		}
	}
	int nargs = argc - optind;
	int rc;
	if (nargs == 2 && strcmp(argv[optind], "cat") == 0)
		rc = cmd_cat(&c, argv[optind + 1], reason);
	else if (nargs == 1 && strcmp(argv[optind], "ls") == 0)
		rc = cmd_ls(&c, json);
	else if (nargs == 1 && strcmp(argv[optind], "keys") == 0) {
		cli_permit_sub(&c, "keys", NULL, NULL);
		rc = cmd_keys(&c, json);
	} else if ((nargs == 2 || nargs == 3) && strcmp(argv[optind], "escrow") == 0) {
		cli_permit_sub(&c, "escrow", argv[optind + 1], NULL);
		rc = cmd_escrow(&c, argv[optind + 1], nargs == 3 ? argv[optind + 2] : NULL, json, note, sign);
	} else
		cli_usage(&c, "expected: cat ID, ls, keys, escrow ls [MONTH] or escrow destroyed MONTH");
	cli_done(&c);
	return rc;
}
