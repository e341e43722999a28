/* ingest.c - spif ingest: register one specific personal information file
 * in the catalog and emit its records.
 *
 * One pass over the source: decode strictly, check every value in a number
 * field, count distinct persons, hash the bytes, and write the records to an
 * encrypted spool.  Only when the whole source is good does the catalog get
 * the file, its copies and the event (one transaction, lib/ingest.h); only
 * then are the records released to stdout or -o FILE.  A failed run leaves nothing: no
 * row, no event, no output that could pass for complete. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "catalog_query.h"
#include "cli.h"
#include "recopts.h"
#include "digest.h"
#include "ingest.h"
#include "mynumber.h"
#include "personset.h"
#include "progress.h"
#include "record.h"
#include "retention.h"
#include "spool.h"
#include "text.h"
#include "vault.h"
#include "xalloc.h"

static const char usage_text[] = N_(
	"usage: spif ingest --purpose TEXT [--label TEXT] [--source TEXT] [--received YYYY-MM-DD]\n"
	"           [--format csv|tsv|ndjson] [--encoding auto|utf-8|cp932|euc-jp]\n"
	"           [--number-field NAME]... [--on-invalid reject|flag]\n"
	"           [--to ndjson|csv|tsv] [--output-encoding ENC] [-o FILE] [--print-id] [--store]\n"
	"           [--schedule NAME] [--again --reason TEXT | --copy-of ID] [--home DIR] [FILE|-]\n"
	"\n"
	"Register FILE (a specific personal information file) in the catalog and emit\n"
	"its records: NDJSON with @file and @row, or --to csv|tsv in --output-encoding.\n"
	"\n"
	"  --purpose TEXT       the legal purpose (事務) it is held for (required)\n"
	"  --label TEXT         a name for it (default: the file name)\n"
	"  --source TEXT        where it came from (入手元)\n"
	"  --received DATE      date of acquisition (default: today); retention counts from it\n"
	"  --format F           csv, tsv or ndjson (default: from the extension, else csv)\n"
	"  --encoding E         auto (default), utf-8, cp932 or euc-jp\n"
	"  --number-field NAME  a column holding Individual Numbers (repeatable); columns\n"
	"                       named like 個人番号, マイナンバー, my_number are found anyway\n"
	"  --on-invalid MODE    reject (default): stop at a value that is not a valid\n"
	"                       number; flag: register and report how many were invalid\n"
	"  --to F               output format: ndjson (default), csv or tsv\n"
	"  --output-encoding E  for csv/tsv output (default utf-8); the source's encoding\n"
	"                       and layout give the source back byte for byte\n"
	"  -o FILE              write the records to FILE (a new file) and register it\n"
	"                       as a copy; a shell redirection is invisible to the catalog\n"
	"  --print-id           print only the new file id\n"
	"  --store              keep the records in the encrypted vault (a fresh data key\n"
	"                       per file; spif vault cat ID gives them back; spif shred\n"
	"                       destroys them by cryptographic erase)\n"
	"  --schedule NAME      its retention schedule (spif retain schedule ls): the\n"
	"                       disposal date is set now, counted from --received; without\n"
	"                       it, the schedule bound to the purpose (spif retain schedule\n"
	"                       bind), else a warning: the file has no disposal date\n"
	"  --again --reason TEXT  register content the catalog already holds as an active\n"
	"                       file as a new file anyway (refused otherwise), and why\n"
	"  --copy-of ID         the same content as file ID: register FILE (and -o) as\n"
	"                       another copy of it instead of a new file\n"
	"\n"
	"A column whose every value is a valid Individual Number but whose name is not\n"
	"a number field's is named in a warning (with the count, never a value):\n"
	"--number-field NAME makes it one.\n"
	"\n"
	"Exit: 0 ok, 64 usage, 65 bad input, an unknown schedule, or content an active\n"
	"file already has (nothing registered),\n"
	"66 no input,"
	" 73 cannot create, 74 I/O error, 75 catalog busy, 77 permission.\n");

struct opts {
	const char *purpose, *label, *source, *received, *out, *input, *schedule;
	const char *reason, *copy_of; /* --again --reason; --copy-of */
	int again;
	enum spif_format fmt, to;
	enum spif_enc enc, out_enc;
	const char **fields;
	size_t nfields;
	int flag_invalid, print_id, store;
};

/* Everything one run learns about the source. */
struct scan {
	long long records, invalid, persons;
	struct spif_personset people;
	char sha256[65];
	long long bytes;
	enum spif_enc enc;
	char **numfields; /* names of the number fields found */
	size_t nnum;
	long long lossy, lossy_row;
	/* columns that are not number fields but hold only valid numbers:
	 * per column, values seen (non-empty) and whether all were valid */
	long long *col_vals;
	unsigned char *col_bad;
	size_t ncols;
};

static void parse_args(struct cli *c, struct opts *o, int argc, char **argv)
{
	enum { O_PURPOSE = 256, O_LABEL, O_SOURCE, O_RECEIVED, O_FORMAT, O_ENCODING, O_FIELD,
	       O_INVALID, O_TO, O_OUTENC, O_PRINTID, O_HOME, O_STORE, O_SCHEDULE, O_AGAIN, O_REASON,
	       O_COPYOF };
	static const struct option longopts[] = {
		{"purpose", required_argument, NULL, O_PURPOSE},
		{"label", required_argument, NULL, O_LABEL},
		{"source", required_argument, NULL, O_SOURCE},
		{"received", required_argument, NULL, O_RECEIVED},
		{"format", required_argument, NULL, O_FORMAT},
		{"encoding", required_argument, NULL, O_ENCODING},
		{"number-field", required_argument, NULL, O_FIELD},
		{"on-invalid", required_argument, NULL, O_INVALID},
		{"to", required_argument, NULL, O_TO},
		{"output-encoding", required_argument, NULL, O_OUTENC},
		{"output", required_argument, NULL, 'o'},
		{"print-id", no_argument, NULL, O_PRINTID},
		{"store", no_argument, NULL, O_STORE},
		{"schedule", required_argument, NULL, O_SCHEDULE},
		{"again", no_argument, NULL, O_AGAIN},
		{"reason", required_argument, NULL, O_REASON},
		{"copy-of", required_argument, NULL, O_COPYOF},
		{"home", required_argument, NULL, O_HOME},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->to = SPIF_FMT_NDJSON;
	o->out_enc = SPIF_ENC_UTF8;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case O_PURPOSE: o->purpose = optarg; break;
		case O_LABEL: o->label = optarg; break;
		case O_SOURCE: o->source = optarg; break;
		case O_RECEIVED:
			if (cli_parse_date(optarg) < 0)
				cli_usage(c, "--received %s: not a date (YYYY-MM-DD)", optarg);
			o->received = optarg;
			break;
		case O_FORMAT:
			o->fmt = cli_opt_format(c, "--format", optarg);
			break;
		case O_ENCODING:
			o->enc = cli_opt_input_encoding(c, "--encoding", optarg);
			break;
		case O_FIELD: {
			const char **v = xreallocarray(o->fields, o->nfields + 1, sizeof *v);
			o->fields = v;
			o->fields[o->nfields++] = optarg;
			break;
		}
		case O_INVALID:
			if (strcmp(optarg, "flag") == 0)
				o->flag_invalid = 1;
			else if (strcmp(optarg, "reject") != 0)
				cli_usage(c, "--on-invalid %s: unknown (reject, flag)", optarg);
			break;
		case O_TO:
			o->to = cli_opt_format(c, "--to", optarg);
			break;
		case O_OUTENC:
			o->out_enc = cli_opt_output_encoding(c, "--output-encoding", optarg);
			break;
		case 'o': o->out = optarg; break;
		case O_PRINTID: o->print_id = 1; break;
		case O_STORE: o->store = 1; break;
		case O_SCHEDULE:
			if (!spif_schedule_name_valid(optarg))
				cli_usage(c, "--schedule %s: not a schedule name", optarg);
			o->schedule = optarg;
			break;
		case O_AGAIN: o->again = 1; break;
		case O_REASON: o->reason = optarg; break;
		case O_COPYOF:
			if (spif_file_id_parse(optarg) < 0)
				cli_usage(c, "--copy-of %s: not a file id (F000001)", optarg);
			o->copy_of = optarg;
			break;
		case O_HOME: c->home_opt = optarg; break;
		case 'h': cli_help(usage_text); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
	if (optind < argc - 1)
		cli_usage(c, "one input file at a time");
	o->input = optind < argc ? argv[optind] : "-";
	if (!o->purpose || !*o->purpose)
		cli_usage(c, "--purpose is required: the legal purpose (事務) the file is held for");
	if (o->out && o->print_id)
		cli_usage(c, "-o and --print-id do not go together");
	if (o->again && (!o->reason || !*o->reason))
		cli_usage(c, "--again needs --reason: why the same content is registered twice");
	if (o->reason && !o->again)
		cli_usage(c, "--reason goes with --again");
	if (o->copy_of && (o->again || o->store || o->schedule))
		cli_usage(c, "--copy-of registers a copy of a file: not with --again, --store or --schedule");
	if (o->to == SPIF_FMT_NDJSON && o->out_enc != SPIF_ENC_UTF8)
		cli_usage(c, "NDJSON is always UTF-8; --output-encoding goes with --to csv or tsv");
	if (o->received) {
		char today[11];
		spif_today(today);
		if (strcmp(o->received, today) > 0)
			cli_usage(c, "--received %s: in the future", o->received);
	}
	if (!o->fmt)
		o->fmt = spif_format_from_name(o->input, SPIF_FMT_CSV);
}


/* Which fields hold numbers: those named on the command line (each must
 * exist) and those whose names say so.  idx[i] is the column, corp[i] says
 * whether a 法人番号 is acceptable there. */
struct numfields {
	size_t *idx;
	int *corp;
	size_t n;
};

static void find_number_fields(const struct cli *c, const struct opts *o,
                               const struct spif_reader *rd, struct numfields *nf,
                               struct scan *sc)
{
	size_t ncols = spif_reader_ncols(rd);
	nf->idx = xcalloc(ncols + 1, sizeof *nf->idx);
	nf->corp = xcalloc(ncols + 1, sizeof *nf->corp);
	sc->numfields = xcalloc(ncols + 1, sizeof *sc->numfields);
	for (size_t k = 0; k < o->nfields; k++) {
		size_t i;
		for (i = 0; i < ncols; i++)
			if (strcmp(spif_reader_colname(rd, i), o->fields[k]) == 0)
				break;
		if (i == ncols)
			cli_usage(c, "--number-field %s: no such column in %s", o->fields[k],
			          strcmp(o->input, "-") ? o->input : "(stdin)");
	}
	for (size_t i = 0; i < ncols; i++) {
		const char *name = spif_reader_colname(rd, i);
		int named = spif_is_number_field_name(name);
		for (size_t k = 0; k < o->nfields && !named; k++)
			named = strcmp(name, o->fields[k]) == 0;
		if (!named)
			continue;
		nf->idx[nf->n] = i;
		nf->corp[nf->n] = spif_number_field_allows_corporate(name);
		sc->numfields[nf->n] = xstrdup(name);
		nf->n++;
	}
	sc->nnum = nf->n;
}

/* For NDJSON input the fields are found by name in each record. */
static int is_number_key(const struct opts *o, const char *key)
{
	if (spif_is_number_field_name(key))
		return 1;
	for (size_t k = 0; k < o->nfields; k++)
		if (strcmp(key, o->fields[k]) == 0)
			return 1;
	return 0;
}

static void check_value(const struct cli *c, const struct opts *o, struct scan *sc,
                        const char *name, long long row, const struct spif_field *f, int corp)
{
	uint64_t key;
	enum spif_numval v = spif_number_classify(f->val, f->vlen, corp, &key);
	if (v == SPIF_NUM_PERSONAL) {
		if (spif_personset_add(&sc->people, key) < 0)
			cli_fail(c, SPIF_EX_SOFTWARE, "out of memory counting persons");
		return;
	}
	if (v == SPIF_NUM_EMPTY || v == SPIF_NUM_CORPORATE)
		return;
	if (!o->flag_invalid)
		/* the message names the place, never the value */
		cli_fail(c, SPIF_EX_DATAERR, "%s:%lld: field %s: %s", name, row, f->key,
		         spif_numval_reason(v));
	sc->invalid++;
}

/* A column the names do not make a number field, whose values are all
 * valid Individual Numbers, is one nobody told us about (番号, ID): its
 * people are not counted.  Watched until a value fails, so the cost is a
 * check-digit test per value of the few columns that keep passing. */
static void watch_columns(struct scan *sc, const struct spif_record *rec)
{
	for (size_t i = 0; i < rec->n && i < sc->ncols; i++) {
		if (sc->col_bad[i] || !rec->f[i].vlen)
			continue;
		uint64_t key;
		if (spif_number_classify(rec->f[i].val, rec->f[i].vlen, 0, &key) == SPIF_NUM_PERSONAL)
			sc->col_vals[i]++;
		else
			sc->col_bad[i] = 1;
	}
}

/* Drop '@' fields an NDJSON source brought along: they describe another
 * file; ingest gives the records their own. */
static void drop_meta(struct spif_record *rec)
{
	size_t j = 0;
	for (size_t i = 0; i < rec->n; i++)
		if (rec->f[i].key[0] != '@')
			rec->f[j++] = rec->f[i];
	rec->n = j;
}

/* NDJSON has no header: the number fields are named from the first record. */
static void ndjson_number_fields(const struct opts *o, const struct spif_record *rec, struct scan *sc)
{
	sc->numfields = xcalloc(rec->n + 1, sizeof *sc->numfields);
	for (size_t i = 0; i < rec->n; i++)
		if (is_number_key(o, rec->f[i].key))
			sc->numfields[sc->nnum++] = xstrdup(rec->f[i].key);
}

/* Read and check the whole source; records go to the spool when there is
 * one, through a writer opened once the header (and so the source's layout:
 * line ends, quoting) is known, and as NDJSON to the vault's spool when
 * --store needs a second form. */
static struct spif_writer *scan_source(const struct cli *c, const struct opts *o,
                                       struct spif_reader *rd, struct spif_spool *spool,
                                       struct spif_spool *vspool, struct spif_writer **vw,
                                       struct scan *sc)
{
	struct spif_writer *w = NULL;
	*vw = NULL;
	struct spif_err e = {0};
	const char *name = strcmp(o->input, "-") ? o->input : "(stdin)";
	struct spif_record rec;
	struct numfields nf = {0};
	spif_record_init(&rec);
	int r, first = 1;
	/* a long read shows how far it got (stderr a terminal, over 2 s) */
	struct spif_progress prog;
	char pline[160];
	spif_progress_init(&prog, 2, "spif-ingest", 0);
	while ((r = spif_reader_next(rd, &rec, &e)) >= 0) {
		if (first && spool) {
			w = spif_writer_open(spif_spool_write, spool, o->out ? o->out : "(stdout)", o->to,
			                     o->out_enc,
			                     o->fmt == SPIF_FMT_NDJSON ? NULL : spif_reader_dialect(rd), &e);
			if (!w)
				cli_die(c, &e);
			spif_writer_set_rowmeta(w, o->to == SPIF_FMT_NDJSON);
		}
		if (first && vspool) {
			*vw = spif_writer_open(spif_spool_write, vspool, "(vault)", SPIF_FMT_NDJSON, SPIF_ENC_UTF8,
			                       NULL, &e);
			if (!*vw)
				cli_die(c, &e);
			spif_writer_set_rowmeta(*vw, 1);
		}
		if (first && o->fmt != SPIF_FMT_NDJSON) {
			find_number_fields(c, o, rd, &nf, sc);
			sc->ncols = spif_reader_ncols(rd);
			sc->col_vals = xcalloc(sc->ncols + 1, sizeof *sc->col_vals);
			sc->col_bad = xcalloc(sc->ncols + 1, 1);
			for (size_t k = 0; k < nf.n; k++)
				sc->col_bad[nf.idx[k]] = 1; /* a number field already */
			if (w) {
				size_t ncols = spif_reader_ncols(rd);
				const char **names = xcalloc(ncols + 1, sizeof *names);
				for (size_t i = 0; i < ncols; i++)
					names[i] = spif_reader_colname(rd, i);
				if (spif_writer_put_header(w, names, ncols, &e) < 0)
					cli_die(c, &e);
				free(names);
			}
		}
		first = 0;
		if (r == 0)
			break;
		sc->records++;
		if (!(sc->records & 1023) &&
		    spif_progress_update(&prog, sc->records, N_("records"), spif_reader_bytes(rd), pline, sizeof pline))
			cli_progress_line(c, pline);
		if (o->fmt == SPIF_FMT_NDJSON) {
			drop_meta(&rec);
			if (sc->records == 1)
				ndjson_number_fields(o, &rec, sc);
			for (size_t i = 0; i < rec.n; i++)
				if (is_number_key(o, rec.f[i].key))
					check_value(c, o, sc, name, rec.row, &rec.f[i],
					            spif_number_field_allows_corporate(rec.f[i].key));
		} else {
			for (size_t k = 0; k < nf.n; k++)
				check_value(c, o, sc, name, rec.row, &rec.f[nf.idx[k]], nf.corp[k]);
			watch_columns(sc, &rec);
		}
		if (w && spif_writer_put(w, &rec, &e) < 0)
			cli_die(c, &e);
		if (*vw && spif_writer_put(*vw, &rec, &e) < 0)
			cli_die(c, &e);
	}
	if (spif_progress_clear(&prog, pline, sizeof pline))
		cli_progress_line(c, pline);
	if (r < 0)
		cli_die(c, &e);
	sc->persons = (long long)sc->people.count;
	sc->enc = spif_reader_encoding(rd);
	sc->bytes = spif_reader_bytes(rd);
	sc->lossy = spif_reader_lossy(rd, &sc->lossy_row);
	spif_record_free(&rec);
	free(nf.idx);
	free(nf.corp);
	return w;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The columns watch_columns found holding only valid numbers: one line
 * each, with the count, never a value; the name masked like any text. */
static void warn_columns(const struct cli *c, const struct spif_ingest *g, const struct scan *sc,
                         const struct spif_reader *rd)
{
	for (size_t i = 0; i < sc->ncols; i++) {
		if (sc->col_bad[i] || !sc->col_vals[i])
			continue;
		char *name = xstrdup(spif_reader_colname(rd, i));
		spif_mask_numbers(name);
		cli_note(c, "%s: column %s: all %lld values are valid Individual Numbers, but it is not a number "
		         "field: its persons are not counted (--number-field %s makes it one)", g->name, name,
		         sc->col_vals[i], name);
		free(name);
	}
}

static void free_scan(struct scan *sc)
{
	spif_personset_free(&sc->people);
	for (size_t i = 0; i < sc->nnum; i++)
		free(sc->numfields[i]);
	free(sc->numfields);
	free(sc->col_vals);
	free(sc->col_bad);
}

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	struct spif_err e = {0};
	cli_init(&c, "spif-ingest", argc, argv);
	parse_args(&c, &o, argc, argv);

	/* paths are stored in the catalog, which never holds a number */
	if (spif_text_has_number(o.input) || (o.out && spif_text_has_number(o.out)))
		cli_fail(&c, SPIF_EX_DATAERR, "%s: the file name holds what may be an Individual Number; "
		         "the catalog never records one: rename the file first",
		         spif_text_has_number(o.input) ? "input" : "-o");
	int summary_only = !o.out && !o.print_id && isatty(1);
	int emit = !summary_only && !o.print_id;
	struct spif_ingest g = {.name = strcmp(o.input, "-") ? o.input : "(stdin)", .input = o.input, .out = o.out,
	                        .received = o.received, .fmt = o.fmt, .to = o.to};
	struct spif_catalog *early = NULL; /* records -o's hidden temporary from the start */
	int fd = cli_open_input(&c, o.input);

	/* Check the home before reading a byte (a catalog others can write is
	 * refused whatever the input), but create nothing until the source has
	 * proved good: a refused file leaves no trace, not even a new catalog. */
	cli_check_home(&c);
	cli_permit(&c, (struct spif_request){.act = SPIF_ACT_INGEST, .purpose = o.purpose});
	/* an unknown schedule is refused before a byte is read */
	if (o.schedule) {
		struct spif_catalog *cat = cli_catalog_if_exists(&c);
		struct spif_schedule s;
		int known = spif_schedule_lookup(cat, o.schedule, &s);
		spif_catalog_close(cat);
		if (!known)
			cli_fail(&c, SPIF_EX_DATAERR, "no schedule %s (see spif retain schedule ls)", o.schedule);
	}
	/* -o must be a new file: find out now, not after reading a gigabyte */
	struct spif_atomic out = {.fd = -1};
	if (o.out) {
		/* a first run has no catalog to record a fallback in yet: it is
		 * recorded below, while still empty, once there is one */
		early = cli_catalog_if_exists(&c);
		if (spif_atomic_open_rec(&out, early, "ingest", o.out, spif_file_mode(&c.conf), &e) < 0)
			cli_die(&c, &e);
		g.out_file = &out;
	}

	struct spif_reader *rd = spif_reader_open(fd, g.name, o.fmt, o.enc, &e);
	struct scan sc;
	memset(&sc, 0, sizeof sc);
	spif_personset_init(&sc.people);
	struct spif_sha256 *h = spif_sha256_new();
	struct spif_writer *w = NULL, *vw = NULL;
	g.conf = &c.conf;
	if (rd && !h)
		spif_err_set(&e, SPIF_EX_SOFTWARE, "out of memory");
	if (!rd || !h || (emit && spif_spool_open(NULL, &g.spool, &e) < 0))
		goto fail;
	/* the vault takes NDJSON: the same spool when that is what goes out */
	int own_vspool = o.store && !(emit && o.to == SPIF_FMT_NDJSON);
	if (own_vspool && spif_spool_open(NULL, &g.vspool, &e) < 0)
		goto fail;
	if (o.store && !own_vspool)
		g.vspool = g.spool;
	spif_reader_set_tap(rd, spif_sha256_tap, h);
	w = scan_source(&c, &o, rd, g.spool, own_vspool ? g.vspool : NULL, &vw, &sc);
	/* a source that ends without a line break is known only at its end */
	if (w && o.fmt != SPIF_FMT_NDJSON && o.to != SPIF_FMT_NDJSON)
		spif_writer_set_final_eol(w, spif_reader_dialect(rd)->final_eol);
	if ((w && spif_writer_finish(w, &e) < 0) || (vw && spif_writer_finish(vw, &e) < 0))
		goto fail;
	spif_sha256_hex(h, sc.sha256);
	if (sc.enc != SPIF_ENC_UTF8 && o.enc == SPIF_ENC_AUTO)
		cli_note(&c, "%s: encoding %s (detected)", g.name, spif_enc_name(sc.enc));
	if (sc.lossy)
		cli_note(&c, "%s:%lld: %lld characters use NEC-selected codes that CP932 writers "
		         "encode differently; writing back will not be byte-identical",
		         g.name, sc.lossy_row, sc.lossy);
	if (sc.records == 0) {
		spif_err_set(&e, SPIF_EX_DATAERR, "%s:1: no records (only a header): nothing to register", g.name);
		goto fail;
	}

	/* the catalog holds no number, not even in a name someone typed */
	g.label = xstrdup(o.label ? o.label : base_name(g.name));
	g.purpose = xstrdup(o.purpose);
	g.source = o.source ? xstrdup(o.source) : NULL;
	spif_mask_numbers(g.label);
	spif_mask_numbers(g.purpose);
	if (g.source)
		spif_mask_numbers(g.source);
	/* the same content twice: a second file only when asked, with a
	 * reason; or another copy of the first (nothing is created to refuse) */
	struct spif_catalog *cat = cli_catalog_if_exists(&c);
	char bound[65] = "";
	if (o.copy_of) {
		if (!cat)
			cli_fail(&c, SPIF_EX_DATAERR, "no file %s in the catalog (there is no catalog yet)", o.copy_of);
		g.copy_of = spif_file_id_parse(o.copy_of);
	} else if (cat) {
		long long same;
		char *slabel;
		int r = spif_catalog_file_with_content(cat, sc.sha256, &same, &slabel, &e);
		if (r < 0)
			cli_die(&c, &e);
		if (r > 0) {
			spif_file_id_format(same, g.same_as);
			if (!o.again) {
				char *shown = spif_text_escaped(slabel ? slabel : "");
				spif_err_set(&e, SPIF_EX_DATAERR, "%s: same content as %s (%s); use --again --reason or "
				             "--copy-of %s", g.name, g.same_as, shown ? shown : "?", g.same_as);
				free(shown);
				free(slabel);
				spif_catalog_close(cat);
				goto fail;
			}
			g.reason = xstrdup(o.reason);
			spif_mask_numbers(g.reason);
		}
		free(slabel);
		/* retention by default: the schedule bound to the purpose */
		if (!o.schedule && spif_schedule_bound(cat, g.purpose, bound, &e) < 0)
			cli_die(&c, &e);
		if (bound[0])
			o.schedule = bound;
	}
	if (!cat)
		cat = cli_catalog(&c, SPIF_CAT_CREATE);
	if (g.out_file && spif_atomic_record(g.out_file, cat, "ingest", &e) < 0) {
		spif_catalog_close(cat);
		goto fail;
	}
	g.schedule = o.schedule;
	g.numfields = sc.numfields;
	g.nnum = sc.nnum;
	g.records = sc.records;
	g.persons = sc.persons;
	g.invalid = sc.invalid;
	g.bytes = sc.bytes;
	g.enc = sc.enc;
	g.sha256 = sc.sha256;
	int rc = spif_ingest_register(cat, &g, &e);
	spif_catalog_close(cat);
	if (rc < 0)
		goto fail;

	/* Only now, with the file registered, do the records go out. */
	if (emit && !o.out && spif_ingest_emit(&g, 1, "(stdout)", &e) < 0)
		goto fail;
	if (o.print_id)
		printf("%s\n", g.fid);
	if (summary_only) {
		/* label and purpose came from outside: escaped (text.h) */
		printf("%s  ", g.fid);
		spif_text_put(stdout, g.label);
		printf("\n  purpose:  ");
		spif_text_put(stdout, g.purpose);
		printf("\n  records:  %lld\n  persons:  %lld\n  encoding: %s\n  sha256:   %s\n  number fields:",
		       sc.records, sc.persons, spif_enc_name(sc.enc), sc.sha256);
		for (size_t i = 0; i < sc.nnum; i++) {
			putchar(' ');
			spif_text_put(stdout, sc.numfields[i]);
		}
		printf("%s\n", sc.nnum ? "" : " (none)");
	}
	if (fflush(stdout) != 0) {
		spif_err_sys(&e, SPIF_EX_IOERR, errno, "(stdout)");
		goto fail;
	}
	/* the label as it came from outside: escaped (text.h), never raw */
	char *shown = spif_text_escaped(g.label);
	cli_note_begin(&c, "%s (%s): %lld records, %lld persons, %zu number field%s", g.fid,
	               shown ? shown : "?", sc.records, sc.persons, sc.nnum, sc.nnum == 1 ? "" : "s");
	free(shown);
	if (sc.invalid)
		cli_note_more(&c, ", %lld invalid values flagged", sc.invalid);
	cli_note_end(&c);
	warn_columns(&c, &g, &sc, rd);
	if (!o.schedule && !g.copy_of)
		cli_note(&c, "%s has no retention schedule: nothing will ever dispose of it (spif retain assign %s "
		         "--schedule NAME; spif retain schedule bind NAME --purpose TEXT gives a purpose's files one)",
		         g.fid, g.fid);
	e.code = 0;
fail:
	if (e.code && g.out_file)
		spif_atomic_abort(g.out_file);
	spif_catalog_close(early);
	spif_writer_close(w);
	spif_writer_close(vw);
	if (g.vspool != g.spool)
		spif_spool_close(g.vspool);
	spif_spool_close(g.spool);
	spif_reader_close(rd);
	spif_sha256_free(h);
	free_scan(&sc);
	free(g.label);
	free(g.purpose);
	free(g.source);
	free(g.reason);
	free(o.fields);
	if (fd > 0)
		close(fd);
	if (e.code)
		cli_die(&c, &e);
	cli_done(&c);
	return 0;
}
