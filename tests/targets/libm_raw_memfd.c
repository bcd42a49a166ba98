/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Like raw_memfd, but linked with libm, which comes before libc in
 * DT_NEEDED, so the loader maps libm's code first and libc's after it.
 * nativemon must still know that libc is mapped by the time the program
 * creates a memfd with its own `syscall` instruction, and alert on it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"

int main(void)
{
	/* volatile keeps the compiler from folding cbrt() into a constant. */
	volatile double cube = 27.0;
	long fd = raw_syscall3(SYS_memfd_create, (long)"nm-libm-raw",
			       MFD_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "libm_raw_memfd: memfd_create failed: %s\n",
			strerror((int)-fd));
		return 1;
	}
	close((int)fd);
	printf("pid=%d cbrt=%.0f\n", (int)getpid(), cbrt(cube));
	return 0;
}
