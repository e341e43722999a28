/* cert.c - see cert.h */
#include "cert.h"
#include "i18n.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "catalog_priv.h"
#include "checkpoint.h"
#include "digest.h"
#include "pgp.h"
#include "text.h"

#ifndef SPIF_VERSION
#define SPIF_VERSION "0"
#endif

/* "2026-11-21T23:58:27.123Z" -> "2026-11-22T08:58:27+09:00" and the JST year */
static int to_jst(const char *utc, char out[32])
{
	struct tm tm = {0};
	if (!strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(out, 32, "%s", utc);
		return 0;
	}
	time_t t = timegm(&tm) + 9 * 3600;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
	return tm.tm_year + 1900;
}

static json_t *jstr(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* The person block (Appendix G: name, title, date, location, contact,
 * signature) for whoever runs this process. */
static json_t *person(const struct spif_actor *a, const struct spif_conf *conf, const char *date,
                      const char *sig_fpr)
{
	json_t *p = json_object();
	json_object_set_new(p, "name", json_string(a->operator_));
	json_object_set_new(p, "sudo_user", jstr(a->sudo_user));
	json_object_set_new(p, "host", json_string(a->host));
	json_object_set_new(p, "title", jstr(conf->title));
	json_object_set_new(p, "location", jstr(conf->location));
	json_object_set_new(p, "contact", jstr(conf->contact));
	json_object_set_new(p, "date", json_string(date));
	json_object_set_new(p, "signature",
	                    sig_fpr ? json_sprintf("OpenPGP detached signature by %s", sig_fpr)
	                            : json_string("unsigned (no signing key configured)"));
	return p;
}

static int next_number(struct spif_catalog *c, int year, long long *n, struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_cached(c, "SELECT COALESCE(MAX(n), 0) + 1 FROM certificates WHERE year = ?",
	                         &st, err) < 0)
		return -1;
	sqlite3_bind_int(st, 1, year);
	int rc = sqlite3_step(st);
	*n = sqlite3_column_int64(st, 0);
	spif_catalog_release(st);
	if (rc != SQLITE_ROW)
		return spif_catalog_sqlerr(c, rc, "number certificate", err);
	return 0;
}

/* Sign when a key is named: *sig is the detached signature, or NULL. */
static int sign_body(const char *key, const char *body, char **sig, char fpr[41],
                     struct spif_err *err)
{
	*sig = NULL;
	fpr[0] = '\0';
	if (!key || !*key)
		return 0;
	return spif_pgp_sign(key, body, strlen(body), sig, fpr, err);
}

/* The standard the sanitization's category follows, and the guideline
 * the certificate serves, named in the signed body ("standard"), so that
 * an auditor reading the JSON alone knows which text to hold it against.
 * Crypto-erase follows NIST SP 800-88 Rev. 2 (September 2025), whose
 * cryptographic-erase section the claim is written to (vault_cert.c); an
 * overwrite is Clear as Rev. 1 defines it per medium (Rev. 2 moved the
 * per-medium techniques out, to IEEE 2883); the certificate's items are
 * Rev. 1 Appendix G's (its sample certificate), as before.  What
 * asking for the other revision would change is said in words, not done:
 * a certificate is never rewritten.  Certificates issued before this
 * field have none; verification hashes the stored bytes, so they verify
 * as they did. */
static json_t *standard_of(const json_t *san)
{
	const char *cat = json_string_value(json_object_get(san, "category"));
	int crypto = cat && strstr(cat, "cryptographic erase");
	json_t *s = json_object();
	json_object_set_new(s, "nist", json_string("NIST SP 800-88"));
	json_object_set_new(s, "revision", json_string(crypto ? "Rev. 2" : "Rev. 1"));
	json_object_set_new(s, "published", json_string(crypto ? "2025-09" : "2014-12"));
	json_object_set_new(s, "applies_to",
	                    json_string(crypto ? "Purge by cryptographic erase (Rev. 2: sanitize the data by "
	                                         "sanitizing the key that protects it; every copy of the key "
	                                         "accounted for)"
	                                       : "Clear by overwrite (Rev. 1: at least one pass over every "
	                                         "addressable location the file occupied, then verified)"));
	json_object_set_new(s, "certificate_items", json_string("NIST SP 800-88 Rev. 1 Appendix G"));
	json_object_set_new(s, "other_revision",
	                    json_string(crypto ? "under Rev. 1 the same erase is Purge by cryptographic erase "
	                                         "(its section 2.6), stated with fewer conditions on where "
	                                         "the key lived: the steps and what is destroyed are the "
	                                         "same"
	                                       : "under Rev. 2 Clear is the same overwrite, its technique "
	                                         "named by IEEE 2883 for the medium; the steps and the "
	                                         "verification are the same"));
	json_object_set_new(s, "guideline",
	                    json_string("特定個人情報の適正な取扱いに関するガイドライン（行政機関等編）"
	                                "（別添）特定個人情報に関する安全管理措置: 個人番号の削除、"
	                                "機器及び電子媒体等の廃棄; 削除・廃棄の記録"));
	return s;
}

/* The body names the signing key as configured; the fingerprint GnuPG
 * reports is stored beside it and in the certificate's event. */
int spif_cert_issue(struct spif_catalog *c, const struct spif_conf *conf,
                    const struct spif_cert_input *in, char id[32], struct spif_err *err)
{
	const struct spif_actor *a = spif_catalog_actor(c);
	char now[32], jst[32], head[65], fid[24] = "";
	long long head_seq, n;
	spif_now_utc(now);
	int year = to_jst(now, jst);
	if (spif_audit_head(c, &head_seq, head, err) < 0 || next_number(c, year, &n, err) < 0)
		return -1;
	snprintf(id, 32, "DC-%04d-%06lld", year, n);
	if (in->file)
		spif_file_id_format(in->file->id, fid);

	json_t *b = json_object();
	json_object_set_new(b, "format", json_string("spif-certificate/1"));
	json_object_set_new(b, "id", json_string(id));
	json_object_set_new(b, "kind", json_string(in->kind));
	json_object_set_new(b, "issued_at", json_pack("{s:s,s:s}", "utc", now, "jst", jst));
	json_object_set_new(b, "tool", json_pack("{s:s,s:s}", "name", "spif", "version", SPIF_VERSION));
	json_object_set_new(b, "catalog", json_pack("{s:s,s:{s:I,s:s}}", "id", spif_catalog_id(c),
	                                            "audit_head", "seq", (json_int_t)head_seq, "hash", head));
	json_t *what = json_object();
	if (in->file) {
		const struct spif_file *f = in->file;
		json_object_set_new(what, "catalogued", json_true());
		json_object_set_new(what, "file_id", json_string(fid));
		json_object_set_new(what, "label", jstr(f->label));
		json_object_set_new(what, "purpose", jstr(f->purpose));
		json_object_set_new(what, "records", json_integer(f->records));
		json_object_set_new(what, "persons", json_integer(f->persons));
		json_object_set_new(what, "received", jstr(f->received));
		json_object_set_new(what, "schedule", jstr(f->schedule));
		json_object_set_new(what, "retain_until", jstr(f->retain_until));
		json_object_set_new(what, "content_sha256", jstr(f->sha256));
	} else {
		json_object_set_new(what, "catalogued", json_false());
		json_object_set_new(what, "note", json_string("not catalogued: a copy found outside the catalog"));
	}
	json_object_set_new(b, "file", what);
	json_object_set_new(b, "copies", json_deep_copy(in->copies));
	json_t *san = json_deep_copy(in->sanitization);
	json_object_set_new(san, "tool", json_sprintf("spif %s (%s)", SPIF_VERSION,
	                                              in->command ? in->command : "spif"));
	json_object_set_new(san, "post_sanitization_destination",
	                    json_string(in->destination && *in->destination ? in->destination
	                                                                    : "remains in service"));
	json_object_set_new(b, "standard", standard_of(san));
	json_object_set_new(b, "sanitization", san);
	json_object_set_new(b, "verification", json_deep_copy(in->verification));
	int signing = in->sign_key && *in->sign_key;
	json_object_set_new(b, "sanitized_by", person(a, conf, jst, signing ? in->sign_key : NULL));
	json_object_set_new(b, "verified_by",
	                    json_string("pending: a second person confirms with 'spif catalog cert confirm'"));
	json_object_set_new(b, "reason", jstr(in->reason));
	/* the Japanese record items, as a 廃棄記録 lists them */
	const char *method = json_string_value(json_object_get(in->sanitization, "description"));
	json_t *jp = json_object();
	json_object_set_new(jp, "証明書番号", json_string(id));
	json_object_set_new(jp, "対象ファイル名", jstr(in->file ? in->file->label : NULL));
	json_object_set_new(jp, "事務", jstr(in->file ? in->file->purpose : NULL));
	json_object_set_new(jp, "件数", in->file ? json_integer(in->file->records) : json_null());
	json_object_set_new(jp, "人数", in->file ? json_integer(in->file->persons) : json_null());
	json_object_set_new(jp, "廃棄日時", json_string(jst));
	json_object_set_new(jp, "廃棄方法", jstr(method));
	json_object_set_new(jp, "実施者", json_string(a->operator_));
	json_object_set_new(jp, "確認者", json_string("未確認 (spif catalog cert confirm)"));
	json_object_set_new(jp, "理由", jstr(in->reason));
	json_object_set_new(b, "record_ja", jp);

	char *body = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(b);
	if (!body)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	char sha[65], fpr[41], *sig = NULL;
	spif_sha256_buf(body, strlen(body), sha);
	if (sign_body(in->sign_key, body, &sig, fpr, err) < 0) {
		free(body);
		return -1;
	}
	json_t *d = json_pack("{s:s,s:s,s:o,s:o}", "kind", in->kind, "sha256", sha, "file",
	                      in->file ? json_string(fid) : json_null(), "signer",
	                      sig ? json_string(fpr) : json_null());
	long long seq;
	int rc = spif_audit_append(c, "certificate", id, d, &seq, err);
	json_decref(d);
	sqlite3_stmt *st = NULL;
	if (rc == 0)
		rc = spif_catalog_cached(c,
		        "INSERT INTO certificates(id,year,n,kind,file_id,issued,operator,body,sha256,"
		        "signature,signer,event_seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", &st, err);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, year);
		sqlite3_bind_int64(st, 3, n);
		sqlite3_bind_text(st, 4, in->kind, -1, SQLITE_STATIC);
		if (in->file)
			sqlite3_bind_int64(st, 5, in->file->id);
		else
			sqlite3_bind_null(st, 5);
		sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, a->operator_, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, body, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, sha, -1, SQLITE_STATIC);
		if (sig) {
			sqlite3_bind_text(st, 10, sig, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 11, fpr, -1, SQLITE_STATIC);
		}
		sqlite3_bind_int64(st, 12, seq);
		int s = sqlite3_step(st);
		spif_catalog_release(st);
		if (s != SQLITE_DONE)
			rc = spif_catalog_sqlerr(c, s, "store certificate", err);
	}
	for (size_t i = 0; rc == 0 && i < in->ncopy_ids; i++) {
		if ((rc = spif_catalog_cached(c, "INSERT INTO certificate_copies(cert_id,copy_id) VALUES(?,?)",
		                               &st, err)) < 0)
			break;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, in->copy_ids[i]);
		int s = sqlite3_step(st);
		spif_catalog_release(st);
		if (s != SQLITE_DONE)
			rc = spif_catalog_sqlerr(c, s, "link certificate", err);
	}
	free(body);
	free(sig);
	return rc;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

int spif_cert_load(struct spif_catalog *c, const char *id, struct spif_cert *out,
                   struct spif_err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c,
	        "SELECT c.id, c.body, c.signature, c.signer, c.sha256, c.operator, c.event_seq,"
	        " f.body, f.signature, f.signer, f.operator, f.event_seq, k.signature, k.signer, k.event_seq"
	        " FROM certificates c LEFT JOIN confirmations f ON f.cert_id = c.id"
	        " LEFT JOIN cert_cosignatures k ON k.cert_id = c.id"
	        " WHERE c.id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->id, sizeof out->id, "%s", (const char *)sqlite3_column_text(st, 0));
		out->body = dup_col(st, 1);
		out->signature = dup_col(st, 2);
		out->signer = dup_col(st, 3);
		out->sha256 = dup_col(st, 4);
		out->operator_ = dup_col(st, 5);
		out->event_seq = sqlite3_column_int64(st, 6);
		out->confirmation = dup_col(st, 7);
		out->confirmation_sig = dup_col(st, 8);
		out->confirmation_signer = dup_col(st, 9);
		out->confirmer = dup_col(st, 10);
		out->confirmation_seq = sqlite3_column_int64(st, 11);
		out->cosignature = dup_col(st, 12);
		out->cosigner = dup_col(st, 13);
		out->cosign_seq = sqlite3_column_int64(st, 14);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return spif_err_set(err, SPIF_EX_DATAERR, "no certificate %s in the catalog", id);
	return spif_catalog_sqlerr(c, rc, "load certificate", err);
}

int spif_cert_list(struct spif_catalog *c, int (*fn)(void *ctx, const struct spif_cert_row *r), void *ctx,
                   struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT c.id, c.kind, c.file_id, c.issued, c.operator, c.signer IS NOT NULL,"
	                            " f.operator FROM certificates c LEFT JOIN confirmations f ON f.cert_id = c.id"
	                            " ORDER BY c.year, c.n", &st, err) < 0)
		return -1;
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spif_cert_row r = {
			.id = (const char *)sqlite3_column_text(st, 0),
			.kind = (const char *)sqlite3_column_text(st, 1),
			.file_id = sqlite3_column_int64(st, 2),
			.issued = (const char *)sqlite3_column_text(st, 3),
			.operator_ = (const char *)sqlite3_column_text(st, 4),
			.signed_ = sqlite3_column_int(st, 5),
			.confirmed_by = (const char *)sqlite3_column_text(st, 6),
		};
		stop = fn(ctx, &r);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "list certificates", err);
	return 0;
}

void spif_cert_free(struct spif_cert *ct)
{
	free(ct->body); free(ct->signature); free(ct->signer); free(ct->sha256);
	free(ct->operator_); free(ct->confirmation); free(ct->confirmation_sig);
	free(ct->confirmation_signer); free(ct->confirmer);
	free(ct->cosignature); free(ct->cosigner);
	memset(ct, 0, sizeof *ct);
}

int spif_cert_confirm(struct spif_catalog *c, const struct spif_conf *conf, const char *id,
                      const char *sign_key, const char *note, struct spif_err *err)
{
	struct spif_cert ct;
	if (spif_cert_load(c, id, &ct, err) < 0)
		return -1;
	const struct spif_actor *a = spif_catalog_actor(c);
	int rc = -1;
	if (ct.confirmation) {
		spif_err_set(err, SPIF_EX_DATAERR, "%s is already confirmed", id);
		goto out;
	}
	/* verification is done by someone else (NIST SP 800-88 App. G; the
	 * guideline's 確認者): the sanitizer cannot confirm their own work */
	if (strcmp(ct.operator_, a->operator_) == 0) {
		spif_err_set(err, SPIF_EX_NOPERM,
		             "%s was issued by %s: the confirmation must come from another operator", id,
		             a->operator_);
		goto out;
	}
	char now[32], jst[32];
	spif_now_utc(now);
	to_jst(now, jst);
	int signing = sign_key && *sign_key;
	json_t *b = json_object();
	json_object_set_new(b, "format", json_string("spif-confirmation/1"));
	json_object_set_new(b, "certificate", json_string(id));
	json_object_set_new(b, "certificate_sha256", json_string(ct.sha256));
	json_object_set_new(b, "result", json_string("confirmed"));
	json_object_set_new(b, "note", jstr(note));
	json_object_set_new(b, "verified_by", person(a, conf, jst, signing ? sign_key : NULL));
	char *body = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(b);
	char fpr[41], *sig = NULL;
	if (!body || sign_body(sign_key, body, &sig, fpr, err) < 0)
		goto out_body;
	char sha[65];
	spif_sha256_buf(body, strlen(body), sha);
	json_t *d = json_pack("{s:s,s:s,s:o}", "certificate_sha256", ct.sha256, "sha256", sha, "signer",
	                      sig ? json_string(fpr) : json_null());
	long long seq;
	int r = spif_audit_append(c, "certificate.confirm", id, d, &seq, err);
	json_decref(d);
	sqlite3_stmt *st;
	if (r == 0 && spif_catalog_prepare(c,
	        "INSERT INTO confirmations(cert_id,operator,confirmed,body,signature,signer,event_seq)"
	        " VALUES(?,?,?,?,?,?,?)", &st, err) == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, a->operator_, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
		if (sig) {
			sqlite3_bind_text(st, 5, sig, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, fpr, -1, SQLITE_STATIC);
		}
		sqlite3_bind_int64(st, 7, seq);
		int s = sqlite3_step(st);
		sqlite3_finalize(st);
		rc = s == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, s, "store confirmation", err);
	}
	free(sig);
out_body:
	free(body);
out:
	spif_cert_free(&ct);
	return rc;
}

/* ---- rendering ------------------------------------------------------- */

struct buf {
	char *p;
	size_t n;
};

static const char *s_or(json_t *o, const char *key, const char *dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : dflt;
}

static void line(FILE *f, const char *ja, const char *en, const char *v)
{
	char label[160];
	snprintf(label, sizeof label, "%s / %s", ja, en);
	int pad = 44 - spif_text_columns(label);
	fprintf(f, "  %s%*s %s\n", label, pad > 0 ? pad : 0, "", v && *v ? v : "-");
}

static void line_int(FILE *f, const char *ja, const char *en, json_t *v)
{
	char b[32] = "-";
	if (json_is_integer(v))
		snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
	line(f, ja, en, b);
}

static void person_block(FILE *f, json_t *p)
{
	line(f, "氏名", "Name", s_or(p, "name", NULL));
	line(f, "職名", "Title", s_or(p, "title", NULL));
	line(f, "日時", "Date", s_or(p, "date", NULL));
	line(f, "場所", "Location", s_or(p, "location", NULL));
	line(f, "連絡先", "Contact", s_or(p, "contact", NULL));
	line(f, "署名", "Signature", s_or(p, "signature", NULL));
}

char *spif_cert_render(const struct spif_cert *ct)
{
	json_t *b = json_loads(ct->body, 0, NULL);
	if (!b)
		return NULL;
	struct buf out = {0};
	FILE *f = open_memstream(&out.p, &out.n);
	if (!f) {
		json_decref(b);
		return NULL;
	}
	json_t *file = json_object_get(b, "file"), *san = json_object_get(b, "sanitization");
	json_t *ver = json_object_get(b, "verification"), *at = json_object_get(b, "issued_at");
	fprintf(f, "%s\n%s\n\n",
	        strcmp(s_or(b, "kind", ""), "redaction") == 0 ? "個人番号削除証明書 / Certificate of Number Removal"
	                                                       : "廃棄証明書 / Certificate of Sanitization",
	        "(NIST SP 800-88 Rev. 1 Appendix G; 特定個人情報の適正な取扱いに関するガイドライン)");
	line(f, "証明書番号", "Certificate number", s_or(b, "id", NULL));
	line(f, "発行日時", "Issued (JST)", s_or(at, "jst", NULL));
	line(f, "発行日時", "Issued (UTC)", s_or(at, "utc", NULL));
	json_t *tool = json_object_get(b, "tool"), *cat = json_object_get(b, "catalog");
	char tv[96];
	snprintf(tv, sizeof tv, "%s %s", s_or(tool, "name", "spif"), s_or(tool, "version", "?"));
	line(f, "ツール", "Tool", tv);
	line(f, "台帳ID", "Catalog", s_or(cat, "id", NULL));
	line(f, "監査ログ", "Audit log head", s_or(json_object_get(cat, "audit_head"), "hash", NULL));
	fprintf(f, "\n対象 / What was sanitized\n");
	if (json_is_true(json_object_get(file, "catalogued"))) {
		line(f, "ファイルID", "File", s_or(file, "file_id", NULL));
		line(f, "対象ファイル名", "Label", s_or(file, "label", NULL));
		line(f, "事務", "Purpose", s_or(file, "purpose", NULL));
		line_int(f, "件数", "Records", json_object_get(file, "records"));
		line_int(f, "人数", "Persons", json_object_get(file, "persons"));
		line(f, "保存期間満了", "Retain until", s_or(file, "retain_until", NULL));
	} else
		line(f, "台帳", "Catalogue", "未登録 / not catalogued (found copy)");
	size_t i;
	json_t *cp;
	json_array_foreach(json_object_get(b, "copies"), i, cp) {
		char size[32] = "-";
		if (json_is_integer(json_object_get(cp, "size")))
			snprintf(size, sizeof size, "%lld bytes", (long long)json_integer_value(json_object_get(cp, "size")));
		fprintf(f, "  [%zu]\n", i + 1);
		line(f, "パス", "Path", s_or(cp, "path", NULL));
		line(f, "大きさ", "Size", size);
		line(f, "SHA-256(消去前)", "SHA-256 before", s_or(cp, "sha256_before", NULL));
		/* what the catalog had, and (resumed) what the finishing run found */
		if (json_object_get(cp, "sha256_catalogued"))
			line(f, "SHA-256(台帳)", "SHA-256 catalogued", s_or(cp, "sha256_catalogued", NULL));
		if (json_object_get(cp, "sha256_when_resumed"))
			line(f, "SHA-256(再開時)", "SHA-256 when resumed", s_or(cp, "sha256_when_resumed", NULL));
		if (json_object_get(cp, "changed"))
			line(f, "台帳との相違", "Not as catalogued", s_or(cp, "changed", NULL));
		line(f, "媒体", "Media type", s_or(cp, "media_type", NULL));
		line(f, "媒体の所在", "Media source", s_or(cp, "media_source", NULL));
		line(f, "ファイルシステム", "Filesystem", s_or(cp, "fstype", NULL));
		line(f, "装置", "Device", s_or(cp, "device", NULL));
		line(f, "型番", "Model", s_or(cp, "model", NULL));
		line(f, "製造番号", "Serial", s_or(cp, "serial", NULL));
		if (json_object_get(cp, "medium_attestation"))
			line(f, "媒体の保証", "Medium attestation", s_or(cp, "medium_attestation", NULL));
		if (json_object_get(cp, "found_at"))
			line(f, "発見場所", "Found at", s_or(cp, "found_at", NULL));
		if (json_object_get(cp, "resumed"))
			line(f, "中断後の処理", "After an interruption", s_or(cp, "resumed", NULL));
	}
	fprintf(f, "\n消去 / Sanitization\n");
	line(f, "区分", "Category", s_or(san, "category", NULL));
	line(f, "廃棄方法", "Description", s_or(san, "description", NULL));
	json_t *std = json_object_get(b, "standard");
	if (std) { /* certificates issued before it name none */
		char sv[160];
		snprintf(sv, sizeof sv, "%s %s (%s)", s_or(std, "nist", "?"), s_or(std, "revision", "?"),
		         s_or(std, "published", "?"));
		line(f, "準拠規格", "Standard", sv);
		line(f, "他の版では", "Under the other revision", s_or(std, "other_revision", NULL));
		line(f, "ガイドライン", "Guideline", s_or(std, "guideline", NULL));
	}
	line(f, "方式", "Method", s_or(san, "method", NULL));
	line(f, "パターン", "Pattern", s_or(san, "pattern", NULL));
	line(f, "ツール", "Tool used", s_or(san, "tool", NULL));
	line(f, "消去後の扱い", "Post-sanitization destination",
	     s_or(san, "post_sanitization_destination", NULL));
	/* "caveats" (a list); certificates issued before it had one "caveat" */
	if (json_object_get(san, "caveat"))
		line(f, "留意事項", "Caveat", s_or(san, "caveat", NULL));
	json_t *cv;
	json_array_foreach(json_object_get(san, "caveats"), i, cv)
		line(f, "留意事項", "Caveat", json_string_value(cv));
	line(f, "理由", "Reason", s_or(b, "reason", NULL));
	fprintf(f, "\n検証 / Verification\n");
	line(f, "検証方法", "Method", s_or(ver, "method", NULL));
	line(f, "結果", "Result", s_or(ver, "result", NULL));
	fprintf(f, "\n実施者 / Sanitized by\n");
	person_block(f, json_object_get(b, "sanitized_by"));
	fprintf(f, "\n確認者 / Verified by\n");
	json_t *conf = ct->confirmation ? json_loads(ct->confirmation, 0, NULL) : NULL;
	if (conf) {
		person_block(f, json_object_get(conf, "verified_by"));
		line(f, "結果", "Result", s_or(conf, "result", NULL));
		line(f, "備考", "Note", s_or(conf, "note", NULL));
		json_decref(conf);
	} else
		fprintf(f, "  未確認 / not yet confirmed (spif catalog cert confirm %s)\n", ct->id);
	fprintf(f, "\nSHA-256 of this certificate's JSON: %s\n", ct->sha256 ? ct->sha256 : "-");
	fclose(f);
	json_decref(b);
	return out.p;
}

/* ---- verification ---------------------------------------------------- */

/* A verification that found something (exit 1): the summary line in the
 * reader's language, err in both (cert_fail is an xgettext keyword). */
static int cert_fail(char *summary, size_t sumlen, struct spif_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int cert_fail(char *summary, size_t sumlen, struct spif_err *err, const char *fmt, ...)
{
	struct spif_err e = {0};
	va_list ap;
	va_start(ap, fmt);
	spif_err_setv(&e, SPIF_FOUND, fmt, ap);
	va_end(ap);
	snprintf(summary, sumlen, "%s", e.msg);
	if (err)
		*err = e;
	return -1;
}

/* The event at seq: action and object as given, and its details (new
 * reference), else NULL. */
static json_t *event_details(struct spif_catalog *c, long long seq, const char *action, const char *object,
                             struct spif_err *err, int *failed)
{
	sqlite3_stmt *st;
	json_t *d = NULL;
	*failed = 0;
	if (spif_catalog_prepare(c, "SELECT action, object, details FROM events WHERE seq = ?", &st, err) < 0) {
		*failed = 1;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *act = (const char *)sqlite3_column_text(st, 0);
		const char *obj = (const char *)sqlite3_column_text(st, 1);
		if (act && obj && strcmp(act, action) == 0 && strcmp(obj, object) == 0)
			d = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
	}
	sqlite3_finalize(st);
	return d;
}

/* A detached signature over body: it verifies, and was made by the key
 * recorded (signer) -- which the event recorded too (ev_signer: a
 * fingerprint, or NULL when it was unsigned), so that a signature removed
 * from the catalog is noticed.  fpr gets the signer ("" unsigned). */
static int check_sig(const char *what, const char *body, const char *sig, size_t sl, const char *signer,
                     const char *ev_signer, char fpr[41], char *summary, size_t sumlen, struct spif_err *err)
{
	char uid[256] = "";
	fpr[0] = '\0';
	if (!sig) {
		if (ev_signer)
			return cert_fail(summary, sumlen, err, "%s: signed by %s when it was made, but the signature is missing",
			            what, ev_signer);
		return 0;
	}
	if (spif_pgp_verify(body, strlen(body), sig, sl, fpr, uid, sizeof uid, err) < 0) {
		spif_err_prefix(err, "%s: signature", what);
		snprintf(summary, sumlen, "%s", err->msg);
		return -1;
	}
	if ((signer && strcmp(fpr, signer) != 0) || (ev_signer && strcmp(fpr, ev_signer) != 0))
		return cert_fail(summary, sumlen, err, "%s: signed by a different key than the one recorded", what);
	return 0;
}

/* The confirmation of ct (whose body hashes to sha): see cert.h.  note
 * gets what the summary says of it. */
static int verify_confirmation(struct spif_catalog *c, const struct spif_cert *ct, const char *sha,
                               const struct spif_cert_files *in, const struct spif_verify *v, char *note,
                               size_t notelen, char *summary, size_t sumlen, struct spif_err *err)
{
	const char *id = ct->id;
	if (!ct->confirmation) {
		if (in && in->conf)
			return cert_fail(summary, sumlen, err, "%s: a confirmation was given, but the catalog has none", id);
		snprintf(note, notelen, "%s", _(", not yet confirmed"));
		return 0;
	}
	const char *body = ct->confirmation;
	if (in && in->conf && (in->conf_n != strlen(body) || memcmp(in->conf, body, in->conf_n) != 0))
		return cert_fail(summary, sumlen, err, "%s: the confirmation differs from the one the catalog recorded", id);
	json_t *j = json_loads(body, 0, NULL);
	int bound = j && strcmp(s_or(j, "format", ""), "spif-confirmation/1") == 0 &&
	            strcmp(s_or(j, "certificate", ""), id) == 0 && strcmp(s_or(j, "certificate_sha256", ""), sha) == 0;
	json_decref(j);
	if (!bound)
		return cert_fail(summary, sumlen, err, "%s: the confirmation does not name this certificate and its hash", id);
	char csha[65];
	spif_sha256_buf(body, strlen(body), csha);
	if (v->bad_seq && v->bad_seq <= ct->confirmation_seq)
		return cert_fail(summary, sumlen, err, "the audit log is broken before the confirmation's event: %s", v->why);
	int failed;
	json_t *d = event_details(c, ct->confirmation_seq, "certificate.confirm", id, err, &failed);
	if (failed)
		return -1;
	int ev_ok = d && strcmp(s_or(d, "sha256", ""), csha) == 0 && strcmp(s_or(d, "certificate_sha256", ""), sha) == 0;
	char ev_signer[41] = "";
	if (d && json_is_string(json_object_get(d, "signer")))
		snprintf(ev_signer, sizeof ev_signer, "%s", s_or(d, "signer", ""));
	json_decref(d);
	if (!ev_ok)
		return cert_fail(summary, sumlen, err, "%s: the confirmation's event is missing from the audit log or does not "
		            "match it", id);
	const char *s = in && in->conf && in->conf_sig ? in->conf_sig : ct->confirmation_sig;
	size_t sl = in && in->conf && in->conf_sig ? in->conf_sig_n : s ? strlen(s) : 0;
	char what[64], fpr[41];
	snprintf(what, sizeof what, "%s: confirmation", id);
	if (check_sig(what, body, s, sl, ct->confirmation_signer, ev_signer[0] ? ev_signer : NULL, fpr, summary,
	              sumlen, err) < 0)
		return -1;
	snprintf(note, notelen, _(", confirmed by %s (event %lld, %s%s)"), ct->confirmer ? ct->confirmer : "?",
	         ct->confirmation_seq, s ? _("signature by ") : _("unsigned"), s ? fpr : "");
	return 0;
}

/* The organisation's co-signature of ct (body hashing to sha), when there
 * is one: its event in the intact chain names this certificate, its hash
 * and the signer, and the signature verifies by that key.  note gets what
 * the summary says of it. */
static int verify_cosign(struct spif_catalog *c, const struct spif_cert *ct, const char *sha,
                         const struct spif_verify *v, char *note, size_t notelen, char *summary, size_t sumlen,
                         struct spif_err *err)
{
	note[0] = '\0';
	if (!ct->cosignature)
		return 0;
	if (v->bad_seq && v->bad_seq <= ct->cosign_seq)
		return cert_fail(summary, sumlen, err, "the audit log is broken before the co-signature's event: %s", v->why);
	int failed;
	json_t *d = event_details(c, ct->cosign_seq, "certificate.cosign", ct->id, err, &failed);
	if (failed)
		return -1;
	int ev_ok = d && strcmp(s_or(d, "sha256", ""), sha) == 0;
	char ev_signer[41] = "";
	snprintf(ev_signer, sizeof ev_signer, "%s", d ? s_or(d, "signer", "") : "");
	json_decref(d);
	if (!ev_ok || !ev_signer[0])
		return cert_fail(summary, sumlen, err, "%s: the co-signature's event is missing from the audit log or does not "
		            "match it", ct->id);
	char what[64], fpr[41];
	snprintf(what, sizeof what, "%s: co-signature", ct->id);
	if (check_sig(what, ct->body, ct->cosignature, strlen(ct->cosignature), ct->cosigner, ev_signer, fpr, summary,
	              sumlen, err) < 0)
		return -1;
	snprintf(note, notelen, _(", co-signed by %s (event %lld)"), fpr, ct->cosign_seq);
	return 0;
}

int spif_cert_cosign(struct spif_catalog *c, const char *id, const char *key, char fpr[41], struct spif_err *err)
{
	if (spif_catalog_need_tx(c, "spif_cert_cosign", err) < 0)
		return -1;
	struct spif_cert ct;
	if (spif_cert_load(c, id, &ct, err) < 0)
		return -1;
	int rc = -1;
	char *sig = NULL, sha[65], now[32];
	/* co-signed already, or signed by the key an earlier call found key
	 * to be: nothing to add, and nothing to sign to learn it */
	if (ct.cosignature || (fpr[0] && ct.signer && strcmp(ct.signer, fpr) == 0)) {
		rc = 0;
		goto out;
	}
	if (spif_pgp_sign(key, ct.body, strlen(ct.body), &sig, fpr, err) < 0)
		goto out;
	if (ct.signer && strcmp(ct.signer, fpr) == 0) { /* its own signature is the organisation's */
		rc = 0;
		goto out;
	}
	spif_sha256_buf(ct.body, strlen(ct.body), sha);
	spif_now_utc(now);
	long long seq = 0;
	char head[65];
	if (spif_audit_head(c, &seq, head, err) < 0)
		goto out;
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "INSERT INTO cert_cosignatures(cert_id,signer,signature,signed,event_seq)"
	                            " VALUES(?,?,?,?,?)", &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, fpr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, sig, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, seq + 1); /* the event below: the row names it, the event records the row */
	int sr = sqlite3_step(st);
	sqlite3_finalize(st);
	if (sr != SQLITE_DONE) {
		spif_catalog_sqlerr(c, sr, "store co-signature", err);
		goto out;
	}
	json_t *d = json_pack("{s:s,s:s}", "sha256", sha, "signer", fpr);
	rc = spif_audit_append(c, "certificate.cosign", id, d, NULL, err) < 0 ? -1 : 1;
	json_decref(d);
out:
	free(sig);
	spif_cert_free(&ct);
	return rc;
}

int spif_cert_uncosigned(struct spif_catalog *c, int (*fn)(void *ctx, const char *id), void *ctx,
                         struct spif_err *err)
{
	sqlite3_stmt *st;
	if (spif_catalog_prepare(c, "SELECT c.id FROM certificates c LEFT JOIN cert_cosignatures k ON k.cert_id = c.id"
	                            " WHERE k.cert_id IS NULL ORDER BY c.year, c.n", &st, err) < 0)
		return -1;
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(ctx, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "list certificates", err);
}

int spif_cert_verify(struct spif_catalog *c, const char *id, const struct spif_cert_files *in, char *summary,
                     size_t sumlen, struct spif_err *err)
{
	struct spif_cert ct;
	if (spif_cert_load(c, id, &ct, err) < 0)
		return -1;
	int rc = -1;
	char sha[65];
	if (in && in->body && (in->body_n != strlen(ct.body) || memcmp(in->body, ct.body, in->body_n) != 0)) {
		cert_fail(summary, sumlen, err, "%s: the document differs from the certificate the catalog issued", id);
		goto out;
	}
	spif_sha256_buf(ct.body, strlen(ct.body), sha);
	if (strcmp(sha, ct.sha256) != 0) {
		cert_fail(summary, sumlen, err, "%s: the stored certificate no longer matches its hash", id);
		goto out;
	}
	/* its event: in the chain, naming this certificate and this hash */
	struct spif_verify v;
	if (spif_audit_verify(c, &v, err) < 0)
		goto out;
	if (v.bad_seq && v.bad_seq <= ct.event_seq) {
		cert_fail(summary, sumlen, err, "the audit log is broken before this certificate's event: %s", v.why);
		goto out;
	}
	int failed;
	json_t *d = event_details(c, ct.event_seq, "certificate", id, err, &failed);
	if (failed)
		goto out;
	int ev_ok = d && strcmp(s_or(d, "sha256", ""), sha) == 0;
	char ev_signer[41] = "";
	if (d && json_is_string(json_object_get(d, "signer")))
		snprintf(ev_signer, sizeof ev_signer, "%s", s_or(d, "signer", ""));
	json_decref(d);
	if (!ev_ok) {
		cert_fail(summary, sumlen, err, "%s: its issuing event is missing from the audit log or does not match", id);
		goto out;
	}
	const char *s = in && in->body && in->sig ? in->sig : ct.signature;
	size_t sl = in && in->body && in->sig ? in->sig_n : (s ? strlen(s) : 0);
	char fpr[41], note[256], conote[128];
	if (check_sig(id, ct.body, s, sl, ct.signer, ev_signer[0] ? ev_signer : NULL, fpr, summary, sumlen, err) < 0 ||
	    verify_cosign(c, &ct, sha, &v, conote, sizeof conote, summary, sumlen, err) < 0 ||
	    verify_confirmation(c, &ct, sha, in, &v, note, sizeof note, summary, sumlen, err) < 0)
		goto out;
	/* the summary is printed for a person: in their words */
	snprintf(summary, sumlen, _("%s: good: matches the catalog, its event %lld is in the intact audit log%s%s%s%s"),
	         id, ct.event_seq, s ? _(", signature by ") : _(", unsigned"), s ? fpr : "", conote, note);
	rc = 0;
out:
	spif_cert_free(&ct);
	return rc;
}

/* ---- offline verification (checkpoint.h) ------------------------------ */

int spif_cert_verify_offline(const struct spif_cert_files *in, const char *proof, size_t proof_n,
                             const struct spif_note_verifier *v, char *summary, size_t sumlen, struct spif_err *err)
{
	if (!in->body)
		return cert_fail(summary, sumlen, err, "no certificate to verify");
	struct spif_inclusion inc;
	struct spif_err e = {0};
	if (spif_cert_proof_verify(in->body, in->body_n, proof, proof_n, v, &inc, &e) < 0) {
		snprintf(summary, sumlen, "%s", e.msg);
		if (err)
			*err = e, err->code = SPIF_FOUND;
		return -1;
	}
	/* the signature is over the bytes as given: a NUL inside them would
	 * end a C string early and must not pass for the whole */
	char *body = strndup(in->body, in->body_n);
	if (!body)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	if (strlen(body) != in->body_n) {
		free(body);
		return cert_fail(summary, sumlen, err, "%s: the certificate holds a NUL byte", inc.certificate);
	}
	char fpr[41];
	int rc = check_sig(inc.certificate, body, in->sig, in->sig_n, NULL, inc.signer[0] ? inc.signer : NULL, fpr,
	                   summary, sumlen, err);
	free(body);
	if (rc < 0)
		return -1;
	snprintf(summary, sumlen, _("%s: good, offline: its event %lld is in the audit log of catalog %s under a "
	         "checkpoint of %llu events signed by the catalog's key (inclusion proof verified)%s%s"),
	         inc.certificate, inc.seq, inc.catalog, (unsigned long long)inc.tree_size,
	         in->sig ? _(", signature by ") : _(", unsigned"), in->sig ? fpr : "");
	return 0;
}
