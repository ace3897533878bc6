/* SPDX-License-Identifier: MIT */
/*
 * Audit events as journal entries (docs/audit.md, "The journal"). An entry
 * is made from the event's JSON line itself, so the journal and audit.jsonl
 * cannot disagree: every member becomes a field SBX_<MEMBER> (upper case;
 * "verdict" is SBX_ACTION; an object's members SBX_<MEMBER>_<SUB>; an array
 * its JSON text), beside MESSAGE (a sentence), PRIORITY and
 * SYSLOG_IDENTIFIER=sbx:
 *
 *   {"seq":4,"sandbox":"sbx-1a2b3c4d","event":"net.connect","verdict":"deny",
 *    "addr":"192.0.2.7","port":443,"proto":"tcp","rule":"default",...}
 *   ->
 *   MESSAGE=sbx: sbx-1a2b3c4d denied connect to 192.0.2.7:443/tcp (rule default)
 *   PRIORITY=5  SYSLOG_IDENTIFIER=sbx  SBX_SEQ=4  SBX_SANDBOX=sbx-1a2b3c4d
 *   SBX_EVENT=net.connect  SBX_ACTION=deny  SBX_ADDR=192.0.2.7  SBX_PORT=443 ...
 *
 * Values come from the workload (paths, comm): each field is one iovec of
 * sd_journal_sendv(), which sends a value holding a newline in the
 * protocol's length-prefixed form, so no value can add a field.
 */
#ifndef SBX_JOURNAL_H
#define SBX_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define SBX_JOURNAL_MAX_FIELDS 64	/* more members than any event has */
#define SBX_JOURNAL_SOCKET "/run/systemd/journal/socket"	/* libsystemd's */

struct sbx_journal_entry {
	struct iovec iov[SBX_JOURNAL_MAX_FIELDS];	/* "NAME=value", each malloc'ed */
	size_t n;
};

/* Parses one JSON line (without or with its newline) into e. -EINVAL for a
 * line that is not a JSON object with an "event" member; -ENOMEM. */
int sbx_journal_entry_from_json(struct sbx_journal_entry *e, const char *line, size_t len);
void sbx_journal_entry_free(struct sbx_journal_entry *e);

/* The value of field name ("SBX_EVENT") in e, or NULL; *ret_len its size. */
const char *sbx_journal_entry_get(const struct sbx_journal_entry *e, const char *name, size_t *ret_len);

/* The journal sink of one process. */
struct sbx_journal {
	int fd;			/* connected to journald's socket, to poll its queue; -1 = none */
	int err;		/* the last failure (-errno): the socket is missing, a send failed */
	bool stalled;		/* journald's queue stayed full: send only while it has room */
	bool warned;		/* sbx_journal_warning() said it */
	uint64_t sent, lost;
};

/* How long one batch may wait for room in journald's queue (a healthy
 * journald empties it in far less); after that the sink waits no more
 * until the queue has room again, and counts what it could not send. */
#define SBX_JOURNAL_WAIT_MS 100

/* Whether journald listens: a probe of its socket. 0, or -errno in j->err
 * (-ENOENT without systemd); the sink then counts every entry as lost while
 * journald does not listen (it looks again before each batch). */
int sbx_journal_open(struct sbx_journal *j);
void sbx_journal_close(struct sbx_journal *j);

/* Sends each line of a batch of JSON lines as one entry. libsystemd's
 * sender blocks while journald's queue is full; the sink sends only when
 * poll says there is room, waiting SBX_JOURNAL_WAIT_MS per batch at most.
 * Returns the entries lost (counted in j->lost as well). */
uint64_t sbx_journal_send_lines(struct sbx_journal *j, const char *buf, size_t len);

/* Once, after a failure: a sentence for stderr ("audit journal: ..."); else NULL. */
const char *sbx_journal_warning(struct sbx_journal *j, char *buf, size_t len);

#endif
