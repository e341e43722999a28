/* mountinfo.h - one line of /proc/self/mountinfo (proc(5)), split in
 * place, for the two questions spif asks it: which file system a target
 * is on and how it is mounted (wipe), and where a medium is mounted
 * (media).  One parser, so that both read the format the same way.
 *
 * The kernel writes the file, but a mount point and a source are names
 * whoever may mount (a FUSE or udisks user) chooses, escaped as \ooo: a
 * line is read as outside input.  Nothing is assumed present; the
 * unescaping only shortens a field, in place. */
#ifndef SPIF_MOUNTINFO_H
#define SPIF_MOUNTINFO_H

struct spif_mountinfo {
	unsigned maj, min;  /* the device (third field) */
	char *mountpoint;   /* fifth field, unescaped */
	char *fstype;       /* first field after "-", or NULL */
	char *source;       /* second after "-", unescaped, or NULL */
	char *superopts;    /* third after "-", or NULL */
};

/* Split line (changed in place; fields are separated by spaces) into m:
 * 0, or -1 when its third field is not MAJ:MIN or it has no fifth. */
int spif_mountinfo_parse(char *line, struct spif_mountinfo *m);

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
void spif_mountinfo_unescape(char *s);

#endif
