/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing of rule statements: ACTION EVENT followed by matchers and
 * options, each a keyword and one value. A rule without an id or a name
 * gets both from its canonical text, so every loaded rule has them.
 */
#include "policy/internal.h"

#include <ctype.h>
#include <errno.h>
#include <sha2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rule_builder {
	struct policy_rule rule;
	uint32_t seen; /* bit per entry of rule_keys */
	bool has_severity;
};

struct rule_key;

typedef int parse_value_fn(struct parser *parser, struct rule_builder *builder,
			   const struct rule_key *key,
			   const struct token *value);

/* Flags of a rule key. */
#define KEY_OPTION (1u << 0)	  /* an option, not a matcher */
#define KEY_FILE_EVENTS (1u << 1) /* only with events that have a file */
#define KEY_INVERTED (1u << 2)	  /* yes means the fact is false */
#define KEY_LOAD_EVENT (1u << 3)  /* only with module-load */

struct rule_key {
	const char *name;
	parse_value_fn *parse;
	size_t field; /* of a glob list or tristate in struct policy_rule */
	unsigned int flags;
	unsigned int needs;   /* POLICY_NEEDS_* */
	const char *expected; /* the value, for "missing value" */
};

static int report_member(struct parser *parser, const struct token *value,
			 const char *what, const char *member,
			 const char *close, const char *valid)
{
	char shown[SHOWN_MAX];

	show_value(shown, member);
	if (close)
		return parser_report(parser, value,
				     "unknown %s '%s'; did you mean '%s'?",
				     what, shown, close);
	return parser_report(parser, value, "unknown %s '%s'; %s", what, shown,
			     valid);
}

static int check_syscall(struct parser *parser, const struct token *value,
			 const char *name)
{
	const char *close;
	int err;

	if (is_syscall_name(name))
		return 0;
	err = load_syscall_names(parser);
	if (err)
		return err;
	close = suggest_name(name, (const char *const *)parser->syscall_names,
			     parser->syscall_name_count);
	return report_member(parser, value, "syscall", name, close,
			     "valid names are those of the x86_64, i386 and "
			     "x32 syscall tables");
}

static int parse_syscalls(struct parser *parser, struct rule_builder *builder,
			  const struct rule_key *key, const struct token *value)
{
	char **names;
	int err = split_list(parser, value, &names);

	for (size_t i = 0; err == 0 && names[i]; i++)
		err = check_syscall(parser, value, names[i]);
	if (err) {
		free_list(names);
		return err;
	}
	builder->rule.syscalls = names;
	return 0;
}

/*
 * Parses a list of names into a bit set of their indexes in table. NULL
 * entries of table are not valid here, and valid lists the others for
 * messages.
 */
static int parse_bits(struct parser *parser, const struct token *value,
		      const char *what, const char *const *table, size_t count,
		      const char *valid, uint32_t *bits)
{
	char **members;
	int err = split_list(parser, value, &members);

	for (size_t i = 0; err == 0 && members[i]; i++) {
		int index = lookup_name(table, count, members[i]);

		if (index >= 0) {
			*bits |= 1u << index;
			continue;
		}
		err = report_member(parser, value, what, members[i],
				    suggest_name(members[i], table, count),
				    valid);
	}
	free_list(members);
	return err;
}

/* Parses origin kinds into the ORIGIN_BIT set at key->field. */
static int parse_origins(struct parser *parser, struct rule_builder *builder,
			 const struct rule_key *key, const struct token *value)
{
	uint32_t *bits = (uint32_t *)((char *)&builder->rule + key->field);
	const char *names[ORIGIN_KIND_COUNT];

	for (int kind = 0; kind < ORIGIN_KIND_COUNT; kind++)
		names[kind] = origin_kind_name(kind);
	return parse_bits(
		parser, value, "origin kind", names, ORIGIN_KIND_COUNT,
		"valid kinds are unknown, libc, loader, vdso, executable, "
		"library, anonymous, heap, stack, memfd and deleted",
		bits);
}

static int parse_file_kinds(struct parser *parser, struct rule_builder *builder,
			    const struct rule_key *key,
			    const struct token *value)
{
	const char *names[ORIGIN_KIND_COUNT] = {
		[ORIGIN_LIBRARY] = "library",
		[ORIGIN_MEMFD] = "memfd",
		[ORIGIN_DELETED] = "deleted",
	};

	return parse_bits(parser, value, "file kind", names, ORIGIN_KIND_COUNT,
			  "valid kinds are library, memfd and deleted",
			  &builder->rule.file_kinds);
}

static int parse_load_sources(struct parser *parser,
			      struct rule_builder *builder,
			      const struct rule_key *key,
			      const struct token *value)
{
	const char *names[LOAD_SOURCE_COUNT];

	for (int source = 0; source < LOAD_SOURCE_COUNT; source++)
		names[source] = load_source_name(source);
	return parse_bits(parser, value, "load source", names,
			  LOAD_SOURCE_COUNT,
			  "valid sources are unknown, loader, dlopen, dlmopen "
			  "and manual-map",
			  &builder->rule.load_sources);
}

static int parse_arches(struct parser *parser, struct rule_builder *builder,
			const struct rule_key *key, const struct token *value)
{
	const char *names[] = {
		[ABI_X86_64] = "x86_64",
		[ABI_I386] = "i386",
		[ABI_X32] = "x32",
	};

	return parse_bits(parser, value, "arch", names, ARRAY_SIZE(names),
			  "valid arches are x86_64, i386 and x32",
			  &builder->rule.abis);
}

static int parse_globs(struct parser *parser, struct rule_builder *builder,
		       const struct rule_key *key, const struct token *value)
{
	char **globs;
	int err = split_list(parser, value, &globs);

	if (err)
		return err;
	*(char ***)((char *)&builder->rule + key->field) = globs;
	return 0;
}

/* Parses a decimal number of at most max without sign or blanks. Returns
 * 0, -EINVAL when text is not such a number, or -ERANGE. */
static int parse_decimal(const char *text, uint64_t max, uint64_t *number)
{
	uint64_t value = 0;

	if (!*text)
		return -EINVAL;
	for (; *text; text++) {
		if (!isdigit((unsigned char)*text))
			return -EINVAL;
		if (value > (max - (uint64_t)(*text - '0')) / 10)
			return -ERANGE;
		value = value * 10 + (uint64_t)(*text - '0');
	}
	*number = value;
	return 0;
}

/* (uid_t)-1 means "no change" to setresuid(2), so no process has it. */
#define UID_MAX_VALID 4294967294u

static int parse_uid(struct parser *parser, const struct token *value,
		     const char *member, uid_t *uid)
{
	char shown[SHOWN_MAX];
	uint64_t number;
	int err = parse_decimal(member, UID_MAX_VALID, &number);

	show_value(shown, member);
	/* A name gets the command that finds its number; "-1" does not. */
	if (err == -EINVAL && isalpha((unsigned char)member[0]))
		return parser_report(parser, value,
				     "uid '%s' is not a number; use the user's "
				     "number, which 'id -u %s' prints",
				     shown, shown);
	if (err == -EINVAL)
		return parser_report(parser, value,
				     "uid '%s' is not a number; expected a "
				     "decimal number from 0 to %u",
				     shown, UID_MAX_VALID);
	if (err == -ERANGE)
		return parser_report(
			parser, value,
			"uid %s is out of range; uids go from 0 to %u", shown,
			UID_MAX_VALID);
	*uid = (uid_t)number;
	return 0;
}

static int parse_uids(struct parser *parser, struct rule_builder *builder,
		      const struct rule_key *key, const struct token *value)
{
	struct policy_rule *rule = &builder->rule;
	char **members;
	size_t count;
	int err = split_list(parser, value, &members);

	if (err)
		return err;
	count = list_length(members);
	rule->uids = calloc(count, sizeof(*rule->uids));
	if (!rule->uids)
		err = -ENOMEM;
	for (size_t i = 0; err == 0 && i < count; i++)
		err = parse_uid(parser, value, members[i], &rule->uids[i]);
	free_list(members);
	rule->uid_count = err ? 0 : count;
	return err;
}

/*
 * Parses a hexadecimal number with 0x or 0X before it, or a decimal
 * number: a leading 0 does not make an offset octal, as it would a watch
 * value. Returns 0, -EINVAL when text is not such a number, or -ERANGE.
 */
static int parse_offset_number(const char *text, uint64_t *number)
{
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		return parse_number(text, strlen(text), number);
	return parse_decimal(text, UINT64_MAX, number);
}

static int parse_offset(struct parser *parser, const struct rule_key *key,
			const struct token *value, const char *member,
			uint64_t *offset)
{
	char shown[SHOWN_MAX];
	int err = parse_offset_number(member, offset);

	show_value(shown, member);
	if (err == -EINVAL)
		return parser_report(parser, value,
				     "invalid offset '%s' for '%s'; expected a "
				     "hexadecimal number such as 0x1a40 or a "
				     "decimal number",
				     shown, key->name);
	if (err == -ERANGE)
		return parser_report(parser, value,
				     "offset %s for '%s' is out of range; "
				     "offsets go up to 0xffffffffffffffff",
				     shown, key->name);
	return 0;
}

static int parse_offsets(struct parser *parser, struct rule_builder *builder,
			 const struct rule_key *key, const struct token *value)
{
	struct policy_offsets *offsets =
		(struct policy_offsets *)((char *)&builder->rule + key->field);
	char **members;
	size_t count;
	int err = split_list(parser, value, &members);

	if (err)
		return err;
	count = list_length(members);
	offsets->values = calloc(count, sizeof(*offsets->values));
	if (!offsets->values)
		err = -ENOMEM;
	for (size_t i = 0; err == 0 && i < count; i++)
		err = parse_offset(parser, key, value, members[i],
				   &offsets->values[i]);
	free_list(members);
	offsets->count = err ? 0 : count;
	return err;
}

static int check_build_id(struct parser *parser, const struct rule_key *key,
			  const struct token *value)
{
	char shown[SHOWN_MAX];

	show_value(shown, value->text);
	if (value->length == 0)
		return parser_report(parser, value,
				     "an empty string is not a valid build-id");
	for (size_t i = 0; i < value->length; i++) {
		if (!isxdigit((unsigned char)value->text[i]))
			return parser_report(
				parser, value,
				"invalid value '%s' for '%s'; a build-id "
				"contains only hex digits, as readelf -n "
				"prints it",
				shown, key->name);
	}
	if (value->length > POLICY_BUILD_ID_HEX_MAX)
		return parser_report(parser, value,
				     "the build-id for '%s' has %zu hex "
				     "digits, but a build-id has at most %d",
				     key->name, value->length,
				     POLICY_BUILD_ID_HEX_MAX);
	if (value->length % 2 != 0)
		return parser_report(parser, value,
				     "invalid value '%s' for '%s'; a build-id "
				     "has an even number of hex digits, two "
				     "per byte",
				     shown, key->name);
	return 0;
}

/* Stores the build-id in lower case, as the supervisor writes facts. */
static int parse_build_id(struct parser *parser, struct rule_builder *builder,
			  const struct rule_key *key, const struct token *value)
{
	char **build_id = (char **)((char *)&builder->rule + key->field);
	int err = check_build_id(parser, key, value);

	if (err)
		return err;
	*build_id = strdup(value->text);
	if (!*build_id)
		return -ENOMEM;
	for (char *digit = *build_id; *digit; digit++)
		*digit = (char)tolower((unsigned char)*digit);
	return 0;
}

static int parse_tristate(struct parser *parser, struct rule_builder *builder,
			  const struct rule_key *key, const struct token *value)
{
	enum policy_tristate *tristate =
		(enum policy_tristate *)((char *)&builder->rule + key->field);
	char shown[SHOWN_MAX];
	bool yes;

	if (strcmp(value->text, "yes") == 0) {
		yes = true;
	} else if (strcmp(value->text, "no") == 0) {
		yes = false;
	} else {
		return parser_report(
			parser, value,
			"invalid value '%s' for '%s'; expected yes or no",
			show_value(shown, value->text), key->name);
	}

	if (key->flags & KEY_INVERTED)
		yes = !yes;
	*tristate = yes ? POLICY_YES : POLICY_NO;
	return 0;
}

static int parse_severity(struct parser *parser, struct rule_builder *builder,
			  const struct rule_key *key, const struct token *value)
{
	char shown[SHOWN_MAX];
	uint64_t severity;
	int err = parse_decimal(value->text, 100, &severity);

	show_value(shown, value->text);
	if (err == -EINVAL)
		return parser_report(
			parser, value,
			"severity '%s' is not a number; use 0 to 100", shown);
	if (err == -ERANGE)
		return parser_report(
			parser, value,
			"severity %s is out of range; use 0 to 100", shown);
	builder->rule.severity = (int)severity;
	builder->has_severity = true;
	return 0;
}

static int ensure_ids(struct parser *parser)
{
	const struct policy *policy = parser->policy;

	if (parser->ids_ready)
		return 0;
	for (size_t i = 0; i < policy->rule_count; i++) {
		int err;

		if (!policy->rules[i].id)
			continue;
		err = string_map_put(&parser->ids, policy->rules[i].id, i);
		if (err)
			return err;
	}
	parser->ids_ready = true;
	return 0;
}

static bool is_id_byte(char byte)
{
	return isalnum((unsigned char)byte) || byte == '.' || byte == '_' ||
	       byte == '-';
}

static int parse_id(struct parser *parser, struct rule_builder *builder,
		    const struct rule_key *key, const struct token *value)
{
	const struct policy_rule *first;
	char shown[SHOWN_MAX], file[SHOWN_MAX];
	size_t index;
	int err;

	show_value(shown, value->text);
	for (const char *byte = value->text; *byte; byte++) {
		if (!is_id_byte(*byte))
			return parser_report(
				parser, value,
				"invalid id '%s'; an id may contain only "
				"letters, digits, '.', '_' and '-'",
				shown);
	}
	if (value->length == 0)
		return parser_report(parser, value,
				     "an empty string is not a valid id");

	err = ensure_ids(parser);
	if (err)
		return err;
	if (string_map_get(&parser->ids, value->text, &index)) {
		first = &parser->policy->rules[index];
		return parser_report(
			parser, value,
			"duplicate id '%s'; the rule at %s:%u already has it",
			shown, show_value(file, first->location.file),
			first->location.line);
	}

	builder->rule.id = strdup(value->text);
	return builder->rule.id ? 0 : -ENOMEM;
}

static int parse_errno(struct parser *parser, struct rule_builder *builder,
		       const struct rule_key *key, const struct token *value)
{
	int error;

	if (builder->rule.action != POLICY_DENY)
		return parser_report(
			parser, value,
			"errno applies only to deny rules, not to %s rules",
			policy_action_name(builder->rule.action));

	error = lookup_errno(value->text);
	if (error < 0)
		return report_member(
			parser, value, "errno name", value->text,
			suggest_errno(value->text),
			"use a name from errno(3) such as EPERM or EACCES");
	builder->rule.deny_errno = error;
	return 0;
}

static int parse_name(struct parser *parser, struct rule_builder *builder,
		      const struct rule_key *key, const struct token *value)
{
	if (value->length == 0)
		return parser_report(parser, value,
				     "an empty string is not a valid name");
	builder->rule.name = strdup(value->text);
	return builder->rule.name ? 0 : -ENOMEM;
}

/* An ATT&CK technique id: T and four digits, then optionally a dot and
 * the three digits of a sub-technique. */
static bool is_technique(const char *text)
{
	size_t length = strlen(text);

	if ((length != 5 && length != 9) || text[0] != 'T')
		return false;
	for (size_t i = 1; i < length; i++) {
		if (i == 5 ? text[i] != '.' : !isdigit((unsigned char)text[i]))
			return false;
	}
	return true;
}

static int parse_techniques(struct parser *parser, struct rule_builder *builder,
			    const struct rule_key *key,
			    const struct token *value)
{
	char shown[SHOWN_MAX];
	char **members;
	int err = split_list(parser, value, &members);

	for (size_t i = 0; err == 0 && members[i]; i++) {
		if (!is_technique(members[i]))
			err = parser_report(
				parser, value,
				"invalid technique '%s'; ATT&CK technique ids "
				"look like T1055 or T1055.012",
				show_value(shown, members[i]));
	}
	free_list(members);
	if (err)
		return err;

	builder->rule.techniques = strdup(value->text);
	return builder->rule.techniques ? 0 : -ENOMEM;
}

#define FIELD(name) offsetof(struct policy_rule, name)
#define GLOBS "a glob or a comma-separated list of globs"
#define YES_OR_NO "yes or no"
#define OFFSETS "an offset or a comma-separated list of offsets"
#define BUILD_ID "a build-id in hex digits"
#define ORIGINS "an origin kind or a comma-separated list of them"

/* In the order of the man page; the index of each entry is its bit in
 * rule_builder.seen. */
static const struct rule_key rule_keys[] = {
	{ "syscall", parse_syscalls, 0, 0, 0,
	  "a syscall name or a comma-separated list of them" },
	{ "origin", parse_origins, FIELD(origins), 0, 0, ORIGINS },
	{ "module", parse_globs, FIELD(modules), 0, 0, GLOBS },
	{ "offset", parse_offsets, FIELD(offsets), 0, 0, OFFSETS },
	{ "build-id", parse_build_id, FIELD(build_id), 0, POLICY_NEEDS_BUILD_ID,
	  BUILD_ID },
	{ "caller", parse_globs, FIELD(callers), 0, POLICY_NEEDS_CALLER,
	  GLOBS },
	{ "caller-offset", parse_offsets, FIELD(caller_offsets), 0,
	  POLICY_NEEDS_CALLER, OFFSETS },
	{ "caller-build-id", parse_build_id, FIELD(caller_build_id), 0,
	  POLICY_NEEDS_CALLER | POLICY_NEEDS_CALLER_BUILD_ID, BUILD_ID },
	{ "caller-origin", parse_origins, FIELD(caller_origins), 0,
	  POLICY_NEEDS_CALLER, ORIGINS },
	{ "path", parse_globs, FIELD(paths), KEY_FILE_EVENTS, 0, GLOBS },
	{ "file-build-id", parse_build_id, FIELD(file_build_id),
	  KEY_FILE_EVENTS, POLICY_NEEDS_FILE_BUILD_ID, BUILD_ID },
	{ "exe", parse_globs, FIELD(exes), 0, 0, GLOBS },
	{ "ancestor", parse_globs, FIELD(ancestors), 0, POLICY_NEEDS_ANCESTRY,
	  GLOBS },
	{ "uid", parse_uids, 0, 0, POLICY_NEEDS_UID,
	  "a uid number or a comma-separated list of them" },
	{ "arch", parse_arches, 0, 0, 0, "x86_64, i386 or x32" },
	{ "file", parse_file_kinds, 0, KEY_FILE_EVENTS, 0,
	  "library, memfd or deleted" },
	{ "source", parse_load_sources, 0, KEY_LOAD_EVENT, 0,
	  "loader, dlopen, dlmopen, manual-map or unknown" },
	{ "writable-dir", parse_tristate, FIELD(writable_dir), 0, 0,
	  YES_OR_NO },
	{ "path-known", parse_tristate, FIELD(path_unknown), KEY_INVERTED, 0,
	  YES_OR_NO },
	{ "has-libc", parse_tristate, FIELD(libc_mapped), 0, 0, YES_OR_NO },
	{ "program-arch", parse_tristate, FIELD(program_abi), 0, 0, YES_OR_NO },
	{ "severity", parse_severity, 0, KEY_OPTION, 0,
	  "a number from 0 to 100" },
	{ "id", parse_id, 0, KEY_OPTION, 0,
	  "an id of letters, digits, '.', '_' and '-'" },
	{ "errno", parse_errno, 0, KEY_OPTION, 0,
	  "an errno name such as EPERM" },
	{ "name", parse_name, 0, KEY_OPTION, 0, "a string" },
	{ "technique", parse_techniques, 0, KEY_OPTION, 0,
	  "ATT&CK technique ids such as T1055 or T1055.012" },
};

_Static_assert(ARRAY_SIZE(rule_keys) <= 32,
	       "rule_builder.seen has one bit per entry of rule_keys");

static bool has_file(enum policy_event event)
{
	return event == EVENT_MODULE_LOAD || event == EVENT_EXEC ||
	       event == EVENT_FILELESS_EXEC;
}

static int report_unknown_key(struct parser *parser, const struct token *token)
{
	const char *names[ARRAY_SIZE(rule_keys)];
	char shown[SHOWN_MAX];
	const char *close;

	for (size_t i = 0; i < ARRAY_SIZE(rule_keys); i++)
		names[i] = rule_keys[i].name;
	close = suggest_name(token->text, names, ARRAY_SIZE(names));

	show_value(shown, token->text);
	if (close)
		return parser_report(
			parser, token,
			"unknown matcher or option '%s'; did you mean '%s'?",
			shown, close);
	return parser_report(
		parser, token,
		"unknown matcher or option '%s'; matchers are syscall, origin, "
		"module, offset, build-id, caller, caller-offset, "
		"caller-build-id, caller-origin, path, file-build-id, exe, "
		"ancestor, uid, arch, file, source, writable-dir, path-known, "
		"has-libc and program-arch, and options are severity, id, "
		"errno, name and technique",
		shown);
}

/* Checks what a key allows before its value is parsed. */
static int check_key(struct parser *parser, const struct rule_builder *builder,
		     const struct token *token, size_t index)
{
	const struct rule_key *key = &rule_keys[index];

	if ((builder->seen & (1u << index)) && (key->flags & KEY_OPTION))
		return parser_report(
			parser, token,
			"duplicate option '%s'; a rule takes each option once",
			key->name);
	if ((builder->seen & (1u << index)) && key->parse == parse_build_id)
		return parser_report(parser, token,
				     "duplicate matcher '%s'; it takes one "
				     "build-id, so write one rule per build-id",
				     key->name);
	if (builder->seen & (1u << index))
		return parser_report(parser, token,
				     "duplicate matcher '%s'; give it once "
				     "with a comma-separated list of values",
				     key->name);
	if ((key->flags & KEY_FILE_EVENTS) && !has_file(builder->rule.event))
		return parser_report(parser, token,
				     "'%s' applies only to module-load, exec "
				     "and fileless-exec rules, not to %s rules",
				     key->name,
				     policy_event_name(builder->rule.event));
	if ((key->flags & KEY_LOAD_EVENT) &&
	    builder->rule.event != EVENT_MODULE_LOAD)
		return parser_report(parser, token,
				     "'%s' applies only to module-load rules, "
				     "not to %s rules",
				     key->name,
				     policy_event_name(builder->rule.event));
	return 0;
}

/* Parses one KEY VALUE pair at tokens[*next] and moves *next past it. */
static int parse_pair(struct parser *parser, struct rule_builder *builder,
		      const struct token *tokens, size_t count, size_t *next)
{
	const struct token *token = &tokens[*next];
	int index = -1;
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(rule_keys); i++) {
		if (strcmp(rule_keys[i].name, token->text) == 0)
			index = (int)i;
	}
	if (index < 0)
		return report_unknown_key(parser, token);

	err = check_key(parser, builder, token, (size_t)index);
	if (err)
		return err;
	if (*next + 1 == count)
		return parser_report(parser, token,
				     "missing value after '%s'; expected %s",
				     token->text, rule_keys[index].expected);

	err = rule_keys[index].parse(parser, builder, &rule_keys[index],
				     &tokens[*next + 1]);
	if (err)
		return err;
	builder->seen |= 1u << index;
	*next += 2;
	return 0;
}

static int report_unknown_event(struct parser *parser,
				const struct token *token)
{
	const char *names[EVENT_COUNT + 1];
	char shown[SHOWN_MAX];
	const char *close;

	memcpy(names, policy_event_names, sizeof(policy_event_names));
	names[EVENT_COUNT] = "syscall";
	close = suggest_name(token->text, names, ARRAY_SIZE(names));

	show_value(shown, token->text);
	if (close)
		return parser_report(parser, token,
				     "unknown event '%s'; did you mean '%s'?",
				     shown, close);
	return parser_report(
		parser, token,
		"unknown event '%s'; events are direct-syscall, "
		"unbacked-caller, non-native-abi, fileless-exec, module-load, "
		"stack-pivot, exec and native-api, or write syscall NAMES",
		shown);
}

/* Parses ACTION EVENT, or ACTION syscall NAMES, and sets *next to the
 * first token after them. */
static int parse_head(struct parser *parser, struct rule_builder *builder,
		      const struct token *tokens, size_t count, size_t *next)
{
	struct policy_rule *rule = &builder->rule;
	int event;

	rule->action = lookup_name(policy_action_names, policy_action_count,
				   tokens[0].text);
	rule->location.file = parser->stack[parser->depth - 1].name;
	rule->location.line = tokens[0].line;
	if (count < 2)
		return parser_report(
			parser, &tokens[0],
			"missing event after '%s'; write an event such as "
			"direct-syscall or exec, or syscall NAMES",
			tokens[0].text);

	if (strcmp(tokens[1].text, "syscall") == 0) {
		rule->event = EVENT_NATIVE_API;
		*next = 1;
		return parse_pair(parser, builder, tokens, count, next);
	}

	event = lookup_name(policy_event_names, EVENT_COUNT, tokens[1].text);
	if (event < 0)
		return report_unknown_event(parser, &tokens[1]);
	rule->event = event;
	*next = 2;
	return 0;
}

/* Derives an id from the SHA-256 of the rule's canonical text. A later
 * rule with the same text gets the same id with "-2", "-3" and so on. */
static int derive_id(struct parser *parser, struct policy_rule *rule,
		     const char *text)
{
	char digest[SHA256_DIGEST_STRING_LENGTH];
	char base[16], *id;
	size_t index, suffix = 2;
	const char *key;
	int err;

	SHA256Data((const uint8_t *)text, strlen(text), digest);
	snprintf(base, sizeof(base), "p-%.12s", digest);
	rule->default_id = true;
	if (!string_map_get(&parser->ids, base, &index)) {
		rule->id = strdup(base);
		return rule->id ? 0 : -ENOMEM;
	}

	/* The map's keys must outlive it, so the key of the counter is the
	 * id string of the rule that has the base id. */
	key = parser->policy->rules[index].id;
	string_map_get(&parser->id_suffixes, key, &suffix);
	for (;; suffix++) {
		if (asprintf(&id, "%s-%zu", base, suffix) < 0)
			return -ENOMEM;
		if (!string_map_get(&parser->ids, id, &index))
			break;
		free(id);
	}

	err = string_map_put(&parser->id_suffixes, key, suffix + 1);
	if (err) {
		free(id);
		return err;
	}
	rule->id = id;
	return 0;
}

static char *format_canonical(const struct policy_rule *rule)
{
	int length = format_rule(rule, false, NULL, 0);
	char *text;

	if (length < 0)
		return NULL;
	text = malloc((size_t)length + 1);
	if (text)
		format_rule(rule, false, text, (size_t)length + 1);
	return text;
}

/* Fills in the defaults: severity, errno, techniques, name and id. */
static int complete_rule(struct parser *parser, struct rule_builder *builder)
{
	struct policy_rule *rule = &builder->rule;
	char *canonical;
	int err = 0;

	if (!builder->has_severity)
		rule->severity = default_severity(rule->action);
	if (rule->action == POLICY_DENY && rule->deny_errno == 0)
		rule->deny_errno = EPERM;
	if (!rule->techniques)
		rule->techniques = strdup("");
	if (!rule->techniques)
		return -ENOMEM;

	canonical = format_canonical(rule);
	if (!canonical)
		return -ENOMEM;
	if (!rule->id)
		err = derive_id(parser, rule, canonical);
	if (err == 0 && !rule->name) {
		rule->name = canonical;
		rule->default_name = true;
		canonical = NULL;
	}
	free(canonical);
	return err;
}

static int add_rule(struct parser *parser, struct policy_rule *rule,
		    unsigned int needs)
{
	struct policy *policy = parser->policy;
	size_t index = policy->rule_count;
	int err;

	if (policy->rule_count == policy->rule_capacity) {
		size_t grown =
			policy->rule_capacity ? policy->rule_capacity * 2 : 16;
		struct policy_rule *rules =
			reallocarray(policy->rules, grown, sizeof(*rules));

		if (!rules)
			return -ENOMEM;
		policy->rules = rules;
		policy->rule_capacity = grown;
	}

	err = string_map_put(&parser->ids, rule->id, index);
	if (err)
		return err;
	policy->rules[index] = *rule;
	policy->rule_count++;
	policy->needs |= needs;
	memset(rule, 0, sizeof(*rule));
	return 0;
}

static unsigned int rule_needs(uint32_t seen)
{
	unsigned int needs = 0;

	for (size_t i = 0; i < ARRAY_SIZE(rule_keys); i++) {
		if (seen & (1u << i))
			needs |= rule_keys[i].needs;
	}
	return needs;
}

int parse_rule(struct parser *parser, const struct token *tokens, size_t count)
{
	struct rule_builder builder;
	size_t next = 0;
	int err;

	memset(&builder, 0, sizeof(builder));
	err = ensure_ids(parser);
	if (err == 0)
		err = parse_head(parser, &builder, tokens, count, &next);
	while (err == 0 && next < count)
		err = parse_pair(parser, &builder, tokens, count, &next);

	if (err == 0)
		err = complete_rule(parser, &builder);
	if (err == 0)
		err = add_rule(parser, &builder.rule, rule_needs(builder.seen));
	policy_rule_fini(&builder.rule);
	return err;
}
