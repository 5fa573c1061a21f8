#!/usr/bin/env bash
# The GPU check of #21 item 4, unattended, from a clean checkout:
#
#     python -m pip install -e '.[dev]'
#     bench/gpu_check.sh            # extra arguments go to bench/gpu_check.py
#
# Builds the compiled ops (runtime/models/ops, ninja + nvcc), checks them and the generator against
# the reference path, measures synthesis, edits, e4e, optimization, mapper training and peak memory,
# and prints one table (bench/gpu_check.py says what each row is). Exit status: 0 passed,
# 1 numeric mismatch, 2 no CUDA device (nothing measured), 3 the ops did not build,
# 124 it ran past its 8 minutes. Nothing is downloaded.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python}"
if ! "$PYTHON" -c "import styleclip_runtime" 2>/dev/null; then
    echo "gpu_check: styleclip-dsl is not installed; run: $PYTHON -m pip install -e '.[dev]'" >&2
    exit 2
fi
if ! "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: no CUDA device here (torch.cuda.is_available() is False): nothing measured." >&2
    echo "gpu_check: the CPU smoke run is: $PYTHON bench/gpu_check.py --device cpu --quick" >&2
    exit 2
fi

# ninja comes with the pip dependencies (next to the interpreter); nvcc from the system or from
# pip's nvidia-cuda-nvcc wheel, when CUDA_HOME does not say where it is
export PATH="$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')"):$PATH"
if [ -z "${CUDA_HOME:-}" ] && ! command -v nvcc >/dev/null; then
    for candidate in /usr/local/cuda \
        "$("$PYTHON" -c 'import nvidia.cuda_nvcc as m; print(list(m.__path__)[0])' 2>/dev/null)"; do
        if [ -n "$candidate" ] && [ -x "$candidate/bin/nvcc" ]; then
            export CUDA_HOME="$candidate"
            break
        fi
    done
fi
# build the kernels for this GPU only (a build for every architecture takes minutes)
if [ -z "${TORCH_CUDA_ARCH_LIST:-}" ]; then
    TORCH_CUDA_ARCH_LIST="$("$PYTHON" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')"
    export TORCH_CUDA_ARCH_LIST
fi
echo "gpu_check: nvcc $(command -v nvcc || echo "${CUDA_HOME:-none}/bin/nvcc"), arch ${TORCH_CUDA_ARCH_LIST}" >&2

timeout 480 "$PYTHON" bench/gpu_check.py "$@"
status=$?
if [ "$status" -eq 124 ]; then
    echo "gpu_check: stopped after 8 minutes" >&2
fi
exit "$status"
