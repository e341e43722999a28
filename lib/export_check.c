/* export_check.c - spif export verify: an archive checked whole, as a
 * recipient (or the office, when it comes back) would; see export.h.
 *
 * An OpenPGP message is decrypted by gpg (GPGME) in a thread of its own
 * into a pipe, and the tar read from the other end by the bag check, so
 * that the plaintext is never anywhere but in those two buffers; its
 * signature is checked on the way.  A plain tar is read as it is, a
 * directory walked.  Every problem the bag has is listed (bagit.h). */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decrypt_pipe.h"
#include "digest.h"
#include "pgp.h"

/* What the first bytes say: 1 OpenPGP, 2 tar, 3 ZIP, 0 neither. */
static int kind_of(int fd)
{
	unsigned char h[512];
	ssize_t n = pread(fd, h, sizeof h, 0);
	if (n >= 263 && memcmp(h + 257, "ustar", 5) == 0)
		return 2;
	if (n >= 4 && memcmp(h, "PK\003\004", 4) == 0)
		return 3;
	if (n >= 14 && memcmp(h, "-----BEGIN PGP", 14) == 0)
		return 1;
	if (n >= 1 && (h[0] & 0x80)) /* an OpenPGP packet header */
		return 1;
	return 0;
}

int spif_export_is_zip(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	struct stat st;
	int z = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && kind_of(fd) == 3;
	close(fd);
	return z;
}

int spif_export_check(const char *path, spif_bag_problem_fn fn, void *ctx, struct spif_export_check *r,
                      struct spif_err *err)
{
	return spif_export_check_with(path, NULL, fn, ctx, r, err);
}

int spif_export_check_with(const char *path, const char *zip_password, spif_bag_problem_fn fn, void *ctx,
                           struct spif_export_check *r, struct spif_err *err)
{
	memset(r, 0, sizeof *r);
	struct stat st;
	if (stat(path, &st) < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	if (S_ISDIR(st.st_mode))
		return spif_bag_check_dir(path, fn, ctx, &r->bag, err);
	long long size;
	if (spif_sha256_file(path, r->sha256, &size, err) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", path);
	int kind = kind_of(fd), rc = -1;
	if (kind == 2) {
		rc = spif_bag_check_tar(fd, fn, ctx, &r->bag, err);
		if (rc < 0)
			spif_err_prefix(err, "%s", path);
		close(fd);
		return rc;
	}
	if (kind == 3) { /* a password ZIP (--zip-aes256): its own weak encryption, no signature */
		r->zip = 1;
		if (!zip_password) {
			close(fd);
			return spif_err_set(err, SPIF_EX_USAGE, "%s: a password-protected ZIP (--zip-aes256): give its "
			                    "password with --passphrase-file F (or at the terminal)", path);
		}
		rc = spif_bag_check_zip(fd, zip_password, fn, ctx, &r->bag, err);
		if (rc < 0)
			spif_err_prefix(err, "%s", path);
		close(fd);
		return rc;
	}
	if (kind == 0) {
		close(fd);
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: neither an OpenPGP message nor a tar or ZIP archive", path);
	}
	r->encrypted = 1;
	struct spif_decrypt_pipe d;
	if (spif_decrypt_pipe_start(&d, fd, err) < 0) {
		close(fd);
		return -1;
	}
	struct spif_err be = {0};
	int brc = spif_bag_check_tar(d.rd, fn, ctx, &r->bag, &be);
	spif_decrypt_pipe_finish(&d);
	close(fd);
	memcpy(r->signer, d.signer, sizeof r->signer);
	r->sig_status = d.sig_status;
	if (d.sig_status < 0)
		snprintf(r->sig_problem, sizeof r->sig_problem, "%.299s", d.e.msg);
	/* gpg's failure says why there was no tar to read; a bad signature
	 * alone does not stop the check of what was decrypted */
	if (d.rc < 0 && !(d.e.code == SPIF_FOUND && brc == 0)) {
		*err = d.e;
		spif_err_prefix(err, "%s", path);
		spif_bag_report_free(&r->bag);
		return -1;
	}
	if (brc < 0) {
		*err = be;
		spif_err_prefix(err, "%s", path);
		return -1;
	}
	if (d.rc < 0 && r->sig_status == 0) {
		r->sig_status = -1;
		snprintf(r->sig_problem, sizeof r->sig_problem, "%.299s", d.e.msg);
	}
	rc = 0;
	return rc;
}

void spif_export_check_free(struct spif_export_check *r)
{
	spif_bag_report_free(&r->bag);
}
