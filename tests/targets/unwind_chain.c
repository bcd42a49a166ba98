/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A known call chain that ends blocked in a read of stdin, for the
 * unwinding tests:
 *
 *   main -> run_round -> chain_one [-> relay_call -> relay_inner]
 *        -> chain_two -> chain_three -> chain_block -> read(0)
 *
 * Before it blocks, chain_block prints the program's own record of its
 * stack, innermost first, and flushes it:
 *
 *   return ADDRESS     the return address that each function of the
 *                      chain saw, main included (__builtin_return_address)
 *   backtrace ADDRESS  what backtrace(3) returns inside chain_block
 *   ready
 *
 * With UNWIND_CHAIN_NO_BACKTRACE set in the environment it prints no
 * backtrace lines: backtrace(3) crashes or hangs on the broken unwind
 * tables that some tests give the library.
 *
 * Each byte read from stdin ends one round. The build variants are:
 *
 *   CHAIN_O0       compiles the chain without optimization
 *   CHAIN_SYSCALL  blocks in syscall(SYS_read, ...) instead of read()
 *   CHAIN_LINKED   calls through relay_call() of the linked unwind_relay.so
 *   CHAIN_DLOPEN   runs one round per library named on the command line,
 *                  calling through its relay_call(), and unloads it after
 *                  the round
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "unwind_relay.h"

#ifdef CHAIN_O0
/*
 * automake puts the user's CFLAGS, -g -O2 by default, after the flags of
 * each program, so a -O0 there would be overridden.
 */
#pragma GCC optimize("O0")
#endif

#define RECORDS_MAX 16
#define BACKTRACE_MAX 32

static void *records[RECORDS_MAX];
static int record_count;
static long (*relay)(relay_next_fn, relay_record_fn, long);

__attribute__((noinline)) static void record(void *return_address)
{
	if (record_count < RECORDS_MAX)
		records[record_count++] = return_address;
}

static void report(void)
{
	void *trace[BACKTRACE_MAX];
	int count = 0;

	if (!getenv("UNWIND_CHAIN_NO_BACKTRACE"))
		count = backtrace(trace, BACKTRACE_MAX);

	for (int i = record_count - 1; i >= 0; i--)
		printf("return %p\n", records[i]);
	for (int i = 0; i < count; i++)
		printf("backtrace %p\n", trace[i]);
	printf("ready\n");
	fflush(stdout);
}

__attribute__((noinline, noclone)) static long chain_block(long depth)
{
	char byte;
	long n;

	record(__builtin_return_address(0));
	report();
#ifdef CHAIN_SYSCALL
	n = syscall(SYS_read, 0, &byte, 1);
#else
	n = read(0, &byte, 1);
#endif
	__asm__ volatile("" ::: "memory");
	return n + depth;
}

__attribute__((noinline, noclone)) static long chain_three(long depth)
{
	long result;

	record(__builtin_return_address(0));
	result = chain_block(depth + 1);
	__asm__ volatile("" ::: "memory");
	return result + 1;
}

__attribute__((noinline, noclone)) static long chain_two(long depth)
{
	long result;

	record(__builtin_return_address(0));
	result = chain_three(depth + 1);
	__asm__ volatile("" ::: "memory");
	return result + 1;
}

__attribute__((noinline, noclone)) static long chain_one(long depth)
{
	long result;

	record(__builtin_return_address(0));
	if (relay)
		result = relay(chain_two, record, depth + 1);
	else
		result = chain_two(depth + 1);
	__asm__ volatile("" ::: "memory");
	return result + 1;
}

/* Runs the chain once; main passes its own return address. */
__attribute__((noinline, noclone)) static long run_round(void *main_return)
{
	long result;

	record_count = 0;
	record(main_return);
	record(__builtin_return_address(0));
	result = chain_one(0);
	__asm__ volatile("" ::: "memory");
	return result;
}

#ifdef CHAIN_DLOPEN
static void *load_relay(const char *path)
{
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!handle) {
		fprintf(stderr, "unwind_chain: %s\n", dlerror());
		return NULL;
	}
	relay = (long (*)(relay_next_fn, relay_record_fn, long))dlsym(
		handle, "relay_call");
	if (!relay) {
		fprintf(stderr, "unwind_chain: %s\n", dlerror());
		dlclose(handle);
		return NULL;
	}
	printf("library %s\n", path);
	return handle;
}
#endif

int main(int argc, char **argv)
{
	void *main_return = __builtin_return_address(0);
	long result = 0;

#if defined(CHAIN_DLOPEN)
	for (int i = 1; i < argc; i++) {
		void *handle = load_relay(argv[i]);

		if (!handle)
			return 1;
		result = run_round(main_return);
		relay = NULL;
		dlclose(handle);
	}
#else
#if defined(CHAIN_LINKED)
	relay = relay_call;
#endif
	result = run_round(main_return);
#endif
	__asm__ volatile("" ::: "memory");
	return result < 0;
}
