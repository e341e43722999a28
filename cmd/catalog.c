/* catalog.c - spif catalog ls | show ID | log | verify | cert: what the
 * catalog knows, whether its audit log is intact, and its disposal
 * certificates.  Every subcommand only reads, but cert confirm, which adds
 * a confirmation and its event. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "cert.h"
#include "cli.h"
#include "text.h"

static const char usage_text[] =
	"usage: spif catalog ls [--state STATE] [--json]\n"
	"       spif catalog show ID [--json]\n"
	"       spif catalog log [--file ID] [--limit N] [--json]\n"
	"       spif catalog verify [--json]\n"
	"       spif catalog cert ls [--json]\n"
	"       spif catalog cert show ID [--format text|json]\n"
	"       spif catalog cert export ID -o DIR\n"
	"       spif catalog cert verify ID|FILE.json|FILE.confirm.json\n"
	"       spif catalog cert confirm ID [--note TEXT] [--sign KEYID]\n"
	"\n"
	"  ls       every file: id, state, records, persons, received, purpose, label\n"
	"  show     one file (F000001) with its copies\n"
	"  log      the audit log, oldest first (--limit N: the last N events)\n"
	"  verify   recompute the audit log's hash chain; exit 1 naming the first\n"
	"           event that does not match, or copies a crash left half-destroyed\n"
	"  cert     disposal certificates: list, show (bilingual text or the signed\n"
	"           JSON, then the confirmation's), export ID.json (+ ID.json.asc, and\n"
	"           ID.confirm.json (+ .asc) when confirmed), verify against the catalog,\n"
	"           the signatures and the audit log, confirm by a second operator\n"
	"\n"
	"  --json   one JSON object per line (show: one object)\n"
	"  --home DIR  the spif home (else $SPIF_HOME, spif.conf, ~/.local/share/spif)\n"
	"\n"
	"Exit: 0 ok, 1 verify found tampering, 64 usage, 65 unknown id, 66 no catalog,\n"
	"77 catalog writable by others.\n";

struct opts {
	int json;
	const char *file;
	const char *state;
	long long limit;
	const char *format, *out, *note, *sign;
};

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *file_json(const struct spif_file *f)
{
	char id[24];
	spif_file_id_format(f->id, id);
	json_t *nf = json_loads(f->number_fields ? f->number_fields : "[]", 0, NULL);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "state", jstr(f->state));
	json_object_set_new(o, "label", jstr(f->label));
	json_object_set_new(o, "purpose", jstr(f->purpose));
	json_object_set_new(o, "source", jstr(f->source));
	json_object_set_new(o, "received", jstr(f->received));
	json_object_set_new(o, "format", jstr(f->format));
	json_object_set_new(o, "encoding", jstr(f->encoding));
	json_object_set_new(o, "number_fields", nf ? nf : json_array());
	json_object_set_new(o, "records", json_integer(f->records));
	json_object_set_new(o, "persons", json_integer(f->persons));
	json_object_set_new(o, "invalid", json_integer(f->invalid));
	json_object_set_new(o, "sha256", jstr(f->sha256));
	json_object_set_new(o, "created", jstr(f->created));
	json_object_set_new(o, "schedule", jstr(f->schedule));
	json_object_set_new(o, "retain_until", jstr(f->retain_until));
	return o;
}

static int cmd_ls(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	sqlite3_stmt *st;
	if (spif_catalog_prepare(cat,
	        o->state ? "SELECT " SPIF_FILE_COLUMNS " FROM files WHERE state=? ORDER BY id"
	                 : "SELECT " SPIF_FILE_COLUMNS " FROM files ORDER BY id", &st, &e) < 0)
		cli_die(c, &e);
	if (o->state)
		sqlite3_bind_text(st, 1, o->state, -1, SQLITE_STATIC);
	if (!o->json)
		printf("%-8s %-9s %9s %9s %-10s %-20s %s\n", "ID", "STATE", "RECORDS", "PERSONS",
		       "RECEIVED", "PURPOSE", "LABEL");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_file f;
		spif_file_from_row(st, &f);
		if (o->json)
			print_json(file_json(&f));
		else {
			char id[24];
			spif_file_id_format(f.id, id);
			printf("%-8s %-9s %9lld %9lld %-10s ", id, f.state, f.records, f.persons, f.received);
			spif_text_pad(stdout, f.purpose, 20);
			printf(" %s\n", f.label);
		}
		spif_file_free(&f);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		spif_catalog_sqlerr(cat, rc, "list files", &e);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	return 0;
}

static int cmd_show(struct cli *c, const struct opts *o, const char *idarg)
{
	long long id = spif_file_id_parse(idarg);
	if (id < 0)
		cli_usage(c, "%s: not a file id (F000001)", idarg);
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct spif_file f;
	struct spif_copy *cp;
	size_t n;
	if (spif_catalog_get_file(cat, id, &f, &e) < 0 ||
	    spif_catalog_get_copies(cat, id, &cp, &n, &e) < 0)
		cli_die(c, &e);
	if (o->json) {
		json_t *j = file_json(&f);
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *k = json_object();
			json_object_set_new(k, "id", json_integer(cp[i].id));
			json_object_set_new(k, "kind", jstr(cp[i].kind));
			json_object_set_new(k, "path", jstr(cp[i].path));
			json_object_set_new(k, "sha256", jstr(cp[i].sha256));
			json_object_set_new(k, "size", json_integer(cp[i].size));
			json_object_set_new(k, "encrypted", json_boolean(cp[i].encrypted));
			json_object_set_new(k, "created", jstr(cp[i].created));
			json_object_set_new(k, "state", jstr(cp[i].state));
			json_array_append_new(arr, k);
		}
		json_object_set_new(j, "copies", arr);
		print_json(j);
	} else {
		char fid[24];
		spif_file_id_format(f.id, fid);
		printf("id:            %s\nlabel:         %s\npurpose:       %s\nsource:        %s\n"
		       "received:      %s\nformat:        %s (%s)\nnumber fields: %s\n"
		       "records:       %lld\npersons:       %lld\ninvalid:       %lld\n"
		       "sha256:        %s\ncreated:       %s\nstate:         %s\n"
		       "schedule:      %s\nretain until:  %s\ncopies:\n",
		       fid, f.label, f.purpose, f.source ? f.source : "-", f.received, f.format,
		       f.encoding, f.number_fields, f.records, f.persons, f.invalid, f.sha256, f.created,
		       f.state, f.schedule ? f.schedule : "-", f.retain_until ? f.retain_until : "-");
		for (size_t i = 0; i < n; i++)
			printf("  %lld %-9s %-8s %12lld %s %s%s\n", cp[i].id, cp[i].kind, cp[i].state,
			       cp[i].size, cp[i].sha256 ? cp[i].sha256 : "-", cp[i].path,
			       cp[i].encrypted ? " (encrypted)" : "");
	}
	spif_copies_free(cp, n);
	spif_file_free(&f);
	spif_catalog_close(cat);
	return 0;
}

static int cmd_log(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	sqlite3_stmt *st;
	char obj[24] = "";
	if (o->file) {
		long long id = spif_file_id_parse(o->file);
		if (id < 0)
			cli_usage(c, "%s: not a file id (F000001)", o->file);
		spif_file_id_format(id, obj);
	}
	/* the last N events, shown oldest first */
	const char *sql = "SELECT seq,time,operator,sudo_user,host,pid,argv,action,object,details,"
	                  "prev_hash,hash FROM (SELECT * FROM events WHERE (?1 = '' OR object = ?1)"
	                  " ORDER BY seq DESC LIMIT ?2) ORDER BY seq";
	if (spif_catalog_prepare(cat, sql, &st, &e) < 0)
		cli_die(c, &e);
	sqlite3_bind_text(st, 1, obj, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, o->limit > 0 ? o->limit : -1);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
#define T(i) ((const char *)sqlite3_column_text(st, i))
		if (o->json) {
			json_t *j = json_object();
			json_object_set_new(j, "seq", json_integer(sqlite3_column_int64(st, 0)));
			json_object_set_new(j, "time", jstr(T(1)));
			json_object_set_new(j, "operator", jstr(T(2)));
			json_object_set_new(j, "sudo_user", jstr(T(3)));
			json_object_set_new(j, "host", jstr(T(4)));
			json_object_set_new(j, "pid", json_integer(sqlite3_column_int64(st, 5)));
			json_t *argv = json_loads(T(6), 0, NULL);
			json_object_set_new(j, "argv", argv ? argv : jstr(T(6)));
			json_object_set_new(j, "action", jstr(T(7)));
			json_object_set_new(j, "object", jstr(T(8)));
			json_t *d = json_loads(T(9), 0, NULL);
			json_object_set_new(j, "details", d ? d : jstr(T(9)));
			json_object_set_new(j, "prev_hash", jstr(T(10)));
			json_object_set_new(j, "hash", jstr(T(11)));
			print_json(j);
		} else {
			printf("%6lld %s %s%s%s %s %s %s\n", sqlite3_column_int64(st, 0), T(1), T(2),
			       T(3) ? " (sudo " : "", T(3) ? T(3) : "", T(3) ? ")" : "", T(7),
			       T(8) ? T(8) : "-");
			printf("       %s\n", T(9));
		}
#undef T
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		spif_catalog_sqlerr(cat, rc, "read the log", &e);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	return 0;
}

static int cmd_verify(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	struct spif_verify v;
	if (spif_audit_verify(cat, &v, &e) < 0)
		cli_die(c, &e);
	/* copies a crash left between "disposing" and "disposed" */
	sqlite3_stmt *st;
	long long half = 0;
	if (spif_catalog_prepare(cat, "SELECT id, path FROM copies WHERE state = 'disposing'", &st, &e) < 0)
		cli_die(c, &e);
	while (sqlite3_step(st) == SQLITE_ROW) {
		half++;
		fprintf(stderr, "%s: verify: copy %lld (%s) was left marked for destruction by an "
		        "interrupted spif shred (it may be partly overwritten); run spif shred --resume\n",
		        c->prog,
		        (long long)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	/* files a killed purge had claimed and not finished */
	long long claimed = 0;
	if (spif_catalog_prepare(cat, "SELECT purge_id, file_id FROM purge_items WHERE state = 'started'"
	                              " ORDER BY purge_id, file_id", &st, &e) < 0)
		cli_die(c, &e);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char fid[24];
		claimed++;
		spif_file_id_format(sqlite3_column_int64(st, 1), fid);
		fprintf(stderr, "%s: verify: %s was claimed by purge %lld, which was interrupted before it "
		        "finished; run spif retain purge\n", c->prog, fid, (long long)sqlite3_column_int64(st, 0));
	}
	sqlite3_finalize(st);
	spif_catalog_close(cat);
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "intact", json_boolean(v.bad_seq == 0));
		json_object_set_new(j, "events", json_integer(v.events));
		json_object_set_new(j, "head", json_string(v.head));
		if (v.bad_seq) {
			json_object_set_new(j, "first_bad", json_integer(v.bad_seq));
			json_object_set_new(j, "why", json_string(v.why));
		}
		json_object_set_new(j, "half_destroyed_copies", json_integer(half));
		json_object_set_new(j, "interrupted_purge_items", json_integer(claimed));
		print_json(j);
	}
	if (v.bad_seq) {
		fprintf(stderr, "%s: verify: %s\n", c->prog, v.why);
		return SPIF_FOUND;
	}
	if (half || claimed)
		return SPIF_FOUND;
	if (!o->json)
		printf("audit log intact: %lld events, head %s\n", v.events, v.head);
	return 0;
}

/* ---- certificates ---------------------------------------------------- */

static void read_whole(const struct cli *c, const char *path, char **data, size_t *n, int optional)
{
	*data = NULL;
	*n = 0;
	FILE *f = fopen(path, "re");
	if (!f) {
		if (optional && errno == ENOENT)
			return;
		cli_fail(c, errno == ENOENT ? SPIF_EX_NOINPUT : SPIF_EX_NOPERM, "%s: %s", path, strerror(errno));
	}
	char buf[65536];
	size_t r;
	FILE *m = open_memstream(data, n);
	while ((r = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, r, m);
	fclose(m);
	fclose(f);
}

static int cert_ls(struct cli *c, const struct opts *o)
{
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	struct spif_err e = {0};
	sqlite3_stmt *st;
	if (spif_catalog_prepare(cat,
	        "SELECT c.id, c.kind, c.file_id, c.issued, c.operator, c.signer IS NOT NULL,"
	        " f.operator FROM certificates c LEFT JOIN confirmations f ON f.cert_id = c.id"
	        " ORDER BY c.year, c.n", &st, &e) < 0)
		cli_die(c, &e);
	if (!o->json)
		printf("%-15s %-9s %-8s %-24s %-12s %-8s %s\n", "ID", "KIND", "FILE", "ISSUED", "OPERATOR",
		       "SIGNED", "CONFIRMED BY");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char fid[24] = "-";
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			spif_file_id_format(sqlite3_column_int64(st, 2), fid);
		const char *conf = (const char *)sqlite3_column_text(st, 6);
		if (o->json) {
			json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:o}", "id", sqlite3_column_text(st, 0),
			                      "kind", sqlite3_column_text(st, 1), "file", fid, "issued",
			                      sqlite3_column_text(st, 3), "operator", sqlite3_column_text(st, 4),
			                      "signed", sqlite3_column_int(st, 5), "confirmed_by", jstr(conf));
			print_json(j);
		} else
			printf("%-15s %-9s %-8s %-24s %-12s %-8s %s\n", sqlite3_column_text(st, 0),
			       sqlite3_column_text(st, 1), fid, sqlite3_column_text(st, 3),
			       sqlite3_column_text(st, 4), sqlite3_column_int(st, 5) ? "yes" : "no",
			       conf ? conf : "-");
	}
	sqlite3_finalize(st);
	spif_catalog_close(cat);
	return 0;
}

static int cert_cmd(struct cli *c, const struct opts *o, const char *sub, int nargs, char **args)
{
	struct spif_err e = {0};
	if (strcmp(sub, "ls") == 0 && nargs == 0)
		return cert_ls(c, o);
	if (nargs != 1)
		cli_usage(c, "cert %s: wrong number of arguments", sub);
	const char *id = args[0];
	if (strcmp(sub, "verify") == 0) {
		/* ID; or an exported ID.json, with ID.json.asc, ID.confirm.json and
		 * ID.confirm.json.asc beside it when they exist; or an exported
		 * ID.confirm.json (with its .asc) alone */
		struct spif_cert_files f = {0};
		char *data = NULL, cid[32];
		size_t n = 0;
		size_t len = strlen(id);
		if (len > 5 && strcmp(id + len - 5, ".json") == 0) {
			read_whole(c, id, &data, &n, 0);
			json_t *j = json_loadb(data, n, 0, NULL);
			const char *fmt = json_string_value(json_object_get(j, "format"));
			int is_conf = fmt && strcmp(fmt, "spif-confirmation/1") == 0;
			const char *named = json_string_value(json_object_get(j, is_conf ? "certificate" : "id"));
			if (!named || strlen(named) >= sizeof cid)
				cli_fail(c, SPIF_FOUND, "%s: not a spif certificate or confirmation", id);
			snprintf(cid, sizeof cid, "%s", named);
			json_decref(j);
			char other[PATH_MAX];
			int stem = (int)(len - (is_conf ? strlen(".confirm.json") : 5));
			if (is_conf) {
				f.conf = data;
				f.conf_n = n;
			} else {
				f.body = data;
				f.body_n = n;
				if (snprintf(other, sizeof other, "%.*s.confirm.json", stem, id) < (int)sizeof other)
					read_whole(c, other, (char **)&f.conf, &f.conf_n, 1);
				snprintf(other, sizeof other, "%s.asc", id);
				read_whole(c, other, (char **)&f.sig, &f.sig_n, 1);
			}
			if (f.conf && snprintf(other, sizeof other, "%.*s.confirm.json.asc", stem, id) < (int)sizeof other)
				read_whole(c, other, (char **)&f.conf_sig, &f.conf_sig_n, 1);
		} else
			snprintf(cid, sizeof cid, "%s", id);
		struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
		char summary[768];
		int rc = spif_cert_verify(cat, cid, &f, summary, sizeof summary, &e);
		spif_catalog_close(cat);
		free((char *)f.body);
		free((char *)f.sig);
		free((char *)f.conf);
		free((char *)f.conf_sig);
		if (rc < 0)
			cli_die(c, &e);
		printf("%s\n", summary);
		return 0;
	}
	struct spif_catalog *cat = cli_catalog(c, strcmp(sub, "confirm") == 0 ? 0 : SPIF_CAT_READONLY);
	int rc = 0;
	if (strcmp(sub, "confirm") == 0) {
		const char *key = o->sign ? o->sign : c->conf.sign_key;
		if (spif_catalog_begin(cat, &e) < 0 || spif_cert_confirm(cat, &c->conf, id, key, o->note, &e) < 0 ||
		    spif_catalog_commit(cat, &e) < 0)
			cli_die(c, &e);
		printf("%s confirmed by %s\n", id, c->actor.operator_);
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "export") == 0) {
		struct spif_cert ct;
		if (spif_cert_load(cat, id, &ct, &e) < 0)
			cli_die(c, &e);
		if (strcmp(sub, "export") == 0) {
			if (!o->out)
				cli_usage(c, "cert export: -o DIR is required");
			/* the certificate, and its confirmation when there is one,
			 * each with its signature when signed */
			const char *parts[4] = {ct.body, ct.signature, ct.confirmation, ct.confirmation_sig};
			static const char *const names[4] = {".json", ".json.asc", ".confirm.json", ".confirm.json.asc"};
			for (int k = 0; k < 4; k++) {
				if (!parts[k])
					continue;
				char path[PATH_MAX];
				snprintf(path, sizeof path, "%s/%s%s", o->out, ct.id, names[k]);
				struct spif_atomic a;
				size_t len = strlen(parts[k]);
				if (spif_atomic_open(&a, path, spif_file_mode(&c->conf), &e) < 0)
					cli_die(c, &e);
				if (write(a.fd, parts[k], len) != (ssize_t)len) {
					spif_err_sys(&e, SPIF_EX_IOERR, errno, "%s", path);
					spif_atomic_abort(&a);
					cli_die(c, &e);
				}
				if (spif_atomic_commit(&a, &e) < 0)
					cli_die(c, &e);
				printf("%s\n", path);
			}
		} else if (!o->format || strcmp(o->format, "text") == 0) {
			char *t = spif_cert_render(&ct);
			if (!t)
				cli_fail(c, SPIF_EX_SOFTWARE, "%s: cannot render", id);
			fputs(t, stdout);
			free(t);
		} else if (strcmp(o->format, "json") == 0) {
			/* one document a line: the certificate as signed, then its
			 * confirmation when there is one */
			printf("%s\n", ct.body);
			if (ct.confirmation)
				printf("%s\n", ct.confirmation);
		}
		else
			cli_usage(c, "--format %s: unknown (text, json)", o->format);
		spif_cert_free(&ct);
	} else
		cli_usage(c, "cert %s: unknown (ls, show, export, verify, confirm)", sub);
	spif_catalog_close(cat);
	return rc;
}

static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'},       {"file", required_argument, NULL, 'f'},
	{"limit", required_argument, NULL, 'n'}, {"state", required_argument, NULL, 's'},
	{"home", required_argument, NULL, 'H'},  {"help", no_argument, NULL, 'h'},
	{"format", required_argument, NULL, 'F'}, {"output", required_argument, NULL, 'o'},
	{"note", required_argument, NULL, 'N'},  {"sign", required_argument, NULL, 'S'},
	{NULL, 0, NULL, 0},
};

/* Options may stand anywhere: GNU getopt permutes, so after one pass the
 * operands (subcommand, its arguments) are argv[optind..] in order. */
static void parse_opts(struct cli *c, struct opts *o, int argc, char **argv, const char *optstring)
{
	int ch;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': o->json = 1; break;
		case 'f': o->file = optarg; break;
		case 's': o->state = optarg; break;
		case 'n': {
			char *end;
			o->limit = strtoll(optarg, &end, 10);
			if (*end || o->limit <= 0)
				cli_usage(c, "--limit %s: not a positive number", optarg);
			break;
		}
		case 'H': c->home_opt = optarg; break;
		case 'F': o->format = optarg; break;
		case 'o': o->out = optarg; break;
		case 'N': o->note = optarg; break;
		case 'S': o->sign = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: cli_bad_option(c, argc, argv);
		}
	}
}

int main(int argc, char **argv)
{
	struct cli c;
	cli_init(&c, "spif-catalog", argc, argv);
	struct opts o = {0};
	opterr = 0;
	parse_opts(&c, &o, argc, argv, "hjn:o:");
	if (optind >= argc)
		cli_usage(&c, "missing subcommand: ls, show, log, verify or cert");
	const char *sub = argv[optind++];
	const char *certsub = NULL;
	if (strcmp(sub, "cert") == 0) {
		if (optind >= argc)
			cli_usage(&c, "cert: missing subcommand: ls, show, export, verify or confirm");
		certsub = argv[optind++];
	}
	int rc = 0;
	int nargs = argc - optind;
	if (certsub)
		rc = cert_cmd(&c, &o, certsub, nargs, argv + optind);
	else if (strcmp(sub, "ls") == 0 && nargs == 0)
		rc = cmd_ls(&c, &o);
	else if (strcmp(sub, "show") == 0 && nargs == 1)
		rc = cmd_show(&c, &o, argv[optind]);
	else if (strcmp(sub, "log") == 0 && nargs == 0)
		rc = cmd_log(&c, &o);
	else if (strcmp(sub, "verify") == 0 && nargs == 0)
		rc = cmd_verify(&c, &o);
	else if (strcmp(sub, "ls") && strcmp(sub, "show") && strcmp(sub, "log") && strcmp(sub, "verify"))
		cli_usage(&c, "%s: unknown subcommand (ls, show, log, verify, cert)", sub);
	else
		cli_usage(&c, "%s: wrong number of arguments", sub);
	cli_done(&c);
	return rc;
}
