/* home.h - where spif keeps its state, spif.conf, and who may touch it.
 *
 * $SPIF_HOME holds catalog.db (and later vault/ and keys/).  It is chosen by
 * --home, else $SPIF_HOME, else "home" in spif.conf, else
 * ${XDG_DATA_HOME:-$HOME/.local/share}/spif.  spif.conf is $SPIF_CONF, else
 * SYSCONFDIR/spif/spif.conf; it is optional. */
#ifndef SPIF_HOME_H
#define SPIF_HOME_H

#include <limits.h>
#include <sys/types.h>

#include "err.h"

struct spif_conf {
	char path[PATH_MAX];   /* the file read, or "" when there was none */
	char home[PATH_MAX];   /* home = ... */
	char group[64];        /* group = ...: a shared system install */
	gid_t gid;             /* that group's id when group[0] */
	char title[256];       /* the operator's title, for certificates */
	char location[256];
	char contact[256];
	char sign_key[256];    /* OpenPGP key to sign certificates with */
	char custodian_key[256];
	char trusted_media[256]; /* disks an administrator vouches write in place (space-separated,
	                            e.g. "vda"): a virtual disk on raw spinning storage */
	/* who sends what leaves (spif export: a bag's bag-info.txt), and
	 * whether it may leave only on a registered medium */
	char org_name[256];      /* Source-Organization */
	char contact_name[256];
	char contact_phone[64];
	char contact_email[256];
	int require_registered_media; /* require_registered_media = yes | no (default no) */
};

/* Read spif.conf (a missing file is fine: all fields empty).  Lines are
 * "key = value"; '#' starts a comment.  An unknown key or a group that does
 * not exist is SPIF_EX_DATAERR naming the file and line. */
int spif_conf_load(struct spif_conf *c, struct spif_err *err);

/* Resolve the home directory into out (see above).  opt_home may be NULL. */
int spif_home_resolve(const char *opt_home, const struct spif_conf *c, char *out, size_t n,
                      struct spif_err *err);

/* Make sure home exists (created 0700, or 2770 owned by the configured
 * group) and that nobody but its owner (and that group) can write it:
 * refused with SPIF_EX_NOPERM otherwise. */
int spif_home_prepare(const char *home, const struct spif_conf *c, struct spif_err *err);

/* The same permission rule for one existing file or directory: not
 * writable by others; writable by its group only if it is the configured
 * group.  A missing path is fine. */
int spif_check_perms(const char *path, const struct spif_conf *c, struct spif_err *err);

/* Mode for new files (0600 or 0660) and directories (0700 or 02770). */
mode_t spif_file_mode(const struct spif_conf *c);
mode_t spif_dir_mode(const struct spif_conf *c);

#endif
