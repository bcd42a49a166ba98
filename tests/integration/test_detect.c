/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Detection tests: the real nativemon binary runs the programs in
 * tests/targets and common system tools under its seccomp filter, and the
 * tests check the records in its JSON Lines log and the lines it prints.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Timeout of a test that runs one short target, in seconds. */
#define TEST_TIMEOUT 60
/* Timeout of a test that runs a compiler or an interpreter, in seconds. */
#define TOOL_TEST_TIMEOUT 120

/*
 * Resources of the current test, released by the suite's fini hook, which
 * Criterion also runs after a failed assertion.
 */
static struct harness_test run;

static void release_run(void)
{
	harness_test_fini(&run);
}

TestSuite(detect, .init = harness_require_user_notification,
	  .fini = release_run);

static char *join_path(const char *directory, const char *name)
{
	return harness_test_format(&run, "%s/%s", directory, name);
}

/* Returns the pid that a target printed as "pid=N" on stdout. */
static long long reported_pid(void)
{
	const char *line = strstr(run.result.out, "pid=");
	long long pid = 0;

	cr_assert(line && sscanf(line, "pid=%lld", &pid) == 1 && pid > 0,
		  "the target printed no pid; stdout: %s", run.result.out);
	return pid;
}

static bool has_string_element(const json_t *array, const char *text)
{
	size_t i;
	json_t *element;

	json_array_foreach(array, i, element) {
		if (json_is_string(element) &&
		    strcmp(json_string_value(element), text) == 0)
			return true;
	}
	return false;
}

static bool has_prefix(const char *text, const char *prefix)
{
	return text && strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool is_field(const json_t *event, const char *path, const char *text)
{
	const char *value = harness_event_string(event, path);

	return value && strcmp(value, text) == 0;
}

/* Returns the first module-load record of kind whose dll.path has part. */
static json_t *find_module_load(const char *kind, const char *part)
{
	json_t *event;
	size_t i;

	json_array_foreach(run.events, i, event) {
		const char *path = harness_event_string(event, "dll.path");

		if (path && strstr(path, part) &&
		    is_field(event, "event.kind", kind) &&
		    is_field(event, "event.action", "module-load"))
			return event;
	}
	return NULL;
}

static long long count_alerts(const char *action)
{
	return harness_events_count(run.events, "event.kind", "alert",
				    "event.action", action, NULL);
}

static char *real_path(const char *path)
{
	char *resolved = realpath(path, NULL);

	cr_assert(resolved, "cannot resolve %s: %s", path, strerror(errno));
	return harness_test_own(&run, resolved);
}

static void expect_integer_field(const json_t *event, const char *path,
				 long long expected)
{
	long long value = 0;

	cr_assert(harness_event_integer(event, path, &value),
		  "%s is missing or not an integer", path);
	cr_assert(value == expected, "%s is %lld, expected %lld", path, value,
		  expected);
}

static char *uid_text(uid_t uid)
{
	return harness_test_format(&run, "%u", (unsigned int)uid);
}

/* The alert's own fields: who decided, how bad, which technique. */
static void expect_alert_fields(const json_t *alert)
{
	const char *rule = harness_event_string(alert, "rule.id");
	json_t *techniques = harness_event_get(alert, "threat.technique.id");
	long long severity = -1;

	cr_assert(rule && *rule, "the alert has no rule.id");
	cr_assert(harness_event_integer(alert, "event.severity", &severity),
		  "the alert has no integer event.severity");
	cr_assert(severity >= 0 && severity <= 100,
		  "event.severity %lld is outside 0-100", severity);
	cr_assert(json_is_array(techniques),
		  "threat.technique.id is missing or not an array");
	cr_assert(has_string_element(techniques, "T1106"),
		  "threat.technique.id lacks T1106");
}

/* The process fields of a record made for the single-threaded target. */
static void expect_process_fields(const json_t *event, const char *path,
				  long long pid, const char *cwd)
{
	json_t *args = harness_event_get(event, "process.args");
	const char *first = json_string_value(json_array_get(args, 0));
	char *uid = uid_text(getuid());

	expect_integer_field(event, "process.pid", pid);
	expect_integer_field(event, "process.thread.id", pid);
	harness_event_expect_string(event, "process.executable", path);
	cr_assert(json_is_array(args), "process.args is missing");
	cr_assert(first && strcmp(first, path) == 0,
		  "process.args[0] is %s, expected %s", first ? first : "-",
		  path);
	harness_event_expect_string(event, "process.working_directory", cwd);
	/* The target is nativemon's own child. */
	expect_integer_field(event, "process.parent.pid", run.result.pid);
	harness_event_expect_string(event, "user.id", uid);
}

/* Runs the program at path without arguments and expects exit code 0. */
static void observe_program(const char *path)
{
	harness_test_observe(&run, NULL, (char *[]){ (char *)path, NULL });
	harness_test_expect_exit_code(&run, 0);
}

/*
 * Runs the target program at path, which calls memfd_create directly, and
 * returns its direct-syscall alert.
 */
static json_t *observe_memfd_alert(const char *path)
{
	json_t *alert;

	observe_program(path);
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "direct-syscall",
				    "nativemon.syscall.name", "memfd_create",
				    NULL);
	cr_assert(alert, "no direct-syscall alert for memfd_create; %s",
		  run.seen);
	return alert;
}

Test(detect, direct_syscall_from_executable, .timeout = TEST_TIMEOUT)
{
	const char *path = harness_test_target(&run, "raw_memfd");
	json_t *alert = observe_memfd_alert(path);

	harness_event_expect_string(alert, "nativemon.origin.kind",
				    "executable");
	harness_event_expect_string(alert, "nativemon.origin.path", path);
	expect_alert_fields(alert);
	expect_process_fields(alert, path, reported_pid(),
			      real_path(run.scratch[0]));
}

/*
 * The loader maps libm before libc here. A program that maps libc only
 * later is still a libc program, so its direct syscalls stay alerts.
 */
Test(detect, direct_syscall_with_libm_first, .timeout = TEST_TIMEOUT)
{
	const char *path = harness_test_target(&run, "libm_raw_memfd");
	json_t *record;

	observe_program(path);
	record = harness_events_find(run.events, "event.action",
				     "direct-syscall", "nativemon.syscall.name",
				     "memfd_create", NULL);
	cr_assert(record, "no direct-syscall record for memfd_create; %s",
		  run.seen);
	harness_event_expect_string(record, "nativemon.origin.kind",
				    "executable");
	cr_assert(is_field(record, "event.kind", "alert"),
		  "the direct syscall is a record of kind %s by rule %s, "
		  "expected an alert",
		  harness_event_string(record, "event.kind"),
		  harness_event_string(record, "rule.id"));
}

/* Returns true if swap_library printed all rounds, at one address. */
static bool rounds_share_address(int rounds)
{
	const char *line = run.result.out;
	char first[32] = "", address[32];
	int round, build, seen = 0;

	while ((line = strstr(line, "round=")) &&
	       sscanf(line, "round=%d build=%d address=%31s", &round, &build,
		      address) == 3) {
		if (seen++ == 0)
			snprintf(first, sizeof(first), "%s", address);
		else if (strcmp(address, first) != 0)
			return false;
		line++;
	}
	return seen == rounds;
}

/*
 * A library replaced by another build and loaded again at the same address
 * is other code, so its direct syscalls must not fold into the record of
 * the first build, which names that build's build-id.
 */
Test(detect, replaced_library_is_not_folded, .timeout = TEST_TIMEOUT)
{
	const char *directory = harness_test_scratch_new(&run, NULL);
	const char *library = join_path(directory, "libnmswap.so");
	const char *builds[4];
	size_t i, loads = 0;
	json_t *event;

	harness_test_observe(
		&run, NULL,
		(char *[]){ harness_test_target(&run, "swap_library"),
			    (char *)directory,
			    harness_test_target(&run, "swap_build1.so"),
			    harness_test_target(&run, "swap_build2.so"), "4",
			    NULL });
	harness_test_expect_exit_code(&run, 0);
	cr_assert(rounds_share_address(4),
		  "the loader placed the builds at different addresses, which "
		  "this test needs to be equal; stdout: %s",
		  run.result.out);

	/* The module-load records name the build of each round. */
	json_array_foreach(run.events, i, event) {
		if (loads < 4 &&
		    is_field(event, "event.action", "module-load") &&
		    is_field(event, "dll.path", library))
			builds[loads++] = harness_event_string(
				event, "nativemon.load.build_id");
	}
	cr_assert_eq(loads, 4, "%zu module loads of %s; %s", loads, library,
		     run.seen);
	cr_assert(builds[0] && builds[1] && strcmp(builds[0], builds[1]) != 0,
		  "the two builds have no build-ids of their own; %s",
		  run.seen);

	for (int build = 0; build < 2; build++) {
		long long calls = harness_events_count(
			run.events, "event.action", "direct-syscall",
			"nativemon.caller.build_id", builds[build], NULL);

		cr_expect_eq(calls, 2,
			     "%lld direct syscalls are counted for build %s, "
			     "which made 2; %s",
			     calls, builds[build], run.seen);
	}
}

Test(detect, direct_syscall_from_anonymous_memory, .timeout = TEST_TIMEOUT)
{
	json_t *alert =
		observe_memfd_alert(harness_test_target(&run, "anon_stub"));

	harness_event_expect_string(alert, "nativemon.origin.kind",
				    "anonymous");
	cr_assert(!harness_event_get(alert, "nativemon.origin.path"),
		  "anonymous memory has no file, but origin.path is %s",
		  harness_event_string(alert, "nativemon.origin.path"));
	expect_integer_field(alert, "process.pid", reported_pid());
}

Test(detect, libc_syscalls_are_not_direct, .timeout = TEST_TIMEOUT)
{
	const char *path = harness_test_target(&run, "libc_memfd");
	long long direct, unbacked;

	observe_program(path);
	/* The exec record shows that the target did run under the filter. */
	cr_assert(harness_events_find(run.events, "event.action", "exec",
				      "process.executable", path, NULL),
		  "no exec record for %s; %s", path, run.seen);
	direct = count_alerts("direct-syscall");
	unbacked = count_alerts("unbacked-caller");
	cr_assert(direct == 0, "%lld direct-syscall alerts for libc calls; %s",
		  direct, run.seen);
	cr_assert(unbacked == 0,
		  "%lld unbacked-caller alerts for libc calls; %s", unbacked,
		  run.seen);
}

/*
 * Without IA-32 emulation (CONFIG_IA32_EMULATION off, or ia32_emulation=0
 * on the command line of Linux 6.7 and later) int 0x80 raises SIGSEGV.
 */
static bool has_ia32_emulation(void)
{
	int status = 0;
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork failed: %s", strerror(errno));
	if (pid == 0) {
		long result;

		__asm__ volatile("int $0x80"
				 : "=a"(result)
				 : "a"(20L) /* i386 getpid */
				 : "r8", "r9", "r10", "r11", "memory");
		_exit(result == (long)getpid() ? 0 : 1);
	}
	cr_assert(waitpid(pid, &status, 0) == pid, "waitpid failed: %s",
		  strerror(errno));
	return !WIFSIGNALED(status);
}

Test(detect, int80_from_64bit_process, .timeout = TEST_TIMEOUT)
{
	const char *path;
	json_t *alert;

	if (!has_ia32_emulation())
		cr_skip_test("kernel without IA-32 emulation");
	path = harness_test_target(&run, "int80_getpid");
	observe_program(path);
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "non-native-abi", NULL);
	cr_assert(alert, "no non-native-abi alert; %s", run.seen);
	harness_event_expect_string(alert, "nativemon.syscall.arch", "i386");
	harness_event_expect_string(alert, "nativemon.syscall.name", "getpid");
	expect_integer_field(alert, "process.pid", reported_pid());
}

/*
 * A program built for i386 makes every call through int 0x80, so its ABI
 * is telemetry, but a call from anonymous memory is still shellcode.
 */
Test(detect, i386_program_shellcode_alerts, .timeout = TEST_TIMEOUT)
{
	const char *path;
	json_t *alert;

	if (!has_ia32_emulation())
		cr_skip_test("kernel without IA-32 emulation");
	path = harness_test_target(&run, "anon_i386");
	observe_program(path);
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "direct-syscall", NULL);
	cr_assert(alert, "no direct-syscall alert; %s", run.seen);
	harness_event_expect_string(alert, "nativemon.syscall.arch", "i386");
	harness_event_expect_string(alert, "nativemon.syscall.name",
				    "memfd_create");
	harness_event_expect_string(alert, "nativemon.origin.kind",
				    "anonymous");
	cr_expect_eq(count_alerts("direct-syscall"), 1);
	cr_expect_eq(count_alerts("non-native-abi"), 0);
}

/*
 * The second start of an i386 program, whose static check comes from the
 * program cache, must still count as i386.
 */
Test(detect, i386_program_started_twice, .timeout = TEST_TIMEOUT)
{
	const char *path;

	if (!has_ia32_emulation())
		cr_skip_test("kernel without IA-32 emulation");
	path = harness_test_target(&run, "anon_i386");
	harness_test_observe(
		&run, NULL,
		(char *[]){ "sh", "-c",
			    harness_test_format(&run, "%s && %s", path, path),
			    NULL });
	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_alerts("direct-syscall"), 2, "%s", run.seen);
	cr_expect_eq(count_alerts("non-native-abi"), 0, "%s", run.seen);
}

/*
 * The same shellcode entering the kernel through the vDSO, as 32-bit libc
 * does: the syscall is in the vDSO, and the return address gives it away.
 */
Test(detect, i386_vsyscall_from_shellcode, .timeout = TEST_TIMEOUT)
{
	const char *path;
	json_t *alert;

	if (!has_ia32_emulation())
		cr_skip_test("kernel without IA-32 emulation");
	path = harness_test_target(&run, "vsyscall_i386");
	observe_program(path);
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "unbacked-caller", NULL);
	cr_assert(alert, "no unbacked-caller alert; %s", run.seen);
	harness_event_expect_string(alert, "nativemon.syscall.name",
				    "memfd_create");
	harness_event_expect_string(alert, "nativemon.origin.kind", "vdso");
}

/*
 * Runs hidden_exec, which replaces the last page of libc's text with a raw
 * memfd_create stub in the way mode names, without a watched mmap or
 * mprotect. The stub must not pass for libc.
 */
static void expect_hidden_stub_alert(const char *mode)
{
	const char *path = harness_test_target(&run, "hidden_exec");
	json_t *alert;

	harness_test_observe(&run, NULL,
			     (char *[]){ (char *)path, (char *)mode, NULL });
	harness_test_expect_exit_code(&run, 0);
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "direct-syscall",
				    "nativemon.syscall.name", "memfd_create",
				    NULL);
	cr_assert(alert, "no direct-syscall alert for the stub; %s",
		  run.seen);
	harness_event_expect_string(alert, "nativemon.origin.kind",
				    "anonymous");
}

Test(detect, code_over_libc_by_personality, .timeout = TEST_TIMEOUT)
{
	expect_hidden_stub_alert("personality");
}

Test(detect, code_over_libc_by_shmat, .timeout = TEST_TIMEOUT)
{
	expect_hidden_stub_alert("shmat");
}

/*
 * Another thread's notification can come after the response to the mmap
 * that put the stub in place but before the mmap has run. What nativemon
 * reads then must not clear the mark of the mapping's range.
 */
Test(detect, code_over_libc_while_busy, .timeout = TEST_TIMEOUT)
{
	const char *path = harness_test_target(&run, "hidden_exec");

	harness_test_observe(&run, NULL,
			     (char *[]){ (char *)path, "busy-thread", NULL });
	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "event.kind", "alert",
					  "event.action", "direct-syscall",
					  "nativemon.syscall.name",
					  "memfd_create",
					  "nativemon.origin.kind", "anonymous",
					  NULL),
		     10, "one alert per child expected; %s", run.seen);
}

static void expect_fileless_exec(void)
{
	json_t *alert = harness_events_find(run.events, "event.kind", "alert",
					    "event.action", "fileless-exec",
					    NULL);
	const char *file;

	cr_assert(alert, "no fileless-exec alert; %s", run.seen);
	harness_event_expect_string(alert, "nativemon.file.kind", "memfd");
	file = harness_event_string(alert, "file.path");
	cr_assert(has_prefix(file, "/memfd:nm-memfd-exec"),
		  "file.path is %s, expected the memfd /memfd:nm-memfd-exec",
		  file ? file : "missing");
}

/* Runs memfd_exec, which executes a memfd in the way that mode names. */
static void observe_memfd_exec(const char *mode)
{
	const char *path = harness_test_target(&run, "memfd_exec");

	harness_test_observe(&run, NULL,
			     (char *[]){ (char *)path, (char *)mode, NULL });
	harness_test_expect_exit_code(&run, 0);
}

Test(detect, fexecve_of_memfd, .timeout = TEST_TIMEOUT)
{
	observe_memfd_exec("fexecve");
	expect_fileless_exec();
}

Test(detect, exec_of_memfd_proc_path, .timeout = TEST_TIMEOUT)
{
	observe_memfd_exec("proc-path");
	expect_fileless_exec();
}

/*
 * The fileless-exec alert is the record an analyst reads first, so it
 * carries the new program's arguments as the exec record does.
 */
Test(detect, fileless_exec_alert_has_args, .timeout = TEST_TIMEOUT)
{
	json_t *alert, *args;
	const char *first;

	observe_memfd_exec("fexecve");
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "fileless-exec", NULL);
	cr_assert(alert, "no fileless-exec alert; %s", run.seen);
	args = harness_event_get(alert, "process.args");
	cr_assert(json_is_array(args),
		  "the fileless-exec alert has no process.args");
	first = json_string_value(json_array_get(args, 0));
	cr_assert(first && strcmp(first, "true") == 0,
		  "process.args[0] is %s, expected true",
		  first ? first : "missing");
}

/* Runs load_module with one step that copies the payload into directory. */
static void load_payload_copy(const char *directory)
{
	char *step = harness_test_format(&run, "copy:%s", directory);

	harness_test_observe(
		&run, NULL,
		(char *[]){ (char *)harness_test_target(&run, "load_module"),
			    (char *)harness_test_target(&run, "payload.so"),
			    step, "name:libm.so.6", NULL });
}

Test(detect, dlopen_from_tmp_but_not_libm, .timeout = TEST_TIMEOUT)
{
	const char *directory = harness_test_scratch_new(&run, "/tmp");
	char *copy = join_path(directory, "libnmpayload.so");
	json_t *alert, *libm;

	load_payload_copy(directory);
	harness_test_expect_exit_code(&run, 0);
	alert = find_module_load("alert", copy);
	cr_assert(alert, "no module-load alert for %s; %s", copy, run.seen);
	harness_event_expect_string(alert, "dll.path", copy);
	libm = find_module_load("alert", "/libm.so");
	cr_assert(!libm, "module-load alert for the system library %s",
		  harness_event_string(libm, "dll.path"));
	libm = find_module_load("event", "/libm.so");
	cr_assert(libm, "no module-load telemetry for libm; %s", run.seen);
}

Test(detect, module_from_memfd, .timeout = TEST_TIMEOUT)
{
	json_t *alert;

	harness_test_observe(
		&run, NULL,
		(char *[]){ (char *)harness_test_target(&run, "load_module"),
			    (char *)harness_test_target(&run, "payload.so"),
			    "memfd", NULL });
	harness_test_expect_exit_code(&run, 0);
	alert = find_module_load("alert", "/memfd:nm-module");
	cr_assert(alert, "no module-load alert for the memfd; %s", run.seen);
	harness_event_expect_string(alert, "nativemon.file.kind", "memfd");
}

Test(detect, module_from_world_writable_dir, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *shared = join_path(scratch, "shared");
	char *copy = join_path(shared, "libnmpayload.so");
	json_t *alert;

	/* mkdir(2) applies the umask, so the mode is set on its own. */
	cr_assert(mkdir(shared, 0777) == 0, "cannot create %s: %s", shared,
		  strerror(errno));
	cr_assert(chmod(shared, 0777) == 0, "cannot chmod %s: %s", shared,
		  strerror(errno));
	load_payload_copy(shared);
	harness_test_expect_exit_code(&run, 0);
	alert = find_module_load("alert", copy);
	cr_assert(alert, "no module-load alert for %s; %s", copy, run.seen);
	harness_event_expect_string(alert, "rule.id", "nm-0008");
}

Test(detect, threads_account_for_every_call, .timeout = TEST_TIMEOUT)
{
	long long total;

	harness_test_observe(
		&run, NULL,
		(char *[]){ (char *)harness_test_target(&run, "thread_storm"),
			    "8", "200", NULL });
	harness_test_expect_exit_code(&run, 0);
	cr_assert(strstr(run.result.out, "failures=0"),
		  "some memfd_create calls failed under nativemon: %s",
		  run.result.out);
	total = harness_events_count(run.events, "event.kind", "alert",
				     "event.action", "direct-syscall",
				     "nativemon.syscall.name", "memfd_create",
				     NULL);
	cr_assert(total == 1600,
		  "direct-syscall alerts count %lld calls, expected 8 x 200",
		  total);
}

/*
 * nativemon keeps descriptors open for each live thread, so 64 threads
 * need more than a soft limit of 64 on open files. It raises its own limit
 * once the command has started, which keeps the one it was given.
 */
Test(detect, threads_beyond_descriptor_soft_limit, .timeout = TEST_TIMEOUT)
{
	const char *storm = harness_test_target(&run, "thread_storm");
	struct rlimit limit;
	long long total;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &limit), 0);
	limit.rlim_cur = 64;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &limit), 0, "setrlimit: %s",
		     strerror(errno));
	harness_test_observe(&run, NULL,
			     (char *[]){ "/bin/sh", "-c",
					 "ulimit -Sn && exec \"$0\" 64 20",
					 (char *)storm, NULL });
	harness_test_expect_exit_code(&run, 0);
	cr_assert(strncmp(run.result.out, "64\n", 3) == 0,
		  "the command did not keep its limit of 64 files: %s",
		  run.result.out);
	total = harness_events_count(run.events, "event.kind", "alert",
				     "event.action", "direct-syscall",
				     "nativemon.syscall.name", "memfd_create",
				     NULL);
	cr_assert(total == 1280,
		  "direct-syscall alerts count %lld calls, expected 64 x 20; "
		  "stderr: %s",
		  total, run.result.err);
}

/*
 * Runs command under nativemon with both limits on open files at files,
 * which nativemon and the command inherit, and returns the calls that its
 * direct-syscall alerts count.
 */
static long long count_direct_alerts_at_limit(rlim_t files,
					      char *const command[])
{
	struct rlimit limit = { .rlim_cur = files, .rlim_max = files };

	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &limit), 0, "setrlimit: %s",
		     strerror(errno));
	harness_test_observe(&run, NULL, command);
	harness_test_expect_exit_code(&run, 0);
	return harness_events_count(run.events, "event.kind", "alert",
				    "event.action", "direct-syscall", NULL);
}

/*
 * Each live thread needs its pidfd, so 64 threads under a hard limit of 96
 * leave no room for a cached /proc file per thread as well. nativemon must
 * give the cached files up rather than leave threads unchecked.
 */
Test(detect, tracks_threads_near_hard_limit, .timeout = TEST_TIMEOUT)
{
	const char *storm = harness_test_target(&run, "thread_storm");
	long long alerts = count_direct_alerts_at_limit(
		96, (char *[]){ (char *)storm, "64", "20", NULL });

	cr_assert(alerts == 1280,
		  "%lld direct-syscall alerts, expected 64 x 20; %s", alerts,
		  run.result.err);
}

/*
 * Under a hard limit of 64 open files nativemon cannot track every thread.
 * The calls it lets through unchecked must be counted, never lost unsaid.
 */
Test(detect, counts_calls_of_untracked_threads, .timeout = TEST_TIMEOUT)
{
	const char *storm = harness_test_target(&run, "thread_storm");
	long long alerts = count_direct_alerts_at_limit(
		64, (char *[]){ (char *)storm, "64", "20", NULL });
	long long unchecked = 0;
	const char *summary;

	cr_assert(strstr(run.result.err, "raise the hard limit on open files"),
		  "no warning of untracked threads: %s", run.result.err);
	summary = strstr(run.result.err, "warning: ");
	while (summary && sscanf(summary, "warning: %lld watched calls went",
				 &unchecked) != 1)
		summary = strstr(summary + 1, "warning: ");
	cr_assert(alerts + unchecked == 1280,
		  "%lld alerts and %lld unchecked calls, expected 64 x 20; %s",
		  alerts, unchecked, run.result.err);
}

/*
 * Under a hard limit of 128 open files, the entries of exited children
 * would fill nativemon's descriptors long before the timed sweep, and
 * the calls of later children would go unchecked.
 */
Test(detect, tracks_children_under_low_limit, .timeout = TEST_TIMEOUT)
{
	const char *churn = harness_test_target(&run, "wrap_churn");
	long long alerts = count_direct_alerts_at_limit(
		128, (char *[]){ (char *)churn, "400", NULL });

	cr_assert(alerts == 400,
		  "%lld direct-syscall alerts for 400 children; %s", alerts,
		  run.result.err);
}

/*
 * 60 sleepers at once need more than a hard limit of 128 open files allow,
 * so nativemon's table fills up with their entries. Once they have exited,
 * it must find the descriptors again for the children that follow.
 */
Test(detect, tracks_children_after_limit_frees, .timeout = TEST_TIMEOUT)
{
	const char *churn = harness_test_target(&run, "wrap_churn");
	long long alerts = count_direct_alerts_at_limit(
		128, (char *[]){ "/bin/sh", "-c",
				 "for i in $(seq 60); do sleep 1 & done; wait; "
				 "exec \"$0\" 100",
				 (char *)churn, NULL });

	cr_assert(alerts == 100,
		  "%lld direct-syscall alerts for 100 children; %s", alerts,
		  run.result.err);
}

Test(detect, static_program_is_telemetry, .timeout = TEST_TIMEOUT)
{
	const char *path = harness_test_target(&run, "static_raw");
	long long records, alerts;
	json_t *record;

	observe_program(path);
	/* The raw call and the linked-in wrapper, both in the image. */
	records = harness_events_count(run.events, "event.kind", "event",
				       "event.action", "direct-syscall",
				       "nativemon.syscall.name", "memfd_create",
				       NULL);
	cr_assert(records == 2,
		  "%lld direct-syscall telemetry records for memfd_create, "
		  "expected 2; %s",
		  records, run.seen);
	record = harness_events_find(run.events, "event.action",
				     "direct-syscall", NULL);
	harness_event_expect_string(record, "nativemon.origin.kind",
				    "executable");
	harness_event_expect_string(record, "nativemon.origin.path", path);
	alerts = harness_events_count(run.events, "event.kind", "alert", NULL);
	cr_assert(alerts == 0, "%lld alerts for a static program; %s", alerts,
		  run.seen);
}

/*
 * Runs a copy of /bin/true from a directory named "bad-" raw "-name". The
 * exec record must name that directory "bad-" escaped "-name", because
 * nativemon writes each byte that is not part of valid UTF-8 as the text
 * \xNN. The log then stays valid UTF-8 and shows every byte.
 */
static void expect_escaped_exec_path(const char *raw, const char *escaped)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *real_scratch = real_path(scratch);
	char *directory =
		harness_test_format(&run, "%s/bad-%s-name", scratch, raw);
	char *program = join_path(directory, "true");
	char *expected_path = harness_test_format(&run, "%s/bad-%s-name/true",
						  real_scratch, escaped);
	char *expected_arg = harness_test_format(&run, "%s/bad-%s-name/true",
						 scratch, escaped);
	json_t *exec;
	const char *arg;

	cr_assert(mkdir(directory, 0755) == 0, "cannot create %s: %s",
		  directory, strerror(errno));
	harness_copy_file("/bin/true", program, 0755);
	observe_program(program);
	exec = harness_events_find(run.events, "event.action", "exec",
				   "process.executable", expected_path, NULL);
	cr_assert(exec, "no exec record with process.executable %s; %s",
		  expected_path, run.seen);
	arg = json_string_value(
		json_array_get(harness_event_get(exec, "process.args"), 0));
	cr_assert(arg && strcmp(arg, expected_arg) == 0,
		  "process.args[0] is %s, expected %s", arg ? arg : "missing",
		  expected_arg);
}

Test(detect, non_utf8_exec_path_escaped, .timeout = TEST_TIMEOUT)
{
	expect_escaped_exec_path("\xff", "\\xff");
}

/*
 * F4 90 80 80 has the form of a four-byte sequence but would encode
 * U+110000, beyond the last code point, so RFC 3629 makes it invalid.
 */
Test(detect, exec_path_beyond_unicode_escaped, .timeout = TEST_TIMEOUT)
{
	expect_escaped_exec_path("\xf4\x90\x80\x80",
				 "\\xf4\\x90\\x80\\x80");
}

static void expect_benign(void)
{
	long long alerts = harness_events_count(run.events, "event.kind",
						"alert", NULL);

	harness_test_expect_exit_code(&run, 0);
	cr_assert(harness_events_find(run.events, "event.action", "exec",
				      NULL),
		  "no exec record: the command did not run under the filter");
	cr_assert(alerts == 0, "%lld alerts for a benign command; %s", alerts,
		  run.seen);
}

Test(detect, benign_shell_pipeline, .timeout = TOOL_TEST_TIMEOUT)
{
	harness_test_observe(&run, NULL,
			     (char *[]){ "sh", "-c",
					 "ls / | sort | head -n 3 >/dev/null",
					 NULL });
	expect_benign();
}

/* Returns whether name is an executable file in one of PATH's entries. */
static bool is_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *entry, *rest, candidate[PATH_MAX];
	bool found = false;

	if (!path)
		return false;
	copy = strdup(path);
	cr_assert(copy, "out of memory");
	for (entry = strtok_r(copy, ":", &rest); entry && !found;
	     entry = strtok_r(NULL, ":", &rest)) {
		snprintf(candidate, sizeof(candidate), "%s/%s", entry, name);
		found = access(candidate, X_OK) == 0;
	}
	free(copy);
	return found;
}

Test(detect, benign_python_imports, .timeout = TOOL_TEST_TIMEOUT)
{
	if (!is_in_path("python3"))
		cr_skip_test("python3 is not installed");
	harness_test_observe(&run, NULL,
			     (char *[]){ "python3", "-c",
					 "import json, ssl, ctypes, sqlite3",
					 NULL });
	expect_benign();
}

Test(detect, benign_perl, .timeout = TOOL_TEST_TIMEOUT)
{
	harness_test_observe(&run, NULL,
			     (char *[]){ "perl", "-MPOSIX", "-e",
					 "print floor(2.5)", NULL });
	expect_benign();
	cr_assert(strcmp(run.result.out, "2") == 0,
		  "perl printed \"%s\", expected \"2\"", run.result.out);
}

Test(detect, benign_c_compile, .timeout = TOOL_TEST_TIMEOUT)
{
	static const char source[] = "#include <stdio.h>\n"
				     "int main(void)\n"
				     "{\n"
				     "\tputs(\"compiled\");\n"
				     "\treturn 0;\n"
				     "}\n";
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *file = join_path(scratch, "t.c");
	FILE *stream = fopen(file, "w");

	cr_assert(stream, "cannot create %s: %s", file, strerror(errno));
	cr_assert(fputs(source, stream) >= 0, "cannot write %s", file);
	cr_assert(fclose(stream) == 0, "cannot write %s", file);
	harness_test_observe(
		&run, &(struct harness_options){ .cwd = scratch },
		(char *[]){ "sh", "-c", "cc -O2 t.c -o t && ./t", NULL });
	expect_benign();
	cr_assert(strcmp(run.result.out, "compiled\n") == 0,
		  "the compiled program printed \"%s\"", run.result.out);
}

Test(detect, unprivileged_user_direct_syscall, .timeout = TEST_TIMEOUT)
{
	char *uid = uid_text(geteuid() == 0 ? HARNESS_UNPRIVILEGED_ID
					    : getuid());
	json_t *alert;
	size_t warnings;

	harness_test_observe_unprivileged(&run, "raw_memfd");
	harness_test_expect_exit_code(&run, 0);
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "direct-syscall",
				    "nativemon.syscall.name", "memfd_create",
				    NULL);
	cr_assert(alert, "no direct-syscall alert; %s", run.seen);
	harness_event_expect_string(alert, "nativemon.origin.kind",
				    "executable");
	harness_event_expect_string(alert, "user.id", uid);
	warnings = harness_count_substring(run.result.err, "no_new_privs");
	cr_assert(warnings == 1,
		  "the no_new_privs warning appeared %zu times; stderr: %s",
		  warnings, run.result.err);
}

/* Returns whether the string array is exactly the one expected. */
static bool args_equal(const json_t *args, const char *const expected[])
{
	size_t i = 0;

	for (; expected[i]; i++) {
		const char *arg = json_string_value(json_array_get(args, i));

		if (!arg || strcmp(arg, expected[i]) != 0)
			return false;
	}
	return json_is_array(args) && json_array_size(args) == i;
}

/* Returns the first exec record whose process.args are args. */
static json_t *find_exec(const char *const args[])
{
	json_t *event;
	size_t i;

	json_array_foreach(run.events, i, event) {
		if (is_field(event, "event.action", "exec") &&
		    args_equal(harness_event_get(event, "process.args"), args))
			return event;
	}
	return NULL;
}

Test(detect, exec_telemetry_from_shell, .timeout = TEST_TIMEOUT)
{
	/*
	 * The second command keeps the shell from replacing itself with
	 * /bin/true, as bash and newer dash do for a lone command, so that
	 * /bin/true runs as the shell's child.
	 */
	static const char *const shell_args[] = { "sh", "-c",
						  "/bin/true; exit 0", NULL };
	static const char *const true_args[] = { "/bin/true", NULL };
	json_t *shell, *child;
	const char *executable;
	long long shell_pid = 0;
	char *uid = uid_text(getuid());

	harness_test_observe(&run, NULL, (char **)shell_args);
	harness_test_expect_exit_code(&run, 0);
	shell = find_exec(shell_args);
	cr_assert(shell, "no exec record for the shell; %s", run.seen);
	cr_assert(harness_event_integer(shell, "process.pid", &shell_pid),
		  "the shell's exec record has no process.pid");
	child = find_exec(true_args);
	cr_assert(child, "no exec record for /bin/true; %s", run.seen);
	executable = harness_event_string(child, "process.executable");
	cr_assert(executable && (strcmp(executable, "/bin/true") == 0 ||
				 strcmp(executable, "/usr/bin/true") == 0),
		  "process.executable is %s, expected /bin/true or "
		  "/usr/bin/true",
		  executable ? executable : "missing");
	harness_event_expect_string(child, "event.kind", "event");
	expect_integer_field(child, "process.parent.pid", shell_pid);
	harness_event_expect_string(child, "user.id", uid);
}

Test(detect, unshare_is_native_api_telemetry, .timeout = TEST_TIMEOUT)
{
	json_t *record;

	observe_program(harness_test_target(&run, "unshare_user"));
	record = harness_events_find(run.events, "event.action", "native-api",
				     "nativemon.syscall.name", "unshare", NULL);
	cr_assert(record, "no native-api record for unshare; %s", run.seen);
	harness_event_expect_string(record, "event.kind", "event");
	expect_integer_field(record, "process.pid", reported_pid());
}

/* Counts the lines of text that start with prefix. */
static size_t count_lines_starting(const char *text, const char *prefix)
{
	size_t count = 0;

	for (const char *line = text; line && *line;) {
		const char *newline = strchr(line, '\n');

		if (has_prefix(line, prefix))
			count++;
		line = newline ? newline + 1 : NULL;
	}
	return count;
}

Test(detect, alert_line_on_stderr, .timeout = TEST_TIMEOUT)
{
	static const char prefix[] =
		"nativemon: alert direct-syscall memfd_create from ";
	const char *path = harness_test_target(&run, "raw_memfd");
	const char *line;
	size_t lines;

	observe_program(path);
	lines = count_lines_starting(run.result.err, prefix);
	cr_assert(lines == 1, "%zu lines start with \"%s\"; stderr: %s", lines,
		  prefix, run.result.err);
	line = strstr(run.result.err, prefix);
	cr_assert(has_prefix(line + strlen(prefix), path),
		  "the alert line does not name %s: %s", path, line);
}

Test(detect, quiet_suppresses_alert_line, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	size_t lines;

	run.log = join_path(scratch, "events.jsonl");
	harness_run_nativemon(&run.result,
			      &(struct harness_options){ .cwd = scratch },
			      "run", "--quiet", "--log", run.log, "--",
			      harness_test_target(&run, "raw_memfd"), NULL);
	harness_test_read_log(&run);
	harness_test_expect_exit_code(&run, 0);
	lines = count_lines_starting(run.result.err, "nativemon: alert");
	cr_assert(lines == 0, "--quiet printed %zu alert lines: %s", lines,
		  run.result.err);
	cr_assert(count_alerts("direct-syscall") == 1,
		  "--quiet must still log the alert; %s", run.seen);
}

/*
 * Once one argument needs escaping, nativemon.escaped names process.args,
 * so every argument is escaped: the valid one's backslash is doubled and
 * cannot be mistaken for an escape.
 */
Test(detect, escaped_args_escape_every_element, .timeout = TEST_TIMEOUT)
{
	char *command[] = { "/bin/true", "lit\\xff", "\xff", NULL };
	json_t *exec, *args;

	harness_test_observe(&run, NULL, command);

	exec = harness_events_find(run.events, "event.action", "exec", NULL);
	cr_assert(exec, "no exec record; %s", run.seen);
	args = harness_event_get(exec, "process.args");
	cr_assert(json_is_array(args) && json_array_size(args) == 3,
		  "unexpected process.args");
	cr_expect_str_eq(json_string_value(json_array_get(args, 1)),
			 "lit\\\\xff");
	cr_expect_str_eq(json_string_value(json_array_get(args, 2)), "\\xff");
	cr_expect(harness_events_find(run.events, "nativemon.escaped",
				      "process.args", NULL),
		  "process.args is not listed in nativemon.escaped");
}
