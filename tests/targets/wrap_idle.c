/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target for the idle and exit-latency tests. Usage: wrap_idle MS [orphan].
 * It prints "ready", sleeps MS milliseconds without a watched syscall,
 * prints "slept" and exits at the end of its standard input. With
 * "orphan", a forked child does all this after its parent has exited, so
 * the last task nativemon waits for is an orphan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void print_line(const char *line)
{
	size_t length = strlen(line);

	if (write(STDOUT_FILENO, line, length) != (ssize_t)length)
		_exit(3);
}

static void sleep_ms(long ms)
{
	struct timespec left = { .tv_sec = ms / 1000,
				 .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

static void drain_input(void)
{
	char buffer[64];
	ssize_t n;

	do {
		n = read(STDIN_FILENO, buffer, sizeof(buffer));
	} while (n > 0 || (n < 0 && errno == EINTR));
}

int main(int argc, char **argv)
{
	long ms;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: wrap_idle MS [orphan]\n");
		return 2;
	}
	ms = strtol(argv[1], NULL, 10);
	if (argc == 3 && strcmp(argv[2], "orphan") == 0) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("wrap_idle: fork");
			return 2;
		}
		if (pid > 0)
			_exit(0);
	}
	print_line("ready\n");
	sleep_ms(ms);
	print_line("slept\n");
	drain_input();
	return 0;
}
