/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the policy parser. Each input is loaded as a
 * policy file of a scratch directory that the target fills at start, and
 * every include is resolved below that directory, so no input reaches a
 * file the target did not create. Besides the sanitizers' checks, it
 * aborts when a loaded rule or watch does not survive a format and parse
 * round trip, or when the result disagrees with the diagnostics.
 */
#include "policy/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[] = "/tmp/fuzz_policy.XXXXXX";
static int scratch_fd = -1;

/* Files that inputs can include: a plain one, a cycle, a mode, and a
 * nested one that climbs back with "..". */
static const struct {
	const char *name, *text;
} scratch_files[] = {
	{ "part.policy", "log exec id part\nwatch execve\n" },
	{ "loop.policy", "include loop.policy\n" },
	{ "mode.policy", "mode enforce\n" },
	{ "sub/up.policy", "include ../part.policy\nalert syscall bpf\n" },
};

static int remove_entry(const char *path, const struct stat *status, int type,
			struct FTW *walk)
{
	return remove(path);
}

static void remove_scratch(void)
{
	nftw(scratch, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void write_scratch_file(const char *name, const char *text)
{
	int fd = openat(scratch_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t length = strlen(text);

	if (fd < 0 || write(fd, text, length) != (ssize_t)length)
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (!mkdtemp(scratch))
		abort();
	atexit(remove_scratch);
	scratch_fd = open(scratch, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (scratch_fd < 0 || mkdirat(scratch_fd, "sub", 0700) < 0)
		abort();
	for (size_t i = 0; i < ARRAY_SIZE(scratch_files); i++)
		write_scratch_file(scratch_files[i].name,
				   scratch_files[i].text);
	return 0;
}

static char *format_new(int (*format)(const void *, char *, size_t),
			const void *item)
{
	int length = format(item, NULL, 0);
	char *text;

	if (length < 0)
		abort();
	text = malloc((size_t)length + 1);
	if (!text || format(item, text, (size_t)length + 1) != length)
		abort();
	return text;
}

static int format_rule_item(const void *item, char *buffer, size_t size)
{
	return policy_rule_format(item, buffer, size);
}

static int format_watch_item(const void *item, char *buffer, size_t size)
{
	return policy_watch_format(item, buffer, size);
}

/* Aborts unless text parses into exactly one item that formats as text. */
static void check_round_trip(const char *text, bool is_rule)
{
	struct policy_diagnostics diagnostics;
	struct policy *policy = policy_new();
	size_t count;
	char *again;

	if (!policy)
		abort();
	policy_diagnostics_init(&diagnostics);
	if (policy_load_text(policy, "round-trip", text, strlen(text),
			     &diagnostics) != 0)
		abort();

	count = is_rule ? policy->rule_count : policy->watch_count;
	if (count != 1)
		abort();
	if (is_rule)
		again = format_new(format_rule_item, &policy->rules[0]);
	else
		again = format_new(format_watch_item, &policy->watches[0]);
	if (strcmp(again, text) != 0)
		abort();

	free(again);
	policy_free(policy);
	policy_diagnostics_fini(&diagnostics);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_diagnostics diagnostics;
	struct policy *policy = policy_new();
	int err;

	if (!policy)
		return 0;
	policy_diagnostics_init(&diagnostics);
	err = policy_load_text_in_root(policy, scratch_fd, "input.policy",
				       (const char *)data, size, &diagnostics);
	if (err != 0 && err != -EINVAL && err != -ENOMEM)
		abort();
	if ((err == -EINVAL) != (diagnostics.count > 0))
		abort();

	for (size_t i = 0; err != -ENOMEM && i < policy->rule_count; i++) {
		char *text = format_new(format_rule_item, &policy->rules[i]);

		check_round_trip(text, true);
		free(text);
	}
	for (size_t i = 0; err != -ENOMEM && i < policy->watch_count; i++) {
		char *text = format_new(format_watch_item, &policy->watches[i]);

		check_round_trip(text, false);
		free(text);
	}

	policy_free(policy);
	policy_diagnostics_fini(&diagnostics);
	return 0;
}
