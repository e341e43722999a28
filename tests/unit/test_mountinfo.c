/* test_mountinfo.c - one line of /proc/self/mountinfo split (lib/
 * mountinfo.h): the fields proc(5) documents, with and without optional
 * fields, escaped mount points and sources, a mount point named "-", and
 * lines that are not mountinfo lines (no device, a device with trailing
 * bytes, too few fields). */
#include "mountinfo.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static int parse(const char *text, struct spif_mountinfo *m, char *buf, size_t n)
{
	snprintf(buf, n, "%s", text);
	return spif_mountinfo_parse(buf, m);
}

int main(void)
{
	struct spif_mountinfo m;
	char b[512];

	is_int(parse("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n", &m, b,
	             sizeof b), 0, "proc(5)'s example");
	ok(m.maj == 98 && m.min == 0, "the device");
	is_str(m.mountpoint, "/mnt2", "the mount point (fifth field)");
	is_str(m.fstype, "ext3", "the type, after the separator");
	is_str(m.source, "/dev/root", "the source");
	is_str(m.superopts, "rw,errors=continue", "the super options");

	is_int(parse("22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw", &m, b, sizeof b), 0, "no optional field");
	ok(m.maj == 8 && m.min == 1 && strcmp(m.fstype, "ext4") == 0 && strcmp(m.superopts, "rw") == 0,
	   "... the same fields");

	is_int(parse("40 22 0:50 / /media/a\\040b\\134c rw shared:7 master:2 - fuse.x my\\040src rw", &m, b,
	             sizeof b), 0, "escaped names");
	is_str(m.mountpoint, "/media/a b\\c", "the mount point unescaped");
	is_str(m.source, "my src", "the source unescaped");

	is_int(parse("41 22 0:51 / - rw - tmpfs none rw", &m, b, sizeof b), 0, "a mount point named -");
	is_str(m.mountpoint, "-", "... is the mount point, not the separator");
	is_str(m.fstype, "tmpfs", "... and the type is still found");

	is_int(parse("42 22 0:52 / /x rw", &m, b, sizeof b), 0, "no separator");
	ok(m.fstype == NULL && m.source == NULL && m.superopts == NULL, "... no type, source or options");

	is_int(parse("43 22 0:53 / /x rw - ext4", &m, b, sizeof b), 0, "a type only");
	ok(m.fstype && strcmp(m.fstype, "ext4") == 0 && m.source == NULL, "... no source");

	is_int(parse("1 2 notdev / /x rw - ext4 s o", &m, b, sizeof b), -1, "no device: not a line");
	is_int(parse("1 2 8:1x / /x rw - ext4 s o", &m, b, sizeof b), -1, "a device with bytes after it");
	is_int(parse("1 2 8:1 /", &m, b, sizeof b), -1, "no mount point");
	is_int(parse("", &m, b, sizeof b), -1, "an empty line");

	char s[] = "a\\040b\\0\\9\\777\\";
	spif_mountinfo_unescape(s);
	is_str(s, "a b\\0\\9\\777\\", "only whole \\ooo escapes up to \\377 are undone");
	return tap_done();
}
