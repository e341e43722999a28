/* redact.c - see redact.h
 *
 * Records in, records out: a field's value is rebuilt in r->buf only when
 * it holds something to remove, and put back with spif_record_set; every
 * other byte of the record is left as it came, so a CSV goes back out with
 * the same bytes except the removed digits.  What each field gets (number
 * field or not, its operator, dropped or not) is planned once per column
 * and kept while the keys stay: the plans are the per-record cost that is
 * not scanning. */
#include "i18n.h"
#include "numview.h"
#include "redact.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit.h"
#include "detect.h"
#include "mynumber.h"
#include "textscan.h"

static const char *const op_names[] = {"mask", "empty", "drop", "pseudonym"};

int spif_redact_op_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, op_names[i]) == 0)
			return i;
	return -1;
}

const char *spif_redact_op_name(enum spif_redact_op op)
{
	return (unsigned)op < 4 ? op_names[op] : "?";
}

int spif_redact_uses_psn(enum spif_redact_op op, const struct spif_redact_field *fields, size_t n)
{
	int uses = op == SPIF_OP_PSEUDONYM;
	for (size_t i = 0; i < n; i++)
		uses |= fields[i].has_op && fields[i].op == SPIF_OP_PSEUDONYM;
	return uses;
}

int spif_redact_guess_format(const char *input, enum spif_format *fmt)
{
	const char *dot = strrchr(input, '.');
	if (dot && (!strcasecmp(dot, ".txt") || !strcasecmp(dot, ".log") || !strcasecmp(dot, ".eml")))
		return 1;
	/* in a pipe, the records of another spif command */
	*fmt = spif_format_from_name(input, strcmp(input, "-") == 0 ? SPIF_FMT_NDJSON : SPIF_FMT_CSV);
	return 0;
}

struct plan {           /* what to do with one field */
	char *key;            /* the field name the plan was made for (owned: the record's
	                         arena moves as it grows) */
	char *name;           /* the name written out and reported: the key with every number
	                         in it masked; NULL when it holds none (owned) */
	int number_field, drop;
	enum spif_redact_op op;
};

static void plan_free(struct plan *p)
{
	free(p->key);
	free(p->name);
}

struct spif_redactor {
	struct spif_redact_opts o;
	struct spif_redact_counts n;
	struct spif_err *err;   /* the error of the call under way, for the detector's callback */
	int failed;
	long long row;          /* for the report: @row when the record has it */
	long long char_base;    /* text mode: characters before this window */
	const char *field;      /* for the report: the field's name as written out */
	enum spif_redact_op cur_op;
	int cur_drop;           /* the field is dropped: its findings go with it */
	int in_name;            /* the findings are in the field's name */
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
	struct spif_catalog *cat;
	int cat_tried, own_cat;
	size_t row_hint, file_hint;
};

int spif_redactor_new(const struct spif_redact_opts *o, struct spif_redactor **out, struct spif_err *err)
{
	*out = NULL;
	/* no key, no output: a pseudonym is never replaced by anything weaker */
	if (!o->psn && spif_redact_uses_psn(o->op, o->fields, o->nfields))
		return spif_err_set(err, SPIF_EX_USAGE, "pseudonym needs a key");
	struct spif_redactor *r = calloc(1, sizeof *r);
	*out = r;
	if (!r)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	r->o = *o;
	r->cat = o->catalog;
	r->cat_tried = o->catalog != NULL || !o->home;
	return 0;
}

void spif_redactor_free(struct spif_redactor *r)
{
	if (!r)
		return;
	free(r->buf);
	for (size_t i = 0; i < r->nplans; i++)
		plan_free(&r->plans[i]);
	free(r->plans);
	for (size_t i = 0; i < r->ncatalog_fields; i++)
		free(r->catalog_fields[i]);
	free(r->catalog_fields);
	if (r->own_cat)
		spif_catalog_close(r->cat);
	free(r);
}

const struct spif_redact_counts *spif_redactor_counts(const struct spif_redactor *r)
{
	return &r->n;
}

const char *spif_redact_summary(const struct spif_redactor *r, int text, char *buf, size_t n)
{
	const struct spif_redact_counts *c = &r->n;
	/* a person reads it: the words are looked up, the format too */
	long long all = c->high + c->low;
	const char *what = r->o.check ? (all == 1 ? _("number found") : _("numbers found"))
	                              : (all == 1 ? _("number removed") : _("numbers removed"));
	int k = snprintf(buf, n, _("%lld %s, %lld %s (%lld high, %lld low confidence)"), c->records,
	                 text ? _("windows") : _("records"), all, what, c->high, c->low);
	if (c->left && k >= 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, _(", %lld low-confidence left (--min-confidence high)"), c->left);
	return buf;
}

static int oom(struct spif_redactor *r)
{
	r->failed = 1;
	return spif_err_set(r->err, SPIF_EX_SOFTWARE, "out of memory");
}

static int put(struct spif_redactor *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *b = realloc(r->buf, cap);
		if (!b)
			return oom(r);
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return 0;
}

static void report(struct spif_redactor *r, size_t offset, const char *form, int high, const char *kw,
                   const char *op)
{
	if (!r->o.report)
		return;
	json_t *j = json_pack("{s:I,s:s,s:I,s:s,s:s,s:o,s:s}", "row", (json_int_t)r->row, "field",
	                      r->field, "offset", (json_int_t)(r->char_base + (long long)offset), "form", form, "confidence",
	                      high ? "high" : "low", "keyword", kw ? json_string(kw) : json_null(), "op", op);
	if (r->in_name)
		json_object_set_new(j, "in", json_string("name"));
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fprintf(r->o.report, "%s\n", s);
	free(s);
	json_decref(j);
}

/* The digits of a number as written, whatever its separators: the input
 * of its pseudonym, so every form of one number gives the same token. */
static void span_digits(const char *s, size_t start, size_t end, char out[14])
{
	int n = 0;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = start; i < end && n < 13;) {
		int d;
		size_t len = spif_nv_digit(u, end, i, &d);
		if (len)
			out[n++] = (char)('0' + d);
		i += len ? len : 1;
	}
	out[n] = '\0';
}

/* One finding in a free-text field.  Non-zero stops the detector (an
 * error, in r->err). */
static int on_finding(void *ctx, const struct spif_finding *f)
{
	struct spif_redactor *r = ctx;
	int high = f->confidence == SPIF_CONF_HIGH;
	if (!high && r->o.high_only) {
		r->n.left++;
		report(r, f->char_offset, spif_form_name(f->form), 0, NULL, "none (below --min-confidence)");
		return 0;
	}
	high ? r->n.high++ : r->n.low++;
	r->n.elsewhere++;
	/* --op drop drops number fields only: elsewhere its findings are
	 * masked; a field named with =drop goes, findings and all */
	enum spif_redact_op op = r->cur_op == SPIF_OP_DROP ? SPIF_OP_MASK : r->cur_op;
	report(r, f->char_offset, spif_form_name(f->form), high, f->keyword,
	       r->cur_drop ? op_names[SPIF_OP_DROP] : op_names[op]);
	if (r->o.check)
		return 0;
	r->changed = 1;
	/* copy what lies before the number, then the number's replacement */
	if (put(r, r->src + r->copied, f->start - r->copied) < 0)
		return 1;
	if (op == SPIF_OP_EMPTY)
		r->emptied = 1;
	if (op == SPIF_OP_PSEUDONYM) {
		char d[14], token[32];
		span_digits(r->src, f->start, f->end, d);
		spif_psn_token(r->o.psn, d, token);
		if (put(r, token, strlen(token)) < 0)
			return 1;
	} else {
		size_t at = r->len;
		if (put(r, r->src + f->start, f->end - f->start) < 0)
			return 1;
		spif_mask_span(r->buf, at, r->len);
	}
	r->copied = f->end;
	return 0;
}

/* The form of a whole number-field value, for the report. */
static const char *value_form(const char *s, size_t n)
{
	int ascii = 0, wide = 0, sep = 0;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		int d;
		size_t len = spif_nv_digit(u, n, i, &d);
		if (len == 1)
			ascii = 1;
		else if (len == 3)
			wide = 1;
		else
			sep = 1;
		i += len ? len : 1;
	}
	return wide ? (ascii || sep ? "mixed" : "fullwidth") : sep ? "grouped" : "plain";
}

static void value_start(struct spif_redactor *r, const char *v, enum spif_redact_op op, int drop)
{
	r->len = 0;
	r->copied = 0;
	r->emptied = 0;
	r->changed = 0;
	r->src = v;
	r->cur_op = op;
	r->cur_drop = drop;
}

/* Redact one value.  Returns 1 when it changed (the new value is r->buf,
 * r->len), 0 when it stays as it is, -1 on an error. */
static int redact_value(struct spif_redactor *r, const struct plan *p, const char *v, size_t n)
{
	/* outside number fields a number needs at least 12 bytes (12 ASCII
	 * digits): most fields of a tax file are shorter and need no look */
	if ((!p->number_field && n < 12) || !spif_has_digit(v, n))
		return 0;
	value_start(r, v, p->op, p->drop);
	if (p->number_field) {
		/* a mistyped number is still someone's number: every digit goes */
		r->n.high++;
		r->n.in_fields++;
		enum spif_redact_op op = p->op == SPIF_OP_DROP ? SPIF_OP_EMPTY : p->op;
		char d[14];
		int valid = spif_number_classify(v, n, r->o.corporate, NULL) == SPIF_NUM_PERSONAL;
		if (op == SPIF_OP_PSEUDONYM && !valid)
			op = SPIF_OP_MASK; /* only a real number has a stable pseudonym */
		report(r, 0, value_form(v, n), 1, NULL, p->drop ? op_names[SPIF_OP_DROP] : op_names[op]);
		if (r->o.check)
			return 0;
		if (op == SPIF_OP_EMPTY)
			return r->len = 0, 1;
		if (op == SPIF_OP_PSEUDONYM) {
			char token[32];
			span_digits(v, 0, n, d);
			spif_psn_token(r->o.psn, d, token);
			return put(r, token, strlen(token)) < 0 ? -1 : 1;
		}
		if (put(r, v, n) < 0)
			return -1;
		spif_mask_span(r->buf, 0, n);
		return 1;
	}
	/* a keyword in the field's name (マイナンバーカード番号) is context too */
	struct spif_detect_opts d = {.corporate = r->o.corporate, .field_name = p->key};
	spif_detect(v, n, &d, on_finding, r);
	if (r->failed)
		return -1;
	if (!r->changed)
		return 0;
	if (r->emptied) {
		r->len = 0;
		if (r->buf)
			r->buf[0] = '\0';
		return 1;
	}
	return put(r, v + r->copied, n - r->copied) < 0 ? -1 : 1;
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
 * catalog (and the file) exist even on a first ingest.  0 (*cat NULL when
 * there is none), or -1 when it is there but cannot be opened. */
static int catalog(struct spif_redactor *r, struct spif_catalog **cat)
{
	if (!r->cat && !r->cat_tried) {
		r->cat_tried = 1;
		char p[PATH_MAX + 16];
		snprintf(p, sizeof p, "%s/catalog.db", r->o.home);
		if (faccessat(AT_FDCWD, p, F_OK, AT_EACCESS) == 0) { /* setgid: home.h */
			if (spif_catalog_open(r->o.home, r->o.conf, 0, r->o.actor, &r->cat, r->err) < 0) {
				r->cat = NULL;
				return -1;
			}
			r->own_cat = 1;
		}
	}
	*cat = r->cat;
	return 0;
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

/* The number fields the catalog knows for the records' @file, read again
 * when @file changes (and the plans with them). */
static int catalog_fields(struct spif_redactor *r, const struct spif_record *rec)
{
	struct spif_catalog *cat;
	const struct spif_field *f = meta(rec, "@file", &r->file_hint);
	if (!f || !own_meta(f) || strcmp(f->val, r->cur_file) == 0)
		return 0;
	if (catalog(r, &cat) < 0)
		return -1;
	if (!cat)
		return 0;
	snprintf(r->cur_file, sizeof r->cur_file, "%s", f->val);
	for (size_t i = 0; i < r->ncatalog_fields; i++)
		free(r->catalog_fields[i]);
	free(r->catalog_fields);
	r->catalog_fields = NULL;
	r->ncatalog_fields = 0;
	for (size_t i = 0; i < r->nplans; i++) /* plans depend on them */
		plan_free(&r->plans[i]);
	r->nplans = 0;
	long long id = spif_file_id_parse(f->val);
	struct spif_file file;
	struct spif_err e = {0};
	if (id < 0 || spif_catalog_get_file(cat, id, &file, &e) < 0)
		return 0; /* a file this catalog does not know: names decide */
	json_t *a = json_loads(file.number_fields, 0, NULL);
	size_t i;
	json_t *v;
	r->catalog_fields = calloc(json_array_size(a) + 1, sizeof *r->catalog_fields);
	if (!r->catalog_fields) {
		json_decref(a);
		spif_file_free(&file);
		return oom(r);
	}
	int nomem = 0;
	json_array_foreach(a, i, v) {
		char *s = strdup(json_string_value(v) ? json_string_value(v) : "");
		if (!s)
			nomem = 1;
		else
			r->catalog_fields[r->ncatalog_fields++] = s;
	}
	json_decref(a);
	spif_file_free(&file);
	return nomem ? oom(r) : 0;
}

/* A name with its numbers masked, as the detector finds them. */
struct masked {
	char *s;
	int found;
};

static int mask_finding(void *ctx, const struct spif_finding *f)
{
	struct masked *m = ctx;
	spif_mask_span(m->s, f->start, f->end);
	m->found = 1;
	return 0;
}

/* Fail closed: a number in a field's name is counted and removed whatever
 * --min-confidence says (a name is not data the caller keeps, and must
 * never be a way past the gate), and reported under the masked name. */
static int on_name_finding(void *ctx, const struct spif_finding *f)
{
	struct spif_redactor *r = ctx;
	int high = f->confidence == SPIF_CONF_HIGH;
	high ? r->n.high++ : r->n.low++;
	r->n.elsewhere++;
	report(r, f->char_offset, spif_form_name(f->form), high, f->keyword,
	       r->cur_drop ? op_names[SPIF_OP_DROP] : op_names[SPIF_OP_MASK]);
	return 0;
}

/* The numbers in a plan's name, counted and reported at row. */
static void count_name(struct spif_redactor *r, const struct plan *p, long long row)
{
	long long was = r->row;
	struct spif_detect_opts d = {.corporate = r->o.corporate};
	r->row = row;
	r->field = p->name;
	r->cur_drop = p->drop;
	r->in_name = 1;
	spif_detect(p->key, strlen(p->key), &d, on_name_finding, r);
	r->in_name = 0;
	r->row = was;
}

static int make_plan(struct spif_redactor *r, const char *key, struct plan *out)
{
	const struct spif_redact_opts *o = &r->o;
	struct plan p = {.key = strdup(key), .op = o->op};
	if (!p.key)
		return oom(r);
	if (spif_has_digit(key, strlen(key))) { /* a number in the name: masked, whatever the op */
		struct masked m = {.s = p.name = strdup(key)};
		struct spif_detect_opts d = {.corporate = o->corporate};
		if (!p.name) {
			free(p.key);
			return oom(r);
		}
		spif_detect(key, strlen(key), &d, mask_finding, &m);
		if (!m.found) {
			free(p.name);
			p.name = NULL;
		}
	}
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
		if (strcmp(key, o->fields[i].name) == 0 && o->fields[i].has_op && o->fields[i].op == SPIF_OP_DROP)
			named_drop = 1;
	p.drop = named_drop || (p.number_field && p.op == SPIF_OP_DROP);
	*out = p;
	return 0;
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
static int check_fields(struct spif_redactor *r, const char *const *names, size_t n, struct spif_err *err)
{
	const char *in = r->o.input ? r->o.input : "the input";
	for (size_t i = 0; i < r->o.nfields; i++)
		if (!has_name(names, n, r->o.fields[i].name))
			return spif_err_set(err, SPIF_EX_USAGE, "--field %s: no such field in %s", r->o.fields[i].name, in);
	for (size_t i = 0; i < r->o.nnumfields; i++)
		if (!has_name(names, n, r->o.numfields[i]))
			return spif_err_set(err, SPIF_EX_USAGE, "--number-field %s: no such field in %s",
			                    r->o.numfields[i], in);
	return 0;
}

static int check_record_fields(struct spif_redactor *r, const struct spif_record *rec, struct spif_err *err)
{
	if (!r->o.nfields && !r->o.nnumfields)
		return 0;
	const char **names = malloc((rec->n + 1) * sizeof *names);
	if (!names)
		return oom(r);
	for (size_t i = 0; i < rec->n; i++)
		names[i] = rec->f[i].key;
	int rc = check_fields(r, names, rec->n, err);
	free(names);
	return rc;
}

const char **spif_redact_header(struct spif_redactor *r, const struct spif_reader *rd, size_t *n,
                                struct spif_err *err)
{
	r->err = err;
	size_t nc = *n = spif_reader_ncols(rd);
	const char **names = malloc((nc + 1) * sizeof *names);
	if (!names) {
		oom(r);
		return NULL;
	}
	for (size_t i = 0; i < nc; i++)
		names[i] = spif_reader_colname(rd, i);
	if (check_fields(r, names, nc, err) < 0)
		goto fail;
	/* the plans hold the names to write back */
	for (size_t i = 0; i < r->nplans; i++)
		plan_free(&r->plans[i]);
	r->nplans = 0;
	struct plan *p = realloc(r->plans, (nc + 1) * sizeof *p);
	if (!p) {
		oom(r);
		goto fail;
	}
	r->plans = p;
	for (; r->nplans < nc; r->nplans++) {
		size_t i = r->nplans;
		if (make_plan(r, names[i], &p[i]) < 0)
			goto fail;
		if (p[i].name) {
			count_name(r, &p[i], 1);
			if (!r->o.check)
				names[i] = p[i].name;
		}
	}
	return names;
fail:
	free(names);
	return NULL;
}

int spif_redact_record(struct spif_redactor *r, struct spif_record *rec, struct spif_err *err)
{
	r->err = err;
	r->failed = 0;
	if (++r->n.records == 1 && check_record_fields(r, rec, err) < 0)
		return -1;
	const struct spif_field *rowf = NULL;
	if (r->o.fmt == SPIF_FMT_NDJSON) { /* CSV and TSV carry no metadata */
		if (catalog_fields(r, rec) < 0)
			return -1;
		rowf = meta(rec, "@row", &r->row_hint);
	}
	r->row = rowf && own_meta(rowf) ? atoll(rowf->val) : rec->row;
	if (r->nplans < rec->n) {
		struct plan *p = realloc(r->plans, rec->n * sizeof *p);
		if (!p)
			return oom(r);
		r->plans = p;
	}
	size_t keep = 0;
	for (size_t i = 0; i < rec->n; i++) {
		const char *key = rec->f[i].key;
		/* plans are made once per column and reused while the keys stay
		 * (CSV and TSV: the header fixes them, no need to look) */
		if (i >= r->nplans || (r->o.fmt == SPIF_FMT_NDJSON && strcmp(r->plans[i].key, key) != 0)) {
			struct plan np;
			if (make_plan(r, key, &np) < 0)
				return -1;
			if (i < r->nplans)
				plan_free(&r->plans[i]);
			r->plans[i] = np;
			if (i >= r->nplans)
				r->nplans = i + 1;
		}
		const struct plan *p = &r->plans[i];
		if (p->name) {
			/* the header is one place in CSV and TSV (its row 1); in NDJSON
			 * every record repeats its keys */
			if (r->o.fmt == SPIF_FMT_NDJSON || r->n.records == 1)
				count_name(r, p, r->o.fmt == SPIF_FMT_NDJSON ? r->row : 1);
			if (!r->o.check) {
				rec->f[i].key = p->name;
				rec->f[i].klen = strlen(p->name);
			}
		}
		int meta_field = key[0] == '@' && own_meta(&rec->f[i]);
		int keep_it = meta_field || !p->drop || r->o.check;
		if (!meta_field) {
			r->field = p->name ? p->name : key;
			int ch = redact_value(r, p, rec->f[i].val, rec->f[i].vlen);
			if (ch < 0)
				return -1;
			if (ch && spif_record_set(rec, i, r->buf ? r->buf : "", r->len) < 0)
				return oom(r);
		}
		/* compact only once a field has been dropped */
		if (keep_it && keep != i)
			rec->f[keep] = rec->f[i];
		keep += (size_t)keep_it;
	}
	rec->n = keep;
	return 0;
}

/* ---- free text ---------------------------------------------------------- */

struct textout {
	spif_sink_fn fn;
	void *ctx;
	iconv_t cd; /* UTF-8 -> output encoding, or (iconv_t)-1 */
};

static int text_emit(struct textout *t, const char *s, size_t n, struct spif_err *err)
{
	if (t->cd == (iconv_t)-1) {
		if (t->fn(t->ctx, s, n) < 0)
			return spif_err_set(err, SPIF_EX_IOERR, "writing: %s", strerror(errno));
		return 0;
	}
	char out[16384];
	char *in = (char *)s;
	size_t left = n;
	while (left) {
		char *o = out;
		size_t room = sizeof out;
		size_t rc = iconv(t->cd, &in, &left, &o, &room);
		if (t->fn(t->ctx, out, (size_t)(o - out)) < 0)
			return spif_err_set(err, SPIF_EX_IOERR, "writing: %s", strerror(errno));
		if (rc == (size_t)-1 && errno != E2BIG)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "re-encoding the text failed");
	}
	return 0;
}

int spif_redact_text(struct spif_redactor *r, int fd, const char *name, enum spif_enc in_enc,
                     enum spif_enc out_enc, spif_sink_fn fn, void *ctx, struct spif_err *err)
{
	struct textout out = {.fn = fn, .ctx = ctx, .cd = (iconv_t)-1};
	struct spif_textscan *ts;
	struct spif_textwin w;
	int rc;
	r->err = err;
	r->failed = 0;
	if (spif_textscan_open(fd, name, in_enc, &ts, err) < 0)
		return -1;
	if (!r->o.check && (out_enc == SPIF_ENC_CP932 || out_enc == SPIF_ENC_EUCJP))
		out.cd = iconv_open(out_enc == SPIF_ENC_CP932 ? "CP932" : "EUC-JP", "UTF-8");
	r->field = "text";
	r->row = 1;
	enum spif_redact_op op = r->o.op == SPIF_OP_DROP ? SPIF_OP_MASK : r->o.op;
	struct spif_detect_opts d = {.corporate = r->o.corporate};
	while ((rc = spif_textscan_next(ts, &w, err)) > 0) {
		value_start(r, w.text, op, 0);
		r->char_base = w.char_base;
		spif_detect_ctx(w.pre, w.npre, w.text, w.n, w.post, w.npost, &d, on_finding, r);
		if (r->failed) {
			rc = -1;
			break;
		}
		r->n.records++; /* windows, for the summary */
		if (r->o.check)
			continue;
		if (r->changed)
			rc = put(r, w.text + r->copied, w.n - r->copied) < 0 ? -1 : text_emit(&out, r->buf, r->len, err);
		else
			rc = text_emit(&out, w.text, w.n, err);
		if (rc < 0)
			break;
	}
	r->char_base = 0;
	if (out.cd != (iconv_t)-1)
		iconv_close(out.cd);
	spif_textscan_close(ts);
	return rc < 0 ? -1 : 0;
}

/* ---- -o: the redacted copy ---------------------------------------------- */

int spif_redact_register_output(struct spif_redactor *r, const char *path, const char *sha256, long long size,
                                const char **unknown, struct spif_err *err)
{
	*unknown = NULL;
	long long id = spif_file_id_parse(r->cur_file);
	if (id < 0 || !r->cat)
		return 0;
	char now[32], *real = realpath(path, NULL);
	spif_now_utc(now);
	json_t *det = json_pack("{s:b,s:s,s:s}", "redacted", 1, "min_confidence",
	                        r->o.high_only ? "high" : "low", "op", op_names[r->o.op]);
	char *ds = json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS);
	struct spif_copy cp = {.file_id = id, .kind = "output", .path = real ? real : (char *)path,
	                       .sha256 = (char *)sha256, .size = size, .created = now, .details = ds};
	json_t *d = json_pack("{s:s,s:I,s:I,s:I}", "output_copy", cp.path, "removed_high",
	                      (json_int_t)r->n.high, "removed_low", (json_int_t)r->n.low, "left_low",
	                      (json_int_t)r->n.left);
	struct spif_file f = {0};
	struct spif_err e = {0};
	int known = spif_catalog_get_file(r->cat, id, &f, &e) == 0, rc = 0;
	spif_file_free(&f);
	if (!known) /* records of a file this catalog does not hold */
		*unknown = r->cur_file;
	else if (spif_catalog_begin(r->cat, err) < 0 || spif_catalog_add_copy(r->cat, &cp, err) < 0 ||
	         spif_audit_append(r->cat, "redact", r->cur_file, d, NULL, err) < 0 ||
	         spif_catalog_commit(r->cat, err) < 0) {
		spif_catalog_rollback(r->cat);
		rc = -1;
	}
	json_decref(d);
	json_decref(det);
	free(ds);
	free(real);
	return rc;
}
