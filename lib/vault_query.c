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
