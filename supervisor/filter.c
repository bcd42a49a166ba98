/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Filter construction and installation. libseccomp compiles the watch set,
 * and its bad-architecture action is set to notify. i386 syscalls (int 0x80)
 * and x32 syscalls (numbers with bit 30 set, which libseccomp's x86-64
 * program sends to that action) therefore always reach the supervisor.
 * filter_build_all() routes every syscall there instead, for the full
 * profile of `nativemon learn --all-syscalls`.
 */
#include "filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/protocol.h"

#include "log.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* Adds one notify rule per set bit: libseccomp compares masks for equality. */
static int add_mask_any_rules(scmp_filter_ctx ctx,
			      const struct policy_watch *watch)
{
	for (unsigned int bit = 0; bit < 64; bit++) {
		uint64_t flag = UINT64_C(1) << bit;
		int err;

		if (!(watch->mask & flag))
			continue;
		err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, watch->nr, 1,
				       SCMP_CMP(watch->arg, SCMP_CMP_MASKED_EQ,
						flag, flag));
		if (err < 0)
			return err;
	}
	return 0;
}

static enum scmp_compare scmp_operator(enum policy_compare compare)
{
	switch (compare) {
	case POLICY_NE:
		return SCMP_CMP_NE;
	case POLICY_LT:
		return SCMP_CMP_LT;
	case POLICY_LE:
		return SCMP_CMP_LE;
	case POLICY_GT:
		return SCMP_CMP_GT;
	case POLICY_GE:
		return SCMP_CMP_GE;
	default:
		return SCMP_CMP_EQ;
	}
}

static int add_watch(scmp_filter_ctx ctx, const struct policy_watch *watch)
{
	switch (watch->compare) {
	case POLICY_ALWAYS:
		return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, watch->nr, 0);
	case POLICY_MASK_ANY:
		return add_mask_any_rules(ctx, watch);
	case POLICY_MASK_EQ:
		return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, watch->nr, 1,
					SCMP_CMP(watch->arg, SCMP_CMP_MASKED_EQ,
						 watch->mask, watch->value));
	default:
		return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, watch->nr, 1,
					SCMP_CMP(watch->arg,
						 scmp_operator(watch->compare),
						 watch->value));
	}
}

/*
 * Builds the libseccomp context of the policy's watch set. On failure
 * *bad_watch names the watch libseccomp rejected, if any.
 */
bool filter_check_support(void)
{
	unsigned int level = seccomp_api_get();

	/* libseccomp's API level 5 brings SCMP_ACT_NOTIFY. */
	if (level >= 5)
		return true;
	log_error("seccomp user notification is unavailable here (libseccomp"
		  " API level %u, 5 needed): the kernel is older than 5.0, or"
		  " a seccomp filter around nativemon blocks seccomp(2); allow"
		  " it (systemd: SystemCallFilter=seccomp)",
		  level);
	return false;
}

/*
 * The preload shim's reports reach the supervisor through a prctl option
 * that the kernel does not know (preload/protocol.h), so that they need
 * no socket a program could close. prctl(2) takes the option as an int,
 * so only the low 32 bits count.
 */
static int add_shim_reports(scmp_filter_ctx ctx)
{
	int err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(prctl), 1,
				   SCMP_A0_32(SCMP_CMP_EQ, NATIVEMON_PRCTL));

	/* A policy that watches every prctl covers the reports too. */
	return err == -EEXIST ? 0 : err;
}

/*
 * Starts a filter whose calls of a foreign architecture reach the
 * supervisor and whose other calls take default_action.
 */
static int new_context(uint32_t default_action, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = seccomp_init(default_action);
	int err;

	if (!ctx)
		return -ENOMEM;
	err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY);
	/* The child decides on no_new_privs itself, before it installs. */
	if (err == 0)
		err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (err < 0) {
		seccomp_release(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

static int build_context(const struct policy *policy, scmp_filter_ctx *out,
			 const struct policy_watch **bad_watch)
{
	scmp_filter_ctx ctx;
	int err;

	*bad_watch = NULL;
	err = new_context(SCMP_ACT_ALLOW, &ctx);
	if (err < 0)
		return err;
	for (size_t i = 0; i < policy->watch_count; i++) {
		err = add_watch(ctx, &policy->watches[i]);
		/* A condition under an unconditional watch adds nothing. */
		if (err == -EEXIST)
			continue;
		if (err < 0) {
			*bad_watch = &policy->watches[i];
			goto fail;
		}
	}
	err = add_shim_reports(ctx);
	if (err < 0)
		goto fail;
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return err;
}

static int build_all_context(const struct filter_exemption *exemptions,
			     size_t count, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx;
	int err;

	err = new_context(SCMP_ACT_NOTIFY, &ctx);
	if (err < 0)
		return err;
	for (size_t i = 0; i < count; i++) {
		const struct filter_exemption *exemption = &exemptions[i];

		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, exemption->nr, 1,
				       SCMP_CMP(exemption->arg, SCMP_CMP_EQ,
						exemption->value));
		if (err < 0)
			goto fail;
	}
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return err;
}

static int export_program(scmp_filter_ctx ctx, struct filter_program *program)
{
	int fd = memfd_create("nativemon-bpf", MFD_CLOEXEC);
	off_t size;
	int err = 0;

	if (fd < 0)
		return -errno;
	err = seccomp_export_bpf(ctx, fd);
	if (err < 0)
		goto out;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter) != 0 ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		err = -E2BIG;
		goto out;
	}
	program->fprog.filter = malloc((size_t)size);
	if (!program->fprog.filter) {
		err = -ENOMEM;
		goto out;
	}
	if (pread(fd, program->fprog.filter, (size_t)size, 0) != size) {
		err = -EIO;
		goto out;
	}
	program->fprog.len = (unsigned short)(size / sizeof(struct sock_filter));
out:
	close(fd);
	return err;
}

int filter_build(const struct policy *policy, struct filter_program *program,
		 const struct policy_watch **bad_watch)
{
	scmp_filter_ctx ctx;
	int err;

	memset(program, 0, sizeof(*program));
	err = build_context(policy, &ctx, bad_watch);
	if (err < 0)
		return err;
	err = export_program(ctx, program);
	seccomp_release(ctx);
	if (err < 0)
		filter_program_fini(program);
	return err;
}

int filter_build_all(const struct filter_exemption *exemptions, size_t count,
		     struct filter_program *program)
{
	scmp_filter_ctx ctx;
	int err;

	memset(program, 0, sizeof(*program));
	err = build_all_context(exemptions, count, &ctx);
	if (err < 0)
		return err;
	err = export_program(ctx, program);
	seccomp_release(ctx);
	if (err < 0)
		filter_program_fini(program);
	else
		program->notifies_all = true;
	return err;
}

int filter_print(const struct policy *policy, int fd,
		 const struct policy_watch **bad_watch)
{
	scmp_filter_ctx ctx;
	int err;

	err = build_context(policy, &ctx, bad_watch);
	if (err < 0)
		return err;
	err = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return err;
}

void filter_program_fini(struct filter_program *program)
{
	free(program->fprog.filter);
	memset(program, 0, sizeof(*program));
}

static int seccomp_set_filter(unsigned int flags, const struct sock_fprog *fprog)
{
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, fprog);

	return fd < 0 ? -errno : (int)fd;
}

int filter_install(const struct filter_program *program, bool *killable_recv)
{
	unsigned int flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
	int fd;

	/*
	 * WAIT_KILLABLE_RECV (Linux 5.19) keeps a non-fatal signal from
	 * aborting a call whose notification the supervisor has received, so
	 * the kernel does not send the same call again after the handler.
	 */
	fd = seccomp_set_filter(flags | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
				&program->fprog);
	*killable_recv = fd >= 0;
	if (fd == -EINVAL)
		fd = seccomp_set_filter(flags, &program->fprog);
	return fd;
}
