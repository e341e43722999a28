/* test_calendar.c - legal dates in the configured zone (calendar.h) and
 * display widths (text.h): the two things a person reads off a table. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "retention.h"
#include "tap.h"
#include "text.h"

static void zone(const char *name)
{
	char tz[160];
	struct spif_err e = {0};
	if (spif_zone_tz(name, tz, sizeof tz, &e) < 0)
		tz[0] = '\0';
	setenv("TZ", tz, 1);
	tzset();
}

int main(void)
{
	char out[48], d[11];
	long day;
	struct spif_err e = {0};

	/* 23:30 UTC on 31 March is 08:30 on 1 April in Tokyo */
	zone("Asia/Tokyo");
	ok(spif_legal_day_of_utc("2027-03-31T23:30:00.000Z", &day) == 0, "a catalog time parses");
	spif_day_format(day, d);
	is_str(d, "2027-04-01", "23:30 UTC 31 March is 1 April in Japan");
	spif_legal_date_of_utc("2027-03-31T14:59:59.999Z", d);
	is_str(d, "2027-03-31", "14:59:59 UTC is still 31 March");
	spif_time_for_people("2027-03-31T23:30:00.000Z", out);
	is_str(out, "2027-04-01 08:30:00 JST", "a time for people carries its zone");
	spif_legal_day_start_utc(spif_day_from_ymd(2027, 4, 1), out);
	is_str(out, "2027-03-31T15:00:00.000Z", "1 April begins at 15:00 UTC the day before");
	spif_time_for_people(NULL, out);
	is_str(out, "-", "no time is a dash");
	spif_time_for_people("garbage", out);
	is_str(out, "garbage", "an unparsable time is shown as it is");
	spif_legal_date_of_utc(NULL, d);
	is_str(d, "-", "no date is a dash");

	/* the host's zone does not matter once the zone is installed */
	zone("UTC");
	spif_legal_date_of_utc("2027-03-31T23:30:00.000Z", d);
	is_str(d, "2027-03-31", "in UTC the same instant is 31 March");
	char tz[160];
	ok(spif_zone_tz("", tz, sizeof tz, &e) == 0 && (strcmp(tz, "Asia/Tokyo") == 0 || strcmp(tz, "JST-9") == 0),
	   "the default zone is Japan's");
	ok(spif_zone_tz("Mars/Olympus", tz, sizeof tz, &e) < 0 && e.code == SPIF_EX_DATAERR, "an unknown zone is refused");
	ok(spif_zone_tz("../../etc/passwd", tz, sizeof tz, &e) < 0, "a path out of the zone directory is refused");

	/* display columns */
	is_int(spif_text_columns("abc"), 3, "ASCII is one column a character");
	is_int(spif_text_columns("住民税"), 6, "kanji are two");
	is_int(spif_text_columns("ｼﾞｭｳﾐﾝｾﾞｲ"), 9, "half-width katakana are one (3 bytes each)");
	is_int(spif_text_columns("ＡＢ１"), 6, "full-width Latin and digits are two");
	is_int(spif_text_columns("Ωé"), 2, "Greek and accented Latin are one");
	is_int(spif_text_columns("か\xe3\x82\x99"), 2, "a combining voicing mark takes no column");
	is_int(spif_text_columns("\xee\x80\x80"), 2, "a 外字 in the private use area is two");
	is_int(spif_text_columns("\xf0\xa0\x80\x8b"), 2, "a CJK extension B kanji is two");
	is_int(spif_text_columns("a\xff" "b"), 3, "a stray byte counts one");
	is_int(spif_text_columns("\xe4\xbd"), 2, "a cut sequence counts a column a byte");
	return tap_done();
}
