/* fieldcrypt.c - see fieldcrypt.h
 *
 * AES-256-GCM through libgcrypt, one cipher handle per key reused for
 * every value (setiv / authenticate / encrypt / gettag), so a value costs
 * a nonce, one GCM pass and a malloc.  A key is therefore not for two
 * threads at once.
 *
 * The nonce is the deterministic construction of NIST SP 800-38D 8.2.1:
 * 8 random bytes drawn (gcry_create_nonce) when the key handle is made,
 * then a 32-bit counter, big-endian; a fresh prefix is drawn before the
 * counter would wrap.  No nonce repeats within a handle, and two handles
 * on one key (spif encrypt seals on two threads) repeat one only if their
 * random prefixes are equal, a 2^-64 chance.  Random 96-bit nonces per
 * value cost a gcry_create_nonce each (a getpid() system call and a hash),
 * a fifth of the sealing time over a million records.
 *
 * The associated data is "spif-field-v1" NUL file NUL row NUL field.  The
 * three are C strings and cannot hold a NUL, so the split is unambiguous:
 * no other (file, row, field) gives the same bytes.
 *
 * Base64 is the standard alphabet with padding (RFC 4648), by table.
 * Decoding is strict (no whitespace, canonical padding bits), so that any
 * change to the text of an ENC[...] value either fails to parse or fails
 * the tag: there is exactly one text for each sealed value. */
#include "base64.h"
#include "fieldcrypt.h"

#include <errno.h>
#include <gcrypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "digest.h"
#include "recpipe.h"

#define PREFIX "ENC[aes-256-gcm,v1,"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define AAD_MAGIC "spif-field-v1"
#define NONCE_LEN 12
#define TAG_LEN 16
#define NONCE_B64 16 /* 4 * ceil(12 / 3) */
#define TAG_B64 24   /* 4 * ceil(16 / 3) */
#define STACK_MAX 1024

#define PREFIX_BYTES 8

struct spif_fieldkey {
	unsigned char raw[32];
	gcry_cipher_hd_t h;
	unsigned char prefix[PREFIX_BYTES]; /* the nonces' random part */
	uint32_t counter;                   /* values sealed under this prefix */
	int have_prefix;
};

/* The next nonce: prefix, then the counter. */
static void next_nonce(struct spif_fieldkey *k, unsigned char nonce[NONCE_LEN])
{
	if (!k->have_prefix || k->counter == UINT32_MAX) {
		gcry_create_nonce(k->prefix, sizeof k->prefix);
		k->counter = 0;
		k->have_prefix = 1;
	}
	uint32_t c = k->counter++;
	memcpy(nonce, k->prefix, PREFIX_BYTES);
	nonce[8] = (unsigned char)(c >> 24);
	nonce[9] = (unsigned char)(c >> 16);
	nonce[10] = (unsigned char)(c >> 8);
	nonce[11] = (unsigned char)c;
}

/* The three base64 parts of an ENC[...] string. */
struct parsed {
	const char *nonce, *ct, *tag;
	size_t nonce_len, ct_len, tag_len; /* in base64 chars */
	size_t ct_bytes;                   /* decoded */
};

/* 0 when enc[0, n) is a well-formed ENC[aes-256-gcm,v1,...] value. */
static int parse(const char *enc, size_t n, struct parsed *p)
{
	if (!enc || n < PREFIX_LEN + NONCE_B64 + 2 + TAG_B64 + 1
	    || memcmp(enc, PREFIX, PREFIX_LEN) != 0 || enc[n - 1] != ']')
		return -1;
	const char *s = enc + PREFIX_LEN, *end = enc + n - 1;
	const char *c1 = memchr(s, ',', (size_t)(end - s));
	if (!c1)
		return -1;
	const char *c2 = memchr(c1 + 1, ',', (size_t)(end - c1 - 1));
	if (!c2 || memchr(c2 + 1, ',', (size_t)(end - c2 - 1)))
		return -1;
	p->nonce = s;
	p->nonce_len = (size_t)(c1 - s);
	p->ct = c1 + 1;
	p->ct_len = (size_t)(c2 - c1 - 1);
	p->tag = c2 + 1;
	p->tag_len = (size_t)(end - c2 - 1);
	if (spif_b64_check(p->nonce, p->nonce_len) != NONCE_LEN
	    || spif_b64_check(p->tag, p->tag_len) != TAG_LEN)
		return -1;
	p->ct_bytes = spif_b64_check(p->ct, p->ct_len);
	return p->ct_bytes == (size_t)-1 ? -1 : 0;
}

/* The associated data in buf (stack) or a malloc'd buffer in *heap. */
static const unsigned char *make_aad(const char *file, const char *row, const char *field,
                                     unsigned char *buf, size_t bufsz, unsigned char **heap,
                                     size_t *len)
{
	size_t lf = strlen(file), lr = strlen(row), ld = strlen(field);
	size_t m = sizeof AAD_MAGIC - 1;
	*heap = NULL;
	if (lf > SIZE_MAX / 4 || lr > SIZE_MAX / 4 || ld > SIZE_MAX / 4)
		return NULL;
	*len = m + 1 + lf + 1 + lr + 1 + ld;
	unsigned char *a = buf;
	if (*len > bufsz) {
		a = *heap = malloc(*len);
		if (!a)
			return NULL;
	}
	unsigned char *q = a;
	memcpy(q, AAD_MAGIC, m);
	q += m;
	*q++ = '\0';
	memcpy(q, file, lf);
	q += lf;
	*q++ = '\0';
	memcpy(q, row, lr);
	q += lr;
	*q++ = '\0';
	memcpy(q, field, ld);
	return a;
}

struct spif_fieldkey *spif_fieldkey_from(const unsigned char raw[32])
{
	if (!raw || spif_crypto_init(NULL) < 0)
		return NULL;
	struct spif_fieldkey *k = calloc(1, sizeof *k);
	if (!k)
		return NULL;
	memcpy(k->raw, raw, sizeof k->raw);
	if (gcry_cipher_open(&k->h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0)) {
		k->h = NULL;
		spif_fieldkey_free(k);
		return NULL;
	}
	if (gcry_cipher_setkey(k->h, k->raw, sizeof k->raw)) {
		spif_fieldkey_free(k);
		return NULL;
	}
	return k;
}

struct spif_fieldkey *spif_fieldkey_new(void)
{
	if (spif_crypto_init(NULL) < 0)
		return NULL;
	unsigned char raw[32];
	gcry_randomize(raw, sizeof raw, GCRY_STRONG_RANDOM);
	struct spif_fieldkey *k = spif_fieldkey_from(raw);
	explicit_bzero(raw, sizeof raw);
	return k;
}

const unsigned char *spif_fieldkey_raw(const struct spif_fieldkey *k)
{
	return k ? k->raw : NULL;
}

void spif_fieldkey_free(struct spif_fieldkey *k)
{
	if (!k)
		return;
	if (k->h)
		gcry_cipher_close(k->h); /* wipes the expanded key */
	explicit_bzero(k, sizeof *k);
	free(k);
}

int spif_field_seal(struct spif_fieldkey *k, const char *file, const char *row, const char *field,
                    const char *value, size_t n, char **out, size_t *outn, struct spif_err *err)
{
	*out = NULL;
	if (outn)
		*outn = 0;
	if (!k || !k->h)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "no field key");
	if (!file || !row || !field)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "sealing needs a file, a row and a field");
	if (!value && n)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "no value");
	if (n > (SIZE_MAX - 128) / 4 * 3)
		return spif_err_set(err, SPIF_EX_DATAERR, "value too large to seal");

	size_t ct_b64 = (n + 2) / 3 * 4;
	size_t total = PREFIX_LEN + NONCE_B64 + 1 + ct_b64 + 1 + TAG_B64 + 1;
	char *s = malloc(total + 1);
	unsigned char stack_ct[STACK_MAX], stack_aad[256];
	unsigned char *ct = n <= sizeof stack_ct ? stack_ct : malloc(n);
	unsigned char *aad_heap = NULL;
	size_t aad_len = 0;
	const unsigned char *aad = make_aad(file, row, field, stack_aad, sizeof stack_aad,
					    &aad_heap, &aad_len);
	int rc = -1;
	if (!s || !ct || !aad) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}

	unsigned char nonce[NONCE_LEN], tag[TAG_LEN];
	next_nonce(k, nonce);
	if (gcry_cipher_setiv(k->h, nonce, sizeof nonce)
	    || gcry_cipher_authenticate(k->h, aad, aad_len)
	    || (n && gcry_cipher_encrypt(k->h, ct, n, value, n))
	    || gcry_cipher_gettag(k->h, tag, sizeof tag)) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: AES-256-GCM failed");
		goto out;
	}

	char *q = s;
	memcpy(q, PREFIX, PREFIX_LEN);
	q += PREFIX_LEN;
	q = spif_b64_encode(nonce, sizeof nonce, q);
	*q++ = ',';
	q = spif_b64_encode(ct, n, q);
	*q++ = ',';
	q = spif_b64_encode(tag, sizeof tag, q);
	*q++ = ']';
	*q = '\0';
	*out = s;
	s = NULL;
	if (outn)
		*outn = total;
	rc = 0;
out:
	free(s);
	if (ct != stack_ct)
		free(ct);
	free(aad_heap);
	return rc;
}

int spif_field_open(struct spif_fieldkey *k, const char *file, const char *row, const char *field,
                    const char *enc, size_t n, char **out, size_t *outn, struct spif_err *err)
{
	*out = NULL;
	if (outn)
		*outn = 0;
	if (!k || !k->h)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "no field key");
	if (!file || !row || !field)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "opening needs a file, a row and a field");
	struct parsed p;
	if (parse(enc, n, &p) < 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "not an ENC[...] value");

	unsigned char nonce[NONCE_LEN], tag[TAG_LEN], stack_ct[STACK_MAX], stack_aad[256];
	spif_b64_decode(p.nonce, p.nonce_len, nonce);
	spif_b64_decode(p.tag, p.tag_len, tag);
	unsigned char *ct = p.ct_bytes <= sizeof stack_ct ? stack_ct : malloc(p.ct_bytes);
	char *pt = malloc(p.ct_bytes + 1);
	unsigned char *aad_heap = NULL;
	size_t aad_len = 0;
	const unsigned char *aad = make_aad(file, row, field, stack_aad, sizeof stack_aad,
					    &aad_heap, &aad_len);
	int rc = -1;
	if (!ct || !pt || !aad) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	spif_b64_decode(p.ct, p.ct_len, ct);
	if (gcry_cipher_setiv(k->h, nonce, sizeof nonce)
	    || gcry_cipher_authenticate(k->h, aad, aad_len)
	    || (p.ct_bytes && gcry_cipher_decrypt(k->h, pt, p.ct_bytes, ct, p.ct_bytes))) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "libgcrypt: AES-256-GCM failed");
		goto out;
	}
	/* the plaintext is not released unless the tag matches */
	if (gcry_cipher_checktag(k->h, tag, sizeof tag)) {
		spif_err_set(err, SPIF_EX_DATAERR,
			     "does not open here (moved from another row or field, or altered)");
		goto out;
	}
	pt[p.ct_bytes] = '\0';
	*out = pt;
	pt = NULL;
	if (outn)
		*outn = p.ct_bytes;
	rc = 0;
out:
	if (pt) {
		explicit_bzero(pt, p.ct_bytes + 1);
		free(pt);
	}
	if (ct != stack_ct)
		free(ct);
	free(aad_heap);
	return rc;
}

int spif_field_is_sealed(const char *v, size_t n)
{
	struct parsed p;
	return parse(v, n, &p) == 0;
}

/* ---- the key line -------------------------------------------------------- */

char *spif_keyline_make(const struct spif_keyline *h, char (*recipients)[41], size_t nrecipients)
{
	json_t *fl = json_array(), *rl = json_array();
	for (size_t i = 0; i < h->nfields; i++)
		json_array_append_new(fl, json_string(h->fields[i]));
	for (size_t i = 0; i < nrecipients; i++)
		json_array_append_new(rl, json_string(recipients[i]));
	json_t *x = json_pack("{s:i,s:s,s:s}", "v", 1, "scheme", "aes-256-gcm", "format",
	                      spif_format_name(h->fmt));
	if (h->fmt != SPIF_FMT_NDJSON)
		json_object_set_new(x, "encoding", json_string(spif_enc_name(h->enc)));
	json_object_set_new(x, "fields", fl);
	json_object_set_new(x, "file", json_string(h->file));
	json_object_set_new(x, "mode", json_string(h->mode));
	json_object_set_new(x, "recipients", rl);
	json_object_set_new(x, "key", json_string(h->key));
	json_t *top = json_pack("{s:o}", "@spif-encrypted", x);
	char *s = json_dumps(top, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(top);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	memcpy(line + n, "\n", 2);
	return line;
}

int spif_keyline_read(int fd, const char *name, char **line, struct spif_err *err)
{
	enum { MAX = 64 * 1024 };
	char *s = malloc(MAX + 1);
	size_t n = 0;
	*line = NULL;
	if (!s)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			spif_err_set(err, SPIF_EX_IOERR, "%s: %s", name, strerror(errno));
		else if (r == 0)
			spif_err_set(err, SPIF_EX_DATAERR, "%s:1: the key line ends early", name);
		else if (ch == '\n')
			break;
		else if (n == MAX)
			spif_err_set(err, SPIF_EX_DATAERR, "%s:1: key line longer than %d bytes", name, MAX);
		else {
			s[n++] = ch;
			continue;
		}
		explicit_bzero(s, n);
		free(s);
		return -1;
	}
	if (n && s[n - 1] == '\r')
		n--;
	s[n] = '\0';
	*line = s;
	return 0;
}

int spif_keyline_parse(const char *line, const char *name, struct spif_keyline *h, struct spif_err *err)
{
	json_error_t je;
	memset(h, 0, sizeof *h);
	h->root = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	json_t *x = json_object_get(h->root, "@spif-encrypted");
	if (!json_is_object(x) || json_object_size(h->root) != 1)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s: not an OpenPGP message, nor a column-encrypted "
		                    "stream (its first line is not a key line)", name);
	json_t *fl = json_object_get(x, "fields");
	const char *fmt = json_string_value(json_object_get(x, "format"));
	const char *scheme = json_string_value(json_object_get(x, "scheme"));
	h->file = json_string_value(json_object_get(x, "file"));
	h->key = json_string_value(json_object_get(x, "key"));
	h->mode = json_string_value(json_object_get(x, "mode"));
	if (json_integer_value(json_object_get(x, "v")) != 1 || !scheme || strcmp(scheme, "aes-256-gcm") ||
	    !fmt || !h->file || !h->key || !json_is_array(fl) || json_array_size(fl) == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: a key line of another version, or damaged", name);
	h->fmt = spif_format_parse(fmt);
	if (h->fmt == SPIF_FMT_NONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: key line: unknown format %s", name, fmt);
	h->enc = SPIF_ENC_UTF8;
	if (h->fmt != SPIF_FMT_NDJSON) {
		const char *en = json_string_value(json_object_get(x, "encoding"));
		int v = en ? spif_enc_parse(en) : -1;
		if (v <= 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: key line: no or unknown encoding", name);
		h->enc = (enum spif_enc)v;
	}
	h->nfields = json_array_size(fl);
	h->fields = calloc(h->nfields, sizeof *h->fields);
	if (!h->fields)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	for (size_t i = 0; i < h->nfields; i++) {
		h->fields[i] = (char *)json_string_value(json_array_get(fl, i));
		if (!h->fields[i] || !*h->fields[i])
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: key line: a field name that is not a string",
			                    name);
	}
	return 0;
}

void spif_keyline_free(struct spif_keyline *h)
{
	free(h->fields);
	json_decref(h->root);
	memset(h, 0, sizeof *h);
}

/* ---- records --------------------------------------------------------------- */

/* Field lookup that remembers where a name was in the last record (spif's
 * streams keep one layout) and compares lengths before bytes: a plain
 * search per field per record cost a tenth of the run. */
static ssize_t field_at(const struct spif_record *rec, const char *key, size_t klen, size_t *hint)
{
	const struct spif_field *f = rec->f;
	if (*hint < rec->n && f[*hint].klen == klen && memcmp(f[*hint].key, key, klen) == 0)
		return (ssize_t)*hint;
	for (size_t i = 0; i < rec->n; i++)
		if (f[i].klen == klen && memcmp(f[i].key, key, klen) == 0) {
			*hint = i;
			return (ssize_t)i;
		}
	return -1;
}

/* A non-negative number in decimal; the end of what was written. */
static char *put_num(char *o, long long v)
{
	char t[24];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n)
		*o++ = t[--n];
	*o = '\0';
	return o;
}

/* One thread's share of the work: its own handle on the key (a handle is
 * for one thread), lookup hints and scratch. */
struct columns {
	const struct spif_colspec *s;
	const size_t *flen;  /* the fields' lengths */
	struct spif_fieldkey *key;
	size_t *hint;        /* per field */
	size_t file_hint, row_hint;
	char *buf;           /* CSV/TSV: the value with its quoting mark */
	size_t cap;
	long long done;      /* values sealed or opened */
};

static int columns_init(struct columns *k, const struct spif_colspec *s, const size_t *flen,
                        const unsigned char *raw)
{
	memset(k, 0, sizeof *k);
	k->s = s;
	k->flen = flen;
	k->key = spif_fieldkey_from(raw);
	k->hint = calloc(s->nfields, sizeof *k->hint);
	return k->key && k->hint ? 0 : -1;
}

static void columns_free(struct columns *k)
{
	spif_fieldkey_free(k->key);
	free(k->hint);
	if (k->buf)
		explicit_bzero(k->buf, k->cap);
	free(k->buf);
}

/* The (file, row) a record's fields are bound to (see fieldcrypt.h). */
static void bind_of(struct columns *k, const struct spif_record *rec, long long ordinal,
                    const char **file, const char **row, char rowbuf[24])
{
	*file = k->s->file;
	*row = NULL;
	if (k->s->meta) {
		ssize_t i = field_at(rec, "@file", 5, &k->file_hint);
		*file = i >= 0 ? rec->f[i].val : "";
		i = field_at(rec, "@row", 4, &k->row_hint);
		if (i >= 0)
			*row = rec->f[i].val;
	}
	if (!*row) {
		put_num(rowbuf, ordinal + 2);
		*row = rowbuf;
	}
}

static int grow(struct columns *k, size_t n, struct spif_err *err)
{
	if (n <= k->cap)
		return 0;
	size_t cap = k->cap ? k->cap : 256;
	while (cap < n)
		cap *= 2;
	char *b = malloc(cap);
	if (!b)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (k->buf) {
		explicit_bzero(k->buf, k->cap);
		free(k->buf);
	}
	k->buf = b;
	k->cap = cap;
	return 0;
}

/* spif_recpipe_fn: seal the listed fields of rec. */
static int seal_record(void *ctx, struct spif_record *rec, long long ordinal, struct spif_err *err)
{
	struct columns *k = ctx;
	const struct spif_colspec *s = k->s;
	long long line = s->line_base + ordinal;
	const char *file, *row;
	char rowbuf[24];
	if (!s->meta && s->file[0]) {
		/* CSV/TSV bind the stream's file: one file per stream */
		ssize_t i = field_at(rec, "@file", 5, &k->file_hint);
		if (i >= 0 && strcmp(rec->f[i].val, s->file) != 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: records of more than one file "
			                    "(%s, %s): write them as NDJSON", s->name, rec->row, s->file,
			                    rec->f[i].val);
	}
	bind_of(k, rec, ordinal, &file, &row, rowbuf);
	for (size_t j = 0; j < s->nfields; j++) {
		ssize_t i = field_at(rec, s->fields[j], k->flen[j], &k->hint[j]);
		if (i < 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: no field \"%s\"", s->name,
			                    rec->row ? rec->row : line, s->fields[j]);
		const char *v = rec->f[i].val;
		size_t n = rec->f[i].vlen;
		if (!s->meta) {
			/* CSV/TSV: ENC[...] is quoted wherever it goes (it holds
			 * commas), so whether the source had the value in quotes is
			 * sealed with it, as its first character */
			if (grow(k, n + 1, err) < 0)
				return -1;
			k->buf[0] = rec->f[i].flags & SPIF_FIELD_QUOTED ? '"' : '=';
			memcpy(k->buf + 1, v, n);
			v = k->buf;
			n++;
		}
		char *enc;
		size_t encn;
		if (spif_field_seal(k->key, file, row, s->fields[j], v, n, &enc, &encn, err) < 0)
			return -1;
		int r = spif_record_set(rec, (size_t)i, enc, encn);
		free(enc);
		if (r < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		k->done++;
	}
	if (!s->meta && k->buf)
		explicit_bzero(k->buf, k->cap);
	return 0;
}

/* spif_recpipe_fn: open the listed fields of rec. */
static int open_record(void *ctx, struct spif_record *rec, long long ordinal, struct spif_err *err)
{
	struct columns *k = ctx;
	const struct spif_colspec *s = k->s;
	long long line = s->line_base + ordinal; /* for NDJSON, the line in the file */
	const char *file, *row;
	char rowbuf[24];
	if (!s->meta)
		line = rec->row + 1; /* the key line is row 1, the header row 2 */
	bind_of(k, rec, ordinal, &file, &row, rowbuf);
	for (size_t j = 0; j < s->nfields; j++) {
		ssize_t i = field_at(rec, s->fields[j], k->flen[j], &k->hint[j]);
		if (i < 0)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: no field \"%s\"", s->name, line,
			                    s->fields[j]);
		char *pt;
		size_t n;
		if (spif_field_open(k->key, file, row, s->fields[j], rec->f[i].val, rec->f[i].vlen, &pt, &n,
		                    err) < 0) {
			spif_err_prefix(err, "%s:%lld: field \"%s\"", s->name, line, s->fields[j]);
			return -1;
		}
		const char *v = pt;
		size_t vn = n;
		if (!s->meta) {
			if (n == 0 || (pt[0] != '"' && pt[0] != '=')) {
				explicit_bzero(pt, n);
				free(pt);
				return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: field \"%s\": not sealed "
				                    "for CSV/TSV", s->name, line, s->fields[j]);
			}
			if (pt[0] == '"')
				rec->f[i].flags |= SPIF_FIELD_QUOTED;
			else
				rec->f[i].flags &= ~SPIF_FIELD_QUOTED;
			v++;
			vn--;
		}
		int r = spif_record_set(rec, (size_t)i, v, vn);
		explicit_bzero(pt, n);
		free(pt);
		if (r < 0)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		k->done++;
	}
	return 0;
}

long long spif_columns_run(const struct spif_colspec *s, const unsigned char raw[32], int open,
                           struct spif_reader *rd, const struct spif_record *first,
                           struct spif_writer *wr, long long *values, struct spif_err *err)
{
	struct columns km = {0}, kw = {0};
	long long n = -1;
	size_t *flen = calloc(s->nfields ? s->nfields : 1, sizeof *flen);
	for (size_t j = 0; flen && j < s->nfields; j++)
		flen[j] = strlen(s->fields[j]);
	if (!flen || columns_init(&km, s, flen, raw) < 0 || columns_init(&kw, s, flen, raw) < 0)
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	else
		n = spif_recpipe_run(rd, first, wr, open ? open_record : seal_record, &km, &kw, err);
	*values = km.done + kw.done;
	columns_free(&km);
	columns_free(&kw);
	free(flen);
	return n;
}

const char *spif_columns_missing(char *const *fields, size_t n, const struct spif_record *rec,
                                 struct spif_reader *rd)
{
	for (size_t j = 0; j < n; j++) {
		int found = 0;
		if (rec)
			found = spif_record_get(rec, fields[j]) != NULL;
		else
			for (size_t i = 0; i < spif_reader_ncols(rd) && !found; i++)
				found = strcmp(spif_reader_colname(rd, i), fields[j]) == 0;
		if (!found)
			return fields[j];
	}
	return NULL;
}

int spif_columns_header(struct spif_reader *rd, struct spif_writer *wr, struct spif_err *err)
{
	size_t nc = spif_reader_ncols(rd);
	const char **names = calloc(nc + 1, sizeof *names);
	if (!names)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	for (size_t i = 0; i < nc; i++)
		names[i] = spif_reader_colname(rd, i);
	int rc = spif_writer_put_header(wr, names, nc, err);
	free(names);
	return rc;
}
