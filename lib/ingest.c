/* ingest.c - see ingest.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "calendar.h"
#include "catalog_query.h"
#include "ingest.h"
#include "retention.h"
#include "vault.h"

static int inject_put(struct spif_ingest_inject *in, const void *buf, size_t n)
{
	if (in->hash)
		spif_sha256_update(in->hash, buf, n);
	in->size += (long long)n;
	return in->fn(in->ctx, buf, n);
}

int spif_ingest_inject_sink(void *ctx, const void *data, size_t n)
{
	struct spif_ingest_inject *in = ctx;
	const char *p = data, *end = p + n;
	while (p < end) {
		if (in->at_line_start && in->plen) {
			/* the writer starts every record with '{' */
			if (inject_put(in, in->prefix, in->plen) < 0)
				return -1;
			p++;
			in->at_line_start = 0;
			continue;
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl + 1 : end;
		if (inject_put(in, p, (size_t)(stop - p)) < 0)
			return -1;
		in->at_line_start = nl != NULL;
		p = stop;
	}
	return 0;
}

static json_t *string_array(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* --store: the records, NDJSON with @file and @row, into a new vault copy
 * under a fresh data key; registered in the same transaction as the file. */
static int store_in_vault(struct spif_catalog *cat, struct spif_ingest *g, long long file_id,
                          const char *now, json_t *d, struct spif_err *err)
{
	struct spif_vault_writer *vw;
	char path[PATH_MAX], sha[65];
	long long size;
	/* the KEK of the file's disposal month, so that the month's key can be
	 * destroyed with its files; "indefinite" until a schedule gives one */
	if (spif_vault_create(cat, g->conf, file_id, g->bucket, &vw, path, err) < 0)
		return -1;
	struct spif_ingest_inject in = {.fn = spif_vault_write, .ctx = vw, .at_line_start = 1};
	in.plen = (size_t)snprintf(in.prefix, sizeof in.prefix, "{\"@file\":\"%s\",", g->fid);
	if (spif_spool_drain(g->vspool, spif_ingest_inject_sink, &in, err) < 0) {
		spif_vault_abort(vw);
		return -1;
	}
	if (spif_vault_finish(vw, sha, &size, err) < 0)
		return -1;
	char details[96];
	snprintf(details, sizeof details, "{\"scheme\":\"aes-256-gcm chunks\",\"bucket\":\"%s\"}", g->bucket);
	struct spif_copy cp = {.file_id = file_id, .kind = "vault", .path = path, .sha256 = sha,
	                       .size = size, .encrypted = 1, .created = (char *)now, .details = details};
	if (spif_catalog_add_copy(cat, &cp, err) < 0) {
		unlink(path);
		return -1;
	}
	json_object_set_new(d, "vault_copy", json_string(path));
	return 0;
}

int spif_ingest_register(struct spif_catalog *cat, struct spif_ingest *g, struct spif_err *err)
{
	struct spif_file f = {0};
	char today[11], now[32];
	spif_today(today);
	spif_now_utc(now);
	json_t *nfj = string_array(g->numfields, g->nnum);
	char *nfs = json_dumps(nfj, JSON_COMPACT);
	f.label = g->label;
	f.purpose = g->purpose;
	f.source = g->source;
	f.received = (char *)(g->received ? g->received : today);
	f.format = (char *)spif_format_name(g->fmt);
	f.encoding = (char *)spif_enc_name(g->enc);
	f.number_fields = nfs;
	f.records = g->records;
	f.persons = g->persons;
	f.invalid = g->invalid;
	f.sha256 = (char *)g->sha256;
	f.created = now;
	json_t *d = json_object();
	int rc = -1;
	if (spif_catalog_begin(cat, err) < 0)
		goto out;
	if (g->copy_of) {
		/* --copy-of: no new file, its copies join the one it repeats */
		struct spif_file same;
		if (spif_catalog_get_file(cat, g->copy_of, &same, err) < 0)
			goto out;
		spif_file_id_format(g->copy_of, g->fid);
		int differs = strcmp(same.sha256, g->sha256) != 0, gone = same.state == SPIF_FILE_DISPOSED;
		spif_file_free(&same);
		if (differs || gone) {
			if (gone)
				spif_err_set(err, SPIF_EX_DATAERR, "%s: --copy-of %s: it is disposed", g->name, g->fid);
			else
				spif_err_set(err, SPIF_EX_DATAERR, "%s: is not the same content as %s", g->name, g->fid);
			goto out;
		}
		f.id = g->copy_of;
	} else if (spif_catalog_add_file(cat, &f, err) < 0)
		goto out;
	spif_file_id_format(f.id, g->fid);
	if (g->same_as[0])
		json_object_set_new(d, "again", json_pack("{s:s,s:s}", "same_content_as", g->same_as, "reason", g->reason));
	json_object_set_new(d, "label", json_string(g->label));
	json_object_set_new(d, "purpose", json_string(g->purpose));
	json_object_set_new(d, "received", json_string(f.received));
	json_object_set_new(d, "format", json_string(f.format));
	json_object_set_new(d, "encoding", json_string(f.encoding));
	json_object_set_new(d, "records", json_integer(g->records));
	json_object_set_new(d, "persons", json_integer(g->persons));
	json_object_set_new(d, "invalid", json_integer(g->invalid));
	json_object_set_new(d, "number_fields", json_incref(nfj));
	json_object_set_new(d, "sha256", json_string(g->sha256));
	if (strcmp(g->input, "-") != 0) {
		char *real = realpath(g->input, NULL);
		struct spif_copy cp = {.file_id = f.id, .kind = "source", .path = real ? real : (char *)g->input,
		                       .sha256 = (char *)g->sha256, .size = g->bytes, .created = now};
		int r = spif_catalog_add_copy(cat, &cp, err);
		json_object_set_new(d, "source_copy", json_string(cp.path));
		free(real);
		if (r < 0)
			goto out;
	}
	strcpy(g->bucket, "indefinite");
	if (g->schedule && !g->copy_of) {
		/* the retention is set in the same transaction: a file never
		 * exists without the schedule it was ingested under */
		struct spif_retention r;
		char ru[11], dd[11];
		if (spif_retention_defaults(cat, NULL, err) < 0 ||
		    spif_retention_assign(cat, g->conf, f.id, g->schedule, NULL, 1, &r, err) < 0)
			goto out;
		spif_day_format(r.retain_until, ru);
		spif_day_format(r.dispose_on, dd);
		json_object_set_new(d, "schedule", json_string(g->schedule));
		json_object_set_new(d, "retain_until", r.retain_until == SPIF_DAY_NONE ? json_null() : json_string(ru));
		json_object_set_new(d, "dispose_on", r.dispose_on == SPIF_DAY_NONE ? json_null() : json_string(dd));
		if (r.dispose_on != SPIF_DAY_NONE)
			snprintf(g->bucket, sizeof g->bucket, "%.7s", dd);
	}
	if (g->vspool && store_in_vault(cat, g, f.id, now, d, err) < 0)
		goto out;
	if (g->spool) {
		if (g->to == SPIF_FMT_NDJSON)
			g->in.plen = (size_t)snprintf(g->in.prefix, sizeof g->in.prefix, "{\"@file\":\"%s\",", g->fid);
		g->in.at_line_start = 1;
	}
	if (g->out_file) {
		char oh[65];
		g->in.fn = spif_sink_fd;
		g->in.ctx = &g->out_file->fd;
		g->in.hash = spif_sha256_new();
		int r = spif_spool_drain(g->spool, spif_ingest_inject_sink, &g->in, err);
		spif_sha256_hex(g->in.hash, oh);
		spif_sha256_free(g->in.hash);
		g->in.hash = NULL;
		if (r < 0) {
			spif_err_prefix(err, "%s", g->out);
			goto out;
		}
		if (spif_atomic_commit(g->out_file, err) < 0)
			goto out;
		char *real = realpath(g->out, NULL);
		struct spif_copy cp = {.file_id = f.id, .kind = "output", .path = real ? real : (char *)g->out,
		                       .sha256 = oh, .size = g->in.size, .created = now};
		r = spif_catalog_add_copy(cat, &cp, err);
		json_object_set_new(d, "output_copy", json_string(cp.path));
		free(real);
		if (r < 0) {
			unlink(g->out);
			goto out;
		}
	}
	if (spif_audit_append(cat, g->copy_of ? "copy.add" : "ingest", g->fid, d, NULL, err) < 0 ||
	    spif_catalog_commit(cat, err) < 0) {
		if (g->out_file)
			unlink(g->out); /* not registered: it must not exist either */
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		spif_catalog_rollback(cat);
		if (g->out_file)
			spif_atomic_abort(g->out_file);
	}
	json_decref(d);
	json_decref(nfj);
	free(nfs);
	return rc;
}

int spif_ingest_emit(struct spif_ingest *g, int fd, const char *name, struct spif_err *err)
{
	g->in.fn = spif_sink_fd;
	g->in.ctx = &fd;
	if (spif_spool_drain(g->spool, spif_ingest_inject_sink, &g->in, err) < 0) {
		spif_err_prefix(err, "%s", name);
		return -1;
	}
	return 0;
}
