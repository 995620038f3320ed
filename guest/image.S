/* SPDX-License-Identifier: GPL-2.0 */
/* The guest firmware image, linked into kvmrt-guest. */
	.section .rodata
	.balign 16
	.globl rtguest_image, rtguest_image_end
rtguest_image:
	.incbin "rtguest.bin"
rtguest_image_end:
	.section .note.GNU-stack, "", @progbits
