/* ndjson.h - the NDJSON codec behind record.h: one flat JSON object per
 * line, every value a string (metadata '@' keys may be integers), keys
 * unique in a line, in UTF-8 whatever encoding was asked for.
 *
 * The writer puts fields in record order, "@row" as a JSON number and
 * every other value as a JSON string; with the rowmeta option it writes
 * the record's row first as "@row".
 *
 * Internal to libspif: commands use record.h. */
#ifndef SPIF_NDJSON_H
#define SPIF_NDJSON_H

#include "record.h"

extern const struct spif_reader_codec spif_ndjson_reader;
extern const struct spif_writer_codec spif_ndjson_writer;

#endif
