/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Linked statically, so no libc is mapped: every syscall, the libc wrapper's
 * included, comes from this program's own image, as in Go programs. Makes
 * one memfd through a `syscall` instruction of its own and one through the
 * linked-in memfd_create(). nativemon should record these as telemetry,
 * not alert on them.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"

int main(void)
{
	long raw = raw_syscall3(SYS_memfd_create, (long)"nm-static-raw",
				MFD_CLOEXEC, 0);
	int wrapped;

	if (raw < 0) {
		fprintf(stderr, "static_raw: raw memfd_create failed: %s\n",
			strerror((int)-raw));
		return 1;
	}
	wrapped = memfd_create("nm-static-wrapper", MFD_CLOEXEC);
	if (wrapped < 0) {
		perror("static_raw: memfd_create");
		return 1;
	}
	close((int)raw);
	close(wrapped);
	printf("pid=%d\n", (int)getpid());
	return 0;
}
