/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing of watch statements:
 *
 *	watch SYSCALL[,SYSCALL...] [if ARG OP VALUE]
 *	watch SYSCALL[,SYSCALL...] if ARG & MASK == VALUE
 *
 * Each listed syscall becomes one entry of the watch set with the same
 * condition, which the supervisor compiles into its seccomp filter.
 */
#include "policy/internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct condition {
	enum policy_compare compare;
	unsigned int arg;
	uint64_t mask, value;
};

static int check_watch_syscall(struct parser *parser, const struct token *value,
			       const char *name, int *nr)
{
	char shown[SHOWN_MAX];
	const char *close;
	int err;

	*nr = native_syscall_nr(name);
	if (*nr >= 0)
		return 0;

	show_value(shown, name);
	if (is_compat_syscall_name(name))
		return parser_report(
			parser, value,
			"syscall '%s' exists only in the i386 or x32 ABI, and "
			"every i386 and x32 syscall reaches the supervisor "
			"anyway; watch takes x86_64 syscalls",
			shown);

	err = load_syscall_names(parser);
	if (err)
		return err;
	close = suggest_name(name, (const char *const *)parser->syscall_names,
			     parser->native_name_count);
	if (close)
		return parser_report(parser, value,
				     "unknown syscall '%s'; did you mean '%s'?",
				     shown, close);
	return parser_report(parser, value,
			     "unknown syscall '%s'; watch takes names from the "
			     "x86_64 syscall table",
			     shown);
}

/* Parses "argN" into *index; returns false when text is not of that form. */
static bool parse_generic_argument(const char *text, unsigned int *index)
{
	if (strncmp(text, "arg", 3) != 0 || !isdigit((unsigned char)text[3]))
		return false;
	for (const char *digit = text + 3; *digit; digit++) {
		if (!isdigit((unsigned char)*digit))
			return false;
	}
	*index = strlen(text + 3) > 2 ? 99 : (unsigned int)atoi(text + 3);
	return true;
}

static int report_unknown_argument(struct parser *parser,
				   const struct token *token,
				   const char *syscall)
{
	const char *names[6];
	size_t count = syscall_argument_names(syscall, names);
	const char *close = suggest_name(token->text, names, count);
	char shown[SHOWN_MAX];

	show_value(shown, token->text);
	if (count == 0)
		return parser_report(parser, token,
				     "the argument names of %s are not known; "
				     "write arg0 to arg5 for '%s'",
				     syscall, shown);
	if (close)
		return parser_report(
			parser, token,
			"%s has no argument '%s'; did you mean '%s'?", syscall,
			shown, close);
	return parser_report(parser, token,
			     "%s has no argument '%s'; write one of its "
			     "argument names or arg0 to arg5",
			     syscall, shown);
}

/*
 * Resolves ARG for every listed syscall. arg0 to arg5 always mean the
 * seccomp argument index. A name must have the same index in all of the
 * syscalls, because one statement has one condition.
 */
static int parse_argument(struct parser *parser, const struct token *token,
			  char *const *syscalls, unsigned int *arg)
{
	char shown[SHOWN_MAX];
	int first = -1;

	if (parse_generic_argument(token->text, arg)) {
		if (*arg <= 5)
			return 0;
		return parser_report(parser, token,
				     "argument index '%s' is out of range; "
				     "seccomp sees arguments arg0 to arg5",
				     show_value(shown, token->text));
	}

	for (size_t i = 0; syscalls[i]; i++) {
		int index = syscall_argument_index(syscalls[i], token->text);

		if (index < 0)
			return report_unknown_argument(parser, token,
						       syscalls[i]);
		if (first >= 0 && index != first)
			return parser_report(parser, token,
					     "argument '%s' is arg%d of %s but "
					     "arg%d of %s; split the statement "
					     "into one watch per syscall",
					     show_value(shown, token->text),
					     first, syscalls[0], index,
					     syscalls[i]);
		first = index;
	}
	*arg = (unsigned int)first;
	return 0;
}

static const struct operator
{
	const char *text;
	enum policy_compare compare;
}
operators[] = {
	{ "&", POLICY_MASK_ANY }, { "==", POLICY_EQ }, { "!=", POLICY_NE },
	{ "<", POLICY_LT },	  { "<=", POLICY_LE }, { ">", POLICY_GT },
	{ ">=", POLICY_GE },
};

static int parse_operator(struct parser *parser, const struct token *token,
			  enum policy_compare *compare)
{
	char shown[SHOWN_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(operators); i++) {
		if (strcmp(operators[i].text, token->text) == 0) {
			*compare = operators[i].compare;
			return 0;
		}
	}
	return parser_report(
		parser, token,
		"invalid operator '%s'; use &, ==, !=, <, <=, > or >=",
		show_value(shown, token->text));
}

static int digit_value(char digit)
{
	if (digit >= '0' && digit <= '9')
		return digit - '0';
	if (digit >= 'a' && digit <= 'f')
		return digit - 'a' + 10;
	if (digit >= 'A' && digit <= 'F')
		return digit - 'A' + 10;
	return 99;
}

int parse_number(const char *text, size_t length, uint64_t *number)
{
	unsigned int base = 10;
	uint64_t value = 0;
	size_t i = 0;

	if (length > 2 && text[0] == '0' &&
	    (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (length > 1 && text[0] == '0') {
		base = 8;
		i = 1;
	}

	for (; i < length; i++) {
		int digit = digit_value(text[i]);

		if (digit >= (int)base)
			return -EINVAL;
		if (value > (UINT64_MAX - (uint64_t)digit) / base)
			return -ERANGE;
		value = value * base + (uint64_t)digit;
	}
	*number = value;
	return 0;
}

/* Parses one term of a value, length bytes at text: a number or a
 * constant's name. */
static int parse_term(struct parser *parser, const struct token *token,
		      const char *text, size_t length, uint64_t *term)
{
	char shown[SHOWN_MAX];
	char *copy = strndup(text, length);
	const char *close;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	show_value(shown, copy);

	if (isdigit((unsigned char)copy[0])) {
		err = parse_number(copy, length, term);
		if (err == -EINVAL)
			err = parser_report(
				parser, token,
				"invalid number '%s'; write a decimal, 0x "
				"hexadecimal or 0 octal integer",
				shown);
		else if (err == -ERANGE)
			err = parser_report(
				parser, token,
				"number '%s' does not fit in 64 bits", shown);
	} else if (!lookup_constant(copy, term)) {
		close = suggest_constant(copy);
		if (close)
			err = parser_report(
				parser, token,
				"unknown constant '%s'; did you mean '%s'?",
				shown, close);
		else
			err = parser_report(
				parser, token,
				"unknown constant '%s'; write a number or a "
				"PROT_, MAP_, MREMAP_, CLONE_, O_, MFD_, "
				"PTRACE_ or AT_ constant",
				shown);
	}
	free(copy);
	return err;
}

/* Parses the terms and '|' bars of one token into *value. */
static int parse_value_token(struct parser *parser, const struct token *token,
			     bool *expect_term, uint64_t *value)
{
	const char *text = token->text;
	const char *end = text + token->length;

	while (text < end) {
		size_t length = strcspn(text, "|");
		uint64_t term;
		int err;

		if (*text == '|') {
			if (*expect_term)
				return parser_report(parser, token,
						     "'|' needs a constant or "
						     "number on both sides");
			*expect_term = true;
			text++;
			continue;
		}
		err = parse_term(parser, token, text, length, &term);
		if (err)
			return err;
		*value |= term;
		*expect_term = false;
		text += length;
	}
	return 0;
}

/*
 * Parses a value: terms joined with '|', with or without blanks around
 * the bars, from tokens[*next]. It ends before a token that would start a
 * new term without a bar before it, and before "==" when stop_at_equal
 * is set, so that the caller sees what follows.
 */
static int parse_value(struct parser *parser, const struct token *tokens,
		       size_t count, size_t *next, bool stop_at_equal,
		       uint64_t *value)
{
	const struct token *before = &tokens[*next - 1];
	bool expect_term = true;
	int err;

	*value = 0;
	for (; *next < count; (*next)++) {
		const struct token *token = &tokens[*next];

		if (!expect_term && token->text[0] != '|')
			break;
		if (stop_at_equal && strcmp(token->text, "==") == 0)
			break;
		err = parse_value_token(parser, token, &expect_term, value);
		if (err)
			return err;
	}

	if (!expect_term)
		return 0;
	if (&tokens[*next - 1] != before)
		return parser_report(parser, &tokens[*next - 1],
				     "'|' at the end of a value needs a "
				     "constant or number after it");
	return parser_report(parser, before,
			     "missing value after '%s'; write a number or "
			     "constants joined with '|'",
			     before->text);
}

static int check_condition(struct parser *parser, const struct token *at,
			   const struct condition *condition)
{
	if (condition->compare == POLICY_MASK_ANY && condition->mask == 0)
		return parser_report(
			parser, at,
			"the mask is 0, so the condition never holds");
	if (condition->compare == POLICY_MASK_EQ &&
	    (condition->value & ~condition->mask) != 0)
		return parser_report(parser, at,
				     "the value 0x%" PRIx64
				     " has bits outside the mask 0x%" PRIx64
				     ", so the condition never holds",
				     condition->value, condition->mask);
	return 0;
}

/* Parses the value after the operator at tokens[4] and any "== VALUE"
 * after a mask. */
static int parse_operands(struct parser *parser, const struct token *tokens,
			  size_t count, struct condition *condition)
{
	bool masked = condition->compare == POLICY_MASK_ANY;
	const struct token *at = &tokens[count > 5 ? 5 : 4];
	char shown[SHOWN_MAX];
	size_t next = 5;
	uint64_t first;
	int err;

	err = parse_value(parser, tokens, count, &next, masked, &first);
	if (err)
		return err;
	if (masked)
		condition->mask = first;
	else
		condition->value = first;

	if (masked && next < count && strcmp(tokens[next].text, "==") == 0) {
		next++;
		at = next < count ? &tokens[next] : at;
		err = parse_value(parser, tokens, count, &next, false,
				  &condition->value);
		if (err)
			return err;
		condition->compare = POLICY_MASK_EQ;
	}

	if (next < count)
		return parser_report(parser, &tokens[next],
				     "unexpected '%s' after the condition; a "
				     "watch statement ends with its value",
				     show_value(shown, tokens[next].text));
	return check_condition(parser, at, condition);
}

static int parse_condition(struct parser *parser, const struct token *tokens,
			   size_t count, char *const *syscalls,
			   struct condition *condition)
{
	char shown[SHOWN_MAX];
	int err;

	if (strcmp(tokens[2].text, "if") != 0)
		return parser_report(parser, &tokens[2],
				     "unexpected '%s' after the syscall list; "
				     "a condition starts with 'if'",
				     show_value(shown, tokens[2].text));
	if (count < 4)
		return parser_report(
			parser, &tokens[2],
			"missing argument after 'if'; write if ARG OP VALUE");
	err = parse_argument(parser, &tokens[3], syscalls, &condition->arg);
	if (err)
		return err;
	if (count < 5)
		return parser_report(parser, &tokens[3],
				     "missing operator after '%s'; use &, ==, "
				     "!=, <, <=, > or >=",
				     show_value(shown, tokens[3].text));
	err = parse_operator(parser, &tokens[4], &condition->compare);
	if (err)
		return err;
	return parse_operands(parser, tokens, count, condition);
}

static int add_watches(struct parser *parser, char *const *syscalls,
		       const int *nrs, const struct condition *condition,
		       unsigned int line)
{
	struct policy *policy = parser->policy;
	size_t count = list_length(syscalls);

	if (policy->watch_count + count > policy->watch_capacity) {
		size_t grown =
			policy->watch_capacity ? policy->watch_capacity : 16;
		struct policy_watch *watches;

		while (grown < policy->watch_count + count)
			grown *= 2;
		watches =
			reallocarray(policy->watches, grown, sizeof(*watches));
		if (!watches)
			return -ENOMEM;
		policy->watches = watches;
		policy->watch_capacity = grown;
	}

	for (size_t i = 0; i < count; i++) {
		struct policy_watch *watch =
			&policy->watches[policy->watch_count];

		memset(watch, 0, sizeof(*watch));
		watch->syscall = strdup(syscalls[i]);
		if (!watch->syscall)
			return -ENOMEM;
		watch->nr = nrs[i];
		watch->compare = condition->compare;
		watch->arg = condition->arg;
		watch->mask = condition->mask;
		watch->value = condition->value;
		watch->location.file = parser->stack[parser->depth - 1].name;
		watch->location.line = line;
		policy->watch_count++;
	}
	return 0;
}

int parse_watch(struct parser *parser, const struct token *tokens, size_t count)
{
	struct condition condition = { .compare = POLICY_ALWAYS };
	char **syscalls = NULL;
	int *nrs = NULL;
	size_t syscall_count;
	int err;

	if (count < 2)
		return parser_report(parser, &tokens[0],
				     "missing syscall after 'watch'; write "
				     "watch NAME[,NAME...] [if ARG OP VALUE]");
	err = split_list(parser, &tokens[1], &syscalls);
	if (err)
		return err;

	syscall_count = list_length(syscalls);
	nrs = calloc(syscall_count, sizeof(*nrs));
	if (!nrs)
		err = -ENOMEM;
	for (size_t i = 0; err == 0 && i < syscall_count; i++)
		err = check_watch_syscall(parser, &tokens[1], syscalls[i],
					  &nrs[i]);

	if (err == 0 && count > 2)
		err = parse_condition(parser, tokens, count, syscalls,
				      &condition);
	if (err == 0)
		err = add_watches(parser, syscalls, nrs, &condition,
				  tokens[0].line);
	free(nrs);
	free_list(syscalls);
	return err;
}

static bool is_condition_true(const struct policy_watch *watch, uint64_t arg)
{
	switch (watch->compare) {
	case POLICY_ALWAYS:
		return true;
	case POLICY_MASK_ANY:
		return (arg & watch->mask) != 0;
	case POLICY_MASK_EQ:
		return (arg & watch->mask) == watch->value;
	case POLICY_EQ:
		return arg == watch->value;
	case POLICY_NE:
		return arg != watch->value;
	case POLICY_LT:
		return arg < watch->value;
	case POLICY_LE:
		return arg <= watch->value;
	case POLICY_GT:
		return arg > watch->value;
	case POLICY_GE:
		return arg >= watch->value;
	}
	return false;
}

bool policy_watch_set_covers(const struct policy *policy, int nr,
			     const uint64_t args[6])
{
	for (size_t i = 0; i < policy->watch_count; i++) {
		const struct policy_watch *watch = &policy->watches[i];

		if (watch->nr != nr || watch->arg > 5)
			continue;
		if (is_condition_true(watch, args[watch->arg]))
			return true;
	}
	return false;
}
