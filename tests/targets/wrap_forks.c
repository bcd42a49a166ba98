/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target for the process storm test. Usage: wrap_forks N. It forks N
 * children that wait on a shared pipe and then all exec /bin/true at once,
 * so their execve notifications reach nativemon together. It exits 0 if
 * every child exited 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Waits until the parent closes the pipe, then runs /bin/true. */
static void run_child(int gate[2])
{
	char byte;

	close(gate[1]);
	while (read(gate[0], &byte, 1) < 0 && errno == EINTR)
		;
	execl("/bin/true", "true", (char *)NULL);
	perror("wrap_forks: cannot execute /bin/true");
	_exit(127);
}

static int wait_children(int count)
{
	int failures = 0, status;

	for (int i = 0; i < count; i++) {
		pid_t pid = wait(&status);

		if (pid < 0) {
			perror("wrap_forks: wait");
			return count;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr,
				"wrap_forks: child %d failed: wait status "
				"0x%x\n",
				(int)pid, status);
			failures++;
		}
	}
	return failures;
}

int main(int argc, char **argv)
{
	int gate[2], count, started = 0;

	if (argc != 2 || (count = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: wrap_forks N\n");
		return 2;
	}
	if (pipe(gate) < 0) {
		perror("wrap_forks: pipe");
		return 2;
	}
	for (; started < count; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("wrap_forks: fork");
			break;
		}
		if (pid == 0)
			run_child(gate);
	}
	/* Closing the last write end releases every child at once. */
	close(gate[0]);
	close(gate[1]);
	if (wait_children(started) > 0 || started < count)
		return 1;
	return 0;
}
