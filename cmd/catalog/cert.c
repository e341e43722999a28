/* cert.c - spif catalog cert ls | show | export | verify | confirm |
 * cosign: the disposal certificates.  See catalog_cmd.h. */
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
#include "ledger.h"
#include "mynumber.h"
#include "digest.h"
#include "purge.h"
#include "retention.h"
#include "review.h"
#include "text.h"
#include "vault.h"

#include "catalog_cmd.h"

/* ---- certificates ---------------------------------------------------- */

static int cert_row(void *ctx, const struct spif_cert_row *r)
{
	const struct opts *o = ctx;
	char fid[24] = "-";
	if (r->file_id)
		spif_file_id_format(r->file_id, fid);
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:o}", "id", r->id, "kind", r->kind, "file", fid,
		                      "issued", r->issued, "operator", r->operator_, "signed", r->signed_,
		                      "confirmed_by", cli_jstr(r->confirmed_by));
		cli_print_json(j);
	} else {
		char issued[48];
		spif_time_for_people(r->issued, issued);
		printf("%-15s %-9s %-8s %-24s %-12s ", r->id, r->kind, fid, issued, r->operator_);
		/* yes/no translated, padded by display columns (text.h) */
		spif_text_pad(stdout, r->signed_ ? _("yes") : _("no"), 8);
		printf(" %s\n", r->confirmed_by ? r->confirmed_by : "-");
	}
	return 0;
}

static int cert_ls(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	if (!o->json)
		cli_heading((const char *const[]){N_("ID"), N_("KIND"), N_("FILE"), N_("ISSUED"),
		                                  N_("OPERATOR"), N_("SIGNED"), N_("CONFIRMED BY")},
		            (const int[]){-15, -9, -8, -24, -12, -8, 0}, 7);
	if (spif_cert_list(cat, cert_row, (void *)o, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

/* One run of cert cosign: the key, and its fingerprint once a
 * signature has shown it (spif_cert_cosign reads it back). */
struct cosign_run {
	struct cli *c;
	struct spif_catalog *cat;
	const char *key;
	char fpr[41];
	int n;
};

static int cosign_one(void *ctx, const char *id)
{
	struct cosign_run *k = ctx;
	struct spif_err e = {0};
	int rc = spif_catalog_begin(k->cat, &e);
	if (rc == 0)
		rc = spif_cert_cosign(k->cat, id, k->key, k->fpr, &e);
	if (rc < 0 || spif_catalog_commit(k->cat, &e) < 0)
		cli_die(k->c, &e);
	if (rc > 0) {
		printf("%s co-signed by %s\n", id, k->fpr);
		k->n++;
	}
	return 0;
}

/* cosign [ID...]: the organisation's key (spif.conf sign_key) co-signs
 * each certificate given, or every one not yet co-signed (cert.h). */
static int cert_cosign(struct cli *c, const struct opts *o, int nargs, char **args)
{
	const char *key = o->sign ? o->sign : c->org_key;
	if (!*key)
		cli_fail(c, SPIF_EX_UNAVAILABLE, "no organisation key to co-sign with: set sign_key in spif.conf (or give "
		         "--sign KEYID)");
	struct cosign_run k = {.c = c, .cat = cli_catalog(c, 0), .key = key};
	struct spif_err e = {0};
	for (int i = 0; i < nargs; i++)
		cosign_one(&k, args[i]);
	if (!nargs && spif_cert_uncosigned(k.cat, cosign_one, &k, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(k.cat);
	if (!k.n)
		cli_note(c, "nothing to co-sign");
	return 0;
}

int cert_cmd(struct cli *c, const struct opts *o, const char *sub, int nargs, char **args)
{
	struct spif_err e = {0};
	if (strcmp(sub, "ls") == 0 && nargs == 0)
		return cert_ls(c, o);
	if (strcmp(sub, "cosign") == 0)
		return cert_cosign(c, o, nargs, args);
	if (nargs != 1)
		cli_usage(c, "cert %s: wrong number of arguments", sub);
	const char *id = args[0];
	if (strcmp(sub, "verify") == 0) {
		/* ID; or an exported ID.json, with ID.json.asc, ID.confirm.json and
		 * ID.confirm.json.asc beside it when they exist; or an exported
		 * ID.confirm.json (with its .asc) alone */
		struct spif_cert_files f = {0};
		char *data = NULL, cid[32], *proof = NULL;
		size_t n = 0, proof_n = 0;
		size_t len = strlen(id);
		if (len > 5 && strcmp(id + len - 5, ".json") == 0) {
			read_whole(c, id, &data, &n, 0);
			json_t *j = json_loadb(data, n, 0, NULL);
			const char *fmt = json_string_value(json_object_get(j, "format"));
			int is_conf = fmt && strcmp(fmt, "spif-confirmation/1") == 0;
			const char *named = json_string_value(json_object_get(j, is_conf ? "certificate" : "id"));
			if (!named || strlen(named) >= sizeof cid)
				cli_fail(c, SPIF_FOUND, "%s: not a spif certificate or confirmation", id);
			snprintf(cid, sizeof cid, "%s", named);
			json_decref(j);
			char other[PATH_MAX];
			int stem = (int)(len - (is_conf ? strlen(".confirm.json") : 5));
			if (is_conf) {
				f.conf = data;
				f.conf_n = n;
			} else {
				f.body = data;
				f.body_n = n;
				if (snprintf(other, sizeof other, "%.*s.confirm.json", stem, id) < (int)sizeof other)
					read_whole(c, other, (char **)&f.conf, &f.conf_n, 1);
				snprintf(other, sizeof other, "%s.asc", id);
				read_whole(c, other, (char **)&f.sig, &f.sig_n, 1);
			}
			if (f.conf && snprintf(other, sizeof other, "%.*s.confirm.json.asc", stem, id) < (int)sizeof other)
				read_whole(c, other, (char **)&f.conf_sig, &f.conf_sig_n, 1);
			/* the inclusion proof beside the certificate */
			if (!is_conf && snprintf(other, sizeof other, "%.*s.proof.json", stem, id) < (int)sizeof other)
				read_whole(c, other, &proof, &proof_n, 1);
		} else
			snprintf(cid, sizeof cid, "%s", id);
		char summary[768], incl[512] = "";
		char escrow[1024] = ""; /* a crypto-erase's escrow copies: outstanding or closed */
		/* no catalog here: the certificate stands on its proof alone */
		struct spif_catalog *cat = catalog_if_readable(c);
		if (!cat) {
			if (!f.body)
				cli_fail(c, SPIF_EX_NOINPUT, "%s: no catalog here: give the exported %s.json, with its "
				         "%s.proof.json beside it, and --key FILE", cid, cid, cid);
			if (!proof)
				cli_fail(c, SPIF_FOUND, "%s: no catalog here and no %s.proof.json beside the certificate: "
				         "nothing to prove it by", id, cid);
			struct spif_note_verifier v;
			verifier(c, NULL, o->key, &v);
			if (spif_cert_verify_offline(&f, proof, proof_n, &v, summary, sizeof summary, &e) < 0)
				cli_die(c, &e);
		} else {
			int rc = spif_cert_verify(cat, cid, &f, summary, sizeof summary, &e);
			if (rc < 0)
				cli_die(c, &e);
			struct spif_cert ect;
			struct spif_err ee = {0};
			if (spif_cert_load(cat, cid, &ect, &ee) == 0) {
				spif_vault_escrow_summary(cat, ect.body, escrow, sizeof escrow);
				spif_cert_free(&ect);
			}
			/* and its inclusion proof, the one given or the one stored */
			if (!proof && !f.body && !f.conf) {
				struct spif_err pe = {0};
				if (spif_cert_stored_proof(cat, cid, &proof, &pe) < 0)
					cli_die(c, &pe);
				proof_n = proof ? strlen(proof) : 0;
			}
			struct spif_note_verifier v;
			struct spif_err ke = {0};
			if (proof && !o->key && spif_checkpoint_verifier(cat, 0, &v, &ke) < 0) {
				/* a copy of the catalog without its keys/ (evidence on
				 * read-only media): the rest holds, the proof waits */
				cli_note(c, "%s: inclusion proof not checked: %s (give the catalog's public key with --key FILE)",
				         cid, ke.msg);
				free(proof);
				proof = NULL;
			} else if (proof && o->key)
				verifier(c, cat, o->key, &v);
			if (proof) {
				struct spif_inclusion inc;
				struct spif_cert ct;
				if (spif_cert_load(cat, cid, &ct, &e) < 0)
					cli_die(c, &e);
				rc = spif_cert_proof_verify(ct.body, strlen(ct.body), proof, proof_n, &v, &inc, &e);
				spif_cert_free(&ct);
				if (rc < 0)
					cli_die(c, &e);
				snprintf(incl, sizeof incl, _("%s: inclusion proof verified: event %lld is in the log under a "
				         "checkpoint of %llu events signed by the catalog's key"), cid, inc.seq,
				         (unsigned long long)inc.tree_size);
			}
			spif_catalog_close(cat);
		}
		free((char *)f.body);
		free((char *)f.sig);
		free((char *)f.conf);
		free((char *)f.conf_sig);
		free(proof);
		/* the inclusion first: the last line is the verdict on the whole */
		if (incl[0])
			printf("%s\n", incl);
		printf("%s\n", summary);
		if (escrow[0])
			printf("%s\n", escrow);
		return 0;
	}
	struct spif_catalog *cat = cli_catalog(c, strcmp(sub, "confirm") == 0 ? 0 : SPIF_CAT_READONLY);
	int rc = 0;
	if (strcmp(sub, "confirm") == 0) {
		const char *key = o->sign ? o->sign : c->conf.sign_key;
		if (spif_catalog_begin(cat, &e) < 0 || spif_cert_confirm(cat, &c->conf, id, key, o->note, &e) < 0 ||
		    spif_catalog_commit(cat, &e) < 0)
			cli_die(c, &e);
		printf("%s confirmed by %s\n", id, c->actor.operator_);
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "export") == 0) {
		struct spif_cert ct;
		if (strcmp(sub, "show") == 0)
			table_format(c, o, 1); /* an unknown format, or a PDF onto a terminal: refused first */
		if (spif_cert_load(cat, id, &ct, &e) < 0)
			cli_die(c, &e);
		if (strcmp(sub, "export") == 0) {
			if (!o->out)
				cli_usage(c, "cert export: -o DIR is required");
			/* the certificate, and its confirmation when there is one,
			 * each with its signature when signed; and the proof that
			 * its event is in the log under a signed checkpoint */
			char *proof;
			if (spif_cert_proof(cat, ct.id, &proof, &e) < 0)
				cli_die(c, &e);
			const char *parts[6] = {ct.body, ct.signature, proof, ct.confirmation, ct.confirmation_sig,
			                        ct.cosignature};
			static const char *const names[6] = {".json", ".json.asc", ".proof.json", ".confirm.json",
			                                     ".confirm.json.asc", ".json.cosign.asc"};
			for (int k = 0; k < 6; k++) {
				if (!parts[k])
					continue;
				char path[PATH_MAX];
				snprintf(path, sizeof path, "%s/%s%s", o->out, ct.id, names[k]);
				struct spif_atomic a;
				size_t len = strlen(parts[k]);
				if (spif_atomic_open(&a, path, spif_file_mode(&c->conf), &e) < 0)
					cli_die(c, &e);
				if (write(a.fd, parts[k], len) != (ssize_t)len) {
					spif_err_sys(&e, SPIF_EX_IOERR, errno, "%s", path);
					spif_atomic_abort(&a);
					cli_die(c, &e);
				}
				if (spif_atomic_commit(&a, &e) < 0)
					cli_die(c, &e);
				printf("%s\n", path);
			}
			free(proof);
		} else if (o->format && strcmp(o->format, "pdf") == 0) {
			/* the text rendering on A4, with the ledgers' seals and footer */
			struct spif_table t = {.landscape = 0};
			t.body = spif_cert_render(&ct);
			if (!t.body || asprintf(&t.title, "%s  %s", ct.id, "証明書 / Certificate") < 0)
				cli_fail(c, SPIF_EX_SOFTWARE, "%s: cannot render", id);
			if (spif_ledger_footer(cat, &t, &e) < 0)
				cli_die(c, &e);
			table_emit(c, o, &t, 1);
			spif_table_free(&t);
		} else if (!o->format || strcmp(o->format, "text") == 0) {
			char *t = spif_cert_render(&ct);
			if (!t)
				cli_fail(c, SPIF_EX_SOFTWARE, "%s: cannot render", id);
			fputs(t, stdout);
			free(t);
		} else if (strcmp(o->format, "json") == 0) {
			/* one document a line: the certificate as signed, then its
			 * confirmation when there is one */
			printf("%s\n", ct.body);
			if (ct.confirmation)
				printf("%s\n", ct.confirmation);
		}
		else
			cli_usage(c, "--format %s: unknown (text, json, pdf)", o->format);
		spif_cert_free(&ct);
	} else
		cli_usage(c, "cert %s: unknown (ls, show, export, verify, confirm, cosign)", sub);
	spif_catalog_close(cat);
	return rc;
}


