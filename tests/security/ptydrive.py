#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Drives a command through a real pseudo-terminal, as a user's shell would.

    ptydrive.py SCENARIO [--rows R --cols C] -- CMD [ARG]...

A forked "login shell" makes a new session with the pty's slave as its
controlling terminal, runs CMD in a foreground process group with the slave
as stdin/stdout/stderr, waits for it and then reports what CMD left behind on
the terminal. The driver talks to the master: what CMD writes is read there,
keystrokes are written there. Output: one "key value" line per fact, then
"output" and what CMD printed (repr). Scenarios:

  inject   the terminal is raw (no echo); afterwards: how many bytes wait in
           the terminal's input queue ("queued N", "queue REPR") - bytes a
           workload pushed with TIOCSTI would be run by the caller's shell
  shell    CMD is an interactive bash (sbx run -it ... -- bash): tty, test -t
           0, stty size before and after a window size change, job control,
           Ctrl-C of a sleep (status 130), exit 7
  sigint   CMD prints READY and sleeps: Ctrl-C (\\x03 on the master) must end
           it; sbx's exit status is the workload's (130)
  sigterm  CMD prints READY and sleeps: SIGTERM to sbx must end the run

Every scenario reports "termios restored yes|no": the terminal's modes
after the run against those before it.
"""
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time
import tty

ROWS, COLS = 24, 80


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def shell_child(slave, argv, raw, report_w):
    """The caller's login shell: session, controlling tty, foreground job."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    if raw:
        tty.setraw(slave)
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        os.tcsetpgrp(slave, os.getpid())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(report_w)
        os.execvp(argv[0], argv)
    os.setpgid(pid, pid) if os.getpgid(pid) != pid else None
    _, status = os.waitpid(pid, 0)
    os.tcsetpgrp(slave, os.getpgrp())
    after = termios.tcgetattr(slave)
    queued = struct.unpack("i", fcntl.ioctl(slave, termios.FIONREAD, b"\0\0\0\0"))[0]
    pending = b""
    if queued:
        os.set_blocking(slave, False)
        try:
            pending = os.read(slave, 4096)
        except OSError:
            pass
    rc = os.waitstatus_to_exitcode(status)
    msg = "rc %d\nqueued %d\nqueue %r\ntermios restored %s\n" % (
        rc if rc >= 0 else 128 - rc, queued, pending, "yes" if before == after else "no")
    os.write(report_w, msg.encode())
    os._exit(0)


class Session:
    def __init__(self, argv, raw=False, rows=ROWS, cols=COLS):
        self.master, self.slave = os.openpty()
        set_winsize(self.master, rows, cols)
        rd, wr = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.master)
            os.close(rd)
            try:
                shell_child(self.slave, argv, raw, wr)
            finally:
                os._exit(99)
        os.close(wr)
        self.report_r = rd
        self.buf = b""
        self.pos = 0

    def pump(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.buf += data
        return bool(data)

    def expect(self, pattern, timeout=10.0):
        """Waits for pattern (bytes regex) after the last match; the match or None."""
        end = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.pump(min(left, 0.2))

    def send(self, data):
        os.write(self.master, data)

    def sbx_pid(self):
        """The job the login shell started: sbx."""
        for _ in range(100):
            try:
                with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as f:
                    kids = f.read().split()
                if kids:
                    return int(kids[0])
            except OSError:
                pass
            time.sleep(0.02)
        return None

    def finish(self, timeout=20.0):
        """Reads until the shell child reported; returns the report lines."""
        end = time.monotonic() + timeout
        report = b""
        while time.monotonic() < end:
            r, _, _ = select.select([self.master, self.report_r], [], [], 0.2)
            if self.master in r:
                self.pump(0)
            if self.report_r in r:
                chunk = os.read(self.report_r, 4096)
                if not chunk:
                    break
                report += chunk
        while self.pump(0.1):
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        return report.decode() or "rc timeout\n"


def check(name, ok, detail=""):
    print("check %s %s%s" % (name, "ok" if ok else "fail", (" " + detail) if detail and not ok else ""))


def line_after(s, cmd, pattern, timeout=10.0):
    s.send(cmd)
    m = s.expect(pattern, timeout)
    return m.group(1).decode(errors="replace") if m else None


def scenario_shell(s):
    # the first prompt, then a distinct one (echo of the command itself
    # contains no "@@>" because of the quoting)
    s.expect(rb"[$#] ", 15)
    s.send(b"PS1='@''@> '\r")
    check("prompt", s.expect(rb"@@> ") is not None)
    got = line_after(s, b"tty\r", rb"(/dev/[^\r\n]+|not a tty)\r\n")
    check("tty", got is not None and got.startswith("/dev/pts/"), repr(got))
    got = line_after(s, b"test -t 0 && echo T''0=yes || echo T''0=no\r", rb"T0=(\w+)")
    check("test_t0", got == "yes", repr(got))
    got = line_after(s, b"stty size\r", rb"(?<![\d ])(\d+ \d+)\r\n")
    check("stty_size", got == "%d %d" % (ROWS, COLS), repr(got))
    s.expect(rb"@@> ")
    set_winsize(s.master, 33, 101)
    time.sleep(0.5)
    got = line_after(s, b"stty size\r", rb"(?<![\d ])(\d+ \d+)\r\n")
    check("stty_size_after_sigwinch", got == "33 101", repr(got))
    s.expect(rb"@@> ")
    got = line_after(s, b"case $- in *m*) echo MON''=on;; *) echo MON''=off;; esac\r", rb"MON=(\w+)")
    check("job_control_monitor", got == "on", repr(got))
    s.expect(rb"@@> ")
    got = line_after(s, b"sleep 100 & jobs\r", rb"\r\n(\[1\]\+ +Running[^\r\n]*)")
    check("jobs", got is not None and "sleep 100" in got, repr(got))
    s.expect(rb"@@> ")
    got = line_after(s, b"kill %1; wait %1; echo KILLED''=$?\r", rb"KILLED=(\d+)")
    check("kill_job", got == "143", repr(got))
    s.expect(rb"@@> ")
    s.send(b"sleep 100\r")
    time.sleep(0.7)
    s.send(b"\x03")
    check("ctrl_c_back_to_prompt", s.expect(rb"@@> ", 5) is not None)
    got = line_after(s, b"echo RC''=$?\r", rb"RC=(\d+)")
    check("ctrl_c_status", got == "130", repr(got))
    s.expect(rb"@@> ")
    check("no_job_control_warning", b"no job control" not in s.buf)
    s.send(b"exit 7\r")


def scenario_ready(s, how):
    if s.expect(rb"READY", 15) is None:
        check("ready", False, "no READY")
        return
    time.sleep(0.3)
    if how == "sigint":
        s.send(b"\x03")
    else:
        pid = s.sbx_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)


def main():
    global ROWS, COLS
    args = sys.argv[1:]
    scenario = args.pop(0)
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--rows":
            ROWS = int(args.pop(0))
        elif opt == "--cols":
            COLS = int(args.pop(0))
    argv = args[1:]
    s = Session(argv, raw=(scenario == "inject"), rows=ROWS, cols=COLS)
    if scenario == "shell":
        scenario_shell(s)
    elif scenario in ("sigint", "sigterm"):
        scenario_ready(s, scenario)
    report = s.finish()
    sys.stdout.write(report)
    print("output %r" % s.buf)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
