"""Checkpoint files: safe loading and the student-only export.

Everything loads with ``torch.load(weights_only=True)``. mmengine runner
checkpoints also hold the message hub's ``HistoryBuffer`` and numpy arrays;
:func:`register_safe_globals` allow-lists exactly those data classes, never
``builtins.getattr`` or anything else that can call arbitrary code.

A ``HistoryBuffer`` normally pickles its class's statistic methods through
``builtins.getattr``; mmkd registers a reducer that pickles it as what it is,
two lists of numbers rebuilt by its own constructor.
"""
import copy
import copyreg
import io
import os
import pickle
import re
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


TRUST_ENV = 'MMKD_TRUSTED_CHECKPOINTS'


def trusted(path: str) -> bool:
    """Whether the user named ``path`` in ``MMKD_TRUSTED_CHECKPOINTS``."""
    names = [p for p in os.environ.get(TRUST_ENV, '').split(os.pathsep) if p]
    return osp.realpath(path) in {osp.realpath(p) for p in names}


def load_checkpoint_file(path: str,
                         what: str = 'checkpoint',
                         map_location='cpu') -> dict:
    """Load a checkpoint with ``weights_only=True``.

    Raises a clear error for a missing or corrupted file, and refuses one
    that needs a class outside the allow-list, naming it, the risk and the
    opt-in (``MMKD_TRUSTED_CHECKPOINTS``).
    """
    if not isinstance(path, (str, os.PathLike)) or not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path!r} does not exist.')
    path = str(path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        unsafe = re.search(r'GLOBAL (\S+)', str(e))
        if unsafe is None:
            raise _corrupted(what, path, e) from e
        if not trusted(path):
            raise UnsafeCheckpointError(
                f'{what} {path!r} was refused: loading it needs '
                f'{unsafe.group(1)}, which is not plain data (tensors, '
                'numbers, strings, numpy arrays, mmengine log buffers). '
                'Unpickling such an object can run arbitrary code, so mmkd '
                'loads checkpoints with torch.load(weights_only=True) and '
                'an explicit allow-list. If you trust where this file comes '
                f'from, either allow-list that class with torch.'
                'serialization.add_safe_globals([...]) in a module of your '
                f'custom_imports, or name the file in {TRUST_ENV} '
                f'(paths separated by "{os.pathsep}") to load it with '
                'weights_only=False.') from e
        ckpt = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001 (re-raised with the cause)
        raise _corrupted(what, path, e) from e
    if not isinstance(ckpt, dict):
        raise RuntimeError(f'{what} {path!r} holds a {type(ckpt).__name__}, '
                           'not a checkpoint dict.')
    return ckpt


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint that needs more than plain data to load."""


def _corrupted(what: str, path: str, e: Exception) -> RuntimeError:
    text = str(e).split('WeightsUnpickler error:')[-1].strip()
    reason = text.splitlines()[0] if text else type(e).__name__
    return RuntimeError(
        f'{what} {path!r} could not be loaded ({reason}). The file is '
        'corrupted or truncated (e.g. copied while it was being written); '
        'use another checkpoint, such as the one before it in work_dir.')


def register_checkpoint_loader() -> None:
    """Make mmengine (runner resume, ``load_from``, ``Pretrained`` init)
    load local files through :func:`load_checkpoint_file`."""
    from mmengine.runner import CheckpointLoader

    @CheckpointLoader.register_scheme(prefixes='', force=True)
    def load_from_local(filename, map_location):
        return load_checkpoint_file(
            osp.expanduser(filename), 'checkpoint', map_location)


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
    out = student_checkpoint(student, plain_meta(ckpt.get('meta')))
    save_atomic(out, dst)
    return out


def student_checkpoint(state_dict: Dict[str, torch.Tensor],
                       meta: dict) -> dict:
    """A plain MMDetection checkpoint of the student: CPU tensors and
    built-in types only."""
    return dict(
        state_dict=OrderedDict(
            (k, v.detach().cpu().clone()) for k, v in state_dict.items()),
        meta=meta)


def student_config(cfg):
    """The student's own config from a distillation config: ``model`` is
    the student, and nothing refers to mmkd (plugin import, DDP wrapper,
    optimizer constructor, mmkd hooks, checkpoint backend), so plain
    MMDetection runs it."""
    from mmengine.config import Config
    from mmdet.registry import HOOKS
    out = Config(copy.deepcopy(cfg.to_dict()) if hasattr(cfg, 'to_dict')
                 else copy.deepcopy(dict(cfg)))
    out.model = out.model['student']
    out.pop('model_wrapper_cfg', None)
    imports = out.get('custom_imports', {}).get('imports', [])
    others = [m for m in ([imports] if isinstance(imports, str) else imports)
              if m != 'mmkd' and not m.startswith('mmkd.')]
    if others:
        out.custom_imports.imports = others
    else:
        out.pop('custom_imports', None)
    optim = out.get('optim_wrapper')
    if optim and optim.get('constructor') == 'DistillOptimWrapperConstructor':
        optim.pop('constructor')
        optim.pop('disc', None)

    def from_mmkd(hook):
        cls = HOOKS.get(hook['type']) if isinstance(hook['type'], str) \
            else hook['type']
        return cls is None or cls.__module__.startswith('mmkd.')

    checkpoint = out.get('default_hooks', {}).get('checkpoint') or {}
    if (checkpoint.get('backend_args') or {}).get('backend', '').startswith(
            'mmkd'):
        checkpoint.pop('backend_args')
    if out.get('custom_hooks'):
        out.custom_hooks = [h for h in out.custom_hooks if not from_mmkd(h)]
    return out


def save_atomic(obj, path: str) -> None:
    """``torch.save`` that never leaves a half-written file at ``path``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(buffer.getvalue(), path)


def write_atomic(data: bytes, path: str) -> None:
    """Write to a temporary file in the same directory, then rename it over
    ``path``: a crash or kill leaves the previous file intact."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
