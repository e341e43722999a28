/* mountinfo.c - see mountinfo.h */
#include "mountinfo.h"

#include <stdio.h>
#include <string.h>

void spif_mountinfo_unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
		    p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else
			*o++ = *p;
	}
	*o = '\0';
}

int spif_mountinfo_parse(char *line, struct spif_mountinfo *m)
{
	memset(m, 0, sizeof *m);
	char *save = NULL, *tok;
	int field = 0, sep = 0, dev = 0;
	for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
		if (field == 2) {
			char end;
			if (sscanf(tok, "%u:%u%c", &m->maj, &m->min, &end) != 2)
				return -1;
			dev = 1;
		} else if (field == 4) {
			m->mountpoint = tok;
		} else if (!sep && field > 5 && strcmp(tok, "-") == 0) {
			sep = 1;
		} else if (sep) {
			if (sep == 1)
				m->fstype = tok;
			else if (sep == 2)
				m->source = tok;
			else if (sep == 3)
				m->superopts = tok;
			else
				break;
			sep++;
		}
	}
	if (!dev || !m->mountpoint)
		return -1;
	spif_mountinfo_unescape(m->mountpoint);
	if (m->source)
		spif_mountinfo_unescape(m->source);
	return 0;
}
