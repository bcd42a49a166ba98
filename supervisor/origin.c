/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Origin classification. Pseudo-names in brackets come from the kernel and
 * are matched exactly: a process can name its own anonymous memory with
 * PR_SET_VMA_ANON_NAME, but the kernel then prints "[anon:NAME]", so only
 * the kernel's own vDSO prints as "[vdso]" with inode 0.
 */
#include "origin.h"

#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>

/* glibc, musl (whose loader is its libc) and the old glibc naming. */
static const char *const libc_names[] = {
	"libc.so.6", "libc-2.*.so", "libc.so", "libc.musl-*.so.1",
	"ld-musl-*.so.1", NULL,
};

static const char *const loader_names[] = {
	"ld-linux-x86-64.so.2", "ld-linux.so.2", "ld-linux-x32.so.2",
	"ld-2.*.so", NULL,
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool base_name_matches(const char *path, const char *const *globs)
{
	const char *name = base_name(path);

	for (; *globs; globs++) {
		if (fnmatch(*globs, name, 0) == 0)
			return true;
	}
	return false;
}

bool origin_is_libc_path(const char *path)
{
	return base_name_matches(path, libc_names);
}

bool origin_is_unbacked(enum origin_kind kind)
{
	switch (kind) {
	case ORIGIN_ANONYMOUS:
	case ORIGIN_HEAP:
	case ORIGIN_STACK:
	case ORIGIN_MEMFD:
	case ORIGIN_DELETED:
		return true;
	default:
		return false;
	}
}

bool origin_is_loader_path(const char *path)
{
	return base_name_matches(path, loader_names);
}

/* Set once at start-up, before any notification is handled. */
static const char *shim_path;
static struct stat shim_stat;

void origin_set_shim_path(const char *path)
{
	shim_path = path;
	if (path && stat(path, &shim_stat) < 0)
		shim_path = NULL;
}

bool origin_is_shim_path(const char *path)
{
	return shim_path && path && strcmp(path, shim_path) == 0;
}

bool origin_is_shim_file(dev_t dev, ino_t inode)
{
	return shim_path && shim_stat.st_dev == dev &&
	       shim_stat.st_ino == inode;
}

static enum origin_kind classify_pseudo_name(const struct mapping *mapping)
{
	const char *name = mapping->path;

	if (strcmp(name, "[heap]") == 0)
		return ORIGIN_HEAP;
	if (strcmp(name, "[stack]") == 0)
		return ORIGIN_STACK;
	if (strcmp(name, "[vdso]") == 0 && mapping->inode == 0)
		return ORIGIN_VDSO;
	if (strncmp(name, "[anon:", 6) == 0 ||
	    strncmp(name, "[anon_shmem:", 12) == 0)
		return ORIGIN_ANONYMOUS;
	/* [vvar], [vsyscall], [uprobes]: kernel pages that hold no syscalls. */
	return ORIGIN_UNKNOWN;
}

static bool is_main_executable(const struct mapping *mapping,
			       const struct exe_identity *exe)
{
	if (!exe)
		return false;
	if (exe->inode != 0 && mapping->inode == exe->inode &&
	    mapping->dev_major == exe->dev_major &&
	    mapping->dev_minor == exe->dev_minor)
		return true;
	/*
	 * On overlayfs, maps shows the device and inode of the underlying
	 * file while stat() of /proc/PID/exe shows the overlay's, so the path
	 * has to match instead.
	 */
	return exe->path && strcmp(mapping->path, exe->path) == 0;
}

/*
 * Shared anonymous memory prints as "/dev/zero (deleted)" and System V
 * shared memory as "/SYSV<key> (deleted)"; neither is a file on disk.
 */
static bool is_shared_anonymous(const struct mapping *mapping)
{
	return mapping->deleted && (strcmp(mapping->path, "/dev/zero") == 0 ||
				    strncmp(mapping->path, "/SYSV", 5) == 0);
}

enum origin_kind origin_classify(const struct mapping *mapping,
				 const struct exe_identity *exe)
{
	if (!mapping)
		return ORIGIN_UNKNOWN;
	if (!mapping->path)
		return ORIGIN_ANONYMOUS;
	if (mapping->path[0] == '[')
		return classify_pseudo_name(mapping);
	if (mapping->path[0] != '/')
		return ORIGIN_UNKNOWN;
	if (is_shared_anonymous(mapping))
		return ORIGIN_ANONYMOUS;
	if (strncmp(mapping->path, "/memfd:", 7) == 0)
		return ORIGIN_MEMFD;
	/*
	 * NOTE: a file whose name really ends in " (deleted)" is taken for a
	 * deleted file, and a library replaced on disk by a package upgrade
	 * turns from libc or library into deleted.
	 */
	if (mapping->deleted)
		return ORIGIN_DELETED;
	/*
	 * The loader comes before the executable because ldd and others run
	 * it as the program. NOTE: any file named like a C library or a
	 * loader counts as one, wherever it lives.
	 */
	if (origin_is_loader_path(mapping->path))
		return ORIGIN_LOADER;
	if (is_main_executable(mapping, exe))
		return ORIGIN_EXECUTABLE;
	if (origin_is_libc_path(mapping->path))
		return ORIGIN_LIBC;
	return ORIGIN_LIBRARY;
}
