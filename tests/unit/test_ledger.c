/* test_ledger.c - ledger names, the text table, and the PDF writer:
 * whole PDF documents to an fd, more pages for more rows, a write error
 * reported as such (not a crash, not success). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ledger.h"
#include "ledger_pdf.h"
#include "tap.h"

/* fontconfig's own never-freed pattern (see cmd/catalog/report.c) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static char *dupe(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static void table(struct spif_table *t, size_t rows)
{
	memset(t, 0, sizeof *t);
	t->title = dupe("廃棄簿 / Disposal ledger");
	t->subtitle = dupe("2026年度");
	t->footer = dupe("台帳 / Catalog x");
	t->landscape = 1;
	t->ncols = 3;
	t->heads = calloc(3, sizeof *t->heads);
	t->widths = calloc(3, sizeof *t->widths);
	t->cells = calloc(rows * 3 + 1, sizeof *t->cells);
	if (!t->heads || !t->widths || !t->cells)
		abort();
	const char *h[] = {"証明書番号\nCertificate", "事務\nPurpose", "件数\nRecords"};
	for (size_t i = 0; i < 3; i++) {
		t->heads[i] = dupe(h[i]);
		t->widths[i] = 1;
	}
	for (size_t r = 0; r < rows; r++) {
		char b[32];
		snprintf(b, sizeof b, "DC-2026-%06zu", r + 1);
		t->cells[r * 3] = dupe(b);
		t->cells[r * 3 + 1] = dupe("個人住民税の賦課");
		t->cells[r * 3 + 2] = dupe("40");
	}
	t->nrows = rows;
}

/* fd's contents, NUL-terminated (malloc'd), n its length */
static char *slurp(int fd, size_t *n)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *b = malloc((size_t)end + 1);
	if (!b || pread(fd, b, (size_t)end, 0) != end)
		abort();
	b[end] = '\0';
	*n = (size_t)end;
	return b;
}

static size_t count(const char *s, size_t n, const char *what)
{
	size_t k = 0, w = strlen(what);
	for (size_t i = 0; i + w <= n; i++)
		if (memcmp(s + i, what, w) == 0)
			k++;
	return k;
}

int main(void)
{
	is_int(spif_ledger_parse("disposal"), SPIF_LEDGER_DISPOSAL, "disposal");
	is_int(spif_ledger_parse("checkout"), SPIF_LEDGER_CHECKOUT, "checkout");
	is_int(spif_ledger_parse("files"), SPIF_LEDGER_FILES, "files");
	is_int(spif_ledger_parse("Disposal"), -1, "names are exact");
	is_int(spif_ledger_parse(NULL), -1, "none");

	struct spif_table t;
	struct spif_err e = {0};
	table(&t, 2);
	int fd = memfd_create("t", 0);
	ok(spif_ledger_text(&t, fd, &e) == 0, "text written");
	size_t n;
	char *s = slurp(fd, &n);
	/* 証明書番号 is 10 columns in 15 bytes: padded to the 14 of an id */
	ok(strstr(s, "\n証明書番号      事務              件数\nCertificate     Purpose           Records\n") != NULL,
	   "headings padded by display width");
	ok(strstr(s, "DC-2026-000002  個人住民税の賦課  40") != NULL, "rows padded");
	ok(strstr(s, "押印欄") != NULL && strstr(s, "台帳 / Catalog x") != NULL, "seals and footer");
	free(s);
	close(fd);

	fd = memfd_create("p", 0);
	ok(spif_table_pdf(&t, fd, &e) == 0, "one page");
	s = slurp(fd, &n);
	ok(n > 5 && memcmp(s, "%PDF-", 5) == 0, "a PDF");
	ok(count(s, n, "%%EOF") == 1, "whole");
	size_t one = count(s, n, "/Type /Page\n") + count(s, n, "/Type /Page ");
	free(s);
	close(fd);
	spif_table_free(&t);

	table(&t, 120);
	fd = memfd_create("p", 0);
	ok(spif_table_pdf(&t, fd, &e) == 0, "120 rows");
	s = slurp(fd, &n);
	size_t many = count(s, n, "/Type /Page\n") + count(s, n, "/Type /Page ");
	ok(many > one && one >= 1, "more rows, more pages (%zu, %zu)", one, many);
	free(s);
	close(fd);

	/* a write that fails: an error, not success */
	int p[2];
	if (pipe(p) < 0)
		abort();
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	e = (struct spif_err){0};
	ok(spif_table_pdf(&t, p[1], &e) < 0 && e.code == SPIF_EX_IOERR, "a broken pipe: %s", e.msg);
	close(p[1]);
	spif_table_free(&t);
	return tap_done();
}
