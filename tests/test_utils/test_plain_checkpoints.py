"""Checkpoints that plain MMDetection and MMPretrain runs write, in a
process that never imports mmkd, load everywhere a user passes them:
teacher, ``Pretrained`` init, ``load_from``, resume; without an opt-in and
without ever allowing an arbitrary ``getattr``."""
import copy
import functools
import http.server
import os
import os.path as osp
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader, Runner

from mmkd.utils import UnsafeCheckpointError, load_checkpoint_file
from ..conftest import retinanet
from ..plain import train_plain

pytestmark = pytest.mark.e2e
SCRIPT = osp.join(osp.dirname(osp.dirname(__file__)), 'plain',
                  'train_plain.py')
TEACHER = retinanet(width=16, neck_channels=32)
CLASSIFIER = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, base_channels=8,
                  init_cfg=None),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=2, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))


def train_plainly(kind, data_root, work_dir, model):
    """``tests/plain/train_plain.py`` in a subprocess: 2 iterations."""
    os.makedirs(work_dir, exist_ok=True)
    model_file = osp.join(work_dir, 'model.py')
    Config(dict(model=model)).dump(model_file)
    result = subprocess.run(
        [sys.executable, SCRIPT, kind, data_root, work_dir, model_file],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return osp.join(work_dir, 'iter_2.pth')


@pytest.fixture(scope='module')
def plain_det(tmp_path_factory, shapes_root):
    work = str(tmp_path_factory.mktemp('plain_det'))
    return dict(ckpt=train_plainly('mmdet', shapes_root, work, TEACHER),
                work=work, data=shapes_root)


@pytest.fixture(scope='module')
def plain_cls(tmp_path_factory):
    import cv2
    root = tmp_path_factory.mktemp('plain_cls')
    rng = np.random.default_rng(0)
    for c in ('a', 'b'):
        os.makedirs(root / 'data' / c)
        for i in range(4):
            cv2.imwrite(str(root / 'data' / c / f'{i}.png'),
                        rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    return train_plainly('mmpretrain', str(root / 'data'),
                         str(root / 'work'), CLASSIFIER)


def state_of(path):
    return torch.load(path, weights_only=False)['state_dict']


def same(module, state):
    own = module.state_dict()
    return own.keys() == state.keys() and all(
        torch.equal(own[k], state[k]) for k in own)


def test_the_plain_file_needs_getattr(plain_det):
    """What made mmkd refuse these files: HistoryBuffer's methods, pickled
    through builtins.getattr (loaded here without mmkd's resolution)."""
    from mmkd.utils.checkpoint import _numpy_data_globals
    allowed = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals([HistoryBuffer] +
                                         _numpy_data_globals())
    try:
        with pytest.raises(pickle.UnpicklingError, match='GLOBAL getattr'):
            torch.load(plain_det['ckpt'], weights_only=True)
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(allowed)


def test_plain_mmdet_checkpoint_loads_everywhere(plain_det):
    ckpt = load_checkpoint_file(plain_det['ckpt'])
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    assert set(ckpt) >= {'optimizer', 'param_schedulers', 'message_hub'}
    # mmengine's own loader (load_from, resume, Pretrained) goes through it
    assert CheckpointLoader.load_checkpoint(plain_det['ckpt']).keys() == \
        ckpt.keys()


def test_plain_mmdet_checkpoint_is_a_teacher(plain_det, distiller_cfg):
    model = MODELS.build(distiller_cfg(teacher_ckpt=plain_det['ckpt']))
    assert same(model.teacher, state_of(plain_det['ckpt']))


def test_plain_mmdet_checkpoint_as_pretrained_student(plain_det,
                                                      distiller_cfg):
    student = copy.deepcopy(TEACHER)
    student['init_cfg'] = dict(type='Pretrained',
                               checkpoint=plain_det['ckpt'])
    model = MODELS.build(distiller_cfg(student=student))
    model.init_weights()
    assert same(model.student, state_of(plain_det['ckpt']))


class Iterations(Hook):
    def __init__(self):
        self.seen = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.seen.append(runner.iter)


def test_plain_run_resumes_and_loads_from_it(plain_det, tmp_path):
    """The plain run, resumed here (mmkd imported), trains on from
    iteration 2; load_from of its checkpoint starts a new run at 0."""
    for resume, trained in ((True, [2]), (False, [0, 1, 2])):
        cfg = Config(train_plain.det_config(plain_det['data'],
                                            str(tmp_path / str(resume)),
                                            ConfigDict(TEACHER)))
        cfg.train_cfg.max_iters = 3
        cfg.update(load_from=plain_det['ckpt'], resume=resume)
        runner = Runner.from_cfg(cfg)
        iterations = Iterations()
        runner.register_hook(iterations)
        runner.train()
        assert iterations.seen == trained


def test_plain_mmpretrain_checkpoint_loads(plain_cls):
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as CLS_MODELS
    ckpt = load_checkpoint_file(plain_cls)
    assert 'message_hub' in ckpt
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = CLS_MODELS.build(dict(
            copy.deepcopy(CLASSIFIER),
            init_cfg=dict(type='Pretrained', checkpoint=plain_cls)))
    model.init_weights()
    assert same(model, state_of(plain_cls))


class ReachesFurther:
    """A pickle that calls getattr on something other than HistoryBuffer's
    statistics (here: a class's __subclasses__)."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__subclasses__')


class ReachesOtherName:

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


@pytest.mark.parametrize('payload', [ReachesFurther, ReachesOtherName])
def test_any_other_getattr_is_refused(payload, tmp_path):
    path = tmp_path / 'reach.pth'
    torch.save({'state_dict': {}, 'x': payload()}, path)
    with pytest.raises(UnsafeCheckpointError,
                       match=r'calls getattr on HistoryBuffer\.__'):
        load_checkpoint_file(str(path))


def test_a_pickled_model_says_how_to_save_a_state_dict(tmp_path):
    path = tmp_path / 'model.pth'
    torch.save(MODELS.build(ConfigDict(retinanet())), path)
    with pytest.raises(UnsafeCheckpointError,
                       match=r'whole pickled model \(RetinaNet\).*'
                       r'state_dict=model.state_dict\(\)'):
        load_checkpoint_file(str(path), 'teacher_ckpt')


@pytest.fixture
def http_root(tmp_path, monkeypatch):
    """A local HTTP server over ``tmp_path/served``; torch's hub cache in
    ``tmp_path/hub``."""
    served = tmp_path / 'served'
    served.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(served))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_http_teacher_checkpoint_is_cached_and_loaded_safely(
        http_root, plain_det, distiller_cfg, tmp_path):
    served, url = http_root
    data = open(plain_det['ckpt'], 'rb').read()
    (served / 'teacher.pth').write_bytes(data)
    model = MODELS.build(distiller_cfg(teacher_ckpt=f'{url}/teacher.pth'))
    model.train()  # training loads (and downloads) the teacher
    assert same(model.teacher, state_of(plain_det['ckpt']))
    cached = tmp_path / 'hub' / 'hub' / 'checkpoints' / 'teacher.pth'
    assert cached.read_bytes() == data
    # a code-running pickle behind a URL is refused like a local one
    torch.save({'state_dict': {}, 'x': ReachesFurther()},
               served / 'evil.pth')
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(f'{url}/evil.pth')
