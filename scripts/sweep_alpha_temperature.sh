#!/usr/bin/env bash
# Sweep of the RAST strength alpha and the temperature, main-setting models. Usage: sweep_alpha_temperature.sh BENCHMARK
# ALPHAS (default "0.25 0.5 0.75 1.0 1.5 2.0") go to one run.py call per temperature in TEMPERATURES
# (default "0.6 1.0"). Other settings: see scripts/lib/launch.sh. DRY_RUN=1 only prints the commands.
# shellcheck source=lib/launch.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"
rast_sweep "$@"
