/* forensic.c - spif export --forensic: the options of a forensic bundle,
 * checked before anything is touched, then one call (lib/forensic.h); and
 * the forensic part of spif export verify --key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "export_cmd.h"
#include "forensic.h"
#include "incident.h"
#include "mynumber.h"
#include "xalloc.h"

/* "YYYY-MM-DD" or a UTC time "YYYY-MM-DDTHH:MM[:SS[.mmm]]Z": the bound as
 * events' times compare (until: a date means the whole day). */
static const char *bound(const struct cli *c, const char *opt, const char *s, int upper, char *out, size_t n)
{
	if (!s)
		return NULL;
	size_t len = strlen(s);
	char day[11];
	snprintf(day, sizeof day, "%s", s);
	int okday = len >= 10 && cli_parse_date(day) == 0;
	int date = okday && len == 10;
	int time = okday && len >= 17 && len <= 24 && s[10] == 'T' && s[len - 1] == 'Z';
	for (size_t i = 11; time && i < len - 1; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == ':' || s[i] == '.'))
			time = 0;
	if (!date && !time)
		cli_usage(c, "%s %s: give a date (YYYY-MM-DD) or a UTC time (YYYY-MM-DDTHH:MM:SSZ)", opt, s);
	/* a date as an upper bound is the end of that day: "~" sorts after "T" */
	snprintf(out, n, "%.*s%s", (int)(date ? len : len - 1), s, date && upper ? "~" : "");
	return out;
}

struct ids {
	long long *v;
	size_t n, cap;
};

static void add_id(struct ids *x, long long id)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->v = xreallocarray(x->v, x->cap, sizeof *x->v);
	}
	x->v[x->n++] = id;
}

static int add_inc_file(void *ctx, const struct spif_incident_file *f)
{
	if (f->hold_id) /* 0: disposed, nothing of it leaves */
		add_id(ctx, f->file_id);
	return 0;
}

/* --with-records: the records of each file leave with their numbers, so
 * each passes the gate an export without --redact passes (main.c's
 * export_permit): the file's grant, the reason, a second person's
 * approval, whose giver custody.json names.  The files are the
 * incident's and those --file adds; the library refuses to bundle the
 * records of any other (one that joined the incident meanwhile). */
static void records_permit(struct cli *c, const struct opts *o, char *approver, size_t n, struct ids *out)
{
	struct ids x = {NULL, 0, 0};
	struct spif_catalog *cat = cli_catalog_if_exists(c);
	struct spif_err e = {0};
	if (cat && spif_incident_files(cat, o->incident, add_inc_file, &x, &e) < 0) {
		free(x.v);
		spif_catalog_close(cat);
		cli_die(c, &e);
	}
	for (size_t i = 0; i < o->nfiles; i++)
		add_id(&x, o->files[i]);
	for (size_t i = 0; i < x.n; i++) {
		cli_permit_in(c, cat, (struct spif_request){.act = SPIF_ACT_EXPORT, .file_id = x.v[i],
		                                            .reason = o->reason});
		approver_add(approver, n, c->permit.approver);
	}
	spif_catalog_close(cat);
	*out = x;
}

int cmd_forensic(struct cli *c, const struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "--forensic", O_FORENSIC | O_INCIDENT | O_FILE | O_SINCE | O_UNTIL | O_RCPT | O_SIGN | O_REASON |
	      O_OUT | O_RECORDS);
	if (o->nargs)
		cli_usage(c, "%s: --forensic takes no argument (give files with --file)", o->args[0]);
	if (!o->incident)
		cli_usage(c, "--forensic needs --incident INC (spif incident open)");
	if (!spif_incident_id_valid(o->incident))
		cli_usage(c, "--incident %s: not an incident id (INC-2026-000001)", o->incident);
	for (size_t i = 0; i < o->nfiles; i++)
		if (o->files[i] <= 0)
			cli_usage(c, "--file: not a file id (F000001)");
	if (!o->out || !*o->out)
		cli_usage(c, "where to: -o OUT");
	if (!o->nrecipients)
		cli_usage(c, "no responder: give -r RESPONDER (the bundle is encrypted to them)");
	if (o->nrecipients > 16)
		cli_usage(c, "at most 16 recipients");
	if (o->with_records && (!o->reason || !*o->reason))
		cli_usage(c, "--with-records: records leave with a reason: give --reason TEXT");
	if (o->reason && spif_text_has_number(o->reason))
		cli_usage(c, "--reason holds what may be an Individual Number; the bundle never records one");
	char since[32], until[32];
	const char *s = bound(c, "--since", o->since, 0, since, sizeof since);
	const char *u = bound(c, "--until", o->until, 1, until, sizeof until);
	if (s && u && strcmp(s, u) >= 0)
		cli_usage(c, "--since is not before --until");
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_INCIDENT, .object = o->incident});
	char approver[256] = "";
	struct ids gated = {NULL, 0, 0};
	if (o->with_records)
		records_permit(c, o, approver, sizeof approver, &gated);
	const char *sign = o->sign_key ? o->sign_key : c->conf.sign_key[0] ? c->conf.sign_key : NULL;
	struct spif_catalog *cat = cli_catalog(c, 0);
	struct spif_forensic_opts x = {
		.incident = o->incident, .files = o->files, .nfiles = o->nfiles, .since = s, .until = u,
		.recipients = o->recipients, .nrecipients = o->nrecipients, .sign_key = sign, .reason = o->reason,
		.out = o->out, .conf = &c->conf, .with_records = o->with_records,
		.approver = approver[0] ? approver : NULL, .gated = gated.v, .ngated = gated.n,
	};
	struct spif_forensic_result r;
	int frc = spif_forensic_run(cat, &x, &r, &e);
	free(gated.v);
	if (frc < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	printf("%s\n", r.sha256);
	if (o->with_records && r.export_id[0])
		cli_note(c, "%s: forensic bundle, %lld events with their proofs, %zu file%s, the records of %zu "
		         "(checked out as %s), encrypted for %zu key%s, signed by %s -> %s (%lld bytes)", o->incident,
		         r.events, r.files, r.files == 1 ? "" : "s", r.records, r.export_id, o->nrecipients,
		         o->nrecipients == 1 ? "" : "s", r.signer, r.path, r.size);
	else if (o->with_records)
		cli_note(c, "%s: forensic bundle, %lld events with their proofs, %zu file%s, the records of %zu, "
		         "encrypted for %zu key%s, signed by %s -> %s (%lld bytes)", o->incident, r.events, r.files,
		         r.files == 1 ? "" : "s", r.records, o->nrecipients, o->nrecipients == 1 ? "" : "s", r.signer,
		         r.path, r.size);
	else
		cli_note(c, "%s: forensic bundle, %lld events with their proofs, %zu file%s, encrypted for %zu key%s, "
		         "signed by %s -> %s (%lld bytes)", o->incident, r.events, r.files, r.files == 1 ? "" : "s",
		         o->nrecipients, o->nrecipients == 1 ? "" : "s", r.signer, r.path, r.size);
	return 0;
}

static void fproblem(void *ctx, const char *what)
{
	(void)ctx;
	printf("forensic: %s\n", what);
}

int forensic_verify(struct cli *c, const char *path, const char *keyfile)
{
	struct spif_err e = {0};
	FILE *f = fopen(keyfile, "r");
	char line[1024];
	if (!f)
		cli_fail(c, SPIF_EX_NOINPUT, "--key %s: cannot be opened", keyfile);
	int got = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	struct spif_note_verifier v;
	if (!got || spif_checkpoint_verifier_parse(line, strcspn(line, "\n"), &v, &e) < 0)
		cli_fail(c, SPIF_EX_DATAERR, "--key %s: not a catalog's public key (spif catalog key export)", keyfile);
	struct spif_forensic_report r;
	if (spif_forensic_verify_file(path, &v, fproblem, NULL, &r, &e) < 0)
		cli_die(c, &e);
	fflush(stdout);
	cli_note(c, "%s: forensic bundle of catalog %s: %lld events, %lld proofs verified under a checkpoint "
	         "of %llu events%s; %lld payload files as custody.json says, %lld of them records; %s", path,
	         r.catalog, r.events, r.proofs, r.tree_size,
	         r.consistency ? " (with a consistency proof from the one before)" : "", r.payload, r.records,
	         r.problems ? "PROBLEMS FOUND" : "every event intact");
	return r.problems ? 1 : 0;
}
