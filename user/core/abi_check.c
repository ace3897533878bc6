/* SPDX-License-Identifier: MIT */
/*
 * Compile-time checks of the kernel <-> user ABI (bpf/include/sbx_abi.h)
 * that user space relies on: the filesystem half of the map keys, values and
 * events (the network half and the event header are pinned by
 * tests/unit/test_audit.c), and the policy model's enums that are copied
 * into map values unconverted (user/core/compile.c, fsplan.c). A change that
 * would make the BPF programs and user space disagree fails the build here
 * instead of misreading a map at run time. This file has no code.
 */
#include <stddef.h>
#include <netinet/in.h>

#include "policy.h"
#include "sbx_abi.h"

#define ABI_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " size is ABI")
#define ABI_FIELD(type, field, off, size) \
	_Static_assert(offsetof(type, field) == (off) && sizeof(((type *)0)->field) == (size), \
		       #type "." #field " offset and size are ABI")
#define POLICY_IS_ABI(policy, abi) \
	_Static_assert((long)(policy) == (long)(abi), #policy " != " #abi)

/* sbx_paths and sbx_execs: LPM keys of at most 256 data bytes after prefixlen */
ABI_SIZE(struct sbx_path_key, 8 + SBX_MAX_PATH_LEN);
ABI_FIELD(struct sbx_path_key, prefixlen, 0, 4);
ABI_FIELD(struct sbx_path_key, policy_id, 4, 4);
ABI_FIELD(struct sbx_path_key, path, 8, SBX_MAX_PATH_LEN);
_Static_assert(sizeof(struct sbx_path_key) - 4 <= 256, "LPM trie keys hold at most 256 data bytes");

ABI_SIZE(struct sbx_path_rule, 16);
ABI_FIELD(struct sbx_path_rule, access, 0, 4);
ABI_FIELD(struct sbx_path_rule, rule, 4, 4);
ABI_FIELD(struct sbx_path_rule, flags, 8, 4);

/* sbx_fscfg */
ABI_SIZE(struct sbx_fs_cfg, 8);
ABI_FIELD(struct sbx_fs_cfg, mode_access, 0, 4);
ABI_FIELD(struct sbx_fs_cfg, flags, 4, 4);

/* sbx_loaders: what the exec guard compares with bprm->file's inode */
ABI_SIZE(struct sbx_loader_key, 24);
ABI_FIELD(struct sbx_loader_key, policy_id, 0, 4);
ABI_FIELD(struct sbx_loader_key, pad, 4, 4);
ABI_FIELD(struct sbx_loader_key, dev, 8, 8);
ABI_FIELD(struct sbx_loader_key, ino, 16, 8);
ABI_SIZE(struct sbx_loader, 256);
ABI_FIELD(struct sbx_loader, path, 0, SBX_MAX_PATH_LEN);
ABI_FIELD(struct sbx_loader, flags, 252, 4);
_Static_assert(SBX_LDRF_PATH == 0x1 && SBX_LDRF_INTERP == 0x2, "sbx_loader flags are ABI");
_Static_assert(SBX_MAX_LOADERS == 16, "SBX_MAX_LOADERS sizes sbx_loaders");
_Static_assert(SBX_ABI_VERSION == 11, "a change to a map key or value bumps SBX_ABI_VERSION "
	       "(docs/audit.md, rule 4): update this assert with it");

/* SBX_EV_FILE, written by the LSM hooks and by the Landlock audit; the size
 * is rounded up to the header's 8-byte alignment (hdr.size says 328) */
ABI_SIZE(struct sbx_ev_file, 328);
ABI_FIELD(struct sbx_ev_net, mapped, 59, 1);
ABI_FIELD(struct sbx_ev_net, port, 60, 2);
ABI_FIELD(struct sbx_ev_net, form, 62, 1);
_Static_assert(SBX_ADDR_LITERAL == 0 && SBX_ADDR_UNSPECIFIED == 1 && SBX_ADDR_V4COMPAT == 2,
	       "enum sbx_addr_form is ABI");
_Static_assert(SBX_RULE_UNJUDGED == 0xfffffffbu, "SBX_RULE_UNJUDGED is ABI");

ABI_FIELD(struct sbx_ev_file, hdr, 0, 56);
ABI_FIELD(struct sbx_ev_file, verdict, 56, 1);
ABI_FIELD(struct sbx_ev_file, backend, 57, 1);
ABI_FIELD(struct sbx_ev_file, op, 58, 2);
ABI_FIELD(struct sbx_ev_file, access, 60, 4);
ABI_FIELD(struct sbx_ev_file, rule, 64, 4);
ABI_FIELD(struct sbx_ev_file, error, 68, 4);
ABI_FIELD(struct sbx_ev_file, path, 72, SBX_MAX_PATH_LEN);
_Static_assert(SBX_MAX_PATH_LEN == 252, "SBX_MAX_PATH_LEN sizes keys and events");
_Static_assert(SBX_EV_FILE == 10, "event type values are never renumbered");

/* values in events: appended to, never renumbered */
_Static_assert(SBX_FOP_OPEN == 1 && SBX_FOP_EXEC == 2 && SBX_FOP_MMAP_EXEC == 3 &&
	       SBX_FOP_CREATE == 4 && SBX_FOP_UNLINK == 5 && SBX_FOP_RENAME == 6 &&
	       SBX_FOP_LINK == 7 && SBX_FOP_SYMLINK == 8 && SBX_FOP_MKNOD == 9 &&
	       SBX_FOP_MKDIR == 10 && SBX_FOP_RMDIR == 11 && SBX_FOP_TRUNCATE == 12 &&
	       SBX_FOP_CHMOD == 13 && SBX_FOP_CHOWN == 14 && SBX_FOP_MOUNT == 15,
	       "file op values are never renumbered");
_Static_assert(SBX_FSB_BPF_LSM == 1 && SBX_FSB_LANDLOCK == 2, "fs backend values are ABI");
_Static_assert(SBX_FSF_ENFORCE == 0x1 && SBX_FSF_FULL == 0x2 && SBX_FSF_EXEC_LIST == 0x4,
	       "sbx_fs_cfg flags are ABI");
_Static_assert(SBX_PRF_EXEC_LIST == 0x1, "sbx_path_rule flags are ABI");
_Static_assert(SBX_RULE_DEFAULT == 0xffffffffu && SBX_RULE_NONE == 0xfffffffeu &&
	       SBX_RULE_BASE == 0xfffffffdu && SBX_RULE_EXEC_GUARD == 0xfffffffcu,
	       "rule values in events are ABI");

/* policy model <-> ABI: copied as they are into sbx_policy_cfg, sbx_path_rule
 * and sbx_fs_cfg */
POLICY_IS_ABI(SBX_NET_NONE, SBX_NETM_NONE);
POLICY_IS_ABI(SBX_NET_ALLOW, SBX_NETM_ALLOW);
POLICY_IS_ABI(SBX_NET_DENY, SBX_NETM_DENY);
POLICY_IS_ABI(SBX_NET_FULL, SBX_NETM_FULL);
POLICY_IS_ABI(SBX_AUDIT_DENY, SBX_AUDITL_DENY);
POLICY_IS_ABI(SBX_AUDIT_ALL, SBX_AUDITL_ALL);
POLICY_IS_ABI(SBX_AUDIT_NONE, SBX_AUDITL_NONE);
POLICY_IS_ABI(SBX_ACC_R, SBX_FACC_R);
POLICY_IS_ABI(SBX_ACC_W, SBX_FACC_W);
POLICY_IS_ABI(SBX_ACC_X, SBX_FACC_X);
/* sbx_listen_range.proto and sbx_net_rule.proto: 0 any, else IPPROTO_* */
POLICY_IS_ABI(SBX_PROTO_ANY, 0);
POLICY_IS_ABI(SBX_PROTO_TCP, IPPROTO_TCP);
POLICY_IS_ABI(SBX_PROTO_UDP, IPPROTO_UDP);

/* host names (docs/audit.md 3.6d, 4.4c, Appendix A) */
ABI_SIZE(struct sbx_dns_slot, 32);
ABI_SIZE(struct sbx_pin_key, 24);
ABI_SIZE(struct sbx_pin_value, 200);
ABI_SIZE(struct sbx_dns_orig, 48);
ABI_SIZE(struct sbx_ev_dns, 520);
ABI_FIELD(struct sbx_ev_dns, verdict, 56, 1);
ABI_FIELD(struct sbx_ev_dns, rule, 64, 4);
ABI_FIELD(struct sbx_ev_dns, name, 72, SBX_DNS_NAME_LEN);
ABI_FIELD(struct sbx_ev_dns, addrs, 328, 192);
ABI_SIZE(struct sbx_ev_dns_resolver, 80);
ABI_FIELD(struct sbx_emit_ctx, dns, 96, SBX_DNS_EV_MAX);
_Static_assert(SBX_EV_DNS_QUERY == 15 && SBX_EV_DNS_DENIED == 16 && SBX_EV_DNS_RESOLVER == 17,
	       "event type values are never renumbered");
_Static_assert(SBX_RULE_DNS == 0xfffffffau, "SBX_RULE_DNS is ABI");
ABI_SIZE(struct sbx_dns_port_key, 20);
