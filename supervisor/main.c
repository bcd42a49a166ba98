/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nativemon: a userland monitor for Linux native-API abuse. main() parses
 * the command line and hands over to the subcommand.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "log.h"
#include "policy_command.h"
#include "run.h"

#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: nativemon run [OPTION]... [--] COMMAND [ARG]...\n"
	"       nativemon policy check|show [--no-default-policy] [FILE]...\n"
	"       nativemon --help | --version\n"
	"\n"
	"Run COMMAND with the security-relevant syscalls of its whole process\n"
	"tree routed to nativemon, which reports direct syscalls, syscalls\n"
	"through non-native ABIs, file-less execution and unusual module\n"
	"loads, and denies calls or kills processes as the policy says.\n"
	"nativemon exits with COMMAND's status (128+N if signal N killed\n"
	"it), 2 on a usage error or an invalid policy, 125 if it failed\n"
	"itself, 126 if COMMAND could not be executed and 127 if it was not\n"
	"found.\n"
	"\n"
	"Options of run:\n"
	"  -p, --policy FILE      add the rules and watches of FILE, matched\n"
	"                         before those of later files and the default\n"
	"                         policy (repeatable; see nativemon.policy(5))\n"
	"      --no-default-policy  leave out the built-in default policy\n"
	"  -m, --mode MODE        'monitor' reports deny and kill rules as\n"
	"                         would-deny and would-kill without acting;\n"
	"                         'enforce' acts; overrides the policy's mode\n"
	"  -l, --log FILE         append events to FILE as JSON Lines\n"
	"  -q, --quiet            do not print a line on stderr for each alert\n"
	"      --no-preload       do not add nativemon's shim to LD_PRELOAD\n"
	"                         (no dlopen attribution; signals may then\n"
	"                         interrupt watched calls)\n"
	"  -v, --verbose          print diagnostics (repeat for debug output)\n"
	"  -h, --help             print this help and exit\n"
	"  -V, --version          print the version and exit\n"
	"\n"
	"'nativemon policy --help' describes checking and showing policies.\n";

static void usage_error(const char *message, const char *value)
{
	fprintf(stderr, "nativemon: %s%s%s\n", message, value ? " " : "",
		value ? value : "");
	fprintf(stderr, "Try 'nativemon --help' for more information.\n");
	exit(EXIT_USAGE);
}

/* getopt leaves the bad character of a short option group in optopt. */
static void unknown_option(const char *word)
{
	char short_option[3] = { '-', (char)optopt, '\0' };

	usage_error("unknown option",
		    optopt && word[1] != '-' ? short_option : word);
}

static void print_version(void)
{
	printf("nativemon %s\n", PACKAGE_VERSION);
	exit(EXIT_SUCCESS);
}

static void print_help(void)
{
	fputs(usage_text, stdout);
	exit(EXIT_SUCCESS);
}

static enum policy_mode parse_mode(const char *text)
{
	if (strcmp(text, "monitor") == 0)
		return POLICY_MODE_MONITOR;
	if (strcmp(text, "enforce") == 0)
		return POLICY_MODE_ENFORCE;
	usage_error("invalid --mode; expected 'monitor' or 'enforce', got",
		    text);
	return POLICY_MODE_UNSET;
}

static int main_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "no-default-policy", no_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-preload", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct policy_selection selection = { 0 };
	struct run_options run = { 0 };
	struct policy *policy;
	int verbosity = 0, option, status;

	/* Every argument could be a --policy FILE. */
	selection.paths = calloc((size_t)argc, sizeof(*selection.paths));
	if (!selection.paths)
		return RUN_EXIT_FAILURE;
	/* '+': stop at COMMAND so that its own options stay its own. */
	opterr = 0;
	while ((option = getopt_long(argc, argv, "+:p:m:l:qvhV", options,
				     NULL)) != -1) {
		switch (option) {
		case 'p':
			selection.paths[selection.count++] = optarg;
			break;
		case 'n':
			selection.without_default = true;
			break;
		case 'm':
			run.mode = parse_mode(optarg);
			break;
		case 'l':
			run.log_path = optarg;
			break;
		case 'q':
			run.quiet = true;
			break;
		case 'P':
			run.no_preload = true;
			break;
		case 'v':
			verbosity++;
			break;
		case 'h':
			print_help();
			break;
		case 'V':
			print_version();
			break;
		case ':':
			usage_error("missing argument for option",
				    argv[optind - 1]);
			break;
		default:
			unknown_option(argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("missing COMMAND to run", NULL);
	if (verbosity > 0)
		log_set_level(verbosity > 1 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (!filter_check_support()) {
		free(selection.paths);
		return RUN_EXIT_FAILURE;
	}
	policy = policy_command_load(&selection);
	free(selection.paths);
	if (!policy)
		return EXIT_USAGE;
	run.policy = policy;
	run.argv = argv + optind;
	status = run_command(&run);
	policy_free(policy);
	return status;
}

/*
 * Opens /dev/null on any of descriptors 0-2 that is closed, so that files
 * nativemon opens later never become its stderr and receive diagnostics.
 */
static void open_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			exit(RUN_EXIT_FAILURE);
	}
}

int main(int argc, char **argv)
{
	open_standard_fds();
	log_open();
	if (argc < 2)
		usage_error("missing command; expected 'run' or 'policy'", NULL);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		print_help();
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		print_version();
	if (strcmp(argv[1], "run") == 0)
		return main_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return policy_command_main(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		usage_error("unknown option", argv[1]);
	usage_error("unknown command", argv[1]);
	return EXIT_USAGE;
}
