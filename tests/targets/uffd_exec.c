/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Passes execve() a path that lies in a page registered with a
 * userfaultfd, whose handler thread serves the page only after three
 * seconds. Meanwhile a forked child times a watched memfd_create() and
 * prints "child_ms=N": a supervisor that faults on the page while reading
 * the path stalls every other process with it. Prints "unsupported" and
 * exits 0 where userfaultfd is not allowed.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOLD_SECONDS 3

static int uffd;
static char *page;

static long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

/* Serves the first fault after HOLD_SECONDS with the path /bin/true. */
static void *serve_fault(void *unused)
{
	static char source[4096] __attribute__((aligned(4096)));
	struct pollfd ready = { .fd = uffd, .events = POLLIN };
	struct uffdio_copy copy = {
		.dst = (unsigned long)page,
		.src = (unsigned long)source,
		.len = sizeof(source),
	};
	struct uffd_msg message;

	strcpy(source, "/bin/true");
	if (poll(&ready, 1, -1) != 1 ||
	    read(uffd, &message, sizeof(message)) != sizeof(message))
		return unused;
	sleep(HOLD_SECONDS);
	ioctl(uffd, UFFDIO_COPY, &copy);
	return unused;
}

static void time_watched_call(void)
{
	long start;
	int fd;

	usleep(200 * 1000);
	start = now_ms();
	fd = memfd_create("nm-uffd-probe", MFD_CLOEXEC);
	printf("child_ms=%ld fd_ok=%d\n", now_ms() - start, fd >= 0);
	fflush(stdout);
	_exit(0);
}

int main(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register registration = { .mode =
							UFFDIO_REGISTER_MODE_MISSING };
	char *argv[] = { "true", NULL };
	pthread_t handler;

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0) {
		printf("unsupported\n");
		return 0;
	}
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	registration.range.start = (unsigned long)page;
	registration.range.len = 4096;
	if (page == MAP_FAILED ||
	    ioctl(uffd, UFFDIO_REGISTER, &registration) < 0) {
		perror("uffd_exec: register");
		return 1;
	}
	pthread_create(&handler, NULL, serve_fault, NULL);
	if (fork() == 0)
		time_watched_call();
	execve(page, argv, NULL);
	perror("uffd_exec: execve");
	return 1;
}
