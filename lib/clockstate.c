/* clockstate.c - the clock's synchronisation as each source present says
 * it.  See clockstate.h. */
#include "clockstate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "home.h"
#include "mynumber.h"

#define DETAIL 160

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* name as an executable regular file under dir, or under the fixed
 * directories when dir is NULL: 0 with path, -1 when absent. */
static int find_tool(const char *dir, const char *name, char *path, size_t n)
{
	static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/bin"};
	for (size_t i = 0; i < (dir ? 1 : sizeof dirs / sizeof *dirs); i++) {
		struct stat st;
		if (snprintf(path, n, "%s/%s", dir ? dir : dirs[i], name) >= (int)n)
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* Run path with argv, its stdout and stderr into buf (at most cap - 1
 * bytes, NUL-terminated), waiting at most SPIF_CLOCK_TIMEOUT_MS in all.
 * 0 with *status its exit status (-1 killed by a signal) and *late set
 * when it ran out of time and was killed; -1 with errno when it could not
 * be started. */
static int run(const char *path, char *const argv[], char *buf, size_t cap, int *status, int *late)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C", NULL};
	int p[2];
	*late = 0;
	*status = -1;
	buf[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_RESETIDS | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	pid_t pid;
	int e = posix_spawn(&pid, path, &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (e) {
		close(p[0]);
		errno = e;
		return -1;
	}
	long long deadline = now_ms() + SPIF_CLOCK_TIMEOUT_MS;
	size_t len = 0;
	while (len + 1 < cap) {
		long long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd pf = {.fd = p[0], .events = POLLIN};
		int r = poll(&pf, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t k = read(p[0], buf + len, cap - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	buf[len] = '\0';
	close(p[0]); /* a tool still writing meets a closed pipe */
	int st = 0;
	pid_t w;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline) {
		struct timespec ten = {0, 10 * 1000 * 1000};
		nanosleep(&ten, NULL);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
		*late = 1;
	}
	if (w > 0 && WIFEXITED(st))
		*status = WEXITSTATUS(st);
	return 0;
}

/* The first line of s that holds key (NULL: the first line at all),
 * trimmed, into out. */
static void line_of(const char *s, const char *key, char *out, size_t n)
{
	const char *p = key ? strstr(s, key) : s;
	out[0] = '\0';
	if (!p)
		return;
	while (p > s && p[-1] != '\n')
		p--;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t l = strcspn(p, "\r\n");
	while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
		l--;
	snprintf(out, n, "%.*s", (int)(l < n ? l : n - 1), p);
}

/* What each tool's output says: 1 synchronised, 0 not, -1 it cannot say;
 * detail the line it was read from. */
static int said_timedatectl(const char *out, char *detail, size_t n)
{
	char v[DETAIL];
	line_of(out, NULL, v, sizeof v);
	snprintf(detail, n, "NTPSynchronized=%s", v);
	return strcmp(v, "yes") == 0 ? 1 : strcmp(v, "no") == 0 ? 0 : -1;
}

static int said_chronyc(const char *out, char *detail, size_t n)
{
	line_of(out, "Leap status", detail, n);
	const char *v = strchr(detail, ':');
	if (!v)
		return -1;
	v++;
	v += strspn(v, " \t");
	if (strcmp(v, "Not synchronised") == 0)
		return 0;
	return strcmp(v, "Normal") == 0 || strcmp(v, "Insert second") == 0 || strcmp(v, "Delete second") == 0 ? 1
	                                                                                                       : -1;
}

static int said_ntpq(const char *out, char *detail, size_t n)
{
	/* the system variables' status word: "leap_alarm" (unsynchronised),
	 * "sync_unspec" (no source), else "leap_none" and a sync source */
	line_of(out, "leap_", detail, n);
	if (strstr(out, "leap_alarm") || strstr(out, "leap=11") || strstr(out, "sync_unspec"))
		return 0;
	return strstr(out, "leap_none") || strstr(out, "leap=00") ? 1 : -1;
}

static const struct tool {
	const char *name;
	const char *const args[5];
	int (*said)(const char *out, char *detail, size_t n);
} tools[] = {
	{"timedatectl", {"timedatectl", "show", "-p", "NTPSynchronized", "--value"}, said_timedatectl},
	{"chronyc", {"chronyc", "-n", "tracking", NULL, NULL}, said_chronyc},
	{"ntpq", {"ntpq", "-n", "-c", "rv", NULL}, said_ntpq},
};

static json_t *source(const char *name, int sync, char *detail)
{
	spif_mask_numbers(detail); /* outside input goes into a bundle checked for numbers */
	return json_pack("{s:s,s:o,s:s}", "source", name, "synchronized", sync < 0 ? json_null() : json_boolean(sync),
	                 "detail", detail);
}

static json_t *ask_tool(const struct tool *t, const char *path)
{
	char out[SPIF_CLOCK_OUTPUT], detail[DETAIL];
	char *argv[6] = {0};
	for (size_t i = 0; i < 5 && t->args[i]; i++)
		argv[i] = (char *)t->args[i];
	int status, late, sync = -1;
	if (run(path, argv, out, sizeof out, &status, &late) < 0)
		snprintf(detail, sizeof detail, "could not run %.60s: %.80s", path, strerror(errno));
	else if (late)
		snprintf(detail, sizeof detail, "no answer within %d s: killed", SPIF_CLOCK_TIMEOUT_MS / 1000);
	else if (status != 0) {
		char l[DETAIL - 24];
		line_of(out, NULL, l, sizeof l);
		snprintf(detail, sizeof detail, "exit %d: %s", status, l);
	} else
		sync = t->said(out, detail, sizeof detail);
	return source(t->name, sync, detail);
}

static json_t *ask_kernel(void)
{
	char detail[DETAIL];
	struct timex tx = {0};
	int s = adjtimex(&tx);
	if (s < 0) {
		snprintf(detail, sizeof detail, "adjtimex: %s", strerror(errno));
		return source("adjtimex", -1, detail);
	}
	int unsync = s == TIME_ERROR || (tx.status & STA_UNSYNC);
	snprintf(detail, sizeof detail, "%s%s", (tx.status & STA_UNSYNC) ? "STA_UNSYNC set" : "STA_UNSYNC clear",
	         s == TIME_ERROR ? ", TIME_ERROR" : "");
	return source("adjtimex", !unsync, detail);
}

json_t *spif_clock_sources(const char **state)
{
	*state = "unknown";
	/* the seam, for tests only: never in secure execution */
	const char *seam = spif_secure() ? NULL : getenv("SPIF_CLOCK_TOOLS");
	if (seam && !*seam)
		seam = NULL;
	json_t *a = json_array();
	if (!a || (seam && strcmp(seam, "none") == 0))
		return a;
	for (size_t i = 0; i < sizeof tools / sizeof *tools; i++) {
		char path[4096];
		if (find_tool(seam, tools[i].name, path, sizeof path) < 0)
			continue;
		if (json_array_append_new(a, ask_tool(&tools[i], path)) < 0)
			goto oom;
	}
	if (!seam && json_array_append_new(a, ask_kernel()) < 0)
		goto oom;
	int yes = 0, no = 0;
	size_t i;
	json_t *s;
	json_array_foreach(a, i, s) {
		json_t *v = json_object_get(s, "synchronized");
		if (!v)
			goto oom;
		yes += json_is_true(v);
		no += json_is_false(v);
	}
	*state = no ? "unsynchronised" : yes ? "synchronised" : "unknown";
	return a;
oom:
	json_decref(a);
	*state = "unknown";
	return NULL;
}
