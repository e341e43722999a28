/* kek.c - see kek.h */
#include "kek.h"
#include "i18n.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "digest.h"
#include "pkcs11.h"
#include "record.h"
#include "wipe.h"

#define KEK_CHECK_MSG "spif kek check"
#define KEK_CHECK_LEN 16
#define TOKEN_PREFIX "pkcs11:"
#define LABEL_PREFIX "spif-kek-"

struct spif_kek_store {
	struct spif_conf conf;
	char home[PATH_MAX];
	struct spif_p11 *p11; /* NULL: key files */
};

/* Key bytes from the kernel's CSPRNG (getrandom(2), blocking only until
 * it is seeded at boot).  Not libgcrypt's generator: seeding it in a
 * process gathers entropy for some 90 ms, and every erase now makes a KEK. */
int spif_kek_random(unsigned char *out, size_t n, struct spif_err *err)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(out + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "getrandom");
		got += (size_t)r;
	}
	return 0;
}

/* "indefinite" or "YYYY-MM" (the same rule as vault.c's). */
static int valid_bucket(const char *b)
{
	if (strcmp(b, "indefinite") == 0)
		return 1;
	if (strlen(b) != 7 || b[4] != '-')
		return 0;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (b[i] < '0' || b[i] > '9'))
			return 0;
	return 1;
}

/* The PIN: the first line of pkcs11_pin_file, which must be inside home
 * and readable by nobody but its owner (and the configured group). */
static int read_pin(const struct spif_conf *conf, const char *home, char *pin, size_t n, struct spif_err *err)
{
	char path[PATH_MAX], rp[PATH_MAX], rh[PATH_MAX];
	if (!conf->pkcs11_pin_file[0])
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "pkcs11: spif.conf names no pkcs11_pin_file");
	if (conf->pkcs11_pin_file[0] == '/')
		snprintf(path, sizeof path, "%s", conf->pkcs11_pin_file);
	else if (snprintf(path, sizeof path, "%s/%s", home, conf->pkcs11_pin_file) >= (int)sizeof path)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "pkcs11: PIN file path too long");
	if (!realpath(path, rp))
		return spif_err_sys(err, SPIF_EX_UNAVAILABLE, errno, "pkcs11: PIN file %s", path);
	if (!realpath(home, rh) || strncmp(rp, rh, strlen(rh)) != 0 || rp[strlen(rh)] != '/')
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "pkcs11: PIN file %s is not inside the home %s", path, home);
	int fd = open(rp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return spif_err_sys(err, SPIF_EX_UNAVAILABLE, errno, "pkcs11: PIN file %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 007) ||
	    ((st.st_mode & 070) && !(conf->group[0] && st.st_gid == conf->gid))) {
		close(fd);
		return spif_err_set(err, SPIF_EX_UNAVAILABLE,
		                    "pkcs11: PIN file %s must be a regular file only its owner can read", path);
	}
	ssize_t k = read(fd, pin, n - 1);
	close(fd);
	if (k < 0)
		return spif_err_sys(err, SPIF_EX_UNAVAILABLE, errno, "pkcs11: PIN file %s", path);
	pin[k] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	return 0;
}

int spif_kek_store_open(const struct spif_conf *conf, const char *home, struct spif_kek_store **out,
                        struct spif_err *err)
{
	*out = NULL;
	struct spif_kek_store *ks = calloc(1, sizeof *ks);
	if (!ks)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (conf)
		ks->conf = *conf;
	else if (spif_conf_load(&ks->conf, err) < 0) {
		free(ks);
		return -1;
	}
	snprintf(ks->home, sizeof ks->home, "%s", home);
	if (ks->conf.pkcs11_module[0] || ks->conf.pkcs11_token[0]) {
		char pin[256];
		if (!ks->conf.pkcs11_module[0] || !ks->conf.pkcs11_token[0]) {
			free(ks);
			return spif_err_set(err, SPIF_EX_UNAVAILABLE,
			                    "pkcs11: spif.conf needs both pkcs11_module and pkcs11_token");
		}
		if (read_pin(&ks->conf, home, pin, sizeof pin, err) < 0 ||
		    spif_p11_open(ks->conf.pkcs11_module, ks->conf.pkcs11_token, pin, &ks->p11, err) < 0) {
			explicit_bzero(pin, sizeof pin);
			free(ks);
			return -1;
		}
		explicit_bzero(pin, sizeof pin);
	}
	*out = ks;
	return 0;
}

void spif_kek_store_close(struct spif_kek_store *ks)
{
	if (!ks)
		return;
	spif_p11_close(ks->p11);
	free(ks);
}

int spif_kek_store_is_token(const struct spif_kek_store *ks)
{
	return ks->p11 != NULL;
}

const struct spif_conf *spif_kek_store_conf(const struct spif_kek_store *ks)
{
	return &ks->conf;
}

json_t *spif_kek_store_describe(struct spif_kek_store *ks)
{
	if (!ks->p11) {
		char dir[PATH_MAX + 8];
		snprintf(dir, sizeof dir, "%s/keys", ks->home);
		return json_pack("{s:s,s:s}", "store", N_("key files"), "where", dir); /* vault keys shows it translated */
	}
	json_t *t = spif_p11_describe(ks->p11);
	int hw = json_is_true(json_object_get(t, "hardware"));
	const char *files = json_string_value(json_object_get(t, "token_files"));
	json_t *j = json_pack("{s:s,s:o}", "store", N_("PKCS#11 token"), "token", t);
	if (hw)
		json_object_set_new(j, "kind", json_string("hardware token: the key never leaves the device"));
	else
		json_object_set_new(j, "kind",
		                    files ? json_sprintf("software token: its objects are files in %s, kept encrypted "
		                                         "under the token's PIN; they are as safe as that directory "
		                                         "and its backups", files)
		                          : json_string("software token: its objects are files kept by the module"));
	return j;
}

void spif_kek_ref(const struct spif_kek_store *ks, const char *bucket, int gen, char ref[PATH_MAX])
{
	if (ks->p11)
		snprintf(ref, PATH_MAX, TOKEN_PREFIX LABEL_PREFIX "%s-%d", bucket, gen);
	else if (gen <= 1)
		snprintf(ref, PATH_MAX, "keys/kek-%s.key", bucket);
	else
		snprintf(ref, PATH_MAX, "keys/kek-%s-%d.key", bucket, gen);
}

/* "BUCKET" (gen 1 when plain_is_one) or "BUCKET-N". */
static int parse_tail(const char *s, size_t len, int plain_is_one, char bucket[64], int *gen)
{
	char b[64];
	if (len == 0 || len >= sizeof b)
		return -1;
	memcpy(b, s, len);
	b[len] = '\0';
	if (plain_is_one && valid_bucket(b)) {
		snprintf(bucket, 64, "%s", b);
		*gen = 1;
		return 0;
	}
	char *dash = strrchr(b, '-');
	if (!dash || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1) || strlen(dash + 1) > 6)
		return -1;
	*dash = '\0';
	if (!valid_bucket(b))
		return -1;
	*gen = atoi(dash + 1);
	if (*gen < 1)
		return -1;
	snprintf(bucket, 64, "%s", b);
	return 0;
}

int spif_kek_parse_ref(const char *ref, char bucket[64], int *gen, int *token)
{
	if (strncmp(ref, TOKEN_PREFIX LABEL_PREFIX, strlen(TOKEN_PREFIX LABEL_PREFIX)) == 0) {
		*token = 1;
		const char *s = ref + strlen(TOKEN_PREFIX LABEL_PREFIX);
		return parse_tail(s, strlen(s), 0, bucket, gen);
	}
	*token = 0;
	const char *base = strrchr(ref, '/');
	base = base ? base + 1 : ref;
	size_t l = strlen(base);
	if (strncmp(base, "kek-", 4) != 0 || l < 9 || strcmp(base + l - 4, ".key") != 0)
		return -1;
	return parse_tail(base + 4, l - 8, 1, bucket, gen);
}

static void file_path(const struct spif_kek_store *ks, const char *ref, char out[PATH_MAX])
{
	if (ref[0] == '/')
		snprintf(out, PATH_MAX, "%s", ref);
	else if (snprintf(out, PATH_MAX, "%s/%s", ks->home, ref) >= PATH_MAX)
		out[0] = '\0';
}

void spif_kek_where(const struct spif_kek_store *ks, const char *ref, char *out, size_t n)
{
	if (strncmp(ref, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0)
		snprintf(out, n, "token \"%s\": object %s", ks->p11 ? ks->conf.pkcs11_token : "?",
		         ref + strlen(TOKEN_PREFIX));
	else {
		char p[PATH_MAX];
		file_path(ks, ref, p);
		snprintf(out, n, "%s", p);
	}
}

static void file_check(const unsigned char kek[SPIF_KEK_LEN], char hex[SPIF_KEK_CHECK_HEX])
{
	unsigned char mac[32];
	size_t maclen = sizeof mac;
	gcry_mac_hd_t h;
	memset(mac, 0, sizeof mac);
	if (gcry_mac_open(&h, GCRY_MAC_HMAC_SHA256, 0, NULL) == 0) {
		if (gcry_mac_setkey(h, kek, SPIF_KEK_LEN) == 0 &&
		    gcry_mac_write(h, KEK_CHECK_MSG, strlen(KEK_CHECK_MSG)) == 0)
			gcry_mac_read(h, mac, &maclen);
		gcry_mac_close(h);
	}
	spif_hex(mac, KEK_CHECK_LEN, hex);
	explicit_bzero(mac, sizeof mac);
}

/* keys/ with the home's rules (mode, group). */
static int make_keys_dir(const struct spif_kek_store *ks, struct spif_err *err)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof dir, "%s/keys", ks->home) >= (int)sizeof dir)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", ks->home);
	return spif_home_mkdir(dir, &ks->conf, err);
}

int spif_kek_create(struct spif_kek_store *ks, const char *bucket, int gen, const unsigned char *value,
                    struct spif_kek *k, char ref[PATH_MAX], char check[SPIF_KEK_CHECK_HEX], struct spif_err *err)
{
	memset(k, 0, sizeof *k);
	k->ks = ks;
	k->gen = gen;
	snprintf(k->bucket, sizeof k->bucket, "%s", bucket);
	spif_kek_ref(ks, bucket, gen, ref);
	if (ks->p11) {
		unsigned char id[16];
		if (spif_kek_random(id, sizeof id, err) < 0)
			return -1;
		const char *label = ref + strlen(TOKEN_PREFIX);
		unsigned long old;
		int f = spif_p11_find(ks->p11, label, &old, err);
		if (f < 0)
			return -1;
		if (f == 0) /* the caller picks a generation no key has yet */
			return spif_err_set(err, SPIF_EX_CANTCREAT, "pkcs11: token \"%s\": %s exists already",
			                    ks->conf.pkcs11_token, label);
		if (spif_p11_create(ks->p11, label, id, value, &k->obj, err) < 0)
			return -1;
		k->token = 1;
		spif_hex(id, sizeof id, check);
		return 0;
	}
	char path[PATH_MAX];
	file_path(ks, ref, path);
	if (!path[0])
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", ks->home);
	if (value)
		memcpy(k->key, value, SPIF_KEK_LEN);
	else if (spif_kek_random(k->key, SPIF_KEK_LEN, err) < 0)
		return -1;
	struct spif_atomic a;
	if (make_keys_dir(ks, err) < 0 || spif_atomic_open_home(&a, path, spif_file_mode(&ks->conf), err) < 0)
		goto fail;
	int fd = a.fd;
	if (spif_sink_fd(&fd, k->key, SPIF_KEK_LEN) < 0) {
		int e = errno;
		spif_atomic_abort(&a);
		spif_err_sys(err, spif_exit_for_errno(e) == SPIF_EX_NOPERM ? SPIF_EX_NOPERM : SPIF_EX_IOERR, e, "%s", path);
		goto fail;
	}
	if (spif_atomic_commit(&a, err) < 0)
		goto fail;
	file_check(k->key, check);
	return 0;
fail:
	explicit_bzero(k->key, sizeof k->key);
	return -1;
}

/* Read a key file: 0, 1 when it does not exist (err untouched), -1 with err. */
static int read_key_file(const char *path, const char *bucket, unsigned char key[SPIF_KEK_LEN], struct spif_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return 1;
		if (e == EACCES || e == EPERM)
			return spif_err_sys(err, SPIF_EX_NOPERM, e, "key for %s is unreadable: %s", bucket, path);
		return spif_err_sys(err, spif_exit_for_errno(e), e, "key for %s: %s", bucket, path);
	}
	unsigned char buf[SPIF_KEK_LEN + 1];
	ssize_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof buf - (size_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				n = -1;
			break;
		}
		n += r;
		if ((size_t)n == sizeof buf)
			break;
	}
	int e = errno;
	close(fd);
	if (n < 0) {
		if (e == EACCES || e == EPERM)
			return spif_err_sys(err, SPIF_EX_NOPERM, e, "key for %s is unreadable: %s", bucket, path);
		return spif_err_sys(err, SPIF_EX_IOERR, e, "key for %s: %s", bucket, path);
	}
	if (n != SPIF_KEK_LEN) {
		explicit_bzero(buf, sizeof buf);
		return spif_err_set(err, SPIF_EX_DATAERR,
		                    "key for %s does not match the catalog: %s is not a spif key "
		                    "(%zd bytes, expected %d)", bucket, path, n, SPIF_KEK_LEN);
	}
	memcpy(key, buf, SPIF_KEK_LEN);
	explicit_bzero(buf, sizeof buf);
	return 0;
}

int spif_kek_load(struct spif_kek_store *ks, const char *bucket, const char *ref, const char *check,
                  struct spif_kek *k, struct spif_err *err)
{
	memset(k, 0, sizeof *k);
	k->ks = ks;
	snprintf(k->bucket, sizeof k->bucket, "%s", bucket);
	char b[64];
	int tok = 0;
	if (spif_kek_parse_ref(ref, b, &k->gen, &tok) < 0)
		k->gen = 1;
	char hex[SPIF_KEK_CHECK_HEX];
	if (tok) {
		if (!ks->p11)
			return spif_err_set(err, SPIF_EX_UNAVAILABLE,
			                    "key for %s is in a PKCS#11 token (%s) and spif.conf names none", bucket, ref);
		const char *label = ref + strlen(TOKEN_PREFIX);
		int f = spif_p11_find(ks->p11, label, &k->obj, err);
		if (f != 0)
			return f;
		unsigned char id[16];
		if (spif_p11_id(ks->p11, k->obj, id, err) < 0)
			return -1;
		spif_hex(id, sizeof id, hex);
		k->token = 1;
	} else {
		char path[PATH_MAX];
		file_path(ks, ref, path);
		int rc = read_key_file(path, bucket, k->key, err);
		if (rc != 0)
			return rc;
		file_check(k->key, hex);
	}
	if (check && check[0] && strcmp(hex, check) != 0) {
		char where[PATH_MAX + 64];
		spif_kek_where(ks, ref, where, sizeof where);
		spif_kek_forget(k);
		return spif_err_set(err, SPIF_EX_DATAERR, "key for %s does not match the catalog: %s", bucket, where);
	}
	return 0;
}

int spif_kek_check(struct spif_kek *k, char check[SPIF_KEK_CHECK_HEX], struct spif_err *err)
{
	if (!k->token) {
		file_check(k->key, check);
		return 0;
	}
	unsigned char id[16];
	if (spif_p11_id(k->ks->p11, k->obj, id, err) < 0)
		return -1;
	spif_hex(id, sizeof id, check);
	return 0;
}

static int aeswrap(struct spif_kek *k, struct spif_err *err)
{
	if (k->h)
		return 0;
	gcry_cipher_hd_t h;
	gcry_error_t ge = gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_AESWRAP, GCRY_CIPHER_SECURE);
	if (!ge) {
		ge = gcry_cipher_setkey(h, k->key, SPIF_KEK_LEN);
		if (ge)
			gcry_cipher_close(h);
	}
	if (ge)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: AES key wrap: %s", gcry_strerror(ge));
	k->h = h;
	return 0;
}

int spif_kek_wrap(struct spif_kek *k, const unsigned char dk[SPIF_KEK_LEN], unsigned char out[SPIF_KEK_WRAP_LEN],
                  struct spif_err *err)
{
	if (k->token)
		return spif_p11_wrap(k->ks->p11, k->obj, dk, out, err);
	if (aeswrap(k, err) < 0)
		return -1;
	gcry_error_t ge = gcry_cipher_encrypt(k->h, out, SPIF_KEK_WRAP_LEN, dk, SPIF_KEK_LEN);
	if (ge)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: AES key wrap: %s", gcry_strerror(ge));
	return 0;
}

int spif_kek_unwrap(struct spif_kek *k, const unsigned char *in, size_t inlen, unsigned char dk[SPIF_KEK_LEN],
                    struct spif_err *err)
{
	if (inlen != SPIF_KEK_WRAP_LEN)
		return 1;
	if (k->token)
		return spif_p11_unwrap(k->ks->p11, k->obj, in, dk, err);
	if (aeswrap(k, err) < 0)
		return -1;
	gcry_error_t ge = gcry_cipher_decrypt(k->h, dk, SPIF_KEK_LEN, in, SPIF_KEK_WRAP_LEN);
	if (gcry_err_code(ge) == GPG_ERR_CHECKSUM) {
		explicit_bzero(dk, SPIF_KEK_LEN);
		return 1;
	}
	if (ge)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: AES key unwrap: %s", gcry_strerror(ge));
	return 0;
}

void spif_kek_forget(struct spif_kek *k)
{
	if (k->h)
		gcry_cipher_close(k->h);
	explicit_bzero(k, sizeof *k);
}

/* Is disk named in spif.conf's trusted_media (space-separated)? */
static int trusted(const struct spif_conf *conf, const char *disk)
{
	size_t dl = strlen(disk);
	const char *p = conf->trusted_media;
	while (dl && *p) {
		p += strspn(p, " \t,");
		size_t l = strcspn(p, " \t,");
		if (l == dl && strncmp(p, disk, l) == 0)
			return 1;
		p += l;
	}
	return 0;
}

int spif_kek_destroy(struct spif_kek_store *ks, const char *ref, json_t **how, struct spif_err *err)
{
	if (how)
		*how = NULL;
	if (strncmp(ref, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0) {
		if (!ks->p11)
			return spif_err_set(err, SPIF_EX_UNAVAILABLE, "%s: spif.conf names no PKCS#11 token", ref);
		const char *label = ref + strlen(TOKEN_PREFIX);
		unsigned long obj;
		int f = spif_p11_find(ks->p11, label, &obj, err);
		if (f < 0)
			return -1;
		if (f == 1)
			return 1;
		if (spif_p11_destroy(ks->p11, obj, err) < 0)
			return -1;
		if (how)
			*how = json_pack("{s:s,s:s,s:n}", "destroyed_by",
			                 "C_DestroyObject in the token: the key was never extractable, and the token "
			                 "zeroises the object it destroys",
			                 "object", label, "remnants");
		return 0;
	}
	char path[PATH_MAX];
	file_path(ks, ref, path);
	struct spif_medium m;
	struct spif_err pe = {0};
	/* a key file is the home's own: destroyed with the service's group */
	int hw = spif_home_work(1);
	if (spif_wipe_probe(path, &m, &pe) < 0) {
		spif_home_work(hw);
		if (pe.code == SPIF_EX_NOINPUT)
			return 1;
		if (err)
			*err = pe;
		return -1;
	}
	int vouched = !m.reaches_medium && m.attestable && trusted(&ks->conf, m.medium_disk);
	struct spif_wipe_opts o = {.passes = 1};
	struct spif_wipe_result r;
	memset(&r, 0, sizeof r);
	int wrc = spif_wipe_file(path, &o, &r, err);
	spif_home_work(hw);
	if (wrc < 0)
		return -1;
	if (how) {
		char dev[400];
		snprintf(dev, sizeof dev, "%s (%u:%u)%s%s", m.device[0] ? m.device : "?", m.dev_major, m.dev_minor,
		         m.model[0] ? ", " : "", m.model);
		*how = json_pack("{s:s,s:s,s:{s:s,s:s,s:o}}", "destroyed_by",
		                 "the key file overwritten in place, synced, read back, renamed and unlinked "
		                 "(as spif shred overwrites)",
		                 "pattern", r.pattern, "medium", "fstype", m.fstype, "device", dev, "rotational",
		                 m.rotational < 0 ? json_null() : json_boolean(m.rotational));
		if (m.reaches_medium || vouched)
			json_object_set_new(*how, "remnants",
			                    json_string(vouched ? "none expected: the administrator vouches in spif.conf "
			                                          "(trusted_media) that this disk writes in place"
			                                        : "none expected: the file system and the disk write "
			                                          "in place"));
		else
			json_object_set_new(*how, "remnants",
			                    json_sprintf("its storage may keep remnants of the key: %s; spif cannot "
			                                 "vouch for this medium", m.reason));
	}
	return 0;
}

struct list_ctx {
	int (*fn)(void *ctx, const char *bucket, int gen, const char *ref);
	void *ctx;
};

static int list_token(void *ctx, const char *label, unsigned long obj)
{
	(void)obj;
	struct list_ctx *l = ctx;
	char ref[PATH_MAX], b[64];
	int gen, tok;
	snprintf(ref, sizeof ref, TOKEN_PREFIX "%s", label);
	if (spif_kek_parse_ref(ref, b, &gen, &tok) < 0)
		return 0;
	return l->fn(l->ctx, b, gen, ref);
}

int spif_kek_list(struct spif_kek_store *ks,
                  int (*fn)(void *ctx, const char *bucket, int gen, const char *ref), void *ctx,
                  struct spif_err *err)
{
	struct list_ctx l = {fn, ctx};
	if (ks->p11)
		return spif_p11_list(ks->p11, LABEL_PREFIX, list_token, &l, err);
	char dir[PATH_MAX + 8];
	snprintf(dir, sizeof dir, "%s/keys", ks->home);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", dir);
	}
	/* names first: the callback may remove files */
	char (*names)[256] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "kek-", 4) != 0 || strlen(de->d_name) >= 256)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char (*v)[256] = realloc(names, cap * sizeof *v);
			if (!v) {
				closedir(d);
				free(names);
				return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			}
			names = v;
		}
		snprintf(names[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	int ret = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		char ref[PATH_MAX], b[64];
		int gen, tok;
		snprintf(ref, sizeof ref, "keys/%s", names[i]);
		if (spif_kek_parse_ref(ref, b, &gen, &tok) == 0)
			ret = fn(ctx, b, gen, ref);
	}
	free(names);
	return ret;
}

int spif_kek_token_attrs(struct spif_kek_store *ks, const char *ref, int *extractable, int *sensitive,
                         int *value_refused, struct spif_err *err)
{
	if (!ks->p11 || strncmp(ref, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return -1;
	unsigned long obj;
	int f = spif_p11_find(ks->p11, ref + strlen(TOKEN_PREFIX), &obj, err);
	if (f != 0)
		return -1;
	return spif_p11_key_attrs(ks->p11, obj, extractable, sensitive, value_refused, err) < 0 ? -1 : 0;
}
