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
PIP=("$PY" -m pip install --disable-pip-version-check --root-user-action=ignore -q)
START=$SECONDS

log() { echo "[mmkd install] $*"; }
elapsed() { printf '%dm%02ds' $(((SECONDS - $1) / 60)) $(((SECONDS - $1) % 60)); }
have() { "$PY" - "$1" "$2" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]).split('+')[0] == sys.argv[2] else 1)
PYEOF
}

# Each pip command installs a set whose requirements it can see, in an
# order that leaves nothing for pip's resolver to complain about: torch
# first, then mmcv together with mmengine and the toolboxes that need them.
if ! have torch $TORCH || ! have torchvision $TORCHVISION; then
    log "torch $TORCH, torchvision $TORCHVISION"
    "${PIP[@]}" "torch==$TORCH" "torchvision==$TORCHVISION" "setuptools>=77,<81"
fi

build_mmcv() {  # the mmcv wheel with CPU ops, into $1
    local build
    build=$(mktemp -d)
    # mmcv's setup.py breaks with setuptools>=70 and torch needs >=77: build
    # in a throwaway venv that sees torch but has its own old setuptools
    "$PY" -m venv --system-site-packages "$build/venv"
    local bpy="$build/venv/bin/python"
    "$bpy" -m pip install --disable-pip-version-check --root-user-action=ignore \
        -q "setuptools<70" wheel ninja
    "$bpy" -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV" -d "$build"
    tar -xzf "$build"/mmcv-$MMCV.tar.gz -C "$build"
    local src="$build/mmcv-$MMCV"
    # torch 2.14's headers need C++20; mmcv's setup.py pins -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    local total
    total=$(find "$src/mmcv/ops/csrc/pytorch" -maxdepth 2 -name '*.cpp' \
        -not -path '*/cuda/*' -not -path '*/npu/*' -not -path '*/mlu/*' \
        -not -path '*/mps/*' | wc -l)
    (cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=$(nproc) \
        "$bpy" -m pip wheel -q --no-deps --no-build-isolation . \
        -w "$build/dist") > "$build/build.log" 2>&1 &
    local pid=$! began=$SECONDS
    while kill -0 $pid 2>/dev/null; do
        sleep 30
        kill -0 $pid 2>/dev/null && log "  building mmcv: $(elapsed $began)," \
            "$(find "$src" -name '*.o' | wc -l) of about $total files compiled"
    done
    if ! wait $pid; then
        tail -n 40 "$build/build.log"
        log "the mmcv build failed (log above, in full: $build/build.log)"
        exit 1
    fi
    mkdir -p "$1"
    mv "$build"/dist/mmcv-*.whl "$1"/
    rm -rf "$build"
    log "  mmcv built in $(elapsed $began)"
}

MMCV_WHEEL=()
if ! have mmcv $MMCV || ! "$PY" -c "import mmcv.ops" 2>/dev/null; then
    WHEELS="$CACHE/wheels/mmcv-$MMCV-torch$TORCH-py$("$PY" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
    if ! ls "$WHEELS"/mmcv-*.whl >/dev/null 2>&1; then
        log "building mmcv $MMCV with CPU ops (once, ~15 minutes on 2 cores; cached in $WHEELS)"
        build_mmcv "$WHEELS"
    fi
    log "mmcv $MMCV from $WHEELS"
    # an mmcv without ops (or another version) makes way for the wheel
    "$PY" -m pip uninstall -y -q mmcv mmcv-lite >/dev/null 2>&1 || true
    MMCV_WHEEL=("$(ls "$WHEELS"/mmcv-*.whl | head -n 1)")
fi

log "mmengine $MMENGINE, mmdet $MMDET, mmpretrain $MMPRETRAIN, scikit-learn"
# torch asks for setuptools>=77; mmengine resolves mmdet:: config paths with
# pkg_resources, which setuptools 81 removed. scikit-learn: the
# classification demo's embedded data (handwritten digits).
"${PIP[@]}" "${MMCV_WHEEL[@]}" "setuptools>=77,<81" "mmengine==$MMENGINE" \
    "mmdet==$MMDET" "mmpretrain==$MMPRETRAIN" scikit-learn
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"
NEXT="python tools/demo.py"
if [ "${1:-}" = "--dev" ]; then
    "${PIP[@]}" -r "$ROOT/requirements/tests.txt"
    NEXT="python3 -m pytest tests"
fi
"$PY" -c "import mmcv.ops, mmdet, mmpretrain, mmkd, torch; print('[mmkd install] \
done in $(elapsed $START): mmkd', mmkd.__version__, '| torch', torch.__version__, \
'| mmcv', mmcv.__version__, '| mmdet', mmdet.__version__, '| mmpretrain', \
mmpretrain.__version__, '| next: $NEXT')"
