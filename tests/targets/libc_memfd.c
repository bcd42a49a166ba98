/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Creates two memfds the ordinary way: through libc's memfd_create() and
 * through libc's generic syscall() function. Both `syscall` instructions
 * are inside libc, so nativemon must not report a direct syscall.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	int wrapped = memfd_create("nm-libc-wrapper", MFD_CLOEXEC);
	long generic = syscall(SYS_memfd_create, "nm-libc-generic",
			       MFD_CLOEXEC);

	if (wrapped < 0 || generic < 0) {
		perror("libc_memfd: memfd_create");
		return 1;
	}
	close(wrapped);
	close((int)generic);
	printf("pid=%d\n", (int)getpid());
	return 0;
}
