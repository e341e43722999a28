/* redact.c - spif redact: find every Individual Number and remove it.
 *
 * Records in, records out (NDJSON, or CSV/TSV in any encoding, written back
 * with the same bytes except the removed digits), or free text.  Every
 * string field is scanned; number fields (from the catalog, --number-field
 * or their names) lose every digit whatever the checksum says; elsewhere a
 * checksum-valid number in any typed form is removed, with high confidence
 * near a keyword, low without.  --check changes nothing and exits 1 when
 * anything is found; --report lists findings without ever the value. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "pgp.h"
#include "cert.h"
#include "cli.h"
#include "detect.h"
#include "dispose.h"
#include "digest.h"
#include "mynumber.h"
#include "prefetch.h"
#include "record.h"
#include "retention.h"
#include "vault.h"

#include <pthread.h>

#include <gcrypt.h>

static const char usage_text[] =
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
	"77 (--file) held or kept by its retention schedule.\n";

enum op { OP_MASK = 0, OP_EMPTY, OP_DROP, OP_PSEUDONYM };
static const char *const op_names[] = {"mask", "empty", "drop", "pseudonym"};

struct field_op {
	const char *name;
	enum op op;
	int has_op;
	int seen;
};

struct opts {
	enum op op;
	struct field_op *fields;
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

static int parse_op(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, op_names[i]) == 0)
			return i;
	return -1;
}

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
	opterr = 0;
	int ch, e;
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case O_FIELD: {
			struct field_op *v = realloc(o->fields, (o->nfields + 1) * sizeof *v);
			if (!v)
				cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
			o->fields = v;
			struct field_op *f = &v[o->nfields++];
			memset(f, 0, sizeof *f);
			char *eq = strrchr(optarg, '=');
			f->name = optarg;
			if (eq) {
				*eq = '\0';
				if ((e = parse_op(eq + 1)) < 0)
					cli_usage(c, "--field %s=%s: unknown operator (mask, empty, drop, pseudonym)",
					          optarg, eq + 1);
				f->op = (enum op)e;
				f->has_op = 1;
			}
			if (!*f->name)
				cli_usage(c, "--field: empty field name");
			break;
		}
		case O_OP:
			if ((e = parse_op(optarg)) < 0)
				cli_usage(c, "--op %s: unknown operator (mask, empty, drop, pseudonym)", optarg);
			o->op = (enum op)e;
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
		case O_NUMF: {
			const char **v = realloc(o->numfields, (o->nnumfields + 1) * sizeof *v);
			if (!v)
				cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
			o->numfields = v;
			v[o->nnumfields++] = optarg;
			break;
		}
		case O_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o->text = 1;
			else if ((o->fmt = spif_format_parse(optarg)) == SPIF_FMT_NONE)
				cli_usage(c, "--format %s: unknown (ndjson, csv, tsv, text)", optarg);
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
				cli_usage(c, "--output-encoding %s: unknown (utf-8, utf-8-bom, cp932, euc-jp)", optarg);
			o->out_enc = (enum spif_enc)e;
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
		case 'h': fputs(usage_text, stdout); exit(0);
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
		if (o->op == OP_DROP)
			cli_usage(c, "--file keeps the record: use mask, empty or pseudonym");
		if (o->op == OP_PSEUDONYM && !o->key)
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
	int uses_psn = o->op == OP_PSEUDONYM;
	for (size_t i = 0; i < o->nfields; i++)
		uses_psn |= o->fields[i].has_op && o->fields[i].op == OP_PSEUDONYM;
	if (uses_psn && !o->key)
		cli_usage(c, "pseudonym needs --key NAME (create one with --new-key NAME)");
	if (o->check && (o->out || o->to))
		cli_usage(c, "--check writes nothing: no -o or --to");
	if (!o->fmt && !o->text) {
		const char *dot = strrchr(o->input, '.');
		if (dot && (!strcasecmp(dot, ".txt") || !strcasecmp(dot, ".log") || !strcasecmp(dot, ".eml")))
			o->text = 1;
		else if (dot && (!strcasecmp(dot, ".tsv") || !strcasecmp(dot, ".tab")))
			o->fmt = SPIF_FMT_TSV;
		else if (dot && (!strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".jsonl")))
			o->fmt = SPIF_FMT_NDJSON;
		else if (strcmp(o->input, "-") == 0)
			o->fmt = SPIF_FMT_NDJSON; /* in a pipe, the records of another spif command */
		else
			o->fmt = SPIF_FMT_CSV;
	}
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

/* ---- pseudonym keys --------------------------------------------------- */

static int valid_key_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return 0;
	return s[0] != '.';
}

static void key_path(const struct cli *c, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/keys/psn-%s.key", c->home, name);
}

static int new_key(struct cli *c, const char *name)
{
	struct spif_err e = {0};
	if (!valid_key_name(name))
		cli_usage(c, "--new-key %s: use letters, digits, - _ . (at most 64)", name);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_CREATE);
	char dir[PATH_MAX + 8], path[PATH_MAX + 80];
	snprintf(dir, sizeof dir, "%s/keys", c->home);
	if (mkdir(dir, spif_dir_mode(&c->conf)) < 0 && errno != EEXIST)
		cli_fail(c, SPIF_EX_CANTCREAT, "%s: %s", dir, strerror(errno));
	key_path(c, name, path, sizeof path);
	unsigned char key[32];
	gcry_randomize(key, sizeof key, GCRY_VERY_STRONG_RANDOM);
	struct spif_atomic a;
	if (spif_atomic_open(&a, path, spif_file_mode(&c->conf), &e) < 0)
		cli_die(c, &e);
	if (write(a.fd, key, sizeof key) != (ssize_t)sizeof key) {
		spif_atomic_abort(&a);
		cli_fail(c, SPIF_EX_IOERR, "%s: %s", path, strerror(errno));
	}
	explicit_bzero(key, sizeof key);
	char obj[96];
	snprintf(obj, sizeof obj, "key:psn-%s", name);
	json_t *d = json_pack("{s:s,s:s}", "purpose", "pseudonyms (keyed HMAC-SHA256)", "file", path);
	if (spif_atomic_commit(&a, &e) < 0 || spif_catalog_begin(cat, &e) < 0 ||
	    spif_audit_append(cat, "key.create", obj, d, NULL, &e) < 0 || spif_catalog_commit(cat, &e) < 0) {
		unlink(path);
		cli_die(c, &e);
	}
	json_decref(d);
	spif_catalog_close(cat);
	fprintf(stderr, "spif-redact: pseudonym key %s created (%s)\n", name, path);
	return 0;
}

static gcry_md_hd_t load_key(const struct cli *c, const char *name)
{
	char path[PATH_MAX + 80];
	if (!valid_key_name(name))
		cli_usage(c, "--key %s: not a key name", name);
	key_path(c, name, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		cli_fail(c, SPIF_EX_UNAVAILABLE, "pseudonym key %s: %s (create it with --new-key %s)", name,
		         strerror(errno), name);
	unsigned char key[33];
	ssize_t r = read(fd, key, sizeof key);
	close(fd);
	if (r != 32)
		cli_fail(c, SPIF_EX_UNAVAILABLE, "pseudonym key %s: %s is not a 32-byte key", name, path);
	gcry_md_hd_t h;
	if (gcry_md_open(&h, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) || gcry_md_setkey(h, key, 32))
		cli_fail(c, SPIF_EX_SOFTWARE, "libgcrypt: HMAC-SHA256 unavailable");
	explicit_bzero(key, sizeof key);
	return h;
}

/* PSN: + 26 base32 characters of HMAC-SHA256(key, digits).  Stable for the
 * same key and number, so joins still work; never 12 digits in a row, so it
 * can never pass for (or be found again as) a number. */
static void pseudonym(gcry_md_hd_t h, const char *digits, char out[32])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	for (unsigned round = 0;; round++) {
		gcry_md_reset(h);
		gcry_md_write(h, "spif-psn-v1", 12);
		gcry_md_write(h, digits, strlen(digits));
		if (round)
			gcry_md_write(h, &round, sizeof round);
		const unsigned char *d = gcry_md_read(h, GCRY_MD_SHA256);
		memcpy(out, "PSN:", 4);
		for (int i = 0; i < 26; i++) {
			int bit = i * 5, byte = bit / 8, sh = bit % 8;
			unsigned v = ((unsigned)d[byte] << 8 | d[byte + 1]) >> (11 - sh);
			out[4 + i] = b32[v & 31];
		}
		out[30] = '\0';
		int run = 0, max = 0;
		for (int i = 4; i < 30; i++) {
			run = out[i] >= '0' && out[i] <= '9' ? run + 1 : 0;
			max = run > max ? run : max;
		}
		if (max < 12)
			return;
	}
}

/* A value that is a pseudonym token: never a number, whatever its digits. */
static int spif_field_is_psn(const char *v)
{
	return strncmp(v, "PSN:", 4) == 0;
}

/* ---- the redactor ------------------------------------------------------ */

struct plan {           /* what to do with one field */
	char *key;            /* the field name the plan was made for (owned: the record's
	                         arena moves as it grows) */
	int number_field, drop;
	enum op op;
};

struct redactor {
	struct cli *c;
	const struct opts *o;
	gcry_md_hd_t psn;       /* NULL unless pseudonyms are used */
	FILE *report;
	long long records, high, low, left;
	long long row;          /* for the report: @row when the record has it */
	long long char_base;    /* text mode: characters before this window */
	long long in_fields, elsewhere; /* numbers removed in number fields / in other text */
	const char *field;
	enum op cur_op;
	int cur_drop;           /* the field is dropped: its findings go with it */
	int cur_number_field;
	char *buf;              /* the field's new value being built */
	size_t len, cap;
	const char *src;        /* the value being redacted */
	size_t copied;          /* src bytes already copied into buf */
	int emptied, changed;
	struct plan *plans;
	size_t nplans;
	char **catalog_fields;  /* number fields the catalog knows for @file */
	size_t ncatalog_fields;
	char cur_file[24];
	char *text_buf, *text_raw; /* --format text's windows, kept here so that they are freed
	                              (and seen as still in use) even when a run dies */
	struct spif_catalog *cat;
	int cat_tried;
	size_t row_hint, file_hint;
};

static void put(struct redactor *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *b = realloc(r->buf, cap);
		if (!b)
			cli_fail(r->c, SPIF_EX_SOFTWARE, "out of memory");
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

static void report(struct redactor *r, size_t offset, const char *form, int high, const char *kw,
                   const char *op)
{
	if (!r->report)
		return;
	json_t *j = json_pack("{s:I,s:s,s:I,s:s,s:s,s:o,s:s}", "row", (json_int_t)r->row, "field",
	                      r->field, "offset", (json_int_t)(r->char_base + (long long)offset), "form", form, "confidence",
	                      high ? "high" : "low", "keyword", kw ? json_string(kw) : json_null(), "op", op);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fprintf(r->report, "%s\n", s);
	free(s);
	json_decref(j);
}

/* The digits of a number as written, whatever its separators: the input
 * of its pseudonym, so every form of one number gives the same token. */
static void span_digits(const char *s, size_t start, size_t end, char out[14])
{
	int n = 0;
	for (size_t i = start; i < end && n < 13; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= '0' && ch <= '9')
			out[n++] = (char)ch;
		else if (ch == 0xEF && i + 2 < end && (unsigned char)s[i + 1] == 0xBC &&
		         (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99) {
			out[n++] = (char)('0' + (unsigned char)s[i + 2] - 0x90);
			i += 2;
		}
	}
	out[n] = '\0';
}

/* One finding in a free-text field. */
static int on_finding(void *ctx, const struct spif_finding *f)
{
	struct redactor *r = ctx;
	int high = f->confidence == SPIF_CONF_HIGH;
	if (!high && r->o->high_only) {
		r->left++;
		report(r, f->char_offset, spif_form_name(f->form), 0, NULL, "none (below --min-confidence)");
		return 0;
	}
	high ? r->high++ : r->low++;
	r->elsewhere++;
	/* --op drop drops number fields only: elsewhere its findings are
	 * masked; a field named with =drop goes, findings and all */
	enum op op = r->cur_op == OP_DROP ? OP_MASK : r->cur_op;
	report(r, f->char_offset, spif_form_name(f->form), high, f->keyword,
	       r->cur_drop ? op_names[OP_DROP] : op_names[op]);
	if (r->o->check)
		return 0;
	r->changed = 1;
	/* copy what lies before the number, then the number's replacement */
	put(r, r->src + r->copied, f->start - r->copied);
	if (op == OP_EMPTY)
		r->emptied = 1;
	if (op == OP_PSEUDONYM) {
		char d[14], token[32];
		span_digits(r->src, f->start, f->end, d);
		pseudonym(r->psn, d, token);
		put(r, token, strlen(token));
	} else {
		size_t at = r->len;
		put(r, r->src + f->start, f->end - f->start);
		spif_mask_span(r->buf, at, r->len);
	}
	r->copied = f->end;
	return 0;
}

/* The form of a whole number-field value, for the report. */
static const char *value_form(const char *s, size_t n)
{
	int ascii = 0, wide = 0, sep = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= '0' && ch <= '9')
			ascii = 1;
		else if (ch == 0xEF && i + 2 < n && (unsigned char)s[i + 1] == 0xBC &&
		         (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99)
			wide = 1, i += 2;
		else
			sep = 1;
	}
	return wide ? (ascii || sep ? "mixed" : "fullwidth") : sep ? "grouped" : "plain";
}

/* Redact one value.  Returns 1 when it changed (the new value is r->buf,
 * r->len), 0 when it stays as it is. */
static int redact_value(struct redactor *r, const struct plan *p, const char *v, size_t n)
{
	/* outside number fields a number needs at least 12 bytes (12 ASCII
	 * digits): most fields of a tax file are shorter and need no look */
	if ((!p->number_field && n < 12) || !spif_has_digit(v, n))
		return 0;
	r->len = 0;
	r->copied = 0;
	r->emptied = 0;
	r->changed = 0;
	r->src = v;
	r->cur_op = p->op;
	r->cur_drop = p->drop;
	if (p->number_field) {
		/* a mistyped number is still someone's number: every digit goes */
		r->high++;
		r->in_fields++;
		enum op op = p->op == OP_DROP ? OP_EMPTY : p->op;
		char d[14];
		int valid = spif_number_classify(v, n, r->o->corporate, NULL) == SPIF_NUM_PERSONAL;
		if (op == OP_PSEUDONYM && !valid)
			op = OP_MASK; /* only a real number has a stable pseudonym */
		report(r, 0, value_form(v, n), 1, NULL, p->drop ? op_names[OP_DROP] : op_names[op]);
		if (r->o->check)
			return 0;
		if (op == OP_EMPTY)
			return r->len = 0, 1;
		if (op == OP_PSEUDONYM) {
			char token[32];
			span_digits(v, 0, n, d);
			pseudonym(r->psn, d, token);
			put(r, token, strlen(token));
			return 1;
		}
		put(r, v, n);
		spif_mask_span(r->buf, 0, n);
		return 1;
	}
	/* a keyword in the field's name (マイナンバーカード番号) is context too */
	struct spif_detect_opts d = {.corporate = r->o->corporate, .field_name = p->key};
	spif_detect(v, n, &d, on_finding, r);
	if (!r->changed)
		return 0;
	if (r->emptied) {
		r->len = 0;
		if (r->buf)
			r->buf[0] = '\0';
		return 1;
	}
	put(r, v + r->copied, n - r->copied);
	return 1;
}

/* spif's own metadata: "@file" holding a file id and "@row" a row number,
 * as spif's commands write them, passed on unscanned.  Every other field,
 * '@' or not, is scanned, and so are these when they hold anything else
 * (12 digits or more, letters): an '@' in a name must not be a way past the
 * gate. */
static int own_meta(const struct spif_field *f)
{
	const char *v = f->val;
	size_t n = f->vlen;
	if (strcmp(f->key, "@file") == 0 && n && v[0] == 'F')
		v++, n--;
	else if (strcmp(f->key, "@row") != 0)
		return 0;
	if (n == 0 || n >= 12)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	return 1;
}

/* The catalog, opened when first needed: a record stream from spif ingest
 * starts only after ingest has committed, so by the first record the
 * catalog (and the file) exist even on a first ingest. */
static struct spif_catalog *catalog(struct redactor *r)
{
	if (!r->cat && !r->cat_tried) {
		r->cat_tried = 1;
		r->cat = cli_catalog_if_exists(r->c);
	}
	return r->cat;
}

static const struct spif_field *meta(const struct spif_record *rec, const char *key, size_t *hint);

static void catalog_fields(struct redactor *r, const struct spif_record *rec)
{
	const struct spif_field *f = meta(rec, "@file", &r->file_hint);
	if (!f || !own_meta(f) || strcmp(f->val, r->cur_file) == 0 || !catalog(r))
		return;
	snprintf(r->cur_file, sizeof r->cur_file, "%s", f->val);
	for (size_t i = 0; i < r->ncatalog_fields; i++)
		free(r->catalog_fields[i]);
	free(r->catalog_fields);
	r->catalog_fields = NULL;
	r->ncatalog_fields = 0;
	for (size_t i = 0; i < r->nplans; i++) /* plans depend on them */
		free(r->plans[i].key);
	r->nplans = 0;
	long long id = spif_file_id_parse(f->val);
	struct spif_file file;
	struct spif_err e = {0};
	if (id < 0 || spif_catalog_get_file(r->cat, id, &file, &e) < 0)
		return; /* a file this catalog does not know: names decide */
	json_t *a = json_loads(file.number_fields, 0, NULL);
	size_t i;
	json_t *v;
	r->catalog_fields = calloc(json_array_size(a) + 1, sizeof *r->catalog_fields);
	json_array_foreach(a, i, v) r->catalog_fields[r->ncatalog_fields++] = strdup(json_string_value(v));
	json_decref(a);
	spif_file_free(&file);
}

static struct plan make_plan(struct redactor *r, const char *key)
{
	const struct opts *o = r->o;
	struct plan p = {.key = strdup(key), .op = o->op};
	if (!p.key)
		cli_fail(r->c, SPIF_EX_SOFTWARE, "out of memory");
	p.number_field = spif_is_number_field_name(key);
	for (size_t i = 0; i < o->nnumfields && !p.number_field; i++)
		p.number_field = strcmp(key, o->numfields[i]) == 0;
	for (size_t i = 0; i < r->ncatalog_fields && !p.number_field; i++)
		p.number_field = strcmp(key, r->catalog_fields[i]) == 0;
	for (size_t i = 0; i < o->nfields; i++)
		if (strcmp(key, o->fields[i].name) == 0 && o->fields[i].has_op)
			p.op = o->fields[i].op;
	/* a named field=drop drops; a global --op drop drops number fields only */
	int named_drop = 0;
	for (size_t i = 0; i < o->nfields; i++)
		if (strcmp(key, o->fields[i].name) == 0 && o->fields[i].has_op && o->fields[i].op == OP_DROP)
			named_drop = 1;
	p.drop = named_drop || (p.number_field && p.op == OP_DROP);
	return p;
}

static int has_name(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* Fail closed: a --field the input does not have is an error, never a
 * silent no-op.  names: the first record's keys, or the header of a CSV
 * or TSV that has no records. */
static void check_fields(struct redactor *r, const char *const *names, size_t n)
{
	const char *in = strcmp(r->o->input, "-") ? r->o->input : "(stdin)";
	for (size_t i = 0; i < r->o->nfields; i++)
		if (!has_name(names, n, r->o->fields[i].name))
			cli_usage(r->c, "--field %s: no such field in %s", r->o->fields[i].name, in);
	for (size_t i = 0; i < r->o->nnumfields; i++)
		if (!has_name(names, n, r->o->numfields[i]))
			cli_usage(r->c, "--number-field %s: no such field in %s", r->o->numfields[i], in);
}

static void check_record_fields(struct redactor *r, const struct spif_record *rec)
{
	const char **names = malloc((rec->n + 1) * sizeof *names);
	if (!names)
		cli_fail(r->c, SPIF_EX_SOFTWARE, "out of memory");
	for (size_t i = 0; i < rec->n; i++)
		names[i] = rec->f[i].key;
	check_fields(r, names, rec->n);
	free(names);
}

/* A metadata field, looked for where it stood in the last record first:
 * spif's streams put @file and @row in front, and a whole-record search
 * for every record would cost more than the redaction. */
static const struct spif_field *meta(const struct spif_record *rec, const char *key, size_t *hint)
{
	if (*hint < rec->n && strcmp(rec->f[*hint].key, key) == 0)
		return &rec->f[*hint];
	for (size_t i = 0; i < rec->n; i++)
		if (rec->f[i].key[0] == '@' && strcmp(rec->f[i].key, key) == 0) {
			*hint = i;
			return &rec->f[i];
		}
	return NULL;
}

static void redact_record(struct redactor *r, struct spif_record *rec)
{
	struct spif_err e = {0};
	const struct spif_field *rowf = NULL;
	if (r->o->fmt == SPIF_FMT_NDJSON) { /* CSV and TSV carry no metadata */
		catalog_fields(r, rec);
		rowf = meta(rec, "@row", &r->row_hint);
	}
	r->row = rowf && own_meta(rowf) ? atoll(rowf->val) : rec->row;
	if (r->nplans < rec->n) {
		struct plan *p = realloc(r->plans, rec->n * sizeof *p);
		if (!p)
			cli_fail(r->c, SPIF_EX_SOFTWARE, "out of memory");
		r->plans = p;
	}
	size_t keep = 0;
	for (size_t i = 0; i < rec->n; i++) {
		const char *key = rec->f[i].key;
		/* plans are made once per column and reused while the keys stay
		 * (CSV and TSV: the header fixes them, no need to look) */
		if (i >= r->nplans || (r->o->fmt == SPIF_FMT_NDJSON && strcmp(r->plans[i].key, key) != 0)) {
			if (i < r->nplans)
				free(r->plans[i].key);
			r->plans[i] = make_plan(r, key);
			if (i >= r->nplans)
				r->nplans = i + 1;
		}
		const struct plan *p = &r->plans[i];
		int meta_field = key[0] == '@' && own_meta(&rec->f[i]);
		int keep_it = meta_field || !p->drop || r->o->check;
		if (!meta_field) {
			r->field = key;
			if (redact_value(r, p, rec->f[i].val, rec->f[i].vlen) &&
			    spif_record_set(rec, i, r->buf ? r->buf : "", r->len) < 0)
				cli_fail(r->c, SPIF_EX_SOFTWARE, "out of memory");
		}
		/* compact only once a field has been dropped */
		if (keep_it && keep != i)
			rec->f[keep] = rec->f[i];
		keep += (size_t)keep_it;
	}
	rec->n = keep;
	(void)e;
}

/* ---- free text ---------------------------------------------------------- */

/* Text is redacted in windows: numbers are looked for in the part that is
 * complete, with the 1,200 bytes before it (already written) and whatever
 * follows as keyword context; a window never ends inside a digit run. */
#define TEXT_CHUNK (1u << 20)
#define TEXT_CTX 1200 /* 300 characters of up to 4 bytes */

/* Is the character starting at b[i] one a number can be made of (a digit,
 * half- or full-width, or a separator)?  A window must not end between two
 * of them, or a number would be cut in half. */
static int is_number_char(const char *b, size_t i, size_t n)
{
	const unsigned char *u = (const unsigned char *)b + i;
	size_t left = n - i;
	if (left == 0)
		return 0;
	if ((u[0] >= '0' && u[0] <= '9') || u[0] == '-' || u[0] == '.' || u[0] == ' ')
		return 1;
	if (left < 3)
		return 0;
	unsigned c = (unsigned)u[0] << 16 | (unsigned)u[1] << 8 | u[2];
	return (c >= 0xEFBC90 && c <= 0xEFBC99) || c == 0xE38080 || c == 0xEFBC8D || c == 0xE383BC ||
	       c == 0xE28090 || c == 0xE28892 || c == 0xEFBC8E;
}

/* The start of the character before position i. */
static size_t prev_char(const char *b, size_t i)
{
	do
		i--;
	while (i > 0 && ((unsigned char)b[i] & 0xC0) == 0x80);
	return i;
}

struct textout {
	spif_sink_fn fn;
	void *ctx;
	iconv_t cd; /* UTF-8 -> output encoding, or (iconv_t)-1 */
};

static void text_emit(const struct cli *c, struct textout *t, const char *s, size_t n)
{
	if (t->cd == (iconv_t)-1) {
		if (t->fn(t->ctx, s, n) < 0)
			cli_fail(c, SPIF_EX_IOERR, "writing: %s", strerror(errno));
		return;
	}
	char out[16384];
	char *in = (char *)s;
	size_t left = n;
	while (left) {
		char *o = out;
		size_t room = sizeof out;
		size_t rc = iconv(t->cd, &in, &left, &o, &room);
		if (t->fn(t->ctx, out, (size_t)(o - out)) < 0)
			cli_fail(c, SPIF_EX_IOERR, "writing: %s", strerror(errno));
		if (rc == (size_t)-1 && errno != E2BIG)
			cli_fail(c, SPIF_EX_SOFTWARE, "re-encoding the text failed");
	}
}

static void redact_text(struct cli *c, struct redactor *r, int fd, const char *name,
                        struct textout *out)
{
	const struct opts *o = r->o;
	iconv_t in_cd = (iconv_t)-1;
	if (o->enc == SPIF_ENC_CP932 || o->enc == SPIF_ENC_EUCJP)
		in_cd = iconv_open("UTF-8", o->enc == SPIF_ENC_CP932 ? "CP932" : "EUC-JP");
	char *buf = r->text_buf = malloc(TEXT_CHUNK + TEXT_CTX * 2 + 16);
	char *raw = r->text_raw = malloc(TEXT_CHUNK);
	if (!buf || !raw)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	char pre[TEXT_CTX];
	size_t npre = 0, len = 0, rawlen = 0;
	long long consumed = 0;
	int eof = 0;
	r->field = "text";
	r->row = 1;
	struct plan p = {.key = "text", .op = o->op == OP_DROP ? OP_MASK : o->op};
	while (!eof || len) {
		/* fill: raw bytes, decoded to UTF-8, up to the chunk size */
		if (!eof && len < TEXT_CHUNK) {
			ssize_t got = read(fd, raw + rawlen, TEXT_CHUNK - rawlen - len / 4);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				cli_fail(c, SPIF_EX_IOERR, "%s: %s", name, strerror(errno));
			eof = got == 0;
			rawlen += (size_t)got;
			if (in_cd == (iconv_t)-1) {
				size_t ok = spif_utf8_valid_prefix((unsigned char *)raw, rawlen);
				if (ok < rawlen && (eof || rawlen - ok >= 4))
					cli_fail(c, SPIF_EX_DATAERR, "%s: byte offset %lld: not valid UTF-8", name,
					         consumed + (long long)ok);
				memcpy(buf + len, raw, ok);
				len += ok;
				memmove(raw, raw + ok, rawlen - ok);
				consumed += (long long)ok;
				rawlen -= ok;
			} else {
				char *in = raw, *outp = buf + len;
				size_t inleft = rawlen, room = TEXT_CHUNK + TEXT_CTX - len;
				size_t rc = iconv(in_cd, &in, &inleft, &outp, &room);
				if (rc == (size_t)-1 && (errno == EILSEQ || (errno == EINVAL && eof)))
					cli_fail(c, SPIF_EX_DATAERR, "%s: byte offset %lld: not valid %s", name,
					         consumed + (long long)(in - raw), spif_enc_name(o->enc));
				consumed += (long long)(in - raw);
				len = (size_t)(outp - buf);
				memmove(raw, in, inleft);
				rawlen = inleft;
			}
			if (!eof && len < TEXT_CHUNK / 2)
				continue;
		}
		/* the complete part: all at EOF, else up to a point outside any
		 * digit run and before the keyword look-ahead */
		size_t cut = len;
		if (!eof) {
			cut = len > TEXT_CTX ? len - TEXT_CTX : 0;
			while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80)
				cut--;
			/* back out of a digit run (at most a number's length or so) */
			for (int steps = 0; cut > 0 && steps < 64 && is_number_char(buf, cut, len); steps++) {
				size_t back = prev_char(buf, cut);
				if (!is_number_char(buf, back, len))
					break;
				cut = back;
			}
			if (cut == 0)
				continue; /* need more text */
		}
		struct spif_detect_opts d = {.corporate = o->corporate};
		r->len = 0;
		r->copied = 0;
		r->emptied = 0;
		r->changed = 0;
		r->src = buf;
		r->cur_op = p.op;
		spif_detect_ctx(pre, npre, buf, cut, buf + cut, len - cut, &d, on_finding, r);
		r->records++; /* windows, for the summary */
		for (size_t k = 0; k < cut; k++) /* characters, for the report's offsets */
			r->char_base += ((unsigned char)buf[k] & 0xC0) != 0x80;
		if (!o->check) {
			if (r->changed) {
				put(r, buf + r->copied, cut - r->copied);
				text_emit(c, out, r->buf, r->len);
			} else
				text_emit(c, out, buf, cut);
		}
		/* keep the tail of what was done as context for the next window */
		size_t keepn = cut < TEXT_CTX ? cut : TEXT_CTX;
		if (keepn < TEXT_CTX && npre) {
			size_t from_old = TEXT_CTX - keepn < npre ? TEXT_CTX - keepn : npre;
			memmove(pre, pre + npre - from_old, from_old);
			npre = from_old;
		} else
			npre = 0;
		memcpy(pre + npre, buf + cut - keepn, keepn);
		npre += keepn;
		size_t lead = 0; /* context starts on a character */
		while (lead < npre && ((unsigned char)pre[lead] & 0xC0) == 0x80)
			lead++;
		memmove(pre, pre + lead, npre - lead);
		npre -= lead;
		memmove(buf, buf + cut, len - cut);
		len -= cut;
		if (eof && len == 0)
			break;
	}
	if (in_cd != (iconv_t)-1)
		iconv_close(in_cd);
}

/* ---- --file: the retention action ------------------------------------- */

/* A vault copy decrypted into a pipe by a thread with its own catalog
 * connection, so the main thread can read it as records. */
struct vault_feed {
	const struct cli *c;
	long long id;
	const char *path;
	int fd;
	struct spif_err e;
	int rc;
};

static void *feed_thread(void *arg)
{
	struct vault_feed *f = arg;
	struct spif_catalog *cat;
	f->rc = spif_catalog_open(f->c->home, &f->c->conf, 0, NULL, &cat, &f->e);
	if (f->rc == 0) {
		f->rc = spif_vault_read(cat, f->id, f->path, spif_sink_fd, &f->fd, &f->e);
		spif_catalog_close(cat);
	}
	close(f->fd);
	return NULL;
}

/* Read a vault copy's records through fn; the thread's error, if any, wins. */
static void each_vault_record(struct cli *c, long long id, const char *path,
                              void (*fn)(void *ctx, struct spif_record *rec), void *ctx)
{
	int p[2];
	struct spif_err e = {0};
	if (pipe(p) < 0)
		cli_fail(c, SPIF_EX_SOFTWARE, "pipe: %s", strerror(errno));
	struct vault_feed f = {.c = c, .id = id, .path = path, .fd = p[1]};
	pthread_t th;
	if (pthread_create(&th, NULL, feed_thread, &f) != 0)
		cli_fail(c, SPIF_EX_SOFTWARE, "cannot start a thread");
	struct spif_reader *rd = spif_reader_open(p[0], path, SPIF_FMT_NDJSON, SPIF_ENC_UTF8, &e);
	struct spif_record rec;
	spif_record_init(&rec);
	int rc = rd ? 0 : -1;
	while (rd && (rc = spif_reader_next(rd, &rec, &e)) > 0)
		fn(ctx, &rec);
	close(p[0]); /* a reader that stopped early unblocks the thread */
	pthread_join(th, NULL);
	spif_record_free(&rec);
	spif_reader_close(rd);
	if (f.rc < 0)
		cli_die(c, &f.e);
	if (rc < 0)
		cli_die(c, &e);
}

struct rewrite {
	struct redactor *r;
	struct spif_writer *w;
	const struct cli *c;
};

static void rewrite_one(void *ctx, struct spif_record *rec)
{
	struct rewrite *rw = ctx;
	struct spif_err e = {0};
	rw->r->records++;
	redact_record(rw->r, rec);
	if (spif_writer_put(rw->w, rec, &e) < 0)
		cli_die(rw->c, &e);
}

/* The re-scan of the new copy: any number left above --min-confidence low? */
static int rescan_finding(void *ctx, const struct spif_finding *f)
{
	(void)f;
	++*(long long *)ctx;
	return 0;
}

static void rescan_one(void *ctx, struct spif_record *rec)
{
	struct spif_detect_opts d = {.corporate = 0};
	for (size_t i = 0; i < rec->n; i++)
		if (rec->f[i].key[0] != '@' && !spif_field_is_psn(rec->f[i].val))
			spif_detect(rec->f[i].val, rec->f[i].vlen, &d, rescan_finding, ctx);
}

/* Finish a redaction that a killed run left between its two commits: the
 * file is redacted and the old copy's key destroyed (one transaction, with
 * the redact.file event), but the old copy is still "disposing" and has no
 * certificate.  The event says what was removed; the key is gone, so the
 * purge is repeated and the certificate says the search could not be. */
static int finish_interrupted(struct cli *c, struct opts *o, struct spif_catalog *cat, struct spif_file *f,
                              const struct spif_copy *old, const char *sign)
{
	struct spif_err e = {0};
	char fid[24];
	spif_file_id_format(f->id, fid);
	sqlite3_stmt *st;
	json_t *ev = NULL;
	long long seq = 0;
	if (spif_catalog_prepare(cat, "SELECT seq, details FROM events WHERE action = 'redact.file' AND object = ?"
	                              " ORDER BY seq DESC LIMIT 1", &st, &e) < 0)
		cli_die(c, &e);
	sqlite3_bind_text(st, 1, fid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		ev = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
	}
	sqlite3_finalize(st);
	const char *evold = json_string_value(json_object_get(ev, "old_copy"));
	if (!ev || !evold || strcmp(evold, old->path) != 0)
		cli_fail(c, SPIF_EX_DATAERR, "%s: copy %lld is left disposing, but no redaction event names it; "
		         "run spif shred --resume", fid, old->id);
	cli_note(c, "%s: finishing the redaction an interrupted run left (event %lld)", fid, seq);
	if (spif_vault_purge(cat, &e) < 0)
		cli_die(c, &e);
	if (unlink(old->path) == 0 || errno == ENOENT)
		spif_fsync_dir_of(old->path);
	long long in_fields = json_integer_value(json_object_get(ev, "removed_in_number_fields"));
	long long elsewhere = json_integer_value(json_object_get(ev, "removed_elsewhere"));
	const char *op = json_string_value(json_object_get(ev, "op"));
	const char *newpath = json_string_value(json_object_get(ev, "new_copy"));
	json_t *copies = json_pack("[{s:I,s:s,s:I,s:s,s:s,s:s}]", "copy_id", (json_int_t)old->id, "path",
	                           old->path, "size", (json_int_t)old->size, "sha256_before",
	                           old->sha256 ? old->sha256 : "", "media_type",
	                           "encrypted vault copy (AES-256-GCM)", "media_source", "catalog vault copy");
	char desc[256];
	snprintf(desc, sizeof desc, "個人番号の削除 / removal of the numbers: %lld in number fields, %lld "
	         "elsewhere (%s); the copy that held them crypto-erased", in_fields, elsewhere, op ? op : "mask");
	json_t *what = json_pack("{s:s,s:b,s:I}", "method", "cryptographic erase", "already_erased", 1,
	                         "erased_with_event", (json_int_t)seq);
	json_t *san = json_pack("{s:s,s:s,s:s,s:o,s:s}", "category", "Purge (cryptographic erase)",
	                        "description", desc, "method",
	                        "every string field scanned; number fields lose every digit, checksum-valid "
	                        "numbers elsewhere removed; the old copy's data key deleted with "
	                        "secure_delete, WAL checkpointed and truncated, ciphertext deleted",
	                        "key_material", what, "kept", newpath ? newpath : "");
	json_t *ver = json_pack("{s:s,s:s}", "method",
	                        "the new copy was read back and scanned for numbers before the key of the old "
	                        "one was deleted (event recorded); after an interruption the WAL was purged again",
	                        "result", "passed: the old copy's key was deleted in the transaction of the "
	                        "redaction's event; its bytes could not be searched for again after the interruption");
	long long ids[1] = {old->id};
	struct spif_cert_input in = {.kind = "redaction", .command = "spif redact --file", .file = f, .copies = copies,
	                             .sanitization = san, .verification = ver, .destination = "remains in service",
	                             .reason = o->reason, .sign_key = sign, .copy_ids = ids, .ncopy_ids = 1};
	char cid[32];
	if (spif_catalog_begin(cat, &e) < 0 || spif_catalog_set_copy_state(cat, old->id, "disposed", &e) < 0 ||
	    spif_cert_issue(cat, &c->conf, &in, cid, &e) < 0 || spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
	printf("%s\n", cid);
	fprintf(stderr, "spif-redact: %s redacted (finished after an interruption); certificate %s\n", fid, cid);
	json_decref(copies);
	json_decref(san);
	json_decref(ver);
	json_decref(ev);
	return 0;
}

static int redact_file(struct cli *c, struct opts *o, struct redactor *r)
{
	struct spif_err e = {0};
	long long id = spif_file_id_parse(o->file_id);
	if (id < 0)
		cli_usage(c, "--file %s: not a file id (F000001)", o->file_id);
	struct spif_catalog *cat = cli_catalog(c, 0);
	r->cat = cat;
	r->cat_tried = 1;
	o->fmt = SPIF_FMT_NDJSON; /* a vault copy holds NDJSON records */
	/* one disposer at a time (a purge runs this under its own lock) */
	int lock;
	if (spif_dispose_lock(c->home, &c->conf, &lock, &e) < 0)
		cli_die(c, &e);
	const char *sign = o->sign_key ? o->sign_key : c->conf.sign_key;
	if (sign && *sign) { /* stop before anything changes, not after */
		char *sig = NULL, fpr[41];
		if (spif_pgp_sign(sign, "spif", 4, &sig, fpr, &e) < 0)
			cli_die(c, &e);
		free(sig);
	}
	struct spif_file f;
	struct spif_copy *cp;
	size_t n;
	if (spif_catalog_get_file(cat, id, &f, &e) < 0 || spif_catalog_get_copies(cat, id, &cp, &n, &e) < 0)
		cli_die(c, &e);
	char fid[24];
	spif_file_id_format(id, fid);
	/* a run killed between the redaction and its certificate left the old
	 * copy "disposing": finish that, once, rather than refuse */
	for (size_t i = 0; i < n && strcmp(f.state, "redacted") == 0; i++)
		if (strcmp(cp[i].kind, "vault") == 0 && strcmp(cp[i].state, "disposing") == 0) {
			int rc = finish_interrupted(c, o, cat, &f, &cp[i], sign);
			spif_copies_free(cp, n);
			spif_file_free(&f);
			spif_catalog_close(cat);
			r->cat = NULL;
			return rc;
		}
	if (strcmp(f.state, "active") != 0)
		cli_fail(c, SPIF_EX_DATAERR, "%s is %s: nothing to redact", fid, f.state);
	/* the numbers are the retained data: holds and the schedule bind as
	 * for spif shred (a purge's child finds the file due) */
	int early;
	if (spif_retention_may_dispose(cat, id, 1, o->bypass, &early, &e) < 0)
		cli_die(c, &e);
	const struct spif_copy *old = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(cp[i].state, "present") != 0)
			continue;
		if (strcmp(cp[i].kind, "vault") == 0)
			old = &cp[i];
		else if (!cp[i].details || !strstr(cp[i].details, "\"redacted\":true"))
			/* "redacted" must be true of the file, not of one copy */
			cli_fail(c, SPIF_FOUND, "%s still has a copy with numbers outside the vault (%s, %s); "
			         "dispose of it first (spif shred)", fid, cp[i].kind, cp[i].path);
	}
	if (!old)
		cli_fail(c, SPIF_EX_DATAERR, "%s has no vault copy to redact (ingest --store keeps one)", fid);
	if (early && spif_retention_bypassed(cat, id, "spif redact --file", o->reason, &e) < 0)
		cli_die(c, &e);

	/* 1. a new vault copy, under a new data key, written from the old one
	 *    with every number removed */
	sqlite3_stmt *st;
	char bucket[64] = "indefinite";
	if (spif_catalog_prepare(cat, "SELECT bucket FROM data_keys WHERE file_id = ? LIMIT 1", &st, &e) == 0) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(bucket, sizeof bucket, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	struct spif_vault_writer *vw;
	char newpath[PATH_MAX], sha[65];
	long long size;
	if (spif_catalog_begin(cat, &e) < 0 || spif_vault_create(cat, &c->conf, id, bucket, &vw, newpath, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
	struct spif_writer *w = spif_writer_open(spif_vault_write, vw, newpath, SPIF_FMT_NDJSON,
	                                         SPIF_ENC_UTF8, NULL, &e);
	if (!w)
		cli_die(c, &e);
	struct rewrite rw = {.r = r, .w = w, .c = c};
	each_vault_record(c, id, old->path, rewrite_one, &rw);
	if (spif_writer_finish(w, &e) < 0)
		cli_die(c, &e);
	spif_writer_close(w);
	if (spif_vault_finish(vw, sha, &size, &e) < 0)
		cli_die(c, &e);
	/* 2. proof, not assumption: the new copy is read back and scanned */
	long long left = 0;
	each_vault_record(c, id, newpath, rescan_one, &left);
	if (left) {
		unlink(newpath);
		cli_fail(c, SPIF_EX_SOFTWARE, "%s: %lld numbers still found in the rewritten copy; nothing "
		         "changed", fid, left);
	}
	/* 3. the new copy registered, the old one's key destroyed, the file
	 *    redacted; then the purge and the proof the key is gone */
	long long old_key = spif_vault_copy_key_id(old->path);
	unsigned char keys[1][40];
	size_t nkeys = spif_vault_wrapped_keys(cat, id, old_key, keys, 1);
	char now[32];
	spif_now_utc(now);
	struct spif_copy ncp = {.file_id = id, .kind = "vault", .path = newpath, .sha256 = sha, .size = size,
	                        .encrypted = 1, .created = now,
	                        .details = "{\"redacted\":true,\"scheme\":\"aes-256-gcm chunks\"}"};
	json_t *what = NULL;
	json_t *d = json_pack("{s:s,s:s,s:I,s:I,s:s}", "old_copy", old->path, "new_copy", newpath,
	                      "removed_in_number_fields", (json_int_t)r->in_fields, "removed_elsewhere",
	                      (json_int_t)r->elsewhere, "op", op_names[o->op]);
	if (spif_catalog_begin(cat, &e) < 0 || spif_catalog_add_copy(cat, &ncp, &e) < 0 ||
	    spif_catalog_exec(cat, "SELECT 1", &e) < 0)
		cli_die(c, &e);
	if (spif_catalog_set_copy_state(cat, old->id, "disposing", &e) < 0)
		cli_die(c, &e);
	if (spif_catalog_prepare(cat, "UPDATE files SET state = 'redacted', number_fields = '[]' WHERE id = ?",
	                         &st, &e) < 0)
		cli_die(c, &e);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (spif_vault_erase_copy_key(cat, id, old->path, &what, &e) < 0 ||
	    spif_audit_append(cat, "redact.file", fid, d, NULL, &e) < 0 || spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
	json_decref(d);
	if (spif_vault_purge(cat, &e) < 0)
		cli_die(c, &e);
	int gone = spif_vault_keys_gone(cat, keys, nkeys);
	explicit_bzero(keys, sizeof keys);
	unlink(old->path);
	spif_fsync_dir_of(old->path);
	/* 4. the certificate of the removal */
	json_t *copies = json_pack("[{s:I,s:s,s:I,s:s,s:s,s:s}]", "copy_id", (json_int_t)old->id, "path",
	                           old->path, "size", (json_int_t)old->size, "sha256_before",
	                           old->sha256 ? old->sha256 : "", "media_type",
	                           "encrypted vault copy (AES-256-GCM)", "media_source", "catalog vault copy");
	char desc[256];
	snprintf(desc, sizeof desc, "個人番号の削除 / removal of the numbers: %lld in number fields, %lld "
	         "elsewhere (%s); the copy that held them crypto-erased", r->in_fields, r->elsewhere,
	         op_names[o->op]);
	json_t *san = json_pack("{s:s,s:s,s:s,s:O,s:s}", "category", "Purge (cryptographic erase)",
	                        "description", desc, "method",
	                        "every string field scanned; number fields lose every digit, checksum-valid "
	                        "numbers elsewhere removed; the old copy's data key deleted with "
	                        "secure_delete, WAL checkpointed and truncated, ciphertext deleted",
	                        "key_material", what, "kept", newpath);
	json_t *ver = json_pack("{s:s,s:s}", "method",
	                        "the new copy read back and scanned for numbers; catalog.db and its WAL "
	                        "searched for the old wrapped data key after the purge",
	                        "result", gone ? "passed: no number in the new copy; the old key is in neither file"
	                                       : "FAILED: the old wrapped key is still in the catalog's files");
	long long ids[1] = {old->id};
	struct spif_cert_input in = {.kind = "redaction", .command = "spif redact --file", .file = &f, .copies = copies, .sanitization = san,
	                             .verification = ver, .destination = "remains in service", .reason = o->reason,
	                             .sign_key = sign, .copy_ids = ids, .ncopy_ids = 1};
	char cid[32];
	if (spif_catalog_begin(cat, &e) < 0)
		cli_die(c, &e);
	if (spif_catalog_set_copy_state(cat, old->id, "disposed", &e) < 0)
		cli_die(c, &e);
	if (spif_cert_issue(cat, &c->conf, &in, cid, &e) < 0 || spif_catalog_commit(cat, &e) < 0)
		cli_die(c, &e);
	printf("%s\n", cid);
	fprintf(stderr, "spif-redact: %s redacted: %lld records, %lld numbers removed; certificate %s\n", fid,
	        r->records, r->high + r->low, cid);
	json_decref(copies);
	json_decref(san);
	json_decref(ver);
	json_decref(what);
	spif_copies_free(cp, n);
	spif_file_free(&f);
	spif_catalog_close(cat);
	r->cat = NULL;
	return gone ? 0 : SPIF_EX_IOERR;
}

/* ---- main ---------------------------------------------------------------- */

static void redactor_free(struct redactor *r, struct opts *o)
{
	if (r->psn)
		gcry_md_close(r->psn);
	free(r->buf);
	free(r->text_buf);
	free(r->text_raw);
	for (size_t i = 0; i < r->nplans; i++)
		free(r->plans[i].key);
	free(r->plans);
	for (size_t i = 0; i < r->ncatalog_fields; i++)
		free(r->catalog_fields[i]);
	free(r->catalog_fields);
	free(o->fields);
	free(o->numfields);
}

/* Register -o as a redacted copy of the file its records came from. */
static void register_output(struct cli *c, struct redactor *r, const char *path, const char *sha,
                            long long size)
{
	struct spif_err e = {0};
	long long id = spif_file_id_parse(r->cur_file);
	if (id < 0 || !catalog(r))
		return;
	char now[32], *real = realpath(path, NULL);
	spif_now_utc(now);
	json_t *det = json_pack("{s:b,s:s,s:s}", "redacted", 1, "min_confidence",
	                        r->o->high_only ? "high" : "low", "op", op_names[r->o->op]);
	char *ds = json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS);
	struct spif_copy cp = {.file_id = id, .kind = "output", .path = real ? real : (char *)path,
	                       .sha256 = (char *)sha, .size = size, .created = now, .details = ds};
	json_t *d = json_pack("{s:s,s:I,s:I,s:I}", "output_copy", cp.path, "removed_high",
	                      (json_int_t)r->high, "removed_low", (json_int_t)r->low, "left_low",
	                      (json_int_t)r->left);
	struct spif_file f = {0};
	int known = spif_catalog_get_file(r->cat, id, &f, &e) == 0;
	spif_file_free(&f);
	if (!known) { /* records of a file this catalog does not hold */
		cli_note(c, "%s: not in this catalog; %s is not registered", r->cur_file, path);
		json_decref(d);
		json_decref(det);
		free(ds);
		free(real);
		return;
	}
	if (spif_catalog_begin(r->cat, &e) < 0 || spif_catalog_add_copy(r->cat, &cp, &e) < 0 ||
	    spif_audit_append(r->cat, "redact", r->cur_file, d, NULL, &e) < 0 ||
	    spif_catalog_commit(r->cat, &e) < 0) {
		spif_catalog_rollback(r->cat);
		unlink(path);
		cli_die(c, &e);
	}
	json_decref(d);
	json_decref(det);
	free(ds);
	free(real);
}

/* The writer, opened on the first record (or the header of a CSV with
 * none): the input's encoding and, for CSV and TSV back to the same
 * format, its dialect, so that the bytes come back the same. */
static struct spif_writer *open_writer(struct cli *c, const struct opts *o, int *out_fd, enum spif_enc in_enc,
                                       const struct spif_dialect *dialect)
{
	struct spif_err e = {0};
	enum spif_enc oe = o->out_enc_set ? o->out_enc : o->to == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8 : in_enc;
	if (oe == SPIF_ENC_AUTO)
		oe = SPIF_ENC_UTF8;
	struct spif_writer *w = spif_writer_open(spif_sink_fd, out_fd, o->out ? o->out : "(stdout)", o->to, oe,
	                                         o->fmt == o->to && o->fmt != SPIF_FMT_NDJSON ? dialect : NULL, &e);
	if (!w)
		cli_die(c, &e);
	return w;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	struct spif_err e = {0};
	cli_init(&c, "spif-redact", argc, argv);
	parse_args(&c, &o, argc, argv);
	if (o.new_key) {
		cli_check_home(&c);
		int rc = new_key(&c, o.new_key);
		cli_done(&c);
		return rc;
	}
	struct redactor r = {.c = &c, .o = &o};
	if (o.file_id) {
		cli_check_home(&c);
		if (o.key)
			r.psn = load_key(&c, o.key);
		int rc = redact_file(&c, &o, &r);
		redactor_free(&r, &o);
		cli_done(&c);
		return rc;
	}
	const char *name = strcmp(o.input, "-") ? o.input : "(stdin)";
	int fd = cli_open_input(&c, o.input);
	cli_check_home(&c); /* the catalog itself is opened when a record needs it */
	if (o.key)
		r.psn = load_key(&c, o.key);
	if (o.report && strcmp(o.report, "-") == 0) {
		if (!(r.report = fdopen(dup(1), "w")))
			cli_fail(&c, SPIF_EX_CANTCREAT, "(stdout): %s", strerror(errno));
	} else if (o.report) {
		int rfd = open(o.report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, spif_file_mode(&c.conf));
		if (rfd < 0 || !(r.report = fdopen(rfd, "w")))
			cli_fail(&c, SPIF_EX_CANTCREAT, "%s: %s", o.report, strerror(errno));
	}
	struct spif_atomic out = {.fd = -1};
	int out_fd = 1;
	if (o.out && !o.check) {
		if (spif_atomic_open(&out, o.out, spif_file_mode(&c.conf), &e) < 0)
			cli_die(&c, &e);
		out_fd = out.fd;
	}
	if (o.text) {
		struct textout t = {.fn = spif_sink_fd, .ctx = &out_fd, .cd = (iconv_t)-1};
		enum spif_enc oe = o.out_enc_set ? o.out_enc : o.enc;
		if (oe == SPIF_ENC_CP932 || oe == SPIF_ENC_EUCJP)
			t.cd = iconv_open(oe == SPIF_ENC_CP932 ? "CP932" : "EUC-JP", "UTF-8");
		redact_text(&c, &r, fd, name, &t);
		if (t.cd != (iconv_t)-1)
			iconv_close(t.cd);
	} else {
		struct spif_reader *rd = spif_reader_open(fd, name, o.fmt, o.enc, &e);
		if (!rd)
			cli_die(&c, &e);
		/* parsing runs on the other core: a third of the work */
		struct spif_prefetch *pf = spif_prefetch_start(rd, &e);
		if (!pf)
			cli_die(&c, &e);
		struct spif_writer *w = NULL;
		struct spif_record *rec;
		int rc, first = 1;
		while ((rc = spif_prefetch_next(pf, &rec, &e)) > 0) {
			r.records++;
			if (first) {
				first = 0;
				check_record_fields(&r, rec);
				if (!o.check)
					w = open_writer(&c, &o, &out_fd, spif_prefetch_encoding(pf), spif_prefetch_dialect(pf));
			}
			redact_record(&r, rec);
			if (w && spif_writer_put(w, rec, &e) < 0) {
				spif_atomic_abort(&out);
				cli_die(&c, &e);
			}
		}
		/* nothing at all to redact is not an error, whatever the format */
		if (rc < 0 && !(r.records == 0 && spif_reader_bytes(rd) == 0)) {
			spif_atomic_abort(&out);
			cli_die(&c, &e);
		}
		const struct spif_dialect *dialect = spif_prefetch_dialect(pf);
		if (first && rc == 0 && o.fmt != SPIF_FMT_NDJSON) {
			/* a header and no records: the fields named are checked against
			 * the header, and the header is the output, as it came in */
			spif_prefetch_end(pf);
			pf = NULL;
			dialect = spif_reader_dialect(rd);
			size_t nc = spif_reader_ncols(rd);
			const char **names = malloc((nc + 1) * sizeof *names);
			if (!names)
				cli_fail(&c, SPIF_EX_SOFTWARE, "out of memory");
			for (size_t i = 0; i < nc; i++)
				names[i] = spif_reader_colname(rd, i);
			check_fields(&r, names, nc);
			if (!o.check) {
				w = open_writer(&c, &o, &out_fd, spif_reader_encoding(rd), dialect);
				if (spif_writer_put_header(w, names, nc, &e) < 0) {
					spif_atomic_abort(&out);
					cli_die(&c, &e);
				}
			}
			free(names);
		}
		/* a source that ends without a line break is known only at its end */
		if (w && o.fmt == o.to && o.fmt != SPIF_FMT_NDJSON)
			spif_writer_set_final_eol(w, dialect->final_eol);
		if (w && spif_writer_finish(w, &e) < 0) {
			spif_atomic_abort(&out);
			cli_die(&c, &e);
		}
		if (pf)
			spif_prefetch_end(pf);
		spif_writer_close(w);
		spif_reader_close(rd);
	}
	if (r.report && fclose(r.report) != 0)
		cli_fail(&c, SPIF_EX_IOERR, "%s: %s", o.report, strerror(errno));
	if (o.out && !o.check) {
		char sha[65];
		struct stat st;
		fstat(out.fd, &st);
		if (spif_atomic_commit(&out, &e) < 0)
			cli_die(&c, &e);
		if (spif_sha256_file(o.out, sha, NULL, &e) < 0)
			cli_die(&c, &e);
		register_output(&c, &r, o.out, sha, (long long)st.st_size);
	}
	fprintf(stderr, "spif-redact: %lld %s, %lld number%s %s (%lld high, %lld low confidence)",
	        r.records, o.text ? "windows" : "records", r.high + r.low, r.high + r.low == 1 ? "" : "s",
	        o.check ? "found" : "removed", r.high, r.low);
	if (r.left)
		fprintf(stderr, ", %lld low-confidence left (--min-confidence high)", r.left);
	fputc('\n', stderr);
	redactor_free(&r, &o);
	spif_catalog_close(r.cat);
	if (fd > 0)
		close(fd);
	cli_done(&c);
	return o.check && r.high + r.low > 0 ? SPIF_FOUND : 0;
}
