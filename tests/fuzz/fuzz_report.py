#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fuzz kvmrt report's readers: N mutations of a trace.dat and of tracefs
text (truncations, flipped bytes, cut lines, shuffled lines, garbled
numbers), each read by an ASan and UBSan build. Passes when every run
exits 0 or 1, a failure says why in one line, and no sanitizer spoke.

  fuzz_report.py KVMRT_ASAN TRACE.DAT TRACE.TXT N_DAT N_TXT WORKDIR [REPORT_ARGS]

REPORT_ARGS: more options for each run (e.g. "-a": the auto-analysis).

(A trace.dat costs more per case: its kallsyms are parsed at each open.)"""
import os
import random
import subprocess
import sys


def mutate_dat(data, rnd):
    how = rnd.randrange(3)
    if how == 0:
        return data[:rnd.randrange(len(data))], "truncated"
    b = bytearray(data)
    for _ in range(rnd.randint(1, 16)):
        i = rnd.randrange(len(b))
        b[i] = rnd.randrange(256)
    if how == 2:
        i = rnd.randrange(len(b))
        b[i:i + 8] = b"\xff" * 8
    return bytes(b), "flipped"


def mutate_txt(data, rnd):
    lines = data.split(b"\n")
    how = rnd.randrange(5)
    i = rnd.randrange(len(lines))
    if how == 0:
        return data[:rnd.randrange(len(data))], "truncated"
    if how == 1:
        lines[i] = lines[i][:rnd.randrange(len(lines[i]) + 1)]
        return b"\n".join(lines), "line cut"
    if how == 2:
        j = rnd.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines), "lines swapped"
    if how == 3:
        line = bytearray(lines[i])
        for _ in range(rnd.randint(1, 6)):
            if line:
                line[rnd.randrange(len(line))] = rnd.choice(b"0123456789-x:()[] .=|\x00\xff")
        lines[i] = bytes(line)
        return b"\n".join(lines), "garbled"
    lines[i] = lines[i] * rnd.randint(2, 400)  # a very long line
    return b"\n".join(lines), "long line"


def main():
    kvmrt, dat, txt, work = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[6]
    ndat, ntxt = int(sys.argv[4]), int(sys.argv[5])
    extra = sys.argv[7].split() if len(sys.argv) > 7 else []
    os.makedirs(work, exist_ok=True)
    rnd = random.Random(int(os.environ.get("FUZZ_SEED", "1")))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=99",
               UBSAN_OPTIONS="halt_on_error=1:exitcode=98:print_stacktrace=1")
    seeds = [(open(dat, "rb").read(), mutate_dat, "dat")] * ndat + \
        [(open(txt, "rb").read(), mutate_txt, "txt")] * ntxt
    runs = {"ok": 0, "refused": 0}
    n = len(seeds)
    for k in range(n):
        data, mutate, ext = seeds[k]
        bad, how = mutate(data, rnd)
        path = os.path.join(work, f"case{k}.{ext}")
        with open(path, "wb") as f:
            f.write(bad)
        p = subprocess.run([kvmrt, "report", "-i", path, "-q", "-T", "0.001",
                            "--json=" + path + ".json"] + extra, env=env, capture_output=True,
                           timeout=60)
        err = p.stderr.decode(errors="replace")
        if p.returncode not in (0, 1) or "Sanitizer" in err or "runtime error" in err:
            print(f"{path} ({how}): exit {p.returncode}\n{err[-2000:]}")
            sys.exit(1)
        if p.returncode == 1:
            if err.count("\n") != 1:
                print(f"{path} ({how}): failed without one line on stderr: {err!r}")
                sys.exit(1)
            if os.path.exists(path + ".json"):
                print(f"{path} ({how}): failed but wrote JSON")
                sys.exit(1)
            runs["refused"] += 1
        else:
            runs["ok"] += 1
        os.unlink(path)
    print(f"{n} cases: {runs['refused']} refused in one line, {runs['ok']} read")


main()
