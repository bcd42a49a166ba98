/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calls ptrace(PTRACE_TRACEME) through libc and prints the outcome as
 * "ptrace=0" or "ptrace=-1 errno=NAME", then creates a memfd and prints
 * "alive", so a test can tell a denied call from a killed process.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(void)
{
	long result = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	int fd;

	if (result < 0)
		printf("ptrace=-1 errno=%s\n", strerrorname_np(errno));
	else
		printf("ptrace=%ld\n", result);
	fflush(stdout);
	fd = memfd_create("nm-after-ptrace", MFD_CLOEXEC);
	if (fd < 0) {
		perror("ptrace_traceme: memfd_create");
		return 1;
	}
	close(fd);
	printf("alive\n");
	return 0;
}
