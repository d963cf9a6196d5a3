#!/usr/bin/env bash
# Set up, then run a study: the embedded default with no arguments, else 'nasbench run ARGS'.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
exec .venv/bin/nasbench run "$@"
