/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Formatting rules and watches as statements of the policy language, for
 * `policy show` and for the canonical text that names and ids of rules
 * derive from. Parsing the output gives back the same rule or watch.
 */
#include "policy/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Output into a buffer of size bytes, counting what does not fit, as
 * snprintf(3) does. */
struct writer {
	char *buffer;
	size_t size;
	size_t length;
};

static void put_bytes(struct writer *writer, const char *text, size_t length)
{
	if (writer->length < writer->size) {
		size_t room = writer->size - writer->length - 1;
		size_t copied = length < room ? length : room;

		memcpy(writer->buffer + writer->length, text, copied);
		writer->buffer[writer->length + copied] = '\0';
	}
	writer->length += length;
}

static void put(struct writer *writer, const char *text)
{
	put_bytes(writer, text, strlen(text));
}

static void put_quoted(struct writer *writer, const char *text)
{
	put(writer, "\"");
	for (; *text; text++) {
		if (*text == '"' || *text == '\\')
			put(writer, "\\");
		put_bytes(writer, text, 1);
	}
	put(writer, "\"");
}

/*
 * Whether a single value must be quoted to read back as itself. A word
 * cannot be empty or contain blanks, and a list member cannot contain a
 * comma. A word starting with '"' or '#' would start a string or a
 * comment, and a backslash at the end of a line joins the next line.
 */
static bool needs_quotes(const char *text)
{
	size_t length = strlen(text);

	return length == 0 || text[0] == '"' || text[0] == '#' ||
	       text[length - 1] == '\\' || strpbrk(text, " \t\n,");
}

/*
 * Writes " keyword value" for a list. The parser makes a list of several
 * members only from a word, whose members never need quotes, and a quoted
 * string is always one member.
 * NOTE: a list of several members built in C whose last member ends with
 * a backslash reads back joined with the next line when it ends the line.
 */
static void put_list(struct writer *writer, const char *keyword,
		     char *const *list)
{
	if (!list || !list[0])
		return;

	put(writer, " ");
	put(writer, keyword);
	put(writer, " ");
	if (!list[1] && needs_quotes(list[0])) {
		put_quoted(writer, list[0]);
		return;
	}
	for (size_t i = 0; list[i]; i++) {
		if (i > 0)
			put(writer, ",");
		put(writer, list[i]);
	}
}

static void put_bits(struct writer *writer, const char *keyword, uint32_t bits,
		     const char *(*name)(unsigned int), unsigned int count)
{
	bool first = true;

	if (bits == 0)
		return;
	put(writer, " ");
	put(writer, keyword);
	put(writer, " ");
	for (unsigned int i = 0; i < count; i++) {
		if (!(bits & (1u << i)))
			continue;
		if (!first)
			put(writer, ",");
		put(writer, name(i));
		first = false;
	}
}

static const char *kind_name(unsigned int kind)
{
	return origin_kind_name((enum origin_kind)kind);
}

static const char *source_name(unsigned int source)
{
	return load_source_name((enum load_source)source);
}

static const char *arch_name(unsigned int abi)
{
	return abi_name((enum abi)abi);
}

static void put_tristate(struct writer *writer, const char *keyword,
			 enum policy_tristate tristate, bool inverted)
{
	bool yes = tristate == POLICY_YES;

	if (tristate == POLICY_ANY)
		return;
	if (inverted)
		yes = !yes;
	put(writer, " ");
	put(writer, keyword);
	put(writer, yes ? " yes" : " no");
}

static void put_uids(struct writer *writer, const struct policy_rule *rule)
{
	char number[16];

	if (rule->uid_count == 0)
		return;
	put(writer, " uid ");
	for (size_t i = 0; i < rule->uid_count; i++) {
		snprintf(number, sizeof(number), "%s%u", i ? "," : "",
			 (unsigned int)rule->uids[i]);
		put(writer, number);
	}
}

static void put_offsets(struct writer *writer, const char *keyword,
			const struct policy_offsets *offsets)
{
	char number[24];

	if (offsets->count == 0)
		return;
	put(writer, " ");
	put(writer, keyword);
	put(writer, " ");
	for (size_t i = 0; i < offsets->count; i++) {
		snprintf(number, sizeof(number), "%s0x%" PRIx64, i ? "," : "",
			 offsets->values[i]);
		put(writer, number);
	}
}

static void put_word(struct writer *writer, const char *keyword,
		     const char *word)
{
	if (!word)
		return;
	put(writer, " ");
	put(writer, keyword);
	put(writer, " ");
	put(writer, word);
}

static void put_matchers(struct writer *writer, const struct policy_rule *rule)
{
	put_list(writer, "syscall", rule->syscalls);
	put_bits(writer, "origin", rule->origins, kind_name, ORIGIN_KIND_COUNT);
	put_list(writer, "module", rule->modules);
	put_offsets(writer, "offset", &rule->offsets);
	put_word(writer, "build-id", rule->build_id);
	put_list(writer, "caller", rule->callers);
	put_offsets(writer, "caller-offset", &rule->caller_offsets);
	put_word(writer, "caller-build-id", rule->caller_build_id);
	put_bits(writer, "caller-origin", rule->caller_origins, kind_name,
		 ORIGIN_KIND_COUNT);
	put_list(writer, "path", rule->paths);
	put_word(writer, "file-build-id", rule->file_build_id);
	put_list(writer, "exe", rule->exes);
	put_list(writer, "ancestor", rule->ancestors);
	put_uids(writer, rule);
	put_bits(writer, "arch", rule->abis, arch_name, ABI_UNKNOWN);
	put_bits(writer, "file", rule->file_kinds, kind_name,
		 ORIGIN_KIND_COUNT);
	put_bits(writer, "source", rule->load_sources, source_name,
		 LOAD_SOURCE_COUNT);
	put_tristate(writer, "writable-dir", rule->writable_dir, false);
	put_tristate(writer, "path-known", rule->path_unknown, true);
	put_tristate(writer, "has-libc", rule->libc_mapped, false);
	put_tristate(writer, "program-arch", rule->program_abi, false);
}

/* The parts of a rule's identity, id and name, that a format writes. */
enum identity {
	IDENTITY_NONE,
	IDENTITY_ALL,	  /* the id, derived or not, and a given name */
	IDENTITY_WRITTEN, /* a given id and a given name */
};

/* Writes the options that differ from their defaults. */
static void put_options(struct writer *writer, const struct policy_rule *rule,
			enum identity identity)
{
	char number[32];

	if (rule->severity != default_severity(rule->action)) {
		snprintf(number, sizeof(number), " severity %d",
			 rule->severity);
		put(writer, number);
	}
	if (rule->action == POLICY_DENY && rule->deny_errno != EPERM) {
		const char *name = errno_name(rule->deny_errno);

		if (name) {
			put(writer, " errno ");
			put(writer, name);
		} else {
			snprintf(number, sizeof(number), " errno %d",
				 rule->deny_errno);
			put(writer, number);
		}
	}
	if (rule->techniques && rule->techniques[0]) {
		put(writer, " technique ");
		put(writer, rule->techniques);
	}
	if (identity == IDENTITY_NONE)
		return;
	if (rule->id && !(identity == IDENTITY_WRITTEN && rule->default_id)) {
		put(writer, " id ");
		put(writer, rule->id);
	}
	if (rule->name && !rule->default_name) {
		put(writer, " name ");
		put_quoted(writer, rule->name);
	}
}

static int finish(const struct writer *writer)
{
	if (writer->length > INT_MAX)
		return -EOVERFLOW;
	return (int)writer->length;
}

static int format_rule_identity(const struct policy_rule *rule,
				enum identity identity, char *buffer,
				size_t size)
{
	struct writer writer = { buffer, size, 0 };

	if (size > 0)
		buffer[0] = '\0';
	put(&writer, policy_action_name(rule->action));
	put(&writer, " ");
	put(&writer, policy_event_name(rule->event));
	put_matchers(&writer, rule);
	put_options(&writer, rule, identity);
	return finish(&writer);
}

/* Formats the rule, without id and name unless with_identity is set. */
int format_rule(const struct policy_rule *rule, bool with_identity,
		char *buffer, size_t size)
{
	return format_rule_identity(
		rule, with_identity ? IDENTITY_ALL : IDENTITY_NONE, buffer,
		size);
}

int policy_rule_format(const struct policy_rule *rule, char *buffer,
		       size_t size)
{
	return format_rule(rule, true, buffer, size);
}

int policy_rule_format_written(const struct policy_rule *rule, char *buffer,
			       size_t size)
{
	return format_rule_identity(rule, IDENTITY_WRITTEN, buffer, size);
}

size_t policy_glob_escape(const char *text, char *buffer, size_t size)
{
	struct writer writer = { buffer, size, 0 };

	if (size > 0)
		buffer[0] = '\0';
	for (; *text; text++) {
		if (strchr("*?[]\\", *text))
			put(&writer, "\\");
		put_bytes(&writer, text, 1);
	}
	return writer.length;
}

static const char *const compare_operators[] = {
	[POLICY_MASK_ANY] = "&", [POLICY_MASK_EQ] = "&", [POLICY_EQ] = "==",
	[POLICY_NE] = "!=",	 [POLICY_LT] = "<",	 [POLICY_LE] = "<=",
	[POLICY_GT] = ">",	 [POLICY_GE] = ">=",
};

/* Room for every constant of one prefix joined with '|'. */
#define CONSTANTS_TEXT_MAX 1024

/* Writes a number of a watch condition, with the argument's constants
 * when they express it exactly. */
static void put_number(struct writer *writer, const struct policy_watch *watch,
		       uint64_t number, bool mask)
{
	char text[CONSTANTS_TEXT_MAX];
	bool flags = false;
	const char *prefix =
		argument_constant_prefix(watch->syscall, watch->arg, &flags);

	if (prefix &&
	    format_constants(prefix, number, flags, text, sizeof(text)) > 0) {
		put(writer, text);
		return;
	}
	if (mask || flags)
		snprintf(text, sizeof(text), "0x%" PRIx64, number);
	else
		snprintf(text, sizeof(text), "%" PRIu64, number);
	put(writer, text);
}

static void put_condition(struct writer *writer,
			  const struct policy_watch *watch)
{
	const char *argument =
		syscall_argument_name(watch->syscall, watch->arg);
	char generic[16];

	if (!argument) {
		snprintf(generic, sizeof(generic), "arg%u", watch->arg);
		argument = generic;
	}
	put(writer, " if ");
	put(writer, argument);
	put(writer, " ");
	put(writer, compare_operators[watch->compare]);
	put(writer, " ");

	if (watch->compare == POLICY_MASK_ANY ||
	    watch->compare == POLICY_MASK_EQ)
		put_number(writer, watch, watch->mask, true);
	if (watch->compare == POLICY_MASK_EQ)
		put(writer, " == ");
	if (watch->compare != POLICY_MASK_ANY)
		put_number(writer, watch, watch->value,
			   watch->compare == POLICY_MASK_EQ);
}

int policy_watch_format(const struct policy_watch *watch, char *buffer,
			size_t size)
{
	struct writer writer = { buffer, size, 0 };

	if (size > 0)
		buffer[0] = '\0';
	put(&writer, "watch ");
	put(&writer, watch->syscall);
	if (watch->compare != POLICY_ALWAYS &&
	    (unsigned int)watch->compare < ARRAY_SIZE(compare_operators))
		put_condition(&writer, watch);
	return finish(&writer);
}
