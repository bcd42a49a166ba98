/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target that exits while its threads wait in watched calls. Usage:
 * wrap_dying STATUS. Four threads call mprotect(PROT_EXEC) in a loop, and
 * each call is a seccomp notification. Once every thread has made
 * CALLS_BEFORE_EXIT calls, the main thread ends the process with
 * _exit(STATUS), which is exit_group(2).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define THREAD_COUNT 4
#define CALLS_BEFORE_EXIT 50

static atomic_long calls[THREAD_COUNT];

static void *call_mprotect(void *argument)
{
	atomic_long *counter = argument;
	long page_size = sysconf(_SC_PAGESIZE);
	void *page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED) {
		perror("wrap_dying: mmap");
		_exit(2);
	}
	for (;;) {
		if (mprotect(page, (size_t)page_size, PROT_READ | PROT_EXEC) <
		    0) {
			perror("wrap_dying: mprotect");
			_exit(2);
		}
		atomic_fetch_add(counter, 1);
	}
	return NULL;
}

static bool have_all_called(void)
{
	for (int i = 0; i < THREAD_COUNT; i++) {
		if (atomic_load(&calls[i]) < CALLS_BEFORE_EXIT)
			return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	pthread_t thread;

	if (argc != 2) {
		fprintf(stderr, "usage: wrap_dying STATUS\n");
		return 2;
	}
	for (int i = 0; i < THREAD_COUNT; i++) {
		if (pthread_create(&thread, NULL, call_mprotect, &calls[i])) {
			fprintf(stderr, "wrap_dying: pthread_create failed\n");
			return 2;
		}
	}
	while (!have_all_called())
		sched_yield();
	_exit(atoi(argv[1]));
}
