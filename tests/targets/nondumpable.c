/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Makes itself non-dumpable with prctl(PR_SET_DUMPABLE, 0), as ssh-agent
 * does, so that only a process with CAP_SYS_PTRACE can open its
 * /proc/PID/maps. Then a child, which inherits the setting, and the
 * process itself each create a memfd through libc, and the process
 * executes /bin/true.
 *
 * The child matters because nativemon may still hold a maps descriptor
 * that it opened before the prctl, and that keeps working. The child's
 * first watched call comes after the prctl, so nativemon has no such
 * descriptor for it.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int make_memfd(void)
{
	int fd = memfd_create("nm-nondumpable", MFD_CLOEXEC);

	if (fd < 0) {
		perror("nondumpable: memfd_create");
		return 1;
	}
	close(fd);
	return 0;
}

static int run_child(void)
{
	pid_t child = fork();
	int status;

	if (child < 0) {
		perror("nondumpable: fork");
		return 1;
	}
	if (child == 0)
		_exit(make_memfd());
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "nondumpable: the child failed\n");
		return 1;
	}
	return 0;
}

int main(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		perror("nondumpable: prctl(PR_SET_DUMPABLE)");
		return 1;
	}
	if (run_child() != 0 || make_memfd() != 0)
		return 1;
	execl("/bin/true", "true", (char *)NULL);
	perror("nondumpable: cannot execute /bin/true");
	return 1;
}
