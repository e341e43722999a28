/* retain-fill.c - catalogs for the retention benchmarks, made fast.
 *
 *   retain-fill files HOME N DUE   N files as a catalog years old has them:
 *                                  most disposed long ago, the rest not due
 *                                  yet, DUE of them due today, some held
 *   retain-fill vault HOME N       N files kept only in the vault, each with
 *                                  a few records, due today
 *
 * Files go in with plain INSERTs in large transactions (a benchmark
 * fixture, not a way to register files); vault copies through lib/vault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_priv.h"
#include "audit.h"
#include "digest.h"
#include "retention.h"
#include "vault.h"

static int die(const struct spif_err *e)
{
	fprintf(stderr, "retain-fill: %s\n", e->msg);
	return e->code ? e->code : 70;
}

static int fill_files(struct spif_catalog *c, long long n, long long due)
{
	struct spif_err e = {0};
	long today = spif_day_today();
	static const char *const scheds[] = {"kazei-shiryo-7y", "fuka-3y", "kosei-5y", "choshu-5y", "fuyo-koujo-7y"};
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c,
	        "INSERT INTO files(label,purpose,source,received,format,encoding,number_fields,records,persons,"
	        "invalid,sha256,created,state,schedule,retain_until,dispose_on)"
	        " VALUES(?1,?2,'eLTAX',?3,'csv','cp932','[\"個人番号\"]',1000,980,0,"
	        "'0000000000000000000000000000000000000000000000000000000000000000',?4,?5,?6,?7,?8)", &st, &e) < 0)
		return die(&e);
	unsigned long long r = 88172645463325252ULL;
	for (long long i = 0; i < n; i += 50000) {
		if (spif_catalog_begin(c, &e) < 0)
			return die(&e);
		for (long long k = i; k < i + 50000 && k < n; k++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			/* due today: the first DUE; then 70% disposed years ago, the
			 * rest due in the coming years */
			long dd;
			const char *state;
			if (k < due) {
				dd = today - (long)(r % 30);
				state = "active";
			} else if (r % 10 < 7) {
				dd = today - 30 - (long)(r % 6000);
				state = "disposed";
			} else {
				dd = today + 1 + (long)(r % 3000);
				state = "active";
			}
			char rec[11], ru[11], dds[11], created[32], label[64];
			spif_day_format(dd - 7 * 366, rec);
			spif_day_format(dd - 1, ru);
			spif_day_format(dd, dds);
			snprintf(created, sizeof created, "%sT00:00:00.000Z", rec);
			snprintf(label, sizeof label, "給与支払報告書-%lld.csv", k);
			sqlite3_bind_text(st, 1, label, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, k % 3 ? "個人住民税の賦課" : "年末調整", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, rec, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 4, created, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 5, state, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, scheds[r % 5], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, ru, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 8, dds, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) != SQLITE_DONE) {
				spif_catalog_sqlerr(c, sqlite3_errcode(spif_catalog_db(c)), "insert", &e);
				return die(&e);
			}
			sqlite3_reset(st);
		}
		if (spif_catalog_commit(c, &e) < 0)
			return die(&e);
	}
	sqlite3_finalize(st);
	/* a few holds, as a live catalog has */
	if (spif_catalog_begin(c, &e) < 0)
		return die(&e);
	for (long long k = 1; k <= 20 && k <= n; k++) {
		long long hid;
		if (spif_hold_place(c, k * (n / 20 > 0 ? n / 20 : 1), NULL, "bench", &hid, &e) < 0 && e.code != SPIF_EX_DATAERR)
			return die(&e);
	}
	if (spif_catalog_commit(c, &e) < 0)
		return die(&e);
	return 0;
}

static int fill_vault(struct spif_catalog *c, const struct spif_conf *conf, long long n)
{
	struct spif_err e = {0};
	static const char rec[] = "{\"@row\":\"1\",\"氏名\":\"山田 太郎\",\"受給者の個人番号\":\"621498320257\"}\n";
	char received[11];
	spif_day_format(spif_day_today() - 9 * 366, received);
	for (long long i = 0; i < n; i += 250) {
		if (spif_catalog_begin(c, &e) < 0)
			return die(&e);
		for (long long k = i; k < i + 250 && k < n; k++) {
			char now[32];
			spif_now_utc(now);
			struct spif_file f = {.label = "vault.csv", .purpose = "個人住民税の賦課", .received = received,
			                      .format = "csv", .encoding = "utf-8", .number_fields = "[\"受給者の個人番号\"]",
			                      .records = 1, .persons = 1, .sha256 = "00", .created = now};
			struct spif_retention r;
			if (spif_catalog_add_file(c, &f, &e) < 0 ||
			    spif_retention_assign(c, conf, f.id, "kazei-shiryo-7y", NULL, 1, &r, &e) < 0)
				return die(&e);
			char bucket[16], dd[11];
			spif_day_format(r.dispose_on, dd);
			snprintf(bucket, sizeof bucket, "%.7s", dd);
			struct spif_vault_writer *w;
			char path[4096], sha[65];
			long long size;
			if (spif_vault_create(c, conf, f.id, bucket, &w, path, &e) < 0)
				return die(&e);
			if (spif_vault_write(w, rec, sizeof rec - 1) < 0 || spif_vault_finish(w, sha, &size, &e) < 0)
				return die(&e);
			struct spif_copy cp = {.file_id = f.id, .kind = "vault", .path = path, .sha256 = sha, .size = size,
			                       .encrypted = 1, .created = now};
			if (spif_catalog_add_copy(c, &cp, &e) < 0)
				return die(&e);
		}
		if (spif_catalog_commit(c, &e) < 0)
			return die(&e);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[1], "files") == 0 && argc != 5)) {
		fprintf(stderr, "usage: retain-fill files HOME N DUE | retain-fill vault HOME N\n");
		return 64;
	}
	struct spif_err e = {0};
	struct spif_conf conf = {0};
	struct spif_actor a;
	struct spif_catalog *c;
	if (spif_crypto_init(&e) < 0 || spif_conf_load(&conf, &e) < 0 || spif_actor_init(&a, argc, argv, &e) < 0 ||
	    spif_catalog_open(argv[2], &conf, SPIF_CAT_CREATE, &a, &c, &e) < 0)
		return die(&e);
	/* a fixture: durability is not what is measured */
	spif_catalog_exec(c, "PRAGMA synchronous=OFF", &e);
	if (spif_catalog_begin(c, &e) < 0 || spif_retention_defaults(c, NULL, &e) < 0 || spif_catalog_commit(c, &e) < 0)
		return die(&e);
	int rc = strcmp(argv[1], "files") == 0 ? fill_files(c, atoll(argv[3]), atoll(argv[4]))
	                                       : fill_vault(c, &conf, atoll(argv[3]));
	spif_catalog_exec(c, "PRAGMA wal_checkpoint(TRUNCATE)", &e);
	spif_catalog_close(c);
	spif_actor_free(&a);
	return rc;
}
