/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A library with a direct syscall, built twice with a different
 * SWAP_BUILD. The two builds have the same layout, so the `syscall`
 * instruction sits at the same offset, but other bytes and build-ids.
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include "raw_syscall.h"

long nm_swap_build(void);
long nm_swap_memfd(void);

long nm_swap_build(void)
{
	return SWAP_BUILD;
}

/* Returns a memfd or a negative errno. */
long nm_swap_memfd(void)
{
	return raw_syscall3(SYS_memfd_create, (long)"nm-swap", MFD_CLOEXEC, 0);
}
