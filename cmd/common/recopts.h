/* recopts.h - the record-stream options that ingest, redact and encrypt
 * share (--format, --to, --encoding, --output-encoding): one spelling of
 * each value and one message for a bad one, the way git's parse-options
 * gives every command the same --color.  Each dies with a usage error
 * (exit 64, one line) on a value it does not know. */
#ifndef SPIF_RECOPTS_H
#define SPIF_RECOPTS_H

#include "cli.h"
#include "record.h"

/* --format / --to: ndjson, csv or tsv. */
enum spif_format cli_opt_format(const struct cli *c, const char *opt, const char *arg);
/* --encoding of an input: auto, utf-8, cp932 or euc-jp. */
enum spif_enc cli_opt_input_encoding(const struct cli *c, const char *opt, const char *arg);
/* --output-encoding: utf-8, utf-8-bom, cp932 or euc-jp (no auto). */
enum spif_enc cli_opt_output_encoding(const struct cli *c, const char *opt, const char *arg);

#endif
