/* cli_json.c - see cli_json.h */
#include <stdio.h>
#include <stdlib.h>

#include "cli_json.h"

void cli_print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (s)
		puts(s);
	free(s);
	json_decref(j);
}

json_t *cli_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}
