/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Creates a memfd with a `syscall` instruction in this executable, bypassing
 * libc, and prints its pid. nativemon should report a direct syscall whose
 * origin is this program.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"

int main(void)
{
	long fd = raw_syscall3(SYS_memfd_create, (long)"nm-raw-memfd",
			       MFD_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "raw_memfd: memfd_create failed: %s\n",
			strerror((int)-fd));
		return 1;
	}
	close((int)fd);
	printf("pid=%d\n", (int)getpid());
	return 0;
}
