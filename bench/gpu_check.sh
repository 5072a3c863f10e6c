#!/usr/bin/env bash
# The GPU check: run on a machine with an NVIDIA GPU (see bench/gpu_check.py).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv /tmp/gpu-venv
/tmp/gpu-venv/bin/pip install -q -e '.[save]' cupy-cuda12x torch threadpoolctl
/tmp/gpu-venv/bin/python bench/gpu_check.py
