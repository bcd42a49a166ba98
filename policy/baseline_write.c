/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing baselines: sorting the rules, grouping them by the file they
 * concern, breaking long rules into lines, writing the counts and examples
 * above them and the closing rules after them, and comparing two
 * baselines rule by rule.
 */
#include "policy/baseline_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Rules longer than this are broken before their matcher groups. */
#define LINE_WIDTH 79

/*
 * The rules that end a baseline, after the rules of what was seen. A head
 * that does not fit on one line carries its own line breaks.
 */
struct closing_rule {
	const char *id;
	const char *head; /* the event and its matchers */
	const char *technique;
	const char *name;
};

/*
 * The module-load rule leaves out the loads that the default policy raises
 * an alert on by itself (memfd, deleted or manual-mapped files, world-
 * writable directories, unreadable paths), so those keep their own rules.
 */
static const struct closing_rule closing_rules[] = {
	{ "baseline-call", "native-api", "T1106",
	  "Watched syscall from a call site outside the baseline" },
	{ "baseline-module",
	  "module-load file library \\\n"
	  "\tsource loader,dlopen,dlmopen,unknown \\\n"
	  "\twritable-dir no path-known yes",
	  "T1129", "Module load outside the baseline" },
	{ "baseline-exec", "exec", "", "Program start outside the baseline" },
};

/* The parts of a baseline file, in the order they are written. */
enum section {
	SECTION_PROGRAMS,
	SECTION_MODULES,
	SECTION_CALLS,
};

static enum section section_of(const struct policy_rule *rule)
{
	switch (rule->event) {
	case EVENT_EXEC:
	case EVENT_FILELESS_EXEC:
		return SECTION_PROGRAMS;
	case EVENT_MODULE_LOAD:
		return SECTION_MODULES;
	default:
		return SECTION_CALLS;
	}
}

/*
 * Calls are grouped by the file that made them: the caller's, or for a
 * call without a known caller, the file of the syscall instruction. Calls
 * from memory without a file form the last group.
 */
static const char *group_of(const struct policy_rule *rule)
{
	if (section_of(rule) != SECTION_CALLS)
		return "";
	if (rule->callers)
		return rule->callers[0];
	if (rule->modules)
		return rule->modules[0];
	return "";
}

static int compare_entries(const void *a, const void *b)
{
	const struct baseline_entry *left = a, *right = b;
	enum section left_section = section_of(left->rule);
	enum section right_section = section_of(right->rule);
	const char *left_group = group_of(left->rule);
	const char *right_group = group_of(right->rule);
	int order;

	if (left_section != right_section)
		return left_section < right_section ? -1 : 1;
	/* The group without a file goes last. */
	if (!left_group[0] != !right_group[0])
		return left_group[0] ? -1 : 1;
	order = strcmp(left_group, right_group);
	return order ? order : strcmp(left->text, right->text);
}

/* Points the index at the entries' places after they moved. */
static int reindex(struct baseline *baseline)
{
	string_map_fini(&baseline->index);
	string_map_init(&baseline->index);
	for (size_t i = 0; i < baseline->count; i++) {
		int err = string_map_put(&baseline->index,
					 baseline->entries[i].text, i);

		if (err)
			return err;
	}
	return 0;
}

static int sort_entries(struct baseline *baseline,
			struct policy_diagnostics *diagnostics)
{
	int err = baseline_canonicalize(baseline, diagnostics);

	if (err || baseline->count == 0)
		return err;
	qsort(baseline->entries, baseline->count, sizeof(*baseline->entries),
	      compare_entries);
	return reindex(baseline);
}

/* Writes a glob of a group heading as the text it matches, with control
 * bytes as \xNN, as in the examples. */
static void put_unescaped(FILE *out, const char *glob)
{
	for (; *glob; glob++) {
		unsigned char byte;

		if (*glob == '\\' && glob[1])
			glob++;
		byte = (unsigned char)*glob;
		if (byte < 0x20 || byte == 0x7f)
			fprintf(out, "\\x%02x", byte);
		else
			fputc(byte, out);
	}
}

static void put_heading(FILE *out, const struct baseline_entry *entry)
{
	const char *group = group_of(entry->rule);

	switch (section_of(entry->rule)) {
	case SECTION_PROGRAMS:
		fputs("# Programs started\n", out);
		return;
	case SECTION_MODULES:
		fputs("# Modules loaded\n", out);
		return;
	case SECTION_CALLS:
		break;
	}
	if (!group[0]) {
		fputs("# Calls from memory without a file\n", out);
		return;
	}
	fputs("# Calls from ", out);
	put_unescaped(out, group);
	fputc('\n', out);
}

static bool starts_new_group(const struct baseline_entry *entries, size_t i)
{
	return i == 0 ||
	       section_of(entries[i].rule) != section_of(entries[i - 1].rule) ||
	       strcmp(group_of(entries[i].rule),
		      group_of(entries[i - 1].rule)) != 0;
}

static const char *sighting_noun(const struct policy_rule *rule,
				 unsigned long count)
{
	bool singular = count == 1;

	switch (rule->event) {
	case EVENT_EXEC:
	case EVENT_FILELESS_EXEC:
		return singular ? "start" : "starts";
	case EVENT_MODULE_LOAD:
		return singular ? "load" : "loads";
	default:
		return singular ? "call" : "calls";
	}
}

/* Whether the token at text starts a matcher group that may start a line. */
static bool is_break_word(const char *text)
{
	static const char *const words[] = {
		"module",	 "build-id",	  "caller", "caller-build-id",
		"path",		 "file-build-id", "exe",    "origin",
		"caller-origin",
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		size_t length = strlen(words[i]);

		if (strncmp(text, words[i], length) == 0 && text[length] == ' ')
			return true;
	}
	return false;
}

/*
 * Returns the length of the group that starts at text: up to the blank
 * before the next break word outside a quoted string, or to the end.
 */
static size_t group_length(const char *text)
{
	bool quoted = false;
	size_t i;

	for (i = 0; text[i]; i++) {
		if (quoted && text[i] == '\\' && text[i + 1])
			i++;
		else if (text[i] == '"' &&
			 (quoted || i == 0 || text[i - 1] == ' '))
			/* As for the lexer, a quote inside a word is text. */
			quoted = !quoted;
		else if (!quoted && i > 0 && text[i] == ' ' &&
			 is_break_word(text + i + 1))
			break;
	}
	return i;
}

/*
 * Writes a statement, continued with a backslash on the next line before
 * a matcher group that would make the line longer than LINE_WIDTH. A tab
 * indents the continued lines and counts 8 columns.
 */
static void put_statement(FILE *out, const char *text)
{
	size_t column = 0;

	while (*text) {
		size_t length = group_length(text);

		if (column > 0 && column + length + 2 > LINE_WIDTH) {
			fputs(" \\\n\t", out);
			text++; /* the blank is now the line break */
			length--;
			column = 8;
		}
		fwrite(text, 1, length, out);
		column += length;
		text += length;
	}
	fputc('\n', out);
}

/*
 * Writes an example with control bytes as \xNN, so that a line break in it
 * cannot end the comment and start a statement.
 */
static void put_example(FILE *out, const char *example)
{
	for (; *example; example++) {
		unsigned char byte = (unsigned char)*example;

		if (byte < 0x20 || byte == 0x7f)
			fprintf(out, "\\x%02x", byte);
		else
			fputc(byte, out);
	}
}

static void put_entry(FILE *out, const struct baseline_entry *entry)
{
	fprintf(out, "# %lu %s", entry->count,
		sighting_noun(entry->rule, entry->count));
	if (entry->example) {
		fputs(", e.g. ", out);
		put_example(out, entry->example);
	}
	fputc('\n', out);
	put_statement(out, entry->text);
}

static void put_introduction(FILE *out, enum policy_mode mode)
{
	fputs("#\n"
	      "# Each rule allows or logs a call site, module or program that "
	      "learning\n"
	      "# saw, under the number of sightings and an example process. "
	      "`nativemon\n"
	      "# learn --append` and `nativemon policy merge` add runs, and "
	      "`nativemon\n"
	      "# policy diff` compares two baselines.\n",
	      out);
	if (mode == POLICY_MODE_UNSET)
		fputs("# The closing rules raise an alert on everything "
		      "else.\n",
		      out);
	else
		fputs("# The closing rules deny everything else; in monitor "
		      "mode they only\n"
		      "# report it as would-deny.\n",
		      out);
}

static void put_closing_rules(FILE *out, enum policy_mode mode)
{
	const char *action = mode == POLICY_MODE_UNSET ? "alert" : "deny";

	fputs("\n# Everything above was seen while learning; the rules below "
	      "match the\n"
	      "# rest. Module loads that the default policy raises an alert "
	      "on keep\n"
	      "# their own rules.\n",
	      out);
	for (size_t i = 0; i < ARRAY_SIZE(closing_rules); i++) {
		const struct closing_rule *rule = &closing_rules[i];

		fprintf(out, "%s %s", action, rule->head);
		if (rule->technique[0])
			fprintf(out, " technique %s", rule->technique);
		fprintf(out, " id %s \\\n\tname \"%s\"\n", rule->id,
			rule->name);
	}
}

static void put_baseline(const struct baseline *baseline,
			 const char *const *header, FILE *out)
{
	for (size_t i = 0; header && header[i]; i++)
		fprintf(out, "# %s\n", header[i]);
	put_introduction(out, baseline->mode);
	if (baseline->mode != POLICY_MODE_UNSET)
		fprintf(out, "\nmode %s\n", policy_mode_name(baseline->mode));
	for (size_t i = 0; i < baseline->count; i++) {
		if (starts_new_group(baseline->entries, i)) {
			fputc('\n', out);
			put_heading(out, &baseline->entries[i]);
		}
		put_entry(out, &baseline->entries[i]);
	}
	put_closing_rules(out, baseline->mode);
}

/*
 * Writes the baseline into memory first: a file that nativemon could not
 * load again must not replace a good one.
 */
int baseline_write(struct baseline *baseline, const char *const *header,
		   FILE *out, struct policy_diagnostics *diagnostics)
{
	char *text = NULL;
	size_t length = 0;
	FILE *memory;
	int err = sort_entries(baseline, diagnostics);

	if (err)
		return err;
	memory = open_memstream(&text, &length);
	if (!memory)
		return -ENOMEM;
	put_baseline(baseline, header, memory);
	if (fclose(memory) != 0) {
		free(text);
		return -ENOMEM;
	}
	if (length > POLICY_FILE_MAX)
		err = baseline_report(
			diagnostics, "<baseline>", 0,
			"the baseline has %zu bytes, more than the %u MiB "
			"that nativemon loads from one policy file; learn "
			"the programs of the application into separate "
			"baselines",
			length, POLICY_FILE_MAX >> 20);
	else if (fwrite(text, 1, length, out) != length || ferror(out))
		err = -EIO;
	free(text);
	return err;
}

static void put_change(FILE *out, char sign, const struct baseline_entry *entry,
		       const struct baseline_entry **last_heading)
{
	if (!*last_heading ||
	    section_of((*last_heading)->rule) != section_of(entry->rule) ||
	    strcmp(group_of((*last_heading)->rule), group_of(entry->rule))) {
		put_heading(out, entry);
		*last_heading = entry;
	}
	fprintf(out, "%c%s\n", sign, entry->text);
}

static long diff_modes(const struct baseline *old, const struct baseline *new,
		       FILE *out)
{
	if (old->mode == new->mode)
		return 0;
	if (old->mode != POLICY_MODE_UNSET)
		fprintf(out, "-mode %s\n", policy_mode_name(old->mode));
	if (new->mode != POLICY_MODE_UNSET)
		fprintf(out, "+mode %s\n", policy_mode_name(new->mode));
	return 1;
}

long baseline_diff(struct baseline *old, struct baseline *new, FILE *out,
		   struct policy_diagnostics *diagnostics)
{
	const struct baseline_entry *last_heading = NULL;
	size_t i = 0, j = 0;
	long changes;
	int err = sort_entries(old, diagnostics);

	if (err == 0)
		err = sort_entries(new, diagnostics);
	if (err)
		return err;
	changes = diff_modes(old, new, out);
	while (i < old->count || j < new->count) {
		int order;

		if (i == old->count)
			order = 1;
		else if (j == new->count)
			order = -1;
		else
			order = compare_entries(&old->entries[i],
						&new->entries[j]);
		if (order == 0) {
			i++;
			j++;
			continue;
		}
		if (order < 0)
			put_change(out, '-', &old->entries[i++], &last_heading);
		else
			put_change(out, '+', &new->entries[j++], &last_heading);
		changes++;
	}
	return ferror(out) ? -EIO : changes;
}
