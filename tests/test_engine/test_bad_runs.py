"""Bad checkpoints and data given to a real run fail before the first
iteration, with an error that names the problem and the fix."""
import copy
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import ConfigDict
from mmengine.runner import Runner

from mmkd.utils import UnsafeCheckpointError
from ..conftest import retinanet
from ..runs import run_config
from ..test_utils.test_checkpoint import Evil

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture
def cfg(distiller_cfg, shapes_root, tmp_path):
    return run_config(tmp_path / 'run', shapes_root, distiller_cfg())


def start(cfg, ckpt, resume=True):
    cfg = copy.deepcopy(cfg)
    cfg.load_from, cfg.resume = str(ckpt), resume
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.mark.parametrize('resume', [True, False], ids=['resume', 'load_from'])
def test_plain_detector_checkpoint(resume, cfg, tmp_path):
    plain = tmp_path / 'student.pth'
    torch.save(dict(state_dict=MODELS.build(ConfigDict(
        retinanet())).state_dict(), meta=dict(epoch=1, iter=4)), plain)
    with pytest.raises(RuntimeError,
                       match=r'no "student\.\*" weights .*backbone.*'
                       r"type='Pretrained'"):
        start(cfg, plain, resume)


def test_resume_from_a_checkpoint_that_runs_code(cfg, tmp_path,
                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=dict(epoch=1, iter=4),
                    payload=Evil()), evil)
    with pytest.raises(UnsafeCheckpointError, match='arbitrary code'):
        start(cfg, evil)
    assert not (tmp_path / 'evil_was_here').exists()


def test_resume_from_a_truncated_checkpoint(cfg, tmp_path):
    cut = tmp_path / 'cut.pth'
    torch.save(dict(state_dict={'student.w': torch.ones(1000)}), cut)
    cut.write_bytes(cut.read_bytes()[:3000])
    with pytest.raises(RuntimeError, match='corrupted or truncated'):
        start(cfg, cut)


@pytest.mark.e2e
def test_empty_dataset_through_tools_train(cfg, shapes_root, tmp_path):
    data = tmp_path / 'empty'
    shutil.copytree(shapes_root, data)
    ann = json.loads((data / 'annotations' / 'train.json').read_text())
    ann['annotations'] = []  # no boxes: filter_empty_gt drops every image
    (data / 'annotations' / 'train.json').write_text(json.dumps(ann))
    cfg = copy.deepcopy(cfg)
    cfg.train_dataloader.dataset.data_root = str(data)
    cfg.dump(str(tmp_path / 'cfg.py'))
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(tmp_path / 'cfg.py')],
        capture_output=True, text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode != 0
    assert 'A dataset of this config is empty' in proc.stderr, \
        proc.stderr[-3000:]
