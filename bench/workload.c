/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The benchmark target: makes a given number of syscalls of one kind and
 * prints the mean wall-clock cost of one in nanoseconds, or starts a number
 * of processes and prints its parent's peak RSS. bench/run.sh runs it with
 * no filter, under bare_supervisor, under strace and under nativemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The mprotect workload times its two loops in this many alternating
 * blocks, so that a change in machine load affects both loops alike.
 */
#define MPROTECT_BLOCKS 10

/* The unwatched workload reports the fastest of this many blocks. */
#define UNWATCHED_BLOCKS 10

/*
 * nativemon reads /proc about a process at its first notification, so the
 * first calls run untimed.
 */
#define WARMUP_CALLS_MAX 1000

/*
 * Copies of the alert workload's syscall stub, ALERT_STUB_SIZE bytes apart.
 * nativemon folds repeats of an alert from one instruction address in one
 * process and keeps 64 fold windows open at most, so cycling through more
 * addresses than that makes every call a new alert.
 */
#define ALERT_STUBS 1024
#define ALERT_STUB_SIZE 16

#define EXIT_USAGE 2

#define STRINGIFY(x) #x
#define EXPAND_STRINGIFY(x) STRINGIFY(x)

static const char usage_text[] =
	"Usage: workload KIND CALLS\n"
	"Make CALLS syscalls and print the mean time of one in ns.\n"
	"KIND is one of:\n"
	"  unwatched getppid() through libc, which no filter watches, in\n"
	"            10 blocks; the figure is the mean of the fastest\n"
	"  mprotect  mprotect(PROT_READ | PROT_EXEC) through libc, each\n"
	"            followed by an unwatched mprotect(PROT_READ)\n"
	"  memfd     memfd_create() through libc, each followed by close()\n"
	"  direct    memfd_create() through a syscall instruction in this\n"
	"            executable, each followed by close()\n"
	"  jit       mmap(PROT_EXEC) of new anonymous memory, then\n"
	"            memfd_create() through libc; two watched calls, and\n"
	"            the figure is per watched call\n"
	"  alert     like direct, but each call from the next of 1024\n"
	"            copies of the syscall stub, so no two calls in a row\n"
	"            come from the same address\n"
	"  exec-miss execv() of a program that does not exist, through\n"
	"            libc, as a PATH search tries each directory\n"
	"  processes start CALLS child processes that each make one\n"
	"            memfd_create() through libc and one direct, then wait\n"
	"            until all have; prints the peak RSS (VmHWM) of this\n"
	"            program's parent, the supervisor, in KiB\n";

struct measurement {
	double ns_per_call;	  /* per call, or per child started */
	double pair_ns;		  /* mprotect: per watched + unwatched pair */
	double unwatched_pair_ns; /* mprotect: per pair with PROT_NONE */
	/* processes: the parent's VmHWM before the forks and after reaping */
	long parent_hwm_start_kib;
	long parent_hwm_kib;
};

struct workload {
	const char *name;
	void (*run)(unsigned long calls, struct measurement *measurement);
};

static void die(const char *operation)
{
	fprintf(stderr, "workload: %s failed: %s\n", operation,
		strerror(errno));
	exit(EXIT_FAILURE);
}

static uint64_t now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static unsigned long warmup_calls(unsigned long calls)
{
	return calls / 10 < WARMUP_CALLS_MAX ? calls / 10 : WARMUP_CALLS_MAX;
}

static uint64_t time_getppid(unsigned long calls)
{
	uint64_t start = now_ns();

	for (unsigned long i = 0; i < calls; i++)
		getppid();
	return now_ns() - start;
}

/*
 * getppid(2) is one of the cheapest syscalls and glibc does not cache it,
 * so the loop shows what a filter costs every syscall it does not watch.
 * That cost is a few ns, less than what other load on the machine adds to
 * some blocks, so the figure is the mean of the fastest block.
 */
static void run_unwatched(unsigned long calls, struct measurement *measurement)
{
	unsigned long done = 0;

	time_getppid(warmup_calls(calls));
	for (unsigned int block = 0; block < UNWATCHED_BLOCKS; block++) {
		unsigned long block_calls =
			(calls - done) / (UNWATCHED_BLOCKS - block);
		double mean;

		if (block_calls == 0)
			continue;
		mean = (double)time_getppid(block_calls) / (double)block_calls;
		if (measurement->ns_per_call == 0 ||
		    mean < measurement->ns_per_call)
			measurement->ns_per_call = mean;
		done += block_calls;
	}
}

/* Returns the ns taken by pairs of mprotect(prot), mprotect(PROT_READ). */
static uint64_t time_mprotect_pairs(void *page, size_t size, int prot,
				    unsigned long pairs)
{
	uint64_t start = now_ns();

	for (unsigned long i = 0; i < pairs; i++) {
		if (mprotect(page, size, prot) < 0 ||
		    mprotect(page, size, PROT_READ) < 0)
			die("mprotect");
	}
	return now_ns() - start;
}

/*
 * Only the PROT_EXEC call of a pair is watched. A pair with PROT_NONE in its
 * place is not, and without a filter it took 93-129% of the time of the
 * PROT_EXEC pair in six runs on the machine in docs/BENCHMARKS.md. So half
 * of it estimates the unwatched mprotect(PROT_READ) that comes with each
 * watched call. The page is never touched, so it has no page table entry
 * and mprotect() only changes the flags of the mapping, which keeps both
 * pairs cheap and alike.
 */
static void run_mprotect(unsigned long calls, struct measurement *measurement)
{
	size_t size = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t exec_ns = 0, none_ns = 0;
	unsigned long done = 0;
	void *page;

	page = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		die("mmap");
	time_mprotect_pairs(page, size, PROT_READ | PROT_EXEC,
			    warmup_calls(calls));
	for (unsigned int block = 0; block < MPROTECT_BLOCKS; block++) {
		unsigned long blocks_left = MPROTECT_BLOCKS - block;
		unsigned long pairs = (calls - done) / blocks_left;

		exec_ns += time_mprotect_pairs(page, size,
					       PROT_READ | PROT_EXEC, pairs);
		none_ns += time_mprotect_pairs(page, size, PROT_NONE, pairs);
		done += pairs;
	}
	munmap(page, size);
	measurement->pair_ns = (double)exec_ns / (double)calls;
	measurement->unwatched_pair_ns = (double)none_ns / (double)calls;
	measurement->ns_per_call =
		measurement->pair_ns - measurement->unwatched_pair_ns / 2;
}

static uint64_t time_memfd_libc(unsigned long calls)
{
	uint64_t start = now_ns();

	for (unsigned long i = 0; i < calls; i++) {
		int fd = memfd_create("nativemon-bench", MFD_CLOEXEC);

		if (fd < 0)
			die("memfd_create");
		close(fd);
	}
	return now_ns() - start;
}

static void run_memfd(unsigned long calls, struct measurement *measurement)
{
	time_memfd_libc(warmup_calls(calls));
	measurement->ns_per_call =
		(double)time_memfd_libc(calls) / (double)calls;
}

/*
 * memfd_create(2) issued from this executable's own text rather than from
 * libc, which is what nativemon reports as a direct syscall. Returns the
 * fd or -errno, as the kernel does.
 */
static long memfd_create_direct(const char *name, unsigned int flags)
{
	long result;

	__asm__ volatile("syscall"
			 : "=a"(result)
			 : "0"((long)SYS_memfd_create), "D"(name),
			   "S"((unsigned long)flags)
			 : "rcx", "r11", "memory");
	return result;
}

static uint64_t time_memfd_direct(unsigned long calls)
{
	uint64_t start = now_ns();

	for (unsigned long i = 0; i < calls; i++) {
		long fd = memfd_create_direct("nativemon-bench", MFD_CLOEXEC);

		if (fd < 0) {
			errno = (int)-fd;
			die("direct memfd_create");
		}
		close((int)fd);
	}
	return now_ns() - start;
}

static void run_direct(unsigned long calls, struct measurement *measurement)
{
	time_memfd_direct(warmup_calls(calls));
	measurement->ns_per_call =
		(double)time_memfd_direct(calls) / (double)calls;
}

/*
 * The alert workload's stubs: ALERT_STUBS copies of a function that makes
 * the syscall NUMBER(ARG0, ARG1) and returns the kernel's result, each
 * aligned to ALERT_STUB_SIZE bytes. One CFI entry covers all of them, and
 * it is right for every instruction because no stub touches the stack, so
 * nativemon unwinds an alert's stack as it would a compiled function's.
 */
__asm__(".pushsection .text\n"
	".balign " EXPAND_STRINGIFY(ALERT_STUB_SIZE) "\n"
	".globl alert_stubs\n"
	".hidden alert_stubs\n"
	".type alert_stubs, @function\n"
	"alert_stubs:\n"
	".cfi_startproc\n"
	".rept " EXPAND_STRINGIFY(ALERT_STUBS) "\n"
	".balign " EXPAND_STRINGIFY(ALERT_STUB_SIZE) "\n"
	"0:\n"
	"mov %rdi, %rax\n"
	"mov %rsi, %rdi\n"
	"mov %rdx, %rsi\n"
	"syscall\n"
	"ret\n"
	".if . - 0b > " EXPAND_STRINGIFY(ALERT_STUB_SIZE) "\n"
	".error \"an alert stub is larger than ALERT_STUB_SIZE\"\n"
	".endif\n"
	".endr\n"
	".cfi_endproc\n"
	".size alert_stubs, . - alert_stubs\n"
	".popsection\n");

typedef long alert_stub_fn(long number, long arg0, long arg1);

extern alert_stub_fn alert_stubs __attribute__((visibility("hidden")));

static alert_stub_fn *alert_stub(unsigned long index)
{
	uintptr_t base = (uintptr_t)&alert_stubs;

	return (alert_stub_fn *)(base + index % ALERT_STUBS * ALERT_STUB_SIZE);
}

/* Starts at stub *next and leaves *next at the stub after the last used. */
static uint64_t time_alerts(unsigned long calls, unsigned long *next)
{
	uint64_t start = now_ns();

	for (unsigned long i = 0; i < calls; i++) {
		long fd = alert_stub((*next)++)(SYS_memfd_create,
						(long)"nativemon-bench",
						MFD_CLOEXEC);

		if (fd < 0) {
			errno = (int)-fd;
			die("direct memfd_create from an alert stub");
		}
		close((int)fd);
	}
	return now_ns() - start;
}

static void run_alert(unsigned long calls, struct measurement *measurement)
{
	unsigned long next = 0;

	time_alerts(warmup_calls(calls), &next);
	measurement->ns_per_call =
		(double)time_alerts(calls, &next) / (double)calls;
}

/*
 * An executable mapping at an address the kernel picks, as JIT compilers
 * make, followed by a call through libc: the supervisor cannot know where
 * the mapping went, so its cached view of libc is in doubt at the second
 * call.
 */
static uint64_t time_jit(unsigned long calls)
{
	uint64_t start = now_ns();

	for (unsigned long i = 0; i < calls; i++) {
		void *code = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int fd;

		if (code == MAP_FAILED)
			die("mmap");
		fd = memfd_create("nativemon-bench", MFD_CLOEXEC);
		if (fd < 0)
			die("memfd_create");
		close(fd);
		munmap(code, 4096);
	}
	return now_ns() - start;
}

static void run_jit(unsigned long calls, struct measurement *measurement)
{
	time_jit(warmup_calls(calls));
	measurement->ns_per_call =
		(double)time_jit(calls) / (2.0 * (double)calls);
}

/*
 * Shells, make and compiler drivers look a program up by trying execve()
 * in each directory of a search path until one succeeds. A build can make
 * more failed exec calls than successful ones: strace counted 378 of 665
 * in one `make` of nativemon on a machine with 12 PATH entries.
 */
static uint64_t time_exec_misses(unsigned long calls)
{
	char *const argv[] = { "nativemon-bench-missing", NULL };
	uint64_t start = now_ns();

	for (unsigned long i = 0; i < calls; i++) {
		execv("/nonexistent/nativemon-bench-missing", argv);
		if (errno != ENOENT)
			die("execv");
	}
	return now_ns() - start;
}

static void run_exec_miss(unsigned long calls,
			  struct measurement *measurement)
{
	time_exec_misses(warmup_calls(calls));
	measurement->ns_per_call =
		(double)time_exec_misses(calls) / (double)calls;
}

/* Returns the VmHWM of process pid in KiB, or -1 if it cannot be read. */
static long read_hwm_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *status;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	status = fopen(path, "re");
	if (!status)
		return -1;
	while (fgets(line, sizeof(line), status)) {
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	}
	fclose(status);
	return kib;
}

/*
 * Makes a benign watched call and an alerting one, reports them done on
 * ready_fd, and waits until release_fd reaches end of file.
 */
static void run_child(int ready_fd, int release_fd)
{
	long fd = memfd_create("nativemon-bench", MFD_CLOEXEC);
	char byte = 1;

	if (fd < 0)
		_exit(EXIT_FAILURE);
	close((int)fd);
	fd = memfd_create_direct("nativemon-bench", MFD_CLOEXEC);
	if (fd < 0)
		_exit(EXIT_FAILURE);
	close((int)fd);
	if (write(ready_fd, &byte, 1) != 1)
		_exit(EXIT_FAILURE);
	while (read(release_fd, &byte, 1) < 0 && errno == EINTR)
		;
	_exit(EXIT_SUCCESS);
}

/* Returns how many bytes arrived on fd before expected or end of file. */
static unsigned long read_ready(int fd, unsigned long expected)
{
	unsigned long got = 0;
	char buffer[256];

	while (got < expected) {
		ssize_t n = read(fd, buffer, sizeof(buffer));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (unsigned long)n;
	}
	return got;
}

/* Reaps every child and returns how many did not exit with status 0. */
static unsigned long reap_children(void)
{
	unsigned long failed = 0;
	int status;

	for (;;) {
		pid_t pid = wait(&status);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

/*
 * Reads the parent's VmHWM before the forks and again once all children,
 * alive at once, have made their calls and been reaped. VmHWM is a peak,
 * so the second figure covers the supervisor's work on all their calls
 * and on the exits that it has handled by then.
 */
static void run_processes(unsigned long count, struct measurement *measurement)
{
	int ready[2], release[2];
	unsigned long started, failed;
	uint64_t start;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(release, O_CLOEXEC) < 0)
		die("pipe2");
	measurement->parent_hwm_start_kib = read_hwm_kib(getppid());
	start = now_ns();
	for (unsigned long i = 0; i < count; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(ready[0]);
			close(release[1]);
			run_child(ready[1], release[0]);
		}
	}
	close(ready[1]);
	close(release[0]);
	started = read_ready(ready[0], count);
	measurement->ns_per_call = (double)(now_ns() - start) / (double)count;
	close(release[1]);
	failed = reap_children();
	measurement->parent_hwm_kib = read_hwm_kib(getppid());
	close(ready[0]);
	if (started < count || failed > 0) {
		fprintf(stderr, "workload: %lu of %lu children made their "
				"calls and %lu failed\n",
			started, count, failed);
		exit(EXIT_FAILURE);
	}
}

static const struct workload workloads[] = {
	{ "mprotect", run_mprotect },
	{ "memfd", run_memfd },
	{ "direct", run_direct },
	{ "jit", run_jit },
	{ "unwatched", run_unwatched },
	{ "alert", run_alert },
	{ "exec-miss", run_exec_miss },
	{ "processes", run_processes },
};

static void usage_error(const char *message, const char *value)
{
	fprintf(stderr, "workload: %s '%s'\n%s", message, value, usage_text);
	exit(EXIT_USAGE);
}

static const struct workload *find_workload(const char *name)
{
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		if (strcmp(workloads[i].name, name) == 0)
			return &workloads[i];
	}
	return NULL;
}

static unsigned long parse_calls(const char *text)
{
	unsigned long calls;
	char *end;

	errno = 0;
	calls = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || calls == 0)
		usage_error("invalid CALLS, expected a positive integer:",
			    text);
	return calls;
}

int main(int argc, char **argv)
{
	struct measurement measurement = { 0 };
	const struct workload *workload;
	unsigned long calls;

	if (argc != 3) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	workload = find_workload(argv[1]);
	if (!workload)
		usage_error("unknown KIND", argv[1]);
	calls = parse_calls(argv[2]);
	workload->run(calls, &measurement);
	printf("workload=%s calls=%lu ns_per_call=%.1f", workload->name, calls,
	       measurement.ns_per_call);
	if (measurement.pair_ns > 0)
		printf(" pair_ns=%.1f unwatched_pair_ns=%.1f",
		       measurement.pair_ns, measurement.unwatched_pair_ns);
	if (workload->run == run_processes)
		printf(" parent_hwm_start_kib=%ld parent_hwm_kib=%ld",
		       measurement.parent_hwm_start_kib,
		       measurement.parent_hwm_kib);
	putchar('\n');
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
