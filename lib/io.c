/* io.c - the read loop (bytes to UTF-8 text) and the write loop; see io.h. */
#include "io.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"

#define MIN_READ ((size_t)64 << 10)    /* least new text spif_in_fill tries to add */
#define AUTO_WINDOW ((size_t)1 << 20)  /* --encoding auto looks this far */

/* ------------------------------------------------------------------ */
/* input                                                                */

static const char *dec_name(const struct spif_in *in)
{
	return in->enc == SPIF_ENC_CP932 ? "CP932" : in->enc == SPIF_ENC_EUCJP ? "EUC-JP" : "UTF-8";
}

static void stop_at(struct spif_in *in, enum spif_in_stop why, long long off)
{
	in->stop = why;
	in->stop_off = off;
}

int spif_in_error(const struct spif_in *in, long long row, struct spif_err *err)
{
	switch (in->stop) {
	case SPIF_IN_BAD:
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: byte offset %lld: not valid %s",
		                    in->name, row, in->stop_off, dec_name(in));
	case SPIF_IN_NUL:
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: byte offset %lld: NUL byte",
		                    in->name, row, in->stop_off);
	case SPIF_IN_IO:
		return spif_err_sys(err, SPIF_EX_IOERR, in->stop_errno, "%s: read error", in->name);
	case SPIF_IN_ICONV:
		return spif_err_sys(err, SPIF_EX_UNAVAILABLE, in->stop_errno,
		                    "%s: cannot decode %s with iconv", in->name, dec_name(in));
	case SPIF_IN_NOMEM:
	case SPIF_IN_OK:
		break;
	}
	return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", in->name);
}

/* A raw or text buffer: cap bytes and SPIF_IO_PAD zeroed bytes of slack. */
static unsigned char *buf_new(size_t cap)
{
	unsigned char *p = cap <= SIZE_MAX - SPIF_IO_PAD ? malloc(cap + SPIF_IO_PAD) : NULL;
	if (p)
		memset(p + cap, 0, SPIF_IO_PAD);
	return p;
}

/* Grow a buffer to hold need bytes by the rule of grow.h, keeping its
 * first keep bytes.  It held source text, Individual Numbers perhaps:
 * rather than realloc(3), which may leave a copy in freed memory, the old
 * buffer is copied from and wiped. */
static int buf_grow(unsigned char **p, size_t *cap, size_t need, size_t keep)
{
	size_t n = spif_grow_cap(*cap, need, 1);
	unsigned char *q = n ? buf_new(n) : NULL;
	if (!q)
		return -1;
	if (keep)
		memcpy(q, *p, keep);
	spif_free_wipe(*p, *cap + SPIF_IO_PAD);
	*p = q;
	*cap = n;
	return 0;
}

/* Drop the text before tpos (and raw bytes already decoded). */
static void compact(struct spif_in *in)
{
	size_t k = in->tpos;
	if (in->inplace) {
		if (!k)
			return;
		memmove(in->raw, in->raw + k, in->rlen - k);
		in->rlen -= k;
		in->tlen -= k;
		in->roff += (long long)k;
	} else {
		if (k) {
			memmove(in->txt, in->txt + k, in->tlen - k);
			in->tlen -= k;
		}
		if (in->rpos) {
			memmove(in->raw, in->raw + in->rpos, in->rlen - in->rpos);
			in->rlen -= in->rpos;
			in->roff += (long long)in->rpos;
			in->rpos = 0;
		}
	}
	in->toff += (long long)k;
	in->tpos = 0;
}

/* read(2) once into the raw buffer (growing it when it is nearly full). */
static void read_more(struct spif_in *in)
{
	if (!in->inplace && in->rpos) { /* only a cut character is left: move it down */
		memmove(in->raw, in->raw + in->rpos, in->rlen - in->rpos);
		in->rlen -= in->rpos;
		in->roff += (long long)in->rpos;
		in->rpos = 0;
	}
	if (in->rcap - in->rlen < MIN_READ) {
		if (buf_grow(&in->raw, &in->rcap, in->rlen + MIN_READ, in->rlen) < 0) {
			stop_at(in, SPIF_IN_NOMEM, 0);
			return;
		}
		if (in->inplace) {
			in->txt = in->raw;
			in->tcap = in->rcap;
		}
	}
	size_t room = in->rcap - in->rlen;
	if (room > SPIF_IO_CHUNK * 4)
		room = SPIF_IO_CHUNK * 4;
	ssize_t n;
	do
		n = read(in->fd, in->raw + in->rlen, room);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		in->stop_errno = errno;
		stop_at(in, SPIF_IN_IO, 0);
	} else if (n == 0) {
		in->eof = 1;
	} else {
		if (in->tap)
			in->tap(in->tap_ctx, in->raw + in->rlen, (size_t)n);
		in->rlen += (size_t)n;
		in->bytes += n;
	}
}

/* Output length of decoding s[0..n) (known to decode), to place the first
 * lossy character in the text. */
static size_t decoded_len(iconv_t cd, const unsigned char *s, size_t n)
{
	char out[4096];
	char *in = (char *)(uintptr_t)s;
	size_t inleft = n, total = 0;
	while (inleft) {
		char *o = out;
		size_t oleft = sizeof out;
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		total += (size_t)(o - out);
		if (r == (size_t)-1 && errno != E2BIG)
			break;
	}
	return total;
}

static int ensure_txt(struct spif_in *in, size_t room)
{
	if (in->tcap - in->tlen >= room)
		return 0;
	if (room > SIZE_MAX - in->tlen)
		return -1;
	return buf_grow(&in->txt, &in->tcap, in->tlen + room, in->tlen);
}

/* CP932/EUC-JP: decode raw[rpos..rlen) into the text, up to the first NUL
 * or undecodable byte. */
static void decode_iconv(struct spif_in *in)
{
	while (in->rpos < in->rlen && !in->stop) {
		unsigned char *in0 = in->raw + in->rpos;
		size_t avail = in->rlen - in->rpos;
		unsigned char *nul = memchr(in0, 0, avail);
		size_t lim = nul ? (size_t)(nul - in0) : avail;
		/* a half-width katakana byte becomes 3 bytes of UTF-8 */
		if (ensure_txt(in, 3 * lim + 16) < 0) {
			stop_at(in, SPIF_IN_NOMEM, 0);
			return;
		}
		char *ip = (char *)in0, *op = (char *)in->txt + in->tlen;
		size_t il = lim, ol = in->tcap - in->tlen;
		size_t r = iconv(in->cd, &ip, &il, &op, &ol);
		int e = errno;
		size_t used = (size_t)((unsigned char *)ip - in0);
		size_t first;
		size_t nl = spif_lossy_scan(in->lossy_tab, in0, used, &first);
		if (nl) {
			if (in->lossy == 0)
				in->lossy_at = in->toff + (long long)in->tlen +
				               (long long)decoded_len(in->cd, in0, first);
			in->lossy += (long long)nl;
		}
		in->rpos += used;
		in->tlen = (size_t)((unsigned char *)op - in->txt);
		if (r == (size_t)-1) {
			if (e == EINVAL && !nul && !in->eof)
				return; /* a character cut by the read: wait for the rest */
			if (e != E2BIG)
				stop_at(in, SPIF_IN_BAD, in->roff + (long long)in->rpos);
			continue;
		}
		if (nul)
			stop_at(in, SPIF_IN_NUL, in->roff + (long long)in->rpos);
	}
}

/* --encoding auto found CP932 or EUC-JP: from raw[tlen] on, decode with
 * iconv into a text buffer of its own. */
static void go_iconv(struct spif_in *in)
{
	const char *name = spif_enc_iconv_name(in->enc);
	in->cd = iconv_open("UTF-8", name);
	if (in->cd == (iconv_t)-1) {
		in->stop_errno = errno;
		stop_at(in, SPIF_IN_ICONV, 0);
		return;
	}
	in->lossy_tab = malloc(sizeof *in->lossy_tab);
	size_t keep = in->tlen - in->tpos, cap = spif_grow_cap(3 * SPIF_IO_CHUNK, 2 * keep, 1);
	unsigned char *t = cap ? buf_new(cap) : NULL;
	if (!in->lossy_tab || !t) {
		free(t);
		stop_at(in, SPIF_IN_NOMEM, 0);
		return;
	}
	if (spif_lossy_build(in->lossy_tab, in->enc) < 0) {
		free(t);
		in->stop_errno = errno;
		stop_at(in, SPIF_IN_ICONV, 0);
		return;
	}
	memcpy(t, in->raw + in->tpos, keep);
	in->rpos = in->tlen;
	in->toff += (long long)in->tpos;
	in->txt = t;
	in->tcap = cap;
	in->tlen = keep;
	in->tpos = 0;
	in->inplace = 0;
}

/* UTF-8 (and auto before its decision): validate raw[tlen..rlen) in place. */
static void decode_utf8(struct spif_in *in)
{
	static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
	if (!in->bom_seen) {
		size_t n = in->rlen - in->tlen;
		if (n < 3 && !in->eof && memcmp(in->raw + in->tlen, bom, n) == 0)
			return; /* could still be a BOM */
		in->bom_seen = 1;
		if (n >= 3 && memcmp(in->raw + in->tlen, bom, 3) == 0) {
			in->bom = 1;
			in->decided = 1;
			in->enc = SPIF_ENC_UTF8_BOM;
			in->tlen += 3;
			in->tpos = in->tlen; /* nothing parsed yet: the text starts after it */
		}
	}
	for (;;) {
		unsigned char *s = in->raw + in->tlen;
		size_t n = in->rlen - in->tlen;
		if (!n)
			return;
		if (!in->decided) {
			size_t a = spif_ascii_prefix(s, n);
			in->tlen += a;
			s += a;
			n -= a;
			if (!n)
				return;
			if (*s == 0) {
				stop_at(in, SPIF_IN_NUL, in->roff + (long long)in->tlen);
				return;
			}
			if (n < AUTO_WINDOW && !in->eof)
				return; /* read on: decide on up to AUTO_WINDOW bytes */
			size_t w = n < AUTO_WINDOW ? n : AUTO_WINDOW;
			enum spif_enc e = spif_enc_guess(s, w, in->eof && w == n);
			in->decided = 1;
			if (e == SPIF_ENC_CP932 || e == SPIF_ENC_EUCJP) {
				in->enc = e;
				go_iconv(in);
				if (!in->stop)
					decode_iconv(in);
				return;
			}
			in->enc = SPIF_ENC_UTF8;
			continue;
		}
		enum spif_u8stop why;
		in->tlen += spif_utf8_scan(s, n, &why);
		if (why == SPIF_U8_BAD || (why == SPIF_U8_TRUNC && in->eof))
			stop_at(in, SPIF_IN_BAD, in->roff + (long long)in->tlen);
		else if (why == SPIF_U8_NUL)
			stop_at(in, SPIF_IN_NUL, in->roff + (long long)in->tlen);
		return;
	}
}

/* Adds at least as much text as is kept, so that a long record is
 * re-parsed only O(log n) times. */
int spif_in_fill(struct spif_in *in)
{
	compact(in);
	size_t start = in->tlen, target = start > MIN_READ ? start : MIN_READ;
	for (;;) {
		if (!in->stop) {
			if (in->inplace)
				decode_utf8(in);
			else
				decode_iconv(in);
		}
		size_t added = in->tlen - start;
		if (in->tpos > start) /* a BOM was skipped */
			added = in->tlen - in->tpos;
		if (added >= target || (added && (in->stop || in->eof)))
			return 1;
		if (in->stop)
			return -1;
		if (in->eof) {
			in->text_eof = 1;
			return 0;
		}
		read_more(in);
	}
}

int spif_in_open(struct spif_in *in, int fd, const char *name, enum spif_enc enc,
                 struct spif_err *err)
{
	memset(in, 0, sizeof *in);
	in->fd = fd;
	snprintf(in->name, sizeof in->name, "%s", name);
	in->cd = (iconv_t)-1;
	in->lossy_at = -1;
	in->decided = enc != SPIF_ENC_AUTO;
	in->enc = enc == SPIF_ENC_AUTO ? SPIF_ENC_UTF8 : enc;
	in->inplace = in->enc == SPIF_ENC_UTF8 || in->enc == SPIF_ENC_UTF8_BOM;
	if (in->enc == SPIF_ENC_UTF8_BOM)
		in->enc = SPIF_ENC_UTF8; /* UTF-8-BOM only if there is one */
	in->bom_seen = !in->inplace;
	in->rcap = SPIF_IO_CHUNK;
	in->raw = buf_new(in->rcap);
	if (in->inplace) {
		in->txt = in->raw;
		in->tcap = in->rcap;
	} else {
		in->tcap = 3 * SPIF_IO_CHUNK;
		in->txt = buf_new(in->tcap);
		in->lossy_tab = malloc(sizeof *in->lossy_tab);
	}
	if (!in->raw || !in->txt || (!in->inplace && !in->lossy_tab)) {
		spif_in_close(in);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "%s: out of memory", in->name);
	}
	if (!in->inplace) {
		const char *ic = spif_enc_iconv_name(in->enc);
		in->cd = iconv_open("UTF-8", ic);
		if (in->cd == (iconv_t)-1 || spif_lossy_build(in->lossy_tab, in->enc) < 0) {
			spif_err_sys(err, SPIF_EX_UNAVAILABLE, errno, "%s: cannot decode %s with iconv",
			             in->name, ic);
			spif_in_close(in);
			return -1;
		}
	}
	return 0;
}

void spif_in_close(struct spif_in *in)
{
	if (in->cd != (iconv_t)-1)
		iconv_close(in->cd);
	if (in->txt != in->raw)
		spif_free_wipe(in->txt, in->tcap + SPIF_IO_PAD);
	spif_free_wipe(in->raw, in->rcap + SPIF_IO_PAD);
	free(in->lossy_tab);
	in->cd = (iconv_t)-1;
	in->txt = in->raw = NULL;
	in->lossy_tab = NULL;
}

/* ------------------------------------------------------------------ */
/* output                                                               */

void spif_thread_block_sigpipe(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

int spif_sink_fd(void *ctx, const void *buf, size_t n)
{
	int fd = *(int *)ctx;
	const char *p = buf;
	while (n) {
		ssize_t k = write(fd, p, n > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int spif_out_open(struct spif_out *o, spif_sink_fn fn, void *ctx, const char *name)
{
	memset(o, 0, sizeof *o);
	o->fn = fn;
	o->ctx = ctx;
	snprintf(o->name, sizeof o->name, "%s", name);
	o->cap = SPIF_IO_CHUNK;
	o->buf = malloc(o->cap);
	return o->buf ? 0 : -1;
}

void spif_out_close(struct spif_out *o)
{
	spif_free_wipe(o->buf, o->cap);
	o->buf = NULL;
}

int spif_out_flush(struct spif_out *o)
{
	if (o->len) {
		errno = 0;
		if (o->fn(o->ctx, o->buf, o->len) < 0) {
			o->werrno = errno ? errno : EIO;
			return -1;
		}
		o->len = 0;
	}
	return 0;
}

int spif_out_error(const struct spif_out *o, struct spif_err *err)
{
	return spif_err_sys(err, SPIF_EX_IOERR, o->werrno, "%s: write error", o->name);
}

/* n does not fit after what is buffered: flush, then buffer it, or hand
 * it to the sink directly when it is as big as the buffer. */
int spif_out_put_slow(struct spif_out *o, const void *p, size_t n)
{
	o->total += (long long)n;
	if (spif_out_flush(o) < 0)
		return -1;
	if (n >= o->cap) {
		errno = 0;
		if (o->fn(o->ctx, p, n) < 0) {
			o->werrno = errno ? errno : EIO;
			return -1;
		}
		return 0;
	}
	memcpy(o->buf, p, n);
	o->len = n;
	return 0;
}
