/* cli_json.h - the one way a command prints JSON: one compact object per
 * line (NDJSON), keys in the order they were added, so that --json output
 * can be read line by line and diffed between runs.  Kept apart from
 * cli.h so that commands without --json need not see jansson. */
#ifndef SPIF_CLI_JSON_H
#define SPIF_CLI_JSON_H

#include <jansson.h>

/* Print j on one line of stdout and drop the reference (it may be NULL,
 * as json_pack returns on a bad value: then nothing is printed). */
void cli_print_json(json_t *j);

/* A JSON string, or null for NULL. */
json_t *cli_jstr(const char *s);

#endif
