import builtins
import io
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmkd  # noqa: F401  (registers the allow-list and the reducer)
from mmengine.fileio import get_file_backend
from mmengine.runner import CheckpointLoader

from mmkd.utils import (UnsafeCheckpointError, load_checkpoint_file,
                        save_atomic)


def roundtrip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_history_buffer_loads_with_weights_only():
    buffer = HistoryBuffer(max_length=10)
    for value, count in ((1.5, 1), (2.0, 3), (4.0, 2)):
        buffer.update(value, count)
    loaded = roundtrip({'log': buffer})['log']
    assert isinstance(loaded, HistoryBuffer)
    for a, b in zip(loaded.data, buffer.data):
        np.testing.assert_array_equal(a, b)
    assert loaded.max_length == 10 and loaded.mean() == buffer.mean()


def test_numpy_data_loads_with_weights_only():
    data = dict(arr=np.arange(3, dtype=np.int32), f=np.float64(0.5),
                i=np.int64(7), dtype=np.dtype('float32'))
    loaded = roundtrip(data)
    np.testing.assert_array_equal(loaded['arr'], data['arr'])
    assert loaded['f'] == 0.5 and loaded['i'] == 7


def test_getattr_is_never_allow_listed():
    assert builtins.getattr not in torch.serialization.get_safe_globals()


class Evil:

    def __reduce__(self):
        return os.system, ('touch evil_was_here',)


class Custom:
    """A harmless class that is not on the allow-list."""


@pytest.mark.parametrize('loader', ['mmkd', 'mmengine'])
def test_a_pickle_that_runs_code_is_refused(loader, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': Evil()}, path)
    load = (load_checkpoint_file if loader == 'mmkd' else
            CheckpointLoader.load_checkpoint)  # resume and load_from
    with pytest.raises(UnsafeCheckpointError,
                       match=r'refused: loading it needs posix.system.*'
                       r'can run arbitrary code.*MMKD_TRUSTED_CHECKPOINTS'):
        load(str(path))
    assert not (tmp_path / 'evil_was_here').exists()


def test_trusted_checkpoint_opt_in_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / 'custom.pth'
    torch.save({'state_dict': {}, 'extra': Custom()}, path)
    with pytest.raises(UnsafeCheckpointError, match='Custom'):
        load_checkpoint_file(str(path))
    monkeypatch.setenv('MMKD_TRUSTED_CHECKPOINTS',
                       os.pathsep.join(['/elsewhere.pth', str(path)]))
    assert isinstance(load_checkpoint_file(str(path))['extra'], Custom)
    other = tmp_path / 'other.pth'
    torch.save({'extra': Custom()}, other)
    with pytest.raises(UnsafeCheckpointError):  # only the named file
        load_checkpoint_file(str(other))


@pytest.mark.parametrize('damage', ['truncated', 'garbage', 'empty'])
def test_corrupted_checkpoint_is_a_clear_error(damage, tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {'w': torch.ones(100)}}, path)
    data = path.read_bytes()
    path.write_bytes({'truncated': data[:len(data) // 2],
                      'garbage': os.urandom(500), 'empty': b''}[damage])
    with pytest.raises(RuntimeError, match='corrupted or truncated'):
        CheckpointLoader.load_checkpoint(str(path))


def test_save_atomic_never_leaves_a_partial_file(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pth'
    save_atomic({'a': torch.ones(1)}, str(path))

    def disk_full(fd):  # the data is in the temporary file, not yet synced
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', disk_full)
    with pytest.raises(OSError):
        save_atomic({'a': torch.zeros(1)}, str(path))
    with pytest.raises(OSError):  # the runner's checkpoints, via mmengine
        get_file_backend(backend_args=dict(
            backend='mmkd_atomic_local')).put(b'new' * 100, str(path))
    monkeypatch.undo()
    # the previous file is intact, and no temporary file is left
    assert torch.equal(load_checkpoint_file(str(path))['a'], torch.ones(1))
    assert os.listdir(tmp_path) == ['ckpt.pth']


def test_student_config_keeps_other_plugins_and_drops_mmkd():
    from mmengine.config import Config

    from mmkd.utils import student_config
    cfg = Config(dict(
        model=dict(type='DetectionDistiller', student=dict(type='RetinaNet')),
        custom_imports=dict(imports=['mmkd', 'my_plugin']),
        model_wrapper_cfg=dict(type='DistillDataParallel'),
        optim_wrapper=dict(constructor='DistillOptimWrapperConstructor',
                           optimizer=dict(type='SGD', lr=0.1),
                           disc=dict(optimizer=dict(type='Adam'))),
        default_hooks=dict(checkpoint=dict(
            type='CheckpointHook', backend_args=dict(
                backend='mmkd_atomic_local'))),
        custom_hooks=[dict(type='StopDistillHook', stop_iter=3),
                      dict(type='EMAHook')]))
    out = student_config(cfg)
    assert out.model == dict(type='RetinaNet')
    assert out.custom_imports.imports == ['my_plugin']
    assert 'model_wrapper_cfg' not in out
    assert out.optim_wrapper == dict(optimizer=dict(type='SGD', lr=0.1))
    assert 'backend_args' not in out.default_hooks.checkpoint
    assert out.custom_hooks == [dict(type='EMAHook')]
