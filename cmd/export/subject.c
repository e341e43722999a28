/* subject.c - spif export --subject-file FILE: a disclosure request
 * (開示請求), answered with the person's own records and the access
 * history of the files that hold them (lib/subject.h).
 *
 * The number comes from FILE or standard input only: main.c refuses any
 * word of the command line that holds one before anything is opened, and
 * here it is wiped as soon as the search is done, on every path out. */
#include <stdio.h>
#include <string.h>

#include "export_cmd.h"
#include "media.h"
#include "subject.h"

static void note(void *ctx, const char *msg)
{
	cli_note(ctx, "%s", msg);
}

int cmd_subject(struct cli *c, struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "--subject-file", O_SUBJECT | O_RCPT | O_SIGN | O_PERSON | O_BASIS | O_MEDIUM | O_SEAL | O_DUE |
	      O_REASON | O_OUT);
	if (o->nargs)
		cli_usage(c, "%s: --subject-file takes no other argument", o->args[0]);
	if (!o->out || !*o->out)
		cli_usage(c, "where to: -o OUT");
	if (!o->reason || !*o->reason)
		cli_usage(c, "why: --reason TEXT (the request's reference, 開示請求の受付番号)");
	if (!o->nrecipients)
		cli_usage(c, "no recipient: give -r RECIPIENT (the answer is encrypted to the person's key or the "
		          "office's own)");
	if (o->nrecipients > 16)
		cli_usage(c, "at most 16 recipients");
	if (o->medium && !spif_media_id_valid(o->medium))
		cli_usage(c, "--medium %s: not a medium id", o->medium);
	/* the gate: an operator or responder, with a reason (it is logged);
	 * the files are every purpose's, so no one purpose's grant decides */
	cli_permit(c, (struct spif_request){.act = SPIF_ACT_DISCLOSE, .reason = o->reason});
	char digits[13];
	if (spif_subject_read(o->subject_file, digits, &e) < 0)
		cli_die(c, &e);
	struct spif_catalog *cat = cli_catalog(c, 0);
	const char *sign = o->sign_key ? o->sign_key : c->conf.sign_key[0] ? c->conf.sign_key : NULL;
	struct spif_subject_opts x = {
		.recipients = o->recipients, .nrecipients = o->nrecipients, .sign_key = sign, .person = o->person,
		.basis = o->basis, .reason = o->reason, .medium = o->medium, .seal = o->seal, .due = o->due,
		.out = o->out, .home = c->home, .conf = &c->conf, .note = note, .note_ctx = c,
	};
	struct spif_subject_result r;
	int rc = spif_subject_run(cat, digits, &x, &r, &e);
	explicit_bzero(digits, sizeof digits);
	if (rc < 0)
		cli_die(c, &e);
	printf("%s\n", r.x.id);
	fflush(stdout);
	cli_note_begin(c, "%s: disclosure to %s: %lld record%s in %zu of %zu files searched", r.x.id, r.pseudonym,
	               r.records, r.records == 1 ? "" : "s", r.files, r.searched);
	if (r.unread)
		cli_note_more(c, " (%zu not searched: see spif/access-history.json)", r.unread);
	cli_note_more(c, ", encrypted for %zu key%s", o->nrecipients, o->nrecipients == 1 ? "" : "s");
	if (r.x.signer[0])
		cli_note_more(c, ", signed by %s", r.x.signer);
	else
		cli_note_more(c, ", not signed");
	cli_note_more(c, " -> %s (%lld bytes)", r.x.path, r.x.size);
	cli_note_end(c);
	spif_catalog_close(cat);
	return 0;
}
