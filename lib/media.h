/* media.h - the registry of removable media (spif media) and which
 * medium a path is on.
 *
 * MIC notice 151 asks that each medium have a designated place (保管場所)
 * and that what was taken out on it be confirmed returned.  A medium is
 * registered with an id of the office's choosing (the label on it), its
 * kind and where it is kept, and, when it is at hand, the identity of its
 * filesystem: the UUID (from /dev/disk/by-uuid, else blkid(8)), or the
 * device's serial number.  spif export writing onto a mounted medium
 * looks the medium up by that identity; with spif.conf
 * require_registered_media = yes an unregistered one is refused.
 *
 * Which filesystems are media: those on a block device that is not the
 * disk of / nor the disk of the home (another disk: a USB stick, a
 * DVD, an external drive, a loop-mounted image), and any disk the kernel
 * calls removable.  Memory and network filesystems are not media.
 *
 * Changes happen inside the caller's transaction, each with its event. */
#ifndef SPIF_MEDIA_H
#define SPIF_MEDIA_H

#include <limits.h>

#include "catalog.h"
#include "err.h"

/* A registered medium.  Strings are owned by the struct. */
struct spif_media {
	char *id, *kind, *location, *uuid, *serial, *device;
	char *added, *added_by;
	int retired;
	char *retired_at, *retired_by, *retire_reason;
};
void spif_media_free(struct spif_media *m);

/* The filesystem a path is on. */
struct spif_fsident {
	char mountpoint[PATH_MAX];
	char source[PATH_MAX];  /* the mount's source ("/dev/sdb1"), "" when none */
	char fstype[32];
	unsigned maj, min;      /* the filesystem's device */
	char disk[64];          /* the whole disk under it ("sdb"), "" when not a block device */
	int is_medium;          /* see above */
	char uuid[64];          /* "" when none could be read */
	char serial[128];       /* "" when none */
};

/* What path is on: a file or directory on a mounted filesystem, or a
 * block device itself (media add --device /dev/sdb1).  home may be NULL.
 * The UUID and serial are read only for a medium, unless always is set
 * (reading a UUID may run blkid).  Missing path: SPIF_EX_NOINPUT. */
int spif_media_identify(const char *path, const char *home, int always, struct spif_fsident *id,
                        struct spif_err *err);

/* Is s a usable medium id (1..64 of letters, digits, . _ -, not starting
 * with a dot or a dash)?  1 or 0. */
int spif_media_id_valid(const char *s);
/* "usb", "dvd", "hdd", "other": 1 when kind is one. */
int spif_media_kind_valid(const char *kind);

/* Register m (id, kind, location, and uuid/serial/device when known),
 * with a "media.add" event.  SPIF_EX_CANTCREAT when the id is taken, or
 * when an active medium has the same UUID. */
int spif_media_add(struct spif_catalog *c, const struct spif_media *m, struct spif_err *err);
/* One medium by id: 0, or SPIF_EX_DATAERR "no medium ID". */
int spif_media_get(struct spif_catalog *c, const char *id, struct spif_media *m, struct spif_err *err);
/* The registered medium (retired ones too) with this identity: 1 found
 * (m filled), 0 none, -1 error. */
int spif_media_find(struct spif_catalog *c, const struct spif_fsident *id, struct spif_media *m,
                    struct spif_err *err);
/* Retire a medium ("media.retire" event): SPIF_EX_DATAERR when unknown,
 * already retired, or an export on it is still out. */
int spif_media_retire(struct spif_catalog *c, const char *id, const char *reason, struct spif_err *err);
/* Every medium in id order, through fn (valid during the call); a
 * non-zero return stops and is returned. */
int spif_media_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_media *m), void *ctx,
                    struct spif_err *err);

#endif
