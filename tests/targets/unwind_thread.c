/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blocks a second thread, on the stack that pthread_create() gave it, in a
 * read(2) of stdin, while the main thread waits in pthread_join():
 *
 *   thread_start -> thread_block -> read(0)
 *
 * Before the thread blocks it prints "thread TID" and "ready".
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline, noclone)) static long thread_block(void)
{
	char byte;
	long n;

	printf("thread %d\nready\n", (int)gettid());
	fflush(stdout);
	n = read(0, &byte, 1);
	__asm__ volatile("" ::: "memory");
	return n;
}

static void *thread_start(void *argument)
{
	long n = thread_block();

	__asm__ volatile("" ::: "memory");
	return (void *)n;
}

int main(void)
{
	pthread_t thread;

	if (pthread_create(&thread, NULL, thread_start, NULL) != 0)
		return 1;
	return pthread_join(thread, NULL) != 0;
}
