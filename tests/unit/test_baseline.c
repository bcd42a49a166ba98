/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of baselines: the order, grouping, comments and line breaks of
 * written files, loading them back with their counts, the statements a
 * baseline rejects, diffs, and counts that saturate.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/baseline.h"
#include "policy/policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One finding of each group, in the order a written baseline lists them. */
static const char exec_rule[] =
	"allow exec path /usr/bin/app file-build-id 0a0b0c";
static const char module_rule[] =
	"allow module-load path /usr/lib/libplugin.so source dlopen";
static const char app_call_rule[] =
	"allow native-api syscall openat origin libc "
	"module /usr/lib/libc.so.6 offset 0x1234 caller /usr/bin/app "
	"caller-offset 0x99";
static const char libfoo_call_rule[] =
	"log direct-syscall syscall mprotect origin library "
	"module /usr/lib/libfoo.so offset 0x10";
static const char memory_call_rule[] =
	"log unbacked-caller syscall mmap origin anonymous exe /usr/bin/app";

/* Short enough that every path below it fits in PATH_MAX. */
static char scratch[256];

static void make_scratch(void)
{
	const char *base = getenv("TMPDIR");

	if (!base || !*base || strlen(base) > 200)
		base = "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/test_baseline.XXXXXX", base);
	cr_assert_not_null(mkdtemp(scratch), "mkdtemp: %s", strerror(errno));
}

static int remove_entry(const char *path, const struct stat *status,
			int type, struct FTW *walk)
{
	(void)status;
	(void)type;
	(void)walk;
	return remove(path);
}

static void remove_scratch(void)
{
	nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(baseline, .init = make_scratch, .fini = remove_scratch);

/* Returns scratch/name in a static buffer of its own for each slot. */
static const char *scratch_path(int slot, const char *name)
{
	static char paths[4][PATH_MAX];

	snprintf(paths[slot], PATH_MAX, "%s/%s", scratch, name);
	return paths[slot];
}

static void write_file(const char *name, const char *text)
{
	const char *path = scratch_path(3, name);
	FILE *file = fopen(path, "w");

	cr_assert_not_null(file, "%s: %s", path, strerror(errno));
	fputs(text, file);
	cr_assert_eq(fclose(file), 0);
}

static struct baseline *new_baseline(void)
{
	struct baseline *baseline = baseline_new();

	cr_assert_not_null(baseline);
	return baseline;
}

static void note(struct baseline *baseline, const char *text,
		 unsigned long count, const char *example)
{
	cr_assert_eq(baseline_note(baseline, text, count, example), 0,
		     "noting '%s'", text);
}

/* Fails with every diagnostic printed, so a failure shows its cause. */
static void expect_no_diagnostics(const struct policy_diagnostics *diagnostics,
				  const char *label)
{
	for (size_t i = 0; i < diagnostics->count; i++) {
		const struct policy_diagnostic *item = &diagnostics->items[i];

		cr_expect_fail("%s: %s:%u:%u: %s", label, item->file,
			       item->line, item->column, item->message);
	}
}

/* Returns the written baseline as a string that the caller frees. */
static char *write_baseline(struct baseline *baseline)
{
	static const char *const header[] = { "Test baseline", NULL };
	struct policy_diagnostics diagnostics;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int err;

	cr_assert_not_null(out);
	policy_diagnostics_init(&diagnostics);
	err = baseline_write(baseline, header, out, &diagnostics);
	expect_no_diagnostics(&diagnostics, "write");
	policy_diagnostics_fini(&diagnostics);
	cr_assert_eq(fclose(out), 0);
	cr_assert_eq(err, 0, "baseline_write returned %d", err);
	return text;
}

/* Loads the file into baseline and expects no diagnostics. */
static void load_clean(struct baseline *baseline, const char *path)
{
	struct policy_diagnostics diagnostics;
	int err;

	policy_diagnostics_init(&diagnostics);
	err = baseline_load_file(baseline, path, &diagnostics);
	expect_no_diagnostics(&diagnostics, path);
	policy_diagnostics_fini(&diagnostics);
	cr_assert_eq(err, 0, "baseline_load_file returned %d", err);
}

/* Returns the policy that policy_load_file() reads from text. */
static struct policy *parse_written(const char *name, const char *text)
{
	struct policy_diagnostics diagnostics;
	struct policy *policy = policy_new();
	int err;

	cr_assert_not_null(policy);
	write_file(name, text);
	policy_diagnostics_init(&diagnostics);
	err = policy_load_file(policy, scratch_path(0, name), &diagnostics);
	expect_no_diagnostics(&diagnostics, name);
	policy_diagnostics_fini(&diagnostics);
	cr_assert_eq(err, 0, "policy_load_file returned %d", err);
	return policy;
}

static size_t count_occurrences(const char *text, const char *needle)
{
	size_t count = 0;

	for (const char *at = strstr(text, needle); at;
	     at = strstr(at + 1, needle))
		count++;
	return count;
}

/* Returns the offset of needle in text, failing when it is missing. */
static size_t offset_of(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);

	cr_assert_not_null(at, "'%s' missing from:\n%s", needle, text);
	return (size_t)(at - text);
}

static void note_each_group(struct baseline *baseline)
{
	note(baseline, memory_call_rule, 1, "app --jit");
	note(baseline, libfoo_call_rule, 4, "app --foo");
	note(baseline, app_call_rule, 2, "app --open");
	note(baseline, module_rule, 1, "app --plugin");
	note(baseline, exec_rule, 3, "sh -c app");
}

/*
 * Writing.
 */

static void expect_closing_rules(const struct policy *policy,
				 size_t noted, enum policy_action action)
{
	static const char *const ids[] = { "baseline-call", "baseline-module",
					   "baseline-exec" };

	cr_assert_eq(policy->rule_count, noted + ARRAY_SIZE(ids),
		     "%zu rules", policy->rule_count);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		const struct policy_rule *rule = &policy->rules[noted + i];

		cr_expect_str_eq(rule->id, ids[i]);
		cr_expect_eq(rule->action, action, "%s: action %d", ids[i],
			     rule->action);
	}
	for (size_t i = 0; i < noted; i++)
		cr_expect_lt(policy->rules[i].action, POLICY_ALERT,
			     "rule %zu is not allow or log", i);
}

Test(baseline, write_parses_with_alert_closing_rules)
{
	struct baseline *baseline = new_baseline();
	struct policy *policy;
	char *text;

	note_each_group(baseline);
	text = write_baseline(baseline);
	policy = parse_written("alert.policy", text);

	expect_closing_rules(policy, 5, POLICY_ALERT);
	cr_expect_eq(policy->mode, POLICY_MODE_UNSET);
	cr_expect_eq(count_occurrences(text, "id baseline-"), 3);
	cr_expect_eq(count_occurrences(text, "\nmode "), 0);
	cr_expect_eq(baseline_rule_count(baseline), 5);
	policy_free(policy);
	free(text);
	baseline_free(baseline);
}

Test(baseline, write_in_monitor_mode_denies_the_rest)
{
	struct baseline *baseline = new_baseline();
	struct policy *policy;
	char *text;

	note_each_group(baseline);
	baseline_set_mode(baseline, POLICY_MODE_MONITOR);
	cr_expect_eq(baseline_mode(baseline), POLICY_MODE_MONITOR);
	text = write_baseline(baseline);
	policy = parse_written("monitor.policy", text);

	expect_closing_rules(policy, 5, POLICY_DENY);
	cr_expect_eq(policy->mode, POLICY_MODE_MONITOR);
	cr_expect_eq(count_occurrences(text, "\nmode monitor\n"), 1);
	cr_expect_eq(count_occurrences(text, "id baseline-"), 3);
	cr_expect_lt(offset_of(text, "\nmode monitor\n"),
		     offset_of(text, exec_rule));
	policy_free(policy);
	free(text);
	baseline_free(baseline);
}

Test(baseline, write_sorts_and_groups)
{
	static const char *const in_order[] = {
		"# Programs started\n# 3 starts, e.g. sh -c app\n",
		exec_rule,
		"# Modules loaded\n# 1 load, e.g. app --plugin\n",
		module_rule,
		"# Calls from /usr/bin/app\n# 2 calls, e.g. app --open\n",
		"allow native-api syscall openat origin libc",
		"# Calls from /usr/lib/libfoo.so\n# 4 calls, e.g. app --foo\n",
		"log direct-syscall syscall mprotect",
		"# Calls from memory without a file\n"
		"# 1 call, e.g. app --jit\n",
		memory_call_rule,
		"id baseline-call",
	};
	struct baseline *baseline = new_baseline();
	char *text;
	size_t last = 0;

	note_each_group(baseline);
	text = write_baseline(baseline);
	for (size_t i = 0; i < ARRAY_SIZE(in_order); i++) {
		size_t offset = offset_of(text, in_order[i]);

		cr_expect_gt(offset, last, "'%s' is out of order in:\n%s",
			     in_order[i], text);
		last = offset;
	}
	cr_expect_eq(strncmp(text, "# Test baseline\n", 16), 0);
	free(text);
	baseline_free(baseline);
}

Test(baseline, write_sorts_calls_by_caller_within_a_group)
{
	struct baseline *baseline = new_baseline();
	char *text;

	note(baseline,
	     "allow native-api syscall write origin libc caller /usr/bin/b",
	     1, NULL);
	note(baseline,
	     "allow native-api syscall read origin libc caller /usr/bin/a",
	     1, NULL);
	note(baseline,
	     "allow native-api syscall open origin libc caller /usr/bin/a",
	     1, NULL);
	text = write_baseline(baseline);

	cr_expect_lt(offset_of(text, "# Calls from /usr/bin/a\n"),
		     offset_of(text, "syscall open "));
	cr_expect_lt(offset_of(text, "syscall open "),
		     offset_of(text, "syscall read "));
	cr_expect_lt(offset_of(text, "syscall read "),
		     offset_of(text, "# Calls from /usr/bin/b\n"));
	cr_expect_eq(count_occurrences(text, "# Calls from /usr/bin/a\n"), 1);
	cr_expect_eq(count_occurrences(text, "# 1 call\n"), 3);
	free(text);
	baseline_free(baseline);
}

Test(baseline, write_ignores_order_of_notes)
{
	struct baseline *forward = new_baseline();
	struct baseline *backward = new_baseline();
	char *forward_text, *backward_text;

	note_each_group(forward);
	note(backward, exec_rule, 3, "sh -c app");
	note(backward, module_rule, 1, "app --plugin");
	note(backward, app_call_rule, 2, "app --open");
	note(backward, libfoo_call_rule, 4, "app --foo");
	note(backward, memory_call_rule, 1, "app --jit");
	forward_text = write_baseline(forward);
	backward_text = write_baseline(backward);

	cr_expect_str_eq(forward_text, backward_text);
	free(forward_text);
	free(backward_text);
	baseline_free(forward);
	baseline_free(backward);
}

Test(baseline, note_adds_counts_and_keeps_first_example)
{
	struct baseline *baseline = new_baseline();
	char *text;

	note(baseline, exec_rule, 2, "zsh -c app");
	note(baseline, exec_rule, 3, "bash -c app");
	note(baseline, exec_rule, 1, NULL);
	note(baseline, exec_rule, 1, "dash -c app");
	text = write_baseline(baseline);

	cr_expect_eq(baseline_rule_count(baseline), 1);
	cr_expect_eq(count_occurrences(text, "# 7 starts, e.g. bash -c app\n"),
		     1, "in:\n%s", text);
	free(text);
	baseline_free(baseline);
}

Test(baseline, write_merges_texts_that_differ_in_layout)
{
	struct baseline *baseline = new_baseline();
	char *text;

	note(baseline, "allow native-api syscall openat module /usr/lib/x.so",
	     1, "b");
	note(baseline,
	     "  allow   native-api\tmodule /usr/lib/x.so syscall openat ", 2,
	     "a");
	note(baseline,
	     "allow native-api module \"/usr/lib/x.so\" syscall openat", 4,
	     NULL);
	text = write_baseline(baseline);

	cr_expect_eq(baseline_rule_count(baseline), 1);
	cr_expect_eq(count_occurrences(text, "# 7 calls, e.g. a\n"
					     "allow native-api syscall openat "
					     "module /usr/lib/x.so\n"),
		     1, "in:\n%s", text);
	free(text);
	baseline_free(baseline);
}

Test(baseline, note_after_write_counts_the_same_entry)
{
	struct baseline *baseline = new_baseline();
	char *text;

	/* Written in the other order, so the write moves both entries. */
	note(baseline, memory_call_rule, 1, NULL);
	note(baseline, exec_rule, 1, NULL);
	free(write_baseline(baseline));
	note(baseline, exec_rule, 5, NULL);
	text = write_baseline(baseline);

	cr_expect_eq(count_occurrences(text, "# 6 starts\n" "allow exec"), 1,
		     "in:\n%s", text);
	cr_expect_eq(count_occurrences(text, "# 1 call\n" "log unbacked"), 1,
		     "in:\n%s", text);
	free(text);
	baseline_free(baseline);
}

Test(baseline, write_escapes_control_bytes_of_example)
{
	struct baseline *baseline = new_baseline();
	struct policy *policy;
	char *text;

	note(baseline, exec_rule, 1, "sh -c 'x\ndeny exec'\r\t");
	text = write_baseline(baseline);

	cr_expect_eq(count_occurrences(text, "# 1 start, e.g. sh -c "
					     "'x\\x0adeny exec'\\x0d\\x09\n"),
		     1, "in:\n%s", text);
	policy = parse_written("example.policy", text);
	cr_expect_eq(policy->rule_count, 4);
	policy_free(policy);
	free(text);
	baseline_free(baseline);
}

Test(baseline, note_saturates_counts)
{
	struct baseline *baseline = new_baseline();
	char expected[64];
	char *text;

	note(baseline, exec_rule, ULONG_MAX, NULL);
	note(baseline, exec_rule, 1, NULL);
	note(baseline, exec_rule, ULONG_MAX, NULL);
	text = write_baseline(baseline);

	snprintf(expected, sizeof(expected), "# %lu starts\n", ULONG_MAX);
	cr_expect_eq(count_occurrences(text, expected), 1, "in:\n%s", text);
	free(text);
	baseline_free(baseline);
}

Test(baseline, write_rejects_text_that_is_no_rule)
{
	static const char *const texts[] = {
		"allow exec path",
		"watch openat",
		"# a comment",
		"allow exec path /a\nallow exec path /b",
		"deny exec path /tmp/x",
		"allow exec path /a id baseline-own",
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct baseline *baseline = new_baseline();
		struct policy_diagnostics diagnostics;
		FILE *out = fopen("/dev/null", "w");
		int err;

		cr_assert_not_null(out);
		note(baseline, exec_rule, 1, NULL);
		note(baseline, texts[i], 1, NULL);
		policy_diagnostics_init(&diagnostics);
		err = baseline_write(baseline, NULL, out, &diagnostics);
		cr_expect_eq(err, -EINVAL, "'%s': result %d", texts[i], err);
		cr_expect_gt(diagnostics.count, 0, "'%s': no diagnostics",
			     texts[i]);
		policy_diagnostics_fini(&diagnostics);
		fclose(out);
		baseline_free(baseline);
	}
}

/*
 * Line breaks and round trips.
 */

/* Columns of a line, with a tab counted as 8 as the writer counts it. */
static size_t columns_of(const char *line, size_t length)
{
	size_t columns = 0;

	for (size_t i = 0; i < length; i++)
		columns += line[i] == '\t' ? 8 : 1;
	return columns;
}

/* Whether the line ends outside a quoted string, as the lexer reads it. */
static bool ends_outside_string(const char *line, size_t length)
{
	bool quoted = false;

	for (size_t i = 0; i < length; i++) {
		if (quoted && line[i] == '\\')
			i++;
		else if (line[i] == '"' &&
			 (quoted || i == 0 || line[i - 1] == ' ' ||
			  line[i - 1] == '\t'))
			quoted = !quoted;
	}
	return !quoted;
}

/*
 * Counts the words outside strings, past a line's first word, before
 * which the writer may break a rule. A line that contains one matcher
 * group has none.
 */
static size_t count_break_words(const char *line, size_t length)
{
	static const char *const words[] = {
		"module", "build-id", "caller",	       "caller-build-id",
		"path",	  "exe",      "file-build-id", "origin",
	};
	bool quoted = false;
	size_t count = 0;

	for (size_t i = 1; i < length; i++) {
		if (quoted && line[i] == '\\') {
			i++;
			continue;
		}
		if (line[i] == '"' && (quoted || line[i - 1] == ' '))
			quoted = !quoted;
		if (quoted || line[i] != ' ')
			continue;
		for (size_t j = 0; j < ARRAY_SIZE(words); j++) {
			size_t word = strlen(words[j]);

			if (i + 1 + word < length &&
			    strncmp(line + i + 1, words[j], word) == 0 &&
			    line[i + 1 + word] == ' ')
				count++;
		}
	}
	return count;
}

/*
 * Checks every line of rule text: continued lines end in " \" and the next
 * starts with a tab, no line ends inside a string, and only a line that
 * contains one matcher group is wider than 79 columns.
 */
static void expect_rule_lines(const char *text)
{
	const char *line = text;
	bool continued = false;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t length = end ? (size_t)(end - line) : strlen(line);
		bool continues = length >= 2 && line[length - 1] == '\\';

		if (continued)
			cr_expect_eq(line[0], '\t', "'%.*s' is not indented",
				     (int)length, line);
		if (continues)
			cr_expect_eq(line[length - 2], ' ',
				     "'%.*s' has no blank before the backslash",
				     (int)length, line);
		cr_expect(ends_outside_string(line, length),
			  "'%.*s' ends inside a string", (int)length, line);
		if (line[0] != '#' && columns_of(line, length) > 79)
			cr_expect(count_break_words(line, length) == 0,
				  "'%.*s' is longer than 79 columns",
				  (int)length, line);
		continued = continues;
		line += length + (end ? 1 : 0);
	}
}

/* Returns the glob that matches path exactly, as learning writes it. */
static char *escape_glob(const char *path)
{
	size_t length = policy_glob_escape(path, NULL, 0);
	char *glob = malloc(length + 1);

	cr_assert_not_null(glob);
	policy_glob_escape(path, glob, length + 1);
	return glob;
}

static char *quote(const char *value)
{
	char *quoted = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&quoted, &size);

	cr_assert_not_null(out);
	fputc('"', out);
	for (; *value; value++) {
		if (*value == '"' || *value == '\\')
			fputc('\\', out);
		fputc(*value, out);
	}
	fputc('"', out);
	cr_assert_eq(fclose(out), 0);
	return quoted;
}

static const char blank_path[] =
	"/opt/Vendor Suite/lib/engine module loader caller path.so";
static const char star_path[] = "/opt/vendor/lib/plugin*.so";
static const char long_path[] =
	"/opt/A vendor with a very long name/and an even longer product "
	"name/lib/libengine.so";

/* Notes rules whose matcher groups cannot all share one line. */
static void note_long_rules(struct baseline *baseline)
{
	char *blank_glob = escape_glob(blank_path);
	char *star_glob = escape_glob(star_path);
	char *long_glob = escape_glob(long_path);
	char *blank_quoted = quote(blank_glob);
	char *long_quoted = quote(long_glob);
	char *text;

	cr_assert_gt(asprintf(&text,
			      "allow native-api syscall openat origin libc "
			      "module /usr/lib/x86_64-linux-gnu/libc.so.6 "
			      "offset 0x11f0a0 build-id 0123456789abcdef "
			      "caller %s caller-offset 0x1234 "
			      "caller-build-id fedcba9876543210",
			      blank_quoted),
		     0);
	note(baseline, text, 2, "engine --scan");
	free(text);
	cr_assert_gt(asprintf(&text,
			      "allow module-load path %s file-build-id "
			      "00112233445566778899aabbccddeeff00112233 "
			      "source dlopen",
			      star_glob),
		     0);
	note(baseline, text, 1, "engine --plugins");
	free(text);
	cr_assert_gt(asprintf(&text,
			      "log direct-syscall syscall mprotect origin "
			      "library module %s offset 0x10 caller %s",
			      long_quoted, blank_quoted),
		     0);
	note(baseline, text, 3, "engine, e.g. the scanner");
	free(text);
	/* A word with a quote in it starts no string. */
	note(baseline,
	     "allow native-api syscall read origin libc module /opt/a\"b.so "
	     "caller \"/opt/x module y/with a long enough name/bin/tool\" "
	     "caller-offset 0x42",
	     1, NULL);
	free(blank_glob);
	free(star_glob);
	free(long_glob);
	free(blank_quoted);
	free(long_quoted);
}

static const struct policy_rule *find_rule(const struct policy *policy,
					   enum policy_event event)
{
	for (size_t i = 0; i < policy->rule_count; i++) {
		if (policy->rules[i].event == event)
			return &policy->rules[i];
	}
	cr_assert_fail("no rule of event %d", event);
	return NULL;
}

Test(baseline, write_breaks_long_rules_between_groups)
{
	struct baseline *baseline = new_baseline();
	const struct policy_rule *rule;
	struct policy *policy;
	char *text, *star_glob = escape_glob(star_path);

	note_long_rules(baseline);
	text = write_baseline(baseline);
	expect_rule_lines(text);
	cr_expect_gt(count_occurrences(text, " \\\n\tcaller "), 0, "in:\n%s",
		     text);
	policy = parse_written("long.policy", text);

	rule = find_rule(policy, EVENT_NATIVE_API);
	cr_assert_not_null(rule->callers);
	cr_expect_str_eq(rule->callers[0], blank_path);
	rule = find_rule(policy, EVENT_MODULE_LOAD);
	cr_assert_not_null(rule->paths);
	cr_expect_str_eq(rule->paths[0], star_glob);
	rule = find_rule(policy, EVENT_DIRECT_SYSCALL);
	cr_assert_not_null(rule->modules);
	cr_expect_str_eq(rule->modules[0], long_path);
	cr_assert_not_null(rule->callers);
	cr_expect_str_eq(rule->callers[0], blank_path);
	policy_free(policy);
	free(star_glob);
	free(text);
	baseline_free(baseline);
}

Test(baseline, load_then_write_gives_same_bytes)
{
	struct baseline *first = new_baseline();
	struct baseline *second = new_baseline();
	char *first_text, *second_text;

	note_each_group(first);
	note_long_rules(first);
	baseline_set_mode(first, POLICY_MODE_ENFORCE);
	first_text = write_baseline(first);
	write_file("first.policy", first_text);
	load_clean(second, scratch_path(0, "first.policy"));
	second_text = write_baseline(second);

	cr_expect_eq(baseline_mode(second), POLICY_MODE_ENFORCE);
	cr_expect_eq(baseline_rule_count(second), baseline_rule_count(first));
	cr_expect_str_eq(second_text, first_text);
	cr_expect_eq(count_occurrences(second_text,
				       "# 3 calls, e.g. engine, e.g. the "
				       "scanner\n"),
		     1);
	free(first_text);
	free(second_text);
	baseline_free(first);
	baseline_free(second);
}

Test(baseline, load_of_two_files_adds_counts)
{
	struct baseline *first = new_baseline();
	struct baseline *merged = new_baseline();
	char *text;

	note_each_group(first);
	text = write_baseline(first);
	write_file("a.policy", text);
	write_file("b.policy", text);
	free(text);
	load_clean(merged, scratch_path(0, "a.policy"));
	load_clean(merged, scratch_path(0, "b.policy"));
	text = write_baseline(merged);

	cr_expect_eq(baseline_rule_count(merged), 5);
	cr_expect_eq(count_occurrences(text, "# 6 starts, e.g. sh -c app\n"),
		     1, "in:\n%s", text);
	cr_expect_eq(count_occurrences(text, "# 8 calls, e.g. app --foo\n"),
		     1, "in:\n%s", text);
	free(text);
	baseline_free(first);
	baseline_free(merged);
}

/*
 * Comments of hand-edited files.
 */

/* Loads text as a baseline file and returns what it writes back. */
static char *load_and_write(const char *name, const char *text)
{
	struct baseline *baseline = new_baseline();
	char *written;

	write_file(name, text);
	load_clean(baseline, scratch_path(0, name));
	written = write_baseline(baseline);
	baseline_free(baseline);
	return written;
}

Test(baseline, load_reads_counts_of_each_layout)
{
	static const struct {
		const char *label, *file, *expected;
	} cases[] = {
		{ "first line", "allow exec path /bin/a\n", "# 0 starts\n" },
		{ "second line", "# 4 starts, e.g. a\nallow exec path /bin/a\n",
		  "# 4 starts, e.g. a\n" },
		{ "unknown comment",
		  "# written by hand\nallow exec path /bin/a\n",
		  "# 0 starts\n" },
		{ "comment not right above",
		  "# 4 starts\n\nallow exec path /bin/a\n", "# 0 starts\n" },
		{ "example with its separator",
		  "# 2 starts, e.g. a, e.g. b\nallow exec path /bin/a\n",
		  "# 2 starts, e.g. a, e.g. b\n" },
		{ "continued rule",
		  "# 5 starts, e.g. c\nallow exec \\\n\tpath /bin/a\n",
		  "# 5 starts, e.g. c\n" },
		{ "CR LF",
		  "# 6 starts, e.g. d\r\nallow exec \\\r\n\tpath /bin/a\r\n"
		  "# 1 call\r\nallow native-api syscall read\r\n",
		  "# 6 starts, e.g. d\n" },
		{ "count too large",
		  "# 99999999999999999999999 starts\nallow exec path /bin/a\n",
		  NULL },
	};
	char saturated[64];

	snprintf(saturated, sizeof(saturated), "# %lu starts\n", ULONG_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *expected =
			cases[i].expected ? cases[i].expected : saturated;
		char *written = load_and_write("hand.policy", cases[i].file);

		cr_expect_eq(count_occurrences(written, expected), 1,
			     "%s: '%s' missing from:\n%s", cases[i].label,
			     expected, written);
		free(written);
	}
}

Test(baseline, load_reads_count_of_call_in_crlf_file)
{
	char *written = load_and_write(
		"crlf.policy",
		"# 6 starts\r\nallow exec path /bin/a\r\n"
		"# 3 calls, e.g. x\r\nallow native-api syscall read\r\n");

	cr_expect_eq(count_occurrences(written, "# 3 calls, e.g. x\n"), 1,
		     "in:\n%s", written);
	free(written);
}

/*
 * Statements that a baseline rejects.
 */

/* Loads text as the file name into baseline and returns the result. */
static int load_rejected(struct baseline *baseline, const char *name,
			 const char *text,
			 struct policy_diagnostics *diagnostics)
{
	write_file(name, text);
	policy_diagnostics_init(diagnostics);
	return baseline_load_file(baseline, scratch_path(0, name),
				  diagnostics);
}

static void expect_one_rejection(const struct policy_diagnostics *diagnostics,
				 int err, const char *name, unsigned int line,
				 const char *fragment)
{
	cr_expect_eq(err, -EINVAL, "%s: result %d", name, err);
	cr_assert_eq(diagnostics->count, 1, "%s: %zu diagnostics", name,
		     diagnostics->count);
	cr_expect_str_eq(diagnostics->items[0].file, scratch_path(0, name));
	cr_expect_eq(diagnostics->items[0].line, line, "%s: line %u", name,
		     diagnostics->items[0].line);
	cr_expect(strstr(diagnostics->items[0].message, fragment),
		  "%s: '%s' is missing from '%s'", name, fragment,
		  diagnostics->items[0].message);
}

Test(baseline, load_rejects_what_a_baseline_cannot_hold)
{
	static const struct {
		const char *name, *text;
		unsigned int line;
		const char *fragment;
	} cases[] = {
		{ "watch.policy",
		  "# 1 start\nallow exec path /bin/a\nwatch openat\n", 3,
		  "'watch openat'" },
		{ "include.policy",
		  "allow exec path /bin/a\n\ninclude included.policy\n", 3,
		  "included.policy" },
		{ "deny.policy",
		  "allow exec path /bin/a\n"
		  "deny exec \\\n\tpath /tmp/x\n",
		  2, "'deny exec path /tmp/x'" },
		{ "alert.policy", "alert exec path /tmp/x id my-alert\n", 1,
		  "'alert exec path /tmp/x id my-alert'" },
		{ "kill.policy", "\n\nkill native-api syscall ptrace\n", 3,
		  "'kill native-api syscall ptrace'" },
	};

	write_file("included.policy", "allow exec path /bin/b\n");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct baseline *baseline = new_baseline();
		struct policy_diagnostics diagnostics;
		int err = load_rejected(baseline, cases[i].name, cases[i].text,
					&diagnostics);

		expect_one_rejection(&diagnostics, err, cases[i].name,
				     cases[i].line, cases[i].fragment);
		cr_expect_eq(baseline_rule_count(baseline), 0);
		policy_diagnostics_fini(&diagnostics);
		baseline_free(baseline);
	}
}

Test(baseline, load_rejects_rule_of_included_file_at_its_line)
{
	struct baseline *baseline = new_baseline();
	struct policy_diagnostics diagnostics;
	int err;

	write_file("denying.policy", "\n\n\n\ndeny exec path /tmp/x\n");
	err = load_rejected(baseline, "outer.policy",
			    "include denying.policy\n", &diagnostics);

	cr_expect_eq(err, -EINVAL);
	cr_expect_eq(diagnostics.count, 2, "%zu diagnostics",
		     diagnostics.count);
	for (size_t i = 0; i < diagnostics.count; i++) {
		const struct policy_diagnostic *item = &diagnostics.items[i];

		if (strstr(item->message, "'deny exec")) {
			cr_expect_str_eq(item->file,
					 scratch_path(0, "denying.policy"));
			cr_expect_eq(item->line, 5);
		} else {
			cr_expect_str_eq(item->file,
					 scratch_path(0, "outer.policy"));
			cr_expect_eq(item->line, 1);
		}
	}
	policy_diagnostics_fini(&diagnostics);
	baseline_free(baseline);
}

Test(baseline, load_rejects_second_mode)
{
	struct baseline *baseline = new_baseline();
	struct policy_diagnostics diagnostics;
	char first[PATH_MAX];
	int err;

	write_file("monitor.policy", "mode monitor\nallow exec path /bin/a\n");
	snprintf(first, sizeof(first), "%s", scratch_path(0, "monitor.policy"));
	load_clean(baseline, first);
	err = load_rejected(baseline, "enforce.policy",
			    "# 1 start\n\nmode enforce\n", &diagnostics);

	expect_one_rejection(&diagnostics, err, "enforce.policy", 3,
			     "mode enforce differs from mode monitor");
	cr_expect(strstr(diagnostics.items[0].message, first),
		  "'%s' is missing from '%s'", first,
		  diagnostics.items[0].message);
	cr_expect_eq(baseline_mode(baseline), POLICY_MODE_MONITOR);
	policy_diagnostics_fini(&diagnostics);
	baseline_free(baseline);
}

Test(baseline, load_rejects_rule_after_closing_rules)
{
	struct baseline *baseline = new_baseline();
	struct policy_diagnostics diagnostics;
	int err;

	err = load_rejected(baseline, "late.policy",
			    "alert exec id baseline-exec\n"
			    "allow exec path /bin/late\n",
			    &diagnostics);

	expect_one_rejection(&diagnostics, err, "late.policy", 2,
			     "follows the closing rules");
	cr_expect_eq(baseline_rule_count(baseline), 0);
	policy_diagnostics_fini(&diagnostics);
	baseline_free(baseline);
}

Test(baseline, load_rejects_alert_and_deny_endings)
{
	struct baseline *baseline = new_baseline();
	struct policy_diagnostics diagnostics;
	char *text;
	int err;

	/* A baseline without a mode ends with alert rules. */
	note(baseline, exec_rule, 1, NULL);
	text = write_baseline(baseline);
	write_file("alert.policy", text);
	baseline_free(baseline);
	free(text);

	baseline = new_baseline();
	load_clean(baseline, scratch_path(0, "alert.policy"));
	err = load_rejected(baseline, "monitor.policy",
			    "mode monitor\nallow exec path /bin/a\n",
			    &diagnostics);

	expect_one_rejection(&diagnostics, err, "monitor.policy", 1,
			     "mode monitor differs from no mode");
	cr_expect_eq(baseline_mode(baseline), POLICY_MODE_UNSET);
	policy_diagnostics_fini(&diagnostics);
	baseline_free(baseline);
}

Test(baseline, load_lets_plain_rules_take_a_mode)
{
	struct baseline *baseline = new_baseline();

	write_file("monitor.policy", "mode monitor\nallow exec path /bin/a\n");
	write_file("rules.policy", "allow exec path /bin/b\n");
	load_clean(baseline, scratch_path(0, "rules.policy"));
	load_clean(baseline, scratch_path(0, "monitor.policy"));
	cr_expect_eq(baseline_mode(baseline), POLICY_MODE_MONITOR);
	cr_expect_eq(baseline_rule_count(baseline), 2);
	baseline_free(baseline);
}

Test(baseline, load_accepts_same_mode_and_closing_rules)
{
	struct baseline *baseline = new_baseline();
	char *text;

	note(baseline, exec_rule, 1, NULL);
	baseline_set_mode(baseline, POLICY_MODE_MONITOR);
	text = write_baseline(baseline);
	write_file("one.policy", text);
	write_file("two.policy", text);
	baseline_free(baseline);
	free(text);

	baseline = new_baseline();
	load_clean(baseline, scratch_path(0, "one.policy"));
	load_clean(baseline, scratch_path(0, "two.policy"));
	cr_expect_eq(baseline_mode(baseline), POLICY_MODE_MONITOR);
	cr_expect_eq(baseline_rule_count(baseline), 1);
	baseline_free(baseline);
}

/*
 * Diffs.
 */

/* Returns the diff's output and stores its result in changes. */
static char *diff_baselines(struct baseline *old, struct baseline *new,
			    long *changes)
{
	struct policy_diagnostics diagnostics;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	cr_assert_not_null(out);
	policy_diagnostics_init(&diagnostics);
	*changes = baseline_diff(old, new, out, &diagnostics);
	expect_no_diagnostics(&diagnostics, "diff");
	policy_diagnostics_fini(&diagnostics);
	cr_assert_eq(fclose(out), 0);
	return text;
}

Test(baseline, diff_lists_added_and_removed_rules)
{
	struct baseline *old = new_baseline();
	struct baseline *new = new_baseline();
	long changes;
	char *text;

	note(old, exec_rule, 1, NULL);
	note(old, libfoo_call_rule, 1, NULL);
	note(old, app_call_rule, 1, NULL);
	note(new, exec_rule, 9, "counts differ, rules do not");
	note(new, app_call_rule, 1, NULL);
	note(new, memory_call_rule, 1, NULL);
	note(new, module_rule, 1, NULL);
	baseline_set_mode(new, POLICY_MODE_MONITOR);
	text = diff_baselines(old, new, &changes);

	cr_expect_eq(changes, 4, "%ld changes in:\n%s", changes, text);
	cr_expect_str_eq(text,
			 "+mode monitor\n"
			 "# Modules loaded\n"
			 "+allow module-load path /usr/lib/libplugin.so "
			 "source dlopen\n"
			 "# Calls from /usr/lib/libfoo.so\n"
			 "-log direct-syscall syscall mprotect origin library "
			 "module /usr/lib/libfoo.so offset 0x10\n"
			 "# Calls from memory without a file\n"
			 "+log unbacked-caller syscall mmap origin anonymous "
			 "exe /usr/bin/app\n");
	free(text);
	baseline_free(old);
	baseline_free(new);
}

Test(baseline, diff_lists_both_modes_of_a_change)
{
	struct baseline *old = new_baseline();
	struct baseline *new = new_baseline();
	long changes;
	char *text;

	baseline_set_mode(old, POLICY_MODE_MONITOR);
	baseline_set_mode(new, POLICY_MODE_ENFORCE);
	text = diff_baselines(old, new, &changes);

	cr_expect_eq(changes, 1);
	cr_expect_str_eq(text, "-mode monitor\n+mode enforce\n");
	free(text);
	baseline_free(old);
	baseline_free(new);
}

Test(baseline, diff_of_same_rules_is_empty)
{
	struct baseline *old = new_baseline();
	struct baseline *new = new_baseline();
	long changes;
	char *text;

	note_each_group(old);
	note(new, "allow exec file-build-id 0a0b0c path /usr/bin/app", 1,
	     NULL);
	note(new, module_rule, 1, NULL);
	note(new, app_call_rule, 1, NULL);
	note(new, libfoo_call_rule, 1, NULL);
	note(new, memory_call_rule, 1, NULL);
	text = diff_baselines(old, new, &changes);

	cr_expect_eq(changes, 0);
	cr_expect_str_eq(text, "");
	free(text);
	baseline_free(old);
	baseline_free(new);
}

/*
 * Size.
 */

Test(baseline, more_than_4_mib_of_rules, .timeout = 60)
{
	enum { RULES = 40000 };
	struct baseline *baseline = new_baseline();
	struct policy_diagnostics diagnostics;
	char *text = NULL;
	size_t size = 0, total = 0;
	FILE *out;
	long changes;
	int err;

	for (unsigned int i = 0; i < RULES; i++) {
		char rule[256];

		snprintf(rule, sizeof(rule),
			 "allow native-api syscall openat origin libc "
			 "module /usr/lib/x86_64-linux-gnu/libc.so.6 "
			 "offset 0x%x caller /opt/app/bin/app%u "
			 "caller-offset 0x%x",
			 i, i % 7, i * 3);
		total += strlen(rule) + 1;
		note(baseline, rule, 1 + i % 3, NULL);
	}
	cr_assert_gt(total, 4u << 20, "only %zu bytes of rules", total);

	/* Comparing parses the entries in chunks of at most 4 MiB. */
	out = open_memstream(&text, &size);
	cr_assert_not_null(out);
	policy_diagnostics_init(&diagnostics);
	changes = baseline_diff(baseline, baseline, out, &diagnostics);
	expect_no_diagnostics(&diagnostics, "diff");
	cr_assert_eq(fclose(out), 0);
	cr_expect_eq(changes, 0);
	cr_expect_eq(baseline_rule_count(baseline), RULES);
	free(text);

	/* A file that nativemon could not load again is not written. */
	text = NULL;
	out = open_memstream(&text, &size);
	cr_assert_not_null(out);
	err = baseline_write(baseline, NULL, out, &diagnostics);
	cr_assert_eq(fclose(out), 0);
	cr_expect_eq(err, -EINVAL);
	cr_expect_eq(size, 0, "%zu bytes were written", size);
	cr_assert_eq(diagnostics.count, 1);
	cr_expect(strstr(diagnostics.items[0].message,
			 "more than the 4 MiB"),
		  "%s", diagnostics.items[0].message);
	policy_diagnostics_fini(&diagnostics);
	free(text);
	baseline_free(baseline);
}
