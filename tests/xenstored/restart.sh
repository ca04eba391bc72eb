#!/bin/bash
# Restart without loss (restarttest.c runs and restarts the daemon itself).
. "$(dirname "$0")/lib.sh"
"$2" "$1" || { echo "FAIL: restart test"; exit 1; }
