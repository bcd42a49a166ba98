/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the event module: escaping of target bytes for JSON and for a
 * terminal, time formatting, dotted-path setting, and the JSON Lines sink
 * with its folding of repeated records.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Returns true if bytes are well-formed UTF-8 as RFC 3629 defines it. */
static bool is_strict_utf8(const unsigned char *bytes, size_t length)
{
	size_t i = 0;

	while (i < length) {
		unsigned char lead = bytes[i];
		uint32_t code;
		size_t n;

		if (lead < 0x80) {
			i++;
			continue;
		}
		if (lead >= 0xc2 && lead <= 0xdf) {
			n = 2;
			code = lead & 0x1f;
		} else if (lead >= 0xe0 && lead <= 0xef) {
			n = 3;
			code = lead & 0x0f;
		} else if (lead >= 0xf0 && lead <= 0xf4) {
			n = 4;
			code = lead & 0x07;
		} else {
			return false;
		}
		if (i + n > length)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((bytes[i + k] & 0xc0) != 0x80)
				return false;
			code = (code << 6) | (bytes[i + k] & 0x3f);
		}
		if ((n == 3 && code < 0x800) || (n == 4 && code < 0x10000) ||
		    code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/* Checks that text survives json_dumps and json_loads unchanged. */
static void expect_round_trip(json_t *text, const char *label)
{
	json_t *wrapper = json_pack("{sO}", "v", text);
	json_t *loaded;
	char *line;

	cr_assert_not_null(wrapper, "%s: json_pack failed", label);
	line = json_dumps(wrapper, JSON_COMPACT);
	cr_assert_not_null(line, "%s: json_dumps failed", label);
	cr_expect(is_strict_utf8((const unsigned char *)line, strlen(line)),
		  "%s: dump is not UTF-8: %s", label, line);
	loaded = json_loads(line, JSON_ALLOW_NUL, NULL);
	cr_expect_not_null(loaded, "%s: json_loads rejected %s", label, line);
	if (loaded)
		cr_expect(json_equal(json_object_get(loaded, "v"), text),
			  "%s: %s did not load back equal", label, line);
	json_decref(loaded);
	free(line);
	json_decref(wrapper);
}

struct text_case {
	const char *label;
	const char *input;
	size_t input_length;
	const char *output;
	size_t output_length;
};

#define TEXT_CASE(label, in, out) \
	{ label, in, sizeof(in) - 1, out, sizeof(out) - 1 }

static const struct text_case valid_texts[] = {
	TEXT_CASE("empty", "", ""),
	TEXT_CASE("ascii", "/usr/bin/ls", "/usr/bin/ls"),
	TEXT_CASE("two-byte", "caf\xc3\xa9", "caf\xc3\xa9"),
	TEXT_CASE("three-byte", "\xe6\x97\xa5\xe6\x9c\xac",
		  "\xe6\x97\xa5\xe6\x9c\xac"),
	TEXT_CASE("four-byte emoji", "smile \xf0\x9f\x98\x80",
		  "smile \xf0\x9f\x98\x80"),
	TEXT_CASE("highest code point", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),
	TEXT_CASE("embedded NUL", "a\0b", "a\0b"),
	TEXT_CASE("control bytes", "a\x1b[0m\n", "a\x1b[0m\n"),
};

static const struct text_case invalid_texts[] = {
	TEXT_CASE("lone 0xff", "\xff", "\\xff"),
	TEXT_CASE("truncated three-byte", "a\xe6\x97", "a\\xe6\\x97"),
	TEXT_CASE("overlong slash", "\xc0\xaf", "\\xc0\\xaf"),
	TEXT_CASE("surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80"),
	TEXT_CASE("lone continuation", "x\x80y", "x\\x80y"),
	TEXT_CASE("valid around invalid",
		  "\xc3\xa9\xff\xe6\x97\xa5\xe6\x9c\xac",
		  "\xc3\xa9\\xff\xe6\x97\xa5\xe6\x9c\xac"),
	TEXT_CASE("backslash doubled", "C:\\dir\xfe", "C:\\\\dir\\xfe"),
	TEXT_CASE("embedded NUL", "a\0\xff", "a\0\\xff"),
};

static void expect_event_text(const struct text_case *c)
{
	json_t *text = event_text(c->input, c->input_length);

	cr_assert_not_null(text, "%s: event_text returned NULL", c->label);
	cr_expect(json_is_string(text), "%s: not a string", c->label);
	cr_expect_eq(json_string_length(text), c->output_length,
		     "%s: length %zu, expected %zu", c->label,
		     json_string_length(text), c->output_length);
	if (json_string_length(text) == c->output_length)
		cr_expect_arr_eq(json_string_value(text), c->output,
				 c->output_length, "%s: got \"%s\"", c->label,
				 json_string_value(text));
	expect_round_trip(text, c->label);
	json_decref(text);
}

Test(event_text, keeps_valid_utf8)
{
	for (size_t i = 0; i < ARRAY_SIZE(valid_texts); i++)
		expect_event_text(&valid_texts[i]);
}

/* Backslashes are doubled only in text that had invalid bytes. */
Test(event_text, keeps_backslash_in_valid_text)
{
	static const struct text_case backslash =
		TEXT_CASE("backslash kept", "C:\\dir", "C:\\dir");

	expect_event_text(&backslash);
}

Test(event_text, escapes_invalid_bytes)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid_texts); i++)
		expect_event_text(&invalid_texts[i]);
}

/*
 * RFC 3629 ends UTF-8 at U+10FFFF and jansson rejects anything above it,
 * so these bytes must be escaped like any other invalid byte.
 */
static const struct text_case above_unicode_texts[] = {
	TEXT_CASE("four-byte above U+10FFFF", "\xf4\x90\x80\x80",
		  "\\xf4\\x90\\x80\\x80"),
	TEXT_CASE("five-byte form", "/tmp/\xf8\x88\x80\x80\x80.so",
		  "/tmp/\\xf8\\x88\\x80\\x80\\x80.so"),
	TEXT_CASE("six-byte form", "\xfc\x84\x80\x80\x80\x80",
		  "\\xfc\\x84\\x80\\x80\\x80\\x80"),
};

Test(event_text, escapes_code_points_above_unicode)
{
	for (size_t i = 0; i < ARRAY_SIZE(above_unicode_texts); i++)
		expect_event_text(&above_unicode_texts[i]);
}

/*
 * The four characters "\xff" and the byte 0xff give the same JSON string,
 * so only event_text_needs_escape() shows a reader which one it was.
 */
Test(event_text, flags_only_the_invalid_byte)
{
	cr_expect_not(event_text_needs_escape("\\xff", 4),
		      "the text \\xff is valid UTF-8");
	cr_expect(event_text_needs_escape("\xff", 1),
		  "the byte 0xff is not valid UTF-8");
}

static void terminal_text(const char *bytes, size_t length, char *out,
			  size_t out_size)
{
	event_text_for_terminal(bytes, length, out, out_size);
	cr_assert_lt(strlen(out), out_size, "output not NUL-terminated");
}

static const struct text_case terminal_texts[] = {
	TEXT_CASE("plain", "nm-0002 direct syscall", "nm-0002 direct syscall"),
	TEXT_CASE("escape sequence", "ls\x1b[2J", "ls\\x1b[2J"),
	TEXT_CASE("newline", "a\nb", "a\\x0ab"),
	TEXT_CASE("carriage return", "a\rb", "a\\x0db"),
	TEXT_CASE("tab", "\t", "\\x09"),
	TEXT_CASE("delete", "\x7f", "\\x7f"),
	TEXT_CASE("NUL", "a\0b", "a\\x00b"),
	TEXT_CASE("invalid byte", "\xff", "\\xff"),
	TEXT_CASE("truncated three-byte", "\xe6\x97", "\\xe6\\x97"),
	TEXT_CASE("valid multibyte", "\xc3\xa9\xe6\x97\xa5",
		  "\xc3\xa9\xe6\x97\xa5"),
};

Test(event_text_for_terminal, escapes_controls_and_invalid_bytes)
{
	char out[256];

	for (size_t i = 0; i < ARRAY_SIZE(terminal_texts); i++) {
		const struct text_case *c = &terminal_texts[i];

		terminal_text(c->input, c->input_length, out, sizeof(out));
		cr_expect_str_eq(out, c->output, "%s: got \"%s\"", c->label,
				 out);
	}
}

/*
 * U+0080 to U+009F are the C1 control characters. A terminal may take
 * U+009B as CSI, the same as ESC [.
 */
Test(event_text_for_terminal, escapes_c1_controls)
{
	static const char csi[] = "\xc2\x9b"
				  "2J";
	static const char next_line[] = "a\xc2\x85"
					"b";
	char out[64];

	terminal_text(csi, sizeof(csi) - 1, out, sizeof(out));
	cr_expect_str_eq(out, "\\xc2\\x9b2J");
	terminal_text(next_line, sizeof(next_line) - 1, out, sizeof(out));
	cr_expect_str_eq(out, "a\\xc2\\x85b");
}

Test(event_text_for_terminal, truncates_on_character_boundary)
{
	static const char japanese[] = "\xe6\x97\xa5\xe6\x9c\xac";
	char out[8];

	/* Room for four bytes: the second character would be cut. */
	terminal_text(japanese, 6, out, 5);
	cr_expect_str_eq(out, "\xe6\x97\xa5");
	terminal_text(japanese, 6, out, 7);
	cr_expect_str_eq(out, japanese);
	terminal_text("abc", 3, out, 4);
	cr_expect_str_eq(out, "abc");
	terminal_text("abcd", 4, out, 4);
	cr_expect_str_eq(out, "abc");
	terminal_text("abc", 3, out, 1);
	cr_expect_str_eq(out, "");
}

/* A cut "\x1b" would print as "\x1", which reads as another byte. */
Test(event_text_for_terminal, keeps_escapes_whole_when_truncating)
{
	char out[8];

	terminal_text("\x1b", 1, out, 3);
	cr_expect_str_eq(out, "");
	terminal_text("ab\x1b", 3, out, 6);
	cr_expect_str_eq(out, "ab");
	terminal_text("ab\x1b", 3, out, 7);
	cr_expect_str_eq(out, "ab\\x1b");
}

Test(event_text_for_terminal, writes_nothing_to_empty_buffer)
{
	char out[4] = "xyz";

	event_text_for_terminal("abc", 3, out, 0);
	cr_expect_str_eq(out, "xyz");
}

struct time_case {
	struct timespec time;
	const char *text;
};

static const struct time_case time_cases[] = {
	{ { 0, 0 }, "1970-01-01T00:00:00.000000Z" },
	{ { 1, 2000 }, "1970-01-01T00:00:01.000002Z" },
	{ { 1, 999 }, "1970-01-01T00:00:01.000000Z" },
	{ { 951782400, 0 }, "2000-02-29T00:00:00.000000Z" },
	{ { 1700000000, 999999999 }, "2023-11-14T22:13:20.999999Z" },
};

Test(event_format_time, formats_rfc3339_microseconds)
{
	for (size_t i = 0; i < ARRAY_SIZE(time_cases); i++) {
		char out[32];

		event_format_time(&time_cases[i].time, out);
		cr_expect_str_eq(out, time_cases[i].text, "got %s", out);
	}
}

Test(event_set, creates_nested_objects)
{
	json_t *record = json_object();
	json_t *parent;

	cr_assert_eq(event_set(record, "process.parent.pid", json_integer(7)),
		     0);
	parent = json_object_get(json_object_get(record, "process"),
				 "parent");
	cr_assert(json_is_object(parent));
	cr_expect_eq(json_integer_value(json_object_get(parent, "pid")), 7);
	json_decref(record);
}

Test(event_set, keeps_existing_siblings)
{
	json_t *record = json_object();
	json_t *process;

	cr_assert_eq(event_set(record, "process.pid", json_integer(1)), 0);
	cr_assert_eq(event_set(record, "process.name", json_string("sh")), 0);
	cr_assert_eq(event_set(record, "top", json_true()), 0);
	process = json_object_get(record, "process");
	cr_expect_eq(json_integer_value(json_object_get(process, "pid")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(process, "name")),
			 "sh");
	cr_expect(json_is_true(json_object_get(record, "top")));
	cr_expect_eq(json_object_size(record), 2);
	json_decref(record);
}

Test(event_set, replaces_non_object_intermediate)
{
	json_t *record = json_pack("{s:i}", "process", 3);
	json_t *process;

	cr_assert_eq(event_set(record, "process.pid", json_integer(9)), 0);
	process = json_object_get(record, "process");
	cr_assert(json_is_object(process));
	cr_expect_eq(json_integer_value(json_object_get(process, "pid")), 9);
	json_decref(record);
}

Test(event_set, replaces_existing_value)
{
	json_t *record = json_object();

	cr_assert_eq(event_set(record, "a.b", json_integer(1)), 0);
	cr_assert_eq(event_set(record, "a.b", json_integer(2)), 0);
	cr_expect_eq(json_integer_value(json_object_get(
			     json_object_get(record, "a"), "b")),
		     2);
	json_decref(record);
}

Test(event_set, rejects_null_value)
{
	json_t *record = json_object();

	cr_expect_eq(event_set(record, "a.b", NULL), -ENOMEM);
	json_decref(record);
}

Test(event_set, releases_value_on_failure)
{
	char path[200];
	json_t *record = json_object();
	json_t *value = json_integer(5);

	memset(path, 'k', sizeof(path));
	strcpy(path + 150, ".leaf");
	json_incref(value);
	cr_expect_eq(event_set(record, path, value), -ENOMEM);
	cr_expect_eq(value->refcount, 1, "refcount %zu", value->refcount);
	json_decref(value);
	json_decref(record);
}

static char directory[64];
static char log_path[96];

static void make_directory(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(directory, sizeof(directory), "%s/nativemon-event-XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(directory), "mkdtemp: %s",
			   strerror(errno));
	snprintf(log_path, sizeof(log_path), "%s/events.jsonl", directory);
}

static void remove_directory(void)
{
	unlink(log_path);
	rmdir(directory);
}

/* Also sends stderr, where a lost record is reported, to Criterion. */
static void make_quiet_directory(void)
{
	make_directory();
	cr_redirect_stderr();
}

TestSuite(event_sink, .init = make_directory, .fini = remove_directory);

#define RECORDS_MAX 4096

struct records {
	json_t *items[RECORDS_MAX];
	size_t count;
};

/* Parses every line of the log, each of which must be a JSON object. */
static void load_records(struct records *records)
{
	FILE *log = fopen(log_path, "r");
	char *line = NULL;
	size_t capacity = 0;
	ssize_t n;

	cr_assert_not_null(log, "fopen %s: %s", log_path, strerror(errno));
	records->count = 0;
	while ((n = getline(&line, &capacity, log)) > 0) {
		json_error_t error;
		json_t *record;

		cr_assert_eq(line[n - 1], '\n', "line without newline: %s",
			     line);
		record = json_loadb(line, (size_t)n, 0, &error);
		cr_assert_not_null(record, "invalid JSON line: %s (%s)", line,
				   error.text);
		cr_assert(json_is_object(record), "not an object: %s", line);
		cr_assert_lt(records->count, RECORDS_MAX);
		records->items[records->count++] = record;
	}
	free(line);
	fclose(log);
}

static void free_records(struct records *records)
{
	for (size_t i = 0; i < records->count; i++)
		json_decref(records->items[i]);
	records->count = 0;
}

static json_int_t record_count(const json_t *record)
{
	const json_t *nativemon = json_object_get(record, "nativemon");

	return json_integer_value(json_object_get(nativemon, "count"));
}

static const char *record_string(const json_t *record, const char *key)
{
	return json_string_value(json_object_get(record, key));
}

static struct event_sink *open_sink(void)
{
	struct event_sink *sink = NULL;

	cr_assert_eq(event_sink_new(&sink, log_path, true), 0);
	cr_assert_not_null(sink);
	return sink;
}

/*
 * A draft of the record {"id": ID}. The counters are atomic because the
 * writer thread builds and frees drafts.
 */
struct test_draft {
	struct event_draft base;
	char id[32];
	bool fails;	/* build() runs out of memory */
	size_t padding; /* length of a "pad" string of x's, if not 0 */
};

static unsigned int drafts_alive;
static unsigned int builds;
static unsigned int builds_on_emitter; /* on the thread that emitted */
static pthread_t emitter;

static json_t *build_test_record(const struct event_draft *base)
{
	const struct test_draft *draft = (const struct test_draft *)base;

	__atomic_fetch_add(&builds, 1, __ATOMIC_RELAXED);
	if (pthread_equal(pthread_self(), emitter))
		__atomic_fetch_add(&builds_on_emitter, 1, __ATOMIC_RELAXED);
	if (draft->fails)
		return NULL;
	if (draft->padding == 0)
		return json_pack("{s:s}", "id", draft->id);
	char *pad = malloc(draft->padding);
	json_t *record;

	cr_assert_not_null(pad);
	memset(pad, 'x', draft->padding);
	record = json_pack("{s:s, s:s%}", "id", draft->id, "pad", pad,
			   draft->padding);
	free(pad);
	return record;
}

static void free_test_draft(struct event_draft *base)
{
	__atomic_fetch_sub(&drafts_alive, 1, __ATOMIC_RELAXED);
	free(base);
}

static struct event_draft *new_draft(const char *id, bool fails)
{
	struct test_draft *draft = calloc(1, sizeof(*draft));

	cr_assert_not_null(draft);
	draft->base.build = build_test_record;
	draft->base.free = free_test_draft;
	snprintf(draft->id, sizeof(draft->id), "%s", id);
	draft->fails = fails;
	emitter = pthread_self();
	__atomic_fetch_add(&drafts_alive, 1, __ATOMIC_RELAXED);
	return &draft->base;
}

static struct event_draft *padded_draft(const char *id, size_t padding)
{
	struct event_draft *base = new_draft(id, false);

	((struct test_draft *)base)->padding = padding;
	return base;
}

static void emit(struct event_sink *sink, const char *id, const char *key)
{
	event_sink_emit(sink, new_draft(id, false), key, NULL);
}

Test(event_sink, writes_one_line_per_record)
{
	struct event_sink *sink = open_sink();
	struct records records;

	emit(sink, "first", NULL);
	emit(sink, "second", NULL);
	event_sink_sync(sink);
	load_records(&records);
	cr_assert_eq(records.count, 2);
	cr_expect_str_eq(record_string(records.items[0], "id"), "first");
	cr_expect_str_eq(record_string(records.items[1], "id"), "second");
	cr_expect_eq(record_count(records.items[0]), 1);
	cr_expect_eq(record_count(records.items[1]), 1);
	cr_expect_eq(event_sink_lost(sink), 0);
	free_records(&records);
	event_sink_free(sink);
}

Test(event_sink, never_folds_records_without_key)
{
	struct event_sink *sink = open_sink();
	struct records records;

	for (int i = 0; i < 3; i++)
		emit(sink, "same", NULL);
	event_sink_sync(sink);
	cr_expect_eq(event_sink_next_flush_ms(sink), -1);
	event_sink_free(sink);

	load_records(&records);
	cr_expect_eq(records.count, 3);
	for (size_t i = 0; i < records.count; i++)
		cr_expect_eq(record_count(records.items[i]), 1, "line %zu", i);
	free_records(&records);
}

Test(event_sink, folds_repeats_within_window)
{
	struct event_sink *sink = open_sink();
	struct records records;
	const json_t *folded;

	for (int i = 0; i < 5; i++)
		emit(sink, "repeated", "key");
	event_sink_sync(sink);
	load_records(&records);
	cr_expect_eq(records.count, 1, "%zu lines before the window closed",
		     records.count);
	free_records(&records);

	event_sink_free(sink);
	load_records(&records);
	cr_assert_eq(records.count, 2);
	cr_expect_eq(record_count(records.items[0]), 1);
	folded = records.items[1];
	cr_expect_eq(record_count(folded), 4);
	cr_expect_str_eq(record_string(folded, "id"), "repeated");
	cr_expect_not_null(record_string(folded, "@timestamp"));
	cr_expect_not_null(json_object_get(json_object_get(folded, "event"),
					   "start"));
	cr_expect_not_null(json_object_get(json_object_get(folded, "event"),
					   "end"));
	free_records(&records);
}

Test(event_sink, keeps_different_keys_apart)
{
	struct event_sink *sink = open_sink();
	struct records records;

	emit(sink, "a", "key-a");
	emit(sink, "b", "key-b");
	event_sink_free(sink);

	load_records(&records);
	cr_assert_eq(records.count, 2);
	cr_expect_str_eq(record_string(records.items[0], "id"), "a");
	cr_expect_str_eq(record_string(records.items[1], "id"), "b");
	cr_expect_eq(record_count(records.items[0]), 1);
	cr_expect_eq(record_count(records.items[1]), 1);
	free_records(&records);
}

/* More keys than fold slots: evicting a slot must not lose its count. */
Test(event_sink, conserves_counts_across_many_keys)
{
	enum { KEYS = 100, ROUNDS = 3 };
	struct event_sink *sink = open_sink();
	struct records records;
	json_int_t totals[KEYS] = { 0 };

	for (int round = 0; round < ROUNDS; round++) {
		for (int k = 0; k < KEYS; k++) {
			char key[16];

			snprintf(key, sizeof(key), "%d", k);
			emit(sink, key, key);
		}
	}
	event_sink_free(sink);

	load_records(&records);
	for (size_t i = 0; i < records.count; i++) {
		int k = atoi(record_string(records.items[i], "id"));

		cr_assert(k >= 0 && k < KEYS);
		totals[k] += record_count(records.items[i]);
	}
	for (int k = 0; k < KEYS; k++)
		cr_expect_eq(totals[k], ROUNDS, "key %d counted %lld times", k,
			     (long long)totals[k]);
	free_records(&records);
}

static bool log_is_empty(void)
{
	struct stat st;

	return stat(log_path, &st) < 0 || st.st_size == 0;
}

/*
 * Runs the event loop's upkeep until nothing is due, and with
 * wait_for_log until the log has a line, for at most 5 seconds. Returns
 * the last event_sink_next_flush_ms().
 */
static int run_upkeep(struct event_sink *sink, bool wait_for_log)
{
	struct timespec start, now;
	int wait_ms = event_sink_next_flush_ms(sink);

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		poll(NULL, 0, wait_ms > 0 ? wait_ms : 1);
		event_sink_flush_expired(sink);
		wait_ms = event_sink_next_flush_ms(sink);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((wait_ms >= 0 || (wait_for_log && log_is_empty())) &&
		 now.tv_sec - start.tv_sec < 5);
	return wait_ms;
}

Test(event_sink, flushes_when_window_closes, .timeout = 10)
{
	struct event_sink *sink = open_sink();
	struct records records;
	int wait_ms;

	emit(sink, "repeated", "key");
	emit(sink, "repeated", "key");
	wait_ms = event_sink_next_flush_ms(sink);
	cr_expect_geq(wait_ms, 0);
	cr_expect_leq(wait_ms, EVENT_FOLD_WINDOW_MS);

	wait_ms = run_upkeep(sink, false);
	cr_expect_eq(wait_ms, -1, "the window never closed");

	event_sink_sync(sink);
	load_records(&records);
	cr_assert_eq(records.count, 2);
	cr_expect_eq(record_count(records.items[0]), 1);
	cr_expect_eq(record_count(records.items[1]), 1);
	free_records(&records);
	event_sink_free(sink);
}

/* The writer sleeps until a batch fills, so a lone record needs upkeep. */
Test(event_sink, upkeep_wakes_writer, .timeout = 10)
{
	struct event_sink *sink = open_sink();
	struct records records;
	int wait_ms;

	emit(sink, "lone", NULL);
	wait_ms = event_sink_next_flush_ms(sink);
	cr_expect_geq(wait_ms, 0, "no wake-up is due for the queued record");

	wait_ms = run_upkeep(sink, true);
	cr_expect_eq(wait_ms, -1, "the writer was never woken");
	cr_expect_not(log_is_empty(), "the record was never written");
	event_sink_free(sink);

	load_records(&records);
	cr_assert_eq(records.count, 1);
	cr_expect_str_eq(record_string(records.items[0], "id"), "lone");
	free_records(&records);
}

/*
 * The writer thread's queue has room for 256 records. A longer burst makes
 * the emitter wait, and every record is written once, in order.
 */
Test(event_sink, writes_whole_burst_in_order)
{
	enum { RECORDS = 3000 };
	struct event_sink *sink = open_sink();
	struct records records;

	for (int i = 0; i < RECORDS; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%d", i);
		emit(sink, id, NULL);
	}
	cr_expect_eq(event_sink_lost(sink), 0);
	event_sink_free(sink);

	load_records(&records);
	cr_assert_eq(records.count, RECORDS);
	for (size_t i = 0; i < records.count; i++)
		cr_expect_eq(atoi(record_string(records.items[i], "id")),
			     (int)i, "line %zu", i);
	free_records(&records);
}

Test(event_sink, appends_to_existing_log)
{
	struct event_sink *sink;
	struct records records;
	FILE *log = fopen(log_path, "w");

	cr_assert_not_null(log);
	fputs("{\"id\":\"old\"}\n", log);
	fclose(log);

	sink = open_sink();
	emit(sink, "new", NULL);
	event_sink_free(sink);

	load_records(&records);
	cr_assert_eq(records.count, 2);
	cr_expect_str_eq(record_string(records.items[0], "id"), "old");
	cr_expect_str_eq(record_string(records.items[1], "id"), "new");
	free_records(&records);
}

Test(event_sink, ignores_null_record)
{
	struct event_sink *sink = open_sink();
	struct records records;

	event_sink_emit(sink, NULL, "key", "summary");
	event_sink_free(sink);

	load_records(&records);
	cr_expect_eq(records.count, 0);
}

Test(event_sink, rejects_unwritable_path)
{
	struct event_sink *sink = NULL;
	char missing[128];

	cr_expect_eq(event_sink_new(&sink, directory, true), -EISDIR);
	cr_expect_null(sink);
	snprintf(missing, sizeof(missing), "%s/missing/events.jsonl",
		 directory);
	cr_expect_eq(event_sink_new(&sink, missing, true), -ENOENT);
	cr_expect_null(sink);
}

Test(event_sink, counts_lost_records, .init = cr_redirect_stderr)
{
	struct event_sink *sink = NULL;

	cr_assert_eq(event_sink_new(&sink, "/dev/full", true), 0);
	emit(sink, "a", NULL);
	emit(sink, "b", NULL);
	cr_expect_eq(event_sink_lost(sink), 2);
	event_sink_free(sink);
}

/* A record that cannot be built for want of memory is lost, and counted. */
Test(event_sink, counts_records_it_cannot_build)
{
	struct event_sink *sink = open_sink();
	struct records records;

	event_sink_emit(sink, new_draft("lost", true), NULL, NULL);
	emit(sink, "kept", NULL);
	cr_expect_eq(event_sink_lost(sink), 1);
	event_sink_free(sink);

	load_records(&records);
	cr_assert_eq(records.count, 1);
	cr_expect_str_eq(record_string(records.items[0], "id"), "kept");
	free_records(&records);
	cr_expect_eq(drafts_alive, 0);
}

/*
 * The writer thread builds each record, once even when a fold window
 * writes it again with its count, and frees every draft: folded ones,
 * the ones of closed windows, and those of a sink without a log.
 */
Test(event_sink, builds_records_on_writer_thread)
{
	struct event_sink *sink = open_sink();
	struct records records;

	for (int i = 0; i < 5; i++)
		emit(sink, "repeated", "key");
	emit(sink, "single", NULL);
	event_sink_free(sink);

	load_records(&records);
	cr_assert_eq(records.count, 3);
	cr_expect_eq(record_count(records.items[2]), 4);
	free_records(&records);
	cr_expect_eq(builds, 2, "%u builds for two records", builds);
	cr_expect_eq(builds_on_emitter, 0,
		     "%u records were built on the emitting thread",
		     builds_on_emitter);
	cr_expect_eq(drafts_alive, 0, "%u drafts were never freed",
		     drafts_alive);

	cr_assert_eq(event_sink_new(&sink, NULL, true), 0);
	emit(sink, "a", "key");
	emit(sink, "a", "key");
	emit(sink, "b", NULL);
	event_sink_free(sink);
	cr_expect_eq(builds, 2, "a sink without a log built a record");
	cr_expect_eq(drafts_alive, 0, "%u drafts were never freed",
		     drafts_alive);
}

/* Reads a file descriptor to its end into a string, on a thread. */
struct drain {
	int fd;
	char *data;
	size_t length;
};

static void *drain_fd(void *argument)
{
	struct drain *drain = argument;
	size_t capacity = 0;
	ssize_t n;

	do {
		if (capacity - drain->length < 65536) {
			capacity = capacity * 2 + 65536;
			drain->data = realloc(drain->data, capacity + 1);
			cr_assert_not_null(drain->data);
		}
		n = read(drain->fd, drain->data + drain->length, 65536);
		if (n > 0)
			drain->length += (size_t)n;
	} while (n > 0 || (n < 0 && errno == EINTR));
	drain->data[drain->length] = '\0';
	return NULL;
}

/* Returns the number of lines in text, failing on one that is not JSON. */
static size_t count_json_lines(char *text)
{
	size_t count = 0;
	char *line, *next;

	for (line = text; *line; line = next) {
		json_error_t error;
		json_t *record;

		next = strchr(line, '\n');
		cr_assert_not_null(next, "line %zu has no newline", count + 1);
		*next++ = '\0';
		record = json_loads(line, 0, &error);
		cr_assert_not_null(record, "line %zu is torn: %s", count + 1,
				   error.text);
		json_decref(record);
		count++;
	}
	return count;
}

/*
 * Two sinks that share a FIFO keep their lines whole, because a pipe keeps
 * a write(2) of up to PIPE_BUF bytes whole and each line of about 3 KiB
 * gets a write of its own there.
 */
Test(event_sink, shares_fifo_without_tearing_lines, .timeout = 60)
{
	enum { RECORDS = 1000, SINKS = 2 };
	struct event_sink *sinks[SINKS];
	struct drain drain = { 0 };
	pthread_t reader;

	cr_assert_eq(mkfifo(log_path, 0600), 0, "mkfifo: %s", strerror(errno));
	drain.fd = open(log_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(drain.fd, 0, "open: %s", strerror(errno));
	for (int i = 0; i < SINKS; i++)
		sinks[i] = open_sink();
	cr_assert_eq(fcntl(drain.fd, F_SETFL, 0), 0);
	cr_assert_eq(pthread_create(&reader, NULL, drain_fd, &drain), 0);

	for (int i = 0; i < RECORDS; i++) {
		for (int j = 0; j < SINKS; j++)
			event_sink_emit(sinks[j], padded_draft("fifo", 3000),
					NULL, NULL);
	}
	for (int i = 0; i < SINKS; i++)
		event_sink_free(sinks[i]);
	pthread_join(reader, NULL);
	close(drain.fd);

	cr_expect_eq(count_json_lines(drain.data), RECORDS * SINKS);
	free(drain.data);
}

/*
 * Lowers this process's file size limit to bytes, with writes past it
 * failing with EFBIG instead of raising SIGXFSZ. Stores the limit before
 * in saved.
 */
static void limit_file_size(rlim_t bytes, struct rlimit *saved)
{
	struct rlimit limit;

	cr_assert_eq(getrlimit(RLIMIT_FSIZE, saved), 0);
	limit = *saved;
	limit.rlim_cur = bytes;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
	signal(SIGXFSZ, SIG_IGN);
}

/* Returns the log's contents as a string of at most size - 1 bytes. */
static char *read_log_text(size_t size, size_t *length)
{
	FILE *log = fopen(log_path, "r");
	char *text = calloc(1, size);

	cr_assert_not_null(log);
	cr_assert_not_null(text);
	*length = fread(text, 1, size - 1, log);
	fclose(log);
	cr_assert_lt(*length, size - 1, "the log is larger than %zu bytes",
		     size - 1);
	return text;
}

/*
 * A write that stops partway, here at the file size limit, loses only the
 * lines that did not reach the log whole.
 */
Test(event_sink, counts_lines_of_partial_write, .init = make_quiet_directory)
{
	enum { RECORDS = 100 };
	struct rlimit saved;
	struct event_sink *sink;
	unsigned long lost;
	char *text;
	size_t length;

	limit_file_size(64 * 1024, &saved);
	sink = open_sink();
	for (int i = 0; i < RECORDS; i++)
		event_sink_emit(sink, padded_draft("limited", 2000), NULL,
				NULL);
	lost = event_sink_lost(sink);
	event_sink_free(sink);

	text = read_log_text(128 * 1024, &length);
	/* The line that the limit cut is lost, so its part is dropped. */
	while (length > 0 && text[length - 1] != '\n')
		text[--length] = '\0';
	cr_assert_gt(lost, 0, "the file size limit cut no line");
	cr_expect_eq(count_json_lines(text) + lost, RECORDS,
		     "%lu lines counted as lost", lost);
	free(text);
}

/* Returns the lines of text that parse as JSON, counting the others. */
static size_t count_parsed_lines(char *text, size_t *bad)
{
	size_t parsed = 0;
	char *line, *next;

	*bad = 0;
	for (line = text; *line; line = next) {
		json_t *record;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		record = json_loads(line, 0, NULL);
		if (record)
			parsed++;
		else
			(*bad)++;
		json_decref(record);
	}
	return parsed;
}

/*
 * A line that a failed write cut stays alone when the log takes data
 * again, here after the file size limit is raised: the next record starts
 * a line of its own instead of being glued to the cut one.
 */
Test(event_sink, ends_cut_line_before_next, .init = make_quiet_directory)
{
	enum { BEFORE = 60, AFTER = 10 };
	struct rlimit saved;
	struct event_sink *sink;
	unsigned long lost;
	size_t parsed, bad, length;
	char *text;

	limit_file_size(64 * 1024, &saved);
	sink = open_sink();
	for (int i = 0; i < BEFORE; i++)
		event_sink_emit(sink, padded_draft("before", 1500), NULL, NULL);
	event_sink_sync(sink);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	for (int i = 0; i < AFTER; i++)
		event_sink_emit(sink, padded_draft("after", 1500), NULL, NULL);
	lost = event_sink_lost(sink);
	event_sink_free(sink);

	text = read_log_text(256 * 1024, &length);
	parsed = count_parsed_lines(text, &bad);
	cr_expect_gt(lost, 0, "the file size limit cut no line");
	cr_expect_leq(bad, 1, "%zu lines do not parse", bad);
	cr_expect_eq(parsed + lost, BEFORE + AFTER,
		     "%zu records parse and %lu are lost, of %d", parsed, lost,
		     BEFORE + AFTER);
	free(text);
}

Test(event_sink, writes_nothing_without_log)
{
	struct event_sink *sink = NULL;

	cr_assert_eq(event_sink_new(&sink, NULL, true), 0);
	emit(sink, "a", "key");
	emit(sink, "a", "key");
	cr_expect_eq(event_sink_lost(sink), 0);
	event_sink_free(sink);
	cr_expect_eq(access(log_path, F_OK), -1);
}

Test(event_sink, prints_sanitized_summaries, .init = cr_redirect_stderr)
{
	struct event_sink *sink = NULL;

	cr_assert_eq(event_sink_new(&sink, NULL, false), 0);
	for (int i = 0; i < 3; i++)
		event_sink_emit(sink, new_draft("a", false), "key",
				"alert in \x1b[2Jterm");
	event_sink_free(sink);
	fflush(stderr);
	cr_expect_stderr_eq_str("nativemon: alert in \\x1b[2Jterm\n"
				"nativemon: alert in \\x1b[2Jterm"
				" (2 more times)\n");
}
