/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The remote unwinder. libunwind steps through frames that have CFI, with
 * accessors that serve .eh_frame from the module cache's validated copies
 * and everything else from a bounded view of target memory. libunwind
 * never opens a file or reads the target's dynamic unwind registrations.
 * Where CFI ends, frame pointers and then a stack scan take over, and every
 * return address they find must follow a call instruction in executable
 * memory.
 */
#include "unwind.h"

#include <errno.h>
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callsite.h"
#include "memview.h"
#include "procfs.h"

/*
 * libunwind 1.6 exports its .eh_frame_hdr table search for remote address
 * spaces, and libunwind-ptrace calls it across the library boundary, but
 * only its internal include/dwarf.h declares it. libunwind 1.7 made
 * unw_get_proc_info_in_range() public for the same job. The prototype is
 * the one of libunwind 1.6.2.
 */
#define search_unwind_table UNW_OBJ(dwarf_search_unwind_table)
extern int search_unwind_table(unw_addr_space_t as, unw_word_t ip,
			       unw_dyn_info_t *di, unw_proc_info_t *pi,
			       int need_unwind_info, void *arg);

#define DEFAULT_BYTES (64u << 10)
#define DEFAULT_READS 256
#define DEFAULT_LOOKUPS 64
#define DEFAULT_LOOKUP_MISSES 8
#define DEFAULT_TIME_NS (10ull * 1000 * 1000)
#define DEFAULT_RBP_ATTEMPTS 8

/*
 * Accessor calls per unwind. libunwind loops over CFA programs and DWARF
 * expressions that a target writes into its own .eh_frame, and a backward
 * DW_OP_skip loops forever. Every pass reads through an accessor, so this
 * cap and the clock checked there end such loops.
 */
#define ACCESSES_MAX 65536
#define CLOCK_CHECK_INTERVAL 256

/*
 * How far above the stack pointer candidates for a lost rbp are sought,
 * and how many are kept: a frame whose locals span more than this cannot
 * get its rbp back and is left to the scan.
 */
#define RBP_WINDOW (16u << 10)
#define RBP_CANDIDATES_MAX 16
/* How far a scan looks past its first return address for a better one. */
#define SCAN_LOOKAHEAD (1u << 10)

/* Mappings remembered during one unwind. */
#define REGIONS_MAX 32
/* Pages that a lookup found unmapped during one unwind. */
#define HOLES_MAX 32

/*
 * x86-64 user addresses are below 2^47. The low end is vm.mmap_min_addr,
 * read once, and this when it cannot be read: no page below it can hold
 * code.
 */
#define USER_ADDRESS_MIN 0x1000ull
#define USER_ADDRESS_END 0x800000000000ull
#define PAGE_MASK_LOW 0xfffull

/* A mapping of the target as the lookup callback returned it. */
struct region {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	unsigned int perms;
	enum origin_kind origin;
	struct mapping copy; /* with path pointing at this region's path */
	char *path;
	struct module *module;
	bool module_tried;
	uint64_t bias;
};

struct registers {
	uint64_t ip;
	uint64_t sp;
	uint64_t bp;
	bool bp_known;
};

/* The state of one unwind, reset by unwind_thread(). */
struct context {
	struct unwinder *unwinder;
	const struct unwind_target *target;
	struct region regions[REGIONS_MAX];
	size_t region_count;
	size_t next_victim;
	size_t lookups;
	int lookup_error;
	uint64_t holes[HOLES_MAX];
	size_t hole_count;
	uint64_t start_ns;
	uint64_t deadline_ns;
	size_t accesses;
	bool over_limit; /* time, lookups or accesses ran out */
	uint64_t stack_start;
	uint64_t stack_end;
	/* libunwind's view of the registers of the frame it starts from. */
	struct registers registers;
	bool rbp_requested;
	bool no_cfi;
	bool to_caller; /* stop at the caller frame */
	/* Frames whose address is where execution resumes. */
	bool exact[STACK_FRAMES_MAX];
};

struct unwinder {
	struct module_cache *cache;
	struct unwind_limits limits;
	uint64_t address_min;
	unw_addr_space_t address_space;
	struct context context;
	struct memview view;
};

/* The frame where the walk is. */
struct walk {
	uint64_t ip;
	uint64_t sp;
	uint64_t bp;
	bool bp_known;
	/* ip is where execution resumes, not a return address. */
	bool exact;
	/* The next return address need not follow a call. */
	bool after_signal;
	unw_cursor_t cursor;
	bool cursor_valid;
};

enum step_result {
	STEP_FRAME,
	STEP_END,   /* the outermost frame was reached */
	STEP_NONE,  /* no method found a further frame */
	STEP_LIMIT, /* a bound ran out */
};

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/*
 * The deadline counts the supervisor thread's CPU time: time the thread
 * waits for a CPU on a loaded machine would otherwise cut stacks short at
 * random, while the bound is about the work a hostile stack can cause.
 */
static uint64_t cpu_now_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/*
 * A thread's CPU time never grows faster than wall time, so the CPU clock,
 * which costs a syscall where the wall clock does not, is read only once
 * the wall-clock time since the start exceeds the bound.
 */
static bool is_past_deadline(struct context *context)
{
	if (context->over_limit)
		return true;
	if (now_ns() - context->start_ns <= context->unwinder->limits.time_ns)
		return false;
	if (cpu_now_ns() > context->deadline_ns)
		context->over_limit = true;
	return context->over_limit;
}

static bool is_user_address(const struct context *context, uint64_t address)
{
	return address >= context->unwinder->address_min &&
	       address < USER_ADDRESS_END;
}

static uint64_t read_mmap_min_addr(void)
{
	char text[32];
	unsigned long long value;

	if (procfs_read_small("/proc/sys/vm/mmap_min_addr", text,
			      sizeof(text)) < 0 ||
	    sscanf(text, "%llu", &value) != 1 || value < USER_ADDRESS_MIN)
		return USER_ADDRESS_MIN;
	return value;
}

/* Regions */

static void release_region(struct region *region)
{
	module_unref(region->module);
	free(region->path);
	memset(region, 0, sizeof(*region));
}

static void release_regions(struct context *context)
{
	for (size_t i = 0; i < context->region_count; i++)
		release_region(&context->regions[i]);
	context->region_count = 0;
	context->next_victim = 0;
}

static struct region *add_region(struct context *context,
				 const struct mapping *mapping)
{
	struct region added = { .copy = *mapping };
	struct region *region;

	added.copy.path = NULL;
	if (mapping->path) {
		added.path = strdup(mapping->path);
		if (!added.path)
			return NULL;
		added.copy.path = added.path;
	}
	added.start = mapping->start;
	added.end = mapping->end;
	added.offset = mapping->offset;
	added.perms = mapping->perms;
	added.origin = origin_classify(&added.copy, context->target->exe);
	if (context->region_count < REGIONS_MAX) {
		region = &context->regions[context->region_count++];
	} else {
		region = &context->regions[context->next_victim];
		context->next_victim = (context->next_victim + 1) % REGIONS_MAX;
		release_region(region);
	}
	*region = added;
	return region;
}

/* Returns the region already found that contains address, or NULL. */
static struct region *find_known_region(struct context *context,
					uint64_t address)
{
	for (size_t i = 0; i < context->region_count; i++) {
		struct region *region = &context->regions[i];

		if (address >= region->start && address < region->end)
			return region;
	}
	return NULL;
}

/*
 * Mappings are made of whole pages, so one miss covers its page. A stack
 * of garbage contains many values on few pages, and a miss can cost the
 * callback a read of /proc/PID/maps.
 */
static bool is_known_hole(const struct context *context, uint64_t address)
{
	uint64_t page = address & ~PAGE_MASK_LOW;

	for (size_t i = 0; i < context->hole_count && i < HOLES_MAX; i++) {
		if (context->holes[i] == page)
			return true;
	}
	return false;
}

static void add_hole(struct context *context, uint64_t address)
{
	context->holes[context->hole_count++ % HOLES_MAX] =
		address & ~PAGE_MASK_LOW;
}

/*
 * Returns the region that contains address, asking the callback on a
 * miss. The pointer is valid until the next call, which may evict it.
 */
static struct region *find_region(struct context *context, uint64_t address)
{
	const struct unwind_target *target = context->target;
	struct region *region = find_known_region(context, address);
	const struct mapping *mapping;
	int err;

	if (region)
		return region;
	if (is_known_hole(context, address))
		return NULL;
	if (context->hole_count >= context->unwinder->limits.lookup_misses)
		return NULL;
	if (context->lookups >= context->unwinder->limits.lookups) {
		context->over_limit = true;
		return NULL;
	}
	context->lookups++;
	mapping = target->find_mapping(target->context, address, &err);
	if (!mapping) {
		if (err < 0)
			context->lookup_error = err;
		else
			add_hole(context, address);
		return NULL;
	}
	return add_region(context, mapping);
}

static bool is_executable(const struct region *region)
{
	return region && (region->perms & MAPPING_EXEC);
}

/*
 * Returns the region's module, reading it on first use. Module reads are
 * skipped once the deadline has passed, as they can take milliseconds.
 */
static struct module *region_module(struct context *context,
				    struct region *region)
{
	struct module *module;

	if (region->module_tried || is_past_deadline(context))
		return region->module;
	region->module_tried = true;
	if (module_cache_get(context->unwinder->cache, context->target->tid,
			     &region->copy, &module) < 0)
		return NULL;
	if (module_load_bias(module, region->start, region->offset,
			     is_executable(region), &region->bias) < 0) {
		module_unref(module);
		return NULL;
	}
	region->module = module;
	return module;
}

/* Return addresses */

/* The grade of the call before a return address, against the callee. */
enum call_match {
	CALL_MATCHES,	/* a direct call of that function's first instruction */
	CALL_UNCHECKED, /* an indirect call, a PLT stub, or no known start */
	CALL_ELSEWHERE, /* a direct call of another function */
};

/*
 * Decodes the call instruction that ends at address in executable memory.
 * For an address outside the regions already found, the bytes are read
 * and decoded first, and its mapping is looked up only if they end with a
 * call: most stale stack words point at nothing readable, and a lookup
 * that misses costs more than a read that fails.
 */
static bool read_callsite(struct context *context, uint64_t address,
			  struct callsite *site)
{
	struct memview *view = &context->unwinder->view;
	uint8_t bytes[MEMVIEW_CODE_BYTES];
	struct region *region;
	ssize_t n;

	if (!is_user_address(context, address))
		return false;
	region = find_known_region(context, address);
	if (region) {
		if (!is_executable(region))
			return false;
		n = memview_read_before(view, address, region->start, bytes);
		return n >= 2 &&
		       callsite_decode(bytes, (size_t)n, address, site);
	}
	n = memview_probe_before(view, address, bytes);
	if (n < 2 || !callsite_decode(bytes, (size_t)n, address, site))
		return false;
	region = find_region(context, address);
	if (!is_executable(region))
		return false;
	/* Bytes before the mapping belong to another one. */
	if (address - region->start < (uint64_t)n)
		return callsite_decode(bytes + n - (address - region->start),
				       (size_t)(address - region->start),
				       address, site);
	return true;
}

static bool is_plt(struct context *context, struct region *region,
		   uint64_t address)
{
	struct module *module = region_module(context, region);

	return module && module_is_plt(module, address - region->bias);
}

/*
 * Returns true if address follows a call in executable memory whose
 * target, for a direct call, is executable too, and grades the call
 * against callee, the start of the function the return leaves (0 when
 * unknown). A direct call of another function is a tail call or, more
 * often, a stale return address left in an uninitialized local.
 */
static bool check_return_address(struct context *context, uint64_t address,
				 uint64_t callee, enum call_match *match)
{
	struct region *region;
	struct callsite site;

	if (!read_callsite(context, address, &site))
		return false;
	if (site.kind == CALLSITE_INDIRECT) {
		*match = CALL_UNCHECKED;
		return true;
	}
	if (callee != 0 && site.target == callee) {
		*match = CALL_MATCHES;
		return true;
	}
	region = find_region(context, site.target);
	if (!is_executable(region))
		return false;
	*match = callee != 0 && !is_plt(context, region, site.target)
			 ? CALL_ELSEWHERE
			 : CALL_UNCHECKED;
	return true;
}

static bool is_on_stack(const struct context *context, uint64_t sp)
{
	return sp >= context->stack_start && sp <= context->stack_end;
}

/* libunwind accessors */

/* Counts one accessor call. Returns false once a bound has run out. */
static bool charge_access(struct context *context)
{
	if (context->over_limit)
		return false;
	if (++context->accesses > ACCESSES_MAX) {
		context->over_limit = true;
		return false;
	}
	if (context->accesses % CLOCK_CHECK_INTERVAL == 0)
		return !is_past_deadline(context);
	return true;
}

/* Serves a word from a module's .eh_frame copy. Returns false if outside. */
static bool read_unwind_data(const struct context *context, uint64_t address,
			     uint64_t *value)
{
	for (size_t i = 0; i < context->region_count; i++) {
		const struct region *region = &context->regions[i];
		const struct module_unwind_table *table;
		uint64_t start;

		if (!region->module)
			continue;
		table = module_unwind_table(region->module);
		if (!table)
			continue;
		start = table->data_vaddr + region->bias;
		if (address < start || address - start > table->data_size ||
		    table->data_size - (address - start) < sizeof(*value))
			continue;
		memcpy(value, table->data + (address - start), sizeof(*value));
		return true;
	}
	return false;
}

static int access_mem(unw_addr_space_t address_space, unw_word_t address,
		      unw_word_t *value, int write, void *arg)
{
	struct context *context = arg;
	uint64_t word;

	if (write)
		return -UNW_EREADONLYREG;
	if (!charge_access(context))
		return -UNW_EUNSPEC;
	if (read_unwind_data(context, address, &word) ||
	    memview_read_word(&context->unwinder->view, address, &word) == 0) {
		*value = word;
		return 0;
	}
	return -UNW_EINVAL;
}

/*
 * Only rip and rsp are known at the start. An unknown rbp is recorded, so
 * that the walk can try the values the stack suggests for it.
 */
static int access_reg(unw_addr_space_t address_space, unw_regnum_t regnum,
		      unw_word_t *value, int write, void *arg)
{
	struct context *context = arg;

	if (write)
		return -UNW_EREADONLYREG;
	if (!charge_access(context))
		return -UNW_EUNSPEC;
	switch (regnum) {
	case UNW_X86_64_RIP:
		*value = context->registers.ip;
		return 0;
	case UNW_X86_64_RSP:
		*value = context->registers.sp;
		return 0;
	case UNW_X86_64_RBP:
		if (context->registers.bp_known) {
			*value = context->registers.bp;
			return 0;
		}
		context->rbp_requested = true;
		return -UNW_EBADREG;
	default:
		return -UNW_EBADREG;
	}
}

static int access_fpreg(unw_addr_space_t address_space, unw_regnum_t regnum,
			unw_fpreg_t *value, int write, void *arg)
{
	return -UNW_EBADREG;
}

static int resume(unw_addr_space_t address_space, unw_cursor_t *cursor,
		  void *arg)
{
	return -UNW_EINVAL;
}

/*
 * Refusing the dynamic registration list keeps libunwind from following
 * pointers that the target planted in its own memory.
 */
static int get_dyn_info_list_addr(unw_addr_space_t address_space,
				  unw_word_t *address, void *arg)
{
	return -UNW_ENOINFO;
}

static int get_proc_name(unw_addr_space_t address_space, unw_word_t address,
			 char *buffer, size_t size, unw_word_t *offset,
			 void *arg)
{
	return -UNW_ENOINFO;
}

/* libunwind frees the unwind info it allocated for a table search itself. */
static void put_unwind_info(unw_addr_space_t address_space,
			    unw_proc_info_t *info, void *arg)
{
}

/*
 * Describes the unwind table of the module at ip to libunwind, which then
 * searches it through access_mem(). The range [start_ip, end_ip) is the
 * module's executable segment, which libunwind requires ip to be in.
 */
static bool fill_table_info(struct context *context, uint64_t ip,
			    unw_dyn_info_t *info)
{
	const struct module_unwind_table *table;
	struct region *region = find_region(context, ip);
	uint64_t start, end, segbase;

	if (!is_executable(region) || !region_module(context, region))
		return false;
	table = module_unwind_table(region->module);
	if (!table || !module_find_code_segment(
			      region->module, ip - region->bias, &start, &end))
		return false;
	segbase = table->header_vaddr + region->bias;
	/* The table contains 32-bit offsets from segbase. */
	if ((int64_t)(ip - segbase) != (int32_t)(ip - segbase))
		return false;
	memset(info, 0, sizeof(*info));
	info->format = UNW_INFO_FORMAT_REMOTE_TABLE;
	info->start_ip = start + region->bias;
	info->end_ip = end + region->bias;
	info->u.rti.segbase = segbase;
	info->u.rti.table_data = table->table_vaddr + region->bias;
	info->u.rti.table_len = table->fde_count * 8 / sizeof(unw_word_t);
	return true;
}

/*
 * Returns -UNW_ESTOPUNWIND, not -UNW_ENOINFO, where there is no CFI: on
 * ENOINFO libunwind 1.6 guesses a frame from rbp itself, and the walk's
 * own fallback verifies what it finds.
 */
static int find_proc_info(unw_addr_space_t address_space, unw_word_t ip,
			  unw_proc_info_t *info, int need_unwind_info,
			  void *arg)
{
	struct context *context = arg;
	unw_dyn_info_t table;
	int err;

	if (!charge_access(context))
		return -UNW_EUNSPEC;
	if (!fill_table_info(context, ip, &table)) {
		context->no_cfi = true;
		return -UNW_ESTOPUNWIND;
	}
	err = search_unwind_table(address_space, ip, &table, info,
				  need_unwind_info, context);
	if (err == -UNW_ENOINFO) {
		context->no_cfi = true;
		return -UNW_ESTOPUNWIND;
	}
	return err;
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = get_proc_name,
};

/* Unwinder */

struct unwinder *unwinder_new(struct module_cache *cache,
			      const struct unwind_limits *limits)
{
	struct unwinder *unwinder = calloc(1, sizeof(*unwinder));
	struct unwind_limits *own;

	if (!unwinder)
		return NULL;
	unwinder->cache = cache;
	unwinder->address_min = read_mmap_min_addr();
	own = &unwinder->limits;
	if (limits)
		*own = *limits;
	if (own->frames == 0 || own->frames > STACK_FRAMES_MAX)
		own->frames = STACK_FRAMES_MAX;
	own->bytes = own->bytes ? own->bytes : DEFAULT_BYTES;
	own->reads = own->reads ? own->reads : DEFAULT_READS;
	own->lookups = own->lookups ? own->lookups : DEFAULT_LOOKUPS;
	own->lookup_misses =
		own->lookup_misses ? own->lookup_misses : DEFAULT_LOOKUP_MISSES;
	own->time_ns = own->time_ns ? own->time_ns : DEFAULT_TIME_NS;
	own->rbp_attempts =
		own->rbp_attempts ? own->rbp_attempts : DEFAULT_RBP_ATTEMPTS;
	unwinder->address_space = unw_create_addr_space(&accessors, 0);
	if (!unwinder->address_space) {
		free(unwinder);
		return NULL;
	}
	/*
	 * libunwind caches unwind rules by address, but one address space
	 * serves every target process, where one address means different
	 * code in each.
	 */
	unw_set_caching_policy(unwinder->address_space, UNW_CACHE_NONE);
	return unwinder;
}

void unwinder_free(struct unwinder *unwinder)
{
	if (!unwinder)
		return;
	unw_destroy_addr_space(unwinder->address_space);
	free(unwinder);
}

/* Walking */

/* Starts libunwind at the walk's frame, which loses its saved registers. */
static bool start_cursor(struct context *context, struct walk *walk)
{
	/*
	 * Looking up a return address minus one finds the calling
	 * function even when the call was its last instruction.
	 */
	context->registers.ip = walk->exact ? walk->ip : walk->ip - 1;
	context->registers.sp = walk->sp;
	context->registers.bp = walk->bp;
	context->registers.bp_known = walk->bp_known;
	walk->cursor_valid =
		unw_init_remote(&walk->cursor, context->unwinder->address_space,
				context) == 0;
	return walk->cursor_valid;
}

/*
 * Returns true if ip is an rt_sigreturn trampoline: "mov $15, %rax;
 * syscall", as glibc's and musl's __restore_rt are, or the shorter
 * "mov $15, %eax; syscall". libunwind 1.6.2's unw_is_signal_frame() misses
 * glibc 2.36's, so the bytes are compared here.
 */
static bool is_sigreturn_trampoline(struct context *context, uint64_t ip)
{
	static const uint8_t long_form[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00,
					     0x00, 0x00, 0x0f, 0x05 };
	static const uint8_t short_form[] = { 0xb8, 0x0f, 0x00, 0x00,
					      0x00, 0x0f, 0x05 };
	struct memview *view = &context->unwinder->view;
	uint8_t bytes[16];
	uint64_t words[2];

	if (!is_executable(find_region(context, ip)) ||
	    memview_read_word(view, ip, &words[0]) < 0 ||
	    memview_read_word(view, ip + 8, &words[1]) < 0)
		return false;
	memcpy(bytes, words, sizeof(bytes));
	return memcmp(bytes, long_form, sizeof(long_form)) == 0 ||
	       memcmp(bytes, short_form, sizeof(short_form)) == 0;
}

/*
 * Checks a caller frame that CFI produced: its stack pointer must grow
 * and stay on the stack, and its return address must follow a call. The
 * frame after a signal frame resumes where the signal struck, anywhere.
 */
static bool verify_cfi_frame(struct context *context, struct walk *walk,
			     uint64_t ip, uint64_t sp, bool *signal_frame)
{
	struct callsite site;

	*signal_frame = false;
	if (!walk->after_signal &&
	    (sp <= walk->sp || !is_on_stack(context, sp)))
		return false;
	if (walk->after_signal)
		return is_executable(find_region(context, ip));
	if (read_callsite(context, ip, &site))
		return true;
	/* A handler returns to the sigreturn trampoline, which no call
	 * precedes. */
	*signal_frame = is_sigreturn_trampoline(context, ip);
	return *signal_frame;
}

/* Reads the registers of the frame libunwind stepped to. */
static void read_cursor(struct walk *walk, uint64_t *ip, uint64_t *sp)
{
	unw_word_t value;

	unw_get_reg(&walk->cursor, UNW_REG_IP, &value);
	*ip = value;
	unw_get_reg(&walk->cursor, UNW_REG_SP, &value);
	*sp = value;
}

/*
 * Moves the stack bounds to the mapping of sp, where a signal frame
 * resumes code that the signal interrupted on another stack, as a handler
 * on a sigaltstack(2) stack returns to the thread's own.
 */
static void follow_signal_frame(struct context *context, uint64_t sp)
{
	struct region *region;

	if (is_on_stack(context, sp))
		return;
	region = find_region(context, sp);
	if (!region || (region->perms & MAPPING_EXEC) ||
	    !(region->perms & MAPPING_WRITE))
		return;
	context->stack_start = region->start;
	context->stack_end = region->end;
}

/* Moves the walk to the frame the cursor now describes. */
static void accept_cfi_frame(struct context *context, struct walk *walk,
			     uint64_t ip, uint64_t sp, bool signal_frame)
{
	unw_word_t bp;

	if (walk->after_signal)
		follow_signal_frame(context, sp);
	walk->exact = walk->after_signal;
	walk->after_signal = signal_frame;
	walk->ip = ip;
	walk->sp = sp;
	walk->bp_known = unw_get_reg(&walk->cursor, UNW_X86_64_RBP, &bp) == 0;
	walk->bp = walk->bp_known ? bp : 0;
	context->rbp_requested = false;
}

/* Steps the cursor once. Returns 1, 0 at the end of the chain, or < 0. */
static int step_cursor(struct context *context, struct walk *walk, uint64_t *ip,
		       uint64_t *sp, bool *signal_frame)
{
	unw_cursor_t saved = walk->cursor;
	int ret;

	context->rbp_requested = false;
	context->no_cfi = false;
	ret = unw_step(&walk->cursor);
	if (ret < 0)
		walk->cursor = saved;
	if (ret <= 0)
		return ret;
	read_cursor(walk, ip, sp);
	if (verify_cfi_frame(context, walk, *ip, *sp, signal_frame))
		return 1;
	walk->cursor = saved;
	return -UNW_EBADFRAME;
}

/*
 * Returns the start of the function the walk's frame is in: from its CFI
 * when the cursor is at that frame, else from its symbol, else 0.
 */
static uint64_t find_function_start(struct context *context, struct walk *walk)
{
	uint64_t lookup = walk->exact ? walk->ip : walk->ip - 1;
	unw_proc_info_t info;
	struct region *region;
	uint64_t offset;

	/* Without CFI libunwind makes up a procedure of one byte at ip. */
	if (walk->cursor_valid &&
	    unw_get_proc_info(&walk->cursor, &info) == 0 &&
	    info.end_ip != info.start_ip + 1 && lookup >= info.start_ip &&
	    lookup < info.end_ip)
		return info.start_ip;
	region = find_region(context, lookup);
	if (!is_executable(region) || !region_module(context, region) ||
	    !module_find_symbol(region->module, lookup - region->bias, &offset))
		return 0;
	return lookup - offset;
}

/*
 * Grades slot as a frame record, a saved rbp followed by a return address
 * out of callee; lower is better. Records whose saved rbp is 0 or points
 * higher up the stack, as in an unbroken frame-pointer chain, come first.
 * Returns -1 if [slot + 8] is no return address.
 */
static int rank_frame_record(struct context *context, uint64_t slot,
			     uint64_t callee)
{
	struct memview *view = &context->unwinder->view;
	enum call_match match;
	uint64_t saved, ret;
	bool chained;

	if (memview_read_word(view, slot + 8, &ret) < 0 ||
	    !check_return_address(context, ret, callee, &match))
		return -1;
	chained = memview_read_word(view, slot, &saved) == 0 &&
		  (saved == 0 || (saved > slot && saved < context->stack_end));
	return (int)match + (chained ? 0 : 3);
}

struct candidate {
	uint64_t slot;
	int rank;
};

/* Keeps candidates sorted by rank, then by address, dropping the worst. */
static void insert_candidate(struct candidate *candidates, size_t *count,
			     uint64_t slot, int rank)
{
	size_t position = *count;

	while (position > 0 && candidates[position - 1].rank > rank)
		position--;
	if (position == RBP_CANDIDATES_MAX)
		return;
	if (*count < RBP_CANDIDATES_MAX)
		(*count)++;
	memmove(&candidates[position + 1], &candidates[position],
		(*count - 1 - position) * sizeof(*candidates));
	candidates[position].slot = slot;
	candidates[position].rank = rank;
}

static size_t collect_rbp_candidates(struct context *context,
				     const struct walk *walk, uint64_t callee,
				     struct candidate *candidates)
{
	uint64_t last = context->stack_end - 16;
	size_t count = 0;

	if (walk->sp < last && last - walk->sp > RBP_WINDOW)
		last = walk->sp + RBP_WINDOW;
	for (uint64_t slot = walk->sp, i = 0; slot <= last; slot += 8, i++) {
		int rank;

		if (memview_is_exhausted(&context->unwinder->view) ||
		    (i % CLOCK_CHECK_INTERVAL == 0 &&
		     is_past_deadline(context)))
			break;
		rank = rank_frame_record(context, slot, callee);
		if (rank >= 0)
			insert_candidate(candidates, &count, slot, rank);
		/* Nothing higher up can beat the lowest best-ranked record. */
		if (rank == 0)
			break;
	}
	return count;
}

/*
 * The CFI of this frame needs rbp, which /proc does not show. Tries the
 * best-ranked stack slots that hold a frame record as rbp, and keeps the
 * first one whose step verifies.
 */
static bool recover_rbp(struct context *context, struct walk *walk,
			uint64_t *ip, uint64_t *sp, bool *signal_frame)
{
	struct candidate candidates[RBP_CANDIDATES_MAX];
	unw_cursor_t saved = walk->cursor;
	size_t attempts = context->unwinder->limits.rbp_attempts;
	uint64_t callee = find_function_start(context, walk);
	size_t count =
		collect_rbp_candidates(context, walk, callee, candidates);

	for (size_t i = 0; i < count && i < attempts; i++) {
		context->registers.bp = candidates[i].slot;
		context->registers.bp_known = true;
		walk->cursor = saved;
		if (step_cursor(context, walk, ip, sp, signal_frame) > 0)
			return true;
	}
	walk->cursor = saved;
	context->registers.bp_known = false;
	return false;
}

/* Tries CFI for the walk's frame. Returns STEP_FRAME, STEP_END or NONE. */
static enum step_result step_cfi(struct context *context, struct walk *walk,
				 uint64_t *ip, uint64_t *sp)
{
	bool signal_frame;
	int ret;

	if (!walk->cursor_valid && !start_cursor(context, walk))
		return STEP_NONE;
	ret = step_cursor(context, walk, ip, sp, &signal_frame);
	if (ret < 0 && context->rbp_requested && !context->no_cfi &&
	    !context->registers.bp_known &&
	    recover_rbp(context, walk, ip, sp, &signal_frame))
		ret = 1;
	if (ret > 0) {
		accept_cfi_frame(context, walk, *ip, *sp, signal_frame);
		return STEP_FRAME;
	}
	walk->cursor_valid = false;
	/* libunwind marks the end of the chain only from the module's CFI. */
	return ret == 0 ? STEP_END : STEP_NONE;
}

static void move_walk(struct walk *walk, uint64_t ip, uint64_t sp, uint64_t bp,
		      bool bp_known)
{
	walk->ip = ip;
	walk->sp = sp;
	walk->bp = bp;
	walk->bp_known = bp_known;
	walk->exact = false;
	walk->after_signal = false;
	walk->cursor_valid = false;
}

/* Follows rbp if it is known and points at a verified frame record. */
static bool step_frame_pointer(struct context *context, struct walk *walk)
{
	struct memview *view = &context->unwinder->view;
	uint64_t bp = walk->bp, saved, ret;
	enum call_match match;

	if (!walk->bp_known || bp < walk->sp || bp % 8 != 0 ||
	    bp > context->stack_end - 16)
		return false;
	if (memview_read_word(view, bp, &saved) < 0 ||
	    memview_read_word(view, bp + 8, &ret) < 0 ||
	    !check_return_address(context, ret, 0, &match))
		return false;
	/* A saved rbp that does not point higher up breaks the chain. */
	move_walk(walk, ret, bp + 16, saved,
		  saved > bp && saved < context->stack_end);
	return true;
}

/* The best return address a scan has seen so far. */
struct scan_hit {
	bool found;
	uint64_t first_slot;
	uint64_t slot;
	uint64_t word;
	enum call_match match;
};

static void note_hit(struct scan_hit *hit, uint64_t slot, uint64_t word,
		     enum call_match match)
{
	if (!hit->found)
		hit->first_slot = slot;
	if (!hit->found || match < hit->match) {
		hit->slot = slot;
		hit->word = word;
		hit->match = match;
	}
	hit->found = true;
}

/*
 * Moves the walk to the caller whose return address the scan found. When
 * the word below it looks like a saved rbp, that becomes the caller's rbp;
 * otherwise the caller inherits the current guess.
 */
static void take_hit(struct context *context, struct walk *walk,
		     const struct scan_hit *hit)
{
	uint64_t saved;

	if (hit->slot >= walk->sp + 8 &&
	    memview_read_word(&context->unwinder->view, hit->slot - 8,
			      &saved) == 0 &&
	    saved > hit->slot && saved < context->stack_end)
		move_walk(walk, hit->word, hit->slot + 8, saved, true);
	else
		move_walk(walk, hit->word, hit->slot + 8, walk->bp,
			  walk->bp_known);
}

/*
 * Searches the stack upward from the walk's stack pointer for a verified
 * return address. The first one found may be stale, so the search goes on
 * for SCAN_LOOKAHEAD bytes for one whose direct call leads to the start of
 * the current function, and takes the best graded one.
 */
static enum step_result step_scan(struct context *context, struct walk *walk)
{
	struct memview *view = &context->unwinder->view;
	uint64_t callee = find_function_start(context, walk);
	uint64_t slot = (walk->sp + 7) & ~7ull;
	struct scan_hit hit = { 0 };

	for (size_t i = 0; slot <= context->stack_end - 8; slot += 8, i++) {
		enum call_match match;
		uint64_t word;

		if (hit.found && slot - hit.first_slot > SCAN_LOOKAHEAD)
			break;
		if ((i % CLOCK_CHECK_INTERVAL == 0 &&
		     is_past_deadline(context)) ||
		    memview_read_word(view, slot, &word) < 0 ||
		    context->over_limit)
			break;
		if (!check_return_address(context, word, callee, &match))
			continue;
		note_hit(&hit, slot, word, match);
		/* Without a function start no later word can grade better. */
		if (match == CALL_MATCHES || callee == 0)
			break;
	}
	if (hit.found) {
		take_hit(context, walk, &hit);
		return STEP_FRAME;
	}
	if (context->over_limit || memview_is_exhausted(view))
		return STEP_LIMIT;
	return STEP_NONE;
}

static enum step_result step(struct context *context, struct walk *walk,
			     enum frame_method *method)
{
	enum step_result result;
	uint64_t ip, sp;

	if (is_past_deadline(context))
		return STEP_LIMIT;
	result = step_cfi(context, walk, &ip, &sp);
	if (result != STEP_NONE) {
		*method = FRAME_METHOD_CFI;
		return result;
	}
	if (context->over_limit ||
	    memview_is_exhausted(&context->unwinder->view))
		return STEP_LIMIT;
	if (step_frame_pointer(context, walk)) {
		*method = FRAME_METHOD_FP;
		return STEP_FRAME;
	}
	*method = FRAME_METHOD_SCAN;
	return step_scan(context, walk);
}

static void add_frame(struct context *context, struct stack *stack,
		      const struct walk *walk, enum frame_method method)
{
	struct frame *frame = &stack->frames[stack->count];

	memset(frame, 0, sizeof(*frame));
	frame->address = walk->ip;
	frame->sp = walk->sp;
	frame->method = method;
	context->exact[stack->count] = walk->exact;
	stack->count++;
}

static enum stack_status status_of(struct context *context,
				   enum step_result result)
{
	/* The target exited during the unwind. */
	if (context->unwinder->view.error == -ESRCH)
		return STACK_UNREADABLE;
	switch (result) {
	case STEP_END:
		return STACK_COMPLETE;
	case STEP_LIMIT:
		return STACK_LIMIT;
	default:
		return context->over_limit ? STACK_LIMIT : STACK_TRUNCATED;
	}
}

/* Whether the code at address is outside libc, the loader, the vDSO and
 * the preload shim, as unwind_stack_caller() decides. */
static bool is_caller_code(struct context *context, uint64_t address)
{
	struct region *region = find_region(context, address);
	enum origin_kind origin = region ? region->origin : ORIGIN_UNKNOWN;

	if (origin == ORIGIN_LIBC || origin == ORIGIN_LOADER ||
	    origin == ORIGIN_VDSO)
		return false;
	return !region || !region->path || !origin_is_shim_path(region->path);
}

static enum stack_status walk_stack(struct context *context,
				    struct stack *stack, uint64_t ip,
				    uint64_t sp)
{
	struct walk walk = { .ip = ip, .sp = sp, .exact = true };
	size_t limit = context->unwinder->limits.frames;
	enum step_result result = STEP_FRAME;
	enum frame_method method = FRAME_METHOD_REGISTER;
	uint64_t word;

	add_frame(context, stack, &walk, method);
	if (context->to_caller && is_caller_code(context, walk.ip))
		return STACK_CALLER_FOUND;
	if (memview_read_word(&context->unwinder->view, sp, &word) < 0)
		return STACK_UNREADABLE;
	while (stack->count < limit) {
		result = step(context, &walk, &method);
		if (result != STEP_FRAME)
			break;
		add_frame(context, stack, &walk, method);
		if (context->to_caller && is_caller_code(context, walk.ip))
			return STACK_CALLER_FOUND;
	}
	if (result == STEP_FRAME)
		return STACK_LIMIT;
	return status_of(context, result);
}

/* Stack pointer */

/* The facts of a mapping that the stack pointer rule needs. */
struct place_facts {
	bool found;
	bool is_stack;	   /* [stack] */
	bool is_anonymous; /* no file, or a name from PR_SET_VMA_ANON_NAME */
	unsigned int perms;
	uint64_t start;
	uint64_t end;
};

static void describe_place(const struct mapping *mapping,
			   enum origin_kind origin, struct place_facts *facts)
{
	memset(facts, 0, sizeof(*facts));
	if (!mapping)
		return;
	facts->found = true;
	facts->is_stack = origin == ORIGIN_STACK;
	facts->is_anonymous =
		!mapping->path || strncmp(mapping->path, "[anon:", 6) == 0;
	facts->perms = mapping->perms;
	facts->start = mapping->start;
	facts->end = mapping->end;
}

static bool is_guard(const struct place_facts *below,
		     const struct place_facts *at)
{
	return below->found && below->end == at->start &&
	       (below->perms & (MAPPING_READ | MAPPING_WRITE | MAPPING_EXEC)) ==
		       0;
}

static bool is_private_data(const struct place_facts *facts)
{
	unsigned int rw = MAPPING_READ | MAPPING_WRITE;

	return (facts->perms & (rw | MAPPING_EXEC | MAPPING_SHARED)) == rw;
}

static enum stack_pointer_place judge_place(const struct unwind_target *target,
					    const struct place_facts *at,
					    const struct place_facts *below)
{
	if (at->is_stack)
		return target->tid == target->tgid ? STACK_POINTER_STACK
						   : STACK_POINTER_PIVOTED;
	if (!at->is_anonymous || !is_private_data(at))
		return STACK_POINTER_PIVOTED;
	return is_guard(below, at) ? STACK_POINTER_STACK
				   : STACK_POINTER_ANONYMOUS;
}

static bool needs_guard_check(const struct place_facts *at)
{
	return !at->is_stack && at->is_anonymous && is_private_data(at) &&
	       at->start > 0;
}

static enum stack_pointer_place locate_in_context(struct context *context,
						  uint64_t sp)
{
	struct place_facts at, below = { 0 };
	struct region *region = find_region(context, sp);

	if (!region)
		return context->lookup_error ? STACK_POINTER_UNKNOWN
					     : STACK_POINTER_UNMAPPED;
	describe_place(&region->copy, region->origin, &at);
	context->stack_start = region->start;
	context->stack_end = region->end;
	if (needs_guard_check(&at)) {
		region = find_region(context, at.start - 1);
		if (region)
			describe_place(&region->copy, region->origin, &below);
	}
	return judge_place(context->target, &at, &below);
}

enum stack_pointer_place
unwind_locate_stack_pointer(const struct unwind_target *target, uint64_t sp)
{
	struct place_facts at, below = { 0 };
	const struct mapping *mapping;
	int err;

	mapping = target->find_mapping(target->context, sp, &err);
	if (!mapping)
		return err < 0 ? STACK_POINTER_UNKNOWN : STACK_POINTER_UNMAPPED;
	describe_place(mapping, origin_classify(mapping, target->exe), &at);
	if (needs_guard_check(&at)) {
		mapping = target->find_mapping(target->context, at.start - 1,
					       &err);
		if (mapping)
			describe_place(mapping,
				       origin_classify(mapping, target->exe),
				       &below);
	}
	return judge_place(target, &at, &below);
}

/* Symbolization */

static void describe_frame(struct context *context, struct frame *frame,
			   bool exact)
{
	struct region *region = find_region(context, frame->address);
	uint64_t vaddr, lookup;

	frame->origin = region ? region->origin : ORIGIN_UNKNOWN;
	if (!region || !region_module(context, region))
		return;
	frame->module = module_ref(region->module);
	frame->offset = frame->address - region->start + region->offset;
	frame->has_offset = true;
	vaddr = frame->address - region->bias;
	/* A return address may already lie past the end of the caller. */
	lookup = exact ? vaddr : vaddr - 1;
	frame->symbol = module_find_symbol(frame->module, lookup,
					   &frame->symbol_offset);
	if (frame->symbol && !exact)
		frame->symbol_offset++;
}

static void describe_frames(struct context *context, struct stack *stack)
{
	for (size_t i = 0; i < stack->count; i++)
		describe_frame(context, &stack->frames[i], context->exact[i]);
}

static void reset_context(struct unwinder *unwinder,
			  const struct unwind_target *target)
{
	struct context *context = &unwinder->context;

	memset(context, 0, sizeof(*context));
	context->unwinder = unwinder;
	context->target = target;
	context->start_ns = now_ns();
	context->deadline_ns = cpu_now_ns() + unwinder->limits.time_ns;
	memview_reset(&unwinder->view, target->tid, unwinder->limits.bytes,
		      unwinder->limits.reads);
}

static int unwind(struct unwinder *unwinder, const struct unwind_target *target,
		  uint64_t ip, uint64_t sp, struct stack *stack, bool to_caller)
{
	struct context *context = &unwinder->context;
	enum stack_status status;

	memset(stack, 0, sizeof(*stack));
	if (!target->find_mapping)
		return -EINVAL;
	reset_context(unwinder, target);
	context->to_caller = to_caller;
	stack->stack_pointer = locate_in_context(context, sp);
	if (stack->stack_pointer == STACK_POINTER_UNMAPPED ||
	    stack->stack_pointer == STACK_POINTER_UNKNOWN) {
		struct walk walk = { .ip = ip, .sp = sp, .exact = true };

		add_frame(context, stack, &walk, FRAME_METHOD_REGISTER);
		status = stack->stack_pointer == STACK_POINTER_UNMAPPED
				 ? STACK_PIVOTED
				 : STACK_UNREADABLE;
	} else {
		status = walk_stack(context, stack, ip, sp);
		if (stack->stack_pointer == STACK_POINTER_PIVOTED)
			status = STACK_PIVOTED;
	}
	stack->status = status;
	describe_frames(context, stack);
	stack->bytes_read = unwinder->view.bytes_read;
	stack->elapsed_ns = now_ns() - context->start_ns;
	release_regions(context);
	return 0;
}

int unwind_thread(struct unwinder *unwinder, const struct unwind_target *target,
		  uint64_t ip, uint64_t sp, struct stack *stack)
{
	return unwind(unwinder, target, ip, sp, stack, false);
}

int unwind_thread_to_caller(struct unwinder *unwinder,
			    const struct unwind_target *target, uint64_t ip,
			    uint64_t sp, struct stack *stack)
{
	return unwind(unwinder, target, ip, sp, stack, true);
}

void unwind_stack_fini(struct stack *stack)
{
	for (size_t i = 0; i < stack->count; i++)
		module_unref(stack->frames[i].module);
	memset(stack, 0, sizeof(*stack));
}

/* Helpers for callers */

static bool is_system_frame(const struct frame *frame)
{
	enum origin_kind origin = frame->origin;

	return origin == ORIGIN_LIBC || origin == ORIGIN_LOADER ||
	       origin == ORIGIN_VDSO ||
	       (frame->module && origin_is_shim_path(module_path(frame->module)));
}

const struct frame *unwind_stack_caller(const struct stack *stack)
{
	for (size_t i = 0; i < stack->count; i++) {
		if (!is_system_frame(&stack->frames[i]))
			return &stack->frames[i];
	}
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int unwind_stack_summary(const struct stack *stack, char *buffer, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return -ENOSPC;
	buffer[0] = '\0';
	for (size_t i = 0; i < stack->count; i++) {
		const struct frame *frame = &stack->frames[i];
		const char *separator = i > 0 ? "|" : "";
		int n;

		if (frame->module)
			n = snprintf(buffer + used, size - used, "%s%s",
				     separator,
				     base_name(module_path(frame->module)));
		else
			n = snprintf(buffer + used, size - used, "%s[%s]",
				     separator,
				     origin_kind_name(frame->origin));
		if (n < 0 || (size_t)n >= size - used) {
			buffer[used] = '\0';
			return -ENOSPC;
		}
		used += (size_t)n;
	}
	return (int)used;
}

const char *unwind_frame_method_name(enum frame_method method)
{
	switch (method) {
	case FRAME_METHOD_REGISTER:
		return "ip";
	case FRAME_METHOD_CFI:
		return "cfi";
	case FRAME_METHOD_FP:
		return "fp";
	case FRAME_METHOD_SCAN:
		return "scan";
	}
	return "unknown";
}

const char *unwind_stack_status_name(enum stack_status status)
{
	switch (status) {
	case STACK_PIVOTED:
		return "pivoted";
	case STACK_UNREADABLE:
		return "unreadable";
	case STACK_LIMIT:
		return "limit";
	case STACK_TRUNCATED:
		return "truncated";
	case STACK_COMPLETE:
		return "complete";
	case STACK_CALLER_FOUND:
		return "caller-found";
	}
	return "unknown";
}

const char *unwind_stack_pointer_place_name(enum stack_pointer_place place)
{
	switch (place) {
	case STACK_POINTER_STACK:
		return "stack";
	case STACK_POINTER_ANONYMOUS:
		return "anonymous";
	case STACK_POINTER_PIVOTED:
		return "pivoted";
	case STACK_POINTER_UNMAPPED:
		return "unmapped";
	case STACK_POINTER_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}
