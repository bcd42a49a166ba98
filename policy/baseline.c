/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Baselines: noting the rules that learning runs produce, and reading them
 * back from files with the counts of their comments. Rules are compared by
 * their text as policy_rule_format_written() writes it, so a rule keeps its
 * identity across files whatever its layout. baseline_write.c writes them.
 */
#include "policy/baseline.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "policy/baseline_internal.h"
#include "policy/internal.h"

/* Bytes of one line of a baseline file that are read for a comment. */
#define COMMENT_MAX 4096

struct baseline *baseline_new(void)
{
	struct baseline *baseline = calloc(1, sizeof(*baseline));

	if (baseline)
		string_map_init(&baseline->index);
	return baseline;
}

static void free_entries(struct baseline_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(entries[i].text);
		free(entries[i].example);
	}
	free(entries);
}

void baseline_free(struct baseline *baseline)
{
	if (!baseline)
		return;
	string_map_fini(&baseline->index);
	free_entries(baseline->entries, baseline->count);
	free(baseline->mode_file);
	policy_free(baseline->parsed);
	free(baseline);
}

void baseline_set_mode(struct baseline *baseline, enum policy_mode mode)
{
	baseline->mode = mode;
}

enum policy_mode baseline_mode(const struct baseline *baseline)
{
	return baseline->mode;
}

size_t baseline_rule_count(const struct baseline *baseline)
{
	return baseline->count;
}

unsigned long baseline_sighting_count(const struct baseline *baseline)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < baseline->count; i++) {
		if (__builtin_add_overflow(sum, baseline->entries[i].count,
					   &sum))
			return (unsigned long)-1;
	}
	return sum;
}

/* Keeps the example that sorts first, whatever the order of sightings. */
static int keep_first_example(struct baseline_entry *entry, const char *example)
{
	char *copy;

	if (!example ||
	    (entry->example && strcmp(entry->example, example) <= 0))
		return 0;
	copy = strdup(example);
	if (!copy)
		return -ENOMEM;
	free(entry->example);
	entry->example = copy;
	return 0;
}

static void add_count(struct baseline_entry *entry, unsigned long count)
{
	if (__builtin_add_overflow(entry->count, count, &entry->count))
		entry->count = (unsigned long)-1;
}

static int append_entry(struct baseline *baseline, const char *text,
			unsigned long count, const char *example)
{
	struct baseline_entry *entry;
	int err;

	if (baseline->count == baseline->capacity) {
		size_t grown = baseline->capacity ? baseline->capacity * 2 : 64;
		struct baseline_entry *entries = reallocarray(
			baseline->entries, grown, sizeof(*entries));

		if (!entries)
			return -ENOMEM;
		baseline->entries = entries;
		baseline->capacity = grown;
	}
	entry = &baseline->entries[baseline->count];
	memset(entry, 0, sizeof(*entry));
	entry->text = strdup(text);
	entry->count = count;
	if (!entry->text || keep_first_example(entry, example) < 0)
		goto fail;
	/* The map keeps the key pointer, which the entry owns. */
	err = string_map_put(&baseline->index, entry->text, baseline->count);
	if (err)
		goto fail;
	baseline->count++;
	return 0;

fail:
	free(entry->text);
	free(entry->example);
	return -ENOMEM;
}

int baseline_note(struct baseline *baseline, const char *text,
		  unsigned long count, const char *example)
{
	size_t index;

	if (!string_map_get(&baseline->index, text, &index))
		return append_entry(baseline, text, count, example);
	add_count(&baseline->entries[index], count);
	return keep_first_example(&baseline->entries[index], example);
}

int baseline_merge(struct baseline *baseline, const struct baseline *from)
{
	for (size_t i = 0; i < from->count; i++) {
		const struct baseline_entry *entry = &from->entries[i];
		int err = baseline_note(baseline, entry->text, entry->count,
					entry->example);

		if (err)
			return err;
	}
	return 0;
}

int baseline_report(struct policy_diagnostics *diagnostics, const char *file,
		    unsigned int line, const char *format, ...)
{
	va_list arguments;
	char *message;
	int err;

	va_start(arguments, format);
	err = vasprintf(&message, format, arguments);
	va_end(arguments);
	if (err < 0)
		return -ENOMEM;
	err = append_diagnostic(diagnostics, file, line, 0, message);
	return err ? err : -EINVAL;
}

/* Returns the rule's text as policy_rule_format_written() writes it. */
static char *format_written(const struct policy_rule *rule)
{
	int length = policy_rule_format_written(rule, NULL, 0);
	char *text;

	if (length < 0)
		return NULL;
	text = malloc((size_t)length + 1);
	if (text)
		policy_rule_format_written(rule, text, (size_t)length + 1);
	return text;
}

static bool is_closing_rule(const struct policy_rule *rule)
{
	return !rule->default_id && strncmp(rule->id, BASELINE_ID_PREFIX,
					    strlen(BASELINE_ID_PREFIX)) == 0;
}

/* The lines of a file, for the comments above its rules. */
struct file_lines {
	char **lines;
	size_t count;
};

static void file_lines_fini(struct file_lines *lines)
{
	for (size_t i = 0; i < lines->count; i++)
		free(lines->lines[i]);
	free(lines->lines);
}

/*
 * Reads the lines of the file that policy_load_file() has just accepted,
 * each cut to COMMENT_MAX bytes and without its line break.
 * NOTE: the file is opened a second time, so a file replaced in between
 * gives the rules of the first and the comments of the second.
 */
static int read_lines(const char *path, struct file_lines *lines)
{
	FILE *file = fopen(path, "re");
	char *line = NULL;
	size_t size = 0, capacity = 0;
	ssize_t length;
	int err = 0;

	memset(lines, 0, sizeof(*lines));
	if (!file)
		return -errno;
	while ((length = getline(&line, &size, file)) >= 0) {
		if (lines->count == capacity) {
			size_t grown = capacity ? capacity * 2 : 256;
			char **bigger = reallocarray(lines->lines, grown,
						     sizeof(*bigger));

			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			lines->lines = bigger;
			capacity = grown;
		}
		line[strcspn(line, "\r\n")] = '\0';
		lines->lines[lines->count] = strndup(line, COMMENT_MAX);
		if (!lines->lines[lines->count]) {
			err = -ENOMEM;
			break;
		}
		lines->count++;
	}
	free(line);
	fclose(file);
	return err;
}

/*
 * Reads "# COUNT WORD, e.g. EXAMPLE" from the comment on the line above a
 * rule. A rule without such a comment counts 0 sightings.
 */
static void read_comment(const struct file_lines *lines, unsigned int line,
			 unsigned long *count, const char **example)
{
	const char *text, *rest;
	char *end;

	*count = 0;
	*example = NULL;
	if (line < 2 || line - 2 >= lines->count)
		return;
	text = lines->lines[line - 2];
	if (strncmp(text, "# ", 2) != 0 || text[2] < '0' || text[2] > '9')
		return;
	errno = 0;
	*count = strtoul(text + 2, &end, 10);
	if (errno == ERANGE)
		*count = (unsigned long)-1;
	rest = strstr(end, ", e.g. ");
	if (rest)
		*example = rest + strlen(", e.g. ");
}

static bool has_closing_rules(const struct policy *policy)
{
	for (size_t i = 0; i < policy->rule_count; i++) {
		if (is_closing_rule(&policy->rules[i]))
			return true;
	}
	return false;
}

/* Names how a baseline of the mode ends, for messages. */
static const char *ending_name(enum policy_mode mode)
{
	switch (mode) {
	case POLICY_MODE_MONITOR:
		return "mode monitor";
	case POLICY_MODE_ENFORCE:
		return "mode enforce";
	default:
		return "no mode (alert rules)";
	}
}

/*
 * Takes the mode of a file that has one or that ends with closing rules:
 * without a mode those raise alerts, so such a file cannot merge with one
 * that has a mode. A file of rules alone takes any mode.
 */
static int check_mode(struct baseline *baseline, const struct policy *policy,
		      const char *path, struct policy_diagnostics *diagnostics)
{
	char where[PATH_MAX + 16];

	if (policy->mode == POLICY_MODE_UNSET && !has_closing_rules(policy))
		return 0;
	if (baseline->mode_file && baseline->mode != policy->mode) {
		if (baseline->mode_line)
			snprintf(where, sizeof(where), "%s:%u",
				 baseline->mode_file, baseline->mode_line);
		else
			snprintf(where, sizeof(where), "%s",
				 baseline->mode_file);
		return baseline_report(
			diagnostics, path, policy->mode_location.line,
			"%s differs from %s of %s; merge baselines of "
			"the same mode, or change one mode statement",
			ending_name(policy->mode), ending_name(baseline->mode),
			where);
	}
	free(baseline->mode_file);
	baseline->mode_file = strdup(path);
	if (!baseline->mode_file)
		return -ENOMEM;
	baseline->mode = policy->mode;
	baseline->mode_line = policy->mode_location.line;
	return 0;
}

/*
 * Returns the line of the first include statement in lines, or 0 when none
 * starts a line.
 * NOTE: this reads lines, not statements, so it misses an include that
 * follows a continued line.
 */
static unsigned int find_include_line(const struct file_lines *lines)
{
	for (size_t i = 0; i < lines->count; i++) {
		const char *text =
			lines->lines[i] + strspn(lines->lines[i], " \t");

		if (strncmp(text, "include", 7) == 0 &&
		    (text[7] == ' ' || text[7] == '\t' || text[7] == '"'))
			return (unsigned int)(i + 1);
	}
	return 0;
}

/*
 * Rejects what a baseline cannot hold, each at its line. The statements of
 * an included file are reported at their own file's lines.
 */
static int check_contents(const struct policy *policy, const char *path,
			  const struct file_lines *lines,
			  struct policy_diagnostics *diagnostics)
{
	bool closed = false;
	char text[512];
	int err = 0;

	if (policy->file_count > 1)
		err = baseline_report(
			diagnostics, path, find_include_line(lines),
			"a baseline cannot include other files, but it "
			"includes '%s'; load that file with another "
			"--policy",
			policy->files[1]);
	for (size_t i = 0; i < policy->watch_count && err != -ENOMEM; i++) {
		policy_watch_format(&policy->watches[i], text, sizeof(text));
		err = baseline_report(
			diagnostics, policy->watches[i].location.file,
			policy->watches[i].location.line,
			"a baseline holds no watch statements; move '%s' "
			"to a policy file of its own and load both with "
			"--policy",
			text);
	}
	for (size_t i = 0; i < policy->rule_count && err != -ENOMEM; i++) {
		const struct policy_rule *rule = &policy->rules[i];

		if (is_closing_rule(rule)) {
			closed = true;
			continue;
		}
		policy_rule_format_written(rule, text, sizeof(text));
		if (rule->action > POLICY_LOG)
			err = baseline_report(
				diagnostics, rule->location.file,
				rule->location.line,
				"a baseline holds only allow and log rules "
				"before its closing '%s' rules; move '%s' "
				"to a policy file of its own and load both "
				"with --policy",
				BASELINE_ID_PREFIX "*", text);
		else if (closed)
			/* Merging would move it above them, where it acts. */
			err = baseline_report(
				diagnostics, rule->location.file,
				rule->location.line,
				"'%s' follows the closing rules, so it never "
				"matches; move it above them or delete it",
				text);
	}
	return err;
}

static int note_rules(struct baseline *baseline, const struct policy *policy,
		      const struct file_lines *lines)
{
	for (size_t i = 0; i < policy->rule_count; i++) {
		const struct policy_rule *rule = &policy->rules[i];
		const char *example;
		unsigned long count;
		char *text;
		int err;

		if (is_closing_rule(rule))
			continue;
		text = format_written(rule);
		if (!text)
			return -ENOMEM;
		read_comment(lines, rule->location.line, &count, &example);
		err = baseline_note(baseline, text, count, example);
		free(text);
		if (err)
			return err;
	}
	return 0;
}

int baseline_load_file(struct baseline *baseline, const char *path,
		       struct policy_diagnostics *diagnostics)
{
	struct policy *policy = policy_new();
	struct file_lines lines = { 0 };
	int err;

	if (!policy)
		return -ENOMEM;
	err = policy_load_file(policy, path, diagnostics);
	if (err == 0) {
		err = read_lines(path, &lines);
		if (err && err != -ENOMEM)
			err = baseline_report(diagnostics, path, 0,
					      "cannot read the comments: %s",
					      strerror(-err));
	}
	if (err == 0)
		err = check_contents(policy, path, &lines, diagnostics);
	if (err == 0)
		err = check_mode(baseline, policy, path, diagnostics);
	if (err == 0)
		err = note_rules(baseline, policy, &lines);
	file_lines_fini(&lines);
	policy_free(policy);
	return err;
}

/* The name of the text that noted rules are parsed as, in diagnostics. */
#define LEARNED_NAME "<learned rules>"

/*
 * Copies the entries from first on into chunk, one line each, while they
 * fit in one policy text. Returns the index of the first entry left out.
 */
static size_t fill_chunk(const struct baseline *baseline, size_t first,
			 char *chunk, size_t *used)
{
	size_t next = first;

	*used = 0;
	for (; next < baseline->count; next++) {
		size_t length = strlen(baseline->entries[next].text);

		if (*used + length + 1 > POLICY_FILE_MAX)
			break;
		memcpy(chunk + *used, baseline->entries[next].text, length);
		*used += length;
		chunk[(*used)++] = '\n';
	}
	return next;
}

/*
 * Records in links the entry that each rule parsed from the chunk of
 * entries [first, next) came from, or SIZE_MAX for a rule of another file
 * (which an include statement loaded) or of a line outside the chunk.
 */
static int link_chunk(const struct policy *parsed, size_t rules_before,
		      size_t first, size_t next, size_t **links)
{
	size_t room = parsed->rule_count ? parsed->rule_count : 1;
	size_t *grown = reallocarray(*links, room, sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	*links = grown;
	for (size_t i = rules_before; i < parsed->rule_count; i++) {
		const struct policy_location *at = &parsed->rules[i].location;

		grown[i] = SIZE_MAX;
		if (strcmp(at->file, LEARNED_NAME) == 0 && at->line >= 1 &&
		    at->line <= next - first)
			grown[i] = first + at->line - 1;
	}
	return 0;
}

/* Rejects entries without a rule, and rules a baseline cannot hold. */
static int check_entries(const struct baseline *baseline,
			 struct policy_diagnostics *diagnostics)
{
	char shown[SHOWN_MAX];
	int err = 0;

	for (size_t i = 0; i < baseline->count && err != -ENOMEM; i++) {
		const struct baseline_entry *entry = &baseline->entries[i];

		if (!entry->rule)
			err = baseline_report(
				diagnostics, LEARNED_NAME, (unsigned int)i + 1,
				"'%s' is not one rule on one line",
				show_value(shown, entry->text));
		else if (entry->rule->action > POLICY_LOG ||
			 is_closing_rule(entry->rule))
			err = baseline_report(
				diagnostics, LEARNED_NAME, (unsigned int)i + 1,
				"'%s' cannot be noted; a baseline holds "
				"only allow and log rules whose id does "
				"not start with '%s'",
				show_value(shown, entry->text),
				BASELINE_ID_PREFIX);
	}
	return err;
}

/*
 * Parses the entries' texts into baseline->parsed, in chunks that each fit
 * in one policy text, and links each entry to its rule. Line i of a chunk
 * is the chunk's entry i, so the rules map back by their line. The links
 * are set only after the last chunk, because each chunk's rules may move
 * the rules array.
 */
static int parse_entries(struct baseline *baseline,
			 struct policy_diagnostics *diagnostics)
{
	size_t first = 0, *links = NULL;
	char *chunk;
	int err = 0;

	policy_free(baseline->parsed);
	baseline->parsed = policy_new();
	chunk = malloc(POLICY_FILE_MAX);
	if (!baseline->parsed || !chunk) {
		free(chunk);
		return -ENOMEM;
	}
	for (size_t i = 0; i < baseline->count; i++) {
		baseline->entries[i].rule = NULL;
		/* A line break would shift the lines of the entries after. */
		if (strpbrk(baseline->entries[i].text, "\r\n"))
			err = baseline_report(
				diagnostics, LEARNED_NAME, (unsigned int)i + 1,
				"a noted rule contains a line break; note "
				"each rule as one line");
	}
	while (first < baseline->count && err == 0) {
		size_t used, rules_before = baseline->parsed->rule_count;
		size_t next = fill_chunk(baseline, first, chunk, &used);

		if (next == first) {
			err = baseline_report(diagnostics, LEARNED_NAME, 0,
					      "a rule is longer than 4 MiB");
			break;
		}
		err = policy_load_text(baseline->parsed, LEARNED_NAME, chunk,
				       used, diagnostics);
		if (err == 0)
			err = link_chunk(baseline->parsed, rules_before, first,
					 next, &links);
		first = next;
	}
	free(chunk);
	for (size_t i = 0; err == 0 && i < baseline->parsed->rule_count; i++) {
		if (links[i] != SIZE_MAX)
			baseline->entries[links[i]].rule =
				&baseline->parsed->rules[i];
	}
	free(links);
	return err ? err : check_entries(baseline, diagnostics);
}

/*
 * Replaces each entry's text with its rule's written form and merges the
 * entries that then have the same text.
 */
int baseline_canonicalize(struct baseline *baseline,
			  struct policy_diagnostics *diagnostics)
{
	struct baseline_entry *old = baseline->entries;
	size_t count = baseline->count;
	int err = parse_entries(baseline, diagnostics);

	if (err)
		return err;
	string_map_fini(&baseline->index);
	string_map_init(&baseline->index);
	baseline->entries = NULL;
	baseline->count = baseline->capacity = 0;
	for (size_t i = 0; i < count && err == 0; i++) {
		char *text = format_written(old[i].rule);
		size_t index;

		if (!text) {
			err = -ENOMEM;
			break;
		}
		err = baseline_note(baseline, text, old[i].count,
				    old[i].example);
		if (err == 0 && string_map_get(&baseline->index, text, &index))
			baseline->entries[index].rule = old[i].rule;
		free(text);
	}
	free_entries(old, count);
	return err;
}
