"""Tiny detectors and data shared by the tests (CPU, 64-px images)."""
import copy
import os.path as osp

import pytest
import torch
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.config import ConfigDict

import mmkd  # noqa: F401  (registers mmkd's components)

register_all_modules()
NUM_CLASSES = 3


def tiny_backbone(width):
    return dict(
        type='ResNet',
        depth=18,
        base_channels=width,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN'),
        norm_eval=False,
        init_cfg=None)


def tiny_fpn(width, neck_channels, num_outs=5):
    return dict(
        type='FPN',
        in_channels=[width, width * 2, width * 4, width * 8],
        out_channels=neck_channels,
        start_level=1,
        add_extra_convs='on_input',
        num_outs=num_outs)


PREPROCESSOR = dict(
    type='DetDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32)
FOCAL_LOSS = dict(
    type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)
DENSE_TEST_CFG = dict(
    nms_pre=100,
    min_bbox_size=0,
    score_thr=0.05,
    nms=dict(type='nms', iou_threshold=0.5),
    max_per_img=20)


def retinanet(width=8, neck_channels=16, num_classes=NUM_CLASSES,
              num_outs=5):
    return dict(
        type='RetinaNet',
        data_preprocessor=PREPROCESSOR,
        backbone=tiny_backbone(width),
        neck=tiny_fpn(width, neck_channels, num_outs),
        bbox_head=dict(
            type='RetinaHead',
            num_classes=num_classes,
            in_channels=neck_channels,
            stacked_convs=1,
            feat_channels=neck_channels,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=4,
                scales_per_octave=3,
                ratios=[0.5, 1.0, 2.0],
                strides=[8, 16, 32, 64, 128][:num_outs]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=FOCAL_LOSS,
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0,
                ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=DENSE_TEST_CFG)


def fcos(width=8, neck_channels=16, num_classes=NUM_CLASSES):
    return dict(
        type='FCOS',
        data_preprocessor=PREPROCESSOR,
        backbone=tiny_backbone(width),
        neck=dict(tiny_fpn(width, neck_channels), add_extra_convs='on_output',
                  relu_before_extra_convs=True),
        bbox_head=dict(
            type='FCOSHead',
            num_classes=num_classes,
            in_channels=neck_channels,
            stacked_convs=1,
            feat_channels=neck_channels,
            strides=[8, 16, 32, 64, 128],
            norm_cfg=dict(type='GN', num_groups=4, requires_grad=True),
            loss_cls=FOCAL_LOSS,
            loss_bbox=dict(type='IoULoss', loss_weight=1.0),
            loss_centerness=dict(
                type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
        test_cfg=DENSE_TEST_CFG)


def faster_rcnn(width=8, neck_channels=16, num_classes=NUM_CLASSES):
    from mmengine.hub import get_config
    cfg = get_config(
        'mmdet::_base_/models/faster-rcnn_r50_fpn.py').model.to_dict()
    cfg['backbone'] = tiny_backbone(width)
    cfg['neck'] = dict(
        type='FPN',
        in_channels=[width, width * 2, width * 4, width * 8],
        out_channels=neck_channels,
        num_outs=5)
    cfg['rpn_head'].update(in_channels=neck_channels,
                           feat_channels=neck_channels)
    roi = cfg['roi_head']
    roi['bbox_roi_extractor']['out_channels'] = neck_channels
    roi['bbox_head'].update(
        in_channels=neck_channels, fc_out_channels=32,
        num_classes=num_classes)
    cfg['train_cfg']['rpn_proposal']['nms_pre'] = 200
    cfg['train_cfg']['rcnn']['sampler']['num'] = 64
    cfg['test_cfg']['rpn']['nms_pre'] = 200
    return cfg


DETECTORS = dict(retinanet=retinanet, fcos=fcos, faster_rcnn=faster_rcnn)

CLS_PREPROCESSOR = dict(type='ClsDataPreprocessor',
                        mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7],
                        to_rgb=False)


def classifier(backbone, channels, num_classes=NUM_CLASSES):
    """An MMPretrain ImageClassifier as its zoo configs write it."""
    return dict(
        type='ImageClassifier',
        data_preprocessor=CLS_PREPROCESSOR,
        backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=channels,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


def cifar_resnet(width=8, depth=8):
    """A CIFAR ResNet-8 of stage widths ``width * (1, 2, 4)``."""
    widths = (width, width, 2 * width, 4 * width)
    return classifier(dict(type='CIFARResNet', depth=depth, widths=widths),
                      4 * width)


def mmpretrain_resnet(width=8):
    """MMPretrain's own ResNet-18 (4 stages), narrowed."""
    return classifier(dict(type='ResNet', depth=18, base_channels=width,
                           num_stages=4, out_indices=(3, ), style='pytorch'),
                      8 * width)


CLASSIFIERS = dict(cifar_resnet=cifar_resnet,
                   mmpretrain_resnet=mmpretrain_resnet)


@pytest.fixture(scope='session')
def make_teacher_ckpt(tmp_path_factory):
    """``make(model_cfg) -> path`` of a saved state dict of that model."""
    cache = {}

    def make(model_cfg):
        key = repr(model_cfg)
        if key not in cache:
            torch.manual_seed(0)
            path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
            from mmkd.models.distillers.utils import build_model
            torch.save(dict(state_dict=build_model(ConfigDict(
                copy.deepcopy(model_cfg))).state_dict()), path)
            cache[key] = str(path)
        return cache[key]

    return make


@pytest.fixture
def distiller_cfg(make_teacher_ckpt):
    """``cfg(kind, **overrides)``: a distiller of a wide teacher and a narrow
    student of detector ``kind`` (teacher neck 32 channels, student 16)."""

    def cfg(kind='retinanet', reconstruction=False, **kwargs):
        if kind in CLASSIFIERS:
            teacher, student = CLASSIFIERS[kind](16), CLASSIFIERS[kind]()
        else:
            teacher = DETECTORS[kind](width=16, neck_channels=32)
            student = DETECTORS[kind]()
        if reconstruction:  # trained with a decoder (on its last map)
            teacher = dict(type='ReconstructionTeacher', model=teacher,
                           probe_size=128 if kind in DETECTORS else 32)
        out = dict(
            type='DetectionDistiller',
            student=student,
            teacher=teacher,
            teacher_ckpt=make_teacher_ckpt(teacher),
            probe_size=128 if kind in DETECTORS else 32,
            adv_warmup_iters=0)
        out.update(kwargs)
        return out

    return cfg


def cls_batch(batch_size=4, size=32, num_classes=NUM_CLASSES, seed=0):
    """A batch as MMPretrain's PackInputs makes it."""
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), generator=gen,
                              dtype=torch.uint8) for _ in range(batch_size)],
        data_samples=[DataSample().set_gt_label(i % num_classes)
                      for i in range(batch_size)])


def batch_for(kind, **kwargs):
    return cls_batch(**kwargs) if kind in CLASSIFIERS else packed_batch(
        **kwargs)


def packed_batch(batch_size=2, size=64, num_classes=NUM_CLASSES, seed=0):
    torch.manual_seed(seed)
    return demo_mm_inputs(
        batch_size=batch_size,
        image_shapes=[(3, size, size)] * batch_size,
        num_items=[3] * batch_size,
        num_classes=num_classes,
        with_mask=False)


@pytest.fixture
def batch():
    return packed_batch()


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory):
    """8 training and 4 validation images of 64 px (3 classes)."""
    from mmkd.utils.synthetic_data import make_shapes_dataset
    return make_shapes_dataset(
        str(tmp_path_factory.mktemp('shapes')), num_train=8, num_val=4,
        size=64)


@pytest.fixture(scope='session')
def digits_root(tmp_path_factory):
    """Handwritten digits 0-2 (NUM_CLASSES), 32 px, in MMPretrain's
    CustomDataset layout: 4 training and 1 validation image per class."""
    import shutil
    from mmkd.utils.digits import make_digits_dataset
    root = make_digits_dataset(str(tmp_path_factory.mktemp('digits')),
                               limit=5)
    for split in ('train', 'val'):
        for label in range(NUM_CLASSES, 10):
            shutil.rmtree(osp.join(root, split, str(label)))
    return root


@pytest.fixture
def data_root_for(request):
    """``data_root_for(kind)``: the tiny run data of a model kind (digits
    for classifiers, generated shapes for detectors)."""
    return lambda kind: request.getfixturevalue(
        'digits_root' if kind in CLASSIFIERS else 'shapes_root')
