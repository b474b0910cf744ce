#!/usr/bin/env bash
# Install mmkd and its tested stack into the current Python (CPU machines).
#
#   bash tools/install.sh          # torch, mmcv (CPU ops), mmengine, mmdet, mmpretrain, mmkd
#   bash tools/install.sh --dev    # ... plus the test tools
#
# "The current Python" is $PYTHON, else the python3 on PATH: an activated
# venv's, a conda env's or the system's. mmcv 2.1.0 has no wheel for torch
# 2.14, so its CPU ops are compiled from the sdist once (~15 min on 2 cores);
# the wheel is checked for its compiled ops, cached in $MMKD_CACHE (default
# ~/.cache/mmkd), and later runs install it in seconds. Every step is skipped
# when already satisfied.
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

log() { echo "[mmkd install] $*"; }
elapsed() { printf '%dm%02ds' $(((SECONDS - $1) / 60)) $(((SECONDS - $1) % 60)); }
have() { "$PY" - "$1" "$2" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]).split('+')[0] == sys.argv[2] else 1)
PYEOF
}

# The mmcv build runs in the caller's own Python (whichever has torch), with
# an old setuptools put ahead of its own on PYTHONPATH: mmcv's setup.py
# breaks with setuptools>=70, torch needs >=77. (A venv made from the caller
# with --system-site-packages would see the *base* interpreter's packages,
# not a venv's torch, and mmcv would then build without its ops, silently.)
make_build_env() {  # old setuptools, wheel and ninja, into the folder $1
    "${PIP[@]}" --no-warn-conflicts --target "$1" "setuptools<70" wheel ninja
}

check_build_env() {  # fails unless $PY, with $1 ahead, sees torch and setuptools<70
    PYTHONPATH="$1${PYTHONPATH:+:$PYTHONPATH}" "$PY" - <<'PYEOF'
import sys
try:
    import torch
    from torch.utils import cpp_extension  # noqa: F401
except ImportError as exc:
    sys.exit(f'[mmkd install] the mmcv build cannot import torch in '
             f'{sys.executable} ({exc}): install torch into it first')
import setuptools
if int(setuptools.__version__.split('.')[0]) >= 70:
    sys.exit(f'[mmkd install] the mmcv build sees setuptools '
             f'{setuptools.__version__} ({setuptools.__file__}); it needs <70')
print(f'[mmkd install]   the build sees torch {torch.__version__} '
      f'({torch.__file__}) and setuptools {setuptools.__version__}')
PYEOF
}

wheel_has_ops() {  # does the mmcv wheel $1 hold the compiled ops (mmcv/_ext)?
    "$PY" - "$1" <<'PYEOF'
import re
import sys
import zipfile
try:
    names = zipfile.ZipFile(sys.argv[1]).namelist()
except (OSError, zipfile.BadZipFile):
    sys.exit(1)
sys.exit(0 if any(re.fullmatch(r'mmcv/_ext[.\w-]*\.(so|pyd)', n)
                  for n in names) else 1)
PYEOF
}

cached_wheel() {  # prints the cached mmcv wheel in $1 with ops; drops those without
    local whl
    for whl in "$1"/mmcv-*.whl; do
        [ -e "$whl" ] || continue
        if wheel_has_ops "$whl"; then
            echo "$whl"
            return 0
        fi
        log "discarding the cached $(basename "$whl"): it has no compiled" \
            "ops (mmcv/_ext); building mmcv again" >&2
        rm -f "$whl"
    done
    return 1
}

build_mmcv() {  # the mmcv wheel with CPU ops, into $1
    local build
    build=$(mktemp -d)
    make_build_env "$build/tools"
    check_build_env "$build/tools"
    PYTHONPATH="$build/tools${PYTHONPATH:+:$PYTHONPATH}" \
        "$PY" -m pip download --disable-pip-version-check -q --no-deps \
        --no-binary :all: --no-build-isolation "mmcv==$MMCV" -d "$build"
    tar -xzf "$build"/mmcv-$MMCV.tar.gz -C "$build"
    local src="$build/mmcv-$MMCV"
    # torch 2.14's headers need C++20; mmcv's setup.py pins -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    local total
    total=$(find "$src/mmcv/ops/csrc/pytorch" -maxdepth 2 -name '*.cpp' \
        -not -path '*/cuda/*' -not -path '*/npu/*' -not -path '*/mlu/*' \
        -not -path '*/mps/*' | wc -l)
    (cd "$src" && PYTHONPATH="$build/tools${PYTHONPATH:+:$PYTHONPATH}" \
        MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=$(nproc) \
        "$PY" -m pip wheel -q --disable-pip-version-check --no-deps \
        --no-build-isolation . -w "$build/dist") > "$build/build.log" 2>&1 &
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
    local whl
    whl=$(ls "$build"/dist/mmcv-*.whl)
    if ! wheel_has_ops "$whl"; then
        log "the mmcv build made $(basename "$whl") without its compiled ops" \
            "(mmcv/_ext); not caching it (build log: $build/build.log)"
        exit 1
    fi
    mkdir -p "$1"
    mv "$whl" "$1"/
    rm -rf "$build"
    log "  mmcv built in $(elapsed $began)"
}

main() {
    local start=$SECONDS
    # Each pip command installs a set whose requirements it can see, in an
    # order that leaves nothing for pip's resolver to complain about: torch
    # first, then mmcv together with mmengine and the toolboxes that need them.
    if ! have torch $TORCH || ! have torchvision $TORCHVISION; then
        log "torch $TORCH, torchvision $TORCHVISION into $("$PY" -c 'import sys; print(sys.prefix)')"
        "${PIP[@]}" "torch==$TORCH" "torchvision==$TORCHVISION" "setuptools>=77,<81"
    fi

    local mmcv_wheel=() wheels whl
    if ! have mmcv $MMCV || ! "$PY" -c "import mmcv.ops" 2>/dev/null; then
        wheels="$CACHE/wheels/mmcv-$MMCV-torch$TORCH-py$("$PY" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
        if ! whl=$(cached_wheel "$wheels"); then
            log "building mmcv $MMCV with CPU ops (once, ~15 minutes on 2 cores; cached in $wheels)"
            build_mmcv "$wheels"
            whl=$(cached_wheel "$wheels")
        fi
        log "mmcv $MMCV from $whl"
        # an mmcv without ops (or another version) makes way for the wheel
        "$PY" -m pip uninstall -y -q mmcv mmcv-lite >/dev/null 2>&1 || true
        mmcv_wheel=("$whl")
    fi

    log "mmengine $MMENGINE, mmdet $MMDET, mmpretrain $MMPRETRAIN, scikit-learn"
    # torch asks for setuptools>=77; mmengine resolves mmdet:: config paths
    # with pkg_resources, which setuptools 81 removed. scikit-learn: the
    # classification demo's embedded data (handwritten digits).
    "${PIP[@]}" "${mmcv_wheel[@]}" "setuptools>=77,<81" "mmengine==$MMENGINE" \
        "mmdet==$MMDET" "mmpretrain==$MMPRETRAIN" scikit-learn
    "${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"
    local next="python tools/demo.py"
    if [ "${1:-}" = "--dev" ]; then
        "${PIP[@]}" -r "$ROOT/requirements/tests.txt"
        next="python3 -m pytest tests"
    fi
    "$PY" -c "import mmcv.ops, mmdet, mmpretrain, mmkd, torch; print('[mmkd install] \
done in $(elapsed $start): mmkd', mmkd.__version__, '| torch', torch.__version__, \
'| mmcv', mmcv.__version__, '| mmdet', mmdet.__version__, '| mmpretrain', \
mmpretrain.__version__, '| next: $next')"
}

# Sourced (the tests do) for its functions; run, it installs.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
