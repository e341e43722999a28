/* review.c - see review.h */
#include "review.h"
#include "catalog_priv.h"
#include "i18n.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T(st, i) ((const char *)sqlite3_column_text(st, i))

/* The local time of a log time "YYYY-MM-DDTHH:MM:SS...Z": minutes after
 * local midnight, and "HH:MM" with its zone for a person. */
static int local_minutes(const char *utc, char *shown, size_t n)
{
	struct tm tm = {0};
	if (!utc || !strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(shown, n, "?");
		return -1;
	}
	time_t t = timegm(&tm);
	struct tm l;
	localtime_r(&t, &l);
	strftime(shown, n, "%Y-%m-%d %H:%M %z", &l);
	return l.tm_hour * 60 + l.tm_min;
}

/* An item's line twice from one format (marked N_() by the caller): in
 * English for --json, and looked up for the text a person reads. */
struct said {
	char en[1024], local[1024];
};

static void __attribute__((format(printf, 2, 3))) say(struct said *w, const char *fmt, ...)
{
	va_list ap, aq;
	va_start(ap, fmt);
	va_copy(aq, ap);
	vsnprintf(w->en, sizeof w->en, fmt, ap);
	vsnprintf(w->local, sizeof w->local, _(fmt), aq);
	va_end(aq);
	va_end(ap);
}

static const char *dstr(json_t *d, const char *k)
{
	const char *s = json_string_value(json_object_get(d, k));
	return s ? s : "";
}

int spif_review(struct spif_catalog *c, const struct spif_conf *conf, const char *since, const char *until,
                int (*fn)(void *ctx, const struct spif_review_item *it), void *ctx, struct spif_err *err)
{
	int start = conf->office_start, end = conf->office_end;
	if (!start && !end) {
		start = 8 * 60;
		end = 19 * 60;
	}
	long long bulk = conf->bulk_read > 0 ? conf->bulk_read : 1000;
	sqlite3_stmt *st;
	/* the events; a read's file with its size (the object is "F000001") */
	if (spif_catalog_prepare(c, "SELECT e.seq, e.time, e.operator, e.action, e.object, e.details,"
	                            " (SELECT f.records FROM files f WHERE e.object GLOB 'F[0-9]*'"
	                            "  AND f.id = CAST(substr(e.object, 2) AS INTEGER))"
	                            " FROM events e WHERE (?1 = '' OR e.time >= ?1) AND (?2 = '' OR e.time < ?2)"
	                            " AND e.action IN ('operator.refused', 'operator.locked', 'operator.lock',"
	                            "  'operator.unlock', 'vault.read', 'decrypt', 'retain.bypass')"
	                            " ORDER BY e.seq", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, since ? since : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, until ? until : "", -1, SQLITE_TRANSIENT);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *action = T(st, 3);
		json_t *d = json_loads(T(st, 5) ? T(st, 5) : "{}", 0, NULL);
		struct spif_review_item it = {.seq = sqlite3_column_int64(st, 0), .time = T(st, 1),
		                              .operator_ = T(st, 2), .object = T(st, 4)};
		struct said w;
		it.what = w.en;
		it.what_local = w.local;
		if (strcmp(action, "operator.refused") == 0) {
			it.kind = "refused";
			say(&w, N_("%s (uid %lld)"), dstr(d, "why"), (long long)json_integer_value(json_object_get(d, "uid")));
			stop = fn(ctx, &it);
		} else if (strncmp(action, "operator.", 9) == 0) {
			it.kind = strcmp(action, "operator.unlock") == 0 ? "unlocked" : "locked";
			if (strcmp(action, "operator.locked") == 0)
				say(&w, N_("%s locked after %lld refusals"), it.object ? it.object : "?",
				    (long long)json_integer_value(json_object_get(d, "refusals")));
			else if (strcmp(it.kind, "unlocked") == 0)
				say(&w, N_("%s unlocked by %s%s%s"), it.object ? it.object : "?", it.operator_,
				    *dstr(d, "reason") ? ": " : "", dstr(d, "reason"));
			else
				say(&w, N_("%s locked by %s%s%s"), it.object ? it.object : "?", it.operator_,
				    *dstr(d, "reason") ? ": " : "", dstr(d, "reason"));
			stop = fn(ctx, &it);
		} else if (strcmp(action, "retain.bypass") == 0) {
			it.kind = "bypass";
			say(&w, N_("%s disposed of before its schedule %s allowed (%s): %s"), it.object ? it.object : "?",
			    dstr(d, "schedule"), dstr(d, "command"), dstr(d, "reason"));
			stop = fn(ctx, &it);
		} else {
			/* a read of records: when, and how many */
			char shown[64];
			int min = local_minutes(it.time, shown, sizeof shown);
			long long records = sqlite3_column_int64(st, 6);
			const char *reason = dstr(d, "reason");
			if (min >= 0 && (min < start || min >= end)) {
				it.kind = "off-hours";
				if (*reason)
					say(&w, N_("%s of %s at %s, outside office hours %02d:%02d-%02d:%02d; reason: %s"),
					    action, it.object ? it.object : "?", shown, start / 60, start % 60, end / 60,
					    end % 60, reason);
				else
					say(&w, N_("%s of %s at %s, outside office hours %02d:%02d-%02d:%02d"), action,
					    it.object ? it.object : "?", shown, start / 60, start % 60, end / 60, end % 60);
				stop = fn(ctx, &it);
			}
			if (!stop && records >= bulk) {
				it.kind = "bulk";
				if (*reason)
					say(&w, N_("%s of %s: %lld records (bulk_read %lld); reason: %s"), action,
					    it.object ? it.object : "?", records, bulk, reason);
				else
					say(&w, N_("%s of %s: %lld records (bulk_read %lld)"), action,
					    it.object ? it.object : "?", records, bulk);
				stop = fn(ctx, &it);
			}
		}
		json_decref(d);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return spif_catalog_sqlerr(c, rc, "review the log", err);
	/* certificates of the period still waiting for their second person */
	if (spif_catalog_prepare(c, "SELECT c.id, c.issued, c.operator FROM certificates c"
	                            " WHERE NOT EXISTS (SELECT 1 FROM confirmations f WHERE f.cert_id = c.id)"
	                            " AND (?1 = '' OR c.issued >= ?1) AND (?2 = '' OR c.issued < ?2)"
	                            " ORDER BY c.year, c.n", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, since ? since : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, until ? until : "", -1, SQLITE_TRANSIENT);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct said w;
		say(&w, N_("certificate %s issued by %s is not confirmed (spif catalog cert confirm)"), T(st, 0),
		    T(st, 2));
		struct spif_review_item it = {.kind = "unconfirmed", .time = T(st, 1), .operator_ = T(st, 2),
		                              .object = T(st, 0), .what = w.en, .what_local = w.local};
		stop = fn(ctx, &it);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : spif_catalog_sqlerr(c, rc, "review certificates", err);
}
