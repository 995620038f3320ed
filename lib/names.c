// SPDX-License-Identifier: GPL-2.0
/* From the VMX_EXIT_REASONS and SVM_EXIT_REASONS tables of the kernel's
 * uapi headers (arch/x86/include/uapi/asm/{vmx,svm}.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "names.h"
#include "kvmrt.h"
#include "episode.h"

static const char *const sources[SRC_NR] = {
	[SRC_OTHER] = "other", [SRC_MSI] = "msi",     [SRC_IOAPIC] = "ioapic",
	[SRC_PIC] = "pic",     [SRC_TIMER] = "timer", [SRC_IPI] = "ipi",
};

static const char *const stages[ST_NR] = {
	[ST_WAKE] = "wake", [ST_QUEUE] = "queue", [ST_DELIVER] = "deliver", [ST_HANDLE] = "handle",
};

#define TP_NAME(id, sys, name) [P_##id] = #name,
static const char *const tps[P_NR] = { KVMRT_TRACEPOINTS(TP_NAME) };
#undef TP_NAME
#define TP_SYSTEM(id, sys, name) [P_##id] = #sys,
static const char *const tp_systems[P_NR] = { KVMRT_TRACEPOINTS(TP_SYSTEM) };
#undef TP_SYSTEM

static const char *const ends[END_NR] = {
	[END_EOI] = "eoi", [END_PV_EOI] = "pv_eoi", [END_IDLE] = "idle",
	[END_HINT] = "hint", [END_STALE] = "stale",
};

const char *end_name(int end)
{
	return end >= 0 && end < END_NR ? ends[end] : "?";
}

const char *source_name(int src)
{
	return src >= 0 && src < SRC_NR ? sources[src] : "other";
}

const char *sched_policy_name(unsigned int p)
{
	static const char *const n[] = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
					 "?",		"SCHED_IDLE", "SCHED_DEADLINE" };

	return p < 7 ? n[p] : "?";
}

const char *stage_name(int st)
{
	return st >= 0 && st < ST_NR ? stages[st] : "?";
}

const char *prog_tp_system(int p)
{
	return p >= 0 && p < P_NR ? tp_systems[p] : "?";
}

const char *prog_tp_name(int p)
{
	return p >= 0 && p < P_NR ? tps[p] : "?";
}

struct reason {
	uint32_t code;
	const char *name;
};

static const struct reason vmx[] = {
	{ 0, "EXCEPTION_NMI" }, { 1, "EXTERNAL_INTERRUPT" }, { 2, "TRIPLE_FAULT" },
	{ 3, "INIT_SIGNAL" }, { 4, "SIPI_SIGNAL" }, { 7, "INTERRUPT_WINDOW" },
	{ 8, "NMI_WINDOW" }, { 9, "TASK_SWITCH" }, { 10, "CPUID" }, { 12, "HLT" },
	{ 13, "INVD" }, { 14, "INVLPG" }, { 15, "RDPMC" }, { 16, "RDTSC" },
	{ 18, "VMCALL" }, { 19, "VMCLEAR" }, { 20, "VMLAUNCH" }, { 21, "VMPTRLD" },
	{ 22, "VMPTRST" }, { 23, "VMREAD" }, { 24, "VMRESUME" }, { 25, "VMWRITE" },
	{ 26, "VMOFF" }, { 27, "VMON" }, { 28, "CR_ACCESS" }, { 29, "DR_ACCESS" },
	{ 30, "IO_INSTRUCTION" }, { 31, "MSR_READ" }, { 32, "MSR_WRITE" },
	{ 33, "INVALID_STATE" }, { 34, "MSR_LOAD_FAIL" }, { 36, "MWAIT_INSTRUCTION" },
	{ 37, "MONITOR_TRAP_FLAG" }, { 39, "MONITOR_INSTRUCTION" },
	{ 40, "PAUSE_INSTRUCTION" }, { 41, "MCE_DURING_VMENTRY" },
	{ 43, "TPR_BELOW_THRESHOLD" }, { 44, "APIC_ACCESS" }, { 45, "EOI_INDUCED" },
	{ 46, "GDTR_IDTR" }, { 47, "LDTR_TR" }, { 48, "EPT_VIOLATION" },
	{ 49, "EPT_MISCONFIG" }, { 50, "INVEPT" }, { 51, "RDTSCP" },
	{ 52, "PREEMPTION_TIMER" }, { 53, "INVVPID" }, { 54, "WBINVD" }, { 55, "XSETBV" },
	{ 56, "APIC_WRITE" }, { 57, "RDRAND" }, { 58, "INVPCID" }, { 59, "VMFUNC" },
	{ 60, "ENCLS" }, { 61, "RDSEED" }, { 62, "PML_FULL" }, { 63, "XSAVES" },
	{ 64, "XRSTORS" }, { 67, "UMWAIT" }, { 68, "TPAUSE" }, { 74, "BUS_LOCK" },
	{ 75, "NOTIFY" },
};

static const struct reason svm[] = {
	{ 0x000, "read_cr0" }, { 0x003, "read_cr3" }, { 0x004, "read_cr4" },
	{ 0x008, "read_cr8" }, { 0x010, "write_cr0" }, { 0x013, "write_cr3" },
	{ 0x014, "write_cr4" }, { 0x018, "write_cr8" }, { 0x040, "excp_de" },
	{ 0x041, "excp_db" }, { 0x043, "excp_bp" }, { 0x046, "excp_ud" },
	{ 0x04e, "excp_pf" }, { 0x052, "excp_mc" }, { 0x060, "intr" }, { 0x061, "nmi" },
	{ 0x062, "smi" }, { 0x063, "init" }, { 0x064, "vintr" }, { 0x065, "cr0_sel_write" },
	{ 0x072, "cpuid" }, { 0x074, "iret" }, { 0x077, "pause" }, { 0x078, "hlt" },
	{ 0x079, "invlpg" }, { 0x07a, "invlpga" }, { 0x07b, "io" }, { 0x07c, "msr" },
	{ 0x07d, "task_switch" }, { 0x07f, "shutdown" }, { 0x080, "vmrun" },
	{ 0x081, "vmmcall" }, { 0x082, "vmload" }, { 0x083, "vmsave" }, { 0x084, "stgi" },
	{ 0x085, "clgi" }, { 0x086, "skinit" }, { 0x087, "rdtscp" }, { 0x089, "wbinvd" },
	{ 0x08a, "monitor" }, { 0x08b, "mwait" }, { 0x08d, "xsetbv" }, { 0x08e, "rdpru" },
	{ 0x08f, "write_efer_trap" }, { 0x0a5, "bus_lock" }, { 0x0a6, "idle_hlt" },
	{ 0x400, "npf" }, { 0x401, "avic_incomplete_ipi" }, { 0x402, "avic_unaccelerated_access" },
	{ 0x403, "vmgexit" },
};

/* How the kernel's SVM_EXIT_REASONS prints the codes whose names above are
 * ours (kvm_exit in tracefs text and trace-cmd recordings). */
static const struct reason svm_printed[] = {
	{ 0x060, "interrupt" }, { 0x06e, "rdtsc" },	  { 0x06f, "rdpmc" },
	{ 0x070, "pushf" },	{ 0x071, "popf" },	  { 0x073, "rsm" },
	{ 0x075, "swint" },	{ 0x076, "invd" },	  { 0x07e, "ferr_freeze" },
	{ 0x081, "hypercall" }, { 0x040, "DE excp" },	  { 0x041, "DB excp" },
	{ 0x043, "BP excp" },	{ 0x046, "UD excp" },	  { 0x047, "NM excp" },
	{ 0x04e, "PF excp" },	{ 0x051, "AC excp" },	  { 0x052, "MC excp" },
};

static const char *lookup(const struct reason *t, size_t n, uint32_t code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

const char *exit_reason_name(uint32_t isa, uint32_t reason)
{
	if (isa == ISA_VMX)
		return lookup(vmx, sizeof(vmx) / sizeof(vmx[0]), reason);
	if (isa == ISA_SVM)
		return lookup(svm, sizeof(svm) / sizeof(svm[0]), reason);
	return NULL;
}

const char *exit_reason_label(uint32_t isa, uint32_t reason, char *buf, size_t len)
{
	const char *n = exit_reason_name(isa, reason);

	if (n)
		return n;
	snprintf(buf, len, "%s_%u", isa == ISA_SVM ? "svm" : isa == ISA_VMX ? "vmx" : "exit", reason);
	return buf;
}

static int by_name(const struct reason *t, size_t n, const char *name, uint32_t *code)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(t[i].name, name)) {
			*code = t[i].code;
			return 1;
		}
	}
	return 0;
}

int exit_reason_by_name(const char *name, uint32_t *isa, uint32_t *reason)
{
	if (by_name(vmx, sizeof(vmx) / sizeof(vmx[0]), name, reason)) {
		*isa = ISA_VMX;
		return 1;
	}
	if (by_name(svm, sizeof(svm) / sizeof(svm[0]), name, reason) ||
	    by_name(svm_printed, sizeof(svm_printed) / sizeof(svm_printed[0]), name, reason)) {
		*isa = ISA_SVM;
		return 1;
	}
	return 0;
}
