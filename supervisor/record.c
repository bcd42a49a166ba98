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

/*
 * The contents of a record, copied while the call is handled. The writer
 * thread builds the record later, when the caller may have exec'd or
 * exited and the monitor handles another notification. The strings are
 * the draft's own, and each frame of the stack holds a reference to its
 * module, whose path, build-id and symbols never change once read.
 */
struct record_draft {
	struct event_draft base;
	struct timespec time; /* CLOCK_REALTIME, when the call was judged */

	/* The call */
	unsigned long session;
	pid_t tid;
	pid_t tgid;
	int nr;
	const char *name; /* the ABI table's; NULL for an unknown number */
	enum abi abi;
	uint64_t syscall_args[6];
	uint64_t address;
	enum origin_kind origin;
	char *module; /* the file that contains address; NULL outside files */
	uint64_t module_offset;
	enum call_verdict verdict;
	int deny_errno;

	/* The caller */
	bool has_ids;
	struct procfs_ids ids;
	char *cwd;	  /* NULL when unread */
	char *parent_exe; /* of a parent outside the lineage; or NULL */
	char *exe;	  /* of the image that made the call; or NULL */
	char *cmdline;	  /* NUL-separated; NULL when unread */
	size_t cmdline_length;
	struct lineage lineage;
	struct stack *stack;	    /* NULL without a stack */
	const struct frame *caller; /* in stack; NULL when unknown */
	bool has_caller_sha256;
	uint8_t caller_sha256[MODULE_SHA256_SIZE];

	/* The finding */
	enum policy_event event;
	const struct policy_rule *rule; /* the policy outlives the sink */
	bool after_exec;
	bool static_program;
	bool has_file;
	char *file_path; /* NULL when longer than TARGET_PATH_MAX */
	dev_t file_device;
	ino_t file_inode;
	enum origin_kind file_kind;
	struct target_args args; /* the new argv of an exec */
	enum load_source load_source;
	char *load_caller; /* the file of the code that requested it; or NULL */
	bool has_load;	   /* the shim reported the request below */
	int load_flags;
	int64_t load_namespace;
	char *load_requested;
	bool has_digest;
	struct module_digest digest;
};

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

static void add_event_fields(json_t *record, const struct record_draft *draft)
{
	const struct policy_rule *rule = draft->rule;
	bool alert = is_alert(rule);
	const char *category =
		draft->event == EVENT_MODULE_LOAD ? "library" : "process";
	char time[32];

	event_format_time(&draft->time, time);
	event_set(record, "@timestamp", json_string(time));
	event_set(record, "event.kind", json_string(alert ? "alert" : "event"));
	event_set(record, "event.action",
		  json_string(policy_event_name(draft->event)));
	event_set(record, "event.category", json_pack("[s]", category));
	event_set(record, "event.type",
		  json_pack("[s]",
			    draft->event == EVENT_EXEC ? "start" : "info"));
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

/* Returns the nearest entry of a process other than tgid: the parent. */
static const struct lineage_entry *find_parent(const struct lineage *lineage,
					       pid_t tgid)
{
	for (size_t i = 0; i < lineage->count; i++) {
		if (lineage->entries[i].pid != tgid)
			return &lineage->entries[i];
	}
	return NULL;
}

/*
 * nativemon.ancestry lists the caller's earlier images and its ancestors,
 * nearest first; process.parent is the nearest entry of another process.
 */
static bool add_lineage_fields(json_t *record, const struct record_draft *draft)
{
	const struct lineage *lineage = &draft->lineage;
	const struct lineage_entry *parent = find_parent(lineage, draft->tgid);
	struct escaping escaping = { 0 }, parent_escaping = { 0 };
	json_t *ancestry, *object;

	if (lineage->count == 0)
		return false;
	ancestry = ancestry_array(lineage, &escaping);
	if (escaping.needed) {
		json_decref(ancestry);
		escaping.all = true;
		ancestry = ancestry_array(lineage, &escaping);
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
static void add_parent_fields(json_t *record, const struct record_draft *draft)
{
	if (!draft->has_ids || draft->ids.ppid <= 0)
		return;
	event_set(record, "process.parent.pid", json_integer(draft->ids.ppid));
	set_text(record, "process.parent.executable", draft->parent_exe);
}

/*
 * Returns the name of uid, remembering the last one looked up: the
 * lookup reads /etc/passwd each time, which cost ten microseconds per
 * record, and the records of one run mostly have one user. Only the
 * writer thread builds records, so the memory needs no lock.
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

static void add_user_fields(json_t *record, const struct record_draft *draft)
{
	const char *name;

	if (!draft->has_ids)
		return;
	event_set(record, "user.id",
		  json_sprintf("%u", (unsigned int)draft->ids.uid));
	name = user_name(draft->ids.uid);
	if (name)
		set_text(record, "user.name", name);
}

static bool is_exec(enum policy_event event)
{
	return event == EVENT_EXEC || event == EVENT_FILELESS_EXEC;
}

static void add_process_fields(json_t *record, const struct record_draft *draft)
{
	const struct target_args *args = &draft->args;

	event_set(record, "process.pid", json_integer(draft->tgid));
	event_set(record, "process.thread.id", json_integer(draft->tid));
	if (draft->session)
		event_set(record, "nativemon.session",
			  json_integer((json_int_t)draft->session));
	set_text(record, "process.working_directory", draft->cwd);
	if (!add_lineage_fields(record, draft))
		add_parent_fields(record, draft);
	if (is_exec(draft->event)) {
		/* The process is about to become the program it executes. */
		set_text(record, "process.executable", draft->file_path);
		if (args->bytes) {
			set_args(record, "process.args", args->bytes,
				 args->length);
			event_set(record, "process.args_count",
				  json_integer((json_int_t)args->total));
			if (args->truncated)
				event_set(record, "nativemon.args_truncated",
					  json_true());
		}
		if (!draft->after_exec)
			set_text(record, "process.previous.executable",
				 draft->exe);
		return;
	}
	set_text(record, "process.executable", draft->exe);
	if (draft->cmdline)
		set_args(record, "process.args", draft->cmdline,
			 draft->cmdline_length);
}

static void add_syscall_fields(json_t *record, const struct record_draft *draft)
{
	json_t *args = json_array();

	if (draft->name)
		event_set(record, "nativemon.syscall.name",
			  json_string(draft->name));
	event_set(record, "nativemon.syscall.nr", json_integer(draft->nr));
	event_set(record, "nativemon.syscall.arch",
		  json_string(abi_name(draft->abi)));
	for (size_t i = 0; args && i < 6; i++)
		json_array_append_new(
			args,
			json_sprintf("0x%" PRIx64, draft->syscall_args[i]));
	event_set(record, "nativemon.syscall.args", args);
	set_hex(record, "nativemon.origin.address", draft->address);
	event_set(record, "nativemon.origin.kind",
		  json_string(origin_kind_name(draft->origin)));
	if (draft->module) {
		set_text(record, "nativemon.origin.path", draft->module);
		set_hex(record, "nativemon.origin.offset",
			draft->module_offset);
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

/* Adds the code that made the syscall, with the hash of its file in alerts. */
static void add_caller_fields(json_t *record, const struct record_draft *draft)
{
	const struct frame *caller = draft->caller;
	char text[24];

	snprintf(text, sizeof(text), "0x%" PRIx64, caller->address);
	event_set(record, "nativemon.caller.address", json_string(text));
	event_set(record, "nativemon.caller.origin",
		  json_string(origin_kind_name(caller->origin)));
	if (!caller->module)
		return;
	set_text(record, "nativemon.caller.path", module_path(caller->module));
	event_set(record, "nativemon.caller.build_id",
		  build_id_string(caller->module));
	if (draft->has_caller_sha256)
		event_set(record, "nativemon.caller.sha256",
			  hex_string(draft->caller_sha256,
				     sizeof(draft->caller_sha256)));
}

static json_t *frames_array(const struct stack *stack,
			    struct escaping *escaping)
{
	json_t *frames = json_array();

	for (size_t i = 0; frames && i < stack->count; i++)
		json_array_append_new(
			frames, frame_object(&stack->frames[i], escaping));
	return frames;
}

/* Alerts carry the whole stack; telemetry its summary and caller. */
static void add_stack_fields(json_t *record, const struct record_draft *draft,
			     bool alert)
{
	const struct stack *stack = draft->stack;
	char summary[1024];
	json_t *frames;
	struct escaping escaping = { 0 };

	if (!stack)
		return;
	if (unwind_stack_summary(stack, summary, sizeof(summary)) >= 0)
		set_text(record, "nativemon.stack_summary", summary);
	event_set(record, "nativemon.stack_status",
		  json_string(unwind_stack_status_name(stack->status)));
	if (draft->caller)
		add_caller_fields(record, draft);
	if (!alert)
		return;
	frames = frames_array(stack, &escaping);
	if (escaping.needed) {
		json_decref(frames);
		escaping.all = true;
		frames = frames_array(stack, &escaping);
		mark_escaped(record, "nativemon.stack");
	}
	event_set(record, "nativemon.stack", frames);
}

static void add_file_fields(json_t *record, const struct record_draft *draft)
{
	const char *prefix =
		draft->event == EVENT_MODULE_LOAD ? "dll.path" : "file.path";

	if (!draft->has_file)
		return;
	if (draft->file_path)
		set_text(record, prefix, draft->file_path);
	else
		event_set(record, "nativemon.file.path_unknown", json_true());
	event_set(record, "file.device",
		  json_sprintf("%02x:%02x", major(draft->file_device),
			       minor(draft->file_device)));
	event_set(record, "file.inode",
		  json_sprintf("%" PRIu64, (uint64_t)draft->file_inode));
	event_set(record, "nativemon.file.kind",
		  json_string(origin_kind_name(draft->file_kind)));
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

/* Adds the source of a module load, its requester and its flags. */
static void add_load_fields(json_t *record, const struct record_draft *draft)
{
	const struct module_digest *digest = &draft->digest;

	if (draft->event != EVENT_MODULE_LOAD)
		return;
	event_set(record, "nativemon.load.source",
		  json_string(load_source_name(draft->load_source)));
	set_text(record, "nativemon.load.caller", draft->load_caller);
	if (draft->has_load) {
		set_text(record, "nativemon.load.requested",
			 draft->load_requested);
		event_set(record, "nativemon.load.flags",
			  load_flags(draft->load_flags));
		event_set(record, "nativemon.load.namespace",
			  load_namespace(draft->load_namespace));
	}
	if (!draft->has_digest)
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
	 * So is the identity of the file that contains the syscall
	 * instruction, because a library replaced by another build can be
	 * loaded again at the same address.
	 * NOTE: a library rewritten in place keeps its inode, so its repeats
	 * within the window still fold into the record of the old content.
	 */
	const struct stat *st = &finding->file.st;
	int n = snprintf(finding->fold_key, sizeof(finding->fold_key),
			 "%s|%d|%d|%llu|%d|%d|%" PRIx64
			 "|%s|%llu|%llu|%lld|%lld.%ld|%llu|%" PRIu64,
			 finding->rule->id, (int)call->verdict, (int)call->tgid,
			 (unsigned long long)call->process->start_time,
			 (int)call->abi, call->nr, call->address,
			 finding->has_file ? finding->file.path : "",
			 (unsigned long long)st->st_dev,
			 (unsigned long long)st->st_ino, (long long)st->st_size,
			 (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			 (unsigned long long)call->module_device,
			 call->module_inode);

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
	if (!find_parent(&call->process->lineage, call->tgid) &&
	    call->has_ids && call->ids.ppid > 0)
		read_parent_exe(call, table);
	/* The command line is read once per image, while it is the caller's. */
	process_cmdline(call->process, &length);
}

/* Draft */

static json_t *build_record(const struct event_draft *base)
{
	const struct record_draft *draft = (const struct record_draft *)base;
	const struct policy_rule *rule = draft->rule;
	json_t *record = json_object();

	if (!record)
		return NULL;
	add_event_fields(record, draft);
	add_threat_fields(record, rule);
	add_process_fields(record, draft);
	add_user_fields(record, draft);
	/* The call that revealed a new image is not the exec call itself. */
	if (draft->after_exec) {
		event_set(record, "event.reason",
			  json_string("found in /proc/PID/exe after the exec"));
	} else {
		add_syscall_fields(record, draft);
		add_stack_fields(record, draft, is_alert(rule));
	}
	add_file_fields(record, draft);
	add_load_fields(record, draft);
	if (draft->static_program)
		event_set(record, "nativemon.exec.static", json_true());
	event_set(record, "nativemon.verdict",
		  json_string(record_verdict_name(draft->verdict)));
	if (draft->verdict == VERDICT_DENY &&
	    strerrorname_np(draft->deny_errno))
		event_set(record, "nativemon.errno",
			  json_string(strerrorname_np(draft->deny_errno)));
	return record;
}

static void free_draft(struct event_draft *base)
{
	struct record_draft *draft = (struct record_draft *)base;

	free(draft->module);
	free(draft->cwd);
	free(draft->parent_exe);
	free(draft->exe);
	free(draft->cmdline);
	lineage_fini(&draft->lineage);
	if (draft->stack)
		unwind_stack_fini(draft->stack);
	free(draft->stack);
	free(draft->file_path);
	target_args_fini(&draft->args);
	free(draft->load_caller);
	free(draft->load_requested);
	free(draft);
}

/* Copies text, if any, into *copy. Returns false without memory. */
static bool copy_text(char **copy, const char *text)
{
	*copy = text ? strdup(text) : NULL;
	return !text || *copy;
}

/* Copies bytes, if any, even none, into *copy. Returns false without memory. */
static bool copy_bytes(char **copy, const char *bytes, size_t length)
{
	*copy = NULL;
	if (!bytes)
		return true;
	*copy = malloc(length > 0 ? length : 1);
	if (*copy)
		memcpy(*copy, bytes, length);
	return *copy != NULL;
}

static void copy_call(struct record_draft *draft, const struct call *call)
{
	draft->session = call->session;
	draft->tid = call->tid;
	draft->tgid = call->tgid;
	draft->nr = call->nr;
	draft->name = call->name;
	draft->abi = call->abi;
	memcpy(draft->syscall_args, call->args, sizeof(draft->syscall_args));
	draft->address = call->address;
	draft->origin = call->origin;
	draft->module_offset = call->module_offset;
	draft->verdict = call->verdict;
	draft->deny_errno = call->deny_errno;
	draft->has_ids = call->has_ids;
	draft->ids = call->ids;
}

/*
 * Copies the stack, sharing its modules with the draft. Alerts also carry
 * the hash of the caller's file. Hashing stores the hash in the module, so
 * it runs here and not on the writer thread, once per file.
 */
static bool copy_stack(struct record_draft *draft, const struct call *call,
		       bool alert)
{
	struct module *module;
	struct stack *stack;

	if (!call->has_stack)
		return true;
	stack = malloc(sizeof(*stack));
	if (!stack)
		return false;
	*stack = call->stack;
	for (size_t i = 0; i < stack->count; i++) {
		if (stack->frames[i].module)
			module_ref(stack->frames[i].module);
	}
	draft->stack = stack;
	if (!call->caller)
		return true;
	draft->caller = &stack->frames[call->caller - call->stack.frames];
	module = call->caller->module;
	if (alert && module)
		draft->has_caller_sha256 =
			module_sha256(module, draft->caller_sha256) == 0;
	return true;
}

/* Copies what the caller is: its image, arguments, place and lineage. */
static bool copy_caller(struct record_draft *draft, const struct call *call)
{
	struct process *process = call->process;
	size_t length = 0;
	const char *cmdline = process_cmdline(process, &length);

	if (!copy_bytes(&draft->cmdline, cmdline, length))
		return false;
	draft->cmdline_length = cmdline ? length : 0;
	return copy_text(&draft->cwd, call->has_cwd ? call->cwd : NULL) &&
	       copy_text(&draft->parent_exe,
			 call->has_parent_exe ? call->parent_exe : NULL) &&
	       copy_text(&draft->exe, process->exe_path) &&
	       lineage_append(&draft->lineage, &process->lineage) == 0;
}

/*
 * Returns the file of the code that requested a module load. A manual map
 * names the code that mapped the file, found by unwinding when the rule
 * alerts.
 */
static const char *load_caller(const struct call *call,
			       const struct finding *finding)
{
	if (finding->load_caller ||
	    finding->load_source != LOAD_SOURCE_MANUAL_MAP)
		return finding->load_caller;
	if (call->caller && call->caller->module)
		return module_path(call->caller->module);
	return call->has_module ? call->module : NULL;
}

/* Copies the finding, taking over the argv of an exec. */
static bool copy_finding(struct record_draft *draft, const struct call *call,
			 struct finding *finding)
{
	const struct target_file *file = &finding->file;

	draft->event = finding->event;
	draft->rule = finding->rule;
	draft->after_exec = finding->after_exec;
	draft->static_program = finding->static_program;
	draft->has_file = finding->has_file;
	draft->file_device = file->st.st_dev;
	draft->file_inode = file->st.st_ino;
	draft->file_kind = file->kind;
	draft->args = finding->args;
	memset(&finding->args, 0, sizeof(finding->args));
	draft->load_source = finding->load_source;
	draft->has_digest = finding->has_digest;
	draft->digest = finding->digest;
	if (finding->load) {
		draft->has_load = true;
		draft->load_flags = finding->load->flags;
		draft->load_namespace = finding->load->namespace_id;
		if (!copy_text(&draft->load_requested,
			       finding->load->requested))
			return false;
	}
	if (finding->event == EVENT_MODULE_LOAD &&
	    !copy_text(&draft->load_caller, load_caller(call, finding)))
		return false;
	if (!finding->has_file || file->path_unknown)
		return true;
	return copy_text(&draft->file_path, file->path);
}

struct event_draft *record_draft_new(const struct call *call,
				     struct finding *finding)
{
	struct record_draft *draft = calloc(1, sizeof(*draft));

	write_summary(call, finding);
	if (!draft)
		return NULL;
	draft->base.build = build_record;
	draft->base.free = free_draft;
	clock_gettime(CLOCK_REALTIME, &draft->time);
	copy_call(draft, call);
	if (!copy_stack(draft, call, is_alert(finding->rule)) ||
	    !copy_text(&draft->module,
		       call->has_module ? call->module : NULL) ||
	    !copy_caller(draft, call) || !copy_finding(draft, call, finding)) {
		free_draft(&draft->base);
		return NULL;
	}
	return &draft->base;
}
