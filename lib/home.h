/* home.h - where spif keeps its state, spif.conf, and who may touch it.
 *
 * $SPIF_HOME holds catalog.db (and later vault/ and keys/).  It is chosen by
 * --home, else $SPIF_HOME, else "home" in spif.conf, else
 * ${XDG_DATA_HOME:-$HOME/.local/share}/spif.  spif.conf is $SPIF_CONF, else
 * SYSCONFDIR/spif/spif.conf; it is optional.
 *
 * A system install is the exception (see "the trust boundary" below): its
 * commands are setgid to the group that alone reaches the home, and then
 * only SYSCONFDIR/spif/spif.conf counts, and only its home. */
#ifndef SPIF_HOME_H
#define SPIF_HOME_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>
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
	char timezone[64];     /* legal dates and times for people (calendar.h); "" is Asia/Tokyo */
	char trusted_media[256]; /* disks an administrator vouches write in place (space-separated,
	                            e.g. "vda"): a virtual disk on raw spinning storage */

	/* Operators (lib/operator.h, lib/review.h).  Zero is the default, so
	 * that a zeroed struct is a configuration without these keys. */
	int lockout_after;       /* refusals that lock an operator; 0: 5 */
	int lockout_window;      /* ... within this many seconds; 0: 900 (15 minutes) */
	int office_start, office_end; /* minutes after local midnight; both 0: 08:00-19:00 */
	int purge_requires_plan; /* 1 yes, -1 no, 0 unset: yes when the catalog has operators */
	long long bulk_read;     /* review: a read of this many records or more is bulk; 0: 1000 */
	char gnupghome[PATH_MAX]; /* the GnuPG home of a setgid run that has none of its own
	                             (root's or the service account's purge), or "" */
	/* Where the vault's key-encryption keys live (kek.h) and what catalog
	 * backups are encrypted to (backup.h).  With pkcs11_module set the
	 * KEKs are objects of that token, never files; the PIN is read from
	 * pkcs11_pin_file, which must be inside the home (relative to it, or
	 * absolute under it) and readable by its owner (and group) only. */
	char pkcs11_module[PATH_MAX]; /* e.g. /usr/lib/softhsm/libsofthsm2.so */
	char pkcs11_token[64];        /* the token's label */
	char pkcs11_pin_file[PATH_MAX];
	char backup_key[256];         /* OpenPGP key spif catalog backup encrypts the catalog to */
	char checkpoint_log[PATH_MAX]; /* an absolute path, best outside the home (another host's
	                                  mount, append-only media): every checkpoint issued is
	                                  appended to it */
	char checkpoint_syslog[8];     /* "yes": every checkpoint also goes to syslog */
	/* who sends what leaves (spif export: a bag's bag-info.txt), and
	 * whether it may leave only on a registered medium */
	char org_name[256];      /* Source-Organization */
	char contact_name[256];
	char contact_phone[64];
	char contact_email[256];
	int require_registered_media; /* require_registered_media = yes | no (default no) */
	long long purge_lock_alarm;   /* seconds a purge tolerates purge.lock held by another
	                                 before it fails (exit 1) naming who; 0: 6 hours */
};

/* Read spif.conf (a missing file is fine: all fields empty).  Lines are
 * "key = value"; '#' starts a comment.  An unknown key or a group that does
 * not exist is SPIF_EX_DATAERR naming the file and line, and so is a
 * checkpoint_log that is not an absolute path or a checkpoint_syslog that
 * is not yes or no. */
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
/* A directory of the home (vault/, keys/): made when missing with the
 * home's mode and group, synced into its parent; an existing one must be a
 * directory that passes spif_check_perms. */
int spif_home_mkdir(const char *path, const struct spif_conf *conf, struct spif_err *err);

/* ---- locks inside the home ------------------------------------------------
 *
 * One way to take a lock of the home (purge.lock, export.lock): the file
 * NAME inside home, opened without following a link, created with the
 * home's file mode, its permissions checked, then flock(LOCK_EX).  The
 * holder writes who it is into the file (uid, login name, pid, since) so
 * that whoever waits, or an alarm, can say who holds it; the record is
 * advisory (a process that holds the lock without spif writes none, a
 * record whose pid is gone is stale) and is never trusted for anything
 * but that message.  The lock goes with the descriptor: it is released
 * when the process (and any child that inherited it) exits. */
struct spif_lock_holder {
	long long uid;  /* -1: not known */
	char name[33];  /* login name, only [A-Za-z0-9._-]; "" not known */
	long long pid;  /* 0: not known */
	long long since; /* seconds since the epoch; 0: not known */
};

struct spif_lock_wait {
	double wait;     /* seconds to wait for the lock; 0: try once */
	long long alarm; /* > 0: when a known holder has held it longer, fail with SPIF_FOUND */
	/* called once, before the first wait, with who holds it (NULL: not known) */
	void (*waiting)(const struct spif_lock_wait *w, const struct spif_lock_holder *who);
	void *arg;
	volatile sig_atomic_t *stop; /* a signal handler's flag: stop waiting (SPIF_EX_TEMPFAIL) */
};

/* Take NAME's lock in home.  w NULL: try once.  0 with *fd the locked
 * descriptor (close-on-exec); -1 with err SPIF_EX_TEMPFAIL when another
 * holds it after the wait (or the wait was stopped), SPIF_FOUND when the
 * alarm rang, another code on a system error.  When it is held *who
 * (may be NULL) says by whom. */
int spif_home_lock(const char *home, const struct spif_conf *conf, const char *name,
                   const struct spif_lock_wait *w, int *fd, struct spif_lock_holder *who, struct spif_err *err);
/* "uid 1000 (alice), pid 42, since 2026-12-07T05:00:00Z" or "a process
 * that left no record"; never anything read from the file but digits and
 * a checked name. */
void spif_lock_holder_str(const struct spif_lock_holder *h, char *buf, size_t n);

/* ---- the trust boundary of a system install ------------------------------
 *
 * A system install has an account and group (spif) that alone reach the
 * home: catalog, vault, keys, locks.  Operators are not in the group; the
 * command programs are setgid to it (like crontab(1)), so that an
 * operator's own files are opened with the operator's own ids and the home
 * only through spif's code.  The kernel runs such a program in
 * secure-execution mode (getauxval(AT_SECURE) != 0), and then:
 *   - spif.conf is SYSCONFDIR/spif/spif.conf and the home is its "home",
 *     never $SPIF_CONF, $SPIF_HOME or --home (whoever runs it chooses
 *     none of what it trusts);
 *   - a path the caller names is opened as the caller (spif_as_caller):
 *     the spif group would otherwise let "-o /var/lib/spif/catalog.db"
 *     or "spif shred /var/lib/spif/keys/..." through;
 *   - no child keeps the group (cmd/common/cli.c: gpg reads the caller's
 *     own gpg.conf, which may name any program to run).
 * A personal install (no setgid) is not in secure mode: all of this is a
 * no-op and everything works as before. */

/* 1 when this process runs in secure-execution mode (setgid spif). */
int spif_secure(void);

/* For the next file operation in this thread, act as the caller: the
 * effective group becomes the real one, in this thread only (a raw
 * setresgid, not glibc's, which would change every thread while another
 * may be reading the vault).  Returns what spif_as_service takes to go
 * back.  Outside secure mode both do nothing. */
int spif_as_caller(void);
void spif_as_service(int token);
/* The home's own files (a retired key file) are destroyed with the code
 * that destroys a caller's copies: between spif_home_work(1) and
 * spif_home_work(previous) spif_as_caller changes nothing, so that code
 * runs with the service's group.  Returns the previous setting. */
int spif_home_work(int on);

#endif
