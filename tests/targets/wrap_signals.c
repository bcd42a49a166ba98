/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target for the signal forwarding tests. It prints "ready" once its
 * handlers are installed and "received N" for each signal N it handles.
 * At the end of its input it prints "count N TIMES" for every signal and
 * exits with 64 + the number of the first signal received, or 64.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int handled_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

#define HANDLED_COUNT (sizeof(handled_signals) / sizeof(handled_signals[0]))

static volatile sig_atomic_t counts[NSIG];
static volatile sig_atomic_t first_signal;

static void count_signal(int signo)
{
	if (!first_signal)
		first_signal = signo;
	counts[signo]++;
}

/*
 * Installs the handlers and blocks the signals, which are then delivered
 * only inside ppoll(). A signal that arrived between the report loop and
 * a plain read() would leave its "received" line unprinted.
 */
static int install_handlers(sigset_t *wait_mask)
{
	struct sigaction action;
	sigset_t blocked;

	memset(&action, 0, sizeof(action));
	action.sa_handler = count_signal;
	sigemptyset(&action.sa_mask);
	sigemptyset(&blocked);
	for (size_t i = 0; i < HANDLED_COUNT; i++) {
		if (sigaction(handled_signals[i], &action, NULL) < 0)
			return -errno;
		sigaddset(&blocked, handled_signals[i]);
	}
	if (sigprocmask(SIG_BLOCK, &blocked, wait_mask) < 0)
		return -errno;
	return 0;
}

/* Writes with write(2), unbuffered, because the test reads each line. */
__attribute__((format(printf, 1, 2))) static void print_line(const char *fmt,
							      ...)
{
	char line[64];
	va_list args;
	int length;

	va_start(args, fmt);
	length = vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	if (length < 0 || (size_t)length >= sizeof(line) ||
	    write(STDOUT_FILENO, line, (size_t)length) != length)
		_exit(3);
}

static void report_new_signals(sig_atomic_t reported[])
{
	for (size_t i = 0; i < HANDLED_COUNT; i++) {
		int signo = handled_signals[i];

		while (reported[signo] < counts[signo]) {
			reported[signo]++;
			print_line("received %d\n", signo);
		}
	}
}

/* Returns false once standard input reached its end or failed. */
static bool wait_for_input(const sigset_t *wait_mask)
{
	struct pollfd input = { .fd = STDIN_FILENO, .events = POLLIN };
	char buffer[64];

	if (ppoll(&input, 1, NULL, wait_mask) < 0)
		return errno == EINTR;
	return read(STDIN_FILENO, buffer, sizeof(buffer)) > 0;
}

int main(void)
{
	sig_atomic_t reported[NSIG] = { 0 };
	sigset_t wait_mask;

	if (install_handlers(&wait_mask) < 0) {
		perror("wrap_signals: cannot install the handlers");
		return 2;
	}
	print_line("ready\n");
	do {
		report_new_signals(reported);
	} while (wait_for_input(&wait_mask));
	report_new_signals(reported);
	for (size_t i = 0; i < HANDLED_COUNT; i++)
		print_line("count %d %d\n", handled_signals[i],
			   counts[handled_signals[i]]);
	return 64 + first_signal;
}
