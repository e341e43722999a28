/* recopts.c - see recopts.h. */
#include "recopts.h"

enum spif_format cli_opt_format(const struct cli *c, const char *opt, const char *arg)
{
	enum spif_format f = spif_format_parse(arg);
	if (f == SPIF_FMT_NONE)
		cli_usage(c, "%s %s: unknown (ndjson, csv, tsv)", opt, arg);
	return f;
}

enum spif_enc cli_opt_input_encoding(const struct cli *c, const char *opt, const char *arg)
{
	int e = spif_enc_parse(arg);
	if (e < 0)
		cli_usage(c, "%s %s: unknown (auto, utf-8, cp932, euc-jp)", opt, arg);
	return (enum spif_enc)e;
}

enum spif_enc cli_opt_output_encoding(const struct cli *c, const char *opt, const char *arg)
{
	/* 0 is auto, which names no encoding to write */
	int e = spif_enc_parse(arg);
	if (e <= 0)
		cli_usage(c, "%s %s: unknown (utf-8, utf-8-bom, cp932, euc-jp)", opt, arg);
	return (enum spif_enc)e;
}
