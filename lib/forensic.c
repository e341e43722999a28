/* forensic.c - see forensic.h: making the bundle. */
#include "forensic.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "audit.h"
#include "auditlog.h"
#include "auditlog_tree.h"
#include "bagit.h"
#include "catalog_priv.h"
#include "checkpoint.h"
#include "clockstate.h"
#include "digest.h"
#include "export_priv.h"
#include "incident.h"
#include "merkle.h"
#include "mynumber.h"
#include "pgp.h"

#ifndef SPIF_VERSION
#define SPIF_VERSION "0"
#endif

/* ---- what the incident touches ------------------------------------------ */

/* The ids an event may name: the incident, its files, their holds,
 * certificates and exports (JSON strings, for a search of details). */
static int add_ids(struct spif_catalog *c, const char *inc, const char *sql, char letter, json_t *ids,
                   struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, inc, -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char b[48];
		if (letter)
			snprintf(b, sizeof b, "%c%06lld", letter, sqlite3_column_int64(st, 0));
		else
			snprintf(b, sizeof b, "%s", (const char *)sqlite3_column_text(st, 0));
		json_array_append_new(ids, json_string(b));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "read the incident's ids", err);
}

#define INC_FILES "(SELECT file_id FROM incident_files WHERE incident_id = ?1)"
#define INC_CERTS "(SELECT id FROM certificates WHERE file_id IN " INC_FILES ")"
#define INC_EXPORTS "(SELECT export_id FROM export_files WHERE file_id IN " INC_FILES ")"

static json_t *involved(struct spif_catalog *c, const char *inc, struct spif_err *err)
{
	json_t *ids = json_array();
	json_array_append_new(ids, json_string(inc));
	if (add_ids(c, inc, "SELECT file_id FROM incident_files WHERE incident_id = ?1", 'F', ids, err) < 0 ||
	    add_ids(c, inc, "SELECT id FROM holds WHERE file_id IN " INC_FILES, 'H', ids, err) < 0 ||
	    add_ids(c, inc, "SELECT id FROM certificates WHERE file_id IN " INC_FILES, 0, ids, err) < 0 ||
	    add_ids(c, inc, "SELECT DISTINCT export_id FROM export_files WHERE file_id IN " INC_FILES, 0, ids, err) < 0) {
		json_decref(ids);
		return NULL;
	}
	return ids;
}

static int touches(json_t *ids, const char *action, const char *object, const char *details)
{
	if (action && strncmp(action, "operator.", 9) == 0)
		return 1;
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);
		if (object && strcmp(object, id) == 0)
			return 1;
		char q[64];
		snprintf(q, sizeof q, "\"%s\"", id);
		if (details && strstr(details, q))
			return 1;
	}
	return 0;
}

/* ---- the rows ----------------------------------------------------------- */

/* Every row sql (bound to the incident) selects, as objects by column. */
static int dump(struct spif_catalog *c, const char *inc, const char *table, const char *where, json_t *out,
                struct spif_err *err)
{
	char sql[1024];
	snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s", table, where);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, sql, &st, err) < 0)
		return -1;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_text(st, 1, inc, -1, SQLITE_TRANSIENT);
	json_t *rows = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *r = json_object();
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			json_t *v;
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(st, i)); break;
			case SQLITE_NULL: v = json_null(); break;
			case SQLITE_FLOAT: v = json_real(sqlite3_column_double(st, i)); break;
			default: v = json_string((const char *)sqlite3_column_text(st, i));
			}
			json_object_set_new(r, sqlite3_column_name(st, i), v ? v : json_null());
		}
		json_array_append_new(rows, r);
	}
	sqlite3_finalize(st);
	json_object_set_new(out, table, rows);
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "read the rows involved", err);
}

/* The rows involved, never a key table (keks, data_keys). */
static json_t *rows_of(struct spif_catalog *c, const char *inc, struct spif_err *err)
{
	static const char *const t[][2] = {
		{"incidents", "id = ?1"},
		{"incident_files", "incident_id = ?1"},
		{"incident_notes", "incident_id = ?1"},
		{"files", "id IN " INC_FILES},
		{"copies", "file_id IN " INC_FILES},
		{"holds", "file_id IN " INC_FILES},
		{"file_events", "file_id IN " INC_FILES},
		{"exports", "id IN " INC_EXPORTS},
		{"export_files", "export_id IN " INC_EXPORTS},
		{"certificates", "id IN " INC_CERTS},
		{"certificate_copies", "cert_id IN " INC_CERTS},
		{"confirmations", "cert_id IN " INC_CERTS},
		{"operators", "?1 IS NOT NULL"},
	};
	json_t *out = json_object();
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (dump(c, inc, t[i][0], t[i][1], out, err) < 0) {
			json_decref(out);
			return NULL;
		}
	return out;
}

/* ---- the events and their proofs ---------------------------------------- */

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (char *)t : NULL;
}

static json_t *hexes(const spif_hash *h, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char hex[65];
		spif_hex(h[i], SPIF_MERKLE_HASH, hex);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

/* The events of the window under the checkpoint of n events, as NDJSON
 * (*events), and their inclusion proofs into proofs. */
static int events_of(struct spif_catalog *c, json_t *ids, const char *since, const char *until, uint64_t n,
                     char **events, long long *count, json_t *proofs, struct spif_err *err)
{
	struct spif_tiles *t = spif_auditlog_tiles(c, err);
	if (!t)
		return -1;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT " SPIF_EVENT_COLUMNS " FROM events WHERE seq <= ?1 AND (?2 IS NULL OR time >= ?2)"
	                            " AND (?3 IS NULL OR time < ?3) ORDER BY seq", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, (long long)n);
	if (since)
		sqlite3_bind_text(st, 2, since, -1, SQLITE_TRANSIENT);
	if (until)
		sqlite3_bind_text(st, 3, until, -1, SQLITE_TRANSIENT);
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int rc, ret = 0;
	*count = 0;
	while (buf && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!touches(ids, col(st, 7), col(st, 8), col(st, 9)))
			continue;
		long long seq = sqlite3_column_int64(st, 0);
		json_t *ev = spif_event_json(st);
		char *line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(ev);
		spif_hash path[SPIF_MERKLE_MAX_PROOF];
		size_t plen;
		if (!line || spif_merkle_inclusion_proof((uint64_t)seq - 1, n, spif_tiles_subtree, t, path, &plen, err) < 0) {
			free(line);
			ret = -1;
			break;
		}
		size_t ll = strlen(line);
		if (len + ll + 2 > cap) {
			while (len + ll + 2 > cap)
				cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(line);
				spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
				ret = -1;
				break;
			}
			buf = nb;
		}
		memcpy(buf + len, line, ll);
		len += ll;
		buf[len++] = '\n';
		free(line);
		json_array_append_new(proofs, json_pack("{s:I,s:o}", "seq", (json_int_t)seq, "proof", hexes(path, plen)));
		(*count)++;
	}
	sqlite3_finalize(st);
	if (ret < 0) {
		free(buf);
		return -1;
	}
	if (!buf || len + 1 > cap) {
		free(buf);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	buf[len] = '\0';
	*events = buf;
	return 0;
}

static int note_size(const char *note, uint64_t *size, spif_hash root, struct spif_err *err)
{
	char origin[SPIF_NOTE_NAME_MAX];
	const char *end = strstr(note, "\n\n");
	size_t tl = end ? (size_t)(end - note) + 1 : strlen(note);
	return spif_checkpoint_parse(note, tl, origin, size, root, err);
}

/* What proofs.json says of the checkpoint its consistency proof starts
 * from, and why that one: a reader need not guess. */
static json_t *consistency_from(enum spif_checkpoint_pick pick, const char *since, uint64_t size,
                                const char *created)
{
	static const char *const why[] = {
		[SPIF_CHECKPOINT_NONE] = "no checkpoint was issued before this bundle's: no consistency proof",
		[SPIF_CHECKPOINT_LAST] = "the last checkpoint issued before this bundle (no --since)",
		[SPIF_CHECKPOINT_BEFORE] = "the last checkpoint issued before the window (--since)",
		[SPIF_CHECKPOINT_FIRST] = "no checkpoint was issued before the window (--since): the first one issued",
	};
	json_t *j = json_pack("{s:s,s:s}", "pick", spif_checkpoint_pick_name(pick), "why", why[pick]);
	if (j && since)
		json_object_set_new(j, "since", json_string(since));
	if (j && pick != SPIF_CHECKPOINT_NONE) {
		json_object_set_new(j, "size", json_integer((json_int_t)size));
		json_object_set_new(j, "created", created[0] ? json_string(created) : json_null());
	}
	return j;
}

/* ---- the host ------------------------------------------------------------ */

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 8192, len = 0;
	char *b = malloc(cap + 1);
	size_t k;
	while (b && (k = fread(b + len, 1, cap - len, f)) > 0) {
		len += k;
		if (len == cap) {
			char *nb = cap < (1u << 24) ? realloc(b, cap * 2 + 1) : NULL;
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b) {
		b[len] = '\0';
		*n = len;
	}
	return b;
}

/* ---- no number on the way out ------------------------------------------- */

static int is_hexhash(const char *s)
{
	size_t n = strlen(s);
	if (n != 64 && n != 128)
		return 0;
	return strspn(s, "0123456789abcdef") == n;
}

/* Every string of j through the detector, but hashes, signatures and
 * notes (their digit runs are hash or base64 text, not numbers).  1 when
 * one may be a number. */
static int has_number(json_t *j)
{
	size_t i;
	const char *k;
	json_t *v;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		json_object_foreach(j, k, v)
			if (has_number(v))
				return 1;
		return 0;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			if (has_number(v))
				return 1;
		return 0;
	case JSON_STRING: {
		const char *s = json_string_value(j);
		if (is_hexhash(s) || strncmp(s, "-----BEGIN PGP", 14) == 0 || strncmp(s, "spif.catalog/", 13) == 0)
			return 0;
		/* a JSON text inside (an event's details): its own strings */
		if (s[0] == '{' || s[0] == '[') {
			json_t *in = json_loads(s, 0, NULL);
			if (in) {
				int r = has_number(in);
				json_decref(in);
				return r;
			}
		}
		return spif_text_has_number(s);
	}
	default:
		return 0;
	}
}

/* ---- the records (--with-records) ----------------------------------------- */

/* One file of the incident and its records as held (export_priv.h). */
struct held {
	char fid[24];
	struct spif_file f;
	int disposed;          /* nothing of it is left: said, not an error */
	char *path;            /* the copy read */
	int vault;
	enum spif_format fmt;
	enum spif_enc enc;
	long long size;
	char name[64];         /* F000001.ndjson: data/ is flat (bagit.h), as in an export */
	char sha256[65];
};

static int add_id(void *ctx, const struct spif_incident_file *f)
{
	json_array_append_new(ctx, json_integer(f->file_id));
	return 0;
}

/* Every file of the incident and where its records are read from: the
 * copy export would read, checked now so that a file with nothing to
 * read stops the run before a byte is written; and the SHA-256 of its
 * records, from a first reading that keeps nothing (as export's counting
 * reading: export_run.c), so that custody.json is whole and signed
 * before the stream starts.  The second reading, into the tar, must
 * give the same hash. */
struct counted {
	struct spif_sha256 *h;
	long long n;
};

static int count_sink(void *ctx, const void *buf, size_t n)
{
	struct counted *k = ctx;
	spif_sha256_update(k->h, buf, n);
	k->n += (long long)n;
	return 0;
}

static int held_of(struct spif_catalog *c, const struct spif_forensic_opts *o, struct held **out, size_t *nout,
                   struct spif_err *err)
{
	const char *inc = o->incident, *out_name = o->out;
	json_t *ids = json_array();
	*out = NULL;
	*nout = 0;
	if (spif_incident_files(c, inc, add_id, ids, err) < 0) {
		json_decref(ids);
		return -1;
	}
	size_t n = json_array_size(ids);
	struct held *h = calloc(n + 1, sizeof *h);
	if (!h) {
		json_decref(ids);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	*out = h;
	for (size_t i = 0; i < n; i++) {
		struct held *x = &h[i];
		long long id = json_integer_value(json_array_get(ids, i));
		spif_file_id_format(id, x->fid);
		if (spif_catalog_get_file(c, id, &x->f, err) < 0)
			break;
		(*nout)++;
		if (x->f.state == SPIF_FILE_DISPOSED) {
			x->disposed = 1;
			continue;
		}
		size_t g = 0;
		while (g < o->ngated && o->gated[g] != id)
			g++;
		if (g == o->ngated) {
			spif_err_set(err, SPIF_EX_TEMPFAIL, "%s joined %s after its records were permitted to leave: no bundle "
			             "is written; run it again", x->fid, inc);
			break;
		}
		if (spif_export_source(c, &x->f, &x->path, &x->vault, &x->fmt, &x->enc, err) < 0)
			break;
		if (!x->path) {
			spif_err_set(err, SPIF_EX_DATAERR, "%s: no copy to read its records from (no vault copy, no copy "
			             "with its catalogued content): no bundle is written", x->fid);
			break;
		}
		if ((x->size = spif_export_held_size(&x->f, x->path, x->vault)) < 0) {
			spif_err_set(err, SPIF_EX_DATAERR, "%s: the size of its records cannot be read from its %s copy: no "
			             "bundle is written", x->fid, x->vault ? "vault" : "present");
			break;
		}
		snprintf(x->name, sizeof x->name, "%s.%s", x->fid, spif_format_name(x->fmt));
		/* the first reading: hashed only, for the custody statement,
		 * which is signed before the stream starts */
		struct counted k = {spif_sha256_new(), 0};
		if (!k.h) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			break;
		}
		int rc = spif_export_emit_held(c, &x->f, x->path, x->vault, out_name, count_sink, &k, err);
		spif_sha256_hex(k.h, x->sha256);
		spif_sha256_free(k.h);
		if (rc < 0)
			break;
		if (k.n != x->size) {
			spif_err_set(err, SPIF_EX_DATAERR, "%s: %lld bytes of records read, %lld announced (%s changed): no "
			             "bundle is written", x->fid, k.n, x->size, x->path);
			break;
		}
	}
	json_decref(ids);
	return *nout == n && !err->code ? 0 : -1;
}

static void held_free(struct held *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		spif_file_free(&h[i].f);
		free(h[i].path);
	}
	free(h);
}

/* ---- the bag, streamed -------------------------------------------------- */

struct part {
	const char *name;
	char *data;
	size_t n;
	char sha256[65];
};

/* What the producer thread writes: the tar of the bag into gpg's pipe.
 * It starts no process: a fork in one thread while another makes pipes
 * lets a child keep the other's pipe ends open, and both wait forever;
 * so custody.json is signed before it starts, by this thread's caller. */
struct prod {
	struct spif_catalog *c;
	const struct spif_forensic_opts *o;
	struct part *parts;
	size_t np;
	struct held *h;
	size_t nh;
	const char *custody, *sig; /* spif/custody.json and its signature */
	struct spif_bag *bag;
	char tagsha[65];       /* tagmanifest-sha256.txt's SHA-256, once written */
	int pipe_w;
	atomic_int stop;       /* gpg gave up: stop reading */
	int rc;
	struct spif_err e;
};

static int pipe_sink(void *ctx, const void *buf, size_t n)
{
	struct prod *P = ctx;
	if (atomic_load(&P->stop)) {
		errno = ECANCELED;
		return -1;
	}
	return spif_sink_fd(&P->pipe_w, buf, n);
}

static int one_file(struct prod *P, const char *name, long long size, const void *data, size_t n,
                    const struct held *x, char sha256[65], struct spif_err *err)
{
	char s512[129], path[80];
	snprintf(path, sizeof path, "%s", name);
	if (spif_bag_file_begin(P->bag, path, size, err) < 0)
		return -1;
	int w = x ? spif_export_emit_held(P->c, &x->f, x->path, x->vault, P->o->out, spif_bag_write, P->bag, err)
	          : n ? spif_bag_write(P->bag, data, n) : 0;
	if (w < 0 && !err->code)
		spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", P->o->out);
	if (w < 0 || spif_bag_file_end(P->bag, sha256, s512, err) < 0) {
		if (!err->code)
			spif_err_set(err, SPIF_EX_IOERR, "the bundle could not be written");
		return -1;
	}
	return 0;
}

static int produce(struct prod *P, struct spif_err *err)
{
	const struct spif_forensic_opts *o = P->o;
	for (size_t i = 0; i < P->np; i++)
		if (one_file(P, P->parts[i].name, (long long)P->parts[i].n, P->parts[i].data, P->parts[i].n, NULL,
		             P->parts[i].sha256, err) < 0)
			return -1;
	/* the records, streamed: the second reading, as the first */
	for (size_t i = 0; i < P->nh; i++) {
		struct held *x = &P->h[i];
		char sha[65];
		if (x->disposed)
			continue;
		if (one_file(P, x->name, x->size, NULL, 0, x, sha, err) < 0)
			return -1;
		if (strcmp(sha, x->sha256) != 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: its records read differently the second time (%s "
			                    "changed during the run): nothing was written", x->fid, x->path);
	}
	struct spif_bag_meta meta[] = {
		{"Source-Organization", "spif"},
		{"External-Description", P->nh ? "forensic bundle of an incident, with the records of its files"
		                               : "forensic bundle of an incident"},
		{"External-Identifier", o->incident},
	};
	return spif_bag_tag(P->bag, "spif/custody.json", P->custody, strlen(P->custody), err) < 0 ||
	               spif_bag_tag(P->bag, "spif/custody.json.asc", P->sig, strlen(P->sig), err) < 0 ||
	               spif_bag_finish(P->bag, meta, sizeof meta / sizeof *meta, P->tagsha, err) < 0
	           ? -1 : 0;
}

static void *producer_thread(void *arg)
{
	struct prod *P = arg;
	spif_thread_block_sigpipe(); /* gpg that stops early closes its end */
	P->rc = produce(P, &P->e);
	close(P->pipe_w); /* gpg sees the end of its input either way */
	P->pipe_w = -1;
	return NULL;
}

/* The tar through a pipe into gpg, which writes fd (read back behind it
 * for the package's SHA-256): the one way export.h streams a package. */
static int package(struct prod *P, int fd, char sha256[65], long long *size, struct spif_err *err)
{
	const struct spif_forensic_opts *o = P->o;
	int pr[2];
	struct counted ar = {spif_sha256_new(), 0};
	if (!ar.h)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (pipe2(pr, O_CLOEXEC) < 0) {
		spif_sha256_free(ar.h);
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "pipe");
	}
	(void)fcntl(pr[1], F_SETPIPE_SZ, 1 << 20);
	P->pipe_w = pr[1];
	char top[64];
	snprintf(top, sizeof top, "%s-forensic", o->incident);
	pthread_t th;
	int rc = -1;
	if (spif_bag_open_tar(top, pipe_sink, P, &P->bag, err) < 0) {
		close(pr[1]);
		goto out;
	}
	if (pthread_create(&th, NULL, producer_thread, P) != 0) {
		close(pr[1]);
		spif_err_set(err, SPIF_EX_SOFTWARE, "cannot start a thread");
		goto out;
	}
	struct spif_pgp_enc enc = {.recipients = o->recipients, .nrecipients = o->nrecipients, .sign_key = o->sign_key};
	struct spif_err ge = {0};
	int grc = spif_pgp_encrypt_to_fd(pr[0], fd, count_sink, &ar, &enc, &ge);
	if (grc < 0)
		atomic_store(&P->stop, 1);
	close(pr[0]); /* a producer still writing gets EPIPE */
	pr[0] = -1;
	pthread_join(th, NULL);
	/* the producer's failure is the cause, unless it only met the end of
	 * a gpg that had given up */
	if (P->rc < 0 && !(grc < 0 && (P->e.code == SPIF_EX_IOERR || P->e.code == 0)))
		*err = P->e;
	else if (grc < 0)
		*err = ge;
	else if (P->rc < 0)
		*err = P->e;
	else {
		spif_sha256_hex(ar.h, sha256);
		*size = ar.n;
		rc = 0;
	}
out:
	if (pr[0] >= 0)
		close(pr[0]);
	spif_sha256_free(ar.h);
	return rc;
}

/* ---- the run -------------------------------------------------------------- */

static int hold_first(struct spif_catalog *c, const struct spif_forensic_opts *o, struct spif_err *err)
{
	struct spif_incident in;
	if (spif_incident_get(c, o->incident, &in, err) < 0)
		return -1;
	int open = strcmp(in.state, "open") == 0;
	spif_incident_free(&in);
	if (!open)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is closed: a forensic bundle is made while it is open",
		                    o->incident);
	if (!o->nfiles)
		return 0;
	if (spif_catalog_begin(c, err) < 0)
		return -1;
	if (spif_incident_add_files(c, o->incident, o->files, o->nfiles, NULL, err) < 0 ||
	    spif_catalog_commit(c, err) < 0) {
		spif_catalog_rollback(c);
		return -1;
	}
	return 0;
}

/* Records that left in a bundle are a checkout like an export's: a row of
 * the ledger (持出し簿) under the number custody.json names, and the
 * bundle registered as an export copy of each file, so that the file is
 * not disposed of while the bundle is out and its certificate lists how
 * it ended (spif export return / destroyed / lost, as for any export).
 * The organisation and the basis name the incident: the responders'
 * bundle is the incident's, not a provision under a basis of its own. */
static int register_checkout(struct spif_catalog *c, const struct spif_forensic_opts *o, const struct prod *P,
                             const char *exid, int year, long long num, const char *now, const char *path,
                             const struct spif_forensic_result *r, const char *custody, struct spif_err *err)
{
	long long *ids = calloc(P->nh + 1, sizeof *ids), *copies = calloc(P->nh + 1, sizeof *copies);
	json_t *files = json_array(), *rec = json_array();
	for (size_t i = 0; i < o->nrecipients; i++)
		json_array_append_new(rec, json_pack("{s:s}", "key", o->recipients[i]));
	json_t *d = json_pack("{s:s,s:s,s:O,s:s,s:o}", "export", exid, "format", "forensic", "recipients", rec,
	                      "incident", o->incident, "signer", r->signer[0] ? json_string(r->signer) : json_null());
	char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	int rc = -1;
	size_t k = 0;
	long long records = 0, persons = 0;
	if (!ids || !copies || !ds) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < P->nh; i++) {
		const struct held *x = &P->h[i];
		if (x->disposed)
			continue;
		struct spif_copy cp = {.file_id = x->f.id, .kind = "export", .path = (char *)path,
		                       .sha256 = (char *)r->sha256, .size = r->size, .encrypted = 1,
		                       .created = (char *)now, .details = ds};
		if (spif_catalog_add_copy(c, &cp, err) < 0)
			goto out;
		ids[k] = x->f.id;
		copies[k++] = cp.id;
		char name[80];
		snprintf(name, sizeof name, "data/%s", x->name);
		json_array_append_new(files, json_pack("{s:s,s:s?,s:s?,s:I,s:I,s:s,s:s}", "file", x->fid, "label",
		                                       x->f.label, "purpose", x->f.purpose, "records",
		                                       (json_int_t)x->f.records, "persons", (json_int_t)x->f.persons,
		                                       "path", name, "source", x->vault ? "vault" : "copy"));
		records += x->f.records;
		persons += x->f.persons;
	}
	char org[96], basis[128], csha[65];
	snprintf(org, sizeof org, "incident response (%s)", o->incident);
	snprintf(basis, sizeof basis, "incident %s: forensic bundle with the records of its files", o->incident);
	spif_sha256_buf(custody, strlen(custody), csha);
	json_t *row = json_pack("{s:s,s:s,s:s,s:n,s:O,s:I,s:I,s:O,s:s,s:n,s:s,s:s,s:s,s:s?,s:n,s:n,s:s,s:s?,s:s}",
	                        "id", exid, "state", "out", "created", now, "due", "files", files, "records",
	                        (json_int_t)records, "persons", (json_int_t)persons, "recipients", rec,
	                        "organisation", org, "person", "basis", basis, "reason", o->reason ? o->reason : "",
	                        "operator", spif_catalog_actor(c)->operator_, "approver",
	                        o->approver && *o->approver ? o->approver : NULL, "medium", "seal", "format",
	                        "forensic", "signer", r->signer[0] ? r->signer : NULL, "incident", o->incident);
	if (!row) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	struct spif_export_new x = {.id = exid, .year = year, .n = num, .row = row, .path = path,
	                            .archive_sha256 = r->sha256, .archive_size = r->size, .checkout_sha256 = csha,
	                            .tagmanifest_sha256 = P->tagsha, .file_ids = ids, .copy_ids = copies, .nfiles = k};
	rc = spif_export_insert(c, &x, err);
	json_decref(row);
out:
	json_decref(files);
	json_decref(rec);
	free(ds);
	free(ids);
	free(copies);
	return rc;
}

int spif_forensic_run(struct spif_catalog *c, const struct spif_forensic_opts *o, struct spif_forensic_result *r,
                      struct spif_err *err)
{
	memset(r, 0, sizeof *r);
	if (!o->sign_key || !*o->sign_key)
		return spif_err_set(err, SPIF_EX_USAGE, "a forensic bundle is signed by the responder: give --sign KEYID "
		                    "(or sign_key in spif.conf)");
	if (!o->nrecipients || o->nrecipients > 16)
		return spif_err_set(err, SPIF_EX_USAGE, "give 1 to 16 recipients (-r)");
	struct spif_atomic a;
	if (spif_atomic_open(&a, o->out, 0600, err) < 0)
		return -1;
	static const char *const names[5] = {"events.ndjson", "proofs.json", "rows.json", "host.json", "spif.conf"};
	struct part parts[5];
	memset(parts, 0, sizeof parts);
	for (int i = 0; i < 5; i++)
		parts[i].name = names[i];
	size_t np = 4;
	struct prod P = {.pipe_w = -1};
	char exid[32] = ""; /* the checkout number of records that leave */
	int exyear = 0, exlock = -1;
	long long exnum = 0;
	char *prev = NULL, *note = NULL, *custody = NULL, *sig = NULL;
	json_t *ids = NULL, *proofs = NULL, *rows = NULL, *doc = NULL, *cust = NULL;
	int rc = -1;
	/* 1. hold every file first */
	if (hold_first(c, o, err) < 0)
		goto out;
	/* 2. the checkpoint to prove consistency from (the last before the
	 * window; none before it: the first; no window: the last), then a
	 * checkpoint now */
	enum spif_checkpoint_pick pick;
	char prev_created[32];
	if (spif_checkpoint_before(c, o->since, &prev, prev_created, &pick, err) < 0 ||
	    (spif_checkpoint_issue(c, &note, err) < 0 && !note))
		goto out;
	memset(err, 0, sizeof *err); /* a checkpoint_log that could not be written is not this run's failure */
	uint64_t n, m = 0;
	spif_hash root, root1;
	if (note_size(note, &n, root, err) < 0)
		goto out;
	/* 3. the events, their proofs, the consistency proof */
	if (!(ids = involved(c, o->incident, err)))
		goto out;
	proofs = json_array();
	if (events_of(c, ids, o->since, o->until, n, &parts[0].data, &r->events, proofs, err) < 0)
		goto out;
	parts[0].n = strlen(parts[0].data);
	doc = json_pack("{s:s,s:s,s:s,s:O}", "format", "spif-forensic/1", "catalog", spif_catalog_id(c), "checkpoint",
	                note, "events", proofs);
	if (prev && note_size(prev, &m, root1, err) == 0 && m > 0 && m <= n) {
		spif_hash path[SPIF_MERKLE_MAX_PROOF];
		size_t plen;
		struct spif_tiles *t = spif_auditlog_tiles(c, err);
		if (!t || spif_merkle_consistency_proof(m, n, spif_tiles_subtree, t, path, &plen, err) < 0)
			goto out;
		json_object_set_new(doc, "previous_checkpoint", json_string(prev));
		json_object_set_new(doc, "consistency", hexes(path, plen));
	} else
		pick = SPIF_CHECKPOINT_NONE;
	json_object_set_new(doc, "consistency_from", consistency_from(pick, o->since, m, prev_created));
	memset(err, 0, sizeof *err);
	/* 4. rows, host, configuration */
	if (!(rows = rows_of(c, o->incident, err)))
		goto out;
	json_t *fl = json_object_get(rows, "files");
	r->files = json_array_size(fl);
	char host[256] = "", csha[65] = "";
	gethostname(host, sizeof host - 1);
	if (o->conf && o->conf->path[0] && (parts[4].data = slurp(o->conf->path, &parts[4].n))) {
		spif_sha256_buf(parts[4].data, parts[4].n, csha);
		np = 5;
	}
	/* the clock as every source present says it (clockstate.h), and the
	 * verdict in "clock" as before */
	const char *clock;
	json_t *sources = spif_clock_sources(&clock);
	json_t *hj = sources ? json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "tool", "spif", "version", SPIF_VERSION, "host",
	                                 host, "clock", clock, "clock_sources", sources, "spif_conf_sha256",
	                                 csha[0] ? csha : "none") : NULL;
	parts[1].data = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	parts[2].data = json_dumps(rows, JSON_COMPACT | JSON_SORT_KEYS);
	parts[3].data = json_dumps(hj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(hj);
	for (int i = 1; i < 4; i++) {
		if (!parts[i].data) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			goto out;
		}
		parts[i].n = strlen(parts[i].data);
	}
	/* 5. no number on the way out, fail closed */
	for (size_t i = 0; i < 4; i++) {
		int found = 0;
		if (i == 0) {
			char *line = parts[0].data, *nl;
			for (; !found && *line; line = nl + 1) {
				nl = strchr(line, '\n');
				json_t *j = json_loadb(line, (size_t)(nl - line), 0, NULL);
				found = !j || has_number(j);
				json_decref(j);
			}
		} else {
			json_t *j = json_loads(parts[i].data, 0, NULL);
			found = !j || has_number(j);
			json_decref(j);
		}
		if (found) {
			spif_err_set(err, SPIF_EX_DATAERR, "data/%s holds what may be an Individual Number: no bundle is "
			             "written", parts[i].name);
			goto out;
		}
	}
	if (np == 5 && spif_text_has_number(parts[4].data)) {
		spif_err_set(err, SPIF_EX_DATAERR, "data/spif.conf holds what may be an Individual Number: no bundle is "
		             "written");
		goto out;
	}
	/* 6. the records' sources, checked before a byte is written */
	if (o->with_records && held_of(c, o, &P.h, &P.nh, err) < 0)
		goto out;
	/* 7. custody, signed by the responder */
	for (size_t i = 0; i < np; i++)
		spif_sha256_buf(parts[i].data, parts[i].n, parts[i].sha256);
	char now[32];
	spif_now_utc(now);
	/* records that leave take a checkout number now, under export's lock
	 * (held to the commit), so that custody.json names it */
	for (size_t i = 0; i < P.nh; i++)
		if (!P.h[i].disposed && !exid[0] &&
		    (spif_export_lock(spif_catalog_home(c), o->conf, &exlock, err) < 0 ||
		     spif_export_next_id(c, now, exid, &exyear, &exnum, err) < 0))
			goto out;
	const struct spif_actor *who = spif_catalog_actor(c);
	json_t *what = json_object();
	for (size_t i = 0; i < np; i++) {
		char k[64];
		snprintf(k, sizeof k, "data/%s", parts[i].name);
		json_object_set_new(what, k, json_string(parts[i].sha256));
	}
	json_t *rc_a = json_array();
	for (size_t i = 0; i < o->nrecipients; i++)
		json_array_append_new(rc_a, json_string(o->recipients[i]));
	cust = json_pack("{s:s,s:s,s:{s:s,s:I,s:s},s:s,s:{s:s,s:I},s:I,s:o,s:o,s:s}", "format", "spif-custody/1",
	                 "incident", o->incident, "who", "operator", who->operator_, "uid", (json_int_t)getuid(),
	                 "sudo_user", who->sudo_user[0] ? who->sudo_user : "", "when", now, "from", "host", host,
	                 "pid", (json_int_t)getpid(), "tree_size", (json_int_t)n, "recipients", rc_a, "what", what,
	                 "why", o->reason ? o->reason : "");
	if (!cust) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	/* records keep their numbers: where each file's came from (or that
	 * it has none left), and who approved them leaving */
	if (o->with_records) {
		json_t *recs = json_object();
		for (size_t i = 0; i < P.nh; i++) {
			struct held *x = &P.h[i];
			char name[80];
			snprintf(name, sizeof name, "data/%s", x->name);
			if (x->disposed) {
				json_object_set_new(recs, x->fid, json_pack("{s:s,s:n}", "state", "disposed: no records are left "
				                                            "of it, none are bundled", "path"));
				continue;
			}
			json_object_set_new(what, name, json_string(x->sha256));
			json_object_set_new(recs, x->fid,
			                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "state", "bundled", "path", name,
			                              "source", x->vault ? "vault" : "copy", "format", spif_format_name(x->fmt),
			                              "encoding", spif_enc_name(x->enc), "size", (json_int_t)x->size, "sha256",
			                              x->sha256));
			r->records++;
		}
		json_object_set_new(cust, "records", recs);
		json_object_set_new(cust, "export", exid[0] ? json_string(exid) : json_null());
		json_object_set_new(cust, "approver", o->approver && *o->approver ? json_string(o->approver) : json_null());
	}
	if (!(custody = json_dumps(cust, JSON_COMPACT | JSON_SORT_KEYS))) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if (has_number(cust)) {
		spif_err_set(err, SPIF_EX_DATAERR, "spif/custody.json holds what may be an Individual Number");
		goto out;
	}
	if (spif_pgp_sign(o->sign_key, custody, strlen(custody), &sig, r->signer, err) < 0)
		goto out;
	/* 8. the package, streamed: tar -> gpg -> the output */
	P.c = c;
	P.o = o;
	P.parts = parts;
	P.np = np;
	P.custody = custody;
	P.sig = sig;
	P.pipe_w = -1;
	if (package(&P, a.fd, r->sha256, &r->size, err) < 0)
		goto out;
	/* 8. the event, then the output in place */
	json_t *ev = json_pack("{s:s,s:s,s:I,s:I,s:O,s:s}", "sha256", r->sha256, "signer", r->signer, "events",
	                       (json_int_t)r->events, "tree_size", (json_int_t)n, "recipients", rc_a, "reason",
	                       o->reason ? o->reason : "");
	if (ev && o->with_records) { /* which files' records left, and who approved it */
		json_t *rf = json_array();
		for (size_t i = 0; i < P.nh; i++)
			if (!P.h[i].disposed)
				json_array_append_new(rf, json_string(P.h[i].fid));
		json_object_set_new(ev, "records", rf);
		json_object_set_new(ev, "approver", o->approver && *o->approver ? json_string(o->approver) : json_null());
	}
	if (spif_catalog_begin(c, err) < 0) {
		json_decref(ev);
		goto out;
	}
	if (spif_audit_append(c, "incident.forensic", o->incident, ev, NULL, err) < 0 ||
	    (exid[0] && register_checkout(c, o, &P, exid, exyear, exnum, now, a.path, r, custody, err) < 0) ||
	    spif_atomic_commit(&a, err) < 0) {
		json_decref(ev);
		spif_catalog_rollback(c);
		goto out;
	}
	json_decref(ev);
	if (spif_catalog_commit(c, err) < 0)
		goto out; /* the bundle is in place; the event is not: say so */
	snprintf(r->path, sizeof r->path, "%s", a.path);
	snprintf(r->export_id, sizeof r->export_id, "%s", exid);
	rc = 0;
out:
	if (rc < 0)
		spif_atomic_abort(&a);
	for (size_t i = 0; i < 5; i++)
		free(parts[i].data);
	spif_bag_close(P.bag);
	held_free(P.h, P.nh);
	if (exlock >= 0)
		close(exlock);
	free(prev), free(note), free(custody), free(sig);
	json_decref(ids), json_decref(proofs), json_decref(rows), json_decref(doc), json_decref(cust);
	return rc;
}
