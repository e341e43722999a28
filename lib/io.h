/* io.h - the one read loop and the one write loop of the record stream.
 *
 * Input: struct spif_in reads a file descriptor with read(2) into a raw
 * buffer and hands the codecs UTF-8 text, txt[tpos..tlen), whatever the
 * source's encoding.  For UTF-8 the text is validated in place, so the
 * text is the raw buffer itself; for CP932 and EUC-JP iconv(3) decodes the
 * raw bytes into a separate text buffer; --encoding auto reads as UTF-8
 * until it meets the first byte that is not ASCII and decides there.
 * Decoding stops for good at the first byte that does not decode (or a NUL,
 * or a read error) and notes where; a codec gets the error only when it
 * needs text beyond that point, so every record before it comes out
 * normally.
 *
 * A codec parses from tpos and restarts a record from its first byte when
 * it runs out of text: spif_in_fill keeps txt[tpos..) and appends at least
 * as much again, so a record is parsed O(log size) times.  The text always
 * has SPIF_IO_PAD readable bytes after tlen, for SIMD loads that run past
 * the end.
 *
 * Output: struct spif_out buffers bytes for a spif_sink_fn (record.h);
 * spif_sink_fd, declared in record.h because commands use it too, is the
 * write(2) loop behind every file descriptor sink.
 *
 * Internal to libspif: commands use record.h. */
#ifndef SPIF_IO_H
#define SPIF_IO_H

#include <iconv.h>
#include <stddef.h>
#include <string.h>

#include "encoding.h"
#include "err.h"
#include "record.h"

#define SPIF_IO_CHUNK ((size_t)1 << 20) /* read(2) size, and a writer's buffer */
#define SPIF_IO_PAD 64                  /* readable slack after the text, for SIMD loads */
/* a whole record (or NDJSON line): bounds memory on runaway input such as
 * a binary file, which may hold separators but no line end */
#define SPIF_RECORD_MAX                                                                      \
	(4 * (size_t)SPIF_FIELD_MAX > ((size_t)64 << 20) ? 4 * (size_t)SPIF_FIELD_MAX          \
	                                                 : ((size_t)64 << 20))

/* Why decoding stopped for good. */
enum spif_in_stop {
	SPIF_IN_OK = 0,
	SPIF_IN_BAD,   /* a byte that does not decode */
	SPIF_IN_NUL,   /* a NUL byte */
	SPIF_IN_IO,    /* read(2) failed */
	SPIF_IN_NOMEM,
	SPIF_IN_ICONV, /* iconv cannot be opened */
};

struct spif_in {
	int fd;
	char name[256];    /* for messages */
	enum spif_enc enc; /* decided (UTF-8 while auto has seen only ASCII) */
	int decided;       /* 0 while --encoding auto has seen only ASCII */
	int bom, bom_seen; /* a BOM was stripped; the start was looked at */

	/* raw bytes: raw[0] is at file offset roff.  In place (UTF-8) the
	 * text is the raw buffer and raw[tlen..rlen) is not yet validated;
	 * otherwise raw[rpos..rlen) is not yet decoded. */
	unsigned char *raw;
	size_t rcap, rlen, rpos;
	long long roff, bytes;
	int eof;
	int inplace;
	/* text: txt[0] is decoded offset toff; the codec reads from tpos */
	unsigned char *txt;
	size_t tcap, tlen, tpos;
	long long toff;
	int text_eof; /* spif_in_fill said there is no more text */
	/* where decoding stopped for good */
	enum spif_in_stop stop;
	long long stop_off;
	int stop_errno;

	iconv_t cd;
	struct spif_lossy *lossy_tab;
	long long lossy, lossy_row, lossy_at; /* lossy_at: decoded offset of the first */

	void (*tap)(void *ctx, const void *buf, size_t n);
	void *tap_ctx;
};

/* Set up in on fd (not closed here); name as it is to appear in messages.
 * enc: AUTO, or the encoding to decode (UTF8_BOM reads as UTF-8 and says
 * UTF8_BOM only if there is a BOM).  0, or -1 with err set. */
int spif_in_open(struct spif_in *in, int fd, const char *name, enum spif_enc enc,
                 struct spif_err *err);
void spif_in_close(struct spif_in *in);

/* Make text past tlen available, keeping txt[tpos..) (which moves to
 * txt[0]).  1: more text; 0: end of input (text_eof is set); -1: decoding
 * or reading stopped, see spif_in_error. */
int spif_in_fill(struct spif_in *in);

/* The error for where decoding stopped, for the record at row:
 * "NAME:ROW: byte offset N: not valid CP932", "...: NUL byte", a read
 * error, iconv failing, or out of memory.  Returns -1. */
int spif_in_error(const struct spif_in *in, long long row, struct spif_err *err);

/* The record at row ends at txt offset end: if the first lossy character
 * was in it, it gets this row. */
static inline void spif_in_consumed(struct spif_in *in, size_t end, long long row)
{
	if (in->lossy_at >= 0 && !in->lossy_row && in->lossy_at < in->toff + (long long)end)
		in->lossy_row = row;
}

/* Buffered output to a sink.  A write error is kept (werrno) for
 * spif_out_error; nothing is promised written before spif_out_flush. */
struct spif_out {
	spif_sink_fn fn;
	void *ctx;
	char name[256]; /* for messages */
	unsigned char *buf;
	size_t len, cap;
	long long total; /* bytes put so far */
	int werrno;
};

/* 0, or -1 (out of memory). */
int spif_out_open(struct spif_out *o, spif_sink_fn fn, void *ctx, const char *name);
void spif_out_close(struct spif_out *o);
/* Hand the buffer to the sink: 0, or -1 with werrno set. */
int spif_out_flush(struct spif_out *o);
/* "NAME: write error: ..." (SPIF_EX_IOERR); returns -1. */
int spif_out_error(const struct spif_out *o, struct spif_err *err);

int spif_out_put_slow(struct spif_out *o, const void *p, size_t n);

/* Append n bytes: 0 or -1. */
static inline int spif_out_put(struct spif_out *o, const void *p, size_t n)
{
	if (n <= o->cap - o->len) {
		o->total += (long long)n;
		memcpy(o->buf + o->len, p, n);
		o->len += n;
		return 0;
	}
	return spif_out_put_slow(o, p, n);
}

/* Room for n (<= cap) bytes at o->buf + o->len, for a codec that writes
 * into the buffer itself (and then adds to len and total). */
static inline int spif_out_room(struct spif_out *o, size_t n)
{
	return n <= o->cap - o->len ? 0 : spif_out_flush(o);
}

#endif
