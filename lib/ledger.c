/* ledger.c - see ledger.h */
#include "ledger.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "catalog_query.h"
#include "cert.h"
#include "checkpoint.h"
#include "export.h"
#include "mynumber.h"
#include "retention.h"
#include "retention_report.h"
#include "text.h"

int spif_ledger_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "disposal") == 0)
		return SPIF_LEDGER_DISPOSAL;
	if (strcmp(name, "checkout") == 0)
		return SPIF_LEDGER_CHECKOUT;
	if (strcmp(name, "files") == 0)
		return SPIF_LEDGER_FILES;
	return -1;
}

void spif_table_free(struct spif_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->heads ? t->heads[i] : NULL);
	for (size_t i = 0; t->cells && i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->heads);
	free(t->widths);
	free(t->cells);
	free(t->title);
	free(t->subtitle);
	free(t->body);
	free(t->footer);
	memset(t, 0, sizeof *t);
}

/* A column: its bilingual heading and relative width. */
struct col {
	const char *head;
	double width;
};

static int oom(struct spif_err *err)
{
	return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
}

static int table_init(struct spif_table *t, const char *title, const struct col *cols, size_t n,
                      struct spif_err *err)
{
	t->title = strdup(title);
	t->ncols = n;
	t->heads = calloc(n, sizeof *t->heads);
	t->widths = calloc(n, sizeof *t->widths);
	if (!t->title || !t->heads || !t->widths)
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		if (!(t->heads[i] = strdup(cols[i].head)))
			return oom(err);
		t->widths[i] = cols[i].width;
	}
	return 0;
}

/* A row of t->ncols cells (NULL or "" shows "-").  What may have come
 * from outside is escaped (no cell can forge a line) and masked (no cell
 * holds a number). */
static int table_row(struct spif_table *t, const char *const *v, struct spif_err *err)
{
	char **cells = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *cells);
	if (!cells)
		return oom(err);
	t->cells = cells;
	char **row = cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++)
		row[i] = NULL;
	t->nrows++;
	for (size_t i = 0; i < t->ncols; i++) {
		if (!(row[i] = spif_text_escaped(v[i] && *v[i] ? v[i] : "-")))
			return oom(err);
		spif_mask_numbers(row[i]);
	}
	return 0;
}

static const char *js(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void jnum(json_t *o, const char *k, char out[24])
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		snprintf(out, 24, "%lld", (long long)json_integer_value(v));
	else
		snprintf(out, 24, "-");
}

/* ---- 廃棄簿 ------------------------------------------------------------ */

static const struct col disposal_cols[] = {
	{"証明書番号\nCertificate", 1.6}, {"廃棄日\nDate", 1.15},     {"ファイル\nFile", 2.0},
	{"事務\nPurpose", 1.5},          {"件数\nRecords", 0.8},   {"人数\nPersons", 0.8},
	{"廃棄方法\nMethod", 2.0},       {"実施者\nDone by", 1.0}, {"確認者\nConfirmed by", 1.0},
	{"理由\nReason", 1.5},
};

static int disposal_rows(struct spif_catalog *c, struct spif_table *t, int fy, long today, struct spif_err *err)
{
	json_t *r = spif_retention_report(c, fy, today, err);
	if (!r)
		return -1;
	size_t i;
	json_t *x;
	int rc = 0;
	json_array_foreach(json_object_get(r, "disposals"), i, x) {
		struct spif_cert ct;
		if ((rc = spif_cert_load(c, js(x, "certificate"), &ct, err)) < 0)
			break;
		json_t *b = json_loads(ct.body, 0, NULL);
		json_t *file = json_object_get(b, "file"), *san = json_object_get(b, "sanitization");
		char date[11], fileb[512], rec[24], per[24], method[512];
		spif_legal_date_of_utc(js(x, "issued"), date);
		snprintf(fileb, sizeof fileb, "%s %s", *js(x, "file") ? js(x, "file") : "(未登録)", js(file, "label"));
		jnum(file, "records", rec);
		jnum(file, "persons", per);
		size_t ncp = json_array_size(json_object_get(b, "copies"));
		snprintf(method, sizeof method, "%s%s (%zu %s)",
		         strcmp(js(x, "kind"), "redaction") == 0 ? "番号削除 / redaction: " : "",
		         json_is_string(json_object_get(san, "category")) ? js(san, "category") : "-",
		         ncp, ncp == 1 ? "copy" : "copies");
		const char *v[] = {js(x, "certificate"), date, fileb, js(x, "purpose"), rec, per, method,
		                   ct.operator_, ct.confirmer ? ct.confirmer : "未確認 / unconfirmed", js(b, "reason")};
		rc = table_row(t, v, err);
		json_decref(b);
		spif_cert_free(&ct);
		if (rc < 0)
			break;
	}
	json_decref(r);
	return rc;
}

/* ---- 持出し簿 ---------------------------------------------------------- */

static const struct col checkout_cols[] = {
	{"番号\nExport", 1.6},          {"持出日\nDate out", 1.15}, {"ファイル\nFiles", 2.0},
	{"事務\nPurpose", 1.4},         {"件数\nRecords", 0.75},    {"人数\nPersons", 0.75},
	{"持出先\nTo", 1.4},            {"媒体\nMedium", 0.9},      {"実施者\nBy", 0.9},
	{"確認者\nApproved by", 0.9},   {"返却予定\nDue", 1.15},    {"返却・廃棄\nReturn", 1.5},
};

struct co_ctx {
	struct spif_table *t;
	long from, to;
	struct spif_err *err;
};

static int checkout_row(void *ctx, const struct spif_export_row *r)
{
	struct co_ctx *k = ctx;
	long day;
	if (spif_legal_day_of_utc(r->created, &day) < 0 || day < k->from || day > k->to)
		return 0;
	json_t *files = json_loads(r->files ? r->files : "[]", 0, NULL);
	char fl[1024] = "", purpose[512] = "", date[11], due[11], closed[11], rec[24], per[24], to[512], ret[512];
	size_t i, n = 0;
	json_t *x;
	json_array_foreach(files, i, x) {
		n += (size_t)snprintf(fl + n, n < sizeof fl ? sizeof fl - n : 0, "%s%s %s", i ? "; " : "",
		                      js(x, "file"), js(x, "label"));
		if (i == 0)
			snprintf(purpose, sizeof purpose, "%s", js(x, "purpose"));
		if (n >= sizeof fl)
			break;
	}
	json_decref(files);
	spif_legal_date_of_utc(r->created, date);
	snprintf(due, sizeof due, "%s", r->due ? r->due : "-");
	snprintf(rec, sizeof rec, "%lld", r->records);
	snprintf(per, sizeof per, "%lld", r->persons);
	snprintf(to, sizeof to, "%s%s%s", r->organisation ? r->organisation : "", r->person ? " " : "",
	         r->person ? r->person : "");
	if (r->closed) {
		/* who received it back, and its seal, as the return recorded them */
		json_t *fate = json_loads(r->fate ? r->fate : "{}", 0, NULL);
		const char *rb = js(fate, "received_by"), *seal = js(fate, "seal");
		spif_legal_date_of_utc(r->closed, closed);
		/* a disclosure answer ends in the person's hands, not back here */
		snprintf(ret, sizeof ret, "%s %s (%s)%s%s%s%s",
		         r->state == SPIF_EXPORT_DELIVERED ? "本人交付 / delivered" : spif_export_state_name(r->state), closed,
		         r->closed_by ? r->closed_by : "-", *rb ? " 受領 / received by " : "", rb,
		         *seal ? ", seal " : "", seal);
		json_decref(fate);
	} else
		snprintf(ret, sizeof ret, "%s", spif_export_state_name(r->state));
	const char *v[] = {r->id, date, fl, purpose, rec, per, to, r->medium, r->operator_, r->approver, due, ret};
	return table_row(k->t, v, k->err) < 0 ? -1 : 0;
}

/* ---- 特定個人情報ファイル簿 -------------------------------------------- */

static const struct col files_cols[] = {
	{"ファイル\nFile", 0.9},       {"名称\nName", 2.2},           {"事務\nPurpose", 1.8},
	{"件数\nRecords", 0.8},        {"人数\nPersons", 0.8},        {"受領日\nReceived", 1.1},
	{"登録日\nRegistered", 1.1},   {"保存期限\nRetain until", 1.1}, {"状態\nState", 0.9},
	{"入手元\nSource", 1.4},
};

struct f_ctx {
	struct spif_table *t;
	long to;
	struct spif_err *err;
};

static int file_row(void *ctx, const struct spif_file *f)
{
	struct f_ctx *k = ctx;
	long day;
	if (spif_legal_day_of_utc(f->created, &day) < 0 || day > k->to)
		return 0;
	char id[24], rec[24], per[24], created[11];
	spif_file_id_format(f->id, id);
	snprintf(rec, sizeof rec, "%lld", f->records);
	snprintf(per, sizeof per, "%lld", f->persons);
	spif_legal_date_of_utc(f->created, created);
	const char *v[] = {id, f->label, f->purpose, rec, per, f->received, created, f->retain_until,
	                   spif_file_state_name(f->state), f->source};
	return table_row(k->t, v, k->err) < 0 ? -1 : 0;
}

/* ---- the footer -------------------------------------------------------- */

int spif_ledger_footer(struct spif_catalog *c, struct spif_table *t, struct spif_err *err)
{
	struct spif_note_verifier v;
	struct spif_err e = {0};
	t->fingerprint[0] = '\0';
	if (spif_checkpoint_verifier(c, 0, &v, &e) == 0) {
		if (spif_checkpoint_fingerprint(&v, t->fingerprint) < 0)
			t->fingerprint[0] = '\0';
	} else if (e.code != SPIF_EX_NOINPUT) {
		*err = e;
		return -1;
	}
	char *note = NULL;
	if (spif_checkpoint_last(c, &note, err) < 0)
		return -1;
	/* the note's second and third lines: the log's size and its root */
	char size[32] = "-", root[64] = "-";
	const char *p = note ? strchr(note, '\n') : NULL;
	if (p && sscanf(p + 1, "%31[0-9]\n%63[A-Za-z0-9+/=]", size, root) < 1)
		snprintf(size, sizeof size, "-");
	free(note);
	/* the fingerprint as spif catalog key export --fingerprint prints it */
	if (asprintf(&t->footer, "台帳 / Catalog %s   検証鍵 / Checkpoint key %s%s   "
	             "最終チェックポイント / Last checkpoint %s %s", spif_catalog_id(c),
	             t->fingerprint[0] ? "SHA256:" : "", t->fingerprint[0] ? t->fingerprint : "なし / none yet",
	             size, root) < 0) {
		t->footer = NULL;
		return oom(err);
	}
	return 0;
}

int spif_ledger_build(struct spif_catalog *c, enum spif_ledger_kind kind, int fiscal_year, long today,
                      struct spif_table *t, struct spif_err *err)
{
	memset(t, 0, sizeof *t);
	t->landscape = 1;
	long from = spif_day_from_ymd(fiscal_year, 4, 1), to = spif_day_from_ymd(fiscal_year + 1, 3, 31);
	char f1[11], f2[11], asof[11];
	spif_day_format(from, f1);
	spif_day_format(to, f2);
	spif_day_format(today, asof);
	int rc;
	if (kind == SPIF_LEDGER_DISPOSAL) {
		rc = table_init(t, "廃棄簿 / Disposal ledger (特定個人情報の削除・廃棄の記録)", disposal_cols,
		                sizeof disposal_cols / sizeof *disposal_cols, err);
		if (rc == 0)
			rc = disposal_rows(c, t, fiscal_year, today, err);
	} else if (kind == SPIF_LEDGER_CHECKOUT) {
		struct co_ctx k = {t, from, to, err};
		rc = table_init(t, "持出し簿 / Ledger of checkouts (書類・媒体等の持出しの記録)", checkout_cols,
		                sizeof checkout_cols / sizeof *checkout_cols, err);
		if (rc == 0)
			rc = spif_export_list(c, 0, asof, checkout_row, &k, err) ? -1 : 0;
	} else {
		struct f_ctx k = {t, to, err};
		rc = table_init(t, "特定個人情報ファイル簿 / Register of specific personal information files",
		                files_cols, sizeof files_cols / sizeof *files_cols, err);
		if (rc == 0)
			rc = spif_catalog_list_files(c, -1, file_row, &k, err) ? -1 : 0;
	}
	if (rc == 0 && asprintf(&t->subtitle, "%d年度 / Fiscal year %d (%s – %s)   %s現在 / as of %s   %zu件 / %zu rows",
	                        fiscal_year, fiscal_year, f1, f2, asof, asof, t->nrows, t->nrows) < 0) {
		t->subtitle = NULL;
		rc = oom(err);
	}
	if (rc == 0)
		rc = spif_ledger_footer(c, t, err);
	if (rc < 0)
		spif_table_free(t);
	return rc;
}

/* ---- text -------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n, struct spif_err *err)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return spif_err_set(err, SPIF_EX_IOERR, "write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The part of a heading on line (0: Japanese, 1: English). */
static void head_line(const char *h, int line, char *out, size_t n)
{
	const char *nl = strchr(h, '\n');
	if (line == 0)
		snprintf(out, n, "%.*s", nl ? (int)(nl - h) : (int)strlen(h), h);
	else
		snprintf(out, n, "%s", nl ? nl + 1 : "");
}

int spif_ledger_text(const struct spif_table *t, int fd, struct spif_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
	if (!f || !w) {
		if (f)
			fclose(f);
		free(buf);
		free(w);
		return oom(err);
	}
	char h[128];
	for (size_t i = 0; i < t->ncols; i++)
		for (int l = 0; l < 2; l++) {
			head_line(t->heads[i], l, h, sizeof h);
			int k = spif_text_columns(h);
			w[i] = k > w[i] ? k : w[i];
		}
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			int k = spif_text_columns(t->cells[r * t->ncols + i]);
			w[i] = k > w[i] ? k : w[i];
		}
	fprintf(f, "%s\n%s\n\n", t->title, t->subtitle ? t->subtitle : "");
	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < t->ncols; i++) {
			head_line(t->heads[i], l, h, sizeof h);
			fputs(i ? "  " : "", f);
			spif_text_pad(f, h, i + 1 < t->ncols ? w[i] : 0);
		}
		fputc('\n', f);
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			fputs(i ? "  " : "", f);
			/* cells are escaped already: padded as they are */
			const char *s = t->cells[r * t->ncols + i];
			fputs(s, f);
			int pad = i + 1 < t->ncols ? w[i] - spif_text_columns(s) : 0;
			fprintf(f, "%*s", pad > 0 ? pad : 0, "");
		}
		fputc('\n', f);
	}
	fprintf(f, "\n押印欄 / Seals: 実施者 [    ]  確認者 [    ]  管理者 [    ]\n%s\n", t->footer ? t->footer : "");
	free(w);
	if (fclose(f) != 0) {
		free(buf);
		return oom(err);
	}
	int rc = write_all(fd, buf, len, err);
	free(buf);
	return rc;
}
