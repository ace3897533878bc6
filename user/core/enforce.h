/* SPDX-License-Identifier: MIT */
/*
 * What each provider does with each policy key: one table (enforce.c), one
 * row per key of the policy model (policy.h sbx_policy_key), one cell per
 * provider. `sbx run` and `sbx policy check` both ask sbx_enforceability(),
 * so they refuse the same things with the same words, and a key added to the
 * policy model without a row fails tests/unit/test_enforce.c.
 *
 * Example: profile "p" with fs.exec = ["/usr/bin/"] under provider gvisor:
 *   strict      -> one finding, refuse: "profile 'p': 'fs.exec' cannot be
 *                  enforced by provider 'gvisor': ...; choose another ..."
 *   best-effort -> one finding, !refuse: "fs.exec: not enforced by provider
 *                  gvisor (...)", for the result's degraded list.
 */
#ifndef SBX_CORE_ENFORCE_H
#define SBX_CORE_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

enum sbx_enf {
	SBX_ENF_ENFORCED = 0,	/* the provider, or sbx for every provider, applies it */
	SBX_ENF_DEGRADABLE,	/* not applied: refused under strict, degraded under best-effort */
	SBX_ENF_REFUSED,	/* not applied, and refused whatever the enforcement mode */
	SBX_ENF_FS_BACKEND,	/* applied by BPF LSM or Landlock when the kernel has one, else DEGRADABLE */
	SBX_ENF_INERT,		/* confines nothing: another provider's settings, a daemon permission */
	SBX_ENF_LANDLOCK,	/* applied only with Landlock's help (why says what), else DEGRADABLE */
	SBX_ENF_UNIX_HOOKS,	/* applied by the cgroup unix hooks or BPF LSM (why says what
				 * is missing), else DEGRADABLE */
	SBX_ENF_BPF_LSM,	/* applied by BPF LSM alone (why says why), else DEGRADABLE */
};

/* The providers of the table's columns, in order. */
enum { SBX_ENF_HOST, SBX_ENF_MOCK, SBX_ENF_PROCESS, SBX_ENF_GVISOR, SBX_ENF_WASM,
       SBX_ENF_MICROVM, SBX_ENF_UNIKERNEL, SBX_ENF_TEE, SBX_ENF_NPROV };
extern const char *const sbx_enforce_providers[SBX_ENF_NPROV];
/* sbx-oci's provider "oci" has a sparse column of its own (enforce.c
 * oci_column), outside the table's rows: sbx_enforceability() knows it. */
#define SBX_ENF_OCI SBX_ENF_NPROV

struct sbx_enforce_finding;

struct sbx_enforce_cell {
	enum sbx_enf v;
	const char *why;	/* how it is applied, or why it cannot be */
	/* Replaces the row's asks() for this provider; may name the first
	 * offending item in f->detail and its position in f->pos. */
	bool (*when)(const struct sbx_profile *p, struct sbx_enforce_finding *f);
};

struct sbx_enforce_row {
	const char *key;	/* dotted, as sbx_policy_key() names it: "fs.exec" */
	bool (*asks)(const struct sbx_profile *p, struct sbx_enforce_finding *f);
	struct sbx_enforce_cell cell[SBX_ENF_NPROV];
};

const struct sbx_enforce_row *sbx_enforce_table(size_t *ret_n);
const struct sbx_enforce_row *sbx_enforce_row(const char *key);

/* What the kernel offers, as far as the table needs it. */
struct sbx_enforce_features {
	int fs_backend;		/* SBX_FSB_* (sbx_abi.h), 0 = neither BPF LSM nor Landlock */
	bool landlock;		/* Landlock works (whichever fs backend the plan uses) */
	bool unix_hooks;	/* cgroup/connect_unix (Linux 6.7) or BPF LSM judges unix
				 * addresses (sbx_config.flags of the loaded programs) */
	bool unix_peer;		/* BPF LSM judges the name the peer was bound to, so a
				 * listed path redirected to another socket is refused */
};

struct sbx_enforce_finding {
	const char *key;
	bool refuse;		/* strict (or REFUSED): sbx must not run the profile */
	struct sbx_srcpos pos;	/* the offending rule, else the profile's header */
	char detail[320];	/* e.g. "rule '/srv/' (p.toml:9:3) grants rw" */
	char msg[1024];		/* the whole sentence: error or degraded entry */
};

struct sbx_enforce_report {
	struct sbx_enforce_finding *v;
	size_t n;
};

/*
 * Every key of profile p that provider (by name) does not enforce with
 * features f. Returns 0 with the findings in *ret (possibly none), -ENOENT
 * with why when the provider has no column (a provider added without one
 * is refused, not trusted), -ENOMEM.
 */
int sbx_enforceability(const struct sbx_profile *p, const char *provider,
		       const struct sbx_enforce_features *f, struct sbx_enforce_report *ret,
		       char *why, size_t len);
void sbx_enforce_report_free(struct sbx_enforce_report *r);

/* Whether sbx_enforceability would refuse p under provider, assuming the
 * kernel has an fs backend and unix hooks (the run's own check knows): for "auto", which
 * must not pick a provider that then refuses the profile. */
bool sbx_enforce_refuses(const struct sbx_profile *p, const char *provider);

#endif
