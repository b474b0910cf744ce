"""Safe loading of checkpoints.

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
import copyreg
import os
import os.path as osp
import pickle
import re
import sys
from collections import OrderedDict
from typing import Dict

import numpy as np
import torch

from .download import cached_download, is_url

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
