/* fuzz_home.h - a throwaway $SPIF_HOME with a catalog, for the harnesses
 * whose input is checked against what the catalog holds (vault files,
 * certificates).  Made once per process, in LLVMFuzzerInitialize; removed
 * at exit with the rest of fz_dir().
 *
 * Its key-encryption key for the bucket "indefinite" is a fixed test key,
 * put in place before the catalog first needs it (the vault adopts a key
 * file it finds with no row, as after a rolled-back transaction).  Data
 * keys, salts and nonces stay random, as the library makes them. */
#ifndef SPIF_FUZZ_HOME_H
#define SPIF_FUZZ_HOME_H

#include <fcntl.h>
#include <sys/stat.h>

#include "audit.h"
#include "catalog.h"
#include "digest.h"
#include "fuzz.h"
#include "home.h"

static char fz_home[PATH_MAX];
static struct spif_conf fz_conf;
static struct spif_catalog *fz_cat;

static void fz_home_close(void)
{
	spif_catalog_close(fz_cat);
	fz_cat = NULL;
}

/* Open a catalog on the home as operator (NULL: whoever runs this). */
static inline struct spif_catalog *fz_catalog_as(const char *operator_)
{
	struct spif_err err = {0};
	struct spif_actor actor;
	char *argv[] = {"spif-fuzz", NULL};
	FZ_CHECK(spif_actor_init(&actor, 1, argv, &err) == 0, "spif_actor_init: %s", err.msg);
	if (operator_)
		snprintf(actor.operator_, sizeof actor.operator_, "%s", operator_);
	struct spif_catalog *c = NULL;
	FZ_CHECK(spif_catalog_open(fz_home, &fz_conf, SPIF_CAT_CREATE, &actor, &c, &err) == 0, "spif_catalog_open: %s",
	         err.msg);
	spif_actor_free(&actor);
	return c;
}

/* The home, its catalog (fz_cat, closed at exit) and the fixed KEK. */
static inline void fz_home_init(void)
{
	struct spif_err err = {0};
	FZ_CHECK(spif_crypto_init(&err) == 0, "spif_crypto_init: %s", err.msg);
	snprintf(fz_home, sizeof fz_home, "%s/home", fz_dir());
	memset(&fz_conf, 0, sizeof fz_conf);
	fz_cat = fz_catalog_as(NULL);
	atexit(fz_home_close);
	char keys[PATH_MAX], kek[PATH_MAX + 32];
	snprintf(keys, sizeof keys, "%s/keys", fz_home);
	snprintf(kek, sizeof kek, "%s/kek-indefinite.key", keys);
	FZ_CHECK(mkdir(keys, 0700) == 0, "mkdir %s: %s", keys, strerror(errno));
	static const unsigned char key[32] = "spif fuzz test KEK, not secret.";
	int fd = open(kek, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FZ_CHECK(fd >= 0 && write(fd, key, sizeof key) == (ssize_t)sizeof key && close(fd) == 0, "%s: %s", kek,
	         strerror(errno));
}

/* A new file in the catalog (as spif ingest registers one); its id. */
static inline long long fz_add_file(const char *label)
{
	struct spif_err err = {0};
	struct spif_file f = {0};
	char now[32];
	spif_now_utc(now);
	f.label = (char *)label;
	f.purpose = "給与所得の源泉徴収票作成事務";
	f.received = now;
	f.format = "ndjson";
	f.encoding = "utf-8";
	f.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	f.created = now;
	f.records = 2;
	f.persons = 2;
	FZ_CHECK(spif_catalog_begin(fz_cat, &err) == 0 && spif_catalog_add_file(fz_cat, &f, &err) == 0 &&
	             spif_catalog_commit(fz_cat, &err) == 0,
	         "adding a file: %s", err.msg);
	return f.id;
}

#endif
