/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ends its main thread with pthread_exit() while a second thread goes on.
 * Once the leader is a zombie, which empties /proc/PID/maps, the second
 * thread maps anonymous memory executable through libc and loads
 * libm.so.6 with dlopen(), then exits with status 0.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* How long the second thread waits for the leader to become a zombie. */
#define LEADER_EXIT_TIMEOUT_MS 10000

static pid_t leader;

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Returns the state letter of the leader's task, or 0 if unreadable. */
static char read_leader_state(void)
{
	char path[64], text[512];
	const char *name_end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)leader,
		 (int)leader);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	/* The name in parentheses may contain spaces and ')'. */
	name_end = strrchr(text, ')');
	return name_end && name_end[1] == ' ' ? name_end[2] : 0;
}

static int wait_for_leader_exit(void)
{
	const struct timespec interval = { .tv_nsec = 1000000 };
	long long deadline = now_ms() + LEADER_EXIT_TIMEOUT_MS;

	while (read_leader_state() != 'Z') {
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&interval, NULL);
	}
	return 0;
}

static void *run_after_leader(void *unused)
{
	long page_size = sysconf(_SC_PAGESIZE);
	void *code;

	if (wait_for_leader_exit() < 0) {
		fprintf(stderr,
			"leader_exit: the main thread was no zombie after %d ms\n",
			LEADER_EXIT_TIMEOUT_MS);
		exit(1);
	}
	code = mmap(NULL, (size_t)page_size, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED) {
		perror("leader_exit: mmap");
		exit(1);
	}
	if (!dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL)) {
		fprintf(stderr, "leader_exit: %s\n", dlerror());
		exit(1);
	}
	printf("loaded=libm.so.6\n");
	exit(0);
}

int main(void)
{
	pthread_t thread;
	int err;

	leader = getpid();
	err = pthread_create(&thread, NULL, run_after_leader, NULL);
	if (err) {
		fprintf(stderr, "leader_exit: pthread_create: %s\n",
			strerror(err));
		return 1;
	}
	pthread_exit(NULL);
}
