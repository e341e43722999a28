/* textscan.c - see textscan.h */
#include "textscan.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_CHUNK SPIF_TEXT_CHUNK
#define TEXT_CTX SPIF_TEXT_CTX

struct spif_textscan {
	int fd;
	const char *name;
	enum spif_enc enc;
	iconv_t cd;            /* CP932/EUC-JP -> UTF-8, or (iconv_t)-1 */
	char *buf;             /* decoded text: the window, then what follows */
	char *raw;             /* bytes read and not decoded yet */
	char pre[TEXT_CTX];    /* the tail of what was given out, as context */
	size_t npre, len, rawlen;
	long long consumed;    /* raw bytes decoded so far, for offsets in messages */
	long long char_base;
	size_t cut;            /* the window given out last: buf[0, cut) */
	int eof, given, finished;
};

/* Is the character starting at b[i] one a number can be made of (a digit,
 * half- or full-width, or a separator)?  A window must not end between two
 * of them, or a number would be cut in half. */
static int is_number_char(const char *b, size_t i, size_t n)
{
	const unsigned char *u = (const unsigned char *)b + i;
	size_t left = n - i;
	if (left == 0)
		return 0;
	if ((u[0] >= '0' && u[0] <= '9') || u[0] == '-' || u[0] == '.' || u[0] == ' ')
		return 1;
	if (left < 3)
		return 0;
	unsigned c = (unsigned)u[0] << 16 | (unsigned)u[1] << 8 | u[2];
	return (c >= 0xEFBC90 && c <= 0xEFBC99) || c == 0xE38080 || c == 0xEFBC8D || c == 0xE383BC ||
	       c == 0xE28090 || c == 0xE28892 || c == 0xEFBC8E;
}

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
	t->buf = malloc(TEXT_CHUNK + TEXT_CTX * 2 + 16);
	t->raw = malloc(TEXT_CHUNK);
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

int spif_textscan_next(struct spif_textscan *t, struct spif_textwin *w, struct spif_err *err)
{
	if (t->given) {
		t->given = 0;
		slide(t);
		if (t->eof && t->len == 0)
			t->finished = 1;
	}
	if (t->finished)
		return 0;
	char *buf = t->buf, *raw = t->raw;
	while (!t->eof || t->len) {
		/* fill: raw bytes, decoded to UTF-8, up to the chunk size */
		if (!t->eof && t->len < TEXT_CHUNK) {
			ssize_t got = read(t->fd, raw + t->rawlen, TEXT_CHUNK - t->rawlen - t->len / 4);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return spif_err_set(err, SPIF_EX_IOERR, "%s: %s", t->name, strerror(errno));
			t->eof = got == 0;
			t->rawlen += (size_t)got;
			if (t->cd == (iconv_t)-1) {
				size_t ok = spif_utf8_valid_prefix((unsigned char *)raw, t->rawlen);
				if (ok < t->rawlen && (t->eof || t->rawlen - ok >= 4))
					return spif_err_set(err, SPIF_EX_DATAERR, "%s: byte offset %lld: not valid UTF-8",
					                    t->name, t->consumed + (long long)ok);
				memcpy(buf + t->len, raw, ok);
				t->len += ok;
				memmove(raw, raw + ok, t->rawlen - ok);
				t->consumed += (long long)ok;
				t->rawlen -= ok;
			} else {
				char *in = raw, *outp = buf + t->len;
				size_t inleft = t->rawlen, room = TEXT_CHUNK + TEXT_CTX - t->len;
				size_t rc = iconv(t->cd, &in, &inleft, &outp, &room);
				if (rc == (size_t)-1 && (errno == EILSEQ || (errno == EINVAL && t->eof)))
					return spif_err_set(err, SPIF_EX_DATAERR, "%s: byte offset %lld: not valid %s",
					                    t->name, t->consumed + (long long)(in - raw),
					                    spif_enc_name(t->enc));
				t->consumed += (long long)(in - raw);
				t->len = (size_t)(outp - buf);
				memmove(raw, in, inleft);
				t->rawlen = inleft;
			}
			if (!t->eof && t->len < TEXT_CHUNK / 2)
				continue;
		}
		/* the complete part: all at EOF, else up to a point outside any
		 * digit run and before the keyword look-ahead */
		size_t len = t->len, cut = len;
		if (!t->eof) {
			cut = len > TEXT_CTX ? len - TEXT_CTX : 0;
			while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80)
				cut--;
			/* back out of a digit run (at most a number's length or so) */
			for (int steps = 0; cut > 0 && steps < 64 && is_number_char(buf, cut, len); steps++) {
				size_t back = prev_char(buf, cut);
				if (!is_number_char(buf, back, len))
					break;
				cut = back;
			}
			if (cut == 0)
				continue; /* need more text */
		}
		*w = (struct spif_textwin){.pre = t->pre, .npre = t->npre, .text = buf, .n = cut,
		                           .post = buf + cut, .npost = len - cut, .char_base = t->char_base};
		t->cut = cut;
		t->given = 1;
		return 1;
	}
	t->finished = 1;
	return 0;
}
