/* export_run.c - spif export: one archive in one streaming pass; see
 * export.h for what it holds and the ledger it feeds.
 *
 *   records -> selection / redaction -> SHA-256 + SHA-512 -> tar
 *   (libarchive, a producer thread) -> a pipe -> gpg -> the output
 *
 * gpg reads the pipe itself and writes the unnamed output file; this
 * process reads that file back behind it for the archive's SHA-256 (pgp.h,
 * spif_pgp_encrypt_to_fd).  Nothing else is written: no plaintext file,
 * no temporary one, at any point.
 *
 * Sizes before bytes.  A tar header holds its entry's size, and a
 * payload file's size is known only once its records have been read,
 * selected, redacted and encoded.  Two ways were open without spooling
 * plaintext: encrypt a spool under a key held in memory (lib/spool.h, as
 * ingest does), or read the source twice, the first time only counting.
 * This reads twice.  A spool is the whole payload on disk before gpg sees
 * its first byte: gigabytes written to and read back from TMPDIR (often a
 * slower disk, or memory) and a TMPDIR that must hold them, where the
 * first reading costs only CPU (the vault's AES-GCM runs at gigabytes a
 * second) and leaves nothing anywhere, not even ciphertext; and the
 * counting reading runs while gpg waits, the second in parallel with
 * gpg.  The two readings must give the same bytes: the first's SHA-256 is
 * compared with the second's, so a source that changed between them
 * (a copy rewritten, a vault file replaced) fails the run; a copy read
 * instead of the vault is hashed both times against the catalog's hash.
 * The pseudonyms and masks of the redaction engine are deterministic, so
 * the second reading can only differ when the source did.  A plain
 * directory bag needs no sizes and is read once.
 *
 * A source whose bytes are already the payload asked for (a vault copy's
 * NDJSON records, exported as NDJSON with nothing selected or redacted; a
 * source copy exported in its own format and encoding) goes to the tar as
 * it is, without being parsed: byte for byte what the catalog holds.
 *
 * Where the time goes (perf, 100,000 rows = 394 MB of NDJSON from the
 * vault to one key, 2 cores; CPU seconds): the producer thread 1.07
 * (SHA-512 0.50, SHA-256 0.23, the vault's AES-GCM 0.16 for its two
 * passes, reading the vault file and writing the pipe 0.2), gpg 1.08
 * (AES-256 CFB 0.40, SHA-1 MDC 0.21, its 8 KiB reads and writes 0.48),
 * this thread 0.42 (the archive's SHA-256 read back).  The hashes stay in the producer: a thread of their own
 * would shorten the producer, but gpg's thread is as long and the sum
 * (2.6) over 2 cores (1.3) is already more than either, so the wall time
 * would not move.  The vault is now read in one pass (spif_vault_read_once:
 * the output has no name until the commit, so a chunk that fails
 * authentication late costs nothing that was shown); its first pass, which
 * only authenticated, ran before gpg had a byte: 2 s of 18 on 10^6 rows.
 * What is left is gpg's own time: on the same plaintext, gpg -z0 -e from
 * file to file takes 15 to 19 s of the export's 16 to 18 (make bench
 * prints it as the floor).  gpg compresses nothing (pgp_encrypt.c): zlib, the
 * fastest compression OpenPGP has, took 2.4 s for these 394 MB, more
 * than the whole export, and a compressed length says something of the
 * plaintext.
 *
 * --zip-aes256 writes the same bag as a password ZIP (bagit.h) straight
 * to the output, hashed as it goes like a plain tar: no gpg, no
 * recipients, no signature; the command warns of what that means.
 *
 * Numbers leave only encrypted: for a plain directory or tar every field
 * name and value is scanned on the way (detect.h), and one number stops
 * the run; since the output has no name until the commit, nothing is left.
 *
 * The catalog is written once, after the archive is whole: the ledger row,
 * an "export" copy of each file, the event, in one transaction with the
 * output's link into place.  Runs are serialised by export.lock, held from
 * the choice of the export's number to its commit. */
#include "catalog_priv.h"
#include "export_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "atomic.h"
#include "catalog_query.h"
#include "detect.h"
#include "digest.h"
#include "media.h"
#include "mynumber.h"
#include "pgp.h"
#include "vault.h"
#include "vault_feed.h"

const char *spif_export_form_name(enum spif_export_form f)
{
	return f == SPIF_EXPORT_DIR ? "dir" : f == SPIF_EXPORT_TAR ? "tar" : f == SPIF_EXPORT_ZIP ? "zip-aes256" : "bag";
}

/* One file to export and where its records come from. */
struct src {
	long long id;
	char fid[24];
	struct spif_file f;
	int vault;             /* from its vault copy (else a present copy) */
	char *path;            /* the copy read */
	enum spif_format fmt;  /* of that copy */
	enum spif_enc enc;
	int raw;               /* its bytes are the payload as asked */
	char name[64];         /* data/NAME */
	long long size;        /* of the payload: the first reading's count */
	char sha256[65], sha512[129];
	long long copy_id;     /* the export copy registered for it */
	const struct spif_export_part *part; /* the caller's payload (a disclosure request) */
};

struct run {
	struct spif_catalog *c;
	const struct spif_export_opts *o;
	struct src *v;
	size_t n;
	char id[32];
	json_t *row;           /* the ledger row, as spif/checkout.json */
	struct spif_redactor *red;
	struct spif_bag *bag;
	int pipe_w;            /* bag: the tar goes to gpg through it */
	struct spif_atomic out;
	int have_out;
	struct spif_sha256 *arch; /* tar: the archive's SHA-256 as written */
	long long arch_size;
	char tagsha[65];
	char checkout_sha[65];
	atomic_int stop;       /* gpg gave up: stop reading */
	int rc;                /* the producer's result */
	struct spif_err e;
	char notes[4][1024];
	int nnotes;
};

/* What the user should know, said only when the run succeeds: a failure
 * is one line, its error. */
static void note(struct run *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct run *R, const char *fmt, ...)
{
	if (R->nnotes == sizeof R->notes / sizeof *R->notes)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(R->notes[R->nnotes++], sizeof *R->notes, fmt, ap);
	va_end(ap);
}

/* ---- sinks -------------------------------------------------------------- */

/* The first reading: bytes counted and hashed, nothing kept. */
struct counter {
	struct run *R;
	long long n;
	struct spif_sha256 *h;
};

static int count_sink(void *ctx, const void *buf, size_t n)
{
	struct counter *k = ctx;
	if (atomic_load(&k->R->stop)) {
		errno = ECANCELED;
		return -1;
	}
	spif_sha256_update(k->h, buf, n);
	k->n += (long long)n;
	return 0;
}

/* The second: into the bag (which hashes). */
static int bag_sink(void *ctx, const void *buf, size_t n)
{
	struct run *R = ctx;
	if (atomic_load(&R->stop)) {
		errno = ECANCELED;
		return -1;
	}
	return spif_bag_write(R->bag, buf, n);
}

/* The tar's bytes: to gpg's pipe, or to the output file (hashed). */
static int tar_sink(void *ctx, const void *buf, size_t n)
{
	struct run *R = ctx;
	if (R->o->form == SPIF_EXPORT_BAG)
		return spif_sink_fd(&R->pipe_w, buf, n);
	spif_sha256_update(R->arch, buf, n);
	R->arch_size += (long long)n;
	return spif_sink_fd(&R->out.fd, buf, n);
}

/* ---- reading a source ---------------------------------------------------- */

/* The error for a copy that is not what the catalog holds. */
static int changed(const struct src *s, struct spif_err *err)
{
	return spif_err_set(err, SPIF_EX_DATAERR,
	                    "%s: changed since it was catalogued (its SHA-256 is not %s's); no vault copy of %s "
	                    "to read instead, and spif exports nothing from a copy that changed",
	                    s->path, s->fid, s->fid);
}

/* Read the rest of fd into h (a copy's hash after its reader stopped). */
static void hash_rest(int fd, struct spif_sha256 *h)
{
	char buf[65536];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			spif_sha256_update(h, buf, (size_t)r);
}

/* A raw copy: its bytes through sink, hashed against the catalog (out:
 * what a failing sink is said to be writing). */
static int emit_copy_raw(const char *out, const struct src *s, spif_sink_fn sink, void *ctx, struct spif_err *err)
{
	int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", s->path);
	struct spif_sha256 *h = spif_sha256_new();
	unsigned char *buf = malloc(SPIF_VAULT_CHUNK);
	int rc = -1;
	if (!h || !buf) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf, SPIF_VAULT_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			spif_err_sys(err, SPIF_EX_IOERR, errno, "%s", s->path);
			goto out;
		}
		if (r == 0)
			break;
		spif_sha256_update(h, buf, (size_t)r);
		if (sink(ctx, buf, (size_t)r) < 0) {
			spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", out);
			goto out;
		}
	}
	char hex[65];
	spif_sha256_hex(h, hex);
	if (strcmp(hex, s->f.sha256) != 0) {
		changed(s, err);
		goto out;
	}
	rc = 0;
out:
	if (buf) {
		explicit_bzero(buf, SPIF_VAULT_CHUNK);
		free(buf);
	}
	spif_sha256_free(h);
	close(fd);
	return rc;
}

/* What a finding means for a plain payload: the run stops. */
struct scan {
	int found;
};

static int scan_hit(void *ctx, const struct spif_finding *f)
{
	(void)f;
	((struct scan *)ctx)->found = 1;
	return 1;
}

/* Does the record hold what may be an Individual Number (in a name or a
 * value; metadata and pseudonyms aside)?  The field's index, or -1. */
static long scan_record(const struct spif_record *rec, int *in_name)
{
	struct spif_detect_opts d = {.corporate = 0};
	for (size_t i = 0; i < rec->n; i++) {
		const struct spif_field *f = &rec->f[i];
		struct scan s = {0};
		spif_detect(f->key, f->klen, &d, scan_hit, &s);
		if (s.found) {
			*in_name = 1;
			return (long)i;
		}
		if (f->key[0] == '@' || spif_psn_is_token(f->val))
			continue;
		spif_detect(f->val, f->vlen, &d, scan_hit, &s);
		if (s.found) {
			*in_name = 0;
			return (long)i;
		}
	}
	return -1;
}

/* Is the field named in the selection? */
static int selected(const struct spif_export_opts *o, const struct spif_field *f)
{
	for (size_t i = 0; i < o->nfields; i++)
		if (strlen(o->fields[i]) == f->klen && memcmp(o->fields[i], f->key, f->klen) == 0)
			return 1;
	return 0;
}

/* Every name of the selection among rec's keys (the first record). */
static int check_selection(const struct spif_export_opts *o, const struct src *s, const struct spif_record *rec,
                           struct spif_err *err)
{
	for (size_t i = 0; i < o->nfields; i++) {
		if (spif_record_get(rec, o->fields[i]))
			continue;
		char shown[80];
		spif_shown(shown, sizeof shown, o->fields[i], strlen(o->fields[i]));
		return spif_err_set(err, SPIF_EX_USAGE, "%s %s: no such field in %s", o->drop ? "--drop" : "--fields",
		                    shown, s->fid);
	}
	return 0;
}

/* The records of s through the selection, redaction and a writer into sink. */
static int emit_records(struct run *R, struct src *s, spif_sink_fn sink, void *ctx, int scan, struct spif_err *err)
{
	const struct spif_export_opts *o = R->o;
	struct spif_vault_feed *feed = NULL;
	int fd = -1, rc = -1;
	struct spif_sha256 *h = NULL;
	struct spif_reader *rd = NULL;
	struct spif_writer *w = NULL;
	struct spif_record rec, out;
	spif_record_init(&rec);
	spif_record_init(&out);
	struct spif_err e = {0};
	if (s->vault) {
		if (spif_vault_feed_start_once(o->home, o->conf, s->id, s->path, &feed, &fd, err) < 0)
			return -1;
	} else {
		fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", s->path);
		if (!(h = spif_sha256_new())) {
			close(fd);
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		}
	}
	rd = spif_reader_open(fd, s->vault ? s->fid : s->path, s->fmt, s->enc, &e);
	if (rd && h)
		spif_reader_set_tap(rd, spif_sha256_tap, h);
	if (rd)
		w = spif_writer_open(sink, ctx, s->name, o->to, o->to == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8 : o->enc, NULL, &e);
	int r = rd && w ? 0 : -1, first = 1, failed = 0;
	long long row = 0;
	char row_s[24];
	while (r == 0 && (r = spif_reader_next(rd, &rec, &e)) > 0) {
		r = 0;
		/* the source's row: a vault copy's records carry it as @row */
		const struct spif_field *rf = spif_record_get(&rec, "@row");
		row = rf ? atoll(rf->val) : rec.row;
		struct spif_record *x = &rec;
		/* a copy's records get the metadata the vault's carry */
		int add_meta = !s->vault && o->to == SPIF_FMT_NDJSON && !spif_record_get(&rec, "@file");
		if (add_meta || o->nfields) {
			spif_record_clear(&out);
			out.row = rec.row;
			if (add_meta) {
				snprintf(row_s, sizeof row_s, "%lld", rec.row);
				if (spif_record_add(&out, "@file", 5, s->fid, strlen(s->fid), 0) < 0 ||
				    spif_record_add(&out, "@row", 4, row_s, strlen(row_s), 0) < 0)
					goto nomem;
			}
			if (first && o->nfields && check_selection(o, s, &rec, &e) < 0) {
				failed = 1;
				break;
			}
			for (size_t i = 0; i < rec.n; i++) {
				const struct spif_field *f = &rec.f[i];
				if (o->nfields && f->key[0] != '@' && selected(o, f) == o->drop)
					continue;
				if (spif_record_add(&out, f->key, f->klen, f->val, f->vlen, f->flags) < 0)
					goto nomem;
			}
			x = &out;
		}
		first = 0;
		if (R->red && spif_redact_record(R->red, x, &e) < 0) {
			failed = 1;
			break;
		}
		int in_name = 0;
		long at = scan ? scan_record(x, &in_name) : -1;
		if (at >= 0) {
			char shown[80];
			spif_shown(shown, sizeof shown, x->f[at].key, x->f[at].klen);
			spif_err_set(&e, SPIF_EX_DATAERR,
			             "%s:%lld: %s %s holds what may be an Individual Number: numbers leave only encrypted "
			             "(--format bag), or without them (--redact)", s->fid, row,
			             in_name ? "the field name" : "field", shown);
			failed = 1;
			break;
		}
		if (spif_writer_put(w, x, &e) < 0) {
			failed = 1;
			break;
		}
		continue;
	nomem:
		spif_err_set(&e, SPIF_EX_SOFTWARE, "out of memory");
		failed = 1;
		break;
	}
	if (r < 0)
		failed = 1;
	if (!failed && spif_writer_finish(w, &e) < 0)
		failed = 1;
	if (h && r < 0)
		hash_rest(fd, h);
	struct spif_err fe = {0};
	int frc = 0;
	if (feed) /* drained after a reader's error: the vault's own error, if any, says why */
		frc = spif_vault_feed_finish(feed, r < 0, &fe);
	else
		close(fd);
	/* which error: a copy that changed says why it could not be read;
	 * a vault copy's own error says why its records ended */
	char hex[65] = "";
	if (h)
		spif_sha256_hex(h, hex);
	if (h && (r < 0 || !failed) && strcmp(hex, s->f.sha256) != 0)
		changed(s, err);
	else if (frc < 0 && !(failed && r == 0))
		*err = fe;
	else if (failed)
		*err = e;
	else
		rc = 0;
	spif_writer_close(w);
	spif_reader_close(rd);
	spif_record_free(&rec);
	spif_record_free(&out);
	spif_sha256_free(h);
	return rc;
}

/* The payload's size before it is read, when the source is taken as it
 * is (so that it needs no counting reading); -1 when only a reading can
 * tell.  The size only announces the tar entry: bytes that do not add up
 * fail the run at the entry's end (bagit.h), the entry is never cut or
 * padded; and the vault reading authenticates every chunk. */
static long long known_size(const struct src *s)
{
	if (s->part)
		return (long long)s->part->len;
	if (!s->raw)
		return -1;
	if (s->vault)
		return spif_vault_plain_size(s->path);
	struct stat st;
	return stat(s->path, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
}

/* s's payload through sink: raw or as records. */
static int emit(struct run *R, struct src *s, spif_sink_fn sink, void *ctx, int scan, struct spif_err *err)
{
	if (s->part)
		return sink(ctx, s->part->data, s->part->len) < 0
		               ? spif_err_sys(err, spif_exit_for_errno(errno), errno, "%s", R->o->out) : 0;
	if (!s->raw)
		return emit_records(R, s, sink, ctx, scan, err);
	if (s->vault)
		return spif_vault_read_once(R->c, s->id, s->path, sink, ctx, err); /* the output is unnamed */
	return emit_copy_raw(R->o->out, s, sink, ctx, err);
}

/* A file's records as held, for a bundle that carries them as they are
 * (forensic.c): the same raw path as an export's, so that one reader
 * decides what is read and that a changed copy is never read. */
long long spif_export_held_size(const struct spif_file *f, const char *path, int vault)
{
	struct src s = {.id = f->id, .vault = vault, .path = (char *)path, .raw = 1};
	return known_size(&s);
}

int spif_export_emit_held(struct spif_catalog *c, const struct spif_file *f, const char *path, int vault,
                          const char *out, spif_sink_fn sink, void *ctx, struct spif_err *err)
{
	struct src s = {.id = f->id, .f = *f, .vault = vault, .path = (char *)path, .raw = 1};
	spif_file_id_format(f->id, s.fid);
	if (vault)
		return spif_vault_read_once(c, f->id, path, sink, ctx, err); /* so is the bundle */
	return emit_copy_raw(out, &s, sink, ctx, err);
}

/* ---- the bag ------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* bag-info.txt: who sends, to whom, why, and what (spif's custody items
 * beside the RFC's own labels). */
static int finish_bag(struct run *R, struct spif_err *err)
{
	const struct spif_export_opts *o = R->o;
	const struct spif_conf *cf = o->conf;
	json_t *row = R->row;
	size_t cap = 24 + R->n + json_array_size(json_object_get(row, "recipients")), n = 0, nl = 0;
	struct spif_bag_meta *m = calloc(cap, sizeof *m);
	char date[11], **lines = calloc(R->n + 1, sizeof *lines);
	if (!m || !lines) {
		free(m);
		free(lines);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	spif_today(date);
#define META(l, v) do { if (n < cap) m[n++] = (struct spif_bag_meta){(l), (v)}; } while (0)
	if (cf->org_name[0])
		META("Source-Organization", cf->org_name);
	if (cf->contact_name[0])
		META("Contact-Name", cf->contact_name);
	if (cf->contact_phone[0])
		META("Contact-Phone", cf->contact_phone);
	if (cf->contact_email[0])
		META("Contact-Email", cf->contact_email);
	META("External-Identifier", R->id);
	META("Bagging-Date", date);
	META("External-Description", "spif export: specific personal information (特定個人情報); handle and return "
	                             "or destroy it as the custody items below say");
	META("Spif-Recipient", jstr(row, "organisation"));
	if (*jstr(row, "person"))
		META("Spif-Recipient-Person", jstr(row, "person"));
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(row, "recipients"), i, e)
		META("Spif-Recipient-Key", jstr(e, "fingerprint"));
	META("Spif-Basis", jstr(row, "basis"));
	META("Spif-Reason", jstr(row, "reason"));
	META("Spif-Operator", jstr(row, "operator"));
	/* the second person who approved an export of records with numbers
	 * (approval.h); empty when none was needed: the line says so by
	 * being there, empty */
	META("Spif-Approver", jstr(row, "approver"));
	if (*jstr(row, "medium"))
		META("Spif-Medium", jstr(row, "medium"));
	if (*jstr(row, "seal"))
		META("Spif-Seal", jstr(row, "seal"));
	if (*jstr(row, "due"))
		META("Spif-Due", jstr(row, "due"));
	META("Spif-Signer", *jstr(row, "signer") ? jstr(row, "signer") : "(not signed)");
	json_array_foreach(json_object_get(row, "files"), i, e) {
		char *l = NULL;
		if (nl < R->n && asprintf(&l, "%s %s records=%lld persons=%lld", jstr(e, "file"), jstr(e, "path"),
		                        (long long)json_integer_value(json_object_get(e, "records")),
		                        (long long)json_integer_value(json_object_get(e, "persons"))) > 0) {
			lines[nl++] = l;
			META("Spif-File", l);
		}
	}
	char tot[64];
	snprintf(tot, sizeof tot, "%lld records, %lld persons",
	         (long long)json_integer_value(json_object_get(row, "records")),
	         (long long)json_integer_value(json_object_get(row, "persons")));
	META("Spif-Totals", tot);
#undef META
	/* the ledger row, canonical like a certificate; its SHA-256 goes into
	 * the catalog and the export's event */
	char *co = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = -1;
	if (!co)
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	else {
		for (size_t k = 0; k < o->ntags; k++)
			if (spif_bag_tag(R->bag, o->tags[k].name, o->tags[k].data, o->tags[k].len, err) < 0)
				goto tagged;
		spif_sha256_buf(co, strlen(co), R->checkout_sha);
		if (spif_bag_tag(R->bag, "spif/checkout.json", co, strlen(co), err) == 0 &&
		    spif_bag_finish(R->bag, m, n, R->tagsha, err) == 0)
			rc = 0;
	}
tagged:
	free(co);
	for (size_t k = 0; k < nl; k++)
		free(lines[k]);
	free(lines);
	free(m);
	return rc;
}

/* Write the whole bag: each payload file (counted first when its size is
 * needed), then the tag files. */
static int produce(struct run *R, struct spif_err *err)
{
	const struct spif_export_opts *o = R->o;
	/* plain: scanned for numbers on the way (a ZIP is encrypted, if weakly) */
	int dir = o->form == SPIF_EXPORT_DIR, plain = dir || o->form == SPIF_EXPORT_TAR;
	json_t *files = json_object_get(R->row, "files");
	for (size_t i = 0; i < R->n; i++) {
		struct src *s = &R->v[i];
		long long known = dir ? -1 : known_size(s);
		s->sha256[0] = '\0';
		if (known >= 0)
			s->size = known;
		else if (!dir) {
			struct counter k = {R, 0, spif_sha256_new()};
			if (!k.h)
				return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			int rc = emit(R, s, count_sink, &k, plain, err);
			spif_sha256_hex(k.h, s->sha256);
			spif_sha256_free(k.h);
			if (rc < 0)
				return -1;
			s->size = k.n;
		}
		char first[65];
		memcpy(first, s->sha256, sizeof first);
		long long before = spif_bag_payload_bytes(R->bag);
		if (spif_bag_file_begin(R->bag, s->name, dir ? -1 : s->size, err) < 0 ||
		    emit(R, s, bag_sink, R, dir, err) < 0)
			return -1;
		if (spif_bag_file_end(R->bag, s->sha256, s->sha512, err) < 0)
			return -1;
		if (first[0] && strcmp(first, s->sha256) != 0)
			return spif_err_set(err, SPIF_EX_DATAERR,
			                    "%s: its second reading differs from the first (%s changed during the export); "
			                    "nothing was written", s->fid, s->path);
		if (dir)
			s->size = spif_bag_payload_bytes(R->bag) - before;
		json_t *f = json_array_get(files, i);
		json_object_set_new(f, "sha256", json_string(s->sha256));
		json_object_set_new(f, "sha512", json_string(s->sha512));
		json_object_set_new(f, "size", json_integer(s->size));
	}
	return finish_bag(R, err);
}

static void *producer_thread(void *arg)
{
	struct run *R = arg;
	spif_thread_block_sigpipe(); /* gpg that stops early closes its end */
	R->rc = produce(R, &R->e);
	/* gpg sees the end of its input either way; a failed run's message
	 * is discarded, its file never named */
	close(R->pipe_w);
	R->pipe_w = -1;
	return NULL;
}

/* ---- preparing ----------------------------------------------------------- */

static int add_src(struct run *R, long long id, size_t *cap, struct spif_err *err)
{
	for (size_t i = 0; i < R->n; i++)
		if (R->v[i].id == id)
			return 0;
	if (R->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct src *nv = realloc(R->v, nc * sizeof *nv);
		if (!nv)
			return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		R->v = nv;
		*cap = nc;
	}
	struct src *s = &R->v[R->n];
	memset(s, 0, sizeof *s);
	s->id = id;
	spif_file_id_format(id, s->fid);
	struct spif_err e = {0};
	if (spif_catalog_get_file(R->c, id, &s->f, &e) < 0) {
		if (e.code == SPIF_EX_DATAERR) /* not in the catalog: no such input */
			return spif_err_set(err, SPIF_EX_NOINPUT, "no file %s in the catalog", s->fid);
		*err = e;
		return -1;
	}
	R->n++;
	if (s->f.state == SPIF_FILE_DISPOSED)
		return spif_err_set(err, SPIF_EX_DATAERR, "%s is disposed: nothing of it is left to export", s->fid);
	return 0;
}

struct purpose_ctx {
	struct run *R;
	const char *purpose;
	long long *ids;
	size_t n, cap;
};

static int purpose_file(void *ctx, const struct spif_file *f)
{
	struct purpose_ctx *p = ctx;
	if (f->state == SPIF_FILE_DISPOSED || !f->purpose || strcmp(f->purpose, p->purpose) != 0)
		return 0;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		long long *v = realloc(p->ids, nc * sizeof *v);
		if (!v)
			return 1;
		p->ids = v;
		p->cap = nc;
	}
	p->ids[p->n++] = f->id;
	return 0;
}

/* The copies a file's records may be read from: its live vault copy, and
 * the first present unencrypted copy recorded with the file's content
 * hash (an export's archive aside).  The disclosure request reads the
 * same ones (spif_export_source). */
static void pick_copies(const struct spif_file *f, const struct spif_copy *cp, size_t n,
                        const struct spif_copy **vault, const struct spif_copy **plain)
{
	for (size_t i = 0; i < n; i++) {
		if (cp[i].state != SPIF_COPY_PRESENT)
			continue;
		if (strcmp(cp[i].kind, "vault") == 0)
			*vault = &cp[i];
		else if (!*plain && !cp[i].encrypted && cp[i].sha256 && f->sha256 &&
		         strcmp(cp[i].sha256, f->sha256) == 0 && strcmp(cp[i].kind, "export") != 0)
			*plain = &cp[i];
	}
}

int spif_export_source(struct spif_catalog *c, const struct spif_file *f, char **path, int *vault,
                       enum spif_format *fmt, enum spif_enc *enc, struct spif_err *err)
{
	struct spif_copy *cp = NULL;
	size_t n = 0;
	*path = NULL;
	if (spif_catalog_get_copies(c, f->id, &cp, &n, err) < 0)
		return -1;
	const struct spif_copy *v = NULL, *p = NULL;
	pick_copies(f, cp, n, &v, &p);
	enum spif_format cf = f->format ? spif_format_parse(f->format) : SPIF_FMT_NONE;
	int ce = f->encoding ? spif_enc_parse(f->encoding) : -1;
	int rc = 0;
	if (v) {
		*vault = 1;
		*fmt = SPIF_FMT_NDJSON;
		*enc = SPIF_ENC_UTF8;
		*path = strdup(v->path);
	} else if (p && cf != SPIF_FMT_NONE && ce >= 0) {
		*vault = 0;
		*fmt = cf;
		*enc = (enum spif_enc)ce;
		*path = strdup(p->path);
	} /* else nothing to read it from: *path stays NULL */
	if ((v || (p && cf != SPIF_FMT_NONE && ce >= 0)) && !*path)
		rc = spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	spif_copies_free(cp, n);
	return rc;
}

/* Where each file's records come from: its vault copy, or a present copy
 * recorded with the file's content hash (checked again as it is read);
 * a source copy in the very format asked is taken as it is. */
static int choose_source(struct run *R, struct src *s, struct spif_err *err)
{
	const struct spif_export_opts *o = R->o;
	struct spif_copy *cp = NULL;
	size_t n = 0;
	if (spif_catalog_get_copies(R->c, s->id, &cp, &n, err) < 0)
		return -1;
	const struct spif_copy *vault = NULL, *plain = NULL;
	pick_copies(&s->f, cp, n, &vault, &plain);
	int transform = o->redact || o->nfields;
	enum spif_format cf = s->f.format ? spif_format_parse(s->f.format) : SPIF_FMT_NONE;
	int ce = s->f.encoding ? spif_enc_parse(s->f.encoding) : -1;
	/* a plain payload is scanned record by record: never taken as it is */
	int raw_ok = !transform && (o->form == SPIF_EXPORT_BAG || o->form == SPIF_EXPORT_ZIP);
	int as_is = plain && raw_ok && cf != SPIF_FMT_NONE && cf == o->to && cf != SPIF_FMT_NDJSON && ce == (int)o->enc;
	if (as_is && vault) {
		/* the source as it is, unless it changed: then the vault */
		char sha[65];
		long long size;
		struct spif_err e = {0};
		if (spif_sha256_file(plain->path, sha, &size, &e) < 0 || strcmp(sha, s->f.sha256) != 0)
			as_is = 0;
	}
	int rc = 0;
	if (vault && !as_is) {
		s->vault = 1;
		s->path = strdup(vault->path);
		s->fmt = SPIF_FMT_NDJSON;
		s->enc = SPIF_ENC_UTF8;
		s->raw = o->to == SPIF_FMT_NDJSON && raw_ok;
	} else if (plain && cf != SPIF_FMT_NONE && ce >= 0) {
		s->path = strdup(plain->path);
		s->fmt = cf;
		s->enc = (enum spif_enc)ce;
		s->raw = as_is;
	} else {
		rc = spif_err_set(err, SPIF_EX_DATAERR,
		                  "%s: nothing to read it from: no vault copy (ingest --store) and no copy with its "
		                  "catalogued content", s->fid);
	}
	if (rc == 0 && !s->path)
		rc = spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	spif_copies_free(cp, n);
	snprintf(s->name, sizeof s->name, "%s.%s", s->fid, spif_format_name(o->to));
	return rc;
}

/* A payload the caller made (a disclosure request): taken as it is. */
static int take_part(struct src *s, const struct spif_export_part *p, struct spif_err *err)
{
	s->part = p;
	s->vault = p->vault;
	s->raw = 1;
	s->fmt = p->fmt;
	s->enc = p->enc;
	if (!(s->path = strdup(p->source ? p->source : "")))
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	snprintf(s->name, sizeof s->name, "%s.%s", s->fid, spif_format_name(p->fmt));
	return 0;
}

/* The medium the output goes on: registered, refused, or not a medium. */
static int check_medium(struct run *R, const char *dir, char medium[80], struct spif_err *err)
{
	const struct spif_export_opts *o = R->o;
	struct spif_fsident id;
	struct spif_media m;
	medium[0] = '\0';
	if (o->medium && *o->medium) {
		if (spif_media_get(R->c, o->medium, &m, err) < 0)
			return -1;
		int retired = m.retired;
		spif_media_free(&m);
		if (retired)
			return spif_err_set(err, SPIF_EX_NOPERM, "medium %s is retired; it carries nothing any more",
			                    o->medium);
		snprintf(medium, 80, "%s", o->medium);
	}
	if (spif_media_identify(dir, o->home, 0, &id, err) < 0)
		return -1;
	if (!id.is_medium)
		return 0;
	int found = spif_media_find(R->c, &id, &m, err);
	if (found < 0)
		return -1;
	const char *what = id.uuid[0] ? id.uuid : id.serial[0] ? id.serial : "no UUID or serial";
	int rc = 0;
	if (found && m.retired)
		rc = spif_err_set(err, SPIF_EX_NOPERM, "%s is on medium %s, which is retired", o->out, m.id);
	else if (found && medium[0] && strcmp(medium, m.id) != 0)
		rc = spif_err_set(err, SPIF_EX_NOPERM, "%s is on medium %s, not on %s (--medium)", o->out, m.id, medium);
	else if (found)
		snprintf(medium, 80, "%s", m.id);
	else if (o->conf->require_registered_media)
		rc = spif_err_set(err, SPIF_EX_NOPERM,
		                  "%s is on an unregistered medium (%s on %s, %s); spif.conf requires registered media "
		                  "(spif media add)", o->out, id.source[0] ? id.source : id.disk, id.mountpoint, what);
	else
		note(R, "note: %s is on a medium that is not registered (%s, %s); spif media add registers it", o->out,
		     id.mountpoint, what);
	if (found)
		spif_media_free(&m);
	return rc;
}

/* Outside strings the catalog and the bag keep: one line, no number. */
static int outside(const char *what, const char *s, struct spif_err *err)
{
	if (!s)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return spif_err_set(err, SPIF_EX_USAGE, "%s: control characters (a line break?) are not allowed", what);
	if (spif_text_has_number(s))
		return spif_err_set(err, SPIF_EX_USAGE, "%s holds what may be an Individual Number; the ledger never "
		                    "records one", what);
	return 0;
}

static json_t *jopt(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* The ledger row as the archive carries it (files get their hashes as
 * they are written). */
static json_t *make_row(struct run *R, const char *now, char (*fprs)[41], const char *signer, const char *medium)
{
	const struct spif_export_opts *o = R->o;
	json_t *files = json_array(), *rec = json_array(), *sel = json_object();
	long long records = 0, persons = 0;
	for (size_t i = 0; i < R->n; i++) {
		struct src *s = &R->v[i];
		char path[80];
		snprintf(path, sizeof path, "data/%s", s->name);
		long long nr = s->part ? s->part->records : s->f.records, np = s->part ? s->part->persons : s->f.persons;
		json_array_append_new(files, json_pack("{s:s,s:o,s:o,s:I,s:I,s:s,s:s}", "file", s->fid, "label",
		                                       jopt(s->f.label), "purpose", jopt(s->f.purpose), "records",
		                                       (json_int_t)nr, "persons", (json_int_t)np,
		                                       "path", path, "source", s->vault ? "vault" : "copy"));
		records += nr;
		persons += s->part ? 0 : np;
	}
	for (size_t i = 0; o->form == SPIF_EXPORT_BAG && i < o->nrecipients; i++)
		json_array_append_new(rec, json_pack("{s:s,s:s}", "key", o->recipients[i], "fingerprint", fprs[i]));
	json_object_set_new(sel, "redact", o->redact ? json_string(spif_redact_op_name(o->op)) : json_null());
	json_t *fl = json_array();
	for (size_t i = 0; i < o->nfields; i++)
		json_array_append_new(fl, json_string(o->fields[i]));
	json_object_set_new(sel, o->drop ? "drop" : "fields", o->nfields ? fl : json_null());
	if (!o->nfields)
		json_decref(fl);
	json_t *r = json_object();
	json_object_set_new(r, "id", json_string(R->id));
	json_object_set_new(r, "state", json_string("out"));
	json_object_set_new(r, "created", json_string(now));
	json_object_set_new(r, "due", jopt(o->due));
	json_object_set_new(r, "files", files);
	json_object_set_new(r, "records", json_integer(records));
	if (o->subject) /* one person, however many files hold them */
		persons = json_integer_value(json_object_get(o->subject, "persons"));
	json_object_set_new(r, "persons", json_integer(persons));
	json_object_set_new(r, "recipients", rec);
	json_object_set_new(r, "organisation", json_string(o->organisation));
	json_object_set_new(r, "person", jopt(o->person));
	json_object_set_new(r, "basis", json_string(o->basis));
	json_object_set_new(r, "reason", json_string(o->reason));
	json_object_set_new(r, "operator", json_string(spif_catalog_actor(R->c)->operator_));
	/* the second person's approval the gate found (approval.h), or null */
	json_object_set_new(r, "approver", jopt(o->approver));
	json_object_set_new(r, "medium", jopt(medium));
	json_object_set_new(r, "seal", jopt(o->seal));
	json_object_set_new(r, "format", json_string(spif_export_form_name(o->form)));
	json_object_set_new(r, "records_format", json_string(spif_format_name(o->to)));
	json_object_set_new(r, "encoding", json_string(spif_enc_name(o->to == SPIF_FMT_NDJSON ? SPIF_ENC_UTF8 : o->enc)));
	json_object_set_new(r, "selection", sel);
	json_object_set_new(r, "signer", jopt(signer));
	json_object_set_new(r, "catalog", json_string(spif_catalog_id(R->c)));
	json_object_set_new(r, "tool", json_string("spif " SPIF_VERSION));
	if (o->subject)
		json_object_set(r, "subject", o->subject);
	/* the SHA-256 and size of the archive are not here (no archive holds
	 * its own hash): the ledger and the export's event have them, and the
	 * event names this document's SHA-256.  An inclusion proof of that
	 * event, once the audit log makes them, goes beside it as
	 * spif/proof.json: a tag file the tag manifest need not list. */
	json_object_set_new(r, "proof", json_string("spif/proof.json (when present): inclusion proof of the export "
	                                             "event, which names this file's SHA-256"));
	return r;
}

/* ---- the run -------------------------------------------------------------- */

static int ciphertext_tap(void *ctx, const void *buf, size_t n)
{
	struct run *R = ctx;
	spif_sha256_update(R->arch, buf, n);
	R->arch_size += (long long)n;
	if (R->o->progress)
		R->o->progress(R->o->note_ctx, R->arch_size);
	return 0;
}

static void free_run(struct run *R)
{
	for (size_t i = 0; i < R->n; i++) {
		spif_file_free(&R->v[i].f);
		free(R->v[i].path);
	}
	free(R->v);
	json_decref(R->row);
	spif_redactor_free(R->red);
	spif_bag_close(R->bag);
	if (R->have_out)
		spif_atomic_abort(&R->out);
	spif_sha256_free(R->arch);
	if (R->pipe_w >= 0)
		close(R->pipe_w);
}

/* Register the output and write the ledger row, in one transaction with
 * the output's link into place. */
static int commit(struct run *R, int year, long long num, const char *abs, const char *now,
                  char (*fprs)[41], const char *signer, struct spif_err *err)
{
	const struct spif_export_opts *o = R->o;
	char sha[65];
	if (o->form == SPIF_EXPORT_DIR)
		memcpy(sha, R->tagsha, sizeof sha);
	else
		spif_sha256_hex(R->arch, sha);
	long long size = o->form == SPIF_EXPORT_DIR ? spif_bag_payload_bytes(R->bag) : R->arch_size;
	long long *ids = calloc(R->n + 1, sizeof *ids), *copies = calloc(R->n + 1, sizeof *copies);
	if (!ids || !copies) {
		free(ids);
		free(copies);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	}
	int rc = -1, linked = 0;
	if (spif_catalog_begin(R->c, err) < 0)
		goto out;
	if (o->form == SPIF_EXPORT_DIR) {
		if (spif_bag_commit(R->bag, err) < 0)
			goto fail;
	} else {
		R->have_out = 0;
		if (spif_atomic_commit(&R->out, err) < 0)
			goto fail;
	}
	linked = 1;
	json_t *fp = json_array();
	for (size_t i = 0; o->form == SPIF_EXPORT_BAG && i < o->nrecipients; i++)
		json_array_append_new(fp, json_string(fprs[i]));
	for (size_t i = 0; i < R->n; i++) {
		struct src *s = &R->v[i];
		char path[PATH_MAX * 2];
		if (o->form == SPIF_EXPORT_DIR)
			snprintf(path, sizeof path, "%s/data/%s", abs, s->name);
		else
			snprintf(path, sizeof path, "%s", abs);
		json_t *d = json_pack("{s:s,s:s,s:O,s:o}", "export", R->id, "format", spif_export_form_name(o->form),
		                      "recipients", fp, "signer", jopt(signer));
		char *ds = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(d);
		struct spif_copy cp = {.file_id = s->id, .kind = "export", .path = path,
		                       .sha256 = o->form == SPIF_EXPORT_DIR ? s->sha256 : sha,
		                       .size = o->form == SPIF_EXPORT_DIR ? s->size : size,
		                       .encrypted = o->form == SPIF_EXPORT_BAG || o->form == SPIF_EXPORT_ZIP,
		                       .created = (char *)now, .details = ds};
		int a = ds ? spif_catalog_add_copy(R->c, &cp, err) : spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		free(ds);
		if (a < 0) {
			json_decref(fp);
			goto fail;
		}
		ids[i] = s->id;
		copies[i] = cp.id;
	}
	json_decref(fp);
	struct spif_export_new x = {.id = R->id, .year = year, .n = num, .row = R->row, .path = abs,
	                            .archive_sha256 = sha, .archive_size = size, .checkout_sha256 = R->checkout_sha,
	                            .tagmanifest_sha256 = R->tagsha, .file_ids = ids, .copy_ids = copies,
	                            .nfiles = R->n};
	if (spif_export_insert(R->c, &x, err) < 0 || spif_catalog_commit(R->c, err) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	spif_catalog_rollback(R->c);
	if (linked) { /* not registered: it must not exist either */
		if (o->form == SPIF_EXPORT_DIR) {
			for (size_t i = 0; i < R->n; i++) {
				char p[PATH_MAX * 2];
				snprintf(p, sizeof p, "%s/data/%s", abs, R->v[i].name);
				unlink(p);
			}
			static const char *const tags[] = {"bagit.txt", "manifest-sha256.txt", "manifest-sha512.txt",
			                                   "bag-info.txt", "spif/checkout.json", "tagmanifest-sha256.txt",
			                                   "data", "spif", ""};
			for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
				char p[PATH_MAX * 2];
				snprintf(p, sizeof p, "%s/%s", abs, tags[i]);
				if (unlink(p) < 0)
					rmdir(p);
			}
		} else
			unlink(abs);
		spif_fsync_dir_of(abs);
	}
out:
	free(ids);
	free(copies);
	return rc;
}

int spif_export_run(struct spif_catalog *c, const struct spif_export_opts *o, struct spif_export_result *res,
                    struct spif_err *err)
{
	memset(res, 0, sizeof *res);
	struct run R = {.c = c, .o = o, .pipe_w = -1};
	char (*fprs)[41] = NULL;
	char signer[41] = "", medium[80] = "", abs[PATH_MAX], now[32];
	int lock = -1, rc = -1, pr[2] = {-1, -1};

	/* what the ledger will hold: one line each, no number */
	if (outside("--to-org", o->organisation, err) < 0 || outside("--to-person", o->person, err) < 0 ||
	    outside("--basis", o->basis, err) < 0 || outside("--reason", o->reason, err) < 0 ||
	    outside("--seal", o->seal, err) < 0 || outside("-o", o->out, err) < 0)
		return -1;
	if (!o->organisation || !*o->organisation || !o->basis || !*o->basis || !o->reason || !*o->reason)
		return spif_err_set(err, SPIF_EX_USAGE, "--to-org, --basis and --reason are required");
	if (o->form == SPIF_EXPORT_BAG && (o->nrecipients == 0 || o->nrecipients > 16))
		return spif_err_set(err, SPIF_EX_USAGE, "an encrypted export needs 1 to 16 recipients (-r)");
	if (o->form == SPIF_EXPORT_ZIP && (!o->zip_password || !*o->zip_password))
		return spif_err_set(err, SPIF_EX_USAGE, "--zip-aes256 needs a password");
	if (o->to != SPIF_FMT_NDJSON && o->to != SPIF_FMT_CSV)
		return spif_err_set(err, SPIF_EX_USAGE, "--to: ndjson or csv");

	/* the files, and where each is read from */
	size_t cap = 0;
	if (o->purpose) {
		struct purpose_ctx p = {&R, o->purpose, NULL, 0, 0};
		if (spif_catalog_list_files(c, -1, purpose_file, &p, err) != 0) {
			free(p.ids);
			if (!err->code)
				spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			goto out;
		}
		if (!p.n) {
			free(p.ids);
			spif_err_set(err, SPIF_EX_NOINPUT, "no file of purpose %s is left to export", o->purpose);
			goto out;
		}
		for (size_t i = 0; i < p.n; i++)
			if (add_src(&R, p.ids[i], &cap, err) < 0) {
				free(p.ids);
				goto out;
			}
		free(p.ids);
	}
	for (size_t i = 0; i < o->nfiles; i++)
		if (add_src(&R, o->files[i], &cap, err) < 0)
			goto out;
	if (!R.n && !o->parts) {
		spif_err_set(err, SPIF_EX_USAGE, "no file to export: --file ID or --purpose P");
		goto out;
	}
	if (o->parts && (o->form != SPIF_EXPORT_BAG || o->purpose || R.n != o->nfiles)) {
		spif_err_set(err, SPIF_EX_USAGE, "a disclosure request is an encrypted bag of the files given once each");
		goto out;
	}
	for (size_t i = 0; i < R.n; i++)
		if (o->parts ? take_part(&R.v[i], &o->parts[i], err) < 0 : choose_source(&R, &R.v[i], err) < 0)
			goto out;

	/* the output's place, and its medium */
	{
		char d[PATH_MAX], b[PATH_MAX], rd[PATH_MAX];
		snprintf(d, sizeof d, "%s", o->out);
		snprintf(b, sizeof b, "%s", o->out);
		const char *dn = dirname(d), *bn = basename(b);
		if (!*bn || strcmp(bn, ".") == 0 || strcmp(bn, "..") == 0 || strcmp(bn, "/") == 0) {
			spif_err_set(err, SPIF_EX_USAGE, "-o %s: not a file name", o->out);
			goto out;
		}
		if (!realpath(dn, rd)) {
			spif_err_sys(err, SPIF_EX_CANTCREAT, errno, "%s", dn);
			goto out;
		}
		if (snprintf(abs, sizeof abs, "%s/%s", strcmp(rd, "/") == 0 ? "" : rd, bn) >= (int)sizeof abs) {
			spif_err_set(err, SPIF_EX_CANTCREAT, "%s: path too long", o->out);
			goto out;
		}
		if (outside("-o", abs, err) < 0)
			goto out;
		struct stat st;
		if (lstat(abs, &st) == 0) {
			spif_err_set(err, SPIF_EX_CANTCREAT, "%s: already exists; spif does not overwrite (remove it with spif "
			             "shred)", o->out);
			goto out;
		}
		if (check_medium(&R, rd, medium, err) < 0)
			goto out;
	}

	/* the keys: refused before anything is read */
	if (o->form == SPIF_EXPORT_BAG) {
		if (o->sign_key && *o->sign_key) {
			char *sig = NULL;
			if (spif_pgp_can_sign(o->sign_key, signer, err) < 0)
				goto out;
			free(sig);
		} else
			note(&R, "warning: not signed: no --sign and no sign_key in spif.conf; the recipient cannot tell "
			     "who made the archive");
		fprs = calloc(o->nrecipients, sizeof *fprs);
		char *probe = NULL;
		size_t pn = 0;
		struct spif_pgp_enc pe = {.recipients = o->recipients, .nrecipients = o->nrecipients, .fprs = fprs};
		if (!fprs) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			goto out;
		}
		if (spif_pgp_encrypt_buf("spif", 4, &pe, &probe, &pn, err) < 0)
			goto out;
		free(probe);
	}
	if (o->redact) {
		struct spif_redact_opts ro = {.op = o->op, .fmt = SPIF_FMT_NDJSON, .input = "export", .psn = o->psn,
		                              .catalog = c, .home = o->home, .conf = o->conf,
		                              .actor = spif_catalog_actor(c)};
		if (spif_redactor_new(&ro, &R.red, err) < 0)
			goto out;
	}

	/* the number, under the lock, until the commit */
	if (spif_export_lock(o->home, o->conf, &lock, err) < 0)
		goto out;
	int year;
	long long num;
	spif_now_utc(now);
	if (spif_export_next_id(c, now, R.id, &year, &num, err) < 0)
		goto out;
	R.row = make_row(&R, now, fprs, signer, medium);
	if (!R.row) {
		spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
		goto out;
	}

	if (o->form == SPIF_EXPORT_DIR) {
		if (spif_bag_open_dir(abs, spif_file_mode(o->conf), spif_dir_mode(o->conf), &R.bag, err) < 0)
			goto out;
		if (produce(&R, err) < 0)
			goto out;
	} else {
		if (spif_atomic_open_rec(&R.out, c, "export", abs, spif_file_mode(o->conf), err) < 0)
			goto out;
		R.have_out = 1;
		if (!(R.arch = spif_sha256_new())) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
			goto out;
		}
	}
	if (o->form == SPIF_EXPORT_TAR || o->form == SPIF_EXPORT_ZIP) {
		if ((o->form == SPIF_EXPORT_ZIP ? spif_bag_open_zip(R.id, o->zip_password, tar_sink, &R, &R.bag, err)
		                                : spif_bag_open_tar(R.id, tar_sink, &R, &R.bag, err)) < 0 ||
		    produce(&R, err) < 0)
			goto out;
	} else if (o->form == SPIF_EXPORT_BAG) {
		/* the producer writes the tar into the pipe that is gpg's
		 * standard input; gpg writes the output, read back here */
		if (pipe2(pr, O_CLOEXEC) < 0) {
			spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "pipe");
			goto out;
		}
		(void)fcntl(pr[1], F_SETPIPE_SZ, 1 << 20);
		R.pipe_w = pr[1];
		pr[1] = -1;
		if (spif_bag_open_tar(R.id, tar_sink, &R, &R.bag, err) < 0)
			goto out;
		pthread_t th;
		if (pthread_create(&th, NULL, producer_thread, &R) != 0) {
			spif_err_set(err, SPIF_EX_SOFTWARE, "cannot start a thread");
			goto out;
		}
		char (*got)[41] = calloc(o->nrecipients, sizeof *got);
		struct spif_pgp_enc pe = {.recipients = o->recipients, .nrecipients = o->nrecipients,
		                          .sign_key = signer[0] ? o->sign_key : NULL, .fprs = got};
		struct spif_err ge = {0};
		int grc = got ? spif_pgp_encrypt_to_fd(pr[0], R.out.fd, ciphertext_tap, &R, &pe, &ge)
		              : spif_err_set(&ge, SPIF_EX_SOFTWARE, "out of memory");
		if (grc < 0)
			atomic_store(&R.stop, 1);
		close(pr[0]); /* a producer still writing gets EPIPE */
		pr[0] = -1;
		pthread_join(th, NULL);
		/* the producer's failure is the cause, unless it only met the end
		 * of a gpg that had given up */
		int same = grc == 0;
		for (size_t i = 0; same && i < o->nrecipients; i++)
			same = strcmp(got[i], fprs[i]) == 0;
		free(got);
		if (R.rc < 0 && !(grc < 0 && (R.e.code == SPIF_EX_IOERR || R.e.code == 0))) {
			*err = R.e;
			goto out;
		}
		if (grc < 0) {
			/* gpg says only that its write failed: a full disk is said
			 * as such (74), by the file system that holds the output */
			struct statvfs sv;
			if (ge.code == SPIF_EX_UNAVAILABLE && R.have_out && fstatvfs(R.out.fd, &sv) == 0 &&
			    (unsigned long long)sv.f_bavail * sv.f_frsize < (1u << 20))
				spif_err_sys(err, SPIF_EX_IOERR, ENOSPC, "%s", o->out);
			else
				*err = ge;
			goto out;
		}
		if (R.rc < 0) {
			*err = R.e;
			goto out;
		}
		if (!same) {
			spif_err_set(err, SPIF_EX_UNAVAILABLE, "the recipients' keys changed during the export; try again");
			goto out;
		}
	}
	if (commit(&R, year, num, abs, now, fprs, signer, err) < 0)
		goto out;

	snprintf(res->id, sizeof res->id, "%s", R.id);
	if (o->form == SPIF_EXPORT_DIR)
		memcpy(res->sha256, R.tagsha, sizeof res->sha256);
	else
		spif_sha256_hex(R.arch, res->sha256);
	res->size = o->form == SPIF_EXPORT_DIR ? spif_bag_payload_bytes(R.bag) : R.arch_size;
	res->records = json_integer_value(json_object_get(R.row, "records"));
	res->persons = json_integer_value(json_object_get(R.row, "persons"));
	res->nfiles = R.n;
	snprintf(res->signer, sizeof res->signer, "%s", signer);
	snprintf(res->medium, sizeof res->medium, "%s", medium);
	snprintf(res->path, sizeof res->path, "%s", abs);
	for (int i = 0; o->note && i < R.nnotes; i++)
		o->note(o->note_ctx, R.notes[i]);
	rc = 0;
out:
	if (pr[0] >= 0)
		close(pr[0]);
	if (pr[1] >= 0)
		close(pr[1]);
	free_run(&R);
	free(fprs);
	if (lock >= 0)
		close(lock);
	return rc;
}
