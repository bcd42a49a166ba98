/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of reading a target's memory, strings, argument vectors and files.
 * The target is a forked child that changes its copy of memory set up
 * before fork(), so the same addresses hold different bytes in the child.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PAGE 4096

/* Descriptor numbers in the child. The test process has none of them open. */
enum {
	CHILD_FILE_FD = 200,
	CHILD_MEMFD_FD = 201,
	CHILD_DIRECTORY_FD = 202,
	CHILD_GONE_FD = 203,
	CHILD_PROC_FILE_FD = 204,
	CHILD_CLOSED_FD = 250,
	NO_FD = -1,
};

enum child_status {
	CHILD_READY = 'R',
	CHILD_UNSUPPORTED = 'U',
};

static pid_t child = -1;
static char directory[128];

static void kill_child(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
}

/*
 * Forks a child that runs prepare() and then sleeps in pause() until it is
 * killed. prepare() returns 0 when ready, 1 when the kernel lacks what it
 * needs, and -1 on failure. Returns the child's status byte.
 */
static enum child_status spawn_child(int (*prepare)(void *), void *argument)
{
	pid_t parent = getpid();
	int ready[2];
	char status = 0;
	ssize_t n;

	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	child = fork();
	cr_assert_geq(child, 0, "fork: %s", strerror(errno));
	if (child == 0) {
		int result;

		close(ready[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		result = prepare ? prepare(argument) : 0;
		if (result < 0)
			_exit(1);
		status = result == 0 ? CHILD_READY : CHILD_UNSUPPORTED;
		if (write(ready[1], &status, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	n = read(ready[0], &status, 1);
	close(ready[0]);
	cr_assert_eq(n, 1, "the child failed to prepare");
	return (enum child_status)status;
}

static void spawn_ready_child(int (*prepare)(void *), void *argument)
{
	cr_assert_eq(spawn_child(prepare, argument), CHILD_READY);
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	return remove(path);
}

static void make_directory(void)
{
	const char *tmp = getenv("TMPDIR");
	char template[128], resolved[PATH_MAX];

	snprintf(template, sizeof(template), "%s/nativemon-target-XXXXXX",
		 tmp && strlen(tmp) < 64 ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(template), "mkdtemp: %s", strerror(errno));
	/* Paths read back from the kernel have no symbolic links. */
	cr_assert_not_null(realpath(template, resolved));
	cr_assert_lt(strlen(resolved), sizeof(directory));
	strcpy(directory, resolved);
}

static void clean_up(void)
{
	kill_child();
	if (directory[0])
		nftw(directory, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(read_target_memory, .fini = clean_up, .timeout = 10);
TestSuite(read_target_string, .fini = clean_up, .timeout = 10);
TestSuite(read_target_args, .fini = clean_up, .timeout = 10);
TestSuite(target_exec_file, .init = make_directory, .fini = clean_up,
	  .timeout = 10);
TestSuite(target_fd_file, .init = make_directory, .fini = clean_up,
	  .timeout = 10);
TestSuite(target_path_in_writable_dir, .init = make_directory,
	  .fini = clean_up, .timeout = 10);

/* Returns a fresh page that is followed by unmapped memory. */
static char *map_page_before_hole(int flags)
{
	char *pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	cr_assert_neq(pages, MAP_FAILED, "mmap: %s", strerror(errno));
	cr_assert_eq(munmap(pages + PAGE, PAGE), 0);
	return pages;
}

static int copy_text(void *argument)
{
	char **place = argument;

	strcpy(place[0], place[1]);
	return 0;
}

Test(read_target_memory, reads_child_copy)
{
	static char text[64] = "parent text";
	char *place[] = { text, "child text" };
	char out[64];

	spawn_ready_child(copy_text, place);
	cr_assert_eq(read_target_memory(child, (uintptr_t)text, out,
					sizeof(out)),
		     (ssize_t)sizeof(out));
	cr_expect_str_eq(out, "child text");
	cr_expect_str_eq(text, "parent text");
}

Test(read_target_memory, returns_short_count_before_hole)
{
	char *pages = map_page_before_hole(0);
	char *out = malloc(2 * PAGE);

	cr_assert_not_null(out);
	spawn_ready_child(NULL, NULL);
	cr_expect_eq(read_target_memory(child, (uintptr_t)pages, out,
					2 * PAGE),
		     PAGE);
	free(out);
}

Test(read_target_memory, fails_on_unmapped_address)
{
	char *pages = map_page_before_hole(0);
	char out[16];

	spawn_ready_child(NULL, NULL);
	cr_expect_lt(read_target_memory(child, (uintptr_t)(pages + PAGE), out,
					sizeof(out)),
		     0);
	cr_expect_lt(read_target_memory(child, 0, out, sizeof(out)), 0);
	cr_expect_lt(read_target_memory(child, 0x8000000000000000ULL, out,
					sizeof(out)),
		     0);
}

Test(read_target_memory, fails_for_exited_process)
{
	static char text[16] = "text";
	char out[16];
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_expect_eq(read_target_memory(pid, (uintptr_t)text, out,
					sizeof(out)),
		     -ESRCH);
}

Test(read_target_string, reads_string_before_hole)
{
	char *pages = map_page_before_hole(0);
	char *end = pages + PAGE - 6;
	char *place[] = { end, "hello" };
	char out[256];

	memcpy(end, "xxxxx", 6);
	spawn_ready_child(copy_text, place);
	cr_expect_eq(read_target_string(child, (uintptr_t)end, out,
					sizeof(out)),
		     5);
	cr_expect_str_eq(out, "hello");
}

Test(read_target_string, reads_across_page_boundary)
{
	char *pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *start = pages + PAGE - 3;
	char *place[] = { start, "abcdefgh" };
	char out[64];

	cr_assert_neq(pages, MAP_FAILED);
	spawn_ready_child(copy_text, place);
	cr_expect_eq(read_target_string(child, (uintptr_t)start, out,
					sizeof(out)),
		     8);
	cr_expect_str_eq(out, "abcdefgh");
}

Test(read_target_string, reads_empty_string)
{
	static char text[8] = "";
	char out[8];

	spawn_ready_child(NULL, NULL);
	cr_expect_eq(read_target_string(child, (uintptr_t)text, out,
					sizeof(out)),
		     0);
	cr_expect_str_eq(out, "");
}

Test(read_target_string, stops_at_cap)
{
	static char text[64];
	char out[16];

	memset(text, 'A', sizeof(text));
	spawn_ready_child(NULL, NULL);
	cr_expect_eq(read_target_string(child, (uintptr_t)text, out,
					sizeof(out)),
		     -ENAMETOOLONG);
	cr_expect_eq(out[sizeof(out) - 1], '\0');
	cr_expect_str_eq(out, "AAAAAAAAAAAAAAA");
}

Test(read_target_string, accepts_string_that_fills_cap)
{
	static char text[16] = "123456789012345";
	char out[16];

	spawn_ready_child(NULL, NULL);
	cr_expect_eq(read_target_string(child, (uintptr_t)text, out,
					sizeof(out)),
		     15);
	cr_expect_str_eq(out, text);
}

Test(read_target_string, fails_without_nul_before_hole)
{
	char *pages = map_page_before_hole(0);
	char out[256];
	ssize_t n;

	memset(pages + PAGE - 16, 'B', 16);
	spawn_ready_child(NULL, NULL);
	n = read_target_string(child, (uintptr_t)(pages + PAGE - 16), out,
			       sizeof(out));
	cr_expect_lt(n, 0);
	cr_expect_neq(n, -ENAMETOOLONG);
}

Test(read_target_string, fails_on_unmapped_address)
{
	char *pages = map_page_before_hole(0);
	char out[64];

	spawn_ready_child(NULL, NULL);
	cr_expect_lt(read_target_string(child, (uintptr_t)(pages + PAGE), out,
					sizeof(out)),
		     0);
	cr_expect_lt(read_target_string(child, 0, out, sizeof(out)), 0);
}

static const char *const sample_args[] = { "prog", "-x", "", "last arg" };
static const char sample_bytes[] = "prog\0-x\0\0last arg";

#define SAMPLE_ARGS ARRAY_SIZE(sample_args)

/* Lays out an argv of sample_args at base: pointers, then the strings. */
static int write_argv(void *argument)
{
	const size_t *layout = argument;
	char *base = (char *)layout[0];
	size_t pointer_size = layout[1];
	char *strings = base + (SAMPLE_ARGS + 1) * pointer_size;

	for (size_t i = 0; i <= SAMPLE_ARGS; i++) {
		uint64_t address = 0;

		if (i < SAMPLE_ARGS) {
			address = (uintptr_t)strings;
			strcpy(strings, sample_args[i]);
			strings += strlen(sample_args[i]) + 1;
		}
		memcpy(base + i * pointer_size, &address, pointer_size);
	}
	return 0;
}

static void expect_sample_args(const struct target_args *args)
{
	cr_expect_eq(args->count, SAMPLE_ARGS);
	cr_expect_eq(args->total, SAMPLE_ARGS);
	cr_expect_not(args->truncated);
	cr_assert_eq(args->length, sizeof(sample_bytes));
	cr_expect_arr_eq(args->bytes, sample_bytes, sizeof(sample_bytes));
}

Test(read_target_args, reads_64_bit_vector)
{
	static char area[512];
	size_t layout[] = { (uintptr_t)area, 8 };
	struct target_args args;

	spawn_ready_child(write_argv, layout);
	cr_assert_eq(read_target_args(child, (uintptr_t)area, 8, &args), 0);
	expect_sample_args(&args);
	target_args_fini(&args);
}

Test(read_target_args, reads_32_bit_vector)
{
	char *area = map_page_before_hole(MAP_32BIT);
	size_t layout[] = { (uintptr_t)area, 4 };
	struct target_args args;

	cr_assert_lt((uintptr_t)area, 1ULL << 32);
	spawn_ready_child(write_argv, layout);
	cr_assert_eq(read_target_args(child, (uintptr_t)area, 4, &args), 0);
	expect_sample_args(&args);
	target_args_fini(&args);
}

Test(read_target_args, accepts_null_vector)
{
	struct target_args args;

	spawn_ready_child(NULL, NULL);
	cr_assert_eq(read_target_args(child, 0, 8, &args), 0);
	cr_expect_eq(args.count, 0);
	cr_expect_eq(args.total, 0);
	cr_expect_not(args.truncated);
	target_args_fini(&args);
}

Test(read_target_args, cuts_vector_past_count_cap)
{
	enum { COUNT = TARGET_ARGS_MAX + 44 };
	static uint64_t vector[COUNT + 1];
	static char text[] = "a";
	struct target_args args;

	for (size_t i = 0; i < COUNT; i++)
		vector[i] = (uintptr_t)text;
	spawn_ready_child(NULL, NULL);
	cr_assert_eq(read_target_args(child, (uintptr_t)vector, 8, &args), 0);
	cr_expect_eq(args.count, TARGET_ARGS_MAX);
	cr_expect(args.truncated);
	cr_expect_geq(args.total, args.count);
	cr_expect_eq(args.length, 2 * TARGET_ARGS_MAX);
	target_args_fini(&args);
}

Test(read_target_args, cuts_vector_past_byte_cap)
{
	enum { LENGTH = 20000 };
	static char text[LENGTH + 1];
	static uint64_t vector[4];
	struct target_args args;

	memset(text, 'q', LENGTH);
	for (size_t i = 0; i < 3; i++)
		vector[i] = (uintptr_t)text;
	spawn_ready_child(NULL, NULL);
	cr_assert_eq(read_target_args(child, (uintptr_t)vector, 8, &args), 0);
	cr_expect(args.truncated);
	cr_expect_eq(args.total, 3);
	cr_expect_eq(args.count, 2);
	cr_assert_eq(args.length, TARGET_ARGS_BYTES_MAX);
	cr_expect_eq(strlen(args.bytes), LENGTH);
	cr_expect_eq(args.bytes[args.length - 1], '\0');
	target_args_fini(&args);
}

Test(read_target_args, fails_on_unmapped_vector)
{
	char *pages = map_page_before_hole(0);
	struct target_args args;

	spawn_ready_child(NULL, NULL);
	cr_expect_lt(read_target_args(child, (uintptr_t)(pages + PAGE), 8,
				      &args),
		     0);
	target_args_fini(&args);
}

static char file_path[160];
static char tool_path[160];
static char gone_path[160];
static char link_path[160];
static char tool_link_path[160];

static void create_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
}

static int move_fd(int fd, int target)
{
	if (fd < 0 || dup2(fd, target) != target)
		return -1;
	close(fd);
	return 0;
}

/* Opens the descriptors listed in the enum and enters the directory. */
static int open_child_files(void *argument)
{
	if (move_fd(open(file_path, O_RDONLY), CHILD_FILE_FD) < 0)
		return -1;
	if (move_fd(memfd_create("payload", 0), CHILD_MEMFD_FD) < 0)
		return -1;
	if (move_fd(open(directory, O_RDONLY | O_DIRECTORY),
		    CHILD_DIRECTORY_FD) < 0)
		return -1;
	if (move_fd(open(gone_path, O_RDONLY), CHILD_GONE_FD) < 0)
		return -1;
	if (move_fd(open("/proc/self/status", O_RDONLY), CHILD_PROC_FILE_FD) <
	    0)
		return -1;
	return chdir(directory) < 0 ? -1 : 0;
}

static void spawn_file_child(void)
{
	char memfd_link[32];

	snprintf(file_path, sizeof(file_path), "%s/file", directory);
	snprintf(tool_path, sizeof(tool_path), "%s/tool", directory);
	snprintf(gone_path, sizeof(gone_path), "%s/gone", directory);
	snprintf(link_path, sizeof(link_path), "%s/self-link", directory);
	snprintf(tool_link_path, sizeof(tool_link_path), "%s/tool-link",
		 directory);
	create_file(file_path);
	create_file(tool_path);
	create_file(gone_path);
	spawn_ready_child(open_child_files, NULL);
	cr_assert_eq(unlink(gone_path), 0);
	snprintf(memfd_link, sizeof(memfd_link), "/proc/self/fd/%d",
		 CHILD_MEMFD_FD);
	cr_assert_eq(symlink(memfd_link, link_path), 0);
	cr_assert_eq(symlink("tool", tool_link_path), 0);
	for (int fd = CHILD_FILE_FD; fd <= CHILD_CLOSED_FD; fd++)
		cr_assert_eq(fcntl(fd, F_GETFD), -1,
			     "fd %d is open in the test process", fd);
}

struct exec_case {
	const char *path; /* followed by fd unless fd is NO_FD */
	int fd;
	int dirfd;
	int flags;
	const char *expected_path; /* NULL: the memfd */
	enum origin_kind kind;
};

static const struct exec_case exec_cases[] = {
	{ "/proc/self/fd/", CHILD_FILE_FD, AT_FDCWD, 0, file_path,
	  ORIGIN_LIBRARY },
	{ "/proc/thread-self/fd/", CHILD_FILE_FD, AT_FDCWD, 0, file_path,
	  ORIGIN_LIBRARY },
	{ "/dev/fd/", CHILD_FILE_FD, AT_FDCWD, 0, file_path,
	  ORIGIN_LIBRARY },
	{ "/proc/self/fd/", CHILD_MEMFD_FD, AT_FDCWD, 0, NULL,
	  ORIGIN_MEMFD },
	{ "tool", NO_FD, AT_FDCWD, 0, tool_path, ORIGIN_LIBRARY },
	{ "./tool", NO_FD, AT_FDCWD, 0, tool_path, ORIGIN_LIBRARY },
	{ "tool", NO_FD, CHILD_DIRECTORY_FD, 0, tool_path, ORIGIN_LIBRARY },
	{ tool_path, NO_FD, AT_FDCWD, 0, tool_path, ORIGIN_LIBRARY },
	/* execveat() ignores dirfd, even a closed one, for absolute paths. */
	{ tool_path, NO_FD, CHILD_CLOSED_FD, 0, tool_path, ORIGIN_LIBRARY },
	{ tool_link_path, NO_FD, AT_FDCWD, 0, tool_path, ORIGIN_LIBRARY },
	{ "tool-link", NO_FD, AT_FDCWD, 0, tool_path, ORIGIN_LIBRARY },
	{ "", NO_FD, CHILD_MEMFD_FD, AT_EMPTY_PATH, NULL, ORIGIN_MEMFD },
	{ "", NO_FD, CHILD_FILE_FD, AT_EMPTY_PATH, file_path,
	  ORIGIN_LIBRARY },
	{ "", NO_FD, CHILD_GONE_FD, AT_EMPTY_PATH, gone_path,
	  ORIGIN_DELETED },
};

static void format_path(char *out, size_t size, const char *path, int fd)
{
	if (fd == NO_FD)
		snprintf(out, size, "%s", path);
	else
		snprintf(out, size, "%s%d", path, fd);
}

static void expect_resolved(const char *label, int err,
			    const struct target_file *file,
			    const char *expected_path, enum origin_kind kind)
{
	cr_expect_eq(err, 0, "%s: returned %d", label, err);
	if (err != 0)
		return;
	if (expected_path)
		cr_expect_str_eq(file->path, expected_path, "%s: path %s",
				 label, file->path);
	else
		cr_expect_str_eq(file->path, "/memfd:payload", "%s: path %s",
				 label, file->path);
	cr_expect_eq(file->kind, kind, "%s: kind %s", label,
		     origin_kind_name(file->kind));
}

Test(target_exec_file, resolves_paths_as_target_sees_them)
{
	static struct target_file file;

	spawn_file_child();
	for (size_t i = 0; i < ARRAY_SIZE(exec_cases); i++) {
		const struct exec_case *c = &exec_cases[i];
		char path[256], label[300];
		int err;

		format_path(path, sizeof(path), c->path, c->fd);
		snprintf(label, sizeof(label), "\"%s\" at dirfd %d", path,
			 c->dirfd);
		err = target_exec_file(child, child, c->dirfd, path, c->flags,
				       &file);
		expect_resolved(label, err, &file, c->expected_path, c->kind);
	}
}

Test(target_exec_file, resolves_proc_self_exe)
{
	static struct target_file file;
	struct stat exe;

	spawn_ready_child(NULL, NULL);
	cr_assert_eq(stat("/proc/self/exe", &exe), 0);
	cr_assert_eq(target_exec_file(child, child, AT_FDCWD, "/proc/self/exe",
				      0, &file),
		     0);
	cr_expect_eq(file.st.st_ino, exe.st_ino);
	cr_expect_eq(file.st.st_dev, exe.st_dev);
	cr_expect_eq(file.kind, ORIGIN_LIBRARY);
}

/*
 * Other spellings of /proc/self and /dev/fd name the target's descriptors
 * for the kernel, so they must not name the supervisor's.
 */
static const char *const self_spellings[] = {
	"/proc/./self/fd/",
	"//proc/self/fd/",
	"/proc//self/fd/",
	"/proc/self/../self/fd/",
	"/dev/./fd/",
	"/dev//fd/",
};

Test(target_exec_file, resolves_other_spellings_of_self)
{
	static struct target_file file;

	spawn_file_child();
	for (size_t i = 0; i < ARRAY_SIZE(self_spellings); i++) {
		char path[256];
		int err;

		format_path(path, sizeof(path), self_spellings[i],
			    CHILD_MEMFD_FD);
		err = target_exec_file(child, child, AT_FDCWD, path, 0, &file);
		expect_resolved(path, err, &file, NULL, ORIGIN_MEMFD);
	}
}

/* Any target can create such a link in a directory it can write to. */
Test(target_exec_file, resolves_symlink_to_self)
{
	static struct target_file file;
	int err;

	spawn_file_child();
	err = target_exec_file(child, child, AT_FDCWD, link_path, 0, &file);
	expect_resolved(link_path, err, &file, NULL, ORIGIN_MEMFD);
	err = target_exec_file(child, child, AT_FDCWD, "self-link", 0, &file);
	expect_resolved("self-link", err, &file, NULL, ORIGIN_MEMFD);
}

/*
 * The walk leaves procfs through the target's cwd link and reaches the
 * link to /proc/self from there: each directory's file system is checked
 * again where the device changes.
 */
Test(target_exec_file, resolves_self_link_through_proc_cwd)
{
	static struct target_file file;
	const char *path = "/proc/self/cwd/self-link";
	int err;

	spawn_file_child();
	err = target_exec_file(child, child, AT_FDCWD, path, 0, &file);
	expect_resolved(path, err, &file, NULL, ORIGIN_MEMFD);
}

/*
 * Paths that leave the directory they start in, through ".." or a link,
 * need the walk: one openat2() call resolves a relative path only below
 * its start. Each must still name the file the target would run.
 */
Test(target_exec_file, resolves_paths_that_leave_their_start)
{
	static struct target_file file;
	const char *base = strrchr(directory, '/') + 1;
	char up[256], sub[160], up_text[256], up_link[192], absolute_link[192];
	const char *paths[] = { up, "sub/../tool", "sub/up-link",
				"absolute-link" };

	spawn_file_child();
	snprintf(up, sizeof(up), "../%s/tool", base);
	snprintf(sub, sizeof(sub), "%s/sub", directory);
	snprintf(up_text, sizeof(up_text), "../../%s/tool", base);
	snprintf(up_link, sizeof(up_link), "%s/up-link", sub);
	snprintf(absolute_link, sizeof(absolute_link), "%s/absolute-link",
		 directory);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_eq(symlink(up_text, up_link), 0);
	cr_assert_eq(symlink(tool_path, absolute_link), 0);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		int err = target_exec_file(child, child, AT_FDCWD, paths[i], 0,
					   &file);

		expect_resolved(paths[i], err, &file, tool_path,
				ORIGIN_LIBRARY);
	}
}

static int enter_proc(void *argument)
{
	(void)argument;
	return chdir("/proc") < 0 ? -1 : 0;
}

/*
 * From a working directory on procfs, "self" names the target, so such a
 * path is walked even where no magic link is on the way.
 */
Test(target_exec_file, resolves_self_from_proc_cwd)
{
	static struct target_file file;
	char expected[64];
	int err;

	spawn_ready_child(enter_proc, NULL);
	snprintf(expected, sizeof(expected), "/proc/%d/stat", (int)child);
	err = target_exec_file(child, child, AT_FDCWD, "self/stat", 0, &file);
	expect_resolved("self/stat", err, &file, expected, ORIGIN_LIBRARY);
}

struct exec_error_case {
	const char *path;
	int dirfd;
	int flags;
	int expected;
};

static const struct exec_error_case exec_error_cases[] = {
	{ "", CHILD_MEMFD_FD, 0, -ENOENT },
	{ "missing", AT_FDCWD, 0, -ENOENT },
	{ "missing", CHILD_DIRECTORY_FD, 0, -ENOENT },
	{ "/proc/self/fd/250", AT_FDCWD, 0, -ENOENT },
	{ "", CHILD_CLOSED_FD, AT_EMPTY_PATH, -ENOENT },
	{ "", -1, AT_EMPTY_PATH, -EBADF },
	/* The kernel fails these, so no file may be reported for them. */
	{ "tool/", AT_FDCWD, 0, -ENOTDIR },
	{ "tool/.", AT_FDCWD, 0, -ENOTDIR },
	{ ".", CHILD_FILE_FD, 0, -ENOTDIR },
	{ "/proc/self/fd/200/", AT_FDCWD, 0, -ENOTDIR },
	{ "/proc/self/fd/200/.", AT_FDCWD, 0, -ENOTDIR },
	{ ".", CHILD_PROC_FILE_FD, 0, -ENOTDIR },
};

Test(target_exec_file, reports_errors)
{
	static struct target_file file;

	spawn_file_child();
	for (size_t i = 0; i < ARRAY_SIZE(exec_error_cases); i++) {
		const struct exec_error_case *c = &exec_error_cases[i];
		int err = target_exec_file(child, child, c->dirfd, c->path,
					   c->flags, &file);

		cr_expect_eq(err, c->expected,
			     "\"%s\" at dirfd %d: returned %d, expected %d",
			     c->path, c->dirfd, err, c->expected);
	}
}

Test(target_exec_file, rejects_overlong_path)
{
	static struct target_file file;
	static char path[TARGET_PATH_MAX + 100];

	spawn_ready_child(NULL, NULL);
	path[0] = '/';
	memset(path + 1, 'a', sizeof(path) - 2);
	cr_expect_eq(target_exec_file(child, child, AT_FDCWD, path, 0, &file),
		     -ENAMETOOLONG);
	cr_expect_eq(target_exec_file(child, child, AT_FDCWD, path + 1, 0,
				      &file),
		     -ENAMETOOLONG);
}

Test(target_fd_file, describes_child_descriptors)
{
	static struct target_file file;

	spawn_file_child();
	expect_resolved("file", target_fd_file(child, CHILD_FILE_FD, &file),
			&file, file_path, ORIGIN_LIBRARY);
	expect_resolved("memfd", target_fd_file(child, CHILD_MEMFD_FD, &file),
			&file, NULL, ORIGIN_MEMFD);
	expect_resolved("gone", target_fd_file(child, CHILD_GONE_FD, &file),
			&file, gone_path, ORIGIN_DELETED);
	cr_expect_eq(target_fd_file(child, CHILD_CLOSED_FD, &file), -ENOENT);
	cr_expect_eq(target_fd_file(child, -1, &file), -EBADF);
}

/*
 * The child's root becomes the test directory, so that /tmp, which is
 * world-writable, is not an ancestor of the paths under test.
 */
static int enter_root(void *argument)
{
	if (chroot(directory) < 0) {
		if (errno != EPERM)
			return -1;
		if (unshare(CLONE_NEWUSER) < 0)
			return errno == EPERM || errno == EINVAL ? 1 : -1;
		if (chroot(directory) < 0)
			return -1;
	}
	return chdir("/") < 0 ? -1 : 0;
}

static void make_tree_entry(const char *name, mode_t mode, bool is_file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", directory, name);
	if (is_file) {
		create_file(path);
		return;
	}
	cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s: %s", path,
		     strerror(errno));
	/* chmod, not mkdir's mode, so that the umask cannot drop o+w. */
	cr_assert_eq(chmod(path, mode), 0);
}

struct writable_case {
	const char *path;
	bool expected;
};

static const struct writable_case writable_cases[] = {
	{ "/open/lib.so", true },
	{ "/open/sub/lib.so", true },
	{ "/sticky/lib.so", true },
	{ "/closed/lib.so", false },
	{ "/closed/inner/lib.so", false },
	{ "/lib.so", false },
};

Test(target_path_in_writable_dir, checks_ancestors_in_target_root)
{
	make_tree_entry("open", 0777, false);
	make_tree_entry("open/sub", 0755, false);
	make_tree_entry("open/sub/lib.so", 0, true);
	make_tree_entry("open/lib.so", 0, true);
	make_tree_entry("sticky", 01777, false);
	make_tree_entry("sticky/lib.so", 0, true);
	make_tree_entry("closed", 0755, false);
	make_tree_entry("closed/inner", 0755, false);
	make_tree_entry("closed/inner/lib.so", 0, true);
	make_tree_entry("closed/lib.so", 0, true);
	make_tree_entry("lib.so", 0, true);

	if (spawn_child(enter_root, NULL) == CHILD_UNSUPPORTED)
		cr_skip_test("chroot needs user namespaces, which are off");
	for (size_t i = 0; i < ARRAY_SIZE(writable_cases); i++) {
		const struct writable_case *c = &writable_cases[i];

		cr_expect_eq(target_path_in_writable_dir(child, c->path),
			     c->expected, "%s: expected %d", c->path,
			     c->expected);
	}
}
