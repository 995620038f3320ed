// SPDX-License-Identifier: GPL-2.0
#include "log.h"

int log_level = LOG_WARN;
const char *log_prefix = "kvmrt";
