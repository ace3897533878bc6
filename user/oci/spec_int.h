/* SPDX-License-Identifier: MIT */
/*
 * The inside of the config.json reader (spec.c, spec_linux.c, spec_json.c,
 * spec_tables.c): the parse context that carries the field path for the
 * error sentences, the typed getters, and the name tables that both the
 * parser and the features document (oci_features_json) are made from.
 */
#ifndef SBX_OCI_SPEC_INT_H
#define SBX_OCI_SPEC_INT_H

#include <stdarg.h>
#include <json-c/json.h>

#include "oci/oci.h"

/* Where the parser is: the file's name for the errors, the path of the
 * field being read ("linux.namespaces[2].type"), the warnings so far. */
struct spec_ctx {
	const char *file;
	char *why;
	size_t len;
	char path[768];
	size_t plen;
	char **warnings;		/* NULL-terminated, heap */
	size_t n_warnings;
};

/* Appends ".name" (or "[i]", "[\"key\"]") to the path; returns the mark
 * that sc_pop takes back to. */
size_t sc_push(struct spec_ctx *c, const char *name);
size_t sc_push_index(struct spec_ctx *c, size_t i);
size_t sc_push_key(struct spec_ctx *c, const char *key);
void sc_pop(struct spec_ctx *c, size_t mark);
/* "FILE: PATH: message" into why; returns -EINVAL. */
int sc_fail(struct spec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Names the path and says that sbx-oci does not implement it. */
int sc_unsupported(struct spec_ctx *c, const char *what);
/* "PATH: message" appended to the warnings; 0 or -ENOMEM. */
int sc_warn(struct spec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What an object may hold: every other member is an error. SC_REFUSE:
 * defined by the runtime-spec, not implemented, refused unless unset
 * (null, false, 0, "", [] or {} holding only such values). */
enum sc_kind { SC_KNOWN, SC_REFUSE };
struct sc_field {
	const char *name;
	enum sc_kind kind;
};
/* o must be an object whose members all appear in fields (NULL-named end). */
int sc_object(struct spec_ctx *c, json_object *o, const struct sc_field *fields);
/* Whether a value counts as not given. */
bool sc_unset(json_object *v);

/* A member, type-checked: NULL when absent or null (then *ret is NULL and
 * the call returns 0, or -EINVAL naming the field when required). */
int sc_get(struct spec_ctx *c, json_object *o, const char *name, json_type t, bool required,
	   json_object **ret);
/* Values of the node itself (the path already names it). */
int sc_node_str(struct spec_ctx *c, json_object *v, char **ret);
int sc_node_int(struct spec_ctx *c, json_object *v, int64_t min, int64_t max, int64_t *ret);
int sc_node_u64(struct spec_ctx *c, json_object *v, uint64_t *ret);
/* Members; *has (may be NULL) says whether it was given. */
int sc_str(struct spec_ctx *c, json_object *o, const char *name, bool required, char **ret);
int sc_bool(struct spec_ctx *c, json_object *o, const char *name, bool *ret, bool *has);
int sc_int(struct spec_ctx *c, json_object *o, const char *name, int64_t min, int64_t max,
	   int64_t *ret, bool *has);
int sc_u64(struct spec_ctx *c, json_object *o, const char *name, uint64_t *ret, bool *has);
int sc_u32(struct spec_ctx *c, json_object *o, const char *name, bool required, uint32_t *ret,
	   bool *has);
/* An array of strings into a NULL-terminated vector (NULL when absent);
 * abs_paths: each must be a path inside the container (below). */
int sc_strv(struct spec_ctx *c, json_object *o, const char *name, bool abs_paths, char ***ret);
/* An absolute path without NUL (the path names the field). */
int sc_check_abs(struct spec_ctx *c, const char *p);
/* A path inside the container: absolute, without a ".." part. */
int sc_check_container_path(struct spec_ctx *c, const char *p);
bool sc_has_dotdot(const char *p);

void sc_strv_free(char **v);

/* The parts of the document (spec.c, spec_linux.c). */
int spec_parse_process(struct spec_ctx *c, json_object *o, struct oci_process *p);
int spec_parse_linux(struct spec_ctx *c, json_object *o, struct oci_spec *s);
/* The document: one JSON object, strictly; errors at FILE:LINE:COLUMN. */
int spec_parse_root(const char *json, size_t n, struct spec_ctx *c, json_object **ret);
void spec_seccomp_free(struct oci_seccomp *sc);

/* ---- the tables (spec_tables.c) ----------------------------------------- */

struct spec_name {
	const char *name;
	long value;
};

#define OCI_VERSION_MIN "1.0.0"
#define OCI_VERSION_MAX "1.2.0"

extern const char *const oci_cap_names[];	/* index = capability number */
extern const size_t oci_n_cap_names;
extern const struct spec_name oci_rlimit_names[];
extern const struct spec_name oci_namespace_names[];	/* CLONE_NEW* */
extern const struct spec_name oci_propagation_names[];	/* rootfsPropagation */
extern const struct spec_name oci_seccomp_actions[];	/* SCMP_ACT_* without the errno */
extern const struct spec_name oci_seccomp_ops[];	/* enum scmp_compare */
extern const struct spec_name oci_seccomp_flags[];	/* SECCOMP_FILTER_FLAG_* sbx-oci honours */
extern const char *const oci_seccomp_refused_flags[];
extern const char *const oci_seccomp_arch_names[];	/* SCMP_ARCH_* the runtime-spec names */
extern const char *const oci_hook_names[OCI_HOOK_KINDS];

/* One mount option. */
enum mount_opt_kind { MO_FLAG, MO_CLEAR, MO_PROPAGATION, MO_BIND, MO_RBIND, MO_NONE, MO_REFUSED };
struct mount_opt {
	const char *name;
	enum mount_opt_kind kind;
	unsigned long flags;
};
extern const struct mount_opt oci_mount_opts[];

long spec_name_lookup(const struct spec_name *t, const char *name);	/* -1: none */
const struct mount_opt *spec_mount_opt(const char *name);
int spec_cap_lookup(const char *name);	/* -1: not a capability sbx-oci knows */
int spec_cap_last(void);		/* this kernel's last capability */
/* SCMP_ARCH_X86_64 -> the libseccomp token, 0 when unknown to it. */
uint32_t spec_seccomp_arch(const char *name);

#endif
