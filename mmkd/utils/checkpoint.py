"""Checkpoint files: safe loading and the student-only export.

Everything loads with ``torch.load(weights_only=True)``. mmengine runner
checkpoints also hold the message hub's ``HistoryBuffer`` and numpy arrays;
:func:`register_safe_globals` allow-lists exactly those data classes, never
``builtins.getattr`` or anything else that can call arbitrary code.

A ``HistoryBuffer`` normally pickles its class's statistic methods through
``builtins.getattr``; mmkd registers a reducer that pickles it as what it is,
two lists of numbers rebuilt by its own constructor.
"""
import copyreg
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional

import numpy as np
import torch

STUDENT_PREFIX = 'student.'


def _numpy_data_globals() -> list:
    """Classes and reconstructors numpy arrays and dtypes pickle through."""
    dtypes = {type(np.dtype(t)) for t in np.typecodes['All'] if t}
    # numpy >= 2 names the module numpy._core, numpy 1 numpy.core
    multiarray = getattr(np, '_core', None) or np.core
    return [
        np.ndarray, np.dtype, multiarray.multiarray._reconstruct,
        multiarray.multiarray.scalar, *dtypes
    ]


def _reduce_history_buffer(buffer):
    log, count = buffer.data
    return type(buffer), (log.tolist(), count.tolist(), buffer.max_length)


def register_safe_globals() -> None:
    """Allow-list the data classes mmengine checkpoints contain for
    ``torch.load(weights_only=True)`` (runner resume, ``load_from``), and
    save ``HistoryBuffer`` as plain data."""
    from mmengine.logging import HistoryBuffer
    copyreg.pickle(HistoryBuffer, _reduce_history_buffer)
    torch.serialization.add_safe_globals([HistoryBuffer] +
                                         _numpy_data_globals())


def load_checkpoint_file(path: str, what: str = 'checkpoint') -> dict:
    """Load a checkpoint on CPU with ``weights_only=True``.

    Raises a clear error for a missing, corrupted or unsafe file.
    """
    if not isinstance(path, (str, os.PathLike)) or not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path!r} does not exist.')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001 (re-raised with the cause)
        raise RuntimeError(
            f'{what} {path!r} could not be loaded safely: {e}. The file is '
            'corrupted, or it contains objects other than tensors and plain '
            'data (which could run code when unpickled).') from e
    if not isinstance(ckpt, dict):
        raise RuntimeError(f'{what} {path!r} holds a {type(ckpt).__name__}, '
                           'not a checkpoint dict.')
    return ckpt


def get_state_dict(ckpt: dict) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint dict, without a DDP ``module.``
    prefix."""
    state = ckpt.get('state_dict', ckpt)
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())


def extract_student_state(state: Dict[str, torch.Tensor]) -> OrderedDict:
    """The student's own weights from a distiller state dict."""
    return OrderedDict((k[len(STUDENT_PREFIX):], v) for k, v in state.items()
                       if k.startswith(STUDENT_PREFIX))


def plain_meta(meta: Optional[dict]) -> dict:
    """The part of runner ``meta`` plain MMDetection uses (class names,
    palette), as built-in Python types that ``weights_only`` accepts."""
    dataset_meta = (meta or {}).get('dataset_meta') or {}

    def plain(x):
        if isinstance(x, (list, tuple)):
            return type(x)(plain(i) for i in x)
        if isinstance(x, np.generic):
            return x.item()
        return x

    return dict(dataset_meta={
        k: plain(v)
        for k, v in dataset_meta.items() if k in ('classes', 'palette')
    })


def export_student(src: str, dst: str) -> dict:
    """Write the student of a distiller checkpoint ``src`` to ``dst``.

    The result holds only the student's weights and its class names, loads
    into the student's own config in plain MMDetection and passes
    ``torch.load(weights_only=True)`` without any allow-list.

    Returns:
        dict: What was written.
    """
    ckpt = load_checkpoint_file(src, 'checkpoint')
    student = extract_student_state(get_state_dict(ckpt))
    if not student:
        raise ValueError(
            f'{src!r} has no "{STUDENT_PREFIX}*" weights: it is not an mmkd '
            'distiller checkpoint (a plain detector checkpoint needs no '
            'export).')
    out = dict(state_dict=student, meta=plain_meta(ckpt.get('meta')))
    save_atomic(out, dst)
    return out


def save_atomic(obj, path: str) -> None:
    """``torch.save`` to a temporary file, then rename: a crash never leaves
    a half-written file at ``path``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
