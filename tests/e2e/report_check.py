#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks for kvmrt report's tests (tests/e2e/report.sh): its JSON against a
live kvmrt trace's over the same time, against itself from the other
format, and against the figures a hand-written recording implies.

  counts LIVE REPORT [PID...]  every VM (or only PIDs), vCPU and source:
                               the same counts
  episodes A B TOL_NS MIN      A's episodes in B: same vCPU, vector and
                               stages, each within TOL_NS; at least MIN of
                               them (a fraction), all of them if MIN is 1
  expect TRACE REPORT          the "# expect" lines of a recording
  causes TRACE REPORT          report -a's breakdown of the recording's one
                               outlier against its "# causes STAGE what=ns;
                               ..." lines (exactly those parts, and every
                               stage's parts adding up to it) and its vCPU's
                               biggest cause over the run ("# tail-first")
  p99 WITH_A WITHOUT           report -a without -T (WITH_A) against the same
                               report without -a: every vCPU with episodes
                               has its slowest explained, none below its
                               p99's bucket, and every other figure is the
                               same (but the per-tracepoint counts, which
                               follow the threshold)
Prints why on failure and exits 1."""
import bisect
import json
import sys

COUNTS = ("total", "completed", "coalesced", "unfinished")


def load(path):
    with open(path) as f:
        return json.load(f)


def vcpus(doc, pids=None):
    out = {}
    for vm in doc["vms"]:
        if pids and vm["pid"] not in pids:
            continue
        for v in vm["vcpus"]:
            out[(vm["pid"], v["vcpu"])] = v
    return out


def fail(msg):
    print(msg)
    sys.exit(1)


def counts(live_path, rep_path, pids):
    live, rep = load(live_path), load(rep_path)
    lv, rv = vcpus(live, pids), vcpus(rep, pids)
    # the kernel may hand the two observers different events: a BPF
    # program already running on a CPU is not run again (events_missed),
    # and ftrace on this host drops some switches out of the idle task.
    # Counts must be equal unless an injection or end event was seen by
    # one side only, and then differ by at most that many.
    slack = 0
    for ev in ("kvm_apic_accept_irq", "hrtimer_expire_entry", "kvm_pic_set_irq", "kvm_eoi",
               "kvm_ack_irq"):
        slack += abs(live["events"][ev] - rep["events"][ev])
        slack += live.get("events_missed", {}).get(ev, 0)
    if not lv:
        fail("no vCPUs in the live trace")
    if set(lv) != set(rv):
        fail(f"vCPUs differ: live {sorted(lv)} report {sorted(rv)}")
    worst = 0
    for k in sorted(lv):
        li, ri = lv[k]["injections"], rv[k]["injections"]
        for name in list(li):
            d = abs(li[name] - ri[name])
            worst = max(worst, d)
            if d > slack:
                fail(f"VM {k[0]} vCPU {k[1]} {name}: live {li[name]} report {ri[name]}")
        if not li["total"]:
            fail(f"VM {k[0]} vCPU {k[1]}: no injections")
    n = sum(v["injections"]["total"] for v in lv.values())
    print(f"{len(lv)} vCPUs, {n} injections: " +
          ("equal" if worst == 0 else f"within {worst} (events one side missed: {slack})"))


def episodes_of(doc):
    out = {}
    for (pid, vcpu), v in vcpus(doc).items():
        eps = sorted(v["outliers"], key=lambda o: o["t_inject_ns"])
        out[(pid, vcpu)] = ([o["t_inject_ns"] for o in eps], eps)
    return out


def episodes(a_path, b_path, tol, need):
    a, b = episodes_of(load(a_path)), episodes_of(load(b_path))
    total = matched = 0
    worst = 0
    bad = []
    for k, (_, eps) in a.items():
        ts, beps = b.get(k, ([], []))
        for o in eps:
            total += 1
            i = bisect.bisect_left(ts, o["t_inject_ns"] - tol)
            best = None
            for x in beps[i:i + 4]:
                if (abs(x["t_inject_ns"] - o["t_inject_ns"]) <= tol and x["vector"] == o["vector"]
                        and set(x["stages"]) == set(o["stages"]) and
                        all(abs(x["stages"][s] - o["stages"][s]) <= tol for s in o["stages"])):
                    best = x
                    break
            if best is None:
                bad.append(o)
                continue
            matched += 1
            worst = max([worst] + [abs(best["stages"][s] - o["stages"][s]) for s in o["stages"]])
    if total < 100:
        fail(f"only {total} episodes in {a_path}")
    if matched < need * total or (need >= 1 and matched < total):
        fail(f"{matched} of {total} episodes matched within {tol} ns; first unmatched: {bad[:3]}")
    print(f"{matched} of {total} episodes with the same stages (worst {worst} ns apart)")


def expect(trace_path, rep_path, derived=None):
    """# expect VM.VCPU key=value ...: keys are injections.<source>,
    completed, coalesced, unfinished, response.count, delivery.count,
    response.max_ns, stage.<name>.max_ns, exits.<REASON>, ends.<kind>,
    posted_in_guest, outliers, timer_late.<count|max_ns>,
    timer_early.<count|max_ns>, vm.apicv.<changes|inhibits>,
    recording.<pending_at_end|never_delivered_vectors|ends_unmatched|
    deliveries_unmatched|reinjected.<vector|count|span_ns>>.
    derived: the report is of a copy of the trace with less in it (no
    tgids: the one VM's pid is inferred, so the expected one VM is the
    report's one VM; no sched events: no wake or queue stage, and the
    deliver stage runs from the injection, so those three are not asked,
    only that wake and queue are empty). Every other figure is the same."""
    doc = load(rep_path)
    rep = vcpus(doc)
    vms = {vm["pid"]: dict(vm, _doc=doc) for vm in doc["vms"]}
    no_sched = derived is not None and "wake" not in doc["endpoints"]
    with open(trace_path) as f:
        lines = [l for l in f if l.startswith("# expect ")]
    want_vms = {int(l.split()[2].split(".")[0]) for l in lines}
    remap = {}
    if derived is not None and len(want_vms) == 1 and len(vms) == 1:
        remap = {next(iter(want_vms)): next(iter(vms))}
    by_tid = {v["tid"]: key for key, v in rep.items()}
    n = 0
    for line in lines:
        words = line.split()[2:]
        pid, vcpu = (int(x) for x in words[0].split("."))
        pid = remap.get(pid, pid)
        # several VMs inferred (no tgids): each found by its vCPU's thread,
        # as a VM's pid follows from what the form shows (irq flags or not)
        tid = [int(w.split("=")[1]) for w in words[1:] if w.startswith("tid=")]
        if (pid, vcpu) not in rep and tid and tid[0] in by_tid:
            pid, vcpu = by_tid[tid[0]]
        v = rep.get((pid, vcpu))
        if v is None:
            fail(f"{trace_path}: no VM {pid} vCPU {vcpu} in the report")
        if no_sched:
            for st in ("wake", "queue"):
                if v["stages"][st]["count"]:
                    fail(f"{rep_path}: stage {st} without sched events")
        for kv in words[1:]:
            key, want = kv.split("=")
            if no_sched and key.split(".")[:2] in (["stage", "wake"], ["stage", "queue"],
                                                   ["stage", "deliver"]):
                continue
            got = value(v, key, vms[pid])
            if str(got) != want:
                fail(f"{trace_path}: VM {pid} vCPU {vcpu} {key}: want {want}, got {got}")
            n += 1
    if not n:
        fail(f"{trace_path}: no expectations")
    print(f"{n} figures as the kernel's order implies")


def value(v, key, vm):
    part = key.split(".")
    if part[0] == "vm":  # the VM's own: vm.apicv.changes, vm.apicv.inhibits
        return vm.get("apicv", {}).get(part[2], 0 if part[2] == "changes" else "")
    if part[0] == "injections":
        return v["injections"][part[1]]
    if part[0] in ("completed", "coalesced", "unfinished"):
        return v["injections"][part[0]]
    if part[0] in ("response", "delivery"):
        return v[part[0]]["count"] if part[1] == "count" else v[part[0]].get(part[1])
    if part[0] == "stage":
        return v["stages"][part[1]].get(part[2])
    if part[0] == "exits":
        for r in v["exits"]["reasons"]:
            if r["reason"] == part[1]:
                return r["count"]
        return 0
    if part[0] == "ends":
        return v["ends"][part[1]]
    if part[0] == "posted_in_guest":
        return v["injections"]["posted_in_guest"]
    if part[0] in ("timer_late", "timer_early"):
        h = v["lapic_timer"][part[0].split("_")[1]]
        return h["count"] if part[1] == "count" else h.get(part[1])
    if part[0] == "outliers":
        return len(v["outliers"])
    if part[0] == "tid":
        return v["tid"]
    if part[0] == "ambiguous_injections":  # the document's
        return vm["_doc"]["ambiguous_injections"]
    if part[0] == "recording":  # a recording's cuts and findings: a.b[.c]
        x = v["recording"]
        for k in part[1:]:
            x = x[k]
        return ",".join(str(i) for i in x) if isinstance(x, list) else x
    raise KeyError(key)


def causes(trace_path, rep_path):
    want, tail_first = {}, None
    for line in open(trace_path):
        if line.startswith("# causes "):
            stage, _, parts = line[len("# causes "):].strip().partition(" ")
            want[stage] = dict((w.rsplit("=", 1)[0].strip(), int(w.rsplit("=", 1)[1]))
                               for w in parts.split(";"))
        elif line.startswith("# tail-first "):
            tail_first = line[len("# tail-first "):].strip()
    outs = [(v, o) for v in vcpus(load(rep_path)).values() for o in v["outliers"]]
    if len(outs) != 1:
        fail(f"{len(outs)} outliers, not 1")
    v, o = outs[0]
    for stage, ns in o["stages"].items():
        got = sum(p["ns"] for p in o["causes"].get(stage, {}).get("parts", []))
        if got != ns:
            fail(f"{stage}: its parts add up to {got} ns, the stage is {ns}")
    for stage, parts in want.items():
        got = {p["what"]: p["ns"] for p in o["causes"].get(stage, {}).get("parts", [])}
        if got != parts:
            fail(f"{stage}: parts {got}, want {parts}")
    if tail_first and v["tail"]["causes"][0]["what"] != tail_first:
        fail(f"tail: first {v['tail']['causes'][0]['what']}, want {tail_first}")


def p99(with_a, without):
    a, b = load(with_a), load(without)
    for (pid, vcpu), v in vcpus(a).items():
        if not v["response"]["count"]:
            continue
        outs = v["outliers"]
        if not outs:
            fail(f"VM {pid} vCPU {vcpu}: {v['response']['count']} episodes, none explained")
        if max(o["response_ns"] for o in outs) != v["response"]["max_ns"]:
            fail(f"VM {pid} vCPU {vcpu}: its slowest episode is not among the explained")
        if any("causes" not in o for o in outs) or "tail" not in v:
            fail(f"VM {pid} vCPU {vcpu}: an outlier without causes, or no tail")
        # the slowest 1% (at least one); more only when tied with the slowest
        # (one histogram bucket: 1/16 of its value wide at most)
        limit = max(1, v["response"]["count"] / 100)
        top = v["response"]["max_ns"]
        if len(outs) > limit and any(o["response_ns"] < top * 15 / 16 for o in outs):
            fail(f"VM {pid} vCPU {vcpu}: {len(outs)} of {v['response']['count']} explained")
    for d in (a, b):
        for vm in d["vms"]:
            for v in vm["vcpus"]:
                v.pop("outliers", None)
                v.pop("tail", None)
        for k in ("outliers_total", "threshold_ns", "events"):
            d.pop(k, None)
    if a != b:
        diff = [k for k in a if a[k] != b.get(k)]
        fail(f"with -a, other figures differ: {diff}")
    print(f"{sum(1 for v in vcpus(load(with_a)).values() if v['outliers'])} vCPUs explained")


def main():
    cmd = sys.argv[1]
    if cmd == "counts":
        counts(sys.argv[2], sys.argv[3], [int(p) for p in sys.argv[4:]])
    elif cmd == "episodes":
        episodes(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    elif cmd == "expect":
        expect(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif cmd == "causes":
        causes(sys.argv[2], sys.argv[3])
    elif cmd == "p99":
        p99(sys.argv[2], sys.argv[3])
    else:
        fail(f"unknown check {cmd}")


main()
