#!/usr/bin/env bash
# Creates .venv (once) and installs nasbench with its dependencies into it.
#
# torch is installed first, as torch==2.13.0 from the configured package index (this project's
# machines serve a CPU-only build of it there), so that nasbench's own 'torch>=2.1' requirement
# is already met and never pulls a multi-GB CUDA build. Without such an index, PyPI's Linux
# torch wheel is the CUDA one; to get the CPU build, either set TORCH_INDEX_URL before running
# this script:
#     TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu scripts/setup-env.sh
# or install it yourself first (any torch >= 2.1 already in .venv is kept):
#     .venv/bin/python -m pip install torch --index-url https://download.pytorch.org/whl/cpu
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.nasbench-installed
want=$(cat pyproject.toml scripts/setup-env.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
    .venv/bin/python -m pip install -q "torch==2.13.0" \
      ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
  fi
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi
