#!/usr/bin/env bash
# Install mmkd and its tested stack into the current Python (CPU machines).
#
#   bash tools/install.sh          # torch, mmcv (CPU ops), mmengine, mmdet, mmpretrain, mmkd
#   bash tools/install.sh --dev    # ... plus the test tools
#
# mmcv 2.1.0 has no wheel for torch 2.14, so its CPU ops are compiled from the sdist
# once (~15 min on 2 cores); the wheel is cached in $MMKD_CACHE (default ~/.cache/mmkd)
# and later runs install it in seconds. Every step is skipped when already satisfied.
# GPU users: install torch and an official mmcv wheel for their CUDA instead
# (`mim install "mmcv==2.1.0"`), then `pip install -e .`.
set -euo pipefail

TORCH=2.14.1
TORCHVISION=0.29.1
MMCV=2.1.0
MMENGINE=0.10.7
MMDET=3.3.0
MMPRETRAIN=1.2.0

PY=${PYTHON:-python3}
CACHE=${MMKD_CACHE:-$HOME/.cache/mmkd}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PIP=("$PY" -m pip install --disable-pip-version-check -q)

log() { echo "[mmkd install] $*"; }
have() { "$PY" - "$1" "$2" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]).split('+')[0] == sys.argv[2] else 1)
PYEOF
}

if ! have torch $TORCH || ! have torchvision $TORCHVISION; then
    log "torch $TORCH, torchvision $TORCHVISION"
    "${PIP[@]}" "torch==$TORCH" "torchvision==$TORCHVISION"
fi

if ! have mmcv $MMCV || ! "$PY" -c "import mmcv.ops" 2>/dev/null; then
    WHEELS="$CACHE/wheels/mmcv-$MMCV-torch$TORCH-py$("$PY" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
    if ! ls "$WHEELS"/mmcv-*.whl >/dev/null 2>&1; then
        log "building mmcv $MMCV with CPU ops (once, ~15 minutes on 2 cores; cached in $WHEELS)"
        "${PIP[@]}" "setuptools<70" wheel ninja   # mmcv's setup.py breaks with setuptools>=70
        BUILD=$(mktemp -d)
        trap 'rm -rf "$BUILD"' EXIT
        "$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
            "mmcv==$MMCV" -d "$BUILD"
        tar -xzf "$BUILD"/mmcv-$MMCV.tar.gz -C "$BUILD"
        # torch 2.14's headers need C++20; mmcv's setup.py pins -std=c++17.
        sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-$MMCV/setup.py"
        mkdir -p "$WHEELS"
        (cd "$BUILD/mmcv-$MMCV" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=$(nproc) \
            "$PY" -m pip wheel -q --no-deps --no-build-isolation . -w "$BUILD/dist")
        mv "$BUILD"/dist/mmcv-*.whl "$WHEELS"/
    fi
    log "mmcv $MMCV from $WHEELS"
    "${PIP[@]}" --no-deps --force-reinstall "$WHEELS"/mmcv-*.whl
    "${PIP[@]}" addict packaging pyyaml yapf opencv-python numpy
fi

log "mmengine $MMENGINE, mmdet $MMDET, mmpretrain $MMPRETRAIN, mmkd"
# torch asks for setuptools>=77; mmengine resolves mmdet:: config paths with
# pkg_resources, which setuptools 81 removed.
"${PIP[@]}" "setuptools>=77,<81"
"${PIP[@]}" "mmengine==$MMENGINE" "mmdet==$MMDET" "mmpretrain==$MMPRETRAIN"
# the classification demo's embedded data: scikit-learn's handwritten digits
"${PIP[@]}" scikit-learn
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"
if [ "${1:-}" = "--dev" ]; then
    "${PIP[@]}" -r "$ROOT/requirements/tests.txt"
fi
"$PY" -c "import mmcv.ops, mmdet, mmkd; print('[mmkd install] ok: mmkd', mmkd.__version__, \
'| torch', __import__('torch').__version__, '| mmcv', mmcv.__version__, '| mmdet', mmdet.__version__)"
