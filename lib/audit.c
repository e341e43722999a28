/* audit.c - see audit.h */
#include "catalog_priv.h"
#include "audit.h"

#include <gcrypt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "mynumber.h"

/* An event carries its command line up to this many bytes of JSON. */
#define ARGV_MAX 4096

static const char zero_hash[65] =
	"0000000000000000000000000000000000000000000000000000000000000000";

int spif_actor_init(struct spif_actor *a, int argc, char **argv, struct spif_err *err)
{
	memset(a, 0, sizeof *a);
	/* Identity is the real uid and nothing else: not the effective ids (a
	 * system install's commands are setgid), not the environment.  Under
	 * sudo the real uid is root and SUDO_USER is only what the caller's
	 * environment claims (anyone can set it): it is kept, as recorded and
	 * not trusted, only when the real uid is root, and it names a person
	 * only when the operator table says root acts through sudo
	 * (lib/operator.h: the event then says "root (sudo from X,
	 * unverified)").  From any other uid it is dropped: that process was
	 * not started by sudo, whatever its environment says. */
	uid_t uid = getuid();
	struct passwd *pw = getpwuid(uid);
	if (pw)
		snprintf(a->operator_, sizeof a->operator_, "%s", pw->pw_name);
	else
		snprintf(a->operator_, sizeof a->operator_, "uid:%u", (unsigned)uid);
	const char *su = getenv("SUDO_USER");
	if (su && uid == 0)
		snprintf(a->sudo_user, sizeof a->sudo_user, "%s", su);
	if (gethostname(a->host, sizeof a->host - 1) < 0)
		strcpy(a->host, "unknown");
	a->pid = (long)getpid();
	json_t *arr = json_array();
	for (int i = 0; i < argc; i++) {
		char *str = strdup(argv[i]);
		if (!str)
			break;
		spif_mask_numbers(str);
		json_t *js = json_string(str); /* NULL for bytes that are not UTF-8 */
		json_array_append_new(arr, js ? js : json_string("(not UTF-8)"));
		free(str);
	}
	a->argv_json = json_dumps(arr, JSON_COMPACT);
	if (a->argv_json && strlen(a->argv_json) > ARGV_MAX) {
		/* "spif shred DIR/..." with thousands of files: every event of the run
		 * carried them all, and the log grew with the square of the count.
		 * Keep the head and a digest of the whole; each event's object
		 * names its own file anyway. */
		char hex[65], tail[160];
		spif_sha256_buf(a->argv_json, strlen(a->argv_json), hex);
		size_t keep = 0, len = 2;
		while (keep < json_array_size(arr)) {
			size_t l = strlen(json_string_value(json_array_get(arr, keep))) + 4;
			if (len + l > ARGV_MAX / 2)
				break;
			len += l;
			keep++;
		}
		size_t more = json_array_size(arr) - keep;
		while (json_array_size(arr) > keep)
			json_array_remove(arr, keep);
		snprintf(tail, sizeof tail, "... %zu more argument%s (sha256 of the whole list: %s)", more,
		         more == 1 ? "" : "s", hex);
		json_array_append_new(arr, json_string(tail));
		free(a->argv_json);
		a->argv_json = json_dumps(arr, JSON_COMPACT);
	}
	json_decref(arr);
	if (!a->argv_json)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return 0;
}

void spif_actor_free(struct spif_actor *a)
{
	free(a->argv_json);
	a->argv_json = NULL;
}

/* Keys whose values spif computes itself as hex digests or OpenPGP
 * fingerprints: these often hold a run of 12 decimal digits, and masking
 * them would corrupt them. */
static int is_digest_key(const char *k)
{
	size_t n = strlen(k);
	return strcmp(k, "hash") == 0 || strcmp(k, "prev_hash") == 0 || strcmp(k, "signer") == 0 ||
	       (n >= 6 && strcmp(k + n - 6, "sha256") == 0);
}

/* Mask digit runs in every string of a JSON value, recursively. */
static void mask_json(json_t *v)
{
	if (json_is_string(v)) {
		char *s = strdup(json_string_value(v));
		if (s && spif_mask_numbers(s) > 0)
			json_string_set(v, s);
		free(s);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) mask_json(e);
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e) if (!is_digest_key(k)) mask_json(e);
	}
}

static void netstring(gcry_md_hd_t md, const char *s)
{
	char len[24];
	size_t n = s ? strlen(s) : 0;
	int l = snprintf(len, sizeof len, "%zu:", n);
	gcry_md_write(md, len, (size_t)l);
	if (n)
		gcry_md_write(md, s, n);
	gcry_md_write(md, ",", 1);
}

static void netstring_int(gcry_md_hd_t md, long long v)
{
	char b[24];
	snprintf(b, sizeof b, "%lld", v);
	netstring(md, b);
}

/* One digest context per thread of use; verify reuses one for speed. */
static void hash_event(gcry_md_hd_t md, const char *prev, long long seq, const char *time,
                       const char *op, const char *sudo, const char *host, long long pid,
                       const char *argv, const char *action, const char *object,
                       const char *details, char out[65])
{
	gcry_md_reset(md);
	netstring(md, prev);
	netstring_int(md, seq);
	netstring(md, time);
	netstring(md, op);
	netstring(md, sudo);
	netstring(md, host);
	netstring_int(md, pid);
	netstring(md, argv);
	netstring(md, action);
	netstring(md, object);
	netstring(md, details);
	spif_hex(gcry_md_read(md, GCRY_MD_SHA256), 32, out);
}

void spif_audit_hash(const char *prev, long long seq, const char *time, const char *op,
                     const char *sudo, const char *host, long long pid, const char *argv,
                     const char *action, const char *object, const char *details,
                     char out[65])
{
	gcry_md_hd_t md;
	if (gcry_md_open(&md, GCRY_MD_SHA256, 0)) {
		out[0] = '\0';
		return;
	}
	hash_event(md, prev, seq, time, op, sudo, host, pid, argv, action, object, details, out);
	gcry_md_close(md);
}

int spif_audit_head(struct spif_catalog *c, long long *seq, char hash[65], struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", &st, err) < 0)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 1));
	} else {
		*seq = 0;
		memcpy(hash, zero_hash, 65);
	}
	spif_catalog_release(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read audit head", err);
	return 0;
}

/* The head is also kept in meta, so that a removed tail of the log shows:
 * the chain alone cannot tell a cut-off log from a short one.  (Signed
 * checkpoints kept elsewhere are what proves it against someone who can
 * rewrite meta too.) */
static int set_head(struct spif_catalog *c, long long seq, const char *hash, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "INSERT OR REPLACE INTO meta(key,value) VALUES('audit_head',?)",
	                         &st, err) < 0)
		return -1;
	char v[96];
	snprintf(v, sizeof v, "%lld:%s", seq, hash);
	sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	spif_catalog_release(st);
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "record audit head", err);
	return 0;
}

int spif_audit_append(struct spif_catalog *c, const char *action, const char *object,
                      json_t *details, long long *seq_out, struct spif_err *err)
{
	if (!spif_catalog_in_tx(c))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "audit event outside a transaction");
	const struct spif_actor *a = spif_catalog_actor(c);
	if (!a->argv_json)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "audit event without an actor");
	long long prev_seq;
	char prev[65], hash[65], now[32];
	if (spif_audit_head(c, &prev_seq, prev, err) < 0)
		return -1;
	char *dj;
	if (details) {
		json_t *copy = json_deep_copy(details);
		mask_json(copy);
		dj = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(copy);
	} else
		dj = strdup("{}");
	if (!dj)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	char *obj = object ? strdup(object) : NULL;
	if (obj)
		spif_mask_numbers(obj);
	long long seq = prev_seq + 1;
	spif_now_utc(now);
	const char *sudo = a->sudo_user[0] ? a->sudo_user : NULL;
	spif_audit_hash(prev, seq, now, a->operator_, sudo, a->host, a->pid, a->argv_json, action,
	                obj, dj, hash);
	sqlite3_stmt *st;
	int rc = -1;
	if (spif_catalog_cached(c,
	        "INSERT INTO events(seq,time,operator,sudo_user,host,pid,argv,action,object,details,"
	        "prev_hash,hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", &st, err) == 0) {
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, a->operator_, -1, SQLITE_STATIC);
		if (sudo)
			sqlite3_bind_text(st, 4, sudo, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_text(st, 5, a->host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, a->pid);
		sqlite3_bind_text(st, 7, a->argv_json, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, action, -1, SQLITE_STATIC);
		if (obj)
			sqlite3_bind_text(st, 9, obj, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 9);
		sqlite3_bind_text(st, 10, dj, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, prev, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, hash, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		spif_catalog_release(st);
		if (s == SQLITE_DONE)
			rc = set_head(c, seq, hash, err);
		else
			spif_catalog_sqlerr(c, s, "append audit event", err);
	}
	free(dj);
	free(obj);
	if (rc == 0 && seq_out)
		*seq_out = seq;
	return rc;
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int spif_audit_verify(struct spif_catalog *c, struct spif_verify *v, struct spif_err *err)
{
	memset(v, 0, sizeof *v);
	memcpy(v->head, zero_hash, 65);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c,
	        "SELECT seq,time,operator,sudo_user,host,pid,argv,action,object,details,prev_hash,hash"
	        " FROM events ORDER BY seq", &st, err) < 0)
		return -1;
	gcry_md_hd_t md;
	if (gcry_md_open(&md, GCRY_MD_SHA256, 0)) {
		sqlite3_finalize(st);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: cannot open SHA-256");
	}
	char prev[65], h[65];
	memcpy(prev, zero_hash, 65);
	long long expect = 1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		const char *stored_prev = col(st, 10), *stored = col(st, 11);
		if (seq != expect) {
			v->bad_seq = expect;
			snprintf(v->why, sizeof v->why,
			         "event %lld is missing (the log jumps from %lld to %lld): removed", expect,
			         expect - 1, seq);
			break;
		}
		if (!stored_prev || strcmp(stored_prev, prev) != 0) {
			v->bad_seq = seq;
			snprintf(v->why, sizeof v->why,
			         "event %lld does not follow event %lld (its previous hash differs): "
			         "an event was removed, inserted or reordered",
			         seq, seq - 1);
			break;
		}
		hash_event(md, prev, seq, col(st, 1), col(st, 2), col(st, 3), col(st, 4),
		           sqlite3_column_int64(st, 5), col(st, 6), col(st, 7), col(st, 8), col(st, 9), h);
		if (!stored || strcmp(h, stored) != 0) {
			v->bad_seq = seq;
			snprintf(v->why, sizeof v->why, "event %lld does not match its hash: it was changed", seq);
			break;
		}
		memcpy(prev, h, 65);
		v->events++;
		expect++;
	}
	gcry_md_close(md);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "read audit log", err);
	memcpy(v->head, prev, 65);
	if (v->bad_seq == 0) {
		/* the recorded head must be the last event we reached */
		long long hseq = 0;
		char hh[65] = "";
		if (spif_catalog_prepare(c, "SELECT value FROM meta WHERE key='audit_head'", &st, err) < 0)
			return -1;
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *hv = col(st, 0);
			if (!hv || sscanf(hv, "%lld:%64s", &hseq, hh) != 2)
				hseq = -1;
		}
		sqlite3_finalize(st);
		if (hseq != v->events || (hseq > 0 && strcmp(hh, v->head) != 0)) {
			v->bad_seq = v->events + 1;
			if (hseq > v->events)
				snprintf(v->why, sizeof v->why,
				         "the log ends at event %lld but its recorded head is event %lld: "
				         "events were removed from the end", v->events, hseq);
			else
				snprintf(v->why, sizeof v->why,
				         "the recorded head of the log does not match its last event %lld",
				         v->events);
		}
	}
	return 0;
}
