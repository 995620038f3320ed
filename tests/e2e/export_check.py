# SPDX-License-Identifier: GPL-2.0
"""Checks on kvmrt export: what Prometheus, Grafana and hostile clients see.

Usage: export_check.py CHECK ARGS...
"""
import json
import re
import socket
import sys
import threading
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from escape import kvmrt_escape


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def families(text):
    """{family name: [(sample name, labels)]}"""
    out = {}
    for fam in text_string_to_metric_families(text):
        out.setdefault(fam.name, [])
        for s in fam.samples:
            out[fam.name].append((s.name, s.labels))
    return out


PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                "sum", "rate", "increase", "max", "min", "count", "avg", "histogram_quantile",
                "vector", "or", "and", "unless", "le"}


def refs(expr):
    """Metric names and label names an expression uses."""
    expr = re.sub(r'"[^"]*"', '""', expr)  # values may hold anything
    metrics = set(re.findall(r"\b(kvmrt_[a-z0-9_]+)", expr))
    labels = set()
    for grp in re.findall(r"\{([^}]*)\}", expr):
        labels |= set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", grp))
    for grp in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        labels |= {x.strip() for x in grp.split(",") if x.strip()}
    return metrics, labels


def check_refs(url, dashboard, rules):
    """Every metric and label the dashboard and the rules use exists in a
    live scrape. Labels Prometheus adds itself (instance, job) excepted."""
    fams = families(scrape(url))
    samples = {}
    for fam, ss in fams.items():
        for name, labels in ss:
            samples.setdefault(name, set()).update(labels)
        samples.setdefault(fam, set()).update(*(l for _, l in ss))
    exprs = []
    d = json.load(open(dashboard))
    for p in d["panels"]:
        exprs += [t["expr"] for t in p.get("targets", [])]
    for v in d["templating"]["list"]:
        q = v.get("query")
        if isinstance(q, dict):
            exprs.append(q["query"].replace("label_values(", "").rsplit(",", 1)[0])
    import yaml  # python3-yaml comes with the prometheus client's deps; else skip
    for g in yaml.safe_load(open(rules))["groups"]:
        exprs += [r["expr"] for r in g["rules"]]
    missing = []
    nrefs = 0
    for e in exprs:
        metrics, labels = refs(e)
        for m in metrics:
            nrefs += 1
            if m not in samples:
                missing.append(f"metric {m}")
                continue
            for lab in labels - {"instance", "job"}:
                if lab not in samples[m]:
                    missing.append(f"label {lab} on {m}")
    if missing:
        sys.exit("missing in the scrape: " + ", ".join(sorted(set(missing))))
    print(f"{len(exprs)} expressions, {nrefs} metric references, all present")


def check_hostile(url, expected):
    """The exposition parses, and the VM name comes back as kvmrt shows it
    everywhere: escaped (agent/lib/escape.c)."""
    text = scrape(url)
    names = set()
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if "vm" in s.labels:
                names.add(s.labels["vm"])
    want = kvmrt_escape(bytes(expected, "utf-8", "surrogateescape"))
    if want not in names:
        sys.exit(f"{want!r} not among {names!r}")
    print(f"vm label round-trips: {want!r}")


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


def check_concurrency(host, port, pid, n):
    """n connections at once: no crash, bounded memory; afterwards a normal
    scrape is answered quickly."""
    before = rss_kb(pid)
    ok = [0]
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one():
        try:
            start.wait(10)
            s = socket.create_connection((host, port), timeout=20)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            if data.startswith(b"HTTP/1.1 200"):
                with lock:
                    ok[0] += 1
        except (OSError, threading.BrokenBarrierError):
            pass

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    after = rss_kb(pid)
    t0 = time.time()
    scrape(f"http://{host}:{port}/metrics")
    dt = time.time() - t0
    if after > before + 32 * 1024:
        sys.exit(f"RSS grew from {before} to {after} kB")
    if dt > 2:
        sys.exit(f"scrape after the burst took {dt:.1f} s")
    if ok[0] == 0:
        sys.exit("no connection was served")
    print(f"{ok[0]}/{n} served, RSS {before} -> {after} kB, next scrape {dt * 1000:.0f} ms")


def check_idle_client(host, port):
    """A client that connects and sends nothing does not block others."""
    idle = [socket.create_connection((host, port)) for _ in range(5)]
    t0 = time.time()
    scrape(f"http://{host}:{port}/metrics")
    dt = time.time() - t0
    for s in idle:
        s.close()
    if dt > 2:
        sys.exit(f"scrape with idle clients took {dt:.1f} s")
    print(f"scrape with 5 silent clients connected: {dt * 1000:.0f} ms")


def check_prom_p99(prom, vm, guest_json, trace_json):
    """Prometheus's histogram_quantile over the exporter's buckets agrees
    with kvmrt trace's p99, within the bucket, and the guest's own p99 is
    not below it."""
    # the buckets' last values: the VM's whole life, as trace saw it.
    # increase() counts only from a series' first scrape, which may
    # already hold the guest's first second (a slow start, lost).
    q = ("histogram_quantile(0.99, sum by (le) (last_over_time("
         f'kvmrt_irq_response_seconds_bucket{{vm="{vm}"}}[2m])))')
    url = f"http://{prom}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    res = json.loads(scrape(url))["data"]["result"]
    if not res:
        sys.exit("Prometheus has no result for " + q)
    p = float(res[0]["value"][1])
    bounds = [b / 1e9 for b in (1000, 1500, 2000, 3000, 5000, 7000)]
    ladder = sorted({b * 10 ** k for b in bounds for k in range(6) if b * 10 ** k <= 0.1 + 1e-12})
    # Prometheus interpolated p inside the exported bucket (lo, hi]. The
    # exported buckets take kvmrt's finer ones whole, so a value near an
    # edge may sit one bucket up: "within the bucket resolution" is within
    # the neighbouring buckets.
    below = [b for b in ladder if b < p]
    above = [b for b in ladder if b >= p]
    lo = below[-2] if len(below) >= 2 else 0
    hi = above[1] if len(above) >= 2 else float("inf")
    g = json.load(open(guest_json))["response"]["p99_ns"] / 1e9
    t = json.load(open(trace_json))["vms"][0]["vcpus"][0]["response"]["p99_ns"] / 1e9
    # kvmrt's own p99 lies there. Each kvmrt episode lies inside the
    # guest's timing of it (checked exactly in tests/e2e/e2e_check.py), so the
    # guest's p99 is not below; how far above is the guest's exit path and
    # the machine's noise, not the exporter's doing.
    if not (lo * 0.97 <= t <= hi * 1.03):
        sys.exit(f"Prometheus p99 {p * 1e6:.1f} us in [{lo * 1e6:.1f}, {hi * 1e6:.1f}] us; "
                 f"kvmrt trace p99 {t * 1e6:.1f} us outside")
    if g < lo * 0.97:
        sys.exit(f"Prometheus p99 {p * 1e6:.1f} us in [{lo * 1e6:.1f}, {hi * 1e6:.1f}] us; "
                 f"guest p99 {g * 1e6:.1f} us below")
    print(f"Prometheus p99 {p * 1e6:.1f} us (bucket {lo * 1e6:.0f}-{hi * 1e6:.0f} us), "
          f"kvmrt trace {t * 1e6:.1f} us, guest {g * 1e6:.1f} us")


def check_gone(url, vm):
    fams = families(scrape(url))
    left = [n for ss in fams.values() for n, l in ss if l.get("vm") == vm]
    if left:
        sys.exit(f"{len(left)} series of {vm} still exported")
    print(f"no series of {vm} left")


def check_present(url, vm):
    fams = families(scrape(url))
    if not any(l.get("vm") == vm for ss in fams.values() for _, l in ss):
        sys.exit(f"no series of {vm}")
    print(f"{vm} exported")


def main():
    import urllib.parse  # noqa: F401
    c, a = sys.argv[1], sys.argv[2:]
    if c == "refs":
        check_refs(*a)
    elif c == "hostile":
        check_hostile(a[0], a[1])
    elif c == "concurrency":
        check_concurrency(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif c == "idle":
        check_idle_client(a[0], int(a[1]))
    elif c == "prom_p99":
        check_prom_p99(*a)
    elif c == "gone":
        check_gone(*a)
    elif c == "present":
        check_present(*a)
    else:
        sys.exit(f"unknown check {c}")


if __name__ == "__main__":
    import urllib.parse
    main()
