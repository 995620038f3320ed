/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each tracepoint handler does once it has read its scalars: find the
 * vCPU, learn threads, run the episode state machine (episode.h), blame,
 * histograms, outlier and control records. Compiled into the BPF programs
 * (bpf/kvmrt.bpf.c: CO-RE reads and maps) and into the agent (agent/collect/store.c:
 * hash tables fed from a recording by kvmrt report, and the unit tests).
 * One latency model, two drivers, the same code event by event.
 *
 * The includer defines `struct kvs` and implements include/kvs.h (the
 * event's context, the storage, the configuration) before including it.
 */
#ifndef KVMRT_HANDLERS_H
#define KVMRT_HANDLERS_H

/* A function the BPF object keeps as a subprogram of its own rather than
 * inlined at each call: end_slot, whose body (histograms, stages, control
 * and outlier records) the loops over episode slots would otherwise
 * repeat, multiplying the verifier's states and so the time every command
 * takes to load (bench/load_time.c, bench/results/2026-12-07.md). */
#define KVMRT_SUBPROG __attribute__((noinline))

#include "episode.h"
#include "kvs.h"

#include "handlers/vcpu.h"
#include "handlers/control.h"
#include "handlers/end.h"
#include "handlers/inject.h"
#include "handlers/sched.h"
#include "handlers/deliver.h"
#include "handlers/exits.h"
#include "handlers/eoi.h"

#endif /* KVMRT_HANDLERS_H */
