/* audit-fill.c - append N events to a catalog through lib/audit, for the
 * "verify 1,000,000 events" benchmark.  Usage: audit-fill HOME N */
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "digest.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: audit-fill HOME N\n");
		return 64;
	}
	long long n = atoll(argv[2]);
	struct spif_err e = {0};
	struct spif_conf conf = {0};
	struct spif_actor a;
	struct spif_catalog *c;
	if (spif_crypto_init(&e) < 0 || spif_actor_init(&a, argc, argv, &e) < 0 ||
	    spif_catalog_open(argv[1], &conf, SPIF_CAT_CREATE, &a, &c, &e) < 0) {
		fprintf(stderr, "audit-fill: %s\n", e.msg);
		return e.code;
	}
	for (long long i = 0; i < n; i += 10000) {
		if (spif_catalog_begin(c, &e) < 0)
			break;
		for (long long k = i; k < i + 10000 && k < n; k++) {
			json_t *d = json_pack("{s:s,s:I,s:I,s:s}", "label", "給与支払報告書.csv", "records",
			                      (json_int_t)1000, "persons", (json_int_t)998, "purpose",
			                      "個人住民税の賦課");
			char obj[24];
			spif_file_id_format(k % 100000 + 1, obj);
			int rc = spif_audit_append(c, "ingest", obj, d, NULL, &e);
			json_decref(d);
			if (rc < 0)
				break;
		}
		if (e.code || spif_catalog_commit(c, &e) < 0)
			break;
	}
	spif_catalog_close(c);
	spif_actor_free(&a);
	if (e.code) {
		fprintf(stderr, "audit-fill: %s\n", e.msg);
		return e.code;
	}
	return 0;
}
