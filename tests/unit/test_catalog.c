/* test_catalog.c - the catalog's states and queries: file and copy states
 * to and from their names (and st filled when rows are read, whichever
 * way they were written), the file id a record stream begins with, and
 * the listings of catalog_query.h on a catalog made here: files by state,
 * copies by state and by path, the audit log by object and its last N,
 * and a callback that stops a listing. */
#include "audit.h"
#include "catalog.h"
#include "catalog_query.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct spif_catalog *cat;

static void test_states(void)
{
	static const char *const files[] = {"active", "redacted", "disposed"};
	static const char *const copies[] = {"present", "disposing", "disposed"};
	for (int i = 0; i < 3; i++) {
		is_str(spif_file_state_name((enum spif_file_state)i), files[i], "file state %d is %s", i, files[i]);
		is_int(spif_file_state_parse(files[i]), i, "%s parses back", files[i]);
		is_str(spif_copy_state_name((enum spif_copy_state)i), copies[i], "copy state %d is %s", i, copies[i]);
		is_int(spif_copy_state_parse(copies[i]), i, "%s parses back", copies[i]);
	}
	is_int(spif_file_state_parse("present"), -1, "a copy state is not a file state");
	is_int(spif_copy_state_parse("active"), -1, "a file state is not a copy state");
	is_int(spif_file_state_parse(NULL), -1, "NULL is no state");
	is_int(spif_copy_state_parse("Disposed"), -1, "names are exact");
	is_int(SPIF_FILE_ACTIVE, 0, "a zeroed file is active");
	is_int(SPIF_COPY_PRESENT, 0, "a zeroed copy is present");
}

static void test_records_id(void)
{
	char fid[24];
	static const struct {
		const char *text, *want;
	} v[] = {
		{"{\"@file\":\"F000001\",\"@row\":2}", "F000001"},
		{"{\"@file\":\"F12\",", "F000012"},
		{"{\"@file\":\"7\"", "F000007"},
		{"{\"@file\":\"F000001", ""},   /* cut before the closing quote */
		{"{\"@file\":\"F0x01\"", ""},
		{"{\"@file\":\"\"", ""},
		{"{\"@row\":2,\"@file\":\"F000001\"}", ""}, /* not first: not spif's */
		{"{\"@file\": \"F000001\"}", ""},
		{"@file,F000001", ""},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		memset(fid, 'x', sizeof fid);
		spif_file_id_in_records(v[i].text, strlen(v[i].text), fid);
		is_str(fid, v[i].want, "records id of %s: \"%s\"", v[i].text, fid);
	}
	/* only the first n bytes are looked at */
	spif_file_id_in_records("{\"@file\":\"F000001\"}", 12, fid);
	is_str(fid, "", "n bounds the look");
}

static long long add_file(const char *label, enum spif_file_state st)
{
	struct spif_err err = {0};
	struct spif_file f = {.label = (char *)label, .purpose = (char *)"p", .received = (char *)"2026-01-01",
	                      .format = (char *)"csv", .encoding = (char *)"utf-8", .sha256 = (char *)"00",
	                      .created = (char *)"2026-01-01T00:00:00.000Z", .state = st};
	if (spif_catalog_add_file(cat, &f, &err) < 0)
		printf("# %s\n", err.msg);
	return f.id;
}

static long long add_copy(long long file_id, const char *path, enum spif_copy_state st)
{
	struct spif_err err = {0};
	struct spif_copy cp = {.file_id = file_id, .kind = (char *)"source", .path = (char *)path,
	                       .created = (char *)"2026-01-01T00:00:00.000Z", .state = st};
	if (spif_catalog_add_copy(cat, &cp, &err) < 0)
		printf("# %s\n", err.msg);
	return cp.id;
}

struct seen {
	char what[256];
	int n, stop_at;
};

static int file_row(void *ctx, const struct spif_file *f)
{
	struct seen *s = ctx;
	size_t k = strlen(s->what);
	snprintf(s->what + k, sizeof s->what - k, "%s%s:%s", k ? " " : "", f->label,
	         spif_file_state_name(f->state));
	return ++s->n == s->stop_at ? 7 : 0;
}

static int event_row(void *ctx, const struct spif_event_row *ev)
{
	struct seen *s = ctx;
	size_t k = strlen(s->what);
	snprintf(s->what + k, sizeof s->what - k, "%s%lld:%s", k ? " " : "", ev->seq, ev->action);
	s->n++;
	return 0;
}

static void test_queries(void)
{
	struct spif_err err = {0};
	ok(spif_catalog_begin(cat, &err) == 0, "begin");
	/* written by name (as older code does) and by enum */
	long long a = add_file("a", SPIF_FILE_ACTIVE);
	long long b = add_file("b", SPIF_FILE_DISPOSED);
	long long c = add_file("c", SPIF_FILE_REDACTED);
	add_copy(a, "/x/one", SPIF_COPY_PRESENT);
	long long c2 = add_copy(a, "/x/two", SPIF_COPY_DISPOSING);
	add_copy(b, "/x/one", SPIF_COPY_DISPOSED);
	long long c4 = add_copy(c, "/x/one", SPIF_COPY_PRESENT);
	ok(spif_catalog_set_copy_state(cat, c4, SPIF_COPY_DISPOSING, &err) == 0, "set a copy's state");
	json_t *d = json_object();
	char fa[24];
	spif_file_id_format(a, fa);
	ok(spif_audit_append(cat, "one", fa, d, NULL, &err) == 0 && spif_audit_append(cat, "two", NULL, d, NULL, &err) == 0 &&
	   spif_audit_append(cat, "three", fa, d, NULL, &err) == 0, "three events");
	json_decref(d);
	ok(spif_catalog_commit(cat, &err) == 0, "commit");

	struct seen s = {0};
	ok(spif_catalog_list_files(cat, -1, file_row, &s, &err) == 0, "list every file");
	is_str(s.what, "a:active b:disposed c:redacted", "in id order, with their states");
	memset(&s, 0, sizeof s);
	ok(spif_catalog_list_files(cat, SPIF_FILE_DISPOSED, file_row, &s, &err) == 0 && strcmp(s.what, "b:disposed") == 0,
	   "only the disposed: %s", s.what);
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	is_int(spif_catalog_list_files(cat, -1, file_row, &s, &err), 7, "a callback's non-zero stops and is returned");
	is_int(s.n, 2, "... after the second row");

	struct spif_copy *cp;
	size_t n;
	ok(spif_catalog_copies_in_state(cat, SPIF_COPY_DISPOSING, &cp, &n, &err) == 0 && n == 2 && cp[0].id == c2 &&
	   cp[1].id == c4 && cp[0].state == SPIF_COPY_DISPOSING && cp[1].state == SPIF_COPY_DISPOSING,
	   "copies disposing: two, in id order");
	spif_copies_free(cp, n);
	ok(spif_catalog_copies_at(cat, "/x/one", &cp, &n, &err) == 0 && n == 2 && cp[0].file_id == a &&
	   cp[1].file_id == c && cp[0].state == SPIF_COPY_PRESENT && cp[1].state == SPIF_COPY_DISPOSING,
	   "copies at a path: those not disposed, oldest first");
	spif_copies_free(cp, n);
	ok(spif_catalog_copies_at(cat, "/x/none", &cp, &n, &err) == 0 && n == 0 && cp == NULL, "none at another path");

	memset(&s, 0, sizeof s);
	ok(spif_catalog_list_events(cat, NULL, 0, event_row, &s, &err) == 0 && s.n == 3 &&
	   strcmp(s.what, "1:one 2:two 3:three") == 0, "the log, oldest first: %s", s.what);
	memset(&s, 0, sizeof s);
	ok(spif_catalog_list_events(cat, fa, 0, event_row, &s, &err) == 0 && strcmp(s.what, "1:one 3:three") == 0,
	   "the log of one object: %s", s.what);
	memset(&s, 0, sizeof s);
	ok(spif_catalog_list_events(cat, "", 2, event_row, &s, &err) == 0 && strcmp(s.what, "2:two 3:three") == 0,
	   "the last two, oldest first: %s", s.what);

	struct spif_file f;
	ok(spif_catalog_get_file(cat, c, &f, &err) == 0 && f.state == SPIF_FILE_REDACTED, "get_file fills st");
	spif_file_free(&f);
}

/* spif_catalog_file_at: the file a present copy at a path belongs to,
 * the newest such copy's, whatever the path's spelling. */
static void test_file_at(const char *home)
{
	struct spif_err err = {0};
	char real[4200], spelt[4200], other[4200], fid[24], want[24];
	snprintf(real, sizeof real, "%s/one.csv", home);
	snprintf(spelt, sizeof spelt, "%s/./one.csv", home);
	snprintf(other, sizeof other, "%s/two.csv", home);
	FILE *f1 = fopen(real, "w"), *f2 = fopen(other, "w");
	ok(f1 && f2, "two files on disk");
	if (f1)
		fclose(f1);
	if (f2)
		fclose(f2);
	ok(spif_catalog_begin(cat, &err) == 0, "begin");
	long long x = add_file("x", SPIF_FILE_ACTIVE), y = add_file("y", SPIF_FILE_ACTIVE);
	add_copy(x, real, SPIF_COPY_PRESENT);
	add_copy(y, real, SPIF_COPY_PRESENT);
	add_copy(x, real, SPIF_COPY_DISPOSING); /* newest, but not present */
	ok(spif_catalog_commit(cat, &err) == 0, "commit");
	spif_file_id_format(y, want);
	strcpy(fid, "junk");
	is_int(spif_catalog_file_at(cat, spelt, fid, &err), 1, "file_at: found through another spelling");
	is_str(fid, want, "... the newest present copy's file");
	strcpy(fid, "junk");
	is_int(spif_catalog_file_at(cat, other, fid, &err), 0, "file_at: a file the catalog does not know");
	is_str(fid, "", "... no id");
	strcat(other, ".gone");
	is_int(spif_catalog_file_at(cat, other, fid, &err), 0, "file_at: a path that does not resolve");
	unlink(real);
}

int main(int argc, char **argv)
{
	struct spif_err err = {0};
	struct spif_conf conf;
	char home[4096];
	const char *tmp = getenv("TMPDIR");
	snprintf(home, sizeof home, "%s/spif-catalog.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	test_states();
	test_records_id();
	if (!mkdtemp(home)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	struct spif_actor actor;
	memset(&conf, 0, sizeof conf);
	if (spif_actor_init(&actor, argc, argv, &err) < 0 ||
	    spif_catalog_open(home, &conf, SPIF_CAT_CREATE, &actor, &cat, &err) < 0) {
		ok(0, "open a catalog: %s", err.msg);
		return tap_done();
	}
	spif_actor_free(&actor);
	test_queries();
	test_file_at(home);
	spif_catalog_close(cat);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", home);
	return tap_done();
}
