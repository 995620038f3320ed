#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks for tests/e2e/hostile.sh. The hostile name comes in the environment
(HOSTILE_NAME, bytes), the way the test gave it to the VMM.

  hostile_check.py json FILE PID          the VM, named escaped, counted
  hostile_check.py text FILE              UTF-8, no control byte, the name
  hostile_check.py metrics URL PID        the series, labelled escaped
  hostile_check.py policy PID TID         "POLICY/PRIO" of a thread (stat
                                          read from the comm's end)
  hostile_check.py printable FILE         one line, printable UTF-8"""
import json
import os
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from escape import kvmrt_escape

WANT = kvmrt_escape(os.environb[b"HOSTILE_NAME"])


def printable(text):
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
    if bad:
        sys.exit(f"control characters {bad!r} in {text!r}")


def check_json(path, pid):
    t = json.loads(open(path, "rb").read().decode("utf-8"))  # strict UTF-8
    vms = [vm for vm in t["vms"] if vm["pid"] == int(pid)]
    if len(vms) != 1:
        sys.exit(f"pid {pid}: {len(vms)} VMs in {[vm['pid'] for vm in t['vms']]}")
    vm = vms[0]
    if vm["name"] != WANT:
        sys.exit(f"name {vm['name']!r}, want {WANT!r}")
    n = sum(v["response"]["count"] for v in vm["vcpus"])
    if not n:
        sys.exit("no interrupt counted")
    print(f"{WANT[:24]!r}...: {n} interrupts")


def check_text(path):
    text = open(path, "rb").read().decode("utf-8")
    printable(text)
    if WANT not in text:
        sys.exit(f"{WANT!r} not in the output")


def check_metrics(url, pid):
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode("utf-8")
    found = 0
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "kvmrt_irq_injections_total" and s.labels.get("vm") == WANT:
                found += s.value
    if not found:
        sys.exit(f"no kvmrt_irq_injections_total for vm={WANT!r}")
    print(f"{found:.0f} injections under the escaped name")


def policy(pid, tid):
    stat = open(f"/proc/{pid}/task/{tid}/stat", "rb").read()
    f = stat[stat.rindex(b")") + 2:].split()  # f[0] is field 3
    print(f"{int(f[38])}/{int(f[37])}")


def check_printable(path):
    data = open(path, "rb").read()
    text = data.decode("utf-8")
    printable(text)
    if text.count("\n") != 1 or not text.endswith("\n"):
        sys.exit(f"not one line: {text!r}")


if __name__ == "__main__":
    {"json": check_json, "text": check_text, "metrics": check_metrics, "policy": policy,
     "printable": check_printable}[sys.argv[1]](*sys.argv[2:])
