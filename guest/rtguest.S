/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The real-time guest: a 64 KiB real-mode firmware image, the smallest
 * thing that behaves like an RTOS toward its interrupts. It is run by
 * kvmrt-guest (which configures it through an I/O port) and boots as-is
 * under unmodified QEMU with -bios (no config port there: built-in
 * defaults, a 1 kHz tick from the PIT or the LAPIC timer).
 *
 * Real mode keeps it tiny (this host emulates every guest instruction):
 * the IVT needs no descriptor tables, and x2APIC is reached through MSRs.
 *
 * Each handler does "work" (a counted loop), ends the interrupt at the
 * interrupt controller, then writes the ack port: the VMM timestamps that
 * exit, so its latency always includes the end of interrupt that kvmrt
 * sees, plus the exit to userspace.
 */
#include "guest_abi.h"

	.code16
	.section .text
	.globl _start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7000, %sp

	/* every vector first points at a bare iret */
	xorw	%di, %di
	movw	$256, %cx
1:	movw	$iret_stub, %ax
	stosw
	movw	$0xf000, %ax
	stosw
	loop	1b

	/* configuration: from the VMM if there is one, else the defaults */
	movl	$DEFAULT_FLAGS, FLAGS_ADDR
	movl	$DEFAULT_TIMER_COUNT, TIMER_ADDR
	movl	$0, WORK_ADDR
	movw	$GUEST_PORT_CFG, %dx
	inl	%dx, %eax
	cmpl	$GUEST_CFG_MAGIC, %eax
	jne	2f
	inl	%dx, %eax
	movl	%eax, FLAGS_ADDR
	inl	%dx, %eax
	movl	%eax, TIMER_ADDR
	inl	%dx, %eax
	movl	%eax, WORK_ADDR
2:
	/* handlers */
	movw	$apic_isr, (GUEST_VEC_TIMER * 4)
	movw	$apic_isr, (GUEST_VEC_MSI * 4)
	movw	$pic_isr, (GUEST_VEC_PIC_BASE * 4)
	movw	$pic_isr, ((GUEST_VEC_PIC_BASE + GUEST_PIC_IRQ) * 4)

	movl	$0x1b, %ecx			/* IA32_APIC_BASE */
	rdmsr
	testl	$GF_X2APIC, FLAGS_ADDR
	jnz	3f
	/* no LAPIC wanted: disable it, so the PIC drives INTR directly (a
	 * software-disabled LAPIC would mask LINT0, QEMU's reset state) */
	andl	$~0x800, %eax
	wrmsr
	jmp	9f
3:	/* x2APIC on (EN | EXTD), software-enabled, LINT0 = ExtINT for the PIC */
	orl	$0xc00, %eax
	wrmsr
	xorl	%edx, %edx
	movl	$0x80f, %ecx
	movl	$0x1ff, %eax
	wrmsr
	movl	$0x835, %ecx
	movl	$0x700, %eax
	wrmsr
9:
	/* the 8259 pair: vectors 0x20 and 0x28, everything masked */
	movb	$0x11, %al
	outb	%al, $0x20
	outb	%al, $0xa0
	movb	$GUEST_VEC_PIC_BASE, %al
	outb	%al, $0x21
	movb	$(GUEST_VEC_PIC_BASE + 8), %al
	outb	%al, $0xa1
	movb	$0x04, %al
	outb	%al, $0x21
	movb	$0x02, %al
	outb	%al, $0xa1
	movb	$0x01, %al
	outb	%al, $0x21
	outb	%al, $0xa1
	movb	$0xff, %al
	outb	%al, $0xa1
	movb	$0xff, %bl
	testl	$GF_PIT, FLAGS_ADDR
	jz	4f
	andb	$0xfe, %bl		/* IRQ0: the PIT */
4:	testl	$GF_PIC, FLAGS_ADDR
	jz	5f
	andb	$~(1 << GUEST_PIC_IRQ), %bl
5:	movb	%bl, %al
	outb	%al, $0x21

	testl	$GF_PIT, FLAGS_ADDR
	jz	6f
	/* PIT channel 0, rate generator, 1193182 Hz / 1193 = 1 kHz */
	movb	$0x34, %al
	outb	%al, $0x43
	movw	$PIT_DIVISOR, %ax
	outb	%al, $0x40
	movb	%ah, %al
	outb	%al, $0x40
6:
	testl	$GF_TIMER, FLAGS_ADDR
	jz	7f
	/* LAPIC timer: periodic, divide by 1 (KVM's APIC bus: 1 ns) */
	movl	$0x83e, %ecx
	movl	$0xb, %eax
	xorl	%edx, %edx
	wrmsr
	movl	$0x832, %ecx
	movl	$(GUEST_VEC_TIMER | (1 << 17)), %eax
	wrmsr
	movl	$0x838, %ecx
	movl	TIMER_ADDR, %eax
	wrmsr
7:
	/* ready: the VMM starts injecting (and starts the timer's clock) */
	movw	$GUEST_PORT_READY, %dx
	movb	$1, %al
	outb	%al, %dx

	testl	$GF_BUSY, FLAGS_ADDR
	jnz	busy_idle
hlt_idle:
	sti
	hlt
	jmp	hlt_idle
busy_idle:
	/* how VxWorks idles: spin with interrupts on */
	sti
8:	jmp	8b

/* With GF_MARK the VMM sees an exit when a handler starts (0) and just
 * before its end of interrupt (1), so a tracer's EOI time can be placed
 * against the VMM's clock (kvmrt-guest --timeline). Inline: two emulated
 * instructions when off, where a call would cost six. */
.macro MARK what
	testl	$GF_MARK, FLAGS_ADDR
	jz	.Lno_mark\@
	movb	$\what, %al
	movw	$GUEST_PORT_MARK, %dx
	outb	%al, %dx
.Lno_mark\@:
.endm

/* The study's RTOS told the host when it had real-time work: busy (1)
 * when a handler starts, idle (0) when it is done. Only with GF_HINT. */
hint_busy:
	movb	$1, %al
	jmp	1f
hint_idle:
	movb	$0, %al
1:	testl	$GF_HINT, FLAGS_ADDR
	jz	2f
	movw	$GUEST_PORT_HINT, %dx
	outb	%al, %dx
2:	ret

work:
	movl	WORK_ADDR, %ecx
	testl	%ecx, %ecx
	jz	2f
1:	decl	%ecx
	jnz	1b
2:	ret

apic_isr:
	pushal
	MARK 0
	/* the LAPIC timer's current count says how long ago the tick was due
	 * (KVM's own clock): reported with the ack, for the VMM's timing */
	testl	$GF_TIMER, FLAGS_ADDR
	jz	1f
	movl	$0x839, %ecx
	rdmsr
	movl	%eax, TMCCT_ADDR
1:	call	hint_busy
	call	work
	MARK 1
	movl	$0x80b, %ecx		/* x2APIC EOI */
	xorl	%eax, %eax
	xorl	%edx, %edx
	wrmsr
	call	hint_idle
	movw	$GUEST_PORT_ACK, %dx
	movl	TMCCT_ADDR, %eax
	outl	%eax, %dx
	popal
	iret

pic_isr:
	pushal
	MARK 0
	call	hint_busy
	call	work
	MARK 1
	movb	$0x20, %al		/* non-specific EOI to the master */
	outb	%al, $0x20
	call	hint_idle
	movw	$GUEST_PORT_ACK, %dx
	movb	$2, %al
	outb	%al, %dx
	popal
iret_stub:
	iret

	/* reset vector at F000:FFF0 */
	.section .reset, "ax"
	ljmp	$0xf000, $_start
	.balign	16, 0xf4
