/* SPDX-License-Identifier: MIT */
/*
 * Audit events (sbx_abi.h) as JSON lines, the format of docs/audit.md:
 *   {"time":"2026-11-23T16:08:24.123456789Z","seq":3,"sandbox":"sbx-1a2b3c4d",
 *    "profile":"demo","event":"net.connect","verdict":"deny","pid":812,"tid":812,
 *    "comm":"curl","cgroup_id":4242,"family":"ipv4","addr":"192.0.2.7",
 *    "port":443,"proto":"tcp","rule":"default","mode":"allow"}
 */
#ifndef SBX_AUDIT_H
#define SBX_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "util/json.h"
#include "policy.h"
#include "core/fsplan.h"

struct sbx_audit_ctx {
	const char *sandbox_id;
	const struct sbx_profile *profile;
	int64_t mono_to_real_ns;		/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	const char *provider;			/* for sandbox.start */
	char *const *degraded;			/* what is not enforced, for sandbox.start */
	size_t n_degraded;
	const struct sbx_fsplan *fs;		/* deciding rule of Landlock refusals; may be NULL */
	uint32_t uid;				/* the sandbox's own uid for sandbox.start; 0: none */
	uint32_t policy_id;			/* the policy id compiled from profile's entries */
	/* After a live update (core/update.h) events carry the slot's other
	 * policy id: this returns the profile that id was compiled from, or
	 * NULL when it is not known. NULL = never updated. */
	const struct sbx_profile *(*profile_of)(void *data, uint32_t policy_id);
	void *profile_data;
	const char *container;			/* sbx-oci's container id; NULL: none */
};

/* Offset to turn bpf_ktime_get_ns() stamps into wall-clock time. */
int64_t sbx_audit_clock_offset(void);

/* Name of a native syscall number, or NULL (a static buffer). */
const char *sbx_syscall_name(uint32_t nr);

/* "net.connect", ... or NULL for an unknown type. */
const char *sbx_event_name(uint16_t type);

/* Whether events of this type carry `__u8 verdict` first after the header. */
bool sbx_event_has_verdict(uint16_t type);

/* "allow", "deny" or "would_deny" (observe mode) for an enum sbx_verdict. */
const char *sbx_verdict_name(uint8_t verdict);

/* Writes one event as one JSON object (one line) to a compact writer (a
 * pretty one: -EINVAL). -EINVAL for a malformed or truncated event (size
 * smaller than its type needs). */
int sbx_audit_event_json(struct json_writer *w, const struct sbx_audit_ctx *c,
			 const void *data, size_t size);

/* RFC 3339 UTC with nanoseconds. */
void sbx_format_time(int64_t real_ns, char *buf, size_t len);

#endif
