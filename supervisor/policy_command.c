/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy as the command line selects it: user files first, so their
 * rules match before the defaults, then the default policy. `nativemon
 * policy check` validates files without running anything, and `nativemon
 * policy show` prints the effective rules, the watch set and the filter.
 */
#include "policy_command.h"

#include <errno.h>
#include <getopt.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "log.h"
#include "policy/baseline.h"

#define EXIT_POLICY_ERRORS 1
#define EXIT_USAGE 2

/* A buffer for one formatted statement; longer ones are cut. */
#define STATEMENT_MAX 8192

static const char policy_usage_text[] =
	"Usage: nativemon policy check [--no-default-policy] FILE...\n"
	"       nativemon policy show [--no-default-policy] [FILE...]\n"
	"       nativemon policy merge FILE...\n"
	"       nativemon policy diff OLD NEW\n"
	"\n"
	"check validates policy files, together with the default policy as\n"
	"`nativemon run` loads them, without running anything: it prints each\n"
	"problem as FILE:LINE:COLUMN: message and exits with 1 if there was\n"
	"one, else 0.\n"
	"show prints the effective policy of `nativemon run --policy FILE...`:\n"
	"the mode, the watch set and the rules in matching order, each with\n"
	"where it was defined, followed by the generated seccomp filter.\n"
	"merge prints one baseline (as `nativemon learn` writes them) with\n"
	"the rules of all FILEs, their counts added up. diff prints the\n"
	"rules that NEW adds to OLD with a leading '+' and those it lacks\n"
	"with a leading '-'. Both exit with 2 if a FILE is not a baseline;\n"
	"diff exits with 1 if the baselines differ, else 0.\n"
	"\n"
	"Options:\n"
	"  --no-default-policy  leave out the built-in default policy\n"
	"  -h, --help           print this help and exit\n"
	"\n"
	"The language is described in nativemon.policy(5).\n";

static void print_diagnostic(const struct policy_diagnostic *diagnostic)
{
	if (diagnostic->line == 0)
		log_plain("%s: %s", diagnostic->file, diagnostic->message);
	else if (diagnostic->column == 0)
		log_plain("%s:%u: %s", diagnostic->file, diagnostic->line,
			  diagnostic->message);
	else
		log_plain("%s:%u:%u: %s", diagnostic->file, diagnostic->line,
			  diagnostic->column, diagnostic->message);
}

static void print_diagnostics(const struct policy_diagnostics *diagnostics)
{
	for (size_t i = 0; i < diagnostics->count; i++)
		print_diagnostic(&diagnostics->items[i]);
}

/*
 * libseccomp may still reject a watch the parser accepted.
 * NOTE: `nativemon run` builds the filter again to install it, so the
 * filter is built twice at start-up. A whole `nativemon policy check` of
 * the default policy took 2.3 ms on the development machine.
 */
static int check_filter(const struct policy *policy)
{
	const struct policy_watch *bad_watch;
	struct filter_program program;
	int err;

	err = filter_build(policy, &program, &bad_watch);
	if (err == 0) {
		filter_program_fini(&program);
		return 0;
	}
	if (bad_watch)
		log_plain("%s:%u: libseccomp rejected the watch of %s: %s",
			  bad_watch->location.file, bad_watch->location.line,
			  bad_watch->syscall, strerror(-err));
	else
		log_error_errno(-err, "cannot build the seccomp filter");
	return err;
}

static bool is_watched(const struct policy *policy, const char *name)
{
	for (size_t i = 0; i < policy->watch_count; i++) {
		if (strcmp(policy->watches[i].syscall, name) == 0)
			return true;
	}
	return false;
}

static bool is_native_syscall(const char *name)
{
	return seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name) !=
	       __NR_SCMP_ERROR;
}

static void report_unwatched(const struct policy_rule *rule, const char *what,
			     const char *watch)
{
	log_plain("%s:%u: the rule matches %s, but no watch statement routes"
		  " it to the supervisor, so the rule never matches an x86-64"
		  " call; add `watch %s`",
		  rule->location.file, rule->location.line, what, watch);
}

/*
 * Counts the rules' syscalls that reach the supervisor on no x86-64 path,
 * reporting each. Such a rule looks like protection and does nothing.
 */
static size_t count_unwatched(const struct policy *policy,
			      const struct policy_rule *rule)
{
	char what[128];
	size_t count = 0;

	if (rule->abis && !(rule->abis & ABI_BIT(ABI_X86_64)))
		return 0;
	for (char **name = rule->syscalls; name && *name; name++) {
		if (!is_native_syscall(*name) || is_watched(policy, *name))
			continue;
		snprintf(what, sizeof(what), "syscall %s", *name);
		report_unwatched(rule, what, *name);
		count++;
	}
	if ((rule->event == EVENT_EXEC || rule->event == EVENT_FILELESS_EXEC) &&
	    !is_watched(policy, "execve") && !is_watched(policy, "execveat")) {
		report_unwatched(rule, policy_event_name(rule->event),
				 "execve,execveat");
		count++;
	}
	if (rule->event == EVENT_MODULE_LOAD && !is_watched(policy, "mmap") &&
	    !is_watched(policy, "mprotect")) {
		report_unwatched(rule, "module-load",
				 "mmap,mprotect if prot & PROT_EXEC");
		count++;
	}
	return count;
}

static int check_rules_reachable(const struct policy *policy)
{
	size_t count = 0;

	for (size_t i = 0; i < policy->rule_count; i++)
		count += count_unwatched(policy, &policy->rules[i]);
	if (count == 0)
		return 0;
	log_error("the policy has %zu %s that can never match", count,
		  count == 1 ? "rule" : "rules");
	return -EINVAL;
}

static int load_files(struct policy *policy,
		      const struct policy_selection *selection,
		      struct policy_diagnostics *diagnostics)
{
	int result = 0, err;

	for (size_t i = 0; i < selection->count; i++) {
		err = policy_load_file(policy, selection->paths[i],
				       diagnostics);
		if (err == -ENOMEM)
			return err;
		if (err < 0)
			result = err;
	}
	if (!selection->without_default) {
		err = policy_load_default(policy, diagnostics);
		if (err < 0)
			result = err;
	}
	return result;
}

struct policy *policy_command_load(const struct policy_selection *selection)
{
	struct policy_diagnostics diagnostics;
	struct policy *policy = policy_new();
	int err;

	if (!policy) {
		log_error_errno(ENOMEM, "cannot load the policy");
		return NULL;
	}
	policy_diagnostics_init(&diagnostics);
	err = load_files(policy, selection, &diagnostics);
	print_diagnostics(&diagnostics);
	if (err == -ENOMEM)
		log_error_errno(ENOMEM, "cannot load the policy");
	else if (err < 0)
		log_error("the policy has %zu %s",
			  diagnostics.count,
			  diagnostics.count == 1 ? "error" : "errors");
	policy_diagnostics_fini(&diagnostics);
	if (err == 0)
		err = check_rules_reachable(policy);
	if (err == 0)
		err = check_filter(policy);
	if (err < 0) {
		policy_free(policy);
		return NULL;
	}
	return policy;
}

static void print_location(const struct policy_location *location)
{
	printf("  # %s:%u\n", location->file, location->line);
}

static void show_mode(const struct policy *policy)
{
	enum policy_mode mode = policy_effective_mode(policy);

	printf("mode %s", policy_mode_name(mode));
	if (policy->mode == POLICY_MODE_UNSET)
		printf("  # no file sets a mode\n");
	else
		print_location(&policy->mode_location);
}

static void show_watches(const struct policy *policy)
{
	char statement[STATEMENT_MAX];

	printf("\n# The watch set: %zu %s. Every i386 and x32 syscall also "
	       "reaches the supervisor.\n",
	       policy->watch_count,
	       policy->watch_count == 1 ? "entry" : "entries");
	for (size_t i = 0; i < policy->watch_count; i++) {
		policy_watch_format(&policy->watches[i], statement,
				    sizeof(statement));
		printf("%s", statement);
		print_location(&policy->watches[i].location);
	}
}

static void show_rules(const struct policy *policy)
{
	char statement[STATEMENT_MAX];

	printf("\n# The rules in matching order (the first match decides): "
	       "%zu.\n",
	       policy->rule_count);
	for (size_t i = 0; i < policy->rule_count; i++) {
		policy_rule_format(&policy->rules[i], statement,
				   sizeof(statement));
		printf("%s", statement);
		print_location(&policy->rules[i].location);
	}
}

static int show_filter(const struct policy *policy)
{
	const struct policy_watch *bad_watch;
	int err;

	printf("\n# The seccomp filter, as libseccomp's pseudo filter code.\n");
	fflush(stdout);
	err = filter_print(policy, STDOUT_FILENO, &bad_watch);
	if (err < 0)
		log_error_errno(-err, "cannot print the seccomp filter");
	return err;
}

static int show(const struct policy_selection *selection)
{
	struct policy *policy = policy_command_load(selection);
	int err;

	if (!policy)
		return EXIT_POLICY_ERRORS;
	show_mode(policy);
	show_watches(policy);
	show_rules(policy);
	err = show_filter(policy);
	policy_free(policy);
	if (fflush(stdout) != 0 || err < 0)
		return EXIT_POLICY_ERRORS;
	return EXIT_SUCCESS;
}

/*
 * Checks the files as `nativemon run --policy FILE...` would load them,
 * with the default policy unless it is left out, because a clash of ids
 * or modes only shows when they are loaded together. Loading goes on past
 * each problem, so every file's problems are listed.
 */
static int check(const struct policy_selection *selection)
{
	struct policy *policy = policy_command_load(selection);

	if (!policy)
		return EXIT_POLICY_ERRORS;
	for (size_t i = 0; i < selection->count; i++)
		printf("%s: valid\n", selection->paths[i]);
	printf("%zu %s, %zu %s in all%s\n", policy->rule_count,
	       policy->rule_count == 1 ? "rule" : "rules", policy->watch_count,
	       policy->watch_count == 1 ? "watch" : "watches",
	       selection->without_default ? "" : ", the default policy included");
	policy_free(policy);
	return EXIT_SUCCESS;
}

static void policy_usage_error(const char *message, const char *value)
{
	fprintf(stderr, "nativemon: %s%s%s\n", message, value ? " " : "",
		value ? value : "");
	fprintf(stderr, "Try 'nativemon policy --help' for more information.\n");
	exit(EXIT_USAGE);
}

/* Loads the baselines at paths into one; NULL after printing why. */
static struct baseline *load_baselines(char *const *paths, size_t count)
{
	struct policy_diagnostics diagnostics;
	struct baseline *baseline = baseline_new();
	int err = baseline ? 0 : -ENOMEM;

	policy_diagnostics_init(&diagnostics);
	for (size_t i = 0; i < count && err != -ENOMEM; i++) {
		int loaded = baseline_load_file(baseline, paths[i],
						&diagnostics);

		if (loaded < 0)
			err = loaded;
	}
	print_diagnostics(&diagnostics);
	policy_diagnostics_fini(&diagnostics);
	if (err == 0)
		return baseline;
	if (err == -ENOMEM)
		log_error_errno(ENOMEM, "cannot load the baselines");
	baseline_free(baseline);
	return NULL;
}

static int report_output(int err)
{
	if (err == -ENOMEM || err == -EIO)
		log_error_errno(-err, "cannot write the baseline");
	return EXIT_USAGE;
}

static int merge(char *const *paths, size_t count)
{
	struct policy_diagnostics diagnostics;
	struct baseline *baseline = load_baselines(paths, count);
	char heading[1024];
	const char *header[] = { heading, NULL };
	size_t used;
	int err;

	if (!baseline)
		return EXIT_USAGE;
	used = (size_t)snprintf(heading, sizeof(heading),
				"Baseline merged from");
	for (size_t i = 0; i < count && used < sizeof(heading); i++)
		used += (size_t)snprintf(heading + used, sizeof(heading) - used,
					 "%s %s", i ? "," : "", paths[i]);
	policy_diagnostics_init(&diagnostics);
	err = baseline_write(baseline, header, stdout, &diagnostics);
	print_diagnostics(&diagnostics);
	policy_diagnostics_fini(&diagnostics);
	baseline_free(baseline);
	if (err == 0 && fflush(stdout) != 0)
		err = -EIO;
	return err ? report_output(err) : EXIT_SUCCESS;
}

static int diff(char *const *paths)
{
	struct policy_diagnostics diagnostics;
	struct baseline *old = load_baselines(paths, 1);
	struct baseline *new = old ? load_baselines(paths + 1, 1) : NULL;
	long changes = -EINVAL;

	if (new) {
		policy_diagnostics_init(&diagnostics);
		printf("--- %s\n+++ %s\n", paths[0], paths[1]);
		changes = baseline_diff(old, new, stdout, &diagnostics);
		print_diagnostics(&diagnostics);
		policy_diagnostics_fini(&diagnostics);
	}
	baseline_free(old);
	baseline_free(new);
	if (changes >= 0 && fflush(stdout) != 0)
		changes = -EIO;
	if (changes < 0)
		return report_output((int)changes);
	return changes > 0 ? EXIT_POLICY_ERRORS : EXIT_SUCCESS;
}

static int run_baseline_action(const char *action, int argc, char **argv)
{
	if (argc > 2 && (strcmp(argv[2], "--help") == 0 ||
			 strcmp(argv[2], "-h") == 0)) {
		fputs(policy_usage_text, stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(action, "merge") == 0) {
		if (argc < 3)
			policy_usage_error("missing FILE to merge", NULL);
		return merge(argv + 2, (size_t)(argc - 2));
	}
	if (argc != 4)
		policy_usage_error("diff takes two files, OLD and NEW; got",
				   argc < 4 ? "fewer" : "more");
	return diff(argv + 2);
}

int policy_command_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "no-default-policy", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct policy_selection selection = { 0 };
	const char *action;
	int option;

	if (argc < 2)
		policy_usage_error("missing action; expected 'check', 'show', "
				   "'merge' or 'diff'",
				   NULL);
	action = argv[1];
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
		fputs(policy_usage_text, stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(action, "merge") == 0 || strcmp(action, "diff") == 0)
		return run_baseline_action(action, argc, argv);
	if (strcmp(action, "check") != 0 && strcmp(action, "show") != 0)
		policy_usage_error("unknown policy action; expected 'check', "
				   "'show', 'merge' or 'diff':",
				   action);
	opterr = 0;
	optind = 1;
	argc--;
	argv++;
	while ((option = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (option == 'n') {
			selection.without_default = true;
		} else if (option == 'h') {
			fputs(policy_usage_text, stdout);
			return EXIT_SUCCESS;
		} else {
			policy_usage_error("unknown option", argv[optind - 1]);
		}
	}
	selection.paths = (const char **)argv + optind;
	selection.count = (size_t)(argc - optind);
	if (strcmp(action, "show") == 0)
		return show(&selection);
	if (selection.count == 0)
		policy_usage_error("missing FILE to check", NULL);
	return check(&selection);
}
