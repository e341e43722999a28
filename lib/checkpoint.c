/* checkpoint.c - signed checkpoints and inclusion proofs.  See checkpoint.h. */
#include "checkpoint.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "atomic.h"
#include "audit.h"
#include "auditlog.h"
#include "auditlog_tree.h"
#include "catalog_priv.h"
#include "digest.h"

void spif_checkpoint_origin(const struct spif_catalog *c, char out[SPIF_NOTE_NAME_MAX])
{
	snprintf(out, SPIF_NOTE_NAME_MAX, "spif.catalog/%s", spif_catalog_id(c));
}

/* ---- the key ------------------------------------------------------------ */

static int key_path(struct spif_catalog *c, char *out, size_t n)
{
	return snprintf(out, n, "%s/%s", spif_catalog_home(c), SPIF_CHECKPOINT_KEY) >= (int)n ? -1 : 0;
}

/* Read the whole (small) file; -1 with errno set. */
static char *slurp(const char *path, size_t max, size_t *n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char *buf = malloc(max + 1);
	size_t got = 0;
	ssize_t r = 0;
	while (buf && got < max && (r = read(fd, buf + got, max - got)) > 0)
		got += (size_t)r;
	int e = errno;
	close(fd);
	if (!buf || r < 0) {
		free(buf);
		errno = buf ? e : ENOMEM;
		return NULL;
	}
	buf[got] = '\0';
	*n = got;
	return buf;
}

static int load_signer(const char *path, const struct spif_conf *conf, const char *origin,
                       struct spif_note_signer *s, struct spif_err *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
		return spif_err_set(err, SPIF_EX_NOPERM, "%s: others can read it (mode %04o); refusing to use it "
		                    "(chmod o-r)", path, (unsigned)(st.st_mode & 07777));
	if (spif_check_perms(path, conf, err) < 0)
		return -1;
	size_t n;
	char *text = slurp(path, 4096, &n);
	if (!text)
		return spif_err_sys(err, errno == ENOENT ? SPIF_EX_NOINPUT : spif_exit_for_errno(errno), errno, "%s",
		                    path);
	int rc = spif_note_signer_parse(text, s, err);
	explicit_bzero(text, n);
	free(text);
	if (rc < 0) {
		spif_err_prefix(err, "%s", path);
		return -1;
	}
	if (strcmp(s->v.name, origin) != 0) {
		spif_note_signer_clear(s);
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: the key is named %s, not after this catalog (%s)", path,
		                    s->v.name, origin);
	}
	return 0;
}

/* Is there a file at path, for this process's effective ids?  access(2)
 * asks with the real ones, and a setgid spif's caller cannot search the
 * home's keys/: the key would look missing to every operator. */
static int exists(const char *path)
{
	return faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0;
}

int spif_checkpoint_signer(struct spif_catalog *c, int create, struct spif_note_signer *s, struct spif_err *err)
{
	const struct spif_conf *conf = spif_catalog_conf(c);
	char path[PATH_MAX], dir[PATH_MAX], origin[SPIF_NOTE_NAME_MAX];
	spif_checkpoint_origin(c, origin);
	if (key_path(c, path, sizeof path) < 0 ||
	    snprintf(dir, sizeof dir, "%s/keys", spif_catalog_home(c)) >= (int)sizeof dir)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: path too long", spif_catalog_home(c));
	if (exists(path) || !create)
		return load_signer(path, conf, origin, s, err);
	if (spif_home_mkdir(dir, conf, err) < 0)
		return -1;
	struct spif_note_signer fresh;
	if (spif_note_generate(origin, &fresh, err) < 0)
		return -1;
	char *text = spif_note_signer_text(&fresh);
	spif_note_signer_clear(&fresh);
	if (!text)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	struct spif_atomic a;
	size_t len = strlen(text);
	int rc = spif_atomic_open_home(&a, path, spif_file_mode(conf), err);
	if (rc == 0) {
		int w = write(a.fd, text, len) == (ssize_t)len && write(a.fd, "\n", 1) == 1;
		if (!w) {
			spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", path);
			spif_atomic_abort(&a);
			rc = -1;
		} else if (conf->group[0] && fchown(a.fd, (uid_t)-1, conf->gid) < 0) {
			spif_err_sys(err, SPIF_EX_NOPERM, errno, "%s: chgrp %s", path, conf->group);
			spif_atomic_abort(&a);
			rc = -1;
		} else
			rc = spif_atomic_commit(&a, err);
	}
	explicit_bzero(text, len);
	free(text);
	/* another process may have made it first: that one is the key */
	if (rc < 0 && !exists(path))
		return -1;
	return load_signer(path, conf, origin, s, err);
}

int spif_checkpoint_verifier(struct spif_catalog *c, int create, struct spif_note_verifier *v,
                             struct spif_err *err)
{
	struct spif_note_signer s;
	if (spif_checkpoint_signer(c, create, &s, err) < 0)
		return -1;
	*v = s.v;
	spif_note_signer_clear(&s);
	return 0;
}

int spif_checkpoint_verifier_parse(const char *text, size_t n, struct spif_note_verifier *v, struct spif_err *err)
{
	char line[512];
	size_t l = strcspn(text, "\r\n");
	if (l > n)
		l = n;
	if (l == 0 || l >= sizeof line)
		return spif_err_set(err, SPIF_EX_DATAERR, "not a verifier key (NAME+HASH+KEY on its first line)");
	memcpy(line, text, l);
	line[l] = '\0';
	if (strncmp(line, "PRIVATE+", 8) == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "that is the signing key, not the public one: give what "
		                    "spif catalog key export prints");
	return spif_note_verifier_parse(line, v, err);
}

int spif_checkpoint_fingerprint(const struct spif_note_verifier *v, char hex[65])
{
	char *t = spif_note_verifier_text(v);
	if (!t)
		return -1;
	spif_sha256_buf(t, strlen(t), hex);
	free(t);
	return 0;
}

/* ---- issuing ------------------------------------------------------------ */

static int tiles_root(struct spif_catalog *c, uint64_t n, spif_hash root, struct spif_err *err)
{
	struct spif_tiles *t = spif_auditlog_tiles(c, err);
	if (!t)
		return -1;
	return spif_merkle_root(n, spif_tiles_subtree, t, root, err);
}

/* The proof document of the certificate whose event is seq, under the
 * checkpoint note of n events. */
static int make_proof(struct spif_catalog *c, const char *cert_id, const char *cert_sha, long long seq, uint64_t n,
                      const char *note, char **doc, struct spif_err *err)
{
	*doc = NULL;
	if (seq < 1 || (uint64_t)seq > n)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: its event %lld is not under the checkpoint", cert_id, seq);
	struct spif_tiles *t = spif_auditlog_tiles(c, err);
	if (!t)
		return -1;
	spif_hash proof[SPIF_MERKLE_MAX_PROOF];
	size_t len;
	if (spif_merkle_inclusion_proof((uint64_t)seq - 1, n, spif_tiles_subtree, t, proof, &len, err) < 0)
		return -1;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT " SPIF_EVENT_COLUMNS " FROM events WHERE seq = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: its event %lld is missing from the audit log", cert_id,
			                    seq);
		return spif_catalog_sqlerr(c, rc, "read event", err);
	}
	json_t *ev = spif_event_json(st);
	sqlite3_finalize(st);
	json_t *hashes = json_array();
	for (size_t i = 0; i < len; i++) {
		char hex[65];
		spif_hex(proof[i], SPIF_MERKLE_HASH, hex);
		json_array_append_new(hashes, json_string(hex));
	}
	json_t *d = json_object();
	json_object_set_new(d, "format", json_string(SPIF_PROOF_FORMAT));
	json_object_set_new(d, "certificate", json_string(cert_id));
	json_object_set_new(d, "certificate_sha256", json_string(cert_sha));
	json_object_set_new(d, "catalog", json_string(spif_catalog_id(c)));
	json_object_set_new(d, "event", ev);
	json_object_set_new(d, "leaf_index", json_integer(seq - 1));
	json_object_set_new(d, "tree_size", json_integer((json_int_t)n));
	json_object_set_new(d, "proof", hashes);
	json_object_set_new(d, "checkpoint", json_string(note));
	*doc = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	if (!*doc)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return 0;
}

/* The size of the last checkpoint recorded (0 when none). */
static int last_size(struct spif_catalog *c, uint64_t *size, char **note, struct spif_err *err)
{
	*size = 0;
	if (note)
		*note = NULL;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT value FROM meta WHERE key = 'checkpoint_last'", &st, err) < 0)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		char origin[SPIF_NOTE_NAME_MAX];
		spif_hash root;
		if (t && spif_checkpoint_parse(t, strlen(t), origin, size, root, NULL) < 0)
			*size = 0;
		if (t && note)
			*note = strdup(t);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read last checkpoint", err);
	return 0;
}

/* Proofs under the checkpoint note (of n events) for certificates that
 * have none; those issued before the last checkpoint got one then. */
static int store_proofs(struct spif_catalog *c, uint64_t since, uint64_t n, const char *note, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT c.id, c.sha256, c.event_seq FROM certificates c"
	                            " WHERE c.event_seq > ? AND c.event_seq <= ?"
	                            " AND NOT EXISTS (SELECT 1 FROM cert_proofs p WHERE p.cert_id = c.id)"
	                            " ORDER BY c.event_seq", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char id[32];
		char *sha = strdup(sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
		char *doc;
		if (!sha) {
			r = spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			break;
		}
		r = make_proof(c, id, sha, sqlite3_column_int64(st, 2), n, note, &doc, err);
		free(sha);
		if (r < 0)
			break;
		sqlite3_stmt *ins;
		if ((r = spif_catalog_prepare(c, "INSERT INTO cert_proofs(cert_id, tree_size, proof) VALUES(?,?,?)", &ins,
		                              err)) == 0) {
			sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ins, 2, (sqlite3_int64)n);
			sqlite3_bind_text(ins, 3, doc, -1, SQLITE_TRANSIENT);
			int s = sqlite3_step(ins);
			sqlite3_finalize(ins);
			if (s != SQLITE_DONE)
				r = spif_catalog_sqlerr(c, s, "store inclusion proof", err);
		}
		free(doc);
	}
	sqlite3_finalize(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = spif_catalog_sqlerr(c, rc, "read certificates", err);
	return r;
}

/* Keep the checkpoint of n events with root: its row in checkpoints (with
 * the "catalog.checkpoint" event that records the row: after the events
 * the note signs, so the next checkpoint covers it), and meta
 * 'checkpoint_last', which the catalogs upgraded from before the table
 * still have as their only one.  Inside issue's transaction. */
static int keep(struct spif_catalog *c, const char *note, uint64_t n, const spif_hash root, struct spif_err *err)
{
	char now[32], hex[65];
	spif_now_utc(now);
	spif_hex(root, SPIF_MERKLE_HASH, hex);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT OR REPLACE INTO meta(key, value) VALUES('checkpoint_last', ?)", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, note, -1, SQLITE_TRANSIENT);
	if (spif_catalog_step_done(c, st, "record checkpoint", err) < 0 ||
	    spif_catalog_prepare(c, "INSERT INTO checkpoints(size, root, note, created) VALUES(?,?,?,?)", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	sqlite3_bind_text(st, 2, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, note, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	if (spif_catalog_step_done(c, st, "record checkpoint", err) < 0)
		return -1;
	long long id = sqlite3_last_insert_rowid(spif_catalog_db(c));
	json_t *d = json_pack("{s:I,s:I,s:s}", "checkpoint", (json_int_t)id, "size", (json_int_t)n, "root_sha256", hex);
	if (!d)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	int rc = spif_audit_append(c, "catalog.checkpoint", NULL, d, NULL, err);
	json_decref(d);
	return rc;
}

/* Sign, record and give proofs, in one transaction; *note the note. */
static int issue(struct spif_catalog *c, const struct spif_note_signer *s, char **note, struct spif_err *err)
{
	*note = NULL;
	long long head;
	char hh[65], origin[SPIF_NOTE_NAME_MAX];
	spif_hash root;
	uint64_t prev;
	spif_checkpoint_origin(c, origin);
	if (spif_catalog_begin(c, err) < 0)
		return -1;
	if (spif_audit_head(c, &head, hh, err) < 0 || tiles_root(c, (uint64_t)head, root, err) < 0 ||
	    last_size(c, &prev, NULL, err) < 0)
		goto fail;
	char *text = spif_checkpoint_text(origin, (uint64_t)head, root);
	if (!text) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto fail;
	}
	int rc = spif_note_sign(s, text, strlen(text), note, err);
	free(text);
	if (rc < 0)
		goto fail;
	if (keep(c, *note, (uint64_t)head, root, err) < 0)
		goto fail;
	/* a checkpoint older than the last (its size above this one's) is
	 * not a reason to give no proofs: start from the start */
	if (store_proofs(c, prev <= (uint64_t)head ? prev : 0, (uint64_t)head, *note, err) < 0 ||
	    spif_catalog_commit(c, err) < 0)
		goto fail;
	return 0;
fail:
	spif_catalog_rollback(c);
	free(*note);
	*note = NULL;
	return -1;
}

int spif_checkpoint_issue(struct spif_catalog *c, char **note, struct spif_err *err)
{
	char *mine = NULL;
	struct spif_note_signer s;
	if (note)
		*note = NULL;
	if (spif_checkpoint_signer(c, 1, &s, err) < 0) {
		spif_err_prefix(err, "checkpoint");
		return -1;
	}
	int rc = issue(c, &s, &mine, err);
	spif_note_signer_clear(&s);
	if (rc < 0) {
		spif_err_prefix(err, "checkpoint");
		return -1;
	}
	const struct spif_conf *conf = spif_catalog_conf(c);
	if (strcmp(conf->checkpoint_syslog, "yes") == 0)
		spif_checkpoint_syslog(mine);
	if (conf->checkpoint_log[0] && spif_checkpoint_append(conf->checkpoint_log, mine, spif_file_mode(conf), err) < 0) {
		spif_err_prefix(err, "checkpoint: checkpoint_log");
		rc = -1;
	}
	if (note)
		*note = mine;
	else
		free(mine);
	return rc;
}

int spif_checkpoint_append(const char *path, const char *note, mode_t mode, struct spif_err *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno) == SPIF_EX_NOPERM ? SPIF_EX_NOPERM : SPIF_EX_CANTCREAT,
		                    errno, "%s", path);
	size_t n = strlen(note);
	/* one write: a note and its blank line land together even when two
	 * spif processes append at once */
	char *buf = malloc(n + 1);
	int rc = 0;
	if (!buf)
		rc = spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	else {
		memcpy(buf, note, n);
		buf[n] = '\n';
		if (write(fd, buf, n + 1) != (ssize_t)(n + 1) || fsync(fd) < 0)
			rc = spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", path);
	}
	free(buf);
	if (close(fd) < 0 && rc == 0)
		rc = spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", path);
	return rc;
}

void spif_checkpoint_syslog(const char *note)
{
	char *line = strdup(note);
	if (!line)
		return;
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	/* "origin size root  — name sig": every field is one word, so the
	 * note comes back by putting the newlines back */
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	syslog(LOG_NOTICE, "checkpoint %s", line);
	free(line);
}

/* ---- checking ----------------------------------------------------------- */

int spif_checkpoint_next(const char *buf, size_t n, size_t *off, size_t *start, size_t *len)
{
	size_t p = *off;
	while (p < n && (buf[p] == '\n' || buf[p] == '\r' || buf[p] == ' ' || buf[p] == '\t'))
		p++;
	if (p >= n) {
		*off = n;
		return 0;
	}
	/* the text: lines up to the blank one */
	const char *blank = memmem(buf + p, n - p, "\n\n", 2);
	if (!blank)
		return -1;
	size_t q = (size_t)(blank - buf) + 2;
	/* then the signature lines, each starting with an em dash */
	size_t end = q;
	while (end + 3 <= n && memcmp(buf + end, "\xe2\x80\x94", 3) == 0) {
		const char *eol = memchr(buf + end, '\n', n - end);
		if (!eol)
			return -1;
		end = (size_t)(eol - buf) + 1;
	}
	if (end == q)
		return -1;
	*start = p;
	*len = end - p;
	*off = end;
	return 1;
}

/* What a check found (exit 1), translated like any error: found is an
 * xgettext keyword (Makefile). */
static int found(struct spif_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int found(struct spif_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	spif_err_setv(err, SPIF_FOUND, fmt, ap);
	va_end(ap);
	return -1;
}

int spif_checkpoint_check(struct spif_catalog *c, const struct spif_note_verifier *v, const char *note, size_t len,
                          uint64_t n, const spif_hash root, struct spif_checkpoint_result *res,
                          struct spif_err *err)
{
	memset(res, 0, sizeof *res);
	size_t tl;
	struct spif_err e = {0};
	if (spif_note_open(note, len, v, &tl, &e) < 0)
		return spif_err_wrap(err, SPIF_FOUND, &e, "the checkpoint is not one this catalog's key signed");
	spif_hash r1;
	if (spif_checkpoint_parse(note, tl, res->origin, &res->size, r1, &e) < 0) {
		if (err)
			*err = e, err->code = SPIF_FOUND;
		return -1;
	}
	char origin[SPIF_NOTE_NAME_MAX];
	spif_checkpoint_origin(c, origin);
	if (strcmp(res->origin, origin) != 0)
		return found(err, "the checkpoint is of %s, not of this catalog (%s)", res->origin, origin);
	uint64_t m = res->size;
	if (m > n)
		return found(err, "the checkpoint vouches for %" PRIu64 " events and the log has %" PRIu64
		             ": events were removed (the log was cut off, emptied or rewritten)", m, n);
	if (m == 0) {
		spif_hash empty;
		spif_merkle_empty_root(empty);
		if (memcmp(r1, empty, sizeof empty) != 0)
			return found(err, "the checkpoint of an empty log has a root that is not the empty tree's");
		return 0;
	}
	struct spif_tiles *t = spif_auditlog_tiles(c, err);
	if (!t)
		return -1;
	spif_hash proof[SPIF_MERKLE_MAX_PROOF];
	size_t plen;
	if (spif_merkle_consistency_proof(m, n, spif_tiles_subtree, t, proof, &plen, &e) < 0)
		return spif_err_wrap(err, SPIF_FOUND, &e, "no consistency proof from the checkpoint's %" PRIu64
		                     " events to the log's %" PRIu64, m, n);
	if (spif_merkle_verify_consistency(m, n, r1, root, proof, plen, &e) < 0)
		return spif_err_wrap(err, SPIF_FOUND, &e, "the log of %" PRIu64 " events is not the checkpoint's %" PRIu64
		                     " events with events added; the log was rewritten", n, m);
	return 0;
}

/* ---- certificates' proofs ---------------------------------------------- */

/* The stored proof of cert_id in *doc (NULL when none), its hash and event. */
static int stored_proof(struct spif_catalog *c, const char *cert_id, char **doc, char sha[65], long long *seq,
                        struct spif_err *err)
{
	*doc = NULL;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT c.sha256, c.event_seq, p.proof FROM certificates c"
	                            " LEFT JOIN cert_proofs p ON p.cert_id = c.id WHERE c.id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, cert_id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(sha, 65, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
		*seq = sqlite3_column_int64(st, 1);
		if (sqlite3_column_text(st, 2) && !(*doc = strdup((const char *)sqlite3_column_text(st, 2))))
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no certificate %s in the catalog", cert_id);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "read inclusion proof", err);
	return 0;
}

int spif_cert_stored_proof(struct spif_catalog *c, const char *cert_id, char **doc, struct spif_err *err)
{
	char sha[65];
	long long seq;
	return stored_proof(c, cert_id, doc, sha, &seq, err);
}

int spif_cert_proof(struct spif_catalog *c, const char *cert_id, char **doc, struct spif_err *err)
{
	char sha[65];
	long long seq;
	if (stored_proof(c, cert_id, doc, sha, &seq, err) < 0)
		return -1;
	if (*doc)
		return 0;
	/* none stored: a checkpoint now, which stores it, where the catalog
	 * may be written; else the last one, if it is recent enough */
	if (!sqlite3_db_readonly(spif_catalog_db(c), "main")) {
		char *note;
		if (spif_checkpoint_issue(c, &note, err) < 0 && !note)
			return -1;
		free(note);
		if (stored_proof(c, cert_id, doc, sha, &seq, err) < 0)
			return -1;
		if (*doc)
			return 0;
	}
	uint64_t size;
	char *note;
	if (last_size(c, &size, &note, err) < 0)
		return -1;
	if (!note || size < (uint64_t)seq) {
		free(note);
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: no checkpoint covers its event yet, and this catalog "
		                    "cannot be written here to issue one", cert_id);
	}
	int rc = make_proof(c, cert_id, sha, seq, size, note, doc, err);
	free(note);
	return rc;
}

static const char *sget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int spif_cert_proof_verify(const char *body, size_t body_n, const char *doc, size_t doc_n,
                           const struct spif_note_verifier *v, struct spif_inclusion *out, struct spif_err *err)
{
	memset(out, 0, sizeof *out);
	json_t *d = json_loadb(doc, doc_n, 0, NULL);
	json_t *b = body ? json_loadb(body, body_n, 0, NULL) : NULL;
	int rc = -1;
	json_t *ev = json_object_get(d, "event"), *pr = json_object_get(d, "proof");
	const char *fmt = sget(d, "format");
	if (!d || !fmt || strcmp(fmt, SPIF_PROOF_FORMAT) != 0 || !json_is_object(ev) || !json_is_array(pr) ||
	    !sget(d, "certificate") || !sget(d, "checkpoint") || !json_is_integer(json_object_get(d, "tree_size")) ||
	    !json_is_integer(json_object_get(d, "leaf_index"))) {
		found(err, "not a spif inclusion proof (%s)", SPIF_PROOF_FORMAT);
		goto out;
	}
	const char *id = sget(d, "certificate");
	snprintf(out->certificate, sizeof out->certificate, "%s", id);
	/* the certificate: the one the proof names, with the hash it names */
	const char *bcat = NULL;
	if (body) {
		char sha[65];
		spif_sha256_buf(body, body_n, sha);
		const char *bid = sget(b, "id");
		bcat = sget(json_object_get(b, "catalog"), "id");
		if (!b || !bid || strcmp(bid, id) != 0) {
			found(err, "%s: the proof is for %s, not for this certificate", bid ? bid : "?", id);
			goto out;
		}
		if (!sget(d, "certificate_sha256") || strcmp(sha, sget(d, "certificate_sha256")) != 0) {
			found(err, "%s: the certificate is not the one the proof was made for (its SHA-256 differs)", id);
			goto out;
		}
	}
	/* the event: its fields hash to its chain hash, and it issued this
	 * certificate with this hash */
	json_t *seqv = json_object_get(ev, "seq"), *pidv = json_object_get(ev, "pid");
	const char *hash = sget(ev, "hash"), *action = sget(ev, "action"), *object = sget(ev, "object");
	const char *details = sget(ev, "details");
	if (!json_is_integer(seqv) || !json_is_integer(pidv) || !hash || !details || !sget(ev, "prev_hash")) {
		found(err, "%s: the proof's event is incomplete", id);
		goto out;
	}
	out->seq = (long long)json_integer_value(seqv);
	char h[65];
	spif_audit_hash(sget(ev, "prev_hash"), out->seq, sget(ev, "time"), sget(ev, "operator"), sget(ev, "sudo_user"),
	                sget(ev, "host"), (long long)json_integer_value(pidv), sget(ev, "argv"), action, object, details,
	                h);
	unsigned char entry[32];
	if (strcmp(h, hash) != 0 || spif_hex_to_hash(hash, strlen(hash), entry) < 0) {
		found(err, "%s: the proof's event does not match its hash: it was changed", id);
		goto out;
	}
	json_t *dj = json_loads(details, 0, NULL);
	const char *dsha = sget(dj, "sha256");
	int bound = action && object && strcmp(action, "certificate") == 0 && strcmp(object, id) == 0 &&
	            (!body || (dsha && strcmp(dsha, sget(d, "certificate_sha256")) == 0));
	const char *signer = sget(dj, "signer");
	snprintf(out->signer, sizeof out->signer, "%s", signer ? signer : "");
	json_decref(dj);
	if (!bound) {
		found(err, "%s: the proof's event is not the one that issued this certificate", id);
		goto out;
	}
	/* the checkpoint: signed by the catalog's key, of the certificate's
	 * catalog, of the size the proof says */
	const char *note = sget(d, "checkpoint");
	size_t tl;
	struct spif_err e = {0};
	if (spif_note_open(note, strlen(note), v, &tl, &e) < 0) {
		spif_err_wrap(err, SPIF_FOUND, &e, "%s: the checkpoint", id);
		goto out;
	}
	char origin[SPIF_NOTE_NAME_MAX];
	spif_hash root;
	if (spif_checkpoint_parse(note, tl, origin, &out->tree_size, root, &e) < 0) {
		spif_err_wrap(err, SPIF_FOUND, &e, "%s: the checkpoint", id);
		goto out;
	}
	snprintf(out->catalog, sizeof out->catalog, "%s", strncmp(origin, "spif.catalog/", 13) == 0 ? origin + 13 : origin);
	if (bcat && strcmp(out->catalog, bcat) != 0) {
		found(err, "%s: the checkpoint is of %s, not of the certificate's catalog %s", id, origin, bcat);
		goto out;
	}
	if ((uint64_t)json_integer_value(json_object_get(d, "tree_size")) != out->tree_size ||
	    json_integer_value(json_object_get(d, "leaf_index")) != out->seq - 1) {
		found(err, "%s: the proof's leaf or tree size is not its event's and its checkpoint's", id);
		goto out;
	}
	size_t np = json_array_size(pr);
	spif_hash path[SPIF_MERKLE_MAX_PROOF];
	if (np > SPIF_MERKLE_MAX_PROOF) {
		found(err, "%s: the inclusion proof is too long", id);
		goto out;
	}
	for (size_t i = 0; i < np; i++) {
		const char *x = json_string_value(json_array_get(pr, i));
		if (!x || spif_hex_to_hash(x, strlen(x), path[i]) < 0) {
			found(err, "%s: the inclusion proof holds something that is not a hash", id);
			goto out;
		}
	}
	spif_hash leaf;
	spif_merkle_leaf_hash(entry, sizeof entry, leaf);
	if (out->seq < 1 ||
	    spif_merkle_verify_inclusion((uint64_t)out->seq - 1, out->tree_size, leaf, path, np, root, &e) < 0) {
		spif_err_wrap(err, SPIF_FOUND, &e, "%s: the inclusion proof does not verify", id);
		goto out;
	}
	rc = 0;
out:
	json_decref(d);
	json_decref(b);
	return rc;
}

int spif_checkpoint_last(struct spif_catalog *c, char **note, struct spif_err *err)
{
	uint64_t size;
	return last_size(c, &size, note, err);
}

/* ---- the checkpoints kept --------------------------------------------- */

int spif_checkpoint_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_checkpoint_row *r),
                         void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT id, size, root, note, created FROM checkpoints ORDER BY id", &st, err) < 0)
		return -1;
	int rc, stop = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_checkpoint_row r = {
			.id = sqlite3_column_int64(st, 0), .size = (uint64_t)sqlite3_column_int64(st, 1),
			.root = spif_col_text(st, 2), .note = spif_col_text(st, 3), .created = spif_col_text(st, 4),
		};
		if ((stop = fn(ctx, &r)) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list checkpoints", err);
	return 0;
}

const char *spif_checkpoint_pick_name(enum spif_checkpoint_pick p)
{
	static const char *const names[] = {"none", "last", "before", "first"};
	return (unsigned)p < 4 ? names[p] : "?";
}

int spif_checkpoint_before(struct spif_catalog *c, const char *since, char **note, char created[32],
                           enum spif_checkpoint_pick *how, struct spif_err *err)
{
	*note = NULL;
	created[0] = '\0';
	*how = SPIF_CHECKPOINT_NONE;
	/* the last before since, else (none before it) the first; without
	 * since, the last */
	static const char *const sql[] = {
		"SELECT note, created FROM checkpoints ORDER BY id DESC LIMIT 1",
		"SELECT note, created FROM checkpoints WHERE created < ? ORDER BY id DESC LIMIT 1",
		"SELECT note, created FROM checkpoints ORDER BY id LIMIT 1",
	};
	for (int i = since ? 1 : 0; i < 3; i++) {
		sqlite3_stmt *st;
		if (spif_catalog_prepare(c, sql[i], &st, err) < 0)
			return -1;
		if (i == 1)
			sqlite3_bind_text(st, 1, since, -1, SQLITE_TRANSIENT);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *t = spif_col_text(st, 0);
			snprintf(created, 32, "%s", spif_col_text(st, 1) ? spif_col_text(st, 1) : "");
			*note = t ? strdup(t) : NULL;
			sqlite3_finalize(st);
			if (!*note)
				return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			*how = i == 0 ? SPIF_CHECKPOINT_LAST : i == 1 ? SPIF_CHECKPOINT_BEFORE : SPIF_CHECKPOINT_FIRST;
			return 0;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return spif_catalog_sqlerr(c, rc, "read checkpoints", err);
		if (i == 0)
			break;
	}
	/* a catalog upgraded from before the table: its one checkpoint in meta */
	uint64_t size;
	if (last_size(c, &size, note, err) < 0)
		return -1;
	if (*note)
		*how = since ? SPIF_CHECKPOINT_FIRST : SPIF_CHECKPOINT_LAST;
	return 0;
}
