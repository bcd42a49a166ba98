/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A call whose callee sees a return address of the caller's choosing.
 * glibc's dlopen() and dlmopen() take __builtin_return_address(0) as the
 * module that asked for the load, so the shim passes the address of a
 * `ret` byte inside that module. The callee returns to that byte, and the
 * `ret` there returns to the continuation pushed underneath it.
 *
 * void *shim_call_returning_to(void *function, const void *return_address,
 *				uintptr_t arg0, uintptr_t arg1, uintptr_t arg2);
 *
 * Calls function(arg0, arg1, arg2) and returns its result in rax. The
 * callee must not need a shadow stack: its `ret` would not match.
 */
	.text
	.globl	shim_call_returning_to
	.hidden	shim_call_returning_to
	.type	shim_call_returning_to, @function
	.p2align 4
shim_call_returning_to:
	.cfi_startproc
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register %rbp

	movq	%rdi, %rax
	movq	%rsi, %r11
	movq	%rdx, %rdi
	movq	%rcx, %rsi
	movq	%r8, %rdx
	leaq	.Lcontinue(%rip), %r10

	/*
	 * rsp is a multiple of 16 after the push of rbp. One word of padding
	 * and the two return addresses leave it 8 above a multiple of 16 at
	 * the callee's entry, as a call from aligned code does.
	 */
	subq	$8, %rsp
	pushq	%r10
	pushq	%r11
	jmp	*%rax

	/*
	 * The `ret` in the caller's module popped the continuation, so rsp is
	 * back at rbp - 8. The rows above still hold here: the callee kept
	 * rbp, which is all they use.
	 */
.Lcontinue:
	leave
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	shim_call_returning_to, . - shim_call_returning_to

	.section .note.GNU-stack, "", @progbits
