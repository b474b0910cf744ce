"""Every config in configs/ loads and builds."""
import glob
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

from mmkd.models.teacher import teacher_model_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def test_configs_found():
    assert len(CONFIGS) >= 8


@pytest.fixture(scope='module')
def teacher_ckpts(tmp_path_factory):
    cache = {}

    def get(teacher):
        key = repr(teacher)
        if key not in cache:
            path = tmp_path_factory.mktemp('t') / 'teacher.pth'
            torch.save(MODELS.build(teacher_model_cfg(teacher)).state_dict(),
                       path)
            cache[key] = str(path)
        return cache[key]

    return get


@pytest.mark.parametrize('path', CONFIGS,
                         ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds(path, teacher_ckpts):
    cfg = Config.fromfile(path)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'optim_wrapper', 'param_scheduler', 'val_evaluator'):
        assert key in cfg, key
    model_cfg = cfg.model
    if 'teacher' in model_cfg:
        model_cfg.teacher_ckpt = teacher_ckpts(model_cfg.teacher)
        assert cfg.optim_wrapper.constructor == \
            'DistillOptimWrapperConstructor'
        assert cfg.model_wrapper_cfg.find_unused_parameters is False
    model = MODELS.build(model_cfg)
    assert model is not None
