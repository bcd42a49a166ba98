/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy object and rule matching. Rules are tried in order and the
 * first match decides, so specific rules come before general ones.
 */
#include "policy/internal.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

void policy_diagnostics_init(struct policy_diagnostics *diagnostics)
{
	memset(diagnostics, 0, sizeof(*diagnostics));
}

void policy_diagnostics_fini(struct policy_diagnostics *diagnostics)
{
	for (size_t i = 0; i < diagnostics->count; i++) {
		free(diagnostics->items[i].file);
		free(diagnostics->items[i].message);
	}
	free(diagnostics->items);
	policy_diagnostics_init(diagnostics);
}

struct policy *policy_new(void)
{
	return calloc(1, sizeof(struct policy));
}

void free_list(char **members)
{
	if (!members)
		return;
	for (char **member = members; *member; member++)
		free(*member);
	free(members);
}

size_t list_length(char *const *members)
{
	size_t length = 0;

	while (members && members[length])
		length++;
	return length;
}

void policy_rule_fini(struct policy_rule *rule)
{
	free(rule->id);
	free(rule->name);
	free(rule->techniques);
	free_list(rule->syscalls);
	free_list(rule->modules);
	free_list(rule->callers);
	free(rule->offsets.values);
	free(rule->build_id);
	free(rule->caller_offsets.values);
	free(rule->caller_build_id);
	free_list(rule->paths);
	free(rule->file_build_id);
	free_list(rule->exes);
	free_list(rule->ancestors);
	free(rule->uids);
	memset(rule, 0, sizeof(*rule));
}

void policy_free(struct policy *policy)
{
	if (!policy)
		return;

	for (size_t i = 0; i < policy->rule_count; i++)
		policy_rule_fini(&policy->rules[i]);
	free(policy->rules);
	for (size_t i = 0; i < policy->watch_count; i++)
		free(policy->watches[i].syscall);
	free(policy->watches);
	for (size_t i = 0; i < policy->file_count; i++)
		free(policy->files[i]);
	free(policy->files);
	free(policy);
}

enum policy_mode policy_effective_mode(const struct policy *policy)
{
	if (policy->mode == POLICY_MODE_UNSET)
		return POLICY_MODE_ENFORCE;
	return policy->mode;
}

static bool matches_tristate(enum policy_tristate want, bool value)
{
	return want == POLICY_ANY || (want == POLICY_YES) == value;
}

static bool matches_bit(uint32_t bits, unsigned int value)
{
	return bits == 0 || (value < 32 && (bits & (1u << value)) != 0);
}

static bool matches_name(char *const *names, const char *name)
{
	if (!names)
		return true;
	if (!name)
		return false;
	for (; *names; names++) {
		if (strcmp(*names, name) == 0)
			return true;
	}
	return false;
}

static bool matches_glob(char *const *globs, const char *path)
{
	if (!globs)
		return true;
	if (!path)
		return false;
	for (; *globs; globs++) {
		if (fnmatch(*globs, path, 0) == 0)
			return true;
	}
	return false;
}

/* Any ancestor matching any of the globs is enough. */
static bool matches_ancestors(char *const *globs,
			      const struct policy_facts *facts)
{
	if (!globs)
		return true;
	for (size_t i = 0; i < facts->ancestor_count; i++) {
		if (facts->ancestors[i] &&
		    matches_glob(globs, facts->ancestors[i]))
			return true;
	}
	return false;
}

static bool matches_uid(const struct policy_rule *rule,
			const struct policy_facts *facts)
{
	if (rule->uid_count == 0)
		return true;
	if (!facts->uid_known)
		return false;
	for (size_t i = 0; i < rule->uid_count; i++) {
		if (rule->uids[i] == facts->uid)
			return true;
	}
	return false;
}

static bool matches_offset(const struct policy_offsets *offsets, bool known,
			   uint64_t offset)
{
	if (offsets->count == 0)
		return true;
	if (!known)
		return false;
	for (size_t i = 0; i < offsets->count; i++) {
		if (offsets->values[i] == offset)
			return true;
	}
	return false;
}

static bool matches_known_bit(uint32_t bits, bool known, unsigned int value)
{
	if (bits == 0)
		return true;
	return known && matches_bit(bits, value);
}

/* Both build-ids are lower-case hex, so they compare as strings. */
static bool matches_build_id(const char *want, const char *build_id)
{
	if (!want)
		return true;
	return build_id && strcmp(want, build_id) == 0;
}

/*
 * The matchers on the call itself, which cost no /proc read. Globs come
 * last: a baseline has hundreds of rules that differ in their offsets, and
 * comparing those first keeps fnmatch(3) off most of them.
 */
static bool matches_call(const struct policy_rule *rule,
			 const struct policy_facts *facts)
{
	return rule->event == facts->event &&
	       matches_name(rule->syscalls, facts->syscall) &&
	       matches_bit(rule->abis, facts->abi) &&
	       matches_bit(rule->origins, facts->origin) &&
	       matches_offset(&rule->offsets, facts->offset_known,
			      facts->offset) &&
	       matches_build_id(rule->build_id, facts->build_id) &&
	       matches_tristate(rule->libc_mapped, facts->libc_mapped) &&
	       matches_tristate(rule->program_abi, facts->program_abi) &&
	       matches_glob(rule->modules, facts->module);
}

/* The matchers on the loaded or executed file. */
static bool matches_file(const struct policy_rule *rule,
			 const struct policy_facts *facts)
{
	return matches_bit(rule->file_kinds, facts->file_kind) &&
	       matches_bit(rule->load_sources, facts->load_source) &&
	       matches_glob(rule->paths, facts->path) &&
	       matches_build_id(rule->file_build_id, facts->file_build_id) &&
	       matches_tristate(rule->writable_dir,
				facts->path_in_writable_dir) &&
	       matches_tristate(rule->path_unknown, facts->path_unknown);
}

/* The matchers on the calling process, globs last as above. */
static bool matches_process(const struct policy_rule *rule,
			    const struct policy_facts *facts)
{
	return matches_offset(&rule->caller_offsets, facts->caller_offset_known,
			      facts->caller_offset) &&
	       matches_build_id(rule->caller_build_id,
				facts->caller_build_id) &&
	       matches_known_bit(rule->caller_origins,
				 facts->caller_origin_known,
				 facts->caller_origin) &&
	       matches_uid(rule, facts) &&
	       matches_glob(rule->exes, facts->exe) &&
	       matches_glob(rule->callers, facts->caller) &&
	       matches_ancestors(rule->ancestors, facts);
}

bool policy_rule_matches(const struct policy_rule *rule,
			 const struct policy_facts *facts)
{
	return matches_call(rule, facts) && matches_file(rule, facts) &&
	       matches_process(rule, facts);
}

const struct policy_rule *policy_match(const struct policy *policy,
				       const struct policy_facts *facts)
{
	for (size_t i = 0; i < policy->rule_count; i++) {
		if (policy_rule_matches(&policy->rules[i], facts))
			return &policy->rules[i];
	}
	return NULL;
}
