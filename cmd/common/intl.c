/* intl.c - see intl.h */
#include "intl.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <sys/stat.h>

#include "exec.h"

#ifndef SPIF_LOCALEDIR
#define SPIF_LOCALEDIR "/usr/local/share/locale"
#endif
#ifndef SPIF_BUILDDIR
#define SPIF_BUILDDIR "build"
#endif

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void cli_i18n_init(void)
{
	setlocale(LC_ALL, "");
	static const char *const rel[] = {"/../locale", "/../" SPIF_BUILDDIR "/locale", "/../share/locale",
	                                  "/../../share/locale"};
	char self[PATH_MAX], dir[PATH_MAX + 64];
	const char *found = SPIF_LOCALEDIR;
	if (cli_self_dir(self, sizeof self) == 0)
		for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
			if (i == 1 && SPIF_BUILDDIR[0] == '/') /* an absolute B: only as built */
				continue;
			snprintf(dir, sizeof dir, "%s%s", self, rel[i]);
			if (is_dir(dir)) {
				found = dir;
				break;
			}
		}
	bindtextdomain(SPIF_TEXTDOMAIN, found);
}
