#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The study's tables, from the files bench/study.sh writes per run of a
cell (load, guest idle, policy): LOAD-IDLE-POLICY-rN.json (the guest's own
measurements), .load.txt (the load's throughput), .ctl.txt (the
controller's summary), .up (seconds until it was controlling), .samples.

Every figure is a median over the cell's runs, with its spread (min-max);
the A/A line (default against default, run the same way) is the noise
floor; every target is judged on medians and printed met / NOT met, or
"not measured" when its cells are missing.

Usage: study_report.py OUT_DIR [--no-plot]
"""
import glob
import json
import os
import re
import statistics
import sys

LOADS = ["none", "cpu", "disk"]
IDLES = ["hlt", "busy"]
POLS = ["default", "default-aa", "shield", "prio", "shield+prio", "cosched", "cosched-poll",
        "adaptive"]
STATIC = ["prio", "shield", "shield+prio"]
TAG = re.compile(r"(none|cpu|disk)-(hlt|busy)-(.+?)(?:-r(\d+))?")


def load_tp(path):
    """stress-ng bogo-ops/s, or fio MB/s; None if the file says neither."""
    if not os.path.exists(path):
        return None
    text = open(path).read()
    m = re.search(r"metrc: \[\d+\] cpu\s+(\d+)\s+([0-9.]+)", text)
    if m:
        return int(m.group(1)) / float(m.group(2))
    try:
        j = json.loads(text[text.index("{"):])["jobs"][0]
        return (j["read"]["bw"] + j["write"]["bw"]) / 1024
    except (ValueError, KeyError, IndexError):
        return None


DROPPED = []


def read_runs(out):
    """(load, idle, policy) -> [one dict per run]; a run that measured
    nothing, or whose controller never said it was controlling (it would be
    default's figures under another name), is left out and said"""
    runs = {}
    for f in sorted(glob.glob(f"{out}/*.json")):
        tag = os.path.basename(f)[:-5]
        m = TAG.fullmatch(tag)
        if not m:
            continue
        load, idle, pol, _ = m.groups()
        g = json.load(open(f))
        r = g["response"]
        base = load_tp(f"{out}/base-{load}.load.txt")
        tp = load_tp(f"{out}/{tag}.load.txt")
        ctl = open(f"{out}/{tag}.ctl.txt").read() if os.path.exists(f"{out}/{tag}.ctl.txt") else ""
        react = re.search(r"reaction.*: (\d+) boosts, .*p99 ([0-9.]+) us", ctl)
        cc = re.search(r"controller CPU: ([0-9.]+)%", ctl)
        wk = re.search(r"controller wake-ups: .*: ([0-9.]+) per interrupt", ctl)
        ipi = re.search(r"meanwhile \(all causes\): irq work (\d+), rescheduling (\d+), function calls (\d+)", ctl)
        up = open(f"{out}/{tag}.up").read().strip() if os.path.exists(f"{out}/{tag}.up") else ""
        if not g.get("acked"):
            DROPPED.append(f"{tag} (no interrupt measured)")
            continue
        if os.path.exists(f"{out}/{tag}.ctl.txt") and "kvmrt: controlling" not in ctl:
            DROPPED.append(f"{tag} (its controller never controlled)")
            continue
        runs.setdefault((load, idle, pol), []).append(dict(
            p99=r["p99_ns"] / 1e3, p999=r["p999_ns"] / 1e3, mean=r["mean_ns"] / 1e3,
            max=r["max_ns"] / 1e3, n=g["acked"],
            host=(tp / base * 100) if (tp and base) else None,
            ctl_cpu=float(cc.group(1)) if cc else None,
            wakes=float(wk.group(1)) if wk else None,
            ipis=sum(int(x) for x in ipi.groups()) / g["acked"] if ipi else None,
            up=float(up) if up else None,
            react=float(react.group(2)) if react else None,
            boosts=int(react.group(1)) if react else 0,
            tag=tag))
    return runs


def values(runs, key, field):
    return [r[field] for r in runs.get(key, []) if r[field] is not None]


def med(runs, key, field):
    v = values(runs, key, field)
    return statistics.median(v) if v else None


def shown(runs, key, field, fmt="{:.0f}"):
    v = values(runs, key, field)
    if not v:
        return "-"
    m = fmt.format(statistics.median(v))
    lo, hi = fmt.format(min(v)), fmt.format(max(v))
    return m if lo == hi else f"{m} ({lo}-{hi})"


def cells_table(runs):
    print("| load | guest idle | policy | runs | p99 us | mean us | max us | host throughput % "
          "| controller CPU % while controlling | up after s | reaction p99 us "
          "| controller wake-ups per interrupt | IPIs on the vCPU's CPUs per interrupt |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for load in LOADS:
        for idle in IDLES:
            for pol in POLS:
                k = (load, idle, pol)
                if k not in runs:
                    continue
                print(f"| {load} | {idle} | {pol} | {len(runs[k])} | {shown(runs, k, 'p99')} | "
                      f"{shown(runs, k, 'mean')} | {shown(runs, k, 'max')} | "
                      f"{shown(runs, k, 'host')} | {shown(runs, k, 'ctl_cpu', '{:.2f}')} | "
                      f"{shown(runs, k, 'up', '{:.2f}')} | {shown(runs, k, 'react')} | "
                      f"{shown(runs, k, 'wakes', '{:.2f}')} | {shown(runs, k, 'ipis', '{:.2f}')} |")


def aa_table(runs):
    """default against default: how far two medians of one policy differ"""
    print("\n| load | guest idle | default p99 us | default again (A/A) p99 us | ratio |")
    print("|---|---|---:|---:|---:|")
    floor = None
    for load in LOADS:
        for idle in IDLES:
            a, b = med(runs, (load, idle, "default"), "p99"), med(runs, (load, idle, "default-aa"), "p99")
            if a is None or b is None:
                continue
            ratio = max(a, b) / min(a, b)
            floor = ratio if floor is None else max(floor, ratio)
            print(f"| {load} | {idle} | {shown(runs, (load, idle, 'default'), 'p99')} | "
                  f"{shown(runs, (load, idle, 'default-aa'), 'p99')} | {ratio:.2f} x |")
    if floor is not None:
        print(f"\nnoise floor (A/A): medians of one policy differed up to {floor:.2f}x")
    return floor


def targets(runs, rate):
    """Item 3's targets, on medians: (name, measured, True/False/None)"""
    out = []
    for load in ("cpu", "disk"):
        k = lambda p: (load, "busy", p)
        cs = med(runs, k("cosched"), "p99")
        best = [(med(runs, k(p), "p99"), p) for p in STATIC if med(runs, k(p), "p99") is not None]
        hc, hd = med(runs, k("cosched"), "host"), med(runs, k("default"), "host")
        name = (f"{load} load, busy-idle guest: cosched p99 <= 1.2x the best static policy's "
                "and < 1 ms; host throughput >= 90% of default's")
        if cs is None or not best or hc is None or hd is None:
            out.append((name, "not measured", None))
            continue
        b, bp = min(best)
        ok = cs <= 1.2 * b and cs < 1000 and hc >= 0.9 * hd
        out.append((name, f"{cs:.0f} us = {cs / b:.2f}x {bp}'s {b:.0f}; host {100 * hc / hd:.0f}%",
                    ok))
    for load in LOADS:
        cs, pr = med(runs, (load, "hlt", "cosched"), "p99"), med(runs, (load, "hlt", "prio"), "p99")
        name = f"{load} load, hlt guest: cosched p99 <= 1.1x static prio's"
        out.append((name, "not measured", None) if cs is None or pr is None else
                   (name, f"{cs:.0f} / {pr:.0f} us = {cs / pr:.2f}x", cs <= 1.1 * pr))
    bad, seen = [], 0
    for load in LOADS:
        for idle in IDLES:
            a, c, d = (med(runs, (load, idle, p), "p99") for p in ("adaptive", "cosched", "default"))
            ha, hc = (med(runs, (load, idle, p), "host") for p in ("adaptive", "cosched"))
            if a is None or c is None or d is None:
                continue
            seen += 1
            if a > 1.1 * min(c, d) or (ha is not None and hc is not None and ha < hc - 5):
                bad.append(f"{load}/{idle} ({a / min(c, d):.2f}x"
                           + (f", {ha - hc:+.0f} points)" if ha is not None and hc is not None else ")"))
    name = "--slo, every cell: p99 <= 1.1x the better of cosched and default, host >= cosched's - 5 points"
    out.append((name, "not measured", None) if not seen else
               (name, f"NOT in {'; '.join(bad)}" if bad else f"all {seen} cells", not bad))
    cpu = [med(runs, k, "ctl_cpu") for k in runs if k[2] == "cosched" and med(runs, k, "ctl_cpu") is not None]
    name = f"controller CPU while controlling, --cosched at {rate} interrupts/s: <= 2% of a CPU"
    out.append((name, "not measured", None) if not cpu else
               (name, f"worst cell {max(cpu):.2f}%", max(cpu) <= 2.0))
    poll = [med(runs, k, "ctl_cpu") for k in runs if k[2] == "cosched-poll" and med(runs, k, "ctl_cpu") is not None]
    if poll:
        out.append(("what --poll costs (not a target)", f"{min(poll):.0f}-{max(poll):.0f}% of a CPU", None))
    ups = [u for k in runs for u in values(runs, k, "up")]
    if ups:
        out.append(("every cell measured once its controller was up (not a target)",
                    f"up after {min(ups):.2f}-{max(ups):.2f} s", None))
    return out


def targets_table(ts):
    print("\n| target | measured (medians) | |")
    print("|---|---|---|")
    for name, val, ok in ts:
        print(f"| {name} | {val} | {'met' if ok else 'NOT met' if ok is False else '-'} |")


def plots(out, runs):
    """response CDFs under CPU load, per guest idle mode (all runs of a
    cell pooled), and host throughput against p99 (medians)"""
    for idle in IDLES:
        with open(f"{out}/cdf-{idle}.gp", "w") as gp:
            gp.write(f'set terminal pngcairo size 900,600\nset output "{out}/cdf-{idle}.png"\n'
                     'set logscale x\nset xlabel "guest response (us)"\nset ylabel "fraction"\n'
                     f'set title "Guest interrupt response under CPU load ({idle} idle, runs pooled)"\n'
                     'set key bottom right\n')
            lines = []
            for p in POLS:
                v = sorted(int(l) for r in runs.get(("cpu", idle, p), [])
                           if os.path.exists(f"{out}/{r['tag']}.samples")
                           for l in open(f"{out}/{r['tag']}.samples") if l.strip())
                if not v:
                    continue
                with open(f"{out}/cdf-{idle}-{p}.dat", "w") as c:
                    for i, x in enumerate(v):
                        c.write(f"{x / 1e3} {(i + 1) / len(v)}\n")
                lines.append(f'"{out}/cdf-{idle}-{p}.dat" with lines lw 2 title "{p}"')
            gp.write("plot " + ", ".join(lines) + "\n" if lines else "")
    series = []
    for idle in IDLES:
        for p in POLS:
            k = ("cpu", idle, p)
            x, y = med(runs, k, "p99"), med(runs, k, "host")
            if x is None or y is None:
                continue
            f = f"{out}/tradeoff-{idle}-{p}.dat"
            with open(f, "w") as d:
                d.write(f"{x} {y}\n")
            series.append(f'"{f}" using 1:2 with points pt {7 if idle == "hlt" else 5} ps 2 '
                          f'title "{idle}/{p}"')
    with open(f"{out}/tradeoff.gp", "w") as gp:
        gp.write(f'set terminal pngcairo size 900,600\nset output "{out}/tradeoff.png"\n'
                 'set logscale x\nset xlabel "guest p99 response (us), median"\n'
                 'set ylabel "host CPU-load throughput (% of no guest), median"\n'
                 'set title "Host throughput against guest p99, CPU load (circles: hlt, squares: busy idle)"\n'
                 'set key outside right\n')
        if series:
            gp.write("plot " + ", ".join(series) + "\n")
    os.system(f"gnuplot {out}/cdf-hlt.gp {out}/cdf-busy.gp {out}/tradeoff.gp 2>/dev/null")
    print(f"\nplots: {out}/cdf-hlt.png, {out}/cdf-busy.png, {out}/tradeoff.png")


def main():
    out = sys.argv[1]
    rate = int(os.environ.get("RATE", "250"))
    runs = read_runs(out)
    if not runs:
        sys.exit(f"study_report: no cells in {out}")
    cells_table(runs)
    if DROPPED:
        print(f"\nleft out ({len(DROPPED)} runs): " + "; ".join(DROPPED))
    aa_table(runs)
    targets_table(targets(runs, rate))
    if "--no-plot" not in sys.argv:
        plots(out, runs)


if __name__ == "__main__":
    main()
