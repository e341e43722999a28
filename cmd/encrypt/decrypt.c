/* decrypt.c - spif encrypt -d: an OpenPGP message (its signer reported,
 * --require-signature) or a column-encrypted stream restored exactly, its
 * trailer checked; a read of records, logged with its reason (encrypt.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "atomic.h"
#include "catalog_query.h"
#include "cli.h"
#include "cli_signal.h"
#include "progress.h"
#include "recopts.h"
#include "digest.h"
#include "fieldcrypt.h"
#include "mynumber.h"
#include "passphrase.h"
#include "peek.h"
#include "pgp.h"
#include "record.h"
#include "xalloc.h"
#include "encrypt.h"

/* ---- decryption ---------------------------------------------------------- */

/* Say who signed, or fail (exit 1) when the signature is not good or is
 * required and missing.  Called before the output is put in place. */
static void check_signature(struct cli *c, const struct opts *o, struct output *w, const char *signer,
                            int sig_status, const struct spif_err *sig_err)
{
	if (sig_status < 0) {
		struct spif_err e = *sig_err;
		e.code = SPIF_FOUND;
		if (!e.msg[0])
			spif_err_set(&e, SPIF_FOUND, "bad signature by %s", signer[0] ? signer : "?");
		fail_out(c, w, &e);
	}
	if (sig_status == 0 && o->require_sig) {
		struct spif_err e = {0};
		spif_err_set(&e, SPIF_FOUND, "the message is not signed (--require-signature)");
		fail_out(c, w, &e);
	}
}

/* A read of records in a catalog with operators is an event even when
 * nothing is registered (output to a pipe): who, which file, why. */
static void record_read(struct cli *c, const struct opts *o, const char *fid, int reg, json_t *ev)
{
	if (reg || !c->permit.managed)
		return;
	struct spif_err e = {0};
	struct spif_catalog *cat = cli_catalog(c, 0);
	if (spif_catalog_begin(cat, &e) < 0 ||
	    spif_audit_append(cat, "decrypt", fid[0] ? fid : shown_input(o), ev, NULL, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_close(cat);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
}

static void say_decrypted(const struct cli *c, const struct output *w, const char *signer, int reg,
                          const char *fid)
{
	cli_note(c, "decrypted -> %s; %s%s%s%s", w->name,
	         signer[0] ? _("good signature by ") : _("not signed"), signer,
	         reg ? _("; registered as a copy of ") : "", reg ? fid : "");
}

static int decrypt_stream(struct cli *c, struct opts *o, int fd)
{
	struct spif_err e = {0};
	struct output w;
	char signer[41] = "";
	int sig_status = 0;
	struct spif_catalog *cat = o->out ? cli_catalog_if_exists(c) : NULL;
	output_open(c, &w, o->out, cat, "decrypt");
	if (spif_pgp_decrypt_fd(fd, output_sink, &w, o->passphrase, signer, &sig_status, &e) < 0)
		fail_out(c, &w, &e);
	check_signature(c, o, &w, signer, sig_status, &e);
	char fid[24];
	spif_file_id_in_records(w.head, w.headn, fid);
	json_t *cd = json_pack("{s:s,s:s}", "decrypted_from", shown_input(o), "scheme", "openpgp");
	json_object_set_new(cd, "signer", signer[0] ? json_string(signer) : json_null());
	json_t *ev = json_deep_copy(cd);
	if (o->reason)
		json_object_set_new(ev, "reason", json_string(o->reason));
	int reg = output_commit(c, &w, cat, fid, "output", 0, cd, "decrypt", ev);
	record_read(c, o, fid, reg, ev);
	json_decref(cd);
	json_decref(ev);
	say_decrypted(c, &w, signer, reg, fid);
	spif_sha256_free(w.h);
	spif_catalog_close(cat);
	return 0;
}

/* Die with e, leaving nothing at -o, the thread that takes the trailer
 * off stopped first. */
static _Noreturn void columns_fail(struct cli *c, struct output *w, struct spif_trailer_cut *cut,
                                   const struct spif_err *e)
{
	spif_trailer_cut_free(cut);
	fail_out(c, w, e);
}

static int decrypt_columns(struct cli *c, struct opts *o, int fd)
{
	struct spif_err e = {0};
	const char *name = strcmp(o->input, "-") ? o->input : "(stdin)";
	char *line;
	struct spif_keyline h;
	if (spif_keyline_read(fd, name, &line, &e) < 0 || spif_keyline_parse(line, name, &h, &e) < 0)
		cli_die(c, &e);
	struct spif_catalog *cat = o->out ? cli_catalog_if_exists(c) : NULL;

	/* the data key, and who signed it, before a byte is written */
	unsigned char raw[32];
	char signer[41] = "";
	int sig_status = 0;
	if (spif_keyline_unwrap(&h, name, o->passphrase, raw, signer, &sig_status, &e) < 0)
		cli_die(c, &e);
	struct output w;
	output_open(c, &w, o->out, cat, "decrypt");
	check_signature(c, o, &w, signer, sig_status, &e);

	/* version 2: the records come through a thread that takes the
	 * trailer off the end, so that the reader never sees it */
	struct spif_trailer_cut *cut = NULL;
	struct spif_tally tally = {0};
	int rfd = fd;
	if (h.v >= 2 && (spif_tally_init(&tally, &e) < 0 || !(cut = spif_trailer_cut_start(fd, &rfd, &e))))
		fail_out(c, &w, &e);
	/* UTF-8 either way, with or without a BOM: let the reader see which */
	enum spif_enc ie = h.fmt == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8
	                 : h.enc == SPIF_ENC_UTF8 || h.enc == SPIF_ENC_UTF8_BOM ? SPIF_ENC_AUTO : h.enc;
	struct spif_reader *rd = spif_reader_open(rfd, name, h.fmt, ie, &e);
	if (!rd)
		columns_fail(c, &w, cut, &e);
	struct spif_record rec;
	spif_record_init(&rec);
	int rc = spif_reader_next(rd, &rec, &e);
	if (rc < 0)
		columns_fail(c, &w, cut, &e);
	enum spif_enc oe = h.fmt == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8 : rc > 0 ? spif_reader_encoding(rd) : h.enc;
	if (oe == SPIF_ENC_AUTO)
		oe = h.enc;
	struct spif_writer *wr = spif_writer_open(output_sink, &w, w.name, h.fmt, oe,
	                                          h.fmt == SPIF_FMT_NDJSON ? NULL : spif_reader_dialect(rd), &e);
	if (!wr)
		columns_fail(c, &w, cut, &e);
	if (rc == 0 && h.fmt != SPIF_FMT_NDJSON && spif_columns_header(rd, wr, &e) < 0)
		columns_fail(c, &w, cut, &e);
	struct spif_colspec cs = {.name = name, .stream = h.stream, .fields = h.fields,
	                          .nfields = h.nfields, .meta = h.fmt == SPIF_FMT_NDJSON, .line_base = 2};
	snprintf(cs.file, sizeof cs.file, "%s", h.file);
	long long values = 0, records = 0;
	if (rc > 0)
		records = spif_columns_run(&cs, raw, 1, rd, &rec, wr, &values, cut ? &tally : NULL, &e);
	if (records < 0)
		columns_fail(c, &w, cut, &e);
	/* the trailer, before the last records leave the writer's buffer */
	int final_eol = 1;
	if (cut && spif_trailer_cut_check(cut, &h, raw, &tally, name, &final_eol, &e) < 0)
		columns_fail(c, &w, cut, &e);
	if (cut && h.fmt != SPIF_FMT_NDJSON)
		spif_writer_set_final_eol(wr, final_eol);
	spif_trailer_cut_free(cut);
	spif_tally_free(&tally);
	explicit_bzero(raw, sizeof raw);
	if (spif_writer_finish(wr, &e) < 0)
		fail_out(c, &w, &e);
	spif_writer_close(wr);
	char fid[24] = "";
	spif_file_id_in_records(w.head, w.headn, fid);
	if (!fid[0] && spif_file_id_parse(h.file) > 0)
		snprintf(fid, sizeof fid, "%s", h.file);
	json_t *cd = json_pack("{s:s,s:s}", "decrypted_from", shown_input(o), "scheme", "fields aes-256-gcm");
	json_object_set_new(cd, "signer", signer[0] ? json_string(signer) : json_null());
	json_t *ev = json_deep_copy(cd);
	json_object_set_new(ev, "records", json_integer(records));
	if (o->reason)
		json_object_set_new(ev, "reason", json_string(o->reason));
	int reg = output_commit(c, &w, cat, fid, "output", 0, cd, "decrypt", ev);
	record_read(c, o, fid, reg, ev);
	json_decref(cd);
	json_decref(ev);
	if (h.v < 2)
		cli_note(c, "warning: %s: a version 1 stream, in which records removed, reordered or "
		         "given another's @row go unnoticed; encrypt it again", name);
	say_decrypted(c, &w, signer, reg, fid);
	spif_sha256_free(w.h);
	spif_record_free(&rec);
	spif_reader_close(rd);
	spif_keyline_free(&h);
	explicit_bzero(line, strlen(line));
	free(line);
	spif_catalog_close(cat);
	return 0;
}

/* OpenPGP, or the key line of a column-encrypted stream?  Decided on the
 * first bytes, without taking them from gpg. */
int decrypt(struct cli *c, struct opts *o, int fd)
{
	struct spif_err e = {0};
	char head[16];
	size_t got = 0;
	if (spif_fd_peek(fd, head, 1, &got, &e) == 0 && got == 1 && head[0] == '{')
		return decrypt_columns(c, o, fd);
	return decrypt_stream(c, o, fd);
}

