#!/usr/bin/env bash
# Set up, then run the test suite. Reference data is read from $NASBENCH_DATA, by default the
# ../shared/data directory beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
if [ -z "${NASBENCH_DATA:-}" ] && [ -d ../shared/data ]; then
  NASBENCH_DATA=$(cd ../shared/data && pwd)
fi
export NASBENCH_DATA
exec .venv/bin/python -m pytest -q "$@"
