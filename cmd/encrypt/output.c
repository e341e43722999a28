/* output.c - spif encrypt's output: -o FILE through a temporary file put
 * in place only when all is well (recorded first where O_TMPFILE is
 * missing), or standard output; hashed, and registered as a copy of a
 * catalogued file when its records are one's (encrypt.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "atomic.h"
#include "catalog_query.h"
#include "cli.h"
#include "cli_signal.h"
#include "progress.h"
#include "recopts.h"
#include "digest.h"
#include "fieldcrypt.h"
#include "mynumber.h"
#include "passphrase.h"
#include "peek.h"
#include "pgp.h"
#include "record.h"
#include "xalloc.h"
#include "encrypt.h"

/* ---- the output ---------------------------------------------------------- */


/* The temporary file of -o is removed by a signal that ends the run
 * (cli_signal.h): an interrupted decryption must not leave plaintext
 * behind under a hidden name.  settled: it is gone or in place. */
void settled(void)
{
	cli_signal_temp(NULL);
}

void output_abort(struct output *w)
{
	if (w->atomic)
		spif_atomic_abort(&w->a);
	settled();
	spif_sha256_free(w->h);
	w->h = NULL;
}

void output_open(struct cli *c, struct output *w, const char *path, struct spif_catalog *cat,
                 const char *command)
{
	struct spif_err e = {0};
	memset(w, 0, sizeof *w);
	w->a.fd = -1;
	w->fd = 1;
	w->name = "(stdout)";
	spif_progress_init(&w->prog, 2, "spif-encrypt", 0);
	if (!path)
		return;
	/* the path goes into the catalog, which never holds a number */
	if (spif_text_has_number(path))
		cli_fail(c, SPIF_EX_DATAERR, "-o: the file name holds what may be an Individual "
		         "Number; the catalog never records one: choose another name");
	cli_signals(NULL);
	if (spif_atomic_open_rec(&w->a, cat, command, path, spif_file_mode(&c->conf), &e) < 0)
		cli_die(c, &e);
	cli_signal_temp(w->a.tmp);
	w->atomic = 1;
	w->fd = w->a.fd;
	w->name = path;
	if (!(w->h = spif_sha256_new())) {
		output_abort(w);
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	}
}

/* What a byte of output also does: hash, count, and keep the first ones. */
int output_tap(void *ctx, const void *buf, size_t n)
{
	struct output *w = ctx;
	if (w->h)
		spif_sha256_update(w->h, buf, n);
	w->size += (long long)n;
	char line[160];
	if (spif_progress_update(&w->prog, w->size, N_("bytes"), -1, line, sizeof line))
		fputs(line, stderr);
	if (w->headn < sizeof w->head) {
		size_t k = n < sizeof w->head - w->headn ? n : sizeof w->head - w->headn;
		memcpy(w->head + w->headn, buf, k);
		w->headn += k;
	}
	return 0;
}

void output_progress_done(struct output *w)
{
	char line[16];
	if (spif_progress_clear(&w->prog, line, sizeof line))
		fputs(line, stderr);
}

int output_sink(void *ctx, const void *buf, size_t n)
{
	struct output *w = ctx;
	output_tap(w, buf, n);
	return spif_sink_fd(&w->fd, buf, n);
}

/* Die with e, leaving nothing at -o. */
_Noreturn void fail_out(struct cli *c, struct output *w, const struct spif_err *e)
{
	output_abort(w);
	cli_die(c, e);
}

/* The catalogued file the input file is a copy of ("" when none, or
 * when the catalog cannot say): a path the catalog knows, for a stream
 * that is not records of a file. */
void input_file(struct spif_catalog *cat, const char *input, char fid[24])
{
	struct spif_err e = {0};
	fid[0] = '\0';
	if (cat && strcmp(input, "-") != 0 && spif_catalog_file_at(cat, input, fid, &e) < 0)
		fid[0] = '\0';
}

/* Put -o in place; when fid names a file this catalog knows, register it
 * as a copy (kind, encrypted, copy_details) with event action/details, in
 * the same transaction: either both happen or neither.  Returns 1 when it
 * was registered. */
int output_commit(struct cli *c, struct output *w, struct spif_catalog *cat, const char *fid,
                  const char *kind, int encrypted, json_t *copy_details, const char *action,
                  json_t *event)
{
	struct spif_err e = {0};
	if (!w->atomic)
		return 0;
	char sha[65];
	spif_sha256_hex(w->h, sha);
	long long id = fid[0] ? spif_file_id_parse(fid) : -1;
	struct spif_file f = {0};
	if (id > 0 && cat && spif_catalog_get_file(cat, id, &f, &e) < 0) {
		cli_note(c, "%s: not in this catalog; %s is not registered", fid, w->name);
		id = -1;
	}
	spif_file_free(&f);
	if (id > 0 && !cat) {
		cli_note(c, "%s: no catalog here; %s is not registered", fid, w->name);
		id = -1;
	}
	if (id <= 0) {
		if (spif_atomic_commit(&w->a, &e) < 0)
			fail_out(c, w, &e);
		settled();
		return 0;
	}
	char now[32];
	spif_now_utc(now);
	char *ds = json_dumps(copy_details, JSON_COMPACT | JSON_SORT_KEYS);
	if (!ds)
		cli_fail(c, SPIF_EX_SOFTWARE, "out of memory");
	if (spif_catalog_begin(cat, &e) < 0)
		fail_out(c, w, &e);
	if (spif_atomic_commit(&w->a, &e) < 0) {
		spif_catalog_rollback(cat);
		settled();
		cli_die(c, &e);
	}
	settled();
	char *real = realpath(w->name, NULL);
	struct spif_copy cp = {.file_id = id, .kind = (char *)kind, .path = real ? real : (char *)w->name,
	                       .sha256 = sha, .size = w->size, .encrypted = encrypted, .created = now,
	                       .details = ds};
	json_object_set_new(event, "output_copy", json_string(cp.path));
	json_object_set_new(event, "sha256", json_string(sha));
	json_object_set_new(event, "size", json_integer(w->size));
	if (spif_catalog_add_copy(cat, &cp, &e) < 0 || spif_audit_append(cat, action, fid, event, NULL, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_rollback(cat);
		unlink(w->name); /* not registered: it must not exist either */
		spif_fsync_dir_of(w->name);
		cli_die(c, &e);
	}
	free(real);
	free(ds);
	return 1;
}

/* The input as the catalog may record it: its path, unless the name holds
 * what may be an Individual Number (the catalog never holds one). */
const char *shown_input(const struct opts *o)
{
	if (strcmp(o->input, "-") == 0)
		return "(stdin)";
	return spif_text_has_number(o->input) ? "(a file name holding digits)" : o->input;
}

