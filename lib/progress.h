/* progress.h - a progress line for work a person waits on.
 *
 * Shown only when stderr is a terminal and the work has run for over two
 * seconds (a short run, a pipe, cron and a log file never see one), at most
 * five times a second, as one line rewritten with '\r' and cleared at the
 * end so that the command's own last words stand alone.  lib/ never
 * prints: these decide and format; the command writes the line.
 * SPIF_PROGRESS_DELAY_MS overrides the two seconds (tests). */
#ifndef SPIF_PROGRESS_H
#define SPIF_PROGRESS_H

#include <stddef.h>
#include <time.h>

struct spif_progress {
	int on;                   /* stderr is a terminal */
	int shown;                /* a line is on the screen */
	long delay_ms;
	struct timespec start, last;
	char what[48];            /* "spif-ingest" */
	long long total;          /* of the unit given to update; 0: unknown */
};

/* Start timing; on only when fd is a terminal. */
void spif_progress_init(struct spif_progress *p, int fd, const char *what, long long total);
/* 1 with the line to write in line (n bytes; it starts with '\r') when one
 * is due: done so far of total, with unit ("records", "files"; bytes when
 * bytes >= 0 are shown as MB too).  A person reads it: the unit is marked
 * N_() by the caller and translated here, with the line's words. */
int spif_progress_update(struct spif_progress *p, long long done, const char *unit, long long bytes, char *line,
                         size_t n);
/* 1 with the text that clears the line in line, when one was shown. */
int spif_progress_clear(struct spif_progress *p, char *line, size_t n);

#endif
