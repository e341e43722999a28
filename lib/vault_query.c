/* vault_query.c - what the vault holds, read for spif vault ls (see
 * vault.h).  Kept apart from vault.c, which is the encryption itself. */
#include "vault.h"

#include "catalog_priv.h"

int spif_vault_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_vault_entry *v),
                    void *ctx, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT c.file_id, c.state, COALESCE((SELECT bucket FROM data_keys k"
	                            " WHERE k.file_id = c.file_id LIMIT 1), '-'), c.size, c.path FROM copies c"
	                            " WHERE c.kind = 'vault' ORDER BY c.id", &st, err) < 0)
		return -1;
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int s = spif_copy_state_parse((const char *)sqlite3_column_text(st, 1));
		struct spif_vault_entry v = {
			.file_id = sqlite3_column_int64(st, 0),
			.state = s < 0 ? SPIF_COPY_PRESENT : (enum spif_copy_state)s,
			.bucket = (const char *)sqlite3_column_text(st, 2),
			.size = sqlite3_column_int64(st, 3),
			.path = (const char *)sqlite3_column_text(st, 4),
		};
		stop = fn(ctx, &v);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list vault copies", err);
	return 0;
}

int spif_vault_keks(struct spif_catalog *c, struct spif_kek_store *ks, int (*fn)(void *ctx, json_t *kek), void *ctx,
                    struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT k.bucket, k.key_file, k.created, k.destroyed, k.custodian,"
	                            " (SELECT count(*) FROM data_keys d WHERE d.bucket = k.bucket) FROM keks k"
	                            " ORDER BY k.bucket", &st, err) < 0)
		return -1;
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(st, 1);
		char b[64], where[PATH_MAX + 64];
		int gen = 1, tok = 0;
		if (!ref || spif_kek_parse_ref(ref, b, &gen, &tok) < 0)
			gen = 1;
		spif_kek_where(ks, ref ? ref : "", where, sizeof where);
		const char *destroyed = (const char *)sqlite3_column_text(st, 3);
		const char *cust = (const char *)sqlite3_column_text(st, 4);
		json_t *j = json_pack("{s:s,s:i,s:s,s:s,s:s,s:o,s:o,s:I}", "bucket", (const char *)sqlite3_column_text(st, 0),
		                      "generation", gen, "store", tok ? "pkcs11" : "file", "where", where, "created",
		                      (const char *)sqlite3_column_text(st, 2), "destroyed",
		                      destroyed ? json_string(destroyed) : json_null(), "custodian",
		                      cust ? json_string(cust) : json_null(), "data_keys",
		                      (json_int_t)sqlite3_column_int64(st, 5));
		int ex, se, refused;
		struct spif_err e2 = {0};
		if (tok && !destroyed && spif_kek_token_attrs(ks, ref, &ex, &se, &refused, &e2) == 0) {
			json_object_set_new(j, "extractable", json_boolean(ex));
			json_object_set_new(j, "sensitive", json_boolean(se));
			json_object_set_new(j, "value_readable", json_boolean(!refused));
		}
		stop = fn(ctx, j);
		json_decref(j);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "keks", err);
	return 0;
}
