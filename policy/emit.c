/* SPDX-License-Identifier: MIT */
/*
 * A resolved profile written back as a policy file (`sbx run
 * --print-profile`). The text loads back, through the same loader as every
 * file, to a profile equal to the one written: that is what lets a command
 * line become a policy file, and what `sbx run` relies on when it builds an
 * ad-hoc profile (user/cli/adhoc.c).
 *
 * Only keys whose value differs from an empty profile's default are
 * written (docs/policy.md section 8), so the output stays short.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", f);
		else if (*c == '\t')
			fputs("\\t", f);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

static void kv_string(FILE *f, const char *key, const char *s)
{
	if (!s)
		return;
	fprintf(f, "%s = ", key);
	put_string(f, s);
	fputc('\n', f);
}

static void kv_strv(FILE *f, const char *key, char *const *v, size_t n)
{
	if (!n)
		return;
	fprintf(f, "%s = [", key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		put_string(f, v[i]);
	}
	fputs("]\n", f);
}

/* "1d12h", "1m30s", "250ms": the units of the duration grammar, largest first. */
static void kv_duration(FILE *f, const char *key, uint64_t ms)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};

	if (!ms)
		return;
	fprintf(f, "%s = \"", key);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms >= units[i].ms) {
			fprintf(f, "%" PRIu64 "%s", ms / units[i].ms, units[i].unit);
			ms %= units[i].ms;
		}
	}
	fputs("\"\n", f);
}

/* The largest 1024-based unit that divides the size exactly, else bytes. */
static void kv_size(FILE *f, const char *key, uint64_t bytes)
{
	static const char units[] = "KMGT";
	int u = -1;

	if (!bytes)
		return;
	while (u < 3 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		fprintf(f, "%s = %" PRIu64 "\n", key, bytes);
	else
		fprintf(f, "%s = \"%" PRIu64 "%c\"\n", key, bytes, units[u]);
}

static void kv_uint(FILE *f, const char *key, uint64_t v)
{
	if (v)
		fprintf(f, "%s = %" PRIu64 "\n", key, v);
}

static void table_header(FILE *f, const char *name, const char *sub)
{
	fputs("\n[profile.", f);
	put_string(f, name);
	if (sub)
		fprintf(f, ".%s", sub);
	fputs("]\n", f);
}

/* The largest exact unit: 10000000 -> "10Mbit". */
static void kv_rate(FILE *f, const char *key, uint64_t bps)
{
	static const char *const units[] = { "kbit", "Mbit", "Gbit" };
	int u = -1;

	if (!bps)
		return;
	while (u < 2 && bps % 1000 == 0) {
		bps /= 1000;
		u++;
	}
	if (u < 0)
		fprintf(f, "%s = %" PRIu64 "\n", key, bps);
	else
		fprintf(f, "%s = \"%" PRIu64 "%s\"\n", key, bps, units[u]);
}

static void write_top(FILE *f, const struct sbx_profile *p)
{
	kv_string(f, "provider", p->provider);
	if (p->min_isolation != SBX_ISO_PROCESS)
		kv_string(f, "min_isolation", sbx_isolation_name(p->min_isolation));
	kv_duration(f, "timeout", p->timeout_ms);
	kv_size(f, "memory", p->memory_bytes);
	if (p->cpu_milli % 1000)
		fprintf(f, "cpu = \"%" PRIu32 "m\"\n", p->cpu_milli);
	else
		kv_uint(f, "cpu", p->cpu_milli / 1000);
	if (sbx_cpus_any(p->cpus)) {
		char cpus[4096];

		sbx_cpus_format(p->cpus, cpus, sizeof(cpus));
		kv_string(f, "cpus", cpus);
	}
	kv_uint(f, "cpu_weight", p->cpu_weight);
	kv_uint(f, "pids", p->pids);
	kv_uint(f, "nofile", p->nofile);
	kv_size(f, "fsize", p->fsize);
	kv_size(f, "disk", p->disk_bytes);
	kv_size(f, "net_bytes", p->net_bytes);
	kv_rate(f, "egress_rate", p->egress_rate);
	kv_rate(f, "ingress_rate", p->ingress_rate);
	kv_size(f, "rate_burst", p->rate_burst);
	kv_string(f, "cwd", p->cwd);
	kv_string(f, "user", p->user);
	kv_string(f, "group", p->group);
	if (p->audit != SBX_AUDIT_DENY)
		kv_string(f, "audit", sbx_audit_name(p->audit));
	if (p->audit_rate != SBX_AUDIT_RATE_DEFAULT)
		kv_uint(f, "audit_rate", p->audit_rate);
	if (p->audit_burst != SBX_AUDIT_BURST_DEFAULT)
		kv_uint(f, "audit_burst", p->audit_burst);
	if (p->audit_deny_rate != SBX_AUDIT_DENY_RATE_DEFAULT)
		kv_uint(f, "audit_deny_rate", p->audit_deny_rate);
	if (p->audit_deny_burst != SBX_AUDIT_DENY_BURST_DEFAULT)
		kv_uint(f, "audit_deny_burst", p->audit_deny_burst);
	kv_string(f, "enforcement", sbx_enforcement_name(p->enforcement));
	kv_strv(f, "allow_users", p->allow_users, p->n_allow_users);
	kv_strv(f, "allow_groups", p->allow_groups, p->n_allow_groups);
}

static void write_env(FILE *f, const struct sbx_profile *p)
{
	if (!p->n_env)
		return;
	table_header(f, p->name, "env");
	for (size_t i = 0; i < p->n_env; i++) {
		put_string(f, p->env[i].name);
		fputs(" = ", f);
		put_string(f, p->env[i].value);
		fputc('\n', f);
	}
}

static void kv_entries(FILE *f, const char *key, const struct sbx_profile *p, bool deny)
{
	size_t n = 0;

	for (size_t i = 0; i < p->net.n_entries; i++)
		n += p->net.entries[i].deny == deny;
	if (!n)
		return;
	fprintf(f, "%s = [", key);
	n = 0;
	for (size_t i = 0; i < p->net.n_entries; i++) {
		if (p->net.entries[i].deny != deny)
			continue;
		fputs(n++ ? ", " : "", f);
		put_string(f, p->net.entries[i].text);
	}
	fputs("]\n", f);
}

static void write_listen(FILE *f, const struct sbx_profile *p)
{
	if (!p->net.n_listen)
		return;
	fputs("listen = [", f);
	for (size_t i = 0; i < p->net.n_listen; i++) {
		const struct sbx_port_range *r = &p->net.listen[i];

		fprintf(f, "%s\"%u", i ? ", " : "", r->lo);
		if (r->hi != r->lo)
			fprintf(f, "-%u", r->hi);
		if (r->proto != SBX_PROTO_ANY)
			fprintf(f, "/%s", sbx_proto_name(r->proto));
		fputc('"', f);
	}
	fputs("]\n", f);
}

static void write_families(FILE *f, const struct sbx_profile *p)
{
	const char *sep = "";

	if (!p->net.families)
		return;
	fputs("families = [", f);
	for (unsigned af = 0; af < SBX_FAMILY_MAX; af++) {
		if (!(p->net.families & (1ULL << af)) || !sbx_family_name(af))
			continue;
		fprintf(f, "%s\"%s\"", sep, sbx_family_name(af));
		sep = ", ";
	}
	fputs("]\n", f);
}

static void write_network(FILE *f, const struct sbx_profile *p)
{
	table_header(f, p->name, "network");
	kv_string(f, "mode", sbx_net_mode_name(p->net.mode));
	kv_entries(f, "allow", p, false);
	kv_entries(f, "deny", p, true);
	write_listen(f, p);
	if (p->net.raw_sockets)
		fputs("raw_sockets = true\n", f);
	write_families(f, p);
	kv_strv(f, "unix", p->net.unix_paths, p->net.n_unix);
	if (p->net.namespace != SBX_NETNS_AUTO)
		kv_string(f, "namespace", sbx_netns_name(p->net.namespace));
	kv_string(f, "veth_host", p->net.veth_host);
	kv_string(f, "veth_sandbox", p->net.veth_sandbox);
}

/* Whole seconds as "30s", "0s" included: ttl_floor and grace may be 0. */
static void kv_seconds(FILE *f, const char *key, uint32_t s)
{
	fprintf(f, "%s = \"%" PRIu32 "s\"\n", key, s);
}

static void write_dns(FILE *f, const struct sbx_profile *p)
{
	char a[64];

	if (!p->net.dns.set)
		return;
	table_header(f, p->name, "network.dns");
	if (p->net.dns.n_upstream) {
		fputs("upstream = [", f);
		for (size_t i = 0; i < p->net.dns.n_upstream; i++) {
			sbx_dns_server_format(&p->net.dns.upstream[i], a, sizeof(a));
			fprintf(f, "%s\"%s\"", i ? ", " : "", a);
		}
		fputs("]\n", f);
	}
	kv_seconds(f, "ttl_floor", p->net.dns.ttl_floor_s);
	kv_seconds(f, "grace", p->net.dns.grace_s);
	kv_string(f, "refuse", p->net.dns.nxdomain ? "nxdomain" : "refused");
}

static void write_fs(FILE *f, const struct sbx_profile *p)
{
	table_header(f, p->name, "fs");
	kv_string(f, "mode", sbx_fs_mode_name(p->fs.mode));
	if (p->fs.n_rules) {
		fputs("rules = [\n", f);
		for (size_t i = 0; i < p->fs.n_rules; i++) {
			char acc[8];

			sbx_access_str(p->fs.rules[i].access, acc);
			fputs("  { path = ", f);
			put_string(f, p->fs.rules[i].path);
			fprintf(f, ", access = \"%s\" },\n", acc);
		}
		fputs("]\n", f);
	}
	kv_strv(f, "exec", p->fs.exec, p->fs.n_exec);
}

static void write_seccomp(FILE *f, const struct sbx_profile *p)
{
	if (!p->seccomp.written && p->seccomp.preset == SBX_SECCOMP_DEFAULT &&
	    p->seccomp.action == SBX_SECCOMP_ERRNO && !p->seccomp.n_deny && !p->seccomp.n_allow)
		return;
	table_header(f, p->name, "seccomp");
	kv_string(f, "preset", sbx_seccomp_preset_name(p->seccomp.preset));
	kv_string(f, "action", sbx_seccomp_action_name(p->seccomp.action));
	kv_strv(f, "deny", p->seccomp.deny, p->seccomp.n_deny);
	kv_strv(f, "allow", p->seccomp.allow, p->seccomp.n_allow);
}

static void write_providers(FILE *f, const struct sbx_profile *p)
{
	if (p->mock.exit_code || p->mock.stdout_text || p->mock.stderr_text || p->mock.duration_ms ||
	    p->mock.fail) {
		table_header(f, p->name, "mock");
		kv_uint(f, "exit_code", (uint64_t)p->mock.exit_code);
		kv_string(f, "stdout", p->mock.stdout_text);
		kv_string(f, "stderr", p->mock.stderr_text);
		kv_duration(f, "duration", p->mock.duration_ms);
		kv_string(f, "fail", p->mock.fail);
	}
	if (p->gvisor.platform || p->gvisor.runsc) {
		table_header(f, p->name, "gvisor");
		kv_string(f, "platform", p->gvisor.platform);
		kv_string(f, "runsc", p->gvisor.runsc);
	}
	if (p->wasm.runtime) {
		table_header(f, p->name, "wasm");
		kv_string(f, "runtime", p->wasm.runtime);
	}
	if (p->microvm.backend || p->microvm.kernel || p->microvm.initrd || p->microvm.firecracker ||
	    p->microvm.jailer) {
		table_header(f, p->name, "microvm");
		kv_string(f, "backend", p->microvm.backend);
		kv_string(f, "kernel", p->microvm.kernel);
		kv_string(f, "initrd", p->microvm.initrd);
		kv_string(f, "firecracker", p->microvm.firecracker);
		kv_string(f, "jailer", p->microvm.jailer);
	}
	if (p->unikernel.image || p->unikernel.qemu || p->unikernel.machine || p->unikernel.cmdline) {
		table_header(f, p->name, "unikernel");
		kv_string(f, "image", p->unikernel.image);
		kv_string(f, "qemu", p->unikernel.qemu);
		kv_string(f, "machine", p->unikernel.machine);
		kv_string(f, "cmdline", p->unikernel.cmdline);
	}
}

static void write_profile(FILE *f, const struct sbx_profile *p)
{
	table_header(f, p->name, NULL);
	write_top(f, p);
	write_env(f, p);
	write_network(f, p);
	write_dns(f, p);
	write_fs(f, p);
	write_seccomp(f, p);
	write_providers(f, p);
}

static int flush_result(FILE *f)
{
	if (fflush(f) != 0 || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

int sbx_profile_write_toml(const struct sbx_profile *p, FILE *f)
{
	fputs("version = 1\n", f);
	write_profile(f, p);
	return flush_result(f);
}

int sbx_policy_write_toml(const struct sbx_policy *p, FILE *f)
{
	fputs("version = 1\n", f);
	for (size_t i = 0; i < p->n_profiles; i++)
		write_profile(f, &p->profiles[i]);
	return flush_result(f);
}
