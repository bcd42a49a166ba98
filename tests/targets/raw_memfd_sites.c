/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Creates two memfds from two functions, each with a `syscall` instruction
 * of its own in this executable, and prints its pid. The two direct
 * syscalls have different innermost frames and share the frames below
 * main.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"

static __attribute__((noinline)) long create_first(void)
{
	return raw_syscall3(SYS_memfd_create, (long)"nm-site-first",
			    MFD_CLOEXEC, 0);
}

static __attribute__((noinline)) long create_second(void)
{
	return raw_syscall3(SYS_memfd_create, (long)"nm-site-second",
			    MFD_CLOEXEC, 0);
}

static int check(long fd)
{
	if (fd < 0) {
		fprintf(stderr, "raw_memfd_sites: memfd_create failed: %s\n",
			strerror((int)-fd));
		return 1;
	}
	close((int)fd);
	return 0;
}

int main(void)
{
	if (check(create_first()) != 0 || check(create_second()) != 0)
		return 1;
	printf("pid=%d\n", (int)getpid());
	return 0;
}
