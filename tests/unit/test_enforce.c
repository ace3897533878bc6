/* SPDX-License-Identifier: MIT */
/*
 * The enforcement table (user/core/enforce.c) against the policy model and
 * the provider registry: every key a profile can hold has a row, every
 * provider a column, and a profile that sets any key either is enforced by
 * a provider or is refused under strict (degraded under best-effort) by the
 * same function `sbx run` calls. A key added to policy/profile.c without a
 * row here and a sample below fails this test.
 */
#include <errno.h>

#include "testutil.h"

#include "core/enforce.h"
#include "policy.h"
#include "provider.h"
#include "sbx_abi.h"

/* One TOML body per key that sets it to something other than the default. */
static const struct sample {
	const char *key;
	const char *toml;	/* after "[profile.x]\n" */
} samples[] = {
	{ "provider", "provider = \"process\"\n" },
	{ "min_isolation", "min_isolation = \"none\"\n" },
	{ "timeout", "timeout = \"1s\"\n" },
	{ "memory", "memory = \"64M\"\n" },
	{ "cpu", "cpu = 1\n" },
	{ "cpus", "cpus = \"0\"\n" },
	{ "cpu_weight", "cpu_weight = 200\n" },
	{ "pids", "pids = 10\n" },
	{ "nofile", "nofile = 64\n" },
	{ "net_bytes", "net_bytes = \"1M\"\n[profile.x.network]\nmode = \"full\"\n" },
	{ "egress_rate", "egress_rate = \"10Mbit\"\n[profile.x.network]\nmode = \"full\"\n" },
	{ "ingress_rate", "ingress_rate = \"10Mbit\"\n[profile.x.network]\nmode = \"full\"\n" },
	{ "rate_burst", "egress_rate = \"1Mbit\"\nrate_burst = \"128K\"\n[profile.x.network]\nmode = \"full\"\n" },
	{ "fsize", "fsize = \"1M\"\n" },
	{ "disk", "disk = \"64M\"\n" },
	{ "env", "env = { A = \"1\" }\n" },
	{ "cwd", "cwd = \"/tmp\"\n" },
	{ "user", "user = \"nobody\"\n" },
	{ "group", "group = \"nogroup\"\n" },
	{ "audit", "audit = \"all\"\n" },
	{ "audit_rate", "audit_rate = 10\n" },
	{ "audit_burst", "audit_burst = 10\n" },
	{ "audit_deny_rate", "audit_deny_rate = 10\n" },
	{ "audit_deny_burst", "audit_deny_burst = 10\n" },
	{ "enforcement", "enforcement = \"best-effort\"\n" },
	{ "allow_users", "allow_users = [\"root\"]\n" },
	{ "allow_groups", "allow_groups = [\"root\"]\n" },
	{ "network.mode", "[profile.x.network]\nmode = \"full\"\n" },
	{ "network.allow", "[profile.x.network]\nmode = \"allow\"\nallow = [\"192.0.2.1:80\"]\n" },
	{ "network.deny", "[profile.x.network]\nmode = \"deny\"\ndeny = [\"192.0.2.1:80\"]\n" },
	{ "network.listen", "[profile.x.network]\nmode = \"full\"\nlisten = [\"8080\"]\n" },
	{ "network.raw_sockets", "[profile.x.network]\nmode = \"full\"\nraw_sockets = true\n" },
	{ "network.unix", "[profile.x.network]\nunix = [\"/run/x.sock\"]\n" },
	{ "network.families", "[profile.x.network]\nfamilies = [\"vsock\"]\n" },
	{ "network.namespace", "[profile.x.network]\nmode = \"full\"\nnamespace = \"private\"\n" },
	{ "network.veth_host", "[profile.x.network]\nmode = \"full\"\nnamespace = \"private\"\n"
			       "veth_host = \"10.200.0.1/30\"\nveth_sandbox = \"10.200.0.2/30\"\n" },
	{ "network.veth_sandbox", "[profile.x.network]\nmode = \"full\"\nnamespace = \"private\"\n"
				  "veth_host = \"10.200.0.1/30\"\nveth_sandbox = \"10.200.0.2/30\"\n" },
	{ "network.dns", "[profile.x.network]\nmode = \"allow\"\n[profile.x.network.dns]\nrefuse = \"nxdomain\"\n" },
	{ "seccomp.preset", "[profile.x.seccomp]\npreset = \"strict\"\n" },
	{ "seccomp.action", "[profile.x.seccomp]\naction = \"kill\"\n" },
	{ "seccomp.deny", "[profile.x.seccomp]\ndeny = [\"uname\"]\n" },
	{ "seccomp.allow", "[profile.x.seccomp]\nallow = [\"ptrace\"]\n" },
	{ "fs.mode", "[profile.x.fs]\nmode = \"read-only\"\n" },
	{ "fs.rules", "[profile.x.fs]\nrules = [{ path = \"/srv/\", access = \"rw\" }]\n" },
	{ "fs.exec", "[profile.x.fs]\nexec = [\"/usr/bin/\"]\n" },
	{ "mock.exit_code", "[profile.x.mock]\nexit_code = 3\n" },
	{ "mock.stdout", "[profile.x.mock]\nstdout = \"hi\"\n" },
	{ "mock.stderr", "[profile.x.mock]\nstderr = \"hi\"\n" },
	{ "mock.duration", "[profile.x.mock]\nduration = \"10ms\"\n" },
	{ "mock.fail", "[profile.x.mock]\nfail = \"crash\"\n" },
	{ "gvisor.platform", "[profile.x.gvisor]\nplatform = \"ptrace\"\n" },
	{ "gvisor.runsc", "[profile.x.gvisor]\nrunsc = \"/usr/bin/runsc\"\n" },
	{ "wasm.runtime", "[profile.x.wasm]\nruntime = \"node\"\n" },
	{ "microvm.backend", "[profile.x.microvm]\nbackend = \"qemu\"\n" },
	{ "microvm.kernel", "[profile.x.microvm]\nkernel = \"/boot/vmlinux\"\n" },
	{ "microvm.initrd", "[profile.x.microvm]\ninitrd = \"/boot/initrd.img\"\n" },
	{ "microvm.firecracker", "[profile.x.microvm]\nfirecracker = \"/usr/bin/firecracker\"\n" },
	{ "microvm.jailer", "[profile.x.microvm]\njailer = \"/usr/bin/jailer\"\n" },
	{ "unikernel.image", "[profile.x.unikernel]\nimage = \"/srv/app.elf\"\n" },
	{ "unikernel.qemu", "[profile.x.unikernel]\nqemu = \"/usr/bin/qemu-system-x86_64\"\n" },
	{ "unikernel.machine", "[profile.x.unikernel]\nmachine = \"q35\"\n" },
	{ "unikernel.cmdline", "[profile.x.unikernel]\ncmdline = \"netdev.ip=10.0.2.15 --\"\n" },
};

/* Keys that may confine nothing under some provider: settings of one
 * provider, and the daemon's permissions. A security key never may. */
static bool may_be_inert(const char *key)
{
	static const char *const prefixes[] = { "mock.", "gvisor.", "wasm.", "microvm.", "unikernel.",
						"allow_users", "allow_groups" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(key, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static const char *sample_of(const char *key)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		if (!strcmp(samples[i].key, key))
			return samples[i].toml;
	return NULL;
}

static struct sbx_policy *load(const char *body, bool best_effort)
{
	struct sbx_policy *pol = NULL;
	struct sbx_diags d = { 0 };
	char *src = NULL;

	/* (the sample of "enforcement" sets it itself) */
	assert_true(asprintf(&src, "[profile.x]\n%s%s", best_effort && !strstr(body, "enforcement") ?
			     "enforcement = \"best-effort\"\n" : "", body) > 0);
	if (sbx_policy_load_buffer("t.toml", src, strlen(src), NULL, &pol, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			print_error("%s:%u:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
		fail_msg("sample does not load: %s", src);
	}
	sbx_diags_free(&d);
	free(src);
	return pol;
}

static const struct sbx_enforce_finding *find(const struct sbx_enforce_report *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].key, key))
			return &r->v[i];
	return NULL;
}

static int col_of(const char *name)
{
	for (int i = 0; i < SBX_ENF_NPROV; i++)
		if (!strcmp(sbx_enforce_providers[i], name))
			return i;
	return -1;
}

/* Every key of the policy model has a row, and every row is such a key. */
static void test_every_policy_key_has_a_row(void **state)
{
	size_t n_rows, n_keys = 0;
	const struct sbx_enforce_row *rows = sbx_enforce_table(&n_rows);

	(void)state;
	for (const char *k; (k = sbx_policy_key(n_keys)); n_keys++)
		if (!sbx_enforce_row(k))
			fail_msg("policy key '%s' has no row in user/core/enforce.c", k);
	for (size_t i = 0; i < n_rows; i++) {
		bool found = false;

		for (size_t j = 0; j < n_keys && !found; j++)
			found = !strcmp(sbx_policy_key(j), rows[i].key);
		if (!found)
			fail_msg("enforce.c row '%s' is no key of the policy model", rows[i].key);
	}
	assert_int_equal(n_rows, n_keys);
}

/* Every provider of the registry has a column; an unknown one is refused. */
static void test_every_provider_has_a_column(void **state)
{
	struct sbx_profile p = { .name = "x" };
	struct sbx_enforce_report r;
	char why[256] = "";

	(void)state;
	for (size_t i = 0; sbx_providers[i]; i++) {
		if (col_of(sbx_providers[i]->name) < 0)
			fail_msg("provider '%s' has no column in user/core/enforce.c", sbx_providers[i]->name);
		assert_int_equal(sbx_enforceability(&p, sbx_providers[i]->name, NULL, &r, why,
						    sizeof(why)), 0);
		sbx_enforce_report_free(&r);
	}
	assert_int_equal(sbx_enforceability(&p, "newvm", NULL, &r, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "'newvm' has no column"));
}

/* The verdict a cell should give: with an fs backend or without one. */
static enum sbx_enf expected(const struct sbx_enforce_cell *c, int fs_backend)
{
	if (c->v == SBX_ENF_FS_BACKEND || c->v == SBX_ENF_LANDLOCK || c->v == SBX_ENF_UNIX_HOOKS)
		return fs_backend ? SBX_ENF_ENFORCED : SBX_ENF_DEGRADABLE;
	return c->v == SBX_ENF_INERT ? SBX_ENF_ENFORCED : c->v;
}

static void check_one(const char *key, const struct sbx_profile *p, int col, int fsb)
{
	const struct sbx_enforce_row *row = sbx_enforce_row(key);
	const struct sbx_enforce_cell *c = &row->cell[col];
	/* the kernel has everything, or nothing: no fs backend, no unix hooks */
	struct sbx_enforce_features f = { .fs_backend = fsb, .landlock = fsb != 0, .unix_hooks = fsb != 0 };
	const char *prov = sbx_enforce_providers[col];
	struct sbx_enforce_finding scratch = { 0 };
	const struct sbx_enforce_finding *g;
	struct sbx_enforce_report r;
	char why[256] = "";
	bool asks = c->when ? c->when(p, &scratch) : row->asks(p, &scratch);
	enum sbx_enf want = asks ? expected(c, fsb) : SBX_ENF_ENFORCED;
	bool strict = p->enforcement == SBX_ENFORCE_STRICT;

	assert_int_equal(sbx_enforceability(p, prov, &f, &r, why, sizeof(why)), 0);
	g = find(&r, key);
	if (want == SBX_ENF_ENFORCED && g)
		fail_msg("%s under %s: enforced per the table but reported: %s", key, prov, g->msg);
	if (want != SBX_ENF_ENFORCED && !g)
		fail_msg("%s under %s: not enforced per the table but not reported", key, prov);
	if (g) {
		assert_int_equal(g->refuse, want == SBX_ENF_REFUSED || strict);
		if (g->refuse && !strstr(g->msg, "cannot be enforced by provider"))
			fail_msg("%s under %s: refusal does not say so: %s", key, prov, g->msg);
		if (!g->refuse && strncmp(g->msg, key, strlen(key)))
			fail_msg("%s under %s: degraded entry does not start with the key: %s", key, prov,
				 g->msg);
	}
	sbx_enforce_report_free(&r);
}

/* Each key, set, under each provider, strict and best-effort, with and
 * without an fs backend: enforced, or reported as the table says. */
static void test_every_key_is_enforced_or_refused(void **state)
{
	(void)state;
	for (size_t i = 0; sbx_policy_key(i); i++) {
		char key[64];
		const struct sbx_enforce_row *row;
		const char *body;

		snprintf(key, sizeof(key), "%s", sbx_policy_key(i));
		row = sbx_enforce_row(key);
		body = sample_of(key);
		assert_non_null(row);
		if (!body)
			fail_msg("policy key '%s' has no sample in tests/unit/test_enforce.c", key);
		for (int be = 0; be < 2; be++) {
			struct sbx_policy *pol = load(body, be);
			const struct sbx_profile *p = sbx_policy_find(pol, "x");
			struct sbx_enforce_finding scratch = { 0 };

			if (!row->asks(p, &scratch))
				fail_msg("the sample of '%s' does not set it (asks() is false)", key);
			for (int col = 0; col < SBX_ENF_NPROV; col++) {
				const struct sbx_enforce_cell *c = &row->cell[col];

				if (!c->why || !*c->why)
					fail_msg("%s under %s: no reason", key, sbx_enforce_providers[col]);
				if (c->v == SBX_ENF_INERT && !may_be_inert(key))
					fail_msg("%s under %s: a security key marked inert", key,
						 sbx_enforce_providers[col]);
				check_one(key, p, col, 0);
				check_one(key, p, col, SBX_FSB_LANDLOCK);
			}
			sbx_policy_free(pol);
		}
	}
}

static bool reported(const char *body, const char *prov, const char *key, bool *ret_refuse,
		     char *msg, size_t len)
{
	struct sbx_policy *pol = load(body, false);
	struct sbx_enforce_features f = { .fs_backend = SBX_FSB_LANDLOCK };
	const struct sbx_enforce_finding *g;
	struct sbx_enforce_report r;
	char why[256];
	bool found;

	assert_int_equal(sbx_enforceability(sbx_policy_find(pol, "x"), prov, &f, &r, why, sizeof(why)), 0);
	g = find(&r, key);
	found = g != NULL;
	if (g) {
		*ret_refuse = g->refuse;
		snprintf(msg, len, "%s", g->msg);
	}
	sbx_enforce_report_free(&r);
	sbx_policy_free(pol);
	return found;
}

/* The unikernel and tee columns (issue 16): what a unikernel cannot carry is
 * refused under strict, naming it; the tee column is the microVM's, with
 * Firecracker refused whatever the mode. */
static void test_unikernel_and_tee_columns(void **state)
{
	char msg[1024];
	bool refuse = false;

	(void)state;
	assert_true(reported("[profile.x.fs]\nexec = [\"/usr/bin/\"]\n", "unikernel", "fs.exec",
			     &refuse, msg, sizeof(msg)));
	assert_true(refuse);
	if (!strstr(msg, "'fs.exec' cannot be enforced by provider 'unikernel': a unikernel is one image"))
		fail_msg("%s", msg);
	assert_true(reported("[profile.x.fs]\nrules = [{ path = \"/srv/\", access = \"rw\" }]\n",
			     "unikernel", "fs.rules", &refuse, msg, sizeof(msg)));
	assert_true(refuse && strstr(msg, "rule '/srv/'") && strstr(msg, "grants rw"));
	assert_true(reported("[profile.x.env]\nA = \"1\"\n", "unikernel", "env", &refuse, msg,
			     sizeof(msg)));
	assert_true(reported("nofile = 64\n", "unikernel", "nofile", &refuse, msg, sizeof(msg)));
	assert_true(reported("[profile.x.seccomp]\npreset = \"strict\"\n", "unikernel",
			     "seccomp.preset", &refuse, msg, sizeof(msg)));
	/* limits and the network lists are the cgroup's and the eBPF programs' */
	assert_false(reported("memory = \"200M\"\ntimeout = \"5s\"\npids = 16\n", "unikernel",
			      "memory", &refuse, msg, sizeof(msg)));
	assert_false(reported("[profile.x.network]\nmode = \"allow\"\n"
			      "allow = [\"10.0.2.2:80\"]\n", "unikernel",
			      "network.allow", &refuse, msg, sizeof(msg)));
	/* tee: a confidential guest runs in qemu only */
	assert_true(reported("[profile.x.microvm]\nbackend = \"firecracker\"\n", "tee",
			     "microvm.backend", &refuse, msg, sizeof(msg)));
	assert_true(refuse && strstr(msg, "a confidential guest runs in qemu only"));
	assert_false(reported("[profile.x.microvm]\nbackend = \"qemu\"\n", "tee",
			      "microvm.backend", &refuse, msg, sizeof(msg)));
	assert_false(reported("nofile = 64\n", "tee", "nofile", &refuse, msg, sizeof(msg)));
}

/* The defects of issue 11, one assertion each. */
static void test_known_gaps_closed(void **state)
{
	char msg[1024];
	bool refuse = false;

	(void)state;
	/* microVM: rlimits are honoured by the guest init */
	assert_false(reported("nofile = 64\nfsize = \"1M\"\n", "microvm", "nofile", &refuse, msg, sizeof(msg)));
	assert_false(reported("fsize = \"1M\"\n", "microvm", "fsize", &refuse, msg, sizeof(msg)));
	/* microVM: an fs grant is refused, naming the rule; a deny rule is not */
	assert_true(reported("[profile.x.fs]\nrules = [{ path = \"/etc/\", access = \"deny\" },\n"
			     "  { path = \"/srv/\", access = \"rw\" }]\n", "microvm", "fs.rules",
			     &refuse, msg, sizeof(msg)));
	assert_true(refuse);
	if (!strstr(msg, "rule '/srv/' (t.toml:4:3) grants rw"))
		fail_msg("%s", msg);
	assert_false(reported("[profile.x.fs]\nrules = [{ path = \"/etc/\", access = \"deny\" }]\n",
			      "microvm", "fs.rules", &refuse, msg, sizeof(msg)));
	assert_true(reported("[profile.x.fs]\nmode = \"read-write\"\n", "microvm", "fs.mode", &refuse,
			     msg, sizeof(msg)));
	/* fs.exec: gVisor and the microVM cannot apply it */
	assert_true(reported("[profile.x.fs]\nexec = [\"/usr/bin/\"]\n", "gvisor", "fs.exec", &refuse,
			     msg, sizeof(msg)));
	assert_true(refuse);
	assert_true(reported("[profile.x.fs]\nexec = [\"/usr/bin/\"]\n", "microvm", "fs.exec", &refuse,
			     msg, sizeof(msg)));
	/* host: the [seccomp] table and env are applied */
	assert_false(reported("[profile.x.seccomp]\ndeny = [\"uname\"]\n", "host", "seccomp.deny",
			      &refuse, msg, sizeof(msg)));
	assert_false(reported("env = { A = \"1\" }\n", "host", "env", &refuse, msg, sizeof(msg)));
	/* host: a private network namespace is not there */
	assert_true(reported("[profile.x.network]\nnamespace = \"private\"\n", "host",
			     "network.namespace", &refuse, msg, sizeof(msg)));
}

/* network.unix's default (no host unix socket) under strict, on a kernel
 * without the cgroup unix hooks and BPF LSM: refused where the workload sees
 * host socket files, naming the key and the missing feature; run where it
 * sees none, or allows them all; enforced where the kernel has the hooks. */
static bool unix_refused(const char *body, const char *prov, bool hooks, char *msg, size_t len)
{
	struct sbx_policy *pol = load(body, false);
	struct sbx_enforce_features f = { .fs_backend = SBX_FSB_LANDLOCK, .landlock = true,
					  .unix_hooks = hooks };
	const struct sbx_enforce_finding *g;
	struct sbx_enforce_report r;
	char why[256];
	bool refused;

	assert_int_equal(sbx_enforceability(sbx_policy_find(pol, "x"), prov, &f, &r, why, sizeof(why)), 0);
	g = find(&r, "network.unix");
	refused = g && g->refuse;
	if (g)
		snprintf(msg, len, "%s", g->msg);
	sbx_enforce_report_free(&r);
	sbx_policy_free(pol);
	return refused;
}

/* A rate needs a device of the sandbox's own: refused in the host's network
 * namespace, enforced with a private one (veth) or where no traffic leaves. */
static void test_rate_needs_own_netns(void **state)
{
	static const char hostns[] = "egress_rate = \"10Mbit\"\n[profile.x.network]\nmode = \"full\"\n";
	static const char veth[] = "egress_rate = \"10Mbit\"\n[profile.x.network]\nmode = \"full\"\n"
				   "namespace = \"private\"\n";
	static const char none[] = "ingress_rate = \"1Mbit\"\n";
	char msg[1024] = "";
	bool refuse = false;

	(void)state;
	assert_true(reported(hostns, "process", "egress_rate", &refuse, msg, sizeof(msg)));
	assert_true(refuse);
	if (!strstr(msg, "'egress_rate' cannot be enforced by provider 'process'") ||
	    !strstr(msg, "namespace = \"private\""))
		fail_msg("%s", msg);
	assert_false(reported(veth, "process", "egress_rate", &refuse, msg, sizeof(msg)));
	for (int col = 0; col < SBX_ENF_NPROV; col++)
		assert_false(reported(none, sbx_enforce_providers[col], "ingress_rate", &refuse, msg,
				       sizeof(msg)));
	assert_true(reported(hostns, "host", "egress_rate", &refuse, msg, sizeof(msg)));
	assert_true(reported(hostns, "gvisor", "egress_rate", &refuse, msg, sizeof(msg)));
	assert_true(reported(hostns, "microvm", "egress_rate", &refuse, msg, sizeof(msg)));
	assert_false(reported(hostns, "wasm", "egress_rate", &refuse, msg, sizeof(msg)));
	/* a profile without a rate asks nothing of any rate row */
	for (int col = 0; col < SBX_ENF_NPROV; col++) {
		const char *prov = sbx_enforce_providers[col];
		static const char plain[] = "[profile.x.network]\nmode = \"full\"\n";

		assert_false(reported(plain, prov, "egress_rate", &refuse, msg, sizeof(msg)));
		assert_false(reported(plain, prov, "ingress_rate", &refuse, msg, sizeof(msg)));
		assert_false(reported(plain, prov, "rate_burst", &refuse, msg, sizeof(msg)));
	}
}

static void test_unix_default_needs_the_kernel(void **state)
{
	static const char none[] = "[profile.x.fs]\nmode = \"none\"\n";
	static const char ro[] = "[profile.x.fs]\nmode = \"read-only\"\n";
	static const char grant[] = "[profile.x.fs]\nmode = \"none\"\nrules = [{ path = \"/srv/\", "
				    "access = \"r\" }]\n";
	static const char star[] = "[profile.x.network]\nunix = [\"*\"]\n";
	char msg[1024] = "";

	(void)state;
	assert_true(unix_refused("", "host", false, msg, sizeof(msg)));
	if (!strstr(msg, "'network.unix' cannot be enforced by provider 'host'") ||
	    !strstr(msg, "cgroup unix socket hooks (Linux 6.7) nor BPF LSM"))
		fail_msg("%s", msg);
	assert_true(unix_refused(none, "host", false, msg, sizeof(msg)));
	assert_true(unix_refused(ro, "process", false, msg, sizeof(msg)));
	if (!strstr(msg, "provider 'process'") || !strstr(msg, "fs mode \"none\""))
		fail_msg("%s", msg);
	assert_true(unix_refused(grant, "process", false, msg, sizeof(msg)));
	assert_false(unix_refused(none, "process", false, msg, sizeof(msg)));
	assert_false(unix_refused(star, "host", false, msg, sizeof(msg)));
	assert_false(unix_refused("", "host", true, msg, sizeof(msg)));
	assert_false(unix_refused(ro, "process", true, msg, sizeof(msg)));
	for (int col = SBX_ENF_GVISOR; col < SBX_ENF_NPROV; col++)
		assert_false(unix_refused(ro, sbx_enforce_providers[col], false, msg, sizeof(msg)));
}

/* The word docs/providers.md uses for a cell. */
static const char *doc_word(const struct sbx_enforce_cell *c)
{
	switch (c->v) {
	case SBX_ENF_ENFORCED: return "yes";
	case SBX_ENF_DEGRADABLE: return c->when ? "no (some values)" : "no";
	case SBX_ENF_REFUSED: return "refused (some values)";
	case SBX_ENF_FS_BACKEND: return "kernel";
	case SBX_ENF_INERT: return "\u2014";
	case SBX_ENF_LANDLOCK: return "kernel (some values)";
	case SBX_ENF_UNIX_HOOKS: return "kernel (some values)";
	case SBX_ENF_BPF_LSM: return "BPF LSM";	/* the oci column only, not in the doc */
	}
	return "?";
}

/* docs/providers.md shows the table as it is: one line per row. */
static void test_docs_show_the_table(void **state)
{
	char path[4096], line[512], *doc = NULL;
	size_t n, len = 0;
	const struct sbx_enforce_row *rows = sbx_enforce_table(&n);
	FILE *f = fopen(test_srcpath(path, sizeof(path), "docs/providers.md"), "re");

	(void)state;
	assert_non_null(f);
	assert_true(getdelim(&doc, &len, 0, f) > 0);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		int o = snprintf(line, sizeof(line), "\n| `%s` |", rows[i].key);

		for (int c = 0; c < SBX_ENF_NPROV; c++)
			o += snprintf(line + o, sizeof(line) - (size_t)o, " %s |", doc_word(&rows[i].cell[c]));
		snprintf(line + o, sizeof(line) - (size_t)o, "\n");
		if (!strstr(doc, line))
			fail_msg("docs/providers.md lacks the line%s", line);
	}
	free(doc);
}

/* sbx-oci's column (enforce.c oci_column): every key has an entry of its
 * own; fs rules need BPF LSM (Landlock does not help: sbx-oci does not start
 * the container's process), refused under strict naming the rule. */
static void test_oci_column(void **state)
{
	static const char fs[] = "[profile.x.fs]\nmode = \"full\"\n"
				 "rules = [ { path = \"/srv/\", access = \"r\" } ]\n";
	struct sbx_enforce_features none = { 0 }, lsm = { .fs_backend = SBX_FSB_BPF_LSM, .unix_hooks = true },
				    ll = { .fs_backend = SBX_FSB_LANDLOCK, .landlock = true };
	const struct sbx_enforce_features *fv[3] = { &none, &lsm, &ll };
	const struct sbx_enforce_finding *g;
	struct sbx_enforce_report r;
	struct sbx_policy *pol;
	char why[256];

	(void)state;
	for (size_t i = 0; sbx_policy_key(i); i++) {
		pol = load(sample_of(sbx_policy_key(i)), false);
		for (int k = 0; k < 3; k++) {
			assert_int_equal(sbx_enforceability(sbx_policy_find(pol, "x"), "oci", fv[k], &r, why,
							    sizeof(why)), 0);
			for (size_t j = 0; j < r.n; j++)
				if (strstr(r.v[j].msg, "has no entry"))
					fail_msg("%s has no entry in the oci column", r.v[j].key);
			sbx_enforce_report_free(&r);
		}
		sbx_policy_free(pol);
	}
	pol = load(fs, false);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(sbx_enforceability(sbx_policy_find(pol, "x"), "oci", fv[k], &r, why,
						    sizeof(why)), 0);
		g = find(&r, "fs.rules");
		if (fv[k] == &lsm)
			assert_null(g);
		else if (!g || !g->refuse || !strstr(g->msg, "BPF LSM") || !strstr(g->msg, "rule '/srv/'"))
			fail_msg("fs.rules under oci without BPF LSM: %s", g ? g->msg : "not reported");
		sbx_enforce_report_free(&r);
	}
	sbx_policy_free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_policy_key_has_a_row),
		cmocka_unit_test(test_every_provider_has_a_column),
		cmocka_unit_test(test_every_key_is_enforced_or_refused),
		cmocka_unit_test(test_known_gaps_closed),
		cmocka_unit_test(test_unikernel_and_tee_columns),
		cmocka_unit_test(test_rate_needs_own_netns),
		cmocka_unit_test(test_unix_default_needs_the_kernel),
		cmocka_unit_test(test_docs_show_the_table),
		cmocka_unit_test(test_oci_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
