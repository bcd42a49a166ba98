/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target for the process churn tests. Usage: wrap_churn N. It starts N
 * children one after another; each makes one direct memfd_create() call,
 * which nativemon reports as an alert, and exits. Then it counts the
 * descriptors that its parent, the supervisor, has open, and prints
 * "supervisor_fds=COUNT". It exits 0 if every child exited 0 and the count
 * could be read.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "raw_syscall.h"

static void run_child(void)
{
	long fd = raw_syscall3(SYS_memfd_create, (long)"nm-churn", MFD_CLOEXEC,
			       0);

	_exit(fd < 0 ? 1 : 0);
}

static int start_and_wait(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("wrap_churn: fork");
		return -1;
	}
	if (pid == 0)
		run_child();
	if (waitpid(pid, &status, 0) < 0) {
		perror("wrap_churn: waitpid");
		return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Returns the number of open descriptors of process pid, or -1. */
static long count_descriptors(pid_t pid)
{
	char path[64];
	struct dirent *entry;
	long count = 0;
	DIR *directory;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	directory = opendir(path);
	if (!directory) {
		perror(path);
		return -1;
	}
	while ((entry = readdir(directory)))
		count += entry->d_name[0] != '.';
	closedir(directory);
	return count;
}

int main(int argc, char **argv)
{
	long children = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	long count;

	if (children < 1) {
		fprintf(stderr, "usage: wrap_churn CHILDREN\n");
		return 2;
	}
	for (long i = 0; i < children; i++) {
		if (start_and_wait() < 0) {
			fprintf(stderr, "wrap_churn: child %ld failed\n", i);
			return 1;
		}
	}
	count = count_descriptors(getppid());
	if (count < 0)
		return 1;
	printf("supervisor_fds=%ld\n", count);
	return 0;
}
