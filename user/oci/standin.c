// SPDX-License-Identifier: MIT
/*
 * TEMPORARY stand-ins for the parts of sbx-oci that other branches write
 * (spec.c, rootfs.c, proc.c, seccomp.c, enforce.c), so that the verbs can be
 * built and tested before they merge. Deleted once the real ones are in.
 * Each is the least that runs a busybox bundle: no refusals, no policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>
#include <unistd.h>

#include "../util/util.h"
#include "oci.h"

extern char **environ;

static char *dupstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static char **strv(json_object *o, const char *key)
{
	json_object *a;

	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
		return NULL;
	size_t n = json_object_array_length(a);
	char **v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		v[i] = strdup(json_object_get_string(json_object_array_get_idx(a, i)));
	return v;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int parse_process(json_object *p, struct oci_process *ret, char *why, size_t len)
{
	json_object *v, *u;

	memset(ret, 0, sizeof(*ret));
	if (json_object_object_get_ex(p, "terminal", &v))
		ret->terminal = json_object_get_boolean(v);
	ret->cwd = dupstr(p, "cwd");
	if (!ret->cwd)
		ret->cwd = strdup("/");
	ret->args = strv(p, "args");
	ret->env = strv(p, "env");
	if (!ret->env)
		ret->env = calloc(1, sizeof(char *));
	if (json_object_object_get_ex(p, "user", &u)) {
		if (json_object_object_get_ex(u, "uid", &v))
			ret->user.uid = (uint32_t)json_object_get_int64(v);
		if (json_object_object_get_ex(u, "gid", &v))
			ret->user.gid = (uint32_t)json_object_get_int64(v);
	}
	if (!ret->args || !ret->args[0])
		return sbx_fail(why, len, -EINVAL, "process.args: missing or empty");
	return 0;
}

static const struct {
	const char *name;
	int type;
} ns_types[] = {
	{ "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
	{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },     { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP },
};

static const char *const hook_keys[OCI_HOOK_KINDS] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static void parse_mounts(json_object *root, struct oci_spec *s)
{
	json_object *a;

	if (!json_object_object_get_ex(root, "mounts", &a))
		return;
	s->n_mounts = json_object_array_length(a);
	s->mounts = calloc(s->n_mounts, sizeof(*s->mounts));
	for (size_t i = 0; s->mounts && i < s->n_mounts; i++) {
		json_object *m = json_object_array_get_idx(a, i), *opts;
		struct oci_mount *om = &s->mounts[i];
		om->destination = dupstr(m, "destination");
		om->type = dupstr(m, "type");
		om->source = dupstr(m, "source");
		if (json_object_object_get_ex(m, "options", &opts))
			for (size_t k = 0; k < json_object_array_length(opts); k++) {
				const char *o = json_object_get_string(json_object_array_get_idx(opts, k));
				if (!strcmp(o, "nosuid"))
					om->flags |= MS_NOSUID;
				else if (!strcmp(o, "noexec"))
					om->flags |= MS_NOEXEC;
				else if (!strcmp(o, "nodev"))
					om->flags |= MS_NODEV;
				else if (!strcmp(o, "ro"))
					om->flags |= MS_RDONLY;
				else if (!strcmp(o, "bind"))
					om->bind = true, om->flags |= MS_BIND;
				else if (!strcmp(o, "rbind"))
					om->rbind = true, om->flags |= MS_BIND | MS_REC;
				else if (strchr(o, '=') && !om->data)
					om->data = strdup(o);
			}
	}
}

int oci_spec_parse(const char *json, size_t n, const char *bundle, struct oci_spec *ret, char *why,
		   size_t len)
{
	struct oci_spec s = { 0 };
	json_object *root = json_tokener_parse(json), *v, *lx, *p;
	(void)n;

	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return sbx_fail(why, len, -EINVAL, "config.json: not a JSON object");
	}
	s.oci_version = dupstr(root, "ociVersion");
	if (json_object_object_get_ex(root, "root", &v)) {
		char *path = dupstr(v, "path");
		json_object *ro;
		if (path && path[0] != '/') {
			char *abs;
			if (asprintf(&abs, "%s/%s", bundle, path) < 0)
				abs = NULL;
			free(path);
			path = abs;
		}
		s.root_path = path;
		if (json_object_object_get_ex(v, "readonly", &ro))
			s.root_readonly = json_object_get_boolean(ro);
	}
	s.hostname = dupstr(root, "hostname");
	if (json_object_object_get_ex(root, "process", &p)) {
		int r = parse_process(p, &s.process, why, len);
		if (r < 0) {
			json_object_put(root);
			oci_spec_free(&s);
			return r;
		}
		s.has_process = true;
	}
	if (json_object_object_get_ex(root, "hooks", &v))
		for (int k = 0; k < OCI_HOOK_KINDS; k++) {
			json_object *a;
			if (!json_object_object_get_ex(v, hook_keys[k], &a))
				continue;
			s.n_hooks[k] = json_object_array_length(a);
			s.hooks[k] = calloc(s.n_hooks[k], sizeof(struct oci_hook));
			for (size_t i = 0; i < s.n_hooks[k]; i++) {
				json_object *h = json_object_array_get_idx(a, i), *t;
				s.hooks[k][i].path = dupstr(h, "path");
				s.hooks[k][i].args = strv(h, "args");
				s.hooks[k][i].env = strv(h, "env");
				if (json_object_object_get_ex(h, "timeout", &t))
					s.hooks[k][i].timeout = json_object_get_int(t);
			}
		}
	if (json_object_object_get_ex(root, "annotations", &v)) {
		s.n_annotations = (size_t)json_object_object_length(v);
		s.annotations = calloc(s.n_annotations + 1, sizeof(*s.annotations));
		size_t i = 0;
		json_object_object_foreach(v, key, val)
		{
			s.annotations[i].key = strdup(key);
			s.annotations[i].value = strdup(json_object_get_string(val));
			i++;
		}
	}
	parse_mounts(root, &s);
	if (json_object_object_get_ex(root, "linux", &lx) &&
	    json_object_object_get_ex(lx, "namespaces", &v))
		for (size_t i = 0; i < json_object_array_length(v) && s.n_namespaces < 8; i++) {
			json_object *ns = json_object_array_get_idx(v, i);
			char *type = dupstr(ns, "type");
			for (size_t k = 0; type && k < sizeof(ns_types) / sizeof(ns_types[0]); k++)
				if (!strcmp(type, ns_types[k].name)) {
					s.namespaces[s.n_namespaces].type = ns_types[k].type;
					s.namespaces[s.n_namespaces++].path = dupstr(ns, "path");
				}
			free(type);
		}
	json_object_put(root);
	if (!s.root_path) {
		oci_spec_free(&s);
		return sbx_fail(why, len, -EINVAL, "config.json: root.path: missing");
	}
	*ret = s;
	return 0;
}

int oci_spec_load(const char *bundle, struct oci_spec *ret, char *why, size_t len)
{
	char path[4096];
	_cleanup_free_ char *data = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	int r = sbx_read_file(path, &data, &n, 4 << 20);
	if (r < 0)
		return sbx_fail(why, len, r, "%s: %s", path, strerror(-r));
	return oci_spec_parse(data, n, bundle, ret, why, len);
}

int oci_process_parse(const char *json, size_t n, struct oci_process *ret, char *why, size_t len)
{
	json_object *root = json_tokener_parse(json);
	(void)n;
	if (!root)
		return sbx_fail(why, len, -EINVAL, "process.json: not JSON");
	int r = parse_process(root, ret, why, len);
	json_object_put(root);
	return r;
}

int oci_process_load(const char *path, struct oci_process *ret, char *why, size_t len)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	int r = sbx_read_file(path, &data, &n, 4 << 20);

	if (r < 0)
		return sbx_fail(why, len, r, "%s: %s", path, strerror(-r));
	return oci_process_parse(data, n, ret, why, len);
}

void oci_process_free(struct oci_process *p)
{
	free(p->cwd);
	strv_free(p->args);
	strv_free(p->env);
	memset(p, 0, sizeof(*p));
}

void oci_spec_free(struct oci_spec *s)
{
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	oci_process_free(&s->process);
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		for (size_t i = 0; i < s->n_hooks[k]; i++) {
			free(s->hooks[k][i].path);
			strv_free(s->hooks[k][i].args);
			strv_free(s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	for (size_t i = 0; i < s->n_annotations; i++) {
		free(s->annotations[i].key);
		free(s->annotations[i].value);
	}
	free(s->annotations);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	for (size_t i = 0; i < s->n_namespaces; i++)
		free(s->namespaces[i].path);
	memset(s, 0, sizeof(*s));
}

const char *oci_annotation(const struct oci_spec *s, const char *key)
{
	for (size_t i = 0; i < s->n_annotations; i++)
		if (!strcmp(s->annotations[i].key, key))
			return s->annotations[i].value;
	return NULL;
}

const struct oci_namespace *oci_namespace_of(const struct oci_spec *s, int type)
{
	for (size_t i = 0; i < s->n_namespaces; i++)
		if (s->namespaces[i].type == type)
			return &s->namespaces[i];
	return NULL;
}

char *oci_features_json(void)
{
	return strdup("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.0.2\"}\n");
}

static void bind_dev(const char *name)
{
	char src[64], dst[64];

	snprintf(src, sizeof(src), "/dev/%s", name);
	snprintf(dst, sizeof(dst), "dev/%s", name);
	int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	if (fd >= 0)
		close(fd);
	mount(src, dst, NULL, MS_BIND, NULL);
}

int oci_rootfs_setup(const struct oci_spec *s, bool no_pivot, char *why, size_t len)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sbx_fail(why, len, -errno, "standin rootfs: make / private: %s", strerror(errno));
	if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sbx_fail(why, len, -errno, "standin rootfs: bind %s: %s", s->root_path,
				strerror(errno));
	if (chdir(s->root_path) < 0)
		return sbx_fail(why, len, -errno, "standin rootfs: chdir: %s", strerror(errno));
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct oci_mount *m = &s->mounts[i];
		char dst[4096];
		if (!m->destination || (m->type && !strcmp(m->type, "cgroup")))
			continue;
		snprintf(dst, sizeof(dst), ".%s", m->destination);
		sbx_mkdir_p(dst, 0755);
		if (mount(m->source, dst, m->type, m->flags, m->data) < 0 && m->type &&
		    strcmp(m->type, "sysfs") && strcmp(m->type, "mqueue"))
			return sbx_fail(why, len, -errno, "standin rootfs: mounts[%zu] %s: %s", i,
					m->destination, strerror(errno));
	}
	sbx_mkdir_p("dev", 0755);
	bind_dev("null");
	bind_dev("zero");
	bind_dev("full");
	bind_dev("random");
	bind_dev("urandom");
	bind_dev("tty");
	if (symlink("pts/ptmx", "dev/ptmx") < 0 && errno != EEXIST)
		return sbx_fail(why, len, -errno, "standin rootfs: /dev/ptmx: %s", strerror(errno));
	if (no_pivot) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
			return sbx_fail(why, len, -errno, "standin rootfs: move: %s", strerror(errno));
	} else {
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return sbx_fail(why, len, -errno, "standin rootfs: pivot_root: %s",
					strerror(errno));
		if (umount2(".", MNT_DETACH) < 0)
			return sbx_fail(why, len, -errno, "standin rootfs: umount old root: %s",
					strerror(errno));
	}
	if (chdir("/") < 0)
		return sbx_fail(why, len, -errno, "standin rootfs: chdir /: %s", strerror(errno));
	if (s->hostname && oci_namespace_of(s, CLONE_NEWUTS) &&
	    sethostname(s->hostname, strlen(s->hostname)) < 0)
		return sbx_fail(why, len, -errno, "standin rootfs: hostname: %s", strerror(errno));
	return 0;
}

int oci_seccomp_load(const struct oci_seccomp *sc, char *why, size_t len)
{
	(void)sc;
	(void)why;
	(void)len;
	return 0;
}

int oci_process_exec(const struct oci_process *p, const struct oci_seccomp *sc, char *why,
		     size_t len, int *exec_errno)
{
	(void)sc;
	if (setgroups(0, NULL) < 0 || setresgid(p->user.gid, p->user.gid, p->user.gid) < 0 ||
	    setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
		return sbx_fail(why, len, -errno, "standin process: identity: %s", strerror(errno));
	if (chdir(p->cwd) < 0)
		return sbx_fail(why, len, -errno, "process.cwd %s: %s", p->cwd, strerror(errno));
	environ = p->env;
	execvp(p->args[0], p->args);
	if (exec_errno)
		*exec_errno = errno;
	return sbx_fail(why, len, -errno, "exec %s: %s", p->args[0], strerror(errno));
}

/* ---- enforce: a plain cgroup2 directory beneath our own ---- */

struct oci_enforce {
	char cgroup[4096];
	char state_dir[4096];
};

int oci_enforce_begin(const struct oci_spec *s, const char *container_id, const char *state_dir,
		      struct oci_enforce **ret, int *ret_cgroup_fd, char *sandbox_id, size_t id_len,
		      char *why, size_t len)
{
	_cleanup_free_ char *self = NULL;
	char mnt[256] = "/sys/fs/cgroup/unified";
	size_t n;
	struct stat st;
	(void)s;

	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0)
		snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup");
	if (sbx_read_file("/proc/self/cgroup", &self, &n, 65536) < 0)
		return sbx_fail(why, len, -EIO, "standin enforce: /proc/self/cgroup");
	char *line = strstr(self, "0::");
	if (!line)
		return sbx_fail(why, len, -EIO, "standin enforce: no cgroup2 line");
	line += 3;
	line[strcspn(line, "\n")] = '\0';
	if (!strcmp(line, "/"))
		line[0] = '\0';
	struct oci_enforce *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	snprintf(e->cgroup, sizeof(e->cgroup), "%s%s/sbx-oci-%s", mnt, line, container_id);
	snprintf(e->state_dir, sizeof(e->state_dir), "%s", state_dir);
	if (mkdir(e->cgroup, 0755) < 0) {
		int err = errno;
		free(e);
		return sbx_fail(why, len, -err, "standin enforce: mkdir cgroup: %s", strerror(err));
	}
	int fd = open(e->cgroup, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		rmdir(e->cgroup);
		free(e);
		return sbx_fail(why, len, -err, "standin enforce: open cgroup: %s", strerror(err));
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/standin.cgroup", state_dir);
	FILE *f = fopen(path, "we");
	if (f) {
		fputs(e->cgroup, f);
		fclose(f);
	}
	snprintf(sandbox_id, id_len, "standin");
	*ret_cgroup_fd = fd;
	*ret = e;
	return 0;
}

int oci_enforce_done(struct oci_enforce *e, pid_t init_pid, char *why, size_t len)
{
	(void)init_pid;
	(void)why;
	(void)len;
	free(e);
	return 0;
}

void oci_enforce_abort(struct oci_enforce *e)
{
	if (!e)
		return;
	for (int i = 0; i < 100 && rmdir(e->cgroup) < 0 && errno == EBUSY; i++)
		usleep(20000);
	free(e);
}

int oci_enforce_wait_gone(const char *state_dir, char *why, size_t len)
{
	char path[4200];
	_cleanup_free_ char *cg = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/standin.cgroup", state_dir);
	if (sbx_read_file(path, &cg, &n, 4096) < 0)
		return 0;
	for (int i = 0; i < 100; i++) {
		if (rmdir(cg) == 0 || errno == ENOENT)
			return 0;
		usleep(20000);
	}
	return sbx_fail(why, len, -ETIMEDOUT, "standin enforce: cgroup %s stays busy", cg);
}
