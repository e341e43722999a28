/* textscan.c - see textscan.h */
#include "numview.h"
#include "textscan.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_CHUNK SPIF_TEXT_CHUNK
#define TEXT_CTX SPIF_TEXT_CTX
/* buf holds a window and the look-ahead after it: whatever a read
 * returned, nothing is decoded into it past BUF_ROOM */
#define BUF_ROOM (TEXT_CHUNK + TEXT_CTX)
#define RAW_CAP TEXT_CHUNK
#define RUN_STEPS 1024 /* characters to back out of a run of digits and separators */

struct spif_textscan {
	int fd;
	const char *name;
	enum spif_enc enc;
	iconv_t cd;            /* CP932/EUC-JP -> UTF-8, or (iconv_t)-1 */
	char *buf;             /* decoded text: the window, then what follows (BUF_ROOM) */
	char *raw;             /* bytes read and not decoded yet (RAW_CAP) */
	char pre[TEXT_CTX];    /* the tail of what was given out, as context */
	size_t npre, len, rawlen;
	long long consumed;    /* raw bytes decoded so far, for offsets in messages */
	long long char_base;
	size_t cut;            /* the window given out last: buf[0, cut) */
	int eof, given, finished;
};

/* The start of the character before position i. */
static size_t prev_char(const char *b, size_t i)
{
	do
		i--;
	while (i > 0 && ((unsigned char)b[i] & 0xC0) == 0x80);
	return i;
}

int spif_textscan_open(int fd, const char *name, enum spif_enc enc, struct spif_textscan **out,
                       struct spif_err *err)
{
	*out = NULL;
	struct spif_textscan *t = calloc(1, sizeof *t);
	if (!t)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	t->fd = fd;
	t->name = name;
	t->enc = enc;
	t->cd = (iconv_t)-1;
	if (enc == SPIF_ENC_CP932 || enc == SPIF_ENC_EUCJP)
		t->cd = iconv_open("UTF-8", enc == SPIF_ENC_CP932 ? "CP932" : "EUC-JP");
	t->buf = malloc(BUF_ROOM + TEXT_CTX + 16);
	t->raw = malloc(RAW_CAP);
	if (!t->buf || !t->raw) {
		spif_textscan_close(t);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	*out = t;
	return 0;
}

void spif_textscan_close(struct spif_textscan *t)
{
	if (!t)
		return;
	if (t->cd != (iconv_t)-1)
		iconv_close(t->cd);
	free(t->buf);
	free(t->raw);
	free(t);
}

/* After a window: keep the tail of what was given as context for the
 * next one, and move what follows it to the front. */
static void slide(struct spif_textscan *t)
{
	char *buf = t->buf;
	size_t cut = t->cut;
	for (size_t k = 0; k < cut; k++) /* characters, for the report's offsets */
		t->char_base += ((unsigned char)buf[k] & 0xC0) != 0x80;
	size_t keepn = cut < TEXT_CTX ? cut : TEXT_CTX;
	if (keepn < TEXT_CTX && t->npre) {
		size_t from_old = TEXT_CTX - keepn < t->npre ? TEXT_CTX - keepn : t->npre;
		memmove(t->pre, t->pre + t->npre - from_old, from_old);
		t->npre = from_old;
	} else
		t->npre = 0;
	memcpy(t->pre + t->npre, buf + cut - keepn, keepn);
	t->npre += keepn;
	size_t lead = 0; /* context starts on a character */
	while (lead < t->npre && ((unsigned char)t->pre[lead] & 0xC0) == 0x80)
		lead++;
	memmove(t->pre, t->pre + lead, t->npre - lead);
	t->npre -= lead;
	memmove(buf, buf + cut, t->len - cut);
	t->len -= cut;
	t->cut = 0;
}

/* Move what raw holds into buf, as far as buf has room (the rest waits
 * in raw for the next window): checked as UTF-8, or decoded from CP932 or
 * EUC-JP.  A byte that cannot be text is an error where it stands. */
static int decode(struct spif_textscan *t, struct spif_err *err)
{
	char *raw = t->raw, *buf = t->buf;
	size_t room = BUF_ROOM - t->len;
	if (t->cd == (iconv_t)-1) {
		size_t ok = spif_utf8_valid_prefix((unsigned char *)raw, t->rawlen);
		if (ok < t->rawlen && (t->eof || t->rawlen - ok >= 4))
			return spif_err_set(err, SPIF_EX_DATAERR, "%s: byte offset %lld: not valid UTF-8", t->name,
			                    t->consumed + (long long)ok);
		size_t n = ok < room ? ok : room;
		while (n < ok && n > 0 && ((unsigned char)raw[n] & 0xC0) == 0x80)
			n--; /* whole characters only */
		memcpy(buf + t->len, raw, n);
		t->len += n;
		memmove(raw, raw + n, t->rawlen - n);
		t->consumed += (long long)n;
		t->rawlen -= n;
		return 0;
	}
	char *in = raw, *outp = buf + t->len;
	size_t inleft = t->rawlen;
	/* E2BIG (one byte of CP932 can be three of UTF-8) leaves the rest in
	 * raw; EINVAL is a character cut by the read, unless nothing follows */
	size_t rc = iconv(t->cd, &in, &inleft, &outp, &room);
	if (rc == (size_t)-1 && (errno == EILSEQ || (errno == EINVAL && t->eof)))
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: byte offset %lld: not valid %s", t->name,
		                    t->consumed + (long long)(in - raw), spif_enc_name(t->enc));
	t->consumed += (long long)(in - raw);
	t->len = (size_t)(outp - buf);
	memmove(raw, in, inleft);
	t->rawlen = inleft;
	return 0;
}

int spif_textscan_next(struct spif_textscan *t, struct spif_textwin *w, struct spif_err *err)
{
	if (t->given) {
		t->given = 0;
		slide(t);
		if (t->eof && t->rawlen == 0 && t->len == 0)
			t->finished = 1;
	}
	char *buf = t->buf;
	while (!t->finished) {
		/* the end is when every byte was read and decoded: raw can still
		 * hold bytes that buf had no room for when the input ended */
		int done = t->eof && t->rawlen == 0;
		if (!done && t->len < TEXT_CHUNK) {
			/* fill: as many bytes as raw has room for, whatever the read
			 * returned before, then decoded as far as buf has room */
			if (!t->eof && t->rawlen < RAW_CAP) {
				ssize_t got = read(t->fd, t->raw + t->rawlen, RAW_CAP - t->rawlen);
				if (got < 0 && errno == EINTR)
					continue;
				if (got < 0)
					return spif_err_set(err, SPIF_EX_IOERR, "%s: %s", t->name, strerror(errno));
				t->eof = got == 0;
				t->rawlen += (size_t)got;
			}
			if (decode(t, err) < 0)
				return -1;
			done = t->eof && t->rawlen == 0;
			if (!done && t->len < TEXT_CHUNK / 2)
				continue;
		}
		/* the complete part: all at the end, else up to a point outside
		 * any digit run and before the keyword look-ahead */
		size_t len = t->len, cut = len;
		if (!done) {
			cut = len > TEXT_CTX ? len - TEXT_CTX : 0;
			while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80)
				cut--;
			/* back out of a run of digits and separators, so that no
			 * number is cut in half.  A run can be long (numbers in a
			 * column, one a line, or a row of them, since spaces and line
			 * breaks are separators too): past RUN_STEPS characters the
			 * cut goes just after the nearest line break in the run, where
			 * only a number written across lines next to a keyword could
			 * be split (see BUGS in spif-redact(1)) */
			size_t after_nl = 0;
			int steps = 0, inside = 0;
			while (cut > 0 && spif_nv_number_char(buf, len, cut)) {
				size_t back = prev_char(buf, cut);
				if (!spif_nv_number_char(buf, len, back))
					break;
				if (buf[back] == '\n' && !after_nl)
					after_nl = cut;
				if (++steps > RUN_STEPS) {
					inside = 1;
					break;
				}
				cut = back;
			}
			if (inside && after_nl)
				cut = after_nl;
			if (cut == 0)
				continue; /* need more text */
		}
		*w = (struct spif_textwin){.pre = t->pre, .npre = t->npre, .text = buf, .n = cut,
		                           .post = buf + cut, .npost = len - cut, .char_base = t->char_base};
		t->cut = cut;
		t->given = 1;
		return 1;
	}
	return 0;
}
