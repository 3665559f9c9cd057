#!/usr/bin/env bash
# RAST main setting on math500: Qwen2.5-14B shifted by SimpleRL-Zoo 1.5B, 32 runs, then pass/majority evaluation.
# Every setting is an environment variable; see scripts/lib/launch.sh. DRY_RUN=1 only prints the commands.
# shellcheck source=lib/launch.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"
rast_launch math500 "$@"
