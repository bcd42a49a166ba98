/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cached target memory reads. A page that could not be read is remembered
 * as unreadable, so a hostile stack full of pointers into a guard page
 * costs one failed read, not one per word.
 */
#include "memview.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "target.h"

void memview_reset(struct memview *view, pid_t pid, size_t byte_budget,
		   size_t read_budget)
{
	view->pid = pid;
	view->byte_budget = byte_budget;
	view->read_budget = read_budget;
	view->bytes_read = 0;
	view->reads = 0;
	view->error = 0;
	view->next_victim = 0;
	view->next_code_victim = 0;
	view->last_page = NULL;
	for (size_t i = 0; i < MEMVIEW_PAGES; i++)
		view->pages[i].used = false;
	for (size_t i = 0; i < MEMVIEW_CODE_PAGES; i++)
		view->code_pages[i].used = false;
	for (size_t i = 0; i < MEMVIEW_CODE_SLOTS; i++)
		view->code[i].used = false;
}

bool memview_is_exhausted(const struct memview *view)
{
	return view->error != 0;
}

/* Charges one read of size bytes. Returns 0 or -ENOBUFS. */
static int charge(struct memview *view, size_t size)
{
	if (view->error)
		return view->error;
	if (view->reads >= view->read_budget ||
	    size > view->byte_budget - view->bytes_read) {
		view->error = -ENOBUFS;
		return view->error;
	}
	view->reads++;
	view->bytes_read += size;
	return 0;
}

static struct memview_page *find_page(struct memview *view, uint64_t address)
{
	struct memview_page *last = view->last_page;

	if (last && last->used && last->address == address)
		return last;
	for (size_t i = 0; i < MEMVIEW_PAGES; i++) {
		if (view->pages[i].used && view->pages[i].address == address)
			return &view->pages[i];
	}
	return NULL;
}

static struct memview_page *load_page(struct memview *view, uint64_t address)
{
	struct memview_page *page = find_page(view, address);
	ssize_t n;

	if (page)
		return page;
	if (charge(view, MEMVIEW_PAGE_SIZE) < 0)
		return NULL;
	page = &view->pages[view->next_victim];
	view->next_victim = (view->next_victim + 1) % MEMVIEW_PAGES;
	n = read_target_memory(view->pid, address, page->data,
			       MEMVIEW_PAGE_SIZE);
	if (n == -ESRCH) {
		view->error = -ESRCH;
		page->used = false;
		return NULL;
	}
	page->address = address;
	page->used = true;
	page->readable = n == MEMVIEW_PAGE_SIZE;
	return page;
}

/* Returns the readable page at base, or NULL with an errno in *err. */
static const struct memview_page *readable_page(struct memview *view,
						uint64_t base, int *err)
{
	struct memview_page *page = load_page(view, base);

	if (!page) {
		*err = view->error ? view->error : -EFAULT;
		return NULL;
	}
	view->last_page = page;
	if (!page->readable) {
		*err = -EFAULT;
		return NULL;
	}
	return page;
}

int memview_read_word(struct memview *view, uint64_t address,
		      uint64_t *value)
{
	uint64_t base = address & ~(uint64_t)(MEMVIEW_PAGE_SIZE - 1);
	uint64_t offset = address - base;
	const struct memview_page *page;
	uint8_t bytes[sizeof(*value)];
	size_t first;
	int err;

	if (address > UINT64_MAX - sizeof(*value))
		return -EFAULT;
	page = readable_page(view, base, &err);
	if (!page)
		return err;
	if (offset <= MEMVIEW_PAGE_SIZE - sizeof(*value)) {
		memcpy(value, page->data + offset, sizeof(*value));
		return 0;
	}
	/* The word straddles two pages. */
	first = MEMVIEW_PAGE_SIZE - offset;
	memcpy(bytes, page->data + offset, first);
	page = readable_page(view, base + MEMVIEW_PAGE_SIZE, &err);
	if (!page)
		return err;
	memcpy(bytes + first, page->data, sizeof(bytes) - first);
	memcpy(value, bytes, sizeof(*value));
	return 0;
}

static struct memview_code *code_slot(struct memview *view, uint64_t address)
{
	/* Return addresses differ mostly in their low bits. */
	size_t index =
		(size_t)((address ^ (address >> 12)) % MEMVIEW_CODE_SLOTS);

	return &view->code[index];
}

/* Reads from the target without the /proc/PID/mem fallback. */
static ssize_t read_directly(pid_t pid, uint64_t address, void *buffer,
			     size_t size)
{
	struct iovec local = { .iov_base = buffer, .iov_len = size };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)address,
				.iov_len = size };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	return n < 0 ? -errno : n;
}

static struct memview_page *find_code_page(struct memview *view,
					   uint64_t address)
{
	for (size_t i = 0; i < MEMVIEW_CODE_PAGES; i++) {
		if (view->code_pages[i].used &&
		    view->code_pages[i].address == address)
			return &view->code_pages[i];
	}
	return NULL;
}

/*
 * Copies length bytes that end at address from their code page, reading
 * the page unless it is kept. The caller charged the read. Returns length
 * or a negative errno.
 */
static ssize_t read_from_code_page(struct memview *view, uint64_t address,
				   size_t length, uint8_t *bytes)
{
	uint64_t base = (address - 1) & ~(uint64_t)(MEMVIEW_PAGE_SIZE - 1);
	struct memview_page *page = find_code_page(view, base);
	ssize_t n;

	if (!page) {
		page = &view->code_pages[view->next_code_victim];
		view->next_code_victim =
			(view->next_code_victim + 1) % MEMVIEW_CODE_PAGES;
		page->used = false;
		n = read_target_memory(view->pid, base, page->data,
				       MEMVIEW_PAGE_SIZE);
		if (n < 0)
			return n;
		if (n != MEMVIEW_PAGE_SIZE)
			return -EFAULT;
		page->address = base;
		page->used = true;
	}
	memcpy(bytes, page->data + (address - length - base), length);
	return (ssize_t)length;
}

/* Returns true if the length bytes that end at address lie on one page. */
static bool is_on_one_page(uint64_t address, size_t length)
{
	return ((address - length) & ~(uint64_t)(MEMVIEW_PAGE_SIZE - 1)) ==
	       ((address - 1) & ~(uint64_t)(MEMVIEW_PAGE_SIZE - 1));
}

static ssize_t read_code(struct memview *view, uint64_t address, uint64_t floor,
			 uint8_t bytes[MEMVIEW_CODE_BYTES], bool probe)
{
	struct memview_code *slot = code_slot(view, address);
	size_t length = MEMVIEW_CODE_BYTES;
	ssize_t n;
	int err;

	if (slot->used && slot->address == address) {
		memcpy(bytes, slot->bytes, slot->length);
		return slot->length;
	}
	if (address <= floor)
		return -EFAULT;
	if (address - floor < length)
		length = (size_t)(address - floor);
	err = charge(view, length);
	if (err < 0)
		return err;
	if (probe)
		n = read_directly(view->pid, address - length, bytes, length);
	else if (is_on_one_page(address, length))
		n = read_from_code_page(view, address, length, bytes);
	else
		n = read_target_memory(view->pid, address - length, bytes,
				       length);
	if (n == -ESRCH)
		view->error = -ESRCH;
	if (n < 0)
		return n;
	if ((size_t)n != length)
		return -EFAULT;
	slot->address = address;
	slot->used = true;
	slot->length = (uint8_t)length;
	memcpy(slot->bytes, bytes, length);
	return (ssize_t)length;
}

ssize_t memview_read_before(struct memview *view, uint64_t address,
			    uint64_t floor, uint8_t bytes[MEMVIEW_CODE_BYTES])
{
	return read_code(view, address, floor, bytes, false);
}

ssize_t memview_probe_before(struct memview *view, uint64_t address,
			     uint8_t bytes[MEMVIEW_CODE_BYTES])
{
	uint64_t page = address & ~(uint64_t)(MEMVIEW_PAGE_SIZE - 1);
	ssize_t n;

	if (address < MEMVIEW_CODE_BYTES)
		return -EFAULT;
	n = read_code(view, address, address - MEMVIEW_CODE_BYTES, bytes, true);
	/* The page before may be unmapped while address's own page is not. */
	if (n == -EFAULT && address - page < MEMVIEW_CODE_BYTES &&
	    address > page)
		n = read_code(view, address, page, bytes, true);
	return n;
}
