/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KVMRT_OUTFILE_H
#define KVMRT_OUTFILE_H

/* An output file named on the command line can be written: checked before
 * the work starts, so that a run is not lost at its end (nothing is left
 * behind if it did not exist). 0, or -errno with one line printed
 * ("what path: why"). kvmrt's commands and kvmrt-guest use it. */
int output_check(const char *what, const char *path);

#endif
