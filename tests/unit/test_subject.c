/* test_subject.c - a disclosure request's number: read from a file in
 * every form a person writes it, refused with a wrong check digit or
 * anything else, never shown in a message; and found in a command-line
 * word in every form (which the command refuses). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mynumber.h"
#include "subject.h"
#include "tap.h"

static char dir[] = "/tmp/test_subject.XXXXXX";

/* Write s into a file of dir; its path. */
static const char *file_with(const char *s)
{
	static char path[64];
	snprintf(path, sizeof path, "%s/n", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(s, f);
	fclose(f);
	return path;
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const char *n = "123456789018"; /* the public worked example */
	static const char *forms[] = {
		"123456789018\n", "  123456789018 \r\n", "1234-5678-9018\n", "1234 5678 9018",
		"\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96\xEF\xBC\x97\xEF\xBC\x98"
		"\xEF\xBC\x99\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x98\n", /* full-width */
		"1234\xE3\x80\x80" "5678\xE3\x80\x80" "9018", /* ideographic spaces */
	};
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		char d[13] = "";
		struct spif_err e = {0};
		int rc = spif_subject_read(file_with(forms[i]), d, &e);
		ok(rc == 0 && strcmp(d, n) == 0, "form %zu read as the number", i);
	}
	static const struct { const char *s; const char *why; } bad[] = {
		{"123456789017\n", "its check digit is wrong"},
		{"123456789018 123456789018\n", "does not hold one Individual Number"},
		{"12345678901\n", "does not hold one Individual Number"},
		{"1234567890180\n", "does not hold one Individual Number"},
		{"", "does not hold one Individual Number"},
		{"ID 123456789018\n", "does not hold one Individual Number"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char d[13];
		memset(d, 'x', sizeof d);
		struct spif_err e = {0};
		int rc = spif_subject_read(file_with(bad[i].s), d, &e);
		ok(rc < 0 && e.code == SPIF_EX_DATAERR && strstr(e.msg, bad[i].why), "bad %zu refused: %s", i, e.msg);
		ok(!strstr(e.msg, "1234") && !strstr(e.msg, "9018"), "bad %zu: no digits in the message", i);
		ok(memchr(d, 'x', sizeof d) == NULL && d[0] == '\0', "bad %zu: nothing left in digits", i);
	}
	{
		char d[13];
		struct spif_err e = {0};
		char path[80];
		snprintf(path, sizeof path, "%s/none", dir);
		ok(spif_subject_read(path, d, &e) < 0 && e.code == SPIF_EX_NOINPUT, "a missing file: no input");
	}
	ok(spif_subject_in_text("123456789018"), "argv: plain");
	ok(spif_subject_in_text("--subject=1234-5678-9018"), "argv: 4-4-4 after an option");
	ok(spif_subject_in_text("/tmp/x/123456789018.txt"), "argv: inside a path");
	ok(spif_subject_in_text("担当\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96"
	                        "\xEF\xBC\x97\xEF\xBC\x98\xEF\xBC\x99\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x98"),
	   "argv: full-width after kanji");
	ok(spif_subject_in_text("12 34 56 78 90 18"), "argv: another grouping");
	ok(!spif_subject_in_text("123456789017"), "argv: a wrong check digit is not a number");
	ok(!spif_subject_in_text("EX-2026-000001"), "argv: an export id");
	ok(!spif_subject_in_text("1234567890185"), "argv: 13 digits");
	unlink(file_with(""));
	rmdir(dir);
	return tap_done();
}
