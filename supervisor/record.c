/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Record building. Field names follow the Elastic Common Schema where it
 * has one; nativemon's own fields live under "nativemon.". Text that comes
 * from a target goes through event_text() so the line stays valid UTF-8.
 */
#include "record.h"

#include <bsd/string.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "preload/protocol.h"

#include "event.h"
#include "procfs.h"
#include "unwind.h"

static void set_hex(json_t *record, const char *path, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "0x%" PRIx64, value);
	event_set(record, path, json_string(text));
}

/* Lists a field whose value event_text() escaped, so readers can undo it. */
static void mark_escaped(json_t *record, const char *path)
{
	json_t *nativemon = json_object_get(record, "nativemon");
	json_t *escaped = json_object_get(nativemon, "escaped");

	if (!json_is_array(escaped)) {
		escaped = json_array();
		event_set(record, "nativemon.escaped", escaped);
	}
	json_array_append_new(escaped, json_string(path));
}

static void set_text(json_t *record, const char *path, const char *text)
{
	size_t length;

	if (!text)
		return;
	length = strlen(text);
	if (event_text_needs_escape(text, length))
		mark_escaped(record, path);
	event_set(record, path, event_text(text, length));
}

static const char *base_name(const char *path)
{
	const char *slash;

	if (!path)
		return "?";
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static const char *const verdict_names[] = {
	[VERDICT_ALLOW] = "allow",
	[VERDICT_DENY] = "deny",
	[VERDICT_KILL] = "kill",
	[VERDICT_WOULD_DENY] = "would-deny",
	[VERDICT_WOULD_KILL] = "would-kill",
};

const char *record_verdict_name(enum call_verdict verdict)
{
	if ((unsigned int)verdict >= sizeof(verdict_names) / sizeof(char *))
		return "unknown";
	return verdict_names[verdict];
}

/* deny and kill rules are alerts too, in either mode. */
static bool is_alert(const struct policy_rule *rule)
{
	return rule->action >= POLICY_ALERT;
}

static void add_event_fields(json_t *record, const struct finding *finding)
{
	const struct policy_rule *rule = finding->rule;
	bool alert = is_alert(rule);
	const char *category = finding->event == EVENT_MODULE_LOAD ? "library"
								   : "process";
	char time[32];
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	event_format_time(&now, time);
	event_set(record, "@timestamp", json_string(time));
	event_set(record, "event.kind", json_string(alert ? "alert" : "event"));
	event_set(record, "event.action",
		  json_string(policy_event_name(finding->event)));
	event_set(record, "event.category", json_pack("[s]", category));
	event_set(record, "event.type",
		  json_pack("[s]", finding->event == EVENT_EXEC ? "start"
								: "info"));
	event_set(record, "event.severity", json_integer(rule->severity));
	event_set(record, "event.module", json_string("nativemon"));
	event_set(record, "rule.id", json_string(rule->id));
	event_set(record, "rule.name", json_string(rule->name));
}

static void add_threat_fields(json_t *record, const struct policy_rule *rule)
{
	json_t *ids = json_array();
	const char *at = rule->techniques;

	while (ids && at && *at) {
		size_t n = strcspn(at, ",");

		json_array_append_new(ids, json_stringn(at, n));
		at += n + (at[n] == ',');
	}
	if (json_array_size(ids) == 0) {
		json_decref(ids);
		return;
	}
	event_set(record, "threat.framework", json_string("MITRE ATT&CK"));
	event_set(record, "threat.technique.id", ids);
}

/*
 * Escaping of the strings of one field that contains several. Once one of
 * them needs escaping, the field is built again with every string
 * escaped, because nativemon.escaped names whole fields: a reader must be
 * able to undo the escapes of each string in them.
 */
struct escaping {
	bool needed; /* some string was not valid UTF-8 */
	bool all;    /* escape every string */
};

/* Returns target text as a JSON string for a field escaped as a whole. */
static json_t *target_text(const char *text, size_t length,
			   struct escaping *escaping)
{
	escaping->needed |= event_text_needs_escape(text, length);
	if (escaping->all)
		return event_text_escaped(text, length);
	return event_text(text, length);
}

static json_t *args_array(const char *bytes, size_t length,
			  struct escaping *escaped)
{
	json_t *array = json_array();
	size_t at = 0;

	while (array && at < length) {
		size_t n = strnlen(bytes + at, length - at);

		json_array_append_new(array, target_text(bytes + at, n, escaped));
		at += n + 1;
	}
	return array;
}

/* Sets an array from NUL-separated strings, such as a command line. */
static void set_args(json_t *record, const char *path, const char *bytes,
		     size_t length)
{
	struct escaping escaping = { 0 };
	json_t *array = args_array(bytes, length, &escaping);

	if (escaping.needed) {
		json_decref(array);
		escaping.all = true;
		array = args_array(bytes, length, &escaping);
		mark_escaped(record, path);
	}
	event_set(record, path, array);
}

static json_t *time_string(const struct timespec *time)
{
	char text[32];

	event_format_time(time, text);
	return json_string(text);
}

/* Describes one image of a lineage with ECS process field names. */
static json_t *lineage_object(const struct lineage_entry *entry,
			      struct escaping *escaped)
{
	json_t *object = json_object();

	if (!object)
		return NULL;
	json_object_set_new(object, "pid", json_integer(entry->pid));
	if (entry->exe)
		json_object_set_new(object, "executable",
				    target_text(entry->exe, strlen(entry->exe),
						escaped));
	if (entry->args)
		json_object_set_new(object, "args",
				    args_array(entry->args, entry->args_length,
					       escaped));
	json_object_set_new(object, "start", time_string(&entry->start));
	return object;
}

/*
 * nativemon.ancestry lists the caller's earlier images and its ancestors,
 * nearest first; process.parent is the nearest entry of another process.
 */
static json_t *ancestry_array(const struct lineage *lineage,
			      struct escaping *escaping)
{
	json_t *ancestry = json_array();

	for (size_t i = 0; ancestry && i < lineage->count; i++)
		json_array_append_new(ancestry,
				      lineage_object(&lineage->entries[i],
						     escaping));
	return ancestry;
}

/* Returns the nearest entry of another process: the parent. */
static const struct lineage_entry *find_parent(const struct process *process)
{
	for (size_t i = 0; i < process->lineage.count; i++) {
		if (process->lineage.entries[i].pid != process->tgid)
			return &process->lineage.entries[i];
	}
	return NULL;
}

/*
 * nativemon.ancestry lists the caller's earlier images and its ancestors,
 * nearest first; process.parent is the nearest entry of another process.
 */
static bool add_lineage_fields(json_t *record, const struct process *process)
{
	const struct lineage_entry *parent = find_parent(process);
	struct escaping escaping = { 0 }, parent_escaping = { 0 };
	json_t *ancestry, *object;

	if (process->lineage.count == 0)
		return false;
	ancestry = ancestry_array(&process->lineage, &escaping);
	if (escaping.needed) {
		json_decref(ancestry);
		escaping.all = true;
		ancestry = ancestry_array(&process->lineage, &escaping);
		mark_escaped(record, "nativemon.ancestry");
	}
	event_set(record, "nativemon.ancestry", ancestry);
	if (!parent)
		return false;
	object = lineage_object(parent, &parent_escaping);
	if (parent_escaping.needed) {
		json_decref(object);
		parent_escaping.all = true;
		object = lineage_object(parent, &parent_escaping);
		mark_escaped(record, "process.parent");
	}
	event_set(record, "process.parent", object);
	return true;
}

/* The parent from /proc, when the lineage has none: nativemon itself. */
static void add_parent_fields(json_t *record, const struct call *call)
{
	if (!call->has_ids || call->ids.ppid <= 0)
		return;
	event_set(record, "process.parent.pid", json_integer(call->ids.ppid));
	if (call->has_parent_exe)
		set_text(record, "process.parent.executable", call->parent_exe);
}

/*
 * Returns the name of uid, remembering the last one looked up: the
 * lookup reads /etc/passwd each time, which cost ten microseconds per
 * record, and the records of one run mostly have one user.
 * NOTE: a user renamed while nativemon runs keeps the old name here.
 */
static const char *user_name(uid_t uid)
{
	static bool cached;
	static uid_t cached_uid;
	static char cached_name[256];
	struct passwd entry, *found = NULL;
	char buffer[1024];

	if (cached && cached_uid == uid)
		return cached_name[0] ? cached_name : NULL;
	if (getpwuid_r(uid, &entry, buffer, sizeof(buffer), &found) != 0)
		return NULL;
	cached = true;
	cached_uid = uid;
	cached_name[0] = '\0';
	if (found && strlen(found->pw_name) < sizeof(cached_name))
		strcpy(cached_name, found->pw_name);
	return cached_name[0] ? cached_name : NULL;
}

static void add_user_fields(json_t *record, const struct call *call)
{
	const char *name;

	if (!call->has_ids)
		return;
	event_set(record, "user.id",
		  json_sprintf("%u", (unsigned int)call->ids.uid));
	name = user_name(call->ids.uid);
	if (name)
		set_text(record, "user.name", name);
}

static void add_process_fields(json_t *record, const struct call *call,
			       const struct finding *finding)
{
	struct process *process = call->process;
	const char *cmdline;
	size_t length;

	event_set(record, "process.pid", json_integer(call->tgid));
	event_set(record, "process.thread.id", json_integer(call->tid));
	if (call->session)
		event_set(record, "nativemon.session",
			  json_integer((json_int_t)call->session));
	if (call->has_cwd)
		set_text(record, "process.working_directory", call->cwd);
	if (!add_lineage_fields(record, process))
		add_parent_fields(record, call);
	cmdline = process_cmdline(process, &length);
	if (finding->event == EVENT_EXEC || finding->event == EVENT_FILELESS_EXEC) {
		/* The process is about to become the program it executes. */
		set_text(record, "process.executable", finding->file.path);
		if (finding->args.bytes) {
			set_args(record, "process.args", finding->args.bytes,
				 finding->args.length);
			event_set(record, "process.args_count",
				  json_integer((json_int_t)finding->args.total));
			if (finding->args.truncated)
				event_set(record, "nativemon.args_truncated",
					  json_true());
		}
		if (!finding->after_exec)
			set_text(record, "process.previous.executable",
				 process->exe_path);
		return;
	}
	set_text(record, "process.executable", process->exe_path);
	if (cmdline)
		set_args(record, "process.args", cmdline, length);
}

static void add_syscall_fields(json_t *record, const struct call *call)
{
	json_t *args = json_array();

	if (call->name)
		event_set(record, "nativemon.syscall.name",
			  json_string(call->name));
	event_set(record, "nativemon.syscall.nr", json_integer(call->nr));
	event_set(record, "nativemon.syscall.arch",
		  json_string(abi_name(call->abi)));
	for (size_t i = 0; args && i < 6; i++)
		json_array_append_new(args,
				      json_sprintf("0x%" PRIx64, call->args[i]));
	event_set(record, "nativemon.syscall.args", args);
	set_hex(record, "nativemon.origin.address", call->address);
	event_set(record, "nativemon.origin.kind",
		  json_string(origin_kind_name(call->origin)));
	if (call->has_module) {
		set_text(record, "nativemon.origin.path", call->module);
		set_hex(record, "nativemon.origin.offset", call->module_offset);
	}
}

static json_t *hex_string(const uint8_t *bytes, size_t size)
{
	char text[2 * MODULE_SHA256_SIZE + 1];
	json_t *value;
	char *hex;

	if (size * 2 + 1 > sizeof(text))
		hex = malloc(size * 2 + 1);
	else
		hex = text;
	if (!hex)
		return NULL;
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < size; i++) {
		hex[2 * i] = digits[bytes[i] >> 4];
		hex[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	hex[2 * size] = '\0';
	value = json_string(hex);
	if (hex != text)
		free(hex);
	return value;
}

static json_t *build_id_string(const struct module *module)
{
	const uint8_t *build_id;
	size_t size = module_build_id(module, &build_id);

	return size > 0 ? hex_string(build_id, size) : NULL;
}

static json_t *frame_object(const struct frame *frame,
			    struct escaping *escaped)
{
	json_t *object = json_object();
	char text[24];

	if (!object)
		return NULL;
	snprintf(text, sizeof(text), "0x%" PRIx64, frame->address);
	json_object_set_new(object, "address", json_string(text));
	if (frame->module) {
		const char *path = module_path(frame->module);

		json_object_set_new(object, "module",
				    target_text(path, strlen(path), escaped));
		json_object_set_new(object, "build_id",
				    build_id_string(frame->module));
	}
	if (frame->has_offset) {
		snprintf(text, sizeof(text), "0x%" PRIx64, frame->offset);
		json_object_set_new(object, "offset", json_string(text));
	}
	if (frame->symbol)
		json_object_set_new(object, "symbol",
				    json_sprintf("%s+0x%" PRIx64, frame->symbol,
						 frame->symbol_offset));
	json_object_set_new(object, "origin",
			    json_string(origin_kind_name(frame->origin)));
	json_object_set_new(object, "method",
			    json_string(unwind_frame_method_name(frame->method)));
	return object;
}

/*
 * The code that asked for the syscall. Its file is hashed once per file
 * and only for alerts, because hashing a large library takes milliseconds.
 */
static void add_caller_fields(json_t *record, const struct call *call,
			      bool alert)
{
	struct module *module = call->caller->module;
	uint8_t digest[MODULE_SHA256_SIZE];
	char text[24];

	snprintf(text, sizeof(text), "0x%" PRIx64, call->caller->address);
	event_set(record, "nativemon.caller.address", json_string(text));
	event_set(record, "nativemon.caller.origin",
		  json_string(origin_kind_name(call->caller->origin)));
	if (!module)
		return;
	set_text(record, "nativemon.caller.path", module_path(module));
	event_set(record, "nativemon.caller.build_id",
		  build_id_string(module));
	if (alert && module_sha256(module, digest) == 0)
		event_set(record, "nativemon.caller.sha256",
			  hex_string(digest, sizeof(digest)));
}

/*
 * 64 slots hold the frames of a few recent stacks. A repeated alert from
 * one call site mostly repeats its outer frames.
 */
#define SHARED_FRAMES 64

struct shared_frame {
	struct frame frame; /* holds a reference to frame.module */
	json_t *object;
};

struct record_frames {
	struct shared_frame slots[SHARED_FRAMES];
};

struct record_frames *record_frames_new(void)
{
	return calloc(1, sizeof(struct record_frames));
}

static void release_slot(struct shared_frame *slot)
{
	json_decref(slot->object);
	module_unref(slot->frame.module);
	memset(slot, 0, sizeof(*slot));
}

void record_frames_free(struct record_frames *shared)
{
	if (!shared)
		return;
	for (size_t i = 0; i < SHARED_FRAMES; i++)
		release_slot(&shared->slots[i]);
	free(shared);
}

/*
 * Returns true if both frames yield the same object. The slot's module
 * reference keeps the module, and the symbol name it owns, from being
 * freed, so equal pointers mean equal text.
 */
static bool same_frame(const struct frame *a, const struct frame *b)
{
	return a->address == b->address && a->module == b->module &&
	       a->has_offset == b->has_offset &&
	       (!a->has_offset || a->offset == b->offset) &&
	       a->symbol == b->symbol && a->symbol_offset == b->symbol_offset &&
	       a->origin == b->origin && a->method == b->method;
}

static struct shared_frame *slot_of(struct record_frames *shared,
				    const struct frame *frame)
{
	uint64_t hash = frame->address ^ (frame->address >> 12) ^
			(uint64_t)frame->method;

	return &shared->slots[hash % SHARED_FRAMES];
}

/*
 * Returns the object of frame, shared with earlier records that had the
 * same frame. Objects are never changed once built, and jansson counts
 * references atomically, so the writer thread may drop its records'
 * references while this thread shares the objects.
 */
static json_t *shared_frame_object(struct record_frames *shared,
				   const struct frame *frame,
				   struct escaping *escaping)
{
	struct shared_frame *slot = slot_of(shared, frame);
	struct escaping own = { 0 };
	json_t *object;

	/* A slot would keep alive a module that the cache let go. */
	if (frame->module && !module_is_cached(frame->module))
		return frame_object(frame, escaping);
	if (slot->object && same_frame(&slot->frame, frame))
		return json_incref(slot->object);
	object = frame_object(frame, &own);
	escaping->needed |= own.needed;
	/* An object with text that needs escaping is built again anyway. */
	if (!object || own.needed)
		return object;
	release_slot(slot);
	slot->frame = *frame;
	if (frame->module)
		module_ref(frame->module);
	slot->object = json_incref(object);
	return object;
}

static json_t *frames_array(const struct stack *stack,
			    struct escaping *escaping,
			    struct record_frames *shared)
{
	json_t *frames = json_array();

	for (size_t i = 0; frames && i < stack->count; i++) {
		const struct frame *frame = &stack->frames[i];
		json_t *object;

		if (shared && !escaping->all)
			object = shared_frame_object(shared, frame, escaping);
		else
			object = frame_object(frame, escaping);
		json_array_append_new(frames, object);
	}
	return frames;
}

/* Alerts carry the whole stack; telemetry its summary and caller. */
static void add_stack_fields(json_t *record, const struct call *call,
			     bool alert, struct record_frames *shared)
{
	char summary[1024];
	json_t *frames;
	struct escaping escaping = { 0 };

	if (!call->has_stack)
		return;
	if (unwind_stack_summary(&call->stack, summary, sizeof(summary)) >= 0)
		set_text(record, "nativemon.stack_summary", summary);
	event_set(record, "nativemon.stack_status",
		  json_string(unwind_stack_status_name(call->stack.status)));
	if (call->caller)
		add_caller_fields(record, call, alert);
	if (!alert)
		return;
	frames = frames_array(&call->stack, &escaping, shared);
	if (escaping.needed) {
		json_decref(frames);
		escaping.all = true;
		frames = frames_array(&call->stack, &escaping, NULL);
		mark_escaped(record, "nativemon.stack");
	}
	event_set(record, "nativemon.stack", frames);
}

static void add_file_fields(json_t *record, const struct finding *finding)
{
	const struct target_file *file = &finding->file;
	const char *prefix = finding->event == EVENT_MODULE_LOAD ? "dll.path"
								 : "file.path";

	if (!finding->has_file)
		return;
	if (file->path_unknown)
		event_set(record, "nativemon.file.path_unknown", json_true());
	else
		set_text(record, prefix, file->path);
	event_set(record, "file.device",
		  json_sprintf("%02x:%02x", major(file->st.st_dev),
			       minor(file->st.st_dev)));
	event_set(record, "file.inode",
		  json_sprintf("%" PRIu64, (uint64_t)file->st.st_ino));
	event_set(record, "nativemon.file.kind",
		  json_string(origin_kind_name(file->kind)));
}

/* The dlopen(3) mode bits, by name; RTLD_LOCAL is 0 and goes unnamed. */
static json_t *load_flags(int flags)
{
	static const struct {
		int bit;
		const char *name;
	} names[] = {
		{ RTLD_LAZY, "RTLD_LAZY" },	    { RTLD_NOW, "RTLD_NOW" },
		{ RTLD_NOLOAD, "RTLD_NOLOAD" },	    { RTLD_DEEPBIND, "RTLD_DEEPBIND" },
		{ RTLD_GLOBAL, "RTLD_GLOBAL" },	    { RTLD_NODELETE, "RTLD_NODELETE" },
	};
	json_t *list = json_array();
	int rest = flags;

	for (size_t i = 0; list && i < sizeof(names) / sizeof(names[0]); i++) {
		if ((flags & names[i].bit) != names[i].bit)
			continue;
		json_array_append_new(list, json_string(names[i].name));
		rest &= ~names[i].bit;
	}
	if (list && rest)
		json_array_append_new(list, json_sprintf("0x%x", rest));
	return list;
}

/* dlmopen's namespace: the two named ones, or the number glibc gave. */
static json_t *load_namespace(int64_t id)
{
	if (id == NATIVEMON_NAMESPACE_CALLER)
		return json_string("caller");
	if (id == LM_ID_BASE)
		return json_string("base");
	if (id == LM_ID_NEWLM)
		return json_string("new");
	return json_sprintf("%" PRId64, id);
}

/*
 * How a module arrived. A manual map names the code that mapped the file,
 * found by unwinding when the rule alerts.
 */
static void add_load_fields(json_t *record, const struct call *call,
			    const struct finding *finding)
{
	const struct load_request *load = finding->load;
	const char *caller = finding->load_caller;
	const struct module_digest *digest =
		finding->has_digest ? &finding->digest : NULL;

	if (finding->event != EVENT_MODULE_LOAD)
		return;
	event_set(record, "nativemon.load.source",
		  json_string(load_source_name(finding->load_source)));
	if (!caller && finding->load_source == LOAD_SOURCE_MANUAL_MAP &&
	    call->caller && call->caller->module)
		caller = module_path(call->caller->module);
	else if (!caller && finding->load_source == LOAD_SOURCE_MANUAL_MAP &&
		 call->has_module)
		caller = call->module;
	set_text(record, "nativemon.load.caller", caller);
	if (load) {
		set_text(record, "nativemon.load.requested", load->requested);
		event_set(record, "nativemon.load.flags",
			  load_flags(load->flags));
		event_set(record, "nativemon.load.namespace",
			  load_namespace(load->namespace_id));
	}
	if (!digest)
		return;
	event_set(record, "dll.hash.sha256",
		  hex_string(digest->sha256, sizeof(digest->sha256)));
	if (digest->build_id_size > 0)
		event_set(record, "nativemon.load.build_id",
			  hex_string(digest->build_id,
				     digest->build_id_size));
}

/* Formats a human line; a long path makes it shorter, never wrong. */
static void format_summary(struct finding *finding, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void format_summary(struct finding *finding, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(finding->summary, sizeof(finding->summary), fmt, args);
	va_end(args);
}

/* The first word of a summary: what the rule did, as the user sees it. */
static const char *summary_action(const struct call *call,
				  const struct finding *finding)
{
	bool monitor = call->verdict == VERDICT_WOULD_DENY ||
		       call->verdict == VERDICT_WOULD_KILL;

	switch (finding->rule->action) {
	case POLICY_DENY:
		return monitor ? "would-deny" : "deny";
	case POLICY_KILL:
		return monitor ? "would-kill" : "kill";
	default:
		return policy_action_name(finding->rule->action);
	}
}

static void write_summary(const struct call *call, struct finding *finding)
{
	const char *action = summary_action(call, finding);
	const char *event = policy_event_name(finding->event);
	const char *program = base_name(call->process->exe_path);
	const char *name = call->name ? call->name : "?";

	if (!is_alert(finding->rule))
		return;
	if (finding->has_file) {
		format_summary(finding, "%s %s %s (pid %d %s)", action, event,
			       finding->file.path_unknown
				       ? "(a path longer than 4096 bytes)"
				       : finding->file.path,
			       (int)call->tgid, program);
	} else if (call->has_module) {
		format_summary(finding,
			       "%s %s %s%s%s%s from %s+0x%" PRIx64 " (pid %d %s)",
			       action, event, name,
			       call->abi != ABI_X86_64 ? " (" : "",
			       call->abi != ABI_X86_64 ? abi_name(call->abi) : "",
			       call->abi != ABI_X86_64 ? ")" : "",
			       call->module, call->module_offset,
			       (int)call->tgid, program);
	} else {
		format_summary(finding,
			       "%s %s %s from %s memory 0x%" PRIx64
			       " (pid %d %s)",
			       action, event, name,
			       origin_kind_name(call->origin), call->address,
			       (int)call->tgid, program);
	}
}

void record_fold_key(const struct call *call, struct finding *finding)
{
	/* Each exec is reported on its own; other repeats may fold. */
	if (finding->event == EVENT_EXEC || finding->event == EVENT_FILELESS_EXEC)
		return;
	/*
	 * The file's identity is part of the key: a library replaced or
	 * rewritten at the same path is other content, with another digest.
	 */
	const struct stat *st = &finding->file.st;
	int n = snprintf(finding->fold_key, sizeof(finding->fold_key),
			 "%s|%d|%d|%llu|%d|%d|%" PRIx64 "|%s|%llu|%llu|%lld|%lld.%ld",
			 finding->rule->id, (int)call->verdict, (int)call->tgid,
			 (unsigned long long)call->process->start_time,
			 (int)call->abi, call->nr, call->address,
			 finding->has_file ? finding->file.path : "",
			 (unsigned long long)st->st_dev,
			 (unsigned long long)st->st_ino, (long long)st->st_size,
			 (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);

	/* A cut key could fold two different events: do not fold then. */
	if (n < 0 || (size_t)n >= sizeof(finding->fold_key))
		finding->fold_key[0] = '\0';
}

static void read_parent_exe(struct call *call, const struct proc_table *table)
{
	char path[64];

	/* The command that nativemon runs is its child, alert after alert. */
	if (call->ids.ppid == table->supervisor_pid && table->supervisor_exe) {
		call->has_parent_exe =
			strlcpy(call->parent_exe, table->supervisor_exe,
				sizeof(call->parent_exe)) <
			sizeof(call->parent_exe);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)call->ids.ppid);
	call->has_parent_exe = procfs_readlink(path, call->parent_exe,
					       sizeof(call->parent_exe)) >= 0;
}

void record_read_facts(struct call *call, const struct proc_table *table)
{
	char path[64];
	size_t length;

	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)call->tid);
	call->has_cwd = procfs_readlink(path, call->cwd, sizeof(call->cwd)) >= 0;
	if (!find_parent(call->process) && call->has_ids && call->ids.ppid > 0)
		read_parent_exe(call, table);
	/* The command line is read once per image, while it is the caller's. */
	process_cmdline(call->process, &length);
}

void record_build(const struct call *call, struct finding *finding,
		  struct record_frames *shared)
{
	const struct policy_rule *rule = finding->rule;
	json_t *record = json_object();

	if (!record)
		return;
	add_event_fields(record, finding);
	add_threat_fields(record, rule);
	add_process_fields(record, call, finding);
	add_user_fields(record, call);
	/* The call that revealed a new image is not the exec call itself. */
	if (finding->after_exec)
		event_set(record, "event.reason",
			  json_string("found in /proc/PID/exe after the exec"));
	else
		add_syscall_fields(record, call);
	if (!finding->after_exec)
		add_stack_fields(record, call, is_alert(rule), shared);
	add_file_fields(record, finding);
	add_load_fields(record, call, finding);
	if (finding->static_program)
		event_set(record, "nativemon.exec.static", json_true());
	event_set(record, "nativemon.verdict",
		  json_string(record_verdict_name(call->verdict)));
	if (call->verdict == VERDICT_DENY && strerrorname_np(call->deny_errno))
		event_set(record, "nativemon.errno",
			  json_string(strerrorname_np(call->deny_errno)));
	finding->record = record;
	write_summary(call, finding);
}
