/* main.c - spif export: checkouts (持出し) of specific personal information
 * and their ledger (持出し簿).
 *
 * spif export writes one archive for what leaves (lib/export.h: an
 * OpenPGP message of a BagIt bag, in one streaming pass, registered and
 * entered in the ledger in one transaction); its subcommands check an
 * archive (verify), list the ledger (ls) and close a checkout (return,
 * destroyed, lost): ledger.c.  Here are the options, one parser for all,
 * and the export itself. */
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "export_cmd.h"
#include "media.h"
#include "mynumber.h"
#include "passphrase.h"
#include "progress.h"
#include "pseudonym.h"
#include "xalloc.h"
#include "subject.h"

static const char usage_text[] = N_(
	"usage: spif export (--file ID... | --purpose P) -r RECIPIENT... [--sign KEYID]\n"
	"           [--redact [OP] [--key NAME] | --fields A,B | --drop A,B]\n"
	"           [--format bag|dir|tar] [--to ndjson|csv] [--output-encoding E]\n"
	"           --to-org ORG [--to-person P] --basis TEXT [--medium MEDIA-ID] [--seal NO]\n"
	"           [--due DATE] --reason TEXT -o OUT\n"
	"       spif export --forensic --incident INC [--file ID...] [--since T] [--until T]\n"
	"           [--with-records] -r RESPONDER... [--sign KEYID] [--reason TEXT] -o OUT\n"
	"       spif export --zip-aes256 [--passphrase-file F] (--file ID... | --purpose P) ... -o OUT\n"
	"       spif export --subject-file FILE|- -r RECIPIENT... --reason TEXT [--basis TEXT]\n"
	"           [--to-person P] [--sign KEYID] [--medium MEDIA-ID] [--seal NO] [--due DATE] -o OUT\n"
	"       spif export verify [--passphrase-file F] [--key CATALOG.pub] FILE|DIR\n"
	"       spif export ls [--outstanding] [--overdue] [--json]\n"
	"       spif export return EX --received-by NAME --seal intact|broken [PATH]\n"
	"       spif export destroyed EX --certificate FILE\n"
	"       spif export lost EX --reason TEXT\n"
	"       spif export delivered EX --received-by NAME [--note TEXT]\n"
	"\n"
	"Take specific personal information out of the office (持出し): one OpenPGP message,\n"
	"encrypted to every recipient and signed, holding a tar of a BagIt bag with the\n"
	"records, their SHA-256 and SHA-512 manifests and the custody items; entered in\n"
	"the ledger (持出し簿) and registered as a copy of each file.\n"
	"\n"
	"  --file ID            a catalogued file (repeat, or list more IDs after it)\n"
	"  --purpose P          every file of this purpose (事務) that is not disposed\n"
	"  -r, --recipient R    an OpenPGP key to encrypt to (repeat for more, at most 16)\n"
	"  --sign KEYID         sign with this key (default: spif.conf sign_key)\n"
	"  --redact [OP]        remove every Individual Number on the way: mask (default),\n"
	"                       empty, drop or pseudonym (with --key NAME)\n"
	"  --key NAME           the pseudonym key (spif redact --new-key)\n"
	"  --fields A,B         keep only these fields (and @file, @row)\n"
	"  --drop A,B           leave these fields out\n"
	"  --format F           bag (default: encrypted), dir (a plain bag directory) or\n"
	"                       tar (unencrypted): dir and tar only with no number in them\n"
	"  --to F               ndjson (default) or csv\n"
	"  --output-encoding E  CSV: utf-8 (default), utf-8-bom, cp932, euc-jp\n"
	"  --to-org ORG         the receiving organisation (委託先, 提供先)\n"
	"  --to-person P        the person who receives it\n"
	"  --basis TEXT         the legal basis (番号法第19条 item)\n"
	"  --medium MEDIA-ID    the registered medium it travels on (spif media)\n"
	"  --seal NO            the seal number on its envelope; with return: intact|broken\n"
	"  --due DATE           when it must be back or destroyed (YYYY-MM-DD)\n"
	"  --reason TEXT        why it leaves; with lost: what happened\n"
	"  -o OUT               the archive (new; nothing is left on failure)\n"
	"  --zip-aes256         a password ZIP (WinZip AES-256) instead of OpenPGP: weak,\n"
	"                       only where the recipient can take nothing else\n"
	"  --passphrase-file F  the ZIP's password, F's first line (default: asked at the\n"
	"                       terminal); verify: to open a ZIP\n"
	"  --outstanding        ls: only what is out\n"
	"  --overdue            ls: only what is out past its due date (exit 1 if any)\n"
	"  --json               ls: one JSON object per line\n"
	"  --received-by NAME   return: who received it back; delivered: the person who\n"
	"                       received a disclosure answer (開示請求の回答)\n"
	"  --note TEXT          delivered: how it was handed over (窓口, 郵送...)\n"
	"  --certificate FILE   destroyed: the recipient's deletion certificate, signed\n"
	"                       (FILE.asc beside it, or cleartext-signed)\n"
	"  --forensic           a forensic bundle of an incident: its events\n"
	"                       with proofs, rows, host and custody (spif-export(1))\n"
	"  --with-records       forensic: and the records of its files, numbers and all, as\n"
	"                       held (needs --reason, and an export's approval per file)\n"
	"  --incident INC       the open incident it is for (spif incident)\n"
	"  --since T, --until T the window of events (YYYY-MM-DD or UTC time)\n"
	"  --key FILE           verify: the catalog's public key (spif catalog key export)\n"
	"  --subject-file FILE  a disclosure request (開示請求): FILE (- for standard input)\n"
	"                       holds the person's Individual Number, never the command line;\n"
	"                       their records in every file, with the files' access history\n"
	"  --home DIR           the catalog's home\n"
	"\n"
	"Exit: 0 ok, 1 verify found problems or a bad signature, ls --overdue found some,\n"
	"64 usage, 65 bad input (a disposed file, a changed copy, a damaged vault copy,\n"
	"a number in a plain payload), 66 unknown file or no catalog, 69 a key missing,\n"
	"expired or revoked, 73 output exists, 74 I/O (disk full), 75 another export\n"
	"is running, 77 an unregistered or retired medium where registration is required.\n");

void allow(const struct cli *c, const struct opts *o, const char *sub, unsigned long long ok)
{
	static const struct { unsigned long long bit; const char *name; } names[] = {
		{O_FILE, "--file"}, {O_PURPOSE, "--purpose"}, {O_RCPT, "-r"}, {O_SIGN, "--sign"},
		{O_REDACT, "--redact"}, {O_FIELDS, "--fields"}, {O_DROP, "--drop"}, {O_FORMAT, "--format"},
		{O_TO, "--to"}, {O_OUTENC, "--output-encoding"}, {O_ORG, "--to-org"}, {O_PERSON, "--to-person"},
		{O_BASIS, "--basis"}, {O_MEDIUM, "--medium"}, {O_SEAL, "--seal"}, {O_DUE, "--due"},
		{O_REASON, "--reason"}, {O_OUT, "-o"}, {O_OUTST, "--outstanding"}, {O_OVERDUE, "--overdue"},
		{O_JSON, "--json"}, {O_RECEIVED, "--received-by"}, {O_CERT, "--certificate"}, {O_KEY, "--key"},
		{O_FORENSIC, "--forensic"}, {O_INCIDENT, "--incident"}, {O_SINCE, "--since"}, {O_UNTIL, "--until"},
		{O_ZIP, "--zip-aes256"}, {O_PASS, "--passphrase-file"},
		{O_SUBJECT, "--subject-file"}, {O_RECORDS, "--with-records"}, {O_NOTE, "--note"},
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if ((o->seen & names[i].bit) && !(ok & names[i].bit))
			cli_usage(c, "%s does not go with %s", names[i].name, sub);
}

static void add_list(struct cli *c, struct opts *o, const char *opt, const char *arg)
{
	for (const char *p = arg;;) {
		size_t len = strcspn(p, ",");
		if (!len)
			cli_usage(c, "%s: empty field name", opt);
		if (p[0] == '@')
			cli_usage(c, "%s %.*s: metadata is not a field to choose", opt, (int)len, p);
		char **v = xreallocarray(o->fields, o->nfields + 1, sizeof *v);
		v[o->nfields] = xstrndup(p, len);
		o->fields = v;
		o->nfields++;
		if (!p[len])
			break;
		p += len + 1;
	}
}

static void add_file(struct cli *c, struct opts *o, const char *arg)
{
	long long id = spif_file_id_parse(arg);
	if (id < 0)
		cli_usage(c, "%s: not a file id (F000001)", arg);
	long long *v = xreallocarray(o->files, o->nfiles + 1, sizeof *v);
	o->files = v;
	o->files[o->nfiles++] = id;
}

static void parse_args(struct cli *c, struct opts *o, int argc, char **argv)
{
	enum { L_FILE = 256, L_PURPOSE, L_SIGN, L_REDACT, L_KEY, L_FIELDS, L_DROP, L_FORMAT, L_TO, L_OUTENC,
	       L_ORG, L_PERSON, L_BASIS, L_MEDIUM, L_SEAL, L_DUE, L_REASON, L_OUTST, L_OVERDUE, L_JSON,
	       L_RECEIVED, L_CERT, L_HOME, L_FORENSIC, L_INCIDENT, L_SINCE, L_UNTIL, L_ZIP, L_PASS, L_SUBJECT,
	       L_SUBJECT_ARGV, L_RECORDS, L_NOTE };
	static const struct option longopts[] = {
		{"file", required_argument, NULL, L_FILE},       {"purpose", required_argument, NULL, L_PURPOSE},
		{"recipient", required_argument, NULL, 'r'},     {"sign", required_argument, NULL, L_SIGN},
		{"redact", optional_argument, NULL, L_REDACT},   {"key", required_argument, NULL, L_KEY},
		{"fields", required_argument, NULL, L_FIELDS},   {"drop", required_argument, NULL, L_DROP},
		{"format", required_argument, NULL, L_FORMAT},   {"to", required_argument, NULL, L_TO},
		{"output-encoding", required_argument, NULL, L_OUTENC},
		{"to-org", required_argument, NULL, L_ORG},      {"to-person", required_argument, NULL, L_PERSON},
		{"basis", required_argument, NULL, L_BASIS},     {"medium", required_argument, NULL, L_MEDIUM},
		{"seal", required_argument, NULL, L_SEAL},       {"due", required_argument, NULL, L_DUE},
		{"reason", required_argument, NULL, L_REASON},   {"output", required_argument, NULL, 'o'},
		{"outstanding", no_argument, NULL, L_OUTST},     {"overdue", no_argument, NULL, L_OVERDUE},
		{"json", no_argument, NULL, L_JSON},             {"received-by", required_argument, NULL, L_RECEIVED},
		{"certificate", required_argument, NULL, L_CERT}, {"home", required_argument, NULL, L_HOME},
		{"forensic", no_argument, NULL, L_FORENSIC},     {"incident", required_argument, NULL, L_INCIDENT},
		{"since", required_argument, NULL, L_SINCE},     {"until", required_argument, NULL, L_UNTIL},
		{"zip-aes256", no_argument, NULL, L_ZIP},        {"passphrase-file", required_argument, NULL, L_PASS},
		{"subject-file", required_argument, NULL, L_SUBJECT},
		{"subject", optional_argument, NULL, L_SUBJECT_ARGV},
		{"with-records", no_argument, NULL, L_RECORDS},
		{"note", required_argument, NULL, L_NOTE},
		{"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->to = SPIF_FMT_NDJSON;
	o->enc = SPIF_ENC_UTF8;
	opterr = 0;
	int ch, e;
	while ((ch = getopt_long(argc, argv, "hr:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case L_FILE: o->seen |= O_FILE; add_file(c, o, optarg); break;
		case L_PURPOSE: o->seen |= O_PURPOSE; o->purpose = optarg; break;
		case 'r': {
			o->seen |= O_RCPT;
			if (!*optarg)
				cli_usage(c, "-r: empty recipient");
			const char **v = xreallocarray(o->recipients, o->nrecipients + 1, sizeof *v);
			o->recipients = v;
			v[o->nrecipients++] = optarg;
			break;
		}
		case L_SIGN:
			o->seen |= O_SIGN;
			if (!*optarg)
				cli_usage(c, "--sign: empty key id");
			o->sign_key = optarg;
			break;
		case L_REDACT: {
			o->seen |= O_REDACT;
			o->redact = 1;
			/* the operator may follow as its own word: --redact pseudonym */
			const char *op = optarg;
			if (!op && optind < argc && spif_redact_op_parse(argv[optind]) >= 0)
				op = argv[optind++];
			if (op && (e = spif_redact_op_parse(op)) < 0)
				cli_usage(c, "--redact %s: unknown operator (mask, empty, drop, pseudonym)", op);
			o->op = op ? (enum spif_redact_op)e : SPIF_OP_MASK;
			break;
		}
		case L_KEY: o->seen |= O_KEY; o->key = optarg; break;
		case L_FIELDS: o->seen |= O_FIELDS; add_list(c, o, "--fields", optarg); break;
		case L_DROP: o->seen |= O_DROP; o->drop = 1; add_list(c, o, "--drop", optarg); break;
		case L_FORMAT:
			o->seen |= O_FORMAT;
			if (strcmp(optarg, "bag") == 0)
				o->form = SPIF_EXPORT_BAG;
			else if (strcmp(optarg, "dir") == 0)
				o->form = SPIF_EXPORT_DIR;
			else if (strcmp(optarg, "tar") == 0)
				o->form = SPIF_EXPORT_TAR;
			else
				cli_usage(c, "--format %s: unknown (bag, dir, tar)", optarg);
			break;
		case L_TO:
			o->seen |= O_TO;
			if ((o->to = spif_format_parse(optarg)) != SPIF_FMT_NDJSON && o->to != SPIF_FMT_CSV)
				cli_usage(c, "--to %s: unknown (ndjson, csv)", optarg);
			break;
		case L_OUTENC:
			o->seen |= O_OUTENC;
			if ((e = spif_enc_parse(optarg)) <= 0)
				cli_usage(c, "--output-encoding %s: unknown (utf-8, utf-8-bom, cp932, euc-jp)", optarg);
			o->enc = (enum spif_enc)e;
			break;
		case L_ORG: o->seen |= O_ORG; o->org = optarg; break;
		case L_PERSON: o->seen |= O_PERSON; o->person = optarg; break;
		case L_BASIS: o->seen |= O_BASIS; o->basis = optarg; break;
		case L_MEDIUM: o->seen |= O_MEDIUM; o->medium = optarg; break;
		case L_SEAL: o->seen |= O_SEAL; o->seal = optarg; break;
		case L_DUE:
			o->seen |= O_DUE;
			if (cli_parse_date(optarg) < 0)
				cli_usage(c, "--due %s: not a date (YYYY-MM-DD)", optarg);
			o->due = optarg;
			break;
		case L_REASON: o->seen |= O_REASON; o->reason = optarg; break;
		case 'o': o->seen |= O_OUT; o->out = optarg; break;
		case L_OUTST: o->seen |= O_OUTST; o->outstanding = 1; break;
		case L_OVERDUE: o->seen |= O_OVERDUE; o->overdue = 1; break;
		case L_JSON: o->seen |= O_JSON; o->json = 1; break;
		case L_RECEIVED: o->seen |= O_RECEIVED; o->received_by = optarg; break;
		case L_CERT: o->seen |= O_CERT; o->certificate = optarg; break;
		case L_HOME: c->home_opt = optarg; break;
		case L_FORENSIC: o->seen |= O_FORENSIC; o->forensic = 1; break;
		case L_INCIDENT: o->seen |= O_INCIDENT; o->incident = optarg; break;
		case L_SINCE: o->seen |= O_SINCE; o->since = optarg; break;
		case L_UNTIL: o->seen |= O_UNTIL; o->until = optarg; break;
		case L_ZIP: o->seen |= O_ZIP; o->zip = 1; break;
		case L_PASS: o->seen |= O_PASS; o->passphrase_file = optarg; break;
		case L_SUBJECT: o->seen |= O_SUBJECT; o->subject_file = optarg; break;
		case L_RECORDS: o->seen |= O_RECORDS; o->with_records = 1; break;
		case L_NOTE: o->seen |= O_NOTE; o->note = optarg; break;
		case L_SUBJECT_ARGV:
			cli_usage(c, "--subject: the number never goes on the command line; put it in a file: "
			          "--subject-file FILE (or - for standard input)");
		case 'h': cli_help(usage_text); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
}

static const char zip_warning[] =
	"warning: --zip-aes256 is the weak way out: the password ZIP (PPAP) that the national government "
	"abolished; its password travels separately or not at all, and alone protects everything; the names "
	"and sizes of the files are not encrypted; no signature says who made it.  Prefer the OpenPGP bag "
	"(-r RECIPIENT)";

/* One line from the terminal, not echoed; NULL at its end. */
static char *ask(int tty, const char *prompt)
{
	struct termios old, quiet;
	int restore = tcgetattr(tty, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	if (write(tty, prompt, strlen(prompt)) < 0) { /* the prompt is a courtesy */
	}
	char *line = malloc(SPIF_PASSPHRASE_MAX + 2);
	size_t n = 0;
	while (line && n < SPIF_PASSPHRASE_MAX + 1) {
		ssize_t k = read(tty, line + n, 1);
		if (k <= 0 || line[n] == '\n')
			break;
		n++;
	}
	if (restore)
		tcsetattr(tty, TCSAFLUSH, &old);
	if (write(tty, "\n", 1) < 0) {
	}
	if (line)
		line[n] = '\0';
	return line;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

char *export_password(struct cli *c, const char *file, int confirm)
{
	struct spif_err e = {0};
	char *pw = NULL;
	if (file) {
		if (spif_passphrase_read(file, &pw, &e) < 0)
			cli_die(c, &e);
	} else {
		int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (tty < 0)
			cli_usage(c, "no terminal to ask the ZIP password at: give --passphrase-file F");
		if (confirm && (write(tty, zip_warning, strlen(zip_warning)) < 0 || write(tty, "\n", 1) < 0)) {
		}
		pw = ask(tty, "ZIP password: ");
		char *again = pw && confirm ? ask(tty, "the same again: ") : NULL;
		close(tty);
		if (!pw || !*pw || (confirm && (!again || strcmp(pw, again) != 0))) {
			wipe_free(pw);
			wipe_free(again);
			cli_fail(c, SPIF_EX_DATAERR, "no ZIP password, or the two did not match");
		}
		wipe_free(again);
	}
	if (confirm && strlen(pw) < 12) {
		wipe_free(pw);
		cli_fail(c, SPIF_EX_DATAERR, "%s: a ZIP password shorter than 12 characters is refused (the "
		         "password is all that protects it)", file ? file : "the password");
	}
	return pw;
}

static void note(void *ctx, const char *msg)
{
	cli_note(ctx, "%s", msg);
}

/* Does file id's export keep Individual Numbers?  Its number fields
 * (spif_file) against the selection: --redact removes them all; --fields
 * keeps only those named; --drop removes those named. */
static int keeps_numbers(const struct opts *o, struct spif_catalog *cat, long long id)
{
	if (o->redact)
		return 0;
	struct spif_file f;
	struct spif_err e = {0};
	if (!cat || spif_catalog_get_file(cat, id, &f, &e) < 0)
		return 1; /* unknown here: the export itself says why; the gate assumes the worst */
	json_t *nf = json_loads(f.number_fields ? f.number_fields : "[]", 0, NULL);
	spif_file_free(&f);
	int keeps = 0;
	size_t i;
	json_t *v;
	json_array_foreach(nf, i, v) {
		const char *name = json_string_value(v);
		int named = 0;
		for (size_t k = 0; name && k < o->nfields; k++)
			named |= strcmp(o->fields[k], name) == 0;
		if (!(o->seen & (O_FIELDS | O_DROP)) || ((o->seen & O_FIELDS) && named) || ((o->seen & O_DROP) && !named))
			keeps = 1;
	}
	if (!nf)
		keeps = 1;
	json_decref(nf);
	return keeps;
}

/* The gate (operator.h), once per file: an operator or responder with a
 * grant for its purpose, and a reason; records that keep their numbers
 * also need a second person's approval given beforehand (approval.h),
 * whose giver the ledger then names (approver, written to *approver). */
static void export_permit(struct cli *c, const struct opts *o, char *approver, size_t n)
{
	approver[0] = '\0';
	if (!o->nfiles) {
		cli_permit(c, (struct spif_request){.act = o->redact ? SPIF_ACT_EXPORT_CLEAN : SPIF_ACT_EXPORT,
		                                    .purpose = o->purpose, .reason = o->reason});
		snprintf(approver, n, "%s", c->permit.approver);
		return;
	}
	struct spif_catalog *cat = cli_catalog_if_exists(c);
	for (size_t i = 0; i < o->nfiles; i++) {
		int numbers = keeps_numbers(o, cat, o->files[i]);
		cli_permit_in(c, cat, (struct spif_request){.act = numbers ? SPIF_ACT_EXPORT : SPIF_ACT_EXPORT_CLEAN,
		                                            .file_id = o->files[i], .reason = o->reason});
		approver_add(approver, n, c->permit.approver);
	}
	spif_catalog_close(cat);
}

void approver_add(char *approver, size_t n, const char *a)
{
	size_t al = strlen(a), k = strlen(approver);
	int named = 0; /* each approver once, in order: a whole name, not a part of one */
	for (const char *p = approver; al && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 2 : 0))
		named |= strcspn(p, ",") == al && strncmp(p, a, al) == 0;
	if (al && !named)
		snprintf(approver + k, n - k, "%s%s", k ? ", " : "", a);
}

/* the archive as it is written, for a person waiting (progress.h) */
static struct spif_progress export_progress;

static void show_progress(void *ctx, long long bytes)
{
	(void)ctx;
	char line[160];
	if (spif_progress_update(&export_progress, bytes, N_("bytes"), -1, line, sizeof line))
		fputs(line, stderr);
}

static int cmd_export(struct cli *c, struct opts *o)
{
	struct spif_err e = {0};
	allow(c, o, "an export", O_FILE | O_PURPOSE | O_RCPT | O_SIGN | O_REDACT | O_FIELDS | O_DROP | O_FORMAT |
	      O_TO | O_OUTENC | O_ORG | O_PERSON | O_BASIS | O_MEDIUM | O_SEAL | O_DUE | O_REASON | O_OUT | O_KEY |
	      O_ZIP | O_PASS);
	if (o->zip && (o->seen & O_FORMAT))
		cli_usage(c, "--zip-aes256 is a format of its own: no --format with it");
	if (o->zip && (o->nrecipients || o->sign_key))
		cli_usage(c, "--zip-aes256 is encrypted with a password only: -r and --sign go with --format bag");
	if ((o->seen & O_PASS) && !o->zip)
		cli_usage(c, "--passphrase-file goes with --zip-aes256 (or verify)");
	if (o->zip)
		o->form = SPIF_EXPORT_ZIP;
	/* more file ids may follow --file */
	for (int i = 0; i < o->nargs; i++) {
		if (!(o->seen & O_FILE))
			cli_usage(c, "%s: not a subcommand (verify, ls, return, destroyed, lost, delivered)", o->args[i]);
		add_file(c, o, o->args[i]);
	}
	if (!o->nfiles && !o->purpose)
		cli_usage(c, "what to export: --file ID... or --purpose P");
	if (o->nfiles && o->purpose)
		cli_usage(c, "give --file or --purpose, not both");
	if (!o->out || !*o->out)
		cli_usage(c, "where to: -o OUT");
	if (!o->org || !*o->org)
		cli_usage(c, "to whom: --to-org ORG");
	if (!o->basis || !*o->basis)
		cli_usage(c, "on what legal basis: --basis TEXT (番号法第19条 item)");
	if (!o->reason || !*o->reason)
		cli_usage(c, "why: --reason TEXT");
	if (o->form == SPIF_EXPORT_BAG && !o->nrecipients)
		cli_usage(c, "no recipient: give -r RECIPIENT (an encrypted bag is the default format)");
	if (o->form != SPIF_EXPORT_BAG && (o->nrecipients || o->sign_key))
		cli_usage(c, "--format %s is not encrypted: -r and --sign go with --format bag",
		          spif_export_form_name(o->form));
	if (o->nrecipients > 16)
		cli_usage(c, "at most 16 recipients");
	if ((o->redact != 0) + ((o->seen & O_FIELDS) != 0) + ((o->seen & O_DROP) != 0) > 1)
		cli_usage(c, "give one of --redact, --fields and --drop");
	if (o->redact && o->op == SPIF_OP_PSEUDONYM && !o->key)
		cli_usage(c, "--redact pseudonym needs --key NAME (spif redact --new-key NAME)");
	if (o->key && !(o->redact && o->op == SPIF_OP_PSEUDONYM))
		cli_usage(c, "--key goes with --redact pseudonym");
	if (o->to == SPIF_FMT_NDJSON && (o->seen & O_OUTENC) && o->enc != SPIF_ENC_UTF8)
		cli_usage(c, "--output-encoding applies to CSV: NDJSON is UTF-8");
	if (o->medium && !spif_media_id_valid(o->medium))
		cli_usage(c, "--medium %s: not a medium id", o->medium);
	char approver[256];
	export_permit(c, o, approver, sizeof approver);
	struct spif_catalog *cat = cli_catalog(c, 0);
	char *zip_pw = NULL;
	if (o->zip)
		zip_pw = export_password(c, o->passphrase_file, 1);
	struct spif_psn *psn = NULL;
	if (o->key) {
		if (!spif_psn_key_name_valid(o->key))
			cli_usage(c, "--key %s: not a key name", o->key);
		if (spif_psn_key_load(c->home, o->key, &psn, &e) < 0)
			cli_die(c, &e);
	}
	const char *sign = o->sign_key ? o->sign_key : c->conf.sign_key[0] ? c->conf.sign_key : NULL;
	struct spif_export_opts x = {
		.files = o->files, .nfiles = o->nfiles, .purpose = o->purpose, .recipients = o->recipients,
		.nrecipients = o->nrecipients, .sign_key = o->form == SPIF_EXPORT_BAG ? sign : NULL, .form = o->form,
		.to = o->to, .enc = o->to == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8 : o->enc, .redact = o->redact,
		.op = o->op, .psn = psn, .fields = o->fields, .nfields = o->nfields, .drop = o->drop,
		.organisation = o->org, .person = o->person, .basis = o->basis, .reason = o->reason,
		.medium = o->medium, .seal = o->seal, .due = o->due, .approver = approver[0] ? approver : NULL,
		.out = o->out, .zip_password = zip_pw, .home = c->home,
		.conf = &c->conf, .note = note, .note_ctx = c, .progress = show_progress,
	};
	struct spif_export_result r;
	char pline[16];
	spif_progress_init(&export_progress, 2, "spif-export", 0);
	int run = spif_export_run(cat, &x, &r, &e);
	wipe_free(zip_pw);
	if (spif_progress_clear(&export_progress, pline, sizeof pline))
		fputs(pline, stderr);
	if (run < 0)
		cli_die(c, &e);
	if (o->zip) /* with the archive made (a failure stays one line); asked at a terminal, said before too */
		cli_note(c, "%s", zip_warning);
	printf("%s\n", r.id);
	fflush(stdout);
	cli_note_begin(c, "%s: %zu file%s, %lld records, %lld persons, to %s", r.id, r.nfiles,
	               r.nfiles == 1 ? "" : "s", r.records, r.persons, o->org);
	if (o->form == SPIF_EXPORT_BAG) {
		cli_note_more(c, ", encrypted for %zu key%s", o->nrecipients, o->nrecipients == 1 ? "" : "s");
		if (r.signer[0])
			cli_note_more(c, ", signed by %s", r.signer);
		else
			cli_note_more(c, ", not signed");
	} else if (o->form == SPIF_EXPORT_ZIP)
		cli_note_more(c, ", a password ZIP (AES-256), not signed");
	else
		cli_note_more(c, ", %s (no number in it)", o->form == SPIF_EXPORT_DIR ? _("a plain directory") : _("a plain tar"));
	cli_note_more(c, " -> %s (%lld bytes)%s%s%s%s", r.path, r.size, r.medium[0] ? _(" on ") : "", r.medium,
	              o->due ? _(", due ") : "", o->due ? o->due : "");
	cli_note_end(c);
	spif_psn_free(psn);
	spif_catalog_close(cat);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	/* an Individual Number on the command line (ps, shell history, the
	 * audit log's argv) is refused before anything is opened, spif.conf
	 * included: only the locale is set up, to say so in its language */
	for (int i = 1; i < argc; i++)
		if (spif_subject_in_text(argv[i])) {
			struct cli early = {.prog = "spif-export"};
			cli_i18n_init();
			cli_fail(&early, SPIF_EX_USAGE, "argument %d holds an Individual Number: it never goes on the "
			         "command line; put it in a file (--subject-file FILE, or - for standard input)", i);
		}
	cli_init(&c, "spif-export", argc, argv);
	parse_args(&c, &o, argc, argv);
	int rc;
	const char *sub = o.nargs ? o.args[0] : "";
	static const struct {
		const char *name;
		int (*fn)(struct cli *, const struct opts *);
	} subs[] = {
		{"verify", cmd_verify}, {"ls", cmd_ls}, {"return", cmd_return},
		{"destroyed", cmd_destroyed}, {"lost", cmd_lost}, {"delivered", cmd_delivered},
	};
	size_t i;
	for (i = 0; i < sizeof subs / sizeof *subs; i++)
		if (strcmp(sub, subs[i].name) == 0)
			break;
	if (o.seen & O_SUBJECT)
		rc = cmd_subject(&c, &o);
	else if (i < sizeof subs / sizeof *subs) {
		cli_permit_sub(&c, sub, NULL, NULL);
		o.args++;
		o.nargs--;
		rc = subs[i].fn(&c, &o);
	} else
		rc = o.forensic ? cmd_forensic(&c, &o) : cmd_export(&c, &o);
	for (size_t k = 0; k < o.nfields; k++)
		free(o.fields[k]);
	free(o.fields);
	free(o.files);
	free(o.recipients);
	cli_done(&c);
	return rc;
}
