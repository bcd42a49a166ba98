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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "log.h"

#define EXIT_POLICY_ERRORS 1
#define EXIT_USAGE 2

/* A buffer for one formatted statement; longer ones are cut. */
#define STATEMENT_MAX 8192

static const char policy_usage_text[] =
	"Usage: nativemon policy check [--no-default-policy] FILE...\n"
	"       nativemon policy show [--no-default-policy] [FILE...]\n"
	"\n"
	"check validates policy files without running anything: it prints\n"
	"each problem as FILE:LINE:COLUMN: message and exits with 1 if there\n"
	"was one, else 0.\n"
	"show prints the effective policy of `nativemon run --policy FILE...`:\n"
	"the mode, the watch set and the rules in matching order, each with\n"
	"where it was defined, followed by the generated seccomp filter.\n"
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

/* libseccomp may still reject a watch the parser accepted. */
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

/* Checks each file on its own, so every file's problems are listed. */
static int check(const struct policy_selection *selection)
{
	struct policy_selection one = { .without_default = true, .count = 1 };
	int status = EXIT_SUCCESS;

	for (size_t i = 0; i < selection->count; i++) {
		struct policy *policy;

		one.paths = &selection->paths[i];
		policy = policy_command_load(&one);
		if (!policy) {
			status = EXIT_POLICY_ERRORS;
			continue;
		}
		printf("%s: valid: %zu %s, %zu %s\n", selection->paths[i],
		       policy->rule_count,
		       policy->rule_count == 1 ? "rule" : "rules",
		       policy->watch_count,
		       policy->watch_count == 1 ? "watch" : "watches");
		policy_free(policy);
	}
	return status;
}

static void policy_usage_error(const char *message, const char *value)
{
	fprintf(stderr, "nativemon: %s%s%s\n", message, value ? " " : "",
		value ? value : "");
	fprintf(stderr, "Try 'nativemon policy --help' for more information.\n");
	exit(EXIT_USAGE);
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
		policy_usage_error("missing action; expected 'check' or 'show'",
				   NULL);
	action = argv[1];
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
		fputs(policy_usage_text, stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(action, "check") != 0 && strcmp(action, "show") != 0)
		policy_usage_error("unknown policy action; expected 'check' or 'show':",
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
