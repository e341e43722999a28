/* cli_signal.c - see cli_signal.h */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli_signal.h"

static volatile sig_atomic_t *stop_at;
static char temp[PATH_MAX]; /* only the handler reads it, with signals blocked around writes */

static void on_signal(int sig)
{
	if (stop_at) {
		*stop_at = 1;
		return;
	}
	if (temp[0])
		unlink(temp);
	signal(sig, SIG_DFL);
	raise(sig);
}

void cli_signals(volatile sig_atomic_t *stop)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {0};
	stop_at = stop;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
}

void cli_signal_temp(const char *path)
{
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	snprintf(temp, sizeof temp, "%s", path ? path : "");
	sigprocmask(SIG_SETMASK, &old, NULL);
}
