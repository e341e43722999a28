/* forensic.c - see forensic.h: making the bundle. */
#include "forensic.h"

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

static json_t *jcol(sqlite3_stmt *st, int i)
{
	const char *s = col(st, i);
	return s ? json_string(s) : json_null();
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
	if (spif_catalog_prepare(c, "SELECT seq,time,operator,sudo_user,host,pid,argv,action,object,details,"
	                            "prev_hash,hash FROM events WHERE seq <= ?1 AND (?2 IS NULL OR time >= ?2)"
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
		json_t *ev = json_object();
		json_object_set_new(ev, "seq", json_integer(seq));
		json_object_set_new(ev, "time", jcol(st, 1));
		json_object_set_new(ev, "operator", jcol(st, 2));
		json_object_set_new(ev, "sudo_user", jcol(st, 3));
		json_object_set_new(ev, "host", jcol(st, 4));
		json_object_set_new(ev, "pid", json_integer(sqlite3_column_int64(st, 5)));
		json_object_set_new(ev, "argv", jcol(st, 6));
		json_object_set_new(ev, "action", jcol(st, 7));
		json_object_set_new(ev, "object", jcol(st, 8));
		json_object_set_new(ev, "details", jcol(st, 9));
		json_object_set_new(ev, "prev_hash", jcol(st, 10));
		json_object_set_new(ev, "hash", jcol(st, 11));
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

/* ---- the bag ------------------------------------------------------------- */

struct part {
	const char *name;
	char *data;
	size_t n;
	char sha256[65];
};

static int sink_mem(void *ctx, const void *buf, size_t n)
{
	struct part *p = ctx;
	char *nb = realloc(p->data, p->n + n + 1);
	if (!nb)
		return -1;
	memcpy(nb + p->n, buf, n);
	p->data = nb;
	p->n += n;
	p->data[p->n] = '\0';
	return 0;
}

static int make_tar(const char *top, struct part *parts, size_t np, const char *custody, const char *sig,
                    const char *inc, struct part *tar, struct spif_err *err)
{
	struct spif_bag *b;
	if (spif_bag_open_tar(top, sink_mem, tar, &b, err) < 0)
		return -1;
	int rc = -1;
	for (size_t i = 0; i < np; i++) {
		char s512[129];
		if (spif_bag_file_begin(b, parts[i].name, (long long)parts[i].n, err) < 0 ||
		    (parts[i].n && spif_bag_write(b, parts[i].data, parts[i].n) < 0) ||
		    spif_bag_file_end(b, parts[i].sha256, s512, err) < 0) {
			if (!err->code)
				spif_err_set(err, SPIF_EX_IOERR, "the bundle could not be written");
			goto out;
		}
	}
	struct spif_bag_meta meta[] = {
		{"Source-Organization", "spif"},
		{"External-Description", "forensic bundle of an incident"},
		{"External-Identifier", inc},
	};
	char tagsha[65];
	if (spif_bag_tag(b, "spif/custody.json", custody, strlen(custody), err) < 0 ||
	    spif_bag_tag(b, "spif/custody.json.asc", sig, strlen(sig), err) < 0 ||
	    spif_bag_finish(b, meta, sizeof meta / sizeof *meta, tagsha, err) < 0)
		goto out;
	rc = 0;
out:
	spif_bag_close(b);
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
	struct part tar = {0};
	char *prev = NULL, *note = NULL, *custody = NULL, *sig = NULL, *msg = NULL;
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
	/* 6. custody, signed by the responder */
	for (size_t i = 0; i < np; i++)
		spif_sha256_buf(parts[i].data, parts[i].n, parts[i].sha256);
	char now[32];
	spif_now_utc(now);
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
	if (!cust || !(custody = json_dumps(cust, JSON_COMPACT | JSON_SORT_KEYS))) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if (has_number(cust)) {
		spif_err_set(err, SPIF_EX_DATAERR, "spif/custody.json holds what may be an Individual Number");
		goto out;
	}
	if (spif_pgp_sign(o->sign_key, custody, strlen(custody), &sig, r->signer, err) < 0)
		goto out;
	/* 7. the package: the tar in memory (no record in it), encrypted and signed */
	char top[64];
	snprintf(top, sizeof top, "%s-forensic", o->incident);
	if (make_tar(top, parts, np, custody, sig, o->incident, &tar, err) < 0)
		goto out;
	size_t msgn;
	struct spif_pgp_enc enc = {.recipients = o->recipients, .nrecipients = o->nrecipients, .sign_key = o->sign_key};
	if (spif_pgp_encrypt_buf(tar.data, tar.n, &enc, &msg, &msgn, err) < 0)
		goto out;
	for (size_t off = 0; off < msgn;) {
		ssize_t w = write(a.fd, msg + off, msgn - off);
		if (w <= 0) {
			spif_err_set(err, SPIF_EX_IOERR, "%s: could not be written", o->out);
			goto out;
		}
		off += (size_t)w;
	}
	spif_sha256_buf(msg, msgn, r->sha256);
	r->size = (long long)msgn;
	/* 8. the event, then the output in place */
	json_t *ev = json_pack("{s:s,s:s,s:I,s:I,s:O,s:s}", "sha256", r->sha256, "signer", r->signer, "events",
	                       (json_int_t)r->events, "tree_size", (json_int_t)n, "recipients", rc_a, "reason",
	                       o->reason ? o->reason : "");
	if (spif_catalog_begin(c, err) < 0) {
		json_decref(ev);
		goto out;
	}
	if (spif_audit_append(c, "incident.forensic", o->incident, ev, NULL, err) < 0 ||
	    spif_atomic_commit(&a, err) < 0) {
		json_decref(ev);
		spif_catalog_rollback(c);
		goto out;
	}
	json_decref(ev);
	if (spif_catalog_commit(c, err) < 0)
		goto out; /* the bundle is in place; the event is not: say so */
	snprintf(r->path, sizeof r->path, "%s", a.path);
	rc = 0;
out:
	if (rc < 0)
		spif_atomic_abort(&a);
	for (size_t i = 0; i < 5; i++)
		free(parts[i].data);
	free(tar.data);
	free(prev), free(note), free(custody), free(sig), free(msg);
	json_decref(ids), json_decref(proofs), json_decref(rows), json_decref(doc), json_decref(cust);
	return rc;
}
