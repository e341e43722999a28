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
 * The associated data is "spif-field-v2" NUL stream NUL file NUL row NUL
 * field (version 1: "spif-field-v1" NUL file NUL row NUL field), the
 * stream being its identifier as the key line has it, in base64.  The
 * parts are C strings and cannot hold a NUL, so the split is unambiguous:
 * no other (stream, file, row, field) gives the same bytes.  The trailer's
 * begins "spif-trailer-v2" instead, so no value opens as a trailer or the
 * other way round.
 *
 * Base64 is the standard alphabet with padding (RFC 4648), by table.
 * Decoding is strict (no whitespace, canonical padding bits), so that any
 * change to the text of an ENC[...] value either fails to parse or fails
 * the tag: there is exactly one text for each sealed value. */
#include "base64.h"
#include "fieldcrypt.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "digest.h"
#include "pgp.h"
#include "recpipe.h"

#define PREFIX "ENC[aes-256-gcm,v1,"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define AAD_V1 "spif-field-v1"
#define AAD_V2 "spif-field-v2"
#define AAD_TRAILER "spif-trailer-v2"
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

/* The associated data: the parts (the first is the magic) with a NUL
 * between each two, in buf (stack) or a malloc'd buffer in *heap. */
static const unsigned char *make_aad(const char *const *parts, size_t nparts, unsigned char *buf,
                                     size_t bufsz, unsigned char **heap, size_t *len)
{
	size_t total = 0, lens[8]; /* a value's parts: their lengths, measured once */
	*heap = NULL;
	for (size_t i = 0; i < nparts; i++) {
		size_t l = strlen(parts[i]);
		if (l > SIZE_MAX / 4 || total > SIZE_MAX / 4)
			return NULL;
		if (i < 8)
			lens[i] = l;
		total += l + (i > 0);
	}
	*len = total;
	unsigned char *a = buf;
	if (total > bufsz) {
		a = *heap = malloc(total);
		if (!a)
			return NULL;
	}
	unsigned char *q = a;
	for (size_t i = 0; i < nparts; i++) {
		size_t l = i < 8 ? lens[i] : strlen(parts[i]);
		if (i > 0)
			*q++ = '\0';
		memcpy(q, parts[i], l);
		q += l;
	}
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

/* Seal value[0, n) with the associated data of parts (see make_aad). */
static int seal_parts(struct spif_fieldkey *k, const char *const *parts, size_t nparts,
                      const char *value, size_t n, char **out, size_t *outn, struct spif_err *err)
{
	*out = NULL;
	if (outn)
		*outn = 0;
	if (!k || !k->h)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "no field key");
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
	const unsigned char *aad = make_aad(parts, nparts, stack_aad, sizeof stack_aad, &aad_heap,
					    &aad_len);
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

/* Open an ENC[...] string sealed with the associated data of parts. */
static int open_parts(struct spif_fieldkey *k, const char *const *parts, size_t nparts,
                      const char *enc, size_t n, char **out, size_t *outn, struct spif_err *err)
{
	*out = NULL;
	if (outn)
		*outn = 0;
	if (!k || !k->h)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "no field key");
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
	const unsigned char *aad = make_aad(parts, nparts, stack_aad, sizeof stack_aad, &aad_heap,
					    &aad_len);
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

int spif_field_seal_in(struct spif_fieldkey *k, const char *stream, const char *file,
                       const char *row, const char *field, const char *value, size_t n,
                       char **out, size_t *outn, struct spif_err *err)
{
	if (!file || !row || !field) {
		*out = NULL;
		if (outn)
			*outn = 0;
		return spif_err_set(err, SPIF_EX_SOFTWARE, "sealing needs a file, a row and a field");
	}
	const char *v2[] = {AAD_V2, stream, file, row, field}, *v1[] = {AAD_V1, file, row, field};
	return stream ? seal_parts(k, v2, 5, value, n, out, outn, err)
	              : seal_parts(k, v1, 4, value, n, out, outn, err);
}

int spif_field_open_in(struct spif_fieldkey *k, const char *stream, const char *file,
                       const char *row, const char *field, const char *enc, size_t n,
                       char **out, size_t *outn, struct spif_err *err)
{
	if (!file || !row || !field) {
		*out = NULL;
		if (outn)
			*outn = 0;
		return spif_err_set(err, SPIF_EX_SOFTWARE, "opening needs a file, a row and a field");
	}
	const char *v2[] = {AAD_V2, stream, file, row, field}, *v1[] = {AAD_V1, file, row, field};
	return stream ? open_parts(k, v2, 5, enc, n, out, outn, err)
	              : open_parts(k, v1, 4, enc, n, out, outn, err);
}

int spif_field_seal(struct spif_fieldkey *k, const char *file, const char *row, const char *field,
                    const char *value, size_t n, char **out, size_t *outn, struct spif_err *err)
{
	return spif_field_seal_in(k, NULL, file, row, field, value, n, out, outn, err);
}

int spif_field_open(struct spif_fieldkey *k, const char *file, const char *row, const char *field,
                    const char *enc, size_t n, char **out, size_t *outn, struct spif_err *err)
{
	return spif_field_open_in(k, NULL, file, row, field, enc, n, out, outn, err);
}

int spif_field_is_sealed(const char *v, size_t n)
{
	struct parsed p;
	return parse(v, n, &p) == 0;
}

/* ---- the key line -------------------------------------------------------- */

int spif_stream_new(char id[SPIF_STREAM_B64 + 1], struct spif_err *err)
{
	unsigned char raw[16];
	if (spif_crypto_init(err) < 0)
		return -1;
	gcry_randomize(raw, sizeof raw, GCRY_STRONG_RANDOM);
	*spif_b64_encode(raw, sizeof raw, id) = '\0';
	return 0;
}

char *spif_keyline_make(const struct spif_keyline *h, char (*recipients)[41], size_t nrecipients)
{
	if (!h->stream)
		return NULL;
	json_t *fl = json_array(), *rl = json_array();
	for (size_t i = 0; i < h->nfields; i++)
		json_array_append_new(fl, json_string(h->fields[i]));
	for (size_t i = 0; i < nrecipients; i++)
		json_array_append_new(rl, json_string(recipients[i]));
	json_t *x = json_pack("{s:i,s:s,s:s}", "v", 2, "scheme", "aes-256-gcm", "format",
	                      spif_format_name(h->fmt));
	if (h->fmt != SPIF_FMT_NDJSON)
		json_object_set_new(x, "encoding", json_string(spif_enc_name(h->enc)));
	json_object_set_new(x, "fields", fl);
	json_object_set_new(x, "file", json_string(h->file));
	json_object_set_new(x, "stream", json_string(h->stream));
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
	json_int_t version = json_integer_value(json_object_get(x, "v"));
	if ((version != 1 && version != 2) || !scheme || strcmp(scheme, "aes-256-gcm") ||
	    !fmt || !h->file || !h->key || !json_is_array(fl) || json_array_size(fl) == 0)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: a key line of another version, or damaged", name);
	h->v = (int)version;
	if (version == 2) {
		/* the identifier every value and the trailer are bound to */
		h->stream = json_string_value(json_object_get(x, "stream"));
		if (!h->stream || strlen(h->stream) != SPIF_STREAM_B64 ||
		    spif_b64_check(h->stream, SPIF_STREAM_B64) != 16)
			return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: key line: no stream identifier, or a "
			                    "damaged one", name);
	}
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

/* The row a record's fields are bound to (see fieldcrypt.h): its @row in
 * NDJSON, else its place (the first record is 2). */
static const char *row_of(const struct spif_colspec *s, const struct spif_record *rec,
                          long long ordinal, size_t *hint, char rowbuf[24])
{
	if (s->meta) {
		ssize_t i = field_at(rec, "@row", 4, hint);
		if (i >= 0)
			return rec->f[i].val;
	}
	put_num(rowbuf, ordinal + 2);
	return rowbuf;
}

/* The (file, row) a record's fields are bound to. */
static void bind_of(struct columns *k, const struct spif_record *rec, long long ordinal,
                    const char **file, const char **row, char rowbuf[24])
{
	*file = k->s->file;
	if (k->s->meta) {
		ssize_t i = field_at(rec, "@file", 5, &k->file_hint);
		*file = i >= 0 ? rec->f[i].val : "";
	}
	*row = row_of(k->s, rec, ordinal, &k->row_hint, rowbuf);
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
	if (s->meta && s->stream && rec->n > 0 && rec->f[0].klen == 13 &&
	    memcmp(rec->f[0].key, "@spif-trailer", 13) == 0)
		/* written first (NDJSON keeps the record's order), it would make
		 * the line a trailer's */
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: a record whose first field is "
		                    "\"@spif-trailer\", the key spif keeps for the last line of a "
		                    "column-encrypted stream", s->name, rec->row ? rec->row : line);
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
		if (spif_field_seal_in(k->key, s->stream, file, row, s->fields[j], v, n, &enc, &encn,
		                       err) < 0)
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
		if (spif_field_open_in(k->key, s->stream, file, row, s->fields[j], rec->f[i].val,
		                       rec->f[i].vlen, &pt, &n, err) < 0) {
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

/* ---- the tally: the rows in order ------------------------------------------ */

int spif_tally_init(struct spif_tally *t, struct spif_err *err)
{
	memset(t, 0, sizeof *t);
	if (spif_crypto_init(err) < 0)
		return -1;
	if (!(t->h = spif_sha256_new()))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return 0;
}

int spif_tally_add(struct spif_tally *t, const char *row, size_t n)
{
	/* the netstring "LEN:ROW,", in one piece when short */
	char b[128], *q = put_num(b, (long long)n);
	*q++ = ':';
	if (n < sizeof b - (size_t)(q - b) - 1) {
		memcpy(q, row, n);
		q[n] = ',';
		spif_sha256_update(t->h, b, (size_t)(q - b) + n + 1);
	} else {
		spif_sha256_update(t->h, b, (size_t)(q - b));
		spif_sha256_update(t->h, row, n);
		spif_sha256_update(t->h, ",", 1);
	}
	t->records++;
	return 0;
}

void spif_tally_end(struct spif_tally *t)
{
	if (t->h && !t->rows[0])
		spif_sha256_hex(t->h, t->rows);
}

void spif_tally_free(struct spif_tally *t)
{
	spif_sha256_free(t->h);
	memset(t, 0, sizeof *t);
}

/* What the writing thread keeps for the tally. */
struct tallying {
	const struct spif_colspec *s;
	struct spif_tally *t;
	size_t row_hint;
};

/* spif_recpipe_fn, called in stream order (fn sees the records out of
 * order, on two threads): the record's row into the tally, as it is
 * bound. */
static int tally_record(void *ctx, struct spif_record *rec, long long ordinal, struct spif_err *err)
{
	struct tallying *y = ctx;
	char rowbuf[24];
	const char *row = row_of(y->s, rec, ordinal, &y->row_hint, rowbuf);
	if (spif_tally_add(y->t, row, strlen(row)) < 0)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	return 0;
}

long long spif_columns_run(const struct spif_colspec *s, const unsigned char raw[32], int open,
                           struct spif_reader *rd, const struct spif_record *first,
                           struct spif_writer *wr, long long *values, struct spif_tally *tally,
                           struct spif_err *err)
{
	struct columns km = {0}, kw = {0};
	struct tallying y = {.s = s, .t = tally};
	long long n = -1;
	size_t *flen = calloc(s->nfields ? s->nfields : 1, sizeof *flen);
	for (size_t j = 0; flen && j < s->nfields; j++)
		flen[j] = strlen(s->fields[j]);
	if (!flen || columns_init(&km, s, flen, raw) < 0 || columns_init(&kw, s, flen, raw) < 0)
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	else
		n = spif_recpipe_run_seen(rd, first, wr, open ? open_record : seal_record, &km, &kw,
		                          tally ? tally_record : NULL, &y, err);
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

/* ---- the trailer ------------------------------------------------------------ */

#define TRAILER_KEY "{\"@spif-trailer\":"
#define TRAILER_HEAD TRAILER_KEY "\""
#define TRAILER_TAIL "\"}"

/* The trailer's associated data, as parts for make_aad: the magic, the
 * stream, its file, format and encoding ("" for NDJSON) and the sealed
 * fields, so that the trailer also vouches for what the key line says of
 * the records.  A malloc'd array; NULL when out of memory. */
static const char **trailer_parts(const struct spif_keyline *h, size_t *n)
{
	const char **p = calloc(5 + h->nfields, sizeof *p);
	if (!p)
		return NULL;
	p[0] = AAD_TRAILER;
	p[1] = h->stream;
	p[2] = h->file;
	p[3] = spif_format_name(h->fmt);
	p[4] = h->fmt == SPIF_FMT_NDJSON ? "" : spif_enc_name(h->enc);
	for (size_t i = 0; i < h->nfields; i++)
		p[5 + i] = h->fields[i];
	*n = 5 + h->nfields;
	return p;
}

char *spif_trailer_make(const struct spif_keyline *h, const unsigned char raw[32],
                        struct spif_tally *t, int final_eol, struct spif_err *err)
{
	if (!h->stream || !h->file) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "a trailer needs a stream and a file");
		return NULL;
	}
	spif_tally_end(t);
	char body[160];
	int bn = snprintf(body, sizeof body, "{\"records\":%lld,\"rows\":\"%s\"%s}", t->records, t->rows,
	                  h->fmt == SPIF_FMT_NDJSON ? "" : final_eol ? ",\"final_eol\":true"
	                                                             : ",\"final_eol\":false");
	size_t np = 0, en = 0;
	const char **parts = trailer_parts(h, &np);
	struct spif_fieldkey *k = spif_fieldkey_from(raw);
	char *enc = NULL, *line = NULL;
	if (!parts || !k)
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	else if (seal_parts(k, parts, np, body, (size_t)bn, &enc, &en, err) == 0) {
		size_t hl = sizeof TRAILER_HEAD - 1, tl = sizeof TRAILER_TAIL - 1;
		line = malloc(hl + en + tl + 2);
		if (!line)
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		else {
			memcpy(line, TRAILER_HEAD, hl);
			memcpy(line + hl, enc, en);
			memcpy(line + hl + en, TRAILER_TAIL "\n", tl + 2);
		}
	}
	free(enc);
	free(parts);
	spif_fieldkey_free(k);
	return line;
}

int spif_trailer_check(const struct spif_keyline *h, const unsigned char raw[32], const char *line,
                       size_t n, struct spif_tally *t, const char *name, long long lineno,
                       int *final_eol, struct spif_err *err)
{
	size_t hl = sizeof TRAILER_HEAD - 1, tl = sizeof TRAILER_TAIL - 1, np = 0, ptn = 0;
	*final_eol = 1;
	if (!h->stream)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "a version 1 stream has no trailer");
	const char **parts = trailer_parts(h, &np);
	struct spif_fieldkey *k = spif_fieldkey_from(raw);
	char *pt = NULL;
	json_t *j = NULL;
	int rc = -1, opened = 0;
	struct spif_err oe = {0};
	if (!parts || !k) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if (n >= hl + tl && memcmp(line, TRAILER_HEAD, hl) == 0 && memcmp(line + n - tl, TRAILER_TAIL, tl) == 0)
		opened = open_parts(k, parts, np, line + hl, n - hl - tl, &pt, &ptn, &oe) == 0;
	if (!opened && oe.code == SPIF_EX_SOFTWARE) {
		*err = oe;
		goto out;
	}
	/* what spif_trailer_make wrote, nothing else: it was sealed with
	 * the stream's key, so anything else is a fault, not an attack */
	json_error_t je;
	j = opened ? json_loadb(pt, ptn, JSON_REJECT_DUPLICATES, &je) : NULL;
	json_t *jr = json_object_get(j, "records"), *jh = json_object_get(j, "rows"),
	       *je2 = json_object_get(j, "final_eol");
	int csv = h->fmt != SPIF_FMT_NDJSON;
	if (!json_is_integer(jr) || json_integer_value(jr) < 0 || !json_is_string(jh) ||
	    json_string_length(jh) != 64 || (csv ? !json_is_boolean(je2) : je2 != NULL) ||
	    json_object_size(j) != (csv ? 3u : 2u)) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: the trailer does not open (from another "
		             "stream, or altered)", name, lineno);
		goto out;
	}
	spif_tally_end(t);
	long long want = (long long)json_integer_value(jr);
	if (want != t->records) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: %lld record%s, where the trailer counts %lld "
		             "(records added or removed)", name, lineno, t->records,
		             t->records == 1 ? "" : "s", want);
		goto out;
	}
	if (strcmp(json_string_value(jh), t->rows) != 0) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: the records' rows are not the ones sealed, "
		             "in the order sealed (records reordered, or an @row changed)", name, lineno);
		goto out;
	}
	*final_eol = csv ? json_is_true(je2) : 1;
	rc = 0;
out:
	json_decref(j);
	if (pt) {
		explicit_bzero(pt, ptn);
		free(pt);
	}
	free(parts);
	spif_fieldkey_free(k);
	return rc;
}

/* ---- taking the trailer off --------------------------------------------------
 *
 * Why a line filter.  The key line is read off the descriptor a byte at a
 * time before any reader starts.  The trailer, at the other end, cannot be
 * left to the reader: it reads ahead a megabyte at a time and would take
 * the trailer for a record (a CSV reader, for one with the wrong number of
 * fields, or, with five columns, for a record).  So the records reach the
 * reader through a pipe, filled by a thread that passes every line on up
 * to the first that starts with {"@spif-trailer": and keeps that one and
 * what follows it.  Reading the descriptor and the pipe costs a copy on
 * another thread; reading the records costs far more.
 *
 * No line of records spif wrote can start so.  In NDJSON a record's first
 * key would have to be "@spif-trailer", which sealing refuses.  In CSV and
 * TSV a line either starts a record, whose first field would be unquoted
 * and hold a '"', which spif's writer always quotes; or it continues a
 * field in quotes, where every '"' is doubled, or else ends the field and
 * is followed by a separator or a line end, never by '@'.  And the test on
 * bytes is exact in every encoding spif writes: after a line feed a byte
 * starts a character, the marker is ASCII, and a '"' is never part of a
 * CP932 or EUC-JP multi-byte character. */

struct spif_trailer_cut {
	int in;             /* the stream, after its key line */
	int rd, wr;         /* the pipe: the reader's end, the thread's */
	int stop[2];        /* a byte on it stops the thread */
	pthread_t th;
	int running;
	/* what the thread found, read once it has ended */
	char *line;         /* the trailer line without its line end, or NULL */
	size_t linen;
	long long lines;    /* line feeds passed on before it */
	int after;          /* more after the trailer line */
	int toolong;        /* a trailer line longer than TRAILER_MAX */
	int rerrno;         /* reading the stream failed */
};

enum { CUT_BUF = 256 * 1024, TRAILER_MAX = 4096, MARK_LEN = sizeof TRAILER_KEY - 1 };

/* read(2) from c->in when there is something, unless told to stop: the
 * count, 0 at the end, -1 with errno (0: stopped). */
static ssize_t cut_read(struct spif_trailer_cut *c, char *buf, size_t n)
{
	for (;;) {
		struct pollfd pf[2] = {{c->in, POLLIN, 0}, {c->stop[0], POLLIN, 0}};
		int r = poll(pf, 2, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (pf[1].revents) {
			errno = 0;
			return -1;
		}
		ssize_t got = read(c->in, buf, n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return got;
	}
}

/* Write all n bytes to the pipe; -1 when the reader has gone. */
static int cut_write(struct spif_trailer_cut *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c->wr, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Keep p[0, n) of the trailer line; 1 once its line end was seen, and
 * then whether anything follows in p. */
static int cut_keep(struct spif_trailer_cut *c, const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	size_t k = nl ? (size_t)(nl - p) : n;
	if (c->linen + k > TRAILER_MAX) {
		c->toolong = 1;
		k = TRAILER_MAX - c->linen;
	}
	memcpy(c->line + c->linen, p, k);
	c->linen += k;
	if (nl && (size_t)(nl - p) + 1 < n)
		c->after = 1;
	return nl != NULL;
}

static void *cut_thread(void *arg)
{
	struct spif_trailer_cut *c = arg;
	spif_thread_block_sigpipe(); /* a reader that stops early closes its end */
	char *buf = malloc(CUT_BUF);
	size_t have = 0; /* bytes carried over, at buf[0] */
	int at_start = 1, found = 0, ended = 0;
	if (!buf) {
		c->rerrno = ENOMEM;
		goto out;
	}
	while (!found) {
		ssize_t r = cut_read(c, buf + have, CUT_BUF - have);
		if (r < 0) {
			c->rerrno = errno;
			goto out;
		}
		size_t len = have + (size_t)r, fwd = len, q = 0, p = at_start ? 0 : SIZE_MAX;
		/* every line start: the first byte when it is one, then each
		 * byte after a line feed */
		for (;;) {
			if (p != SIZE_MAX) {
				size_t avail = len - p, k = avail < MARK_LEN ? avail : MARK_LEN;
				if (memcmp(buf + p, TRAILER_KEY, k) == 0 && (avail >= MARK_LEN || r > 0)) {
					/* the marker, or the start of it at the end of
					 * what was read: kept back for the next read */
					fwd = p;
					found = avail >= MARK_LEN;
					break;
				}
			}
			const char *nl = q < len ? memchr(buf + q, '\n', len - q) : NULL;
			if (!nl)
				break;
			c->lines++;
			p = q = (size_t)(nl - buf) + 1;
		}
		if (fwd > 0 && cut_write(c, buf, fwd) < 0)
			goto out; /* the reader stopped: nothing more is wanted */
		if (r == 0 && !found)
			goto out; /* the end, without a trailer */
		at_start = fwd < len || buf[len - 1] == '\n';
		if (found) {
			c->line = malloc(TRAILER_MAX + 1);
			if (!c->line) {
				c->rerrno = ENOMEM;
				goto out;
			}
			close(c->wr); /* the reader's end of the records */
			c->wr = -1;
			ended = cut_keep(c, buf + fwd, len - fwd);
		}
		have = len - fwd;
		memmove(buf, buf + fwd, have);
	}
	/* the rest of the trailer line, then one more byte tells whether
	 * anything follows it */
	while (!c->after) {
		ssize_t r = cut_read(c, buf, CUT_BUF);
		if (r < 0) {
			c->rerrno = errno;
			break;
		}
		if (r == 0)
			break;
		if (ended)
			c->after = 1;
		else
			ended = cut_keep(c, buf, (size_t)r);
	}
	if (c->line && c->linen && c->line[c->linen - 1] == '\r')
		c->linen--;
out:
	free(buf);
	if (c->wr >= 0) {
		close(c->wr);
		c->wr = -1;
	}
	return NULL;
}

struct spif_trailer_cut *spif_trailer_cut_start(int fd, int *rfd, struct spif_err *err)
{
	struct spif_trailer_cut *c = calloc(1, sizeof *c);
	int pp[2] = {-1, -1};
	if (!c) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		return NULL;
	}
	c->in = fd;
	c->stop[0] = c->stop[1] = -1;
	if (pipe2(pp, O_CLOEXEC) < 0 || pipe2(c->stop, O_CLOEXEC) < 0) {
		spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "pipe");
		goto fail;
	}
	/* a reader takes a megabyte at a time; the default 64 KiB is kept
	 * when the system allows no more */
	(void)fcntl(pp[0], F_SETPIPE_SZ, 1 << 20);
	c->rd = pp[0];
	c->wr = pp[1];
	int e = pthread_create(&c->th, NULL, cut_thread, c);
	if (e != 0) {
		spif_err_sys(err, SPIF_EX_SOFTWARE, e, "cannot start a thread");
		goto fail;
	}
	c->running = 1;
	*rfd = c->rd;
	return c;
fail:
	for (int i = 0; i < 2; i++) {
		if (pp[i] >= 0)
			close(pp[i]);
		if (c->stop[i] >= 0)
			close(c->stop[i]);
	}
	free(c);
	return NULL;
}

/* Wait for the thread to end. */
static void cut_join(struct spif_trailer_cut *c)
{
	if (c->running) {
		pthread_join(c->th, NULL);
		c->running = 0;
	}
}

int spif_trailer_cut_check(struct spif_trailer_cut *c, const struct spif_keyline *h,
                           const unsigned char raw[32], struct spif_tally *t, const char *name,
                           int *final_eol, struct spif_err *err)
{
	*final_eol = 1;
	cut_join(c);
	long long lineno = c->lines + 2; /* the key line is 1 */
	if (c->rerrno)
		return spif_err_sys(err, spif_exit_for_errno(c->rerrno), c->rerrno, "%s", name);
	if (!c->line)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: no trailer: the stream is cut short "
		                    "(its last records may be missing)", name, lineno);
	if (c->after)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: more after the trailer", name, lineno + 1);
	if (c->toolong)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:%lld: the trailer does not open (from another "
		                    "stream, or altered)", name, lineno);
	return spif_trailer_check(h, raw, c->line, c->linen, t, name, lineno, final_eol, err);
}

void spif_trailer_cut_free(struct spif_trailer_cut *c)
{
	if (!c)
		return;
	if (c->running) {
		/* wake it from poll(2), or from a write no reader will take */
		(void)!write(c->stop[1], "", 1);
		close(c->rd);
		c->rd = -1;
		cut_join(c);
	}
	if (c->rd >= 0)
		close(c->rd);
	close(c->stop[0]);
	close(c->stop[1]);
	free(c->line);
	free(c);
}

int spif_keyline_unwrap(const struct spif_keyline *h, const char *name, const char *passphrase,
                        unsigned char raw[32], char signer[41], int *sig_status, struct spif_err *err)
{
	void *k = NULL;
	size_t kn = 0;
	if (spif_pgp_decrypt_buf(h->key, strlen(h->key), passphrase, &k, &kn, signer, sig_status, err) < 0)
		return -1;
	int ok = kn == 32;
	if (ok)
		memcpy(raw, k, 32);
	explicit_bzero(k, kn);
	free(k);
	if (!ok)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s:1: the key line holds no 256-bit key", name);
	return 0;
}
