/* redact.c - spif redact: find every Individual Number and remove it.
 *
 * Records in, records out (NDJSON, or CSV/TSV in any encoding, written back
 * with the same bytes except the removed digits), or free text.  Every
 * string field is scanned; number fields (from the catalog, --number-field
 * or their names) lose every digit whatever the checksum says; elsewhere a
 * checksum-valid number in any typed form is removed, with high confidence
 * near a keyword, low without.  --check changes nothing and exits 1 when
 * anything is found; --report lists findings without ever the value.  The
 * engine is lib/redact.h; here are the options, inputs, outputs and loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "cli.h"
#include "progress.h"
#include "recopts.h"
#include "xalloc.h"
#include "digest.h"
#include "prefetch.h"
#include "pseudonym.h"
#include "record.h"
#include "redact.h"

static const char usage_text[] = N_(
	"usage: spif redact [--field NAME[=OP]]... [--op OP] [--key NAME]\n"
	"           [--min-confidence low|high] [--corporate] [--number-field NAME]...\n"
	"           [--format ndjson|csv|tsv|text] [--encoding ENC] [--to ndjson|csv|tsv]\n"
	"           [--output-encoding ENC] [--check] [--report FILE] [-o FILE] [--home DIR]\n"
	"           [FILE|-]\n"
	"       spif redact --file ID [--op mask|empty|pseudonym] [--key NAME] [--reason TEXT]\n"
	"           [--sign KEYID] [--bypass-governance]\n"
	"       spif redact --new-key NAME\n"
	"\n"
	"Find every Individual Number (個人番号) and remove it: in number fields every\n"
	"digit, elsewhere each checksum-valid number in any form people type.\n"
	"\n"
	"  --op OP              mask (default: digits become *, separators kept),\n"
	"                       empty (the field becomes empty), drop (number fields are\n"
	"                       dropped as columns; elsewhere findings are masked),\n"
	"                       pseudonym (PSN:... keyed HMAC-SHA256, stable per key)\n"
	"  --field NAME[=OP]    this field gets OP (drop removes the column); an unknown\n"
	"                       field is an error, never skipped\n"
	"  --key NAME           the pseudonym key (from the key store)\n"
	"  --new-key NAME       create a pseudonym key in the key store\n"
	"  --min-confidence C   low (default: remove every checksum-valid number) or high\n"
	"                       (only number fields and numbers near a keyword)\n"
	"  --corporate          also 13-digit 法人番号\n"
	"  --number-field NAME  a field holding numbers (besides the catalog's and names\n"
	"                       like 個人番号)\n"
	"  --format F           input: ndjson, csv, tsv or text (default: by extension)\n"
	"  --encoding E         input encoding: auto (default), utf-8, cp932, euc-jp\n"
	"  --to F               output format (default: as the input)\n"
	"  --output-encoding E  default: the input's, so CSV comes back byte for byte\n"
	"  --check              change nothing, write nothing: exit 1 when a number is\n"
	"                       found, 0 when none (a gate before anything leaves)\n"
	"  --report FILE        one NDJSON finding per number: row, field, offset, form,\n"
	"                       confidence, keyword, op -- never the value\n"
	"  -o FILE              write to FILE (new), registered as a copy of the file\n"
	"  --file ID            the retention action \"keep the record, lose the number\":\n"
	"                       rewrite ID's vault copy without numbers under a new key,\n"
	"                       crypto-erase the old copy, mark ID redacted, and issue a\n"
	"                       certificate of the removal (prints its id); refused while\n"
	"                       ID is held or kept by its schedule (--bypass-governance\n"
	"                       with --reason goes early under a governance schedule)\n"
	"\n"
	"Pseudonyms are still specific personal information (a keyed hash of a number\n"
	"can identify the person): keep the output under the same controls.\n"
	"\n"
	"Exit: 0 ok (or --check found nothing), 1 --check found numbers, 64 usage or an\n"
	"unknown field, 65 bad input, 66 no input, 69 pseudonym key missing, 73, 74,\n"
	"77 (--file) held or kept by its retention schedule.\n");

struct opts {
	enum spif_redact_op op;
	struct spif_redact_field *fields;
	size_t nfields;
	const char **numfields;
	size_t nnumfields;
	const char *key, *new_key, *report, *out, *input, *file_id, *reason, *sign_key;
	int high_only, corporate, check, bypass;
	enum spif_format fmt, to;
	int text;
	enum spif_enc enc, out_enc;
	int out_enc_set;
};

static void parse_args(struct cli *c, struct opts *o, int argc, char **argv)
{
	enum { O_FIELD = 256, O_OP, O_KEY, O_NEWKEY, O_MINCONF, O_CORP, O_NUMF, O_FORMAT, O_ENC, O_TO,
	       O_OUTENC, O_CHECK, O_REPORT, O_HOME, O_FILE, O_REASON, O_SIGN, O_BYPASS };
	static const struct option longopts[] = {
		{"field", required_argument, NULL, O_FIELD},   {"op", required_argument, NULL, O_OP},
		{"key", required_argument, NULL, O_KEY},       {"new-key", required_argument, NULL, O_NEWKEY},
		{"min-confidence", required_argument, NULL, O_MINCONF},
		{"corporate", no_argument, NULL, O_CORP},      {"number-field", required_argument, NULL, O_NUMF},
		{"format", required_argument, NULL, O_FORMAT}, {"encoding", required_argument, NULL, O_ENC},
		{"to", required_argument, NULL, O_TO},         {"output-encoding", required_argument, NULL, O_OUTENC},
		{"check", no_argument, NULL, O_CHECK},         {"report", required_argument, NULL, O_REPORT},
		{"output", required_argument, NULL, 'o'},      {"home", required_argument, NULL, O_HOME},
		{"file", required_argument, NULL, O_FILE},     {"reason", required_argument, NULL, O_REASON},
		{"sign", required_argument, NULL, O_SIGN},     {"bypass-governance", no_argument, NULL, O_BYPASS},
		{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	/* each --field or --number-field takes an argument: argc bounds them */
	o->fields = xcalloc((size_t)argc, sizeof *o->fields);
	o->numfields = xcalloc((size_t)argc, sizeof *o->numfields);
	opterr = 0;
	int ch, e;
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case O_FIELD: {
			struct spif_redact_field *f = &o->fields[o->nfields++];
			char *eq = strrchr(optarg, '=');
			f->name = optarg;
			if (eq) {
				*eq = '\0';
				if ((e = spif_redact_op_parse(eq + 1)) < 0)
					cli_usage(c, "--field %s=%s: unknown operator (mask, empty, drop, pseudonym)",
					          optarg, eq + 1);
				f->op = (enum spif_redact_op)e;
				f->has_op = 1;
			}
			if (!*f->name)
				cli_usage(c, "--field: empty field name");
			break;
		}
		case O_OP:
			if ((e = spif_redact_op_parse(optarg)) < 0)
				cli_usage(c, "--op %s: unknown operator (mask, empty, drop, pseudonym)", optarg);
			o->op = (enum spif_redact_op)e;
			break;
		case O_KEY: o->key = optarg; break;
		case O_NEWKEY: o->new_key = optarg; break;
		case O_MINCONF:
			if (strcmp(optarg, "high") == 0)
				o->high_only = 1;
			else if (strcmp(optarg, "low") != 0)
				cli_usage(c, "--min-confidence %s: unknown (low, high)", optarg);
			break;
		case O_CORP: o->corporate = 1; break;
		case O_NUMF: o->numfields[o->nnumfields++] = optarg; break;
		case O_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o->text = 1;
			else if ((o->fmt = spif_format_parse(optarg)) == SPIF_FMT_NONE)
				cli_usage(c, "--format %s: unknown (ndjson, csv, tsv, text)", optarg);
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
		case O_CHECK: o->check = 1; break;
		case O_REPORT: o->report = optarg; break;
		case O_FILE: o->file_id = optarg; break;
		case O_REASON: o->reason = optarg; break;
		case O_SIGN: o->sign_key = optarg; break;
		case O_BYPASS: o->bypass = 1; break;
		case 'o': o->out = optarg; break;
		case O_HOME: c->home_opt = optarg; break;
		case 'h': cli_help(usage_text); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
	if (o->new_key) {
		if (optind < argc)
			cli_usage(c, "--new-key takes no input file");
		return;
	}
	if (o->file_id) {
		if (optind < argc || o->check || o->out || o->to || o->fmt || o->text || o->report ||
		    o->nfields || o->nnumfields)
			cli_usage(c, "--file works on the vault copy alone: no input file, --check, -o, "
			          "--to, --format, --report, --field or --number-field");
		if (o->high_only)
			cli_usage(c, "--file removes every number: --min-confidence high does not apply");
		if (o->op == SPIF_OP_DROP)
			cli_usage(c, "--file keeps the record: use mask, empty or pseudonym");
		if (o->op == SPIF_OP_PSEUDONYM && !o->key)
			cli_usage(c, "pseudonym needs --key NAME (create one with --new-key NAME)");
		if (o->bypass && (!o->reason || !*o->reason))
			cli_usage(c, "--bypass-governance needs --reason TEXT: why the numbers go before the date");
		return;
	}
	if (o->bypass)
		cli_usage(c, "--bypass-governance goes with --file");
	if (optind < argc - 1)
		cli_usage(c, "one input at a time");
	o->input = optind < argc ? argv[optind] : "-";
	if (!o->key && spif_redact_uses_psn(o->op, o->fields, o->nfields))
		cli_usage(c, "pseudonym needs --key NAME (create one with --new-key NAME)");
	if (o->check && (o->out || o->to))
		cli_usage(c, "--check writes nothing: no -o or --to");
	if (!o->fmt && !o->text)
		o->text = spif_redact_guess_format(o->input, &o->fmt);
	if (o->text && (o->to || o->nfields || o->nnumfields))
		cli_usage(c, "--format text has no fields: no --to, --field or --number-field");
	if (!o->to)
		o->to = o->fmt;
	if (!o->text && o->to == SPIF_FMT_NDJSON && o->out_enc_set && o->out_enc != SPIF_ENC_UTF8)
		cli_usage(c, "--output-encoding applies to CSV, TSV and text output: NDJSON is UTF-8");
	/* standard output carries the records; the report can have it only
	 * when they go elsewhere */
	if (o->report && strcmp(o->report, "-") == 0 && !o->check && !o->out)
		cli_usage(c, "--report -: standard output carries the records (use --check or -o FILE)");
}

/* ---- pseudonym keys, --file ---------------------------------------------- */

static int new_key(struct cli *c, const char *name)
{
	struct spif_err e = {0};
	char path[PATH_MAX + 80];
	if (!spif_psn_key_name_valid(name))
		cli_usage(c, "--new-key %s: use letters, digits, - _ . (at most 64)", name);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_CREATE);
	if (spif_psn_key_create(cat, c->home, &c->conf, name, path, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	cli_note(c, "pseudonym key %s created (%s)", name, path);
	return 0;
}

static void load_key(const struct cli *c, const char *name, struct spif_psn **psn)
{
	struct spif_err e = {0};
	if (!spif_psn_key_name_valid(name))
		cli_usage(c, "--key %s: not a key name", name);
	if (spif_psn_key_load(c->home, name, psn, &e) < 0)
		cli_die(c, &e);
}

static void note(void *ctx, const char *msg)
{
	cli_note(ctx, "%s", msg);
}

static int redact_file(struct cli *c, const struct opts *o, struct spif_psn *psn)
{
	struct spif_err e = {0};
	struct spif_redact_file_result res;
	long long id = spif_file_id_parse(o->file_id);
	if (id < 0)
		cli_usage(c, "--file %s: not a file id (F000001)", o->file_id);
	struct spif_catalog *cat = cli_catalog(c, 0);
	struct spif_redact_file_opts fo = {
		.file_id = id, .op = o->op, .psn = psn, .corporate = o->corporate, .reason = o->reason,
		.sign_key = o->sign_key ? o->sign_key : c->conf.sign_key, .bypass = o->bypass, .home = c->home,
		.conf = &c->conf, .note = note, .note_ctx = c,
	};
	if (spif_redact_file(cat, &fo, &res, &e) < 0)
		cli_die(c, &e);
	printf("%s\n", res.cert);
	cli_note(c, "%s", res.summary);
	spif_catalog_close(cat);
	return res.verified ? 0 : SPIF_EX_IOERR;
}

/* ---- records and text ---------------------------------------------------- */

/* What a run holds, in one place on main's stack: what a run that dies
 * still holds is seen as in use, not leaked. */
struct run {
	struct cli *c;
	const struct opts *o;
	struct spif_redactor *r;
	struct spif_psn *psn;
	int in_fd, out_fd;       /* out_fd: standard output, or the temporary of -o */
	struct spif_atomic out;
	struct spif_catalog *cat; /* records -o's hidden temporary, when there is one (atomic.h) */
	FILE *report;
};

/* An error of the run: the output's temporary removed, and a field named
 * that the input lacks reported as the usage error it is. */
static _Noreturn void fail(struct run *u, const struct spif_err *e)
{
	spif_atomic_abort(&u->out);
	if (e->code == SPIF_EX_USAGE)
		cli_usage(u->c, "%s", e->msg);
	cli_die(u->c, e);
}

/* The writer, opened on the first record (or the header of a CSV with
 * none): the input's encoding and, for CSV and TSV back to the same
 * format, its dialect, so that the bytes come back the same. */
static struct spif_writer *open_writer(struct run *u, enum spif_enc in_enc, const struct spif_dialect *dialect)
{
	struct spif_err e = {0};
	const struct opts *o = u->o;
	enum spif_enc oe = o->out_enc_set ? o->out_enc : o->to == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8 : in_enc;
	if (oe == SPIF_ENC_AUTO)
		oe = SPIF_ENC_UTF8;
	struct spif_writer *w = spif_writer_open(spif_sink_fd, &u->out_fd, o->out ? o->out : "(stdout)", o->to, oe,
	                                         o->fmt == o->to && o->fmt != SPIF_FMT_NDJSON ? dialect : NULL, &e);
	if (!w)
		fail(u, &e);
	return w;
}

static void redact_records(struct run *u, int fd, const char *name)
{
	struct spif_err e = {0};
	const struct opts *o = u->o;
	struct spif_reader *rd = spif_reader_open(fd, name, o->fmt, o->enc, &e);
	/* parsing runs on the other core: a third of the work */
	struct spif_prefetch *pf = rd ? spif_prefetch_start(rd, &e) : NULL;
	if (!pf)
		fail(u, &e);
	struct spif_writer *w = NULL;
	struct spif_record *rec;
	int rc;
	struct spif_progress prog;
	char pline[160];
	long long seen = 0;
	spif_progress_init(&prog, 2, "spif-redact", 0);
	while ((rc = spif_prefetch_next(pf, &rec, &e)) > 0) {
		if (!(++seen & 1023) && spif_progress_update(&prog, seen, N_("records"), -1, pline, sizeof pline))
			fputs(pline, stderr);
		if (spif_redact_record(u->r, rec, &e) < 0) /* the first checks the fields named */
			fail(u, &e);
		if (!w && !o->check)
			w = open_writer(u, spif_prefetch_encoding(pf), spif_prefetch_dialect(pf));
		if (w && spif_writer_put(w, rec, &e) < 0)
			fail(u, &e);
	}
	if (spif_progress_clear(&prog, pline, sizeof pline))
		fputs(pline, stderr);
	long long nrec = spif_redactor_counts(u->r)->records;
	/* nothing at all to redact is not an error, whatever the format */
	if (rc < 0 && !(nrec == 0 && spif_reader_bytes(rd) == 0))
		fail(u, &e);
	const struct spif_dialect *dialect = spif_prefetch_dialect(pf);
	if (nrec == 0 && rc == 0 && o->fmt != SPIF_FMT_NDJSON) {
		/* a header and no records: the fields named are checked against
		 * the header, and the header is the output, as it came in */
		spif_prefetch_end(pf);
		pf = NULL;
		dialect = spif_reader_dialect(rd);
		size_t nc;
		const char **names = spif_redact_header(u->r, rd, &nc, &e);
		if (!names)
			fail(u, &e);
		if (!o->check && spif_writer_put_header(w = open_writer(u, spif_reader_encoding(rd), dialect), names, nc,
		                                        &e) < 0)
			fail(u, &e);
		free(names);
	}
	/* a source that ends without a line break is known only at its end */
	if (w && o->fmt == o->to && o->fmt != SPIF_FMT_NDJSON)
		spif_writer_set_final_eol(w, dialect->final_eol);
	if (w && spif_writer_finish(w, &e) < 0)
		fail(u, &e);
	if (pf)
		spif_prefetch_end(pf);
	spif_writer_close(w);
	spif_reader_close(rd);
}

/* -o put in place, and registered as a redacted copy of the file its
 * records came from. */
static void finish_output(struct run *u)
{
	struct spif_err e = {0};
	const char *unknown, *path = u->o->out;
	char sha[65];
	struct stat st;
	fstat(u->out.fd, &st);
	if (spif_atomic_commit(&u->out, &e) < 0 || spif_sha256_file(path, sha, NULL, &e) < 0)
		cli_die(u->c, &e);
	if (spif_redact_register_output(u->r, path, sha, (long long)st.st_size, &unknown, &e) < 0) {
		unlink(path);
		cli_die(u->c, &e);
	}
	if (unknown) /* records of a file this catalog does not hold */
		cli_note(u->c, "%s: not in this catalog; %s is not registered", unknown, path);
}

/* Records or text from the input, to standard output or -o. */
static int redact_stream(struct run *u)
{
	struct spif_err e = {0};
	struct cli *c = u->c;
	const struct opts *o = u->o;
	const char *name = strcmp(o->input, "-") ? o->input : "(stdin)";
	if (o->report) { /* "-": standard output (then the records go elsewhere) */
		int g = spif_as_caller(); /* the caller's file, opened as the caller (home.h) */
		int to_stdout = strcmp(o->report, "-") == 0, rfd = to_stdout ? dup(1) :
			open(o->report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, spif_file_mode(&c->conf));
		spif_as_service(g);
		if (rfd < 0 || !(u->report = fdopen(rfd, "w")))
			cli_fail(c, SPIF_EX_CANTCREAT, "%s: %s", to_stdout ? "(stdout)" : o->report, strerror(errno));
	}
	struct spif_redact_opts ro = {
		.op = o->op, .fields = o->fields, .nfields = o->nfields, .numfields = o->numfields,
		.nnumfields = o->nnumfields, .high_only = o->high_only, .corporate = o->corporate, .check = o->check,
		.fmt = o->fmt, .input = name, .psn = u->psn, .report = u->report, .home = c->home, .conf = &c->conf,
		.actor = &c->actor,
	};
	if (spif_redactor_new(&ro, &u->r, &e) < 0)
		cli_die(c, &e);
	if (o->out && !o->check) {
		u->cat = cli_catalog_if_exists(c);
		if (spif_atomic_open_rec(&u->out, u->cat, "redact", o->out, spif_file_mode(&c->conf), &e) < 0)
			cli_die(c, &e);
		u->out_fd = u->out.fd;
	}
	if (!o->text)
		redact_records(u, u->in_fd, name);
	else if (spif_redact_text(u->r, u->in_fd, name, o->enc, o->out_enc_set ? o->out_enc : o->enc, spif_sink_fd,
	                          &u->out_fd, &e) < 0)
		fail(u, &e);
	if (u->report && fclose(u->report) != 0)
		cli_fail(c, SPIF_EX_IOERR, "%s: %s", o->report, strerror(errno));
	if (o->out && !o->check)
		finish_output(u);
	char summary[256];
	cli_note(c, "%s", spif_redact_summary(u->r, o->text, summary, sizeof summary));
	const struct spif_redact_counts *n = spif_redactor_counts(u->r);
	return o->check && n->high + n->low > 0 ? SPIF_FOUND : 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	struct run u = {.c = &c, .o = &o, .in_fd = -1, .out = {.fd = -1}, .out_fd = 1};
	cli_init(&c, "spif-redact", argc, argv);
	parse_args(&c, &o, argc, argv);
	if (!o.new_key && !o.file_id)
		u.in_fd = cli_open_input(&c, o.input);
	cli_check_home(&c); /* the catalog itself is opened when a record needs it */
	long long fid = o.file_id ? spif_file_id_parse(o.file_id) : 0;
	cli_permit(&c, (struct spif_request){.act = SPIF_ACT_REDACT, .file_id = fid});
	if (o.bypass)
		cli_permit(&c, (struct spif_request){.act = SPIF_ACT_BYPASS, .file_id = fid, .reason = o.reason});
	if (o.key && !o.new_key)
		load_key(&c, o.key, &u.psn);
	int rc = o.new_key ? new_key(&c, o.new_key) : o.file_id ? redact_file(&c, &o, u.psn) : redact_stream(&u);
	spif_redactor_free(u.r);
	spif_catalog_close(u.cat);
	spif_psn_free(u.psn);
	free(o.fields);
	free(o.numfields);
	if (u.in_fd > 0)
		close(u.in_fd);
	cli_done(&c);
	return rc;
}
