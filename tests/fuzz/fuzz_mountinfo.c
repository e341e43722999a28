/* fuzz_mountinfo.c - one line of /proc/self/mountinfo (mountinfo.h), read
 * by spif shred (wipe) and spif media for every target and medium.  Mount
 * points and sources are names whoever may mount chooses.
 *
 * Input: the line's bytes (a NUL ends it).
 *
 * Property: spif_mountinfo_parse never reads or writes outside the line;
 * on success every field it gives points into the line, the device is
 * what the line's third space-separated field says (MAJ:MIN, nothing
 * after it), the mount point is the fifth field with its \ooo escapes
 * undone (so never longer), and the type, when there is one, is the field
 * after the first "-" from the seventh on.  On failure the third field
 * is not MAJ:MIN or there is no fifth. */
#include "fuzz.h"

#include "mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *line = malloc(size + 1), *ref = malloc(size + 1);
	if (!line || !ref)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	memcpy(ref, line, size + 1);
	size_t len = strlen(line);

	/* the reference: the fields, split the same way */
	char *f[64], *save = NULL;
	size_t nf = 0;
	for (char *t = strtok_r(ref, " \n", &save); t && nf < 64; t = strtok_r(NULL, " \n", &save))
		f[nf++] = t;
	unsigned a, b;
	char end;
	int dev_ok = nf > 2 && sscanf(f[2], "%u:%u%c", &a, &b, &end) == 2;

	struct spif_mountinfo m;
	int rc = spif_mountinfo_parse(line, &m);
	FZ_CHECK((rc == 0) == (dev_ok && nf > 4), "parse %d, reference %d with %zu fields", rc, dev_ok, nf);
	if (rc == 0) {
		FZ_CHECK(m.maj == a && m.min == b, "the device");
		FZ_CHECK(m.mountpoint >= line && m.mountpoint < line + len + 1, "the mount point is in the line");
		FZ_CHECK(strlen(m.mountpoint) <= strlen(f[4]), "unescaping never lengthens");
		if (!strchr(f[4], '\\'))
			FZ_CHECK(strcmp(m.mountpoint, f[4]) == 0, "no escape: the field as it is");
		const char *type = NULL;
		for (size_t i = 6; i + 1 < nf && nf <= 64; i++)
			if (strcmp(f[i], "-") == 0) {
				type = f[i + 1];
				break;
			}
		if (nf < 64)
			FZ_CHECK((type == NULL) == (m.fstype == NULL) && (!type || strcmp(type, m.fstype) == 0),
			         "the type follows the first separator");
		if (m.source)
			FZ_CHECK(m.source >= line && m.source < line + len + 1, "the source is in the line");
	}
	free(line);
	free(ref);
	return 0;
}
