/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bounded, cached view of a target's memory for one unwind. Stack words
 * are read a page at a time and kept, so that walking and scanning a stack
 * costs a few process_vm_readv(2) calls. Every read counts against a byte
 * budget and a read budget, and both end the unwind when they run out.
 */
#ifndef NATIVEMON_MEMVIEW_H
#define NATIVEMON_MEMVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MEMVIEW_PAGE_SIZE 4096
/* Pages kept at once. Older pages are dropped and read again if needed. */
#define MEMVIEW_PAGES 16
/* Results of short code reads kept at once, indexed by address. */
#define MEMVIEW_CODE_SLOTS 64
#define MEMVIEW_CODE_BYTES 8
/* Pages of code in known mappings kept at once, apart from stack pages. */
#define MEMVIEW_CODE_PAGES 8

struct memview_page {
	uint64_t address; /* page-aligned */
	bool used;
	bool readable;
	uint8_t data[MEMVIEW_PAGE_SIZE];
};

struct memview_code {
	uint64_t address; /* the end of the bytes, such as a return address */
	bool used;
	uint8_t length;
	uint8_t bytes[MEMVIEW_CODE_BYTES];
};

struct memview {
	pid_t pid;
	size_t byte_budget;
	size_t read_budget;
	size_t bytes_read;
	size_t reads;
	/* -ESRCH once the target is gone, -ENOBUFS once a budget ran out. */
	int error;
	size_t next_victim;
	size_t next_code_victim;
	/* The page of the last read, tried first by word-by-word scans. */
	struct memview_page *last_page;
	struct memview_page pages[MEMVIEW_PAGES];
	struct memview_code code[MEMVIEW_CODE_SLOTS];
	struct memview_page code_pages[MEMVIEW_CODE_PAGES];
};

/*
 * Empties view and aims it at process pid (any thread id of the process
 * works). byte_budget and read_budget bound what later calls read.
 */
void memview_reset(struct memview *view, pid_t pid, size_t byte_budget,
		   size_t read_budget);

/*
 * Reads the 8-byte little-endian word at address. Returns 0, -EFAULT for
 * memory that cannot be read, -ENOBUFS once a budget is spent, or -ESRCH
 * once the target has exited. The last two stay set in view->error.
 */
int memview_read_word(struct memview *view, uint64_t address, uint64_t *value);

/*
 * Reads up to MEMVIEW_CODE_BYTES bytes that end at address, starting no
 * lower than floor (the start of the mapping that contains address).
 * Returns the number of bytes copied into bytes or a negative errno as
 * memview_read_word() does. The page that contains the bytes is read
 * whole and kept, because the return addresses of one stack often share
 * code pages. It counts against the byte budget with the bytes requested
 * only, because one process_vm_readv(2) of 4096 bytes took 1.47 us here
 * against 1.44 us for 8 bytes.
 */
ssize_t memview_read_before(struct memview *view, uint64_t address,
			    uint64_t floor, uint8_t bytes[MEMVIEW_CODE_BYTES]);

/*
 * Reads the MEMVIEW_CODE_BYTES bytes before address, as
 * memview_read_before() does, for an address whose mapping is not known,
 * or only those on address's own page when the page before cannot be read.
 * Uses process_vm_readv(2) alone, so memory that the target cannot read
 * itself, such as a guard page, fails with one syscall.
 */
ssize_t memview_probe_before(struct memview *view, uint64_t address,
			     uint8_t bytes[MEMVIEW_CODE_BYTES]);

/* Returns true once a budget ran out or the target has exited. */
bool memview_is_exhausted(const struct memview *view);

#endif
