/* ledger.c - spif export verify | ls | return | destroyed | lost |
 * delivered: checking an archive, and the ledger (持出し簿) after the
 * export. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "export_cmd.h"
#include "mynumber.h"
#include "text.h"

/* ---- verify --------------------------------------------------------------- */

static void problem(void *ctx, const char *kind, const char *path, const char *detail)
{
	(void)ctx;
	printf("%s: %s%s%s%s\n", kind, path, detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
}

int cmd_verify(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "verify", O_KEY | O_PASS);
	if (o->nargs != 1)
		cli_usage(c, "verify takes one archive or bag directory");
	if (o->key && !*o->key)
		cli_usage(c, "--key: give the catalog's public key file");
	struct spif_export_check r;
	/* a ZIP's password only when the file is one (asked for at the
	 * terminal when no file gives it) */
	char *pw = NULL;
	if (o->passphrase_file || spif_export_is_zip(o->args[0]))
		pw = export_password(c, o->passphrase_file, 0);
	int rc = spif_export_check_with(o->args[0], pw, problem, NULL, &r, &e);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (rc < 0)
		cli_die(c, &e);
	fflush(stdout);
	const char *id = r.bag.top[0] ? r.bag.top : o->args[0];
	int bad = r.bag.problems > 0 || r.sig_status < 0;
	cli_note_begin(c, "%s: %s, %lld payload file%s, %lld bytes", id,
	               r.bag.problems ? _("INVALID bag") : _("valid BagIt bag"), r.bag.payload_files,
	               r.bag.payload_files == 1 ? "" : "s", r.bag.payload_bytes);
	if (r.bag.problems)
		cli_note_more(c, ", %lld problem%s", r.bag.problems, r.bag.problems == 1 ? "" : "s");
	if (r.encrypted) {
		if (r.sig_status > 0)
			cli_note_more(c, "; good signature by %s", r.signer);
		else if (r.sig_status < 0)
			cli_note_more(c, "; BAD SIGNATURE: %s", r.sig_problem);
		else
			cli_note_more(c, "; not signed");
	} else if (r.zip)
		cli_note_more(c, "; a password ZIP (AES-256), not signed");
	else
		cli_note_more(c, "; not encrypted");
	cli_note_end(c);
	spif_export_check_free(&r);
	/* a forensic bundle: every proof in it, with the catalog's key */
	if (o->key && forensic_verify(c, o->args[0], o->key) != 0)
		bad = 1;
	return bad ? SPIF_FOUND : 0;
}

/* ---- ls ------------------------------------------------------------------- */

struct ls {
	int json;
	long n;
};

/* "F000001 F000002" from the files JSON, at most n bytes. */
static void file_ids(const char *files, char *out, size_t n)
{
	json_t *a = json_loads(files ? files : "[]", 0, NULL);
	size_t i, o = 0;
	json_t *f;
	out[0] = '\0';
	json_array_foreach(a, i, f) {
		const char *id = json_string_value(json_object_get(f, "file"));
		if (id && o + strlen(id) + 2 < n)
			o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "," : "", id);
	}
	json_decref(a);
}

static json_t *jraw(const char *s)
{
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	return j ? j : json_null();
}

static int ls_row(void *ctx, const struct spif_export_row *r)
{
	struct ls *l = ctx;
	l->n++;
	if (l->json) {
		json_t *j = json_object();
		json_object_set_new(j, "id", json_string(r->id));
		json_object_set_new(j, "state", json_string(spif_export_state_name(r->state)));
		json_object_set_new(j, "created", cli_jstr(r->created));
		json_object_set_new(j, "due", cli_jstr(r->due));
		json_object_set_new(j, "files", jraw(r->files));
		json_object_set_new(j, "records", json_integer(r->records));
		json_object_set_new(j, "persons", json_integer(r->persons));
		json_object_set_new(j, "recipients", jraw(r->recipients));
		json_object_set_new(j, "organisation", cli_jstr(r->organisation));
		json_object_set_new(j, "person", cli_jstr(r->person));
		json_object_set_new(j, "basis", cli_jstr(r->basis));
		json_object_set_new(j, "reason", cli_jstr(r->reason));
		json_object_set_new(j, "operator", cli_jstr(r->operator_));
		json_object_set_new(j, "approver", cli_jstr(r->approver));
		json_object_set_new(j, "medium", cli_jstr(r->medium));
		json_object_set_new(j, "seal", cli_jstr(r->seal));
		json_object_set_new(j, "format", cli_jstr(r->format));
		json_object_set_new(j, "path", cli_jstr(r->path));
		json_object_set_new(j, "signer", cli_jstr(r->signer));
		json_object_set_new(j, "archive_sha256", cli_jstr(r->archive_sha256));
		json_object_set_new(j, "archive_size", json_integer(r->archive_size));
		json_object_set_new(j, "checkout_sha256", cli_jstr(r->checkout_sha256));
		json_object_set_new(j, "closed", cli_jstr(r->closed));
		json_object_set_new(j, "closed_by", cli_jstr(r->closed_by));
		json_object_set_new(j, "fate", jraw(r->fate));
		cli_print_json(j);
		return 0;
	}
	char files[256], created[11] = "";
	file_ids(r->files, files, sizeof files);
	snprintf(created, sizeof created, "%s", r->created ? r->created : "");
	printf("%-15s %-22s %-10s %-10s %-8s %8lld ", r->id, spif_export_state_name(r->state), created,
	       r->due ? r->due : "-", r->medium ? r->medium : "-", r->records);
	spif_text_pad(stdout, files, 8);
	printf(" %s\n", r->organisation ? r->organisation : "");
	return 0;
}

int cmd_ls(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "ls", O_OUTST | O_OVERDUE | O_JSON);
	if (o->nargs)
		cli_usage(c, "ls takes no arguments");
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	char today[11];
	spif_today(today);
	struct ls l = {o->json, 0};
	if (!o->json)
		cli_heading((const char *const[]){N_("ID"), N_("STATE"), N_("CREATED"), N_("DUE"),
		                                  N_("MEDIUM"), N_("RECORDS"), N_("FILES"),
		                                  N_("RECIPIENT")},
		            (const int[]){-15, -22, -10, -10, -8, 8, -8, 0}, 8);
	int which = o->overdue ? SPIF_EXPORT_LIST_OVERDUE : o->outstanding ? SPIF_EXPORT_LIST_OUT : 0;
	if (spif_export_list(cat, which, today, ls_row, &l, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	if (o->overdue && l.n) {
		fflush(stdout);
		cli_note(c, "%ld checkout%s past %s due date (%s)", l.n, l.n == 1 ? " is" : "s are",
		         l.n == 1 ? "its" : "their", today);
		return SPIF_FOUND;
	}
	return 0;
}

/* ---- closing a checkout ----------------------------------------------------- */

static const char *export_arg(const struct cli *c, const struct opts *o, const char *sub, int max)
{
	if (o->nargs < 1 || o->nargs > max)
		cli_usage(c, "%s takes an export id (EX-2026-000001)%s", sub, max > 1 ? " and an optional path" : "");
	if (!spif_export_id_valid(o->args[0]))
		cli_usage(c, "%s: not an export id (EX-2026-000001)", o->args[0]);
	return o->args[0];
}

/* A text an operator typed, going into the ledger: one line, no number. */
static void plain_text(const struct cli *c, const char *opt, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			cli_usage(c, "%s: control characters (a line break?) are not allowed", opt);
	if (spif_text_has_number(s))
		cli_usage(c, "%s holds what may be an Individual Number; the ledger never records one", opt);
}

int cmd_return(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "return", O_RECEIVED | O_SEAL);
	const char *id = export_arg(c, o, "return", 2);
	if (!o->received_by || !*o->received_by)
		cli_usage(c, "return needs --received-by NAME: who took it back");
	if (!o->seal || (strcmp(o->seal, "intact") != 0 && strcmp(o->seal, "broken") != 0))
		cli_usage(c, "return needs --seal intact or --seal broken");
	plain_text(c, "--received-by", o->received_by);
	const char *path = o->nargs > 1 ? o->args[1] : NULL;
	int intact = strcmp(o->seal, "intact") == 0;
	struct spif_catalog *cat = cli_catalog(c, 0);
	if (spif_export_return(cat, id, o->received_by, intact, path, &e) < 0)
		cli_die(c, &e);
	struct spif_export_row r;
	if (spif_export_get(cat, id, &r, &e) < 0)
		cli_die(c, &e);
	json_t *fate = json_loads(r.fate ? r.fate : "{}", 0, NULL);
	const char *where = json_string_value(json_object_get(fate, "path"));
	int dir = r.format && strcmp(r.format, "dir") == 0;
	cli_note(c, "%s returned, received by %s, seal %s; the %s is the one that left (%s); destroy "
	         "it with: spif shred %s%s", id, o->received_by, o->seal, dir ? _("bag") : _("archive"),
	         dir ? _("every file as its manifests list") : _("SHA-256 matches"), where ? where : "?",
	         dir ? "/data/*" : "");
	if (!intact)
		cli_note(c, "warning: %s came back with its seal broken: the ledger records it; whether that is an "
		         "incident is for the office to decide", id);
	json_decref(fate);
	spif_export_row_free(&r);
	spif_catalog_close(cat);
	return 0;
}

int cmd_destroyed(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "destroyed", O_CERT);
	const char *id = export_arg(c, o, "destroyed", 1);
	if (!o->certificate || !*o->certificate)
		cli_usage(c, "destroyed needs --certificate FILE: the recipient's signed deletion certificate");
	struct spif_catalog *cat = cli_catalog(c, 0);
	int kept = 0;
	if (spif_export_destroyed(cat, id, o->certificate, &kept, &e) < 0)
		cli_die(c, &e);
	struct spif_export_row r;
	if (spif_export_get(cat, id, &r, &e) < 0)
		cli_die(c, &e);
	json_t *fate = json_loads(r.fate ? r.fate : "{}", 0, NULL);
	cli_note(c, "%s destroyed by the recipient: certificate %s signed by %s", id,
	         o->certificate, json_string_value(json_object_get(fate, "signer")));
	if (kept)
		cli_note(c, "the archive is still here (%s): destroy it with: spif shred %s", r.path, r.path);
	json_decref(fate);
	spif_export_row_free(&r);
	spif_catalog_close(cat);
	return 0;
}

int cmd_lost(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "lost", O_REASON);
	const char *id = export_arg(c, o, "lost", 1);
	if (!o->reason || !*o->reason)
		cli_usage(c, "lost needs --reason TEXT: what happened");
	plain_text(c, "--reason", o->reason);
	struct spif_catalog *cat = cli_catalog(c, 0);
	json_t *holds = NULL;
	if (spif_export_lost(cat, id, o->reason, &holds, &e) < 0)
		cli_die(c, &e);
	size_t i;
	json_t *h;
	json_array_foreach(holds, i, h)
		printf("%s\n", json_string_value(h));
	fflush(stdout);
	cli_note(c, "%s lost; %zu file%s held (an incident hold: spif retain release when it is closed)", id,
	         json_array_size(holds), json_array_size(holds) == 1 ? "" : "s");
	json_decref(holds);
	spif_catalog_close(cat);
	return 0;
}

/* A disclosure answer handed to the person: its checkout ends there. */
int cmd_delivered(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "delivered", O_RECEIVED | O_NOTE);
	const char *id = export_arg(c, o, "delivered", 1);
	if (!o->received_by || !*o->received_by)
		cli_usage(c, "delivered needs --received-by NAME: the person who received the answer");
	plain_text(c, "--received-by", o->received_by);
	if (o->note) {
		if (!*o->note)
			cli_usage(c, "--note: empty");
		plain_text(c, "--note", o->note);
	}
	struct spif_catalog *cat = cli_catalog(c, 0);
	int kept = 0;
	if (spif_export_delivered(cat, id, o->received_by, o->note, &kept, &e) < 0)
		cli_die(c, &e);
	struct spif_export_row r;
	if (spif_export_get(cat, id, &r, &e) < 0)
		cli_die(c, &e);
	cli_note(c, "%s delivered to %s: the disclosure answer is theirs; the checkout is closed", id, o->received_by);
	if (kept)
		cli_note(c, "the archive is still here (%s): destroy it with: spif shred %s", r.path, r.path);
	spif_export_row_free(&r);
	spif_catalog_close(cat);
	return 0;
}
