/* csv.h - the CSV and TSV codec behind record.h: RFC 4180 with the rules
 * spif-records(5) adds, TSV being the same with a tab as the separator.
 *
 * The reader takes the header from the first row (keys are the column
 * names, '@' refused), reports the source's layout as a struct
 * spif_dialect, and gives records whose values keep their quoting flag;
 * the writer writes that layout back, so that CP932 in, CP932 out is byte
 * for byte the source.
 *
 * Internal to libspif: commands use record.h. */
#ifndef SPIF_CSV_H
#define SPIF_CSV_H

#include "record.h"

extern const struct spif_reader_codec spif_csv_reader;
extern const struct spif_writer_codec spif_csv_writer;

#endif
