/* shred.c - spif shred: destroy copies of specific personal information and
 * issue a disposal certificate that says exactly what was achieved.
 *
 * Per copy: find where its bytes live (wipe probe); refuse when an
 * overwrite cannot be shown to reach the medium unless --force; mark the
 * copy "disposing" (committed, so a crash leaves a trace); overwrite,
 * verify, rename, unlink; then, in one transaction, mark it disposed, the
 * file disposed when every copy is, and issue the certificate with its
 * event.  Never a certificate for data that still exists, never "disposed"
 * without a certificate. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "cert.h"
#include "cli.h"
#include "pgp.h"
#include "vault.h"
#include "wipe.h"

static const char usage_text[] =
	"usage: spif shred [--method auto|overwrite|crypto] [--passes N] [--zero] [--force]\n"
	"           [--reason TEXT] [--destination TEXT] [--sign KEYID] [--dry-run]\n"
	"           [--home DIR] (FILE... | --file ID | --resume)\n"
	"\n"
	"Destroy copies of a specific personal information file and issue a disposal\n"
	"certificate (NIST SP 800-88) for each file; prints the certificate ids.\n"
	"\n"
	"  FILE...            paths: a catalogued copy, or a stray copy (certified as\n"
	"                     not catalogued)\n"
	"  --file ID          every copy the catalog knows of file ID\n"
	"  --resume           only finish what an interrupted run left (every run does\n"
	"                     that first anyway)\n"
	"  --method M         auto (default: crypto for vault copies, overwrite otherwise),\n"
	"                     overwrite (Clear), crypto (Purge; vault copies)\n"
	"  --passes N         random overwrite passes (default 1)\n"
	"  --zero             add a final pass of zeros\n"
	"  --force            overwrite where it cannot be shown to reach the medium (the\n"
	"                     certificate says so), or a file with other hard links\n"
	"  --reason TEXT      why (理由), e.g. 保存期間満了\n"
	"  --destination TEXT what happens to the medium (default: remains in service)\n"
	"  --sign KEYID       sign the certificate (default: sign_key in spif.conf)\n"
	"  --dry-run          say what would be done and how it would be classified\n"
	"                     (exit 1 when a real run would refuse something)\n"
	"\n"
	"Exit: 0 all destroyed and certified, 1 refused (medium) or some copy failed,\n"
	"64 usage, 65 not a regular file or unknown id, 66 missing, 69 signing key\n"
	"unavailable, 74 I/O or verification error, 75 interrupted or busy, 77 permission.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct opts {
	const char *method, *reason, *destination, *sign_key, *file_id;
	int passes, zero, force, dry_run, resume;
};

/* One copy to destroy. */
struct target {
	char path[PATH_MAX];
	long long copy_id;  /* 0 until registered (a found copy) */
	long long file_id;  /* 0: not catalogued */
	char kind[16];
	int resumed;        /* left "disposing" by an interrupted run */
	struct spif_medium m;
	struct spif_wipe_result r;
	int attested;       /* the medium's kind is unknown, but spif.conf vouches for its disk */
	char refusal[400];  /* --dry-run: why a real run would refuse it */
	int crypto;         /* by cryptographic erase (a vault copy) */
	json_t *erased;     /* what key material was destroyed, for the certificate */
	int done;           /* destroyed in this run */
	int wiped;          /* its path was destroyed for another catalog row (a sibling) */
	int absent;         /* resumed and already gone from its path */
};

static void parse_args(struct cli *c, struct opts *o, int argc, char **argv)
{
	enum { O_METHOD = 256, O_PASSES, O_ZERO, O_FORCE, O_REASON, O_DEST, O_SIGN, O_DRY, O_FILE, O_HOME,
	       O_RESUME };
	static const struct option longopts[] = {
		{"method", required_argument, NULL, O_METHOD}, {"passes", required_argument, NULL, O_PASSES},
		{"zero", no_argument, NULL, O_ZERO},           {"force", no_argument, NULL, O_FORCE},
		{"reason", required_argument, NULL, O_REASON}, {"destination", required_argument, NULL, O_DEST},
		{"sign", required_argument, NULL, O_SIGN},     {"dry-run", no_argument, NULL, O_DRY},
		{"file", required_argument, NULL, O_FILE},     {"home", required_argument, NULL, O_HOME},
		{"resume", no_argument, NULL, O_RESUME},
		{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->method = "auto";
	o->passes = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_METHOD:
			if (strcmp(optarg, "auto") && strcmp(optarg, "overwrite") && strcmp(optarg, "crypto"))
				cli_usage(c, "--method %s: unknown (auto, overwrite, crypto)", optarg);
			o->method = optarg;
			break;
		case O_PASSES: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 35)
				cli_usage(c, "--passes %s: not a number from 1 to 35", optarg);
			o->passes = (int)v;
			break;
		}
		case O_ZERO: o->zero = 1; break;
		case O_FORCE: o->force = 1; break;
		case O_REASON: o->reason = optarg; break;
		case O_DEST: o->destination = optarg; break;
		case O_SIGN: o->sign_key = optarg; break;
		case O_DRY: o->dry_run = 1; break;
		case O_FILE: o->file_id = optarg; break;
		case O_RESUME: o->resume = 1; break;
		case O_HOME: c->home_opt = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
	if (!o->file_id && !o->resume && optind >= argc)
		cli_usage(c, "nothing to shred: give FILE..., --file ID or --resume");
	if ((o->file_id != NULL) + (optind < argc) + o->resume > 1)
		cli_usage(c, "give one of FILE..., --file ID or --resume");
	if (!o->sign_key && c->conf.sign_key[0])
		o->sign_key = c->conf.sign_key;
}

static struct target *add_target(const struct cli *c, struct target **v, size_t *n)
{
	struct target *t = realloc(*v, (*n + 1) * sizeof **v);
	if (!t)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	*v = t;
	memset(&t[*n], 0, sizeof **v);
	return &t[(*n)++];
}

/* The catalog's copy at this path, if any (not yet disposed). */
static void lookup_copy(struct cli *c, struct spif_catalog *cat, struct target *t)
{
	struct spif_err e = {0};
	sqlite3_stmt *st;
	snprintf(t->kind, sizeof t->kind, "found");
	if (!cat)
		return; /* no catalog yet: every path is a found copy */
	if (spif_catalog_prepare(cat, "SELECT id, COALESCE(file_id, 0), kind, state FROM copies"
	                              " WHERE path = ? AND state != 'disposed' ORDER BY id DESC LIMIT 1",
	                         &st, &e) < 0)
		cli_die(c, &e);
	sqlite3_bind_text(st, 1, t->path, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		t->copy_id = sqlite3_column_int64(st, 0);
		t->file_id = sqlite3_column_int64(st, 1);
		snprintf(t->kind, sizeof t->kind, "%s", (const char *)sqlite3_column_text(st, 2));
		t->resumed = strcmp((const char *)sqlite3_column_text(st, 3), "disposing") == 0;
	}
	sqlite3_finalize(st);
}

/* Copies an earlier run left "disposing" (killed mid-way): this run
 * finishes them first, whatever it was asked to do. */
static void add_leftovers(struct cli *c, const struct opts *o, struct spif_catalog *cat,
                          struct target **v, size_t *n)
{
	struct spif_err e = {0};
	sqlite3_stmt *st;
	if (spif_catalog_prepare(cat, "SELECT id, COALESCE(file_id, 0), kind, path FROM copies"
	                              " WHERE state = 'disposing' ORDER BY id", &st, &e) < 0)
		cli_die(c, &e);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct target *t = add_target(c, v, n);
		t->copy_id = sqlite3_column_int64(st, 0);
		t->file_id = sqlite3_column_int64(st, 1);
		snprintf(t->kind, sizeof t->kind, "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(t->path, sizeof t->path, "%s", (const char *)sqlite3_column_text(st, 3));
		t->resumed = 1;
		cli_note(c, "%s: left marked for destruction by an interrupted run (copy %lld); %s",
		         t->path, t->copy_id, o->dry_run ? "a real run would finish it" : "finishing it");
	}
	sqlite3_finalize(st);
}

/* Other catalog rows at the same paths (the same file ingested twice, say):
 * destroying the path disposes of them too, or the catalog would call a
 * destroyed copy present.  Each is certified with its own file. */
static void add_siblings(struct cli *c, struct spif_catalog *cat, struct target **v, size_t *n)
{
	struct spif_err e = {0};
	size_t first = *n;
	for (size_t i = 0; i < first; i++) {
		sqlite3_stmt *st;
		if (spif_catalog_prepare(cat, "SELECT id, COALESCE(file_id, 0), kind, state FROM copies"
		                              " WHERE path = ? AND state != 'disposed' AND id != ?", &st, &e) < 0)
			cli_die(c, &e);
		sqlite3_bind_text(st, 1, (*v)[i].path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, (*v)[i].copy_id);
		while (sqlite3_step(st) == SQLITE_ROW) {
			long long id = sqlite3_column_int64(st, 0);
			int listed = 0;
			for (size_t k = 0; k < *n; k++)
				listed |= (*v)[k].copy_id == id;
			if (listed)
				continue;
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s", (*v)[i].path);
			struct target *t = add_target(c, v, n);
			snprintf(t->path, sizeof t->path, "%s", path);
			t->copy_id = id;
			t->file_id = sqlite3_column_int64(st, 1);
			snprintf(t->kind, sizeof t->kind, "%s", (const char *)sqlite3_column_text(st, 2));
			t->resumed = strcmp((const char *)sqlite3_column_text(st, 3), "disposing") == 0;
		}
		sqlite3_finalize(st);
	}
}

static int already_listed(const struct target *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].path, path) == 0)
			return 1;
	return 0;
}

static const char *media_type(const struct spif_medium *m)
{
	int rot = m->backing[0] ? m->backing_rotational : m->rotational;
	if (strcmp(m->fstype, "tmpfs") == 0 || strcmp(m->fstype, "ramfs") == 0)
		return "memory (tmpfs/ramfs), possibly swap";
	if (rot == 1)
		return "magnetic disk (rotational)";
	if (rot == 0)
		return "flash memory (SSD or flash device)";
	return "unknown";
}

/* The certificate's description of one copy and its medium. */
static json_t *copy_json(const struct target *t)
{
	if (t->crypto) {
		/* the key is what was destroyed: no medium was examined or needed */
		char fid[24] = "";
		spif_file_id_format(t->file_id, fid);
		return json_pack("{s:I,s:s,s:I,s:s,s:s}", "copy_id", (json_int_t)t->copy_id, "path", t->path,
		                 "size", (json_int_t)t->m.size, "media_type",
		                 "encrypted vault copy (AES-256-GCM chunks); its medium does not matter: "
		                 "the key is destroyed", "media_source", fid);
	}
	const struct spif_medium *m = &t->m;
	char dev[96], src[128], fid[24] = "";
	snprintf(dev, sizeof dev, "%s (%u:%u)", m->device[0] ? m->device : "?", m->dev_major, m->dev_minor);
	if (t->file_id) {
		spif_file_id_format(t->file_id, fid);
		snprintf(src, sizeof src, "catalog copy %lld of %s (%s)", t->copy_id, fid, t->kind);
	} else
		snprintf(src, sizeof src, "found outside the catalog (registered as copy %lld)", t->copy_id);
	json_t *j = json_object();
	json_object_set_new(j, "copy_id", json_integer(t->copy_id));
	json_object_set_new(j, "path", json_string(t->path));
	json_object_set_new(j, "size", json_integer(t->absent ? 0 : m->size));
	json_object_set_new(j, "sha256_before", t->absent ? json_null() : json_string(t->r.sha256_before));
	json_object_set_new(j, "fstype", json_string(m->fstype[0] ? m->fstype : "unknown"));
	json_object_set_new(j, "device", json_string(dev));
	json_object_set_new(j, "model", m->model[0] ? json_string(m->model) : json_null());
	json_object_set_new(j, "serial", m->serial[0] ? json_string(m->serial) : json_null());
	json_object_set_new(j, "rotational", m->rotational < 0 ? json_null() : json_boolean(m->rotational));
	if (m->backing[0])
		json_object_set_new(j, "loop_backing_file",
		                    json_pack("{s:s,s:s,s:o}", "path", m->backing, "fstype", m->backing_fstype,
		                              "rotational", m->backing_rotational < 0 ? json_null()
		                                                                      : json_boolean(m->backing_rotational)));
	json_object_set_new(j, "hard_links", json_integer(m->nlink));
	json_object_set_new(j, "media_type", json_string(media_type(m)));
	json_object_set_new(j, "media_source", json_string(src));
	if (t->attested)
		json_object_set_new(j, "medium_attestation",
		                    json_sprintf("spif could not see the medium (%s); the administrator vouches "
		                                 "in spif.conf (trusted_media) that disk %s writes in place",
		                                 m->reason, m->medium_disk));
	return j;
}

/* Register a found copy, or mark a catalogued one: "disposing", committed
 * before a byte is overwritten. */
static void mark_disposing(struct cli *c, struct spif_catalog *cat, struct target *t)
{
	struct spif_err e = {0};
	char now[32], obj[48];
	spif_now_utc(now);
	if (!t->copy_id) {
		struct spif_copy cp = {.kind = "found", .path = t->path, .size = t->m.size, .created = now,
		                       .state = "disposing"};
		if (spif_catalog_add_copy(cat, &cp, &e) < 0)
			cli_die(c, &e);
		t->copy_id = cp.id;
	} else {
		if (spif_catalog_set_copy_state(cat, t->copy_id, "disposing", &e) < 0)
			cli_die(c, &e);
	}
	snprintf(obj, sizeof obj, "copy:%lld", t->copy_id);
	json_t *d = json_pack("{s:s,s:s,s:b}", "path", t->path, "kind", t->kind, "catalogued", t->file_id != 0);
	if (spif_audit_append(cat, "shred.start", obj, d, NULL, &e) < 0)
		cli_die(c, &e);
	json_decref(d);
}

/* After a failure or an interruption the copy is not disposed: say so. */
static void mark_present(struct cli *c, struct spif_catalog *cat, struct target *t, const char *why)
{
	struct spif_err e = {0};
	char obj[48];
	snprintf(obj, sizeof obj, "copy:%lld", t->copy_id);
	if (spif_catalog_set_copy_state(cat, t->copy_id, "present", &e) < 0)
		cli_die(c, &e);
	json_t *d = json_pack("{s:s,s:s}", "path", t->path, "why", why);
	if (spif_audit_append(cat, "shred.failed", obj, d, NULL, &e) < 0)
		cli_die(c, &e);
	json_decref(d);
}

/* Catalog writes are batched, inside one transaction at a time: every
 * target is marked disposing in one commit before anything is destroyed,
 * and certificates are committed every BATCH_FILES files, after
 * BATCH_SECONDS, and before any large overwrite, so that two thousand small
 * files do not cost two thousand commits.  A crash loses no trace: what
 * was not certified is still "disposing" and the next run finishes it. */
#define BATCH_FILES 256
#define BATCH_SECONDS 1.0
#define BATCH_LARGE (64LL << 20)

struct batch {
	struct spif_catalog *cat;
	int open, pending;
	struct timespec started;
};

static void batch_open(struct cli *c, struct batch *b)
{
	struct spif_err e = {0};
	if (b->open)
		return;
	if (spif_catalog_begin(b->cat, &e) < 0)
		cli_die(c, &e);
	b->open = 1;
	b->pending = 0;
	clock_gettime(CLOCK_MONOTONIC, &b->started);
}

static void batch_commit(struct cli *c, struct batch *b)
{
	struct spif_err e = {0};
	if (!b->open)
		return;
	if (spif_catalog_commit(b->cat, &e) < 0)
		cli_die(c, &e);
	b->open = 0;
	fflush(stdout); /* certificate ids go out once they are committed */
}

/* Commit before an overwrite when the batch is full, old, or the next
 * file is large (other writers should not wait through it). */
static void batch_before_wipe(struct cli *c, struct batch *b, long long next_size)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double age = (double)(now.tv_sec - b->started.tv_sec) + (now.tv_nsec - b->started.tv_nsec) / 1e9;
	if (b->open && (b->pending >= BATCH_FILES || age >= BATCH_SECONDS || next_size >= BATCH_LARGE))
		batch_commit(c, b);
}

static void progress(void *ctx, long long done, long long total)
{
	const char *path = ctx;
	fprintf(stderr, "\rspif-shred: %s %3lld%%", path, total ? done * 100 / total : 100);
	if (done >= total)
		fputc('\n', stderr);
}

/* Cryptographic erase: the data key goes (secure_delete, WAL checkpointed
 * and truncated, fsync'd), then it is checked gone from the files, then the
 * ciphertext is deleted. */
static int crypto_erase(struct cli *c, struct batch *b, struct target *t)
{
	struct spif_err e = {0};
	unsigned char keys[8][40];
	size_t nkeys = spif_vault_wrapped_keys(b->cat, t->file_id, 0, keys, 8);
	batch_open(c, b);
	if (spif_vault_erase_key(b->cat, t->file_id, &t->erased, &e) < 0)
		cli_die(c, &e);
	batch_commit(c, b);
	if (spif_vault_purge(b->cat, &e) < 0) {
		fprintf(stderr, "spif-shred: %s\n", e.msg);
		return e.code ? e.code : SPIF_EX_IOERR;
	}
	int left = !spif_vault_keys_gone(b->cat, keys, nkeys);
	explicit_bzero(keys, sizeof keys);
	if (left) {
		fprintf(stderr, "spif-shred: %s: the wrapped data key is still in the catalog's files "
		        "after the purge; not certified\n", t->path);
		return SPIF_EX_IOERR;
	}
	t->r.verified = 1;
	snprintf(t->r.pattern, sizeof t->r.pattern, "data key destroyed (%zu wrapped key%s)", nkeys,
	         nkeys == 1 ? "" : "s");
	if (!t->absent && (unlink(t->path) < 0 || spif_fsync_dir_of(t->path) < 0)) {
		fprintf(stderr, "spif-shred: %s: the key is destroyed but the ciphertext could not be "
		        "removed: %s\n", t->path, strerror(errno));
		/* unreadable all the same: certified, and the leftover named */
	}
	return 0;
}

/* Destroy t's path (t and its siblings at the same path are already
 * "disposing"); on success the siblings share t's result.  A failure puts
 * them all back to "present" and returns its exit code (0 on success);
 * an interruption returns SPIF_EX_TEMPFAIL with t->r.interrupted. */
static int destroy(struct cli *c, struct batch *b, const struct opts *o, struct target *v, size_t n,
                   struct target *t)
{
	struct spif_err e = {0};
	if (!t->absent) {
		struct spif_wipe_opts wo = {.passes = o->passes, .zero = o->zero, .allow_links = o->force,
		                            .stop = &stop_flag};
		if (isatty(2)) {
			wo.progress = progress;
			wo.progress_ctx = t->path;
		}
		if (spif_wipe_file(t->path, &wo, &t->r, &e) < 0) {
			if (t->r.interrupted || stop_flag)
				return SPIF_EX_TEMPFAIL; /* the caller puts everything left back */
			batch_open(c, b);
			for (size_t k = 0; k < n; k++)
				if (!v[k].done && strcmp(v[k].path, t->path) == 0) {
					mark_present(c, b->cat, &v[k], e.msg);
					v[k].done = 1; /* part of no certificate */
				}
			fprintf(stderr, "spif-shred: %s\n", e.msg);
			return e.code ? e.code : SPIF_EX_IOERR;
		}
		/* the certificate says the path was checked absent: check it */
		struct stat st;
		if (lstat(t->path, &st) == 0 || errno != ENOENT) {
			fprintf(stderr, "spif-shred: %s: still present after unlink\n", t->path);
			return SPIF_EX_IOERR;
		}
	}
	for (size_t k = 0; k < n; k++)
		if (&v[k] != t && !v[k].done && strcmp(v[k].path, t->path) == 0) {
			v[k].m = t->m;
			v[k].r = t->r;
			v[k].absent = t->absent;
			v[k].attested = t->attested;
			v[k].wiped = 1;
		}
	return 0;
}


/* In the batch's transaction: the copies disposed, the file disposed when
 * none is left, the certificate and its event.  Prints the certificate id. */
static void certify(struct cli *c, struct spif_catalog *cat, const struct opts *o,
                    struct target **group, size_t ng, int forced_medium, const char *medium_reason)
{
	struct spif_err e = {0};
	struct spif_file f = {0};
	long long fid = group[0]->file_id;
	if (fid && spif_catalog_get_file(cat, fid, &f, &e) < 0)
		cli_die(c, &e);
	json_t *copies = json_array();
	long long *ids = calloc(ng, sizeof *ids);
	int all_verified = 1, any_links = 0, any_absent = 0;
	for (size_t i = 0; i < ng; i++) {
		if (spif_catalog_set_copy_state(cat, group[i]->copy_id, "disposed", &e) < 0)
			cli_die(c, &e);
		json_array_append_new(copies, copy_json(group[i]));
		ids[i] = group[i]->copy_id;
		all_verified &= group[i]->r.verified;
		any_links |= group[i]->m.nlink > 1;
		any_absent |= group[i]->absent;
	}
	int file_disposed = 0;
	if (fid) {
		sqlite3_stmt *st;
		if (spif_catalog_prepare(cat, "SELECT COUNT(*) FROM copies WHERE file_id = ? AND state != 'disposed'",
		                         &st, &e) < 0)
			cli_die(c, &e);
		sqlite3_bind_int64(st, 1, fid);
		sqlite3_step(st);
		file_disposed = sqlite3_column_int64(st, 0) == 0;
		sqlite3_finalize(st);
		if (file_disposed) {
			if (spif_catalog_prepare(cat, "UPDATE files SET state = 'disposed' WHERE id = ?", &st, &e) < 0)
				cli_die(c, &e);
			sqlite3_bind_int64(st, 1, fid);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	/* What is claimed, and no more: overwrite is Clear, never Purge. */
	char category[384], desc[256];
	int attested = 0, crypto = group[0]->crypto;
	for (size_t i = 0; i < ng; i++)
		attested |= group[i]->attested;
	if (crypto)
		snprintf(category, sizeof category, "Purge (cryptographic erase)");
	else if (forced_medium)
		snprintf(category, sizeof category, "Clear (overwrite) — not verified at the medium: %s",
		         medium_reason);
	else if (attested)
		snprintf(category, sizeof category, "Clear (medium attested by the administrator)");
	else
		snprintf(category, sizeof category, "Clear");
	const struct spif_wipe_result *r = &group[0]->r;
	if (crypto)
		snprintf(desc, sizeof desc, "暗号化消去 / cryptographic erase: %s", r->pattern);
	else
		snprintf(desc, sizeof desc, "上書き消去 / overwrite: %s", r->pattern[0] ? r->pattern : "see copies");
	json_t *san = json_object();
	json_object_set_new(san, "category", json_string(category));
	json_object_set_new(san, "description", json_string(desc));
	if (crypto) {
		json_object_set_new(san, "method", json_string(
			"the file's data key (AES-256, wrapped by AES key wrap) deleted from the catalog with "
			"secure_delete, the WAL checkpointed and truncated, database, WAL and directory "
			"fsync'd; then the ciphertext deleted"));
		json_object_set_new(san, "key_material", json_deep_copy(group[0]->erased));
	} else {
		json_object_set_new(san, "method", json_string("overwrite, fdatasync per pass, read back, "
		                                               "truncate, a random rename, unlink"));
		json_object_set_new(san, "passes", json_integer(o->passes));
		json_object_set_new(san, "zero_pass", json_boolean(o->zero));
	}
	json_object_set_new(san, "pattern", json_string(r->pattern));
	if (any_links)
		json_object_set_new(san, "caveat", json_string("forced over other hard links: the data was "
		                                               "overwritten in place, which every name shares"));
	if (any_absent && !crypto)
		json_object_set_new(san, "caveat",
		                    json_string("finished after an interrupted run: the file was already "
		                                "gone from its path; that run's verification was not recorded"));
	json_t *ver = json_object();
	if (crypto)
		json_object_set_new(ver, "method", json_string("after the purge, catalog.db and its WAL were "
		                                               "read and searched for the wrapped data key"));
	else
		json_object_set_new(ver, "method", json_string("read-back of the final pass after dropping the page "
		                                               "cache, compared with the regenerated pattern; path "
		                                               "checked absent after unlink"));
	if (crypto)
		json_object_set_new(ver, "result", json_string(all_verified ? "passed: the wrapped data key is in "
		                                                              "neither file" : "FAILED"));
	else
	json_object_set_new(ver, "result", json_string(any_absent ? "not recorded (interrupted run); file absent"
	                                                          : all_verified ? "passed" : "FAILED"));
	struct spif_cert_input in = {
		.kind = "disposal", .command = "spif shred", .file = fid ? &f : NULL, .copies = copies, .sanitization = san,
		.verification = ver, .destination = o->destination, .reason = o->reason,
		.sign_key = o->sign_key, .copy_ids = ids, .ncopy_ids = ng,
	};
	char id[32];
	if (spif_cert_issue(cat, &c->conf, &in, id, &e) < 0)
		cli_die(c, &e);
	if (file_disposed) {
		char obj[24];
		spif_file_id_format(fid, obj);
		json_t *d = json_pack("{s:s}", "certificate", id);
		if (spif_audit_append(cat, "file.disposed", obj, d, NULL, &e) < 0)
			cli_die(c, &e);
		json_decref(d);
	}
	printf("%s\n", id); /* flushed when the batch commits */
	json_decref(copies);
	json_decref(san);
	json_decref(ver);
	free(ids);
	spif_file_free(&f);
}

/* An absolute path that names the file itself, not what a symlink points
 * to (lstat refuses symlinks later; realpath of the whole path would hide
 * them). */
static void absolute_path(const struct cli *c, const char *in, char out[PATH_MAX])
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(in, '/');
	const char *base = slash ? slash + 1 : in;
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - in) : 1, slash ? (slash == in ? "/" : in) : ".");
	if (!realpath(dir, real))
		cli_fail(c, errno == ENOENT ? SPIF_EX_NOINPUT : SPIF_EX_NOPERM, "%s: %s", in, strerror(errno));
	if (!*base)
		cli_fail(c, SPIF_EX_DATAERR, "%s: is a directory", in);
	if (snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") ? real : "", base) >= PATH_MAX)
		cli_fail(c, SPIF_EX_USAGE, "%s: path too long", in);
}

static void collect(struct cli *c, struct spif_catalog *cat, const struct opts *o, int argc,
                    char **argv, struct target **v, size_t *n)
{
	struct spif_err e = {0};
	if (cat)
		add_leftovers(c, o, cat, v, n);
	if (o->file_id) {
		long long id = spif_file_id_parse(o->file_id);
		if (id < 0)
			cli_usage(c, "--file %s: not a file id (F000001)", o->file_id);
		if (!cat)
			cli_fail(c, SPIF_EX_DATAERR, "no file %s in the catalog (there is no catalog yet)", o->file_id);
		struct spif_file f;
		struct spif_copy *cp;
		size_t ncp;
		if (spif_catalog_get_file(cat, id, &f, &e) < 0 ||
		    spif_catalog_get_copies(cat, id, &cp, &ncp, &e) < 0)
			cli_die(c, &e);
		size_t before = *n;
		for (size_t i = 0; i < ncp; i++) {
			if (strcmp(cp[i].state, "disposed") == 0 || already_listed(*v, *n, cp[i].path))
				continue;
			struct target *t = add_target(c, v, n);
			snprintf(t->path, sizeof t->path, "%s", cp[i].path);
			t->copy_id = cp[i].id;
			t->file_id = id;
			snprintf(t->kind, sizeof t->kind, "%s", cp[i].kind);
		}
		if (*n == before && strcmp(f.state, "disposed") == 0)
			cli_note(c, "%s is already disposed: every copy has its certificate", o->file_id);
		spif_copies_free(cp, ncp);
		spif_file_free(&f);
		add_siblings(c, cat, v, n);
		return;
	}
	for (int i = optind; i < argc; i++) {
		char path[PATH_MAX];
		absolute_path(c, argv[i], path);
		if (already_listed(*v, *n, path))
			continue;
		struct target *t = add_target(c, v, n);
		snprintf(t->path, sizeof t->path, "%s", path);
		lookup_copy(c, cat, t);
	}
	if (cat)
		add_siblings(c, cat, v, n);
}

/* Is disk named in spif.conf's trusted_media (space-separated)? */
static int trusted(const struct spif_conf *conf, const char *disk)
{
	size_t n = strlen(disk);
	const char *p = conf->trusted_media;
	while (n && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t k = strcspn(p, " ,");
		if (k == n && strncmp(p, disk, n) == 0)
			return 1;
		p += k;
	}
	return 0;
}

/* Everything is checked before anything is destroyed: one refused target
 * refuses the run.  Returns the exit code to refuse with, or 0. */
static int check_targets(struct cli *c, const struct opts *o, struct target *v, size_t n)
{
	int refused = 0;
	struct spif_err e = {0};
	for (size_t i = 0; i < n; i++) {
		struct target *t = &v[i];
		if (strcmp(o->method, "crypto") == 0 && strcmp(t->kind, "vault") != 0)
			cli_usage(c, "%s: crypto-erase applies to vault copies (ingest --store); this is a "
			          "plain file", t->path);
		if (strcmp(t->kind, "vault") == 0 && strcmp(o->method, "overwrite") != 0) {
			/* the key is what is destroyed: where the ciphertext lives does
			 * not matter, so no medium check */
			t->crypto = 1;
			struct stat st;
			t->absent = lstat(t->path, &st) != 0;
			t->m.size = t->absent ? 0 : st.st_size;
			t->m.reaches_medium = 1;
			snprintf(t->m.fstype, sizeof t->m.fstype, "n/a (cryptographic erase)");
			continue;
		}
		if (spif_wipe_probe(t->path, &t->m, &e) < 0) {
			if (t->resumed && e.code == SPIF_EX_NOINPUT) {
				t->absent = 1; /* the interrupted run got as far as unlink */
				continue;
			}
			cli_die(c, &e);
		}
		if (t->m.nlink > 1 && !o->force)
			snprintf(t->refusal, sizeof t->refusal,
			         "it has %ld hard links; other names would keep the data "
			         "(--force overwrites it in place anyway, and the certificate says so)",
			         t->m.nlink);
		if (!t->m.reaches_medium && t->m.attestable && trusted(&c->conf, t->m.medium_disk)) {
			t->attested = 1;
			t->m.reaches_medium = 1;
		}
		else if (!t->m.reaches_medium && !o->force)
			snprintf(t->refusal, sizeof t->refusal,
			         "overwriting cannot be shown to reach the medium "
			         "(%.200s); use crypto-erase for data kept in the vault, or --force to overwrite "
			         "anyway and certify it as not verified at the medium", t->m.reason);
		if (t->refusal[0] && !o->dry_run)
			cli_fail(c, SPIF_FOUND, "%s: refused: %s", t->path, t->refusal);
		refused |= t->refusal[0] != 0;
	}
	return refused;
}

static void dry_run(const struct opts *o, const struct target *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct target *t = &v[i];
		char fid[24] = "not catalogued";
		if (t->file_id)
			spif_file_id_format(t->file_id, fid);
		if (t->absent) {
			printf("would certify %s (%s): already gone after an interrupted run\n", t->path, fid);
			continue;
		}
		if (t->refusal[0]) {
			printf("would refuse %s: %s\n", t->path, t->refusal);
			continue;
		}
		if (t->crypto) {
			printf("would crypto-erase %s (%s, vault): destroy its data key in the catalog, "
			       "purge the WAL, delete the ciphertext; Purge (cryptographic erase)\n", t->path, fid);
			continue;
		}
		printf("would overwrite %s (%s, %s, %lld bytes) with %d random pass%s%s + read-back "
		       "verify, rename and unlink; %s on %s, medium %s: %s%s%s\n",
		       t->path, fid, t->kind, t->m.size, o->passes, o->passes == 1 ? "" : "es",
		       o->zero ? " + zeros" : "", t->m.fstype, t->m.device[0] ? t->m.device : "?",
		       media_type(&t->m), t->m.reaches_medium ? "Clear" : "Clear (overwrite) — not "
		       "verified at the medium: ", t->m.reaches_medium ? "" : t->m.reason,
		       t->m.reaches_medium ? "" : (o->force ? " (forced)" : " (refused without --force)"));
		if (t->attested)
			printf("  (medium %s vouched for in spif.conf trusted_media)\n", t->m.medium_disk);
	}
}

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	struct spif_err e = {0};
	cli_init(&c, "spif-shred", argc, argv);
	/* from the start: a signal never kills a run half-way through */
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	parse_args(&c, &o, argc, argv);
	/* no catalog is created just to refuse a symlink */
	struct spif_catalog *cat = cli_catalog_if_exists(&c);
	if (!cat && o.resume) {
		cli_note(&c, "no catalog: nothing to resume");
		cli_done(&c);
		return 0;
	}

	/* a certificate that cannot be signed must stop us before anything
	 * is destroyed, not after */
	if (o.sign_key && *o.sign_key) {
		char *sig = NULL, fpr[41];
		if (spif_pgp_sign(o.sign_key, "spif", 4, &sig, fpr, &e) < 0)
			cli_die(&c, &e);
		free(sig);
	}
	struct target *v = NULL;
	size_t n = 0;
	collect(&c, cat, &o, argc, argv, &v, &n);
	int refused = check_targets(&c, &o, v, n);
	if (o.dry_run) {
		dry_run(&o, v, n);
		free(v);
		spif_catalog_close(cat);
		cli_done(&c);
		return refused ? SPIF_FOUND : 0;
	}
	if (!cat)
		cat = cli_catalog(&c, SPIF_CAT_CREATE);

	if (stop_flag)
		cli_fail(&c, SPIF_EX_TEMPFAIL, "interrupted before anything was destroyed");
	int failed = 0, last_code = 0;
	struct batch b = {.cat = cat};
	batch_open(&c, &b);
	for (size_t i = 0; i < n; i++)
		mark_disposing(&c, cat, &v[i]);
	batch_commit(&c, &b);
	struct target **group = calloc(n + 1, sizeof *group);
	for (size_t i = 0; i < n; i++) {
		if (v[i].done)
			continue;
		/* a group: this target and, for a catalogued file, its other copies */
		size_t ng = 0;
		int forced = 0;
		const char *medium_reason = NULL;
		for (size_t k = i; k < n; k++) {
			struct target *t = &v[k];
			if (t->done || (k != i && (t->file_id == 0 || t->file_id != v[i].file_id)))
				continue;
			int code = 0;
			if (t->crypto) {
				if (k != i && !v[i].crypto)
					continue; /* certified with the other crypto-erased copies */
				code = crypto_erase(&c, &b, t);
			} else if (!t->wiped) {
				if (v[i].crypto)
					continue; /* overwritten copies get their own certificate */
				batch_before_wipe(&c, &b, t->m.size);
				code = destroy(&c, &b, &o, v, n, t);
			}
			if (code == SPIF_EX_TEMPFAIL && (t->r.interrupted || stop_flag)) {
				/* what was destroyed is certified, the rest goes back to
				 * present: nothing is left claiming more or less than is true */
				batch_open(&c, &b);
				if (ng)
					certify(&c, cat, &o, group, ng, forced, medium_reason);
				for (size_t j = 0; j < n; j++)
					if (!v[j].done && !v[j].absent) /* a gone one stays for the next run */
						mark_present(&c, cat, &v[j], "interrupted");
				batch_commit(&c, &b);
				cli_fail(&c, SPIF_EX_TEMPFAIL, "%s: interrupted: not disposed and no certificate; "
				         "run spif shred again to finish", t->path);
			}
			if (code) {
				failed++;
				last_code = code;
				continue;
			}
			t->done = 1;
			if (!t->m.reaches_medium && !t->absent) {
				forced = 1;
				medium_reason = t->m.reason;
			}
			group[ng++] = t;
			if (v[i].file_id == 0)
				break;
		}
		if (ng) {
			batch_open(&c, &b);
			certify(&c, cat, &o, group, ng, forced, medium_reason);
			b.pending++;
		}
	}
	batch_commit(&c, &b);
	/* a disposal month whose files are all gone loses its KEK: every copy
	 * of those wrapped keys, backups included, becomes useless */
	int any_crypto = 0;
	for (size_t i = 0; i < n; i++)
		any_crypto |= v[i].crypto && v[i].done;
	if (any_crypto) {
		json_t *what = NULL;
		batch_open(&c, &b);
		if (spif_vault_retire_keks(cat, &what, &e) < 0)
			cli_die(&c, &e);
		if (what && json_array_size(json_object_get(what, "keks")) > 0 &&
		    spif_audit_append(cat, "kek.retired", "keys", what, NULL, &e) < 0)
			cli_die(&c, &e);
		batch_commit(&c, &b);
		json_decref(what);
		if (spif_vault_purge(cat, &e) < 0)
			cli_die(&c, &e);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(v[i].erased);
	free(group);
	free(v);
	spif_catalog_close(cat);
	cli_done(&c);
	if (failed)
		return failed == 1 && n == 1 ? last_code : SPIF_FOUND;
	return 0;
}
