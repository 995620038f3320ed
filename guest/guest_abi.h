/* SPDX-License-Identifier: GPL-2.0 */
/* What kvmrt-guest's VMM and its guest agree on. #defines only: the guest
 * assembly includes it too. */
#ifndef KVMRT_GUEST_ABI_H
#define KVMRT_GUEST_ABI_H

/* I/O ports (clear of QEMU's fw_cfg at 0x510 and the usual PC devices) */
#define GUEST_PORT_CFG 0x7c0	/* in: magic, flags, timer count, work loops */
#define GUEST_PORT_ACK 0x7c1	/* out: handler done (after end of interrupt); 32 bits from
				 * the APIC handler: the timer count at its entry */
#define GUEST_PORT_HINT 0x7c2	/* out: 1 busy, 0 idle (with GF_HINT) */
#define GUEST_PORT_READY 0x7c3	/* out: set up, interrupts may come */
#define GUEST_PORT_MARK 0x7c4	/* out (with GF_MARK): 0 handler entered, 1 about to end
				 * the interrupt */

#define GUEST_CFG_MAGIC 0x5452564b /* "KVRT" */

/* flags */
#define GF_BUSY 0x01	/* idle in a busy loop instead of hlt */
#define GF_TIMER 0x02	/* LAPIC periodic timer tick */
#define GF_PIT 0x04	/* PIT tick through the PIC (IRQ0) */
#define GF_PIC 0x08	/* unmask PIC IRQ GUEST_PIC_IRQ for KVM_IRQ_LINE */
#define GF_X2APIC 0x10	/* enable x2APIC (MSI, LAPIC timer) */
#define GF_HINT 0x20	/* busy/idle hints on GUEST_PORT_HINT around each handler */
#define GF_MARK 0x40	/* GUEST_PORT_MARK at handler entry and just before its EOI */

#define GUEST_VEC_PIC_BASE 0x20
#define GUEST_PIC_IRQ 3
#define GUEST_VEC_TIMER 0x30
#define GUEST_VEC_MSI 0x40

/* guest RAM holding the configuration */
#define FLAGS_ADDR 0x600
#define TIMER_ADDR 0x604
#define WORK_ADDR 0x608
#define TMCCT_ADDR 0x60c	/* LAPIC timer count at handler entry (GF_TIMER) */

#define PIT_HZ 1000
#define PIT_DIVISOR 1193	/* 1193182 Hz / 1000 */

/* built-in defaults, for QEMU (no config port): a 1 kHz tick */
#ifndef DEFAULT_FLAGS
#define DEFAULT_FLAGS GF_PIT
#endif
#define DEFAULT_TIMER_COUNT 1000000 /* 1 ms at KVM's 1 GHz APIC bus */

#endif
