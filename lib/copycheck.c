/* copycheck.c - see copycheck.h */
#include "catalog_priv.h"
#include "copycheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "catalog_query.h"
#include "digest.h"
#include "i18n.h"
#include "retention.h"
#include "vault.h"

const char *spif_copy_finding_name(enum spif_copy_finding f)
{
	/* marked: a table shows them translated, JSON as they are */
	static const char *const n[] = {N_("ok"), N_("missing"), N_("changed"), N_("unreadable"), N_("not a vault file")};
	return (unsigned)f < sizeof n / sizeof *n ? n[f] : "?";
}

static void check_one(const struct spif_copy *cp, struct spif_copy_check *r)
{
	struct stat st;
	memset(r, 0, sizeof *r);
	r->copy = cp;
	r->size_now = -1;
	if (stat(cp->path, &st) < 0) {
		r->finding = errno == ENOENT || errno == ENOTDIR ? SPIF_COPY_MISSING : SPIF_COPY_UNREADABLE;
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		r->finding = SPIF_COPY_CHANGED;
		return;
	}
	r->size_now = (long long)st.st_size;
	if (strcmp(cp->kind, "vault") == 0) {
		if (spif_vault_copy_key_id(cp->path) < 0)
			r->finding = access(cp->path, R_OK) == 0 ? SPIF_COPY_NOT_VAULT : SPIF_COPY_UNREADABLE;
		return;
	}
	if (cp->size >= 0 && r->size_now != cp->size) {
		r->finding = SPIF_COPY_CHANGED;
		return;
	}
	if (!cp->sha256 || !*cp->sha256)
		return;
	struct spif_err e = {0};
	long long size;
	if (spif_sha256_file(cp->path, r->sha256_now, &size, &e) < 0) {
		r->finding = SPIF_COPY_UNREADABLE;
		r->sha256_now[0] = '\0';
		return;
	}
	if (strcmp(r->sha256_now, cp->sha256) != 0)
		r->finding = SPIF_COPY_CHANGED;
}

int spif_copies_check(struct spif_catalog *c, spif_copy_check_fn fn, void *ctx, long long *checked,
                      struct spif_err *err)
{
	struct spif_copy *cp;
	size_t n;
	*checked = 0;
	if (spif_catalog_copies_in_state(c, SPIF_COPY_PRESENT, &cp, &n, err) < 0)
		return -1;
	int stop = 0;
	for (size_t i = 0; i < n && !stop; i++) {
		struct spif_copy_check r;
		check_one(&cp[i], &r);
		(*checked)++;
		stop = fn(ctx, &r);
	}
	spif_copies_free(cp, n);
	return stop;
}

static int load_copy(struct spif_catalog *c, long long id, struct spif_copy *cp, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT " SPIF_COPY_COLUMNS " FROM copies WHERE id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		spif_copy_from_row(st, cp);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no copy %lld in the catalog", id);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "read a copy", err);
	return 0;
}

int spif_copy_lost(struct spif_catalog *c, long long copy_id, const char *reason, long long *hold_id,
                   long long *file_id, struct spif_err *err)
{
	struct spif_copy cp;
	*hold_id = 0;
	*file_id = 0;
	if (!spif_catalog_in_tx(c))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "spif_copy_lost: not in a transaction");
	if (load_copy(c, copy_id, &cp, err) < 0)
		return -1;
	int rc = -1;
	char fid[24] = "", what[48], hid[24] = "";
	json_t *d = NULL, *lost = NULL;
	if (spif_copy_settled(cp.state)) {
		spif_err_set(err, SPIF_EX_DATAERR, "copy %lld is already %s", copy_id, spif_copy_state_name(cp.state));
		goto out;
	}
	*file_id = cp.file_id;
	if (cp.file_id)
		spif_file_id_format(cp.file_id, fid);
	int numbers = !spif_copy_redacted(&cp);
	/* an incident first: a copy with numbers is out of spif's hands */
	if (numbers && cp.file_id) {
		struct spif_file f;
		if (spif_catalog_get_file(c, cp.file_id, &f, err) < 0)
			goto out;
		int live = f.state != SPIF_FILE_DISPOSED;
		spif_file_free(&f);
		char why[600];
		snprintf(why, sizeof why, "incident: copy %lld (%s) lost: %.500s", copy_id, cp.kind, reason);
		if (live && spif_hold_place_incident(c, cp.file_id, why, hold_id, err) < 0)
			goto out;
		if (*hold_id)
			spif_hold_id_format(*hold_id, hid);
	}
	char now[32];
	spif_now_utc(now);
	d = cp.details ? json_loads(cp.details, 0, NULL) : NULL;
	if (!json_is_object(d)) {
		json_decref(d);
		d = json_object();
	}
	lost = json_pack("{s:s,s:s,s:s}", "reason", reason, "declared", now, "by", spif_catalog_actor(c)->operator_);
	json_object_set(d, "lost", lost);
	char *details = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	sqlite3_stmt *st;
	if (!details || spif_catalog_prepare(c, "UPDATE copies SET state = 'lost', details = ? WHERE id = ?", &st, err) < 0) {
		if (!details)
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		free(details);
		goto out;
	}
	sqlite3_bind_text(st, 1, details, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, copy_id);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	free(details);
	if (s != SQLITE_DONE) {
		spif_catalog_sqlerr(c, s, "mark a copy lost", err);
		goto out;
	}
	json_t *ev = json_pack("{s:I,s:s,s:s,s:s,s:b,s:s}", "copy", (json_int_t)copy_id, "kind", cp.kind, "path",
	                       cp.path, "reason", reason, "numbers", numbers, "was", spif_copy_state_name(cp.state));
	if (hid[0])
		json_object_set_new(ev, "hold", json_string(hid));
	snprintf(what, sizeof what, "copy:%lld", copy_id);
	rc = spif_audit_append(c, "copy.lost", fid[0] ? fid : what, ev, NULL, err);
	json_decref(ev);
out:
	json_decref(lost);
	json_decref(d);
	spif_copy_free(&cp);
	return rc;
}

int spif_copies_lost_json(struct spif_catalog *c, long long file_id, json_t *arr, struct spif_err *err)
{
	struct spif_copy *cp;
	size_t n;
	char fid[24];
	spif_file_id_format(file_id, fid);
	if (spif_catalog_get_copies(c, file_id, &cp, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (cp[i].state != SPIF_COPY_LOST)
			continue;
		json_t *d = cp[i].details ? json_loads(cp[i].details, 0, NULL) : NULL;
		json_t *l = json_object_get(d, "lost");
		char src[128], type[700];
		snprintf(src, sizeof src, "catalog copy %lld of %s (%s)", cp[i].id, fid, cp[i].kind);
		snprintf(type, sizeof type, "紛失 / lost: not destroyed by spif; declared lost %s by %s: %.500s",
		         json_string_value(json_object_get(l, "declared")) ? json_string_value(json_object_get(l, "declared")) : "?",
		         json_string_value(json_object_get(l, "by")) ? json_string_value(json_object_get(l, "by")) : "?",
		         json_string_value(json_object_get(l, "reason")) ? json_string_value(json_object_get(l, "reason")) : "");
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:I,s:s,s:s,s:s}", "copy_id", (json_int_t)cp[i].id,
		                                     "state", "lost", "path", cp[i].path, "size", (json_int_t)cp[i].size,
		                                     "sha256_before", cp[i].sha256 ? cp[i].sha256 : "",
		                                     "media_type", type, "media_source", src));
		json_decref(d);
	}
	spif_copies_free(cp, n);
	return 0;
}
