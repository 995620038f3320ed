# SPDX-License-Identifier: GPL-2.0
"""Every thread's scheduling state, to compare before and after kvmrt control.

snapshot OUT            write {tid: [start, policy, rt_prio, nice, cpus, cpuset]}
compare A B             the threads in both: identical (exit 1 listing diffs)
"""
import json
import os
import sys


def threads():
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            base = f"/proc/{pid}/task/{tid}"
            try:
                stat = open(f"{base}/stat").read()
                f = stat[stat.rindex(")") + 2:].split()
                # f[0] is field 3
                start, nice, prio, policy = f[19], f[16], f[37], f[38]
                cpus = [l.split()[1] for l in open(f"{base}/status")
                        if l.startswith("Cpus_allowed_list")][0]
                try:
                    cpuset = open(f"{base}/cpuset").read().strip()
                except OSError:
                    cpuset = ""
            except (OSError, ValueError, IndexError):
                continue
            out[tid] = [start, policy, prio, nice, cpus, cpuset]
    return out


def main():
    if sys.argv[1] == "snapshot":
        json.dump(threads(), open(sys.argv[2], "w"))
        return
    a, b = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
    common = [t for t in a if t in b and a[t][0] == b[t][0]]
    diffs = [f"{t}: {a[t]} -> {b[t]}" for t in common if a[t] != b[t]]
    if diffs:
        sys.exit(f"{len(diffs)} of {len(common)} threads differ: " + "; ".join(diffs[:5]))
    print(f"{len(common)} threads identical")


if __name__ == "__main__":
    main()
