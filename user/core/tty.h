/* SPDX-License-Identifier: MIT */
/*
 * `sbx run -t`: the workload gets a pseudo-terminal that sbx owns, never the
 * caller's terminal. sbx opens the pty (posix_openpt), hands the slave to the
 * provider (sbx_spawn.tty_fd), puts the caller's terminal in raw mode and
 * relays bytes both ways between it and the master from the run loop's
 * poll(): keys, Ctrl-C included, reach the pty's line discipline, which
 * signals the workload's foreground process group. Window size changes
 * (SIGWINCH to sbx) are copied to the pty. The caller's modes come back on
 * every exit of sbx_run (the signals sbx handles end the run through it).
 */
#ifndef SBX_TTY_H
#define SBX_TTY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#define SBX_TTY_BUF 4096
#define SBX_TTY_NFDS 3

struct sbx_tty_buf {
	char data[SBX_TTY_BUF];
	size_t len;
};

struct sbx_tty {
	int master;		/* -1 when closed */
	int slave;		/* for the provider; closed once the workload has it */
	int in, out;		/* the caller's terminal (private open), its stdout */
	bool own_out;		/* out is sbx's own open of stdout, closed at the end */
	struct termios saved;	/* the caller's modes, restored by sbx_tty_restore */
	bool raw;
	bool in_eof;
	struct sbx_tty_buf to_master, to_out;
};

/* Opens the pty with the caller's modes and window size; stdin must be a
 * terminal (-ENOTTY and why otherwise). */
int sbx_tty_open(struct sbx_tty *t, char *why, size_t len);
/* Raw mode on the caller's terminal (after the workload was spawned). */
int sbx_tty_make_raw(struct sbx_tty *t, char *why, size_t len);
/* Copies the caller's window size to the pty (SIGWINCH). */
void sbx_tty_resize(struct sbx_tty *t);
/* Fills up to SBX_TTY_NFDS pollfds; returns how many. */
int sbx_tty_pollfds(struct sbx_tty *t, struct pollfd *p);
/* Moves what the pollfds of sbx_tty_pollfds say is ready. */
void sbx_tty_relay(struct sbx_tty *t, const struct pollfd *p, int n);
/* After the workload exited: copies what is left in the pty to stdout. */
void sbx_tty_drain(struct sbx_tty *t);
/* Puts the caller's modes back; safe to call more than once. */
void sbx_tty_restore(struct sbx_tty *t);
/* Restores and closes everything; accepts a never-opened (zeroed, fds -1) t. */
void sbx_tty_close(struct sbx_tty *t);

/* Without -t the workload holds the caller's terminal as it is (stdin,
 * stdout, stderr) and may change its modes (`stty raw -echo`, another intr
 * key) for the shell that reads it after sbx: the modes of each of fds 0-2
 * that is a terminal, to put back at the end. */
struct sbx_tty_modes {
	struct termios tio[3];
	bool saved[3];
};
void sbx_tty_modes_save(struct sbx_tty_modes *m);
void sbx_tty_modes_restore(const struct sbx_tty_modes *m);

#endif
