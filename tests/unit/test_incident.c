/* test_incident.c - incidents over a real catalog: ids, the hold placed
 * before a file is recorded (and none for a disposed file), numbering,
 * notes and closing, and every refusal leaving the incident as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "catalog_priv.h"
#include "incident.h"
#include "mynumber.h"
#include "retention.h"
#include "tap.h"

static long long add_file(struct spif_catalog *c, long long records)
{
	struct spif_err e = {0};
	struct spif_file f = {.label = "t.csv", .purpose = "p", .received = "2026-01-01", .format = "csv",
	                      .encoding = "utf-8", .sha256 = "00", .created = "2026-01-01T00:00:00.000Z",
	                      .records = records, .persons = records};
	if (spif_catalog_begin(c, &e) < 0 || spif_catalog_add_file(c, &f, &e) < 0 || spif_catalog_commit(c, &e) < 0) {
		printf("# add file: %s\n", e.msg);
		return -1;
	}
	return f.id;
}

static int count_files(void *ctx, const struct spif_incident_file *f)
{
	long long *n = ctx;
	n[0]++;
	n[1] += f->records;
	if (f->hold_id)
		n[2]++;
	return 0;
}

static int count_notes(void *ctx, const struct spif_incident_note *nt)
{
	(void)nt;
	(*(int *)ctx)++;
	return 0;
}

/* Run one change in a transaction; on failure roll back.  The code, or 0. */
static int tx(struct spif_catalog *c, int rc, struct spif_err *e)
{
	if (rc < 0) {
		spif_catalog_rollback(c);
		return e->code;
	}
	return spif_catalog_commit(c, e) < 0 ? e->code : 0;
}

int main(void)
{
	ok(spif_incident_id_valid("INC-2026-000001"), "an incident id");
	ok(!spif_incident_id_valid("INC-2026-00001"), "too short");
	ok(!spif_incident_id_valid("INC-2026-0000011"), "too long");
	ok(!spif_incident_id_valid("EX-2026-000001"), "an export id is not one");
	ok(!spif_incident_id_valid("INC-20a6-000001"), "a letter in the year");
	ok(!spif_incident_id_valid(NULL), "NULL");

	const char *tmp = getenv("TMPDIR");
	char tdir[4096];
	snprintf(tdir, sizeof tdir, "%s/spif-incident-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char *home = mkdtemp(tdir);
	struct spif_err e = {0};
	struct spif_conf conf = {0};
	struct spif_actor a;
	char *argv[] = {"test_incident", NULL};
	struct spif_catalog *c = NULL;
	if (!home || spif_actor_init(&a, 1, argv, &e) < 0 || spif_catalog_open(home, &conf, SPIF_CAT_CREATE, &a, &c, &e) < 0) {
		ok(0, "open a catalog: %s", e.msg);
		return tap_done();
	}
	long long f1 = add_file(c, 5), f2 = add_file(c, 7), f3 = add_file(c, 2);
	ok(f1 > 0 && f2 > 0 && f3 > 0, "three files");

	/* outside a transaction: refused */
	char id[32];
	ok(spif_incident_open(c, "x", &f1, 1, id, &e) < 0 && e.code == SPIF_EX_SOFTWARE, "open needs a transaction");

	/* refusals leave nothing */
	long long twice[] = {f1, f1}, unknown[] = {f1, 999};
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_open(c, "x", twice, 2, id, &e), &e), SPIF_EX_USAGE, "a file twice");
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_open(c, "x", unknown, 2, id, &e), &e), SPIF_EX_DATAERR, "an unknown file");
	/* a valid number, made here from its first eleven digits */
	char num[13] = "98765432109", summary[64];
	num[11] = (char)('0' + spif_mynumber_check_digit(num));
	num[12] = '\0';
	snprintf(summary, sizeof summary, "番号 %s 流出", num);
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_open(c, summary, &f1, 1, id, &e), &e), SPIF_EX_USAGE, "a summary with a number");
	ok(!strstr(e.msg, num), "the refusal does not repeat it");
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_open(c, "x", f1 ? &f1 : NULL, 0, id, &e), &e), SPIF_EX_USAGE, "no file");
	is_int(spif_file_held(c, f1, &e), 0, "no hold left behind by a refusal");

	/* open: held first */
	long long two[] = {f1, f2};
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_open(c, "USB lost", two, 2, id, &e), &e), 0, "open");
	ok(strncmp(id, "INC-", 4) == 0 && spif_incident_id_valid(id) && strcmp(id + 9, "000001") == 0,
	   "the first incident of its year: %s", id);
	long long hid = spif_file_held(c, f1, &e);
	ok(hid > 0, "the file is held");
	int incident = 0;
	char by[64];
	ok(spif_hold_kind(c, hid, &incident, by, sizeof by, &e) == 0 && incident, "by an incident hold");
	long long n[3] = {0};
	spif_incident_files(c, id, count_files, n, &e);
	ok(n[0] == 2 && n[1] == 12 && n[2] == 2, "two files, 12 records, two holds");

	/* add: the ones already in it are skipped */
	size_t added = 0;
	long long more[] = {f2, f3};
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_add_files(c, id, more, 2, &added, &e), &e), 0, "add files");
	is_int((long long)added, 1, "only the new one");

	/* notes, closing */
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_note(c, id, "police told", &e), &e), 0, "a note");
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_note(c, id, "two\nlines", &e), &e), SPIF_EX_USAGE, "a note of two lines");
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_close(c, id, "found", &e), &e), 0, "close");
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_close(c, id, "again", &e), &e), SPIF_EX_DATAERR, "closed already");
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_note(c, id, "late", &e), &e), SPIF_EX_DATAERR, "no note on a closed one");
	int notes = 0;
	spif_incident_notes(c, id, count_notes, &notes, &e);
	is_int(notes, 1, "one note kept");
	struct spif_incident in;
	ok(spif_incident_get(c, id, &in, &e) == 0 && strcmp(in.state, "closed") == 0 && in.close_note &&
	   strcmp(in.close_note, "found") == 0, "closed with its note");
	spif_incident_free(&in);
	ok(spif_file_held(c, f1, &e) == hid, "closing released no hold");
	ok(spif_incident_get(c, "INC-2026-999999", &in, &e) < 0 && e.code == SPIF_EX_DATAERR, "unknown incident");

	/* the second incident of the year; the log is intact */
	char id2[32];
	spif_catalog_begin(c, &e);
	is_int(tx(c, spif_incident_open(c, "again", &f3, 1, id2, &e), &e), 0, "a second incident");
	ok(strcmp(id2 + 9, "000002") == 0, "numbered after the first: %s", id2);
	struct spif_verify v;
	ok(spif_audit_verify(c, &v, &e) == 0 && v.bad_seq == 0, "the log is intact");

	spif_catalog_close(c);
	spif_actor_free(&a);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", home);
	return tap_done();
}
