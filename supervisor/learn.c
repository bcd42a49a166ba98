/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Learning: each finding becomes the narrowest rule that the policy
 * language can write for it. A call site is the file and offset of the
 * syscall instruction with its build-id, plus the caller frame's file,
 * offset and build-id, so a rebuilt binary or a new caller is a new site.
 * Code in memory without a file has no stable address, so its calls are
 * pinned to the kind of memory and the executable instead.
 */
#include "learn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "profile.h"
#include "replace.h"
#include "run.h"
#include "target.h"

/* Bytes of a command line shown as the example of a rule. */
#define EXAMPLE_MAX 120

/* Room for a path with every byte escaped. */
#define GLOB_MAX (2 * TARGET_PATH_MAX + 1)

/* A rule under construction, with room for its one-member lists. */
struct learned_rule {
	struct policy_rule rule;
	char *syscalls[2], *modules[2], *callers[2], *paths[2], *exes[2];
	uint64_t offset, caller_offset;
	char module[GLOB_MAX], caller[GLOB_MAX], path[GLOB_MAX], exe[GLOB_MAX];
	bool loader_start; /* a call of the loader with no caller frame */
};

/*
 * Writes text as a glob that matches only itself. A line break cannot
 * appear in a policy file, so it becomes '?', which matches any one byte.
 * NOTE: a path with a line break is therefore matched a little wider.
 */
static char *to_glob(const char *text, char *buffer)
{
	policy_glob_escape(text, buffer, GLOB_MAX);
	for (char *at = buffer; *at; at++) {
		if (*at == '\n' || *at == '\r')
			*at = '?';
	}
	return buffer;
}

static void set_list(char *list[2], char *value)
{
	list[0] = value;
	list[1] = NULL;
}

static void add_exe(struct learned_rule *learned,
		    const struct policy_facts *facts)
{
	if (facts->exe && !learned->rule.exes) {
		set_list(learned->exes, to_glob(facts->exe, learned->exe));
		learned->rule.exes = learned->exes;
	}
}

static void add_syscall(struct learned_rule *learned,
			const struct policy_facts *facts)
{
	/* The name is checked against libseccomp's tables, so it is a word. */
	if (facts->syscall) {
		set_list(learned->syscalls, (char *)facts->syscall);
		learned->rule.syscalls = learned->syscalls;
	}
	if (facts->abi != ABI_X86_64)
		learned->rule.abis = ABI_BIT(facts->abi);
}

/*
 * Pins the rule to the syscall instruction: its file, offset and build-id,
 * or for memory without a file, the kind of memory and the executable.
 */
static void add_site(struct learned_rule *learned,
		     const struct policy_facts *facts)
{
	struct policy_rule *rule = &learned->rule;

	if (!facts->module || !facts->offset_known) {
		rule->origins = ORIGIN_BIT(facts->origin);
		add_exe(learned, facts);
		return;
	}
	set_list(learned->modules, to_glob(facts->module, learned->module));
	rule->modules = learned->modules;
	learned->offset = facts->offset;
	rule->offsets.values = &learned->offset;
	rule->offsets.count = 1;
	rule->build_id = (char *)facts->build_id;
}

/*
 * Names the kind of memory of the caller frame, so that a call learned from
 * a deleted file does not allow the same call from anonymous memory.
 */
static void add_caller_origin(struct learned_rule *learned,
			      const struct policy_facts *facts)
{
	if (facts->caller_origin_known)
		learned->rule.caller_origins = ORIGIN_BIT(facts->caller_origin);
}

/*
 * Pins the rule to the caller frame, or to the executable without one. The
 * loader's calls without a caller map a program's libraries at start-up.
 * The exec and module-load rules already name the program and those
 * libraries, so these rules name the syscall instruction alone, and a
 * program new to the baseline raises its exec alert and no more.
 */
static void add_caller(struct learned_rule *learned,
		       const struct policy_facts *facts)
{
	struct policy_rule *rule = &learned->rule;

	if (!facts->caller && facts->origin == ORIGIN_LOADER &&
	    facts->module) {
		learned->loader_start = true;
		return;
	}
	if (!facts->caller) {
		add_caller_origin(learned, facts);
		add_exe(learned, facts);
		return;
	}
	set_list(learned->callers, to_glob(facts->caller, learned->caller));
	rule->callers = learned->callers;
	if (facts->caller_offset_known) {
		learned->caller_offset = facts->caller_offset;
		rule->caller_offsets.values = &learned->caller_offset;
		rule->caller_offsets.count = 1;
	}
	rule->caller_build_id = (char *)facts->caller_build_id;
}

/* Pins the rule to the file loaded or executed. */
static void add_file(struct learned_rule *learned,
		     const struct policy_facts *facts)
{
	struct policy_rule *rule = &learned->rule;

	if (facts->path) {
		set_list(learned->paths, to_glob(facts->path, learned->path));
		rule->paths = learned->paths;
	} else {
		rule->path_unknown = POLICY_YES;
	}
	rule->file_build_id = (char *)facts->file_build_id;
	if (facts->file_kind != ORIGIN_LIBRARY)
		rule->file_kinds = ORIGIN_BIT(facts->file_kind);
}

static void build_rule(struct learned_rule *learned,
		       const struct policy_facts *facts,
		       enum policy_action action)
{
	struct policy_rule *rule = &learned->rule;

	memset(rule, 0, sizeof(*rule));
	learned->loader_start = false;
	rule->action = action;
	rule->event = facts->event;
	switch (facts->event) {
	case EVENT_NATIVE_API:
		add_syscall(learned, facts);
		add_site(learned, facts);
		add_caller(learned, facts);
		break;
	case EVENT_DIRECT_SYSCALL:
	case EVENT_NON_NATIVE_ABI:
		add_syscall(learned, facts);
		add_site(learned, facts);
		break;
	case EVENT_UNBACKED_CALLER:
	case EVENT_STACK_PIVOT:
		/* The memory behind these has no stable address. */
		add_syscall(learned, facts);
		add_site(learned, facts);
		add_caller_origin(learned, facts);
		add_exe(learned, facts);
		break;
	case EVENT_MODULE_LOAD:
		add_file(learned, facts);
		rule->load_sources = 1u << facts->load_source;
		break;
	case EVENT_FILELESS_EXEC:
		add_file(learned, facts);
		add_exe(learned, facts);
		break;
	case EVENT_EXEC:
	default:
		add_file(learned, facts);
		break;
	}
}

/*
 * Whether the rule still names the place of its finding. A path that could
 * not be read (longer than PATH_MAX) leaves a rule that would allow far
 * more than was seen, so such findings are not learned and meet the
 * closing rules instead.
 */
static bool is_pinned(const struct learned_rule *learned)
{
	const struct policy_rule *rule = &learned->rule;

	switch (rule->event) {
	case EVENT_MODULE_LOAD:
	case EVENT_EXEC:
	case EVENT_FILELESS_EXEC:
		return rule->paths || rule->file_build_id;
	case EVENT_NATIVE_API:
		return (rule->modules || rule->exes) &&
		       (rule->callers || rule->exes || learned->loader_start);
	default:
		return rule->modules || rule->exes;
	}
}

/*
 * Describes the process by its command line, with bytes outside printable
 * ASCII escaped as \xNN so that the comment stays one line of text.
 */
static void describe_process(struct process *process,
			     const struct target_args *args, char *out,
			     size_t size)
{
	size_t length = 0, used = 0;
	const char *cmdline;

	if (args && args->length > 0) {
		cmdline = args->bytes;
		length = args->length;
	} else {
		cmdline = process_cmdline(process, &length);
	}
	if (!cmdline || length == 0) {
		cmdline = process->exe_path ? process->exe_path : "?";
		length = strlen(cmdline);
	}
	for (size_t i = 0; i < length && used + 5 < size; i++) {
		unsigned char byte = (unsigned char)cmdline[i];

		if (used >= EXAMPLE_MAX) {
			memcpy(out + used, "...", 3);
			used += 3;
			break;
		}
		if (byte == '\0' && i + 1 < length)
			out[used++] = ' ';
		else if (byte >= 0x20 && byte < 0x7f)
			out[used++] = (char)byte;
		else if (byte != '\0')
			used += (size_t)snprintf(out + used, size - used,
						 "\\x%02x", byte);
	}
	/* Many editors strip a trailing blank when they save. */
	while (used > 0 && out[used - 1] == ' ')
		used--;
	out[used] = '\0';
}

void learn_note(struct baseline *baseline, const struct policy_facts *facts,
		const struct policy_rule *rule, struct process *process,
		const struct target_args *args)
{
	static struct learned_rule learned;
	enum policy_action action = POLICY_ALLOW;
	char example[EXAMPLE_MAX + 8];
	char stack_text[1024], *text = stack_text;
	int length;

	if (rule && rule->action != POLICY_ALLOW)
		action = POLICY_LOG;
	build_rule(&learned, facts, action);
	if (!is_pinned(&learned))
		return;
	length = policy_rule_format(&learned.rule, stack_text,
				    sizeof(stack_text));
	if (length < 0)
		return;
	if ((size_t)length >= sizeof(stack_text)) {
		text = malloc((size_t)length + 1);
		if (!text)
			goto fail;
		policy_rule_format(&learned.rule, text, (size_t)length + 1);
	}
	describe_process(process, args, example, sizeof(example));
	if (baseline_note(baseline, text, 1, example) < 0)
		goto fail;
	if (text != stack_text)
		free(text);
	return;

fail:
	if (text != stack_text)
		free(text);
	log_warn_errno(ENOMEM, "cannot note a finding in the baseline; it "
			       "will be missing from the file");
}

/* Joins the command's arguments for the baseline's first comment. */
static void describe_command(char **argv, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; argv[i] && used + 1 < size; i++) {
		int written = snprintf(out + used, size - used, "%s%s",
				       i ? " " : "", argv[i]);

		if (written < 0)
			break;
		used += (size_t)written;
	}
	for (char *at = out; *at; at++) {
		if ((unsigned char)*at < 0x20 || *at == 0x7f)
			*at = '?';
	}
}

static void print_diagnostics(const struct policy_diagnostics *diagnostics)
{
	for (size_t i = 0; i < diagnostics->count; i++) {
		const struct policy_diagnostic *item = &diagnostics->items[i];

		if (item->line == 0)
			log_plain("%s: %s", item->file, item->message);
		else
			log_plain("%s:%u: %s", item->file, item->line,
				  item->message);
	}
}

static int load_previous(struct baseline *baseline, const char *path)
{
	struct policy_diagnostics diagnostics;
	int err;

	policy_diagnostics_init(&diagnostics);
	err = baseline_load_file(baseline, path, &diagnostics);
	print_diagnostics(&diagnostics);
	policy_diagnostics_fini(&diagnostics);
	if (err == -ENOMEM)
		log_error_errno(ENOMEM, "cannot load the baseline '%s'", path);
	else if (err)
		log_error("cannot append to '%s': it is not a valid baseline; "
			  "fix the lines above or learn into a new file",
			  path);
	return err;
}

/*
 * Appends the profile as comments. A rewrite of the file by `policy
 * merge` or `learn --append` keeps rules only, so the profile is lost.
 */
static int write_profile(const struct syscall_profile *profile, FILE *out)
{
	fputs("\n"
	      "# Syscalls by module, from learn --all-syscalls: the file of "
	      "the first\n"
	      "# caller frame outside libc and the loader, and the calls it "
	      "made. `policy\n"
	      "# merge` and `learn --append` drop this report when they "
	      "rewrite the file.\n",
	      out);
	if (syscall_profile_total(profile) == 0)
		fputs("#\n# No syscalls were counted.\n", out);
	return syscall_profile_write(profile, out);
}

/*
 * Writes the learned rules, after those of the file when appending, and
 * the profile. The file is read again under the directory's lock, so that
 * learning runs that append to one file at the same time add up.
 */
static int write_baseline(const struct baseline *learned,
			  const struct syscall_profile *profile,
			  const struct learn_options *options, FILE *out)
{
	struct policy_diagnostics diagnostics;
	struct baseline *baseline = baseline_new();
	char command[1024], heading[1200];
	const char *header[] = { heading, NULL };
	bool earlier = options->append && out != stdout &&
		       access(options->output, F_OK) == 0;
	int err = baseline ? 0 : -ENOMEM;

	describe_command(options->argv, command, sizeof(command));
	snprintf(heading, sizeof(heading),
		 "Baseline of `%s`%s, written by nativemon learn.", command,
		 earlier ? " and earlier runs" : "");
	policy_diagnostics_init(&diagnostics);
	if (err == 0 && earlier)
		err = baseline_load_file(baseline, options->output,
					 &diagnostics);
	if (err == 0 && options->mode != POLICY_MODE_UNSET)
		baseline_set_mode(baseline, options->mode);
	if (err == 0)
		err = baseline_merge(baseline, learned);
	if (err == 0)
		err = baseline_write(baseline, header, out, &diagnostics);
	if (err == 0 && profile)
		err = write_profile(profile, out);
	print_diagnostics(&diagnostics);
	policy_diagnostics_fini(&diagnostics);
	if (err == 0)
		log_info("wrote %zu rules to '%s'", baseline_rule_count(baseline),
			 options->output);
	baseline_free(baseline);
	return err;
}

/* Checks the file to append to before the command runs. */
static int check_previous(const struct learn_options *options)
{
	struct baseline *previous;
	int err;

	if (!options->append || strcmp(options->output, "-") == 0 ||
	    access(options->output, F_OK) != 0)
		return 0;
	previous = baseline_new();
	if (!previous)
		return -ENOMEM;
	err = load_previous(previous, options->output);
	baseline_free(previous);
	return err;
}

static int learn_into(struct baseline *learned, struct syscall_profile *profile,
		      const struct learn_options *options,
		      struct replacement *replacement)
{
	struct run_options run = { 0 };
	bool started = false;
	FILE *out = replacement ? replacement->file : stdout;
	int status, err;

	run.policy = options->policy;
	run.log_path = options->log_path;
	run.quiet = true;
	run.no_preload = options->no_preload;
	run.argv = options->argv;
	run.learning = learned;
	run.profile = profile;
	run.started = &started;
	status = run_command(&run);

	/* The file stays as it was when the command never ran. */
	if (!started || baseline_sighting_count(learned) == 0) {
		log_error("learned nothing because '%s' did not start; '%s' is "
			  "left as it was",
			  options->argv[0], options->output);
		return status;
	}
	if (replacement)
		err = replacement_lock(replacement);
	else
		err = 0;
	if (err == 0)
		err = write_baseline(learned, profile, options, out);
	if (err == 0 && replacement)
		err = replacement_finish(replacement);
	else if (err == 0)
		err = fflush(stdout) == 0 ? 0 : -errno;
	if (err == -EINVAL)
		log_error("'%s' is left as it was", options->output);
	else if (err)
		log_error_errno(-err, "cannot write the baseline to '%s'; it is "
				      "left as it was",
				options->output);
	return err ? RUN_EXIT_FAILURE : status;
}

int learn_command(const struct learn_options *options)
{
	struct baseline *learned = baseline_new();
	struct syscall_profile *profile = NULL;
	struct replacement replacement;
	bool to_stdout = strcmp(options->output, "-") == 0;
	int status, err;

	if (learned && options->all_syscalls)
		profile = syscall_profile_new();
	if (!learned || (options->all_syscalls && !profile)) {
		log_error_errno(ENOMEM, "cannot start learning");
		status = RUN_EXIT_FAILURE;
		goto out;
	}
	err = check_previous(options);
	if (err == 0 && !to_stdout)
		err = replacement_start(&replacement, options->output);
	if (err) {
		status = err == -EINVAL ? RUN_EXIT_USAGE : RUN_EXIT_FAILURE;
		goto out;
	}
	status = learn_into(learned, profile, options,
			    to_stdout ? NULL : &replacement);
	if (!to_stdout)
		replacement_abort(&replacement);
out:
	syscall_profile_free(profile);
	baseline_free(learned);
	return status;
}
