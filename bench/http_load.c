/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The load generator of the service benchmark: threads that send HTTP/1.0
 * GET requests to a server on 127.0.0.1, one connection per request, for a
 * fixed time, and print the completed requests per second. It connects to
 * the loopback address only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2

#define THREADS_MAX 64

/* Requests in the first second are not counted: the server warms up. */
#define WARMUP_NS 1000000000ull

/* How long to retry connecting before the server counts as not started. */
#define READY_TIMEOUT_NS 10000000000ull

static const char usage_text[] =
	"Usage: http_load PORT SECONDS THREADS PATH\n"
	"Send HTTP/1.0 GET requests for PATH to 127.0.0.1:PORT from THREADS\n"
	"threads (1-64), a new connection for each, for one second of\n"
	"warm-up and then SECONDS seconds, and print the requests per\n"
	"second that completed with status 200 in that time.\n";

struct load {
	struct sockaddr_in address;
	char request[512];
	size_t request_length;
	uint64_t measure_start; /* CLOCK_MONOTONIC ns */
	uint64_t measure_end;
	atomic_ulong completed; /* completed with 200 while measuring */
	atomic_ulong failed;	/* failed or not 200 while measuring */
	atomic_int first_errno;
};

static uint64_t now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void usage_error(const char *message, const char *value)
{
	fprintf(stderr, "http_load: %s '%s'\n%s", message, value, usage_text);
	exit(EXIT_USAGE);
}

static unsigned long parse_number(const char *text, unsigned long max,
				  const char *name)
{
	unsigned long value;
	char *end;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || value == 0 ||
	    value > max)
		usage_error(name, text);
	return value;
}

/* Returns a connected socket or -errno. */
static int connect_server(const struct sockaddr_in *address)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)address, sizeof(*address)) <
	    0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static int write_all(int fd, const char *bytes, size_t length)
{
	while (length > 0) {
		ssize_t n = write(fd, bytes, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		bytes += n;
		length -= (size_t)n;
	}
	return 0;
}

/*
 * Sends one request on a new connection and reads the response until the
 * server closes it. Returns 0 for status 200, -EPROTO for another status
 * or -errno.
 */
static int request_once(const struct load *load)
{
	static const char ok[] = "HTTP/1.0 200 ";
	char status[sizeof(ok) - 1], buffer[16384];
	size_t status_length = 0;
	int fd, err;

	fd = connect_server(&load->address);
	if (fd < 0)
		return fd;
	err = write_all(fd, load->request, load->request_length);
	while (err == 0) {
		ssize_t n = read(fd, buffer, sizeof(buffer));
		size_t copy;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		if (n <= 0)
			break;
		copy = sizeof(status) - status_length;
		if (copy > (size_t)n)
			copy = (size_t)n;
		memcpy(status + status_length, buffer, copy);
		status_length += copy;
	}
	close(fd);
	if (err == 0 && (status_length < sizeof(status) ||
			 memcmp(status, ok, sizeof(status)) != 0))
		err = -EPROTO;
	return err;
}

static void *run_thread(void *argument)
{
	struct load *load = argument;

	for (;;) {
		int err = request_once(load);
		uint64_t now = now_ns();

		if (now >= load->measure_end)
			break;
		if (now < load->measure_start)
			continue;
		if (err == 0) {
			atomic_fetch_add(&load->completed, 1);
		} else {
			int expected = 0;

			atomic_fetch_add(&load->failed, 1);
			atomic_compare_exchange_strong(&load->first_errno,
						       &expected, -err);
		}
	}
	return NULL;
}

/* Returns 0 once the server accepts a connection, or -errno at timeout. */
static int wait_ready(const struct sockaddr_in *address)
{
	uint64_t deadline = now_ns() + READY_TIMEOUT_NS;
	struct timespec pause = { .tv_nsec = 10000000 };
	int fd;

	while ((fd = connect_server(address)) < 0 && now_ns() < deadline)
		nanosleep(&pause, NULL);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void prepare_request(struct load *load, unsigned long port,
			    const char *path)
{
	int n;

	load->address.sin_family = AF_INET;
	load->address.sin_port = htons((uint16_t)port);
	load->address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	n = snprintf(load->request, sizeof(load->request),
		     "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (n < 0 || (size_t)n >= sizeof(load->request))
		usage_error("PATH too long:", path);
	load->request_length = (size_t)n;
}

int main(int argc, char **argv)
{
	static struct load load;
	pthread_t threads[THREADS_MAX];
	unsigned long port, seconds, thread_count;
	double rate;
	int err;

	if (argc != 5) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	port = parse_number(argv[1], 65535, "invalid PORT, expected 1-65535:");
	seconds = parse_number(argv[2], 3600,
			       "invalid SECONDS, expected 1-3600:");
	thread_count = parse_number(argv[3], THREADS_MAX,
				    "invalid THREADS, expected 1-64:");
	if (argv[4][0] != '/')
		usage_error("invalid PATH, expected one starting with '/':",
			    argv[4]);
	prepare_request(&load, port, argv[4]);
	err = wait_ready(&load.address);
	if (err < 0) {
		fprintf(stderr, "http_load: cannot connect to 127.0.0.1:%lu: "
				"%s\n", port, strerror(-err));
		return EXIT_FAILURE;
	}
	load.measure_start = now_ns() + WARMUP_NS;
	load.measure_end = load.measure_start + seconds * 1000000000ull;
	for (unsigned long i = 0; i < thread_count; i++) {
		err = pthread_create(&threads[i], NULL, run_thread, &load);
		if (err) {
			fprintf(stderr, "http_load: pthread_create failed: "
					"%s\n", strerror(err));
			return EXIT_FAILURE;
		}
	}
	for (unsigned long i = 0; i < thread_count; i++)
		pthread_join(threads[i], NULL);
	rate = (double)atomic_load(&load.completed) / (double)seconds;
	printf("requests=%lu failed=%lu seconds=%lu requests_per_second=%.1f\n",
	       atomic_load(&load.completed), atomic_load(&load.failed), seconds,
	       rate);
	if (atomic_load(&load.failed) > 0)
		fprintf(stderr, "http_load: %lu requests failed, the first "
				"with: %s\n", atomic_load(&load.failed),
			strerror(atomic_load(&load.first_errno)));
	return atomic_load(&load.failed) > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
