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

#include "log.h"
#include "run.h"

#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: nativemon run [OPTION]... [--] COMMAND [ARG]...\n"
	"       nativemon --help | --version\n"
	"\n"
	"Run COMMAND with the security-relevant syscalls of its whole process\n"
	"tree routed to nativemon, which reports direct syscalls, syscalls\n"
	"through non-native ABIs, file-less execution and unusual module\n"
	"loads. nativemon exits with COMMAND's status (128+N if signal N\n"
	"killed it), 2 on a usage error, 125 if it failed itself, 126 if\n"
	"COMMAND could not be executed and 127 if it was not found.\n"
	"\n"
	"Options of run:\n"
	"  -l, --log FILE   append events to FILE as JSON Lines\n"
	"  -q, --quiet      do not print a line on stderr for each alert\n"
	"  -v, --verbose    print diagnostics (repeat for debug output)\n"
	"  -h, --help       print this help and exit\n"
	"  -V, --version    print the version and exit\n";

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

static int main_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_options run = { 0 };
	int verbosity = 0, option;

	/* '+': stop at COMMAND so that its own options stay its own. */
	opterr = 0;
	while ((option = getopt_long(argc, argv, "+:l:qvhV", options, NULL)) !=
	       -1) {
		switch (option) {
		case 'l':
			run.log_path = optarg;
			break;
		case 'q':
			run.quiet = true;
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
	run.argv = argv + optind;
	return run_command(&run);
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
		usage_error("missing command; expected 'run'", NULL);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		print_help();
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		print_version();
	if (strcmp(argv[1], "run") == 0)
		return main_run(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		usage_error("unknown option", argv[1]);
	usage_error("unknown command", argv[1]);
	return EXIT_USAGE;
}
