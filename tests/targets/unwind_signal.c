/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blocks in a read(2) of stdin inside a signal handler, so that the stack
 * contains the kernel's signal frame:
 *
 *   main -> signal_raiser -> raise(SIGUSR1) ... [signal frame]
 *        -> signal_handler -> read(0)
 *
 * With the argument "altstack" the handler runs on an mmap()ed
 * sigaltstack(2) stack instead of the thread's own. Before it blocks it
 * prints "return ADDRESS" (the return address of signal_raiser, inside
 * main) and "ready".
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALTSTACK_SIZE (64 * 1024)

static void *raiser_return;

static void signal_handler(int signal_number)
{
	char byte;
	long n;

	printf("return %p\nready\n", raiser_return);
	fflush(stdout);
	n = read(0, &byte, 1);
	__asm__ volatile("" ::: "memory");
	(void)n;
	(void)signal_number;
}

__attribute__((noinline, noclone)) static int signal_raiser(void)
{
	int result;

	raiser_return = __builtin_return_address(0);
	result = raise(SIGUSR1);
	__asm__ volatile("" ::: "memory");
	return result;
}

static int use_altstack(struct sigaction *action)
{
	stack_t altstack = { .ss_size = ALTSTACK_SIZE };

	altstack.ss_sp = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (altstack.ss_sp == MAP_FAILED || sigaltstack(&altstack, NULL) != 0)
		return -1;
	action->sa_flags |= SA_ONSTACK;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction action = { .sa_handler = signal_handler };
	int result;

	if (argc > 1 && strcmp(argv[1], "altstack") == 0 &&
	    use_altstack(&action) != 0)
		return 1;
	if (sigaction(SIGUSR1, &action, NULL) != 0)
		return 1;
	result = signal_raiser();
	__asm__ volatile("" ::: "memory");
	return result != 0;
}
