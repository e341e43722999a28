/* progress.c - see progress.h */
#include "progress.h"
#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void spif_progress_init(struct spif_progress *p, int fd, const char *what, long long total)
{
	const char *d = getenv("SPIF_PROGRESS_DELAY_MS");
	char *end;
	long ms = d && *d ? strtol(d, &end, 10) : 2000;
	*p = (struct spif_progress){.on = isatty(fd), .delay_ms = d && *d && !*end && ms >= 0 ? ms : 2000,
	                            .total = total};
	snprintf(p->what, sizeof p->what, "%s", what);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

int spif_progress_update(struct spif_progress *p, long long done, const char *unit, long long bytes, char *line,
                         size_t n)
{
	struct timespec now;
	if (!p->on)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double run = since(&p->start, &now);
	if (run * 1000 < (double)p->delay_ms || (p->shown && since(&p->last, &now) < 0.2))
		return 0;
	p->last = now;
	p->shown = 1;
	int k = snprintf(line, n, "\r%s: %lld", p->what, done);
	if (k > 0 && (size_t)k < n && p->total > 0)
		k += snprintf(line + k, n - (size_t)k, _(" of %lld"), p->total);
	/* the unit comes marked N_() from the caller, and is looked up here */
	if (k > 0 && (size_t)k < n)
		k += snprintf(line + k, n - (size_t)k, " %s", _(unit));
	if (k > 0 && (size_t)k < n && bytes >= 0)
		k += snprintf(line + k, n - (size_t)k, _(", %.1f MB"), (double)bytes / 1e6);
	if (k > 0 && (size_t)k < n)
		k += snprintf(line + k, n - (size_t)k, _(" (%.0f s)"), run);
	if (k > 0 && (size_t)k < n)
		snprintf(line + k, n - (size_t)k, "\033[K");
	return 1;
}

int spif_progress_clear(struct spif_progress *p, char *line, size_t n)
{
	if (!p->shown)
		return 0;
	p->shown = 0;
	snprintf(line, n, "\r\033[K");
	return 1;
}
