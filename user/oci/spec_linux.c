/* SPDX-License-Identifier: MIT */
/*
 * The "linux" object of config.json (runtime-spec config-linux.md):
 * namespaces, id mappings, devices, sysctl, masked and read-only paths,
 * cgroupsPath, rootfsPropagation, resources and seccomp, each error naming
 * its path. What the runtime-spec defines but sbx-oci does not honour is
 * refused when set (intelRdt, personality other than LINUX, hugepage,
 * network and rdma limits, the unified map, seccomp listeners, ...).
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>

#include "oci/spec_int.h"

/* An array member, each element given to fn(c, element, i, arg). */
typedef int (*elem_fn)(struct spec_ctx *c, json_object *v, size_t i, void *arg);

static int each(struct spec_ctx *c, json_object *o, const char *name, elem_fn fn, void *arg,
		size_t *ret_n)
{
	json_object *a;
	size_t mark;
	int r = sc_get(c, o, name, json_type_array, false, &a);

	*ret_n = 0;
	if (r < 0 || !a)
		return r;
	mark = sc_push(c, name);
	for (size_t i = 0; i < json_object_array_length(a) && r == 0; i++) {
		size_t k = sc_push_index(c, i);

		r = fn(c, json_object_array_get_idx(a, i), i, arg);
		sc_pop(c, k);
	}
	sc_pop(c, mark);
	*ret_n = json_object_array_length(a);
	return r;
}

/* calloc for an array member's elements (at least one, so NULL means ENOMEM). */
static void *alloc_for(json_object *o, const char *name, size_t size)
{
	json_object *a;
	size_t n = 0;

	if (json_object_object_get_ex(o, name, &a) && json_object_is_type(a, json_type_array))
		n = json_object_array_length(a);
	return calloc(n ? n : 1, size);
}

/* ---- namespaces and id mappings ----------------------------------------- */

static int parse_namespace(struct spec_ctx *c, json_object *o, size_t i, void *arg)
{
	static const struct sc_field fields[] = {
		{ "type", SC_KNOWN }, { "path", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	struct oci_spec *s = arg;
	struct oci_namespace *ns = &s->namespaces[i];
	char *type = NULL;
	size_t mark;
	long t;
	int r;

	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_str(c, o, "type", true, &type)) < 0)
		return r;
	mark = sc_push(c, "type");
	t = spec_name_lookup(oci_namespace_names, type);
	if (t < 0)
		r = sc_fail(c, "unknown namespace type \"%s\"", type);
	for (size_t j = 0; j < i && r == 0; j++)
		if (s->namespaces[j].type == t)
			r = sc_fail(c, "\"%s\" is given twice (namespaces[%zu] has it)", type, j);
	sc_pop(c, mark);
	free(type);
	if (r < 0)
		return r;
	ns->type = (int)t;
	s->n_namespaces = i + 1;
	if ((r = sc_str(c, o, "path", false, &ns->path)) < 0 || !ns->path)
		return r;
	mark = sc_push(c, "path");
	r = sc_check_abs(c, ns->path);
	sc_pop(c, mark);
	return r;
}

static int parse_namespaces(struct spec_ctx *c, json_object *o, struct oci_spec *s)
{
	json_object *a;
	size_t n, mark;
	int r = sc_get(c, o, "namespaces", json_type_array, false, &a);

	if (r < 0 || !a)
		return r;
	if (json_object_array_length(a) > sizeof(s->namespaces) / sizeof(s->namespaces[0])) {
		mark = sc_push(c, "namespaces");
		r = sc_fail(c, "%zu entries: there are %zu namespace types", json_object_array_length(a),
			    sizeof(s->namespaces) / sizeof(s->namespaces[0]));
		sc_pop(c, mark);
		return r;
	}
	return each(c, o, "namespaces", parse_namespace, s, &n);
}

static int parse_idmap(struct spec_ctx *c, json_object *o, size_t i, void *arg)
{
	static const struct sc_field fields[] = {
		{ "containerID", SC_KNOWN }, { "hostID", SC_KNOWN }, { "size", SC_KNOWN },
		{ NULL, SC_KNOWN },
	};
	struct oci_idmap *m = &((struct oci_idmap *)arg)[i];
	size_t mark;
	int r;

	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_u32(c, o, "containerID", true, &m->container_id, NULL)) < 0 ||
	    (r = sc_u32(c, o, "hostID", true, &m->host_id, NULL)) < 0 ||
	    (r = sc_u32(c, o, "size", true, &m->size, NULL)) < 0)
		return r;
	if (m->size == 0 || (uint64_t)m->container_id + m->size > 1ULL << 32 ||
	    (uint64_t)m->host_id + m->size > 1ULL << 32) {
		mark = sc_push(c, "size");
		r = sc_fail(c, "%u does not fit (it must be at least 1 and the range within 32 bits)", m->size);
		sc_pop(c, mark);
	}
	return r;
}

static int parse_idmaps(struct spec_ctx *c, json_object *o, struct oci_spec *s)
{
	const struct oci_namespace *user;
	size_t mark;
	int r;

	if (!(s->uid_mappings = alloc_for(o, "uidMappings", sizeof(*s->uid_mappings))) ||
	    !(s->gid_mappings = alloc_for(o, "gidMappings", sizeof(*s->gid_mappings))))
		return -ENOMEM;
	if ((r = each(c, o, "uidMappings", parse_idmap, s->uid_mappings, &s->n_uid_mappings)) < 0 ||
	    (r = each(c, o, "gidMappings", parse_idmap, s->gid_mappings, &s->n_gid_mappings)) < 0)
		return r;
	user = oci_namespace_of(s, CLONE_NEWUSER);
	if (!user && (s->n_uid_mappings || s->n_gid_mappings)) {
		mark = sc_push(c, s->n_uid_mappings ? "uidMappings" : "gidMappings");
		r = sc_fail(c, "mappings need a user namespace, and namespaces has none");
	} else if (user && user->path && (s->n_uid_mappings || s->n_gid_mappings)) {
		mark = sc_push(c, s->n_uid_mappings ? "uidMappings" : "gidMappings");
		r = sc_fail(c, "the user namespace is joined (%s): its mappings are already made", user->path);
	} else if (user && !user->path && (!s->n_uid_mappings || !s->n_gid_mappings)) {
		mark = sc_push(c, !s->n_uid_mappings ? "uidMappings" : "gidMappings");
		r = sc_fail(c, "a new user namespace needs both uidMappings and gidMappings");
	} else {
		return 0;
	}
	sc_pop(c, mark);
	return r;
}

/* ---- devices, sysctl, paths --------------------------------------------- */

static int parse_device(struct spec_ctx *c, json_object *o, size_t i, void *arg)
{
	static const struct sc_field fields[] = {
		{ "type", SC_KNOWN }, { "path", SC_KNOWN }, { "major", SC_KNOWN }, { "minor", SC_KNOWN },
		{ "fileMode", SC_KNOWN }, { "uid", SC_KNOWN }, { "gid", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	struct oci_spec *s = arg;
	struct oci_device *d = &s->devices[i];
	bool has_major, has_minor;
	char *type = NULL;
	size_t mark;
	int r;

	s->n_devices = i + 1;
	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_str(c, o, "path", true, &d->path)) < 0)
		return r;
	mark = sc_push(c, "path");
	r = sc_check_container_path(c, d->path);
	sc_pop(c, mark);
	if (r < 0 || (r = sc_str(c, o, "type", true, &type)) < 0)
		return r;
	mark = sc_push(c, "type");
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		r = sc_fail(c, "\"%s\" is not a device type (c, b, u or p)", type);
	d->type = type[0];
	sc_pop(c, mark);
	free(type);
	if (r < 0 || (r = sc_int(c, o, "major", 0, UINT32_MAX, &d->major, &has_major)) < 0 ||
	    (r = sc_int(c, o, "minor", 0, UINT32_MAX, &d->minor, &has_minor)) < 0 ||
	    (r = sc_u32(c, o, "fileMode", false, &d->mode, &d->has_mode)) < 0 ||
	    (r = sc_u32(c, o, "uid", false, &d->uid, &d->has_uid)) < 0 ||
	    (r = sc_u32(c, o, "gid", false, &d->gid, &d->has_gid)) < 0)
		return r;
	if (d->type != 'p' && (!has_major || !has_minor)) {
		mark = sc_push(c, has_major ? "minor" : "major");
		r = sc_fail(c, "missing; a device of type %c needs major and minor", d->type);
		sc_pop(c, mark);
	} else if (d->has_mode && d->mode > 07777) {
		mark = sc_push(c, "fileMode");
		r = sc_fail(c, "%#o is not a permission mode (0..07777)", d->mode);
		sc_pop(c, mark);
	}
	return r;
}

/* Which namespace a sysctl belongs to (as runc sees it); 0: none, the
 * host's own, refused. */
static int sysctl_namespace(const char *key)
{
	static const char *const ipc[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
		"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL,
	};

	for (const char *const *k = ipc; *k; k++)
		if (!strcmp(key, *k))
			return CLONE_NEWIPC;
	if (!strncmp(key, "fs.mqueue.", 10))
		return CLONE_NEWIPC;
	if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
		return CLONE_NEWUTS;
	if (!strncmp(key, "net.", 4))
		return CLONE_NEWNET;
	return 0;
}

/* A key names a file under /proc/sys: no "..", no empty part, plain bytes. */
static int sysctl_key(struct spec_ctx *c, const char *key, char *norm, size_t len)
{
	size_t i;

	if (!key[0] || strlen(key) >= len)
		return sc_fail(c, "is not a sysctl name");
	for (i = 0; key[i]; i++) {
		char ch = key[i] == '/' ? '.' : key[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
		    !strchr("._-:@", ch))
			return sc_fail(c, "is not a sysctl name (a byte %#x)", (unsigned char)key[i]);
		norm[i] = ch;
	}
	norm[i] = 0;
	if (norm[0] == '.' || norm[i - 1] == '.' || strstr(norm, ".."))
		return sc_fail(c, "is not a sysctl name (an empty part)");
	return 0;
}

static int parse_sysctl(struct spec_ctx *c, json_object *lo, struct oci_spec *s)
{
	json_object *o;
	size_t mark;
	int r = sc_get(c, lo, "sysctl", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	s->sysctl = calloc((size_t)json_object_object_length(o) + 1, sizeof(*s->sysctl));
	if (!s->sysctl)
		return -ENOMEM;
	mark = sc_push(c, "sysctl");
	json_object_object_foreach(o, k, v) {
		size_t m = sc_push_key(c, k);
		struct oci_sysctl *e = &s->sysctl[s->n_sysctl++];
		char norm[256];
		int ns;

		if ((r = sysctl_key(c, k, norm, sizeof(norm))) == 0 && (r = sc_node_str(c, v, &e->value)) == 0 &&
		    (r = (e->key = strdup(k)) ? 0 : -ENOMEM) == 0) {
			ns = sysctl_namespace(norm);
			if (!ns)
				r = sc_fail(c, "is not in a namespace of the container: it would change the host");
			else if (!oci_namespace_of(s, ns))
				r = sc_fail(c, "needs the container's own %s namespace, and namespaces has none",
					    ns == CLONE_NEWNET ? "network" : ns == CLONE_NEWIPC ? "ipc" : "uts");
		}
		sc_pop(c, m);
		if (r < 0)
			break;
	}
	sc_pop(c, mark);
	return r;
}

/* cgroupsPath: "/a/b" (cgroupfs) or "slice:prefix:name" (systemd). Either
 * way no ".." part, so that it cannot climb out of sbx's cgroup root. */
static int parse_cgroups_path(struct spec_ctx *c, json_object *o, struct oci_spec *s)
{
	size_t mark;
	int r = sc_str(c, o, "cgroupsPath", false, &s->cgroups_path);

	if (r < 0 || !s->cgroups_path)
		return r;
	mark = sc_push(c, "cgroupsPath");
	/* no control characters and no more than a path: it is written, one
	 * line, into sbx-enforce.state beside the families= record that exec
	 * reads back (a "\nfamilies=off" in it turned the filter off) */
	if (strlen(s->cgroups_path) >= PATH_MAX)
		r = sc_fail(c, "is longer than %d bytes", PATH_MAX - 1);
	for (const char *p = s->cgroups_path; *p && !r; p++) {
		bool start = p == s->cgroups_path || p[-1] == '/' || p[-1] == ':';

		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			r = sc_fail(c, "has a control character (0x%02x)", (unsigned char)*p);
			break;
		}
		if (start && p[0] == '.' && p[1] == '.' && (!p[2] || p[2] == '/' || p[2] == ':')) {
			r = sc_fail(c, "\"%s\" has a \"..\" part", s->cgroups_path);
			break;
		}
	}
	sc_pop(c, mark);
	return r;
}

static int parse_propagation(struct spec_ctx *c, json_object *o, struct oci_spec *s)
{
	char *p = NULL;
	size_t mark;
	long v;
	int r = sc_str(c, o, "rootfsPropagation", false, &p);

	if (r < 0 || !p)
		return r;
	mark = sc_push(c, "rootfsPropagation");
	v = spec_name_lookup(oci_propagation_names, p);
	if (v < 0)
		r = sc_fail(c, "\"%s\" is not a propagation (private, slave, shared, unbindable, with or "
			    "without r)", p);
	else
		s->rootfs_propagation = (unsigned long)v;
	sc_pop(c, mark);
	free(p);
	return r;
}

static int parse_personality(struct spec_ctx *c, json_object *lo)
{
	static const struct sc_field fields[] = {
		{ "domain", SC_KNOWN }, { "flags", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	json_object *o, *flags;
	char *domain = NULL;
	size_t mark;
	int r = sc_get(c, lo, "personality", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	mark = sc_push(c, "personality");
	if ((r = sc_object(c, o, fields)) == 0 && (r = sc_str(c, o, "domain", true, &domain)) == 0 &&
	    (r = sc_get(c, o, "flags", json_type_array, false, &flags)) == 0) {
		size_t m = sc_push(c, strcmp(domain, "LINUX") ? "domain" : "flags");

		if (strcmp(domain, "LINUX") || (flags && json_object_array_length(flags)))
			r = sc_unsupported(c, "a personality other than plain LINUX is");
		sc_pop(c, m);
	}
	free(domain);
	sc_pop(c, mark);
	return r;
}

static int parse_labels(struct spec_ctx *c, json_object *o, struct oci_spec *s)
{
	size_t mark;
	int r = sc_str(c, o, "mountLabel", false, &s->mount_label);

	if (r < 0 || !s->mount_label || !s->mount_label[0])
		return r;
	mark = sc_push(c, "mountLabel");
	r = sc_unsupported(c, "SELinux is");
	sc_pop(c, mark);
	return r;
}

/* ---- resources ---------------------------------------------------------- */

static int parse_device_rule(struct spec_ctx *c, json_object *o, size_t i, void *arg)
{
	static const struct sc_field fields[] = {
		{ "allow", SC_KNOWN }, { "type", SC_KNOWN }, { "major", SC_KNOWN }, { "minor", SC_KNOWN },
		{ "access", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	struct oci_resources *res = arg;
	struct oci_device_rule *d = &res->devices[i];
	char *type = NULL, *access = NULL;
	bool has_allow, has;
	size_t mark;
	int r;

	res->n_devices = i + 1;
	d->type = 'a';
	d->major = d->minor = -1;
	strcpy(d->access, "rwm");
	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_bool(c, o, "allow", &d->allow, &has_allow)) < 0)
		return r;
	if (!has_allow) {
		mark = sc_push(c, "allow");
		r = sc_fail(c, "missing; the runtime-spec requires it");
		sc_pop(c, mark);
		return r;
	}
	if ((r = sc_int(c, o, "major", -1, UINT32_MAX, &d->major, &has)) < 0 ||
	    (r = sc_int(c, o, "minor", -1, UINT32_MAX, &d->minor, &has)) < 0 ||
	    (r = sc_str(c, o, "type", false, &type)) < 0 || (r = sc_str(c, o, "access", false, &access)) < 0)
		goto out;
	if (type) {
		mark = sc_push(c, "type");
		if (strlen(type) != 1 || !strchr("acb", type[0]))
			r = sc_fail(c, "\"%s\" is not a device rule type (a, c or b)", type);
		d->type = type[0];
		sc_pop(c, mark);
	}
	if (r == 0 && access) {
		mark = sc_push(c, "access");
		if (!access[0] || strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
			r = sc_fail(c, "\"%s\" is not an access (r, w and m)", access);
		else
			strcpy(d->access, access);
		sc_pop(c, mark);
	}
out:
	free(type);
	free(access);
	return r;
}

static int parse_memory(struct spec_ctx *c, json_object *ro, struct oci_resources *res)
{
	static const struct sc_field fields[] = {
		{ "limit", SC_KNOWN }, { "reservation", SC_KNOWN }, { "swap", SC_KNOWN },
		{ "kernel", SC_KNOWN }, { "kernelTCP", SC_REFUSE }, { "swappiness", SC_KNOWN },
		{ "disableOOMKiller", SC_KNOWN }, { "useHierarchy", SC_REFUSE },
		{ "checkBeforeUpdate", SC_REFUSE }, { NULL, SC_KNOWN },
	};
	json_object *o, *v;
	int64_t kmem;
	bool has_kmem;
	size_t mark;
	int r = sc_get(c, ro, "memory", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	mark = sc_push(c, "memory");
	if ((r = sc_object(c, o, fields)) < 0 ||
	    (r = sc_int(c, o, "limit", -1, INT64_MAX, &res->memory_limit, &res->has_memory_limit)) < 0 ||
	    (r = sc_int(c, o, "reservation", -1, INT64_MAX, &res->memory_reservation,
			&res->has_memory_reservation)) < 0 ||
	    (r = sc_int(c, o, "swap", -1, INT64_MAX, &res->memory_swap, &res->has_memory_swap)) < 0 ||
	    (r = sc_bool(c, o, "disableOOMKiller", &res->disable_oom_killer, NULL)) < 0 ||
	    (r = sc_int(c, o, "kernel", -1, INT64_MAX, &kmem, &has_kmem)) < 0)
		goto out;
	/* 0 is a setting here (never swap), so "unset" means absent or null */
	if (json_object_object_get_ex(o, "swappiness", &v) && !json_object_is_type(v, json_type_null)) {
		size_t m = sc_push(c, "swappiness");

		r = sc_unsupported(c, "this setting is");
		sc_pop(c, m);
		goto out;
	}
	if (has_kmem) {
		size_t m = sc_push(c, "kernel");

		r = sc_warn(c, "ignored: kernel memory limits are deprecated (Linux 5.4) and not applied, "
			    "as runc 1.1 does");
		sc_pop(c, m);
	}
out:
	sc_pop(c, mark);
	return r;
}

static int parse_cpu(struct spec_ctx *c, json_object *ro, struct oci_resources *res)
{
	static const struct sc_field fields[] = {
		{ "shares", SC_KNOWN }, { "quota", SC_KNOWN }, { "period", SC_KNOWN },
		{ "cpus", SC_KNOWN }, { "mems", SC_KNOWN }, { "burst", SC_REFUSE },
		{ "realtimeRuntime", SC_REFUSE }, { "realtimePeriod", SC_REFUSE }, { "idle", SC_REFUSE },
		{ NULL, SC_KNOWN },
	};
	json_object *o;
	size_t mark;
	int r = sc_get(c, ro, "cpu", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	mark = sc_push(c, "cpu");
	if ((r = sc_object(c, o, fields)) == 0 &&
	    (r = sc_u64(c, o, "shares", &res->cpu_shares, &res->has_cpu_shares)) == 0 &&
	    (r = sc_int(c, o, "quota", -1, INT64_MAX, &res->cpu_quota, &res->has_cpu_quota)) == 0 &&
	    (r = sc_u64(c, o, "period", &res->cpu_period, &res->has_cpu_period)) == 0 &&
	    (r = sc_str(c, o, "cpus", false, &res->cpuset_cpus)) == 0)
		r = sc_str(c, o, "mems", false, &res->cpuset_mems);
	sc_pop(c, mark);
	return r;
}

static int parse_blkio(struct spec_ctx *c, json_object *ro, struct oci_resources *res)
{
	static const struct sc_field fields[] = {
		{ "weight", SC_KNOWN }, { "leafWeight", SC_REFUSE }, { "weightDevice", SC_REFUSE },
		{ "throttleReadBpsDevice", SC_REFUSE }, { "throttleWriteBpsDevice", SC_REFUSE },
		{ "throttleReadIOPSDevice", SC_REFUSE }, { "throttleWriteIOPSDevice", SC_REFUSE },
		{ NULL, SC_KNOWN },
	};
	json_object *o;
	int64_t w;
	bool has;
	size_t mark;
	int r = sc_get(c, ro, "blockIO", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	mark = sc_push(c, "blockIO");
	if ((r = sc_object(c, o, fields)) == 0 && (r = sc_int(c, o, "weight", 10, 1000, &w, &has)) == 0 && has)
		res->blkio_weight = (uint16_t)w;
	sc_pop(c, mark);
	return r;
}

static int parse_pids(struct spec_ctx *c, json_object *ro, struct oci_resources *res)
{
	static const struct sc_field fields[] = { { "limit", SC_KNOWN }, { NULL, SC_KNOWN } };
	json_object *o;
	size_t mark;
	int r = sc_get(c, ro, "pids", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	mark = sc_push(c, "pids");
	if ((r = sc_object(c, o, fields)) == 0)
		r = sc_int(c, o, "limit", INT64_MIN, INT64_MAX, &res->pids_limit, &res->has_pids_limit);
	sc_pop(c, mark);
	return r;
}

/* hugepageLimits[i]: Kubernetes sends one per page size the host knows,
 * limit 0 when the pod asked for none. pageSize is "<N>(KB|MB|GB)". */
static int parse_hugepage_limit(struct spec_ctx *c, json_object *o, size_t i, void *arg)
{
	static const struct sc_field fields[] = {
		{ "pageSize", SC_KNOWN }, { "limit", SC_KNOWN }, { NULL, SC_KNOWN },
	};
	struct oci_resources *res = arg;
	struct oci_hugepage_limit *h = &res->hugepages[i];
	unsigned long long n;
	char *size = NULL, unit[3] = "";
	bool has;
	size_t mark;
	int len = 0, r;

	res->n_hugepages = i + 1;
	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_str(c, o, "pageSize", true, &size)) < 0 ||
	    (r = sc_u64(c, o, "limit", &h->limit, &has)) < 0)
		goto out;
	mark = sc_push(c, "pageSize");
	if (sscanf(size, "%llu%2[KMG]B%n", &n, unit, &len) != 2 || (size_t)len != strlen(size) || !n ||
	    n > (1ULL << 40))
		r = sc_fail(c, "\"%s\" is not a page size (like \"2MB\" or \"1GB\")", size);
	else
		h->page_kib = n << (unit[0] == 'K' ? 0 : unit[0] == 'M' ? 10 : 20);
	sc_pop(c, mark);
	if (r == 0 && !has) {
		mark = sc_push(c, "limit");
		r = sc_fail(c, "missing; the runtime-spec requires it");
		sc_pop(c, mark);
	}
out:
	free(size);
	return r;
}

static int parse_resources(struct spec_ctx *c, json_object *lo, struct oci_resources *res)
{
	static const struct sc_field fields[] = {
		{ "devices", SC_KNOWN }, { "memory", SC_KNOWN }, { "cpu", SC_KNOWN },
		{ "blockIO", SC_KNOWN }, { "pids", SC_KNOWN }, { "hugepageLimits", SC_KNOWN },
		{ "network", SC_REFUSE }, { "rdma", SC_REFUSE }, { "unified", SC_REFUSE },
		{ NULL, SC_KNOWN },
	};
	json_object *o;
	size_t mark;
	int r = sc_get(c, lo, "resources", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	mark = sc_push(c, "resources");
	if ((r = sc_object(c, o, fields)) < 0)
		goto out;
	if (!(res->devices = alloc_for(o, "devices", sizeof(*res->devices)))) {
		r = -ENOMEM;
		goto out;
	}
	if (!(res->hugepages = alloc_for(o, "hugepageLimits", sizeof(*res->hugepages)))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = each(c, o, "devices", parse_device_rule, res, &res->n_devices)) == 0 &&
	    (r = each(c, o, "hugepageLimits", parse_hugepage_limit, res, &res->n_hugepages)) == 0 &&
	    (r = parse_memory(c, o, res)) == 0 && (r = parse_cpu(c, o, res)) == 0 &&
	    (r = parse_blkio(c, o, res)) == 0)
		r = parse_pids(c, o, res);
out:
	sc_pop(c, mark);
	return r;
}

/* ---- seccomp ------------------------------------------------------------ */

void spec_seccomp_free(struct oci_seccomp *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n_rules; i++) {
		sc_strv_free(sc->rules[i].names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	free(sc->arches);
	free(sc);
}

/* An action and its errno: SCMP_ACT_ERRNO and SCMP_ACT_TRACE take
 * errnoRet (EPERM when not given, as runc does), nothing else does. */
static int seccomp_action(struct spec_ctx *c, json_object *o, const char *key, const char *errno_key,
			  uint32_t *ret)
{
	char *name = NULL;
	int64_t err = EPERM;
	bool has_err;
	size_t mark;
	long a;
	int r = sc_str(c, o, key, true, &name);

	if (r < 0)
		return r;
	if ((r = sc_int(c, o, errno_key, 0, 0xffff, &err, &has_err)) < 0)
		goto out;
	mark = sc_push(c, key);
	a = spec_name_lookup(oci_seccomp_actions, name);
	if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		r = sc_unsupported(c, "SCMP_ACT_NOTIFY (a user-space listener) is");
	else if (a < 0)
		r = sc_fail(c, "unknown seccomp action \"%s\"", name);
	sc_pop(c, mark);
	if (r < 0)
		goto out;
	if ((uint32_t)a == SCMP_ACT_ERRNO(0))
		*ret = SCMP_ACT_ERRNO((uint32_t)err);
	else if ((uint32_t)a == SCMP_ACT_TRACE(0))
		*ret = SCMP_ACT_TRACE((uint32_t)err);
	else if (has_err) {
		mark = sc_push(c, errno_key);
		r = sc_fail(c, "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not %s", name);
		sc_pop(c, mark);
	} else
		*ret = (uint32_t)a;
out:
	free(name);
	return r;
}

static int parse_seccomp_arg(struct spec_ctx *c, json_object *o, size_t i, void *arg)
{
	static const struct sc_field fields[] = {
		{ "index", SC_KNOWN }, { "value", SC_KNOWN }, { "valueTwo", SC_KNOWN }, { "op", SC_KNOWN },
		{ NULL, SC_KNOWN },
	};
	struct oci_seccomp_rule *rule = arg;
	struct oci_seccomp_arg *a = &rule->args[i];
	bool has_value;
	char *op = NULL;
	int64_t index = 0;
	size_t mark;
	long v;
	int r;

	rule->n_args = i + 1;
	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_int(c, o, "index", 0, 5, &index, NULL)) < 0 ||
	    (r = sc_u64(c, o, "value", &a->value, &has_value)) < 0 ||
	    (r = sc_u64(c, o, "valueTwo", &a->value2, NULL)) < 0 || (r = sc_str(c, o, "op", true, &op)) < 0)
		return r;
	a->index = (unsigned)index;
	mark = sc_push(c, "op");
	v = spec_name_lookup(oci_seccomp_ops, op);
	if (v < 0)
		r = sc_fail(c, "unknown seccomp operator \"%s\"", op);
	a->op = (int)v;
	sc_pop(c, mark);
	free(op);
	if (r == 0 && (!json_object_object_get_ex(o, "index", NULL) || !has_value)) {
		mark = sc_push(c, has_value ? "index" : "value");
		r = sc_fail(c, "missing; the runtime-spec requires it");
		sc_pop(c, mark);
	}
	return r;
}

/* Syscall names are kept as given: one libseccomp does not know is
 * skipped when the filter is loaded (seccomp.c), as runc does. */
static int parse_seccomp_rule(struct spec_ctx *c, json_object *o, size_t i, void *arg)
{
	static const struct sc_field fields[] = {
		{ "names", SC_KNOWN }, { "action", SC_KNOWN }, { "errnoRet", SC_KNOWN },
		{ "args", SC_KNOWN }, { "comment", SC_KNOWN }, { "includes", SC_REFUSE },
		{ "excludes", SC_REFUSE }, { NULL, SC_KNOWN },
	};
	struct oci_seccomp *sc = arg;
	struct oci_seccomp_rule *rule = &sc->rules[i];
	size_t mark;
	int r;

	sc->n_rules = i + 1;
	if ((r = sc_object(c, o, fields)) < 0 || (r = sc_strv(c, o, "names", false, &rule->names)) < 0)
		return r;
	if (!rule->names || !rule->names[0]) {
		mark = sc_push(c, "names");
		r = sc_fail(c, rule->names ? "is empty" : "missing; the runtime-spec requires it");
		sc_pop(c, mark);
		return r;
	}
	for (size_t j = 0; rule->names[j]; j++)
		if (!rule->names[j][0]) {
			mark = sc_push(c, "names");
			sc_push_index(c, j);
			r = sc_fail(c, "an empty syscall name");
			sc_pop(c, mark);
			return r;
		}
	if ((r = sc_get(c, o, "comment", json_type_string, false, &(json_object *){ NULL })) < 0)
		return r;
	if ((r = seccomp_action(c, o, "action", "errnoRet", &rule->action)) < 0)
		return r;
	if (!(rule->args = alloc_for(o, "args", sizeof(*rule->args))))
		return -ENOMEM;
	return each(c, o, "args", parse_seccomp_arg, rule, &rule->n_args);
}

static int parse_seccomp_arch(struct spec_ctx *c, json_object *v, size_t i, void *arg)
{
	struct oci_seccomp *sc = arg;
	char *name = NULL;
	int r = sc_node_str(c, v, &name);

	if (r < 0)
		return r;
	sc->arches[i] = spec_seccomp_arch(name);
	sc->n_arches = i + 1;
	if (!sc->arches[i])
		r = sc_fail(c, "unknown architecture \"%s\" (libseccomp %s it)", name,
			    strncmp(name, "SCMP_ARCH_", 10) ? "names it SCMP_ARCH_..., and does not know"
							     : "does not know");
	for (size_t j = 0; j < i && r == 0; j++)
		if (sc->arches[j] == sc->arches[i])
			r = sc_fail(c, "\"%s\" is given twice", name);
	free(name);
	return r;
}

static int parse_seccomp_flag(struct spec_ctx *c, json_object *v, size_t i, void *arg)
{
	struct oci_seccomp *sc = arg;
	char *name = NULL;
	long f;
	int r = sc_node_str(c, v, &name);

	(void)i;
	if (r < 0)
		return r;
	f = spec_name_lookup(oci_seccomp_flags, name);
	if (f >= 0) {
		sc->flags |= (uint32_t)f;
	} else {
		r = sc_fail(c, "unknown seccomp flag \"%s\"", name);
		for (const char *const *k = oci_seccomp_refused_flags; *k; k++)
			if (!strcmp(*k, name))
				r = sc_unsupported(c, "this seccomp flag is");
	}
	free(name);
	return r;
}

static int parse_seccomp_body(struct spec_ctx *c, json_object *o, struct oci_seccomp *sc)
{
	static const struct sc_field fields[] = {
		{ "defaultAction", SC_KNOWN }, { "defaultErrnoRet", SC_KNOWN },
		{ "architectures", SC_KNOWN }, { "flags", SC_KNOWN }, { "syscalls", SC_KNOWN },
		{ "listenerPath", SC_REFUSE }, { "listenerMetadata", SC_REFUSE }, { NULL, SC_KNOWN },
	};
	size_t n;
	int r;

	if ((r = sc_object(c, o, fields)) < 0 ||
	    (r = seccomp_action(c, o, "defaultAction", "defaultErrnoRet", &sc->default_action)) < 0)
		return r;
	if (!(sc->arches = alloc_for(o, "architectures", sizeof(*sc->arches))) ||
	    !(sc->rules = alloc_for(o, "syscalls", sizeof(*sc->rules))))
		return -ENOMEM;
	if ((r = each(c, o, "architectures", parse_seccomp_arch, sc, &n)) < 0 ||
	    (r = each(c, o, "flags", parse_seccomp_flag, sc, &n)) < 0)
		return r;
	return each(c, o, "syscalls", parse_seccomp_rule, sc, &n);
}

static int parse_seccomp(struct spec_ctx *c, json_object *lo, struct oci_spec *s)
{
	json_object *o;
	size_t mark;
	int r = sc_get(c, lo, "seccomp", json_type_object, false, &o);

	if (r < 0 || !o)
		return r;
	s->seccomp = calloc(1, sizeof(*s->seccomp));
	if (!s->seccomp)
		return -ENOMEM;
	mark = sc_push(c, "seccomp");
	r = parse_seccomp_body(c, o, s->seccomp);
	sc_pop(c, mark);
	return r;
}

/* ---- linux -------------------------------------------------------------- */

static int parse_paths_and_devices(struct spec_ctx *c, json_object *o, struct oci_spec *s)
{
	size_t n;
	int r;

	if ((r = sc_strv(c, o, "maskedPaths", true, &s->masked_paths)) < 0 ||
	    (r = sc_strv(c, o, "readonlyPaths", true, &s->readonly_paths)) < 0)
		return r;
	if (!(s->devices = alloc_for(o, "devices", sizeof(*s->devices))))
		return -ENOMEM;
	return each(c, o, "devices", parse_device, s, &n);
}

int spec_parse_linux(struct spec_ctx *c, json_object *o, struct oci_spec *s)
{
	static const struct sc_field fields[] = {
		{ "devices", SC_KNOWN }, { "uidMappings", SC_KNOWN }, { "gidMappings", SC_KNOWN },
		{ "sysctl", SC_KNOWN }, { "cgroupsPath", SC_KNOWN }, { "resources", SC_KNOWN },
		{ "namespaces", SC_KNOWN }, { "seccomp", SC_KNOWN }, { "rootfsPropagation", SC_KNOWN },
		{ "maskedPaths", SC_KNOWN }, { "readonlyPaths", SC_KNOWN }, { "mountLabel", SC_KNOWN },
		{ "personality", SC_KNOWN }, { "intelRdt", SC_REFUSE }, { "timeOffsets", SC_REFUSE },
		{ "netDevices", SC_REFUSE }, { "memoryPolicy", SC_REFUSE }, { NULL, SC_KNOWN },
	};
	int r;

	if ((r = sc_object(c, o, fields)) < 0 || (r = parse_namespaces(c, o, s)) < 0 ||
	    (r = parse_idmaps(c, o, s)) < 0 || (r = parse_paths_and_devices(c, o, s)) < 0 ||
	    (r = parse_sysctl(c, o, s)) < 0 || (r = parse_cgroups_path(c, o, s)) < 0 ||
	    (r = parse_propagation(c, o, s)) < 0 || (r = parse_personality(c, o)) < 0 ||
	    (r = parse_labels(c, o, s)) < 0 || (r = parse_resources(c, o, &s->resources)) < 0)
		return r;
	return parse_seccomp(c, o, s);
}
