/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interposers of libnativemon.so. In a monitored process they block
 * asynchronous signals while a watched call waits for the supervisor, so
 * that a handler without SA_RESTART cannot turn the wait into EINTR. They
 * also report each dlopen() and dlmopen() with the module that called it.
 * In an unmonitored process they only forward to the next definition.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/protocol.h"
#include "preload/shim.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* arch_prctl(2) codes of user shadow stacks, from Linux 6.6 <asm/prctl.h>. */
#ifndef ARCH_SHSTK_STATUS
#define ARCH_SHSTK_STATUS 0x5005
#endif
#ifndef ARCH_SHSTK_SHSTK
#define ARCH_SHSTK_SHSTK (1ULL << 0)
#endif

#define OPCODE_RET 0xc3

/* Modules whose return gadget stays cached until a module is unloaded. */
#define GADGET_CACHE_SIZE 32

typedef void *dlopen_function(const char *file, int mode);
typedef void *dlmopen_function(Lmid_t namespace_id, const char *file,
			       int mode);
typedef void *mmap_function(void *address, size_t length, int prot, int flags,
			    int fd, off_t offset);
typedef int mprotect_function(void *address, size_t length, int prot);
typedef int pkey_mprotect_function(void *address, size_t length, int prot,
				   int pkey);
typedef int memfd_create_function(const char *name, unsigned int flags);

/* Implemented in trampoline.S. */
void *shim_call_returning_to(void *function, uintptr_t return_address,
			     uintptr_t arg0, uintptr_t arg1, uintptr_t arg2);

enum real_function {
	REAL_DLOPEN,
	REAL_DLMOPEN,
	REAL_MMAP,
	REAL_MMAP64,
	REAL_MPROTECT,
	REAL_PKEY_MPROTECT,
	REAL_MEMFD_CREATE,
	REAL_FUNCTION_COUNT,
};

static const char *const real_function_names[REAL_FUNCTION_COUNT] = {
	[REAL_DLOPEN] = "dlopen",
	[REAL_DLMOPEN] = "dlmopen",
	[REAL_MMAP] = "mmap",
	[REAL_MMAP64] = "mmap64",
	[REAL_MPROTECT] = "mprotect",
	[REAL_PKEY_MPROTECT] = "pkey_mprotect",
	[REAL_MEMFD_CREATE] = "memfd_create",
};

/* The next definitions of the interposed functions, NULL until resolved. */
static void *real_functions[REAL_FUNCTION_COUNT];

enum monitoring {
	MONITORING_UNKNOWN, /* not checked yet */
	MONITORING_CHECKING,
	MONITORING_OFF,
	MONITORING_ON,
};

static int monitoring = MONITORING_UNKNOWN;

/* The supervisor that needs a ptrace exception, or 0. */
static pid_t supervisor_pid;

/* Signals the kernel sends for the thread's own instructions. */
static const int synchronous_signals[] = {
	SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS,
};

struct held_signals {
	sigset_t saved;
	bool held;
};

/* The arguments and caller of a dlopen() or dlmopen() call. */
struct load_request {
	uint32_t kind; /* enum nativemon_load_kind */
	int64_t namespace_id; /* dlmopen's, or NATIVEMON_NAMESPACE_CALLER */
	const char *file;
	int mode;
	uintptr_t caller; /* return address of the call */
};

/* A loaded object as dl_iterate_phdr(3) describes it. */
struct module {
	uintptr_t base;
	const ElfW(Phdr) *phdr;
	ElfW(Half) phnum;
};

struct gadget_entry {
	const ElfW(Phdr) *phdr; /* unique among the modules loaded now */
	uintptr_t gadget;
};

static struct {
	pthread_mutex_t lock;
	unsigned long long subs; /* dlpi_subs when the entries were made */
	size_t count;
	size_t next; /* the entry replaced when the table is full */
	struct gadget_entry entries[GADGET_CACHE_SIZE];
} gadget_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct gadget_search {
	uintptr_t caller;
	bool found; /* the caller lies in a module of the shim's namespace */
	uintptr_t gadget;
	unsigned long long subs;
	bool has_main_program;
	struct module main_program;
};

/*
 * Returns the next definition of an interposed function, or NULL if there
 * is none. Another library's constructor may call an interposer before the
 * shim's constructor has run, so each interposer resolves on first use.
 * Two threads that race here store the same pointer.
 */
static void *resolve_real(enum real_function index)
{
	void *function = __atomic_load_n(&real_functions[index],
					 __ATOMIC_ACQUIRE);
	int error;

	if (function)
		return function;
	error = errno;
	function = dlsym(RTLD_NEXT, real_function_names[index]);
	__atomic_store_n(&real_functions[index], function, __ATOMIC_RELEASE);
	errno = error;
	return function;
}

/*
 * Blocks every signal but the synchronous ones. A fault while SIGSEGV is
 * blocked would kill the process instead of running its handler, and
 * another filter's SECCOMP_RET_TRAP needs SIGSYS. glibc's pthread_sigmask
 * leaves signals 32 and 33 unblocked, which glibc reserves for thread
 * cancellation and set*id calls.
 */
static void hold_signals(struct held_signals *hold)
{
	sigset_t blocked;

	sigfillset(&blocked);
	for (size_t i = 0; i < ARRAY_SIZE(synchronous_signals); i++)
		sigdelset(&blocked, synchronous_signals[i]);
	hold->held = pthread_sigmask(SIG_BLOCK, &blocked, &hold->saved) == 0;
}

/* Restores the mask hold_signals() saved; errno is preserved. */
static void release_signals(const struct held_signals *hold)
{
	int error = errno;

	if (hold->held)
		pthread_sigmask(SIG_SETMASK, &hold->saved, NULL);
	errno = error;
}

/*
 * Sends one report and returns the prctl result. The caller blocks the
 * signals, so EINTR comes only from a synchronous signal sent with
 * kill(2). Under SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19) the
 * supervisor had not received an interrupted report, so the retry sends
 * it once.
 * NOTE: a program that later sandboxes itself with a seccomp filter that
 * traps or kills unknown prctl options (as browsers do) turns a report
 * from its sandboxed code, such as a dlopen, into SIGSYS.
 */
static int send_report(struct nativemon_report *report)
{
	int error = errno;
	int result;

	report->version = NATIVEMON_PROTOCOL_VERSION;
	do {
		result = prctl(NATIVEMON_PRCTL, (unsigned long)report->op,
			       (unsigned long)report, sizeof(*report), 0UL);
	} while (result < 0 && errno == EINTR);
	errno = error;
	return result;
}

/*
 * Sends HELLO. A result of 0 or more is the supervisor's response: the pid
 * that needs a ptrace exception, or 0. The kernel fails the prctl with
 * EINVAL where no filter of nativemon is installed and with ENOSYS where
 * the listener of one is gone: the process is unmonitored then.
 */
static bool say_hello(pid_t *tracer)
{
	struct nativemon_report report = { .op = NATIVEMON_REPORT_HELLO };
	struct held_signals hold;
	int result;

	hold_signals(&hold);
	result = send_report(&report);
	release_signals(&hold);
	if (result < 0)
		return false;
	*tracer = result;
	return true;
}

static bool attach_to_server(pid_t *tracer)
{
	const char *socket_path = getenv(SHIM_ENV_SOCKET);

	if (!socket_path || !*socket_path)
		return false;
	return shim_attach(socket_path, tracer);
}

/*
 * The caller's mask while a dlopen() of this thread blocks signals, or
 * NULL. A library constructor that forks inside the dlopen() must not
 * pass the blocked mask on to the child and to what the child executes.
 */
static __thread const sigset_t *loading_mask
	__attribute__((tls_model("initial-exec")));

/*
 * Runs in the child of every fork of a monitored process. Yama's
 * exception belongs to one process and is not inherited by fork.
 */
static void prepare_child(void)
{
	if (loading_mask) {
		pthread_sigmask(SIG_SETMASK, loading_mask, NULL);
		loading_mask = NULL;
	}
	if (supervisor_pid > 0)
		shim_allow_tracer(supervisor_pid);
}

static void allow_supervisor(pid_t pid)
{
	supervisor_pid = pid;
	shim_allow_tracer(pid);
}

/*
 * Finds out once whether a supervisor serves this process, attaching to
 * `nativemon serve` when NATIVEMON_SOCKET names one. HELLO comes first: a
 * process under nativemon already has a listener, and the kernel rejects
 * a second one with EBUSY. Calls made while another thread checks are
 * forwarded unheld. Returns the new state.
 */
static __attribute__((noinline, cold)) int check_monitoring(void)
{
	int expected = MONITORING_UNKNOWN;
	int error = errno;
	pid_t tracer = 0;
	bool monitored;

	if (!__atomic_compare_exchange_n(&monitoring, &expected,
					 MONITORING_CHECKING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return expected;
	monitored = say_hello(&tracer);
	/*
	 * The hello after an attach lets the new supervisor know that the
	 * loader's start-up work is over. The filter stays even if the
	 * supervisor went away meanwhile, so the process counts as monitored.
	 */
	if (!monitored && attach_to_server(&tracer)) {
		say_hello(&tracer);
		monitored = true;
	}
	if (monitored && tracer > 0)
		allow_supervisor(tracer);
	if (monitored)
		pthread_atfork(NULL, NULL, prepare_child);
	expected = monitored ? MONITORING_ON : MONITORING_OFF;
	__atomic_store_n(&monitoring, expected, __ATOMIC_RELEASE);
	errno = error;
	return expected;
}

static bool is_monitored(void)
{
	int state = __atomic_load_n(&monitoring, __ATOMIC_ACQUIRE);

	if (state == MONITORING_UNKNOWN)
		state = check_monitoring();
	return state == MONITORING_ON;
}

/*
 * A `ret` of the trampoline's making does not match the shadow stack
 * (Linux 6.6, which glibc 2.39 and later can enable), so it would fault.
 */
static bool has_shadow_stack(void)
{
	unsigned long long features = 0;
	int error = errno;
	long result = syscall(SYS_arch_prctl, ARCH_SHSTK_STATUS, &features);

	errno = error;
	return result == 0 && (features & ARCH_SHSTK_SHSTK);
}

/*
 * Returns the address of the first `ret` byte in the module's code, or 0.
 * In a module linked with glibc's crti.o that is usually the end of
 * _init, which no CFI covers. gdb and unwinders that follow frame
 * pointers go on through the trampoline's rbp frame. A `leave; ret` would
 * suit CFI better, but the first c9 c3 pair of Debian 12's libm, libssl
 * and bash lies inside other instructions.
 * NOTE: unwinders that need CFI, such as glibc's backtrace(3), stop at
 * the gadget, so a stack taken inside a monitored dlopen() ends there.
 */
static uintptr_t scan_module(const struct module *module)
{
	for (ElfW(Half) i = 0; i < module->phnum; i++) {
		const ElfW(Phdr) *segment = &module->phdr[i];
		const uint8_t *ret;

		/* Execute-only code would fault on the read. */
		if (segment->p_type != PT_LOAD ||
		    (segment->p_flags & (PF_R | PF_X)) != (PF_R | PF_X))
			continue;
		ret = memchr((const void *)(module->base + segment->p_vaddr),
			     OPCODE_RET, segment->p_filesz);
		if (ret)
			return (uintptr_t)ret;
	}
	return 0;
}

static uintptr_t lookup_cached_gadget(const struct module *module)
{
	for (size_t i = 0; i < gadget_cache.count; i++) {
		if (gadget_cache.entries[i].phdr == module->phdr)
			return gadget_cache.entries[i].gadget;
	}
	return 0;
}

static void cache_gadget(const struct module *module, uintptr_t gadget)
{
	struct gadget_entry *entry;

	if (gadget_cache.count < GADGET_CACHE_SIZE) {
		entry = &gadget_cache.entries[gadget_cache.count++];
	} else {
		entry = &gadget_cache.entries[gadget_cache.next];
		gadget_cache.next = (gadget_cache.next + 1) % GADGET_CACHE_SIZE;
	}
	entry->phdr = module->phdr;
	entry->gadget = gadget;
}

/*
 * Returns the module's gadget, from the cache when no module has been
 * unloaded since it was found: a new module may reuse the addresses of an
 * old one. A fork can leave the lock held in the child, so a busy lock
 * means a scan without the cache instead of a wait.
 */
static uintptr_t find_module_gadget(const struct module *module,
				    unsigned long long subs)
{
	uintptr_t gadget;

	if (pthread_mutex_trylock(&gadget_cache.lock) != 0)
		return scan_module(module);
	if (gadget_cache.subs != subs) {
		gadget_cache.count = 0;
		gadget_cache.next = 0;
		gadget_cache.subs = subs;
	}
	gadget = lookup_cached_gadget(module);
	if (!gadget) {
		gadget = scan_module(module);
		if (gadget)
			cache_gadget(module, gadget);
	}
	pthread_mutex_unlock(&gadget_cache.lock);
	return gadget;
}

/* The test glibc's _dl_addr_inside_object() makes for a caller. */
static bool module_contains(const struct dl_phdr_info *info, uintptr_t address)
{
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *segment = &info->dlpi_phdr[i];

		if (segment->p_type == PT_LOAD &&
		    address - (info->dlpi_addr + segment->p_vaddr) <
			    segment->p_memsz)
			return true;
	}
	return false;
}

/*
 * dl_iterate_phdr() callback: finds the gadget of the module that contains
 * the caller and remembers the main program, which comes first and is
 * never unloaded.
 */
static int search_module(struct dl_phdr_info *info, size_t size, void *data)
{
	struct gadget_search *search = data;
	struct module module = {
		.base = info->dlpi_addr,
		.phdr = info->dlpi_phdr,
		.phnum = info->dlpi_phnum,
	};

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
			    sizeof(info->dlpi_subs))
		search->subs = info->dlpi_subs;
	if (!search->has_main_program) {
		search->main_program = module;
		search->has_main_program = true;
	}
	if (!module_contains(info, search->caller))
		return 0;
	search->found = true;
	search->gadget = find_module_gadget(&module, search->subs);
	return 1;
}

/*
 * Returns a return address that makes the loader take the caller's module
 * as the one that called it, or 0 when only a tail call keeps the caller.
 * dl_iterate_phdr() lists the shim's namespace only, so dladdr(), which
 * searches all namespaces, distinguishes a caller in another namespace
 * from code in no module. glibc counts the latter as the main program's.
 */
static __attribute__((noinline)) uintptr_t find_return_gadget(uintptr_t caller)
{
	struct gadget_search search = { .caller = caller };
	Dl_info info;

	if (has_shadow_stack())
		return 0;
	dl_iterate_phdr(search_module, &search);
	if (search.found)
		return search.gadget;
	if (!search.has_main_program || dladdr((void *)caller, &info) != 0)
		return 0;
	return find_module_gadget(&search.main_program, search.subs);
}

static void send_load_begin(const struct load_request *request)
{
	struct nativemon_report report = {
		.op = NATIVEMON_REPORT_DLOPEN_BEGIN,
		.name = (uintptr_t)request->file,
		.caller = request->caller,
		.namespace_id = request->namespace_id,
		.flags = request->mode,
		.kind = request->kind,
	};

	send_report(&report);
}

/*
 * Reports the object a load returned. dlinfo() runs on success only, so a
 * failed load keeps its message for dlerror().
 */
static void send_load_end(void *handle)
{
	struct nativemon_report report = {
		.op = NATIVEMON_REPORT_DLOPEN_END,
		.namespace_id = -1,
	};
	struct link_map *map = NULL;
	Lmid_t namespace_id;

	if (handle) {
		report.handle = (uintptr_t)handle;
		if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map)
			report.name = (uintptr_t)map->l_name;
		if (dlinfo(handle, RTLD_DI_LMID, &namespace_id) == 0)
			report.namespace_id = namespace_id;
	}
	send_report(&report);
}

/*
 * Runs the real dlopen() or dlmopen() with signals held, so that each
 * mmap and mprotect of the loader waits for the supervisor undisturbed.
 * A child that a loaded constructor forks gets the caller's mask back.
 * NOTE: a thread that a constructor starts inherits the held mask for
 * good, and so does a program it starts with posix_spawn(3) or system(3),
 * which run no fork handlers, or with a plain execve(2).
 */
static __attribute__((noinline)) void *
load_monitored(void *function, uintptr_t gadget, struct load_request request)
{
	const sigset_t *outer_mask = loading_mask;
	struct held_signals hold;
	void *handle;
	int error;

	hold_signals(&hold);
	/* In a nested dlopen() the outer call saved the caller's mask. */
	if (hold.held && !outer_mask)
		loading_mask = &hold.saved;
	send_load_begin(&request);
	if (request.kind == NATIVEMON_LOAD_DLMOPEN)
		handle = shim_call_returning_to(
			function, gadget, (uintptr_t)request.namespace_id,
			(uintptr_t)request.file, (uintptr_t)request.mode);
	else
		handle = shim_call_returning_to(function, gadget,
						(uintptr_t)request.file,
						(uintptr_t)request.mode, 0);
	error = errno;
	loading_mask = outer_mask;
	send_load_end(handle);
	release_signals(&hold);
	errno = error;
	return handle;
}

static __attribute__((noinline)) void
report_load_begin(struct load_request request)
{
	struct held_signals hold;

	hold_signals(&hold);
	send_load_begin(&request);
	release_signals(&hold);
}

/*
 * The loader resolves $ORIGIN, DT_RUNPATH and the namespace of a load
 * from the return address of the call to dlopen() or dlmopen(). The
 * interposers therefore reach the real function either through
 * shim_call_returning_to() with a gadget in the caller's module or
 * through a tail call, which leaves the caller's own return address in
 * place. The forwarding `return real(...)` lines must stay tail calls:
 * tests/integration/test_preload_symbols.sh checks that these two
 * functions make no indirect call.
 */
SHIM_EXPORT void *dlopen(const char *file, int mode)
{
	uintptr_t caller = (uintptr_t)__builtin_return_address(0);
	dlopen_function *real = (dlopen_function *)resolve_real(REAL_DLOPEN);
	struct load_request request = {
		.kind = NATIVEMON_LOAD_DLOPEN,
		.namespace_id = NATIVEMON_NAMESPACE_CALLER,
		.file = file,
		.mode = mode,
		.caller = caller,
	};
	uintptr_t gadget;

	if (!real)
		return NULL;
	if (!is_monitored())
		return real(file, mode);
	gadget = find_return_gadget(caller);
	if (gadget)
		return load_monitored((void *)real, gadget, request);
	/*
	 * NOTE: under a shadow stack, for a caller in another namespace and
	 * without a `ret` byte in the caller's module, the load runs with
	 * signals unheld and sends no DLOPEN_END.
	 */
	report_load_begin(request);
	return real(file, mode);
}

SHIM_EXPORT void *dlmopen(Lmid_t namespace_id, const char *file, int mode)
{
	uintptr_t caller = (uintptr_t)__builtin_return_address(0);
	dlmopen_function *real =
		(dlmopen_function *)resolve_real(REAL_DLMOPEN);
	struct load_request request = {
		.kind = NATIVEMON_LOAD_DLMOPEN,
		.namespace_id = namespace_id,
		.file = file,
		.mode = mode,
		.caller = caller,
	};
	uintptr_t gadget;

	if (!real)
		return NULL;
	if (!is_monitored())
		return real(namespace_id, file, mode);
	gadget = find_return_gadget(caller);
	if (gadget)
		return load_monitored((void *)real, gadget, request);
	report_load_begin(request);
	return real(namespace_id, file, mode);
}

static __attribute__((noinline)) void *
map_held(mmap_function *real, void *address, size_t length, int prot,
	 int flags, int fd, off_t offset)
{
	struct held_signals hold;
	void *result;

	hold_signals(&hold);
	result = real(address, length, prot, flags, fd, offset);
	release_signals(&hold);
	return result;
}

SHIM_EXPORT void *mmap(void *address, size_t length, int prot, int flags,
		       int fd, off_t offset)
{
	mmap_function *real = (mmap_function *)resolve_real(REAL_MMAP);

	if (!real) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	if (!(prot & PROT_EXEC) || !is_monitored())
		return real(address, length, prot, flags, fd, offset);
	return map_held(real, address, length, prot, flags, fd, offset);
}

/* The same function as mmap on x86-64, where off_t has 64 bits. */
SHIM_EXPORT void *mmap64(void *address, size_t length, int prot, int flags,
			 int fd, off64_t offset)
{
	mmap_function *real = (mmap_function *)resolve_real(REAL_MMAP64);

	if (!real) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	if (!(prot & PROT_EXEC) || !is_monitored())
		return real(address, length, prot, flags, fd, offset);
	return map_held(real, address, length, prot, flags, fd, offset);
}

static __attribute__((noinline)) int
protect_held(mprotect_function *real, void *address, size_t length, int prot)
{
	struct held_signals hold;
	int result;

	hold_signals(&hold);
	result = real(address, length, prot);
	release_signals(&hold);
	return result;
}

SHIM_EXPORT int mprotect(void *address, size_t length, int prot)
{
	mprotect_function *real =
		(mprotect_function *)resolve_real(REAL_MPROTECT);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (!(prot & PROT_EXEC) || !is_monitored())
		return real(address, length, prot);
	return protect_held(real, address, length, prot);
}

static __attribute__((noinline)) int
protect_key_held(pkey_mprotect_function *real, void *address, size_t length,
		 int prot, int pkey)
{
	struct held_signals hold;
	int result;

	hold_signals(&hold);
	result = real(address, length, prot, pkey);
	release_signals(&hold);
	return result;
}

SHIM_EXPORT int pkey_mprotect(void *address, size_t length, int prot, int pkey)
{
	pkey_mprotect_function *real =
		(pkey_mprotect_function *)resolve_real(REAL_PKEY_MPROTECT);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (!(prot & PROT_EXEC) || !is_monitored())
		return real(address, length, prot, pkey);
	return protect_key_held(real, address, length, prot, pkey);
}

static __attribute__((noinline)) int
create_memfd_held(memfd_create_function *real, const char *name,
		  unsigned int flags)
{
	struct held_signals hold;
	int result;

	hold_signals(&hold);
	result = real(name, flags);
	release_signals(&hold);
	return result;
}

SHIM_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	memfd_create_function *real =
		(memfd_create_function *)resolve_real(REAL_MEMFD_CREATE);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (!is_monitored())
		return real(name, flags);
	return create_memfd_held(real, name, flags);
}

/*
 * Constructors of libraries loaded before the shim's run first and may
 * already have called an interposer, which then did this work.
 */
__attribute__((constructor)) static void initialize_shim(void)
{
	for (size_t i = 0; i < REAL_FUNCTION_COUNT; i++)
		resolve_real((enum real_function)i);
	is_monitored();
}
