/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KVMRT_RESTORE_H
#define KVMRT_RESTORE_H

/* Restore what a state file lists: every thread that still is the same
 * one (taskstate.h), then the shield's cpusets and IRQs (shield.h); report
 * the others; delete the file. A file that cannot be read whole: one line
 * on stderr, nothing restored, -errno. Else how many could not be
 * restored. */
int control_restore(const char *path, int verbose);

#endif
