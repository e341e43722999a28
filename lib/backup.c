/* backup.c - see backup.h */
#include "auditlog.h"
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "audit.h"
#include "catalog_priv.h"
#include "digest.h"
#include "dispose.h"
#include "kek.h"
#include "pgp.h"
#include "record.h"
#include "vault.h"

#define MANIFEST "manifest.json"
#define FORMAT "spif-backup/1"

static int path_join(char *out, size_t n, const char *a, const char *b, struct spif_err *err)
{
	if (snprintf(out, n, "%s/%s", a, b) >= (int)n)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s/%s: path too long", a, b);
	return 0;
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* dir: created 0700, or an existing empty directory. */
static int fresh_dir(const char *dir, struct spif_err *err)
{
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", dir);
	DIR *d = opendir(dir);
	if (!d)
		return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", dir);
	struct dirent *de;
	int empty = 1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	if (!empty)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: exists and is not empty", dir);
	if (chmod(dir, 0700) < 0)
		return spif_err_sys(err, SPIF_EX_NOPERM, errno, "%s", dir);
	return 0;
}

/* Copy src to dst (new, mode 0600, fsync'd); its SHA-256 and size. */
static int copy_file(const char *src, const char *dst, char sha[65], long long *size, struct spif_err *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", src);
	struct spif_atomic a;
	if (spif_atomic_open(&a, dst, 0600, err) < 0) {
		close(in);
		return -1;
	}
	struct spif_sha256 *h = spif_sha256_new();
	static unsigned char buf[1 << 16];
	long long total = 0;
	ssize_t r;
	int rc = 0, fd = a.fd;
	while ((r = read(in, buf, sizeof buf)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", src);
			break;
		}
		if (spif_sink_fd(&fd, buf, (size_t)r) < 0) {
			rc = spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", dst);
			break;
		}
		if (h)
			spif_sha256_update(h, buf, (size_t)r);
		total += r;
	}
	close(in);
	if (rc == 0 && spif_atomic_commit(&a, err) < 0)
		rc = -1;
	if (rc < 0)
		spif_atomic_abort(&a);
	if (h) {
		spif_sha256_hex(h, sha);
		spif_sha256_free(h);
	} else
		sha[0] = '\0';
	*size = total;
	return rc;
}

static int sink_fd(void *ctx, const void *buf, size_t n)
{
	return spif_sink_fd(ctx, buf, n);
}

/* ---- write ------------------------------------------------------------------ */

/* The snapshot: SQLite's online backup of the live catalog into path, then
 * the escrow copies of KEKs removed and the free pages vacuumed. */
static int snapshot(struct spif_catalog *c, const char *path, json_t *m, json_t *vault, struct spif_err *err)
{
	sqlite3 *dst = NULL;
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		spif_err_set(err, SPIF_EX_CANTCREAT, "%s: %s", path, dst ? sqlite3_errmsg(dst) : "cannot open");
		sqlite3_close(dst);
		return -1;
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", spif_catalog_db(c), "main");
	if (b) {
		do
			rc = sqlite3_backup_step(b, -1);
		while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
		sqlite3_backup_finish(b);
	}
	if (!b || rc != SQLITE_DONE) {
		spif_err_set(err, SPIF_EX_IOERR, "%s: the online backup failed: %s", path, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return -1;
	}
	/* the snapshot's own connection has spif's row functions, so that the
	 * coverage triggers run; what they record of the escrow copies taken
	 * out is not an event of the live catalog, and goes */
	struct spif_auditlog *al = NULL;
	if (spif_auditlog_attach(dst, &al, err) < 0) {
		sqlite3_close(dst);
		return -1;
	}
	char *emsg = NULL;
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE; PRAGMA secure_delete=ON;"
	                      " BEGIN; UPDATE keks SET custodian_wrapped=NULL; DELETE FROM pending_rows; COMMIT;"
	                      " VACUUM;", NULL, NULL, &emsg) != SQLITE_OK) {
		spif_err_set(err, SPIF_EX_IOERR, "%s: %s", path, emsg ? emsg : "cannot clean the snapshot");
		sqlite3_free(emsg);
		sqlite3_close(dst);
		spif_auditlog_free(al);
		return -1;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(dst, "SELECT value FROM meta WHERE key='catalog_id'", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(m, "catalog_id", json_string((const char *)sqlite3_column_text(st, 0)));
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(dst, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(m, "head", json_pack("{s:I,s:s}", "seq", (json_int_t)sqlite3_column_int64(st, 0),
			                                         "hash", (const char *)sqlite3_column_text(st, 1)));
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(dst, "SELECT id, file_id, path FROM copies WHERE kind='vault' AND state='present'"
	                            " ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			char fid[24];
			spif_file_id_format(sqlite3_column_int64(st, 1), fid);
			json_array_append_new(vault, json_pack("{s:s,s:I,s:s}", "file", fid, "copy",
			                                       (json_int_t)sqlite3_column_int64(st, 0), "from",
			                                       (const char *)sqlite3_column_text(st, 2)));
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(dst);
	spif_auditlog_free(al);
	chmod(path, 0600);
	return 0;
}

/* The home's last signed checkpoint: "checkpoint", else the last name in
 * "checkpoints/".  "" when it keeps none. */
static void last_checkpoint(const char *home, char *out, size_t n)
{
	struct stat st;
	out[0] = '\0';
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/checkpoint", home);
	if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
		snprintf(out, n, "%s", p);
		return;
	}
	snprintf(p, sizeof p, "%s/checkpoints", home);
	DIR *d = opendir(p);
	if (!d)
		return;
	char best[256] = "";
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof best && strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof best, "%s", de->d_name);
	closedir(d);
	if (best[0] && snprintf(out, n, "%s/%s", p, best) >= (int)n)
		out[0] = '\0';
}

int spif_backup_write(struct spif_catalog *c, const struct spif_conf *conf, const char *dir, json_t **manifest,
                      struct spif_err *err)
{
	if (manifest)
		*manifest = NULL;
	const char *home = spif_catalog_home(c);
	int lock = -1;
	/* no disposal while the snapshot and the vault files are taken: what
	 * the snapshot lists is what is copied */
	if (spif_dispose_lock(home, conf, NULL, &lock, err) < 0)
		return -1;
	json_t *m = json_object(), *vault = json_array();
	char now[32], p[PATH_MAX], vdir[PATH_MAX], tmp[PATH_MAX];
	int ret = -1;
	spif_now_utc(now);
	json_object_set_new(m, "format", json_string(FORMAT));
	json_object_set_new(m, "taken", json_string(now));
	json_object_set_new(m, "home", json_string(home));
	if (fresh_dir(dir, err) < 0 || path_join(vdir, sizeof vdir, dir, "vault", err) < 0 ||
	    path_join(tmp, sizeof tmp, dir, "catalog.db", err) < 0)
		goto out;
	if (mkdir(vdir, 0700) < 0) {
		spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", vdir);
		goto out;
	}
	if (snapshot(c, tmp, m, vault, err) < 0)
		goto out;
	char sha[65];
	long long size;
	if (conf->backup_key[0]) {
		/* encrypted to the backup key: the plaintext snapshot goes */
		const char *rcpt = conf->backup_key;
		char fprs[1][41];
		memset(fprs, 0, sizeof fprs);
		struct spif_pgp_enc e = {.recipients = &rcpt, .nrecipients = 1, .fprs = fprs};
		struct spif_atomic a;
		int in = open(tmp, O_RDONLY | O_CLOEXEC);
		if (in < 0 || path_join(p, sizeof p, dir, "catalog.db.gpg", err) < 0 ||
		    spif_atomic_open(&a, p, 0600, err) < 0) {
			if (in < 0)
				spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", tmp);
			else
				close(in);
			goto out;
		}
		int rc = spif_pgp_encrypt_to_fd(in, a.fd, NULL, NULL, &e, err);
		close(in);
		if (rc < 0 || spif_atomic_commit(&a, err) < 0) {
			spif_atomic_abort(&a);
			goto out;
		}
		unlink(tmp);
		if (spif_sha256_file(p, sha, &size, err) < 0)
			goto out;
		json_object_set_new(m, "catalog", json_pack("{s:s,s:s,s:I,s:s}", "path", "catalog.db.gpg", "sha256", sha,
		                                            "size", (json_int_t)size, "encrypted_to",
		                                            fprs[0][0] ? fprs[0] : conf->backup_key));
	} else {
		if (spif_sha256_file(tmp, sha, &size, err) < 0)
			goto out;
		json_object_set_new(m, "catalog", json_pack("{s:s,s:s,s:I,s:n}", "path", "catalog.db", "sha256", sha,
		                                            "size", (json_int_t)size, "encrypted_to"));
	}
	size_t i;
	json_t *v;
	json_array_foreach(vault, i, v) {
		const char *from = json_string_value(json_object_get(v, "from"));
		char rel[PATH_MAX];
		snprintf(rel, sizeof rel, "vault/%s", base_of(from));
		if (path_join(p, sizeof p, dir, rel, err) < 0 || copy_file(from, p, sha, &size, err) < 0)
			goto out;
		json_object_set_new(v, "path", json_string(rel));
		json_object_set_new(v, "sha256", json_string(sha));
		json_object_set_new(v, "size", json_integer(size));
	}
	json_object_set_new(m, "vault", json_incref(vault));
	char cp[PATH_MAX];
	last_checkpoint(home, cp, sizeof cp);
	if (cp[0]) {
		if (path_join(p, sizeof p, dir, "checkpoint", err) < 0 || copy_file(cp, p, sha, &size, err) < 0)
			goto out;
		json_object_set_new(m, "checkpoint", json_pack("{s:s,s:s,s:s}", "path", "checkpoint", "from", cp, "sha256", sha));
	} else
		json_object_set_new(m, "checkpoint", json_null());
	json_object_set_new(m, "holds_keys", json_false());
	char *text = json_dumps(m, JSON_INDENT(1) | JSON_SORT_KEYS);
	struct spif_atomic a;
	if (!text || path_join(p, sizeof p, dir, MANIFEST, err) < 0 || spif_atomic_open(&a, p, 0600, err) < 0) {
		free(text);
		goto out;
	}
	int fd = a.fd;
	if (spif_sink_fd(&fd, text, strlen(text)) < 0 || spif_sink_fd(&fd, "\n", 1) < 0) {
		spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", p);
		spif_atomic_abort(&a);
		free(text);
		goto out;
	}
	if (spif_atomic_commit(&a, err) < 0) {
		free(text);
		goto out;
	}
	spif_sha256_buf(text, strlen(text), sha);
	free(text);
	spif_fsync_dir_of(vdir);
	json_t *d = json_pack("{s:s,s:s,s:O,s:I,s:b,s:b}", "dir", dir, "manifest_sha256", sha, "head",
	                      json_object_get(m, "head") ? json_object_get(m, "head") : json_null(), "vault_files",
	                      (json_int_t)json_array_size(vault), "encrypted", conf->backup_key[0] != 0, "holds_keys", 0);
	if (spif_catalog_begin(c, err) < 0 || spif_audit_append(c, "catalog.backup", "catalog", d, NULL, err) < 0 ||
	    spif_catalog_commit(c, err) < 0) {
		spif_catalog_rollback(c);
		json_decref(d);
		goto out;
	}
	json_decref(d);
	ret = 0;
out:
	if (lock >= 0)
		close(lock);
	json_decref(vault);
	if (ret == 0 && manifest)
		*manifest = m;
	else
		json_decref(m);
	return ret;
}

/* ---- reading a backup ------------------------------------------------------- */

/* The manifest, every file it names checked against its SHA-256. */
static int load_manifest(const char *dir, json_t **m, struct spif_err *err)
{
	char p[PATH_MAX], sha[65];
	long long size;
	*m = NULL;
	if (path_join(p, sizeof p, dir, MANIFEST, err) < 0)
		return -1;
	json_error_t je;
	json_t *j = json_load_file(p, 0, &je);
	if (!j)
		return spif_err_set(err, access(p, F_OK) == 0 ? SPIF_EX_DATAERR : SPIF_EX_NOINPUT,
		                    "%s: not a spif backup (%s)", dir, je.text);
	if (strcmp(json_string_value(json_object_get(j, "format")) ? json_string_value(json_object_get(j, "format")) : "",
	           FORMAT) != 0) {
		json_decref(j);
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: not a %s backup", dir, FORMAT);
	}
	json_t *parts = json_array();
	json_array_append(parts, json_object_get(j, "catalog"));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(j, "vault"), i, v)
		json_array_append(parts, v);
	json_array_foreach(parts, i, v) {
		const char *rel = json_string_value(json_object_get(v, "path"));
		const char *want = json_string_value(json_object_get(v, "sha256"));
		if (!rel || !want || strstr(rel, "..") || path_join(p, sizeof p, dir, rel, err) < 0) {
			json_decref(parts);
			json_decref(j);
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: damaged manifest", dir);
		}
		if (spif_sha256_file(p, sha, &size, err) < 0 || strcmp(sha, want) != 0) {
			if (!err || !err->code || strcmp(sha, want) != 0)
				spif_err_set(err, SPIF_EX_DATAERR, "%s: does not match the backup's manifest (altered or damaged)", p);
			json_decref(parts);
			json_decref(j);
			return -1;
		}
	}
	json_decref(parts);
	*m = j;
	return 0;
}

/* The backup's catalog into path (decrypted when it was encrypted). */
static int take_catalog(const char *dir, const json_t *m, const char *path, struct spif_err *err)
{
	const json_t *cat = json_object_get(m, "catalog");
	const char *rel = json_string_value(json_object_get(cat, "path"));
	char src[PATH_MAX], sha[65];
	long long size;
	if (path_join(src, sizeof src, dir, rel, err) < 0)
		return -1;
	if (!json_is_string(json_object_get(cat, "encrypted_to")))
		return copy_file(src, path, sha, &size, err);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return spif_err_sys(err, SPIF_EX_NOINPUT, errno, "%s", src);
	struct spif_atomic a;
	if (spif_atomic_open(&a, path, 0600, err) < 0) {
		close(in);
		return -1;
	}
	char signer[41];
	int sigst = 0, fd = a.fd;
	int rc = spif_pgp_decrypt_fd(in, sink_fd, &fd, NULL, signer, &sigst, err);
	close(in);
	if (rc < 0 || spif_atomic_commit(&a, err) < 0) {
		spif_atomic_abort(&a);
		return -1;
	}
	return 0;
}

static int count_sink(void *ctx, const void *buf, size_t n)
{
	(void)buf;
	*(long long *)ctx += (long long)n;
	return 0;
}

static void remove_scratch(const char *dir)
{
	static const char *const names[] = {"catalog.db", "catalog.db-wal", "catalog.db-shm", "purge.lock"};
	char p[PATH_MAX];
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (snprintf(p, sizeof p, "%s/%s", dir, names[i]) < (int)sizeof p)
			unlink(p);
	}
	rmdir(dir);
}

/* The generation a keks row of c names for bucket; 0 when none. */
static int row_gen(struct spif_catalog *c, const char *bucket)
{
	sqlite3_stmt *st;
	int gen = 0;
	if (spif_catalog_prepare(c, "SELECT key_file FROM keks WHERE bucket=? AND destroyed IS NULL", &st, NULL) < 0)
		return 0;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		char b[64];
		int tok;
		if (spif_kek_parse_ref((const char *)sqlite3_column_text(st, 0), b, &gen, &tok) < 0)
			gen = 1;
	}
	sqlite3_finalize(st);
	return gen;
}

int spif_backup_restore_test(struct spif_catalog *live, const struct spif_conf *conf, const char *dir, int sample,
                             json_t **result, struct spif_err *err)
{
	*result = NULL;
	json_t *m;
	if (load_manifest(dir, &m, err) < 0)
		return -1;
	const char *t = getenv("TMPDIR");
	char scratch[PATH_MAX], cp[PATH_MAX];
	snprintf(scratch, sizeof scratch, "%s/spif-drill.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(scratch)) {
		json_decref(m);
		return spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", scratch);
	}
	struct spif_catalog *sc = NULL;
	struct spif_kek_store *ks = NULL;
	json_t *gone = json_array(), *stale = json_array(), *failed = json_array();
	struct spif_verify v;
	memset(&v, 0, sizeof v);
	long long sampled = 0, opened = 0;
	int ret = -1;
	if (path_join(cp, sizeof cp, scratch, "catalog.db", err) < 0 || take_catalog(dir, m, cp, err) < 0 ||
	    spif_catalog_open(scratch, conf, 0, spif_catalog_actor(live), &sc, err) < 0 ||
	    spif_audit_verify(sc, &v, err) < 0 || spif_kek_store_open(conf, spif_catalog_home(live), &ks, err) < 0)
		goto out;
	size_t nv = json_array_size(json_object_get(m, "vault"));
	size_t step = sample > 0 && nv > (size_t)sample ? nv / (size_t)sample : 1;
	for (size_t i = 0; i < nv; i += step) {
		json_t *x = json_array_get(json_object_get(m, "vault"), i);
		const char *fid = json_string_value(json_object_get(x, "file"));
		long long id = spif_file_id_parse(fid);
		char p[PATH_MAX];
		if (path_join(p, sizeof p, dir, json_string_value(json_object_get(x, "path")), err) < 0)
			goto out;
		sampled++;
		long long bytes = 0;
		struct spif_err e = {0};
		if (spif_vault_read_with(sc, ks, id, p, count_sink, &bytes, &e) == 0) {
			opened++;
			continue;
		}
		/* why not: disposed since (as it should be), its month's key
		 * replaced since (the backup is stale), or a real failure */
		struct spif_file f;
		struct spif_err e2 = {0};
		int disposed = spif_catalog_get_file(live, id, &f, &e2) == 0 && f.state == SPIF_FILE_DISPOSED;
		if (!e2.code)
			spif_file_free(&f);
		sqlite3_stmt *st;
		char bucket[64] = "";
		if (spif_catalog_prepare(sc, "SELECT bucket FROM data_keys WHERE file_id=? LIMIT 1", &st, NULL) == 0) {
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) == SQLITE_ROW)
				snprintf(bucket, sizeof bucket, "%s", (const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		if (disposed)
			json_array_append_new(gone, json_pack("{s:s,s:s}", "file", fid, "why",
			                                      "disposed after the backup was taken: its key is gone"));
		else if (bucket[0] && row_gen(live, bucket) != row_gen(sc, bucket))
			json_array_append_new(stale, json_pack("{s:s,s:s}", "file", fid, "why",
			                      "its month's key was replaced after the backup (another file of that month was "
			                      "crypto-erased): take a new backup"));
		else
			json_array_append_new(failed, json_pack("{s:s,s:s}", "file", fid, "why", e.en));
	}
	ret = 0;
out:
	spif_kek_store_close(ks);
	spif_catalog_close(sc);
	remove_scratch(scratch);
	if (ret == 0) {
		int ok = v.bad_seq == 0 && !json_array_size(failed) && !json_array_size(stale);
		json_t *r = json_pack("{s:s,s:b,s:{s:b,s:I,s:s},s:I,s:I,s:O,s:O,s:O,s:O}", "dir", dir, "ok", ok, "chain",
		                      "intact", v.bad_seq == 0, "events", (json_int_t)v.events, "why", v.why, "sampled",
		                      (json_int_t)sampled, "opened", (json_int_t)opened, "gone", gone, "stale", stale,
		                      "failed", failed, "taken", json_object_get(m, "taken"));
		if (spif_catalog_begin(live, err) < 0 ||
		    spif_audit_append(live, "catalog.restore-test", "catalog", r, NULL, err) < 0 ||
		    spif_catalog_commit(live, err) < 0) {
			spif_catalog_rollback(live);
			json_decref(r);
			ret = -1;
		} else
			*result = r;
	}
	json_decref(gone);
	json_decref(stale);
	json_decref(failed);
	json_decref(m);
	return ret;
}

/* ---- restore ------------------------------------------------------------------ */

static int exec1(struct spif_catalog *c, const char *sql, long long id, const char *text, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, sql, &st, err) < 0)
		return -1;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "restore", err);
	return 0;
}

int spif_backup_restore(const struct spif_conf *conf, const char *dir, const char *home, const char *keys_from,
                        const struct spif_actor *actor, json_t **result, struct spif_err *err)
{
	*result = NULL;
	json_t *m;
	char p[PATH_MAX], q[PATH_MAX], sha[65];
	long long size;
	if (load_manifest(dir, &m, err) < 0)
		return -1;
	struct spif_catalog *c = NULL;
	struct spif_kek_store *ks = NULL;
	json_t *gone = json_array(), *restored = json_array(), *usable = json_object();
	int ret = -1, in_tx = 0;
	if (spif_home_prepare(home, conf, err) < 0 || path_join(p, sizeof p, home, "catalog.db", err) < 0)
		goto out;
	if (access(p, F_OK) == 0) {
		spif_err_set(err, SPIF_EX_CANTCREAT, "%s already has a catalog: restore into an empty or new home", home);
		goto out;
	}
	if (take_catalog(dir, m, p, err) < 0 || spif_catalog_open(home, conf, 0, actor, &c, err) < 0)
		goto out;
	/* the KEKs the snapshot names, when the live ones are elsewhere: only
	 * those, and only when they are the very keys (check values) */
	sqlite3_stmt *st;
	if (spif_kek_store_open(conf, home, &ks, err) < 0)
		goto out;
	if (keys_from && !spif_kek_store_is_token(ks)) {
		char kd[PATH_MAX];
		if (path_join(kd, sizeof kd, home, "keys", err) < 0)
			goto out;
		if (mkdir(kd, 0700) < 0 && errno != EEXIST) {
			spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", kd);
			goto out;
		}
		if (spif_catalog_prepare(c, "SELECT key_file FROM keks WHERE destroyed IS NULL", &st, err) < 0)
			goto out;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *ref = (const char *)sqlite3_column_text(st, 0);
			if (!ref || ref[0] == '/' || strncmp(ref, "pkcs11:", 7) == 0)
				continue;
			if (path_join(q, sizeof q, keys_from, base_of(ref), err) == 0 &&
			    path_join(p, sizeof p, home, ref, err) == 0 && access(q, F_OK) == 0 && access(p, F_OK) != 0)
				copy_file(q, p, sha, &size, err);
		}
		sqlite3_finalize(st);
		memset(err, 0, sizeof *err);
	}
	if (spif_catalog_prepare(c, "SELECT bucket, key_file, check_value, destroyed FROM keks", &st, err) < 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *b = (const char *)sqlite3_column_text(st, 0);
		const char *ref = (const char *)sqlite3_column_text(st, 1);
		const char *chk = (const char *)sqlite3_column_text(st, 2);
		char bb[64];
		int gen = 1, tok;
		if (spif_kek_parse_ref(ref ? ref : "", bb, &gen, &tok) < 0)
			gen = 1;
		struct spif_kek k;
		struct spif_err e = {0};
		int rc = sqlite3_column_type(st, 3) != SQLITE_NULL ? 1 : spif_kek_load(ks, b, ref, chk, &k, &e);
		if (rc == 0) {
			json_object_set_new(usable, b, json_true());
			spif_kek_forget(&k);
		} else
			json_object_set_new(usable, b, rc == 1 ? json_sprintf("the %s key-encryption key (generation %d) no "
			                                                      "longer exists", b, gen)
			                                       : json_string(e.en));
	}
	sqlite3_finalize(st);
	/* the vault files: the live ones in place, the others not resurrected */
	if (spif_catalog_begin(c, err) < 0)
		goto out;
	in_tx = 1;
	char vd[PATH_MAX];
	if (path_join(vd, sizeof vd, home, "vault", err) < 0)
		goto out;
	if (mkdir(vd, 0700) < 0 && errno != EEXIST) {
		spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", vd);
		goto out;
	}
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(m, "vault"), i, x) {
		const char *fid = json_string_value(json_object_get(x, "file"));
		long long id = spif_file_id_parse(fid), copy = json_integer_value(json_object_get(x, "copy"));
		char bucket[64] = "";
		if (spif_catalog_prepare(c, "SELECT bucket FROM data_keys WHERE file_id=? LIMIT 1", &st, err) < 0)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(bucket, sizeof bucket, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		json_t *u = bucket[0] ? json_object_get(usable, bucket) : NULL;
		if (json_is_true(u)) {
			const char *rel = json_string_value(json_object_get(x, "path"));
			if (path_join(q, sizeof q, dir, rel, err) < 0 || path_join(p, sizeof p, vd, base_of(rel), err) < 0 ||
			    copy_file(q, p, sha, &size, err) < 0)
				goto out;
			sqlite3_stmt *up;
			if (spif_catalog_prepare(c, "UPDATE copies SET path=? WHERE id=?", &up, err) < 0)
				goto out;
			sqlite3_bind_text(up, 1, p, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(up, 2, copy);
			int rc = sqlite3_step(up);
			sqlite3_finalize(up);
			if (rc != SQLITE_DONE) {
				spif_catalog_sqlerr(c, rc, "copies", err);
				goto out;
			}
			json_array_append_new(restored, json_string(fid));
			continue;
		}
		char why[1024];
		snprintf(why, sizeof why, "not restored: its key is gone (%s: the file, or another file of %s, was "
		         "crypto-erased after this backup was taken)", u ? json_string_value(u) ? json_string_value(u)
		         : "its key-encryption key is gone" : "it has no data key in the backup", bucket[0] ? bucket : "its month");
		if (exec1(c, "DELETE FROM data_keys WHERE file_id=?", id, NULL, err) < 0 ||
		    exec1(c, "UPDATE copies SET state='disposed' WHERE id=?", copy, NULL, err) < 0 ||
		    exec1(c, "UPDATE files SET state='disposed' WHERE id=?1 AND NOT EXISTS (SELECT 1 FROM copies WHERE"
		             " file_id=?1 AND state!='disposed')", id, NULL, err) < 0)
			goto out;
		json_array_append_new(gone, json_pack("{s:s,s:s}", "file", fid, "why", why));
	}
	const char *b;
	json_t *u;
	json_object_foreach(usable, b, u)
		if (!json_is_true(u) && exec1(c, "UPDATE keks SET destroyed=strftime('%Y-%m-%dT%H:%M:%fZ','now'),"
		                                 " custodian_wrapped=NULL WHERE bucket=? AND destroyed IS NULL", 0, b, err) < 0)
			goto out;
	json_t *r = json_pack("{s:s,s:O,s:O,s:O,s:O}", "from", dir, "taken", json_object_get(m, "taken"), "head",
	                      json_object_get(m, "head") ? json_object_get(m, "head") : json_null(), "restored", restored,
	                      "gone", gone);
	if (spif_audit_append(c, "catalog.restore", "catalog", r, NULL, err) < 0 || spif_catalog_commit(c, err) < 0) {
		json_decref(r);
		goto out;
	}
	in_tx = 0;
	*result = r;
	ret = spif_vault_purge(c, err);
out:
	if (in_tx)
		spif_catalog_rollback(c);
	spif_kek_store_close(ks);
	spif_catalog_close(c);
	json_decref(gone);
	json_decref(restored);
	json_decref(usable);
	json_decref(m);
	if (ret < 0) {
		json_decref(*result);
		*result = NULL;
	}
	return ret;
}
