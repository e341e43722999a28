/* vault_cert.c - what a crypto-erase certificate says, in words an auditor
 * can check, and the escrow copies of destroyed KEKs (see vault.h).
 *
 * The claim follows NIST SP 800-88 Rev. 2 (September 2025), which gives
 * cryptographic erase its own section: the data is sanitized by
 * sanitizing the key that protects it, a key is sanitized by zeroisation
 * as ISO/IEC 19790 describes for cryptographic modules, and keys kept
 * outside the device (here: key files, or a PKCS#11 token) are acceptable
 * only when every copy of the key is accounted for.  So the certificate
 * says where the key-encryption key lived, how it was destroyed, whether
 * its storage may keep remnants, and which escrow copies are still out.
 *
 * Escrow copies are per KEK (bucket and generation).  They are outstanding
 * from the kek.rotated or kek.retired event that destroyed their KEK until
 * a kek.escrow-destroyed event records the custodian's confirmation; the
 * audit log is their only record, so that it is as tamper-evident as the
 * rest. */
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "catalog_priv.h"

/* The KEK objects of a target's key material (one object or an array). */
static size_t keks_of(const json_t *erased, const json_t **out, size_t max)
{
	json_t *kek = json_object_get(erased, "kek");
	size_t n = 0;
	if (json_is_object(kek) && max)
		out[n++] = kek;
	else if (json_is_array(kek))
		for (size_t i = 0; i < json_array_size(kek) && n < max; i++)
			out[n++] = json_array_get(kek, i);
	return n;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Where a KEK lived and how it went, one phrase. */
static void kek_phrase(const json_t *k, char *out, size_t n)
{
	const json_t *store = json_object_get(k, "store");
	int token = strcmp(str(store, "store"), "PKCS#11 token") == 0;
	int gone = json_is_false(json_object_get(k, "still_exists"));
	json_int_t gen = json_integer_value(json_object_get(k, "generation"));
	char where[1024];
	if (token) {
		const json_t *t = json_object_get(store, "token");
		snprintf(where, sizeof where, "a non-extractable AES-256 key (%s) in the PKCS#11 token \"%s\" (%s %s, "
		         "%s)", str(k, "object")[0] ? str(k, "object") : "its KEK object", str(t, "label"),
		         str(t, "manufacturer"), str(t, "model"), str(store, "kind"));
	} else
		snprintf(where, sizeof where, "the key file %s", str(k, "key_file"));
	if (gone && token)
		snprintf(out, n, "the %s key-encryption key (generation %lld) that wrapped it, %s, destroyed with "
		         "C_DestroyObject (zeroised by the token)", str(k, "bucket"), (long long)gen, where);
	else if (gone)
		snprintf(out, n, "the %s key-encryption key (generation %lld) that wrapped it, %s, overwritten in "
		         "place, synced, read back and unlinked as spif shred overwrites", str(k, "bucket"),
		         (long long)gen, where);
	else
		snprintf(out, n, "the %s key-encryption key (generation %lld) that wrapped it, %s, is NOT destroyed",
		         str(k, "bucket"), (long long)gen, where);
}

json_t *spif_vault_erase_method(const json_t *erased)
{
	const json_t *ks[8];
	size_t nk = keks_of(erased, ks, 8);
	char buf[4096];
	int len = snprintf(buf, sizeof buf,
	                   "cryptographic erase (NIST SP 800-88 Rev. 2, September 2025: the data is sanitized by "
	                   "sanitizing its key): the file's data key (AES-256) deleted from the catalog with "
	                   "secure_delete, the WAL checkpointed and truncated, database, WAL and directory fsync'd");
	for (size_t i = 0; i < nk && len > 0 && (size_t)len < sizeof buf; i++) {
		char p[2048];
		kek_phrase(ks[i], p, sizeof p);
		const json_t *rw = json_object_get(ks[i], "other_files_rewrapped");
		if (json_is_integer(rw))
			len += snprintf(buf + len, sizeof buf - (size_t)len, "; %s, after the month's %lld other data "
			                "key%s were rewrapped under a new key-encryption key (generation %lld) in the "
			                "same transaction", p, (long long)json_integer_value(rw),
			                json_integer_value(rw) == 1 ? "" : "s",
			                (long long)json_integer_value(json_object_get(ks[i], "replaced_by")));
		else
			len += snprintf(buf + len, sizeof buf - (size_t)len, "; %s%s", p,
			                json_is_false(json_object_get(ks[i], "still_exists")) ? " (the month's last file)" : "");
	}
	if (len > 0 && (size_t)len < sizeof buf)
		snprintf(buf + len, sizeof buf - (size_t)len, "; then the ciphertext deleted");
	return json_string(buf);
}

json_t *spif_vault_erase_meaning(const json_t *erased)
{
	const json_t *ks[8];
	size_t nk = keks_of(erased, ks, 8);
	int all_gone = nk > 0;
	for (size_t i = 0; i < nk; i++)
		all_gone &= json_is_false(json_object_get(ks[i], "still_exists"));
	char buf[4096];
	int len;
	if (all_gone)
		len = snprintf(buf, sizeof buf,
		               "The records cannot be decrypted any more, from this copy or from any other copy of "
		               "the encrypted file or of the catalog, backups included: the file's own key was "
		               "deleted, and the key that locked it was destroyed, so the locked copies of the file's "
		               "key that a backup or the disk's free space may still hold open nothing.");
	else if (json_is_true(json_object_get(erased, "already_erased")))
		len = snprintf(buf, sizeof buf,
		               "The file's own key had already been deleted by an interrupted run; this run destroyed "
		               "the key that locked it if it was still there (see the audit log's kek.destroyed "
		               "events).");
	else
		len = snprintf(buf, sizeof buf,
		               "The file's own key was deleted from the catalog, but the key that locked it still "
		               "exists: a backup of the catalog taken before this erase could still open the file.");
	for (size_t i = 0; i < nk && len > 0 && (size_t)len < sizeof buf; i++) {
		const char *rem = str(ks[i], "remnants");
		if (rem[0] && strncmp(rem, "none", 4) != 0)
			len += snprintf(buf + len, sizeof buf - (size_t)len,
			                " Caveat: the destroyed key was kept on a medium that %s; the medium is %s.", rem,
			                json_is_object(json_object_get(ks[i], "medium"))
			                        ? str(json_object_get(ks[i], "medium"), "device")
			                        : "unknown");
		const json_t *store = json_object_get(ks[i], "store");
		const json_t *tok = json_object_get(store, "token");
		if (tok && !json_is_true(json_object_get(tok, "hardware")))
			len += snprintf(buf + len, sizeof buf - (size_t)len,
			                " Caveat: the key was in a software token (%s); a copy of its files made before "
			                "this erase would still hold the key, protected only by the token's PIN.",
			                str(store, "kind"));
		json_t *esc = json_object_get(ks[i], "escrow");
		size_t j;
		json_t *e;
		json_array_foreach(esc, j, e)
			if ((size_t)len < sizeof buf)
				len += snprintf(buf + len, sizeof buf - (size_t)len,
				                " Outstanding: the custodian %s (key %s) holds an escrow copy of the %s key "
				                "(generation %lld, made %s); until the custodian destroys it and that is "
				                "recorded with \"spif vault escrow destroyed %s\", that copy could unlock the "
				                "file's key in a backup.", str(e, "custodian"),
				                str(e, "fingerprint")[0] ? str(e, "fingerprint") : "?", str(e, "bucket"),
				                (long long)json_integer_value(json_object_get(e, "generation")), str(e, "created"),
				                str(e, "bucket"));
	}
	return json_string(buf);
}

/* ---- escrow ----------------------------------------------------------------- */

static void escrow_key(const json_t *e, char *out, size_t n)
{
	snprintf(out, n, "%s/%lld/%s", str(e, "bucket"), (long long)json_integer_value(json_object_get(e, "generation")),
	         str(e, "fingerprint")[0] ? str(e, "fingerprint") : str(e, "custodian"));
}

/* Every escrow copy of a destroyed KEK (of month, or all when NULL) the
 * log names, keyed bucket/generation/fingerprint, each with "confirmed"
 * (the confirming event's details) once a confirmation names it. */
static int escrow_scan(struct spif_catalog *c, const char *month, json_t **out, struct spif_err *err)
{
	sqlite3_stmt *st;
	*out = NULL;
	if (spif_catalog_prepare(c, "SELECT seq, time, operator, action, details FROM events WHERE action IN"
	                            " ('kek.rotated','kek.retired','kek.escrow-destroyed') ORDER BY seq", &st, err) < 0)
		return -1;
	json_t *all = json_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *action = (const char *)sqlite3_column_text(st, 3);
		json_t *d = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
		json_t *list = json_object_get(d, strcmp(action, "kek.rotated") == 0 ? "rotations"
		                                  : strcmp(action, "kek.retired") == 0 ? "keks" : "escrow");
		size_t i, j;
		json_t *x, *e;
		json_array_foreach(list, i, x) {
			json_t *escs = strcmp(action, "kek.escrow-destroyed") == 0 ? NULL : json_object_get(x, "escrow");
			for (j = 0; j < (escs ? json_array_size(escs) : 1); j++) {
				e = escs ? json_array_get(escs, j) : x;
				if (month && strcmp(str(e, "bucket"), month) != 0)
					continue;
				char k[512];
				escrow_key(e, k, sizeof k);
				if (escs) {
					json_t *c2 = json_deep_copy(e);
					json_object_set_new(c2, "event", json_integer(sqlite3_column_int64(st, 0)));
					json_object_set_new(c2, "state", json_string("outstanding"));
					json_object_set_new(all, k, c2);
				} else if (json_object_get(all, k)) {
					json_t *c2 = json_object_get(all, k);
					json_object_set_new(c2, "state", json_string("destroyed"));
					json_object_set_new(c2, "confirmed", json_pack("{s:I,s:s,s:s,s:O}", "event",
					                    (json_int_t)sqlite3_column_int64(st, 0), "time",
					                    (const char *)sqlite3_column_text(st, 1), "operator",
					                    (const char *)sqlite3_column_text(st, 2), "signed",
					                    json_object_get(d, "signer") ? json_object_get(d, "signer") : json_null()));
				}
			}
		}
		json_decref(d);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(all);
		return spif_catalog_sqlerr(c, rc, "events", err);
	}
	*out = all;
	return 0;
}

int spif_vault_escrow_outstanding(struct spif_catalog *c, const char *month, json_t **out, struct spif_err *err)
{
	json_t *all;
	*out = NULL;
	if (escrow_scan(c, month, &all, err) < 0)
		return -1;
	json_t *a = json_array();
	const char *k;
	json_t *e;
	json_object_foreach(all, k, e)
		if (strcmp(str(e, "state"), "outstanding") == 0)
			json_array_append(a, e);
	json_decref(all);
	*out = a;
	return 0;
}

int spif_vault_escrow_confirm(struct spif_catalog *c, const char *month, const char *note, const char *signature,
                              const char *signer, json_t **what, struct spif_err *err)
{
	*what = NULL;
	json_t *out;
	if (spif_vault_escrow_outstanding(c, month, &out, err) < 0)
		return -1;
	if (!json_array_size(out)) {
		json_decref(out);
		return spif_err_set(err, SPIF_EX_DATAERR,
		                    "%s: no escrow copy of a destroyed key of that month is outstanding", month);
	}
	size_t i;
	json_t *e;
	json_array_foreach(out, i, e) {
		json_object_del(e, "state");
		json_object_del(e, "event");
	}
	char now[32];
	spif_now_utc(now);
	json_t *d = json_pack("{s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "bucket", month, "escrow", out, "confirmed_by",
	                      spif_catalog_actor(c)->operator_, "confirmed", now, "note",
	                      note ? json_string(note) : json_null(), "signature",
	                      signature ? json_string(signature) : json_null(), "signer",
	                      signer ? json_string(signer) : json_null());
	if (spif_audit_append(c, "kek.escrow-destroyed", "keys", d, NULL, err) < 0) {
		json_decref(d);
		return -1;
	}
	*what = d;
	return 0;
}

int spif_vault_escrow_summary(struct spif_catalog *c, const char *cert_body, char *out, size_t n)
{
	out[0] = '\0';
	json_t *body = json_loads(cert_body, 0, NULL);
	const json_t *km = json_object_get(json_object_get(body, "sanitization"), "key_material");
	const json_t *ks[8];
	size_t nk = keks_of(km, ks, 8), total = 0, closed = 0;
	json_t *all = NULL;
	struct spif_err e = {0};
	int len = 0;
	for (size_t i = 0; i < nk; i++) {
		size_t j;
		json_t *x;
		json_array_foreach(json_object_get(ks[i], "escrow"), j, x) {
			if (!all && escrow_scan(c, NULL, &all, &e) < 0)
				break;
			char k[512];
			escrow_key(x, k, sizeof k);
			json_t *now = json_object_get(all, k);
			total++;
			if (now && strcmp(str(now, "state"), "destroyed") == 0) {
				closed++;
				json_t *cf = json_object_get(now, "confirmed");
				if ((size_t)len < n)
					len += snprintf(out + len, n - (size_t)len, "%sescrow closed: the custodian's copy of the %s key "
					                "(generation %lld) confirmed destroyed by %s on %s%s", len ? "; " : "",
					                str(x, "bucket"), (long long)json_integer_value(json_object_get(x, "generation")),
					                str(cf, "operator"), str(cf, "time"),
					                json_is_string(json_object_get(cf, "signed")) ? " (signed)" : "");
			} else if ((size_t)len < n)
				len += snprintf(out + len, n - (size_t)len, "%sescrow OUTSTANDING: %s holds a copy of the %s key "
				                "(generation %lld); record its destruction with spif vault escrow destroyed %s",
				                len ? "; " : "", str(x, "custodian"), str(x, "bucket"),
				                (long long)json_integer_value(json_object_get(x, "generation")), str(x, "bucket"));
		}
	}
	json_decref(all);
	json_decref(body);
	return total && closed == total;
}
