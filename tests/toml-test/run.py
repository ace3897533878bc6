#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the toml-test corpus against sbx's TOML reader (policy/toml.c).

  run.py DECODER [CORPUS-DIR]

DECODER is the binary built from tests/toml-test/decoder.c. CORPUS-DIR
defaults to the copy in Debian's golang-github-burntsushi-toml-dev
(make deps installs it); it holds valid/**/*.toml with the expected
valid/**/*.json, and invalid/**/*.toml. Every valid case must parse and
give the expected values (compared as toml-test does: integers and floats
by value, date-times by their parts); every invalid case must be refused.

Known deviations are listed in deviations.txt beside this script, one
"CASE  REASON" per line (CASE: valid/... or invalid/... without .toml).
Exit status 1 for a deviation not listed there, and for a listed case
that no longer deviates (remove it from the list); 0 otherwise. Without the
corpus: prints SKIP with the reason, exit 0 (make test says so).

With SBX_TOTALS_DIR set, writes the layer's totals there for
tests/summary.sh (tests/lib/totals.sh has the format): every case is passed
or failed; a listed deviation is a skip with its reason.
"""
import glob
import json
import math
import os
import re
import subprocess
import sys

CORPUS = "/usr/share/gocode/src/github.com/BurntSushi/toml/internal/toml-test/tests"
HERE = os.path.dirname(os.path.abspath(__file__))

DT = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2}))?[Tt ]?(?:(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?"
                r"([Zz]|[+-]\d{2}:\d{2})?$")


def datetime_parts(s):
    """(date, time with ns, offset minutes) of a TOML date-time, or s itself."""
    m = DT.match(s)
    if not m:
        return s
    y, mo, d, h, mi, sec, frac, off = m.groups()
    date = (y, mo, d) if y else None
    time = (h, mi, sec, int(((frac or "") + "000000000")[:9])) if h else None
    if off is None:
        tz = None
    elif off in "Zz":
        tz = 0
    else:
        tz = (1 if off[0] == "+" else -1) * (int(off[1:3]) * 60 + int(off[4:6]))
    return (date, time, tz)


def same_scalar(typ, want, got):
    if typ == "integer":
        return int(want) == int(got)
    if typ == "float":
        w, g = float(want), float(got)
        return (math.isnan(w) and math.isnan(g)) or w == g
    if typ in ("datetime", "datetime-local", "date-local", "time-local"):
        return datetime_parts(want) == datetime_parts(got)
    return want == got


def diff(want, got, path="$"):
    """The first difference between expected and decoded JSON, or None."""
    if isinstance(want, dict) and set(want) == {"type", "value"} and isinstance(want["value"], str):
        if not isinstance(got, dict) or got.get("type") != want["type"]:
            return f"{path}: expected {want['type']} {want['value']!r}, got {got!r}"
        if not same_scalar(want["type"], want["value"], got["value"]):
            return f"{path}: expected {want['value']!r}, got {got['value']!r}"
        return None
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(want) != set(got):
            return f"{path}: expected keys {sorted(want)}, got {sorted(got) if isinstance(got, dict) else got!r}"
        for k in want:
            d = diff(want[k], got[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            return f"{path}: expected an array of {len(want)}, got {got!r}"
        for i, (w, g) in enumerate(zip(want, got)):
            d = diff(w, g, f"{path}[{i}]")
            if d:
                return d
        return None
    return f"{path}: unexpected expected value {want!r}"


def decode(decoder, path):
    with open(path, "rb") as f:
        p = subprocess.run([decoder], stdin=f, capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace").strip()


def check_case(decoder, corpus, case):
    """None when sbx agrees with the corpus, else what differs."""
    rc, out, err = decode(decoder, os.path.join(corpus, case + ".toml"))
    if rc > 1:
        return f"decoder failed (exit {rc}): {err}"
    if case.startswith("invalid/"):
        return "accepted" if rc == 0 else None
    if rc != 0:
        return f"refused: {err}"
    try:
        want = json.load(open(os.path.join(corpus, case + ".json"), encoding="utf-8"))
    except FileNotFoundError:
        return None	# no expected values: parsing is the check
    return diff(want, json.loads(out))


def load_deviations():
    known = {}
    for n, line in enumerate(open(os.path.join(HERE, "deviations.txt"), encoding="utf-8"), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        case, _, reason = line.partition(" ")
        if not reason.strip():
            sys.exit(f"deviations.txt:{n}: {case}: no reason given")
        known[case] = reason.strip()
    return known


def write_totals(passed, failed, skips, layer_skip=None):
    d = os.environ.get("SBX_TOTALS_DIR")
    if not d:
        return
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "toml-test.tmp"), "w") as f:
        f.write(f"passed {passed}\nfailed {failed}\nskipped {len(skips)}\n")
        if layer_skip:
            f.write(f"layer_skipped {layer_skip}\n")
        for s in skips:
            f.write(f"skip {s}\n")
    os.rename(os.path.join(d, "toml-test.tmp"), os.path.join(d, "toml-test"))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    decoder, corpus = sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else CORPUS
    if not os.path.isdir(os.path.join(corpus, "valid")) or not os.path.isdir(os.path.join(corpus, "invalid")):
        why = (f"no corpus at {corpus} (apt-get install golang-github-burntsushi-toml-dev, "
               "or make deps)")
        print(f"SKIP toml-test: {why}")
        write_totals(0, 0, [], why)
        return 0
    known = load_deviations()
    cases = sorted(os.path.relpath(p, corpus)[:-5]
                   for kind in ("valid", "invalid")
                   for p in glob.glob(os.path.join(corpus, kind, "**", "*.toml"), recursive=True))
    bad = 0
    skips = []
    counts = {"valid": 0, "invalid": 0, "deviation": 0}
    for case in cases:
        problem = check_case(decoder, corpus, case)
        counts[case.split("/", 1)[0]] += 1
        if problem and case in known:
            counts["deviation"] += 1
            skips.append(f"toml-test {case}: known deviation: {known[case]}")
        elif problem:
            bad += 1
            print(f"FAIL toml-test {case}: {problem}")
        elif case in known:
            bad += 1
            print(f"FAIL toml-test {case}: listed in deviations.txt ({known[case]}) but passes now: "
                  "remove it from the list")
    for case in sorted(set(known) - set(cases)):
        bad += 1
        print(f"FAIL toml-test {case}: listed in deviations.txt but not in the corpus")
    print(f"toml-test: {counts['valid']} valid and {counts['invalid']} invalid cases from {corpus}; "
          f"{counts['deviation']} known deviations; {bad} failures")
    write_totals(max(0, len(cases) - counts["deviation"] - bad), bad, skips)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
