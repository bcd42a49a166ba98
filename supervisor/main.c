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
#include <sys/stat.h>
#include <unistd.h>

#include "filter.h"
#include "learn.h"
#include "log.h"
#include "policy_command.h"
#include "run.h"
#include "serve.h"

#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: nativemon run [OPTION]... [--] COMMAND [ARG]...\n"
	"       nativemon learn -o FILE [OPTION]... [--] COMMAND [ARG]...\n"
	"       nativemon serve --socket PATH [OPTION]...\n"
	"       nativemon policy check|show [--no-default-policy] [FILE]...\n"
	"       nativemon policy merge FILE... | diff OLD NEW\n"
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
	"'nativemon learn' runs COMMAND like 'nativemon run', denies and\n"
	"alerts nothing, and writes a baseline to FILE: a policy that allows\n"
	"the call sites, module loads and programs it saw, each pinned to\n"
	"its file's build, and raises an alert on everything else. It exits\n"
	"like 'nativemon run', or with 125 if FILE could not be written.\n"
	"\n"
	"'nativemon serve' listens on the unix socket PATH for processes\n"
	"started with LD_PRELOAD=libnativemon.so and NATIVEMON_SOCKET=PATH,\n"
	"and supervises each process that attaches, with its descendants,\n"
	"until it exits. It serves the processes of its own user, or of every\n"
	"user when it runs as root. SIGINT, SIGTERM or SIGHUP stops accepting\n"
	"and waits for the attached processes; a second one exits at once.\n"
	"It exits with 0 after such a stop, 2 on a usage error or an invalid\n"
	"policy, and 125 if it failed.\n"
	"\n"
	"Options of run and serve:\n"
	"  -p, --policy FILE      add the rules and watches of FILE, matched\n"
	"                         before those of later files and the default\n"
	"                         policy (repeatable; see nativemon.policy(5))\n"
	"      --no-default-policy  leave out the built-in default policy\n"
	"  -m, --mode MODE        'monitor' reports deny and kill rules as\n"
	"                         would-deny and would-kill without acting;\n"
	"                         'enforce' acts; overrides the policy's mode\n"
	"  -l, --log FILE         append events to FILE as JSON Lines\n"
	"  -q, --quiet            do not print a line on stderr for each alert\n"
	"  -v, --verbose          print diagnostics (repeat for debug output)\n"
	"  -h, --help             print this help and exit\n"
	"  -V, --version          print the version and exit\n"
	"\n"
	"Options of run:\n"
	"      --no-preload       do not add nativemon's shim to LD_PRELOAD\n"
	"                         (no dlopen attribution; signals may then\n"
	"                         interrupt watched calls)\n"
	"\n"
	"Options of learn (and -p, --no-default-policy, -l, -v as for run;\n"
	"-q is accepted and changes nothing, because learn prints no alerts):\n"
	"  -o, --output FILE      write the baseline to FILE, or to stdout\n"
	"                         for '-' (required); a symbolic link is\n"
	"                         followed, and FILE keeps its mode\n"
	"  -a, --append           add to the baseline already in FILE\n"
	"  -m, --mode MODE        end the baseline with deny rules and 'mode\n"
	"                         MODE' (monitor or enforce) instead of alert\n"
	"                         rules\n"
	"      --no-preload       as for run\n"
	"      --all-syscalls     route every syscall to nativemon (much\n"
	"                         slower), and end FILE with comments\n"
	"                         that count the syscalls of each module (the\n"
	"                         first caller outside libc and the loader);\n"
	"                         rules are still learned from the watched\n"
	"                         calls only. 'policy merge' and '--append'\n"
	"                         drop these comments when they rewrite FILE.\n"
	"                         For profiling only: a signal handler without\n"
	"                         SA_RESTART can make any syscall fail with\n"
	"                         EINTR, even one that cannot fail natively\n"
	"\n"
	"Options of serve:\n"
	"  -s, --socket PATH      listen on the unix socket PATH; a stale\n"
	"                         socket there is replaced (required)\n"
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

/* Whether nativemon started with standard output closed. */
static bool stdout_was_closed;

/* The settings that the command line of run or serve selects. */
struct command_line {
	struct policy_selection selection;
	enum policy_mode mode;
	const char *log_path;
	bool quiet;
	int verbosity;
	const char *socket_path; /* serve */
	bool no_preload;	 /* run */
};

/* The options of run; serve adds --socket. */
#define COMMON_LONG_OPTIONS                                        \
	{ "policy", required_argument, NULL, 'p' },                \
	{ "no-default-policy", no_argument, NULL, 'n' },           \
	{ "mode", required_argument, NULL, 'm' },                  \
	{ "log", required_argument, NULL, 'l' },                   \
	{ "quiet", no_argument, NULL, 'q' },                       \
	{ "verbose", no_argument, NULL, 'v' },                     \
	{ "help", no_argument, NULL, 'h' },                        \
	{ "version", no_argument, NULL, 'V' }
#define COMMON_SHORT_OPTIONS "p:m:l:qvhV"

static void command_line_init(struct command_line *command, int argc)
{
	memset(command, 0, sizeof(*command));
	/* Every argument could be a --policy FILE. */
	command->selection.paths =
		calloc((size_t)argc, sizeof(*command->selection.paths));
	if (!command->selection.paths) {
		log_error_errno(ENOMEM, "cannot parse the command line");
		exit(RUN_EXIT_FAILURE);
	}
	opterr = 0;
}

/* Applies one option that run and serve share; exits on a usage error. */
static void apply_common_option(struct command_line *command, int option,
				char **argv)
{
	switch (option) {
	case 'p':
		command->selection.paths[command->selection.count++] = optarg;
		break;
	case 'n':
		command->selection.without_default = true;
		break;
	case 'm':
		command->mode = parse_mode(optarg);
		break;
	case 'l':
		command->log_path = optarg;
		break;
	case 'q':
		command->quiet = true;
		break;
	case 'v':
		command->verbosity++;
		break;
	case 'h':
		print_help();
		break;
	case 'V':
		print_version();
		break;
	case ':':
		usage_error("missing argument for option", argv[optind - 1]);
		break;
	default:
		unknown_option(argv[optind - 1]);
	}
}

/*
 * Sets the log level and loads the policy; NULL after printing why. Exits
 * with RUN_EXIT_FAILURE where no filter could be installed at all.
 */
static struct policy *load_policy(struct command_line *command)
{
	struct policy *policy;

	if (command->verbosity > 0)
		log_set_level(command->verbosity > 1 ? LOG_LEVEL_DEBUG
						     : LOG_LEVEL_INFO);
	if (!filter_check_support())
		exit(RUN_EXIT_FAILURE);
	policy = policy_command_load(&command->selection);
	free(command->selection.paths);
	command->selection.paths = NULL;
	return policy;
}

static int main_run(int argc, char **argv)
{
	static const struct option options[] = {
		COMMON_LONG_OPTIONS,
		{ "no-preload", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct command_line command;
	struct run_options run = { 0 };
	struct policy *policy;
	int option, status;

	command_line_init(&command, argc);
	/*
	 * '+': stop at COMMAND so that its own options stay its own. ':':
	 * report a missing argument apart from an unknown option.
	 */
	while ((option = getopt_long(argc, argv, "+:" COMMON_SHORT_OPTIONS,
				     options, NULL)) != -1) {
		if (option == 'P')
			command.no_preload = true;
		else
			apply_common_option(&command, option, argv);
	}
	if (optind >= argc)
		usage_error("missing COMMAND to run", NULL);
	policy = load_policy(&command);
	if (!policy)
		return EXIT_USAGE;
	run.policy = policy;
	run.mode = command.mode;
	run.log_path = command.log_path;
	run.quiet = command.quiet;
	run.no_preload = command.no_preload;
	run.argv = argv + optind;
	status = run_command(&run);
	policy_free(policy);
	return status;
}

/* Rejects outputs that would lose the baseline, before anything runs. */
static void check_learn_output(const struct learn_options *learn,
			       const struct command_line *command)
{
	struct stat output, log;

	if (!learn->output)
		usage_error("missing -o FILE for the baseline", NULL);
	if (!learn->output[0])
		usage_error("empty file name for -o; give the baseline's path, "
			    "or - for standard output",
			    NULL);
	if (strcmp(learn->output, "-") == 0 && stdout_was_closed)
		usage_error("standard output is closed, so -o - would lose the "
			    "baseline; give -o FILE",
			    NULL);
	if (command->log_path && strcmp(learn->output, "-") != 0 &&
	    (strcmp(command->log_path, learn->output) == 0 ||
	     (stat(command->log_path, &log) == 0 &&
	      stat(learn->output, &output) == 0 &&
	      log.st_dev == output.st_dev && log.st_ino == output.st_ino)))
		usage_error("-o and --log name the same file; give the baseline "
			    "and the event log different files:",
			    learn->output);
}

static int main_learn(int argc, char **argv)
{
	static const struct option options[] = {
		COMMON_LONG_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "append", no_argument, NULL, 'a' },
		{ "no-preload", no_argument, NULL, 'P' },
		{ "all-syscalls", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct command_line command;
	struct learn_options learn = { 0 };
	struct policy *policy;
	int option, status;

	command_line_init(&command, argc);
	while ((option = getopt_long(argc, argv, "+:o:a" COMMON_SHORT_OPTIONS,
				     options, NULL)) != -1) {
		if (option == 'o')
			learn.output = optarg;
		else if (option == 'a')
			learn.append = true;
		else if (option == 'P')
			command.no_preload = true;
		else if (option == 'S')
			learn.all_syscalls = true;
		else if (option == 'q')
			continue; /* learn prints no alerts anyway */
		else
			apply_common_option(&command, option, argv);
	}
	check_learn_output(&learn, &command);
	if (optind >= argc)
		usage_error("missing COMMAND to learn", NULL);
	policy = load_policy(&command);
	if (!policy)
		return EXIT_USAGE;
	learn.policy = policy;
	learn.mode = command.mode;
	learn.log_path = command.log_path;
	learn.no_preload = command.no_preload;
	learn.argv = argv + optind;
	status = learn_command(&learn);
	policy_free(policy);
	return status;
}

static int main_serve(int argc, char **argv)
{
	static const struct option options[] = {
		COMMON_LONG_OPTIONS,
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct command_line command;
	struct serve_options serve = { 0 };
	struct policy *policy;
	int option, status;

	command_line_init(&command, argc);
	while ((option = getopt_long(argc, argv, ":s:" COMMON_SHORT_OPTIONS,
				     options, NULL)) != -1) {
		if (option == 's')
			command.socket_path = optarg;
		else
			apply_common_option(&command, option, argv);
	}
	if (optind < argc)
		usage_error("serve takes no arguments besides its options; got",
			    argv[optind]);
	if (!command.socket_path)
		usage_error("missing --socket PATH", NULL);
	policy = load_policy(&command);
	if (!policy)
		return EXIT_USAGE;
	if (serve_check_policy(policy) < 0) {
		policy_free(policy);
		return EXIT_USAGE;
	}
	serve.policy = policy;
	serve.mode = command.mode;
	serve.log_path = command.log_path;
	serve.quiet = command.quiet;
	serve.socket_path = command.socket_path;
	status = serve_command(&serve);
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
		if (fd == STDOUT_FILENO)
			stdout_was_closed = true;
	}
}

int main(int argc, char **argv)
{
	open_standard_fds();
	log_open();
	if (argc < 2)
		usage_error("missing command; expected 'run', 'learn', "
			    "'serve' or 'policy'",
			    NULL);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		print_help();
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		print_version();
	if (strcmp(argv[1], "run") == 0)
		return main_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "learn") == 0)
		return main_learn(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return main_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return policy_command_main(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		usage_error("unknown option", argv[1]);
	usage_error("unknown command", argv[1]);
	return EXIT_USAGE;
}
