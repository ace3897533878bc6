/* SPDX-License-Identifier: MIT */
/*
 * The Firecracker side of the microvm provider (providers/microvm.c):
 * a minimal HTTP/1.1 client for Firecracker's REST API on its unix socket,
 * the jailer's command line, and the probes that say whether Firecracker
 * (and KVM, which it needs) can run here. See docs/microvm.md.
 */
#ifndef SBX_FIRECRACKER_H
#define SBX_FIRECRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One VM as Firecracker is told about it; NULL members are left out. */
struct sbx_fc_config {
	const char *kernel;		/* boot-source kernel_image_path */
	const char *initrd;		/* boot-source initrd_path */
	const char *boot_args;		/* boot-source boot_args */
	const char *rootfs;		/* drives/rootfs path_on_host */
	bool rootfs_read_only;
	unsigned vcpus;			/* machine-config vcpu_count (1..32) */
	uint64_t mem_mib;		/* machine-config mem_size_mib */
	const char *tap;		/* network-interfaces/eth0 host_dev_name */
	const char *guest_mac;		/* and its guest_mac, or NULL */
	uint32_t vsock_cid;		/* vsock guest_cid (>= 3) */
	const char *vsock_uds;		/* vsock uds_path */
};

/*
 * One request: method path HTTP/1.1 with a JSON body (or none when body is
 * NULL) over a fresh connection to the API socket. Returns 0 when the answer
 * is 2xx; -EPROTO for another status, with "METHOD PATH: 400 Bad Request:
 * <fault_message>" in why; -ETIMEDOUT or -errno when the socket fails.
 * ret_code (may be NULL) receives the HTTP status, ret_body (may be NULL,
 * body_len bytes) the response body, NUL-terminated and truncated to fit.
 */
int sbx_fc_request(const char *sock, const char *method, const char *path, const char *body,
		   int timeout_ms, int *ret_code, char *ret_body, size_t body_len,
		   char *why, size_t len);

/* The body of each configuration call, as a malloc'd JSON text, or NULL. */
char *sbx_fc_boot_source_json(const struct sbx_fc_config *c);
char *sbx_fc_drive_json(const struct sbx_fc_config *c);
char *sbx_fc_machine_config_json(const struct sbx_fc_config *c);
char *sbx_fc_network_json(const struct sbx_fc_config *c);
char *sbx_fc_vsock_json(const struct sbx_fc_config *c);

/* The whole boot: PUT /boot-source, /drives/rootfs (with rootfs),
 * /machine-config, /network-interfaces/eth0 (with tap), /vsock (with
 * vsock_uds), then PUT /actions {"action_type": "InstanceStart"}. Stops at
 * the first refusal and says which call failed and why. */
int sbx_fc_boot(const char *sock, const struct sbx_fc_config *c, int timeout_ms,
		char *why, size_t len);

/* The jailer's argv (NULL-terminated, pointers into the arguments and into
 * buf) for: jailer --id ID --exec-file FC --uid U --gid G --chroot-base-dir
 * BASE -- --api-sock API_SOCK. Returns the argument count or -ENOSPC. */
int sbx_fc_jailer_argv(const char *jailer, const char *firecracker, const char *id, uid_t uid,
		       gid_t gid, const char *chroot_base, const char *api_sock, char *buf,
		       size_t buf_len, const char **ret_argv, size_t max_args);

/* Finds prog: a path with '/' as is, else in $PATH. 0 or -ENOENT. */
int sbx_find_program(const char *prog, char *ret, size_t len);

/*
 * Whether KVM can run a guest here. /dev/kvm opening and answering
 * KVM_GET_API_VERSION and KVM_CREATE_VM is not enough (a PVM-backed
 * /dev/kvm does both, then stock kernels hang or qemu asserts), so with a
 * guest kernel and initramfs at hand this boots them once under qemu
 * -accel kvm and waits for the power-off (a few seconds at most). The
 * answer is kept for the rest of the host's boot in /run/sbx-microvm-kvm.
 * $SBX_MICROVM_ACCEL=tcg or =kvm skips the test. 0 = usable; else -errno
 * and why ("KVM is not usable (PVM host?): ...").
 */
int sbx_kvm_usable(const char *qemu, const char *kernel, const char *initrd, char *why,
		   size_t len);

/* Firecracker can run here: its binary (bin, or "firecracker" in $PATH) and
 * KVM. 0, or -errno with every reason in why. kernel/initrd may be NULL. */
int sbx_firecracker_probe(const char *bin, const char *kernel, const char *initrd, char *why,
			  size_t len);

#endif
