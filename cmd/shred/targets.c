/* targets.c - what a run of spif shred destroys: the paths given, a file's
 * copies, or what an interrupted run left, with the catalog's other rows
 * at those paths; then each checked before anything is destroyed: held
 * and kept files (retention), and each copy opened once, probed and hashed
 * through that descriptor, and refused when it is not the copy the catalog
 * knows or an overwrite cannot be shown to reach its medium.  One refused
 * target refuses the run. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "dispose.h"
#include "retention.h"
#include "shred.h"
#include "wipe.h"

static struct spif_dispose_copy *add_target(const struct cli *c, struct spif_dispose_copy **v, size_t *n)
{
	struct spif_dispose_copy *t = spif_dispose_add(v, n);
	if (!t)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	return t;
}

/* The catalog's copy at this path, if any (not yet disposed). */
static void lookup_copy(struct cli *c, struct spif_catalog *cat, struct spif_dispose_copy *t)
{
	struct spif_err e = {0};
	snprintf(t->kind, sizeof t->kind, "found");
	if (!cat)
		return; /* no catalog yet: every path is a found copy */
	if (spif_dispose_lookup(cat, t, &e) < 0)
		cli_die(c, &e);
}

/* Copies an earlier run left "disposing" (killed mid-way): this run
 * finishes them first, whatever it was asked to do. */
static void add_leftovers(struct cli *c, const struct opts *o, struct spif_catalog *cat,
                          struct spif_dispose_copy **v, size_t *n)
{
	struct spif_err e = {0};
	size_t before = *n;
	if (spif_dispose_leftovers(cat, v, n, &e) < 0)
		cli_die(c, &e);
	for (size_t i = before; i < *n; i++)
		cli_note(c, "%s: left marked for destruction by an interrupted run (copy %lld); %s",
		         (*v)[i].path, (*v)[i].copy_id, o->dry_run ? "a real run would finish it" : "finishing it");
}

/* Other catalog rows at the same paths (the same file ingested twice, say):
 * destroying the path disposes of them too, or the catalog would call a
 * destroyed copy present.  Each is certified with its own file. */
static void add_siblings(struct cli *c, struct spif_catalog *cat, struct spif_dispose_copy **v, size_t *n)
{
	struct spif_err e = {0};
	if (spif_dispose_siblings(cat, v, n, &e) < 0)
		cli_die(c, &e);
}

static int already_listed(const struct spif_dispose_copy *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].path, path) == 0)
			return 1;
	return 0;
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

void collect(struct cli *c, struct spif_catalog *cat, const struct opts *o, int argc,
                    char **argv, struct spif_dispose_copy **v, size_t *n)
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
			if (spif_copy_settled(cp[i].state) || already_listed(*v, *n, cp[i].path))
				continue;
			struct spif_dispose_copy *t = add_target(c, v, n);
			snprintf(t->path, sizeof t->path, "%s", cp[i].path);
			t->copy_id = cp[i].id;
			t->file_id = id;
			snprintf(t->kind, sizeof t->kind, "%s", cp[i].kind);
			snprintf(t->catalogued_sha256, sizeof t->catalogued_sha256, "%s", cp[i].sha256 ? cp[i].sha256 : "");
		}
		if (*n == before && f.state == SPIF_FILE_DISPOSED)
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
		struct spif_dispose_copy *t = add_target(c, v, n);
		snprintf(t->path, sizeof t->path, "%s", path);
		lookup_copy(c, cat, t);
	}
	if (cat)
		add_siblings(c, cat, v, n);
}

/* Holds and retention periods bind here as they bind a purge: no copy of
 * a held file is destroyed, and no file is left without a copy before its
 * disposal date (compliance: never; governance: with --bypass-governance
 * and --reason, recorded before anything is destroyed).  Copies an
 * interrupted run began destroying are finished whatever is set now. */
void check_retention(struct cli *c, struct spif_catalog *cat, const struct opts *o,
                            const struct spif_dispose_copy *v, size_t n)
{
	struct spif_err e = {0};
	for (size_t i = 0; i < n; i++) {
		long long id = v[i].file_id;
		int seen = 0;
		for (size_t k = 0; k < i; k++)
			seen |= v[k].file_id == id && !v[k].resumed;
		if (!id || v[i].resumed || seen)
			continue;
		/* whole: no copy of the file outlives this run */
		struct spif_copy *cp;
		size_t ncp;
		if (spif_catalog_get_copies(cat, id, &cp, &ncp, &e) < 0)
			cli_die(c, &e);
		int whole = 1;
		for (size_t j = 0; j < ncp; j++) {
			int target = 0;
			for (size_t k = 0; k < n; k++)
				target |= v[k].copy_id == cp[j].id;
			if (!target && !spif_copy_settled(cp[j].state))
				whole = 0;
		}
		spif_copies_free(cp, ncp);
		int early;
		if (spif_retention_may_dispose(cat, id, whole, o->bypass, &early, &e) < 0)
			cli_die(c, &e);
		if (early && !o->dry_run && spif_retention_bypassed(cat, id, "spif shred", o->reason, &e) < 0)
			cli_die(c, &e);
	}
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

/* Every target is held open from its check to its destruction: the soft
 * limit on open files is raised as far as that needs (up to the hard one).
 * Past a hundred or so targets, where descriptors can reach 1024, theirs
 * are moved up from FD_FLOOR, so that the libraries (GPGME, which may
 * select(2), good only below 1024) keep the low numbers.  Returns the
 * floor, or 0 to leave descriptors where they are. */
#define FD_FLOOR 256
static int fd_room(const struct cli *c, size_t n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	int park = n >= 128 && (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 1024);
	/* each target's file, and its directory's unless shared */
	rlim_t base = park ? FD_FLOOR : 0, least = base + (rlim_t)n + 64, want = base + 2 * (rlim_t)n + 64;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < least)
		cli_fail(c, SPIF_EX_USAGE, "%zu targets: more than the limit on open files (%llu) allows, since each is "
		         "held open from its check to its destruction; give fewer at a time", n,
		         (unsigned long long)rl.rlim_max);
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			cli_fail(c, SPIF_EX_USAGE, "%zu targets: the limit on open files cannot be raised to hold them "
			         "all open (%s); give fewer at a time", n, strerror(errno));
	}
	return park ? FD_FLOOR : 0;
}

/* Open each target once, with no symbolic link followed on its path, and
 * find out, through that descriptor only, where its bytes live and what
 * they are (SHA-256): the certificate will say what the overwrite of that
 * same file achieved.  The catalog's rows at one path are one file, opened
 * once for all of them. */
static void open_targets(struct cli *c, const struct opts *o, struct spif_dispose_copy *v, size_t n)
{
	struct spif_err e = {0};
	int floor = fd_room(c, n);
	const struct spif_target *prev = NULL;
	struct spif_probe_cache *pc = spif_probe_cache_new(); /* one device, thousands of files */
	for (size_t i = 0; i < n; i++) {
		struct spif_dispose_copy *t = &v[i];
		if (t->crypto || t->absent)
			continue; /* crypto: the key is destroyed; absent: certified as not verified */
		const char *at = t->found_at[0] ? t->found_at : t->path;
		for (size_t k = 0; k < i && !t->tg; k++)
			if (v[k].own_tg && strcmp(v[k].found_at[0] ? v[k].found_at : v[k].path, at) == 0) {
				t->tg = v[k].tg;
				t->m = v[k].m;
			}
		if (t->tg)
			continue;
		t->tg = xcalloc(1, sizeof *t->tg);
		t->own_tg = 1;
		if (spif_target_open(t->tg, at, !o->dry_run, &e) < 0)
			cli_die(c, &e);
		spif_target_share_dir(t->tg, prev);
		if (floor && spif_target_park(t->tg, floor, &e) < 0)
			cli_die(c, &e);
		prev = t->tg;
		if (spif_wipe_probe_target(t->tg, pc, &t->m, &e) < 0 || spif_target_hash(t->tg, &stop_flag, &e) < 0)
			cli_die(c, &e);
	}
	spif_probe_cache_free(pc);
}

void close_targets(struct spif_dispose_copy *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].own_tg) {
			spif_target_close(v[i].tg);
			free(v[i].tg);
		}
	for (size_t i = 0; i < n; i++) { /* and the rows that shared them */
		v[i].tg = NULL;
		v[i].own_tg = 0;
	}
}

/* A copy that is not the copy the catalog knows: refused, with its event
 * (the only thing a refused run records). */
static void refuse_changed(struct cli *c, struct spif_catalog *cat, const struct spif_dispose_copy *t,
                           const char *why)
{
	struct spif_err e = {0};
	if (cat && (spif_catalog_begin(cat, &e) < 0 || spif_dispose_refused(cat, t, why, &e) < 0 ||
	            spif_catalog_commit(cat, &e) < 0)) {
		spif_catalog_rollback(cat);
		cli_die(c, &e);
	}
	cli_fail(c, SPIF_FOUND, "%s: %s", t->path, why);
}

/* Everything is checked before anything is destroyed: one refused target
 * refuses the run.  Returns the exit code to refuse with, or 0. */
int check_targets(struct cli *c, struct spif_catalog *cat, const struct opts *o, struct spif_dispose_copy *v,
                         size_t n)
{
	int refused = 0;
	struct spif_err e = {0};
	for (size_t i = 0; i < n; i++) {
		struct spif_dispose_copy *t = &v[i];
		if (strcmp(o->method, "crypto") == 0 && strcmp(t->kind, "vault") != 0)
			cli_usage(c, "%s: crypto-erase applies to vault copies (ingest --store); this is a "
			          "plain file", t->path);
		if (strcmp(t->kind, "vault") == 0 && strcmp(o->method, "overwrite") != 0)
			spif_dispose_crypto_target(t);
		/* left by an interrupted run: its rename names, and where it is */
		else if (t->resumed && spif_dispose_resume_info(cat, t, &e) < 0)
			cli_die(c, &e);
	}
	/* rows at one path are one file, renamed with the seed of whichever
	 * row was destroyed: found for one is found for all */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n && v[i].absent && !v[i].crypto; k++)
			if (v[k].found_at[0] && strcmp(v[k].path, v[i].path) == 0) {
				v[i].absent = 0;
				memcpy(v[i].found_at, v[k].found_at, sizeof v[i].found_at);
				v[i].found_size = v[k].found_size;
			}
	open_targets(c, o, v, n);
	for (size_t i = 0; i < n; i++) {
		struct spif_dispose_copy *t = &v[i];
		if (t->crypto || t->absent)
			continue;
		/* the copy the catalog knows, or refused: a certificate is about
		 * the bytes it names */
		char why[128];
		if (!spif_dispose_is_catalogued(t, why, sizeof why)) {
			if (o->changed_ok) {
				t->changed = 1;
				snprintf(t->changed_why, sizeof t->changed_why, "%s", why);
			} else {
				if (!o->dry_run)
					refuse_changed(c, cat, t, why);
				snprintf(t->refusal, sizeof t->refusal, _("%s (SHA-256 catalogued %s, found %s)"), why,
				         t->catalogued_sha256[0] ? t->catalogued_sha256 : _("unknown"), t->tg->sha256);
				refused = 1;
				continue;
			}
		}
		if (t->m.nlink > 1 && !o->force)
			snprintf(t->refusal, sizeof t->refusal, /* printed, never recorded */
			         _("it has %ld hard links; other names would keep the data "
			           "(--force overwrites it in place anyway, and the certificate says so)"),
			         t->m.nlink);
		if (!t->m.reaches_medium && t->m.attestable && trusted(&c->conf, t->m.medium_disk)) {
			t->attested = 1;
			t->m.reaches_medium = 1;
		}
		else if (!t->m.reaches_medium && !o->force)
			snprintf(t->refusal, sizeof t->refusal,
			         _("overwriting cannot be shown to reach the medium "
			           "(%.200s); use crypto-erase for data kept in the vault, or --force to overwrite "
			           "anyway and certify it as not verified at the medium"), t->m.reason_local);
		if (t->refusal[0] && !o->dry_run)
			cli_fail(c, SPIF_FOUND, "%s: refused: %s", t->path, t->refusal);
		refused |= t->refusal[0] != 0;
	}
	return refused;
}

void dry_run(const struct opts *o, const struct spif_dispose_copy *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct spif_dispose_copy *t = &v[i];
		char fid[64];
		snprintf(fid, sizeof fid, "%s", _("not catalogued"));
		if (t->file_id)
			spif_file_id_format(t->file_id, fid);
		if (t->absent && !t->crypto) {
			printf(_("would certify %s (%s) as not verified: it was missing when its disposal resumed, and under "
			         "no name the interrupted run renames to\n"), t->path, fid);
			continue;
		}
		if (t->found_at[0])
			printf(_("found %s (%s) as %s, a name the interrupted run gave it (%lld bytes)\n"), t->path, fid,
			       t->found_at, t->found_size);
		if (t->refusal[0]) {
			printf(_("would refuse %s: %s\n"), t->path, t->refusal);
			continue;
		}
		if (t->crypto) {
			printf(_("would crypto-erase %s (%s, vault): destroy its data key in the catalog, "
			         "purge the WAL, delete the ciphertext; Purge (cryptographic erase)\n"), t->path, fid);
			continue;
		}
		printf(_("would overwrite %s (%s, %s, %lld bytes) with %d random pass%s%s + read-back "
		         "verify, rename and unlink; %s on %s, medium %s: %s%s%s\n"),
		       t->path, fid, t->kind, t->m.size, o->passes, o->passes == 1 ? "" : "es",
		       o->zero ? _(" + zeros") : "", t->m.fstype, t->m.device[0] ? t->m.device : "?",
		       _(spif_dispose_media_type(&t->m)), t->m.reaches_medium ? "Clear" : _("Clear (overwrite) — not "
		                                                                      "verified at the medium: "), t->m.reaches_medium ? "" : t->m.reason_local,
		       t->m.reaches_medium ? "" : (o->force ? _(" (forced)") : _(" (refused without --force)")));
		if (t->attested)
			printf(_("  (medium %s vouched for in spif.conf trusted_media)\n"), t->m.medium_disk);
		if (t->changed)
			printf(_("  (%s: destroyed anyway with --changed-ok, and certified with both hashes)\n"),
			       t->changed_why);
	}
}
