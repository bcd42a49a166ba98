/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the policy library: the language's statements and diagnostics,
 * includes and modes across files, rule matching with every matcher, the
 * default policy, formatting round trips and the names of enumerations.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sha2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A policy with the diagnostics of loading it. */
struct loaded {
	struct policy *policy;
	struct policy_diagnostics diagnostics;
	int result;
};

static void loaded_init(struct loaded *loaded)
{
	loaded->policy = policy_new();
	cr_assert_not_null(loaded->policy);
	policy_diagnostics_init(&loaded->diagnostics);
	loaded->result = 0;
}

static void loaded_fini(struct loaded *loaded)
{
	policy_free(loaded->policy);
	policy_diagnostics_fini(&loaded->diagnostics);
}

static void load_text(struct loaded *loaded, const char *name,
		      const char *text)
{
	loaded->result = policy_load_text(loaded->policy, name, text,
					  strlen(text), &loaded->diagnostics);
}

static void load(struct loaded *loaded, const char *text)
{
	loaded_init(loaded);
	load_text(loaded, "test.policy", text);
}

/* Fails with every diagnostic printed, so a failure shows its cause. */
static void expect_clean(const struct loaded *loaded, const char *label)
{
	for (size_t i = 0; i < loaded->diagnostics.count; i++) {
		const struct policy_diagnostic *item =
			&loaded->diagnostics.items[i];

		cr_expect_fail("%s: %s:%u:%u: %s", label, item->file,
			       item->line, item->column, item->message);
	}
	cr_expect_eq(loaded->result, 0, "%s: result %d", label,
		     loaded->result);
}

static void expect_diagnostic(const struct policy_diagnostic *item,
			      const char *label, const char *file,
			      unsigned int line, unsigned int column,
			      const char *message)
{
	cr_expect_str_eq(item->file, file, "%s: file", label);
	cr_expect_eq(item->line, line, "%s: line %u, expected %u", label,
		     item->line, line);
	cr_expect_eq(item->column, column, "%s: column %u, expected %u",
		     label, item->column, column);
	cr_expect_str_eq(item->message, message, "%s: message", label);
}

/* Expects exactly one diagnostic. */
static void expect_only_diagnostic(const struct loaded *loaded,
				   const char *label, const char *file,
				   unsigned int line, unsigned int column,
				   const char *message)
{
	cr_expect_eq(loaded->result, -EINVAL, "%s: result %d", label,
		     loaded->result);
	cr_expect_eq(loaded->diagnostics.count, 1, "%s: %zu diagnostics",
		     label, loaded->diagnostics.count);
	if (loaded->diagnostics.count < 1)
		return;
	expect_diagnostic(&loaded->diagnostics.items[0], label, file, line,
			  column, message);
}

/*
 * Valid statements of every form.
 */

static const char every_form[] =
	"# A comment line, and blank lines below.\n"
	"\n"
	"   \t\n"
	"mode monitor\n"
	"mode monitor # the same mode twice is fine\n"
	"watch openat if flags & O_CREAT|O_TMPFILE\n"
	"watch mmap if prot & PROT_WRITE | PROT_EXEC == PROT_WRITE |PROT_EXEC\n"
	"watch kill,tkill if sig == 9\n"
	"watch ptrace if request != PTRACE_TRACEME\n"
	"watch personality if persona < 0x10\n"
	"watch setuid if uid <= 0\n"
	"watch socket if domain > 010\n"
	"watch prctl if arg1 >= 4096\n"
	"watch execve\n"
	"allow syscall ptrace exe /usr/bin/gdb,/usr/bin/strace\n"
	"log exec path \"/opt/my app/*\" id app-exec name \"Start of my app\"\n"
	"alert module-load file library path /tmp/* writable-dir yes \\\n"
	"\tpath-known yes source dlopen,manual-map\n"
	"deny syscall process_vm_writev errno EACCES severity 60 \\\n"
	"\ttechnique T1055,T1055.012 id no-inject\n"
	"kill direct-syscall origin anonymous,heap caller /opt/* \\\n"
	"\tmodule /opt/lib/*.so has-libc yes program-arch no \\\n"
	"\tarch x86_64,x32 uid 0,1000 ancestor /usr/sbin/sshd*\n"
	"alert unbacked-caller # a comment ends the statement\n"
	"alert stack-pivot severity 0\n"
	"alert fileless-exec file memfd,deleted\n"
	"log non-native-abi syscall socketcall arch i386\n"
	"log native-api syscall clone\n"
	"deny exec path /tmp/* errno ENOENT\n"
	"allow direct-syscall module /opt/app/bin/app offset 0x1A40,4096 \\\n"
	"\tbuild-id 0123ABCD caller-offset 0x1155 caller-build-id 89abcdef\n"
	"log module-load path /usr/lib/* file-build-id 5E1F00aa\n";

Test(policy_load, accepts_every_statement_form)
{
	struct loaded loaded;
	const struct policy *policy;

	load(&loaded, every_form);
	expect_clean(&loaded, "every form");
	policy = loaded.policy;

	cr_expect_eq(policy->mode, POLICY_MODE_MONITOR);
	cr_expect_str_eq(policy->mode_location.file, "test.policy");
	cr_expect_eq(policy->mode_location.line, 4);
	cr_expect_eq(policy->watch_count, 10);
	cr_expect_eq(policy->rule_count, 13);
	cr_expect_eq(policy->needs,
		     POLICY_NEEDS_UID | POLICY_NEEDS_ANCESTRY |
			     POLICY_NEEDS_CALLER | POLICY_NEEDS_BUILD_ID |
			     POLICY_NEEDS_CALLER_BUILD_ID |
			     POLICY_NEEDS_FILE_BUILD_ID);
	loaded_fini(&loaded);
}

struct watch_case {
	size_t index;
	const char *syscall;
	enum policy_compare compare;
	unsigned int arg;
	uint64_t mask, value;
	unsigned int line;
};

static const struct watch_case every_form_watches[] = {
	{ 0, "openat", POLICY_MASK_ANY, 2, O_CREAT | O_TMPFILE, 0, 6 },
	{ 1, "mmap", POLICY_MASK_EQ, 2, 6, 6, 7 },
	{ 2, "kill", POLICY_EQ, 1, 0, 9, 8 },
	{ 3, "tkill", POLICY_EQ, 1, 0, 9, 8 },
	{ 4, "ptrace", POLICY_NE, 0, 0, 0, 9 },
	{ 5, "personality", POLICY_LT, 0, 0, 16, 10 },
	{ 6, "setuid", POLICY_LE, 0, 0, 0, 11 },
	{ 7, "socket", POLICY_GT, 0, 0, 8, 12 },
	{ 8, "prctl", POLICY_GE, 1, 0, 4096, 13 },
	{ 9, "execve", POLICY_ALWAYS, 0, 0, 0, 14 },
};

Test(policy_load, parses_watch_conditions)
{
	struct loaded loaded;

	load(&loaded, every_form);
	cr_assert_eq(loaded.policy->watch_count, ARRAY_SIZE(every_form_watches));
	for (size_t i = 0; i < ARRAY_SIZE(every_form_watches); i++) {
		const struct watch_case *c = &every_form_watches[i];
		const struct policy_watch *watch =
			&loaded.policy->watches[c->index];

		cr_expect_str_eq(watch->syscall, c->syscall, "watch %zu", i);
		cr_expect_eq(watch->nr,
			     seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
							       c->syscall),
			     "%s: nr", c->syscall);
		cr_expect_eq(watch->compare, c->compare, "%s: compare",
			     c->syscall);
		cr_expect_eq(watch->arg, c->arg, "%s: arg", c->syscall);
		cr_expect_eq(watch->mask, c->mask, "%s: mask", c->syscall);
		cr_expect_eq(watch->value, c->value, "%s: value", c->syscall);
		cr_expect_eq(watch->location.line, c->line, "%s: line",
			     c->syscall);
		cr_expect_str_eq(watch->location.file, "test.policy");
	}
	loaded_fini(&loaded);
}

/* One call checked against the watch set, with one argument set. */
struct covers_case {
	const char *syscall;
	unsigned int arg;
	uint64_t value;
	bool covered;
};

static const struct covers_case every_form_calls[] = {
	{ "openat", 2, O_RDONLY, false },
	{ "openat", 2, O_WRONLY | O_CREAT, true },
	{ "mmap", 2, PROT_READ | PROT_EXEC, false },
	{ "mmap", 2, PROT_READ | PROT_WRITE | PROT_EXEC, true },
	{ "kill", 1, 9, true },
	{ "kill", 1, 15, false },
	{ "ptrace", 0, 0, false }, /* PTRACE_TRACEME */
	{ "ptrace", 0, 16, true },
	{ "personality", 0, 15, true },
	{ "personality", 0, UINT64_MAX, false }, /* unsigned, as seccomp */
	{ "setuid", 0, 0, true },
	{ "setuid", 0, UINT64_C(1) << 32, false }, /* all 64 bits count */
	{ "socket", 0, 8, false },
	{ "socket", 0, 9, true },
	{ "prctl", 1, 4095, false },
	{ "prctl", 1, 4096, true },
	{ "execve", 0, 0, true },
	{ "read", 0, 0, false },
};

Test(policy_watch_set, covers_calls_that_meet_a_condition)
{
	struct loaded loaded;

	load(&loaded, every_form);
	expect_clean(&loaded, "every form");
	for (size_t i = 0; i < ARRAY_SIZE(every_form_calls); i++) {
		const struct covers_case *c = &every_form_calls[i];
		uint64_t args[6] = { 0 };
		int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
							   c->syscall);

		args[c->arg] = c->value;
		cr_expect_eq(policy_watch_set_covers(loaded.policy, nr, args),
			     c->covered, "%s with arg%u = 0x%llx: expected %s",
			     c->syscall, c->arg, (unsigned long long)c->value,
			     c->covered ? "covered" : "not covered");
	}
	loaded_fini(&loaded);
}

Test(policy_watch_set, ors_entries_of_one_syscall)
{
	struct loaded loaded;
	uint64_t args[6] = { 0 };
	int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "kill");

	load(&loaded, "watch kill if sig == 9\nwatch kill if pid == 1\n");
	expect_clean(&loaded, "two kill watches");
	args[1] = 9;
	cr_expect(policy_watch_set_covers(loaded.policy, nr, args),
		  "the first entry holds");
	args[0] = 1;
	args[1] = 15;
	cr_expect(policy_watch_set_covers(loaded.policy, nr, args),
		  "the second entry holds");
	args[0] = 2;
	cr_expect_not(policy_watch_set_covers(loaded.policy, nr, args),
		      "neither entry holds");
	loaded_fini(&loaded);
}

Test(policy_watch_set, covers_nothing_when_empty)
{
	struct loaded loaded;
	uint64_t args[6] = { 0 };

	load(&loaded, "# no watch statements\n");
	cr_expect_not(policy_watch_set_covers(
		loaded.policy,
		seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "execve"),
		args));
	loaded_fini(&loaded);
}

static bool list_equals(char *const *list, const char *const *expected)
{
	size_t i = 0;

	if (!list || !expected)
		return !list && !expected;
	for (; list[i] && expected[i]; i++) {
		if (strcmp(list[i], expected[i]) != 0)
			return false;
	}
	return !list[i] && !expected[i];
}

Test(policy_load, parses_rule_matchers_and_options)
{
	static const char *const gdb[] = { "/usr/bin/gdb", "/usr/bin/strace",
					   NULL };
	static const char *const app[] = { "/opt/my app/*", NULL };
	static const char *const opt[] = { "/opt/*", NULL };
	static const char *const lib[] = { "/opt/lib/*.so", NULL };
	static const char *const sshd[] = { "/usr/sbin/sshd*", NULL };
	static const char *const socketcall[] = { "socketcall", NULL };
	static const char *const usr_lib[] = { "/usr/lib/*", NULL };
	struct loaded loaded;
	const struct policy_rule *rules;

	load(&loaded, every_form);
	cr_assert_eq(loaded.policy->rule_count, 13);
	rules = loaded.policy->rules;

	cr_expect_eq(rules[0].action, POLICY_ALLOW);
	cr_expect_eq(rules[0].event, EVENT_NATIVE_API);
	cr_expect(list_equals(rules[0].exes, gdb));
	cr_expect_eq(rules[0].location.line, 15);

	cr_expect(list_equals(rules[1].paths, app));
	cr_expect_str_eq(rules[1].id, "app-exec");
	cr_expect_str_eq(rules[1].name, "Start of my app");
	cr_expect_not(rules[1].default_name);

	cr_expect_eq(rules[2].file_kinds, ORIGIN_BIT(ORIGIN_LIBRARY));
	cr_expect_eq(rules[2].load_sources, (1u << LOAD_SOURCE_DLOPEN) |
						    (1u << LOAD_SOURCE_MANUAL_MAP));
	cr_expect_eq(rules[2].writable_dir, POLICY_YES);
	cr_expect_eq(rules[2].path_unknown, POLICY_NO);
	cr_expect_eq(rules[2].severity, 47);
	cr_expect_eq(rules[2].location.line, 17);

	cr_expect_eq(rules[3].action, POLICY_DENY);
	cr_expect_eq(rules[3].deny_errno, EACCES);
	cr_expect_eq(rules[3].severity, 60);
	cr_expect_str_eq(rules[3].techniques, "T1055,T1055.012");
	cr_expect_str_eq(rules[3].id, "no-inject");

	cr_expect_eq(rules[4].action, POLICY_KILL);
	cr_expect_eq(rules[4].severity, 73);
	cr_expect_eq(rules[4].origins, ORIGIN_BIT(ORIGIN_ANONYMOUS) |
					       ORIGIN_BIT(ORIGIN_HEAP));
	cr_expect(list_equals(rules[4].callers, opt));
	cr_expect(list_equals(rules[4].modules, lib));
	cr_expect(list_equals(rules[4].ancestors, sshd));
	cr_expect_eq(rules[4].libc_mapped, POLICY_YES);
	cr_expect_eq(rules[4].program_abi, POLICY_NO);
	cr_expect_eq(rules[4].abis, ABI_BIT(ABI_X86_64) | ABI_BIT(ABI_X32));
	cr_expect_eq(rules[4].uid_count, 2);
	cr_expect_eq(rules[4].uids[0], 0);
	cr_expect_eq(rules[4].uids[1], 1000);

	cr_expect_eq(rules[5].event, EVENT_UNBACKED_CALLER);
	cr_expect_eq(rules[6].event, EVENT_STACK_PIVOT);
	cr_expect_eq(rules[6].severity, 0);
	cr_expect_eq(rules[7].file_kinds, ORIGIN_BIT(ORIGIN_MEMFD) |
						  ORIGIN_BIT(ORIGIN_DELETED));
	cr_expect(list_equals(rules[8].syscalls, socketcall));
	cr_expect_eq(rules[8].abis, ABI_BIT(ABI_I386));
	cr_expect_eq(rules[10].deny_errno, ENOENT);
	cr_expect_eq(rules[10].severity, 47);

	cr_expect_eq(rules[11].event, EVENT_DIRECT_SYSCALL);
	cr_assert_eq(rules[11].offsets.count, 2);
	cr_expect_eq(rules[11].offsets.values[0], 0x1a40);
	cr_expect_eq(rules[11].offsets.values[1], 4096);
	cr_expect_str_eq(rules[11].build_id, "0123abcd");
	cr_assert_eq(rules[11].caller_offsets.count, 1);
	cr_expect_eq(rules[11].caller_offsets.values[0], 0x1155);
	cr_expect_str_eq(rules[11].caller_build_id, "89abcdef");
	cr_expect_null(rules[11].file_build_id);

	cr_expect_eq(rules[12].event, EVENT_MODULE_LOAD);
	cr_expect(list_equals(rules[12].paths, usr_lib));
	cr_expect_str_eq(rules[12].file_build_id, "5e1f00aa");
	cr_expect_null(rules[12].build_id);
	loaded_fini(&loaded);
}

Test(policy_load, leaves_call_site_matchers_unset)
{
	struct loaded loaded;
	const struct policy_rule *rule;

	load(&loaded, "alert direct-syscall module /opt/*\n");
	expect_clean(&loaded, "no call-site matchers");
	rule = &loaded.policy->rules[0];
	cr_expect_eq(rule->offsets.count, 0);
	cr_expect_null(rule->offsets.values);
	cr_expect_null(rule->build_id);
	cr_expect_eq(rule->caller_offsets.count, 0);
	cr_expect_null(rule->caller_build_id);
	cr_expect_eq(rule->caller_origins, 0);
	cr_expect_null(rule->file_build_id);
	loaded_fini(&loaded);
}

Test(policy_load, parses_caller_origin_kinds)
{
	struct loaded loaded;
	const struct policy_rule *rule;

	load(&loaded, "alert unbacked-caller caller-origin anonymous,memfd "
		      "origin libc\n");
	expect_clean(&loaded, "caller-origin list");
	cr_assert_eq(loaded.policy->rule_count, 1);
	rule = &loaded.policy->rules[0];
	cr_expect_eq(rule->caller_origins, ORIGIN_BIT(ORIGIN_ANONYMOUS) |
						   ORIGIN_BIT(ORIGIN_MEMFD));
	cr_expect_eq(rule->origins, ORIGIN_BIT(ORIGIN_LIBC),
		     "origin and caller-origin fill separate sets");
	cr_expect_eq(loaded.policy->needs, POLICY_NEEDS_CALLER);
	loaded_fini(&loaded);
}

Test(policy_load, fills_in_defaults)
{
	struct loaded loaded;
	const struct policy_rule *rules;

	load(&loaded, "allow exec\nlog exec\nalert exec\ndeny exec\n"
		      "kill exec\n");
	expect_clean(&loaded, "defaults");
	cr_assert_eq(loaded.policy->rule_count, 5);
	rules = loaded.policy->rules;

	cr_expect_eq(rules[0].severity, 0);
	cr_expect_eq(rules[1].severity, 0);
	cr_expect_eq(rules[2].severity, 47);
	cr_expect_eq(rules[3].severity, 47);
	cr_expect_eq(rules[4].severity, 73);
	cr_expect_eq(rules[3].deny_errno, EPERM);
	cr_expect_eq(rules[2].deny_errno, 0);
	for (size_t i = 0; i < 5; i++) {
		cr_expect_str_eq(rules[i].techniques, "");
		cr_expect(rules[i].default_name);
		cr_expect_null(rules[i].syscalls);
		cr_expect_eq(rules[i].writable_dir, POLICY_ANY);
	}
	cr_expect_str_eq(rules[2].name, "alert exec");
	cr_expect_eq(loaded.policy->needs, 0);
	cr_expect_eq(policy_effective_mode(loaded.policy), POLICY_MODE_ENFORCE);
	loaded_fini(&loaded);
}

Test(policy_load, accepts_readme_example)
{
	struct loaded loaded;

	load(&loaded,
	     "# Nothing in this service should trace processes or run shellcode.\n"
	     "mode monitor\n"
	     "deny syscall ptrace,process_vm_writev\n"
	     "kill direct-syscall origin anonymous,heap,stack,memfd\n"
	     "# The service's own plugin loader is expected.\n"
	     "allow module-load path /opt/service/plugins/*.so exe /opt/service/bin/*\n");
	expect_clean(&loaded, "README example");
	cr_expect_eq(loaded.policy->rule_count, 3);
	cr_expect_eq(policy_effective_mode(loaded.policy), POLICY_MODE_MONITOR);
	loaded_fini(&loaded);
}

/*
 * Lexing: continuations, comments and strings.
 */

Test(policy_lexer, joins_continued_lines_into_one_token)
{
	static const char *const two[] = { "ptrace", "clone", NULL };
	struct loaded loaded;

	load(&loaded, "log syscall ptrace,\\\nclone id joined\n");
	expect_clean(&loaded, "continued token");
	cr_assert_eq(loaded.policy->rule_count, 1);
	cr_expect(list_equals(loaded.policy->rules[0].syscalls, two));
	loaded_fini(&loaded);
}

Test(policy_lexer, keeps_backslash_inside_line_and_comment)
{
	static const char *const glob[] = { "/a\\*b", NULL };
	struct loaded loaded;

	load(&loaded, "# a comment ending in a backslash \\\n"
		      "log exec path /a\\*b\n");
	expect_clean(&loaded, "backslashes");
	cr_assert_eq(loaded.policy->rule_count, 1);
	cr_expect(list_equals(loaded.policy->rules[0].paths, glob));
	loaded_fini(&loaded);
}

Test(policy_lexer, treats_hash_inside_token_as_text)
{
	static const char *const glob[] = { "/srv/a#b", "#c", NULL };
	struct loaded loaded;

	load(&loaded, "log exec path /srv/a#b,#c # a comment\n");
	expect_clean(&loaded, "hash");
	cr_assert_eq(loaded.policy->rule_count, 1);
	cr_expect(list_equals(loaded.policy->rules[0].paths, glob));
	loaded_fini(&loaded);
}

Test(policy_lexer, unescapes_quoted_strings)
{
	static const char *const glob[] = { "/x/\"q\" \\ ,#", NULL };
	struct loaded loaded;

	load(&loaded, "log exec path \"/x/\\\"q\\\" \\\\ ,#\" name \"\"\"\n");
	cr_expect_eq(loaded.diagnostics.count, 1);
	loaded_fini(&loaded);

	load(&loaded, "log exec path \"/x/\\\"q\\\" \\\\ ,#\"\n");
	expect_clean(&loaded, "escapes");
	cr_assert_eq(loaded.policy->rule_count, 1);
	cr_expect(list_equals(loaded.policy->rules[0].paths, glob));
	loaded_fini(&loaded);
}

Test(policy_lexer, accepts_non_utf8_bytes)
{
	static const char *const glob[] = { "/data/\xff\xfe/*", NULL };
	struct loaded loaded;

	load(&loaded, "log exec path /data/\xff\xfe/* name \"\xc3\x28\"\n");
	expect_clean(&loaded, "non-UTF-8");
	cr_assert_eq(loaded.policy->rule_count, 1);
	cr_expect(list_equals(loaded.policy->rules[0].paths, glob));
	cr_expect_str_eq(loaded.policy->rules[0].name, "\xc3\x28");
	loaded_fini(&loaded);
}

/*
 * Diagnostics: each bad input with its exact message and position.
 */

struct bad_case {
	const char *label;
	const char *text;
	size_t length; /* 0: strlen(text) */
	unsigned int line, column;
	const char *message;
};

#define ALL_MATCHERS                                                         \
	"matchers are syscall, origin, module, offset, build-id, caller, "   \
	"caller-offset, caller-build-id, caller-origin, path, "              \
	"file-build-id, exe, ancestor, uid, arch, file, source, "            \
	"writable-dir, path-known, has-libc and program-arch, and options "  \
	"are severity, id, errno, name and technique"

static const struct bad_case bad_cases[] = {
	{ "unknown action", "alrt exec\n", 0, 1, 1,
	  "unknown statement 'alrt'; did you mean 'alert'?" },
	{ "unknown statement", "\nfrobnicate all\n", 0, 2, 1,
	  "unknown statement 'frobnicate'; a statement starts with mode, include, watch or an action (allow, log, alert, deny, kill)" },
	{ "missing event", "alert\n", 0, 1, 1,
	  "missing event after 'alert'; write an event such as direct-syscall or exec, or syscall NAMES" },
	{ "unknown event with suggestion", "alert exce\n", 0, 1, 7,
	  "unknown event 'exce'; did you mean 'exec'?" },
	{ "unknown event", "alert foo\n", 0, 1, 7,
	  "unknown event 'foo'; events are direct-syscall, unbacked-caller, non-native-abi, fileless-exec, module-load, stack-pivot, exec and native-api, or write syscall NAMES" },
	{ "unknown matcher with suggestion", "alert exec orign heap\n", 0, 1,
	  12, "unknown matcher or option 'orign'; did you mean 'origin'?" },
	{ "unknown matcher", "alert exec colour red\n", 0, 1, 12,
	  "unknown matcher or option 'colour'; " ALL_MATCHERS },
	{ "missing value", "alert exec origin\n", 0, 1, 12,
	  "missing value after 'origin'; expected an origin kind or a comma-separated list of them" },
	{ "missing syscall after event", "alert syscall\n", 0, 1, 7,
	  "missing value after 'syscall'; expected a syscall name or a comma-separated list of them" },
	{ "duplicate matcher", "alert exec origin heap origin stack\n", 0, 1,
	  24,
	  "duplicate matcher 'origin'; give it once with a comma-separated list of values" },
	{ "duplicate syscall after syscall event",
	  "alert syscall ptrace syscall bpf\n", 0, 1, 22,
	  "duplicate matcher 'syscall'; give it once with a comma-separated list of values" },
	{ "duplicate option", "alert exec severity 1 severity 2\n", 0, 1, 23,
	  "duplicate option 'severity'; a rule takes each option once" },
	{ "empty list member", "alert exec origin heap,,stack\n", 0, 1, 19,
	  "the list 'heap,,stack' has an empty member; remove the extra comma" },
	{ "trailing comma", "alert exec path /a,\n", 0, 1, 17,
	  "the list '/a,' has an empty member; remove the extra comma" },
	{ "empty string value", "alert exec path \"\"\n", 0, 1, 17,
	  "an empty string is not a valid value" },
	{ "unknown syscall", "alert syscall mprotet\n", 0, 1, 15,
	  "unknown syscall 'mprotet'; did you mean 'mprotect'?" },
	{ "unknown syscall without suggestion",
	  "alert exec syscall zzzzzzzzzz\n", 0, 1, 20,
	  "unknown syscall 'zzzzzzzzzz'; valid names are those of the x86_64, i386 and x32 syscall tables" },
	{ "unknown origin kind", "alert exec origin hep\n", 0, 1, 19,
	  "unknown origin kind 'hep'; did you mean 'heap'?" },
	{ "unknown origin kind without suggestion",
	  "alert exec origin elsewhere\n", 0, 1, 19,
	  "unknown origin kind 'elsewhere'; valid kinds are unknown, libc, loader, vdso, executable, library, anonymous, heap, stack, memfd and deleted" },
	{ "unknown file kind", "alert module-load file heap\n", 0, 1, 24,
	  "unknown file kind 'heap'; valid kinds are library, memfd and deleted" },
	{ "unknown load source", "alert module-load source manualmap\n", 0, 1,
	  26, "unknown load source 'manualmap'; did you mean 'manual-map'?" },
	{ "unknown load source without suggestion",
	  "alert module-load source elsewhere\n", 0, 1, 26,
	  "unknown load source 'elsewhere'; valid sources are unknown, loader, dlopen, dlmopen and manual-map" },
	{ "load source on another event", "alert exec source dlopen\n", 0, 1,
	  12, "'source' applies only to module-load rules, not to exec rules" },
	{ "bad yes or no", "alert exec has-libc maybe\n", 0, 1, 21,
	  "invalid value 'maybe' for 'has-libc'; expected yes or no" },
	{ "uid not a number", "alert exec uid root\n", 0, 1, 16,
	  "uid 'root' is not a number; use the user's number, which 'id -u root' prints" },
	{ "uid negative", "alert exec uid -1\n", 0, 1, 16,
	  "uid '-1' is not a number; expected a decimal number from 0 to 4294967294" },
	{ "uid out of range", "alert exec uid 0,4294967295\n", 0, 1, 16,
	  "uid 4294967295 is out of range; uids go from 0 to 4294967294" },
	{ "unknown arch", "alert exec arch arm\n", 0, 1, 17,
	  "unknown arch 'arm'; valid arches are x86_64, i386 and x32" },
	{ "unknown arch with suggestion", "alert exec arch x86-64\n", 0, 1, 17,
	  "unknown arch 'x86-64'; did you mean 'x86_64'?" },
	{ "severity not a number", "alert exec severity high\n", 0, 1, 21,
	  "severity 'high' is not a number; use 0 to 100" },
	{ "severity out of range", "alert exec severity 101\n", 0, 1, 21,
	  "severity 101 is out of range; use 0 to 100" },
	{ "negative severity", "alert exec severity -1\n", 0, 1, 21,
	  "severity '-1' is not a number; use 0 to 100" },
	{ "errno without deny", "alert exec errno EPERM\n", 0, 1, 18,
	  "errno applies only to deny rules, not to alert rules" },
	{ "unknown errno", "deny exec errno EPERN\n", 0, 1, 17,
	  "unknown errno name 'EPERN'; did you mean 'EPERM'?" },
	{ "unknown errno without suggestion", "deny exec errno NOPE\n", 0, 1,
	  17,
	  "unknown errno name 'NOPE'; use a name from errno(3) such as EPERM or EACCES" },
	{ "bad id characters", "alert exec id \"a b\"\n", 0, 1, 15,
	  "invalid id 'a b'; an id may contain only letters, digits, '.', '_' and '-'" },
	{ "duplicate id", "alert exec id x\nlog exec id x\n", 0, 2, 13,
	  "duplicate id 'x'; the rule at test.policy:1 already has it" },
	{ "bad technique", "alert exec technique T1055,T12\n", 0, 1, 22,
	  "invalid technique 'T12'; ATT&CK technique ids look like T1055 or T1055.012" },
	{ "bad sub-technique", "alert exec technique T1055.01\n", 0, 1, 22,
	  "invalid technique 'T1055.01'; ATT&CK technique ids look like T1055 or T1055.012" },
	{ "path with a non-file event", "alert direct-syscall path /tmp/*\n",
	  0, 1, 22,
	  "'path' applies only to module-load, exec and fileless-exec rules, not to direct-syscall rules" },
	{ "file with a non-file event", "alert syscall ptrace file memfd\n",
	  0, 1, 22,
	  "'file' applies only to module-load, exec and fileless-exec rules, not to native-api rules" },
	{ "empty name", "alert exec name \"\"\n", 0, 1, 17,
	  "an empty string is not a valid name" },
	{ "unterminated string", "alert exec name \"abc\n", 0, 1, 17,
	  "unterminated string; close it with '\"' before the end of the line" },
	{ "string continued with backslash", "alert exec name \"abc\\\n",
	  0, 1, 17,
	  "unterminated string; close it with '\"' before the end of the line" },
	{ "bad escape", "alert exec name \"a\\qb\"\n", 0, 1, 19,
	  "invalid escape '\\q' in a string; only \\\" and \\\\ are escapes" },
	{ "text after a closing quote", "alert exec name \"a\"b\n", 0, 1, 20,
	  "unexpected 'b' right after a closing quote; put a blank after the string" },
	{ "NUL byte", "alert exec\0 id x\n", 17, 1, 11,
	  "NUL byte in the policy; a policy file must be text" },
	{ "NUL byte in a comment", "# a\0b\n", 6, 1, 4,
	  "NUL byte in the policy; a policy file must be text" },
	{ "backslash at end of file", "alert exec \\", 0, 1, 12,
	  "backslash at the end of the file; a backslash that ends a line continues the statement on the next line, and none follows" },
	{ "missing mode", "mode\n", 0, 1, 1,
	  "missing value after 'mode'; write mode monitor or mode enforce" },
	{ "mode value wrong", "mode audit\n", 0, 1, 6,
	  "invalid mode 'audit'; valid modes are monitor and enforce" },
	{ "mode value misspelt", "mode monitr\n", 0, 1, 6,
	  "invalid mode 'monitr'; did you mean 'monitor'?" },
	{ "mode with two values", "mode monitor enforce\n", 0, 1, 14,
	  "unexpected 'enforce' after the mode; a mode statement takes one value" },
	{ "conflicting modes", "mode monitor\n\nmode enforce\n", 0, 3, 6,
	  "mode enforce conflicts with mode monitor set at test.policy:1; a policy has one mode" },
	{ "include without file", "include\n", 0, 1, 1,
	  "missing file name after 'include'" },
	{ "include with two files", "include a b\n", 0, 1, 11,
	  "unexpected 'b' after the file name; include takes one file name, and a name with blanks needs quotes" },
	{ "include of an empty name", "include \"\"\n", 0, 1, 9,
	  "an empty string is not a valid file name" },
	{ "watch without syscall", "watch\n", 0, 1, 1,
	  "missing syscall after 'watch'; write watch NAME[,NAME...] [if ARG OP VALUE]" },
	{ "watch unknown syscall", "watch mprotet\n", 0, 1, 7,
	  "unknown syscall 'mprotet'; did you mean 'mprotect'?" },
	{ "watch unknown syscall in a list", "watch mmap,mremap,mprotet\n", 0,
	  1, 7, "unknown syscall 'mprotet'; did you mean 'mprotect'?" },
	{ "watch i386-only syscall", "watch socketcall\n", 0, 1, 7,
	  "syscall 'socketcall' exists only in the i386 or x32 ABI, and every i386 and x32 syscall reaches the supervisor anyway; watch takes x86_64 syscalls" },
	{ "watch without if", "watch mmap prot & 4\n", 0, 1, 12,
	  "unexpected 'prot' after the syscall list; a condition starts with 'if'" },
	{ "watch without argument", "watch mmap if\n", 0, 1, 12,
	  "missing argument after 'if'; write if ARG OP VALUE" },
	{ "watch without operator", "watch mmap if prot\n", 0, 1, 15,
	  "missing operator after 'prot'; use &, ==, !=, <, <=, > or >=" },
	{ "watch bad operator", "watch mmap if prot ~ 4\n", 0, 1, 20,
	  "invalid operator '~'; use &, ==, !=, <, <=, > or >=" },
	{ "watch without value", "watch mmap if prot &\n", 0, 1, 20,
	  "missing value after '&'; write a number or constants joined with '|'" },
	{ "watch unknown argument name", "watch mmap if prto & 4\n", 0, 1, 15,
	  "mmap has no argument 'prto'; did you mean 'prot'?" },
	{ "watch argument name not known", "watch getpid if pid == 1\n", 0, 1,
	  17,
	  "the argument names of getpid are not known; write arg0 to arg5 for 'pid'" },
	{ "watch argument name differs",
	  "watch mmap,memfd_create if flags & 1\n", 0, 1, 28,
	  "argument 'flags' is arg3 of mmap but arg1 of memfd_create; split the statement into one watch per syscall" },
	{ "watch argument missing in one syscall",
	  "watch mmap,execve if prot & 1\n", 0, 1, 22,
	  "execve has no argument 'prot'; write one of its argument names or arg0 to arg5" },
	{ "watch arg6", "watch mmap if arg6 & 1\n", 0, 1, 15,
	  "argument index 'arg6' is out of range; seccomp sees arguments arg0 to arg5" },
	{ "watch value overflow", "watch mmap if prot == 18446744073709551616\n",
	  0, 1, 23, "number '18446744073709551616' does not fit in 64 bits" },
	{ "watch hex overflow", "watch mmap if prot & 0x10000000000000000\n", 0,
	  1, 22, "number '0x10000000000000000' does not fit in 64 bits" },
	{ "watch bad octal", "watch mmap if prot & 08\n", 0, 1, 22,
	  "invalid number '08'; write a decimal, 0x hexadecimal or 0 octal integer" },
	{ "watch unknown constant", "watch mmap if prot & PROT_EXE\n", 0, 1, 22,
	  "unknown constant 'PROT_EXE'; did you mean 'PROT_EXEC'?" },
	{ "watch unknown constant without suggestion",
	  "watch mmap if prot & FOO_BAR_BAZ\n", 0, 1, 22,
	  "unknown constant 'FOO_BAR_BAZ'; write a number or a PROT_, MAP_, MREMAP_, CLONE_, O_, MFD_, PTRACE_ or AT_ constant" },
	{ "watch trailing tokens", "watch mmap if prot & PROT_EXEC extra\n", 0,
	  1, 32,
	  "unexpected 'extra' after the condition; a watch statement ends with its value" },
	{ "watch terms without bar", "watch mmap if prot & PROT_EXEC PROT_READ\n",
	  0, 1, 32,
	  "unexpected 'PROT_READ' after the condition; a watch statement ends with its value" },
	{ "watch second comparison", "watch mmap if prot == 1 == 2\n", 0, 1, 25,
	  "unexpected '==' after the condition; a watch statement ends with its value" },
	{ "watch double bar", "watch mmap if prot & PROT_READ||PROT_EXEC\n", 0,
	  1, 22, "'|' needs a constant or number on both sides" },
	{ "watch trailing bar", "watch mmap if prot & PROT_READ |\n", 0, 1, 32,
	  "'|' at the end of a value needs a constant or number after it" },
	{ "watch zero mask", "watch mmap if prot & 0\n", 0, 1, 22,
	  "the mask is 0, so the condition never holds" },
	{ "watch value outside mask", "watch mmap if prot & 1 == 2\n", 0, 1, 27,
	  "the value 0x2 has bits outside the mask 0x1, so the condition never holds" },
	{ "offset not a number", "alert direct-syscall offset 0xg1\n", 0, 1,
	  29,
	  "invalid offset '0xg1' for 'offset'; expected a hexadecimal number such as 0x1a40 or a decimal number" },
	{ "offset prefix without digits", "alert direct-syscall offset 0x\n", 0,
	  1, 29,
	  "invalid offset '0x' for 'offset'; expected a hexadecimal number such as 0x1a40 or a decimal number" },
	{ "offset negative", "alert direct-syscall offset -16\n", 0, 1, 29,
	  "invalid offset '-16' for 'offset'; expected a hexadecimal number such as 0x1a40 or a decimal number" },
	{ "offset hex out of range",
	  "alert direct-syscall offset 0x10000000000000000\n", 0, 1, 29,
	  "offset 0x10000000000000000 for 'offset' is out of range; offsets go up to 0xffffffffffffffff" },
	{ "offset decimal out of range",
	  "alert direct-syscall offset 18446744073709551616\n", 0, 1, 29,
	  "offset 18446744073709551616 for 'offset' is out of range; offsets go up to 0xffffffffffffffff" },
	{ "caller-offset bad member",
	  "alert native-api caller-offset 0x10,1f\n", 0, 1, 32,
	  "invalid offset '1f' for 'caller-offset'; expected a hexadecimal number such as 0x1a40 or a decimal number" },
	{ "caller-offset empty member",
	  "alert native-api caller-offset 0x10,\n", 0, 1, 32,
	  "the list '0x10,' has an empty member; remove the extra comma" },
	{ "build-id not hex", "alert direct-syscall build-id 0x1234\n", 0, 1,
	  31,
	  "invalid value '0x1234' for 'build-id'; a build-id contains only hex digits, as readelf -n prints it" },
	{ "build-id odd length", "alert direct-syscall build-id abc\n", 0, 1,
	  31,
	  "invalid value 'abc' for 'build-id'; a build-id has an even number of hex digits, two per byte" },
	{ "build-id too long",
	  "alert direct-syscall build-id "
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "00\n",
	  0, 1, 31,
	  "the build-id for 'build-id' has 130 hex digits, but a build-id has at most 128" },
	{ "build-id odd and too long",
	  "alert direct-syscall build-id "
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0\n",
	  0, 1, 31,
	  "the build-id for 'build-id' has 129 hex digits, but a build-id has at most 128" },
	{ "build-id of 128 digits with a bad one",
	  "alert direct-syscall build-id "
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"
	  "\n",
	  0, 1, 31,
	  "invalid value '0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab...' for 'build-id'; a build-id contains only hex digits, as readelf -n prints it" },
	{ "build-id empty", "alert direct-syscall build-id \"\"\n", 0, 1, 31,
	  "an empty string is not a valid build-id" },
	{ "unknown caller-origin kind",
	  "alert unbacked-caller caller-origin anonymus\n", 0, 1, 37,
	  "unknown origin kind 'anonymus'; did you mean 'anonymous'?" },
	{ "caller-origin missing value", "alert native-api caller-origin\n",
	  0, 1, 18,
	  "missing value after 'caller-origin'; expected an origin kind or a comma-separated list of them" },
	{ "caller-build-id list", "alert native-api caller-build-id ab,cd\n",
	  0, 1, 34,
	  "invalid value 'ab,cd' for 'caller-build-id'; a build-id contains only hex digits, as readelf -n prints it" },
	{ "build-id missing value", "alert direct-syscall build-id\n", 0, 1,
	  22, "missing value after 'build-id'; expected a build-id in hex digits" },
	{ "caller-offset missing value", "alert native-api caller-offset\n", 0,
	  1, 18,
	  "missing value after 'caller-offset'; expected an offset or a comma-separated list of offsets" },
	{ "offset duplicate", "alert direct-syscall offset 1 offset 2\n", 0,
	  1, 31,
	  "duplicate matcher 'offset'; give it once with a comma-separated list of values" },
	{ "build-id misspelled", "alert direct-syscall buildid ab\n", 0, 1, 22,
	  "unknown matcher or option 'buildid'; did you mean 'build-id'?" },
	{ "build-id duplicate", "alert direct-syscall build-id ab build-id cd\n",
	  0, 1, 34,
	  "duplicate matcher 'build-id'; it takes one build-id, so write one rule per build-id" },
	{ "file-build-id not hex", "alert module-load file-build-id xyz1\n", 0,
	  1, 33,
	  "invalid value 'xyz1' for 'file-build-id'; a build-id contains only hex digits, as readelf -n prints it" },
	{ "file-build-id list", "alert exec file-build-id ab,cd\n", 0, 1, 26,
	  "invalid value 'ab,cd' for 'file-build-id'; a build-id contains only hex digits, as readelf -n prints it" },
	{ "file-build-id odd length", "alert exec file-build-id abc\n", 0, 1,
	  26,
	  "invalid value 'abc' for 'file-build-id'; a build-id has an even number of hex digits, two per byte" },
	{ "file-build-id too long",
	  "alert fileless-exec file-build-id "
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "00\n",
	  0, 1, 35,
	  "the build-id for 'file-build-id' has 130 hex digits, but a build-id has at most 128" },
	{ "file-build-id empty", "alert exec file-build-id \"\"\n", 0, 1, 26,
	  "an empty string is not a valid build-id" },
	{ "file-build-id missing value", "alert exec file-build-id\n", 0, 1,
	  12,
	  "missing value after 'file-build-id'; expected a build-id in hex digits" },
	{ "file-build-id duplicate",
	  "alert exec file-build-id ab file-build-id cd\n", 0, 1, 29,
	  "duplicate matcher 'file-build-id'; it takes one build-id, so write one rule per build-id" },
	{ "file-build-id with native-api", "allow native-api file-build-id ab\n",
	  0, 1, 18,
	  "'file-build-id' applies only to module-load, exec and fileless-exec rules, not to native-api rules" },
	{ "file-build-id with direct-syscall",
	  "alert direct-syscall file-build-id ab\n", 0, 1, 22,
	  "'file-build-id' applies only to module-load, exec and fileless-exec rules, not to direct-syscall rules" },
	{ "file-build-id misspelled", "alert exec file-buildid ab\n", 0, 1, 12,
	  "unknown matcher or option 'file-buildid'; did you mean 'file-build-id'?" },
};

Test(policy_diagnostics, reports_each_bad_input)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t length = c->length ? c->length : strlen(c->text);
		struct loaded loaded;

		loaded_init(&loaded);
		loaded.result = policy_load_text(loaded.policy, "test.policy",
						 c->text, length,
						 &loaded.diagnostics);
		expect_only_diagnostic(&loaded, c->label, "test.policy",
				       c->line, c->column, c->message);
		loaded_fini(&loaded);
	}
}

Test(policy_diagnostics, keeps_going_after_errors)
{
	struct loaded loaded;

	load(&loaded, "alert exce\n"
		      "log exec id first\n"
		      "watch mprotet\n"
		      "watch execve\n"
		      "mode audit\n"
		      "alert exec name \"open\n"
		      "log module-load id second\n");
	cr_expect_eq(loaded.result, -EINVAL);
	cr_assert_eq(loaded.diagnostics.count, 4);
	cr_expect_eq(loaded.diagnostics.items[0].line, 1);
	cr_expect_eq(loaded.diagnostics.items[1].line, 3);
	cr_expect_eq(loaded.diagnostics.items[2].line, 5);
	cr_expect_eq(loaded.diagnostics.items[3].line, 6);
	cr_assert_eq(loaded.policy->rule_count, 2);
	cr_expect_str_eq(loaded.policy->rules[0].id, "first");
	cr_expect_str_eq(loaded.policy->rules[1].id, "second");
	cr_expect_eq(loaded.policy->watch_count, 1);
	loaded_fini(&loaded);
}

Test(policy_diagnostics, escapes_control_bytes_in_values)
{
	struct loaded loaded;

	load(&loaded, "alert exec origin \x1b[31m\n");
	expect_only_diagnostic(&loaded, "escape", "test.policy", 1, 19,
			       "unknown origin kind '\\x1b[31m'; valid kinds are unknown, libc, loader, vdso, executable, library, anonymous, heap, stack, memfd and deleted");
	loaded_fini(&loaded);
}

Test(policy_diagnostics, cuts_long_values)
{
	char text[400];
	char expected[200];
	struct loaded loaded;

	snprintf(text, sizeof(text), "alert exec origin %0300d\n", 0);
	snprintf(expected, sizeof(expected),
		 "unknown origin kind '%060d...'; valid kinds are unknown, libc, loader, vdso, executable, library, anonymous, heap, stack, memfd and deleted",
		 0);
	load(&loaded, text);
	expect_only_diagnostic(&loaded, "long value", "test.policy", 1, 19,
			       expected);
	loaded_fini(&loaded);
}

Test(policy_diagnostics, stops_after_too_many_errors)
{
	size_t lines = 1500;
	char *text = malloc(lines * 4 + 1);
	struct loaded loaded;

	cr_assert_not_null(text);
	for (size_t i = 0; i < lines; i++)
		memcpy(text + i * 4, "bad\n", 4);
	text[lines * 4] = '\0';

	load(&loaded, text);
	cr_expect_eq(loaded.result, -EINVAL);
	cr_assert_eq(loaded.diagnostics.count, 1001);
	expect_diagnostic(&loaded.diagnostics.items[1000], "cap",
			  "test.policy", 1000, 1,
			  "loading stopped after 1000 errors; fix these and load the policy again");
	loaded_fini(&loaded);
	free(text);
}

Test(policy_diagnostics, rejects_text_over_4_mib)
{
	size_t length = (4u << 20) + 1;
	char *text = malloc(length);
	struct loaded loaded;

	cr_assert_not_null(text);
	memset(text, '\n', length);
	loaded_init(&loaded);
	loaded.result = policy_load_text(loaded.policy, "big.policy", text,
					 length, &loaded.diagnostics);
	expect_only_diagnostic(&loaded, "4 MiB", "big.policy", 0, 0,
			       "cannot load 'big.policy': it is larger than 4 MiB, the maximum size of a policy file");
	loaded_fini(&loaded);
	free(text);
}

Test(policy_load, spans_modes_and_ids_across_loads)
{
	struct loaded loaded;

	load(&loaded, "mode monitor\nlog exec id shared\n");
	expect_clean(&loaded, "first load");
	load_text(&loaded, "second.policy", "mode monitor\n"
						"mode enforce\n"
						"alert exec id shared\n");
	cr_expect_eq(loaded.result, -EINVAL);
	cr_assert_eq(loaded.diagnostics.count, 2);
	expect_diagnostic(&loaded.diagnostics.items[0], "mode", "second.policy",
			  2, 6,
			  "mode enforce conflicts with mode monitor set at test.policy:1; a policy has one mode");
	expect_diagnostic(&loaded.diagnostics.items[1], "id", "second.policy",
			  3, 15,
			  "duplicate id 'shared'; the rule at test.policy:2 already has it");
	cr_expect_eq(policy_effective_mode(loaded.policy), POLICY_MODE_MONITOR);
	loaded_fini(&loaded);
}

/*
 * Files and includes, in a scratch directory of each test.
 */

/* Short enough that every path below it fits in PATH_MAX. */
static char scratch[256];

static void make_scratch(void)
{
	const char *base = getenv("TMPDIR");

	if (!base || !*base || strlen(base) > 200)
		base = "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/test_policy.XXXXXX", base);
	cr_assert_not_null(mkdtemp(scratch), "mkdtemp: %s", strerror(errno));
}

static int remove_entry(const char *path, const struct stat *status,
			int type, struct FTW *walk)
{
	return remove(path);
}

static void remove_scratch(void)
{
	nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

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

static void load_file(struct loaded *loaded, const char *name)
{
	loaded_init(loaded);
	loaded->result = policy_load_file(loaded->policy, scratch_path(0, name),
					  &loaded->diagnostics);
}

TestSuite(policy_include, .init = make_scratch, .fini = remove_scratch);

Test(policy_include, resolves_relative_to_including_file)
{
	struct loaded loaded;

	cr_assert_eq(mkdir(scratch_path(0, "sub"), 0700), 0);
	write_file("main.policy", "include sub/a.policy\nlog exec id main\n");
	write_file("sub/a.policy", "include \"b rules.policy\"\n");
	write_file("sub/b rules.policy", "log module-load id b\n");

	load_file(&loaded, "main.policy");
	expect_clean(&loaded, "relative include");
	cr_assert_eq(loaded.policy->rule_count, 2);
	cr_expect_str_eq(loaded.policy->rules[0].id, "b");
	cr_expect_str_eq(loaded.policy->rules[0].location.file,
			 scratch_path(1, "sub/b rules.policy"));
	cr_expect_str_eq(loaded.policy->rules[1].id, "main");
	cr_expect_str_eq(loaded.policy->rules[1].location.file,
			 scratch_path(1, "main.policy"));
	loaded_fini(&loaded);
}

Test(policy_include, follows_absolute_paths)
{
	char text[PATH_MAX + 32];
	struct loaded loaded;

	write_file("other.policy", "log exec id other\n");
	snprintf(text, sizeof(text), "include %s\n",
		 scratch_path(1, "other.policy"));
	write_file("main.policy", text);

	load_file(&loaded, "main.policy");
	expect_clean(&loaded, "absolute include");
	cr_assert_eq(loaded.policy->rule_count, 1);
	cr_expect_str_eq(loaded.policy->rules[0].location.file,
			 scratch_path(1, "other.policy"));
	loaded_fini(&loaded);
}

Test(policy_include, reports_missing_file_at_include)
{
	struct loaded loaded;

	write_file("main.policy", "log exec\n  include x.policy\n");
	load_file(&loaded, "main.policy");
	expect_only_diagnostic(&loaded, "missing include",
			       scratch_path(1, "main.policy"), 2, 11,
			       "cannot open 'x.policy': No such file or directory");
	cr_expect_eq(loaded.policy->rule_count, 1);
	loaded_fini(&loaded);
}

Test(policy_include, reports_missing_top_file)
{
	struct loaded loaded;
	char message[2 * PATH_MAX];

	load_file(&loaded, "none.policy");
	snprintf(message, sizeof(message),
		 "cannot open '%s': No such file or directory",
		 scratch_path(1, "none.policy"));
	expect_only_diagnostic(&loaded, "missing file",
			       scratch_path(2, "none.policy"), 0, 0, message);
	loaded_fini(&loaded);
}

Test(policy_include, reports_cycle_with_its_chain)
{
	struct loaded loaded;
	char message[4 * PATH_MAX];

	write_file("a.policy", "log exec id a\ninclude b.policy\n");
	write_file("b.policy", "include ./a.policy\n");
	load_file(&loaded, "a.policy");

	snprintf(message, sizeof(message),
		 "include cycle: '%s' -> '%s' -> '%s'; remove one of these includes",
		 scratch_path(1, "a.policy"), scratch_path(2, "b.policy"),
		 scratch_path(3, "./a.policy"));
	expect_only_diagnostic(&loaded, "cycle", scratch_path(1, "b.policy"), 1,
			       9, message);
	cr_expect_eq(loaded.policy->rule_count, 1);
	loaded_fini(&loaded);
}

Test(policy_include, reports_self_include)
{
	struct loaded loaded;
	char message[3 * PATH_MAX];

	write_file("self.policy", "include self.policy\n");
	load_file(&loaded, "self.policy");
	snprintf(message, sizeof(message),
		 "include cycle: '%s' -> '%s'; remove one of these includes",
		 scratch_path(1, "self.policy"), scratch_path(2, "self.policy"));
	expect_only_diagnostic(&loaded, "self include",
			       scratch_path(1, "self.policy"), 1, 9, message);
	loaded_fini(&loaded);
}

Test(policy_include, allows_the_same_file_twice_without_cycle)
{
	struct loaded loaded;

	write_file("main.policy", "include part.policy\ninclude part.policy\n");
	write_file("part.policy", "log exec\n");
	load_file(&loaded, "main.policy");
	expect_clean(&loaded, "repeated include");
	cr_assert_eq(loaded.policy->rule_count, 2);
	cr_expect_str_neq(loaded.policy->rules[0].id,
			  loaded.policy->rules[1].id);
	loaded_fini(&loaded);
}

/* Writes level0.policy to level<count>.policy, each including the next. */
static void write_include_chain(unsigned int count)
{
	char name[32], text[64];

	for (unsigned int level = 0; level < count; level++) {
		snprintf(name, sizeof(name), "level%u.policy", level);
		snprintf(text, sizeof(text), "include level%u.policy\n",
			 level + 1);
		write_file(name, text);
	}
	snprintf(name, sizeof(name), "level%u.policy", count);
	write_file(name, "log exec id deepest\n");
}

Test(policy_include, allows_16_levels)
{
	struct loaded loaded;

	write_include_chain(16);
	load_file(&loaded, "level0.policy");
	expect_clean(&loaded, "16 levels");
	cr_expect_eq(loaded.policy->rule_count, 1);
	loaded_fini(&loaded);
}

Test(policy_include, rejects_17_levels)
{
	struct loaded loaded;

	write_include_chain(17);
	load_file(&loaded, "level0.policy");
	expect_only_diagnostic(&loaded, "17 levels",
			       scratch_path(1, "level16.policy"), 1, 9,
			       "cannot include 'level17.policy': includes nest more than 16 levels deep");
	cr_expect_eq(loaded.policy->rule_count, 0);
	loaded_fini(&loaded);
}

Test(policy_include, rejects_fifo_without_blocking, .timeout = 10)
{
	struct loaded loaded;

	cr_assert_eq(mkfifo(scratch_path(0, "fifo"), 0600), 0);
	write_file("main.policy", "include fifo\n");
	load_file(&loaded, "main.policy");
	expect_only_diagnostic(&loaded, "FIFO", scratch_path(1, "main.policy"),
			       1, 9,
			       "cannot load 'fifo': it is a FIFO, not a regular file");
	loaded_fini(&loaded);
}

Test(policy_include, rejects_devices_and_directories)
{
	struct loaded loaded;

	cr_assert_eq(mkdir(scratch_path(0, "dir"), 0700), 0);
	write_file("main.policy", "include /dev/zero\ninclude dir\n");
	load_file(&loaded, "main.policy");
	cr_expect_eq(loaded.result, -EINVAL);
	cr_assert_eq(loaded.diagnostics.count, 2);
	expect_diagnostic(&loaded.diagnostics.items[0], "device",
			  scratch_path(1, "main.policy"), 1, 9,
			  "cannot load '/dev/zero': it is a character device, not a regular file");
	expect_diagnostic(&loaded.diagnostics.items[1], "directory",
			  scratch_path(1, "main.policy"), 2, 9,
			  "cannot load 'dir': it is a directory, not a regular file");
	loaded_fini(&loaded);
}

Test(policy_include, rejects_top_file_that_is_not_regular)
{
	struct loaded loaded;

	loaded_init(&loaded);
	loaded.result = policy_load_file(loaded.policy, "/dev/null",
					 &loaded.diagnostics);
	expect_only_diagnostic(&loaded, "device", "/dev/null", 0, 0,
			       "cannot load '/dev/null': it is a character device, not a regular file");
	loaded_fini(&loaded);
}

/* Files in /proc report a size of 0 but have content. */
Test(policy_include, reads_proc_files_past_their_size)
{
	struct loaded loaded;

	write_file("main.policy", "include /proc/sys/kernel/ostype\n");
	load_file(&loaded, "main.policy");
	expect_only_diagnostic(&loaded, "proc", "/proc/sys/kernel/ostype", 1, 1,
			       "unknown statement 'Linux'; a statement starts with mode, include, watch or an action (allow, log, alert, deny, kill)");
	loaded_fini(&loaded);
}

static void write_sized_file(const char *name, size_t size)
{
	char *text = malloc(size + 1);

	cr_assert_not_null(text);
	memset(text, '#', size);
	for (size_t i = 79; i < size; i += 80)
		text[i] = '\n';
	text[size] = '\0';
	write_file(name, text);
	free(text);
}

Test(policy_include, enforces_4_mib_file_limit)
{
	struct loaded loaded;

	write_sized_file("exact.policy", 4u << 20);
	write_sized_file("over.policy", (4u << 20) + 1);
	write_file("main.policy", "include exact.policy\ninclude over.policy\n");
	load_file(&loaded, "main.policy");
	expect_only_diagnostic(&loaded, "4 MiB", scratch_path(1, "main.policy"),
			       2, 9,
			       "cannot load 'over.policy': it is larger than 4 MiB, the maximum size of a policy file");
	loaded_fini(&loaded);
}

Test(policy_include, reports_errors_in_included_file)
{
	struct loaded loaded;

	write_file("main.policy", "mode monitor\ninclude other.policy\n");
	write_file("other.policy", "\n\tmode enforce\n");
	load_file(&loaded, "main.policy");

	char message[2 * PATH_MAX];

	snprintf(message, sizeof(message),
		 "mode enforce conflicts with mode monitor set at %s:1; a policy has one mode",
		 scratch_path(1, "main.policy"));
	expect_only_diagnostic(&loaded, "mode across files",
			       scratch_path(2, "other.policy"), 2, 7, message);
	loaded_fini(&loaded);
}

/*
 * Matching: each matcher against facts written by hand.
 */

static const char *const sshd_chain[] = { "/usr/sbin/sshd", "/usr/bin/bash" };
static const char *const cron_chain[] = { "/usr/sbin/cron" };

/* A native-api call with every fact known, which each case changes. */
#define CALL(...)                                                           \
	{                                                                   \
		.event = EVENT_NATIVE_API, .abi = ABI_X86_64,               \
		.syscall = "ptrace", .origin = ORIGIN_LIBC,                 \
		.module = "/usr/lib/x86_64-linux-gnu/libc.so.6",            \
		.caller = "/opt/app/bin/app", .exe = "/opt/app/bin/app",    \
		.libc_mapped = true, .program_abi = true, .uid_known = true, \
		.uid = 1000, .ancestors = sshd_chain, .ancestor_count = 2,   \
		.offset_known = true, .offset = 0x1a40,                     \
		.build_id = "0123abcd", .caller_offset_known = true,        \
		.caller_offset = 0x1155, .caller_build_id = "89abcdef",     \
		__VA_ARGS__                                                 \
	}

#define LOAD(...)                                                            \
	{                                                                    \
		.event = EVENT_MODULE_LOAD, .abi = ABI_X86_64,               \
		.syscall = "mmap", .origin = ORIGIN_LOADER,                  \
		.path = "/usr/lib/libz.so.1", .file_kind = ORIGIN_LIBRARY,   \
		.file_build_id = "5e1f00aa", .libc_mapped = true,            \
		__VA_ARGS__                                                  \
	}

struct matcher_case {
	const char *rule;
	struct policy_facts facts;
	bool matches;
};

/* CALL() and LOAD() set every fact, and each case overrides some. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const struct matcher_case matcher_cases[] = {
	{ "log native-api", CALL(), true },
	{ "log exec", CALL(), false },
	{ "log syscall ptrace,bpf", CALL(), true },
	{ "log syscall bpf", CALL(), false },
	{ "log syscall ptrace", CALL(.syscall = NULL), false },
	{ "log native-api origin libc,vdso", CALL(), true },
	{ "log native-api origin heap", CALL(), false },
	{ "log native-api module /usr/lib/*/libc.so.*", CALL(), true },
	{ "log native-api module /opt/*", CALL(), false },
	{ "log native-api module *", CALL(.module = NULL), false },
	{ "log native-api caller /opt/app/*", CALL(), true },
	{ "log native-api caller /usr/*", CALL(), false },
	{ "log native-api caller *", CALL(.caller = NULL), false },
	{ "log native-api offset 0x1a40", CALL(), true },
	{ "log native-api offset 6720", CALL(), true },
	{ "log native-api offset 0x10,0X1A40", CALL(), true },
	{ "log native-api offset 0x1a41", CALL(), false },
	{ "log native-api offset 0x1155", CALL(), false },
	{ "log native-api offset 0x1a40", CALL(.offset_known = false), false },
	{ "log native-api offset 0", CALL(.offset_known = false), false },
	{ "log native-api build-id 0123ABCD", CALL(), true },
	{ "log native-api build-id 0123abce", CALL(), false },
	{ "log native-api build-id 0123ab", CALL(), false },
	{ "log native-api build-id 89abcdef", CALL(), false },
	{ "log native-api build-id 0123abcd", CALL(.build_id = NULL), false },
	{ "log native-api caller-offset 0x1155", CALL(), true },
	{ "log native-api caller-offset 4437,0x2000", CALL(), true },
	{ "log native-api caller-offset 0x1a40", CALL(), false },
	{ "log native-api caller-offset 0x1155",
	  CALL(.caller_offset_known = false), false },
	{ "log native-api caller-build-id 89ABCDEF", CALL(), true },
	{ "log native-api caller-build-id 0123abcd", CALL(), false },
	{ "log native-api caller-build-id 89abcdef",
	  CALL(.caller_build_id = NULL), false },
	{ "log native-api caller-origin executable",
	  CALL(.caller_origin_known = true,
	       .caller_origin = ORIGIN_EXECUTABLE),
	  true },
	{ "log native-api caller-origin anonymous,heap",
	  CALL(.caller_origin_known = true, .caller_origin = ORIGIN_HEAP),
	  true },
	{ "log native-api caller-origin anonymous",
	  CALL(.caller_origin_known = true, .caller_origin = ORIGIN_DELETED),
	  false },
	{ "log native-api caller-origin deleted",
	  CALL(.caller_origin_known = true, .caller_origin = ORIGIN_ANONYMOUS),
	  false },
	/* An unknown caller frame is not a frame of kind unknown. */
	{ "log native-api caller-origin unknown",
	  CALL(.caller_origin_known = false), false },
	{ "log native-api caller-origin executable",
	  CALL(.caller_origin_known = false,
	       .caller_origin = ORIGIN_EXECUTABLE),
	  false },
	{ "log native-api caller-origin unknown",
	  CALL(.caller_origin_known = true, .caller_origin = ORIGIN_UNKNOWN),
	  true },
	/* It compares the caller frame's kind, not the instruction's. */
	{ "log native-api caller-origin libc",
	  CALL(.caller_origin_known = true,
	       .caller_origin = ORIGIN_EXECUTABLE),
	  false },
	{ "log native-api offset 0x1a40 build-id 0123abcd "
	  "caller-offset 0x1155 caller-build-id 89abcdef",
	  CALL(), true },
	{ "log native-api offset 0x1a40 build-id 0123abcd "
	  "caller-offset 0x1155 caller-build-id 89abcdef",
	  CALL(.offset = 0x1a42), false },
	{ "log native-api exe /opt/*/app", CALL(), true },
	{ "log native-api exe /usr/bin/*", CALL(), false },
	{ "log native-api exe *", CALL(.exe = NULL), false },
	{ "log native-api ancestor /usr/bin/bash", CALL(), true },
	{ "log native-api ancestor /usr/sbin/sshd,/x", CALL(), true },
	{ "log native-api ancestor /usr/sbin/sshd",
	  CALL(.ancestors = cron_chain, .ancestor_count = 1), false },
	{ "log native-api ancestor *", CALL(.ancestor_count = 0), false },
	{ "log native-api uid 0,1000", CALL(), true },
	{ "log native-api uid 0", CALL(), false },
	{ "log native-api uid 1000", CALL(.uid_known = false), false },
	{ "log native-api arch x86_64", CALL(), true },
	{ "log native-api arch i386,x32", CALL(), false },
	{ "log native-api arch i386", CALL(.abi = ABI_I386), true },
	{ "log native-api has-libc yes", CALL(), true },
	{ "log native-api has-libc no", CALL(), false },
	{ "log native-api program-arch yes", CALL(), true },
	{ "log native-api program-arch no", CALL(), false },
	{ "log module-load path /usr/lib/*", LOAD(), true },
	{ "log module-load path /tmp/*", LOAD(), false },
	{ "log module-load path *", LOAD(.path = NULL), false },
	{ "log module-load path \"/srv/my lib/*\"",
	  LOAD(.path = "/srv/my lib/a.so"), true },
	{ "log module-load file library", LOAD(), true },
	{ "log module-load file memfd,deleted", LOAD(), false },
	{ "log module-load file memfd", LOAD(.file_kind = ORIGIN_MEMFD), true },
	{ "log module-load writable-dir no", LOAD(), true },
	{ "log module-load writable-dir yes", LOAD(), false },
	{ "log module-load writable-dir yes",
	  LOAD(.path_in_writable_dir = true), true },
	{ "log module-load path-known yes", LOAD(), true },
	{ "log module-load path-known no", LOAD(), false },
	{ "log module-load path-known no", LOAD(.path_unknown = true), true },
	{ "log module-load exe /opt/*", LOAD(), false },
	{ "log module-load origin loader syscall mmap", LOAD(), true },
	{ "log module-load source dlopen,dlmopen",
	  LOAD(.load_source = LOAD_SOURCE_DLOPEN), true },
	{ "log module-load source manual-map",
	  LOAD(.load_source = LOAD_SOURCE_DLOPEN), false },
	{ "log module-load source manual-map",
	  LOAD(.load_source = LOAD_SOURCE_MANUAL_MAP), true },
	{ "log module-load source loader",
	  LOAD(.load_source = LOAD_SOURCE_UNKNOWN), false },
	{ "log module-load source unknown", LOAD(), true },
	{ "log module-load file-build-id 5E1F00AA", LOAD(), true },
	{ "log module-load file-build-id 5e1f00ab", LOAD(), false },
	{ "log module-load file-build-id 5e1f", LOAD(), false },
	{ "log module-load file-build-id 5e1f00aa",
	  LOAD(.file_build_id = NULL), false },
	/* It compares the loaded file's build-id, not the mmap caller's. */
	{ "log module-load file-build-id 0123abcd",
	  LOAD(.build_id = "0123abcd"), false },
	{ "log module-load path /usr/lib/* file-build-id 5e1f00aa", LOAD(),
	  true },
	{ "log module-load path /tmp/* file-build-id 5e1f00aa", LOAD(),
	  false },
	{ "log exec file-build-id 5e1f00aa", LOAD(.event = EVENT_EXEC), true },
	{ "log fileless-exec file-build-id 5e1f00aa",
	  LOAD(.event = EVENT_FILELESS_EXEC, .file_kind = ORIGIN_MEMFD), true },
	{ "log exec file-build-id 5e1f00aa",
	  LOAD(.event = EVENT_EXEC, .file_build_id = NULL), false },
};
#pragma GCC diagnostic pop

Test(policy_rule_matches, checks_every_matcher)
{
	for (size_t i = 0; i < ARRAY_SIZE(matcher_cases); i++) {
		const struct matcher_case *c = &matcher_cases[i];
		struct loaded loaded;

		load(&loaded, c->rule);
		expect_clean(&loaded, c->rule);
		cr_assert_eq(loaded.policy->rule_count, 1, "%s", c->rule);
		cr_expect_eq(policy_rule_matches(&loaded.policy->rules[0],
						 &c->facts),
			     c->matches, "%s: expected %s", c->rule,
			     c->matches ? "a match" : "no match");
		loaded_fini(&loaded);
	}
}

Test(policy_match, returns_first_matching_rule)
{
	struct policy_facts facts = CALL();
	struct loaded loaded;
	const struct policy_rule *rule;

	load(&loaded, "allow syscall ptrace exe /usr/bin/gdb id gdb\n"
		      "deny syscall ptrace id no-ptrace\n"
		      "log native-api id any\n");
	expect_clean(&loaded, "first match");

	rule = policy_match(loaded.policy, &facts);
	cr_assert_not_null(rule);
	cr_expect_str_eq(rule->id, "no-ptrace");

	facts.exe = "/usr/bin/gdb";
	rule = policy_match(loaded.policy, &facts);
	cr_assert_not_null(rule);
	cr_expect_str_eq(rule->id, "gdb");

	facts.syscall = "bpf";
	rule = policy_match(loaded.policy, &facts);
	cr_assert_not_null(rule);
	cr_expect_str_eq(rule->id, "any");

	facts.event = EVENT_EXEC;
	cr_expect_null(policy_match(loaded.policy, &facts));
	loaded_fini(&loaded);
}

Test(policy_load, collects_needs_of_rules)
{
	static const struct {
		const char *rule;
		unsigned int needs;
	} cases[] = {
		{ "log exec", 0 },
		{ "log exec uid 0", POLICY_NEEDS_UID },
		{ "log exec ancestor /x", POLICY_NEEDS_ANCESTRY },
		{ "log exec caller /x", POLICY_NEEDS_CALLER },
		{ "log exec offset 0x10", 0 },
		{ "log exec build-id ab", POLICY_NEEDS_BUILD_ID },
		{ "log exec caller-offset 0x10", POLICY_NEEDS_CALLER },
		{ "log exec caller-build-id ab",
		  POLICY_NEEDS_CALLER | POLICY_NEEDS_CALLER_BUILD_ID },
		{ "log exec caller-origin anonymous", POLICY_NEEDS_CALLER },
		{ "log exec exe /x module /y", 0 },
		{ "log exec path /x", 0 },
		{ "log exec file-build-id ab", POLICY_NEEDS_FILE_BUILD_ID },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct loaded loaded;

		load(&loaded, cases[i].rule);
		expect_clean(&loaded, cases[i].rule);
		cr_expect_eq(loaded.policy->needs, cases[i].needs, "%s",
			     cases[i].rule);
		loaded_fini(&loaded);
	}
}

/*
 * Ids and names derived from a rule's canonical text.
 */

static void expected_id(const char *text, char *id, size_t size)
{
	char digest[SHA256_DIGEST_STRING_LENGTH];

	SHA256Data((const uint8_t *)text, strlen(text), digest);
	snprintf(id, size, "p-%.12s", digest);
}

Test(policy_load, derives_ids_and_names_from_text)
{
	char base[32], id[48];
	struct loaded loaded;
	const struct policy_rule *rules;

	expected_id("alert exec path /tmp/* technique T1059", base,
		    sizeof(base));
	snprintf(id, sizeof(id), "log exec id %s-3\n", base);

	load(&loaded, "alert exec   path /tmp/*  technique T1059\n");
	load_text(&loaded, "more.policy", id);
	load_text(&loaded, "more.policy",
		  "alert exec path /tmp/* technique T1059\n"
		  "alert exec technique T1059 path /tmp/*\n"
		  "alert exec path /tmp/* technique T1059 name Named\n");
	expect_clean(&loaded, "derived ids");
	cr_assert_eq(loaded.policy->rule_count, 5);
	rules = loaded.policy->rules;

	cr_expect_str_eq(rules[0].id, base);
	cr_expect_str_eq(rules[0].name,
			 "alert exec path /tmp/* technique T1059");
	cr_expect(rules[0].default_name);
	snprintf(id, sizeof(id), "%s-2", base);
	cr_expect_str_eq(rules[2].id, id);
	snprintf(id, sizeof(id), "%s-4", base);
	cr_expect_str_eq(rules[3].id, id);
	snprintf(id, sizeof(id), "%s-5", base);
	cr_expect_str_eq(rules[4].id, id);
	cr_expect_str_eq(rules[4].name, "Named");
	cr_expect_not(rules[4].default_name);
	loaded_fini(&loaded);
}

/* The canonical text contains the build-id in lower case, so the case of the
 * input does not change the derived id, but the value does. */
Test(policy_load, derives_ids_from_call_site_matchers)
{
	char id[32];
	struct loaded loaded;
	const struct policy_rule *rules;

	load(&loaded, "log native-api build-id ab offset 0x10\n"
		      "log native-api build-id AB offset 16\n"
		      "log native-api build-id cd offset 0x10\n"
		      "log native-api build-id ab offset 0x11\n"
		      "log native-api caller-build-id ab caller-offset 0x10\n");
	expect_clean(&loaded, "call-site ids");
	cr_assert_eq(loaded.policy->rule_count, 5);
	rules = loaded.policy->rules;

	expected_id("log native-api offset 0x10 build-id ab", id, sizeof(id));
	cr_expect_str_eq(rules[0].id, id);
	cr_expect_str_eq(rules[0].name,
			 "log native-api offset 0x10 build-id ab");
	strcat(id, "-2");
	cr_expect_str_eq(rules[1].id, id);
	expected_id("log native-api offset 0x10 build-id cd", id, sizeof(id));
	cr_expect_str_eq(rules[2].id, id);
	expected_id("log native-api offset 0x11 build-id ab", id, sizeof(id));
	cr_expect_str_eq(rules[3].id, id);
	expected_id("log native-api caller-offset 0x10 caller-build-id ab", id,
		    sizeof(id));
	cr_expect_str_eq(rules[4].id, id);
	loaded_fini(&loaded);
}

Test(policy_load, rejects_explicit_id_equal_to_derived_one)
{
	char base[32], text[64], message[128];
	struct loaded loaded;

	expected_id("log exec", base, sizeof(base));
	snprintf(text, sizeof(text), "log exec\nalert exec id %s\n", base);
	snprintf(message, sizeof(message),
		 "duplicate id '%s'; the rule at test.policy:1 already has it",
		 base);
	load(&loaded, text);
	expect_only_diagnostic(&loaded, "derived id reused", "test.policy", 2,
			       15, message);
	loaded_fini(&loaded);
}

/*
 * The default policy.
 */

static struct policy *default_policy(void)
{
	struct policy_diagnostics diagnostics;
	struct policy *policy = policy_new();
	int err;

	cr_assert_not_null(policy);
	policy_diagnostics_init(&diagnostics);
	err = policy_load_default(policy, &diagnostics);
	for (size_t i = 0; i < diagnostics.count; i++)
		cr_expect_fail("%s:%u:%u: %s", diagnostics.items[i].file,
			       diagnostics.items[i].line,
			       diagnostics.items[i].column,
			       diagnostics.items[i].message);
	cr_assert_eq(err, 0);
	cr_assert_eq(diagnostics.count, 0);
	policy_diagnostics_fini(&diagnostics);
	return policy;
}

struct match_case {
	const char *label;
	struct policy_facts facts;
	const char *rule_id; /* NULL: no rule matches */
	enum policy_action action;
};

#define DIRECT(kind, libc)                                               \
	{                                                                \
		.event = EVENT_DIRECT_SYSCALL, .abi = ABI_X86_64,        \
		.syscall = "mprotect", .origin = (kind),                 \
		.libc_mapped = (libc),                                   \
	}

#define MODULE_LOAD(file_path, kind, writable)                          \
	{                                                                \
		.event = EVENT_MODULE_LOAD, .abi = ABI_X86_64,           \
		.syscall = "mmap", .origin = ORIGIN_LOADER,              \
		.path = (file_path), .file_kind = (kind),                \
		.path_in_writable_dir = (writable), .libc_mapped = true, \
	}

#define NATIVE_API(name)                                                  \
	{                                                                 \
		.event = EVENT_NATIVE_API, .abi = ABI_X86_64,             \
		.syscall = (name), .origin = ORIGIN_LIBC,                 \
		.libc_mapped = true,                                      \
	}

static const struct match_case match_cases[] = {
	{ "direct from anonymous", DIRECT(ORIGIN_ANONYMOUS, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from heap", DIRECT(ORIGIN_HEAP, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from stack", DIRECT(ORIGIN_STACK, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from memfd", DIRECT(ORIGIN_MEMFD, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from deleted", DIRECT(ORIGIN_DELETED, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from unknown", DIRECT(ORIGIN_UNKNOWN, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from anonymous without libc",
	  DIRECT(ORIGIN_ANONYMOUS, false), "nm-0002", POLICY_ALERT },
	{ "direct from static executable", DIRECT(ORIGIN_EXECUTABLE, false),
	  "nm-0003", POLICY_LOG },
	{ "direct from library without libc", DIRECT(ORIGIN_LIBRARY, false),
	  "nm-0003", POLICY_LOG },
	{ "direct from executable with libc",
	  DIRECT(ORIGIN_EXECUTABLE, true), "nm-0004", POLICY_ALERT },
	{ "direct from library with libc", DIRECT(ORIGIN_LIBRARY, true),
	  "nm-0004", POLICY_ALERT },
	{ "non-native ABI",
	  { .event = EVENT_NON_NATIVE_ABI, .abi = ABI_I386,
	    .syscall = "execve", .origin = ORIGIN_EXECUTABLE },
	  "nm-0001", POLICY_ALERT },
	{ "non-native ABI of an i386 program",
	  { .event = EVENT_NON_NATIVE_ABI, .abi = ABI_I386,
	    .syscall = "execve", .origin = ORIGIN_EXECUTABLE,
	    .program_abi = true },
	  "nm-0013", POLICY_LOG },
	{ "libc called from anonymous memory",
	  { .event = EVENT_UNBACKED_CALLER, .abi = ABI_X86_64,
	    .syscall = "memfd_create", .origin = ORIGIN_LIBC,
	    .libc_mapped = true },
	  "nm-0014", POLICY_ALERT },
	{ "stack pointer in the heap",
	  { .event = EVENT_STACK_PIVOT, .abi = ABI_X86_64,
	    .syscall = "mprotect", .origin = ORIGIN_LIBC,
	    .libc_mapped = true },
	  "nm-0015", POLICY_ALERT },
	{ "fileless exec",
	  { .event = EVENT_FILELESS_EXEC, .abi = ABI_X86_64,
	    .syscall = "execveat", .origin = ORIGIN_LIBC,
	    .path = "/memfd:payload", .file_kind = ORIGIN_MEMFD },
	  "nm-0005", POLICY_ALERT },
	{ "module from memfd", MODULE_LOAD("/memfd:lib", ORIGIN_MEMFD, false),
	  "nm-0006", POLICY_ALERT },
	{ "module from deleted file",
	  MODULE_LOAD("/opt/app/old.so", ORIGIN_DELETED, false), "nm-0006",
	  POLICY_ALERT },
	{ "module from /tmp",
	  MODULE_LOAD("/tmp/x/lib.so", ORIGIN_LIBRARY, true), "nm-0007",
	  POLICY_ALERT },
	{ "module from /dev/shm",
	  MODULE_LOAD("/dev/shm/lib.so", ORIGIN_LIBRARY, false), "nm-0007",
	  POLICY_ALERT },
	{ "module from /var/tmp",
	  MODULE_LOAD("/var/tmp/lib.so", ORIGIN_LIBRARY, false), "nm-0007",
	  POLICY_ALERT },
	{ "module from writable directory",
	  MODULE_LOAD("/srv/upload/lib.so", ORIGIN_LIBRARY, true), "nm-0008",
	  POLICY_ALERT },
	{ "module from system directory",
	  MODULE_LOAD("/usr/lib/x86_64-linux-gnu/libm.so.6", ORIGIN_LIBRARY,
		      false),
	  "nm-0009", POLICY_LOG },
	{ "module with unknown path", MODULE_LOAD(NULL, ORIGIN_LIBRARY, false),
	  "nm-0009", POLICY_LOG },
	{ "module with unreadable path",
	  { .event = EVENT_MODULE_LOAD, .abi = ABI_X86_64, .syscall = "mmap",
	    .origin = ORIGIN_LOADER, .path_unknown = true,
	    .file_kind = ORIGIN_LIBRARY, .libc_mapped = true },
	  "nm-0012", POLICY_ALERT },
	{ "exec",
	  { .event = EVENT_EXEC, .abi = ABI_X86_64, .syscall = "execve",
	    .origin = ORIGIN_LIBC, .path = "/usr/bin/ls",
	    .file_kind = ORIGIN_LIBRARY, .libc_mapped = true },
	  "nm-0010", POLICY_LOG },
	{ "ptrace", NATIVE_API("ptrace"), "nm-0011", POLICY_LOG },
	{ "process_vm_writev", NATIVE_API("process_vm_writev"), "nm-0011",
	  POLICY_LOG },
	{ "finit_module", NATIVE_API("finit_module"), "nm-0011", POLICY_LOG },
	{ "memfd_create", NATIVE_API("memfd_create"), NULL, POLICY_ALLOW },
	{ "mprotect", NATIVE_API("mprotect"), NULL, POLICY_ALLOW },
	{ "unknown syscall name", NATIVE_API(NULL), NULL, POLICY_ALLOW },
};

Test(policy_match, applies_default_rules)
{
	struct policy *policy = default_policy();
	size_t n = ARRAY_SIZE(match_cases);

	for (size_t i = 0; i < n; i++) {
		const struct match_case *c = &match_cases[i];
		const struct policy_rule *rule;

		rule = policy_match(policy, &c->facts);

		if (!c->rule_id) {
			cr_expect_null(rule, "%s: matched %s", c->label,
				       rule ? rule->id : "");
			continue;
		}
		cr_expect_not_null(rule, "%s: no rule matched", c->label);
		if (!rule)
			continue;
		cr_expect_str_eq(rule->id, c->rule_id,
				 "%s: matched %s, expected %s", c->label,
				 rule->id, c->rule_id);
		cr_expect_eq(rule->action, c->action,
			     "%s: action %s, expected %s", c->label,
			     policy_action_name(rule->action),
			     policy_action_name(c->action));
	}
	policy_free(policy);
}

#define FILELESS_OR_UNKNOWN                                                  \
	(ORIGIN_BIT(ORIGIN_ANONYMOUS) | ORIGIN_BIT(ORIGIN_HEAP) |            \
	 ORIGIN_BIT(ORIGIN_STACK) | ORIGIN_BIT(ORIGIN_MEMFD) |               \
	 ORIGIN_BIT(ORIGIN_DELETED) | ORIGIN_BIT(ORIGIN_UNKNOWN))

static const char *const temporary_places[] = {
	"/tmp/*", "/var/tmp/*", "/dev/shm/*", "/run/user/*", NULL,
};

static const char *const sensitive_syscalls[] = {
	"ptrace",	   "process_vm_readv", "process_vm_writev",
	"init_module",	   "finit_module",     "kexec_load",
	"kexec_file_load", "bpf",	       "perf_event_open",
	"userfaultfd",	   "io_uring_setup",   "unshare",
	"setns",	   "clone",	       NULL,
};

/* The rules of the default policy, field by field. */
struct default_rule {
	const char *id, *name, *techniques;
	enum policy_action action;
	int severity;
	enum policy_event event;
	uint32_t origins, file_kinds, load_sources, abis;
	const char *const *paths;
	const char *const *syscalls;
	enum policy_tristate writable_dir, path_unknown, libc_mapped,
		program_abi;
};

#define RULE(rule_id, rule_name, rule_techniques, rule_action,         \
	     rule_severity, rule_event, ...)                               \
	{                                                                  \
		.id = rule_id, .name = rule_name,                          \
		.techniques = rule_techniques, .action = rule_action,      \
		.severity = rule_severity, .event = rule_event,            \
		__VA_ARGS__                                                \
	}

static const struct default_rule default_rules[] = {
	RULE("nm-0013", "Syscall of a program built for that ABI", "T1106",
	     POLICY_LOG, 0, EVENT_NON_NATIVE_ABI, .program_abi = POLICY_YES),
	RULE("nm-0001", "Syscall through a non-native ABI", "T1106",
	     POLICY_ALERT, 73, EVENT_NON_NATIVE_ABI),
	RULE("nm-0002", "Direct syscall from file-less or unknown memory",
	     "T1106,T1620", POLICY_ALERT, 73, EVENT_DIRECT_SYSCALL,
	     .origins = FILELESS_OR_UNKNOWN),
	RULE("nm-0003", "Direct syscall from a program without libc", "T1106",
	     POLICY_LOG, 21, EVENT_DIRECT_SYSCALL,
	     .origins = ORIGIN_BIT(ORIGIN_EXECUTABLE) |
			ORIGIN_BIT(ORIGIN_LIBRARY),
	     .libc_mapped = POLICY_NO),
	RULE("nm-0004", "Direct syscall bypassing libc", "T1106", POLICY_ALERT,
	     47, EVENT_DIRECT_SYSCALL),
	RULE("nm-0014", "Syscall through libc called from file-less memory",
	     "T1106,T1620", POLICY_ALERT, 73, EVENT_UNBACKED_CALLER),
	RULE("nm-0015",
	     "Syscall with the stack pointer outside the thread's stack",
	     "T1106", POLICY_ALERT, 73, EVENT_STACK_PIVOT),
	RULE("nm-0005", "Execution of a memfd or deleted file", "T1620,T1106",
	     POLICY_ALERT, 73, EVENT_FILELESS_EXEC),
	RULE("nm-0006", "Code mapped from a memfd or deleted file", "T1620",
	     POLICY_ALERT, 73, EVENT_MODULE_LOAD,
	     .file_kinds = ORIGIN_BIT(ORIGIN_MEMFD) |
			   ORIGIN_BIT(ORIGIN_DELETED)),
	RULE("nm-0016",
	     "Library mapped executable by code other than the loader",
	     "T1620", POLICY_ALERT, 73, EVENT_MODULE_LOAD,
	     .load_sources = 1u << LOAD_SOURCE_MANUAL_MAP),
	RULE("nm-0007", "Code mapped from a temporary directory", "T1129",
	     POLICY_ALERT, 47, EVENT_MODULE_LOAD, .paths = temporary_places),
	RULE("nm-0008", "Code mapped from a world-writable directory", "T1129",
	     POLICY_ALERT, 47, EVENT_MODULE_LOAD, .writable_dir = POLICY_YES),
	RULE("nm-0012", "Code mapped from a file whose path cannot be read",
	     "T1129", POLICY_ALERT, 47, EVENT_MODULE_LOAD,
	     .path_unknown = POLICY_YES),
	RULE("nm-0009", "Module load", "T1129", POLICY_LOG, 0,
	     EVENT_MODULE_LOAD),
	RULE("nm-0010", "Process start", "", POLICY_LOG, 0, EVENT_EXEC),
	/* Names in syscalls are compared with the caller's ABI's name, so
	 * this rule is for native calls only. */
	RULE("nm-0011", "Injection or kernel-facing syscall", "T1106",
	     POLICY_LOG, 21, EVENT_NATIVE_API, .abis = ABI_BIT(ABI_X86_64),
	     .syscalls = sensitive_syscalls),
};

Test(policy_default, has_the_default_rules)
{
	struct policy *policy = default_policy();

	cr_assert_eq(policy->rule_count, ARRAY_SIZE(default_rules));
	for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++) {
		const struct default_rule *want = &default_rules[i];
		const struct policy_rule *rule = &policy->rules[i];

		cr_expect_str_eq(rule->id, want->id, "rule %zu", i);
		cr_expect_str_eq(rule->name, want->name, "%s", want->id);
		cr_expect_str_eq(rule->techniques, want->techniques, "%s",
				 want->id);
		cr_expect_eq(rule->action, want->action, "%s", want->id);
		cr_expect_eq(rule->severity, want->severity, "%s", want->id);
		cr_expect_eq(rule->event, want->event, "%s", want->id);
		cr_expect_eq(rule->origins, want->origins, "%s", want->id);
		cr_expect_eq(rule->file_kinds, want->file_kinds, "%s",
			     want->id);
		cr_expect_eq(rule->load_sources, want->load_sources, "%s",
			     want->id);
		cr_expect_eq(rule->abis, want->abis, "%s", want->id);
		cr_expect(list_equals(rule->paths, want->paths), "%s",
			  want->id);
		cr_expect(list_equals(rule->syscalls, want->syscalls), "%s",
			  want->id);
		cr_expect_null(rule->modules, "%s", want->id);
		cr_expect_null(rule->callers, "%s", want->id);
		cr_expect_null(rule->exes, "%s", want->id);
		cr_expect_null(rule->ancestors, "%s", want->id);
		cr_expect_eq(rule->uid_count, 0, "%s", want->id);
		cr_expect_eq(rule->writable_dir, want->writable_dir, "%s",
			     want->id);
		cr_expect_eq(rule->path_unknown, want->path_unknown, "%s",
			     want->id);
		cr_expect_eq(rule->libc_mapped, want->libc_mapped, "%s",
			     want->id);
		cr_expect_eq(rule->program_abi, want->program_abi, "%s",
			     want->id);
		cr_expect_str_eq(rule->location.file, "<default>");
	}
	cr_expect_eq(policy->mode, POLICY_MODE_UNSET);
	cr_expect_eq(policy->needs, 0);
	policy_free(policy);
}

#define CLONE_NAMESPACES                                                    \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |      \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

#define ALWAYS(name, number)                                           \
	{ .syscall = name, .nr = number, .compare = POLICY_ALWAYS }
#define MASKED(name, number, index, bits)                              \
	{                                                              \
		.syscall = name, .nr = number, .compare = POLICY_MASK_ANY, \
		.arg = index, .mask = bits                             \
	}

static const struct policy_watch default_watches[] = {
	ALWAYS("execve", 59),
	ALWAYS("execveat", 322),
	MASKED("mmap", 9, 2, PROT_EXEC),
	MASKED("mprotect", 10, 2, PROT_EXEC),
	MASKED("pkey_mprotect", 329, 2, PROT_EXEC),
	MASKED("mremap", 25, 3, MREMAP_FIXED),
	MASKED("shmat", 30, 2, SHM_EXEC),
	MASKED("personality", 135, 0, READ_IMPLIES_EXEC),
	ALWAYS("memfd_create", 319),
	ALWAYS("ptrace", 101),
	ALWAYS("process_vm_readv", 310),
	ALWAYS("process_vm_writev", 311),
	ALWAYS("init_module", 175),
	ALWAYS("finit_module", 313),
	ALWAYS("kexec_load", 246),
	ALWAYS("kexec_file_load", 320),
	ALWAYS("bpf", 321),
	ALWAYS("perf_event_open", 298),
	ALWAYS("userfaultfd", 323),
	ALWAYS("io_uring_setup", 425),
	ALWAYS("unshare", 272),
	ALWAYS("setns", 308),
	MASKED("clone", 56, 0, CLONE_NAMESPACES),
};

Test(policy_default, has_the_default_watch_set)
{
	struct policy *policy = default_policy();

	cr_assert_eq(policy->watch_count, ARRAY_SIZE(default_watches));
	for (size_t i = 0; i < ARRAY_SIZE(default_watches); i++) {
		const struct policy_watch *want = &default_watches[i];
		const struct policy_watch *watch = &policy->watches[i];

		cr_expect_str_eq(watch->syscall, want->syscall, "watch %zu", i);
		cr_expect_eq(watch->nr, want->nr, "%s", want->syscall);
		cr_expect_eq(watch->nr,
			     seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
							       want->syscall),
			     "%s", want->syscall);
		cr_expect_eq(watch->compare, want->compare, "%s",
			     want->syscall);
		cr_expect_eq(watch->arg, want->arg, "%s", want->syscall);
		cr_expect_eq(watch->mask, want->mask, "%s", want->syscall);
		cr_expect_eq(watch->value, 0, "%s", want->syscall);
	}
	policy_free(policy);
}

/* A misspelt name would silently match nothing. */
Test(policy_default, names_only_known_syscalls)
{
	struct policy *policy = default_policy();

	for (size_t i = 0; i < policy->rule_count; i++) {
		char *const *names = policy->rules[i].syscalls;

		for (; names && *names; names++)
			cr_expect_geq(seccomp_syscall_resolve_name_arch(
					      SCMP_ARCH_X86_64, *names),
				      0, "%s: unknown syscall \"%s\"",
				      policy->rules[i].id, *names);
	}
	policy_free(policy);
}

/*
 * Formatting: parsing the output gives the same rule or watch.
 */

static bool string_equals(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static void expect_same_offsets(const struct policy_offsets *a,
				const struct policy_offsets *b,
				const char *label, const char *what)
{
	cr_expect_eq(a->count, b->count, "%s: %s count", label, what);
	for (size_t i = 0; i < a->count && i < b->count; i++)
		cr_expect_eq(a->values[i], b->values[i], "%s: %s %zu", label,
			     what, i);
}

static void expect_same_rule(const struct policy_rule *a,
			     const struct policy_rule *b, const char *label)
{
	cr_expect(string_equals(a->id, b->id), "%s: id", label);
	cr_expect(string_equals(a->name, b->name), "%s: name", label);
	cr_expect_eq(a->default_name, b->default_name, "%s: default name",
		     label);
	cr_expect_eq(a->action, b->action, "%s: action", label);
	cr_expect_eq(a->severity, b->severity, "%s: severity", label);
	cr_expect(string_equals(a->techniques, b->techniques),
		  "%s: techniques", label);
	cr_expect_eq(a->deny_errno, b->deny_errno, "%s: errno", label);
	cr_expect_eq(a->event, b->event, "%s: event", label);
	cr_expect(list_equals(a->syscalls, (const char *const *)b->syscalls),
		  "%s: syscalls", label);
	cr_expect_eq(a->origins, b->origins, "%s: origins", label);
	cr_expect_eq(a->file_kinds, b->file_kinds, "%s: file kinds", label);
	cr_expect_eq(a->load_sources, b->load_sources, "%s: load sources",
		     label);
	cr_expect_eq(a->abis, b->abis, "%s: abis", label);
	cr_expect(list_equals(a->modules, (const char *const *)b->modules),
		  "%s: modules", label);
	cr_expect(list_equals(a->callers, (const char *const *)b->callers),
		  "%s: callers", label);
	expect_same_offsets(&a->offsets, &b->offsets, label, "offsets");
	cr_expect(string_equals(a->build_id, b->build_id), "%s: build-id",
		  label);
	expect_same_offsets(&a->caller_offsets, &b->caller_offsets, label,
			    "caller offsets");
	cr_expect(string_equals(a->caller_build_id, b->caller_build_id),
		  "%s: caller build-id", label);
	cr_expect_eq(a->caller_origins, b->caller_origins,
		     "%s: caller origins", label);
	cr_expect(list_equals(a->paths, (const char *const *)b->paths),
		  "%s: paths", label);
	cr_expect(string_equals(a->file_build_id, b->file_build_id),
		  "%s: file-build-id", label);
	cr_expect(list_equals(a->exes, (const char *const *)b->exes),
		  "%s: exes", label);
	cr_expect(list_equals(a->ancestors, (const char *const *)b->ancestors),
		  "%s: ancestors", label);
	cr_expect_eq(a->uid_count, b->uid_count, "%s: uid count", label);
	for (size_t i = 0; i < a->uid_count && i < b->uid_count; i++)
		cr_expect_eq(a->uids[i], b->uids[i], "%s: uid %zu", label, i);
	cr_expect_eq(a->writable_dir, b->writable_dir, "%s: writable-dir",
		     label);
	cr_expect_eq(a->path_unknown, b->path_unknown, "%s: path-known",
		     label);
	cr_expect_eq(a->libc_mapped, b->libc_mapped, "%s: has-libc", label);
	cr_expect_eq(a->program_abi, b->program_abi, "%s: program-arch",
		     label);
}

static char *format_rule_text(const struct policy_rule *rule)
{
	int length = policy_rule_format(rule, NULL, 0);
	char *text;

	cr_assert_geq(length, 0);
	text = malloc((size_t)length + 1);
	cr_assert_not_null(text);
	cr_assert_eq(policy_rule_format(rule, text, (size_t)length + 1),
		     length);
	cr_assert_eq(strlen(text), (size_t)length);
	return text;
}

static void expect_rule_round_trip(const struct policy_rule *rule)
{
	char *text = format_rule_text(rule);
	struct loaded loaded;
	char *again;

	load(&loaded, text);
	expect_clean(&loaded, text);
	cr_assert_eq(loaded.policy->rule_count, 1, "%s", text);
	expect_same_rule(&loaded.policy->rules[0], rule, text);

	again = format_rule_text(&loaded.policy->rules[0]);
	cr_expect_str_eq(again, text);
	free(again);
	free(text);
	loaded_fini(&loaded);
}

static void expect_watch_round_trip(const struct policy_watch *watch,
				    const char *expected)
{
	char text[512];
	struct loaded loaded;
	const struct policy_watch *parsed;

	cr_assert_lt(policy_watch_format(watch, text, sizeof(text)),
		     (int)sizeof(text));
	if (expected)
		cr_expect_str_eq(text, expected);

	load(&loaded, text);
	expect_clean(&loaded, text);
	cr_assert_eq(loaded.policy->watch_count, 1, "%s", text);
	parsed = &loaded.policy->watches[0];
	cr_expect_str_eq(parsed->syscall, watch->syscall, "%s", text);
	cr_expect_eq(parsed->nr, watch->nr, "%s", text);
	cr_expect_eq(parsed->compare, watch->compare, "%s", text);
	cr_expect_eq(parsed->arg, watch->arg, "%s", text);
	cr_expect_eq(parsed->mask, watch->mask, "%s", text);
	cr_expect_eq(parsed->value, watch->value, "%s", text);
	loaded_fini(&loaded);
}

Test(policy_format, round_trips_default_rules)
{
	struct policy *policy = default_policy();

	for (size_t i = 0; i < policy->rule_count; i++)
		expect_rule_round_trip(&policy->rules[i]);
	policy_free(policy);
}

Test(policy_format, round_trips_default_watches)
{
	static const char *const expected[] = {
		[2] = "watch mmap if prot & PROT_EXEC",
		[5] = "watch mremap if flags & MREMAP_FIXED",
		[6] = "watch shmat if shmflg & SHM_EXEC",
		[22] = "watch clone if flags & CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET",
	};
	struct policy *policy = default_policy();

	cr_assert_eq(policy->watch_count, 23);
	for (size_t i = 0; i < policy->watch_count; i++)
		expect_watch_round_trip(&policy->watches[i],
					i < ARRAY_SIZE(expected) ? expected[i]
								 : NULL);
	policy_free(policy);
}

Test(policy_format, writes_canonical_rules)
{
	static const struct {
		const char *input, *output;
	} cases[] = {
		{ "log syscall ptrace", "log native-api syscall ptrace id " },
		{ "deny exec errno EPERM severity 47 id x",
		  "deny exec id x" },
		{ "deny exec errno EACCES severity 10 id x",
		  "deny exec severity 10 errno EACCES id x" },
		/* Aliases take the name strerrorname_np(3) gives. */
		{ "deny exec errno EWOULDBLOCK id x",
		  "deny exec errno EAGAIN id x" },
		{ "deny exec errno ENOTSUP id x",
		  "deny exec errno EOPNOTSUPP id x" },
		{ "kill exec program-arch no path-known yes has-libc yes writable-dir no arch i386 uid 7 id x",
		  "kill exec uid 7 arch i386 writable-dir no path-known yes has-libc yes program-arch no id x" },
		{ "alert exec path \"/a b\" id x name \"say \\\"hi\\\"\"",
		  "alert exec path \"/a b\" id x name \"say \\\"hi\\\"\"" },
		{ "alert exec path \"a,b\" id x", "alert exec path \"a,b\" id x" },
		{ "alert exec path \"#a\" id x", "alert exec path \"#a\" id x" },
		{ "alert exec path \"\\\"a\" id x",
		  "alert exec path \"\\\"a\" id x" },
		{ "alert exec path \"a\\\\\" id x",
		  "alert exec path \"a\\\\\" id x" },
		{ "alert exec path a\\b\\ id x",
		  "alert exec path \"a\\\\b\\\\\" id x" },
		{ "alert exec path a,b\"c,#d id x",
		  "alert exec path a,b\"c,#d id x" },
		{ "alert direct-syscall caller-build-id AB caller-offset 10 "
		  "build-id CD offset 0X1F,16,0x0 id x",
		  "alert direct-syscall offset 0x1f,0x10,0x0 build-id cd "
		  "caller-offset 0xa caller-build-id ab id x" },
		{ "alert unbacked-caller caller-origin deleted,anonymous "
		  "caller-build-id AB origin libc exe /bin/* id x",
		  "alert unbacked-caller origin libc caller-build-id ab "
		  "caller-origin anonymous,deleted exe /bin/* id x" },
		{ "alert direct-syscall offset 18446744073709551615 id x",
		  "alert direct-syscall offset 0xffffffffffffffff id x" },
		{ "alert module-load source dlopen file-build-id AB01 "
		  "exe /bin/* path /opt/*.so build-id CD id x",
		  "alert module-load build-id cd path /opt/*.so "
		  "file-build-id ab01 exe /bin/* source dlopen id x" },
		{ "log exec file-build-id 00FF id x",
		  "log exec file-build-id 00ff id x" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct loaded loaded;
		char *text;

		load(&loaded, cases[i].input);
		expect_clean(&loaded, cases[i].input);
		cr_assert_eq(loaded.policy->rule_count, 1);
		text = format_rule_text(&loaded.policy->rules[0]);
		cr_expect_eq(strncmp(text, cases[i].output,
				     strlen(cases[i].output)),
			     0, "%s: formatted as %s", cases[i].input, text);
		expect_rule_round_trip(&loaded.policy->rules[0]);
		free(text);
		loaded_fini(&loaded);
	}
}

Test(policy_format, round_trips_every_form)
{
	struct loaded loaded;

	load(&loaded, every_form);
	expect_clean(&loaded, "every form");
	for (size_t i = 0; i < loaded.policy->rule_count; i++)
		expect_rule_round_trip(&loaded.policy->rules[i]);
	for (size_t i = 0; i < loaded.policy->watch_count; i++)
		expect_watch_round_trip(&loaded.policy->watches[i], NULL);
	loaded_fini(&loaded);
}

Test(policy_format, writes_watch_conditions)
{
	static const struct {
		const char *input, *output;
	} cases[] = {
		{ "watch openat if flags & O_CREAT|O_TMPFILE",
		  "watch openat if flags & O_TMPFILE|O_CREAT" },
		{ "watch mmap if prot & 6 == 4",
		  "watch mmap if prot & PROT_WRITE|PROT_EXEC == PROT_EXEC" },
		{ "watch ptrace if arg0 == 16",
		  "watch ptrace if request == PTRACE_ATTACH" },
		{ "watch ptrace if request < 1000",
		  "watch ptrace if request < 1000" },
		{ "watch openat if dirfd == AT_FDCWD",
		  "watch openat if dirfd == AT_FDCWD" },
		{ "watch mmap if flags & 0x80000000",
		  "watch mmap if flags & 0x80000000" },
		{ "watch getpid if arg5 >= 0777", "watch getpid if arg5 >= 511" },
		{ "watch prctl if arg1 > 0xffffffffffffffff",
		  "watch prctl if arg1 > 18446744073709551615" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct loaded loaded;

		load(&loaded, cases[i].input);
		expect_clean(&loaded, cases[i].input);
		cr_assert_eq(loaded.policy->watch_count, 1);
		expect_watch_round_trip(&loaded.policy->watches[0],
					cases[i].output);
		loaded_fini(&loaded);
	}
}

Test(policy_format, returns_full_length_when_truncated)
{
	struct policy *policy = default_policy();
	char small[8];
	int length = policy_rule_format(&policy->rules[0], small,
					sizeof(small));

	cr_expect_gt(length, (int)sizeof(small));
	cr_expect_eq(strlen(small), sizeof(small) - 1);
	cr_expect_eq(policy_watch_format(&policy->watches[2], small,
					 sizeof(small)),
		     (int)strlen("watch mmap if prot & PROT_EXEC"));
	policy_free(policy);
}

/*
 * Names of the enumerations, as events and policies write them.
 */

static const char *const origin_names[] = {
	[ORIGIN_UNKNOWN] = "unknown",	[ORIGIN_LIBC] = "libc",
	[ORIGIN_LOADER] = "loader",	[ORIGIN_VDSO] = "vdso",
	[ORIGIN_EXECUTABLE] = "executable", [ORIGIN_LIBRARY] = "library",
	[ORIGIN_ANONYMOUS] = "anonymous", [ORIGIN_HEAP] = "heap",
	[ORIGIN_STACK] = "stack",	[ORIGIN_MEMFD] = "memfd",
	[ORIGIN_DELETED] = "deleted",
};

static const char *const event_names[] = {
	[EVENT_NATIVE_API] = "native-api",
	[EVENT_DIRECT_SYSCALL] = "direct-syscall",
	[EVENT_UNBACKED_CALLER] = "unbacked-caller",
	[EVENT_NON_NATIVE_ABI] = "non-native-abi",
	[EVENT_FILELESS_EXEC] = "fileless-exec",
	[EVENT_MODULE_LOAD] = "module-load",
	[EVENT_STACK_PIVOT] = "stack-pivot",
	[EVENT_EXEC] = "exec",
};

static const char *const abi_names[] = {
	[ABI_X86_64] = "x86_64",
	[ABI_I386] = "i386",
	[ABI_X32] = "x32",
	[ABI_UNKNOWN] = "unknown",
};

static const char *const action_names[] = {
	[POLICY_ALLOW] = "allow", [POLICY_LOG] = "log",
	[POLICY_ALERT] = "alert", [POLICY_DENY] = "deny",
	[POLICY_KILL] = "kill",
};

static const char *const mode_names[] = {
	[POLICY_MODE_UNSET] = "unset",
	[POLICY_MODE_MONITOR] = "monitor",
	[POLICY_MODE_ENFORCE] = "enforce",
};

Test(origin_kind_name, names_every_kind)
{
	for (int kind = 0; kind < ORIGIN_KIND_COUNT; kind++)
		cr_expect_str_eq(origin_kind_name(kind), origin_names[kind],
				 "kind %d", kind);
	cr_expect_str_eq(origin_kind_name(ORIGIN_KIND_COUNT), "unknown");
	cr_expect_str_eq(origin_kind_name((enum origin_kind)-1), "unknown");
}

Test(load_source_name, names_every_source)
{
	static const char *const names[] = {
		"unknown", "loader", "dlopen", "dlmopen", "manual-map",
	};

	cr_assert_eq(ARRAY_SIZE(names), LOAD_SOURCE_COUNT);
	for (int source = 0; source < LOAD_SOURCE_COUNT; source++)
		cr_expect_str_eq(load_source_name(source), names[source],
				 "source %d", source);
	cr_expect_str_eq(load_source_name(LOAD_SOURCE_COUNT), "unknown");
}

Test(policy_event_name, names_every_event)
{
	for (int event = 0; event < EVENT_COUNT; event++)
		cr_expect_str_eq(policy_event_name(event), event_names[event],
				 "event %d", event);
	cr_expect_str_eq(policy_event_name(EVENT_COUNT), "unknown");
	cr_expect_str_eq(policy_event_name((enum policy_event)-1), "unknown");
}

Test(abi_name, names_every_abi)
{
	for (int abi = 0; abi <= ABI_UNKNOWN; abi++)
		cr_expect_str_eq(abi_name(abi), abi_names[abi], "abi %d", abi);
	cr_expect_str_eq(abi_name((enum abi)(ABI_UNKNOWN + 1)), "unknown");
	cr_expect_str_eq(abi_name((enum abi)-1), "unknown");
}

Test(policy_action_name, names_every_action)
{
	for (int action = 0; action <= POLICY_KILL; action++)
		cr_expect_str_eq(policy_action_name(action),
				 action_names[action], "action %d", action);
	cr_expect_str_eq(policy_action_name((enum policy_action)7),
			 "unknown");
}

Test(policy_mode_name, names_every_mode)
{
	for (int mode = 0; mode <= POLICY_MODE_ENFORCE; mode++)
		cr_expect_str_eq(policy_mode_name(mode), mode_names[mode],
				 "mode %d", mode);
	cr_expect_str_eq(policy_mode_name((enum policy_mode)9), "unknown");
}
