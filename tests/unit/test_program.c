/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the program facts cache on the test targets: a static x86-64
 * program, a static i386 one, a dynamic one and a file that is not ELF.
 * Others cover a program changed just now, one rewritten in place between
 * two execs, and the rule that decides when a file's key is settled.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file_key.h"
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

Test(program, reads_interpreter)
{
	const struct program_facts *facts;

	facts = read_program(target_path("static_raw"));
	cr_assert_not_null(facts);
	cr_expect(facts->is_static, "static_raw has no PT_INTERP");

	facts = read_program(target_path("anon_i386"));
	cr_assert_not_null(facts);
	cr_expect(facts->is_static, "anon_i386 has no PT_INTERP");

	facts = read_program(target_path("wrap_idle"));
	cr_assert_not_null(facts);
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

static int64_t elapsed_ms(const struct timespec *from)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return ((int64_t)now.tv_sec - from->tv_sec) * 1000 +
	       (now.tv_nsec - from->tv_nsec) / 1000000;
}

/*
 * A program changed just now could change again within the same clock
 * tick and keep its key, so its facts are read again at each request. A
 * copy and read that took 10 ms or more proves nothing, because the file
 * may have settled meanwhile, so it is tried again.
 */
Test(program, keeps_no_facts_of_a_fresh_program)
{
	const struct program_facts *facts;
	struct stat st;

	for (int attempt = 0; attempt < 10; attempt++) {
		if (scratch[0])
			unlink(scratch);
		make_copy(target_path("static_raw"));
		stat_file(scratch, &st);
		facts = read_program(scratch);
		if (elapsed_ms(&st.st_ctim) >= 10)
			continue;
		cr_assert_not_null(facts);
		cr_expect(facts->is_static);
		cr_expect_null(program_cache_find(&cache, &st),
			       "the facts of a file changed just now were kept");
		return;
	}
	cr_assert_fail("no copy and read of a program took under 10 ms");
}

static struct stat stat_changed_at(time_t seconds, long nanoseconds)
{
	struct stat st = { 0 };

	st.st_ctim.tv_sec = seconds;
	st.st_ctim.tv_nsec = nanoseconds;
	return st;
}

/*
 * The margin is 20 ms for a ctime with nanoseconds and 2 s for one
 * without, and a future mtime, which utimensat(2) can set, counts for
 * nothing.
 */
Test(file_key, settles_by_ctime)
{
	struct timespec now;
	struct stat st;

	clock_gettime(CLOCK_REALTIME, &now);
	st = stat_changed_at(now.tv_sec - 1, 500000000);
	cr_expect(file_key_is_settled(&st), "a ctime with ns at least 0.5 s back");
	st = stat_changed_at(now.tv_sec + 1, 500000000);
	cr_expect(!file_key_is_settled(&st), "a ctime in the future");
	st = stat_changed_at(now.tv_sec, 0);
	cr_expect(!file_key_is_settled(&st), "a whole-second ctime now");
	st = stat_changed_at(now.tv_sec - 3, 0);
	cr_expect(file_key_is_settled(&st), "a whole-second ctime 3 s back");
	st = stat_changed_at(now.tv_sec - 3, 0);
	st.st_mtim.tv_sec = now.tv_sec + 3600;
	cr_expect(file_key_is_settled(&st), "a future mtime");
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
