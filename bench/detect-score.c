/* detect-score.c - score a number-detection report against the labels of
 * a generated corpus (spif-gen --corpus --labels LABELS).
 *
 *   detect-score LABELS REPORT.ndjson [HIGH-REPORT.ndjson]
 *
 * LABELS: one planted item a line, tab-separated
 *   ROW FIELD CHAR_OFFSET KIND FORM [CONTEXT]
 * KIND number (a planted Individual Number), decoy (never a finding: a
 * wrong check digit, a phone number, a card number ...) or decoy-valid (a
 * checksum-valid order number or date with no keyword near: found, with
 * low confidence, by design); CONTEXT keyword (a keyword within 300
 * characters), none, or field (the value of a number field).  Lines
 * starting with '#' are comments.
 *
 * REPORT: what `spif redact --report` writes, one JSON object a line with
 * at least "row" (number), "field" (string), "offset" (characters, number)
 * and "confidence" ("high" or "low").  A finding matches a label with the
 * same row, field and offset.  HIGH-REPORT: the report of a separate run
 * with --min-confidence high on the same corpus; a finding counts there as
 * removed unless its "op" says "none" (left below --min-confidence).
 *
 * Two lines are scored:
 *   default (low+high)    every finding counts.  Recall is over all
 *                         planted numbers.  decoy-valid findings are
 *                         counted apart (removed by default, by design);
 *                         decoy and unlabelled findings are false positives.
 *   --min-confidence high what that run removed (without HIGH-REPORT: the
 *                         high findings of REPORT, an estimate).  Recall is
 *                         over the numbers with a keyword near or in a
 *                         number field (the others are not expected at
 *                         high); anything removed that is not a planted
 *                         number is a false positive, decoy-valid included.
 * Then the goals, each "ok" or "MISSED": default recall >= 99.9%, and
 * --min-confidence high precision >= 99.5%.
 * Also recall by form family (all numbers, and those outside number
 * fields, where only the text around a number decides), each form below
 * 100%, and the first misses and false positives.
 *
 * Exit: 0 scored, 64 usage, 65 a line that does not parse, 66 a file that
 * cannot be opened. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

enum kind { K_NUMBER, K_DECOY, K_DECOY_VALID };
enum ctx { C_KEYWORD, C_NONE, C_FIELD, C_UNKNOWN };

struct label {
	long long row, offset;
	int field;       /* index into the field names */
	int form;        /* index into the form names */
	unsigned char kind, ctx;
	unsigned char found;      /* 0 not found, 1 low, 2 high */
	unsigned char found_h;    /* removed by the --min-confidence high run */
	unsigned char used;       /* slot in use */
	unsigned char labelled;   /* filled in from a line */
};

struct names {
	char **v;
	int n, cap;
};

static struct label *tab;
static size_t tabcap, nlabels;
static struct names fields, forms;

static void oom(void)
{
	fprintf(stderr, "detect-score: out of memory\n");
	exit(SPIF_EX_SOFTWARE);
}

static int intern(struct names *t, const char *s)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->v[i], s) == 0)
			return i;
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		char **v = realloc(t->v, (size_t)cap * sizeof *v);
		if (!v)
			oom();
		t->v = v;
		t->cap = cap;
	}
	if (!(t->v[t->n] = strdup(s)))
		oom();
	return t->n++;
}

static int find_name(const struct names *t, const char *s)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->v[i], s) == 0)
			return i;
	return -1;
}

static uint64_t hash3(long long row, int field, long long off)
{
	uint64_t z = (uint64_t)row * 0x9E3779B97F4A7C15ull ^ (uint64_t)field * 0xBF58476D1CE4E5B9ull ^
	             (uint64_t)off * 0x94D049BB133111EBull;
	z ^= z >> 31;
	z *= 0xD6E8FEB86659FD93ull;
	return z ^ (z >> 32);
}

static struct label *lookup(long long row, int field, long long off, int insert)
{
	if (insert && (nlabels + 1) * 2 > tabcap) {
		size_t ncap = tabcap ? tabcap * 2 : 1024;
		struct label *nt = calloc(ncap, sizeof *nt), *old = tab;
		if (!nt)
			oom();
		for (size_t i = 0; i < tabcap; i++) {
			if (!old[i].used)
				continue;
			size_t h = hash3(old[i].row, old[i].field, old[i].offset) & (ncap - 1);
			while (nt[h].used)
				h = (h + 1) & (ncap - 1);
			nt[h] = old[i];
		}
		free(old);
		tab = nt;
		tabcap = ncap;
	}
	if (!tabcap)
		return NULL;
	size_t h = hash3(row, field, off) & (tabcap - 1);
	while (tab[h].used) {
		if (tab[h].row == row && tab[h].field == field && tab[h].offset == off)
			return &tab[h];
		h = (h + 1) & (tabcap - 1);
	}
	if (!insert)
		return NULL;
	tab[h].used = 1;
	tab[h].row = row;
	tab[h].field = field;
	tab[h].offset = off;
	nlabels++;
	return &tab[h];
}

static FILE *open_in(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "detect-score: %s: %s\n", path, strerror(errno));
		exit(SPIF_EX_NOINPUT);
	}
	return f;
}

static void bad_line(const char *path, long long line, const char *what)
{
	fprintf(stderr, "detect-score: %s:%lld: %s\n", path, line, what);
	exit(SPIF_EX_DATAERR);
}

static long long parse_ll(const char *s, const char *path, long long line, const char *what)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		bad_line(path, line, what);
	return v;
}

static void read_labels(const char *path)
{
	FILE *f = open_in(path);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	long long line = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		line++;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len == 0 || buf[0] == '#')
			continue;
		char *col[7] = {NULL};
		int nc = 0;
		char *p = buf;
		while (nc < 7) {
			col[nc++] = p;
			char *t = strchr(p, '\t');
			if (!t)
				break;
			*t = '\0';
			p = t + 1;
		}
		if (nc < 5 || nc > 6)
			bad_line(path, line, "expected ROW FIELD CHAR_OFFSET KIND FORM [CONTEXT], tab-separated");
		long long row = parse_ll(col[0], path, line, "ROW is not a number");
		long long off = parse_ll(col[2], path, line, "CHAR_OFFSET is not a number");
		int kind = strcmp(col[3], "number") == 0        ? K_NUMBER
		           : strcmp(col[3], "decoy") == 0       ? K_DECOY
		           : strcmp(col[3], "decoy-valid") == 0 ? K_DECOY_VALID
		                                                : -1;
		if (kind < 0)
			bad_line(path, line, "KIND is not number, decoy or decoy-valid");
		int c = C_UNKNOWN;
		if (nc == 6) {
			c = strcmp(col[5], "keyword") == 0 ? C_KEYWORD
			    : strcmp(col[5], "none") == 0  ? C_NONE
			    : strcmp(col[5], "field") == 0 ? C_FIELD
			                                   : -1;
			if (c < 0)
				bad_line(path, line, "CONTEXT is not keyword, none or field");
		}
		struct label *l = lookup(row, intern(&fields, col[1]), off, 1);
		if (l->labelled)
			bad_line(path, line, "two labels for the same row, field and offset");
		l->labelled = 1;
		l->kind = (unsigned char)kind;
		l->ctx = (unsigned char)c;
		l->form = intern(&forms, col[4]);
	}
	free(buf);
	if (ferror(f)) {
		fprintf(stderr, "detect-score: %s: read error\n", path);
		exit(SPIF_EX_IOERR);
	}
	fclose(f);
}

/* Findings that match no number (for the listing). */
struct fp {
	long long row, offset;
	int field;
	int high;
	int kind; /* -1 unlabelled */
};

/* The report of a --min-confidence high run: each finding it removed
 * marks its label (found_h); *removed counts them, *fp those that are not
 * a planted number. */
static void read_high(const char *path, long long *removed, long long *fp)
{
	FILE *f = open_in(path);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	long long line = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		line++;
		if (len <= 1 && (len == 0 || buf[0] == '\n'))
			continue;
		json_error_t je;
		json_t *j = json_loadb(buf, (size_t)len, 0, &je);
		json_t *jr = j ? json_object_get(j, "row") : NULL, *jf = j ? json_object_get(j, "field") : NULL;
		json_t *jo = j ? json_object_get(j, "offset") : NULL, *jp = j ? json_object_get(j, "op") : NULL;
		if (!j || !json_is_object(j))
			bad_line(path, line, "not a JSON object");
		if (!json_is_integer(jr) || !json_is_string(jf) || !json_is_integer(jo))
			bad_line(path, line, "needs \"row\" (number), \"field\" (string), \"offset\" (number)");
		int left = json_is_string(jp) && strncmp(json_string_value(jp), "none", 4) == 0;
		long long row = (long long)json_integer_value(jr), off = (long long)json_integer_value(jo);
		int field = find_name(&fields, json_string_value(jf));
		json_decref(j);
		if (left)
			continue;
		struct label *l = field >= 0 ? lookup(row, field, off, 0) : NULL;
		if (l && l->found_h)
			continue; /* the same finding twice */
		(*removed)++;
		if (l)
			l->found_h = 1;
		if (!l || l->kind != K_NUMBER)
			(*fp)++;
	}
	free(buf);
	fclose(f);
}

static double pct(long long a, long long b)
{
	return b ? 100.0 * (double)a / (double)b : 100.0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4 || argv[1][0] == '-') {
		fprintf(stderr, "Usage: detect-score LABELS REPORT.ndjson [HIGH-REPORT.ndjson]\n"
		                "Score a spif redact --report against spif-gen --corpus --labels; HIGH-REPORT\n"
		                "is the report of a --min-confidence high run on the same corpus.\n");
		return argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? 0 : SPIF_EX_USAGE;
	}
	read_labels(argv[1]);

	FILE *f = open_in(argv[2]);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	long long line = 0, findings = 0, nhigh = 0, dups = 0;
	long long fp_decoy[2] = {0, 0}, fp_unlabelled[2] = {0, 0}, valid_found[2] = {0, 0};
	struct fp fps[10];
	int nfps = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		line++;
		if (len <= 1 && (len == 0 || buf[0] == '\n'))
			continue;
		json_error_t je;
		json_t *j = json_loadb(buf, (size_t)len, 0, &je);
		json_t *jr = j ? json_object_get(j, "row") : NULL, *jf = j ? json_object_get(j, "field") : NULL;
		json_t *jo = j ? json_object_get(j, "offset") : NULL, *jc = j ? json_object_get(j, "confidence") : NULL;
		if (!j || !json_is_object(j))
			bad_line(argv[2], line, "not a JSON object");
		if (!json_is_integer(jr) || !json_is_string(jf) || !json_is_integer(jo) || !json_is_string(jc))
			bad_line(argv[2], line, "needs \"row\" (number), \"field\" (string), \"offset\" (number), "
			                        "\"confidence\" (string)");
		const char *conf = json_string_value(jc);
		int high = strcmp(conf, "high") == 0;
		if (!high && strcmp(conf, "low") != 0)
			bad_line(argv[2], line, "confidence is neither \"high\" nor \"low\"");
		long long row = (long long)json_integer_value(jr), off = (long long)json_integer_value(jo);
		int field = find_name(&fields, json_string_value(jf));
		json_decref(j);
		findings++;
		nhigh += high;
		struct label *l = field >= 0 ? lookup(row, field, off, 0) : NULL;
		if (l && l->found) {
			dups++;
			if (high)
				l->found = 2;
			continue;
		}
		if (l)
			l->found = (unsigned char)(high ? 2 : 1);
		if (l && l->kind == K_NUMBER)
			continue;
		if (l && l->kind == K_DECOY_VALID)
			valid_found[high]++;
		else if (l)
			fp_decoy[high]++;
		else
			fp_unlabelled[high]++;
		if (nfps < 10 && (!l || l->kind == K_DECOY || high))
			fps[nfps++] = (struct fp){row, off, field, high, l ? l->kind : -1};
	}
	free(buf);
	fclose(f);
	long long fp_h = 0, removed_h = 0;
	if (argc == 4)
		read_high(argv[3], &removed_h, &fp_h);

	/* tallies over the labels */
	long long numbers = 0, nfield = 0, nkw = 0, nnone = 0, nunknown = 0, decoys = 0, dvalid = 0;
	long long found = 0, expect_high = 0, found_high = 0, none_high = 0, dvalid_high = 0, found_hrun = 0;
	long long expect_hrun = 0;
	int nforms = forms.n;
	long long *ftot = calloc((size_t)nforms + 1, sizeof *ftot), *ffound = calloc((size_t)nforms + 1, sizeof *ffound);
	/* the same outside number fields (free text, where context decides) */
	long long *ttot = calloc((size_t)nforms + 1, sizeof *ttot), *tfound = calloc((size_t)nforms + 1, sizeof *tfound);
	if (!ftot || !ffound || !ttot || !tfound)
		oom();
	struct label *missed[10];
	int nmissed = 0;
	for (size_t i = 0; i < tabcap; i++) {
		struct label *l = &tab[i];
		if (!l->used)
			continue;
		if (l->kind == K_DECOY) {
			decoys++;
			continue;
		}
		if (l->kind == K_DECOY_VALID) {
			dvalid++;
			dvalid_high += l->found == 2;
			continue;
		}
		found_hrun += l->found_h;
		numbers++;
		nfield += l->ctx == C_FIELD;
		nkw += l->ctx == C_KEYWORD;
		nnone += l->ctx == C_NONE;
		nunknown += l->ctx == C_UNKNOWN;
		ftot[l->form]++;
		ttot[l->form] += l->ctx != C_FIELD;
		if (l->found) {
			found++;
			ffound[l->form]++;
			tfound[l->form] += l->ctx != C_FIELD;
		} else if (nmissed < 10) {
			missed[nmissed++] = l;
		}
		if (l->ctx != C_NONE) {
			expect_high++;
			found_high += l->found == 2;
			expect_hrun += l->found_h;
		} else {
			none_high += l->found == 2;
		}
	}

	long long tp = found, fp_def = fp_decoy[0] + fp_decoy[1] + fp_unlabelled[0] + fp_unlabelled[1];
	long long tp_high = found_high + none_high;
	long long fp_high = fp_decoy[1] + fp_unlabelled[1] + dvalid_high;
	long long vfound = valid_found[0] + valid_found[1];

	printf("labels: %lld numbers (%lld in a number field, %lld with a keyword within 300 characters, "
	       "%lld without%s), %lld decoys, %lld checksum-valid decoys\n",
	       numbers, nfield, nkw, nnone, nunknown ? ", some without CONTEXT" : "", decoys, dvalid);
	printf("report: %lld findings (%lld high, %lld low)%s\n", findings, nhigh, findings - nhigh,
	       dups ? ", some repeated" : "");
	printf("default (low+high): recall %.2f%% (%lld/%lld), precision %.2f%% (%lld/%lld)\n", pct(found, numbers),
	       found, numbers, pct(tp, tp + fp_def), tp, tp + fp_def);
	printf("  checksum-valid without context (removed by default, by design): %lld of %lld found "
	       "(%lld high); counted as errors, precision would be %.2f%%\n",
	       vfound, dvalid, dvalid_high, pct(tp, tp + fp_def + vfound));
	if (argc == 4) { /* what a real --min-confidence high run removed */
		found_high = expect_hrun;
		none_high = found_hrun - expect_hrun;
		tp_high = found_hrun;
		fp_high = fp_h;
	}
	printf("--min-confidence high%s: recall %.2f%% (%lld/%lld, over the numbers with a keyword within 300 "
	       "characters or in a number field), precision %.2f%% (%lld/%lld)\n",
	       argc == 4 ? " (its own run)" : " (the default run's high findings)", pct(found_high, expect_high),
	       found_high, expect_high, pct(tp_high, tp_high + fp_high), tp_high, tp_high + fp_high);
	printf("  numbers without a keyword, not expected at high: %lld of %lld found high\n", none_high, nnone);
	if (argc == 4)
		printf("  the run removed %lld, of which %lld are not planted numbers\n", removed_h, fp_h);
	printf("false positives: %lld on invalid decoys (%lld high), %lld unlabelled (%lld high), "
	       "%lld checksum-valid decoys at high\n",
	       fp_decoy[0] + fp_decoy[1], fp_decoy[1], fp_unlabelled[0] + fp_unlabelled[1], fp_unlabelled[1],
	       dvalid_high);
	/* by family (the FORM up to its first '-': plain, grouped, mixed, near,
	 * new, shape, list, loose, doubled ...), all and in free text; then
	 * each form that is not at 100% */
	printf("recall by form family (all; outside number fields):\n");
	char done[256] = {0};
	for (int k = 0; k < nforms && k < 256; k++) {
		if (done[k])
			continue;
		size_t fl = strcspn(forms.v[k], "-");
		long long a = 0, af = 0, t = 0, tf = 0;
		int members = 0;
		for (int m = k; m < nforms && m < 256; m++) {
			if (strlen(forms.v[m]) < fl || strncmp(forms.v[m], forms.v[k], fl) != 0 ||
			    (forms.v[m][fl] != '-' && forms.v[m][fl] != '\0'))
				continue;
			done[m] = 1;
			a += ftot[m], af += ffound[m], t += ttot[m], tf += tfound[m];
			members += ftot[m] != 0;
		}
		if (a)
			printf("  %-12.*s %2d forms %7.2f%% (%lld/%lld); %7.2f%% (%lld/%lld)\n", (int)fl, forms.v[k], members,
			       pct(af, a), af, a, pct(tf, t), tf, t);
	}
	int below = 0;
	for (int k = 0; k < nforms; k++)
		if (ftot[k] && ffound[k] < ftot[k]) {
			if (!below++)
				printf("forms below 100%% (all; outside number fields):\n");
			printf("  %-36s %7.2f%% (%lld/%lld); %7.2f%% (%lld/%lld)\n", forms.v[k], pct(ffound[k], ftot[k]),
			       ffound[k], ftot[k], pct(tfound[k], ttot[k]), tfound[k], ttot[k]);
		}
	if (!below)
		printf("every form at 100%%\n");
	for (int k = 0; k < nmissed; k++)
		printf("missed: row %lld, %s, offset %lld, %s, %s\n", missed[k]->row, fields.v[missed[k]->field],
		       missed[k]->offset, forms.v[missed[k]->form],
		       missed[k]->ctx == C_KEYWORD ? "keyword" : missed[k]->ctx == C_NONE ? "no keyword"
		       : missed[k]->ctx == C_FIELD ? "number field" : "?");
	for (int k = 0; k < nfps; k++)
		printf("false positive: row %lld, %s, offset %lld, %s, %s\n", fps[k].row,
		       fps[k].field >= 0 ? fields.v[fps[k].field] : "(a field with no labels)", fps[k].offset,
		       fps[k].high ? "high" : "low",
		       fps[k].kind < 0 ? "unlabelled" : fps[k].kind == K_DECOY ? "invalid decoy" : "checksum-valid decoy");
	/* the goals, in whole numbers: recall >= 99.9%, precision >= 99.5% */
	int recall_ok = found * 1000 >= numbers * 999;
	int prec_ok = tp_high * 1000 >= (tp_high + fp_high) * 995;
	printf("goal: default recall %.2f%% >= 99.9%%  %s\n", pct(found, numbers), recall_ok ? "ok" : "MISSED");
	printf("goal: --min-confidence high precision %.2f%% >= 99.5%%%s  %s\n", pct(tp_high, tp_high + fp_high),
	       argc == 4 ? "" : " (estimated: no run of its own given)", prec_ok ? "ok" : "MISSED");
	free(ftot);
	free(ffound);
	free(ttot);
	free(tfound);
	for (int k = 0; k < fields.n; k++)
		free(fields.v[k]);
	for (int k = 0; k < forms.n; k++)
		free(forms.v[k]);
	free(fields.v);
	free(forms.v);
	free(tab);
	return 0;
}
