/* bagit.h - BagIt 1.0 bags (RFC 8493): written as one stream, and checked.
 *
 * A bag is a directory TOP/ holding bagit.txt, the payload under data/,
 * payload manifests (manifest-sha256.txt, manifest-sha512.txt), bag-info.txt
 * and a tag manifest (tagmanifest-sha256.txt) over the other tag files.
 * spif writes one in a single pass, never holding a payload file: into a
 * pax tar through libarchive, whose bytes go to the caller's sink (to gpg,
 * or to a file), or into a directory.
 *
 * Order is what a stream allows.  A tar header carries its entry's size,
 * so a payload file is begun with its size (the caller knows it before
 * the first byte: export.c says how) and a count that differs at its end
 * is an error, never a padded or cut entry.  What is known only at the
 * end (the manifests, bag-info.txt with Payload-Oxum, the tag manifest)
 * is written at the end: bagit.txt, data/..., then the manifests,
 * bag-info.txt, the caller's own tag files, tagmanifest-sha256.txt last.
 * A tag file written after the bag was closed (spif/proof.json, an
 * inclusion proof made once the export's event exists) is allowed by the
 * RFC without being listed in a tag manifest, and the check accepts it.
 *
 * A directory bag is made under a hidden name beside TOP, its files
 * unnamed (O_TMPFILE) until the commit links them and renames the
 * directory into place: a failed or killed run leaves no payload file.
 *
 * The check reads a tar stream (or walks a directory) once, hashing every
 * file with SHA-256 and SHA-512 as it goes, and then lists every problem,
 * not only the first: a file listed and missing, present and not listed
 * (extra), or whose hash differs (mismatched), a Payload-Oxum that does
 * not add up, a bagit.txt or bag-info.txt that is missing or malformed. */
#ifndef SPIF_BAGIT_H
#define SPIF_BAGIT_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "record.h"

struct spif_bag;

/* A tar bag whose entries are under top/ (one path component), its bytes
 * through fn (a spif_sink_fn: all n bytes, or -1 with errno). */
int spif_bag_open_tar(const char *top, spif_sink_fn fn, void *ctx, struct spif_bag **out,
                      struct spif_err *err);
/* The same as a ZIP: entries stored, each encrypted with WinZip AES-256
 * (AE-2) under password; SPIF_EX_UNAVAILABLE when libarchive cannot
 * (never ZipCrypto instead).  Weak beside the OpenPGP message: see
 * spif-export(1), --zip-aes256. */
int spif_bag_open_zip(const char *top, const char *password, spif_sink_fn fn, void *ctx, struct spif_bag **out,
                      struct spif_err *err);
/* A directory bag that will be path (which must not exist; its parent
 * must), files mode fmode, directories dmode. */
int spif_bag_open_dir(const char *path, mode_t fmode, mode_t dmode, struct spif_bag **out,
                      struct spif_err *err);

/* A payload file data/name (name: one path component, no '/'), of size
 * bytes (a tar bag needs it; a directory bag ignores it), written with
 * spif_bag_write and ended with spif_bag_file_end. */
int spif_bag_file_begin(struct spif_bag *b, const char *name, long long size, struct spif_err *err);
/* A spif_sink_fn: ctx is the bag. */
int spif_bag_write(void *ctx, const void *buf, size_t n);
/* The file's hashes; SPIF_EX_SOFTWARE when its bytes were not its size,
 * or the error a write met (SPIF_EX_IOERR with its errno). */
int spif_bag_file_end(struct spif_bag *b, char sha256[65], char sha512[129], struct spif_err *err);

/* A tag file of the caller's (name relative to the bag, such as
 * "spif/checkout.json"), listed in the tag manifest: written by
 * spif_bag_finish after bag-info.txt, in the order given. */
int spif_bag_tag(struct spif_bag *b, const char *name, const void *data, size_t n, struct spif_err *err);

/* One line of bag-info.txt: "label: value" (the value one line). */
struct spif_bag_meta {
	const char *label, *value;
};
/* Write the manifests, bag-info.txt (the caller's lines, then
 * Payload-Oxum and Bag-Size), the caller's tag files and the tag
 * manifest; close the tar.  tagsha gets the tag manifest's SHA-256 (it
 * covers every other file through the manifests it lists). */
int spif_bag_finish(struct spif_bag *b, const struct spif_bag_meta *meta, size_t nmeta, char tagsha[65],
                    struct spif_err *err);
/* A directory bag: link its files and put it in place (fsync'd); nothing
 * for a tar bag. */
int spif_bag_commit(struct spif_bag *b, struct spif_err *err);
/* Payload totals so far. */
long long spif_bag_payload_bytes(const struct spif_bag *b);
long long spif_bag_payload_files(const struct spif_bag *b);
/* Free; a directory bag not committed is removed (its files were never named). */
void spif_bag_close(struct spif_bag *b);

/* ---- checking --------------------------------------------------------- */

/* One problem: kind "missing", "extra", "mismatched" or "invalid", the
 * path within the bag, and what about it ("sha256, sha512", "listed in
 * manifest-sha256.txt"). */
typedef void (*spif_bag_problem_fn)(void *ctx, const char *kind, const char *path, const char *detail);

struct spif_bag_report {
	char top[256];             /* the bag's directory name ("EX-2026-000001"); "" when packed without one */
	long long payload_files, payload_bytes;
	long long problems;
	char *bag_info;            /* bag-info.txt (malloc'd, NUL-terminated) or NULL */
	char *checkout;            /* spif/checkout.json, or NULL */
	char tagsha[65];           /* SHA-256 of tagmanifest-sha256.txt, "" when none */
};

/* Check the bag in the tar stream on fd (read to its end), or the
 * directory dir.  Every problem goes to fn; report gets the totals.
 * 0 when the bag could be read (problems or not: see report->problems),
 * -1 with err when it could not: SPIF_EX_DATAERR "not a tar archive" or
 * a damaged one, SPIF_EX_IOERR. */
int spif_bag_check_tar(int fd, spif_bag_problem_fn fn, void *ctx, struct spif_bag_report *report,
                       struct spif_err *err);
/* The bag in the ZIP file on fd (seekable), opened with password: a
 * wrong one is SPIF_EX_DATAERR at the first entry. */
int spif_bag_check_zip(int fd, const char *password, spif_bag_problem_fn fn, void *ctx,
                       struct spif_bag_report *report, struct spif_err *err);
int spif_bag_check_dir(const char *dir, spif_bag_problem_fn fn, void *ctx, struct spif_bag_report *report,
                       struct spif_err *err);
void spif_bag_report_free(struct spif_bag_report *r);

/* "1.5 MB" and the like, for Bag-Size. */
void spif_bag_size_text(long long bytes, char out[32]);

#endif
