/* SPDX-License-Identifier: MIT */
/*
 * sbx-consumer [-n COUNT] [-t SECONDS] [-s] [INSTANCE]: prints one line per
 * audit event of every sandbox, read from the pinned global ring buffer
 * /sys/fs/bpf/<INSTANCE>/sbx_events (INSTANCE: $SBX_INSTANCE, else "sbx").
 * Uses only the ABI of bpf/include/sbx_abi.h (docs/audit.md) and libbpf, and
 * decodes every event type of it (tests/unit/test_consumer.c fails when a type
 * is added to the ABI without a line here).
 * -n stops after COUNT events, -t after SECONDS, -s skips the backlog (events
 * stamped before the start). Exit: 0; 1 on error; 3 if -t expired first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sbx_abi.h"

static volatile sig_atomic_t stop;
static unsigned long long seen, want, skip_before;

static const char *const names[] = {
	[SBX_EV_SANDBOX_START] = "sandbox.start", [SBX_EV_SANDBOX_EXIT] = "sandbox.exit",
	[SBX_EV_NET_CONNECT] = "net.connect",	  [SBX_EV_NET_SEND] = "net.send",
	[SBX_EV_NET_BIND] = "net.bind",		  [SBX_EV_SOCK_CREATE] = "net.socket",
	[SBX_EV_NET_QUOTA] = "net.quota",	  [SBX_EV_NET_PACKET] = "net.packet",
	[SBX_EV_SYSCALL_DENIED] = "syscall.denied", [SBX_EV_FILE] = "file",
	[SBX_EV_NET_SOCKOPT] = "net.sockopt", [SBX_EV_NET_UNIX] = "net.unix",
	[SBX_EV_AUDIT_SUPPRESSED] = "audit.suppressed", [SBX_EV_LIMIT_DISK] = "limit.disk",
	[SBX_EV_DNS_QUERY] = "dns.query", [SBX_EV_DNS_DENIED] = "dns.denied",
	[SBX_EV_DNS_RESOLVER] = "dns.resolver",
};

/* The smallest hdr.size of each known type: structs only grow at the end. */
#define LIFE offsetof(struct sbx_ev_life, suppressed_allow)	/* what ABI 9 wrote */
#define NET sizeof(struct sbx_ev_net)
static const size_t sizes[] = {
	[SBX_EV_SANDBOX_START] = LIFE, [SBX_EV_SANDBOX_EXIT] = LIFE, [SBX_EV_NET_CONNECT] = NET,
	[SBX_EV_NET_SEND] = NET, [SBX_EV_NET_BIND] = NET, [SBX_EV_SOCK_CREATE] = sizeof(struct sbx_ev_sock),
	[SBX_EV_NET_QUOTA] = sizeof(struct sbx_ev_quota), [SBX_EV_NET_PACKET] = NET,
	[SBX_EV_SYSCALL_DENIED] = sizeof(struct sbx_ev_syscall), [SBX_EV_FILE] = sizeof(struct sbx_ev_file),
	[SBX_EV_NET_SOCKOPT] = sizeof(struct sbx_ev_sockopt),
	[SBX_EV_NET_UNIX] = sizeof(struct sbx_ev_unix),
	[SBX_EV_AUDIT_SUPPRESSED] = sizeof(struct sbx_ev_suppressed),
	[SBX_EV_LIMIT_DISK] = sizeof(struct sbx_ev_disk),
	[SBX_EV_DNS_QUERY] = sizeof(struct sbx_ev_dns), [SBX_EV_DNS_DENIED] = sizeof(struct sbx_ev_dns),
	[SBX_EV_DNS_RESOLVER] = sizeof(struct sbx_ev_dns_resolver),
};

/* enum sbx_file_op */
static const char *const file_ops[] = {
	[SBX_FOP_OPEN] = "open", [SBX_FOP_EXEC] = "exec", [SBX_FOP_MMAP_EXEC] = "mmap_exec",
	[SBX_FOP_CREATE] = "create", [SBX_FOP_UNLINK] = "unlink", [SBX_FOP_RENAME] = "rename",
	[SBX_FOP_LINK] = "link", [SBX_FOP_SYMLINK] = "symlink", [SBX_FOP_MKNOD] = "mknod",
	[SBX_FOP_MKDIR] = "mkdir", [SBX_FOP_RMDIR] = "rmdir", [SBX_FOP_TRUNCATE] = "truncate",
	[SBX_FOP_CHMOD] = "chmod", [SBX_FOP_CHOWN] = "chown", [SBX_FOP_MOUNT] = "mount",
};

static void print_rule(unsigned int rule)
{
	if (rule == SBX_RULE_DEFAULT)
		printf(" rule=default");
	else if (rule != SBX_RULE_NONE)
		printf(" rule=%u", rule);
}

static void print_file(const struct sbx_ev_file *e)
{
	char path[SBX_MAX_PATH_LEN + 1];
	const char *op = e->op < sizeof(file_ops) / sizeof(file_ops[0]) ? file_ops[e->op] : NULL;

	memcpy(path, e->path, sizeof(e->path));
	path[sizeof(e->path)] = 0;	/* may be truncated without its NUL */
	printf(" verdict=%s backend=%s op=%s access=%s%s%s error=%d path=%s",
	       e->verdict == SBX_VERDICT_ALLOW ? "allow" : "deny",
	       e->backend == SBX_FSB_BPF_LSM ? "bpf-lsm" : e->backend == SBX_FSB_LANDLOCK ? "landlock" : "?",
	       op ? op : "?", e->access & SBX_FACC_R ? "r" : "", e->access & SBX_FACC_W ? "w" : "",
	       e->access & SBX_FACC_X ? "x" : "", e->error, path);
	print_rule(e->rule);
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct sbx_event_hdr *h = data;
	char comm[17] = "", addr[INET6_ADDRSTRLEN] = "?";

	(void)ctx;
	if (len < sizeof(*h) || h->size < sizeof(*h) || h->size > len) {
		fprintf(stderr, "sbx-consumer: malformed record of %zu bytes\n", len);
		return 0;
	}
	if (h->type >= sizeof(names) / sizeof(names[0]) || !names[h->type] ||
	    h->size < sizes[h->type]) {
		printf("unknown type=%u size=%u seq=%llu slot=%u\n", h->type, h->size,
		       (unsigned long long)h->seq, h->slot);
		return 0;	/* from a newer sbx, or short: skip it */
	}
	if (h->ts_ns < skip_before)
		return 0;
	memcpy(comm, h->comm, sizeof(h->comm));
	printf("%s seq=%llu slot=%u pid=%u tid=%u comm=%s", names[h->type],
	       (unsigned long long)h->seq, h->slot, h->tgid, h->pid, comm);
	if (h->type == SBX_EV_SANDBOX_START || h->type == SBX_EV_SANDBOX_EXIT) {
		const struct sbx_ev_life *e = data;
		printf(" workload=%u", e->workload_pid);
		if (h->type == SBX_EV_SANDBOX_EXIT)
			printf(" exit_code=%d signal=%d timed_out=%u", e->exit_code, e->signal,
			       e->flags & 1);
		if (h->type == SBX_EV_SANDBOX_EXIT && h->size >= sizeof(*e))
			printf(" suppressed_allow=%llu suppressed_deny=%llu",
			       (unsigned long long)e->suppressed_allow,
			       (unsigned long long)e->suppressed_deny);
	} else if (h->type == SBX_EV_AUDIT_SUPPRESSED) {
		const struct sbx_ev_suppressed *e = data;
		printf(" suppressed=%llu allow=%llu deny=%llu allow_total=%llu deny_total=%llu",
		       (unsigned long long)(e->allow + e->deny), (unsigned long long)e->allow,
		       (unsigned long long)e->deny, (unsigned long long)e->allow_total,
		       (unsigned long long)e->deny_total);
	} else if (h->type == SBX_EV_LIMIT_DISK) {
		const struct sbx_ev_disk *e = data;
		printf(" mount=%.*s used_bytes=%llu limit_bytes=%llu inodes_used=%llu inodes_limit=%llu",
		       (int)strnlen(e->mount, sizeof(e->mount)), e->mount,
		       (unsigned long long)e->used_bytes, (unsigned long long)e->limit_bytes,
		       (unsigned long long)e->inodes_used, (unsigned long long)e->inodes_limit);
	} else if (h->type == SBX_EV_DNS_QUERY || h->type == SBX_EV_DNS_DENIED) {
		const struct sbx_ev_dns *e = data;

		printf(" verdict=%s name=%.*s qtype=%u rcode=%u reason=%u answers=%u",
		       e->verdict == SBX_VERDICT_ALLOW ? "allow" : "deny",
		       (int)strnlen(e->name, sizeof(e->name)), e->name, e->qtype, e->rcode, e->reason,
		       e->n_addrs);
		for (unsigned i = 0; i < e->n_addrs && i < SBX_DNS_EV_ADDRS; i++) {
			inet_ntop(e->addrs[i].family == 4 ? AF_INET : AF_INET6, e->addrs[i].addr, addr,
				  sizeof(addr));
			printf("%s%s", i ? "," : "=", addr);
		}
		print_rule(e->rule);
	} else if (h->type == SBX_EV_DNS_RESOLVER) {
		const struct sbx_ev_dns_resolver *e = data;

		printf(" verdict=%s state=%u pid=%u status=%d pins_flushed=%u restarts=%u",
		       e->verdict == SBX_VERDICT_ALLOW ? "allow" : "deny", e->state, e->pid, e->status,
		       e->pins_flushed, e->restarts);
	} else if (h->type == SBX_EV_SOCK_CREATE) {
		const struct sbx_ev_sock *e = data;
		printf(" verdict=deny family=%u type=%u protocol=%u", e->family, e->type, e->protocol);
	} else if (h->type == SBX_EV_NET_SOCKOPT) {
		const struct sbx_ev_sockopt *e = data;
		printf(" verdict=deny family=%u level=%d optname=%d", e->family, e->level, e->optname);
	} else if (h->type == SBX_EV_NET_QUOTA) {
		const struct sbx_ev_quota *e = data;
		printf(" verdict=deny bytes=%llu quota=%llu", (unsigned long long)e->bytes,
		       (unsigned long long)e->quota);
	} else if (h->type == SBX_EV_SYSCALL_DENIED) {
		const struct sbx_ev_syscall *e = data;
		printf(" verdict=deny nr=%u ret=%d args=0x%llx,0x%llx,0x%llx", e->nr, e->ret,
		       (unsigned long long)e->args[0], (unsigned long long)e->args[1],
		       (unsigned long long)e->args[2]);
	} else if (h->type == SBX_EV_FILE) {
		print_file(data);
	} else if (h->type == SBX_EV_NET_UNIX) {
		const struct sbx_ev_unix *e = data;
		printf(" verdict=deny op=%s %s=%.*s", e->send ? "send" : "connect",
		       e->abstract ? "abstract" : "path", (int)sizeof(e->path), e->path);
	} else {
		const struct sbx_ev_net *e = data;
		inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, addr, sizeof(addr));
		printf(" verdict=%s addr=%s port=%u proto=%u", e->verdict == SBX_VERDICT_ALLOW ?
		       "allow" : "deny", addr, e->port, e->proto);
		print_rule(e->rule);
	}
	putchar('\n');
	if (want && ++seen >= want)
		return -ECANCELED;	/* libbpf stops here, after this record */
	return 0;
}

static void on_signal(int sig) { (void)sig; stop = 1; }

static unsigned long long mono_ns(void)	/* the clock of hdr.ts_ns */
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: poll returns */
	const char *inst = getenv("SBX_INSTANCE");
	unsigned long long timeout_ns = 0, end;
	struct ring_buffer *rb;
	char path[256];
	int c, fd, r = 0;

	while ((c = getopt(argc, argv, "n:t:s")) != -1) {
		if (c == 'n')
			want = strtoull(optarg, NULL, 10);
		else if (c == 't')
			timeout_ns = (unsigned long long)(strtod(optarg, NULL) * 1e9);
		else if (c == 's')
			skip_before = 1;
		else {
			fprintf(stderr, "usage: %s [-n COUNT] [-t SECONDS] [-s] [INSTANCE]\n", argv[0]);
			return 1;
		}
	}
	if (optind < argc)
		inst = argv[optind];
	if (!inst || !*inst)
		inst = "sbx";
	snprintf(path, sizeof(path), "/sys/fs/bpf/%s/sbx_events", inst);
	fd = bpf_obj_get(path);
	rb = fd < 0 ? NULL : ring_buffer__new(fd, on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "sbx-consumer: %s: %s\n", path, strerror(errno));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	end = mono_ns() + timeout_ns;
	if (skip_before)
		skip_before = mono_ns();
	fprintf(stderr, "sbx-consumer: reading %s\n", path);
	while (!stop) {
		r = ring_buffer__poll(rb, 100);
		if (r == -ECANCELED) {		/* COUNT events seen */
			r = 0;
			break;
		}
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "sbx-consumer: ring_buffer__poll: %s\n", strerror(-r));
			break;
		}
		r = 0;
		if (timeout_ns && mono_ns() >= end) {
			r = want ? 3 : 0;
			break;
		}
	}
	ring_buffer__free(rb);
	close(fd);
	return r < 0 ? 1 : r;
}
