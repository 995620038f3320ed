# SPDX-License-Identifier: GPL-2.0
"""The soak's checks (tests/soak.sh).

counts PROM MANIFEST   every VM of the run: the interrupts kvmrt exported
                       (as a real Prometheus stored them; or as one page of
                       the exporter's, PROM a FILE.metrics) against the
                       guest's own count
curve FILE             the exporter's RSS and descriptors over the run:
                       printed, and RSS flat after the first minutes

MANIFEST has one line per VM: KIND PID NAME-IN-HEX FILE, KIND "guest"
(kvmrt-guest: FILE its --json) or "vmm" (tests/e2e/vmm.c: FILE its stdout,
ending "vmm: acked N").
"""
import json
import sys
import urllib.parse
import urllib.request

from escape import kvmrt_escape


def query(prom, q):
    data = urllib.parse.urlencode({"query": q}).encode()
    with urllib.request.urlopen(f"http://{prom}/api/v1/query", data, timeout=120) as r:
        res = json.load(r)
    if res.get("status") != "success":
        sys.exit(f"Prometheus: {q}: {res}")
    return {s["metric"].get("vm", ""): float(s["value"][1]) for s in res["data"]["result"]}


def own_count(kind, path):
    """The guest's own count of the interrupts it handled (None: it did not
    end well, and says why)."""
    try:
        if kind == "guest":
            return json.load(open(path))["acked"], None
        for line in open(path):
            if line.startswith("vmm: acked "):
                return int(line.split()[2]), None
        return None, "no 'vmm: acked' line (it did not end well)"
    except (OSError, ValueError, KeyError) as e:
        return None, str(e)


def page_sums(path):
    """An exposition's per-VM sums: injections, coalesced, ends (not stale)."""
    from prometheus_client.parser import text_string_to_metric_families
    out = ({}, {}, {})
    for fam in text_string_to_metric_families(open(path).read()):
        for smp in fam.samples:
            i = {"kvmrt_irq_injections_total": 0, "kvmrt_irq_coalesced_total": 1,
                 "kvmrt_irq_ends_total": 2}.get(smp.name)
            if i is None or smp.labels.get("end") == "stale":
                continue
            vm = smp.labels["vm"]
            out[i][vm] = out[i].get(vm, 0) + smp.value
    return out


def counts(source, manifest):
    if source.endswith(".metrics"):  # one page of the exporter's
        inj, coal, ends = page_sums(source)
    else:
        # last_over_time: a gone VM's series are dropped after the grace,
        # but Prometheus kept their samples
        rng = "[3h]"
        inj = query(source, f"sum by (vm) (last_over_time(kvmrt_irq_injections_total{rng}))")
        coal = query(source, f"sum by (vm) (last_over_time(kvmrt_irq_coalesced_total{rng}))")
        ends = query(source, f'sum by (vm) (last_over_time(kvmrt_irq_ends_total{{end!="stale"}}{rng}))')
    bad, n, total, kinds, hostile, vmm_diff = [], 0, 0, {}, 0, {}
    for line in open(manifest):
        kind, pid, hexname, path = line.split()
        name = bytes.fromhex(hexname)
        label = kvmrt_escape(name)
        own, why = own_count(kind, path)
        if own is None:
            bad.append(f"{kind} pid {pid} {label!r}: {why}")
            continue
        # kvmrt-guest injects, then stops and waits for the last ack:
        # every injection that was not coalesced is one it handled. The
        # VMM's LAPIC timer fires until the VMM has exited: the ticks at
        # its end are never handled, so its check is on the interrupts
        # ended (each by its EOI), one of which may lack its ack (the out
        # after the EOI) when the VMM stops between the two.
        got = inj.get(label, 0) - coal.get(label, 0)
        ended = ends.get(label, 0)
        if kind == "vmm":
            for name_, d in (("injected", int(got - own)), ("ended", int(ended - own))):
                vmm_diff.setdefault(name_, {})
                vmm_diff[name_][d] = vmm_diff[name_].get(d, 0) + 1
        if not (got == own if kind == "guest" else own <= ended <= own + 1):
            bad.append(f"{kind} pid {pid} {label!r}: exported {got:.0f} "
                       f"(injected {inj.get(label, 0):.0f}, coalesced {coal.get(label, 0):.0f}, "
                       f"ended {ended:.0f}), the guest counted {own}")
        else:
            n += 1
        total += own
        kinds[kind] = kinds.get(kind, 0) + 1
        hostile += not name.isascii() or any(c < 0x20 for c in name)
    for what, diff in vmm_diff.items():
        print(f"the VMM's VMs, {what} (not coalesced) minus handled: "
              + ", ".join(f"{d:+d} in {c}" for d, c in sorted(diff.items())))
    if bad:
        nvm = sum(1 for _ in open(manifest))
        sys.exit(f"{len(bad)} of {nvm} VMs miscounted, or did not end well:\n  "
                 + "\n  ".join(bad[:20]))
    print(f"{n} VMs ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}; "
          f"{hostile} with hostile names): {total} interrupts, every one exported exactly")


def curve(path):
    rows = [tuple(map(float, l.split())) for l in open(path) if l.strip()]
    if len(rows) < 6:
        sys.exit(f"only {len(rows)} samples")
    t_end = rows[-1][0]
    print("exporter over the run (one row a minute):")
    print("   min  RSS MiB   fds")
    last = -60
    for t, rss, fds in rows:
        if t - last >= 60:
            print(f"  {t / 60:4.0f}  {rss / 1024:7.1f}  {fds:4.0f}")
            last = t
    # the reference: the first minutes are for warming up (the series of a
    # full churn, Prometheus's first queries); from then on flat
    ref = max(r[1] for r in rows if t_end / 6 <= r[0] <= t_end / 3)
    end = max(r[1] for r in rows if r[0] >= t_end * 5 / 6)
    limit = ref * 1.05 + 512
    print(f"RSS: {ref / 1024:.1f} MiB at {t_end / 360:.0f}-{t_end / 180:.0f} min (max), "
          f"{end / 1024:.1f} MiB in the last sixth (max), limit {limit / 1024:.1f}")
    if end > limit:
        sys.exit("RSS grew after the first minutes")


def main():
    if sys.argv[1] == "counts":
        counts(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "curve":
        curve(sys.argv[2])
    else:
        sys.exit(__doc__)


main()
