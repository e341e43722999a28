/* copycheck.h - is every copy the catalog calls present still there, and
 * the way out when one is not: declaring it lost.
 *
 * A copy can go outside spif (deleted by hand, a USB stick lost or handed
 * back).  Nothing could settle it before: shred failed with "No such file"
 * forever, a nightly purge failed every night, and catalog verify (which
 * checks the log, not the disk) said all was well.  spif_copies_check
 * finds such copies; spif_copy_lost records one as lost, with its reason,
 * which settles it for disposal (spif_copy_settled) without claiming that
 * anything was destroyed: the file's disposal certificate lists it as
 * lost.  A lost copy that held Individual Numbers is an incident (a
 * possible leak), so it also places a hold on its file, which only a
 * release (spif retain release, by an approver) lifts. */
#ifndef SPIF_COPYCHECK_H
#define SPIF_COPYCHECK_H

#include <jansson.h>

#include "catalog.h"

enum spif_copy_finding {
	SPIF_COPY_FINE = 0,
	SPIF_COPY_MISSING,    /* no file at its path */
	SPIF_COPY_CHANGED,    /* another size or SHA-256 than recorded */
	SPIF_COPY_UNREADABLE, /* there, but this account cannot read it */
	SPIF_COPY_NOT_VAULT,  /* a vault copy whose header does not parse */
};
const char *spif_copy_finding_name(enum spif_copy_finding f);

struct spif_copy_check {
	const struct spif_copy *copy;
	enum spif_copy_finding finding;
	long long size_now;  /* -1 when unknown */
	char sha256_now[65]; /* "" when not read */
};
/* Every copy in state present, in id order: the file at its path, its
 * size and SHA-256 as recorded (vault copies: the file exists and its
 * header parses; their bytes change when the file's key is re-wrapped).
 * fn sees each copy checked (finding FINE included); *checked counts them.
 * Returns what fn returned when non-zero, else 0; -1 with err. */
typedef int (*spif_copy_check_fn)(void *ctx, const struct spif_copy_check *r);
int spif_copies_check(struct spif_catalog *c, spif_copy_check_fn fn, void *ctx, long long *checked,
                      struct spif_err *err);

/* Declare copy_id lost (inside a transaction): present or disposing ->
 * lost, reason recorded in its details and a "copy.lost" event on its
 * file.  When it held numbers (not spif_copy_redacted) and its file is
 * not disposed, an incident hold is placed first: *hold_id (else 0).
 * SPIF_EX_DATAERR for an unknown copy or one already settled. */
int spif_copy_lost(struct spif_catalog *c, long long copy_id, const char *reason, long long *hold_id,
                   long long *file_id, struct spif_err *err);

/* Append to arr the file's lost copies, as a disposal certificate lists
 * them: "lost", never destroyed.  0, or -1 with err. */
int spif_copies_lost_json(struct spif_catalog *c, long long file_id, json_t *arr, struct spif_err *err);

#endif
