"""Checkpoint files: safe loading and the student-only export.

Everything loads with ``torch.load(weights_only=True)``. mmengine runner
checkpoints also hold the message hub's ``HistoryBuffer`` and numpy arrays;
:func:`register_safe_globals` allow-lists exactly those data classes, never
``builtins.getattr`` or anything else that can call arbitrary code.

A ``HistoryBuffer`` pickles its class's statistic methods as
``builtins.getattr(HistoryBuffer, 'mean')``. Checkpoints written by plain
mmengine (a process that never imported mmkd) hold exactly that, so the
global ``builtins.getattr`` is resolved, for mmkd's loads only, to
:func:`history_buffer_method`, which returns those four methods and
refuses every other attribute of every other object. mmkd itself pickles a
``HistoryBuffer`` as what it is, two lists of numbers rebuilt by its own
constructor.
"""
import copy
import copyreg
import io
import os
import pickle
import re
import sys
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional
from urllib.parse import urlparse

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


# The statistic methods HistoryBuffer defines (and pickles through getattr).
HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def history_buffer_method(obj, name: str):
    """What ``builtins.getattr`` resolves to when mmkd loads a checkpoint:
    one of ``HistoryBuffer``'s own statistic methods, which plain mmengine
    checkpoints pickle as ``getattr(HistoryBuffer, name)``. Any other call
    is refused, so a checkpoint cannot reach arbitrary attributes."""
    from mmengine.logging import HistoryBuffer
    if (obj is HistoryBuffer and name in HISTORY_BUFFER_METHODS
            and name in vars(HistoryBuffer)):
        return getattr(HistoryBuffer, name)
    owner = getattr(obj, '__name__', type(obj).__name__)
    raise pickle.UnpicklingError(
        f'GETATTR {owner}.{name} is refused: mmkd resolves getattr only '
        f'for mmengine\'s HistoryBuffer statistics {HISTORY_BUFFER_METHODS}')


def register_safe_globals() -> None:
    """Allow-list the data classes mmengine checkpoints contain for
    ``torch.load(weights_only=True)`` (runner resume, ``load_from``), with
    ``builtins.getattr`` resolved to :func:`history_buffer_method`, and save
    ``HistoryBuffer`` as plain data."""
    from mmengine.logging import HistoryBuffer
    copyreg.pickle(HistoryBuffer, _reduce_history_buffer)
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (history_buffer_method, 'builtins.getattr')] +
        _numpy_data_globals())


TRUST_ENV = 'MMKD_TRUSTED_CHECKPOINTS'


def trusted(path: str) -> bool:
    """Whether the user named ``path`` in ``MMKD_TRUSTED_CHECKPOINTS``."""
    names = [p for p in os.environ.get(TRUST_ENV, '').split(os.pathsep) if p]
    return osp.realpath(path) in {osp.realpath(p) for p in names}


def is_url(path) -> bool:
    return isinstance(path, str) and path.startswith(('http://', 'https://'))


def cached_download(url: str) -> str:
    """The local copy of ``url`` in torch's hub cache
    (``$TORCH_HOME/hub/checkpoints``, default
    ``~/.cache/torch/hub/checkpoints``), where mmengine (through torch's
    ``load_state_dict_from_url``) caches its ``http(s)://`` checkpoints,
    downloaded once (by rank 0 first under DDP)."""
    import torch.distributed as dist
    from torch.hub import download_url_to_file, get_dir
    cached = osp.join(get_dir(), 'checkpoints',
                      osp.basename(urlparse(url).path) or 'checkpoint.pth')
    os.makedirs(osp.dirname(cached), exist_ok=True)
    group = (dist.is_available() and dist.is_initialized()
             and dist.get_world_size() > 1)
    if (not group or dist.get_rank() == 0) and not osp.isfile(cached):
        download_url_to_file(url, cached, progress=False)
    if group:
        dist.barrier()
    if not osp.isfile(cached):  # a rank on a node without rank 0's disk
        download_url_to_file(url, cached, progress=False)
    return cached


def check_checkpoint_path(path, what: str) -> str:
    """``path`` as a local file (a URL is downloaded to the cache); a clear
    error for a missing file or a directory."""
    if is_url(path):
        return cached_download(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f'{what} must be a file path or URL, got {path!r}')
    path = osp.expanduser(str(path))
    if osp.isdir(path):
        found = sorted(f for f in os.listdir(path) if f.endswith('.pth'))
        raise IsADirectoryError(
            f'{what} {path!r} is a directory; give the checkpoint file '
            'itself' + (f', e.g. one of: {", ".join(found[:5])}'
                        if found else ' (it holds no .pth file)') + '.')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path!r} does not exist.')
    return path


def load_checkpoint_file(path: str,
                         what: str = 'checkpoint',
                         map_location='cpu') -> dict:
    """Load a checkpoint (a local file, or an ``http(s)://`` URL cached
    locally) with ``weights_only=True``.

    Raises a clear error for a missing or corrupted file, and refuses one
    that needs a class outside the allow-list, naming it, the risk and the
    opt-in (``MMKD_TRUSTED_CHECKPOINTS``).
    """
    path = check_checkpoint_path(path, what)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        unsafe = re.search(r'(GLOBAL|GETATTR) (\S+)', str(e))
        if unsafe is None:
            raise _corrupted(what, path, e) from e
        if not trusted(path):
            raise UnsafeCheckpointError(
                _refusal(what, path, *unsafe.groups())) from e
        ckpt = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001 (re-raised with the cause)
        raise _corrupted(what, path, e) from e
    if not isinstance(ckpt, dict):
        raise RuntimeError(f'{what} {path!r} holds a {type(ckpt).__name__}, '
                           'not a checkpoint dict.')
    return ckpt


def _loaded_class(name: str):
    """The class ``module.Qualname`` names if its module is already
    imported (nothing is imported for a name read from a file)."""
    module, _, qualname = name.rpartition('.')
    obj = sys.modules.get(module)
    for part in qualname.split('.') if obj is not None else ():
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


def _refusal(what: str, path: str, kind: str, name: str) -> str:
    trust = (f'If you trust where this file comes from, name it in '
             f'{TRUST_ENV} (paths separated by "{os.pathsep}") to load it '
             'with weights_only=False.')
    if kind == 'GETATTR':
        return (f'{what} {path!r} was refused: loading it calls getattr on '
                f'{name}, which no checkpoint written by MMDetection, '
                'MMPretrain or mmkd does (they call it only for mmengine\'s '
                'HistoryBuffer statistics) and which can reach arbitrary '
                f'code. {trust}')
    cls = _loaded_class(name)
    if cls is not None and issubclass(cls, torch.nn.Module):
        return (f'{what} {path!r} was refused: it holds a whole pickled '
                f'model ({cls.__name__}), not a state dict, and unpickling '
                'a model runs code. Load it where it was saved and write '
                'its weights: torch.save(dict(state_dict=model.state_dict())'
                f', path). {trust}')
    return (f'{what} {path!r} was refused: loading it needs '
            f'{name}, which is not plain data (tensors, '
            'numbers, strings, numpy arrays, mmengine log buffers). '
            'Unpickling such an object can run arbitrary code, so mmkd '
            'loads checkpoints with torch.load(weights_only=True) and '
            'an explicit allow-list. A class you trust can be allow-listed '
            'with torch.serialization.add_safe_globals([...]) in a module '
            f'of your custom_imports. {trust}')


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
    load local files and ``http(s)://`` URLs through
    :func:`load_checkpoint_file`."""
    from mmengine.runner import CheckpointLoader

    @CheckpointLoader.register_scheme(prefixes='', force=True)
    def load_from_local(filename, map_location):
        return load_checkpoint_file(filename, 'checkpoint', map_location)

    @CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), force=True)
    def load_from_http(filename, map_location):
        return load_checkpoint_file(filename, 'checkpoint', map_location)


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


def peer_state(state: Dict[str, torch.Tensor], peer: int,
               src: str) -> Dict[str, torch.Tensor]:
    """Peer ``peer``'s weights (``peers.<peer - 1>.*``) as ``student.*``."""
    prefix = f'peers.{peer - 1}.'
    found = sorted({int(k.split('.')[1]) + 1 for k in state
                    if k.startswith('peers.')})
    if peer < 1 or peer not in found:
        raise ValueError(
            f'{src!r} has ' + (f'peers {found}' if found else 'no peers (it '
                               'is not from an online method such as AFD)')
            + f'; --peer {peer} names none of them (the student is network '
            '0: export it without --peer).')
    return {STUDENT_PREFIX + k[len(prefix):]: v for k, v in state.items()
            if k.startswith(prefix)}


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


def export_student(src: str, dst: str, peer: Optional[int] = None,
                   overwrite: bool = False) -> dict:
    """Write the student of a distiller checkpoint ``src`` to ``dst`` (or
    with ``peer=k``, peer k of an online run: network k, the student being
    network 0).

    The result holds only the student's weights and its class names, loads
    into the student's own config in plain MMDetection and passes
    ``torch.load(weights_only=True)`` without any allow-list. An existing
    ``dst`` is replaced only with ``overwrite=True`` (``--force``), and never
    when it is ``src`` or a training checkpoint.

    Returns:
        dict: What was written.
    """
    refuse_to_overwrite(src, dst, overwrite)
    ckpt = load_checkpoint_file(src, 'checkpoint')
    state = get_state_dict(ckpt)
    if peer is not None:
        state = peer_state(state, peer, src)
    student = extract_student_state(state)
    if not student:
        raise ValueError(
            f'{src!r} has no "{STUDENT_PREFIX}*" weights: it is not an mmkd '
            'distiller checkpoint (a plain detector checkpoint needs no '
            'export).')
    out = student_checkpoint(student, plain_meta(ckpt.get('meta')))
    save_atomic(out, dst)
    return out


def refuse_to_overwrite(src: str, dst: str, overwrite: bool = False) -> None:
    """Refuse an export that would write over its input or over any runner
    checkpoint (a file with optimizer state or distiller weights): either
    would destroy what a resume needs. Any other existing file (another
    run's ``student_latest.pth``, an earlier export) only with
    ``overwrite``."""
    if not osp.exists(dst):
        return
    if osp.exists(src) and osp.samefile(src, dst):
        raise FileExistsError(
            f'The output {dst!r} is the checkpoint being exported: writing '
            'it would destroy the training checkpoint (resume would fail). '
            'Give another output path, e.g. student.pth.')
    try:  # mmap: only the keys are read
        held = torch.load(dst, map_location='cpu', weights_only=True,
                          mmap=True)
    except Exception:  # noqa: BLE001 (not a checkpoint we can read)
        held = None
    state = held.get('state_dict', {}) if isinstance(held, dict) else {}
    if isinstance(held, dict) and (
            {'optimizer', 'message_hub'} & set(held)
            or any(k.startswith(STUDENT_PREFIX) for k in state)):
        raise FileExistsError(
            f'The output {dst!r} is a training checkpoint (it holds '
            'optimizer state or distiller weights); writing over it would '
            'lose what a resume needs. Give another output path, e.g. '
            'student.pth.')
    if not overwrite:
        raise FileExistsError(
            f'The output {dst!r} exists. Give another output path, or '
            'replace it with --force (export_student(..., overwrite=True)).')


def student_checkpoint(state_dict: Dict[str, torch.Tensor],
                       meta: dict) -> dict:
    """A plain MMDetection checkpoint of the student: CPU tensors and
    built-in types only."""
    return dict(
        state_dict=OrderedDict(
            (k, v.detach().cpu().clone()) for k, v in state_dict.items()),
        meta=meta)


def uses_mmkd_types(cfg) -> bool:
    """Whether a model config names a component only mmkd registers (the
    CIFAR backbones), so that its plain config still imports them."""
    from mmengine.registry import MODELS
    if isinstance(cfg, dict):
        kind = cfg.get('type')
        cls = MODELS.module_dict.get(kind) if isinstance(kind, str) else None
        if cls is not None and cls.__module__.startswith('mmkd.'):
            return True
        return any(uses_mmkd_types(v) for v in cfg.values())
    if isinstance(cfg, (list, tuple)):
        return any(uses_mmkd_types(v) for v in cfg)
    return False


def student_config(cfg, peer: Optional[int] = None):
    """The student's own config from a distillation config (or peer k's
    with ``peer=k``): ``model`` is that network, and nothing refers to
    mmkd (plugin import, DDP wrapper, optimizer constructor, mmkd hooks,
    checkpoint backend) and nothing of the distillation run's state
    (``resume``, ``load_from``: a resumed run's config would make plain
    ``tools/test.py`` resume a training checkpoint), so plain MMDetection
    and MMPretrain test and fine-tune with it."""
    from mmengine.config import Config
    from mmengine.registry import HOOKS
    out = Config(copy.deepcopy(cfg.to_dict()) if hasattr(cfg, 'to_dict')
                 else copy.deepcopy(dict(cfg)))
    out.model = out.model['student'] if peer is None else \
        out.model['peers'][peer - 1]
    if isinstance(out.model, str):  # student='path/to/config.py'
        from mmkd.models.distillers.utils import model_cfg
        out.model = model_cfg(out.model, 'student').to_dict()
    out.pop('model_wrapper_cfg', None)
    out.resume, out.load_from = False, None
    imports = out.get('custom_imports', {}).get('imports', [])
    others = [m for m in ([imports] if isinstance(imports, str) else imports)
              if m != 'mmkd' and not m.startswith('mmkd.')]
    if uses_mmkd_types(out.model):  # e.g. the CIFAR backbones
        others.append('mmkd.models.backbones')
    if others:
        out.custom_imports.imports = others
    else:
        out.pop('custom_imports', None)
    optim = out.get('optim_wrapper')
    if optim and optim.get('constructor') == 'DistillOptimWrapperConstructor':
        optim.pop('constructor')
        for part in [k for k, v in optim.items()
                     if isinstance(v, dict) and 'optimizer' in v]:
            optim.pop(part)  # disc, adv: the distiller's other parts

    def from_mmkd(hook):  # mmkd's hooks are in mmengine's root registry
        cls = HOOKS.module_dict.get(hook['type']) if isinstance(
            hook['type'], str) else hook['type']
        return cls is not None and cls.__module__.startswith('mmkd.')

    out.pop('distill_default_hooks', None)
    default_hooks = out.get('default_hooks') or {}
    for name in [k for k, h in default_hooks.items()
                 if isinstance(h, dict) and 'type' in h and from_mmkd(h)]:
        default_hooks.pop(name)
    checkpoint = default_hooks.get('checkpoint') or {}
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
    ``path``: a crash or kill leaves the previous file intact (and the
    next write removes the temporary file the killed one left)."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temps(directory)
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


# what write_atomic writes: checkpoints, last_checkpoint, student_config.py
_TEMP = re.compile(r'(.+\.(pth|py)|last_checkpoint)\.tmp(\d+)')


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(directory: str) -> list:
    """Delete the temporary files of atomic writes whose process is gone
    (killed mid-write); returns their names."""
    stale = []
    for name in os.listdir(directory):
        m = _TEMP.fullmatch(name)
        if m and int(m.group(3)) != os.getpid() and not pid_alive(
                int(m.group(3))):
            try:
                os.remove(osp.join(directory, name))
                stale.append(name)
            except FileNotFoundError:  # another process removed it
                pass
    return stale
