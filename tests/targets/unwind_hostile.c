/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blocks in a raw read(2) of stdin with its stack pointer moved to where
 * an unwinder must not trust what it finds, as a stack pivot does. argv[1]
 * names the place:
 *
 *   heap-garbage   a malloc()ed buffer of pseudo-random words ([heap])
 *   heap-cycle     a malloc()ed buffer of frame records whose saved rbp
 *                  points at the record itself, each followed by a real
 *                  return address into main
 *   mmap-garbage   an mmap()ed anonymous buffer with no guard page below
 *   stack-garbage  a buffer on the thread's own [stack], filled with
 *                  pseudo-random words, self-pointers and code addresses
 *   unmapped       an address that no mapping contains
 *   noncanonical   an address outside the user half of the address space
 *
 * It prints "ready" before it moves the stack pointer, because nothing can
 * run on the fake stack, and it never returns: the test kills it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WORDS 4096
#define PAGE 4096

static char byte;

/* Switches to fake_sp and reads one byte of stdin with a raw syscall. */
__attribute__((noinline, noreturn)) static void block_on(uint64_t fake_sp)
{
	__asm__ volatile("mov %[sp], %%rsp\n\t"
			 "xor %%eax, %%eax\n\t" /* SYS_read */
			 "xor %%edi, %%edi\n\t" /* stdin */
			 "mov $1, %%edx\n\t"
			 "syscall\n\t"
			 "1: jmp 1b\n\t"
			 :
			 : [sp] "r"(fake_sp), "S"(&byte)
			 : "rax", "rdi", "rdx", "rcx", "r11", "memory");
	__builtin_unreachable();
}

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64: cheap, deterministic garbage. */
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

__attribute__((noinline)) static void *return_address_in_main(void)
{
	return __builtin_return_address(0);
}

static void fill_garbage(uint64_t *words, size_t count)
{
	uint64_t state = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < count; i++)
		words[i] = next_random(&state);
}

static void fill_cycle(uint64_t *words, size_t count, void *return_address)
{
	for (size_t i = 0; i + 1 < count; i += 2) {
		words[i] = (uint64_t)(uintptr_t)&words[i];
		words[i + 1] = (uint64_t)(uintptr_t)return_address;
	}
}

static void fill_mixed(uint64_t *words, size_t count, void *return_address)
{
	uint64_t state = 0x2545f4914f6cdd1dull;

	for (size_t i = 0; i < count; i++) {
		switch (i % 4) {
		case 0:
			words[i] = next_random(&state);
			break;
		case 1:
			words[i] = (uint64_t)(uintptr_t)&words[i];
			break;
		case 2:
			words[i] = (uint64_t)(uintptr_t)&fill_garbage;
			break;
		default:
			words[i] = (uint64_t)(uintptr_t)return_address;
			break;
		}
	}
}

static uint64_t unmapped_address(void)
{
	char *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED || munmap(page, PAGE) != 0)
		return 0;
	return (uint64_t)(uintptr_t)page + PAGE / 2;
}

/* Returns a buffer of bytes whose lower neighbour page is unmapped. */
static uint64_t *map_unguarded(size_t bytes)
{
	char *pages = mmap(NULL, bytes + PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (pages == MAP_FAILED || munmap(pages, PAGE) != 0)
		return NULL;
	return (uint64_t *)(pages + PAGE);
}

static int ready(void)
{
	static const char line[] = "ready\n";

	return write(1, line, sizeof(line) - 1) == sizeof(line) - 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	void *return_address = return_address_in_main();
	uint64_t on_stack[WORDS];
	uint64_t *words = NULL;
	uint64_t fake_sp = 0;
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "heap-garbage") == 0 ||
	    strcmp(mode, "heap-cycle") == 0) {
		words = malloc(WORDS * sizeof(*words));
		if (words && mode[5] == 'g')
			fill_garbage(words, WORDS);
		else if (words)
			fill_cycle(words, WORDS, return_address);
	} else if (strcmp(mode, "mmap-garbage") == 0) {
		words = map_unguarded(WORDS * sizeof(*words));
		if (words)
			fill_garbage(words, WORDS);
	} else if (strcmp(mode, "stack-garbage") == 0) {
		words = on_stack;
		fill_mixed(words, WORDS, return_address);
	} else if (strcmp(mode, "unmapped") == 0) {
		fake_sp = unmapped_address();
	} else if (strcmp(mode, "noncanonical") == 0) {
		fake_sp = 0x8000000000001000ull;
	} else {
		fprintf(stderr, "unwind_hostile: unknown mode '%s'\n", mode);
		return 2;
	}
	if (words)
		fake_sp = (uint64_t)(uintptr_t)&words[WORDS / 4];
	if (fake_sp == 0 || ready() != 0)
		return 1;
	block_on(fake_sp);
}
