/* main.c - spif encrypt: OpenPGP for whole streams, ENC[...] for columns.
 *
 * Whole streams: any input, to recipients' keys (or a passphrase),
 * optionally signed.  gpg reads the input and writes the output itself
 * (lib/pgp_encrypt.c); this program only looks at the first bytes, to know whether
 * they are records of a catalogued file.
 *
 * Columns (--fields): the stream stays records; each listed field's value
 * is sealed (lib/fieldcrypt.c) under one random data key per stream, which
 * travels wrapped to the recipients in the stream's first line (the key
 * line, spif-records(5)).  The seal binds the stream's random identifier
 * and, in NDJSON, the record's @file and @row; in CSV and TSV, which carry
 * no metadata, the stream's file and the record's position.  The stream
 * ends with a sealed trailer line counting the records and hashing their
 * rows in order, which -d checks after the last record: before then it
 * cannot know that records were removed, reordered or cut off, so on
 * standard output the records before such a fault have been written
 * already (-o leaves nothing).
 *
 * -d undoes either, telling them apart by their first bytes.  -o FILE
 * appears whole or not at all, mode 0600, never over an existing file; when
 * the data are records of a catalogued file it is registered as a copy of
 * that file, with an event, in one transaction. */
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

static const char usage_text[] = N_(
	"usage: spif encrypt -r RECIPIENT... [--sign KEYID] [--armor] [-o FILE] [FILE|-]\n"
	"       spif encrypt --passphrase-file F [--sign KEYID] [--armor] [-o FILE] [FILE|-]\n"
	"       spif encrypt --fields NAME,... (-r RECIPIENT... | --passphrase-file F)\n"
	"           [--sign KEYID] [--format F] [--encoding E] [--to F] [--output-encoding E]\n"
	"           [-o FILE] [FILE|-]\n"
	"       spif encrypt -d [--require-signature] [--passphrase-file F] [--reason TEXT]\n"
	"           [-o FILE] [FILE|-]\n"
	"\n"
	"Encrypt a stream with OpenPGP (GnuPG keys in $GNUPGHOME; never a network\n"
	"lookup; no compression), or only some fields of a record stream; -d decrypts\n"
	"either.\n"
	"\n"
	"  -r, --recipient R    a public key: fingerprint, key id or e-mail (repeat for\n"
	"                       more); it must be one key, valid, not expired or revoked\n"
	"  --sign KEYID         sign too, with this secret key (no passphrase prompt)\n"
	"  --armor              ASCII armor instead of binary OpenPGP\n"
	"  --passphrase-file F  encrypt (or decrypt) with the passphrase on F's first\n"
	"                       line instead of keys: the weaker mode, for media handed\n"
	"                       over under a password policy\n"
	"  --fields NAME,...    column-level: the output stays records and only these\n"
	"                       fields become ENC[...] values, under one data key\n"
	"                       carried in the stream's first line (spif-records(5))\n"
	"  --format F           input with --fields: ndjson, csv or tsv (default: by\n"
	"                       extension; a pipe is NDJSON)\n"
	"  --encoding E         input encoding: auto (default), utf-8, cp932, euc-jp\n"
	"  --to F               output format with --fields (default: as the input)\n"
	"  --output-encoding E  default: the input's\n"
	"  -d, --decrypt        decrypt an OpenPGP message (reporting its signer) or a\n"
	"                       column-encrypted stream (restoring it exactly)\n"
	"  --require-signature  with -d: fail unless the message is signed by a good key\n"
	"  --reason TEXT        with -d: why the records are read (logged; needed when\n"
	"                       the catalog has operators, with a grant for the file)\n"
	"  -o FILE              write to FILE (new, 0600; nothing is left on failure);\n"
	"                       records of a catalogued file make it a registered copy\n"
	"  --home DIR           the catalog's home\n"
	"\n"
	"Exit: 0 ok, 1 bad or missing (--require-signature) signature, 64 usage or a\n"
	"field not in the input, 65 bad input (not OpenPGP, altered, a value that does\n"
	"not open), 66 no input, 69 no usable key (missing, expired, revoked), wrong\n"
	"passphrase or no GnuPG, 73 output exists or cannot be created, 74 I/O, 77.\n");


static void add_field(struct cli *c, struct opts *o, const char *name, size_t len)
{
	if (len == 0)
		cli_usage(c, "--fields: empty field name");
	if (name[0] == '@')
		cli_usage(c, "--fields %.*s: metadata is not encrypted", (int)len, name);
	for (size_t i = 0; i < o->nfields; i++)
		if (strlen(o->fields[i]) == len && memcmp(o->fields[i], name, len) == 0)
			cli_usage(c, "--fields %.*s: listed twice", (int)len, name);
	char **v = xreallocarray(o->fields, o->nfields + 1, sizeof *v);
	v[o->nfields] = xstrndup(name, len);
	o->fields = v;
	o->nfields++;
}

static void parse_args(struct cli *c, struct opts *o, int argc, char **argv)
{
	enum { O_SIGN = 256, O_ARMOR, O_PASS, O_FIELDS, O_FORMAT, O_ENC, O_TO, O_OUTENC, O_REQSIG,
	       O_HOME, O_REASON };
	static const struct option longopts[] = {
		{"recipient", required_argument, NULL, 'r'},  {"sign", required_argument, NULL, O_SIGN},
		{"armor", no_argument, NULL, O_ARMOR},         {"passphrase-file", required_argument, NULL, O_PASS},
		{"fields", required_argument, NULL, O_FIELDS}, {"format", required_argument, NULL, O_FORMAT},
		{"encoding", required_argument, NULL, O_ENC},  {"to", required_argument, NULL, O_TO},
		{"output-encoding", required_argument, NULL, O_OUTENC},
		{"decrypt", no_argument, NULL, 'd'},           {"require-signature", no_argument, NULL, O_REQSIG},
		{"output", required_argument, NULL, 'o'},      {"home", required_argument, NULL, O_HOME},
		{"reason", required_argument, NULL, O_REASON},
		{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "hdr:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': {
			const char **v = xreallocarray(o->recipients, o->nrecipients + 1, sizeof *v);
			o->recipients = v;
			if (!*optarg)
				cli_usage(c, "-r: empty recipient");
			v[o->nrecipients++] = optarg;
			break;
		}
		case O_SIGN:
			if (!*optarg)
				cli_usage(c, "--sign: empty key id");
			o->sign_key = optarg;
			break;
		case O_ARMOR: o->armor = 1; break;
		case O_PASS: o->pass_file = optarg; break;
		case O_FIELDS:
			for (const char *p = optarg;; ) {
				size_t len = strcspn(p, ",");
				add_field(c, o, p, len);
				if (!p[len])
					break;
				p += len + 1;
			}
			break;
		case O_FORMAT:
			o->fmt = cli_opt_format(c, "--format", optarg);
			break;
		case O_ENC:
			o->enc = cli_opt_input_encoding(c, "--encoding", optarg);
			break;
		case O_TO:
			o->to = cli_opt_format(c, "--to", optarg);
			break;
		case O_OUTENC:
			o->out_enc = cli_opt_output_encoding(c, "--output-encoding", optarg);
			o->out_enc_set = 1;
			break;
		case 'd': o->decrypt = 1; break;
		case O_REQSIG: o->require_sig = 1; break;
		case O_REASON: o->reason = optarg; break;
		case 'o': o->out = optarg; break;
		case O_HOME: c->home_opt = optarg; break;
		case 'h': cli_help(usage_text); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
	if (optind < argc - 1)
		cli_usage(c, "one input at a time");
	o->input = optind < argc ? argv[optind] : "-";
	int column_opts = o->fmt || o->enc || o->to || o->out_enc_set;
	if (o->decrypt) {
		if (o->nrecipients || o->sign_key || o->armor || o->nfields || column_opts)
			cli_usage(c, "-d takes only --require-signature, --passphrase-file and -o: what "
			          "it decrypts says the rest");
	} else {
		if (o->require_sig)
			cli_usage(c, "--require-signature goes with -d");
		if (!o->nrecipients && !o->pass_file)
			cli_usage(c, "no recipient: give -r RECIPIENT (or --passphrase-file F)");
		if (o->nrecipients && o->pass_file)
			cli_usage(c, "give recipients or a passphrase file, not both");
		if (o->nrecipients > 16)
			cli_usage(c, "at most 16 recipients");
		if (!o->nfields && column_opts)
			cli_usage(c, "--format, --encoding, --to and --output-encoding go with --fields");
		if (o->nfields && o->armor)
			cli_usage(c, "--armor is for whole streams (with --fields the key is armored "
			          "already)");
	}
	if (o->out && !*o->out)
		cli_usage(c, "-o: empty file name");
	if (o->nfields && !o->fmt) {
		/* in a pipe, the records of another spif command */
		o->fmt = spif_format_from_name(o->input, strcmp(o->input, "-") == 0 ? SPIF_FMT_NDJSON
		                                                                     : SPIF_FMT_CSV);
	}
	if (o->nfields && !o->to)
		o->to = o->fmt;
}

/* ---- whole streams ------------------------------------------------------- */

static const char *mode_name(const struct opts *o)
{
	return o->passphrase ? "passphrase" : "public-key";
}

static json_t *fpr_array(char (*fprs)[41], size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(fprs[i]));
	return a;
}

/* The primary fingerprint of the signing key, as the catalog records it. */
static void signer_fpr(struct cli *c, const char *key, char fpr[41])
{
	struct spif_err e = {0};
	if (spif_pgp_can_sign(key, fpr, &e) < 0)
		cli_die(c, &e);
}

static void weaker_mode_warning(const struct cli *c)
{
	cli_note(c, "warning: passphrase mode is the weaker one: whoever learns or guesses the "
	         "passphrase reads it all; prefer -r RECIPIENT");
}

static int encrypt_stream(struct cli *c, struct opts *o, int fd)
{
	struct spif_err e = {0};
	char head[64], fid[24] = "", sfpr[41] = "";
	size_t got = 0;
	/* what the input is, without taking it from gpg: records of a file? */
	if (spif_fd_peek(fd, head, sizeof head, &got, &e) == 0)
		spif_file_id_in_records(head, got, fid);
	struct spif_catalog *cat = NULL;
	if (o->out) {
		cat = cli_catalog_if_exists(c);
		if (!fid[0])
			input_file(cat, o->input, fid);
	} else if (!o->armor && isatty(1)) {
		cli_usage(c, "binary OpenPGP to a terminal: use -o FILE or --armor");
	}
	if (o->sign_key)
		signer_fpr(c, o->sign_key, sfpr); /* refused before anything is written */
	char (*fprs)[41] = xcalloc(o->nrecipients + 1, sizeof *fprs);
	struct spif_pgp_enc pe = {.recipients = o->recipients, .nrecipients = o->nrecipients,
	                          .sign_key = o->sign_key, .armor = o->armor, .passphrase = o->passphrase,
	                          .fprs = fprs};
	struct output w;
	output_open(c, &w, o->out, cat, "encrypt");
	/* the tap (hash, and progress) reads -o back: stdout may be a pipe */
	int prc = spif_pgp_encrypt_to_fd(fd, w.fd, w.atomic ? output_tap : NULL, &w, &pe, &e);
	output_progress_done(&w);
	if (prc < 0)
		fail_out(c, &w, &e);
	json_t *cd = json_pack("{s:s,s:s,s:o,s:b}", "scheme", "openpgp", "mode", mode_name(o),
	                       "recipients", fpr_array(fprs, o->nrecipients), "armor", o->armor);
	if (sfpr[0])
		json_object_set_new(cd, "signer", json_string(sfpr));
	json_t *ev = json_deep_copy(cd);
	int reg = output_commit(c, &w, cat, fid, "encrypted", 1, cd, "encrypt", ev);
	json_decref(cd);
	json_decref(ev);
	if (o->passphrase)
		weaker_mode_warning(c);
	cli_note_begin(c, "encrypted %s",
	               o->passphrase ? _("with a passphrase") : o->nrecipients == 1 ? _("for") : _("for each of"));
	for (size_t i = 0; i < o->nrecipients; i++)
		cli_note_more(c, " %s", fprs[i]);
	if (sfpr[0])
		cli_note_more(c, ", signed by %s", sfpr);
	cli_note_more(c, " -> %s%s%s", w.name, reg ? _(", registered as a copy of ") : "", reg ? fid : "");
	cli_note_end(c);
	spif_sha256_free(w.h);
	free(fprs);
	spif_catalog_close(cat);
	return 0;
}

/* ---- column level -------------------------------------------------------- */

static int encrypt_columns(struct cli *c, struct opts *o, int fd)
{
	struct spif_err e = {0};
	const char *name = strcmp(o->input, "-") ? o->input : "(stdin)";
	char head[32];
	size_t got = 0;
	static const char mark[] = "{\"@spif-encrypted\"";
	if (spif_fd_peek(fd, head, sizeof mark - 1, &got, &e) == 0 && got == sizeof mark - 1 &&
	    memcmp(head, mark, got) == 0)
		cli_fail(c, SPIF_EX_DATAERR, "%s: already column-encrypted (decrypt it with -d first)", name);
	struct spif_reader *rd = spif_reader_open(fd, name, o->fmt, o->enc, &e);
	if (!rd)
		cli_die(c, &e);
	struct spif_record rec;
	spif_record_init(&rec);
	int rc = spif_reader_next(rd, &rec, &e);
	if (rc < 0)
		cli_die(c, &e);
	const char *missing = spif_columns_missing(o->fields, o->nfields, rc > 0 ? &rec : NULL, rd);
	if (missing) {
		spif_record_free(&rec);
		spif_reader_close(rd);
		cli_usage(c, "--fields %s: no such field in %s", missing, name);
	}

	char stream[SPIF_STREAM_B64 + 1];
	if (spif_stream_new(stream, &e) < 0)
		cli_die(c, &e);
	struct spif_colspec cs = {.name = name, .stream = stream, .fields = o->fields,
	                          .nfields = o->nfields, .meta = o->to == SPIF_FMT_NDJSON, .line_base = 2};
	if (o->fmt == SPIF_FMT_NDJSON && rc > 0) {
		const struct spif_field *f = spif_record_get(&rec, "@file");
		if (f && spif_file_id_parse(f->val) > 0)
			snprintf(cs.file, sizeof cs.file, "%s", f->val);
	}
	enum spif_enc oe = o->out_enc_set ? o->out_enc : spif_reader_encoding(rd);
	if (oe == SPIF_ENC_AUTO || o->to == SPIF_FMT_NDJSON)
		oe = SPIF_ENC_UTF8;

	struct spif_catalog *cat = o->out ? cli_catalog_if_exists(c) : NULL;
	if (!cs.file[0])
		input_file(cat, o->input, cs.file); /* a CSV the catalog knows */
	/* one data key for the stream, wrapped by one gpg run */
	struct spif_fieldkey *key = spif_fieldkey_new();
	if (!key)
		cli_fail(c, SPIF_EX_SOFTWARE, "libgcrypt: cannot make a data key");
	char (*fprs)[41] = xcalloc(o->nrecipients + 1, sizeof *fprs), sfpr[41] = "";
	if (o->sign_key)
		signer_fpr(c, o->sign_key, sfpr);
	struct spif_pgp_enc pe = {.recipients = o->recipients, .nrecipients = o->nrecipients,
	                          .sign_key = o->sign_key, .armor = 1, .passphrase = o->passphrase,
	                          .fprs = fprs};
	char *armored = NULL;
	size_t an = 0;
	if (spif_pgp_encrypt_buf(spif_fieldkey_raw(key), 32, &pe, &armored, &an, &e) < 0)
		cli_die(c, &e);
	struct spif_keyline kl = {.v = 2, .stream = stream, .fmt = o->to, .enc = oe, .file = cs.file,
	                          .mode = mode_name(o), .key = armored, .fields = o->fields,
	                          .nfields = o->nfields};
	char *line = spif_keyline_make(&kl, fprs, o->nrecipients);
	if (!line)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");

	struct output w;
	output_open(c, &w, o->out, cat, "encrypt");
	if (output_sink(&w, line, strlen(line)) < 0) {
		spif_err_sys(&e, spif_exit_for_errno(errno), errno, "%s", w.name);
		fail_out(c, &w, &e);
	}
	const struct spif_dialect *dl = o->fmt == o->to && o->to != SPIF_FMT_NDJSON
	                              ? spif_reader_dialect(rd) : NULL;
	struct spif_writer *wr = spif_writer_open(output_sink, &w, w.name, o->to, oe, dl, &e);
	if (!wr)
		fail_out(c, &w, &e);
	if (rc == 0 && o->fmt != SPIF_FMT_NDJSON && spif_columns_header(rd, wr, &e) < 0)
		fail_out(c, &w, &e);
	long long values = 0, records = 0;
	struct spif_tally tally;
	if (spif_tally_init(&tally, &e) < 0)
		fail_out(c, &w, &e);
	if (rc > 0)
		records = spif_columns_run(&cs, spif_fieldkey_raw(key), 0, rd, &rec, wr, &values, &tally,
		                           &e);
	if (records < 0)
		fail_out(c, &w, &e);
	/* the trailer starts a line of its own, and says whether the source's
	 * last row had a line end, for -d to give back */
	if (o->to != SPIF_FMT_NDJSON)
		spif_writer_set_final_eol(wr, 1);
	int final_eol = dl ? spif_reader_dialect(rd)->final_eol : 1;
	if (spif_writer_finish(wr, &e) < 0)
		fail_out(c, &w, &e);
	output_progress_done(&w);
	spif_writer_close(wr);
	char *trailer = spif_trailer_make(&kl, spif_fieldkey_raw(key), &tally, final_eol, &e);
	spif_fieldkey_free(key);
	spif_tally_free(&tally);
	if (!trailer)
		fail_out(c, &w, &e);
	if (output_sink(&w, trailer, strlen(trailer)) < 0) {
		spif_err_sys(&e, spif_exit_for_errno(errno), errno, "%s", w.name);
		fail_out(c, &w, &e);
	}
	free(trailer);

	json_t *fl = json_array();
	for (size_t i = 0; i < o->nfields; i++)
		json_array_append_new(fl, json_string(o->fields[i]));
	json_t *cd = json_pack("{s:s,s:s,s:o,s:o,s:s}", "scheme", "fields aes-256-gcm", "mode", mode_name(o),
	                       "recipients", fpr_array(fprs, o->nrecipients), "fields", fl, "format",
	                       spif_format_name(o->to));
	if (sfpr[0])
		json_object_set_new(cd, "signer", json_string(sfpr));
	json_t *ev = json_deep_copy(cd);
	json_object_set_new(ev, "records", json_integer(records));
	/* encrypted 0: the fields not listed are in clear */
	int reg = output_commit(c, &w, cat, cs.file, "encrypted", 0, cd, "encrypt", ev);
	json_decref(cd);
	json_decref(ev);
	if (o->passphrase)
		weaker_mode_warning(c);
	cli_note(c, "%lld records, %lld values sealed in %zu field%s -> %s%s%s",
	         records, values, o->nfields, o->nfields == 1 ? "" : "s", w.name,
	         reg ? _(", registered as a copy of ") : "", reg ? cs.file : "");
	spif_sha256_free(w.h);
	explicit_bzero(armored, an);
	free(armored);
	free(line);
	free(fprs);
	spif_record_free(&rec);
	spif_reader_close(rd);
	spif_catalog_close(cat);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	cli_init(&c, "spif-encrypt", argc, argv);
	parse_args(&c, &o, argc, argv);
	int fd = cli_open_input(&c, o.input);
	/* refuse a home others can write before anything is read or written,
	 * and create none: a catalog is only used when it is there */
	cli_check_home(&c);
	if (o.reason && !o.decrypt)
		cli_usage(&c, "--reason goes with -d");
	/* decrypting a catalogued copy is a read of its records: the gate
	 * wants the file (its purpose's grant) and the reason, which is logged */
	char in_fid[24] = "";
	if (o.decrypt) {
		struct spif_catalog *cat = cli_catalog_if_exists(&c);
		input_file(cat, o.input, in_fid);
		spif_catalog_close(cat);
	}
	cli_permit(&c, (struct spif_request){.act = o.decrypt ? SPIF_ACT_DECRYPT : SPIF_ACT_ENCRYPT,
	                                     .file_id = in_fid[0] ? spif_file_id_parse(in_fid) : 0,
	                                     .reason = o.reason});
	struct spif_err e = {0};
	if (o.pass_file && spif_passphrase_read(o.pass_file, &o.passphrase, &e) < 0)
		cli_die(&c, &e);
	int rc = o.decrypt ? decrypt(&c, &o, fd) : o.nfields ? encrypt_columns(&c, &o, fd)
	       : encrypt_stream(&c, &o, fd);
	if (o.passphrase) {
		explicit_bzero(o.passphrase, strlen(o.passphrase));
		free(o.passphrase);
	}
	for (size_t i = 0; i < o.nfields; i++)
		free(o.fields[i]);
	free(o.fields);
	free(o.recipients);
	if (fd > 0)
		close(fd);
	cli_done(&c);
	return rc;
}
