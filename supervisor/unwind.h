/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Remote stack unwinding of a thread that is blocked in a syscall, from
 * nothing but its instruction and stack pointers (the last two fields of
 * /proc/PID/task/TID/syscall). Frames come from the modules' CFI through
 * libunwind where it exists, from frame pointers or a verified stack scan
 * where it does not. Each frame is then symbolized from the module cache.
 *
 * The target's stack is hostile input. Every unwind is bounded in frames,
 * bytes and read calls on target memory, mapping lookups and wall time.
 * A stack that is garbage, cyclic, unmapped or pivoted yields a short
 * stack with a status, never a crash, a hang or an unbounded read.
 *
 * Not thread-safe: an unwinder, its module cache and the stacks it fills
 * belong to one thread, because module references are counted without
 * atomics.
 */
#ifndef NATIVEMON_UNWIND_H
#define NATIVEMON_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "maps.h"
#include "module.h"
#include "origin.h"

#define STACK_FRAMES_MAX 32

/* The method that found a frame. */
enum frame_method {
	FRAME_METHOD_REGISTER, /* the innermost frame: the thread's ip */
	FRAME_METHOD_CFI,      /* .eh_frame through libunwind */
	FRAME_METHOD_FP,       /* the rbp chain */
	FRAME_METHOD_SCAN,     /* a stack word that follows a call */
};

/*
 * The reason an unwind stopped. When several apply, the first one listed here
 * wins: a pivoted stack is reported as pivoted even if it unwound.
 */
enum stack_status {
	/*
	 * The stack pointer is outside any stack of the thread; see
	 * enum stack_pointer_place. The frames come from memory the
	 * thread's code chose and prove nothing.
	 */
	STACK_PIVOTED,
	/* The memory at the stack pointer could not be read. */
	STACK_UNREADABLE,
	/* A bound (frames, bytes, reads, lookups, time) ended the unwind. */
	STACK_LIMIT,
	/* No method verified a further frame before the stack ended. */
	STACK_TRUNCATED,
	/*
	 * The outermost frame was reached: its CFI marks the end of the
	 * chain, as glibc's _start does by leaving its return address
	 * undefined.
	 */
	STACK_COMPLETE,
	/*
	 * The unwind stopped at the caller frame, as unwind_thread_to_caller()
	 * does: the outer frames were not looked for.
	 */
	STACK_CALLER_FOUND,
};

/* The memory the stack pointer lies in; see unwind_locate_stack_pointer(). */
enum stack_pointer_place {
	/* [stack] for the main thread, or a guarded thread stack. */
	STACK_POINTER_STACK,
	/*
	 * Anonymous read-write memory without a guard page below it: the
	 * stacks of glibc's posix_spawn() children, coroutines, sigaltstack
	 * handlers, or a pivot into mmap()ed memory. Not reported as a pivot.
	 */
	STACK_POINTER_ANONYMOUS,
	/* Memory that no stack occupies: a pivot. */
	STACK_POINTER_PIVOTED,
	/* No mapping contains the stack pointer: a pivot as well. */
	STACK_POINTER_UNMAPPED,
	/* The mapping could not be looked up. */
	STACK_POINTER_UNKNOWN,
};

struct frame {
	/*
	 * The instruction pointer for the innermost frame, the return
	 * address for the others.
	 */
	uint64_t address;
	uint64_t sp; /* the stack pointer in this frame */
	/*
	 * The file mapped at address, with a counted reference that
	 * unwind_stack_fini() drops; NULL for memory without a file or a
	 * file that could not be read.
	 */
	struct module *module;
	/* The file offset of address, valid when has_offset is true. */
	uint64_t offset;
	bool has_offset;
	/* Owned by module; NULL when no symbol covers the address. */
	const char *symbol;
	uint64_t symbol_offset;
	enum origin_kind origin;
	enum frame_method method;
};

struct stack {
	struct frame frames[STACK_FRAMES_MAX];
	size_t count;
	enum stack_status status;
	enum stack_pointer_place stack_pointer;
	/*
	 * Bytes requested from target memory, .eh_frame copies excluded. A
	 * code read requests a few bytes and copies their whole page.
	 */
	size_t bytes_read;
	uint64_t elapsed_ns; /* wall time of the unwind */
};

/*
 * Bounds of one unwind. Zero fields take the defaults below, and frames
 * is capped at STACK_FRAMES_MAX. The defaults are estimates that keep an
 * unwind of a hostile stack within about 10 ms, not measurements.
 *
 * time_ns counts the unwinding thread's CPU time, so that a loaded
 * machine does not cut stacks short. It includes reading modules into the
 * cache, 0.5 to 0.7 ms for glibc 2.36's libc.so.6 on a 2-CPU Xeon VM. A
 * first unwind through many large modules can therefore run out of time,
 * and later unwinds find them cached. A module read runs to its end, so
 * an unwind can overrun time_ns by one.
 */
struct unwind_limits {
	size_t frames;	/* default 32 */
	size_t bytes;	/* read from target memory; default 64 KiB */
	size_t reads;	/* process_vm_readv() calls; default 256 */
	size_t lookups; /* calls of the mapping callback; default 64 */
	/*
	 * Lookups that found no mapping; default 8. After that, an address
	 * outside the mappings already found counts as unmapped without a
	 * lookup, because stale stack words miss often and a miss can cost
	 * the callback a read of /proc/PID/maps.
	 */
	size_t lookup_misses;
	uint64_t time_ns;    /* CPU time of the thread; default 10 ms */
	size_t rbp_attempts; /* rbp values tried per frame; default 8 */
};

/*
 * Returns the mapping of the target that contains address, or NULL with
 * *err set to 0 (no mapping there) or a negative errno. The result need
 * only stay valid until the next call. process_find_mapping() of proc.h
 * has this shape, with the struct process as context.
 */
typedef const struct mapping *(*unwind_find_mapping_fn)(void *context,
							uint64_t address,
							int *err);

struct unwind_target {
	pid_t tgid;
	pid_t tid; /* the blocked thread */
	unwind_find_mapping_fn find_mapping;
	void *context;
	const struct exe_identity *exe; /* may be NULL; see origin_classify() */
};

struct unwinder;

/*
 * Creates an unwinder that reads modules through cache, which must
 * outlive it. limits may be NULL for the defaults. Returns NULL without
 * memory.
 */
struct unwinder *unwinder_new(struct module_cache *cache,
			      const struct unwind_limits *limits);

/* Frees the unwinder. Accepts NULL. */
void unwinder_free(struct unwinder *unwinder);

/*
 * Unwinds the thread target->tid, stopped in a syscall with instruction
 * pointer ip and stack pointer sp, into *stack. The first frame is always
 * ip itself. Release the stack with unwind_stack_fini().
 *
 * Returns 0 when *stack describes the thread, whatever its status, or
 * -EINVAL when target has no find_mapping callback. Memory that cannot be
 * allocated leaves frames without their module. The frames describe the
 * caller only while the thread is still blocked: confirm that the
 * notification is still valid before using them.
 */
int unwind_thread(struct unwinder *unwinder, const struct unwind_target *target,
		  uint64_t ip, uint64_t sp, struct stack *stack);

/*
 * Like unwind_thread(), but stops at the caller frame that
 * unwind_stack_caller() returns, with status STACK_CALLER_FOUND. The
 * caller matchers need no more, and the outer frames of a deep stack cost
 * most of an unwind.
 */
int unwind_thread_to_caller(struct unwinder *unwinder,
			    const struct unwind_target *target, uint64_t ip,
			    uint64_t sp, struct stack *stack);

/* Drops the module references of the frames and empties the stack. */
void unwind_stack_fini(struct stack *stack);

/*
 * Returns the first frame whose origin is not libc, the loader or the
 * vDSO, and that is not in the preload shim: the code that asked for the
 * syscall. Returns NULL when every frame is inside those.
 */
const struct frame *unwind_stack_caller(const struct stack *stack);

/*
 * Writes the base names of the frames' modules joined by '|', innermost
 * first, into buffer; frames without a module appear as their origin in
 * brackets, such as "[anonymous]". Returns the length, or -ENOSPC when
 * the summary did not fit. buffer then contains the names that fit.
 */
int unwind_stack_summary(const struct stack *stack, char *buffer, size_t size);

/*
 * Decides whether sp lies on a stack of thread target->tid:
 *   - the main thread (tid == tgid) is on its stack in [stack];
 *   - any thread is on a stack in anonymous, private, read-write,
 *     non-executable memory directly above an inaccessible (---p)
 *     mapping, which is how glibc and musl allocate thread stacks with
 *     their guard page;
 *   - other anonymous read-write memory is STACK_POINTER_ANONYMOUS;
 *   - everything else ([heap], files, executable or read-only memory,
 *     another thread's [stack]) is STACK_POINTER_PIVOTED.
 * NOTE: thread stacks created with pthread_attr_setguardsize(0) or
 * pthread_attr_setstack() have no guard and count as anonymous, and so do
 * Go and other runtimes that switch stacks themselves.
 */
enum stack_pointer_place
unwind_locate_stack_pointer(const struct unwind_target *target, uint64_t sp);

/* Names for logs and events. */
const char *unwind_frame_method_name(enum frame_method method);
const char *unwind_stack_status_name(enum stack_status status);
const char *unwind_stack_pointer_place_name(enum stack_pointer_place place);

#endif
