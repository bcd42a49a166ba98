/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calls getpid through the i386 `int 0x80` gate from a 64-bit process. A
 * filter written only for the x86-64 syscall table misses such calls, so
 * nativemon should report a syscall through a non-native ABI.
 */
#include <stdio.h>
#include <unistd.h>

/* getpid in the i386 table (arch/x86/entry/syscalls/syscall_32.tbl). */
#define I386_NR_GETPID 20

int main(void)
{
	long result;

	/* The kernel zeroes r8-r11 on the way back to a 64-bit caller. */
	__asm__ volatile("int $0x80"
			 : "=a"(result)
			 : "a"((long)I386_NR_GETPID)
			 : "r8", "r9", "r10", "r11", "memory");
	if (result != (long)getpid()) {
		fprintf(stderr, "int80_getpid: int 0x80 returned %ld\n",
			result);
		return 1;
	}
	printf("pid=%ld\n", result);
	return 0;
}
