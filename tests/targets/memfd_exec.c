/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Copies a program into a memfd and executes the memfd, which leaves no
 * file on disk. With "fexecve" it runs the descriptor itself, and with
 * "proc-path" it runs the path /proc/self/fd/N. nativemon should report a
 * file-less exec in both modes, and the program must still run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern char **environ;

static int copy_to_memfd(const char *program, unsigned int flags)
{
	char buffer[65536];
	int in = open(program, O_RDONLY | O_CLOEXEC);
	int fd = memfd_create("nm-memfd-exec", flags);
	ssize_t n;

	if (in < 0 || fd < 0)
		return -1;
	while ((n = read(in, buffer, sizeof(buffer))) > 0) {
		if (write(fd, buffer, (size_t)n) != n)
			return -1;
	}
	close(in);
	return n == 0 ? fd : -1;
}

int main(int argc, char **argv)
{
	const char *program = argc > 2 ? argv[2] : "/bin/true";
	char *child_argv[] = { "true", NULL };
	char path[64];
	int fd;

	if (argc < 2 || (strcmp(argv[1], "fexecve") != 0 &&
			 strcmp(argv[1], "proc-path") != 0)) {
		fprintf(stderr,
			"usage: memfd_exec fexecve|proc-path [PROGRAM]\n");
		return 2;
	}
	/* The kernel opens an ELF file before it closes MFD_CLOEXEC fds. */
	fd = copy_to_memfd(program, MFD_CLOEXEC);
	if (fd >= 0 && strcmp(argv[1], "fexecve") == 0) {
		fexecve(fd, child_argv, environ);
	} else if (fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		execve(path, child_argv, environ);
	}
	fprintf(stderr, "memfd_exec: cannot run %s from a memfd: %s\n",
		program, strerror(errno));
	return 1;
}
