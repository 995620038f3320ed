#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render a tracefs-text recording (tests/recordings/*.txt) the other ways
people record and paste the same events, so that kvmrt report can be asked
for the same figures from each (tests/e2e/report.sh):

  formats.py KIND IN OUT

KIND is a layout, optionally with "+old" (the payloads of an old kernel)
or "+plugin" (libtraceevent's kvm and sched_switch plugins):

  tracefs      as it was (for the payloads of other versions)
  trace-cmd    trace-cmd report (tracecmd/trace-read.c trace_show_data:
               "%16s-%-5d [%03d]", " %5llu.%06llu:", " %s: " and the name
               padded to 20 columns; no tgid, no irq flags)
  latency      trace-cmd report -l ("%8.8s-%-5d %3d" and the latency flags)
  perf         perf script (tools/perf/builtin-script.c
               perf_sample__fprintf_start: "%16s %7d [%03d] %12s: ", the
               event as system:name in "%*s: " of the longest name)
  perf-pidtid  perf script -F comm,pid,tid,cpu,time,event,trace ("%7d/%-7d ")

Payloads, from each version's TP_printk (arch/x86/kvm/trace.h):
  +old     3.10 (RHEL 7) to 5.3: kvm_exit "reason %s rip 0x%lx info %llx %llx"
           (no vcpu), kvm_entry "vcpu %u"; kvm_inj_virq "irq %u" (to 5.18)
  +2.6     2.6.3x: as +old, VMX names as vmx.c's vmx_exit_reasons_str printed
           them (lower case), a reason it had no name for as 0x%lx
  +plugin  libtraceevent plugins/plugin_kvm.c: kvm_exit "reason %s rip 0x%llx
           info %llx %llx", SVM names as EXIT_<NAME>; kvm_entry " vcpu %u rip
           0x%llx"; plugins/plugin_sched_switch.c: "%s:%lld [%d] S ==> %s:%lld [%d]"
           (never "R+")
"""
import re
import sys

LINE = re.compile(r"^(.{16})-(\d+) +\(([ 0-9-]+)\) \[(\d+)\] (\S+) +(\d+)\.(\d+): (\w+): (.*)$")
SYSTEM = {"sched_switch": "sched", "sched_waking": "sched", "hrtimer_start": "timer",
          "hrtimer_expire_entry": "timer", "hrtimer_expire_exit": "timer",
          "irq_handler_entry": "irq", "irq_handler_exit": "irq", "softirq_entry": "irq",
          "softirq_exit": "irq", "nmi_handler": "nmi", "local_timer_entry": "irq_vectors",
          "local_timer_exit": "irq_vectors"}
# the kernel's SVM names (SVM_EXIT_REASONS) as the kvm plugin names the same
# codes (its SVM_EXIT_REASONS table), for the reasons the traces hold
SVM_PLUGIN = {"hlt": "EXIT_HLT", "msr": "EXIT_MSR", "interrupt": "EXIT_INTR",
              "npf": "EXIT_NPF", "io": "EXIT_IOIO", "vintr": "EXIT_VINTR",
              "avic_incomplete_ipi": "EXIT_AVIC_INCOMPLETE_IPI",
              "avic_unaccelerated_access": "EXIT_AVIC_UNACCELERATED_ACCESS"}


# 2.6.3x's vmx_exit_reasons_str (arch/x86/kvm/vmx.c), for the codes the
# traces hold; SVM's names were the same then as now
VMX_26 = {"HLT": "halt", "MSR_WRITE": "wrmsr", "EXTERNAL_INTERRUPT": "ext_irq",
          "APIC_ACCESS": "apic_access", "EOI_INDUCED": "0x2d", "MSR_READ": "rdmsr",
          "EPT_VIOLATION": "ept_violation", "IO_INSTRUCTION": "io_instruction"}


def old_payload(ev, text):
    if ev == "kvm_exit":  # drop "vcpu N ", info1/info2 -> "info A B" (hex, no 0x)
        m = re.match(r"vcpu \d+ reason (.*) rip (0x[0-9a-f]+) info1 0x([0-9a-f]+) info2 0x([0-9a-f]+)", text)
        return f"reason {m.group(1)} rip {m.group(2)} info {int(m.group(3), 16):x} {int(m.group(4), 16):x}"
    if ev == "kvm_entry":
        return re.match(r"(vcpu \d+)", text).group(1)
    if ev == "kvm_inj_virq":  # "IRQ 0x22" -> "irq 34"
        m = re.match(r"(?:IRQ|Soft/INTn) 0x([0-9a-f]+)", text)
        return f"irq {int(m.group(1), 16)}"
    return text


def plugin_payload(ev, text):
    if ev == "kvm_exit":
        m = re.match(r"(?:vcpu \d+ )?reason (.*) rip (0x[0-9a-f]+) info1 0x([0-9a-f]+) info2 0x([0-9a-f]+)", text)
        reason = SVM_PLUGIN.get(m.group(1), m.group(1))
        return f"reason {reason} rip {m.group(2)} info {int(m.group(3), 16):x} {int(m.group(4), 16):x}"
    if ev == "kvm_entry":
        m = re.match(r"vcpu (\d+), rip (0x[0-9a-f]+)", text)
        return f" vcpu {m.group(1)} rip {m.group(2)}"
    if ev == "sched_switch":
        m = re.match(r"prev_comm=(.*) prev_pid=(\d+) prev_prio=(-?\d+) prev_state=(\S+) ==> "
                     r"next_comm=(.*) next_pid=(\d+) next_prio=(-?\d+)$", text)
        state = m.group(4).rstrip("+")
        return f"{m.group(1)}:{m.group(2)} [{m.group(3)}] {state} ==> {m.group(5)}:{m.group(6)} [{m.group(7)}]"
    return text


def main():
    kind, src, dst = sys.argv[1:4]
    layout, _, payload = kind.partition("+")
    events = []
    for line in open(src):
        line = line.rstrip("\n")
        if line.startswith("#") or not line:
            continue
        m = LINE.match(line)
        if not m:
            sys.exit(f"formats.py: not a tracefs line: {line}")
        comm, pid, tgid, cpu, flags, secs, frac, ev, text = m.groups()
        tgid = tgid.strip()
        if payload in ("old", "2.6"):
            text = old_payload(ev, text)
            if payload == "2.6" and ev == "kvm_exit":
                name = text.split()[1]
                text = text.replace(f"reason {name} ", f"reason {VMX_26.get(name, name)} ", 1)
        elif payload == "plugin":
            text = plugin_payload(ev, text)
        usec = int(frac.ljust(6, "0")[:6])
        events.append((comm.strip(), int(pid), None if tgid.startswith("-") else int(tgid),
                       int(cpu), flags, int(secs), usec, ev, text))
    width = max(len(f"{SYSTEM.get(e[7], 'kvm')}:{e[7]}") for e in events)
    with open(dst, "w") as out:
        if layout.startswith("trace-cmd") or layout == "latency":
            out.write(f"cpus={max(e[3] for e in events) + 1}\n")
        for comm, pid, tgid, cpu, flags, secs, usec, ev, text in events:
            ts = f"{secs:5d}.{usec:06d}"
            if layout == "tracefs":  # as it was, for payloads of other versions
                tg = "-------" if tgid is None else f"{tgid:7d}"
                head = f"{comm:>16}-{pid:<7d} ({tg}) [{cpu:03d}] {flags} {ts}: {ev}: "
            elif layout == "trace-cmd":
                head = f"{comm:>16}-{pid:<5d} [{cpu:03d}] {ts}: {ev}: " + " " * max(0, 20 - len(ev))
            elif layout == "latency":
                head = f"{comm[:8]:>8}-{pid:<5d} {cpu:3d}{flags[:4]} {ts}: {ev}: " + " " * max(0, 20 - len(ev))
            elif layout in ("perf", "perf-pidtid"):
                ids = f"{pid:7d} " if layout == "perf" else f"{tgid if tgid is not None else pid:7d}/{pid:<7d} "
                name = f"{SYSTEM.get(ev, 'kvm')}:{ev}"
                head = f"{comm:>16} {ids}[{cpu:03d}] {f'{secs}.{usec:06d}':>12}: {name:>{width}}: "
            else:
                sys.exit(f"formats.py: unknown layout {layout}")
            out.write(head + text + "\n")


main()
