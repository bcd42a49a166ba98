/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Module-load tests: how each module arrived (the loader at start-up,
 * dlopen, dlmopen, glibc's own loads, a manual map), who asked for it, and
 * the file's SHA-256 and build-id. nativemon run hands its preload shim
 * from the build tree to the targets, as it would the installed one.
 */
#include <criterion/criterion.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define TEST_TIMEOUT 60

static struct harness_test run;

static void release_run(void)
{
	harness_test_fini(&run);
}

TestSuite(loads, .init = harness_require_user_notification,
	  .fini = release_run);

static bool has_part(const char *text, const char *part)
{
	return text && strstr(text, part);
}

static bool ends_with(const char *text, const char *suffix)
{
	size_t length = text ? strlen(text) : 0;

	return length >= strlen(suffix) &&
	       strcmp(text + length - strlen(suffix), suffix) == 0;
}

static bool is_load_of(const json_t *event, const char *part)
{
	const char *action = harness_event_string(event, "event.action");

	return action && strcmp(action, "module-load") == 0 &&
	       has_part(harness_event_string(event, "dll.path"), part);
}

/* Returns the first module-load record whose dll.path contains part. */
static json_t *find_load(const char *part)
{
	size_t i;
	json_t *event;

	json_array_foreach(run.events, i, event) {
		if (is_load_of(event, part))
			return event;
	}
	return NULL;
}

/* Returns the SHA-256 of the file at path in hex, owned by the test. */
static char *file_sha256(const char *path)
{
	char *digest = SHA256File(path, NULL);

	cr_assert(digest, "cannot hash %s", path);
	return harness_test_own(&run, digest);
}

static bool array_has(const json_t *array, const char *text)
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

Test(loads, dlopen_names_request_and_caller, .timeout = TEST_TIMEOUT)
{
	const char *directory = harness_test_scratch_new(&run, "/tmp");
	char *copy = harness_test_format(&run, "%s/libnmpayload.so", directory);
	const char *program = harness_test_target(&run, "load_module");
	const char *payload = harness_test_target(&run, "payload.so");
	json_t *alert;

	harness_test_observe(
		&run, NULL,
		(char *[]){ (char *)program, (char *)payload,
			    harness_test_format(&run, "copy:%s", directory),
			    NULL });
	harness_test_expect_exit_code(&run, 0);
	alert = find_load(copy);
	cr_assert(alert, "no module-load record for %s; %s", copy, run.seen);

	harness_event_expect_string(alert, "event.kind", "alert");
	harness_event_expect_string(alert, "nativemon.load.source", "dlopen");
	harness_event_expect_string(alert, "nativemon.load.caller", program);
	harness_event_expect_string(alert, "nativemon.load.requested", copy);
	cr_expect(array_has(harness_event_get(alert, "nativemon.load.flags"),
			    "RTLD_NOW"),
		  "RTLD_NOW missing from the flags of %s", copy);
	harness_event_expect_string(alert, "nativemon.load.namespace",
				    "caller");
	harness_event_expect_string(alert, "dll.hash.sha256",
				    file_sha256(payload));
	cr_expect(harness_event_string(alert, "nativemon.load.build_id"),
		  "no build-id for %s", copy);
}

Test(loads, start_up_libraries_come_from_loader, .timeout = TEST_TIMEOUT)
{
	json_t *libc;

	harness_test_observe(
		&run, NULL,
		(char *[]){ harness_test_target(&run, "load_module"), NULL });
	libc = find_load("/libc.so.6");
	cr_assert(libc, "no module-load record for libc; %s", run.seen);
	harness_event_expect_string(libc, "nativemon.load.source", "loader");
	harness_event_expect_string(libc, "event.kind", "event");
	cr_expect(!harness_event_get(libc, "nativemon.load.requested"),
		  "a start-up load names a dlopen request");
}

/*
 * Each process that maps libc reports it with the file's digest, also
 * when the digest comes from the cache of an earlier process's load.
 */
Test(loads, repeated_loads_keep_digest, .timeout = TEST_TIMEOUT)
{
	const char *expected = NULL;
	size_t i, loads = 0;
	json_t *event;

	harness_test_observe(
		&run, NULL,
		(char *[]){ "/bin/sh", "-c", "/bin/true; /bin/true", NULL });
	harness_test_expect_exit_code(&run, 0);
	json_array_foreach(run.events, i, event) {
		const char *path = harness_event_string(event, "dll.path");

		if (!is_load_of(event, "/libc.so.6"))
			continue;
		if (!expected)
			expected = file_sha256(path);
		harness_event_expect_string(event, "dll.hash.sha256",
					    expected);
		loads++;
	}
	cr_expect_geq(loads, 3, "libc loads of sh and two true: %zu; %s",
		      loads, run.seen);
}

Test(loads, dlmopen_is_reported, .timeout = TEST_TIMEOUT)
{
	json_t *libm;

	harness_test_observe(
		&run, NULL,
		(char *[]){ harness_test_target(&run, "dlmopen_load"), NULL });
	harness_test_expect_exit_code(&run, 0);
	libm = find_load("/libm.so.6");
	cr_assert(libm, "no module-load record for libm; %s", run.seen);
	harness_event_expect_string(libm, "nativemon.load.source", "dlmopen");
	harness_event_expect_string(libm, "nativemon.load.namespace", "new");
	harness_event_expect_string(libm, "nativemon.load.requested",
				    "libm.so.6");
	harness_event_expect_string(libm, "nativemon.load.caller",
				    harness_test_target(&run, "dlmopen_load"));
}

Test(loads, gconv_load_is_attributed_to_libc, .timeout = TEST_TIMEOUT)
{
	const char *caller;
	json_t *gconv;

	harness_test_observe(
		&run, NULL,
		(char *[]){ harness_test_target(&run, "iconv_load"), NULL });
	harness_test_expect_exit_code(&run, 0);
	gconv = find_load("/gconv/");
	cr_assert(gconv, "no module-load record for a gconv module; %s",
		  run.seen);
	harness_event_expect_string(gconv, "nativemon.load.source", "dlopen");
	caller = harness_event_string(gconv, "nativemon.load.caller");
	cr_expect(ends_with(caller, "/libc.so.6"),
		  "the gconv load is attributed to %s, not libc",
		  caller ? caller : "nothing");
	cr_expect(!harness_event_get(gconv, "nativemon.load.requested"),
		  "libc's own load names a dlopen request");
}

Test(loads, manual_map_raises_alert, .timeout = TEST_TIMEOUT)
{
	const char *program = harness_test_target(&run, "manual_map");
	const char *payload = harness_test_target(&run, "payload.so");
	json_t *alert;

	harness_test_observe(&run, NULL,
			     (char *[]){ (char *)program, (char *)payload,
					 NULL });
	harness_test_expect_exit_code(&run, 0);
	alert = find_load(payload);
	cr_assert(alert, "no module-load record for %s; %s", payload,
		  run.seen);
	harness_event_expect_string(alert, "event.kind", "alert");
	harness_event_expect_string(alert, "rule.id", "nm-0016");
	harness_event_expect_string(alert, "nativemon.load.source",
				    "manual-map");
	harness_event_expect_string(alert, "nativemon.load.caller", program);
}

/* An mprotect that makes a file mapping executable is a manual map too. */
Test(loads, mprotect_manual_map_is_hashed, .timeout = TEST_TIMEOUT)
{
	const char *program = harness_test_target(&run, "manual_map");
	const char *payload = harness_test_target(&run, "payload.so");
	json_t *alert;

	harness_test_observe(&run, NULL,
			     (char *[]){ (char *)program, "--mprotect",
					 (char *)payload, NULL });
	harness_test_expect_exit_code(&run, 0);
	alert = find_load(payload);
	cr_assert(alert, "no module-load record for %s; %s", payload,
		  run.seen);
	harness_event_expect_string(alert, "nativemon.syscall.name",
				    "mprotect");
	harness_event_expect_string(alert, "nativemon.load.source",
				    "manual-map");
	harness_event_expect_string(alert, "dll.hash.sha256",
				    file_sha256(payload));
}

/* A library rewritten in place keeps its inode but is a new module. */
Test(loads, rewritten_library_is_new_module, .timeout = TEST_TIMEOUT)
{
	const char *directory = harness_test_scratch_new(&run, NULL);
	char *copy = harness_test_format(&run, "%s/libnmcopy.so", directory);
	size_t i, loads = 0;
	json_t *event;

	harness_copy_file(harness_test_target(&run, "payload.so"), copy, 0644);
	harness_test_observe(&run, NULL,
			     (char *[]){ harness_test_target(&run, "manual_map"),
					 "--rewrite", copy, NULL });
	harness_test_expect_exit_code(&run, 0);
	json_array_foreach(run.events, i, event) {
		if (is_load_of(event, copy))
			loads++;
	}
	cr_expect_eq(loads, 2, "%zu module loads of %s in one process; %s",
		     loads, copy, run.seen);
}

/* Mapping a library the process has mapped already adds no module. */
Test(loads, remap_of_loaded_library_is_quiet, .timeout = TEST_TIMEOUT)
{
	const char *program = harness_test_target(&run, "manual_map");
	size_t i;
	json_t *event;

	harness_test_observe(&run, NULL,
			     (char *[]){ (char *)program,
					 "/lib/x86_64-linux-gnu/libc.so.6", NULL });
	harness_test_expect_exit_code(&run, 0);
	json_array_foreach(run.events, i, event) {
		cr_expect(!has_part(harness_event_string(event,
							 "nativemon.load.source"),
				    "manual-map"),
			  "a remap of libc is a manual map: %s", run.seen);
	}
}

Test(loads, static_program_exec_is_marked, .timeout = TEST_TIMEOUT)
{
	const char *program = harness_test_target(&run, "static_raw");
	size_t i, marked = 0, execs = 0;
	json_t *event;

	harness_test_observe(
		&run, NULL,
		(char *[]){ "sh", "-c",
			    harness_test_format(&run, "%s; %s; true", program,
						program),
			    NULL });
	json_array_foreach(run.events, i, event) {
		const char *action = harness_event_string(event, "event.action");
		bool is_static = json_is_true(
			harness_event_get(event, "nativemon.exec.static"));

		if (!action || strcmp(action, "exec") != 0)
			continue;
		execs++;
		if (is_static)
			marked++;
		cr_expect(is_static == (strcmp(harness_event_string(
							 event, "file.path"),
						 program) == 0),
			  "exec of %s marked static: %d",
			  harness_event_string(event, "file.path"), is_static);
	}
	/* The second exec finds the program's facts in the cache. */
	cr_expect_eq(marked, 2, "%zu static execs marked; %s", marked,
		     run.seen);
	cr_expect_geq(execs, 3, "%zu exec records; %s", execs, run.seen);
}
