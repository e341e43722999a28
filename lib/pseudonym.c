/* pseudonym.c - see pseudonym.h */
#include "pseudonym.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "audit.h"

struct spif_psn {
	gcry_md_hd_t h;
};

int spif_psn_key_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return 0;
	return s[0] != '.';
}

static void key_path(const char *home, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/keys/psn-%s.key", home, name);
}

int spif_psn_key_create(struct spif_catalog *c, const char *home, const struct spif_conf *conf,
                        const char *name, char path[PATH_MAX + 80], struct spif_err *err)
{
	if (!spif_psn_key_name_valid(name))
		return spif_err_set(err, SPIF_EX_USAGE, "%s: not a key name", name);
	char dir[PATH_MAX + 8];
	snprintf(dir, sizeof dir, "%s/keys", home);
	if (mkdir(dir, spif_dir_mode(conf)) < 0 && errno != EEXIST)
		return spif_err_set(err, SPIF_EX_CANTCREAT, "%s: %s", dir, strerror(errno));
	key_path(home, name, path, PATH_MAX + 80);
	unsigned char key[32];
	gcry_randomize(key, sizeof key, GCRY_VERY_STRONG_RANDOM);
	struct spif_atomic a;
	if (spif_atomic_open_home(&a, path, spif_file_mode(conf), err) < 0) {
		explicit_bzero(key, sizeof key);
		return -1;
	}
	ssize_t w = write(a.fd, key, sizeof key);
	int werr = errno;
	explicit_bzero(key, sizeof key);
	if (w != (ssize_t)sizeof key) {
		spif_atomic_abort(&a);
		return spif_err_set(err, SPIF_EX_IOERR, "%s: %s", path, strerror(w < 0 ? werr : ENOSPC));
	}
	char obj[96];
	snprintf(obj, sizeof obj, "key:psn-%s", name);
	json_t *d = json_pack("{s:s,s:s}", "purpose", "pseudonyms (keyed HMAC-SHA256)", "file", path);
	int rc = -1;
	if (spif_atomic_commit(&a, err) < 0) {
		unlink(path);
	} else if (spif_catalog_begin(c, err) < 0) {
		unlink(path);
	} else if (spif_audit_append(c, "key.create", obj, d, NULL, err) < 0 || spif_catalog_commit(c, err) < 0) {
		spif_catalog_rollback(c);
		unlink(path);
	} else
		rc = 0;
	json_decref(d);
	return rc;
}

int spif_psn_key_load(const char *home, const char *name, struct spif_psn **out, struct spif_err *err)
{
	char path[PATH_MAX + 80];
	*out = NULL;
	if (!spif_psn_key_name_valid(name))
		return spif_err_set(err, SPIF_EX_USAGE, "%s: not a key name", name);
	key_path(home, name, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "pseudonym key %s: %s (create it with --new-key %s)",
		                    name, strerror(errno), name);
	unsigned char key[33];
	ssize_t r = read(fd, key, sizeof key);
	close(fd);
	if (r != 32) {
		explicit_bzero(key, sizeof key);
		return spif_err_set(err, SPIF_EX_UNAVAILABLE, "pseudonym key %s: %s is not a 32-byte key", name,
		                    path);
	}
	struct spif_psn *p = calloc(1, sizeof *p);
	if (!p) {
		explicit_bzero(key, sizeof key);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	if (gcry_md_open(&p->h, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) || gcry_md_setkey(p->h, key, 32)) {
		explicit_bzero(key, sizeof key);
		spif_psn_free(p);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: HMAC-SHA256 unavailable");
	}
	explicit_bzero(key, sizeof key);
	*out = p;
	return 0;
}

void spif_psn_free(struct spif_psn *p)
{
	if (!p)
		return;
	if (p->h)
		gcry_md_close(p->h);
	free(p);
}

/* PSN: + 26 base32 characters of HMAC-SHA256(key, digits).  Stable for the
 * same key and number, so joins still work; never 12 digits in a row, so it
 * can never pass for (or be found again as) a number. */
void spif_psn_token(struct spif_psn *p, const char *digits, char out[32])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	gcry_md_hd_t h = p->h;
	for (unsigned round = 0;; round++) {
		gcry_md_reset(h);
		gcry_md_write(h, "spif-psn-v1", 12);
		gcry_md_write(h, digits, strlen(digits));
		if (round)
			gcry_md_write(h, &round, sizeof round);
		const unsigned char *d = gcry_md_read(h, GCRY_MD_SHA256);
		memcpy(out, "PSN:", 4);
		for (int i = 0; i < 26; i++) {
			int bit = i * 5, byte = bit / 8, sh = bit % 8;
			unsigned v = ((unsigned)d[byte] << 8 | d[byte + 1]) >> (11 - sh);
			out[4 + i] = b32[v & 31];
		}
		out[30] = '\0';
		int run = 0, max = 0;
		for (int i = 4; i < 30; i++) {
			run = out[i] >= '0' && out[i] <= '9' ? run + 1 : 0;
			max = run > max ? run : max;
		}
		if (max < 12)
			return;
	}
}

int spif_psn_is_token(const char *v)
{
	return strncmp(v, "PSN:", 4) == 0;
}
