/* SPDX-License-Identifier: GPL-2.0 */
/* Names for the enums of kvmrt.h, and of VM exit reasons. Output and
 * metric labels use these; keep them stable. */
#ifndef KVMRT_NAMES_H
#define KVMRT_NAMES_H

#include <stddef.h>
#include <stdint.h>

const char *source_name(int src);  /* enum kvmrt_source */
const char *stage_name(int st);    /* enum ep_stage */
const char *prog_tp_name(int p);
const char *aprog_tp_name(int a);   /* enum kvmrt_aprog (-a's): the tracepoint */
const char *aprog_tp_system(int a);
/* The i-th x86 vector of KVMRT_VECTORS ("local_timer"), NULL past them */
const char *vector_name(int i);   /* enum kvmrt_prog: the tracepoint */
const char *prog_tp_system(int p); /* its system: kvm, sched, timer */
const char *end_name(int end);     /* enum kvmrt_end */
const char *sched_policy_name(unsigned int policy); /* SCHED_OTHER, ... */
/* isa: enum kvmrt_isa. Returns NULL for a reason without a name. */
const char *exit_reason_name(uint32_t isa, uint32_t reason);
/* Its name, else "vmx_N", "svm_N" or "exit_N" in buf: the one label of an
 * exit reason in text, JSON, top and metrics. */
const char *exit_reason_label(uint32_t isa, uint32_t reason, char *buf, size_t len);
/* The reverse, for every name a recording may print (the kernel's, old
 * kernels', libtraceevent's kvm plugin's): the isa and reason, and 1, or 2
 * for a name of both ISAs (then want_isa's, if it is one, else VMX's);
 * 0 for a name of neither. */
int exit_reason_by_name(const char *name, uint32_t want_isa, uint32_t *isa, uint32_t *reason);

#endif
