#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every path that the docs name exists (README.md, docs/*.md, docs/man/*),
and every path that `sbx --help` and each `sbx VERB [SUBVERB] --help` name.

  check_paths.py [--sbx BINARY] [--usr USR-DESTDIR] REPO DESTDIR PREFIX [PIN-LIST RUN-LIST]

With --usr, USR-DESTDIR is a `make install DESTDIR=USR-DESTDIR PREFIX=/usr
SYSTEMD_UNIT_DIR=/lib/systemd/system`, what the Debian packages of `make deb`
hold (docs/install.md): a path under /usr or /lib/systemd found there exists.
With --sbx, the help texts of BINARY are read too: the root help, then every
verb listed under its "Verbs" heading, recursively (sbx policy check ...).

A name is checked by where it lives:
  source paths (policy/, docs/, tests/, user/, providers/, bpf/, bench/,
    vmlinux/, lib/)                 in REPO (globs like tests/vm/test_*.sh too);
  installed paths (PREFIX/..., $PREFIX/..., /etc/sbx/..., /etc/logrotate.d/sbx)
                                    in DESTDIR after `make install DESTDIR=`;
  pins (/sys/fs/bpf/<instance>/...) among the names in PIN-LIST, the pins of
                                    an instance after a sandbox ran;
  run paths (/run/<instance>/...)   among the names in RUN-LIST, likewise;
  other absolute paths              on this host.
With PIN-LIST, docs/bpftool.md must also name every pin in it.
Placeholders (<instance>, INSTANCE, <slot>, SLOT, N, PID, <id>, sbx-<hex>)
match any one path component. Without PIN-LIST and RUN-LIST, pins and run
paths are reported as skipped. Deliberate non-paths (examples of a user's
own files, kernel paths of other layouts, ...) are in allow.txt beside this
script with the reason; an allow-list entry that no doc names any more is an
error too. Prints one line per problem; exit 1 when there is one.
"""
import fnmatch
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIRS = ("policy", "docs", "tests", "user", "providers", "bpf", "bench", "vmlinux", "lib")
ABS_ROOTS = ("etc", "usr", "run", "var", "sys", "proc", "dev", "tmp", "opt", "srv", "home", "bin",
             "sbin", "lib")
PATH_RE = re.compile(r"(?<![\w.$/~-])(\$PREFIX/[\w./<>*@+-]*|/(?:%s)(?:/[\w./<>*@+-]*)?|(?:%s)/[\w./<>*@+-]*)"
                     % ("|".join(ABS_ROOTS), "|".join(SOURCE_DIRS)))
PLACEHOLDER = re.compile(r"^(<[\w-]+>|INSTANCE|SLOT|N|PID|ID|sbx-[0-9a-f]{8}|sbx-<id>|\*)$")


def doc_files(repo):
    files = ["README.md"] + sorted(glob.glob("docs/*.md", root_dir=repo)) + \
        sorted(glob.glob("docs/man/*", root_dir=repo))
    return [f for f in files if os.path.isfile(os.path.join(repo, f))]


def unroff(line):
    for a, b in (("\\-", "-"), ("\\fB", ""), ("\\fR", ""), ("\\fI", ""), ("\\fP", ""), ("\\&", ""),
                 ("\\e", "\\")):
        line = line.replace(a, b)
    return line


def paths_in(line):
    for m in PATH_RE.finditer(line):
        p = re.sub(r"(:\d+)+$", "", m.group(1).rstrip(".,:;)`'\""))
        if p not in ("/", ""):
            yield p


def names(repo):
    """(doc:line, path) for every path-like name in the docs."""
    for f in doc_files(repo):
        with open(os.path.join(repo, f), encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                for p in paths_in(unroff(line)):
                    yield f"{f}:{n}", p


def verbs_of(text):
    """The verbs listed under a help text's "Verbs" heading."""
    verbs, inside = [], False
    for line in text.splitlines():
        if line.startswith("Verbs"):
            inside = True
        elif inside and re.match(r"^  [a-z][\w-]*\s", line):
            verbs.append(line.split()[0])
        elif inside:
            inside = bool(line.startswith("  ") or not line)
            if not line.strip():
                break
    return verbs


def help_texts(sbx, words=()):
    """("sbx WORDS --help", text) for the root help and every verb's, recursively."""
    out = subprocess.run([sbx, *words, "--help"], capture_output=True, text=True, timeout=30)
    where = " ".join(["sbx", *words, "--help"])
    if out.returncode != 0:
        sys.exit(f"{where}: exit status {out.returncode}: {out.stderr.strip()[:200]}")
    yield where, out.stdout
    for v in verbs_of(out.stdout):
        if v not in words and len(words) < 2:
            yield from help_texts(sbx, (*words, v))


def help_names(sbx):
    """(help:line, path) for every path-like name in sbx's help texts."""
    for where, text in help_texts(sbx):
        for n, line in enumerate(text.splitlines(), 1):
            for p in paths_in(line):
                yield f"{where}:{n}", p


def components_match(pattern, path):
    """pattern's components against a real relative path; placeholders match one."""
    pc, rc = pattern.strip("/").split("/"), path.strip("/").split("/")
    if len(pc) != len(rc):
        return False
    return all(PLACEHOLDER.match(a) or fnmatch.fnmatchcase(b, a) for a, b in zip(pc, rc))


def exists_glob(root, rel):
    """Does root/rel exist, with globs and placeholders (one component each)?"""
    paths = [root]
    for part in [c for c in rel.strip("/").split("/") if c]:
        nxt = []
        for d in paths:
            if PLACEHOLDER.match(part):
                try:
                    nxt += [os.path.join(d, e) for e in os.listdir(d)]
                except OSError:
                    pass
            else:
                nxt += glob.glob(os.path.join(glob.escape(d), part))
        paths = nxt[:1000]
    return bool(paths)


def in_list(listing, rel):
    rel = rel.strip("/")
    return rel == "" or any(components_match(rel, p) or p.startswith(rel + "/") and not
                            any(PLACEHOLDER.match(c) for c in rel.split("/")) for p in listing)


def check(repo, destdir, prefix, pins, runs, where, p):
    """None when p exists where it should, else the problem."""
    if p.startswith("$PREFIX/"):
        p = prefix + p[len("$PREFIX"):]
    top = p.split("/", 1)[0]
    if top in SOURCE_DIRS:
        return None if exists_glob(repo, p) else "not in the repository"
    if p.startswith(prefix + "/") or p.startswith("/etc/sbx") or p == "/etc/logrotate.d/sbx":
        return None if exists_glob(destdir, p) else f"not installed by make install (looked in {destdir})"
    if USR_DESTDIR and p.startswith(("/usr/", "/lib/systemd/")) and exists_glob(USR_DESTDIR, p):
        return None
    m = re.match(r"^/sys/fs/bpf/([^/]+)(/.*)?$", p)
    if m:	# any instance's pins: the docs show instances "sbx", "doc", ...
        if pins is None:
            return "skip"
        return None if in_list(pins, m.group(2) or "") else "no such pin after a sandbox ran"
    m = re.match(r"^/run/([^/]+)(/.*)?$", p)
    if m and (PLACEHOLDER.match(m.group(1)) or m.group(1) == "sbx"):
        if runs is None:
            return "skip"
        return None if in_list(runs, m.group(2) or "") else "no such run path after a sandbox ran"
    return None if exists_glob("/", p) else "does not exist on this host"


def load_allow():
    allow = {}
    with open(os.path.join(HERE, "allow.txt"), encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.split("#", 1)[0].strip()
            if line:
                path, _, reason = line.partition(" ")
                if not reason.strip():
                    sys.exit(f"allow.txt:{n}: {path}: no reason given")
                allow[path] = reason.strip()
    return allow


def read_list(path):
    with open(path, encoding="utf-8") as fh:
        return [l.strip().strip("/") for l in fh if l.strip()]


USR_DESTDIR = None


def main():
    global USR_DESTDIR
    args, sbx = sys.argv[1:], None
    if args[:1] == ["--sbx"] and len(args) > 1:
        sbx, args = args[1], args[2:]
    if args[:1] == ["--usr"] and len(args) > 1:
        USR_DESTDIR, args = args[1], args[2:]
    if len(args) not in (3, 5):
        sys.exit(__doc__)
    repo, destdir, prefix = args[:3]
    pins = read_list(args[3]) if len(args) == 5 else None
    runs = read_list(args[4]) if len(args) == 5 else None
    allow, used, bad, total, skipped = load_allow(), set(), 0, 0, 0
    found = list(names(repo)) + (list(help_names(sbx)) if sbx else [])
    for where, p in found:
        total += 1
        if p in allow:
            used.add(p)
            continue
        problem = check(repo, destdir, prefix, pins, runs, where, p)
        if problem == "skip":
            skipped += 1
        elif problem:
            bad += 1
            print(f"{where}: {p}: {problem}")
    if pins is not None:	# and docs/bpftool.md names every pin that exists
        with open(os.path.join(repo, "docs/bpftool.md"), encoding="utf-8") as fh:
            bpftool = fh.read()
        for pin in pins:
            if not re.search(r"(?<![\w])%s(?![\w])" % re.escape(pin), bpftool):
                bad += 1
                print(f"docs/bpftool.md: pin {pin} exists after a sandbox ran but is not described")
    for p in sorted(set(allow) - used):
        bad += 1
        print(f"allow.txt: {p}: no doc names it any more; remove it")
    print(f"docs paths: {total} names checked, {len(used)} allow-listed, {skipped} skipped "
          f"(pins and run paths need a sandbox run), {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
