/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A static i386 program without a C library. It copies a memfd_create
 * stub into anonymous executable memory and calls it, as 32-bit shellcode
 * would. The int 0x80 calls of its own image are the program's normal
 * ABI, but the one from anonymous memory is a direct syscall.
 * Exits 0 when memfd_create returned a descriptor, else 1.
 */
	.set	SYS_EXIT, 1
	.set	SYS_MMAP2, 192
	.set	SYS_MEMFD_CREATE, 356
	.set	PROT_RWX, 7
	.set	MAP_PRIVATE_ANONYMOUS, 0x22

	.text
	.globl	_start
_start:
	/* mmap2(NULL, 4096, PROT_RWX, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) */
	movl	$SYS_MMAP2, %eax
	xorl	%ebx, %ebx
	movl	$4096, %ecx
	movl	$PROT_RWX, %edx
	movl	$MAP_PRIVATE_ANONYMOUS, %esi
	movl	$-1, %edi
	xorl	%ebp, %ebp
	int	$0x80
	cmpl	$-4096, %eax
	jae	fail

	/* Copy the stub, then call it with the memfd's name in %ebx. */
	movl	%eax, %edi
	movl	$stub, %esi
	movl	$stub_end - stub, %ecx
	cld
	rep movsb
	movl	%eax, %edx
	movl	$name, %ebx
	xorl	%ecx, %ecx
	call	*%edx
	testl	%eax, %eax
	js	fail

	movl	$SYS_EXIT, %eax
	xorl	%ebx, %ebx
	int	$0x80
fail:
	movl	$SYS_EXIT, %eax
	movl	$1, %ebx
	int	$0x80

	.data
/* memfd_create(%ebx, %ecx) through int 0x80, then return. */
stub:
	movl	$SYS_MEMFD_CREATE, %eax
	int	$0x80
	ret
stub_end:
name:
	.asciz	"nm-i386-stub"

	.section .note.GNU-stack, "", @progbits
