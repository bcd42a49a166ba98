/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Makes itself non-dumpable with prctl(PR_SET_DUMPABLE, 0), as ssh-agent
 * does, so that only a process with CAP_SYS_PTRACE can read its
 * /proc/PID/maps. Then it creates a memfd through libc and executes
 * /bin/true.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
	int fd;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		perror("nondumpable: prctl(PR_SET_DUMPABLE)");
		return 1;
	}
	fd = memfd_create("nm-nondumpable", MFD_CLOEXEC);
	if (fd < 0) {
		perror("nondumpable: memfd_create");
		return 1;
	}
	close(fd);
	execl("/bin/true", "true", (char *)NULL);
	perror("nondumpable: cannot execute /bin/true");
	return 1;
}
