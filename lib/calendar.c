/* calendar.c - see calendar.h */
#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "retention.h"

/* A tz database name: letters, digits, '_', '-', '+', '/' and no "..":
 * it is a path under the zoneinfo directory and must stay there. */
static int zone_name_ok(const char *z)
{
	if (!*z || *z == '/' || strstr(z, ".."))
		return 0;
	for (const char *p = z; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '+' || *p == '/'))
			return 0;
	return 1;
}

int spif_zone_tz(const char *zone, char *tz, size_t n, struct spif_err *err)
{
	if (!zone || !*zone)
		zone = SPIF_DEFAULT_TIMEZONE;
	if (zone_name_ok(zone) && strlen(zone) < 128) {
		const char *dir = secure_getenv("TZDIR"); /* as glibc: not in a setgid run */
		char path[512];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			snprintf(tz, n, "%s", zone);
			return 0;
		}
		if (strcmp(zone, "Asia/Tokyo") == 0 || strcmp(zone, "Japan") == 0) {
			snprintf(tz, n, "JST-9");
			return 0;
		}
		if (strcmp(zone, "UTC") == 0) {
			snprintf(tz, n, "UTC0");
			return 0;
		}
	}
	return spif_err_set(err, SPIF_EX_DATAERR, "timezone %.64s: not a known time zone (e.g. Asia/Tokyo)", zone);
}

long spif_legal_day(time_t t)
{
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return SPIF_DAY_NONE;
	return spif_day_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static int parse_utc(const char *utc, time_t *t)
{
	struct tm tm = {0};
	if (!utc || !strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm))
		return -1;
	*t = timegm(&tm);
	return 0;
}

int spif_legal_day_of_utc(const char *utc, long *day)
{
	time_t t;
	if (parse_utc(utc, &t) < 0)
		return -1;
	*day = spif_legal_day(t);
	return *day == SPIF_DAY_NONE ? -1 : 0;
}

void spif_legal_date_of_utc(const char *utc, char out[11])
{
	long day;
	if (spif_legal_day_of_utc(utc, &day) < 0)
		day = SPIF_DAY_NONE;
	spif_day_format(day, out);
}

void spif_legal_day_start_utc(long day, char out[32])
{
	int y, m, d;
	spif_day_to_ymd(day, &y, &m, &d);
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	struct tm g;
	gmtime_r(&t, &g);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &g);
}

void spif_time_for_people(const char *utc, char out[48])
{
	time_t t;
	struct tm tm;
	if (!utc) {
		snprintf(out, 48, "-");
		return;
	}
	if (parse_utc(utc, &t) < 0 || !localtime_r(&t, &tm) || !strftime(out, 48, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(out, 48, "%.47s", utc);
}
