/* SPDX-License-Identifier: MIT */
/*
 * Interfaces shared by the policy sources (policy.c loads files and merges
 * layers, profile.c applies one TOML table to a profile, netentry.c parses
 * network entries). Not part of the public API.
 */
#ifndef SBX_POLICY_INTERNAL_H
#define SBX_POLICY_INTERNAL_H

#include <stdarg.h>

#include "policy.h"
#include "toml.h"

#define SBX_POLICY_FILE_MAX (16u << 20)	/* bytes of one policy file */
#define SBX_NAME_MAX 128		/* profile and environment names */
#define SBX_SECCOMP_NAMES_MAX 512	/* names in seccomp.deny, and in seccomp.allow */

struct pdiag {
	size_t file_idx;	/* load order of the file, for sorting */
	size_t seq;		/* order found, breaks ties */
	struct sbx_diag d;
};

/* The state of one load: where diagnostics go and which files exist. */
struct pctx {
	struct pdiag *v;
	size_t n, cap;
	char *const *files;	/* the policy's file names (positions point here) */
	size_t n_files;
};

/* Records an error at file:pos (pos may be NULL). Returns 0 or -ENOMEM. */
int pctx_diag(struct pctx *c, const char *file, const struct toml_pos *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int pctx_vdiag(struct pctx *c, const char *file, const struct toml_pos *pos, const char *fmt,
	       va_list ap) __attribute__((format(printf, 4, 0)));

/* The closest of cands (NULL-terminated) to word within edit distance 2, or NULL. */
const char *sbx_suggest(const char *word, const char *const *cands);

/* Copies s into buf (at most 64 characters), escaping what is not printable. */
const char *sbx_printable(const char *s, size_t len, char *buf, size_t buflen);

/* Builds an entry from the table form { to, ports, proto }; ports/proto may be NULL. */
int sbx_net_entry_from_parts(const char *to, const char *ports, const char *proto,
			     struct sbx_net_entry *ret, char *errbuf, size_t errlen);

/* Parses an interface address "A.B.C.D/PREFIX" (veth_host, veth_sandbox):
 * host bits allowed, prefix 1-31, a unicast address that is neither the
 * network nor the broadcast address of its subnet. *addr is in host byte
 * order. Same contract as sbx_parse_net_entry(). */
int sbx_parse_ifaddr4(const char *s, uint32_t *addr, uint8_t *prefix, char *errbuf, size_t errlen);

/* A profile with every default set (name not set). */
void sbx_profile_init(struct sbx_profile *p);
void sbx_profile_clear(struct sbx_profile *p);

/*
 * Applies one table ([defaults], [profile."x"], an overlay) to p: each key
 * replaces the field, except the tables env, network, fs, seccomp, mock, gvisor,
 * wasm and microvm whose keys are applied one by one. Problems become diagnostics; where names the table in
 * them ("profile 'x'"). Returns 0 or -ENOMEM.
 */
int sbx_profile_apply(struct pctx *c, struct sbx_profile *p, const struct toml_value *tab,
		      const char *file, const char *where);

/* Checks that need the resolved profile (mode vs entries, conflicts, totals). */
int sbx_profile_check(struct pctx *c, const struct sbx_profile *p);

/*
 * The seeds' dialect (seeds.c, docs/policy.md "The seeds' dialect").
 * sbx_seeds_dialect() tells a parsed file's dialect by its top-level keys:
 * a file with both dialects' keys gets a diagnostic at the first key of the
 * dialect it is not in. sbx_seeds_translate() turns a seeds' file into the
 * tree of the native form ([profile."NAME"] tables), its values carrying the
 * positions of the seeds' values; problems become diagnostics (the tree
 * then holds what could be translated). Returns 0 (*ret set) or -ENOMEM.
 */
enum { SBX_DIALECT_NATIVE = 0, SBX_DIALECT_SEEDS, SBX_DIALECT_MIXED };
int sbx_seeds_dialect(struct pctx *c, const char *file, const struct toml_value *root);
int sbx_seeds_translate(struct pctx *c, const char *file, const struct toml_value *root,
			struct toml_value **ret);

#endif /* SBX_POLICY_INTERNAL_H */
