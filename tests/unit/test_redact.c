/* test_redact.c - the redaction engine (lib/redact.h): every operator on
 * number fields and free text, every form of number the detector finds,
 * confidence and --min-confidence, check mode, numbers in field names,
 * spif's own metadata, the fail-closed paths (a field named that the input
 * lacks, a missing or misnamed pseudonym key, a value with no pseudonym, a
 * copy with numbers outside the vault), the report (never a number),
 * pseudonym keys, text through the window reader (fed unevenly through a
 * pipe; CP932 that grows three times when decoded), and spif redact --file
 * on a vault copy in a throwaway home.  Numbers are generated from their
 * check digits, never a real person's. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cert.h"
#include "digest.h"
#include "mynumber.h"
#include "redact.h"
#include "tap.h"
#include "textscan.h"
#include "vault.h"

static char home[PATH_MAX];
static struct spif_conf conf;
static struct spif_catalog *cat;

static void skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_n, why);
	fflush(stdout);
}

static void bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

/* A checksum-valid Individual Number from 11 digits (generated, never a
 * real person's). */
static void make_number(const char *base, char out[13])
{
	memcpy(out, base, 11);
	out[11] = (char)('0' + spif_mynumber_check_digit(base));
	out[12] = '\0';
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- the window reader, fed unevenly ------------------------------------ */

/* A writer that sends the text in two parts: a short one, then (once the
 * reader has taken all of it) a large one in a single write, so that the
 * reader's next read returns as much as it asks for. */
struct feed {
	int fd;
	const char *text;
	size_t n, first;
};

static void *feed_thread(void *arg)
{
	struct feed *f = arg;
	if (write_all(f->fd, f->text, f->first) == 0) {
		int q;
		while (ioctl(f->fd, FIONREAD, &q) == 0 && q > 0)
			usleep(1000);
		write_all(f->fd, f->text + f->first, f->n - f->first);
	}
	close(f->fd);
	return NULL;
}

/* Every window of the text through a pipe written as above: the windows,
 * one after the other, must be the text, and each must come with its
 * context as the text has it. */
static void uneven_pipe(size_t first, size_t total, const char *what)
{
	int p[2];
	if (pipe(p) < 0)
		bail("pipe");
	/* room for the large write in one go, as a pipe enlarged with
	 * F_SETPIPE_SZ (or a socket, or a network file system) gives it */
	if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < (1 << 20)) {
		skip("cannot make a pipe of 1 MiB");
		close(p[0]);
		close(p[1]);
		return;
	}
	char *text = malloc(total + 1), num[13];
	if (!text)
		bail("malloc");
	for (size_t i = 0; i < total; i++)
		text[i] = i % 64 == 63 ? '\n' : 'a' + (char)(i % 26);
	make_number("12345678901", num);
	memcpy(text + total - 40, " 個人番号 ", 14);
	memcpy(text + total - 26, num, 12);
	struct feed f = {.fd = p[1], .text = text, .n = total, .first = first};
	pthread_t th;
	if (pthread_create(&th, NULL, feed_thread, &f) != 0)
		bail("pthread_create");
	struct spif_textscan *ts;
	struct spif_textwin w;
	struct spif_err e = {0};
	size_t at = 0, windows = 0;
	int rc, same = 1, ctx_ok = 1;
	if (spif_textscan_open(p[0], "pipe", SPIF_ENC_UTF8, &ts, &e) < 0)
		bail(e.msg);
	while ((rc = spif_textscan_next(ts, &w, &e)) > 0) {
		windows++;
		if (at + w.n > total || memcmp(text + at, w.text, w.n) != 0)
			same = 0;
		if (w.npre > at || memcmp(text + at - w.npre, w.pre, w.npre) != 0)
			ctx_ok = 0;
		if (at + w.n + w.npost > total || memcmp(text + at + w.n, w.post, w.npost) != 0)
			ctx_ok = 0;
		at += w.n;
	}
	is_int(rc, 0, "%s: read to the end (%s)", what, rc < 0 ? e.msg : "no error");
	ok(same && at == total, "%s: the windows are the text, all of it (%zu of %zu bytes)", what, at, total);
	ok(ctx_ok, "%s: each window's context is the text around it", what);
	ok(windows >= 2, "%s: in windows (%zu)", what, windows);
	spif_textscan_close(ts);
	close(p[0]);
	pthread_join(th, NULL);
	free(text);
}

static void test_textscan(void)
{
	/* a short read that leaves the reader wanting more (under half a
	 * window), then one that returns all it asks for */
	uneven_pipe(400 << 10, (400 << 10) + (1 << 20), "400 KiB then 1 MiB");
	uneven_pipe(100 << 10, (100 << 10) + (1 << 20), "100 KiB then 1 MiB");
	uneven_pipe(500 << 10, (500 << 10) + (1 << 20) + 12345, "500 KiB then 1 MiB and more");
}

/* ---- numbers in the forms people type --------------------------------- */

static char N1[13], N2[13], BAD[13], CORP[14];

static void make_numbers(void)
{
	make_number("12345678901", N1);
	make_number("31415926535", N2);
	memcpy(BAD, N1, 13);
	BAD[11] = (char)('0' + (N1[11] - '0' + 1) % 10); /* the check digit off by one */
	CORP[0] = (char)('0' + spif_corpnum_check_digit("123456789012"));
	memcpy(CORP + 1, "123456789012", 13);
}

/* 4-4-4 with sep between the groups (NULL: none); full-width digits when
 * wide.  out must hold 12 * 3 + 2 * 3 + 1 bytes. */
static const char *form(const char *n, const char *sep, int wide, char *out)
{
	char *o = out;
	for (int i = 0; i < 12; i++) {
		if (sep && (i == 4 || i == 8))
			o += sprintf(o, "%s", sep);
		if (wide)
			o += sprintf(o, "\xEF\xBC%c", (char)(0x90 + n[i] - '0'));
		else
			*o++ = n[i];
	}
	*o = '\0';
	return out;
}

/* Does s hold any run of 4 or more digits?  The report must not. */
static int has_digit_run(const char *s)
{
	int run = 0;
	for (; *s; s++) {
		run = *s >= '0' && *s <= '9' ? run + 1 : 0;
		if (run >= 4)
			return 1;
	}
	return 0;
}

/* ---- one record through the engine ------------------------------------- */

struct result {
	int rc;
	struct spif_err e;
	char out[1024];     /* "key=value|key=value" of the fields left */
	struct spif_redact_counts n;
	char *report;       /* the report's lines (malloc'd) */
};

/* Redact one NDJSON-style record of nkv key/value pairs with o (input
 * "test"). */
static struct result redact_kv(const struct spif_redact_opts *base, const char *const *kv, size_t nkv)
{
	struct result res;
	memset(&res, 0, sizeof res);
	size_t rlen = 0;
	FILE *rep = open_memstream(&res.report, &rlen);
	struct spif_redact_opts o = *base;
	if (!o.fmt)
		o.fmt = SPIF_FMT_NDJSON;
	o.input = "test";
	o.report = rep;
	struct spif_redactor *r;
	if (spif_redactor_new(&o, &r, &res.e) < 0)
		bail("spif_redactor_new");
	struct spif_record rec;
	spif_record_init(&rec);
	for (size_t i = 0; i < nkv; i++)
		spif_record_add(&rec, kv[2 * i], strlen(kv[2 * i]), kv[2 * i + 1], strlen(kv[2 * i + 1]), 0);
	rec.row = 2;
	res.rc = spif_redact_record(r, &rec, &res.e);
	char *p = res.out;
	for (size_t i = 0; res.rc == 0 && i < rec.n; i++)
		p += snprintf(p, sizeof res.out - (size_t)(p - res.out), "%s%s=%s", i ? "|" : "", rec.f[i].key,
		              rec.f[i].val);
	res.n = *spif_redactor_counts(r);
	spif_record_free(&rec);
	spif_redactor_free(r);
	fclose(rep);
	return res;
}

static struct result redact1(const struct spif_redact_opts *o, const char *key, const char *value)
{
	const char *kv[2] = {key, value};
	return redact_kv(o, kv, 1);
}

/* Run and compare the fields left with want. */
static void expect(const struct spif_redact_opts *o, const char *key, const char *value, const char *want,
                   const char *what)
{
	struct result r = redact1(o, key, value);
	is_int(r.rc, 0, "%s: no error", what);
	is_str(r.out, want, "%s", what);
	if (strcmp(r.out, want) != 0)
		printf("#   got %s\n", r.out);
	free(r.report);
}

static struct spif_psn *psn1, *psn2; /* two pseudonym keys (test_keys) */

static void test_ops_number_field(void)
{
	char g[64], w1[64], w2[64];
	struct spif_redact_opts o = {.op = SPIF_OP_MASK};
	const char *kv[4] = {"受給者の個人番号", N1, "氏名", "山田"};
	struct result r = redact_kv(&o, kv, 2);
	is_str(r.out, "受給者の個人番号=************|氏名=山田", "mask: every digit of a number field goes");
	is_int(r.n.high, 1, "mask: one finding, high");
	is_int(r.n.in_fields, 1, "mask: counted as in a number field");
	ok(strstr(r.report, "\"form\":\"plain\",\"confidence\":\"high\",\"keyword\":null,\"op\":\"mask\"") != NULL,
	   "mask: reported as plain, high, mask");
	free(r.report);
	expect(&o, "受給者の個人番号", form(N1, "-", 0, g), "受給者の個人番号=****-****-****",
	       "mask: separators stay");
	expect(&o, "受給者の個人番号", form(N1, NULL, 1, g), "受給者の個人番号=＊＊＊＊＊＊＊＊＊＊＊＊",
	       "mask: full-width digits become ＊");
	expect(&o, "受給者の個人番号", BAD, "受給者の個人番号=************",
	       "mask: a mistyped number is still someone's number");
	expect(&o, "受給者の個人番号", "6214-9832", "受給者の個人番号=****-****", "mask: a short one too");
	expect(&o, "受給者の個人番号", "", "受給者の個人番号=", "an empty number field stays empty");
	o.op = SPIF_OP_EMPTY;
	expect(&o, "受給者の個人番号", N1, "受給者の個人番号=", "empty: the field becomes empty");
	o.op = SPIF_OP_DROP;
	r = redact_kv(&o, kv, 2);
	is_str(r.out, "氏名=山田", "drop: a number field is dropped as a column");
	ok(strstr(r.report, "\"op\":\"drop\"") != NULL, "drop: reported as dropped");
	free(r.report);
	o.op = SPIF_OP_PSEUDONYM;
	o.psn = psn1;
	r = redact1(&o, "受給者の個人番号", N1);
	regex_t re;
	regcomp(&re, "^受給者の個人番号=PSN:[A-Z2-7]{26}$", REG_EXTENDED);
	ok(regexec(&re, r.out, 0, NULL, 0) == 0, "pseudonym: PSN: and 26 base32 characters (%s)", r.out);
	regfree(&re);
	snprintf(w1, sizeof w1, "%s", strchr(r.out, '=') + 1);
	free(r.report);
	r = redact1(&o, "受給者の個人番号", form(N1, "－", 1, g));
	snprintf(w2, sizeof w2, "%s", strchr(r.out, '=') + 1);
	is_str(w2, w1, "pseudonym: the same number in another form, the same token");
	free(r.report);
	r = redact1(&o, "受給者の個人番号", N2);
	ok(strcmp(strchr(r.out, '=') + 1, w1) != 0, "pseudonym: another number, another token");
	free(r.report);
	o.psn = psn2;
	r = redact1(&o, "受給者の個人番号", N1);
	ok(strcmp(strchr(r.out, '=') + 1, w1) != 0, "pseudonym: another key, another token");
	free(r.report);
	o.psn = psn1;
	r = redact1(&o, "受給者の個人番号", BAD);
	is_str(r.out, "受給者の個人番号=************",
	       "pseudonym: a mistyped number has no stable token, so it is masked (fail closed)");
	ok(strstr(r.report, "\"op\":\"mask\"") != NULL, "pseudonym: the report says it was masked");
	free(r.report);
}

static void test_ops_free_text(void)
{
	char g[64], v[256], want[256];
	struct spif_redact_opts o = {.op = SPIF_OP_MASK};
	snprintf(v, sizeof v, "前職の個人番号は%sです", form(N1, "-", 0, g));
	expect(&o, "摘要欄", v, "摘要欄=前職の個人番号は****-****-****です", "mask in free text: only the number");
	o.op = SPIF_OP_EMPTY;
	expect(&o, "摘要欄", v, "摘要欄=", "empty in free text: the field becomes empty");
	expect(&o, "摘要欄", "年末調整済み", "摘要欄=年末調整済み", "empty: a field without a number stays");
	o.op = SPIF_OP_DROP;
	expect(&o, "摘要欄", v, "摘要欄=前職の個人番号は****-****-****です",
	       "--op drop outside number fields: findings masked, the field kept");
	struct spif_redact_field f = {.name = "摘要欄", .op = SPIF_OP_DROP, .has_op = 1};
	o = (struct spif_redact_opts){.op = SPIF_OP_MASK, .fields = &f, .nfields = 1};
	const char *kv[4] = {"id", "1", "摘要欄", v};
	struct result r = redact_kv(&o, kv, 2);
	is_str(r.out, "id=1", "--field NAME=drop drops the field");
	is_int(r.n.high, 1, "--field NAME=drop: its finding counted");
	free(r.report);
	f.op = SPIF_OP_EMPTY;
	r = redact_kv(&o, kv, 2);
	is_str(r.out, "id=1|摘要欄=", "--field NAME=empty: that field only");
	free(r.report);
	o = (struct spif_redact_opts){.op = SPIF_OP_PSEUDONYM, .psn = psn1};
	struct result t = redact1(&o, "受給者の個人番号", N1);
	snprintf(want, sizeof want, "摘要欄=前職の個人番号は%sです", strchr(t.out, '=') + 1);
	free(t.report);
	expect(&o, "摘要欄", v, want, "pseudonym in free text: the number field's token, in place");
}

static void test_forms(void)
{
	static const struct {
		const char *sep;
		int wide;
		const char *form, *masked;
	} forms[] = {
		{NULL, 0, "plain", "************"},
		{"-", 0, "grouped", "****-****-****"},
		{" ", 0, "grouped", "**** **** ****"},
		{".", 0, "grouped", "****.****.****"},
		{NULL, 1, "fullwidth", "＊＊＊＊＊＊＊＊＊＊＊＊"},
		{"－", 1, "mixed", "＊＊＊＊－＊＊＊＊－＊＊＊＊"},
		{"ー", 1, "mixed", "＊＊＊＊ー＊＊＊＊ー＊＊＊＊"},
		{"\xE3\x80\x80", 1, "mixed", "＊＊＊＊\xE3\x80\x80＊＊＊＊\xE3\x80\x80＊＊＊＊"},
	};
	struct spif_redact_opts o = {.op = SPIF_OP_MASK};
	char g[64], v[256], want[300], rep[160];
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		snprintf(v, sizeof v, "個人番号%s。", form(N2, forms[i].sep, forms[i].wide, g));
		snprintf(want, sizeof want, "備考=個人番号%s。", forms[i].masked);
		struct result r = redact1(&o, "備考", v);
		is_str(r.out, want, "form %s (%s): found and masked", forms[i].form, forms[i].sep ? forms[i].sep : "none");
		snprintf(rep, sizeof rep, "\"offset\":4,\"form\":\"%s\",\"confidence\":\"high\",\"keyword\":\"個人番号\"",
		         forms[i].form);
		ok(r.report && strstr(r.report, rep), "form %s: reported as %s, high, at character 4", forms[i].form,
		   forms[i].form);
		free(r.report);
	}
	/* half- and full-width digits in one number */
	snprintf(v, sizeof v, "個人番号 %.4s%s", N2, form(N2, NULL, 1, g) + 12);
	struct result r = redact1(&o, "備考", v);
	is_str(r.out, "備考=個人番号 ****＊＊＊＊＊＊＊＊", "form mixed (half and full digits): masked");
	ok(strstr(r.report, "\"form\":\"mixed\"") != NULL, "form mixed: reported as mixed");
	free(r.report);
	/* not numbers: a wrong check digit, 13 digits, a card number's groups */
	snprintf(v, sizeof v, "個人番号 %s", BAD);
	snprintf(want, sizeof want, "備考=%s", v);
	expect(&o, "備考", v, want, "a wrong check digit outside number fields is not a number");
	snprintf(v, sizeof v, "注文 %s9", N2);
	snprintf(want, sizeof want, "備考=%s", v);
	expect(&o, "備考", v, want, "13 digits are not an Individual Number");
	/* 法人番号: only when asked */
	snprintf(v, sizeof v, "法人番号：%s", CORP);
	snprintf(want, sizeof want, "備考=%s", v);
	expect(&o, "備考", v, want, "a 13-digit 法人番号 stays without corporate");
	o.corporate = 1;
	expect(&o, "備考", v, "備考=法人番号：*************", "corporate: a 法人番号 is masked");
	snprintf(v, sizeof v, "法人番号 %c-%.4s-%.4s-%.4s", CORP[0], CORP + 1, CORP + 5, CORP + 9);
	expect(&o, "備考", v, "備考=法人番号 *-****-****-****", "corporate: 1-4-4-4 too");
}

static void test_confidence(void)
{
	char v[128];
	struct spif_redact_opts o = {.op = SPIF_OP_MASK};
	snprintf(v, sizeof v, "注文番号 %s", N1);
	struct result r = redact1(&o, "備考", v);
	is_str(r.out, "備考=注文番号 ************", "no keyword: removed, low confidence");
	is_int(r.n.low, 1, "low: counted low");
	is_int(r.n.elsewhere, 1, "low: counted as elsewhere");
	ok(strstr(r.report, "\"confidence\":\"low\",\"keyword\":null") != NULL, "low: reported with no keyword");
	free(r.report);
	o.high_only = 1;
	r = redact1(&o, "備考", v);
	snprintf(v, sizeof v, "備考=注文番号 %s", N1);
	is_str(r.out, v, "--min-confidence high: a low one is left");
	is_int(r.n.left, 1, "--min-confidence high: counted as left");
	is_int(r.n.low + r.n.high, 0, "--min-confidence high: not counted as removed");
	ok(strstr(r.report, "\"op\":\"none (below --min-confidence)\"") != NULL, "left: reported as left");
	free(r.report);
	expect(&o, "マイナンバーカード番号", N1, "マイナンバーカード番号=************",
	       "a keyword in the field's name makes it high");
	struct result q = redact1(&o, "備考", "マイナンバー：1234");
	is_str(q.out, "備考=マイナンバー：1234", "a short digit run is nothing");
	free(q.report);
}

static void test_check_mode(void)
{
	char v[128];
	struct spif_redact_opts o = {.op = SPIF_OP_MASK, .check = 1};
	snprintf(v, sizeof v, "個人番号 %s", N1);
	const char *kv[6] = {"受給者の個人番号", N2, "備考", v, N1, "x"};
	struct result r = redact_kv(&o, kv, 3);
	char want[256];
	snprintf(want, sizeof want, "受給者の個人番号=%s|備考=%s|%s=x", N2, v, N1);
	is_str(r.out, want, "check: the record is left as it was");
	is_int(r.n.high + r.n.low, 3, "check: every number counted, the one in a name too");
	ok(!has_digit_run(r.report), "check: the report holds no digits of them");
	free(r.report);
	o.op = SPIF_OP_DROP;
	r = redact_kv(&o, kv, 3);
	is_int(r.rc, 0, "check with drop: no error");
	ok(strstr(r.out, "受給者の個人番号=") != NULL, "check with drop: nothing dropped");
	free(r.report);
}

static void test_names(void)
{
	char k[64], want[256];
	struct spif_redact_opts o = {.op = SPIF_OP_MASK, .high_only = 1};
	snprintf(k, sizeof k, "%s", N1);
	const char *kv[4] = {"name", "山田", k, "x"};
	struct result r = redact_kv(&o, kv, 2);
	is_str(r.out, "name=山田|************=x", "a key that is a number is masked");
	is_int(r.n.low, 1, "a number in a name is counted whatever --min-confidence says");
	is_str(r.report, "{\"row\":2,\"field\":\"************\",\"offset\":0,\"form\":\"plain\",\"confidence\":\"low\","
	                 "\"keyword\":null,\"op\":\"mask\",\"in\":\"name\"}\n",
	       "it is reported under its masked name, in the name");
	free(r.report);
	o = (struct spif_redact_opts){.op = SPIF_OP_PSEUDONYM, .psn = psn1};
	snprintf(k, sizeof k, "個人番号%s", N2);
	r = redact1(&o, k, "x");
	is_str(r.out, "個人番号************=x", "masked whatever the operator (a name stays a name)");
	is_int(r.n.high, 1, "a keyword in the name makes it high");
	free(r.report);
	o = (struct spif_redact_opts){.op = SPIF_OP_MASK};
	snprintf(k, sizeof k, "メモ%s", N2);
	snprintf(want, sizeof want, "個人番号 %s", N1);
	r = redact1(&o, k, want);
	is_str(r.out, "メモ************=個人番号 ************", "name and value both");
	ok(strstr(r.report, "\"field\":\"メモ************\",\"offset\":5") != NULL,
	   "a value's finding names the field by its masked name");

	ok(!has_digit_run(r.report), "the report holds no digits of either");
	free(r.report);
	/* CSV: the header is one place, counted with the first record only */
	o.fmt = SPIF_FMT_CSV;
	struct spif_redactor *rd;
	struct spif_err e = {0};
	o.input = "t.csv";
	if (spif_redactor_new(&o, &rd, &e) < 0)
		bail("spif_redactor_new");
	int all_masked = 1;
	for (int i = 0; i < 3; i++) {
		struct spif_record rec;
		spif_record_init(&rec);
		spif_record_add(&rec, "id", 2, "1", 1, 0);
		spif_record_add(&rec, N1, 12, "x", 1, 0);
		spif_redact_record(rd, &rec, &e);
		all_masked &= strcmp(rec.f[1].key, "************") == 0;
		spif_record_free(&rec);
	}
	ok(all_masked, "CSV: the masked name in every record");
	is_int(spif_redactor_counts(rd)->low, 1, "CSV: the header's number counted once");
	spif_redactor_free(rd);
}

static void test_meta(void)
{
	char v[64], want[256];
	struct spif_redact_opts o = {.op = SPIF_OP_MASK};
	snprintf(v, sizeof v, "個人番号%s", N1);
	const char *kv[8] = {"@file", "F000001", "@row", "7", "@note", v, "a", "x"};
	struct result r = redact_kv(&o, kv, 4);
	is_str(r.out, "@file=F000001|@row=7|@note=個人番号************|a=x",
	       "spif's own @file and @row pass; another @ field is scanned");
	ok(strstr(r.report, "\"row\":7,\"field\":\"@note\"") != NULL, "the report gives @row as the row");
	free(r.report);
	const char *kv2[4] = {"@row", N1, "a", "x"};
	r = redact_kv(&o, kv2, 2);
	snprintf(want, sizeof want, "@row=************|a=x");
	is_str(r.out, want, "an @row holding a number is scanned, not taken for the row");
	ok(strstr(r.report, "\"row\":2,") != NULL, "and the row is the record's");
	free(r.report);
}

static void test_fail_closed(void)
{
	struct spif_redact_field f = {.name = "nosuch", .op = SPIF_OP_DROP, .has_op = 1};
	struct spif_redact_opts o = {.op = SPIF_OP_MASK, .fields = &f, .nfields = 1};
	struct result r = redact1(&o, "摘要欄", "x");
	is_int(r.rc, -1, "a --field the input lacks: an error, never skipped");
	is_int(r.e.code, SPIF_EX_USAGE, "it is a usage error");
	is_str(r.e.msg, "--field nosuch: no such field in test", "it names the field and the input");
	free(r.report);
	const char *nf[1] = {"番号"};
	o = (struct spif_redact_opts){.op = SPIF_OP_MASK, .numfields = nf, .nnumfields = 1};
	r = redact1(&o, "摘要欄", "x");
	is_str(r.e.msg, "--number-field 番号: no such field in test", "a --number-field the input lacks too");
	free(r.report);
	expect(&o, "番号", "12-34", "番号=**-**", "a --number-field loses every digit");
	struct spif_psn *p = NULL;
	struct spif_err e = {0};
	struct spif_redactor *rd;
	struct spif_redact_field pf = {.name = "摘要欄", .op = SPIF_OP_PSEUDONYM, .has_op = 1};
	o = (struct spif_redact_opts){.op = SPIF_OP_MASK, .fields = &pf, .nfields = 1};
	is_int(spif_redactor_new(&o, &rd, &e), -1, "a pseudonym without a key: refused, never weaker");
	ok(e.code == SPIF_EX_USAGE && rd == NULL, "as a usage error, and no redactor");
	is_int(spif_psn_key_load(home, "nosuch", &p, &e), -1, "an unknown pseudonym key: refused");
	is_int(e.code, SPIF_EX_UNAVAILABLE, "as unavailable (69)");
	ok(strncmp(e.msg, "pseudonym key nosuch: ", 22) == 0 && strstr(e.msg, "--new-key nosuch"),
	   "it says how to create it (%s)", e.msg);
	ok(p == NULL, "and gives no key");
	is_int(spif_psn_key_load(home, "../etc", &p, &e), -1, "a key name that leaves keys/: refused");
	is_int(e.code, SPIF_EX_USAGE, "as a usage error");
	ok(!spif_psn_key_name_valid(".hidden") && !spif_psn_key_name_valid("") && !spif_psn_key_name_valid("a b") &&
	   spif_psn_key_name_valid("tax-2026_v1.0"), "key names: letters, digits, - _ . and not a dot first");
	char path[PATH_MAX + 80];
	snprintf(path, sizeof path, "%s/keys/psn-short.key", home);
	FILE *k = fopen(path, "w");
	fputs("too short", k);
	fclose(k);
	is_int(spif_psn_key_load(home, "short", &p, &e), -1, "a key file that is not 32 bytes: refused");
	ok(strstr(e.msg, "is not a 32-byte key") != NULL, "saying so");
	is_int(spif_psn_key_create(cat, home, &conf, "tax1", path, &e), -1, "an existing key is never replaced");
	is_int(e.code, SPIF_EX_CANTCREAT, "as cannot create (73)");
}

static void test_misc(void)
{
	static const char *const names[] = {"mask", "empty", "drop", "pseudonym"};
	int all = 1;
	for (int i = 0; i < 4; i++)
		all &= spif_redact_op_parse(names[i]) == i && strcmp(spif_redact_op_name((enum spif_redact_op)i),
		                                                       names[i]) == 0;
	ok(all, "operators by name and back");
	is_int(spif_redact_op_parse("shuffle"), -1, "an unknown operator");
	struct spif_redact_field f[2] = {{"a", SPIF_OP_MASK, 1}, {"b", SPIF_OP_PSEUDONYM, 1}};
	ok(!spif_redact_uses_psn(SPIF_OP_MASK, f, 1) && spif_redact_uses_psn(SPIF_OP_MASK, f, 2) &&
	   spif_redact_uses_psn(SPIF_OP_PSEUDONYM, NULL, 0), "pseudonyms: by --op or by a field's own");
	enum spif_format fmt = SPIF_FMT_NONE;
	ok(spif_redact_guess_format("mail.EML", &fmt) == 1 && spif_redact_guess_format("x.log", &fmt) == 1,
	   "text by its name");
	ok(spif_redact_guess_format("a.tab", &fmt) == 0 && fmt == SPIF_FMT_TSV, "TSV by its name");
	ok(spif_redact_guess_format("a.jsonl", &fmt) == 0 && fmt == SPIF_FMT_NDJSON, "NDJSON by its name");
	ok(spif_redact_guess_format("-", &fmt) == 0 && fmt == SPIF_FMT_NDJSON, "a pipe carries records");
	ok(spif_redact_guess_format("a.dat", &fmt) == 0 && fmt == SPIF_FMT_CSV, "else CSV");
	struct spif_copy c = {.details = "{\"min_confidence\":\"low\",\"op\":\"mask\",\"redacted\":true}"};
	ok(spif_copy_redacted(&c), "a redacted output copy holds no numbers");
	c.details = "{\"redacted\":false}";
	ok(!spif_copy_redacted(&c), "redacted false does");
	c.details = NULL;
	ok(!spif_copy_redacted(&c), "a copy without details does");
	ok(spif_psn_is_token("PSN:ABC") && !spif_psn_is_token("PSM:ABC"), "a token is known by PSN:");
}

/* ---- text ----------------------------------------------------------------- */

struct sink {
	char *p;
	size_t n;
};

static int sink_fn(void *ctx, const void *buf, size_t n)
{
	struct sink *s = ctx;
	char *p = realloc(s->p, s->n + n + 1);
	if (!p)
		return -1;
	memcpy(p + s->n, buf, n);
	s->p = p;
	s->n += n;
	p[s->n] = '\0';
	return 0;
}

/* A temporary file holding n bytes of s. */
static int temp_input(const char *s, size_t n)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/in.XXXXXX", home);
	int fd = mkstemp(path);
	if (fd < 0 || write_all(fd, s, n) < 0)
		bail("temp_input");
	unlink(path);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void test_text(void)
{
	char text[1024], want[1024], g[64];
	char far[400];
	memset(far, '-', sizeof far - 1);
	far[sizeof far - 1] = '\0'; /* more than 300 characters away from the keyword */
	snprintf(text, sizeof text, "お世話になっております。\nマイナンバー：%s\n%s\n注文 %s\n", form(N1, "　", 1, g), far,
	         N2);
	struct spif_redact_opts o = {.op = SPIF_OP_DROP, .input = "mail.txt"};
	struct spif_redactor *r;
	struct spif_err e = {0};
	struct sink out = {0};
	spif_redactor_new(&o, &r, &e);
	int fd = temp_input(text, strlen(text));
	is_int(spif_redact_text(r, fd, "mail.txt", SPIF_ENC_UTF8, SPIF_ENC_UTF8, sink_fn, &out, &e), 0, "text: no error");
	snprintf(want, sizeof want, "お世話になっております。\nマイナンバー：＊＊＊＊　＊＊＊＊　＊＊＊＊\n%s\n注文 ************\n",
	         far);
	is_str(out.p ? out.p : "", want, "text: every number masked (drop masks), the rest as it was");
	is_int(spif_redactor_counts(r)->records, 1, "text: one window");
	is_int(spif_redactor_counts(r)->high, 1, "text: the one near マイナンバー high");
	is_int(spif_redactor_counts(r)->low, 1, "text: the other low");
	close(fd);
	spif_redactor_free(r);
	free(out.p);
	/* CP932 in, CP932 out */
	static const char sjis[] = "\x8c\xc2\x90\x6c\x94\xd4\x8d\x86 "; /* 個人番号 */
	char in[64];
	snprintf(in, sizeof in, "%s%s\n", sjis, N1);
	memset(&out, 0, sizeof out);
	spif_redactor_new(&o, &r, &e);
	fd = temp_input(in, strlen(in));
	is_int(spif_redact_text(r, fd, "s.txt", SPIF_ENC_CP932, SPIF_ENC_CP932, sink_fn, &out, &e), 0,
	       "text in CP932: no error");
	snprintf(text, sizeof text, "%s************\n", sjis);
	is_str(out.p ? out.p : "", text, "text in CP932: written back in CP932, the number masked");
	close(fd);
	spif_redactor_free(r);
	free(out.p);
	/* bad bytes stop the run with their offset, never a number */
	snprintf(in, sizeof in, "個人番号 %s\n\xff\n", N1);
	memset(&out, 0, sizeof out);
	spif_redactor_new(&o, &r, &e);
	fd = temp_input(in, strlen(in));
	is_int(spif_redact_text(r, fd, "t.txt", SPIF_ENC_UTF8, SPIF_ENC_UTF8, sink_fn, &out, &e), -1,
	       "text: a byte that is not UTF-8 is an error");
	is_int(e.code, SPIF_EX_DATAERR, "as bad input (65)");
	snprintf(text, sizeof text, "t.txt: byte offset %zu: not valid UTF-8", strlen(in) - 2);
	is_str(e.msg, text, "naming its offset");
	close(fd);
	spif_redactor_free(r);
	free(out.p);
}

/* The reader on CP932 half-width katakana: one byte in, three out, so the
 * decoded text outgrows what was read; the number at the very end is in
 * the last window. */
static void test_textscan_cp932(void)
{
	size_t nk = 2000000;
	char *in = malloc(nk + 64);
	if (!in)
		bail("malloc");
	for (size_t i = 0; i < nk; i++)
		in[i] = i % 80 == 79 ? '\n' : '\xb1'; /* ｱ */
	size_t n = nk + (size_t)sprintf(in + nk, "\x8c\xc2\x90\x6c\x94\xd4\x8d\x86 %s\n", N2);
	int fd = temp_input(in, n);
	struct spif_textscan *ts;
	struct spif_textwin w;
	struct spif_err e = {0};
	spif_textscan_open(fd, "k.txt", SPIF_ENC_CP932, &ts, &e);
	size_t total = 0, last_n = 0;
	int rc, tail_ok = 0;
	while ((rc = spif_textscan_next(ts, &w, &e)) > 0) {
		total += w.n;
		last_n = w.n;
		if (w.n >= 14 && memcmp(w.text + w.n - 13, N2, 12) == 0)
			tail_ok = 1;
	}
	is_int(rc, 0, "CP932 katakana: read to the end");
	size_t lines = nk / 80, kana = nk - lines;
	/* ｱ 3 bytes each, line breaks, 個人番号 (12), a space, the number, a line break */
	is_int((long long)total, (long long)(kana * 3 + lines + 12 + 1 + 12 + 1), "CP932 katakana: every byte decoded");
	ok(tail_ok && last_n > 0, "CP932 katakana: the last line, number and all, in the last window");
	spif_textscan_close(ts);
	close(fd);
	/* an empty input: one empty window, then the end */
	fd = temp_input("", 0);
	spif_textscan_open(fd, "e.txt", SPIF_ENC_UTF8, &ts, &e);
	rc = spif_textscan_next(ts, &w, &e);
	ok(rc == 1 && w.n == 0, "an empty input: one empty window");
	is_int(spif_textscan_next(ts, &w, &e), 0, "then the end");
	spif_textscan_close(ts);
	close(fd);
	free(in);
}

/* ---- pseudonym keys ------------------------------------------------------- */

static void test_keys(void)
{
	struct spif_err e = {0};
	char path[PATH_MAX + 80];
	is_int(spif_psn_key_create(cat, home, &conf, "tax1", path, &e), 0, "a key is created (%s)", e.msg);
	struct stat st;
	ok(stat(path, &st) == 0 && st.st_size == 32 && (st.st_mode & 0777) == 0600, "32 bytes, 0600");
	is_int(spif_psn_key_create(cat, home, &conf, "tax2", path, &e), 0, "another");
	is_int(spif_psn_key_load(home, "tax1", &psn1, &e), 0, "loaded");
	is_int(spif_psn_key_load(home, "tax2", &psn2, &e), 0, "the other loaded");
	char t[32];
	int max = 0, ok_all = 1;
	char d[13];
	for (int i = 0; i < 2000; i++) { /* never 12 digits in a row */
		snprintf(d, sizeof d, "%012d", i * 7919);
		spif_psn_token(psn1, d, t);
		int run = 0;
		for (int j = 4; t[j]; j++) {
			run = t[j] >= '0' && t[j] <= '9' ? run + 1 : 0;
			max = run > max ? run : max;
		}
		ok_all &= strncmp(t, "PSN:", 4) == 0 && strlen(t) == 30;
	}
	ok(ok_all && max < 12, "tokens: PSN: and 26 characters, never 12 digits in a row");
}

/* ---- --file ----------------------------------------------------------------- */

/* A file with a vault copy of nrec records (and a plain copy of kind, if
 * given, with details); returns its id. */
static long long vault_file(int nrec, const char *other_kind, const char *other_details)
{
	struct spif_err e = {0};
	char now[32], path[PATH_MAX], sha[65], g[64], v[128];
	long long size;
	spif_now_utc(now);
	struct spif_file f = {.label = "t", .purpose = "個人住民税", .received = "2026-01-01", .format = "csv",
	                      .encoding = "utf-8", .number_fields = "[\"番号\"]", .records = nrec, .persons = nrec,
	                      .sha256 = "0", .created = now};
	struct spif_vault_writer *vw;
	if (spif_catalog_begin(cat, &e) < 0 || spif_catalog_add_file(cat, &f, &e) < 0 ||
	    spif_vault_create(cat, &conf, f.id, "indefinite", &vw, path, &e) < 0 || spif_catalog_commit(cat, &e) < 0)
		bail(e.msg);
	struct spif_writer *w = spif_writer_open(spif_vault_write, vw, path, SPIF_FMT_NDJSON, SPIF_ENC_UTF8, NULL, &e);
	char fid[24], row[16];
	spif_file_id_format(f.id, fid);
	for (int i = 0; i < nrec; i++) {
		struct spif_record rec;
		spif_record_init(&rec);
		snprintf(row, sizeof row, "%d", i + 2);
		snprintf(v, sizeof v, "前職分 個人番号 %s", form(N2, "-", 0, g));
		spif_record_add(&rec, "@file", 5, fid, strlen(fid), 0);
		spif_record_add(&rec, "@row", 4, row, strlen(row), 0);
		spif_record_add(&rec, "番号", 6, BAD, 12, 0); /* a number field by the catalog, mistyped */
		spif_record_add(&rec, "摘要", 6, v, strlen(v), 0);
		spif_record_add(&rec, "氏名", 6, "山田", 6, 0);
		spif_writer_put(w, &rec, &e);
		spif_record_free(&rec);
	}
	if (spif_writer_finish(w, &e) < 0)
		bail(e.msg);
	spif_writer_close(w);
	if (spif_vault_finish(vw, sha, &size, &e) < 0)
		bail(e.msg);
	struct spif_copy cp = {.file_id = f.id, .kind = "vault", .path = path, .sha256 = sha, .size = size,
	                       .encrypted = 1, .created = now};
	struct spif_copy oc = {.file_id = f.id, .kind = (char *)other_kind, .path = "/nonexistent/out.csv",
	                       .created = now, .details = (char *)other_details};
	if (spif_catalog_begin(cat, &e) < 0 || spif_catalog_add_copy(cat, &cp, &e) < 0 ||
	    (other_kind && spif_catalog_add_copy(cat, &oc, &e) < 0) || spif_catalog_commit(cat, &e) < 0)
		bail(e.msg);
	return f.id;
}

static int collect(void *ctx, const void *buf, size_t n)
{
	return sink_fn(ctx, buf, n);
}

static void test_redact_file(void)
{
	struct spif_err e = {0};
	struct spif_redact_file_result res;
	struct spif_redact_file_opts o = {.op = SPIF_OP_MASK, .reason = "保存期間満了後も記録を保管", .home = home,
	                                  .conf = &conf};
	/* fail closed: a copy with numbers outside the vault */
	o.file_id = vault_file(3, "output", NULL);
	is_int(spif_redact_file(cat, &o, &res, &e), -1, "--file with a plain copy outside the vault: refused");
	is_int(e.code, SPIF_FOUND, "as found (1)");
	ok(strstr(e.msg, "still has a copy with numbers outside the vault (output, /nonexistent/out.csv)") != NULL,
	   "naming the copy (%s)", e.msg);
	/* a redacted output is no such copy */
	o.file_id = vault_file(5, "output", "{\"min_confidence\":\"low\",\"op\":\"mask\",\"redacted\":true}");
	char fid[24];
	spif_file_id_format(o.file_id, fid);
	struct spif_copy *cp;
	size_t n;
	spif_catalog_get_copies(cat, o.file_id, &cp, &n, &e);
	char old[PATH_MAX];
	snprintf(old, sizeof old, "%s", cp[0].path);
	spif_copies_free(cp, n);
	is_int(spif_redact_file(cat, &o, &res, &e), 0, "--file: done (%s)", e.code ? e.msg : "no error");
	ok(strncmp(res.cert, "DC-", 3) == 0, "--file: a certificate (%s)", res.cert);
	is_int(res.records, 5, "--file: every record rewritten");
	is_int(res.removed, 10, "--file: the number field's value and the number in the text, in each");
	ok(res.verified && !res.resumed, "--file: the old key checked gone");
	ok(access(old, F_OK) != 0, "--file: the old copy's ciphertext is gone");
	char want[160];
	snprintf(want, sizeof want, "%s redacted: 5 records, 10 numbers removed; certificate %s", fid, res.cert);
	is_str(res.summary, want, "--file: the summary");
	struct spif_file f;
	spif_catalog_get_file(cat, o.file_id, &f, &e);
	ok(f.state == SPIF_FILE_REDACTED, "--file: the file is redacted");
	is_str(f.number_fields, "[]", "--file: and has no number fields left");
	spif_file_free(&f);
	spif_catalog_get_copies(cat, o.file_id, &cp, &n, &e);
	const struct spif_copy *nv = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(cp[i].kind, "vault") == 0 && cp[i].state == SPIF_COPY_PRESENT)
			nv = &cp[i];
	ok(nv && spif_copy_redacted(nv), "--file: the new vault copy is marked redacted");
	struct sink got = {0};
	ok(nv && spif_vault_read(cat, o.file_id, nv->path, collect, &got, &e) == 0, "--file: the new copy reads");
	ok(got.p && strstr(got.p, "\"番号\":\"************\"") && strstr(got.p, "個人番号 ****-****-****") &&
	   strstr(got.p, "\"氏名\":\"山田\""), "--file: numbers gone, the rest kept");
	ok(got.p && !strstr(got.p, N2) && !strstr(got.p, BAD), "--file: no digit of them left");
	free(got.p);
	spif_copies_free(cp, n);
	struct spif_cert ct;
	ok(spif_cert_load(cat, res.cert, &ct, &e) == 0 && strstr(ct.body, "\"kind\":\"redaction\"") &&
	   strstr(ct.body, "passed: no number in the new copy; the old key is in neither file"),
	   "--file: the certificate is of a redaction, verified");
	spif_cert_free(&ct);
	is_int(spif_redact_file(cat, &o, &res, &e), -1, "--file again: refused");
	snprintf(want, sizeof want, "%s is redacted: nothing to redact", fid);
	is_str(e.msg, want, "there is nothing left to redact");
	o.file_id = 999;
	is_int(spif_redact_file(cat, &o, &res, &e), -1, "--file of a file the catalog does not hold: refused");
	is_int(e.code, SPIF_EX_DATAERR, "as bad input (65)");
	o.op = SPIF_OP_PSEUDONYM;
	is_int(spif_redact_file(cat, &o, &res, &e), -1, "--file with pseudonym and no key: refused");
	is_int(e.code, SPIF_EX_USAGE, "before anything is looked at");
	o.op = SPIF_OP_DROP;
	is_int(spif_redact_file(cat, &o, &res, &e), -1, "--file with drop: refused, the record is kept");
}

int main(int argc, char **argv)
{
	struct spif_err err = {0};
	signal(SIGPIPE, SIG_IGN);
	const char *tmp = getenv("TMPDIR");
	snprintf(home, sizeof home, "%s/spif-redact.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(home))
		bail("mkdtemp");
	struct spif_actor actor;
	memset(&conf, 0, sizeof conf);
	if (spif_crypto_init(&err) < 0 || spif_actor_init(&actor, argc, argv, &err) < 0 ||
	    spif_catalog_open(home, &conf, SPIF_CAT_CREATE, &actor, &cat, &err) < 0) {
		printf("# %s\n", err.msg);
		bail("cannot open a catalog");
	}
	spif_actor_free(&actor);
	make_numbers();

	test_keys();
	test_ops_number_field();
	test_ops_free_text();
	test_forms();
	test_confidence();
	test_check_mode();
	test_names();
	test_meta();
	test_fail_closed();
	test_misc();
	test_text();
	test_textscan();
	test_textscan_cp932();
	test_redact_file();

	spif_psn_free(psn1);
	spif_psn_free(psn2);
	spif_catalog_close(cat);
	if (!getenv("SPIF_KEEP")) {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", home);
	}
	return tap_done();
}
