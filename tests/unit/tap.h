/* tap.h - a minimal TAP producer for the C unit tests.
 * Each test program prints "ok N - what" / "not ok N - what" and a plan at
 * the end; tests/run.sh counts them. */
#ifndef SPIF_TAP_H
#define SPIF_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
static inline void tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static inline void tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}
#define is_str(a, b, ...) ok(strcmp((a), (b)) == 0, __VA_ARGS__)
#define is_int(a, b, ...) do { long long a_ = (a), b_ = (b); ok(a_ == b_, __VA_ARGS__); \
	if (a_ != b_) printf("#   got %lld, expected %lld\n", a_, b_); } while (0)
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
