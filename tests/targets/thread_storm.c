/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starts THREADS threads that each create CALLS memfds with a `syscall`
 * instruction in this executable, all at once. Prints "failures=N" and
 * exits 1 if any call failed. A supervisor that loses or double-counts
 * notifications under concurrency shows it in the sum of its records.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"

#define THREADS_MAX 64

struct worker {
	pthread_t thread;
	long calls;
	long failures;
};

/* Holds every worker until all exist, so that their calls overlap. */
static pthread_barrier_t start_line;

static void *run_worker(void *data)
{
	struct worker *worker = data;

	pthread_barrier_wait(&start_line);
	for (long i = 0; i < worker->calls; i++) {
		long fd = raw_syscall3(SYS_memfd_create, (long)"nm-storm",
				       MFD_CLOEXEC, 0);

		if (fd < 0)
			worker->failures++;
		else
			close((int)fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker workers[THREADS_MAX] = { 0 };
	long threads, calls, failures = 0;
	int err;

	threads = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	calls = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	if (threads < 1 || threads > THREADS_MAX || calls < 1) {
		fprintf(stderr, "usage: thread_storm THREADS(1-%d) CALLS\n",
			THREADS_MAX);
		return 2;
	}
	pthread_barrier_init(&start_line, NULL, (unsigned int)threads);
	for (long i = 0; i < threads; i++) {
		workers[i].calls = calls;
		err = pthread_create(&workers[i].thread, NULL, run_worker,
				     &workers[i]);
		if (err) {
			fprintf(stderr, "thread_storm: pthread_create: %s\n",
				strerror(err));
			return 1;
		}
	}
	for (long i = 0; i < threads; i++) {
		pthread_join(workers[i].thread, NULL);
		failures += workers[i].failures;
	}
	printf("failures=%ld\n", failures);
	return failures ? 1 : 0;
}
