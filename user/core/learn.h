/* SPDX-License-Identifier: MIT */
/*
 * sbx learn (docs/learn.md): the audit log of one sandbox, usually one run
 * under `sbx run --observe`, becomes a policy profile. Events are fed one
 * JSON line at a time (sbx_learn_line); what they show the workload did is
 * collected, directories are generalised (sbx_learn_generalise), and the
 * result is written as a commented TOML policy file (sbx_learn_write), or,
 * against a base profile, only what that profile lacks.
 */
#ifndef SBX_CORE_LEARN_H
#define SBX_CORE_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

/* One file the trail names, with the access asked for (SBX_ACC_*). */
struct sbx_learn_file {
	char *path;
	uint32_t access;
	bool dir;		/* made by the workload (mkdir): a directory rule */
	uint64_t events;
};

/* A rule of the learnt fs policy: a file, or a directory ("/a/b/") that
 * stands for `files` paths the trail named below it. */
struct sbx_learn_rule {
	char *path;
	uint32_t access;
	uint64_t files;
	uint64_t events;
};

/* A counted string: a destination ("api.test:443/tcp"), a syscall name, ... */
struct sbx_learn_item {
	char *text;
	char *note;		/* where it came from, for the comment */
	uint64_t events;
};

struct sbx_learn_list {
	struct sbx_learn_item *v;
	size_t n;
};

struct sbx_learn {
	const char *want_sandbox;	/* --sandbox, or NULL: the log's only one */
	char *sandbox;			/* the sandbox learnt */
	char *profile;			/* the profile it ran under */
	char *provider;
	bool observe;			/* its start event says observe mode */
	int net_mode, fs_mode;		/* the observed profile's modes, -1 unknown */
	struct sbx_learn_list names;	/* text: address, note: the name it answered */
	struct sbx_learn_list net, listen, unix_paths, syscalls, execs, notes;
	struct sbx_learn_list dns_servers;	/* port-53 destinations sent to sbx's resolver */
	bool named;			/* a destination was learnt as a name */
	struct sbx_learn_file *files;
	size_t n_files;
	bool raw_sockets;
	uint64_t lines, events, other, would_deny, deny, allow;
};

void sbx_learn_init(struct sbx_learn *l, const char *want_sandbox);
void sbx_learn_free(struct sbx_learn *l);

/* Takes one line of the audit log. Returns 0, or -EINVAL with the reason
 * in why (a line that is not a JSON object, events of two sandboxes
 * without --sandbox), or -ENOMEM. */
int sbx_learn_line(struct sbx_learn *l, const char *line, char *why, size_t len);

/* Directories generalised: paths of one access class (read, or write) are
 * folded into their parent directory once min_group of them share it, and
 * again upwards, never above the second level ("/usr/lib/", not "/usr/").
 * Read and write rules stay apart; a rule also grants what every directory
 * rule covering it grants, so no rule takes away what a shorter one gave.
 * Sorted by path. */
int sbx_learn_generalise(const struct sbx_learn_file *f, size_t n, unsigned min_group,
			 struct sbx_learn_rule **ret, size_t *ret_n);
void sbx_learn_rules_free(struct sbx_learn_rule *r, size_t n);

/* Writes the learnt profile `name` as a policy file. base (or NULL): only
 * what it lacks is written, with its modes, provider and exec list. */
int sbx_learn_write(const struct sbx_learn *l, const char *name, const char *source,
		    const struct sbx_profile *base, FILE *f);

/* What profile p grants path (SBX_ACC_*): the longest rule, or the mode;
 * with an exec list, x only from the list. */
uint32_t sbx_learn_fs_grant(const struct sbx_profile *p, const char *path);

/* Whether p's network policy allows the destination entry e ("addr:port/proto"
 * or "name:port/proto"). */
bool sbx_learn_net_allows(const struct sbx_profile *p, const struct sbx_net_entry *e);

#endif
