/* tempfile.c - see tempfile.h */
#include "tempfile.h"
#include "catalog_priv.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "audit.h"
#include "grow.h"
#include "home.h"
#include "wipe.h"

static json_t *row_details(const char *path, const char *target, long long pid, const char *command)
{
	return json_pack("{s:s,s:s,s:I,s:s}", "path", path, "target", target ? target : "", "pid",
	                 (json_int_t)pid, "command", command ? command : "");
}

/* One statement and one event in a transaction of their own. */
static int change(struct spif_catalog *c, sqlite3_stmt *st, const char *action, json_t *d, struct spif_err *err)
{
	if (!d) {
		sqlite3_finalize(st);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	int own = !spif_catalog_in_tx(c);
	int rc = -1;
	if (own && spif_catalog_begin(c, err) < 0)
		goto out;
	int r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		spif_catalog_sqlerr(c, r, "tempfiles", err);
		goto fail;
	}
	/* inside the caller's transaction its own event records the row */
	if (own && (spif_audit_append(c, action, "tempfile", d, NULL, err) < 0 || spif_catalog_commit(c, err) < 0))
		goto fail;
	rc = 0;
	goto out;
fail:
	if (own)
		spif_catalog_rollback(c);
out:
	sqlite3_finalize(st);
	json_decref(d);
	return rc;
}

int spif_tempfile_record(struct spif_catalog *c, const char *path, const char *target, const char *command,
                         struct spif_err *err)
{
	if (spif_catalog_in_tx(c))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: recorded inside a transaction", path);
	sqlite3_stmt *st;
	char now[32];
	spif_now_utc(now);
	if (spif_catalog_prepare(c, "INSERT INTO tempfiles(path,target,pid,uid,created,command) VALUES(?,?,?,?,?,?)",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (long long)getpid());
	sqlite3_bind_int64(st, 4, (long long)getuid());
	sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, command, -1, SQLITE_TRANSIENT);
	return change(c, st, "tempfile.record", row_details(path, target, getpid(), command), err);
}

int spif_tempfile_forget(struct spif_catalog *c, const char *path, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "DELETE FROM tempfiles WHERE path=?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
	return change(c, st, "tempfile.forget", json_pack("{s:s}", "path", path), err);
}

int spif_tempfile_count(struct spif_catalog *c, long long *n, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT count(*) FROM tempfiles", &st, err) < 0)
		return -1;
	int r = sqlite3_step(st);
	*n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 0 : spif_catalog_sqlerr(c, r, "tempfiles", err);
}

static int pid_alive(long long pid)
{
	if (pid <= 0 || (long long)(pid_t)pid != pid)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Only what atomic.c names: ".NAME.spif-XXXXXX", absolute.  A row is
 * never a licence to destroy any other file. */
static int is_temp_name(const char *path)
{
	const char *b = strrchr(path, '/');
	if (path[0] != '/' || !b || b[1] != '.')
		return 0;
	size_t n = strlen(b);
	if (n < 14 || strncmp(b + n - 12, ".spif-", 6) != 0)
		return 0;
	for (size_t i = n - 6; i < n; i++)
		if (!((b[i] >= 'A' && b[i] <= 'Z') || (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9')))
			return 0;
	return 1;
}

/* Destroy l->path if its writer is gone; 1 when the row is to be dropped,
 * 0 when it is left (writer alive: *busy set; or failed: l->fate). */
static int destroy(struct spif_leftover *l, int *busy)
{
	struct spif_err e = {0};
	struct spif_target t;
	*busy = 0;
	if (!is_temp_name(l->path)) {
		l->fate = SPIF_LEFTOVER_FAILED;
		snprintf(l->why, sizeof l->why, "not a name spif gives its temporary files; left alone");
		return 0;
	}
	if (pid_alive(l->pid)) {
		*busy = 1;
		return 0;
	}
	/* as the caller: the file is the caller's, made where the caller may write */
	int g = spif_as_caller();
	int rc = spif_target_open(&t, l->path, 1, &e);
	if (rc < 0) {
		spif_as_service(g);
		if (e.code == SPIF_EX_NOINPUT) {
			l->fate = SPIF_LEFTOVER_GONE;
			return 1;
		}
		l->fate = SPIF_LEFTOVER_FAILED;
		snprintf(l->why, sizeof l->why, "%.250s", e.msg);
		return 0;
	}
	if (flock(t.fd, LOCK_EX | LOCK_NB) < 0) {
		/* a writer whose pid we cannot see (another host) still holds it */
		spif_target_close(&t);
		spif_as_service(g);
		*busy = 1;
		return 0;
	}
	int drop = 1;
	if (t.st.st_nlink > 1) {
		/* linked into place before the kill: the output is whole under
		 * its own name, which this name must not take with it */
		if (unlinkat(t.dirfd, t.base, 0) < 0) {
			l->fate = SPIF_LEFTOVER_FAILED;
			snprintf(l->why, sizeof l->why, "%s", strerror(errno));
			drop = 0;
		} else
			l->fate = SPIF_LEFTOVER_UNLINKED;
	} else {
		struct spif_wipe_opts o = {.passes = 1, .renames = -1};
		struct spif_wipe_result r;
		if (spif_wipe_target(&t, &o, &r, &e) < 0) {
			l->fate = SPIF_LEFTOVER_FAILED;
			snprintf(l->why, sizeof l->why, "%.250s", e.msg);
			drop = 0;
		} else
			l->fate = SPIF_LEFTOVER_DESTROYED;
	}
	spif_target_close(&t);
	spif_as_service(g);
	return drop;
}

static const char *fate_name(enum spif_leftover_fate f)
{
	return f == SPIF_LEFTOVER_DESTROYED ? "destroyed" : f == SPIF_LEFTOVER_UNLINKED ? "unlinked" : "gone";
}

int spif_tempfile_sweep(struct spif_catalog *c, int all_uids, struct spif_leftover **out, size_t *n,
                        struct spif_err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	/* the uid index makes this one cheap lookup for every command */
	if (spif_catalog_prepare(c, all_uids ? "SELECT path,target,pid,uid,created,command FROM tempfiles ORDER BY path"
	                                     : "SELECT path,target,pid,uid,created,command FROM tempfiles WHERE uid=? "
	                                       "ORDER BY path",
	                         &st, err) < 0)
		return -1;
	if (!all_uids)
		sqlite3_bind_int64(st, 1, (long long)getuid());
	struct spif_leftover *v = NULL;
	size_t nv = 0, cap = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		void *p = v;
		int g = spif_grow(&p, &cap, nv + 1, sizeof *v);
		v = p;
		if (g < 0) {
			sqlite3_finalize(st);
			free(v);
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		}
		struct spif_leftover *l = &v[nv++];
		memset(l, 0, sizeof *l);
		snprintf(l->path, sizeof l->path, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(l->target, sizeof l->target, "%s", (const char *)sqlite3_column_text(st, 1));
		l->pid = sqlite3_column_int64(st, 2);
		l->uid = sqlite3_column_int64(st, 3);
		snprintf(l->created, sizeof l->created, "%s", (const char *)sqlite3_column_text(st, 4));
		snprintf(l->command, sizeof l->command, "%s", (const char *)sqlite3_column_text(st, 5));
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(v);
		return spif_catalog_sqlerr(c, r, "tempfiles", err);
	}
	size_t kept = 0;
	for (size_t i = 0; i < nv; i++) {
		int busy;
		int drop = destroy(&v[i], &busy);
		if (drop) {
			sqlite3_stmt *del;
			if (spif_catalog_prepare(c, "DELETE FROM tempfiles WHERE path=?", &del, err) < 0)
				goto fail;
			sqlite3_bind_text(del, 1, v[i].path, -1, SQLITE_TRANSIENT);
			json_t *d = row_details(v[i].path, v[i].target, v[i].pid, v[i].command);
			if (d)
				json_object_set_new(d, "fate", json_string(fate_name(v[i].fate)));
			if (change(c, del, "tempfile.destroy", d, err) < 0)
				goto fail;
		}
		if (!busy)
			v[kept++] = v[i];
	}
	*out = v;
	*n = kept;
	return 0;
fail:
	free(v);
	return -1;
}
