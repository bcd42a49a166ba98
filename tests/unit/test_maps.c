/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the /proc/PID/maps parser and of address lookup: every field of
 * realistic lines, the rejection of malformed lines, and a read of the test
 * process's own maps.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maps.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Lines as the kernel prints them, including the padding of the inode. */
static const char sample[] =
	"55d4a3a00000-55d4a3a02000 r--p 00000000 fd:01 1835021"
	"                    /usr/bin/cat\n"
	"55d4a3a02000-55d4a3a07000 r-xp 00002000 fd:01 1835021"
	"                    /usr/bin/cat\n"
	"55d4a4c1e000-55d4a4c3f000 rw-p 00000000 00:00 0"
	"                          [heap]\n"
	"7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 \n"
	"7f1c2a200000-7f1c2a228000 r-xp 00028000 103:05 12345678901234"
	"           /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7f1c2a400000-7f1c2a401000 r-xs 00000000 00:01 2048"
	"                       /memfd:payload (deleted)\n"
	"7f1c2a500000-7f1c2a501000 r-xp 00001000 08:11 99"
	"                         /home/user/My Documents/lib two.so\n"
	"7f1c2a600000-7f1c2a601000 r-xp 00000000 08:11 100"
	"                        /tmp/old.so (deleted)\n"
	"7f1c2a700000-7f1c2a701000 rw-p 00000000 00:00 0"
	"                          [anon:foo]\n"
	"7f1c2a800000-7f1c2a801000 r--p 00000000 08:11 101"
	"                        /opt/x (deleted)/lib.so\n"
	"7f1c2a900000-7f1c2a901000 r--p 00000000 08:11 102"
	"                        /srv/trailing space \n"
	"7f1c2aa00000-7f1c2aa01000 rw-p 00000000 00:00 0\n"
	"7ffd5a0e1000-7ffd5a102000 rw-p 00000000 00:00 0"
	"                          [stack]\n"
	"7ffd5a1d4000-7ffd5a1d8000 r--p 00000000 00:00 0"
	"                          [vvar]\n"
	"7ffd5a1d8000-7ffd5a1da000 r-xp 00000000 00:00 0"
	"                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
	"                  [vsyscall]\n";

struct expected_mapping {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	uint64_t inode;
	unsigned int dev_major;
	unsigned int dev_minor;
	unsigned int perms;
	bool deleted;
	const char *path; /* NULL for an unnamed mapping */
};

#define READ MAPPING_READ
#define WRITE MAPPING_WRITE
#define EXEC MAPPING_EXEC
#define SHARED MAPPING_SHARED

static const struct expected_mapping sample_expected[] = {
	{ 0x55d4a3a00000, 0x55d4a3a02000, 0, 1835021, 0xfd, 1, READ,
	  false, "/usr/bin/cat" },
	{ 0x55d4a3a02000, 0x55d4a3a07000, 0x2000, 1835021, 0xfd, 1,
	  READ | EXEC, false, "/usr/bin/cat" },
	{ 0x55d4a4c1e000, 0x55d4a4c3f000, 0, 0, 0, 0, READ | WRITE,
	  false, "[heap]" },
	{ 0x7f1c2a000000, 0x7f1c2a021000, 0, 0, 0, 0, READ | WRITE,
	  false, NULL },
	{ 0x7f1c2a200000, 0x7f1c2a228000, 0x28000, 12345678901234ULL, 0x103,
	  5, READ | EXEC, false, "/usr/lib/x86_64-linux-gnu/libc.so.6" },
	{ 0x7f1c2a400000, 0x7f1c2a401000, 0, 2048, 0, 1,
	  READ | EXEC | SHARED, true, "/memfd:payload" },
	{ 0x7f1c2a500000, 0x7f1c2a501000, 0x1000, 99, 8, 0x11, READ | EXEC,
	  false, "/home/user/My Documents/lib two.so" },
	{ 0x7f1c2a600000, 0x7f1c2a601000, 0, 100, 8, 0x11, READ | EXEC,
	  true, "/tmp/old.so" },
	{ 0x7f1c2a700000, 0x7f1c2a701000, 0, 0, 0, 0, READ | WRITE,
	  false, "[anon:foo]" },
	{ 0x7f1c2a800000, 0x7f1c2a801000, 0, 101, 8, 0x11, READ,
	  false, "/opt/x (deleted)/lib.so" },
	{ 0x7f1c2a900000, 0x7f1c2a901000, 0, 102, 8, 0x11, READ,
	  false, "/srv/trailing space " },
	{ 0x7f1c2aa00000, 0x7f1c2aa01000, 0, 0, 0, 0, READ | WRITE,
	  false, NULL },
	{ 0x7ffd5a0e1000, 0x7ffd5a102000, 0, 0, 0, 0, READ | WRITE,
	  false, "[stack]" },
	{ 0x7ffd5a1d4000, 0x7ffd5a1d8000, 0, 0, 0, 0, READ,
	  false, "[vvar]" },
	{ 0x7ffd5a1d8000, 0x7ffd5a1da000, 0, 0, 0, 0, READ | EXEC,
	  false, "[vdso]" },
	{ 0xffffffffff600000, 0xffffffffff601000, 0, 0, 0, 0, EXEC,
	  false, "[vsyscall]" },
};

static struct maps maps;

static void setup(void)
{
	maps_init(&maps);
}

static void teardown(void)
{
	maps_fini(&maps);
}

static void parse_string(const char *text)
{
	cr_assert_eq(maps_parse(&maps, text, strlen(text)), 0,
		     "maps_parse failed on:\n%s", text);
}

static void expect_mapping(const struct mapping *got,
			   const struct expected_mapping *want)
{
	const char *name = want->path ? want->path : "(unnamed)";

	cr_expect_eq(got->start, want->start, "%s: start %#llx", name,
		     (unsigned long long)got->start);
	cr_expect_eq(got->end, want->end, "%s: end %#llx", name,
		     (unsigned long long)got->end);
	cr_expect_eq(got->offset, want->offset, "%s: offset %#llx", name,
		     (unsigned long long)got->offset);
	cr_expect_eq(got->inode, want->inode, "%s: inode %llu", name,
		     (unsigned long long)got->inode);
	cr_expect_eq(got->dev_major, want->dev_major, "%s: major %#x", name,
		     got->dev_major);
	cr_expect_eq(got->dev_minor, want->dev_minor, "%s: minor %#x", name,
		     got->dev_minor);
	cr_expect_eq(got->perms, want->perms, "%s: perms %#x", name,
		     got->perms);
	cr_expect_eq(got->deleted, want->deleted, "%s: deleted %d", name,
		     got->deleted);
	if (want->path)
		cr_expect_str_eq(got->path, want->path, "%s: path \"%s\"",
				 name, got->path ? got->path : "(null)");
	else
		cr_expect_null(got->path, "unnamed mapping has path \"%s\"",
			       got->path);
}

TestSuite(maps_parse, .init = setup, .fini = teardown);
TestSuite(maps_lookup, .init = setup, .fini = teardown);
TestSuite(maps_read, .init = setup, .fini = teardown);
TestSuite(maps_read_executable, .init = setup, .fini = teardown);
TestSuite(maps_insert, .init = setup, .fini = teardown);

Test(maps_parse, reads_every_field_of_kernel_lines)
{
	parse_string(sample);

	cr_assert_eq(maps.count, ARRAY_SIZE(sample_expected),
		     "parsed %zu mappings", maps.count);
	for (size_t i = 0; i < ARRAY_SIZE(sample_expected); i++)
		expect_mapping(&maps.items[i], &sample_expected[i]);
}

Test(maps_parse, accepts_last_line_without_newline)
{
	parse_string("00400000-00401000 r-xp 00000000 08:02 7 /bin/true");

	cr_assert_eq(maps.count, 1);
	cr_expect_eq(maps.items[0].end, 0x401000);
	cr_expect_str_eq(maps.items[0].path, "/bin/true");
}

Test(maps_parse, accepts_empty_text)
{
	cr_assert_eq(maps_parse(&maps, "", 0), 0);
	cr_expect_eq(maps.count, 0);
}

Test(maps_parse, keeps_escaped_newline_in_path)
{
	parse_string("00400000-00401000 r-xp 00000000 08:02 7 /tmp/a\\012b\n");

	cr_assert_eq(maps.count, 1);
	cr_expect_str_eq(maps.items[0].path, "/tmp/a\\012b");
}

Test(maps_parse, sorts_unsorted_lines)
{
	static const uint64_t starts[] = { 0x1000, 0x5000, 0x9000 };

	parse_string("00009000-0000a000 r--p 00000000 00:00 0 [anon:c]\n"
		     "00001000-00002000 r--p 00000000 00:00 0 [anon:a]\n"
		     "00005000-00006000 r--p 00000000 00:00 0 [anon:b]\n");

	cr_assert_eq(maps.count, 3);
	for (size_t i = 0; i < 3; i++)
		cr_expect_eq(maps.items[i].start, starts[i],
			     "item %zu starts at %#llx", i,
			     (unsigned long long)maps.items[i].start);
	cr_expect_str_eq(maps.items[0].path, "[anon:a]");
	cr_expect_str_eq(maps.items[2].path, "[anon:c]");
	cr_expect_str_eq(maps_lookup(&maps, 0x9000)->path, "[anon:c]");
}

Test(maps_parse, replaces_previous_contents)
{
	parse_string(sample);
	parse_string("00400000-00401000 r-xp 00000000 08:02 7 /bin/true\n");

	cr_assert_eq(maps.count, 1);
	cr_expect_str_eq(maps.items[0].path, "/bin/true");
}

static const char *const malformed_lines[] = {
	"garbage\n",
	"   \n",
	"00400000 r-xp 00000000 08:02 7 /bin/x\n",
	"00400000-00300000 r-xp 00000000 08:02 7 /bin/x\n",
	"00400000-00400000 r-xp 00000000 08:02 7 /bin/x\n",
	"00400000-00500000 r-x 00000000 08:02 7 /bin/x\n",
	"00400000-00500000 r-xpq 00000000 08:02 7 /bin/x\n",
	"00400000-00500000 r-xp zz 08:02 7 /bin/x\n",
	"00400000-00500000 r-xp 00000000 0802 7 /bin/x\n",
	"00400000-00500000 r-xp 00000000 08:02 /bin/x\n",
	"00400000-00500000 r-xp 00000000 08:02\n",
	"00400000-00500000\n",
};

Test(maps_parse, rejects_malformed_lines)
{
	size_t n = ARRAY_SIZE(malformed_lines);

	for (size_t i = 0; i < n; i++) {
		const char *line = malformed_lines[i];

		parse_string(sample);
		cr_expect_eq(maps_parse(&maps, line, strlen(line)), -EINVAL,
			     "accepted: %s", line);
		cr_expect_eq(maps.count, 0, "%zu mappings left after: %s",
			     maps.count, line);
	}
}

Test(maps_parse, rejects_unknown_perms_letters)
{
	static const char text[] =
		"00400000-00401000 zzzz 00000000 08:02 7 /bin/true\n";

	cr_expect_eq(maps_parse(&maps, text, strlen(text)), -EINVAL);
	cr_expect_eq(maps.count, 0);
}

Test(maps_parse, rejects_malformed_line_after_valid_ones)
{
	static const char text[] =
		"00400000-00401000 r-xp 00000000 08:02 7 /bin/true\n"
		"00500000-00501000 r-xp 00000000 08:02 7 /bin/true\n"
		"not a mapping\n";

	cr_expect_eq(maps_parse(&maps, text, strlen(text)), -EINVAL);
	cr_expect_eq(maps.count, 0);
}

Test(maps_parse, stops_at_given_length)
{
	static const char text[] =
		"00400000-00401000 r-xp 00000000 08:02 7 /bin/true\n"
		"not a mapping\n";
	size_t first_line = strchr(text, '\n') - text + 1;

	cr_assert_eq(maps_parse(&maps, text, first_line), 0);
	cr_expect_eq(maps.count, 1);
}

/* Two adjacent mappings, a gap, then one more at the top of the space. */
static const char lookup_text[] =
	"00001000-00003000 r--p 00000000 00:00 0 [anon:first]\n"
	"00003000-00004000 r--p 00000000 00:00 0 [anon:adjacent]\n"
	"00010000-00011000 r--p 00000000 00:00 0 [anon:after-gap]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";

struct lookup_case {
	uint64_t address;
	const char *path; /* NULL: no mapping contains the address */
};

static const struct lookup_case lookup_cases[] = {
	{ 0x0, NULL },
	{ 0xfff, NULL },
	{ 0x1000, "[anon:first]" },
	{ 0x2fff, "[anon:first]" },
	{ 0x3000, "[anon:adjacent]" },
	{ 0x3fff, "[anon:adjacent]" },
	{ 0x4000, NULL },
	{ 0x8000, NULL },
	{ 0xffff, NULL },
	{ 0x10000, "[anon:after-gap]" },
	{ 0x10fff, "[anon:after-gap]" },
	{ 0x11000, NULL },
	{ 0xffffffffff5fffff, NULL },
	{ 0xffffffffff600000, "[vsyscall]" },
	{ 0xffffffffff600fff, "[vsyscall]" },
	{ 0xffffffffff601000, NULL },
	{ UINT64_MAX, NULL },
};

Test(maps_lookup, finds_start_to_end_exclusive)
{
	size_t n = ARRAY_SIZE(lookup_cases);

	parse_string(lookup_text);
	for (size_t i = 0; i < n; i++) {
		const struct lookup_case *c = &lookup_cases[i];
		const struct mapping *got = maps_lookup(&maps, c->address);

		if (!c->path) {
			cr_expect_null(got, "%#llx is in \"%s\"",
				       (unsigned long long)c->address,
				       got ? got->path : "");
			continue;
		}
		cr_expect_not_null(got, "%#llx is in no mapping",
				   (unsigned long long)c->address);
		if (got)
			cr_expect_str_eq(got->path, c->path,
					 "%#llx is in \"%s\"",
					 (unsigned long long)c->address,
					 got->path);
	}
}

Test(maps_lookup, finds_nothing_in_empty_maps)
{
	cr_expect_null(maps_lookup(&maps, 0x1000));
}

static void function_in_test_binary(void)
{
}

Test(maps_read, finds_own_function)
{
	uint64_t address = (uint64_t)(uintptr_t)&function_in_test_binary;
	const struct mapping *mapping;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	cr_assert_gt(n, 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';

	cr_assert_eq(maps_read(&maps, getpid()), 0);
	cr_expect_gt(maps.count, 3);
	mapping = maps_lookup(&maps, address);
	cr_assert_not_null(mapping, "no mapping contains %#llx",
			   (unsigned long long)address);
	cr_expect(mapping->perms & MAPPING_EXEC, "perms %#x", mapping->perms);
	cr_expect_not(mapping->perms & MAPPING_WRITE, "perms %#x",
		      mapping->perms);
	cr_assert_not_null(mapping->path);
	cr_expect_str_eq(mapping->path, exe);
	cr_expect_neq(mapping->inode, 0);
}

Test(maps_read, returns_sorted_disjoint_mappings)
{
	cr_assert_eq(maps_read(&maps, getpid()), 0);
	for (size_t i = 1; i < maps.count; i++)
		cr_expect_leq(maps.items[i - 1].end, maps.items[i].start,
			      "mapping %zu overlaps or precedes mapping %zu",
			      i, i - 1);
}

Test(maps_read, fails_for_exited_process)
{
	pid_t child = fork();
	int err;

	cr_assert_geq(child, 0, "fork: %s", strerror(errno));
	if (child == 0)
		_exit(0);
	cr_assert_eq(waitpid(child, NULL, 0), child);

	err = maps_read(&maps, child);
	cr_expect(err == -ENOENT || err == -ESRCH, "maps_read returned %d",
		  err);
}

/* PROCMAP_QUERY arrived in Linux 6.11, and older kernels return ENOTTY. */
static void query_or_skip(uint64_t address, struct mapping *mapping, int *err)
{
	*err = maps_query(getpid(), address, mapping);
	if (*err == -ENOTTY)
		cr_skip_test("the kernel lacks the PROCMAP_QUERY ioctl (Linux 6.11)");
}

Test(maps_query, agrees_with_maps_read)
{
	uint64_t address = (uint64_t)(uintptr_t)&function_in_test_binary;
	struct mapping queried = { 0 };
	const struct mapping *read;
	int err;

	query_or_skip(address, &queried, &err);
	cr_assert_eq(err, 0, "maps_query returned %d", err);
	cr_assert_eq(maps_read(&maps, getpid()), 0);
	read = maps_lookup(&maps, address);
	cr_assert_not_null(read);
	cr_expect_eq(queried.start, read->start);
	cr_expect_eq(queried.end, read->end);
	cr_expect_eq(queried.offset, read->offset);
	cr_expect_eq(queried.inode, read->inode);
	cr_expect_eq(queried.dev_major, read->dev_major);
	cr_expect_eq(queried.dev_minor, read->dev_minor);
	cr_expect_eq(queried.perms, read->perms);
	cr_assert_not_null(queried.path);
	cr_expect_str_eq(queried.path, read->path);
	maps_mapping_fini(&queried);
}

Test(maps_query, marks_deleted_memfd)
{
	struct mapping queried = { 0 };
	int fd = memfd_create("nativemon-query", MFD_CLOEXEC);
	void *page;
	int err;

	cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
	cr_assert_eq(ftruncate(fd, 4096), 0);
	page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(page, MAP_FAILED);
	query_or_skip((uint64_t)(uintptr_t)page, &queried, &err);
	cr_assert_eq(err, 0, "maps_query returned %d", err);
	cr_expect(queried.deleted, "a memfd prints as deleted");
	cr_assert_not_null(queried.path);
	cr_expect_str_eq(queried.path, "/memfd:nativemon-query");
	cr_expect(queried.perms & MAPPING_SHARED);
	maps_mapping_fini(&queried);
	munmap(page, 4096);
	close(fd);
}

Test(maps_query, reports_unmapped_address)
{
	struct mapping queried = { 0 };
	int err;

	query_or_skip(4096, &queried, &err);
	cr_expect_eq(err, -ENOENT, "maps_query returned %d", err);
	cr_expect_null(queried.path);
}

/* Opens the maps of pid for maps_query_fd(), after query_or_skip(). */
static int open_or_skip(pid_t pid)
{
	struct mapping queried = { 0 };
	int fd, err;

	query_or_skip(4096, &queried, &err);
	fd = maps_open(pid);
	cr_assert_geq(fd, 0, "maps_open returned %d", fd);
	return fd;
}

Test(maps_query_fd, follows_changes_on_one_descriptor)
{
	struct mapping queried = { 0 };
	int fd = open_or_skip(getpid());
	void *page =
		mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t address = (uint64_t)(uintptr_t)page;
	int err;

	cr_assert_neq(page, MAP_FAILED);
	err = maps_query_fd(fd, address, &queried);
	cr_assert_eq(err, 0, "maps_query_fd returned %d", err);
	cr_expect_eq(queried.perms, MAPPING_READ);

	cr_assert_eq(mprotect(page, 4096, PROT_READ | PROT_WRITE), 0);
	err = maps_query_fd(fd, address, &queried);
	cr_assert_eq(err, 0, "maps_query_fd returned %d after mprotect", err);
	cr_expect_eq(queried.perms, MAPPING_READ | MAPPING_WRITE);

	cr_assert_eq(munmap(page, 4096), 0);
	err = maps_query_fd(fd, address, &queried);
	cr_expect_eq(err, -ENOENT, "maps_query_fd returned %d after munmap",
		     err);
	maps_mapping_fini(&queried);
	close(fd);
}

/*
 * The descriptor keeps the address space it was opened on, so a caller
 * must see it fail, not describe another process, once that is gone.
 */
Test(maps_query_fd, fails_once_address_space_is_gone, .timeout = 10)
{
	struct mapping queried = { 0 };
	pid_t child;
	int fd, err;

	query_or_skip(4096, &queried, &err);
	child = fork();
	cr_assert_geq(child, 0, "fork: %s", strerror(errno));
	if (child == 0) {
		/* A failed assertion below must not leave the child behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	fd = maps_open(child);
	cr_assert_geq(fd, 0, "maps_open returned %d", fd);
	cr_assert_eq(kill(child, SIGKILL), 0);
	cr_assert_eq(waitpid(child, NULL, 0), child);

	err = maps_query_fd(fd, (uint64_t)(uintptr_t)&function_in_test_binary,
			    &queried);
	cr_expect_eq(err, -ESRCH, "maps_query_fd returned %d", err);
	close(fd);
}

/*
 * Returns true for the mappings that PROCMAP_QUERY lists as executable:
 * the [vsyscall] page belongs to no process, so only the maps file shows
 * it.
 */
static bool is_queried_code(const struct mapping *mapping)
{
	return (mapping->perms & MAPPING_EXEC) &&
	       !(mapping->path && strcmp(mapping->path, "[vsyscall]") == 0);
}

static size_t count_executable(const struct maps *all)
{
	size_t count = 0;

	for (size_t i = 0; i < all->count; i++)
		count += is_queried_code(&all->items[i]);
	return count;
}

Test(maps_read_executable, lists_what_maps_read_lists)
{
	struct maps all;
	size_t next = 0;
	int fd = maps_open(getpid());
	int err;

	cr_assert_geq(fd, 0, "maps_open returned %d", fd);
	err = maps_read_executable(&maps, fd);
	close(fd);
	if (err == -ENOTTY)
		cr_skip_test("the kernel lacks the PROCMAP_QUERY ioctl (Linux 6.11)");
	cr_assert_eq(err, 0, "maps_read_executable returned %d", err);
	maps_init(&all);
	cr_assert_eq(maps_read(&all, getpid()), 0);

	cr_assert_eq(maps.count, count_executable(&all));
	for (size_t i = 0; i < all.count; i++) {
		const struct mapping *expected = &all.items[i];

		if (!is_queried_code(expected))
			continue;
		cr_expect_eq(maps.items[next].start, expected->start,
			     "mapping %zu", next);
		cr_expect_eq(maps.items[next].end, expected->end);
		cr_expect_eq(maps.items[next].inode, expected->inode);
		cr_expect_eq(maps.items[next].perms, expected->perms);
		cr_expect_eq(maps.items[next].path == NULL,
			     expected->path == NULL);
		if (expected->path && maps.items[next].path)
			cr_expect_str_eq(maps.items[next].path, expected->path);
		next++;
	}
	maps_fini(&all);
}

Test(maps_read_executable, fails_for_exited_process)
{
	pid_t child = fork();
	int fd, status;

	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(0);
	fd = maps_open(child);
	cr_assert_geq(fd, 0, "maps_open returned %d", fd);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_expect_lt(maps_read_executable(&maps, fd), 0);
	cr_expect_eq(maps.count, 0);
	close(fd);
}

static struct mapping make_mapping(uint64_t start, uint64_t end,
				   const char *path)
{
	return (struct mapping){ .start = start,
				 .end = end,
				 .perms = MAPPING_READ,
				 .path = (char *)path };
}

Test(maps_insert, keeps_address_order)
{
	struct mapping middle = make_mapping(0x3000, 0x4000, "/middle");
	const struct mapping *added;

	parse_string("1000-2000 r-xp 00000000 00:00 0 /first\n"
		     "5000-6000 r-xp 00000000 00:00 0 /last\n");
	added = maps_insert(&maps, &middle);
	cr_assert_not_null(added);
	cr_expect_neq(added->path, middle.path, "the path must be a copy");
	cr_assert_eq(maps.count, 3);
	cr_expect_str_eq(maps.items[0].path, "/first");
	cr_expect_str_eq(maps.items[1].path, "/middle");
	cr_expect_str_eq(maps.items[2].path, "/last");
	cr_expect_eq(maps_lookup(&maps, 0x3800), &maps.items[1]);
}

Test(maps_insert, replaces_overlapped_mappings)
{
	struct mapping wide = make_mapping(0x1800, 0x5800, "/wide");

	parse_string("1000-2000 r-xp 00000000 00:00 0 /first\n"
		     "3000-4000 r-xp 00000000 00:00 0 /second\n"
		     "5000-6000 r-xp 00000000 00:00 0 /third\n"
		     "7000-8000 r-xp 00000000 00:00 0 /fourth\n");
	cr_assert_not_null(maps_insert(&maps, &wide));
	cr_assert_eq(maps.count, 2);
	cr_expect_str_eq(maps.items[0].path, "/wide");
	cr_expect_str_eq(maps.items[1].path, "/fourth");
	cr_expect_null(maps_lookup(&maps, 0x1000));
}

Test(maps_insert, adds_to_empty_maps)
{
	struct mapping unnamed = make_mapping(0x1000, 0x2000, NULL);

	cr_assert_not_null(maps_insert(&maps, &unnamed));
	cr_assert_eq(maps.count, 1);
	cr_expect_null(maps.items[0].path);
}
