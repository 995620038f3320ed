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

#define TP_NAME(id, sys, name) [A_##id] = #name,
static const char *const atps[A_NR] = { KVMRT_ANALYSIS_TRACEPOINTS(TP_NAME) };
#undef TP_NAME
#define TP_SYSTEM(id, sys, name) [A_##id] = #sys,
static const char *const atp_systems[A_NR] = { KVMRT_ANALYSIS_TRACEPOINTS(TP_SYSTEM) };
#undef TP_SYSTEM
#define VEC_NAME(v, X) #v,
static const char *const vectors[] = { KVMRT_VECTORS(VEC_NAME, _) };
#undef VEC_NAME

const char *aprog_tp_name(int a)
{
	return a >= 0 && a < A_NR ? atps[a] : "?";
}

const char *aprog_tp_system(int a)
{
	return a >= 0 && a < A_NR ? atp_systems[a] : "?";
}

const char *vector_name(int i)
{
	return i >= 0 && i < KVMRT_NVECTORS ? vectors[i] : NULL;
}

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

/* Names other renderings of kvm_exit print (recordings only):
 * - 2.6.3x kernels' VMX names, lower case (vmx.c's vmx_exit_reasons_str),
 *   and libtraceevent's kvm plugin's one VMX name of its own
 *   (plugins/plugin_kvm.c, as trace-cmd report and perf script print);
 * - that plugin's SVM names, EXIT_<NAME> (its SVM_EXIT_REASONS). */
static const struct reason vmx_other[] = {
	{ 0, "exception" }, { 1, "ext_irq" }, { 2, "triple_fault" }, { 7, "interrupt_window" },
	{ 8, "nmi_window" }, { 9, "task_switch" }, { 10, "cpuid" }, { 12, "halt" },
	{ 14, "invlpg" }, { 18, "hypercall" }, { 28, "cr_access" }, { 29, "dr_access" },
	{ 30, "io_instruction" }, { 31, "rdmsr" }, { 32, "wrmsr" }, { 43, "tpr_below_thres" },
	{ 44, "apic_access" }, { 48, "ept_violation" }, { 54, "wbinvd" },
	{ 7, "PENDING_INTERRUPT" },
};

static const struct reason svm_plugin[] = {
	{ 0x000, "EXIT_READ_CR0" }, { 0x003, "EXIT_READ_CR3" }, { 0x004, "EXIT_READ_CR4" },
	{ 0x008, "EXIT_READ_CR8" }, { 0x010, "EXIT_WRITE_CR0" }, { 0x013, "EXIT_WRITE_CR3" },
	{ 0x014, "EXIT_WRITE_CR4" }, { 0x018, "EXIT_WRITE_CR8" }, { 0x020, "EXIT_READ_DR0" },
	{ 0x021, "EXIT_READ_DR1" }, { 0x022, "EXIT_READ_DR2" }, { 0x023, "EXIT_READ_DR3" },
	{ 0x024, "EXIT_READ_DR4" }, { 0x025, "EXIT_READ_DR5" }, { 0x026, "EXIT_READ_DR6" },
	{ 0x027, "EXIT_READ_DR7" }, { 0x030, "EXIT_WRITE_DR0" }, { 0x031, "EXIT_WRITE_DR1" },
	{ 0x032, "EXIT_WRITE_DR2" }, { 0x033, "EXIT_WRITE_DR3" }, { 0x034, "EXIT_WRITE_DR4" },
	{ 0x035, "EXIT_WRITE_DR5" }, { 0x036, "EXIT_WRITE_DR6" }, { 0x037, "EXIT_WRITE_DR7" },
	{ 0x040, "EXIT_EXCP_DE" }, { 0x041, "EXIT_EXCP_DB" }, { 0x043, "EXIT_EXCP_BP" },
	{ 0x044, "EXIT_EXCP_OF" }, { 0x045, "EXIT_EXCP_BR" }, { 0x046, "EXIT_EXCP_UD" },
	{ 0x047, "EXIT_EXCP_NM" }, { 0x048, "EXIT_EXCP_DF" }, { 0x04a, "EXIT_EXCP_TS" },
	{ 0x04b, "EXIT_EXCP_NP" }, { 0x04c, "EXIT_EXCP_SS" }, { 0x04d, "EXIT_EXCP_GP" },
	{ 0x04e, "EXIT_EXCP_PF" }, { 0x050, "EXIT_EXCP_MF" }, { 0x051, "EXIT_EXCP_AC" },
	{ 0x052, "EXIT_EXCP_MC" }, { 0x053, "EXIT_EXCP_XF" }, { 0x060, "EXIT_INTR" },
	{ 0x061, "EXIT_NMI" }, { 0x062, "EXIT_SMI" }, { 0x063, "EXIT_INIT" },
	{ 0x064, "EXIT_VINTR" }, { 0x065, "EXIT_CR0_SEL_WRITE" }, { 0x066, "EXIT_IDTR_READ" },
	{ 0x067, "EXIT_GDTR_READ" }, { 0x068, "EXIT_LDTR_READ" }, { 0x069, "EXIT_TR_READ" },
	{ 0x06a, "EXIT_IDTR_WRITE" }, { 0x06b, "EXIT_GDTR_WRITE" }, { 0x06c, "EXIT_LDTR_WRITE" },
	{ 0x06d, "EXIT_TR_WRITE" }, { 0x06e, "EXIT_RDTSC" }, { 0x06f, "EXIT_RDPMC" },
	{ 0x070, "EXIT_PUSHF" }, { 0x071, "EXIT_POPF" }, { 0x072, "EXIT_CPUID" },
	{ 0x073, "EXIT_RSM" }, { 0x074, "EXIT_IRET" }, { 0x075, "EXIT_SWINT" },
	{ 0x076, "EXIT_INVD" }, { 0x077, "EXIT_PAUSE" }, { 0x078, "EXIT_HLT" },
	{ 0x079, "EXIT_INVLPG" }, { 0x07a, "EXIT_INVLPGA" }, { 0x07b, "EXIT_IOIO" },
	{ 0x07c, "EXIT_MSR" }, { 0x07d, "EXIT_TASK_SWITCH" }, { 0x07e, "EXIT_FERR_FREEZE" },
	{ 0x07f, "EXIT_SHUTDOWN" }, { 0x080, "EXIT_VMRUN" }, { 0x081, "EXIT_VMMCALL" },
	{ 0x082, "EXIT_VMLOAD" }, { 0x083, "EXIT_VMSAVE" }, { 0x084, "EXIT_STGI" },
	{ 0x085, "EXIT_CLGI" }, { 0x086, "EXIT_SKINIT" }, { 0x087, "EXIT_RDTSCP" },
	{ 0x088, "EXIT_ICEBP" }, { 0x089, "EXIT_WBINVD" }, { 0x08a, "EXIT_MONITOR" },
	{ 0x08b, "EXIT_MWAIT" }, { 0x08c, "EXIT_MWAIT_COND" }, { 0x08d, "EXIT_XSETBV" },
	{ 0x400, "EXIT_NPF" }, { 0x401, "EXIT_AVIC_INCOMPLETE_IPI" },
	{ 0x402, "EXIT_AVIC_UNACCELERATED_ACCESS" },
};

#define N(t) (sizeof(t) / sizeof((t)[0]))

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

static int vmx_by_name(const char *name, uint32_t *code)
{
	return by_name(vmx, N(vmx), name, code) || by_name(vmx_other, N(vmx_other), name, code);
}

static int svm_by_name(const char *name, uint32_t *code)
{
	return by_name(svm, N(svm), name, code) || by_name(svm_printed, N(svm_printed), name, code) ||
	       by_name(svm_plugin, N(svm_plugin), name, code);
}

int exit_reason_by_name(const char *name, uint32_t want_isa, uint32_t *isa, uint32_t *reason)
{
	uint32_t v, s;
	int is_vmx, is_svm;

	/* the kernel's VMX names (upper case) are no SVM name: the common
	 * case, one table */
	if (by_name(vmx, N(vmx), name, reason)) {
		*isa = ISA_VMX;
		return 1;
	}
	is_vmx = vmx_by_name(name, &v);
	is_svm = svm_by_name(name, &s);

	if (!is_vmx && !is_svm)
		return 0;
	/* a name of both (cpuid, invlpg, ...: 2.6's VMX names are SVM's
	 * too): the ISA the recording showed, else VMX */
	if (is_vmx && (!is_svm || want_isa != ISA_SVM)) {
		*isa = ISA_VMX;
		*reason = v;
	} else {
		*isa = ISA_SVM;
		*reason = s;
	}
	return is_vmx && is_svm ? 2 : 1;
}
