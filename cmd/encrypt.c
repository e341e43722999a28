/* encrypt.c - spif encrypt: OpenPGP for whole streams, ENC[...] for columns.
 *
 * Whole streams: any input, to recipients' keys (or a passphrase),
 * optionally signed.  gpg reads the input and writes the output itself
 * (lib/pgp.c); this program only looks at the first bytes, to know whether
 * they are records of a catalogued file.
 *
 * Columns (--fields): the stream stays records; each listed field's value
 * is sealed (lib/fieldcrypt.c) under one random data key per stream, which
 * travels wrapped to the recipients in the stream's first line (the key
 * line, spif-records(5)).  In NDJSON the seal binds the record's @file and
 * @row; in CSV and TSV, which carry no metadata, the stream's file and the
 * record's position.
 *
 * -d undoes either, telling them apart by their first bytes.  -o FILE
 * appears whole or not at all, mode 0600, never over an existing file; when
 * the data are records of a catalogued file it is registered as a copy of
 * that file, with an event, in one transaction. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "cli.h"
#include "digest.h"
#include "fieldcrypt.h"
#include "mynumber.h"
#include "peek.h"
#include "pgp.h"
#include "recpipe.h"
#include "record.h"

static const char usage_text[] =
	"usage: spif encrypt -r RECIPIENT... [--sign KEYID] [--armor] [-o FILE] [FILE|-]\n"
	"       spif encrypt --passphrase-file F [--sign KEYID] [--armor] [-o FILE] [FILE|-]\n"
	"       spif encrypt --fields NAME,... (-r RECIPIENT... | --passphrase-file F)\n"
	"           [--sign KEYID] [--format F] [--encoding E] [--to F] [--output-encoding E]\n"
	"           [-o FILE] [FILE|-]\n"
	"       spif encrypt -d [--require-signature] [--passphrase-file F] [-o FILE] [FILE|-]\n"
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
	"  -o FILE              write to FILE (new, 0600; nothing is left on failure);\n"
	"                       records of a catalogued file make it a registered copy\n"
	"  --home DIR           the catalog's home\n"
	"\n"
	"Exit: 0 ok, 1 bad or missing (--require-signature) signature, 64 usage or a\n"
	"field not in the input, 65 bad input (not OpenPGP, altered, a value that does\n"
	"not open), 66 no input, 69 no usable key (missing, expired, revoked), wrong\n"
	"passphrase or no GnuPG, 73 output exists or cannot be created, 74 I/O, 77.\n";

struct opts {
	const char **recipients;
	size_t nrecipients;
	char **fields;
	size_t nfields;
	const char *sign_key, *out, *input, *pass_file;
	char *passphrase;
	int decrypt, armor, require_sig;
	enum spif_format fmt, to;
	enum spif_enc enc, out_enc;
	int out_enc_set;
};

static void add_field(struct cli *c, struct opts *o, const char *name, size_t len)
{
	if (len == 0)
		cli_usage(c, "--fields: empty field name");
	if (name[0] == '@')
		cli_usage(c, "--fields %.*s: metadata is not encrypted", (int)len, name);
	for (size_t i = 0; i < o->nfields; i++)
		if (strlen(o->fields[i]) == len && memcmp(o->fields[i], name, len) == 0)
			cli_usage(c, "--fields %.*s: listed twice", (int)len, name);
	char **v = realloc(o->fields, (o->nfields + 1) * sizeof *v);
	if (!v || !(v[o->nfields] = strndup(name, len)))
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	o->fields = v;
	o->nfields++;
}

/* The passphrase: the first line of F, without its line end. */
static char *read_passphrase(struct cli *c, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cli_fail(c, errno == EACCES ? SPIF_EX_NOPERM : SPIF_EX_NOINPUT, "%s: %s", path,
		         strerror(errno));
	char buf[1100];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			cli_fail(c, SPIF_EX_IOERR, "%s: %s", path, strerror(errno));
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	size_t len = strcspn(buf, "\n");
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len == 0)
		cli_fail(c, SPIF_EX_DATAERR, "%s: the first line (the passphrase) is empty", path);
	if (len > 1024)
		cli_fail(c, SPIF_EX_DATAERR, "%s: the passphrase is longer than 1024 bytes", path);
	char *p = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	if (!p)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	return p;
}

static void parse_args(struct cli *c, struct opts *o, int argc, char **argv)
{
	enum { O_SIGN = 256, O_ARMOR, O_PASS, O_FIELDS, O_FORMAT, O_ENC, O_TO, O_OUTENC, O_REQSIG,
	       O_HOME };
	static const struct option longopts[] = {
		{"recipient", required_argument, NULL, 'r'},  {"sign", required_argument, NULL, O_SIGN},
		{"armor", no_argument, NULL, O_ARMOR},         {"passphrase-file", required_argument, NULL, O_PASS},
		{"fields", required_argument, NULL, O_FIELDS}, {"format", required_argument, NULL, O_FORMAT},
		{"encoding", required_argument, NULL, O_ENC},  {"to", required_argument, NULL, O_TO},
		{"output-encoding", required_argument, NULL, O_OUTENC},
		{"decrypt", no_argument, NULL, 'd'},           {"require-signature", no_argument, NULL, O_REQSIG},
		{"output", required_argument, NULL, 'o'},      {"home", required_argument, NULL, O_HOME},
		{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	opterr = 0;
	int ch, e;
	while ((ch = getopt_long(argc, argv, "hdr:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': {
			const char **v = realloc(o->recipients, (o->nrecipients + 1) * sizeof *v);
			if (!v)
				cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
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
			if ((o->fmt = spif_format_parse(optarg)) == SPIF_FMT_NONE)
				cli_usage(c, "--format %s: unknown (ndjson, csv, tsv)", optarg);
			break;
		case O_ENC:
			if ((e = spif_enc_parse(optarg)) < 0)
				cli_usage(c, "--encoding %s: unknown (auto, utf-8, cp932, euc-jp)", optarg);
			o->enc = (enum spif_enc)e;
			break;
		case O_TO:
			if ((o->to = spif_format_parse(optarg)) == SPIF_FMT_NONE)
				cli_usage(c, "--to %s: unknown (ndjson, csv, tsv)", optarg);
			break;
		case O_OUTENC:
			if ((e = spif_enc_parse(optarg)) <= 0)
				cli_usage(c, "--output-encoding %s: unknown (utf-8, utf-8-bom, cp932, euc-jp)",
				          optarg);
			o->out_enc = (enum spif_enc)e;
			o->out_enc_set = 1;
			break;
		case 'd': o->decrypt = 1; break;
		case O_REQSIG: o->require_sig = 1; break;
		case 'o': o->out = optarg; break;
		case O_HOME: c->home_opt = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
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
		const char *dot = strrchr(o->input, '.');
		if (dot && (!strcasecmp(dot, ".tsv") || !strcasecmp(dot, ".tab")))
			o->fmt = SPIF_FMT_TSV;
		else if (dot && (!strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".jsonl")))
			o->fmt = SPIF_FMT_NDJSON;
		else if (strcmp(o->input, "-") == 0)
			o->fmt = SPIF_FMT_NDJSON; /* in a pipe, the records of another spif command */
		else
			o->fmt = SPIF_FMT_CSV;
	}
	if (o->nfields && !o->to)
		o->to = o->fmt;
}

/* ---- the output ---------------------------------------------------------- */

/* Where the data go: standard output, or -o FILE through a temporary file
 * put in place only when all is well.  The output is hashed for the
 * catalog, and its first bytes kept to tell whether it is records. */
struct output {
	struct spif_atomic a;
	int atomic;
	int fd;
	const char *name;
	struct spif_sha256 *h;
	long long size;
	char head[64];
	size_t headn;
};

/* The temporary file of -o, removed by a signal that ends the run: an
 * interrupted decryption must not leave plaintext behind under a hidden
 * name.  (Only this program's signal handler touches it.) */
static char pending_tmp[PATH_MAX];

static void on_signal(int sig)
{
	if (pending_tmp[0])
		unlink(pending_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void watch_signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* The temporary file is gone or in place: nothing for a signal to remove. */
static void settled(void)
{
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pending_tmp[0] = '\0';
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void output_abort(struct output *w)
{
	if (w->atomic)
		spif_atomic_abort(&w->a);
	settled();
	spif_sha256_free(w->h);
	w->h = NULL;
}

static void output_open(struct cli *c, struct output *w, const char *path)
{
	struct spif_err e = {0};
	memset(w, 0, sizeof *w);
	w->a.fd = -1;
	w->fd = 1;
	w->name = "(stdout)";
	if (!path)
		return;
	/* the path goes into the catalog, which never holds a number */
	if (spif_text_has_number(path))
		cli_fail(c, SPIF_EX_DATAERR, "-o: the file name holds what may be an Individual "
		         "Number; the catalog never records one: choose another name");
	watch_signals();
	if (spif_atomic_open(&w->a, path, spif_file_mode(&c->conf), &e) < 0)
		cli_die(c, &e);
	memcpy(pending_tmp, w->a.tmp, sizeof pending_tmp);
	w->atomic = 1;
	w->fd = w->a.fd;
	w->name = path;
	if (!(w->h = spif_sha256_new())) {
		output_abort(w);
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	}
}

/* What a byte of output also does: hash, count, and keep the first ones. */
static int output_tap(void *ctx, const void *buf, size_t n)
{
	struct output *w = ctx;
	if (w->h)
		spif_sha256_update(w->h, buf, n);
	w->size += (long long)n;
	if (w->headn < sizeof w->head) {
		size_t k = n < sizeof w->head - w->headn ? n : sizeof w->head - w->headn;
		memcpy(w->head + w->headn, buf, k);
		w->headn += k;
	}
	return 0;
}

static int output_sink(void *ctx, const void *buf, size_t n)
{
	struct output *w = ctx;
	output_tap(w, buf, n);
	return spif_sink_fd(&w->fd, buf, n);
}

/* Die with e, leaving nothing at -o. */
static _Noreturn void fail_out(struct cli *c, struct output *w, const struct spif_err *e)
{
	output_abort(w);
	cli_die(c, e);
}

/* "F000001" when text (a stream's first bytes) is a record of spif's, else
 * "" : {"@file":"F000001",... */
static void records_file(const char *text, size_t n, char fid[24])
{
	static const char pre[] = "{\"@file\":\"";
	fid[0] = '\0';
	if (n < sizeof pre || memcmp(text, pre, sizeof pre - 1) != 0)
		return;
	const char *s = text + sizeof pre - 1, *q = memchr(s, '"', n - (sizeof pre - 1));
	if (!q || q - s >= 24)
		return;
	char id[24];
	memcpy(id, s, (size_t)(q - s));
	id[q - s] = '\0';
	long long v = spif_file_id_parse(id);
	if (v > 0)
		spif_file_id_format(v, fid);
}

/* The catalogued file the input file is a copy of ("" when none): a path
 * the catalog knows, for a whole stream that is not records. */
static void input_file(struct spif_catalog *cat, const char *input, char fid[24])
{
	fid[0] = '\0';
	if (!cat || strcmp(input, "-") == 0)
		return;
	char *real = realpath(input, NULL);
	sqlite3_stmt *st;
	struct spif_err e = {0};
	if (real && spif_catalog_prepare(cat, "SELECT file_id FROM copies WHERE path = ? AND state = "
	                                 "'present' AND file_id IS NOT NULL ORDER BY id DESC LIMIT 1",
	                                 &st, &e) == 0) {
		sqlite3_bind_text(st, 1, real, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			spif_file_id_format(sqlite3_column_int64(st, 0), fid);
		sqlite3_finalize(st);
	}
	free(real);
}

/* Put -o in place; when fid names a file this catalog knows, register it
 * as a copy (kind, encrypted, copy_details) with event action/details, in
 * the same transaction: either both happen or neither.  Returns 1 when it
 * was registered. */
static int output_commit(struct cli *c, struct output *w, struct spif_catalog *cat, const char *fid,
                         const char *kind, int encrypted, json_t *copy_details, const char *action,
                         json_t *event)
{
	struct spif_err e = {0};
	if (!w->atomic)
		return 0;
	char sha[65];
	spif_sha256_hex(w->h, sha);
	long long id = fid[0] ? spif_file_id_parse(fid) : -1;
	struct spif_file f = {0};
	if (id > 0 && cat && spif_catalog_get_file(cat, id, &f, &e) < 0) {
		cli_note(c, "%s: not in this catalog; %s is not registered", fid, w->name);
		id = -1;
	}
	spif_file_free(&f);
	if (id > 0 && !cat) {
		cli_note(c, "%s: no catalog here; %s is not registered", fid, w->name);
		id = -1;
	}
	if (id <= 0) {
		if (spif_atomic_commit(&w->a, &e) < 0)
			fail_out(c, w, &e);
		settled();
		return 0;
	}
	char now[32];
	spif_now_utc(now);
	char *ds = json_dumps(copy_details, JSON_COMPACT | JSON_SORT_KEYS);
	if (!ds)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	if (spif_catalog_begin(cat, &e) < 0)
		fail_out(c, w, &e);
	if (spif_atomic_commit(&w->a, &e) < 0) {
		spif_catalog_rollback(cat);
		settled();
		cli_die(c, &e);
	}
	settled();
	char *real = realpath(w->name, NULL);
	struct spif_copy cp = {.file_id = id, .kind = (char *)kind, .path = real ? real : (char *)w->name,
	                       .sha256 = sha, .size = w->size, .encrypted = encrypted, .created = now,
	                       .details = ds};
	json_object_set_new(event, "output_copy", json_string(cp.path));
	json_object_set_new(event, "sha256", json_string(sha));
	json_object_set_new(event, "size", json_integer(w->size));
	if (spif_catalog_add_copy(cat, &cp, &e) < 0 || spif_audit_append(cat, action, fid, event, NULL, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_rollback(cat);
		unlink(w->name); /* not registered: it must not exist either */
		spif_fsync_dir_of(w->name);
		cli_die(c, &e);
	}
	free(real);
	free(ds);
	return 1;
}

/* The input as the catalog may record it: its path, unless the name holds
 * what may be an Individual Number (the catalog never holds one). */
static const char *shown_input(const struct opts *o)
{
	if (strcmp(o->input, "-") == 0)
		return "(stdin)";
	return spif_text_has_number(o->input) ? "(a file name holding digits)" : o->input;
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
	char *sig = NULL;
	fpr[0] = '\0';
	if (spif_pgp_sign(key, "spif", 4, &sig, fpr, &e) < 0)
		cli_die(c, &e);
	free(sig);
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
		records_file(head, got, fid);
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
	char (*fprs)[41] = calloc(o->nrecipients + 1, sizeof *fprs);
	if (!fprs)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	struct spif_pgp_enc pe = {.recipients = o->recipients, .nrecipients = o->nrecipients,
	                          .sign_key = o->sign_key, .armor = o->armor, .passphrase = o->passphrase,
	                          .fprs = fprs};
	struct output w;
	output_open(c, &w, o->out);
	if (spif_pgp_encrypt_to_fd(fd, w.fd, w.atomic ? output_tap : NULL, &w, &pe, &e) < 0)
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
	fprintf(stderr, "%s: encrypted %s", c->prog,
	        o->passphrase ? "with a passphrase" : o->nrecipients == 1 ? "for" : "for each of");
	for (size_t i = 0; i < o->nrecipients; i++)
		fprintf(stderr, " %s", fprs[i]);
	if (sfpr[0])
		fprintf(stderr, ", signed by %s", sfpr);
	fprintf(stderr, " -> %s%s%s\n", w.name, reg ? ", registered as a copy of " : "", reg ? fid : "");
	spif_sha256_free(w.h);
	free(fprs);
	spif_catalog_close(cat);
	return 0;
}

/* ---- column level -------------------------------------------------------- */

/* The key line: {"@spif-encrypted":{...}} and a line feed, ASCII only (so
 * that it reads the same in UTF-8, CP932 and EUC-JP). */
static char *key_line(const struct opts *o, enum spif_format to, enum spif_enc oe, const char *fid,
                      const char *armored, char (*fprs)[41])
{
	json_t *fl = json_array();
	for (size_t i = 0; i < o->nfields; i++)
		json_array_append_new(fl, json_string(o->fields[i]));
	json_t *h = json_pack("{s:i,s:s,s:s}", "v", 1, "scheme", "aes-256-gcm", "format",
	                      spif_format_name(to));
	if (to != SPIF_FMT_NDJSON)
		json_object_set_new(h, "encoding", json_string(spif_enc_name(oe)));
	json_object_set_new(h, "fields", fl);
	json_object_set_new(h, "file", json_string(fid));
	json_object_set_new(h, "mode", json_string(mode_name(o)));
	json_object_set_new(h, "recipients", fpr_array(fprs, o->nrecipients));
	json_object_set_new(h, "key", json_string(armored));
	json_t *top = json_pack("{s:o}", "@spif-encrypted", h);
	char *s = json_dumps(top, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(top);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	memcpy(line + n, "\n", 2);
	return line;
}

/* Field lookup that remembers where a name was in the last record (spif's
 * streams keep one layout) and compares lengths before bytes: a plain
 * search per field per record cost a tenth of the run. */
static ssize_t field_at(const struct spif_record *rec, const char *key, size_t klen, size_t *hint)
{
	const struct spif_field *f = rec->f;
	if (*hint < rec->n && f[*hint].klen == klen && memcmp(f[*hint].key, key, klen) == 0)
		return (ssize_t)*hint;
	for (size_t i = 0; i < rec->n; i++)
		if (f[i].klen == klen && memcmp(f[i].key, key, klen) == 0) {
			*hint = i;
			return (ssize_t)i;
		}
	return -1;
}

/* A non-negative number in decimal; the end of what was written. */
static char *put_num(char *o, long long v)
{
	char t[24];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n)
		*o++ = t[--n];
	*o = '\0';
	return o;
}

/* What sealing and opening a stream's fields need to know. */
struct colspec {
	const char *name;    /* the stream, for messages */
	char *const *fields;
	size_t *flen;        /* their lengths */
	size_t nfields;
	int meta;            /* NDJSON: @file and @row come from the record */
	char file[24];       /* CSV/TSV: the stream's file ("" when none) */
	long long line_base; /* where records' rows are in the file, for messages */
};

/* One thread's share of the work: its own handle on the key (a handle is
 * for one thread), lookup hints and scratch. */
struct columns {
	const struct colspec *s;
	struct spif_fieldkey *key;
	size_t *hint;        /* per field */
	size_t file_hint, row_hint;
	char *buf;           /* CSV/TSV: the value with its quoting mark */
	size_t cap;
	long long done;      /* values sealed or opened */
};

static int columns_init(struct columns *k, const struct colspec *s, const unsigned char *raw)
{
	memset(k, 0, sizeof *k);
	k->s = s;
	k->key = spif_fieldkey_from(raw);
	k->hint = calloc(s->nfields, sizeof *k->hint);
	return k->key && k->hint ? 0 : -1;
}

static void columns_free(struct columns *k)
{
	spif_fieldkey_free(k->key);
	free(k->hint);
	if (k->buf)
		explicit_bzero(k->buf, k->cap);
	free(k->buf);
}

/* The (file, row) a record's fields are bound to.  NDJSON: its @file and
 * @row (its position in the stream when it has no @row); CSV and TSV: the
 * stream's file and the record's row (header row 1, first record 2), the
 * only things their readers can know again. */
static void bind_of(struct columns *k, const struct spif_record *rec, long long ordinal,
                    const char **file, const char **row, char rowbuf[24])
{
	*file = k->s->file;
	*row = NULL;
	if (k->s->meta) {
		ssize_t i = field_at(rec, "@file", 5, &k->file_hint);
		*file = i >= 0 ? rec->f[i].val : "";
		i = field_at(rec, "@row", 4, &k->row_hint);
		if (i >= 0)
			*row = rec->f[i].val;
	}
	if (!*row) {
		put_num(rowbuf, ordinal + 2);
		*row = rowbuf;
	}
}

static int grow(struct columns *k, size_t n, struct spif_err *err)
{
	if (n <= k->cap)
		return 0;
	size_t cap = k->cap ? k->cap : 256;
	while (cap < n)
		cap *= 2;
	char *b = malloc(cap);
	if (!b)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (k->buf) {
		explicit_bzero(k->buf, k->cap);
		free(k->buf);
	}
	k->buf = b;
	k->cap = cap;
	return 0;
}

/* spif_recpipe_fn: seal the listed fields of rec. */
static int seal_record(void *ctx, struct spif_record *rec, long long ordinal, struct spif_err *err)
{
	struct columns *k = ctx;
	const struct colspec *s = k->s;
	long long line = s->line_base + ordinal;
	const char *file, *row;
	char rowbuf[24];
	if (!s->meta && s->file[0]) {
		/* CSV/TSV bind the stream's file: one file per stream */
		ssize_t i = field_at(rec, "@file", 5, &k->file_hint);
		if (i >= 0 && strcmp(rec->f[i].val, s->file) != 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: records of more than one file "
			                    "(%s, %s): write them as NDJSON", s->name, rec->row, s->file,
			                    rec->f[i].val);
	}
	bind_of(k, rec, ordinal, &file, &row, rowbuf);
	for (size_t j = 0; j < s->nfields; j++) {
		ssize_t i = field_at(rec, s->fields[j], s->flen[j], &k->hint[j]);
		if (i < 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: no field \"%s\"", s->name,
			                    rec->row ? rec->row : line, s->fields[j]);
		const char *v = rec->f[i].val;
		size_t n = rec->f[i].vlen;
		if (!s->meta) {
			/* CSV/TSV: ENC[...] is quoted wherever it goes (it holds
			 * commas), so whether the source had the value in quotes is
			 * sealed with it, as its first character */
			if (grow(k, n + 1, err) < 0)
				return -1;
			k->buf[0] = rec->f[i].flags & SPIF_FIELD_QUOTED ? '"' : '=';
			memcpy(k->buf + 1, v, n);
			v = k->buf;
			n++;
		}
		char *enc;
		size_t encn;
		if (spif_field_seal(k->key, file, row, s->fields[j], v, n, &enc, &encn, err) < 0)
			return -1;
		int r = spif_record_set(rec, (size_t)i, enc, encn);
		free(enc);
		if (r < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		k->done++;
	}
	if (!s->meta && k->buf)
		explicit_bzero(k->buf, k->cap);
	return 0;
}

/* spif_recpipe_fn: open the listed fields of rec. */
static int open_record(void *ctx, struct spif_record *rec, long long ordinal, struct spif_err *err)
{
	struct columns *k = ctx;
	const struct colspec *s = k->s;
	long long line = s->line_base + ordinal; /* for NDJSON, the line in the file */
	const char *file, *row;
	char rowbuf[24];
	if (!s->meta)
		line = rec->row + 1; /* the key line is row 1, the header row 2 */
	bind_of(k, rec, ordinal, &file, &row, rowbuf);
	for (size_t j = 0; j < s->nfields; j++) {
		ssize_t i = field_at(rec, s->fields[j], s->flen[j], &k->hint[j]);
		if (i < 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: no field \"%s\"", s->name, line,
			                    s->fields[j]);
		char *pt;
		size_t n;
		if (spif_field_open(k->key, file, row, s->fields[j], rec->f[i].val, rec->f[i].vlen, &pt, &n,
		                    err) < 0) {
			spif_err_prefix(err, "%s:%lld: field \"%s\"", s->name, line, s->fields[j]);
			return -1;
		}
		const char *v = pt;
		size_t vn = n;
		if (!s->meta) {
			if (n == 0 || (pt[0] != '"' && pt[0] != '=')) {
				explicit_bzero(pt, n);
				free(pt);
				return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: field \"%s\": not sealed "
				                    "for CSV/TSV", s->name, line, s->fields[j]);
			}
			if (pt[0] == '"')
				rec->f[i].flags |= SPIF_FIELD_QUOTED;
			else
				rec->f[i].flags &= ~SPIF_FIELD_QUOTED;
			v++;
			vn--;
		}
		int r = spif_record_set(rec, (size_t)i, v, vn);
		explicit_bzero(pt, n);
		free(pt);
		if (r < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		k->done++;
	}
	return 0;
}

/* Every --fields name must be in the input: a missing one is an error,
 * never a field silently left in clear.  The first missing one, or NULL. */
static const char *missing_field(const struct opts *o, const struct spif_record *rec,
                                 struct spif_reader *rd)
{
	for (size_t j = 0; j < o->nfields; j++) {
		int found = 0;
		if (rec)
			found = spif_record_get(rec, o->fields[j]) != NULL;
		else
			for (size_t i = 0; i < spif_reader_ncols(rd) && !found; i++)
				found = strcmp(spif_reader_colname(rd, i), o->fields[j]) == 0;
		if (!found)
			return o->fields[j];
	}
	return NULL;
}

/* A CSV/TSV source with no records still has its header to write. */
static int header_only(struct spif_reader *rd, struct spif_writer *wr, struct spif_err *err)
{
	size_t nc = spif_reader_ncols(rd);
	const char **names = calloc(nc + 1, sizeof *names);
	if (!names)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	for (size_t i = 0; i < nc; i++)
		names[i] = spif_reader_colname(rd, i);
	int rc = spif_writer_put_header(wr, names, nc, err);
	free(names);
	return rc;
}

/* Records through op on two threads, each with its own handle on the key. */
static long long run_columns(struct cli *c, const struct colspec *s, const unsigned char *raw,
                             struct spif_reader *rd, const struct spif_record *first,
                             struct spif_writer *wr, spif_recpipe_fn op, long long *values,
                             struct spif_err *err)
{
	struct columns km = {0}, kw = {0};
	long long n = -1;
	struct colspec cs = *s;
	(void)c;
	cs.flen = calloc(s->nfields, sizeof *cs.flen);
	for (size_t j = 0; cs.flen && j < s->nfields; j++)
		cs.flen[j] = strlen(s->fields[j]);
	if (!cs.flen || columns_init(&km, &cs, raw) < 0 || columns_init(&kw, &cs, raw) < 0)
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	else
		n = spif_recpipe_run(rd, first, wr, op, &km, &kw, err);
	free(cs.flen);
	*values = km.done + kw.done;
	columns_free(&km);
	columns_free(&kw);
	return n;
}

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
	const char *missing = missing_field(o, rc > 0 ? &rec : NULL, rd);
	if (missing) {
		spif_record_free(&rec);
		spif_reader_close(rd);
		cli_usage(c, "--fields %s: no such field in %s", missing, name);
	}

	struct colspec cs = {.name = name, .fields = o->fields, .nfields = o->nfields,
	                     .meta = o->to == SPIF_FMT_NDJSON, .line_base = 2};
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
	char (*fprs)[41] = calloc(o->nrecipients + 1, sizeof *fprs), sfpr[41] = "";
	if (!fprs)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	if (o->sign_key)
		signer_fpr(c, o->sign_key, sfpr);
	struct spif_pgp_enc pe = {.recipients = o->recipients, .nrecipients = o->nrecipients,
	                          .sign_key = o->sign_key, .armor = 1, .passphrase = o->passphrase,
	                          .fprs = fprs};
	char *armored = NULL;
	size_t an = 0;
	if (spif_pgp_encrypt_buf(spif_fieldkey_raw(key), 32, &pe, &armored, &an, &e) < 0)
		cli_die(c, &e);
	char *line = key_line(o, o->to, oe, cs.file, armored, fprs);
	if (!line)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");

	struct output w;
	output_open(c, &w, o->out);
	if (output_sink(&w, line, strlen(line)) < 0) {
		spif_err_sys(&e, spif_exit_for_errno(errno), errno, "%s", w.name);
		fail_out(c, &w, &e);
	}
	const struct spif_dialect *dl = o->fmt == o->to && o->to != SPIF_FMT_NDJSON
	                              ? spif_reader_dialect(rd) : NULL;
	struct spif_writer *wr = spif_writer_open(output_sink, &w, w.name, o->to, oe, dl, &e);
	if (!wr)
		fail_out(c, &w, &e);
	if (rc == 0 && o->fmt != SPIF_FMT_NDJSON && header_only(rd, wr, &e) < 0)
		fail_out(c, &w, &e);
	long long values = 0, records = 0;
	if (rc > 0)
		records = run_columns(c, &cs, spif_fieldkey_raw(key), rd, &rec, wr, seal_record, &values, &e);
	spif_fieldkey_free(key);
	if (records < 0 || spif_writer_finish(wr, &e) < 0)
		fail_out(c, &w, &e);
	spif_writer_close(wr);

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
	fprintf(stderr, "%s: %lld records, %lld values sealed in %zu field%s -> %s%s%s\n", c->prog,
	        records, values, o->nfields, o->nfields == 1 ? "" : "s", w.name,
	        reg ? ", registered as a copy of " : "", reg ? cs.file : "");
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
			snprintf(e.msg, sizeof e.msg, "bad signature by %s", signer[0] ? signer : "?");
		fail_out(c, w, &e);
	}
	if (sig_status == 0 && o->require_sig) {
		struct spif_err e = {SPIF_FOUND, ""};
		snprintf(e.msg, sizeof e.msg, "the message is not signed (--require-signature)");
		fail_out(c, w, &e);
	}
}

static void say_decrypted(const struct cli *c, const struct output *w, const char *signer, int reg,
                          const char *fid)
{
	fprintf(stderr, "%s: decrypted -> %s; %s%s%s%s\n", c->prog, w->name,
	        signer[0] ? "good signature by " : "not signed", signer,
	        reg ? "; registered as a copy of " : "", reg ? fid : "");
}

static int decrypt_stream(struct cli *c, struct opts *o, int fd)
{
	struct spif_err e = {0};
	struct output w;
	char signer[41] = "";
	int sig_status = 0;
	struct spif_catalog *cat = o->out ? cli_catalog_if_exists(c) : NULL;
	output_open(c, &w, o->out);
	if (spif_pgp_decrypt_fd(fd, output_sink, &w, o->passphrase, signer, &sig_status, &e) < 0)
		fail_out(c, &w, &e);
	check_signature(c, o, &w, signer, sig_status, &e);
	char fid[24];
	records_file(w.head, w.headn, fid);
	json_t *cd = json_pack("{s:s,s:s}", "decrypted_from", shown_input(o), "scheme", "openpgp");
	json_object_set_new(cd, "signer", signer[0] ? json_string(signer) : json_null());
	json_t *ev = json_deep_copy(cd);
	int reg = output_commit(c, &w, cat, fid, "output", 0, cd, "decrypt", ev);
	json_decref(cd);
	json_decref(ev);
	say_decrypted(c, &w, signer, reg, fid);
	spif_sha256_free(w.h);
	spif_catalog_close(cat);
	return 0;
}

/* The key line of a column-encrypted stream, read off fd a byte at a time
 * so that the records after it are left for the reader. */
static char *read_key_line(struct cli *c, int fd, const char *name)
{
	enum { MAX = 64 * 1024 };
	char *s = malloc(MAX + 1);
	size_t n = 0;
	if (!s)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			cli_fail(c, SPIF_EX_IOERR, "%s: %s", name, strerror(errno));
		if (r == 0)
			cli_fail(c, SPIF_EX_DATAERR, "%s:1: the key line ends early", name);
		if (ch == '\n')
			break;
		if (n == MAX)
			cli_fail(c, SPIF_EX_DATAERR, "%s:1: key line longer than %d bytes", name, MAX);
		s[n++] = ch;
	}
	if (n && s[n - 1] == '\r')
		n--;
	s[n] = '\0';
	return s;
}

/* What a key line says. */
struct key_header {
	json_t *root;
	enum spif_format fmt;
	enum spif_enc enc;
	const char *file, *key, *mode;
	char **fields;
	size_t nfields;
};

static void parse_key_line(struct cli *c, const char *line, const char *name, struct key_header *h)
{
	json_error_t je;
	memset(h, 0, sizeof *h);
	h->root = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	json_t *x = json_object_get(h->root, "@spif-encrypted");
	if (!json_is_object(x) || json_object_size(h->root) != 1)
		cli_fail(c, SPIF_EX_DATAERR, "%s: not an OpenPGP message, nor a column-encrypted stream "
		         "(its first line is not a key line)", name);
	json_t *fl = json_object_get(x, "fields");
	const char *fmt = json_string_value(json_object_get(x, "format"));
	const char *scheme = json_string_value(json_object_get(x, "scheme"));
	h->file = json_string_value(json_object_get(x, "file"));
	h->key = json_string_value(json_object_get(x, "key"));
	h->mode = json_string_value(json_object_get(x, "mode"));
	if (json_integer_value(json_object_get(x, "v")) != 1 || !scheme || strcmp(scheme, "aes-256-gcm") ||
	    !fmt || !h->file || !h->key || !json_is_array(fl) || json_array_size(fl) == 0)
		cli_fail(c, SPIF_EX_DATAERR, "%s:1: a key line of another version, or damaged", name);
	h->fmt = spif_format_parse(fmt);
	if (h->fmt == SPIF_FMT_NONE)
		cli_fail(c, SPIF_EX_DATAERR, "%s:1: key line: unknown format %s", name, fmt);
	h->enc = SPIF_ENC_UTF8;
	if (h->fmt != SPIF_FMT_NDJSON) {
		const char *en = json_string_value(json_object_get(x, "encoding"));
		int v = en ? spif_enc_parse(en) : -1;
		if (v <= 0)
			cli_fail(c, SPIF_EX_DATAERR, "%s:1: key line: no or unknown encoding", name);
		h->enc = (enum spif_enc)v;
	}
	h->nfields = json_array_size(fl);
	h->fields = calloc(h->nfields, sizeof *h->fields);
	if (!h->fields)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	for (size_t i = 0; i < h->nfields; i++) {
		h->fields[i] = (char *)json_string_value(json_array_get(fl, i));
		if (!h->fields[i] || !*h->fields[i])
			cli_fail(c, SPIF_EX_DATAERR, "%s:1: key line: a field name that is not a string", name);
	}
}

static int decrypt_columns(struct cli *c, struct opts *o, int fd)
{
	struct spif_err e = {0};
	const char *name = strcmp(o->input, "-") ? o->input : "(stdin)";
	char *line = read_key_line(c, fd, name);
	struct key_header h;
	parse_key_line(c, line, name, &h);
	struct spif_catalog *cat = o->out ? cli_catalog_if_exists(c) : NULL;

	/* the data key, and who signed it, before a byte is written */
	void *raw = NULL;
	size_t rawn = 0;
	char signer[41] = "";
	int sig_status = 0;
	if (spif_pgp_decrypt_buf(h.key, strlen(h.key), o->passphrase, &raw, &rawn, signer, &sig_status,
	                         &e) < 0)
		cli_die(c, &e);
	if (rawn != 32) {
		explicit_bzero(raw, rawn);
		cli_fail(c, SPIF_EX_DATAERR, "%s:1: the key line holds no 256-bit key", name);
	}
	struct output w;
	output_open(c, &w, o->out);
	check_signature(c, o, &w, signer, sig_status, &e);

	/* UTF-8 either way, with or without a BOM: let the reader see which */
	enum spif_enc ie = h.fmt == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8
	                 : h.enc == SPIF_ENC_UTF8 || h.enc == SPIF_ENC_UTF8_BOM ? SPIF_ENC_AUTO : h.enc;
	struct spif_reader *rd = spif_reader_open(fd, name, h.fmt, ie, &e);
	if (!rd)
		fail_out(c, &w, &e);
	struct spif_record rec;
	spif_record_init(&rec);
	int rc = spif_reader_next(rd, &rec, &e);
	if (rc < 0)
		fail_out(c, &w, &e);
	enum spif_enc oe = h.fmt == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8 : rc > 0 ? spif_reader_encoding(rd) : h.enc;
	if (oe == SPIF_ENC_AUTO)
		oe = h.enc;
	struct spif_writer *wr = spif_writer_open(output_sink, &w, w.name, h.fmt, oe,
	                                          h.fmt == SPIF_FMT_NDJSON ? NULL : spif_reader_dialect(rd), &e);
	if (!wr)
		fail_out(c, &w, &e);
	if (rc == 0 && h.fmt != SPIF_FMT_NDJSON && header_only(rd, wr, &e) < 0)
		fail_out(c, &w, &e);
	struct colspec cs = {.name = name, .fields = h.fields, .nfields = h.nfields,
	                     .meta = h.fmt == SPIF_FMT_NDJSON, .line_base = 2};
	snprintf(cs.file, sizeof cs.file, "%s", h.file);
	long long values = 0, records = 0;
	if (rc > 0)
		records = run_columns(c, &cs, raw, rd, &rec, wr, open_record, &values, &e);
	explicit_bzero(raw, rawn);
	free(raw);
	if (records < 0 || spif_writer_finish(wr, &e) < 0)
		fail_out(c, &w, &e);
	spif_writer_close(wr);
	char fid[24] = "";
	records_file(w.head, w.headn, fid);
	if (!fid[0] && spif_file_id_parse(h.file) > 0)
		snprintf(fid, sizeof fid, "%s", h.file);
	json_t *cd = json_pack("{s:s,s:s}", "decrypted_from", shown_input(o), "scheme", "fields aes-256-gcm");
	json_object_set_new(cd, "signer", signer[0] ? json_string(signer) : json_null());
	json_t *ev = json_deep_copy(cd);
	json_object_set_new(ev, "records", json_integer(records));
	int reg = output_commit(c, &w, cat, fid, "output", 0, cd, "decrypt", ev);
	json_decref(cd);
	json_decref(ev);
	say_decrypted(c, &w, signer, reg, fid);
	spif_sha256_free(w.h);
	spif_record_free(&rec);
	spif_reader_close(rd);
	free(h.fields);
	json_decref(h.root);
	explicit_bzero(line, strlen(line));
	free(line);
	spif_catalog_close(cat);
	return 0;
}

/* OpenPGP, or the key line of a column-encrypted stream?  Decided on the
 * first bytes, without taking them from gpg. */
static int decrypt(struct cli *c, struct opts *o, int fd)
{
	struct spif_err e = {0};
	char head[16];
	size_t got = 0;
	if (spif_fd_peek(fd, head, 1, &got, &e) == 0 && got == 1 && head[0] == '{')
		return decrypt_columns(c, o, fd);
	return decrypt_stream(c, o, fd);
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
	if (o.pass_file)
		o.passphrase = read_passphrase(&c, o.pass_file);
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
