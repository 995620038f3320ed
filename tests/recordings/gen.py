# The hand-written recordings of tests/recordings, each in the kernel's order
# (see its comment). Run here: python3 gen.py. vmx-msi, svm-ioapic and
# vmx-lapic-timer predate it and were written by hand.
import sys
HDR = """# tracer: nop
#
# entries-in-buffer/entries-written: {n}/{n}   #P:2
#
#           TASK-PID     TGID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |        |   |||||     |         |
"""
def line(comm, pid, tgid, cpu, flags, ts, ev, text):
    tg = "-------" if tgid is None else "%7d" % tgid
    return "%16s-%-7d (%s) [%03d] %s %5d.%06d: %s: %s" % (comm, pid, tg, cpu, flags, ts // 1000000, ts % 1000000, ev, text)
def write(name, intro, expects, events):
    out = [line(*e) for e in events]
    with open(name, "w") as f:
        for l in intro.strip().split("\n"):
            f.write("# " + l + "\n")
        for x in expects:
            f.write("# expect " + x + "\n")
        f.write(HDR.format(n=len(out)))
        f.write("\n".join(out) + "\n")
class VM:
    def __init__(s, vcomm, vpid, mcomm, mpid, tgid):
        s.V = (vcomm, vpid, tgid, 1); s.M = (mcomm, mpid, tgid, 0)
    def v(s, ts, ev, text, flags="....."): return (s.V[0], s.V[1], s.V[2], s.V[3], flags, ts, ev, text)
    def m(s, ts, ev, text, flags="....."): return (s.M[0], s.M[1], s.M[2], s.M[3], flags, ts, ev, text)
def idle1(ts, ev, text, flags="d..2."): return ("<idle>", 0, None, 1, flags, ts, ev, text)
def other1(ts, ev, text, flags="d..2."): return ("hog", 900, 900, 1, flags, ts, ev, text)
X = " rip 0x1000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000 requests 0x0000000000000000"
def exit_(vm, ts, reason): return vm.v(ts, "kvm_exit", "vcpu 0 reason %s%s" % (reason, X))
def entry(vm, ts): return vm.v(ts, "kvm_entry", "vcpu 0, rip 0x1000 intr_info 0x00000000 error_code 0x00000000")
def sw_out(vm, ts, state, nxt="swapper/1", npid=0):
    return vm.v(ts, "sched_switch", "prev_comm=%s prev_pid=%d prev_prio=120 prev_state=%s ==> next_comm=%s next_pid=%d next_prio=120" % (vm.V[0], vm.V[1], state, nxt, npid), "d..2.")
def sw_in_idle(vm, ts):
    return idle1(ts, "sched_switch", "prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=%s next_pid=%d next_prio=120" % (vm.V[0], vm.V[1]))
def msi(vm, ts, vec, posted=True):
    ev = [vm.m(ts, "kvm_msi_set_irq", "dst 0 vec %d (Fixed|physical|edge)" % vec),
          vm.m(ts + 1, "kvm_apic_accept_irq", "apicid 0 vec %d (Fixed|edge)" % vec)]
    if posted:
        ev.append(vm.m(ts + 2, "kvm_apicv_accept_irq", "apicid 0 vec %d (Fixed|edge)" % vec))
    return ev
def waking(vm, ts, who="m"):
    f = vm.m if who == "m" else None
    return vm.m(ts, "sched_waking", "comm=%s pid=%d prio=120 target_cpu=001" % (vm.V[0], vm.V[1]), "d..3.")

def woken_injected(vm, t_waking, t, wait_ns, vector):
    """A halted vCPU woken by the VMM (t_waking), on a CPU at t + 10, out of
    kvm_vcpu_halt at t + 12, the interrupt injected (kvm_inj_virq) at t + 14
    and entered at t + 15."""
    return [waking(vm, t_waking),
            sw_in_idle(vm, t + 10),
            vm.v(t + 12, "kvm_vcpu_wakeup", "wait time %d ns, polling valid" % wait_ns),
            vm.v(t + 14, "kvm_inj_virq", "IRQ 0x%x" % vector),
            entry(vm, t + 15)]

# A. VMX + APICv: posted in the guest, then to a halted vCPU
vm = VM("CPU 0/KVM", 4002, "qemu-system-x86", 4001, 4000)
write("vmx-apicv-posted.txt",
"""VMX host with APICv (arch/x86/kvm/vmx/vmx.c vmx_deliver_interrupt ->
vmx_deliver_posted_interrupt; lapic.c __apic_accept_irq emits
kvm_apic_accept_irq, then vmx_deliver_interrupt kvm_apicv_accept_irq when it
posts). An MSI to a vCPU in guest mode (between kvm_entry and kvm_exit): the
notification IPI delivers it, no exit, no kvm_inj_virq: counted
posted_in_guest, no delivery time. Its EOI is virtual (edge: no exit, no
kvm_eoi): it ends at the guest's next HLT exit (kvm_exit, reason HLT):
idle. Then an MSI to the halted vCPU: posted
(kvm_vcpu_kick -> kvm_vcpu_wake_up: sched_waking), delivered at its next
kvm_entry (vmx_sync_pir_to_irr), ended at its HLT exit.
Second: wake 2, queue 7, deliver 5, handle 25 us.""",
["4000.0 injections.msi=2 completed=2 unfinished=0 posted_in_guest=1 ends.idle=2 ends.eoi=0 ends.stale=0 response.max_ns=1999000 delivery.count=1 delivery.max_ns=14000 stage.wake.max_ns=2000 stage.queue.max_ns=7000 stage.deliver.max_ns=5000 exits.HLT=1 outliers=2"],
[entry(vm, 400000000)] + msi(vm, 400001000, 34) + [
 exit_(vm, 400003000, "HLT"),
 sw_out(vm, 400003002, "S")] + msi(vm, 401503000, 34) + [
 waking(vm, 401503003),
 sw_in_idle(vm, 401503010),
 vm.v(401503012, "kvm_vcpu_wakeup", "wait time 1500000000 ns, polling valid"),
 entry(vm, 401503015),
 exit_(vm, 401503040, "HLT"),
 sw_out(vm, 401503042, "S"),
])

# B. VMX + APICv, a preempted vCPU
vm = VM("CPU 0/KVM", 5002, "qemu-system-x86", 5001, 5000)
write("vmx-apicv-preempted.txt",
"""VMX host with APICv, a vCPU preempted on its CPU (sched_switch R+ after an
EXTERNAL_INTERRUPT exit) when an MSI is posted: it is outside guest mode and
not halted, so kvm_vcpu_kick neither wakes nor IPIs it. It waits for its CPU
(queue, the hog to blame), is delivered at its kvm_entry (PIR synced at
entry), and ends at its HLT exit (idle, no EOI exit under APICv).
Stages: queue 1499, deliver 3, handle 27 us.""",
["5000.0 injections.msi=1 completed=1 posted_in_guest=0 ends.idle=1 delivery.max_ns=1502000 stage.queue.max_ns=1499000 stage.deliver.max_ns=3000 stage.handle.max_ns=27000 response.max_ns=1529000 exits.EXTERNAL_INTERRUPT=1 outliers=1"],
[entry(vm, 500000000),
 ("kworker/0:1", 31, 31, 0, "d..3.", 500000050, "sched_waking", "comm=kcompactd0 pid=40 prio=120 target_cpu=000"),
 exit_(vm, 500000100, "EXTERNAL_INTERRUPT"),
 sw_out(vm, 500000102, "R+", "hog", 900)] + msi(vm, 500000500, 34) + [
 other1(500002000, "sched_switch", "prev_comm=hog prev_pid=900 prev_prio=120 prev_state=R+ ==> next_comm=CPU 0/KVM next_pid=5002 next_prio=120"),
 entry(vm, 500002003),
 exit_(vm, 500002030, "HLT"),
 sw_out(vm, 500002032, "S"),
])

# C. SVM + AVIC
vm = VM("vcpu0", 6002, "cloud-hyperviso", 6001, 6000)
write("svm-avic.txt",
"""SVM host with AVIC (arch/x86/kvm/svm/avic.c, svm.c
svm_complete_interrupt_delivery): an MSI to a vCPU in guest mode is posted
(kvm_apicv_accept_irq) and rung in by the doorbell (kvm_avic_doorbell): no
exit; its EOI is accelerated (edge: no exit). The guest halts: an hlt
(0x78) exit; while KVM polls (halt polling: kvm_vcpu_wakeup "poll", no
sleep) a second MSI is posted to it, outside guest mode (kvm_vcpu_wake_up
finds no waiter: no sched_waking): delivered at the next kvm_entry. The
first ends at the hlt exit (idle), the second at the next one. A Cloud
Hypervisor-named vCPU thread (vcpu0).""",
["6000.0 injections.msi=2 completed=2 posted_in_guest=1 ends.idle=2 ends.eoi=0 delivery.count=1 delivery.max_ns=5000 response.max_ns=49000 stage.handle.max_ns=49000 exits.hlt=1 outliers=2 tid=6002"],
[entry(vm, 600000000),
 ("kworker/0:1", 31, 31, 0, "d..3.", 600000050, "sched_waking", "comm=kcompactd0 pid=40 prio=120 target_cpu=000")] + msi(vm, 600001000, 48) + [
 vm.m(600001003, "kvm_avic_doorbell", "vcpuid=0, apicid=0"),
 exit_(vm, 600001050, "hlt")] + msi(vm, 600001060, 48) + [
 vm.v(600001065, "kvm_vcpu_wakeup", "poll time 15000 ns, polling valid"),
 entry(vm, 600001066),
 exit_(vm, 600001090, "hlt"),
 sw_out(vm, 600001091, "S"),
])

# D. PV EOI (VMX without APICv: PV EOI is off while APICv runs)
vm = VM("CPU 0/KVM", 7002, "qemu-system-x86", 7001, 7000)
write("vmx-pv-eoi.txt",
"""VMX host without APICv, a Linux guest with PV EOI: the guest's EOI writes
its PV EOI byte, no exit. KVM finds it at the next exit
(vcpu_enter_guest -> kvm_lapic_sync_from_vapic -> apic_sync_pv_eoi_from_guest
-> apic_set_eoi: kvm_eoi, then kvm_pv_eoi), here the HLT exit: the end
is that exit (kvm_exit, the first event of it), and its kind the PV EOI
found there (a bound: the guest's EOI came earlier).
Stages: wake 1, queue 8, deliver 4, handle 66 us.""",
["7000.0 injections.msi=1 completed=1 ends.pv_eoi=1 ends.eoi=0 ends.idle=0 response.max_ns=79000 delivery.max_ns=13000 stage.handle.max_ns=66000 exits.HLT=1"],
[entry(vm, 700000000),
 exit_(vm, 700000100, "HLT"),
 sw_out(vm, 700000101, "S")] + msi(vm, 700001000, 34, posted=False) + \
 woken_injected(vm, 700001002, 700001000, 900000, 0x22) + [
 exit_(vm, 700001080, "HLT"),
 vm.v(700001081, "kvm_eoi", "apicid 0 vector 34"),
 vm.v(700001082, "kvm_pv_eoi", "apicid 0 vector 34"),
 sw_out(vm, 700001083, "S"),
])

# E. level-triggered IOAPIC under APICv
vm = VM("CPU 0/KVM", 8002, "qemu-system-x86", 8001, 8000)
write("vmx-apicv-level.txt",
"""VMX host with APICv, a level-triggered IOAPIC pin (kvm_set_irq ->
kvm_ioapic_set_irq -> ioapic_service -> __apic_accept_irq) posted to a vCPU
in guest mode: its vector is in the EOI-exit bitmap (vmx_load_eoi_exitmap),
so the guest's EOI exits (EOI_INDUCED -> handle_apic_eoi_induced ->
kvm_apic_set_eoi_accelerated: kvm_eoi): the end is the EOI.""",
["8000.0 injections.ioapic=1 completed=1 posted_in_guest=1 ends.eoi=1 ends.idle=0 delivery.count=0 response.max_ns=39000 exits.EOI_INDUCED=1"],
[entry(vm, 800000000),
 ("kworker/0:1", 31, 31, 0, "d..3.", 800000050, "sched_waking", "comm=kcompactd0 pid=40 prio=120 target_cpu=000"),
 ("kworker/0:1", 31, 31, 0, "d..2.", 800000060, "sched_switch", "prev_comm=kworker/0:1 prev_pid=31 prev_prio=120 prev_state=I ==> next_comm=kcompactd0 next_pid=40 next_prio=120"),
 vm.m(800001000, "kvm_set_irq", "gsi 10 level 1 source 0"),
 vm.m(800001001, "kvm_ioapic_set_irq", "pin 10 dst 0 vec 41 (Fixed|physical|level)", "...1."),
 vm.m(800001002, "kvm_apic_accept_irq", "apicid 0 vec 41 (Fixed|level)", "...1."),
 vm.m(800001003, "kvm_apicv_accept_irq", "apicid 0 vec 41 (Fixed|level)", "...1."),
 exit_(vm, 800001040, "EOI_INDUCED"),
 vm.v(800001041, "kvm_eoi", "apicid 0 vector 41"),
 entry(vm, 800001042),
])

# F. VMX, the LAPIC timer (TSC deadline) with lapic_timer_advance; guest TSC
#    at 2 GHz (kvmrt report --tsc-khz 2000000)
vm = VM("CPU 0/KVM", 9002, "qemu-system-x86", 9001, 9000)
def hr(f, ts, ev, text):
    return f(ts, ev, text, "d.h1.")
def timer_start(vm, ts):
    return vm.v(ts, "hrtimer_start", "hrtimer=00000000deadbeef function=apic_timer_fn expires=%d softexpires=%d mode=ABS|HARD was_armed=0" % (ts * 1000, ts * 1000), "d..1.")
def other0(ts, ev, text, flags="d.h1."): return ("stress-ng", 9500, 9500, 0, flags, ts, ev, text)
def halted_tick(vm, ts, delta, early):
    return [
     exit_(vm, ts, "MSR_WRITE"), timer_start(vm, ts + 1), entry(vm, ts + 2),
     exit_(vm, ts + 60, "HLT"), sw_out(vm, ts + 61, "S"),
     idle1(ts + 1000, "hrtimer_expire_entry", "hrtimer=00000000deadbeef function=apic_timer_fn now=%d" % ((ts + 1000) * 1000), "d.h1."),
     idle1(ts + 1001, "sched_waking", "comm=%s pid=%d prio=120 target_cpu=001" % (vm.V[0], vm.V[1]), "d.h3."),
     idle1(ts + 1002, "hrtimer_expire_exit", "hrtimer=00000000deadbeef", "d.h1."),
     sw_in_idle(vm, ts + 1010),
     vm.v(ts + 1012, "kvm_vcpu_wakeup", "wait time 900000 ns, polling valid"),
     vm.v(ts + 1013, "kvm_apic_accept_irq", "apicid 0 vec 236 (Fixed|edge)"),
     vm.v(ts + 1015, "kvm_inj_virq", "IRQ 0xec"),
     entry(vm, ts + 1016),
     vm.v(ts + 1017, "kvm_wait_lapic_expire", "vcpu 0: delta %d (%s)" % (delta, "early" if early else "late")),
     exit_(vm, ts + 1030, "MSR_WRITE"),
     vm.v(ts + 1031, "kvm_eoi", "apicid 0 vector 236"),
     entry(vm, ts + 1033)]
write("vmx-lapic-timer-advance.txt",
"""report-args --tsc-khz 2000000
VMX host, the guest's TSC-deadline LAPIC timer with lapic_timer_advance_ns
(arch/x86/kvm/lapic.c, vmx/vmx.c). Twice the guest halts and its timer
expires in a hard irq (apic_timer_fn: wakes the vCPU thread); the thread
injects it, and vmx_vcpu_run, after trace_kvm_entry, calls
kvm_wait_lapic_expire -> __kvm_wait_lapic_expire, whose event gives
guest_tsc - tsc_deadline in guest TSC cycles: -2000 (early: KVM busy-waits
1 us) then +6000 (3 us late). The third expiry posts the timer interrupt
(APICv with pi_inject_timer, the vCPU in guest mode: apic_timer_expired ->
kvm_use_posted_timer_interrupt -> __kvm_wait_lapic_expire, then
kvm_apic_inject_pending_timer_irqs: kvm_apic_accept_irq,
kvm_apicv_accept_irq), in the hard irq on CPU 0 over another task: +1000
(0.5 us late), matched to the vCPU by the expiring timer. It ends at the
guest's HLT exit (idle).""",
["9000.0 injections.timer=3 completed=3 ends.eoi=2 ends.idle=1 posted_in_guest=1 timer_late.count=2 timer_late.max_ns=3000 timer_early.count=1 timer_early.max_ns=1000"],
[entry(vm, 900000000)] + halted_tick(vm, 900000010, -2000, True) + halted_tick(vm, 900001100, 6000, False) + [
 exit_(vm, 900002200, "MSR_WRITE"), timer_start(vm, 900002201), entry(vm, 900002202),
 other0(900003000, "hrtimer_expire_entry", "hrtimer=00000000deadbeef function=apic_timer_fn now=%d" % (900003000 * 1000)),
 other0(900003001, "kvm_wait_lapic_expire", "vcpu 0: delta 1000 (late)"),
 other0(900003002, "kvm_apic_accept_irq", "apicid 0 vec 236 (Fixed|edge)"),
 other0(900003003, "kvm_apicv_accept_irq", "apicid 0 vec 236 (Fixed|edge)"),
 other0(900003004, "hrtimer_expire_exit", "hrtimer=00000000deadbeef"),
 exit_(vm, 900003050, "HLT"),
 sw_out(vm, 900003051, "S"),
])

# G. VMX + APICv, then the VMM inhibits it (PIT reinject)
vm = VM("CPU 0/KVM", 9102, "qemu-system-x86", 9101, 9100)
write("vmx-apicv-inhibit.txt",
"""VMX host with APICv. An MSI to the vCPU in guest mode is posted
(kvm_apicv_accept_irq) and ends at its HLT exit (idle). Then the VMM turns
on PIT reinjection (KVM_REINJECT_CONTROL): kvm_pit_set_reinject ->
kvm_set_apicv_inhibit(APICV_INHIBIT_REASON_PIT_REINJ) ->
__kvm_set_or_clear_apicv_inhibit emits kvm_apicv_inhibit_changed from the
VMM's thread (reason 9, inhibits 0x200 on this kernel's numbering). APICv
off for the VM: the next MSI is injected (vmx_inject_irq: kvm_inj_virq)
and its EOI exits (kvm_eoi). Then the reason is cleared again.""",
["9100.0 injections.msi=2 completed=2 posted_in_guest=1 ends.idle=1 ends.eoi=1 delivery.count=1 vm.apicv.changes=2 vm.apicv.inhibits="],
[entry(vm, 910000000)] + msi(vm, 910001000, 34) + [
 exit_(vm, 910003000, "HLT"),
 sw_out(vm, 910003002, "S"),
 vm.m(910004000, "kvm_apicv_inhibit_changed", "set reason=9, inhibits=0x200 PIT_REINJ"),
] + msi(vm, 910005000, 35, posted=False) + \
 woken_injected(vm, 910005003, 910005000, 2000000, 0x23) + [
 exit_(vm, 910005040, "MSR_WRITE"),
 vm.v(910005041, "kvm_eoi", "apicid 0 vector 35"),
 entry(vm, 910005043),
 vm.m(910006000, "kvm_apicv_inhibit_changed", "cleared reason=9, inhibits=0x0"),
])

# H. VMX, an interrupt whose delivery exits again and again, and one that
#    never reaches the guest within the recording
vm = VM("CPU 0/KVM", 9202, "qemu-system-x86", 9201, 9200)
def reinject(vm, ts, vec): return vm.v(ts, "kvm_inj_virq", "IRQ 0x%x [reinjected]" % vec)
write("vmx-ept-reinject.txt",
"""VMX host without APICv (5.19 on: kvm_inj_virq says [reinjected]). An MSI
to the vCPU in guest mode: kvm_vcpu_kick's IPI exits (EXTERNAL_INTERRUPT),
vmx_inject_irq injects it (kvm_inj_virq), and its delivery faults on a page
the guest's IDT or stack needs: an EPT_VIOLATION exit with the IDT-vectoring
information valid, so vmx_complete_interrupts -> __vmx_complete_interrupts
queues it again (kvm_queue_interrupt, reinjected) and the next entry's
vmx_inject_irq emits kvm_inj_virq with [reinjected]. Three times, then the
guest takes it and its EOI exits (APIC_ACCESS, kvm_eoi). Then a second MSI
kicks the vCPU out, and the recording ends before it is injected (nor
has that exit an entry after it: exits count at their entry, so it is not
in the exits).
Delivery 3 us (the first injection), response 80 us; re-injected 3 times,
56 us from its first injection to its last; at the end one pending, never
delivered (vector 35).""",
["9200.0 injections.msi=2 completed=1 delivery.count=1 delivery.max_ns=3000 response.max_ns=80000 exits.EPT_VIOLATION=3 exits.EXTERNAL_INTERRUPT=1 exits.APIC_ACCESS=1 outliers=1 recording.pending_at_end=1 recording.never_delivered_vectors=35 recording.ends_unmatched=0 recording.deliveries_unmatched=0 recording.reinjected.vector=34 recording.reinjected.count=3 recording.reinjected.span_ns=56000"],
[entry(vm, 920000000)] + msi(vm, 920001000, 34, posted=False) + [
 exit_(vm, 920001003, "EXTERNAL_INTERRUPT"),
 vm.v(920001004, "kvm_inj_virq", "IRQ 0x22"),
 entry(vm, 920001005),
 exit_(vm, 920001010, "EPT_VIOLATION"),
 reinject(vm, 920001020, 0x22),
 entry(vm, 920001021),
 exit_(vm, 920001030, "EPT_VIOLATION"),
 reinject(vm, 920001040, 0x22),
 entry(vm, 920001041),
 exit_(vm, 920001050, "EPT_VIOLATION"),
 reinject(vm, 920001060, 0x22),
 entry(vm, 920001061),
 exit_(vm, 920001080, "APIC_ACCESS"),
 vm.v(920001081, "kvm_eoi", "apicid 0 vector 34"),
 entry(vm, 920001082),
] + msi(vm, 920002000, 35, posted=False) + [
 exit_(vm, 920002003, "EXTERNAL_INTERRUPT"),
])

# I. VMX without APICv: the same vector accepted again while the guest
#    still handles it, then once more before that one is delivered
vm = VM("CPU 0/KVM", 9302, "qemu-system-x86", 9301, 9300)
write("vmx-accept-in-service.txt",
"""VMX host without APICv. An MSI (vector 34) to the vCPU in guest mode:
kvm_vcpu_kick's IPI exits (EXTERNAL_INTERRUPT), vmx_inject_irq injects it
(kvm_inj_virq). While the guest's handler runs, a second MSI of vector 34:
__apic_accept_irq sets its IRR bit, the kick exits, but
kvm_check_and_inject_events finds it blocked (apic_has_interrupt_for_ppr:
the vector in service holds the PPR at its priority class), so there is no
kvm_inj_virq before the entry. A third MSI of it finds the IRR bit set: it
is coalesced into the second (3.10's kvm_apic_accept_irq printed
"(coalesced)"). The guest's EOI (APIC_ACCESS exit -> apic_set_eoi: kvm_eoi)
ends the first; apic_update_ppr's KVM_REQ_EVENT makes the next entry inject
the second (kvm_inj_virq), whose EOI ends it.
Times from kvm_apic_accept_irq. First: delivery 3, handle 47, response
50 us. Second: delivery 32 (1021 -> 1053), handle 27, response 59 us.""",
["9300.0 injections.msi=3 completed=2 coalesced=1 response.count=2 response.max_ns=59000 delivery.count=2 delivery.max_ns=32000 stage.deliver.max_ns=32000 stage.handle.max_ns=47000 exits.EXTERNAL_INTERRUPT=3 exits.APIC_ACCESS=2 outliers=2 recording.ends_unmatched=0 recording.deliveries_unmatched=0 recording.pending_at_end=0"],
[entry(vm, 930000000)] + msi(vm, 930001000, 34, posted=False) + [
 exit_(vm, 930001003, "EXTERNAL_INTERRUPT"),
 vm.v(930001004, "kvm_inj_virq", "IRQ 0x22"),
 entry(vm, 930001005),
] + msi(vm, 930001020, 34, posted=False) + [
 exit_(vm, 930001023, "EXTERNAL_INTERRUPT"),
 entry(vm, 930001024),
] + msi(vm, 930001030, 34, posted=False) + [
 exit_(vm, 930001033, "EXTERNAL_INTERRUPT"),
 entry(vm, 930001034),
 exit_(vm, 930001050, "APIC_ACCESS"),
 vm.v(930001051, "kvm_eoi", "apicid 0 vector 34"),
 vm.v(930001053, "kvm_inj_virq", "IRQ 0x22"),
 entry(vm, 930001054),
 exit_(vm, 930001079, "APIC_ACCESS"),
 vm.v(930001080, "kvm_eoi", "apicid 0 vector 34"),
 entry(vm, 930001081),
])

# J. Three VMs, each one vCPU ticking on vector 236 (as Linux guests do),
#    one after another and side by side on shared CPUs
A = VM("fc_vcpu 0", 9402, "firecracker", 9401, 9400)
B = VM("fc_vcpu 0", 9502, "firecracker", 9501, 9500)
C = VM("fc_vcpu 0", 9602, "firecracker", 9601, 9600)
C.V = (C.V[0], C.V[1], C.V[2], 0) # C's vCPU runs on CPU 0
def lapic(vm, ts, ptr, ev, text="", flags="d.h1."):
    return vm.v(ts, ev, ("hrtimer=%s function=apic_timer_fn " % ptr) + text if ev != "hrtimer_expire_exit" else "hrtimer=%s" % ptr, flags)
def arm(vm, ts, ptr):
    return vm.v(ts, "hrtimer_start", "hrtimer=%s function=apic_timer_fn expires=%d softexpires=%d mode=ABS|HARD was_armed=0" % (ptr, (ts + 1000) * 1000, (ts + 1000) * 1000), "d..1.")
def expiry(over, ts, ptr):
    """ptr's expiry in a hard irq over the thread of vm over (apic_timer_fn:
    not posted, so lapic_timer.pending and a kick, nothing accepted there)"""
    return [lapic(over, ts, ptr, "hrtimer_expire_entry", "now=%d" % (ts * 1000)),
            lapic(over, ts + 1, ptr, "hrtimer_expire_exit")]
def own_tick(vm, ts, eoi_at):
    """its pending timer accepted in its own thread (vcpu_enter_guest ->
    kvm_inject_pending_timer_irqs -> kvm_apic_local_deliver), injected,
    entered; the guest's EOI (an MSR write: x2APIC) at eoi_at"""
    return [vm.v(ts, "kvm_apic_accept_irq", "apicid 0 vec 236 (Fixed|edge)"),
            vm.v(ts + 2, "kvm_inj_virq", "IRQ 0xec"), entry(vm, ts + 3),
            exit_(vm, eoi_at - 1, "MSR_WRITE"), vm.v(eoi_at, "kvm_eoi", "apicid 0 vector 236"),
            entry(vm, eoi_at + 1)]
def in_time_order(evs): return sorted(evs, key=lambda e: e[5])
write("vmx-timers-shared.txt",
"""VMX host, three VMs (a VMM like Firecracker's, one vCPU each) whose guests
tick on vector 236 with the LAPIC timer (arch/x86/kvm/lapic.c: start_sw_timer
arms apic->lapic_timer.timer in the vCPU thread; apic_timer_fn ->
apic_timer_expired sets lapic_timer.pending and kicks; the vCPU thread then
injects it, kvm_inject_apic_timer_irqs -> kvm_apic_local_deliver ->
__apic_accept_irq). VM 9400 ticks once and exits; VM 9500's kvm_lapic gets
the same address (the slab reuses it), so its timer is the same hrtimer
pointer: it is 9500's from the time 9500's thread arms it. 9500 and 9600
then share CPU 1: 9600's timer expires in a hard irq over 9500's thread just
after 9500's own, and 9500's thread accepts its own tick 30 us later, still
within that expiry's 100 us, but after its hrtimer_expire_exit: it is 9500's,
not 9600's.""",
["9400.0 tid=9402 injections.timer=1 completed=1 coalesced=0",
 "9500.0 tid=9502 injections.timer=2 completed=2 coalesced=0 recording.ends_unmatched=0",
 "9600.0 tid=9602 injections.timer=1 completed=1 coalesced=0 recording.ends_unmatched=0"],
[entry(A, 940000000), exit_(A, 940000010, "MSR_WRITE"), arm(A, 940000011, "00000000deadbeef"), entry(A, 940000012),
] + expiry(A, 940001011, "00000000deadbeef") + [exit_(A, 940001014, "EXTERNAL_INTERRUPT")] + own_tick(A, 940001016, 940001040) + [
 exit_(A, 940001100, "IO_INSTRUCTION"),
 entry(B, 940100000), exit_(B, 940100010, "MSR_WRITE"), arm(B, 940100011, "00000000deadbeef"), entry(B, 940100012),
 entry(C, 940100020), exit_(C, 940100030, "MSR_WRITE"), arm(C, 940100031, "00000000cafebabe"), entry(C, 940100032),
] + expiry(B, 940101011, "00000000deadbeef") + [exit_(B, 940101014, "EXTERNAL_INTERRUPT")] + own_tick(B, 940101016, 940101040) + \
 expiry(B, 940102011, "00000000deadbeef") + [exit_(B, 940102014, "EXTERNAL_INTERRUPT")] + \
 expiry(B, 940102020, "00000000cafebabe") + [C.v(940102025, "kvm_exit", "vcpu 0 reason EXTERNAL_INTERRUPT%s" % X)] + \
 in_time_order(own_tick(B, 940102050, 940102080) + own_tick(C, 940102030, 940102070)))
