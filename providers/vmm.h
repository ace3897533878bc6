/* SPDX-License-Identifier: MIT */
/*
 * What the providers that run a virtual machine monitor share (microvm.c
 * implements it; unikernel.c and tee.c use it): finding qemu, building its
 * argv, keeping the tail of its messages, and starting it in the sandbox
 * cgroup as the sandbox's uid without capabilities.
 */
#ifndef SBX_VMM_H
#define SBX_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "provider.h"

#define SBX_LOG_KEEP 3072	/* bytes of console / monitor output kept for errors */

struct sbx_logtail {
	char buf[SBX_LOG_KEEP];
	size_t len;
};

/* Keeps the last SBX_LOG_KEEP bytes written. */
void sbx_logtail_keep(struct sbx_logtail *t, const char *p, size_t n);

/* qemu-system-x86_64: prof (a profile's path) if given, else $SBX_QEMU, else
 * $PATH. 0 or -ENOENT. */
int sbx_qemu_find(const char *prof, char *ret, size_t len);

/* Appends a printf-formatted word to a NULL-terminated argv. 0 or -ENOMEM. */
int sbx_argv_add(char ***argv, size_t *argc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sbx_argv_free(char **argv, size_t argc);

/* In the child of sbx_clone_into_cgroup: with drop, become the sandbox's uid
 * (nobody without one) with no capabilities and no_new_privs, plus Landlock
 * scoping; then exec argv. Returns -errno only on failure. */
int sbx_vmm_exec(const struct sbx_spawn *s, char *const *argv, bool drop);

/* Starts the VMM: sbx_clone_into_cgroup(child, arg), then closes the child's
 * ends of the channels (peer[0..n_peer), set to -1), turns a failed exec into
 * "cannot run ARGV0", and starts relay(arg) in *thread. 0 or -errno. */
int sbx_vmm_start(const struct sbx_spawn *s, int (*child)(const struct sbx_spawn *s, void *arg),
		  void *arg, int *peer, size_t n_peer, const char *argv0, void *(*relay)(void *),
		  pthread_t *thread, struct sbx_child *ret, char *why, size_t len);

/* Copies to fd; a closed reader stops the copying, not the draining (the
 * guest must never block on its output). */
void sbx_vmm_copy_out(int fd, const char *p, size_t n, bool *dead);

/* The confidential guest kinds of the tee provider (tee.c). */
enum sbx_cvm { SBX_CVM_NONE = 0, SBX_CVM_SEV_SNP, SBX_CVM_TDX };

/* The qemu words that make a guest confidential: the machine option and the
 * -object argument, e.g. "q35,confidential-guest-support=cvm0,..." and
 * "sev-snp-guest,id=cvm0,cbitpos=51,reduced-phys-bits=1". cbitpos is the
 * C-bit position (CPUID 0x8000001f EBX[5:0]) for SEV-SNP. 0 or -EINVAL. */
int sbx_cvm_qemu_words(enum sbx_cvm kind, unsigned cbitpos, char *machine, size_t mlen,
		       char *object, size_t olen);

/* The firmware of a confidential guest: $SBX_TEE_FIRMWARE, else Debian's
 * OVMF (package ovmf). */
const char *sbx_tee_firmware(void);

/* microvm.c's prepare for a confidential guest: the microvm provider's code
 * path with -M q35 and the -object of kind; needs KVM (refused otherwise).
 * The state is the microvm provider's: its spawn, signal, wait and cleanup. */
int sbx_microvm_prepare_cvm(const struct sbx_spawn *s, enum sbx_cvm kind, unsigned cbitpos,
			    void **ret_state, char *why, size_t len);

#endif
