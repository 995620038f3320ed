#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every fuzz target briefly (FUZZ_SECONDS, 15 s each by default), from its
# seeds and what earlier runs kept: `make fuzz` runs them for 10 minutes.
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/fuzz/run.sh "${FUZZ_SECONDS:-15}" $(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
