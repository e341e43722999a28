/* main.c - spif shred: destroy copies of specific personal information and
 * issue a disposal certificate that says exactly what was achieved.
 *
 * Per copy: open it once (no symbolic link followed anywhere on its path),
 * find where its bytes live and hash them through that descriptor; refuse
 * a catalogued copy whose contents are not the ones catalogued unless
 * --changed-ok, and one an overwrite cannot be shown to reach the medium
 * unless --force (targets.c); mark the copy "disposing" (committed, so a
 * crash leaves a trace); overwrite, verify, rename, unlink, all through
 * the same descriptors; then, in one transaction, mark it disposed, the
 * file disposed when every copy is, and issue the certificate with its
 * event.  Never a certificate for data that still exists, never
 * "disposed" without a certificate, never a certificate about bytes other
 * than those destroyed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "checkpoint.h"
#include "cli.h"
#include "cli_signal.h"
#include "dispose.h"
#include "pgp.h"
#include "precheck.h"
#include "retention.h"
#include "shred.h"
#include "wipe.h"

static const char usage_text[] = N_(
	"usage: spif shred [--method auto|overwrite|crypto] [--passes N] [--zero] [--force]\n"
	"           [--reason TEXT] [--destination TEXT] [--sign KEYID] [--dry-run]\n"
	"           [--bypass-governance] [--changed-ok] [--wait SECONDS] [--home DIR]\n"
	"           (FILE... | --file ID | --resume)\n"
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
	"  --bypass-governance  dispose of a file before its governance schedule's date\n"
	"                     (needs --reason; recorded).  Holds and compliance bind always\n"
	"  --changed-ok       destroy a catalogued copy whose contents are not those it was\n"
	"                     catalogued with (needs --reason; the certificate says so)\n"
	"  --wait SECONDS     wait so long for another purge or shred to finish (default\n"
	"                     300 when stderr is a terminal, else 600; 0: do not wait)\n"
	"  --dry-run          say what would be done and how it would be classified\n"
	"                     (exit 1 when a real run would refuse something)\n"
	"\n"
	"Exit: 0 all destroyed and certified, 1 refused (medium, or a copy changed since\n"
	"it was catalogued) or some copy failed,\n"
	"64 usage, 65 not a regular file or unknown id, 66 missing, 69 signing key\n"
	"unavailable, 74 I/O or verification error, 75 interrupted or busy, 77 permission,\n"
	"or held, or kept by its retention schedule.\n");

volatile sig_atomic_t stop_flag;


static void parse_args(struct cli *c, struct opts *o, int argc, char **argv)
{
	enum { O_METHOD = 256, O_PASSES, O_ZERO, O_FORCE, O_REASON, O_DEST, O_SIGN, O_DRY, O_FILE, O_HOME,
	       O_RESUME, O_BYPASS, O_CHANGED_OK, O_WAIT };
	static const struct option longopts[] = {
		{"method", required_argument, NULL, O_METHOD}, {"passes", required_argument, NULL, O_PASSES},
		{"zero", no_argument, NULL, O_ZERO},           {"force", no_argument, NULL, O_FORCE},
		{"reason", required_argument, NULL, O_REASON}, {"destination", required_argument, NULL, O_DEST},
		{"sign", required_argument, NULL, O_SIGN},     {"dry-run", no_argument, NULL, O_DRY},
		{"file", required_argument, NULL, O_FILE},     {"home", required_argument, NULL, O_HOME},
		{"resume", no_argument, NULL, O_RESUME},       {"bypass-governance", no_argument, NULL, O_BYPASS},
		{"changed-ok", no_argument, NULL, O_CHANGED_OK}, {"wait", required_argument, NULL, O_WAIT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
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
		case O_BYPASS: o->bypass = 1; break;
		case O_CHANGED_OK: o->changed_ok = 1; break;
		case O_WAIT: o->wait = optarg; break;
		case O_HOME: c->home_opt = optarg; break;
		case 'h': cli_help(usage_text); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
	if (!o->file_id && !o->resume && optind >= argc)
		cli_usage(c, "nothing to shred: give FILE..., --file ID or --resume");
	if ((o->file_id != NULL) + (optind < argc) + o->resume > 1)
		cli_usage(c, "give one of FILE..., --file ID or --resume");
	if (o->bypass && (!o->reason || !*o->reason))
		cli_usage(c, "--bypass-governance needs --reason TEXT: why the file goes before its date");
	if (o->changed_ok && (!o->reason || !*o->reason))
		cli_usage(c, "--changed-ok needs --reason TEXT: why a copy that is not the one catalogued is "
		          "destroyed anyway");
	if (!o->sign_key && c->conf.sign_key[0])
		o->sign_key = c->conf.sign_key;
}

/* "disposing", committed before a byte is overwritten (see dispose.h). */
static void mark_disposing(struct cli *c, struct spif_catalog *cat, struct spif_dispose_copy *t)
{
	struct spif_err e = {0};
	if (spif_dispose_mark(cat, t, &e) < 0)
		cli_die(c, &e);
}

/* After a failure or an interruption the copy is not disposed: back to
 * "present" when nothing of it was destroyed, else left "disposing" (a
 * partly overwritten copy is not the copy the catalog knew, and the next
 * run finishes it).  A copy an earlier run left "disposing" may have been
 * partly overwritten by that run, so it stays so too. */
static void settle(struct cli *c, struct spif_catalog *cat, struct spif_dispose_copy *t, const char *why)
{
	struct spif_err e = {0};
	if (spif_dispose_unmark(cat, t, why, t->r.overwrite_begun || t->resumed, &e) < 0)
		cli_die(c, &e);
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

struct progress_ctx {
	const struct cli *c;
	const char *path;
};

static void progress(void *ctx, long long done, long long total)
{
	const struct progress_ctx *pc = ctx;
	cli_progress(pc->c, "%s %3lld%%", pc->path, total ? done * 100 / total : 100);
	if (done >= total)
		cli_note_end(pc->c);
}

/* Cryptographic erase of every vault copy of the run, in batches: one
 * transaction erasing their keys, one purge of the WAL and one search of
 * the catalog's files per batch (see dispose.h), not one each.  A copy that
 * fails stays "disposing" for the next run.  Then a disposal month whose
 * files are all gone loses its KEK, before the certificates are issued, so
 * that they say so; a failure there is kept in *retire for the end. */
#define CRYPTO_BATCH 512
static void crypto_erase_all(struct cli *c, struct batch *b, struct spif_dispose_copy *v, size_t n,
                             struct spif_err *retire)
{
	struct spif_err e = {0};
	struct spif_dispose_copy **set = xcalloc(CRYPTO_BATCH, sizeof *set);
	batch_commit(c, b);
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		for (; i < n && k < CRYPTO_BATCH; i++)
			if (v[i].crypto)
				set[k++] = &v[i];
		if (k && spif_dispose_crypto(b->cat, set, k, &e) < 0 && e.code == SPIF_EX_SOFTWARE)
			cli_die(c, &e);
		for (size_t j = 0; j < k; j++)
			if (set[j]->error[0])
				cli_note(c, "%s", set[j]->error);
		if (k && !retire->code && spif_dispose_retire_keks(b->cat, set, k, &e) < 0)
			*retire = e;
	}
	free(set);
}

/* Destroy t's path (t and its siblings at the same path are already
 * "disposing"); on success the siblings share t's result.  A failure
 * settles them all (see settle) and returns its exit code (0 on success);
 * an interruption returns SPIF_EX_TEMPFAIL with t->r.interrupted, the
 * siblings sharing whether the overwrite had begun. */
static int destroy(struct cli *c, struct batch *b, const struct opts *o, struct spif_dispose_copy *v, size_t n,
                   struct spif_dispose_copy *t)
{
	struct spif_err e = {0};
	if (!t->absent) {
		/* the file opened and hashed when the targets were checked (a copy
		 * finished after an interruption may be under the name that run
		 * gave it) */
		struct spif_target *tg = t->tg;
		struct spif_wipe_opts wo = {.passes = o->passes, .zero = o->zero, .allow_links = o->force,
		                            .stop = &stop_flag, .name_seed = t->have_seed ? t->name_seed : NULL,
		                            .renames = t->have_seed ? t->renames : 0};
		struct progress_ctx pc = {c, t->path};
		if (isatty(2)) {
			wo.progress = progress;
			wo.progress_ctx = &pc;
		}
		int rc = spif_wipe_target(tg, &wo, &t->r, &e);
		for (size_t k = 0; k < n; k++)
			if (&v[k] != t && !v[k].done && strcmp(v[k].path, t->path) == 0)
				v[k].r.overwrite_begun |= t->r.overwrite_begun;
		if (rc < 0) {
			if (t->r.interrupted || stop_flag)
				return SPIF_EX_TEMPFAIL; /* the caller settles everything left */
			batch_open(c, b);
			for (size_t k = 0; k < n; k++)
				if (!v[k].done && strcmp(v[k].path, t->path) == 0) {
					settle(c, b->cat, &v[k], e.en); /* the event keeps English */
					v[k].done = 1; /* part of no certificate */
				}
			cli_note(c, "%s", e.msg);
			return e.code ? e.code : SPIF_EX_IOERR;
		}
		/* the certificate says the path was checked absent: check it, in
		 * the directory the file was destroyed in */
		struct stat st;
		const char *slash = strrchr(t->path, '/');
		if (fstatat(tg->dirfd, tg->base, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT ||
		    fstatat(tg->dirfd, slash ? slash + 1 : t->path, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
			cli_note(c, "%s: still present after unlink", t->path);
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
                    struct spif_dispose_copy **group, size_t ng, int forced_medium, const char *medium_reason)
{
	struct spif_err e = {0};
	struct spif_dispose_opts d = {.command = "spif shred", .passes = o->passes, .zero = o->zero,
	                              .reason = o->reason, .destination = o->destination, .sign_key = o->sign_key};
	char id[32];
	int file_disposed;
	if (spif_dispose_certify(cat, &c->conf, &d, group, ng, forced_medium, medium_reason, id, &file_disposed,
	                         &e) < 0)
		cli_die(c, &e);
	printf("%s\n", id); /* flushed when the batch commits */
	for (size_t i = 0; i < ng; i++)
		if (spif_dispose_class(group[i]) == 2)
			cli_note(c, "%s: was missing when its disposal resumed: certified in %s as not verified (if the "
			         "interrupted run did not remove it, its data may survive elsewhere)", group[i]->path, id);
}

int main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	struct spif_err e = {0};
	cli_init(&c, "spif-shred", argc, argv);
	/* from the start: a signal never kills a run half-way through */
	cli_signals(&stop_flag);
	parse_args(&c, &o, argc, argv);
	long long fid = o.file_id ? spif_file_id_parse(o.file_id) : 0;
	cli_permit(&c, (struct spif_request){.act = SPIF_ACT_SHRED, .file_id = fid > 0 ? fid : 0});
	if (o.bypass)
		cli_permit(&c, (struct spif_request){.act = SPIF_ACT_BYPASS, .file_id = fid > 0 ? fid : 0});
	if (!o.sign_key && c.conf.sign_key[0]) /* an operator's own key (cli_permit) */
		o.sign_key = c.conf.sign_key;
	/* no catalog is created just to refuse a symlink; a dry run only
	 * reads, so it also works where the catalog may only be read */
	struct spif_catalog *cat = NULL;
	if (!o.dry_run)
		cat = cli_catalog_if_exists(&c);
	else {
		char db[PATH_MAX + 16];
		cli_check_home(&c);
		snprintf(db, sizeof db, "%s/catalog.db", c.home);
		if (faccessat(AT_FDCWD, db, F_OK, AT_EACCESS) == 0)
			cat = cli_catalog(&c, SPIF_CAT_READONLY);
	}
	if (!cat && o.resume) {
		cli_note(&c, "no catalog: nothing to resume");
		cli_done(&c);
		return 0;
	}
	/* one disposer at a time: what another left "disposing" is collected
	 * only under the lock, so two never finish the same copy */
	int lock = -1;
	struct spif_lock_wait lw;
	cli_lock_wait(&c, o.wait, &stop_flag, &lw);
	if (cat && !o.dry_run && spif_dispose_lock(c.home, &c.conf, &lw, &lock, &e) < 0)
		cli_die(&c, &e);

	/* a certificate that cannot be signed must stop us before anything
	 * is destroyed, not after */
	if (o.sign_key && *o.sign_key && spif_pgp_can_sign(o.sign_key, NULL, &e) < 0)
		cli_die(&c, &e);
	struct spif_dispose_copy *v = NULL;
	size_t n = 0;
	collect(&c, cat, &o, argc, argv, &v, &n);
	if (cat)
		check_retention(&c, cat, &o, v, n);
	int refused = check_targets(&c, cat, &o, v, n);
	/* what this account may not do, for every copy before the first is
	 * touched; a dry run says it as a refusal (precheck.h) */
	int late;
	long denied = spif_precheck(v, n, cat ? c.home : NULL, &late);
	if (denied >= 0 && !o.dry_run && (n > 1 || late))
		cli_fail(&c, SPIF_EX_NOPERM, "%s: refused: %s; nothing was destroyed", v[denied].path, v[denied].refusal);
	refused |= denied >= 0;
	if (o.dry_run) {
		dry_run(&o, v, n);
		close_targets(v, n);
		free(v);
		spif_catalog_close(cat);
		cli_done(&c);
		return refused ? SPIF_FOUND : 0;
	}
	if (!cat) {
		cat = cli_catalog(&c, SPIF_CAT_CREATE);
		if (spif_dispose_lock(c.home, &c.conf, &lw, &lock, &e) < 0)
			cli_die(&c, &e);
	}

	if (stop_flag)
		cli_fail(&c, SPIF_EX_TEMPFAIL, "interrupted before anything was destroyed");
	int failed = 0, last_code = 0, unverified = 0;
	struct batch b = {.cat = cat};
	batch_open(&c, &b);
	/* a copy an earlier run left "disposing" keeps that run's mark: its
	 * event holds the names it is renamed to */
	for (size_t i = 0; i < n; i++)
		if (!v[i].resumed || (!v[i].crypto && !v[i].absent && !v[i].have_seed))
			mark_disposing(&c, cat, &v[i]);
	batch_commit(&c, &b);
	struct spif_err retire = {0};
	crypto_erase_all(&c, &b, v, n, &retire);
	struct spif_dispose_copy **group = xcalloc(n + 1, sizeof *group);
	char *given_up = xcalloc(n + 1, 1); /* failed: in no certificate, counted once */
	/* After an interruption nothing more is overwritten, but what is
	 * already destroyed (crypto-erased copies, copies at a path destroyed
	 * for another row, copies found gone) is still certified. */
	int stopping = 0;
	char cut[PATH_MAX] = "";
	for (size_t i = 0; i < n; i++) {
		if (v[i].done || given_up[i])
			continue;
		/* a group: this target and, for a catalogued file, its other copies
		 * of the same class (see spif_dispose_certify) */
		int cls = spif_dispose_class(&v[i]);
		size_t ng = 0;
		int forced = 0;
		const char *medium_reason = NULL;
		for (size_t k = i; k < n; k++) {
			struct spif_dispose_copy *t = &v[k];
			if (t->done || given_up[k] || spif_dispose_class(t) != cls ||
			    (k != i && (t->file_id == 0 || t->file_id != v[i].file_id)))
				continue;
			int code = 0;
			if (t->crypto)
				code = t->failed ? t->code : 0;
			else if (!t->wiped && !t->absent) {
				if (stopping)
					continue; /* settled below */
				batch_before_wipe(&c, &b, t->m.size);
				code = destroy(&c, &b, &o, v, n, t);
				if (code == SPIF_EX_TEMPFAIL && (t->r.interrupted || stop_flag)) {
					stopping = 1;
					snprintf(cut, sizeof cut, "%s", t->path);
					continue;
				}
			}
			if (code) {
				failed++;
				last_code = code;
				given_up[k] = 1;
				continue;
			}
			t->done = 1;
			if (!t->m.reaches_medium && !t->absent) {
				forced = 1;
				medium_reason = t->m.reason;
			}
			unverified += cls == 2;
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
	if (stopping) {
		/* the rest is settled: back to present if untouched, else left
		 * "disposing" for the next run (a failed crypto-erase already is) */
		batch_open(&c, &b);
		for (size_t j = 0; j < n; j++)
			if (!v[j].done && !given_up[j] && !v[j].crypto)
				settle(&c, cat, &v[j], "interrupted");
	}
	batch_commit(&c, &b);
	/* the KEKs were retired before the certificates (crypto_erase_all);
	 * a failure there is reported once they are committed */
	if (retire.code)
		cli_die(&c, &retire);
	close_targets(v, n);
	for (size_t i = 0; i < n; i++)
		json_decref(v[i].erased);
	free(group);
	free(given_up);
	free(v);
	if (spif_checkpoint_issue(cat, NULL, &e) < 0) /* the log as it now is, signed and published */
		cli_note(&c, "%s", e.msg);
	spif_catalog_close(cat);
	if (stopping)
		cli_fail(&c, SPIF_EX_TEMPFAIL, "%s: interrupted: not disposed and no certificate (what was already "
		         "destroyed is certified); run spif shred --resume to finish", cut);
	cli_done(&c);
	if (failed)
		return failed == 1 && n == 1 ? last_code : SPIF_FOUND;
	return unverified ? SPIF_FOUND : 0;
}
