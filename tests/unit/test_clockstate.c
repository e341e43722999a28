/* test_clockstate.c - the clock's synchronisation as the sources say it:
 * well-formed JSON on this host, agreeing with what timedatectl itself
 * says when it is here; nothing but "unknown" with no source reachable
 * (the seam SPIF_CLOCK_TOOLS=none, or a directory without tools); and,
 * with stand-in tools in a directory, each verdict read right, a tool
 * that hangs killed in time, one that floods read only so far, its
 * environment clean and a number in its output masked. */
#include "clockstate.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[4096];

static void tool(const char *name, const char *body)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		return;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(p, 0755);
}

static void clear_tools(void)
{
	static const char *const names[] = {"timedatectl", "chronyc", "ntpq"};
	for (size_t i = 0; i < 3; i++) {
		char p[4200];
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
}

/* The element of a for source name, NULL when none. */
static json_t *of(json_t *a, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(a, i, s) {
		const char *n = json_string_value(json_object_get(s, "source"));
		if (n && strcmp(n, name) == 0)
			return s;
	}
	return NULL;
}

static int well_formed(json_t *a)
{
	if (!json_is_array(a))
		return 0;
	char *t = json_dumps(a, JSON_COMPACT);
	json_t *back = t ? json_loads(t, 0, NULL) : NULL;
	int good = back && json_equal(a, back);
	free(t);
	json_decref(back);
	size_t i;
	json_t *s;
	json_array_foreach(a, i, s) {
		json_t *v = json_object_get(s, "synchronized");
		const char *d = json_string_value(json_object_get(s, "detail"));
		good &= json_is_string(json_object_get(s, "source")) && (json_is_boolean(v) || json_is_null(v)) && d &&
		        strlen(d) < 160 && json_object_size(s) == 3;
	}
	return good;
}

static int has_digit_run(const char *s, int n)
{
	int run = 0;
	for (; *s; s++) {
		run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
		if (run >= n)
			return 1;
	}
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	const char *state;
	/* this host, as it is */
	unsetenv("SPIF_CLOCK_TOOLS");
	json_t *a = spif_clock_sources(&state);
	ok(well_formed(a), "this host: a well-formed array of {source, synchronized, detail}");
	ok(strcmp(state, "synchronised") == 0 || strcmp(state, "unsynchronised") == 0 || strcmp(state, "unknown") == 0,
	   "this host: the verdict is one of three (%s)", state);
	ok(of(a, "adjtimex") != NULL, "the kernel's view is one of the sources");
	const char *td = NULL;
	static const char *const tds[] = {"/usr/bin/timedatectl", "/usr/sbin/timedatectl", "/bin/timedatectl"};
	for (size_t i = 0; i < 3 && !td; i++)
		if (access(tds[i], X_OK) == 0)
			td = tds[i];
	if (td) {
		char cmd[200], out[64] = "";
		snprintf(cmd, sizeof cmd, "%s show -p NTPSynchronized --value 2>/dev/null", td);
		FILE *p = popen(cmd, "r");
		if (p && !fgets(out, sizeof out, p))
			out[0] = '\0';
		int st = p ? pclose(p) : -1;
		out[strcspn(out, "\n")] = '\0';
		json_t *s = of(a, "timedatectl");
		json_t *v = json_object_get(s, "synchronized");
		int agree = st == 0 && strcmp(out, "yes") == 0 ? json_is_true(v)
		          : st == 0 && strcmp(out, "no") == 0  ? json_is_false(v)
		                                                : json_is_null(v);
		ok(s && agree, "timedatectl here says \"%s\" (exit %d): the source says %s", out,
		   WIFEXITED(st) ? WEXITSTATUS(st) : -1, json_is_null(v) ? "null" : json_is_true(v) ? "true" : "false");
	} else
		ok(!of(a, "timedatectl"), "no timedatectl here, none recorded");
	json_decref(a);

	/* nothing reachable: unknown */
	setenv("SPIF_CLOCK_TOOLS", "none", 1);
	a = spif_clock_sources(&state);
	ok(a && json_array_size(a) == 0 && strcmp(state, "unknown") == 0, "SPIF_CLOCK_TOOLS=none: no source, unknown");
	json_decref(a);
	snprintf(dir, sizeof dir, "%s/spif-clock-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	setenv("SPIF_CLOCK_TOOLS", dir, 1);
	a = spif_clock_sources(&state);
	ok(a && json_array_size(a) == 0 && strcmp(state, "unknown") == 0,
	   "a directory without the tools: no source (not even adjtimex), unknown");
	json_decref(a);

	/* stand-ins: each verdict read as the tool means it */
	tool("timedatectl", "[ \"$*\" = 'show -p NTPSynchronized --value' ] && echo yes");
	tool("chronyc", "printf 'Reference ID    : 7F7F0101 ()\\nLeap status     : Normal\\n'");
	tool("ntpq", "echo 'associd=0 status=0615 leap_none, sync_ntp, 1 event, clock_sync,'");
	a = spif_clock_sources(&state);
	ok(well_formed(a) && json_array_size(a) == 3, "three tools, three sources");
	ok(json_is_true(json_object_get(of(a, "timedatectl"), "synchronized")), "timedatectl yes: synchronized");
	ok(json_is_true(json_object_get(of(a, "chronyc"), "synchronized")), "chronyc Leap status Normal: synchronized");
	ok(json_is_true(json_object_get(of(a, "ntpq"), "synchronized")), "ntpq leap_none: synchronized");
	is_str(state, "synchronised", "every source says so: synchronised");
	is_str(json_string_value(json_object_get(of(a, "chronyc"), "detail")), "Leap status     : Normal",
	       "the detail is the line it was read from");
	json_decref(a);
	tool("chronyc", "printf 'Leap status     : Not synchronised\\n'");
	tool("ntpq", "echo 'associd=0 status=c016 leap_alarm, sync_unspec, 1 event, restart,'");
	a = spif_clock_sources(&state);
	ok(json_is_false(json_object_get(of(a, "chronyc"), "synchronized")), "chronyc Not synchronised: false");
	ok(json_is_false(json_object_get(of(a, "ntpq"), "synchronized")), "ntpq leap_alarm: false");
	is_str(state, "unsynchronised", "one says not: unsynchronised");
	json_decref(a);

	/* a tool that fails, hangs, floods, looks at its environment */
	clear_tools();
	tool("timedatectl", "echo 'System has not been booted with systemd' >&2; exit 1");
	a = spif_clock_sources(&state);
	json_t *s = of(a, "timedatectl");
	ok(json_is_null(json_object_get(s, "synchronized")) &&
	   strcmp(json_string_value(json_object_get(s, "detail")), "exit 1: System has not been booted with systemd") == 0,
	   "a tool that fails: null, its exit and message");
	is_str(state, "unknown", "none could say: unknown");
	json_decref(a);
	clear_tools();
	tool("ntpq", "exec sleep 30");
	double t0 = now();
	a = spif_clock_sources(&state);
	double took = now() - t0;
	s = of(a, "ntpq");
	ok(json_is_null(json_object_get(s, "synchronized")) && strstr(json_string_value(json_object_get(s, "detail")),
	                                                                  "no answer within 2 s"),
	   "a tool that hangs: killed, null");
	ok(took >= 1.9 && took < 4.0, "waited about 2 s for it (%.2f s)", took);
	json_decref(a);
	clear_tools();
	tool("chronyc", "exec yes 'Leap status     : Normal'");
	t0 = now();
	a = spif_clock_sources(&state);
	ok(well_formed(a) && of(a, "chronyc") && now() - t0 < 4.0, "a tool that floods: read only so far, in time");
	json_decref(a);
	clear_tools();
	setenv("SPIF_CLOCK_SECRET", "leaked", 1);
	tool("timedatectl", "echo \"${SPIF_CLOCK_SECRET:-clean}\"");
	a = spif_clock_sources(&state);
	is_str(json_string_value(json_object_get(of(a, "timedatectl"), "detail")), "NTPSynchronized=clean",
	       "the tool's environment is clean");
	json_decref(a);
	tool("timedatectl", "echo 'maybe 123456789018'");
	a = spif_clock_sources(&state);
	ok(!has_digit_run(json_string_value(json_object_get(of(a, "timedatectl"), "detail")), 12),
	   "a 12-digit run in a tool's output is masked in its detail");
	json_decref(a);
	clear_tools();
	rmdir(dir);
	return tap_done();
}
