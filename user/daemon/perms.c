/* SPDX-License-Identifier: MIT */
/*
 * Who may do what. The caller is the socket's peer (SO_PEERCRED, taken when
 * it connected, with its groups from SO_PEERGROUPS). Root may do anything.
 * A profile is run or started by the users and groups it lists in
 * allow_users and allow_groups; one that lists no one is for root only.
 * A sandbox is seen and controlled by its owner, by root, and by the
 * members of sbxd.toml's admin_groups. Every refusal is an api.denied line
 * in the audit log.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/audit.h"
#include "daemon/daemon.h"

static bool in_groups(const struct vl_peer *peer, gid_t g)
{
	if (peer->gid == g)
		return true;
	for (size_t i = 0; i < peer->n_groups; i++)
		if (peer->groups[i] == g)
			return true;
	return false;
}

bool sbxd_is_admin(const struct sbxd *d, const struct vl_peer *peer)
{
	if (peer->uid == 0)
		return true;
	for (size_t i = 0; i < d->cfg.n_admin_gids; i++)
		if (in_groups(peer, d->cfg.admin_gids[i]))
			return true;
	return false;
}

/* A name from allow_users: a user name, or a numeric uid. */
static bool names_uid(const char *entry, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end;
	unsigned long n;

	if (getpwnam_r(entry, &pw, buf, sizeof(buf), &res) == 0 && res)
		return res->pw_uid == uid;
	errno = 0;
	n = strtoul(entry, &end, 10);
	return !errno && end != entry && !*end && n == uid;
}

static bool names_group(const char *entry, const struct vl_peer *peer)
{
	struct group gr, *res = NULL;
	char buf[16384], *end;
	unsigned long n;

	if (getgrnam_r(entry, &gr, buf, sizeof(buf), &res) == 0 && res)
		return in_groups(peer, res->gr_gid);
	errno = 0;
	n = strtoul(entry, &end, 10);
	return !errno && end != entry && !*end && in_groups(peer, (gid_t)n);
}

bool sbxd_may_run(const struct sbxd *d, const struct vl_peer *peer, const struct sbx_profile *p)
{
	if (peer->uid == 0)
		return true;
	for (size_t i = 0; i < p->n_allow_users; i++)
		if (names_uid(p->allow_users[i], peer->uid))
			return true;
	for (size_t i = 0; i < p->n_allow_groups; i++)
		if (names_group(p->allow_groups[i], peer))
			return true;
	return false;
}

bool sbxd_may_see(const struct sbxd *d, const struct vl_peer *peer, const struct sbxd_sandbox *sb)
{
	return sb->owner == peer->uid || sbxd_is_admin(d, peer);
}

/* audit_journal: the line as a journal entry too; a loss is counted
 * (d->journal.lost) and said once. */
static void journal_line(struct sbxd *d, const char *line, size_t len)
{
	char msg[512];

	sbx_journal_send_lines(&d->journal, line, len);
	if (sbx_journal_warning(&d->journal, msg, sizeof(msg)))
		fprintf(stderr, "sbxd: warning: %s\n", msg);
}

/* GCRA: one more event at now within rate a second and a burst of burst? */
static bool gcra(uint64_t *tat, uint64_t now, unsigned rate, unsigned burst)
{
	uint64_t t = 1000000000ull / rate, at = *tat > now ? *tat : now;

	if (at - now > (uint64_t)(burst - 1) * t)
		return false;
	*tat = at + t;
	return true;
}

/* The caller's bucket, or the least recently used one (the lowest tat is
 * the most drained: taking it over lets a new caller through, as a full
 * bucket would). */
static struct sbxd_deny_bucket *deny_bucket(struct sbxd *d, uint32_t uid)
{
	struct sbxd_deny_bucket *b = &d->deny_rl[0];

	for (size_t i = 0; i < SBXD_DENY_UIDS; i++) {
		if (d->deny_rl[i].uid == uid && d->deny_rl[i].tat)
			return &d->deny_rl[i];
		if (d->deny_rl[i].tat < b->tat)
			b = &d->deny_rl[i];
	}
	*b = (struct sbxd_deny_bucket){ .uid = uid };
	return b;
}

/* Whether ev (an api.denied line of the caller in its "uid") may be
 * written; a line kept out is counted, and the next one written says how
 * many were ("suppressed"). */
static bool deny_admit(struct sbxd *d, json_object *ev)
{
	json_object *u;
	struct timespec ts;
	uint64_t now, all;
	uint32_t uid;

	if (!json_object_object_get_ex(ev, "uid", &u))
		return true;
	uid = (uint32_t)json_object_get_int64(u);
	if (uid == 0)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	all = d->deny_tat_all;
	if (!gcra(&d->deny_tat_all, now, SBXD_DENY_RATE_ALL, SBXD_DENY_BURST_ALL) ||
	    !gcra(&deny_bucket(d, uid)->tat, now, SBXD_DENY_RATE, SBXD_DENY_BURST)) {
		d->deny_tat_all = all;	/* a line not written costs the others nothing */
		d->deny_pending++;
		d->deny_suppressed++;
		return false;
	}
	if (d->deny_pending) {
		json_object_object_add(ev, "suppressed", json_object_new_int64((int64_t)d->deny_pending));
		d->deny_pending = 0;
	}
	return true;
}

void sbxd_audit_line(struct sbxd *d, json_object *ev)
{
	struct timespec ts;
	char t[64];
	const char *s;
	size_t len;

	if (!deny_admit(d, ev)) {
		json_object_put(ev);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	sbx_format_time((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, t, sizeof(t));
	json_object_object_add(ev, "time", json_object_new_string(t));
	s = json_object_to_json_string_length(ev, JSON_C_TO_STRING_PLAIN, &len);
	if (s && d->audit.lockfd >= 0) {
		char *line = malloc(len + 1);

		/* one write of the whole line, under the log's lock, beside the
		 * lines sbx run writes (core/auditlog.h) */
		if (line) {
			memcpy(line, s, len);
			line[len] = '\n';
			/* the log is full or gone: the error still reaches the caller */
			sbx_auditlog_write(&d->audit, line, len + 1);
			if (d->cfg.audit_journal)
				journal_line(d, line, len + 1);
			free(line);
		}
	}
	json_object_put(ev);
}

int sbxd_deny(struct sbxd *d, struct vl_call *c, const char *reason, const char *parameter)
{
	const struct vl_peer *peer = vl_call_peer(c);
	json_object *ev = json_object_new_object(), *p = json_object_new_object();

	if (ev) {
		json_object_object_add(ev, "event", json_object_new_string("api.denied"));
		json_object_object_add(ev, "uid", json_object_new_int64(peer->uid));
		json_object_object_add(ev, "pid", json_object_new_int64(peer->pid));
		json_object_object_add(ev, "method", json_object_new_string(vl_call_method(c)));
		json_object_object_add(ev, "reason", json_object_new_string(reason));
		if (parameter)
			json_object_object_add(ev, "parameter", json_object_new_string(parameter));
		sbxd_audit_line(d, ev);
	}
	if (p) {
		json_object_object_add(p, "method", json_object_new_string(vl_call_method(c)));
		json_object_object_add(p, "reason", json_object_new_string(reason));
		if (parameter)
			json_object_object_add(p, "parameter", json_object_new_string(parameter));
	}
	return vl_call_error(c, "org.sbx.Manager.PermissionDenied", p);
}
