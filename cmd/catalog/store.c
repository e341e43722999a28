/* store.c - spif catalog check, copy lost|missing, backup, restore-test
 * and restore: the copies on disk, and copies of the catalog.  See
 * catalog_cmd.h. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "backup.h"
#include "calendar.h"
#include "auditlog.h"
#include "catalog_query.h"
#include "cert.h"
#include "checkpoint.h"
#include "cli.h"
#include "copycheck.h"
#include "mynumber.h"
#include "digest.h"
#include "purge.h"
#include "retention.h"
#include "review.h"
#include "tempfile.h"
#include "text.h"
#include "vault.h"

#include "catalog_cmd.h"

/* ---- check: the copies on disk; copy lost ------------------------------- */

struct check_out {
	const struct opts *o;
	json_t *problems;
	long long missing, changed;
};

static int check_row(void *ctx, const struct spif_copy_check *r)
{
	struct check_out *k = ctx;
	if (r->finding == SPIF_COPY_FINE)
		return 0;
	const struct spif_copy *cp = r->copy;
	char fid[24] = "-";
	if (cp->file_id)
		spif_file_id_format(cp->file_id, fid);
	if (r->finding == SPIF_COPY_MISSING)
		k->missing++;
	else
		k->changed++;
	if (k->o->json)
		json_array_append_new(k->problems, json_pack("{s:I,s:s,s:s,s:s,s:s}", "copy", (json_int_t)cp->id,
		                                             "file", fid, "kind", cp->kind, "path", cp->path, "finding",
		                                             spif_copy_finding_name(r->finding)));
	else
		printf(_("copy %lld of %s (%s): %s: %s\n"), cp->id, fid, cp->kind, _(spif_copy_finding_name(r->finding)),
		       cp->path);
	return 0;
}

/* Hidden outputs of killed runs (tempfile.h), of every user: destroyed
 * now, each listed; 0 when there were none. */
static long long check_leftovers(struct cli *c, struct spif_catalog *cat, const struct opts *o, json_t *list)
{
	struct spif_err e = {0};
	struct spif_leftover *v;
	size_t n;
	if (spif_tempfile_sweep(cat, 1, &v, &n, &e) < 0)
		cli_die(c, &e);
	long long found = 0;
	for (size_t i = 0; i < n; i++) {
		static const char *const fate[] = {N_("destroyed"), N_("unlinked"), N_("gone"), N_("not destroyed")};
		if (v[i].fate == SPIF_LEFTOVER_GONE)
			continue;
		found++;
		if (o->json)
			json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s?}", "path", v[i].path,
			                                      "target", v[i].target, "command", v[i].command, "pid",
			                                      (json_int_t)v[i].pid, "uid", (json_int_t)v[i].uid,
			                                      "created", v[i].created, "fate", fate[v[i].fate], "why",
			                                      v[i].why[0] ? v[i].why : NULL));
		else
			printf(_("leftover of a killed spif %s (pid %lld, %s) writing %s: %s: %s%s%s\n"), v[i].command,
			       v[i].pid, v[i].created, v[i].target, _(fate[v[i].fate]), v[i].path, v[i].why[0] ? ": " : "",
			       v[i].why);
	}
	free(v);
	return found;
}

int cmd_check(struct cli *c, const struct opts *o)
{
	c->no_sweep = 1; /* the leftovers are listed here, not in notes */
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct check_out k = {.o = o, .problems = json_array()};
	json_t *left = json_array();
	long long leftovers = check_leftovers(c, cat, o, left);
	long long checked;
	if (spif_copies_check(cat, check_row, &k, &checked, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	if (o->json) {
		json_t *j = json_pack("{s:I,s:I,s:I,s:o,s:o}", "checked", (json_int_t)checked, "missing",
		                      (json_int_t)k.missing, "changed", (json_int_t)k.changed, "problems", k.problems,
		                      "leftovers", left);
		cli_print_json(j);
	} else {
		json_decref(k.problems);
		json_decref(left);
		printf(dngettext(SPIF_TEXTDOMAIN, "%lld copy checked: %lld missing, %lld changed or unreadable\n",
		                 "%lld copies checked: %lld missing, %lld changed or unreadable\n", (unsigned long)checked),
		       checked, k.missing, k.changed);
	}
	if (leftovers == 1)
		cli_note(c, "check: 1 hidden output of a killed run found (see above)");
	else if (leftovers)
		cli_note(c, "check: %lld hidden outputs of killed runs found (see above)", leftovers);
	if (k.missing || k.changed) {
		cli_note(c, "check: %lld cop%s not as the catalog says; a copy gone for good: "
		         "spif catalog copy lost COPY-ID --reason TEXT", k.missing + k.changed,
		         k.missing + k.changed == 1 ? "y is" : "ies are");
		return SPIF_FOUND;
	}
	return leftovers ? SPIF_FOUND : 0;
}

int cmd_copy(struct cli *c, const struct opts *o, int nargs, char **args)
{
	if (nargs != 2)
		cli_usage(c, "copy: expected lost COPY-ID --reason TEXT");
	if (strcmp(args[0], "lost") && strcmp(args[0], "missing"))
		cli_usage(c, "copy %s: unknown (lost, missing)", args[0]);
	char *end;
	errno = 0;
	long long id = strtoll(args[1], &end, 10);
	if (!*args[1] || *end || id <= 0 || errno)
		cli_usage(c, "%s: not a copy id (a number, from spif catalog show or check)", args[1]);
	if (!o->reason || !*o->reason)
		cli_usage(c, "copy %s: --reason is required (what happened to it)", args[0]);
	/* the reason goes into the catalog: never a number */
	char *reason = xstrdup(o->reason);
	spif_mask_numbers(reason);
	struct spif_catalog *cat = cli_catalog(c, 0);
	struct spif_err e = {0};
	long long hold, file;
	if (spif_catalog_begin(cat, &e) < 0 || spif_copy_lost(cat, id, reason, &hold, &file, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_rollback(cat);
		cli_die(c, &e);
	}
	free(reason);
	spif_catalog_close(cat);
	char fid[24] = "", hid[24];
	if (file)
		spif_file_id_format(file, fid);
	printf(_("copy %lld%s%s is lost: it no longer blocks disposal\n"), id, file ? _(" of ") : "", fid);
	if (hold) {
		spif_hold_id_format(hold, hid);
		printf(_("it held numbers: %s is held by %s (an incident) until an approver releases it: "
		         "spif retain release %s --reason TEXT\n"), fid, hid, hid);
	}
	return 0;
}

/* catalog verify: a file a killed purge had claimed and not finished. */
/* ---- backup, restore-test, restore (lib/backup.c): options of their own --- */

int backup_sub(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return strcmp(a, "backup") == 0 || strcmp(a, "restore") == 0 || strcmp(a, "restore-test") == 0;
		if (!strchr(a, '=') && (!strcmp(a, "--home") || !strcmp(a, "-o") || !strcmp(a, "--output") ||
		                        !strcmp(a, "--keys") || !strcmp(a, "--sample")))
			i++;
	}
	return 0;
}

int cmd_backup(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{"home", required_argument, NULL, 'H'},   {"output", required_argument, NULL, 'o'},
		{"keys", required_argument, NULL, 'K'},   {"sample", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *keys = NULL;
	int ch, json = 0, sample = 20, rc = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ho:j", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': c->home_opt = optarg; break;
		case 'o': out = optarg; break;
		case 'K': keys = optarg; break;
		case 'j': json = 1; break;
		case 'n': sample = atoi(optarg); if (sample < 0) cli_usage(c, "--sample %s: not a number", optarg); break;
		case 'h': cli_help(usage_text); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
	const char *sub = argv[optind++];
	int nargs = argc - optind;
	struct spif_err e = {0};
	json_t *r = NULL;
	/* a backup holds the whole catalog and every vault file: an admin's
	 * (or the service account's) work, asked like any other */
	cli_permit_sub(c, sub, NULL, NULL);
	if (strcmp(sub, "backup") == 0) {
		if (!out || nargs)
			cli_usage(c, "backup: -o DIR is required, and nothing else");
		struct spif_catalog *cat = cli_catalog(c, 0);
		if (spif_backup_write(cat, &c->conf, out, &r, &e) < 0)
			cli_die(c, &e);
		const json_t *cf = json_object_get(r, "catalog");
		if (!json)
			printf(_("%s: catalog (%s), %zu vault files, audit log to event %lld%s; no keys\n"), out,
			       json_is_string(json_object_get(cf, "encrypted_to")) ? _("encrypted")
			                                                            : _("not encrypted: keep it as the vault is kept"),
			       json_array_size(json_object_get(r, "vault")),
			       (long long)json_integer_value(json_object_get(json_object_get(r, "head"), "seq")),
			       json_is_object(json_object_get(r, "checkpoint")) ? _(", last checkpoint") : "");
		spif_catalog_close(cat);
	} else if (strcmp(sub, "restore-test") == 0 && nargs == 1) {
		struct spif_catalog *cat = cli_catalog(c, 0);
		if (spif_backup_restore_test(cat, &c->conf, argv[optind], sample, &r, &e) < 0)
			cli_die(c, &e);
		rc = json_is_true(json_object_get(r, "ok")) ? 0 : SPIF_FOUND;
		if (!json) {
			const json_t *ch2 = json_object_get(r, "chain");
			printf(_("%s: audit log %s (%lld events); %lld of %lld sampled vault files open with the live keys\n"),
			       argv[optind], json_is_true(json_object_get(ch2, "intact")) ? _("intact") : _("BROKEN"),
			       (long long)json_integer_value(json_object_get(ch2, "events")),
			       (long long)json_integer_value(json_object_get(r, "opened")),
			       (long long)json_integer_value(json_object_get(r, "sampled")));
			static const char *const lists[] = {N_("gone"), N_("stale"), N_("failed")};
			for (int k = 0; k < 3; k++) {
				size_t i;
				json_t *x;
				json_array_foreach(json_object_get(r, lists[k]), i, x)
					printf("  %s: %s: %s\n", json_string_value(json_object_get(x, "file")), _(lists[k]),
					       json_string_value(json_object_get(x, "why")));
			}
			printf(_("restore drill: %s\n"), rc ? _("FAILED") : _("passed"));
		}
		spif_catalog_close(cat);
	} else if (strcmp(sub, "restore") == 0 && nargs == 1) {
		if (spif_home_resolve(c->home_opt, &c->conf, c->home, sizeof c->home, &e) < 0 ||
		    spif_backup_restore(&c->conf, argv[optind], c->home, keys, &c->actor, &r, &e) < 0)
			cli_die(c, &e);
		rc = json_array_size(json_object_get(r, "gone")) ? SPIF_FOUND : 0;
		if (!json) {
			size_t i;
			json_t *x;
			json_array_foreach(json_object_get(r, "gone"), i, x)
				printf("%s: %s\n", json_string_value(json_object_get(x, "file")),
				       json_string_value(json_object_get(x, "why")));
			printf(_("restored %s into %s: %zu vault files\n"), argv[optind], c->home,
			       json_array_size(json_object_get(r, "restored")));
		}
	} else
		cli_usage(c, "%s: wrong number of arguments", sub);
	if (json)
		cli_print_json(json_incref(r));
	json_decref(r);
	cli_done(c);
	return rc;
}

