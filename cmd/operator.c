/* operator.c - spif operator add | ls | show | grant | revoke | lock |
 * unlock | retire | approve | approvals | revoke-approval: who may do what
 * with this catalog (lib/operator.h, lib/approval.h).
 *
 * Only an admin changes the table (an auditor may read it); the first
 * admin of a system install is added by root or the service account,
 * while the table is empty.  Every change is one transaction with its
 * event. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "cli.h"
#include "cli_json.h"
#include "mynumber.h"
#include "operator.h"
#include "text.h"
#include "xalloc.h"

static const char usage_text[] = N_(
	"usage: spif operator add NAME --role ROLE[,ROLE...] [--key FPR] [--sudo]\n"
	"       spif operator ls [--json]\n"
	"       spif operator show NAME [--json]\n"
	"       spif operator grant NAME PURPOSE [--file ID]\n"
	"       spif operator revoke NAME PURPOSE [--file ID]\n"
	"       spif operator lock|unlock|retire NAME [--reason TEXT]\n"
	"       spif operator approve bypass|export (ID | --purpose P) --for NAME\n"
	"                             --reason TEXT [--hours N]\n"
	"       spif operator approvals [--all] [--json]\n"
	"       spif operator revoke-approval N --reason TEXT\n"
	"\n"
	"Who may do what with this catalog: operators (login names, known by their\n"
	"uid), their roles, their purposes (事務), their own OpenPGP keys.\n"
	"\n"
	"  add      a new operator; ROLE is operator (事務取扱担当者), approver (管理者),\n"
	"           auditor, responder or admin; --key their own signing key's\n"
	"           fingerprint (confirmations are signed with it); --sudo (root only)\n"
	"           root acts through sudo, recorded as \"root (sudo from X, unverified)\".\n"
	"           The first operator is an admin, added by root or the service account\n"
	"  ls       every operator: name, uid, state, roles, key, refusals counted\n"
	"  show     one operator and the grants in force\n"
	"  grant    let NAME work on files of PURPOSE (--file: one file only)\n"
	"  revoke   take a grant back\n"
	"  lock     stop NAME (refusals lock by themselves: spif.conf lockout_after,\n"
	"           lockout_window); unlock lets them in again; retire is for good\n"
	"  approve  (an approver) let NAME, and only NAME, bypass a governance\n"
	"           schedule (spif shred/redact --bypass-governance) or export records\n"
	"           that keep their numbers, for file ID or every file of purpose P,\n"
	"           for N hours (default 8, at most 168); never one's own\n"
	"  approvals        the approvals in force (--all: every one ever given)\n"
	"  revoke-approval  end approval N before its time\n"
	"\n"
	"  --json        one JSON object per line (show: one object)\n"
	"  --home DIR    the spif home (a system install uses its own, see spif(7))\n"
	"\n"
	"Exit: 0 ok, 64 usage, 65 unknown operator or file, a grant that exists,\n"
	"an approval not in force, 66 no catalog, 77 not an admin (approve: not an\n"
	"approver, or one's own) (refused, and recorded).\n");

struct opts {
	int json, sudo, all, hours;
	const char *role, *key, *file, *reason, *purpose, *for_name;
};

static json_t *op_json(const struct spif_operator *op)
{
	char roles[128];
	spif_roles_format(op->roles, roles, sizeof roles);
	return json_pack("{s:s,s:I,s:s,s:s,s:o,s:b,s:I,s:s,s:s}", "name", op->name, "uid", (json_int_t)op->uid,
	                 "state", spif_op_state_name(op->state), "roles", roles, "key",
	                 op->key[0] ? json_string(op->key) : json_null(), "sudo", op->sudo, "refusals",
	                 (json_int_t)op->refusals, "added", op->added, "added_by", op->added_by);
}

static int ls_row(void *ctx, const struct spif_operator *op)
{
	const struct opts *o = ctx;
	if (o->json) {
		cli_print_json(op_json(op));
		return 0;
	}
	char roles[128];
	spif_roles_format(op->roles, roles, sizeof roles);
	printf("%-16s %6lld %-8s %-34s %-40s %lld%s\n", op->name, op->uid, spif_op_state_name(op->state), roles,
	       op->key[0] ? op->key : "-", op->refusals, op->sudo ? " (sudo)" : "");
	return 0;
}

static int grant_row(void *ctx, const struct spif_grant *g)
{
	json_t *arr = ctx;
	char fid[24] = "";
	if (g->file_id)
		spif_file_id_format(g->file_id, fid);
	json_array_append_new(arr, json_pack("{s:s,s:o,s:s,s:s}", "purpose", g->purpose, "file",
	                                     fid[0] ? json_string(fid) : json_null(), "granted", g->granted,
	                                     "granted_by", g->granted_by));
	return 0;
}

static int cmd_show(struct cli *c, const struct opts *o, const char *name)
{
	struct spif_err e = {0};
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_operator op;
	int have = spif_operator_get(cat, name, &op, &e);
	json_t *grants = json_array();
	if (have > 0 && spif_operator_grants(cat, name, grant_row, grants, &e) < 0)
		have = -1;
	spif_catalog_close(cat);
	if (have <= 0)
		json_decref(grants);
	if (have < 0)
		cli_die(c, &e);
	if (!have)
		cli_fail(c, SPIF_EX_DATAERR, "%s is not an operator (see spif operator ls)", name);
	if (o->json) {
		json_t *j = op_json(&op);
		json_object_set_new(j, "grants", grants);
		cli_print_json(j);
		return 0;
	}
	char roles[128];
	spif_roles_format(op.roles, roles, sizeof roles);
	/* a label a line, each looked up whole (its translation pads it) */
	printf(_("name:      %s\n"), op.name);
	printf(_("uid:       %lld\n"), op.uid);
	printf(_("state:     %s\n"), spif_op_state_name(op.state));
	printf(_("roles:     %s\n"), roles);
	printf(_("key:       %s\n"), op.key[0] ? op.key : "-");
	printf(_("sudo:      %s\n"), op.sudo ? _("yes (SUDO_USER recorded, unverified)") : _("no"));
	printf(_("refusals:  %lld (since %s)\n"), op.refusals, op.changed[0] ? op.changed : op.added);
	printf(_("added:     %s by %s\n"), op.added, op.added_by);
	printf("%s", _("grants:\n"));
	size_t i;
	json_t *g;
	json_array_foreach(grants, i, g) {
		const char *file = json_string_value(json_object_get(g, "file"));
		printf(_("  %s%s%s  (%s by %s)\n"), json_string_value(json_object_get(g, "purpose")), file ? " " : "",
		       file ? file : "", json_string_value(json_object_get(g, "granted")),
		       json_string_value(json_object_get(g, "granted_by")));
	}
	if (!json_array_size(grants))
		printf("%s", _("  (none)\n"));
	json_decref(grants);
	return 0;
}

/* A change: one transaction, then a line saying what was done. */
static int cmd_change(struct cli *c, const struct opts *o, const char *sub, int n, char **args)
{
	struct spif_err e = {0};
	long long fid = 0;
	if (o->file) {
		fid = spif_file_id_parse(o->file);
		if (fid < 0)
			cli_usage(c, "--file %s: not a file id (F000001)", o->file);
	}
	char *purpose = NULL;
	if (strcmp(sub, "grant") == 0 || strcmp(sub, "revoke") == 0) {
		if (n != 2)
			cli_usage(c, "%s: NAME PURPOSE", sub);
		/* the catalog never holds a number, not even in a purpose typed */
		purpose = xstrdup(args[1]);
		spif_mask_numbers(purpose);
	} else if (n != 1)
		cli_usage(c, "%s: NAME", sub);
	/* everything that can be refused as usage, before the catalog is open */
	struct spif_operator op = {.sudo = o->sudo};
	if (strcmp(sub, "add") == 0) {
		if (!o->role)
			cli_usage(c, "add: --role ROLE is needed (operator, approver, auditor, responder, admin)");
		if (spif_roles_parse(o->role, &op.roles) < 0)
			cli_usage(c, "--role %s: not operator, approver, auditor, responder or admin", o->role);
		if (strlen(args[0]) >= sizeof op.name)
			cli_usage(c, "%s: name too long", args[0]);
		snprintf(op.name, sizeof op.name, "%s", args[0]);
		/* fingerprints are often written in groups of four: keep the digits */
		size_t k = 0;
		for (const char *p = o->key ? o->key : ""; *p; p++)
			if (*p != ' ') {
				if (k == sizeof op.key - 1)
					cli_usage(c, "--key %s: not an OpenPGP fingerprint (40 hex digits)", o->key);
				op.key[k++] = *p;
			}
		op.key[k] = '\0';
	}
	struct spif_catalog *cat = cli_catalog(c, strcmp(sub, "add") == 0 ? SPIF_CAT_CREATE : 0);
	int rc = spif_catalog_begin(cat, &e);
	if (rc < 0)
		op.roles = 0; /* nothing more: the error is said below */
	else if (strcmp(sub, "add") == 0)
		rc = spif_operator_add(cat, &op, &e);
	else if (strcmp(sub, "grant") == 0)
		rc = spif_operator_grant(cat, args[0], purpose, fid, &e);
	else if (strcmp(sub, "revoke") == 0)
		rc = spif_operator_revoke(cat, args[0], purpose, fid, &e);
	else {
		enum spif_op_state to = strcmp(sub, "lock") == 0 ? SPIF_OP_LOCKED
		                      : strcmp(sub, "unlock") == 0 ? SPIF_OP_ACTIVE : SPIF_OP_RETIRED;
		char *reason = o->reason ? xstrdup(o->reason) : NULL;
		if (reason)
			spif_mask_numbers(reason);
		rc = spif_operator_set_state(cat, args[0], to, reason, &e);
		free(reason);
	}
	if (rc < 0 || spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_close(cat);
		free(purpose);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	static const struct {
		const char *sub, *done;
	} said[] = {{"add", "added"}, {"grant", "granted"}, {"revoke", "revoked"}, {"lock", "locked"},
	            {"unlock", "unlocked"}, {"retire", "retired"}};
	for (size_t i = 0; i < sizeof said / sizeof *said; i++)
		if (strcmp(said[i].sub, sub) == 0)
			printf("%s %s%s%s\n", args[0], said[i].done, purpose ? ": " : "", purpose ? purpose : "");
	free(purpose);
	return 0;
}

static int approval_row(void *ctx, const struct spif_approval *a)
{
	const struct opts *o = ctx;
	char fid[24] = "";
	if (a->file_id)
		spif_file_id_format(a->file_id, fid);
	if (o->json) {
		cli_print_json(json_pack("{s:I,s:s,s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)a->id, "kind",
		                     spif_approval_kind_name(a->kind), "file", fid[0] ? json_string(fid) : json_null(),
		                     "purpose", a->purpose[0] ? json_string(a->purpose) : json_null(), "for",
		                     a->for_name, "approver", a->approver, "reason", a->reason, "approved", a->approved,
		                     "expires", a->expires, "revoked", a->revoked[0] ? json_string(a->revoked) : json_null()));
		return 0;
	}
	char *reason = spif_text_escaped(a->reason), *purpose = spif_text_escaped(a->purpose);
	printf("%-5lld %-6s %-18s %-16s %-16s %s%s  %s\n", a->id, spif_approval_kind_name(a->kind),
	       fid[0] ? fid : purpose ? purpose : "?", a->for_name, a->approver, a->expires,
	       a->revoked[0] ? " (revoked)" : "", reason ? reason : "?");
	free(reason);
	free(purpose);
	return 0;
}

/* approve bypass|export (ID | --purpose P) --for NAME --reason TEXT */
static int cmd_approve(struct cli *c, const struct opts *o, int n, char **args)
{
	struct spif_err e = {0};
	enum spif_approval_kind kind;
	if (n < 1 || spif_approval_kind_parse(args[0], &kind) < 0)
		cli_usage(c, "approve: bypass or export");
	if ((n == 2) == (o->purpose != NULL) || n > 2)
		cli_usage(c, "approve %s: one file ID or --purpose P", args[0]);
	long long fid = 0;
	if (n == 2 && (fid = spif_file_id_parse(args[1])) <= 0)
		cli_usage(c, "%s: not a file id (F000001)", args[1]);
	if (!o->for_name || !*o->for_name)
		cli_usage(c, "approve: --for NAME (the operator who will do it)");
	if (!o->reason || !*o->reason)
		cli_usage(c, "approve: --reason TEXT (it is logged)");
	if (o->hours < 0 || o->hours > SPIF_APPROVAL_MAX_HOURS)
		cli_usage(c, "--hours: from 1 to %d", SPIF_APPROVAL_MAX_HOURS);
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_SECOND, .object = o->for_name, .reason = o->reason,
	                                    .file_id = fid});
	char *reason = xstrdup(o->reason), *purpose = o->purpose ? xstrdup(o->purpose) : NULL;
	spif_mask_numbers(reason);
	if (purpose)
		spif_mask_numbers(purpose);
	struct spif_catalog *cat = cli_catalog(c, 0);
	long long id = 0;
	int rc = spif_catalog_begin(cat, &e);
	if (rc == 0)
		rc = spif_approval_add(cat, kind, fid, purpose, o->for_name, o->hours ? o->hours : SPIF_APPROVAL_HOURS,
		                       reason, &id, &e);
	if (rc < 0 || spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_close(cat);
		free(reason);
		free(purpose);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	printf("approval %lld: %s may %s %s for %d hours\n", id, o->for_name,
	       kind == SPIF_APPROVAL_BYPASS ? "bypass the governance schedule of" : "export with numbers",
	       n == 2 ? args[1] : "every file of the purpose", o->hours ? o->hours : SPIF_APPROVAL_HOURS);
	free(reason);
	free(purpose);
	return 0;
}

static int cmd_revoke_approval(struct cli *c, const struct opts *o, int n, char **args)
{
	struct spif_err e = {0};
	char *end;
	long long id = n == 1 ? strtoll(args[0], &end, 10) : 0;
	if (n != 1 || *end || id <= 0)
		cli_usage(c, "revoke-approval: N (see spif operator approvals)");
	if (!o->reason || !*o->reason)
		cli_usage(c, "revoke-approval: --reason TEXT (it is logged)");
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_SECOND, .reason = o->reason});
	char *reason = xstrdup(o->reason);
	spif_mask_numbers(reason);
	struct spif_catalog *cat = cli_catalog(c, 0);
	int rc = spif_catalog_begin(cat, &e);
	if (rc == 0)
		rc = spif_approval_revoke(cat, id, reason, &e);
	free(reason);
	if (rc < 0 || spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_close(cat);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	printf("approval %lld revoked\n", id);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	cli_init(&c, "spif-operator", argc, argv);
	static const struct option longopts[] = {
		{"role", required_argument, NULL, 'R'},  {"key", required_argument, NULL, 'K'},
		{"sudo", no_argument, NULL, 'S'},        {"file", required_argument, NULL, 'f'},
		{"reason", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
		{"purpose", required_argument, NULL, 'P'}, {"for", required_argument, NULL, 'F'},
		{"hours", required_argument, NULL, 'N'}, {"all", no_argument, NULL, 'A'},
		{"home", required_argument, NULL, 'H'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {0};
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'R': o.role = optarg; break;
		case 'K': o.key = optarg; break;
		case 'S': o.sudo = 1; break;
		case 'f': o.file = optarg; break;
		case 'r': o.reason = optarg; break;
		case 'j': o.json = 1; break;
		case 'P': o.purpose = optarg; break;
		case 'F': o.for_name = optarg; break;
		case 'N': {
			char *end;
			long h = strtol(optarg, &end, 10);
			if (*end || h < 1 || h > SPIF_APPROVAL_MAX_HOURS)
				cli_usage(&c, "--hours %s: from 1 to %d", optarg, SPIF_APPROVAL_MAX_HOURS);
			o.hours = (int)h;
			break;
		}
		case 'A': o.all = 1; break;
		case 'H': c.home_opt = optarg; break;
		case 'h': cli_help(usage_text); cli_done(&c); return 0;
		default: cli_bad_option(&c, argc, argv);
		}
	}
	if (optind >= argc)
		cli_usage(&c, "missing subcommand: add, ls, show, grant, revoke, lock, unlock, retire, approve, approvals "
		          "or revoke-approval");
	const char *sub = argv[optind++];
	int n = argc - optind;
	char **args = argv + optind;
	static const char *const subs[] = {"add",    "ls",      "show",    "grant",     "revoke",
	                                   "lock",   "unlock",  "retire",  "approve",   "approvals",
	                                   "revoke-approval"};
	size_t k;
	for (k = 0; k < sizeof subs / sizeof *subs; k++)
		if (strcmp(subs[k], sub) == 0)
			break;
	if (k == sizeof subs / sizeof *subs)
		cli_usage(&c, "%s: unknown subcommand (add, ls, show, grant, revoke, lock, unlock, retire, approve, "
		          "approvals, revoke-approval)", sub);
	if ((o.role || o.key || o.sudo) && strcmp(sub, "add") != 0)
		cli_usage(&c, "--role, --key and --sudo go with add");
	if (o.file && strcmp(sub, "grant") != 0 && strcmp(sub, "revoke") != 0)
		cli_usage(&c, "--file goes with grant and revoke");
	if (o.reason && strcmp(sub, "lock") && strcmp(sub, "unlock") && strcmp(sub, "retire") &&
	    strcmp(sub, "approve") && strcmp(sub, "revoke-approval"))
		cli_usage(&c, "--reason goes with lock, unlock, retire, approve and revoke-approval");
	if ((o.purpose || o.for_name || o.hours) && strcmp(sub, "approve") != 0)
		cli_usage(&c, "--purpose, --for and --hours go with approve");
	if (o.all && strcmp(sub, "approvals") != 0)
		cli_usage(&c, "--all goes with approvals");
	cli_permit_sub(&c, sub, NULL, NULL);
	int rc;
	if (strcmp(sub, "ls") == 0) {
		if (n != 0)
			cli_usage(&c, "ls: too many arguments");
		struct spif_err e = {0};
		struct spif_catalog *cat = cli_catalog(&c, SPIF_CAT_READONLY);
		if (!o.json)
			cli_heading((const char *const[]){N_("NAME"), N_("UID"), N_("STATE"),
			                                  N_("ROLES"), N_("KEY"), N_("REFUSALS")},
			            (const int[]){-16, 6, -8, -34, -40, 0}, 6);
		if (spif_operator_list(cat, ls_row, &o, &e) < 0)
			cli_die(&c, &e);
		spif_catalog_close(cat);
		rc = 0;
	} else if (strcmp(sub, "approve") == 0) {
		rc = cmd_approve(&c, &o, n, args);
	} else if (strcmp(sub, "revoke-approval") == 0) {
		rc = cmd_revoke_approval(&c, &o, n, args);
	} else if (strcmp(sub, "approvals") == 0) {
		if (n != 0)
			cli_usage(&c, "approvals: too many arguments");
		struct spif_err e = {0};
		struct spif_catalog *cat = cli_catalog(&c, SPIF_CAT_READONLY);
		if (!o.json)
			cli_heading((const char *const[]){N_("N"), N_("KIND"), N_("FILE/PURPOSE"), N_("FOR"), N_("APPROVER"),
			                                  N_("EXPIRES"), N_("REASON")},
			            (const int[]){-5, -6, -18, -16, -16, -8, 0}, 7);
		if (spif_approval_list(cat, o.all, approval_row, &o, &e) < 0)
			cli_die(&c, &e);
		spif_catalog_close(cat);
		rc = 0;
	} else if (strcmp(sub, "show") == 0) {
		if (n != 1)
			cli_usage(&c, "show: NAME");
		rc = cmd_show(&c, &o, args[0]);
	} else
		rc = cmd_change(&c, &o, sub, n, args);
	cli_done(&c);
	return rc;
}
