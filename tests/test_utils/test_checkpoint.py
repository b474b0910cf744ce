import builtins
import io
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmkd  # noqa: F401  (registers the allow-list and the reducer)
from mmkd.utils import load_checkpoint_file, save_atomic


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


def test_a_pickle_that_runs_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': Evil()}, path)
    with pytest.raises(RuntimeError, match='could not be loaded safely'):
        load_checkpoint_file(str(path))
    assert not (tmp_path / 'evil_was_here').exists()


def test_save_atomic_never_leaves_a_partial_file(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pth'
    save_atomic({'a': torch.ones(1)}, str(path))

    def broken_save(obj, f, *args, **kwargs):
        with open(f, 'wb') as fh:
            fh.write(b'partial')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError):
        save_atomic({'a': torch.zeros(1)}, str(path))
    # the previous file is intact, and no temporary file is left
    assert torch.equal(load_checkpoint_file(str(path))['a'], torch.ones(1))
    assert os.listdir(tmp_path) == ['ckpt.pth']
