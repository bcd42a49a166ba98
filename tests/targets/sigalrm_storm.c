/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: sigalrm_storm [PAIRS]
 *
 * Makes PAIRS (default 5000) pairs of mprotect(PROT_READ | PROT_EXEC) and
 * mprotect(PROT_READ) calls through libc on one page while an interval
 * timer sends SIGALRM every 200 µs to a handler installed without
 * SA_RESTART. Prints "calls=N failures=N signals=N" and exits with 0. Under
 * nativemon each PROT_EXEC call waits for the supervisor, and a signal
 * during that wait fails the call with EINTR unless something blocks the
 * signal until the call returns.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#define DEFAULT_PAIRS 5000
#define TIMER_INTERVAL_US 200

static volatile sig_atomic_t signals;

static void count_signal(int signo)
{
	(void)signo;
	signals++;
}

static int start_timer(void)
{
	struct sigaction action;
	struct itimerval timer = {
		.it_interval = { .tv_usec = TIMER_INTERVAL_US },
		.it_value = { .tv_usec = TIMER_INTERVAL_US },
	};

	memset(&action, 0, sizeof(action));
	action.sa_handler = count_signal;
	sigemptyset(&action.sa_mask);
	/* No SA_RESTART: an interrupted call fails with EINTR. */
	action.sa_flags = 0;
	if (sigaction(SIGALRM, &action, NULL) < 0)
		return -1;
	return setitimer(ITIMER_REAL, &timer, NULL);
}

static void stop_timer(void)
{
	struct itimerval off = { 0 };

	setitimer(ITIMER_REAL, &off, NULL);
}

/* Returns how many of the calls failed; other errors than EINTR count. */
static long protect_pairs(void *page, size_t size, long pairs)
{
	long failures = 0;

	for (long i = 0; i < pairs; i++) {
		if (mprotect(page, size, PROT_READ | PROT_EXEC) < 0)
			failures++;
		if (mprotect(page, size, PROT_READ) < 0)
			failures++;
	}
	return failures;
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_PAIRS;
	size_t size = (size_t)sysconf(_SC_PAGESIZE);
	void *page;
	long failures;

	if (pairs <= 0) {
		fprintf(stderr, "usage: sigalrm_storm [PAIRS]\n");
		return 2;
	}
	page = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		perror("sigalrm_storm: mmap");
		return 1;
	}
	if (start_timer() < 0) {
		perror("sigalrm_storm: cannot start the timer");
		return 1;
	}
	failures = protect_pairs(page, size, pairs);
	stop_timer();
	printf("calls=%ld failures=%ld signals=%ld\n", 2 * pairs, failures,
	       (long)signals);
	return 0;
}
