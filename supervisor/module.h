/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ELF modules (executables and shared objects) that targets map: their
 * identity, GNU build-id, function symbols, .eh_frame_hdr search table and
 * SHA-256, read once per file and kept in a bounded cache. The files are
 * chosen by the targets, so every size and offset in them is checked
 * before it is used.
 *
 * A cache entry is keyed by the file's device, inode, size, mtime and
 * ctime as stat(2) reports them for the mapped file itself, reached
 * through /proc/PID/map_files. A file renamed over the old one has another
 * inode, and a file rewritten in place has another size or timestamp, so
 * neither is served from the old entry. NOTE: a rewrite in place that
 * keeps the size and lands within one tick of the file system's timestamp
 * clock after the first read goes unnoticed.
 *
 * Not thread-safe: one thread owns a cache and the modules it hands out.
 */
#ifndef NATIVEMON_MODULE_H
#define NATIVEMON_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "file_key.h"
#include "maps.h"

/*
 * GNU ld's build-id is 20 bytes (SHA-1) by default, and --build-id=0xHEX
 * gives any length.
 */
#define MODULE_BUILD_ID_MAX 64
#define MODULE_SHA256_SIZE 32

struct module;
struct module_cache;

/*
 * A module's .eh_frame_hdr binary search table, in the module's own
 * virtual addresses (add the load bias for the target's addresses). data
 * is a copy of the file bytes at [data_vaddr, data_vaddr + data_size),
 * which contain .eh_frame_hdr and .eh_frame. The table is sorted and
 * every FDE it points to starts inside the copy.
 */
struct module_unwind_table {
	uint64_t header_vaddr; /* .eh_frame_hdr, the base of table offsets */
	uint64_t table_vaddr;
	uint64_t fde_count;
	uint64_t data_vaddr;
	size_t data_size;
	const uint8_t *data;
};

/* Counters of one cache, for tests and benchmarks. */
struct module_cache_stats {
	size_t count;	  /* modules in the cache */
	size_t hits;	  /* lookups served from the cache */
	size_t loads;	  /* files read */
	size_t evictions; /* modules dropped to make room */
};

/*
 * Creates a cache of at most capacity modules (at least 1). Each cached
 * module keeps its file open until module_sha256() has hashed it, so a
 * cache holds up to capacity descriptors. Returns NULL without memory.
 */
struct module_cache *module_cache_new(size_t capacity);

/* Frees the cache. Modules still referenced elsewhere live on. */
void module_cache_free(struct module_cache *cache);

/*
 * Finds or reads the module that mapping maps in process pid, where
 * mapping comes from that process's /proc/PID/maps. The file is reached
 * through /proc/PID/map_files, which needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE, and else through /proc/PID/root and the path,
 * whose device and inode must then match the mapping. Stores a new
 * reference in *module, which the caller drops with module_unref(). A
 * module of a file changed just now is not kept in the cache (see
 * file_key_is_settled()).
 *
 * Returns 0 or a negative errno:
 *   -ENOENT   the mapping is not a file (anonymous memory, the vDSO);
 *   -ESTALE   the file no longer matches the mapping, which has changed
 *             since the caller read it;
 *   -ENOEXEC  the file is not a 64-bit x86-64 ELF file;
 *   -ENOMEM, or the errno of stat(2) or open(2).
 */
int module_cache_get(struct module_cache *cache, pid_t pid,
		     const struct mapping *mapping, struct module **module);

void module_cache_get_stats(const struct module_cache *cache,
			    struct module_cache_stats *stats);

/*
 * Adds a reference to module and returns it. Any thread may add and drop
 * references. A module's path, build-id and symbols never change, so a
 * thread that holds a reference may read them while another uses the
 * module.
 */
struct module *module_ref(struct module *module);

/* Drops a reference. The last one frees the module. Accepts NULL. */
void module_unref(struct module *module);

/* The path from /proc/PID/maps when the module was first read. */
const char *module_path(const struct module *module);

/* The file the module was read from, as fstat(2) described it. */
const struct file_key *module_identity(const struct module *module);

/*
 * Stores a pointer to the module's GNU build-id (NT_GNU_BUILD_ID) in
 * *build_id and returns its length, or returns 0 when it has none.
 */
size_t module_build_id(const struct module *module, const uint8_t **build_id);

/*
 * Computes the SHA-256 of the module's file on the first call, from the
 * descriptor opened when it was read, and copies it to digest. Costs
 * about 7 ms per 2 MiB with libmd 1.0.4 on a 2-CPU Xeon VM, so call it
 * only for modules that are reported. Returns 0, -ESTALE when the file
 * changed since it was read, -EFBIG for files over 64 MiB, or a read
 * error. A failure is final for this module.
 */
int module_sha256(struct module *module, uint8_t digest[MODULE_SHA256_SIZE]);

/* The facts a module-load event reports about the file. */
struct module_digest {
	uint8_t sha256[MODULE_SHA256_SIZE];
	uint8_t build_id[MODULE_BUILD_ID_MAX];
	size_t build_id_size; /* 0: the file has none */
};

/*
 * Computes the SHA-256 of the regular file open at fd and reads its GNU
 * build-id, if it is an ELF file that has one, without caching anything.
 * Returns 0, -EFBIG for files over 64 MiB, -EREMOTE for a file on FUSE,
 * -ESTALE when the file changed while it was read, -EINVAL for a file
 * that is not regular, or a read error.
 */
int module_digest_file(int fd, struct module_digest *digest);

/*
 * Computes the load bias (target address minus module virtual address) of
 * a mapping that starts at map_start and maps the file from map_offset.
 * The bias comes from the PT_LOAD segment that contains map_offset, and
 * executable selects the one with PF_X when two share a page. Returns 0
 * or -ENOENT.
 */
int module_load_bias(const struct module *module, uint64_t map_start,
		     uint64_t map_offset, bool executable, uint64_t *bias);

/*
 * Finds the executable PT_LOAD segment that contains vaddr and stores its
 * bounds [*start, *end) in module virtual addresses. Returns true if found.
 */
bool module_find_code_segment(const struct module *module, uint64_t vaddr,
			      uint64_t *start, uint64_t *end);

/* Returns the validated unwind table, or NULL if the module has none. */
const struct module_unwind_table *
module_unwind_table(const struct module *module);

/*
 * Returns the name of the function symbol whose [value, value + size)
 * contains vaddr and stores vaddr minus its value in *offset, or returns
 * NULL. Symbols come from .symtab, or from .dynsym when .symtab is
 * missing. The name lives as long as the module.
 */
const char *module_find_symbol(const struct module *module, uint64_t vaddr,
			       uint64_t *offset);

/*
 * Returns true if vaddr lies in a PLT section (.plt, .plt.sec, .plt.got,
 * .iplt). Calls into another module go through these stubs. Always false
 * for a module without section headers.
 */
bool module_is_plt(const struct module *module, uint64_t vaddr);

/* Returns true if the symbols came from .symtab, false for .dynsym. */
bool module_has_symtab(const struct module *module);

#endif
