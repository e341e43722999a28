/* test_tempfile.c - the rows of hidden temporaries and the sweep: a row
 * recorded and forgotten leaves nothing; the sweep destroys only the file
 * of a writer that is gone (pid dead and flock free), removes only the
 * name of an output already linked into place, drops the row of a file
 * that is gone, refuses a name that is not a spif temporary, and looks
 * only at the real uid's rows unless asked for all; an output where
 * O_TMPFILE works records nothing. */
#include "atomic.h"
#include "audit.h"
#include "catalog.h"
#include "catalog_priv.h"
#include "tap.h"
#include "tempfile.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct spif_catalog *cat;
static char dir[4096];

static long long rows(void)
{
	struct spif_err e = {0};
	long long n = -1;
	spif_tempfile_count(cat, &n, &e);
	return n;
}

/* A pid that has just ended (reaped): no process has it. */
static long long dead_pid(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

/* A row as a killed run leaves it (pid and uid given), through spif's
 * connection so that the audit log records it. */
static void add_row(const char *path, long long pid, long long uid)
{
	struct spif_err e = {0};
	char sql[8500];
	snprintf(sql, sizeof sql,
	         "INSERT INTO tempfiles(path,target,pid,uid,created,command) VALUES('%s','%s/out',%lld,%lld,'now','ingest')",
	         path, dir, pid, uid);
	int rc = spif_catalog_begin(cat, &e) == 0 && spif_catalog_exec(cat, sql, &e) == 0 && spif_catalog_commit(cat, &e) == 0;
	ok(rc, "a row for %s: %s", path, e.msg);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static struct spif_leftover *sweep(int all, size_t *n)
{
	struct spif_err e = {0};
	struct spif_leftover *v = NULL;
	ok(spif_tempfile_sweep(cat, all, &v, n, &e) == 0, "sweep: %s", e.msg);
	return v;
}

static void test_record_forget(void)
{
	struct spif_err e = {0};
	char p[8200];
	snprintf(p, sizeof p, "%s/.a.spif-AAAAAA", dir);
	ok(spif_tempfile_record(cat, p, "x", "ingest", &e) == 0, "record: %s", e.msg);
	is_int(rows(), 1, "one row");
	ok(spif_tempfile_forget(cat, p, &e) == 0, "forget: %s", e.msg);
	is_int(rows(), 0, "no row");
}

static void test_sweep(void)
{
	char alive[8200], dead[8200], locked[8200], linked[8200], out[8200], gone[8200], bad[8200], other[8200];
	snprintf(alive, sizeof alive, "%s/.alive.spif-AAAAAA", dir);
	snprintf(dead, sizeof dead, "%s/.dead.spif-BBBBBB", dir);
	snprintf(locked, sizeof locked, "%s/.locked.spif-CCCCCC", dir);
	snprintf(linked, sizeof linked, "%s/.linked.spif-DDDDDD", dir);
	snprintf(out, sizeof out, "%s/linked", dir);
	snprintf(gone, sizeof gone, "%s/.gone.spif-EEEEEE", dir);
	snprintf(bad, sizeof bad, "%s/keep.csv", dir);
	snprintf(other, sizeof other, "%s/.other.spif-FFFFFF", dir);
	put(alive, "records");
	put(dead, "records");
	put(locked, "records");
	put(linked, "whole output");
	ok(link(linked, out) == 0, "a second name");
	put(bad, "not spif's");
	put(other, "records");
	long long d = dead_pid();
	add_row(alive, getpid(), getuid());
	add_row(dead, d, getuid());
	add_row(locked, d, getuid());
	add_row(linked, d, getuid());
	add_row(gone, d, getuid());
	add_row(bad, d, getuid());
	add_row(other, d, (long long)getuid() + 1);
	int lfd = open(locked, O_RDONLY);
	ok(flock(lfd, LOCK_EX) == 0, "a writer's lock on %s", locked);

	size_t n;
	struct spif_leftover *v = sweep(0, &n);
	is_int(n, 4, "four rows acted on (not the live writer's, the locked one, another uid's)");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].path, dead) == 0)
			is_int(v[i].fate, SPIF_LEFTOVER_DESTROYED, "a dead writer's file is destroyed");
		else if (strcmp(v[i].path, linked) == 0)
			is_int(v[i].fate, SPIF_LEFTOVER_UNLINKED, "a second name of an output in place is only unlinked");
		else if (strcmp(v[i].path, gone) == 0)
			is_int(v[i].fate, SPIF_LEFTOVER_GONE, "a file not there: the row dropped");
		else if (strcmp(v[i].path, bad) == 0)
			is_int(v[i].fate, SPIF_LEFTOVER_FAILED, "a name spif never gives: refused");
		else
			ok(0, "unexpected %s", v[i].path);
	}
	free(v);
	ok(access(alive, F_OK) == 0, "the live writer's file is there");
	ok(access(locked, F_OK) == 0, "the locked file is there");
	ok(access(dead, F_OK) != 0, "the dead writer's file is gone");
	ok(access(linked, F_OK) != 0, "the second name is gone");
	FILE *f = fopen(out, "r");
	char buf[32] = "";
	if (f) {
		if (!fgets(buf, sizeof buf, f))
			buf[0] = '\0';
		fclose(f);
	}
	is_str(buf, "whole output", "the output in place keeps its contents");
	ok(access(bad, F_OK) == 0, "the file that is not spif's is untouched");
	ok(access(other, F_OK) == 0, "another uid's row is not looked at by a command's sweep");
	is_int(rows(), 4, "rows left: the live writer, the locked one, the refused one, another uid's");

	close(lfd); /* the writer is gone now */
	v = sweep(1, &n);
	is_int(n, 3, "every uid: the locked one, the refused one, another uid's");
	free(v);
	ok(access(locked, F_OK) != 0 && access(other, F_OK) != 0, "both destroyed");
	is_int(rows(), 2, "the live writer's and the refused one stay");
}

static void test_unnamed(void)
{
	struct spif_err e = {0};
	struct spif_atomic a;
	char p[8200];
	snprintf(p, sizeof p, "%s/unnamed.out", dir);
	long long before = rows();
	if (spif_atomic_open_rec(&a, cat, "ingest", p, 0600, &e) < 0) {
		ok(0, "open: %s", e.msg);
		return;
	}
	if (a.tmp[0]) {
		ok(1, "# skip: no O_TMPFILE in %s", dir);
		is_int(rows(), before + 1, "the named fallback is recorded before it is written");
	} else
		is_int(rows(), before, "an unnamed output records nothing");
	ok(write(a.fd, "x", 1) == 1, "written");
	ok(spif_atomic_commit(&a, &e) == 0, "commit: %s", e.msg);
	is_int(rows(), before, "nothing left after the commit");
}

int main(int argc, char **argv)
{
	struct spif_err err = {0};
	struct spif_conf conf;
	char home[8300], real[4096];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/spif-tempfile.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || !realpath(dir, real)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	memcpy(dir, real, sizeof real);
	snprintf(home, sizeof home, "%s/home", dir);
	struct spif_actor actor;
	memset(&conf, 0, sizeof conf);
	if (spif_actor_init(&actor, argc, argv, &err) < 0 ||
	    spif_catalog_open(home, &conf, SPIF_CAT_CREATE, &actor, &cat, &err) < 0) {
		ok(0, "open a catalog: %s", err.msg);
		return tap_done();
	}
	spif_actor_free(&actor);
	test_record_forget();
	test_sweep();
	test_unnamed();
	struct spif_verify vr;
	memset(&vr, 0, sizeof vr);
	ok(spif_audit_verify(cat, &vr, &err) == 0 && vr.bad_seq == 0, "the audit log is intact: %s", err.msg);
	spif_catalog_close(cat);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
