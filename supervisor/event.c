/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event sink and the text helpers that keep target bytes safe in JSON
 * and on a terminal. Records are serialized into one buffer and written
 * with one write(2) on an O_APPEND descriptor: a batch of them to a
 * regular file, one at a time to anything else. So concurrent writers to
 * the same log never interleave inside a line.
 *
 * Serializing, writing and freeing a record took a third of nativemon's
 * time per alert in a profile, and building it a fifth of the rest, so a
 * writer thread does all of it while the supervisor goes on with the next
 * notification. The supervisor's thread hands over a draft of each record
 * with what to set in it, and never touches the draft again: only the
 * writer builds the record, sets fields, serializes and frees. The queue
 * is bounded, and a full queue makes the supervisor wait, so no record is
 * dropped. The sink waits for the queue to drain before it reports its
 * losses or closes.
 *
 * NOTE: a supervisor killed by SIGKILL loses the records still queued or
 * formatted and not yet written, at most WRITE_QUEUE_SIZE of them.
 */
#include "event.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "log.h"

#define FOLD_SLOTS 64

/* The maximum of records handed to the writer and not yet written. */
#define WRITE_QUEUE_SIZE 256

/*
 * The writer is woken once per batch of records, or when the oldest record
 * of a batch has waited this long. One wake-up per record took 8% of the
 * main thread's time per alert in a perf profile of 3000 alerts on a
 * virtual machine with two CPUs, about 8 us each.
 */
#define WRITE_BATCH 32
#define WRITE_DELAY_MS 20

/*
 * To a regular file, the writer writes the lines of the jobs it took from
 * the queue at once, or earlier when they fill this many bytes. A write(2)
 * per record took 18% of the writer's time per alert in a perf profile of
 * 40000 alerts. A pipe keeps only writes of up to PIPE_BUF bytes whole,
 * so a FIFO shared by two supervisors gets one line per write(2).
 */
#define WRITE_BUFFER_MAX (64 * 1024)

struct fold_slot {
	char *key;
	/*
	 * The draft of the record to write again when the window closes.
	 * The writer keeps the record it built in the draft, and the slot
	 * hands the draft back to the writer with the last job.
	 */
	struct event_draft *draft;
	char *summary;
	unsigned long count; /* occurrences since the first was written */
	struct timespec opened;	 /* CLOCK_MONOTONIC */
	struct timespec first_time, last_time; /* CLOCK_REALTIME */
};

/*
 * A draft for the writer, with the count to set in its record. A count of
 * 0 writes nothing. With times, @timestamp, event.start and event.end are
 * set from first_time and last_time as well. The last job of a draft
 * frees it.
 */
struct write_job {
	struct event_draft *draft;
	unsigned long count;
	bool times;
	bool last;
	struct timespec first_time, last_time;
};

struct write_queue {
	pthread_t thread;
	bool started;
	bool start_failed; /* records are then written by the emitter */
	bool stopping;
	pthread_mutex_t lock;
	pthread_cond_t queued;	/* a job arrived, or the writer should stop */
	pthread_cond_t written; /* a job was finished */
	struct write_job jobs[WRITE_QUEUE_SIZE];
	size_t first;	 /* the oldest job */
	size_t waiting;	 /* jobs in the queue */
	size_t pending;	 /* jobs queued or being written */
	/* Only the emitting thread uses these two. */
	size_t unannounced;	/* jobs queued since the writer was last woken */
	struct timespec batch_start; /* CLOCK_MONOTONIC, of the first of those */
};

struct event_sink {
	int fd; /* -1 without a log file */
	bool batches; /* fd is a regular file: see WRITE_BUFFER_MAX */
	bool quiet;
	/*
	 * The lines not yet written, in a buffer reused so that a line needs
	 * no new one. With the writer thread running, only the writer uses
	 * them.
	 */
	char *lines;
	size_t lines_length;
	size_t lines_capacity;
	size_t line_count;
	bool cut_line; /* the log ends inside a line that a failed write cut */
	unsigned long lost; /* under queue.lock while the writer runs */
	struct write_queue queue;
	struct fold_slot slots[FOLD_SLOTS];
};

static locale_t utf8_locale_object;

static void open_utf8_locale(void)
{
	utf8_locale_object = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/*
 * UTF-8 decoding through glibc, independent of the user's locale. The
 * writer thread and the supervisor's thread both check text.
 */
static locale_t utf8_locale(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, open_utf8_locale);
	return utf8_locale_object;
}

/*
 * Returns the length of the valid UTF-8 character at bytes, or 0 if the
 * bytes there do not start one.
 */
static size_t utf8_char_length(const char *bytes, size_t length)
{
	locale_t saved = uselocale(utf8_locale());
	mbstate_t state = { 0 };
	wchar_t wide;
	size_t n = mbrtowc(&wide, bytes, length, &state);

	uselocale(saved);
	/* glibc also decodes 5- and 6-byte forms and values past U+10FFFF. */
	if (n == (size_t)-1 || n == (size_t)-2 || n > 4 || wide > 0x10ffff)
		return 0;
	return n == 0 ? 1 : n;
}

static bool is_utf8(const char *bytes, size_t length)
{
	size_t i = 0;

	while (i < length) {
		size_t n = (unsigned char)bytes[i] < 0x80
				   ? 1
				   : utf8_char_length(bytes + i, length - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static bool is_c1_control(const char *bytes, size_t n)
{
	return n == 2 && (unsigned char)bytes[0] == 0xc2 &&
	       (unsigned char)bytes[1] < 0xa0;
}

/*
 * Appends \xNN escapes for invalid bytes into out of out_size bytes,
 * stopping before the first escape or character that does not fit.
 */
static size_t escape_invalid(const char *bytes, size_t length, char *out,
			     size_t out_size, bool escape_controls)
{
	size_t i = 0, used = 0;

	while (i < length) {
		unsigned char byte = (unsigned char)bytes[i];
		size_t n = byte < 0x80 ? 1 : utf8_char_length(bytes + i, length - i);
		bool control = escape_controls &&
			       (byte < 0x20 || byte == 0x7f ||
				is_c1_control(bytes + i, n));

		if (n == 0 || control) {
			if (used + 4 >= out_size)
				break;
			used += (size_t)sprintf(out + used, "\\x%02x", byte);
			i++;
		} else if (byte == '\\' && !escape_controls) {
			if (used + 2 >= out_size)
				break;
			out[used++] = '\\';
			out[used++] = '\\';
			i++;
		} else {
			if (used + n >= out_size)
				break;
			memcpy(out + used, bytes + i, n);
			used += n;
			i += n;
		}
	}
	out[used] = '\0';
	return used;
}

bool event_text_needs_escape(const char *bytes, size_t length)
{
	return !is_utf8(bytes, length);
}

json_t *event_text(const char *bytes, size_t length)
{
	if (is_utf8(bytes, length))
		return json_stringn(bytes, length);
	return event_text_escaped(bytes, length);
}

json_t *event_text_escaped(const char *bytes, size_t length)
{
	json_t *text;
	char *escaped = malloc(4 * length + 1);

	if (!escaped)
		return NULL;
	text = json_stringn(escaped, escape_invalid(bytes, length, escaped,
						    4 * length + 1, false));
	free(escaped);
	return text;
}

void event_text_for_terminal(const char *bytes, size_t length, char *out,
			     size_t out_size)
{
	if (out_size == 0)
		return;
	escape_invalid(bytes, length, out, out_size, true);
}

void event_format_time(const struct timespec *time, char out[32])
{
	struct tm utc;
	size_t n;

	gmtime_r(&time->tv_sec, &utc);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &utc);
	snprintf(out + n, 32 - n, ".%06ldZ", time->tv_nsec / 1000);
}

int event_set(json_t *record, const char *dotted_path, json_t *value)
{
	char key[128];
	const char *dot;
	json_t *child;

	if (!value)
		return -ENOMEM;
	while ((dot = strchr(dotted_path, '.'))) {
		size_t n = (size_t)(dot - dotted_path);

		if (n >= sizeof(key))
			goto fail;
		memcpy(key, dotted_path, n);
		key[n] = '\0';
		child = json_object_get(record, key);
		if (!json_is_object(child)) {
			child = json_object();
			if (json_object_set_new(record, key, child) < 0)
				goto fail;
		}
		record = child;
		dotted_path = dot + 1;
	}
	if (json_object_set_new(record, dotted_path, value) < 0)
		return -ENOMEM;
	return 0;
fail:
	json_decref(value);
	return -ENOMEM;
}

static bool is_regular_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

int event_sink_new(struct event_sink **sink, const char *log_path, bool quiet)
{
	struct event_sink *created = calloc(1, sizeof(*created));

	if (!created)
		return -ENOMEM;
	created->fd = -1;
	created->quiet = quiet;
	pthread_mutex_init(&created->queue.lock, NULL);
	pthread_cond_init(&created->queue.queued, NULL);
	pthread_cond_init(&created->queue.written, NULL);
	if (log_path) {
		created->fd = open(log_path,
				   O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				   0640);
		if (created->fd < 0) {
			int err = -errno;

			event_sink_free(created);
			return err;
		}
		created->batches = is_regular_file(created->fd);
	}
	*sink = created;
	return 0;
}

/*
 * Writes length bytes. Returns 0, or a negative errno with the number of
 * bytes written before the failure in *written.
 */
static int write_all(int fd, const char *bytes, size_t length, size_t *written)
{
	*written = 0;
	while (*written < length) {
		ssize_t n = write(fd, bytes + *written, length - *written);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		*written += (size_t)n;
	}
	return 0;
}

/* Returns the number of newlines in bytes. */
static size_t count_lines(const char *bytes, size_t length)
{
	const char *end = bytes + length;
	size_t count = 0;

	while ((bytes = memchr(bytes, '\n', (size_t)(end - bytes)))) {
		count++;
		bytes++;
	}
	return count;
}

/* The first size of sink->lines, grown by format_record() as needed. */
#define LINES_CAPACITY_INITIAL 4096

/*
 * Makes room for capacity bytes in sink->lines, at least doubling it, so
 * that appending the lines of a batch copies them a few times at most.
 */
static int reserve_lines(struct event_sink *sink, size_t capacity)
{
	char *grown;

	if (capacity <= sink->lines_capacity)
		return 0;
	if (capacity < 2 * sink->lines_capacity)
		capacity = 2 * sink->lines_capacity;
	grown = realloc(sink->lines, capacity);
	if (!grown)
		return -ENOMEM;
	sink->lines = grown;
	sink->lines_capacity = capacity;
	return 0;
}

/*
 * Serializes record with a newline after the lines in sink->lines.
 * Returns false on failure. json_dumpb() returns the length the whole
 * line needs, so a line that did not fit is serialized again into a
 * buffer grown to that length.
 */
static bool format_record(struct event_sink *sink, json_t *record)
{
	const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
	size_t used = sink->lines_length;
	size_t length, room;

	if (reserve_lines(sink, used + LINES_CAPACITY_INITIAL) < 0)
		return false;
	room = sink->lines_capacity - used - 1;
	length = json_dumpb(record, sink->lines + used, room, flags);
	if (length > room) {
		if (reserve_lines(sink, used + length + 1) < 0)
			return false;
		room = length;
		length = json_dumpb(record, sink->lines + used, room, flags);
		if (length > room)
			return false;
	}
	if (length == 0)
		return false;
	sink->lines[used + length] = '\n';
	sink->lines_length = used + length + 1;
	sink->line_count++;
	return true;
}

/* Returns the number of records lost before, counting count more. */
static unsigned long count_lost(struct event_sink *sink, size_t count)
{
	unsigned long lost;

	pthread_mutex_lock(&sink->queue.lock);
	lost = sink->lost;
	sink->lost += count;
	pthread_mutex_unlock(&sink->queue.lock);
	return lost;
}

/*
 * Writes the lines formatted so far with one write(2). On failure, the
 * lines that did not reach the log whole count as lost.
 */
static void write_lines(struct event_sink *sink)
{
	size_t written = 0, lost;
	int err = 0;

	if (sink->line_count == 0)
		return;
	/*
	 * A line that a failed write cut stays in the log. Ending it first
	 * keeps the next record from being glued to it once the log takes
	 * data again, as when a full disk gets space back.
	 */
	if (sink->cut_line)
		err = write_all(sink->fd, "\n", 1, &written);
	sink->cut_line = err < 0;
	if (err == 0)
		err = write_all(sink->fd, sink->lines, sink->lines_length,
				&written);
	if (err < 0) {
		lost = sink->line_count - count_lines(sink->lines, written);
		if (written > 0 && sink->lines[written - 1] != '\n')
			sink->cut_line = true;
		/* Warn on the first loss only, or a full disk floods stderr. */
		if (count_lost(sink, lost) == 0)
			log_warn_errno(-err, "cannot write to the event log");
	}
	sink->lines_length = 0;
	sink->line_count = 0;
}

static void write_record(struct event_sink *sink, json_t *record)
{
	if (!format_record(sink, record)) {
		count_lost(sink, 1);
		return;
	}
	if (!sink->batches || sink->lines_length >= WRITE_BUFFER_MAX)
		write_lines(sink);
}

static void print_summary(const struct event_sink *sink, const char *summary,
			  unsigned long repeats)
{
	char safe[512];

	if (sink->quiet || !summary)
		return;
	event_text_for_terminal(summary, strlen(summary), safe, sizeof(safe));
	if (repeats == 0)
		log_plain("nativemon: %s", safe);
	else
		log_plain("nativemon: %s (%lu more %s)", safe, repeats,
			  repeats == 1 ? "time" : "times");
}

static void set_count(json_t *record, unsigned long count)
{
	event_set(record, "nativemon.count", json_integer((json_int_t)count));
}

static void set_time(json_t *record, const char *path,
		     const struct timespec *time)
{
	char text[32];

	event_format_time(time, text);
	event_set(record, path, json_string(text));
}

static void free_draft(struct event_draft *draft)
{
	json_decref(draft->record);
	draft->free(draft);
}

/*
 * Builds the draft's record unless an earlier job did, sets the job's
 * fields in it and writes it.
 */
static void write_draft(struct event_sink *sink, const struct write_job *job)
{
	struct event_draft *draft = job->draft;

	if (!draft->record)
		draft->record = draft->build(draft);
	if (!draft->record) {
		count_lost(sink, 1);
		return;
	}
	set_count(draft->record, job->count);
	if (job->times) {
		set_time(draft->record, "@timestamp", &job->last_time);
		set_time(draft->record, "event.start", &job->first_time);
		set_time(draft->record, "event.end", &job->last_time);
	}
	write_record(sink, draft->record);
}

static void run_job(struct event_sink *sink, const struct write_job *job)
{
	if (job->count > 0)
		write_draft(sink, job);
	if (job->last)
		free_draft(job->draft);
}

/* Moves the waiting jobs into jobs, with queue->lock held. */
static size_t take_jobs(struct write_queue *queue, struct write_job *jobs)
{
	size_t count = queue->waiting;

	for (size_t i = 0; i < count; i++)
		jobs[i] = queue->jobs[(queue->first + i) % WRITE_QUEUE_SIZE];
	queue->first = (queue->first + count) % WRITE_QUEUE_SIZE;
	queue->waiting = 0;
	return count;
}

static void *run_writer(void *argument)
{
	struct event_sink *sink = argument;
	struct write_queue *queue = &sink->queue;
	struct write_job jobs[WRITE_QUEUE_SIZE];
	size_t count;

	pthread_mutex_lock(&queue->lock);
	for (;;) {
		while (queue->waiting == 0 && !queue->stopping)
			pthread_cond_wait(&queue->queued, &queue->lock);
		if (queue->waiting == 0)
			break;
		count = take_jobs(queue, jobs);
		pthread_mutex_unlock(&queue->lock);
		for (size_t i = 0; i < count; i++)
			run_job(sink, &jobs[i]);
		/* A job stays pending until its line is in the log. */
		write_lines(sink);
		pthread_mutex_lock(&queue->lock);
		queue->pending -= count;
		pthread_cond_broadcast(&queue->written);
	}
	pthread_mutex_unlock(&queue->lock);
	return NULL;
}

/*
 * Starts the writer on the first record, so that a sink opened before the
 * command is forked has no second thread at the fork. The writer blocks
 * every signal: they are the supervisor's to handle.
 */
static bool start_writer(struct event_sink *sink)
{
	struct write_queue *queue = &sink->queue;
	sigset_t all, saved;

	if (queue->started || queue->start_failed)
		return queue->started;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	queue->started = pthread_create(&queue->thread, NULL, run_writer,
					sink) == 0;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	queue->start_failed = !queue->started;
	return queue->started;
}

/* Wakes the writer for the jobs queued since it was last woken. */
static void announce(struct write_queue *queue)
{
	queue->unannounced = 0;
	pthread_cond_signal(&queue->queued);
}

/*
 * Hands a job to the writer, waiting while the queue is full. Without a
 * log file the job only frees its draft. Without a writer thread it runs
 * here. The writer is woken for a whole batch; until then
 * event_sink_next_flush_ms() bounds the wait for it.
 */
static void submit(struct event_sink *sink, const struct write_job *job)
{
	struct write_queue *queue = &sink->queue;

	if (sink->fd < 0) {
		if (job->last)
			free_draft(job->draft);
		return;
	}
	if (!start_writer(sink)) {
		run_job(sink, job);
		write_lines(sink);
		return;
	}
	pthread_mutex_lock(&queue->lock);
	if (queue->pending == WRITE_QUEUE_SIZE)
		announce(queue);
	while (queue->pending == WRITE_QUEUE_SIZE)
		pthread_cond_wait(&queue->written, &queue->lock);
	queue->jobs[(queue->first + queue->waiting) % WRITE_QUEUE_SIZE] = *job;
	queue->waiting++;
	queue->pending++;
	if (queue->unannounced++ == 0)
		clock_gettime(CLOCK_MONOTONIC, &queue->batch_start);
	if (queue->unannounced == WRITE_BATCH)
		announce(queue);
	pthread_mutex_unlock(&queue->lock);
}

static void stop_writer(struct event_sink *sink)
{
	struct write_queue *queue = &sink->queue;

	if (!queue->started)
		return;
	pthread_mutex_lock(&queue->lock);
	queue->stopping = true;
	pthread_cond_signal(&queue->queued);
	pthread_mutex_unlock(&queue->lock);
	pthread_join(queue->thread, NULL);
	queue->started = false;
}

static void close_slot(struct event_sink *sink, struct fold_slot *slot)
{
	struct write_job job = {
		.draft = slot->draft,
		.count = slot->count,
		.times = true,
		.last = true,
		.first_time = slot->first_time,
		.last_time = slot->last_time,
	};

	if (slot->draft)
		submit(sink, &job);
	if (slot->count > 0)
		print_summary(sink, slot->summary, slot->count);
	free(slot->key);
	free(slot->summary);
	memset(slot, 0, sizeof(*slot));
}

void event_sink_flush_all(struct event_sink *sink)
{
	for (size_t i = 0; i < FOLD_SLOTS; i++)
		close_slot(sink, &sink->slots[i]);
}

void event_sink_free(struct event_sink *sink)
{
	if (!sink)
		return;
	event_sink_flush_all(sink);
	stop_writer(sink);
	if (sink->fd >= 0)
		close(sink->fd);
	pthread_cond_destroy(&sink->queue.written);
	pthread_cond_destroy(&sink->queue.queued);
	pthread_mutex_destroy(&sink->queue.lock);
	free(sink->lines);
	free(sink);
}

void event_sink_sync(struct event_sink *sink)
{
	struct write_queue *queue = &sink->queue;

	pthread_mutex_lock(&queue->lock);
	if (queue->unannounced > 0)
		announce(queue);
	while (queue->pending > 0)
		pthread_cond_wait(&queue->written, &queue->lock);
	pthread_mutex_unlock(&queue->lock);
}

static long elapsed_ms(const struct timespec *since, const struct timespec *now)
{
	return (now->tv_sec - since->tv_sec) * 1000 +
	       (now->tv_nsec - since->tv_nsec) / 1000000;
}

static struct fold_slot *find_slot(const struct event_sink *sink,
				   const char *key)
{
	for (size_t i = 0; i < FOLD_SLOTS; i++) {
		if (sink->slots[i].key && strcmp(sink->slots[i].key, key) == 0)
			return (struct fold_slot *)&sink->slots[i];
	}
	return NULL;
}

static bool is_open(const struct fold_slot *slot, const struct timespec *now)
{
	return slot && elapsed_ms(&slot->opened, now) < EVENT_FOLD_WINDOW_MS;
}

static void count_repeat(struct fold_slot *slot)
{
	struct timespec wall;

	clock_gettime(CLOCK_REALTIME, &wall);
	if (slot->count++ == 0)
		slot->first_time = wall;
	slot->last_time = wall;
}

bool event_sink_is_folding(const struct event_sink *sink, const char *fold_key)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return is_open(find_slot(sink, fold_key), &now);
}

bool event_sink_fold(struct event_sink *sink, const char *fold_key)
{
	struct fold_slot *slot = find_slot(sink, fold_key);
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!is_open(slot, &now))
		return false;
	count_repeat(slot);
	return true;
}

/* Returns a free slot, closing the oldest window when all are in use. */
static struct fold_slot *claim_slot(struct event_sink *sink)
{
	struct fold_slot *oldest = &sink->slots[0];

	for (size_t i = 0; i < FOLD_SLOTS; i++) {
		struct fold_slot *slot = &sink->slots[i];

		if (!slot->key)
			return slot;
		if (elapsed_ms(&slot->opened, &oldest->opened) > 0)
			oldest = slot;
	}
	close_slot(sink, oldest);
	return oldest;
}

/*
 * Opens a window for key, which hands draft to the writer again when it
 * closes.
 */
static void open_slot(struct event_sink *sink, struct event_draft *draft,
		      const char *key, const char *summary,
		      const struct timespec *now)
{
	struct fold_slot *slot = claim_slot(sink);

	slot->key = strdup(key);
	slot->summary = summary ? strdup(summary) : NULL;
	if (!slot->key) {
		free(slot->summary);
		slot->summary = NULL;
		/* The writer may be building the record: it frees the draft. */
		submit(sink,
		       &(struct write_job){ .draft = draft, .last = true });
		return;
	}
	slot->draft = draft;
	slot->opened = *now;
}

void event_sink_emit(struct event_sink *sink, struct event_draft *draft,
		     const char *fold_key, const char *summary)
{
	struct fold_slot *slot = NULL;
	struct timespec now;

	if (!draft)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (fold_key)
		slot = find_slot(sink, fold_key);
	if (is_open(slot, &now)) {
		count_repeat(slot);
		draft->free(draft);
		return;
	}
	if (slot)
		close_slot(sink, slot);
	/* A window keeps the draft until its close sends the last job. */
	submit(sink, &(struct write_job){
			     .draft = draft, .count = 1, .last = !fold_key });
	print_summary(sink, summary, 0);
	if (fold_key)
		open_slot(sink, draft, fold_key, summary, &now);
}

/* Returns the milliseconds until the writer must be woken, or -1. */
static long batch_left_ms(const struct write_queue *queue,
			  const struct timespec *now)
{
	long left;

	if (queue->unannounced == 0)
		return -1;
	left = WRITE_DELAY_MS - elapsed_ms(&queue->batch_start, now);
	return left < 0 ? 0 : left;
}

void event_sink_flush_expired(struct event_sink *sink)
{
	struct write_queue *queue = &sink->queue;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (batch_left_ms(queue, &now) == 0) {
		pthread_mutex_lock(&queue->lock);
		announce(queue);
		pthread_mutex_unlock(&queue->lock);
	}
	for (size_t i = 0; i < FOLD_SLOTS; i++) {
		struct fold_slot *slot = &sink->slots[i];

		if (slot->key &&
		    elapsed_ms(&slot->opened, &now) >= EVENT_FOLD_WINDOW_MS)
			close_slot(sink, slot);
	}
}

int event_sink_next_flush_ms(const struct event_sink *sink)
{
	struct timespec now;
	long next;

	clock_gettime(CLOCK_MONOTONIC, &now);
	next = batch_left_ms(&sink->queue, &now);
	for (size_t i = 0; i < FOLD_SLOTS; i++) {
		const struct fold_slot *slot = &sink->slots[i];
		long left;

		if (!slot->key)
			continue;
		left = EVENT_FOLD_WINDOW_MS - elapsed_ms(&slot->opened, &now);
		if (left < 0)
			left = 0;
		if (next < 0 || left < next)
			next = left;
	}
	return (int)next;
}

unsigned long event_sink_lost(struct event_sink *sink)
{
	unsigned long lost;

	event_sink_sync(sink);
	pthread_mutex_lock(&sink->queue.lock);
	lost = sink->lost;
	pthread_mutex_unlock(&sink->queue.lock);
	return lost;
}
