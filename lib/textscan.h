/* textscan.h - free text (mail bodies, logs) as a stream of windows for
 * the number detector (spif redact --format text).
 *
 * Text of any length is read in windows of about 1 MiB of UTF-8, so memory
 * stays bounded.  Each window is the part of the text that is complete: it
 * starts and ends on a character and never ends inside a run of digits or
 * separators, so no number is ever cut in half.  With it come, as keyword
 * context only, up to 1,200 bytes before it (the end of the last window)
 * and whatever has been read after it; numbers are looked for in the window
 * alone, so each is found exactly once.  The windows, one after the other,
 * are the whole text: nothing is skipped, nothing given twice.
 *
 * Input in CP932 or EUC-JP is decoded to UTF-8 on the way (strictly: a
 * byte that does not decode stops the run with its offset); anything else
 * must be valid UTF-8. */
#ifndef SPIF_TEXTSCAN_H
#define SPIF_TEXTSCAN_H

#include <stddef.h>

#include "err.h"
#include "record.h"

#define SPIF_TEXT_CHUNK (1u << 20) /* bytes of UTF-8 per window, about */
#define SPIF_TEXT_CTX 1200         /* context kept before a window: 300 characters of up to 4 bytes */

struct spif_textscan;

struct spif_textwin {
	const char *pre;      /* context before text (already given out), on a character */
	size_t npre;
	const char *text;     /* the window: complete UTF-8 */
	size_t n;
	const char *post;     /* what was read after it (given out again next time) */
	size_t npost;
	long long char_base;  /* characters of the text before this window */
};

/* Read fd (not closed here) as text in encoding enc (AUTO, UTF-8 and
 * UTF-8 with BOM are read as UTF-8).  name is for messages. */
int spif_textscan_open(int fd, const char *name, enum spif_enc enc, struct spif_textscan **out,
                       struct spif_err *err);

/* The next window: 1 (valid until the next call), 0 at the end, -1 with
 * err: SPIF_EX_DATAERR "NAME: byte offset N: not valid UTF-8" (or CP932,
 * EUC-JP; N counted from the start of the input), SPIF_EX_IOERR.  An empty
 * input gives one empty window. */
int spif_textscan_next(struct spif_textscan *t, struct spif_textwin *w, struct spif_err *err);

void spif_textscan_close(struct spif_textscan *t);

#endif
