/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The process table: what the supervisor remembers about each process and
 * thread that has sent a notification. Entries are keyed by id and start
 * time, so a reused pid is never mistaken for its predecessor.
 */
#ifndef NATIVEMON_PROC_H
#define NATIVEMON_PROC_H

#include <bsd/sys/queue.h>
#include <bsd/sys/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lineage.h"
#include "maps.h"
#include "origin.h"
#include "procfs.h"

/* Entries a table may gain beyond double its size at the last sweep. */
#define PROC_TABLE_SWEEP_SLACK 128
/*
 * The minimum of new entries between sweeps once the entries may use half
 * the descriptors. A large table waits for an eighth of its size.
 */
#define PROC_TABLE_SWEEP_STEP 16
/* Time between sweeps for threads that found no descriptor left. */
#define PROC_TABLE_RESWEEP_MS 10

/* Address ranges whose cached mappings may be out of date. */
#define PROCESS_DIRTY_MAX 8

struct address_range {
	uint64_t start;
	uint64_t end;
};

/* A range that a call may have remapped, and the thread that made it. */
struct dirty_range {
	uint64_t start;
	uint64_t end;
	pid_t tid;
};

/*
 * A module already reported. Size and mtime tell a library rewritten in
 * place, which keeps its inode, from the one loaded before.
 */
struct module_id {
	dev_t dev;
	ino_t inode;
	off_t size;
	struct timespec mtime;
};

/* Calls to dlopen or dlmopen under way that a process's entry keeps. */
#define PROCESS_LOADS_MAX 32

/*
 * A dlopen or dlmopen call that the preload shim reported and that has not
 * returned yet. Attribution only: the process writes these reports.
 */
struct load_request {
	pid_t tid;
	enum load_source source; /* DLOPEN or DLMOPEN */
	int flags;		 /* the mode argument */
	int64_t namespace_id;	 /* NATIVEMON_NAMESPACE_CALLER for dlopen */
	char *requested;	 /* the name asked for; NULL if unreadable */
	char *caller;		 /* file of the calling code; NULL if none */
};

struct thread;
LIST_HEAD(thread_list, thread);

struct process {
	RB_ENTRY(process) node;
	struct thread_list threads; /* the entries of its threads */
	pid_t tgid;
	unsigned long long start_time;
	/*
	 * The thread whose notification is being handled. Its /proc entries
	 * are read instead of the leader's, which are empty once the leader
	 * has exited while other threads go on.
	 */
	pid_t reader_tid;

	/* The program image, replaced when the process calls exec. */
	bool image_stale;
	bool image_changed; /* an exec replaced the image; see monitor.c */
	bool exec_reported; /* the last exec call yielded an exec finding */
	bool fileless_reported;
	bool access_warned; /* its /proc entries were found unreadable */
	char *exe_path;
	struct exe_identity exe;
	bool has_exe_stat;
	struct stat exe_stat; /* of /proc/PID/exe, if has_exe_stat */
	enum abi exe_abi; /* from the ELF header; ABI_UNKNOWN if unreadable */
	char *cmdline; /* NUL-separated arguments, capped */
	size_t cmdline_length;
	struct timespec image_start; /* wall time the image started */
	struct timespec exec_time;   /* of the last exec call */

	/*
	 * Earlier images of this process and its ancestors' images, nearest
	 * first, up to the process nativemon started.
	 */
	struct lineage lineage;

	/* A cached /proc/PID/maps; see process_find_mapping(). */
	struct maps maps;
	bool maps_valid;
	/*
	 * The cache was read with PROCMAP_QUERY. It contains every executable
	 * mapping, and other mappings only after a lookup queried them.
	 */
	bool maps_executable_only;
	/* An executable mapping appeared at an address the cache lacks. */
	bool maps_weakened;
	unsigned long maps_changes; /* counts process_mark_dirty() calls */
	struct mapping queried; /* scratch space for maps_query_fd() */
	/*
	 * /proc/PID/maps, open for PROCMAP_QUERY, or -1. Closed
	 * whenever the cache is read again and at exec, because it stays
	 * bound to the address space it was opened on.
	 */
	int maps_fd;
	bool libc_mapped;
	/*
	 * The process may have executable memory without a file on disk:
	 * seen in its maps, or it mapped or mprotect()ed code that may be.
	 * Cleared by exec only.
	 */
	bool unbacked_code;
	/*
	 * The process set READ_IMPLIES_EXEC with personality(2), so every
	 * readable mapping it makes is executable, and mmap() calls without
	 * PROT_EXEC are not watched. Cached file mappings are then always
	 * confirmed, because code can replace them unseen. Copied by fork.
	 * Cleared by exec, as the kernel clears the flag for 64-bit programs.
	 */
	bool read_implies_exec;
	/*
	 * The process created a userfaultfd, so reading its memory (argv
	 * and paths, stacks, even /proc/PID/cmdline) may block nativemon
	 * until the process serves the fault. Cleared by exec.
	 */
	bool userfaultfd;
	struct dirty_range dirty[PROCESS_DIRTY_MAX];
	size_t dirty_count;

	/* Executable files already reported as module loads. */
	struct module_id *modules;
	size_t module_count;
	size_t module_capacity;

	/*
	 * The preload shim's constructor has reported since the last exec:
	 * the loader's start-up work is over, and its mappings from here on
	 * come from dlopen. Copied by fork.
	 */
	bool shim_ready;
	char *libc_path; /* the C library mapped, for its internal loads */
	struct load_request loads[PROCESS_LOADS_MAX]; /* innermost last */
	size_t load_count;
	/*
	 * A report was dropped to make room, so a load without a report
	 * under way may belong to the dropped one. Cleared by exec.
	 */
	bool loads_dropped;
};

struct thread {
	RB_ENTRY(thread) node;
	LIST_ENTRY(thread) sibling; /* in process->threads */
	pid_t tid;
	unsigned long long start_time;
	int pidfd; /* readable once the thread exited; -1 if none */
	int syscall_fd; /* its /proc/.../syscall, opened on first use; -1 */
	struct process *process;
};

RB_HEAD(process_tree, process);
RB_HEAD(thread_tree, thread);
RB_PROTOTYPE(process_tree, process, node, compare_process)
RB_PROTOTYPE(thread_tree, thread, node, compare_thread)

struct proc_table {
	struct process_tree processes;
	struct thread_tree threads;
	size_t process_count;
	size_t thread_count;
	size_t swept_count;   /* processes and threads after the last sweep */
	long long swept_ms;   /* handshake_now_ms() at the last sweep */
	size_t descriptor_limit; /* RLIMIT_NOFILE, read again at each sweep */
	pid_t supervisor_pid; /* where lineages stop */
	char *supervisor_exe; /* an image of it is left out of lineages */
};

void proc_table_init(struct proc_table *table);
void proc_table_fini(struct proc_table *table);

/*
 * Finds or creates the entry of the thread tid and its process, reading
 * /proc. Returns NULL with -errno in *err when the thread is gone or /proc
 * cannot be read. The entry stays owned by the table.
 */
struct process *proc_table_resolve(struct proc_table *table, pid_t tid,
				   int *err);

/* Drops the entries of processes and threads that have exited. */
void proc_table_sweep(struct proc_table *table);

/*
 * Returns true once the table has doubled since the last sweep, or has
 * grown by PROC_TABLE_SWEEP_STEP or an eighth while its entries may hold
 * half the descriptor limit. Entries of exited processes hold descriptors and
 * memory until a sweep, and a storm of short-lived processes adds
 * thousands a second. Waiting for the sweep interval would let them pile
 * up until no new thread could be tracked.
 */
bool proc_table_needs_sweep(const struct proc_table *table);

/*
 * Returns the mapping that contains address. A cached entry that may be out
 * of date is confirmed with maps_query(), and /proc/PID/maps is read again
 * when the cache is invalid, misses, or was wrong. Returns NULL when no
 * mapping contains address; *err is then 0 or the read error. The result
 * is valid until the next call.
 */
const struct mapping *process_find_mapping(struct process *process,
					   uint64_t address, int *err);

/*
 * Records that a call of thread tid may have remapped [start, start +
 * length); length 0 means that an executable mapping may have appeared
 * anywhere.
 */
void process_mark_dirty(struct process *process, pid_t tid, uint64_t start,
			uint64_t length);

/*
 * Asks the kernel for the executable mappings in the ranges that thread
 * tid or an exited thread marked out of date, puts them into a cache of
 * executable mappings and clears those marks. Call it when tid makes its
 * next call, because its earlier calls have run by then. A live thread's
 * call may still be under way after its response, so its marks stay
 * until that thread calls again, and lookups in its ranges are confirmed
 * meanwhile.
 * NOTE: the marks of a thread that then waits for long also make the
 * stack scan count their ranges as possible unbacked code until then.
 */
void process_settle_changes(struct process *process, pid_t tid);

/*
 * Fills ranges with the address ranges that may hold executable memory
 * without a file on disk: cached executable mappings of such memory, and
 * ranges marked out of date. Returns their number, or SIZE_MAX when there
 * are more than max or the cache cannot tell (an executable mapping may
 * have appeared anywhere).
 */
size_t process_unbacked_ranges(const struct process *process,
			       struct address_range *ranges, size_t max);

/*
 * Records that the process is about to exec, which replaces its image. The
 * command line is read now, while it is still the old image's, for the
 * lineage.
 */
void process_mark_exec(struct process *process);

/*
 * Adds a module to the set already reported. Returns true if it was new,
 * false if it was known (or could not be stored).
 */
bool process_add_module(struct process *process, const struct stat *st);

/*
 * Returns true if the cached maps hold an executable mapping of the file:
 * mapping it again adds no module (a forked child's libraries, libffi's
 * trampoline pages). False when the maps are not cached.
 */
bool process_maps_code_of(const struct process *process, dev_t dev,
			  ino_t inode);

/*
 * Returns true if the cached maps show the page at address unmapped. That
 * is, no cached mapping and no range marked out of date contains it, and
 * no executable mapping may have appeared elsewhere. Reads nothing. Mappings
 * made without PROT_EXEC are not watched, so the page may hold data by
 * now, but it has held no executable memory since the maps were read.
 */
bool process_page_is_unmapped(const struct process *process, uint64_t address);

/*
 * Records a dlopen or dlmopen call the shim reported, with copies of the
 * requested name and the caller's file, either NULL;
 * beyond PROCESS_LOADS_MAX the oldest is dropped. process_end_load()
 * removes the innermost call of the thread, process_current_load()
 * returns it or NULL.
 */
void process_begin_load(struct process *process,
			const struct load_request *request,
			const char *requested, const char *caller);
void process_end_load(struct process *process, pid_t tid);
const struct load_request *process_current_load(const struct process *process,
						pid_t tid);

/* Remembers the path of the C library the process maps. */
void process_set_libc_path(struct process *process, const char *path);

/*
 * Returns the path of the process's C library: the one it was seen to map,
 * else the first found in the cached maps, else NULL.
 */
const char *process_libc_path(struct process *process);

/*
 * Removes a module from the set already reported, so that its next load is
 * judged again: a denied load never happened.
 */
void process_forget_module(struct process *process, const struct stat *st);

/*
 * Sends SIGKILL to the thread tid's process through the thread's pidfd.
 * Call it only while tid's notification is known to be valid. Returns 0 or
 * -errno (-ESRCH when the table has no entry for tid).
 */
int proc_table_kill(struct proc_table *table, pid_t tid);

/*
 * Reads the stack and instruction pointers of the blocked thread tid,
 * keeping its /proc/TGID/task/TID/syscall open for the next call. Returns
 * 0, -EAGAIN when the thread is running, or a negative errno.
 */
int proc_table_read_syscall_pointers(struct proc_table *table, pid_t tid,
				     uint64_t *sp, uint64_t *ip);

/*
 * Reads the thread group, parent and real uid of thread tid through its
 * pidfd where the kernel allows (0.65 us per call against 10.7 us for
 * /proc/TID/status in a loop here), else from that file. Returns 0 or a
 * negative errno.
 */
int proc_table_read_ids(struct proc_table *table, pid_t tid,
			struct procfs_ids *ids);

/* Returns the cached command line, reading it on first use. */
const char *process_cmdline(struct process *process, size_t *length);

#endif
