/* calendar.h - the legal calendar, and times as people read them.
 *
 * The catalog stores instants in UTC (events, copies, certificates, holds):
 * that is what JSON and the audit log carry.  Two things are not UTC:
 *  - legal dates (retain-until, fiscal years, the day a hold was placed, the
 *    day a file was created): a Japanese municipality's 1 April starts at
 *    00:00 JST, whatever the host's clock is set to; and
 *  - a time printed for a person: "2027-04-01 08:30:00 JST", with its zone.
 * Both are in ONE zone, spif.conf `timezone` (default Asia/Tokyo).
 *
 * How the zone is applied: cli_init installs it as the process's TZ and
 * calls tzset() once, first thing in main, before any thread exists (GnuPG
 * and libgcrypt threads come later); after that localtime_r/mktime only
 * read the loaded zone rules and are thread-safe.  Nothing in lib/ sets TZ
 * (no process state changes in lib/): every conversion below goes through
 * localtime_r, so a program that does not call cli_init (a unit test)
 * simply gets the TZ it was started with.  spif_zone_tz checks the name
 * first: glibc silently takes an unknown TZ for UTC, which would put every
 * legal date nine hours wrong without a word. */
#ifndef SPIF_CALENDAR_H
#define SPIF_CALENDAR_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define SPIF_DEFAULT_TIMEZONE "Asia/Tokyo"

/* The TZ value that installs zone (NULL or "": the default): a tz database
 * name that exists under $TZDIR or /usr/share/zoneinfo ("Asia/Tokyo",
 * "UTC"), or, for Japan on a host without tzdata, the equivalent POSIX rule
 * "JST-9" (Japan has had no daylight saving since 1951).  A name that is
 * not a zone is SPIF_EX_DATAERR. */
int spif_zone_tz(const char *zone, char *tz, size_t n, struct spif_err *err);

/* THE conversion: the legal calendar date (a day number, see retention.h)
 * of an instant, in the installed zone.  Every "today" and every date taken
 * from a UTC timestamp goes through here. */
long spif_legal_day(time_t t);
/* The same for a catalog UTC time ("2027-03-31T23:30:00.000Z"); -1 when it
 * does not parse. */
int spif_legal_day_of_utc(const char *utc, long *day);
/* Its date "YYYY-MM-DD" (out: 11 bytes); "-" for NULL or unparsable. */
void spif_legal_date_of_utc(const char *utc, char out[11]);
/* The UTC instant (as the catalog writes it) at which day begins in the
 * installed zone: the bounds of a fiscal year in SQL over UTC columns. */
void spif_legal_day_start_utc(long day, char out[32]);

/* A catalog UTC time for a person: "2027-04-01 08:30:00 JST" (out: 48
 * bytes).  NULL prints "-"; an unparsable value is copied as it is. */
void spif_time_for_people(const char *utc, char out[48]);

#endif
