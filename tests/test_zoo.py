"""The README's recipe over detector configs straight from MMDetection's
model zoo: ``_base_ = [student config, distill_runtime.py]``, a
``DetectionDistiller`` over ``_base_.model``, built by mmengine's Runner
(which hands a top-level ``data_preprocessor`` to the model and registers
the student's own ``custom_hooks``) and one real training step; or, where
distillation cannot work, a clear reason at build time."""
import copy
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.runner import Runner

from mmkd.utils import student_config

pytestmark = pytest.mark.e2e

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RUNTIME = osp.join(ROOT, 'configs', '_base_', 'distill_runtime.py')
RETINA18 = 'retinanet/retinanet_r18_fpn_1x_coco.py'

# student, teacher (None: the student's own config), extra model fields
RUNS = {
    'retinanet': (RETINA18, None, ''),
    'atss<-retinanet (1 vs 9 anchors)': ('atss/atss_r50_fpn_1x_coco.py',
                                         RETINA18, ''),
    'gfl<-retinanet': ('gfl/gfl_r50_fpn_1x_coco.py', RETINA18, ''),
    'fcos<-retinanet': ('fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
                        RETINA18, ''),
    'faster-rcnn': ('faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', None, ''),
    'mask-rcnn': ('mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', None, ''),
    'retinanet<-faster-rcnn (strides 8-128 vs 4-64)': (
        RETINA18, 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
        'loss_kd=None'),
    'yolov3<-retinanet (int mean, top-level data_preprocessor)': (
        'yolo/yolov3_d53_8xb8-320-273e_coco.py', RETINA18, 'loss_kd=None'),
    'ssdlite (top-level data_preprocessor, widths per level)': (
        'ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py', None, ''),
    'rtmdet (custom_hooks)': ('rtmdet/rtmdet_tiny_8xb32-300e_coco.py', None,
                              ''),
    'yolox (custom_hooks)': ('yolox/yolox_tiny_8xb8-300e_coco.py', None, ''),
    'detr': ('detr/detr_r50_8xb2-150e_coco.py', None, 'loss_kd=None'),
}

# distillers the recipe's defaults cannot build, and the reason they give
REASONS = {
    'yolov3 (KD)': ('yolo/yolov3_d53_8xb8-320-273e_coco.py', None,
                    'YOLOV3Head has none .* set loss_kd=None'),
    'detr (KD)': ('detr/detr_r50_8xb2-150e_coco.py', None,
                  'DETR-style .* Set loss_kd=None'),
    'faster-rcnn<-retinanet (KD)': (
        'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', RETINA18,
        'to be one-stage .* or set loss_kd=None'),
    'cornernet (no neck)': (
        'cornernet/cornernet_hourglass104_8xb6-210e-mstest_coco.py',
        RETINA18, r'student \(CornerNet\) has no neck'),
}


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """``make(config) -> path`` of a state dict of that zoo model."""
    cache = {}
    root = tmp_path_factory.mktemp('zoo_teachers')

    def make(config):
        if config not in cache:
            model = copy.deepcopy(get_config('mmdet::' + config).model)
            torch.manual_seed(0)
            path = root / (config.replace('/', '_') + '.pth')
            torch.save(dict(state_dict=MODELS.build(model).state_dict()),
                       path)
            cache[config] = str(path)
        return cache[config]

    return make


def readme_config(tmp_path, student, teacher, ckpt, extra=''):
    """A distillation config written as the README shows."""
    path = tmp_path / 'distill.py'
    path.write_text(f"""
_base_ = ['mmdet::{student}', '{RUNTIME}']
model = dict(
    _delete_=True, type='DetectionDistiller', student=_base_.model,
    teacher='mmdet::{teacher or student}', teacher_ckpt='{ckpt}',
    {extra})
optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
default_hooks = _base_.distill_default_hooks
work_dir = '{tmp_path / "work"}'
""")
    return Config.fromfile(str(path))


@pytest.mark.parametrize('name', list(RUNS))
def test_zoo_student_trains_one_step(name, tmp_path, teacher_ckpt):
    student, teacher, extra = RUNS[name]
    cfg = readme_config(tmp_path, student, teacher,
                        teacher_ckpt(teacher or student), extra)
    runner = Runner.from_cfg(cfg)
    runner.message_hub.update_info('iter', 0)  # batch augments read it
    optim = runner.build_optim_wrapper(cfg.optim_wrapper)
    torch.manual_seed(0)
    batch = demo_mm_inputs(2, [(3, 128, 128)] * 2, num_items=[3, 3],
                           num_classes=80, with_mask='mask' in student)
    before = {k: v.clone() for k, v in
              runner.model.student.state_dict().items()}
    log = runner.model.train_step(batch, optim)
    assert all(torch.isfinite(v).all() for v in log.values())
    assert 'distill.loss_feat' in log and 'disc.loss_d' in log
    assert ('distill.loss_kd' in log) == ('loss_kd=None' not in extra)
    after = runner.model.student.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    # the student's own config (what student_config.py holds) builds it
    plain = MODELS.build(student_config(cfg).model)
    assert plain.state_dict().keys() == after.keys()


@pytest.mark.parametrize('name', list(REASONS))
def test_zoo_student_that_cannot_be_distilled_says_why(name, tmp_path):
    student, teacher, reason = REASONS[name]
    # no teacher checkpoint needed to build (it loads when training starts)
    cfg = readme_config(tmp_path, student, teacher, 'teacher.pth')
    with pytest.raises(ValueError, match=reason):
        Runner.from_cfg(cfg)
