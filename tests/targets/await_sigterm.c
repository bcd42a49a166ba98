/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blocks SIGTERM, prints "ready PID" and waits for SIGTERM. On receipt it
 * prints "SIGTERM from pid N", N being the sender, and exits with status 0.
 * It exits with status 1 if no SIGTERM came within a minute.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_LIMIT_S 60

int main(void)
{
	const struct timespec limit = { .tv_sec = WAIT_LIMIT_S };
	siginfo_t info;
	sigset_t set;
	int signo;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		perror("await_sigterm: sigprocmask");
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	do {
		signo = sigtimedwait(&set, &info, &limit);
	} while (signo < 0 && errno == EINTR);
	if (signo != SIGTERM) {
		fprintf(stderr, "await_sigterm: no SIGTERM within %d s: %s\n",
			WAIT_LIMIT_S, strerror(errno));
		return 1;
	}
	printf("SIGTERM from pid %d\n", (int)info.si_pid);
	return 0;
}
