/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Creates a memfd with a `syscall` instruction in this executable, prints
 * "pid=N", waits for the end of stdin, then creates a second memfd the
 * same way. A test keeps the process alive, with its first call reported,
 * for as long as it keeps stdin open. Exits 1 if a call fails, printing
 * its errno on stderr.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"

static int create_memfd(const char *name)
{
	long fd = raw_syscall3(SYS_memfd_create, (long)name, MFD_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "raw_memfd_twice: memfd_create failed: %s\n",
			strerror((int)-fd));
		return 1;
	}
	close((int)fd);
	return 0;
}

int main(void)
{
	char buffer[64];

	if (create_memfd("nm-raw-memfd-first") != 0)
		return 1;
	printf("pid=%d\n", (int)getpid());
	fflush(stdout);
	while (read(STDIN_FILENO, buffer, sizeof(buffer)) > 0)
		continue;
	if (create_memfd("nm-raw-memfd-second") != 0)
		return 1;
	printf("done\n");
	return 0;
}
