/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the program facts cache on the test targets: a static x86-64
 * program, a static i386 one and a dynamic one, a file that is not ELF,
 * and a program rewritten in place between two execs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "program.h"
#include "unwind_helpers.h"

static struct program_cache cache;
static char scratch[64];

static void set_up(void)
{
	program_cache_init(&cache);
	scratch[0] = '\0';
}

static void tear_down(void)
{
	program_cache_fini(&cache);
	if (scratch[0])
		unlink(scratch);
}

TestSuite(program, .init = set_up, .fini = tear_down, .timeout = 30);

static int open_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

static const struct program_facts *read_program(const char *path)
{
	int fd = open_file(path);
	const struct program_facts *facts = program_cache_read(&cache, fd);

	close(fd);
	return facts;
}

static void stat_file(const char *path, struct stat *st)
{
	cr_assert(stat(path, st) == 0, "cannot stat %s: %s", path,
		  strerror(errno));
}

/* Replaces the content of path with that of source, keeping its inode. */
static void rewrite_with(const char *path, const char *source)
{
	char buffer[65536];
	int in = open_file(source);
	int out = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	cr_assert(out >= 0, "cannot open %s: %s", path, strerror(errno));
	while ((n = read(in, buffer, sizeof(buffer))) > 0)
		cr_assert(write(out, buffer, (size_t)n) == n);
	cr_assert(n == 0);
	close(in);
	close(out);
}

static void make_copy(const char *source)
{
	int fd;

	strcpy(scratch, "/tmp/nativemon-program-XXXXXX");
	fd = mkstemp(scratch);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	rewrite_with(scratch, source);
}

Test(program, reads_abi_and_interpreter)
{
	const struct program_facts *facts;

	facts = read_program(target_path("static_raw"));
	cr_assert_not_null(facts);
	cr_expect_eq(facts->abi, ABI_X86_64);
	cr_expect(facts->is_static, "static_raw has no PT_INTERP");

	facts = read_program(target_path("anon_i386"));
	cr_assert_not_null(facts);
	cr_expect_eq(facts->abi, ABI_I386);
	cr_expect(facts->is_static, "anon_i386 has no PT_INTERP");

	facts = read_program(target_path("wrap_idle"));
	cr_assert_not_null(facts);
	cr_expect_eq(facts->abi, ABI_X86_64);
	cr_expect(!facts->is_static, "wrap_idle is linked dynamically");
}

Test(program, finds_a_program_read_before)
{
	const char *path = target_path("static_raw");
	const struct program_facts *facts;
	struct stat st, other;

	wait_until_settled(path);
	stat_file(path, &st);
	stat_file(target_path("wrap_idle"), &other);
	cr_expect_null(program_cache_find(&cache, &st),
		       "an empty cache knows no program");
	facts = read_program(path);
	cr_assert_not_null(facts);
	cr_expect_eq(program_cache_find(&cache, &st), facts);
	cr_expect_null(program_cache_find(&cache, &other),
		       "a program never read is not found");
}

/*
 * A program changed just now could change again within the same clock
 * tick and keep its key, so its facts are read again at each request.
 */
Test(program, keeps_no_facts_of_a_fresh_program)
{
	const struct program_facts *facts;
	struct stat st;

	make_copy(target_path("static_raw"));
	stat_file(scratch, &st);
	facts = read_program(scratch);
	cr_assert_not_null(facts);
	cr_expect(facts->is_static);
	cr_expect_null(program_cache_find(&cache, &st),
		       "the facts of a file changed just now were kept");
}

Test(program, rewritten_program_is_read_again)
{
	const struct program_facts *facts;
	struct stat before, after;

	make_copy(target_path("static_raw"));
	wait_until_settled(scratch);
	stat_file(scratch, &before);
	facts = read_program(scratch);
	cr_assert_not_null(facts);
	cr_expect(facts->is_static);
	cr_expect_eq(program_cache_find(&cache, &before), facts);

	rewrite_with(scratch, target_path("wrap_idle"));
	stat_file(scratch, &after);
	cr_assert_eq(after.st_ino, before.st_ino, "the rewrite kept the inode");
	cr_expect_null(program_cache_find(&cache, &after),
		       "the rewritten file matched the facts of its old content");
	facts = read_program(scratch);
	cr_assert_not_null(facts);
	cr_expect(!facts->is_static,
		  "the new content is dynamic, but the old facts came back");
}

Test(program, refuses_a_file_that_is_not_elf)
{
	struct stat st;
	int fd;

	strcpy(scratch, "/tmp/nativemon-program-XXXXXX");
	fd = mkstemp(scratch);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert(write(fd, "#!/bin/sh\nexit 0\n", 17) == 17);
	close(fd);
	stat_file(scratch, &st);
	cr_expect_null(read_program(scratch));
	cr_expect_null(program_cache_find(&cache, &st),
		       "a file that is not ELF left an entry");
}
