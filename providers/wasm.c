/* SPDX-License-Identifier: MIT */
/*
 * The "wasm" provider: runs a WASI (preview1) module, `sbx run --provider
 * wasm -- module.wasm ARGS...`, with the first runtime found among wasmtime,
 * wasmer, iwasm, wasmedge and Node.js's built-in node:wasi (or the one the
 * profile's wasm.runtime names), inside the process provider's sandbox:
 * namespaces, filesystem view, no privileges, seccomp, Landlock scoping,
 * cgroup and eBPF policy all apply to the runtime as to any workload.
 *
 * This file only translates: it builds a copy of the profile for the runtime
 * (no profile env, the runtime binary made visible) and the runtime's command
 * line, then hands both to sbx_provider_process. What the module sees:
 *   - its argv: the command as given (argv[0] = the module path as typed);
 *   - its environment: the profile's env, nothing else (the runtime process
 *     itself gets only PATH, HOME and TERM from the process provider);
 *   - its preopened directories: the profile's fs rules that name existing
 *     directories with some access, each at its own path (the view binds
 *     them there; read-only rules are read-only binds), plus "." for the
 *     profile's cwd when a rule covers it. File rules cannot be preopened.
 *
 * The module itself is copied into a sealed memfd in sbx and passed to the
 * runtime as an inherited read-only descriptor, so it need not be visible in
 * the view, cannot change between check and use, and nothing of the host
 * file is writable from inside. A module that cannot be opened, read or is
 * not WebAssembly fails like a command that cannot be executed: 127 when
 * missing, 126 otherwise, with the sandbox started and ended as usual.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/json.h"
#include "provider.h"
#include "util/util.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

#define NODE_MIN_MAJOR 18	/* Debian 12's nodejs; node:wasi needs no flag from 18 on */
#define NODE_MIN_PIDS 5		/* init + node with --v8-pool-size=1 */
#define NODE_V8_POOL 4		/* node's default V8 worker pool */
#define CFG_ENV "SBX_WASM"

enum rt_kind { RT_WASMTIME, RT_WASMER, RT_IWASM, RT_WASMEDGE, RT_NODE, RT_N };

/* In the order of preference of wasm.runtime = "auto". */
static const char *const rt_names[RT_N] = { "wasmtime", "wasmer", "iwasm", "wasmedge", "node" };

struct runtime {
	enum rt_kind kind;
	char path[PATH_MAX];	/* resolved (realpath) */
};

struct wasm_state {
	struct sbx_profile prof;	/* the copy the process provider runs */
	struct sbx_fsplan fs;		/* the plan the process provider builds the view from */
	struct sbx_env_var env1;	/* node: the launcher's configuration */
	char **argv;			/* the runtime's command line (owned) */
	size_t n_argv, cap_argv;
	char *cfg;			/* node: JSON configuration (owned) */
	char fdpath[32];		/* "/proc/self/fd/N" of the module */
	int module_fd;			/* read-only, inherited by the runtime */
	int module_err;			/* errno: the module cannot be run */
	struct runtime rt;
	void *pstate;			/* the process provider's */
};

/*
 * The node:wasi launcher, run with `node -e`. It reads its configuration from
 * the environment variable SBX_WASM (JSON: fd, args, env, preopens), removes
 * it, compiles the module from the inherited descriptor and runs it. Exit
 * status: the module's (proc_exit, or 0 when _start returns); 126 when the
 * module does not compile, link or export _start; 134 on a trap (as wasmtime);
 * 125 when the launcher itself fails.
 */
static const char node_launcher[] =
	"'use strict';"
	"const c=JSON.parse(process.env." CFG_ENV ");delete process.env." CFG_ENV ";"
	"let code=125,what='';"
	"try{"
	"const fs=require('node:fs');"
	"const {WASI}=require('node:wasi');"
	"const bytes=fs.readFileSync(c.fd);fs.closeSync(c.fd);"
	"let mod;"
	"try{mod=new WebAssembly.Module(bytes);}catch(e){e.sbxCode=126;throw e;}"
	"const w=new WASI({version:'preview1',args:c.args,env:c.env,preopens:c.preopens,"
	"returnOnExit:true});"
	"let inst;"
	/* getImportObject() is Node.js >= 19.8; 18 has only wasiImport */
	"const imp=typeof w.getImportObject==='function'?w.getImportObject():"
	"{wasi_snapshot_preview1:w.wasiImport};"
	"try{inst=new WebAssembly.Instance(mod,imp);"
	"if(typeof inst.exports._start!=='function')throw new TypeError('the module exports no _start function (not a WASI command)');"
	"if(!(inst.exports.memory instanceof WebAssembly.Memory))throw new TypeError('the module exports no memory');"
	"}catch(e){e.sbxCode=e.sbxCode||126;throw e;}"
	"code=w.start(inst);"
	"}catch(e){"
	"if(e&&e.sbxCode){code=e.sbxCode;what='';}"
	"else if(e instanceof WebAssembly.RuntimeError||e instanceof RangeError){code=134;what='trap: ';}"
	"else code=125;"
	"process.stderr.write('sbx-wasm: '+what+(e&&e.message?e.message:String(e))+'\\n');"
	"}"
	"process.exit(code);";

/* ---- finding a runtime ----------------------------------------------------- */

/* An absolute executable regular file named bin in sbx's PATH. */
static bool find_in_path(const char *bin, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char cand[PATH_MAX];
	struct stat st;

	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		size_t n = (size_t)(end - path);

		/* relative entries would depend on sbx's cwd: never for a root tool */
		if (n && path[0] == '/' && n + 1 + strlen(bin) < sizeof(cand)) {
			snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, path, bin);
			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0 &&
			    realpath(cand, out) && strlen(out) < len)
				return true;
		}
		path = *end ? end + 1 : end;
	}
	return false;
}

/* The major version `node --version` prints, or -errno. Run with an empty
 * environment (NODE_OPTIONS and the like must not change the answer). */
static int node_major(const char *node)
{
	static char cached_for[PATH_MAX];
	static int cached;
	char *const argv[] = { (char *)node, "--version", NULL };
	char *const envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	char buf[64] = "";
	size_t got = 0;
	int pfd[2], status, r;
	ssize_t n;
	pid_t pid;

	if (cached && !strcmp(cached_for, node))
		return cached;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawn(&pid, node, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r) {
		close(pfd[0]);
		return -r;
	}
	while (got < sizeof(buf) - 1 && (n = read(pfd[0], buf + got, sizeof(buf) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf[got] = 0;
	if (buf[0] != 'v' || buf[1] < '0' || buf[1] > '9')
		return -ENOEXEC;
	cached = atoi(buf + 1);
	snprintf(cached_for, sizeof(cached_for), "%s", node);
	return cached;
}

/* Whether runtime k is installed and usable; why says what is wrong. */
static int runtime_usable(enum rt_kind k, struct runtime *rt, char *why, size_t len)
{
	int major;

	rt->kind = k;
	if (!find_in_path(rt_names[k], rt->path, sizeof(rt->path)))
		return sbx_fail(why, len, -ENOENT, "%s is not installed (not found in PATH)",
				rt_names[k]);
	if (k != RT_NODE)
		return 0;
	major = node_major(rt->path);
	if (major < 0)
		return sbx_fail(why, len, major, "%s --version failed: %s", rt->path,
				strerror(-major));
	if (major < NODE_MIN_MAJOR)
		return sbx_fail(why, len, -EOPNOTSUPP,
				"%s is Node.js %d (node:wasi preview1 needs >= %d)", rt->path,
				major, NODE_MIN_MAJOR);
	return 0;
}

/* The runtime for a profile: wasm.runtime, or the first usable one. */
static int pick_runtime(const char *want, struct runtime *rt, char *why, size_t len)
{
	char one[256];

	if (want && strcmp(want, "auto")) {
		for (int k = 0; k < RT_N; k++)
			if (!strcmp(want, rt_names[k])) {
				if (runtime_usable((enum rt_kind)k, rt, one, sizeof(one)) == 0)
					return 0;
				return sbx_fail(why, len, -ENOENT, "wasm.runtime = \"%s\": %s",
						want, one);
			}
		return sbx_fail(why, len, -EINVAL, "unknown wasm.runtime '%s'", want);
	}
	for (int k = 0; k < RT_N; k++)
		if (runtime_usable((enum rt_kind)k, rt, one, sizeof(one)) == 0)
			return 0;
	/* a node that is too old deserves its own sentence */
	if (find_in_path("node", rt->path, sizeof(rt->path)) &&
	    runtime_usable(RT_NODE, rt, one, sizeof(one)) < 0)
		return sbx_fail(why, len, -ENOENT,
				"no WASI runtime: none of wasmtime, wasmer, iwasm, wasmedge in PATH, "
				"and %s; install wasmtime, or Node.js >= %d for node:wasi", one,
				NODE_MIN_MAJOR);
	return sbx_fail(why, len, -ENOENT,
			"no WASI runtime: install wasmtime, or Node.js >= %d for node:wasi "
			"(none of wasmtime, wasmer, iwasm, wasmedge, node in PATH)",
			NODE_MIN_MAJOR);
}

static int wasm_probe(char *why, size_t len)
{
	struct runtime rt;
	int r = sbx_provider_process.probe(why, len);

	if (r < 0)
		return r;
	r = pick_runtime(NULL, &rt, why, len);
	if (r < 0)
		return r;
	/* not shown for available providers, but says which one auto uses */
	snprintf(why, len, "runtime %s (%s)", rt_names[rt.kind], rt.path);
	return 0;
}

/* ---- the module -------------------------------------------------------------- */

/* What would make execve refuse the file at in: its errno, or 0 when it
 * is a regular file that starts with WebAssembly's magic. */
static int module_errno(int in, struct stat *sb)
{
	static const unsigned char magic[4] = { 0, 'a', 's', 'm' };
	unsigned char head[4];
	ssize_t n;

	if (fstat(in, sb) < 0)
		return errno;
	if (S_ISDIR(sb->st_mode))
		return EISDIR;
	if (!S_ISREG(sb->st_mode))
		return EACCES;		/* as execve of a device or fifo */
	n = pread(in, head, sizeof(head), 0);
	if (n < 0)
		return errno;
	if (n != (ssize_t)sizeof(head) || memcmp(head, magic, sizeof(magic)))
		return ENOEXEC;		/* "Exec format error": not WebAssembly */
	return 0;
}

/* A sealed memfd with the size bytes of in: what the runtime reads cannot
 * change under it. */
static int sealed_copy(int in, off_t size, const char *path, char *why, size_t len)
{
	_cleanup_close_ int mfd = -1;
	ssize_t n;
	int e;

	mfd = memfd_create("sbx-wasm-module", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	if (mfd < 0 && errno == EINVAL)	/* kernels before 6.3 know no MFD_NOEXEC_SEAL */
		mfd = memfd_create("sbx-wasm-module", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return sbx_fail(why, len, -errno, "memfd_create: %s", strerror(errno));
	for (off_t left = size; left > 0;) {
		n = sendfile(mfd, in, NULL, (size_t)left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			return sbx_fail(why, len, -e, "copy of the module %s: %s", path,
					n < 0 ? strerror(e) : "the file shrank while it was copied");
		}
		left -= n;
	}
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return sbx_fail(why, len, -errno, "sealing the module copy: %s", strerror(errno));
	return TAKE_FD(mfd);
}

/* Copies the module into a sealed memfd and keeps a read-only descriptor of
 * it (no close-on-exec: the runtime inherits it). On a problem of the module
 * itself, returns its errno in *merr and 0. */
static int load_module(struct wasm_state *st, const char *path, int *merr, char *why, size_t len)
{
	_cleanup_close_ int in = -1, mfd = -1;
	struct stat sb;
	char self[64];
	int ro;

	in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	*merr = in < 0 ? errno : module_errno(in, &sb);
	if (*merr)
		return 0;
	mfd = sealed_copy(in, sb.st_size, path, why, len);
	if (mfd < 0)
		return mfd;
	/* a read-only description of its own (offset 0) for the runtime */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", mfd);
	ro = open(self, O_RDONLY);
	if (ro < 0)
		return sbx_fail(why, len, -errno, "reopening the module copy: %s", strerror(errno));
	st->module_fd = ro;
	snprintf(st->fdpath, sizeof(st->fdpath), "/proc/self/fd/%d", ro);
	return 0;
}

/* ---- the runtime's view: visibility of its binary, preopens ---------------- */

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1)	/* "/" */
		return true;
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

/* The preopened directories: (guest, host) pairs, host == guest except ".". */
struct preopen {
	char guest[PATH_MAX];
	char host[PATH_MAX];
};

static int list_preopens(const struct sbx_fsplan *pl, const char *cwd, struct preopen **ret,
			 size_t *n_ret)
{
	struct preopen *v = calloc(pl->n_rules + 1, sizeof(*v));
	bool cwd_covered = false;
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n_rules; i++) {
		const struct sbx_fsplan_rule *ru = &pl->rules[i];
		struct stat sb;
		bool dup = false;

		if (ru->origin != SBX_FSPLAN_PROFILE || !ru->dir || !ru->access)
			continue;
		sbx_fsplan_mount_path(ru->path, v[n].host, sizeof(v[n].host));
		/* the view binds only what exists; so does the runtime preopen */
		if (stat(v[n].host, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		for (size_t j = 0; j < n; j++)
			dup |= !strcmp(v[j].host, v[n].host);
		if (dup)
			continue;
		snprintf(v[n].guest, sizeof(v[n].guest), "%s", v[n].host);
		if (cwd && under(cwd, v[n].host))
			cwd_covered = true;
		n++;
	}
	if (cwd_covered) {
		snprintf(v[n].guest, sizeof(v[n].guest), ".");
		snprintf(v[n].host, sizeof(v[n].host), "%s", cwd);
		n++;
	}
	*ret = v;
	*n_ret = n;
	return 0;
}

/* ---- the runtime's command line ------------------------------------------- */

static int add_arg(struct wasm_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_arg(struct wasm_state *st, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (st->n_argv + 2 > st->cap_argv) {
		size_t cap = st->cap_argv ? 2 * st->cap_argv : 16;
		char **nv = realloc(st->argv, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		st->argv = nv;
		st->cap_argv = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&st->argv[st->n_argv], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	st->argv[++st->n_argv] = NULL;
	return 0;
}

/* node's own arguments. The sandbox's init, node's main thread and 2 helper
 * threads, its V8 workers (4 by default): a pids limit that leaves no room
 * for one of them makes node hang, so the V8 pool shrinks to fit, and below
 * one worker the profile is refused. */
static int node_argv(struct wasm_state *st, const struct sbx_profile *p, char *why, size_t len)
{
	int r;

	if (p->pids && p->pids < NODE_MIN_PIDS)
		return sbx_fail(why, len, -EINVAL,
				"pids = %u is too low for node:wasi, which needs at least %d "
				"(the sandbox's init, node's main thread, 2 helper threads, 1 V8 worker)",
				p->pids, NODE_MIN_PIDS);
	r = add_arg(st, "%s", st->rt.path);
	if (!r)
		r = add_arg(st, "--no-warnings");
	if (!r && p->pids && p->pids < NODE_MIN_PIDS + NODE_V8_POOL - 1)
		r = add_arg(st, "--v8-pool-size=%u", p->pids - NODE_MIN_PIDS + 1);
	if (!r)
		r = add_arg(st, "-e");
	if (!r)
		r = add_arg(st, "%s", node_launcher);
	return r;
}

/* The launcher's configuration as JSON: the module's fd, the arguments,
 * the environment and the preopens. */
static void node_config(struct json_writer *w, const struct wasm_state *st,
			const struct sbx_spawn *s, const struct preopen *po, size_t n_po)
{
	const struct sbx_profile *p = s->profile;

	json_begin_object(w);
	json_kv_int(w, "fd", st->module_fd);
	json_key(w, "args");
	json_begin_array(w);
	for (size_t i = 0; s->argv[i]; i++)
		json_string(w, s->argv[i]);
	json_end_array(w);
	json_key(w, "env");
	json_begin_object(w);
	for (size_t i = 0; i < p->n_env; i++)
		json_kv_string(w, p->env[i].name, p->env[i].value);
	json_end_object(w);
	json_key(w, "preopens");
	json_begin_object(w);
	for (size_t i = 0; i < n_po; i++)
		json_kv_string(w, po[i].guest, po[i].host);
	json_end_object(w);
	json_end_object(w);
}

/* node: `node --no-warnings -e LAUNCHER`, the rest in SBX_WASM. */
static int build_node(struct wasm_state *st, const struct sbx_spawn *s, const struct preopen *po,
		      size_t n_po, char *why, size_t len)
{
	struct json_writer w;
	size_t size = 0;
	FILE *f;
	int r;

	r = node_argv(st, s->profile, why, len);
	if (r < 0)
		return r;
	f = open_memstream(&st->cfg, &size);
	if (!f)
		return -ENOMEM;
	json_init(&w, f, false);
	node_config(&w, st, s, po, n_po);
	r = json_finish(&w);
	if (fclose(f) != 0 && !r)
		r = -ENOMEM;
	if (r < 0)
		return r;
	st->env1.name = (char *)CFG_ENV;
	st->env1.value = st->cfg;
	st->prof.env = &st->env1;
	st->prof.n_env = 1;
	return 0;
}

/* The native runtimes, per their documented command lines (see
 * docs/providers-wasm.md: not all tested). Arguments after "--" (or after
 * the module for iwasm) go to the module. */
static int build_native(struct wasm_state *st, const struct sbx_spawn *s, const struct preopen *po,
			size_t n_po)
{
	const struct sbx_profile *p = s->profile;
	enum rt_kind k = st->rt.kind;
	int r = add_arg(st, "%s", st->rt.path);

	if (!r && (k == RT_WASMTIME || k == RT_WASMER))
		r = add_arg(st, "run");
	if (!r && k == RT_WASMTIME)
		r = add_arg(st, "--argv0=%s", s->argv[0]);
	for (size_t i = 0; !r && i < n_po; i++) {
		bool same = !strcmp(po[i].guest, po[i].host);

		switch (k) {
		case RT_WASMTIME:
			r = same ? add_arg(st, "--dir=%s", po[i].host)
				 : add_arg(st, "--dir=%s::%s", po[i].host, po[i].guest);
			break;
		case RT_WASMER:
			r = same ? add_arg(st, "--dir=%s", po[i].host)
				 : add_arg(st, "--mapdir=%s:%s", po[i].guest, po[i].host);
			break;
		case RT_IWASM:
			r = same ? add_arg(st, "--dir=%s", po[i].host)
				 : add_arg(st, "--map-dir=%s::%s", po[i].guest, po[i].host);
			break;
		default: /* wasmedge: GUEST:HOST */
			r = add_arg(st, "--dir=%s:%s", po[i].guest, po[i].host);
			break;
		}
	}
	for (size_t i = 0; !r && i < p->n_env; i++)
		r = add_arg(st, "--env=%s=%s", p->env[i].name, p->env[i].value);
	if (!r && k != RT_IWASM)
		r = add_arg(st, "--");
	if (!r)
		r = add_arg(st, "%s", st->fdpath);
	for (size_t i = 1; !r && s->argv[i]; i++)
		r = add_arg(st, "%s", s->argv[i]);
	st->prof.env = NULL;
	st->prof.n_env = 0;
	return r;
}

/* ---- provider calls ---------------------------------------------------------- */

static void wasm_cleanup(void *state)
{
	struct wasm_state *st = state;

	if (!st)
		return;
	if (st->pstate)
		sbx_provider_process.cleanup(st->pstate);
	for (size_t i = 0; i < st->n_argv; i++)
		free(st->argv[i]);
	free(st->argv);
	free(st->cfg);
	sbx_fsplan_free(&st->fs);
	if (st->module_fd >= 0)
		close(st->module_fd);
	free(st);
}

/* The process provider's plan, with the runtime binary made visible (a
 * read-only, executable grant) when the view would not show it. */
static int plan_view(struct wasm_state *st, const struct sbx_fsplan *pl)
{
	int r = sbx_fsplan_copy(pl, &st->fs);

	if (r < 0 || sbx_fsplan_view_shows(pl, st->rt.path))
		return r;
	return sbx_fsplan_add_grant(&st->fs, st->rt.path, SBX_FACC_R | SBX_FACC_X);
}

static int wasm_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	struct wasm_state *st;
	struct preopen *po = NULL;
	size_t n_po = 0;
	struct sbx_spawn sp = *s;
	int r;

	/* the runtime's own unix sockets are its business: the workload runs
	 * behind it and reaches no host unix socket (docs/policy.md) */
	if (s->policy_flags)
		*s->policy_flags |= SBX_POLF_UNIX_ANY;

	if (!s->argv || !s->argv[0])
		return sbx_fail(why, len, -EINVAL,
				"no module: usage: sbx run --provider wasm -- MODULE.wasm [ARG]...");
	if (!s->fs)
		return sbx_fail(why, len, -EINVAL, "no filesystem plan given");
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->module_fd = -1;
	st->prof = *s->profile;
	r = pick_runtime(s->profile->wasm.runtime, &st->rt, why, len);
	if (!r)
		r = load_module(st, s->argv[0], &st->module_err, why, len);
	if (!r && st->module_err) {
		/* the sandbox still starts and ends; spawn reports 126/127 */
		*ret_state = st;
		return 0;
	}
	if (!r)
		r = list_preopens(s->fs, s->profile->cwd, &po, &n_po);
	if (!r)
		r = plan_view(st, s->fs);
	if (!r)
		r = st->rt.kind == RT_NODE ? build_node(st, s, po, n_po, why, len) : build_native(st, s, po, n_po);
	free(po);
	if (r < 0) {
		if (!why[0])
			snprintf(why, len, "building the %s command line: %s", rt_names[st->rt.kind],
				 strerror(-r));
		wasm_cleanup(st);
		return r;
	}
	sp.profile = &st->prof;
	sp.fs = &st->fs;
	sp.argv = st->argv;
	sp.keep_fd = st->module_fd;
	r = sbx_provider_process.prepare(&sp, &st->pstate, why, len);
	if (r < 0) {
		wasm_cleanup(st);
		return r;
	}
	*ret_state = st;
	return 0;
}

/* A sandbox whose "exec" fails with the module's errno (run: 126/127). */
static int module_fail_child(const struct sbx_spawn *s, void *arg)
{
	(void)s;
	return -*(int *)arg;
}

static int wasm_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret, char *why,
		      size_t len)
{
	struct wasm_state *st = state;
	struct sbx_spawn sp = *s;

	if (st->module_err)
		return sbx_clone_into_cgroup(s, module_fail_child, &st->module_err, ret, why, len);
	sp.profile = &st->prof;
	sp.fs = &st->fs;
	sp.argv = st->argv;
	sp.keep_fd = st->module_fd;
	return sbx_provider_process.spawn(st->pstate, &sp, ret, why, len);
}

static int wasm_signal(void *state, struct sbx_child *c, int sig)
{
	struct wasm_state *st = state;

	if (!st->pstate)
		return sbx_child_signal(c, sig);
	return sbx_provider_process.signal(st->pstate, c, sig);
}

static int wasm_wait(void *state, struct sbx_child *c, int *ret_status)
{
	struct wasm_state *st = state;

	if (!st->pstate)
		return sbx_child_wait(c, ret_status);
	return sbx_provider_process.wait(st->pstate, c, ret_status);
}

const struct sbx_provider sbx_provider_wasm = {
	.name = "wasm",
	.level = SBX_ISO_WASM,
	.summary = "a WASI module in wasmtime, wasmer, iwasm, wasmedge or node:wasi, inside the "
		   "process sandbox; fs rules become preopened directories",
	.tty = true,
	.probe = wasm_probe,
	.prepare = wasm_prepare,
	.spawn = wasm_spawn,
	.signal = wasm_signal,
	.wait = wasm_wait,
	.cleanup = wasm_cleanup,
};
