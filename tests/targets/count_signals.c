/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: count_signals SIGNO... Handles each signal listed by number,
 * prints "ready" and then "received N" for each signal N it handles. At
 * the end of its standard input it prints "count N TIMES" for each listed
 * signal and exits with status 42, which nativemon never uses for itself.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIGNALS_MAX 8
#define EXIT_STATUS 42

static volatile sig_atomic_t counts[NSIG];

static void count_signal(int signo)
{
	counts[signo]++;
}

/*
 * Blocks the signals outside ppoll(), so that a signal cannot arrive
 * between the report and the wait and stay unreported until the next one.
 */
static int install_handlers(const int signals[], size_t count,
			    sigset_t *wait_mask)
{
	struct sigaction action;
	sigset_t blocked;

	memset(&action, 0, sizeof(action));
	action.sa_handler = count_signal;
	sigemptyset(&action.sa_mask);
	sigemptyset(&blocked);
	for (size_t i = 0; i < count; i++) {
		if (sigaction(signals[i], &action, NULL) < 0)
			return -errno;
		sigaddset(&blocked, signals[i]);
	}
	if (sigprocmask(SIG_BLOCK, &blocked, wait_mask) < 0)
		return -errno;
	return 0;
}

/* Writes one line with one write(2), because the test reads line by line. */
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

static void report_new_signals(const int signals[], size_t count,
			       int reported[])
{
	for (size_t i = 0; i < count; i++) {
		while (reported[i] < counts[signals[i]]) {
			reported[i]++;
			print_line("received %d\n", signals[i]);
		}
	}
}

/* Returns false once standard input has ended or failed. */
static bool wait_for_input(const sigset_t *wait_mask)
{
	struct pollfd input = { .fd = STDIN_FILENO, .events = POLLIN };
	char buffer[64];

	if (ppoll(&input, 1, NULL, wait_mask) < 0)
		return errno == EINTR;
	return read(STDIN_FILENO, buffer, sizeof(buffer)) > 0;
}

int main(int argc, char **argv)
{
	int signals[SIGNALS_MAX], reported[SIGNALS_MAX] = { 0 };
	size_t count = (size_t)argc - 1;
	sigset_t wait_mask;

	if (argc < 2 || count > SIGNALS_MAX) {
		fprintf(stderr, "usage: count_signals SIGNO... (at most %d)\n",
			SIGNALS_MAX);
		return 2;
	}
	for (size_t i = 0; i < count; i++) {
		signals[i] = atoi(argv[i + 1]);
		if (signals[i] <= 0 || signals[i] >= NSIG) {
			fprintf(stderr, "count_signals: invalid signal %s\n",
				argv[i + 1]);
			return 2;
		}
	}
	if (install_handlers(signals, count, &wait_mask) < 0) {
		perror("count_signals: cannot install the handlers");
		return 2;
	}
	print_line("ready\n");
	do {
		report_new_signals(signals, count, reported);
	} while (wait_for_input(&wait_mask));
	report_new_signals(signals, count, reported);
	for (size_t i = 0; i < count; i++)
		print_line("count %d %d\n", signals[i], (int)counts[signals[i]]);
	return EXIT_STATUS;
}
