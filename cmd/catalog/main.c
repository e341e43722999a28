/* main.c - spif catalog ls | show ID | log | verify | check | copy |
 * review | report | checkpoint | key export | backup | restore-test | restore | cert:
 * what the catalog knows, whether its audit log and every row it covers
 * are intact (and extend a checkpoint kept elsewhere), whether its copies
 * are still on disk, what a reviewer must look at, the signed checkpoints
 * and their key, backups, and the disposal certificates.  Every
 * subcommand only reads, but cert confirm (a confirmation and its event),
 * copy lost (settles a copy gone outside spif), check (destroys what killed
 * runs left, tempfile.h), checkpoint and key export
 * (the key and the checkpoint), backup and the restores (their events). */
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
#include "text.h"
#include "vault.h"

#include "catalog_cmd.h"

const char usage_text[] = N_(
	"usage: spif catalog ls [--state STATE] [--json]\n"
	"       spif catalog show ID [--json]\n"
	"       spif catalog log [--file ID] [--operator NAME] [--since DATE] [--until DATE]\n"
	"           [--action NAME] [--limit N] [--json]\n"
	"       spif catalog verify [--checkpoint FILE] [--key FILE] [--json]\n"
	"       spif catalog check [--json]\n"
	"       spif catalog copy lost|missing COPY-ID --reason TEXT\n"
	"       spif catalog review [--since DATE] [--until DATE] [--json]\n"
	"       spif catalog checkpoint [--append FILE] [--syslog]\n"
	"       spif catalog checkpoint ls [--json]\n"
	"       spif catalog key export [--fingerprint]\n"
	"       spif catalog cert ls [--json]\n"
	"       spif catalog report --ledger disposal|checkout|files [--fiscal-year Y]\n"
	"           [--format text|pdf] [-o FILE]\n"
	"       spif catalog cert show ID [--format text|json|pdf] [-o FILE]\n"
	"       spif catalog cert export ID -o DIR\n"
	"       spif catalog cert verify ID|FILE.json|FILE.confirm.json [--key FILE]\n"
	"       spif catalog cert confirm ID [--note TEXT] [--sign KEYID]\n"
	"       spif catalog cert cosign [ID...] [--sign KEYID]\n"
	"       spif catalog backup -o DIR [--json]\n"
	"       spif catalog restore-test DIR [--sample N] [--json]\n"
	"       spif catalog restore DIR [--keys KEYDIR] [--json]\n"
	"\n"
	"  ls       every file: id, state, records, persons, received, purpose, label\n"
	"  show     one file (F000001) with its copies\n"
	"  log      the audit log, oldest first (--limit N: the last N events);\n"
	"           --file ID: everything about the file (its copies, certificates,\n"
	"           exports); --operator NAME: only theirs; --since/--until DATE:\n"
	"           from/through that day (spif.conf timezone); --action NAME: that\n"
	"           action (shred: shred.*, too)\n"
	"  review   what a reviewer must look at from --since to --until (local days):\n"
	"           refusals, lockouts, reads of records outside office hours, bulk\n"
	"           reads, governance bypasses, certificates not yet confirmed\n"
	"  verify   recompute the audit log's hash chain and Merkle tree, compare every\n"
	"           row and the schema with what the log records; exit 1 naming the\n"
	"           first event that does not match, each row changed outside spif, or\n"
	"           copies a crash left half-destroyed.  --checkpoint FILE: prove the log\n"
	"           extends each checkpoint in FILE (else only internal consistency)\n"
	"  checkpoint  sign the log as it is (C2SP tlog-checkpoint) and print it;\n"
	"           --append FILE adds it to FILE, --syslog sends it to syslog;\n"
	"           checkpoint ls: every checkpoint issued (events, time, root)\n"
	"  key export  the checkpoints' public key (signed-note verifier key) and its\n"
	"           SHA-256 fingerprint (--fingerprint: the fingerprint alone)\n"
	"  report   a ledger to print, stamp and file, for fiscal year Y (April to March;\n"
	"           default: the current one): disposal (廃棄簿: certificates), checkout\n"
	"           (持出し簿: exports and their return), files (特定個人情報ファイル簿);\n"
	"           --format pdf: A4 with 押印欄, page n of m, the checkpoint key's\n"
	"           fingerprint (never onto a terminal); -o FILE: written whole or not\n"
	"  check    every present copy still where the catalog says, with its size\n"
	"           and SHA-256 (vault copies: a vault file); exit 1 listing each\n"
	"           missing or changed copy; first destroys (and lists, exit 1) the\n"
	"           hidden outputs killed runs left where there is no O_TMPFILE\n"
	"  copy lost  record that a copy is gone outside spif (deleted by hand, a\n"
	"           medium lost or handed back): it no longer blocks disposal, the\n"
	"           file's disposal certificate lists it as lost; a copy that held\n"
	"           numbers places an incident hold on its file (spif retain release)\n"
	"  cert     disposal certificates: list, show (bilingual text or the signed\n"
	"           JSON, then the confirmation's), export ID.json (+ ID.json.asc,\n"
	"           ID.proof.json, and ID.confirm.json (+ .asc) when confirmed), verify\n"
	"           against the catalog, the signatures and the audit log (or, with no\n"
	"           catalog, offline: its inclusion proof and signature), confirm by a\n"
	"           second operator, cosign with the organisation's key (sign_key)\n"
	"           what an operator's own key signed\n"
	"\n"
	"  backup   a consistent backup into DIR: catalog snapshot, vault files, last\n"
	"           checkpoint; never a key (see spif-catalog(1))\n"
	"  restore-test  restore DIR into a scratch home, verify it, open a sample\n"
	"           of its vault files with the live keys; exit 1 when it fails\n"
	"  restore  restore DIR into the (empty) home; files disposed since stay gone\n"
	"\n"
	"  --json   one JSON object per line (show: one object)\n"
	"  --key FILE  the catalog's public key (what key export prints), instead of\n"
	"           the home's: for a checkpoint or a certificate checked elsewhere\n"
	"  --home DIR  the spif home (else $SPIF_HOME, spif.conf, ~/.local/share/spif)\n"
	"\n"
	"Exit: 0 ok, 1 verify found tampering (or a checkpoint the log does not extend;\n"
	"check: a copy missing or changed), 64 usage, 65 unknown id (copy lost: a copy\n"
	"already disposed or lost), 66 no catalog, 77 catalog writable by others.\n");

static json_t *file_json(const struct spif_file *f)
{
	char id[24];
	spif_file_id_format(f->id, id);
	json_t *nf = json_loads(f->number_fields ? f->number_fields : "[]", 0, NULL);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "state", json_string(spif_file_state_name(f->state)));
	json_object_set_new(o, "label", cli_jstr(f->label));
	json_object_set_new(o, "purpose", cli_jstr(f->purpose));
	json_object_set_new(o, "source", cli_jstr(f->source));
	json_object_set_new(o, "received", cli_jstr(f->received));
	json_object_set_new(o, "format", cli_jstr(f->format));
	json_object_set_new(o, "encoding", cli_jstr(f->encoding));
	json_object_set_new(o, "number_fields", nf ? nf : json_array());
	json_object_set_new(o, "records", json_integer(f->records));
	json_object_set_new(o, "persons", json_integer(f->persons));
	json_object_set_new(o, "invalid", json_integer(f->invalid));
	json_object_set_new(o, "sha256", cli_jstr(f->sha256));
	json_object_set_new(o, "created", cli_jstr(f->created));
	json_object_set_new(o, "schedule", cli_jstr(f->schedule));
	json_object_set_new(o, "retain_until", cli_jstr(f->retain_until));
	return o;
}

static int ls_row(void *ctx, const struct spif_file *f)
{
	const struct opts *o = ctx;
	if (o->json)
		cli_print_json(file_json(f));
	else {
		char id[24];
		spif_file_id_format(f->id, id);
		printf("%-8s %-9s %9lld %9lld %-10s ", id, spif_file_state_name(f->state), f->records, f->persons,
		       f->received);
		spif_text_pad(stdout, f->purpose, 20);
		putchar(' ');
		spif_text_put(stdout, f->label); /* escaped: a label cannot forge a row */
		putchar('\n');
	}
	return 0;
}

int cmd_ls(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	/* --state is not checked (spif-catalog(1)): an unknown one lists nothing */
	int state = o->state ? spif_file_state_parse(o->state) : -1;
	if (!o->json)
		cli_heading((const char *const[]){N_("ID"), N_("STATE"), N_("RECORDS"), N_("PERSONS"),
		                                  N_("RECEIVED"), N_("PURPOSE"), N_("LABEL")},
		            (const int[]){-8, -9, 9, 9, -10, -20, 0}, 7);
	if ((!o->state || state >= 0) && spif_catalog_list_files(cat, state, ls_row, (void *)o, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

int cmd_show(struct cli *c, const struct opts *o, const char *idarg)
{
	long long id = spif_file_id_parse(idarg);
	if (id < 0)
		cli_usage(c, "%s: not a file id (F000001)", idarg);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct spif_file f;
	struct spif_copy *cp;
	size_t n;
	if (spif_catalog_get_file(cat, id, &f, &e) < 0 ||
	    spif_catalog_get_copies(cat, id, &cp, &n, &e) < 0)
		cli_die(c, &e);
	if (o->json) {
		json_t *j = file_json(&f);
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *k = json_object();
			json_object_set_new(k, "id", json_integer(cp[i].id));
			json_object_set_new(k, "kind", cli_jstr(cp[i].kind));
			json_object_set_new(k, "path", cli_jstr(cp[i].path));
			json_object_set_new(k, "sha256", cli_jstr(cp[i].sha256));
			json_object_set_new(k, "size", json_integer(cp[i].size));
			json_object_set_new(k, "encrypted", json_boolean(cp[i].encrypted));
			json_object_set_new(k, "created", cli_jstr(cp[i].created));
			json_object_set_new(k, "state", json_string(spif_copy_state_name(cp[i].state)));
			json_array_append_new(arr, k);
		}
		json_object_set_new(j, "copies", arr);
		cli_print_json(j);
	} else {
		char fid[24], created[48];
		spif_file_id_format(f.id, fid);
		spif_time_for_people(f.created, created);
		/* what came from outside is shown escaped: no line of it can pass
		 * for another field or copy */
		char *label = spif_text_escaped(f.label), *purpose = spif_text_escaped(f.purpose),
		     *source = spif_text_escaped(f.source ? f.source : "-"),
		     *nfields = spif_text_escaped(f.number_fields ? f.number_fields : "[]");
		/* a label a line, each looked up whole: a translation pads its
		 * own label to the column */
		printf(_("id:            %s\n"), fid);
		printf(_("label:         %s\n"), label ? label : "?");
		printf(_("purpose:       %s\n"), purpose ? purpose : "?");
		printf(_("source:        %s\n"), source ? source : "?");
		printf(_("received:      %s\n"), f.received);
		printf(_("format:        %s (%s)\n"), f.format, f.encoding);
		printf(_("number fields: %s\n"), nfields ? nfields : "?");
		printf(_("records:       %lld\n"), f.records);
		printf(_("persons:       %lld\n"), f.persons);
		printf(_("invalid:       %lld\n"), f.invalid);
		printf(_("sha256:        %s\n"), f.sha256);
		printf(_("created:       %s\n"), created);
		printf(_("state:         %s\n"), spif_file_state_name(f.state));
		printf(_("schedule:      %s\n"), f.schedule ? f.schedule : "-");
		printf(_("retain until:  %s\n"), f.retain_until ? f.retain_until : "-");
		printf("%s", _("copies:\n"));
		free(label);
		free(purpose);
		free(source);
		free(nfields);
		for (size_t i = 0; i < n; i++) {
			printf("  %lld %-9s %-8s %12lld %s ", cp[i].id, cp[i].kind, spif_copy_state_name(cp[i].state),
			       cp[i].size, cp[i].sha256 ? cp[i].sha256 : "-");
			spif_text_put(stdout, cp[i].path);
			printf("%s\n", cp[i].encrypted ? _(" (encrypted)") : "");
		}
	}
	spif_copies_free(cp, n);
	spif_file_free(&f);
	spif_catalog_close(cat);
	return 0;
}

static int log_row(void *ctx, const struct spif_event_row *ev)
{
	const struct opts *o = ctx;
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "seq", json_integer(ev->seq));
		json_object_set_new(j, "time", cli_jstr(ev->time));
		json_object_set_new(j, "operator", cli_jstr(ev->operator_));
		json_object_set_new(j, "sudo_user", cli_jstr(ev->sudo_user));
		json_object_set_new(j, "host", cli_jstr(ev->host));
		json_object_set_new(j, "pid", json_integer(ev->pid));
		json_t *argv = json_loads(ev->argv, 0, NULL);
		json_object_set_new(j, "argv", argv ? argv : cli_jstr(ev->argv));
		json_object_set_new(j, "action", cli_jstr(ev->action));
		json_object_set_new(j, "object", cli_jstr(ev->object));
		json_t *d = json_loads(ev->details, 0, NULL);
		json_object_set_new(j, "details", d ? d : cli_jstr(ev->details));
		json_object_set_new(j, "prev_hash", cli_jstr(ev->prev_hash));
		json_object_set_new(j, "hash", cli_jstr(ev->hash));
		cli_print_json(j);
	} else {
		const char *sudo = ev->sudo_user;
		char when[48];
		spif_time_for_people(ev->time, when);
		printf("%6lld %s %s%s%s %s %s %s\n", ev->seq, when, ev->operator_, sudo ? " (sudo " : "",
		       sudo ? sudo : "", sudo ? ")" : "", ev->action, ev->object ? ev->object : "-");
		printf("       %s\n", ev->details);
	}
	return 0;
}

/* --since/--until DATE: a legal date (spif.conf's zone) as the UTC time
 * it begins at; until is through that day, so the bound is the next day. */
const char *log_bound(struct cli *c, const char *opt, const char *arg, int next_day, char out[32])
{
	long day;
	if (!arg)
		return NULL;
	if (spif_day_parse(arg, &day) < 0)
		cli_usage(c, "%s %s: not a date (YYYY-MM-DD)", opt, arg);
	spif_legal_day_start_utc(day + next_day, out);
	return out;
}

int cmd_log(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	struct spif_event_filter f = {.operator_ = o->op_name, .action = o->action, .last = o->limit};
	char since[32], until[32];
	if (o->file && (f.file_id = spif_file_id_parse(o->file)) < 0)
		cli_usage(c, "%s: not a file id (F000001)", o->file);
	f.since = log_bound(c, "--since", o->since, 0, since);
	f.until = log_bound(c, "--until", o->until, 1, until);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	/* the last N events, shown oldest first */
	if (spif_catalog_filter_events(cat, &f, log_row, (void *)o, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'},       {"file", required_argument, NULL, 'f'},
	{"limit", required_argument, NULL, 'n'}, {"state", required_argument, NULL, 's'},
	{"home", required_argument, NULL, 'H'},  {"help", no_argument, NULL, 'h'},
	{"format", required_argument, NULL, 'F'}, {"output", required_argument, NULL, 'o'},
	{"note", required_argument, NULL, 'N'},  {"sign", required_argument, NULL, 'S'},
	{"since", required_argument, NULL, 1001}, {"until", required_argument, NULL, 1002},
	{"action", required_argument, NULL, 1003}, {"reason", required_argument, NULL, 1004},
	{"operator", required_argument, NULL, 'O'},
	{"checkpoint", required_argument, NULL, 'C'}, {"key", required_argument, NULL, 'K'},
	{"append", required_argument, NULL, 'A'}, {"syslog", no_argument, NULL, 'Y'},
	{"fingerprint", no_argument, NULL, 'P'},
	{"ledger", required_argument, NULL, 1005}, {"fiscal-year", required_argument, NULL, 1006},
	{NULL, 0, NULL, 0},
};

/* Options may stand anywhere: GNU getopt permutes, so after one pass the
 * operands (subcommand, its arguments) are argv[optind..] in order. */
static void parse_opts(struct cli *c, struct opts *o, int argc, char **argv, const char *optstring)
{
	int ch;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': o->json = 1; break;
		case 'f': o->file = optarg; break;
		case 's': o->state = optarg; break;
		case 'n': {
			char *end;
			o->limit = strtoll(optarg, &end, 10);
			if (*end || o->limit <= 0)
				cli_usage(c, "--limit %s: not a positive number", optarg);
			break;
		}
		case 'H': c->home_opt = optarg; break;
		case 'F': o->format = optarg; break;
		case 'o': o->out = optarg; break;
		case 'N': o->note = optarg; break;
		case 'S': o->sign = optarg; break;
		case 1001: o->since = optarg; break;
		case 1002: o->until = optarg; break;
		case 1003: o->action = optarg; break;
		case 1004: o->reason = optarg; break;
		case 1005: o->ledger = optarg; break;
		case 1006: o->fiscal_year = optarg; break;
		case 'O': o->op_name = optarg; break;
		case 'C': o->checkpoint = optarg; break;
		case 'K': o->key = optarg; break;
		case 'A': o->append = optarg; break;
		case 'Y': o->syslog = 1; break;
		case 'P': o->fingerprint = 1; break;
		case 'h': cli_help(usage_text); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
}

int main(int argc, char **argv)
{
	struct cli c;
	cli_init(&c, "spif-catalog", argc, argv);
	if (backup_sub(argc, argv))
		return cmd_backup(&c, argc, argv);
	struct opts o = {0};
	opterr = 0;
	parse_opts(&c, &o, argc, argv, "hjn:o:");
	if (optind >= argc)
		cli_usage(&c, "missing subcommand: ls, show, log, verify, checkpoint, key or cert");
	const char *sub = argv[optind++];
	const char *certsub = NULL;
	if (strcmp(sub, "cert") == 0) {
		if (optind >= argc)
			cli_usage(&c, "cert: missing subcommand: ls, show, export, verify, confirm or cosign");
		certsub = argv[optind++];
	}
	int rc = 0;
	int nargs = argc - optind;
	cli_permit_sub(&c, sub, certsub, certsub && nargs ? argv[optind] : NULL);
	if (certsub)
		rc = cert_cmd(&c, &o, certsub, nargs, argv + optind);
	else if (strcmp(sub, "ls") == 0 && nargs == 0)
		rc = cmd_ls(&c, &o);
	else if (strcmp(sub, "show") == 0 && nargs == 1)
		rc = cmd_show(&c, &o, argv[optind]);
	else if (strcmp(sub, "log") == 0 && nargs == 0)
		rc = cmd_log(&c, &o);
	else if (strcmp(sub, "verify") == 0 && nargs == 0)
		rc = cmd_verify(&c, &o);
	else if (strcmp(sub, "check") == 0 && nargs == 0)
		rc = cmd_check(&c, &o);
	else if (strcmp(sub, "copy") == 0)
		rc = cmd_copy(&c, &o, nargs, argv + optind);
	else if (strcmp(sub, "report") == 0 && nargs == 0)
		rc = cmd_report(&c, &o);
	else if (strcmp(sub, "review") == 0 && nargs == 0)
		rc = cmd_review(&c, &o);
	else if (strcmp(sub, "checkpoint") == 0 && nargs == 0)
		rc = cmd_checkpoint(&c, &o);
	else if (strcmp(sub, "checkpoint") == 0 && nargs == 1 && strcmp(argv[optind], "ls") == 0)
		rc = cmd_checkpoint_ls(&c, &o);
	else if (strcmp(sub, "checkpoint") == 0 && nargs == 1)
		cli_usage(&c, "checkpoint %s: unknown (ls, or nothing to sign one)", argv[optind]);
	else if (strcmp(sub, "key") == 0 && nargs == 1 && strcmp(argv[optind], "export") == 0)
		rc = cmd_key(&c, &o);
	else if (strcmp(sub, "key") == 0 && nargs == 1)
		cli_usage(&c, "key %s: unknown (export)", argv[optind]);
	else if (strcmp(sub, "ls") && strcmp(sub, "show") && strcmp(sub, "log") && strcmp(sub, "verify") &&
	         strcmp(sub, "check") && strcmp(sub, "review") && strcmp(sub, "report") && strcmp(sub, "checkpoint") && strcmp(sub, "key"))
		cli_usage(&c, "%s: unknown subcommand (ls, show, log, verify, check, copy, review, report, "
		          "checkpoint, key, cert)", sub);
	else
		cli_usage(&c, "%s: wrong number of arguments", sub);
	cli_done(&c);
	return rc;
}

