/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The benchmark target: makes a given number of watched syscalls of one kind
 * and prints the mean wall-clock cost of one in nanoseconds. bench/run.sh
 * runs it with no filter, under bare_supervisor and under nativemon.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * The mprotect workload times its two loops in this many alternating
 * blocks, so that a change in machine load affects both loops alike.
 */
#define MPROTECT_BLOCKS 10

/*
 * nativemon reads /proc about a process at its first notification, so the
 * first calls run untimed.
 */
#define WARMUP_CALLS_MAX 1000

#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: workload KIND CALLS\n"
	"Make CALLS watched syscalls and print the mean time of one in ns.\n"
	"KIND is one of:\n"
	"  mprotect  mprotect(PROT_READ | PROT_EXEC) through libc, each\n"
	"            followed by an unwatched mprotect(PROT_READ)\n"
	"  memfd     memfd_create() through libc, each followed by close()\n"
	"  direct    memfd_create() through a syscall instruction in this\n"
	"            executable, each followed by close()\n"
	"  jit       mmap(PROT_EXEC) of new anonymous memory, then\n"
	"            memfd_create() through libc; two watched calls, and\n"
	"            the figure is per watched call\n";

struct measurement {
	double ns_per_call;	  /* ns per watched call, the reported figure */
	double pair_ns;		  /* mprotect: per watched + unwatched pair */
	double unwatched_pair_ns; /* mprotect: per pair with PROT_NONE */
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
 * PROT_EXEC pair in six runs on the machine in bench/README.md. So half of
 * it estimates the unwatched mprotect(PROT_READ) that comes with each
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

static const struct workload workloads[] = {
	{ "mprotect", run_mprotect },
	{ "memfd", run_memfd },
	{ "direct", run_direct },
	{ "jit", run_jit },
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
	putchar('\n');
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
