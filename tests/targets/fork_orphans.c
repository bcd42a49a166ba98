/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage: fork_orphans COUNT. Forks COUNT children that wait in pause()
 * until a signal ends them, prints "started COUNT" and exits with status
 * 0, so that the children live on as orphans.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count;

	if (argc != 2) {
		fprintf(stderr, "usage: fork_orphans COUNT\n");
		return 2;
	}
	count = strtol(argv[1], NULL, 10);
	for (long i = 0; i < count; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork_orphans: fork");
			return 1;
		}
		if (pid == 0) {
			for (;;)
				pause();
		}
	}
	printf("started %ld\n", count);
	return 0;
}
