/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A system call made with a `syscall` instruction that is compiled into the
 * program including this header, so the kernel reports an instruction
 * pointer inside that program instead of inside libc.
 */
#ifndef NATIVEMON_TARGETS_RAW_SYSCALL_H
#define NATIVEMON_TARGETS_RAW_SYSCALL_H

/* Returns the kernel's result: a negative errno on failure. */
static inline long raw_syscall3(long number, long arg0, long arg1, long arg2)
{
	long result;

	/* The instruction overwrites rcx and r11 (return address, flags). */
	__asm__ volatile("syscall"
			 : "=a"(result)
			 : "a"(number), "D"(arg0), "S"(arg1), "d"(arg2)
			 : "rcx", "r11", "memory");
	return result;
}

#endif
