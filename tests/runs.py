"""Real Runner runs on tiny data (8 training images: generated shapes of
64 px for detectors, digits of 32 px for classifiers), for the lifecycle
tests: hooks, resume, DDP, kills."""
import copy
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS  # seen from mmdet and mmpretrain

from mmkd.utils.synthetic_data import SHAPES_CLASSES

ATOMIC = dict(backend='mmkd_atomic_local')


def pipeline(train: bool):
    steps = [dict(type='LoadImageFromFile'),
             dict(type='LoadAnnotations', with_bbox=True),
             dict(type='Resize', scale=(64, 64), keep_ratio=True)]
    if train:
        steps.append(dict(type='RandomFlip', prob=0.5))
    return steps + [dict(type='PackDetInputs')]


def loader(data_root: str, split: str, workers: int = 0):
    train = split == 'train'
    return dict(
        batch_size=2,
        num_workers=workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=train),
        dataset=dict(
            type='CocoDataset',
            data_root=data_root,
            metainfo=dict(classes=SHAPES_CLASSES),
            ann_file=f'annotations/{split}.json',
            data_prefix=dict(img=f'images/{split}/'),
            filter_cfg=dict(filter_empty_gt=train),
            pipeline=pipeline(train)))


def cls_loader(data_root: str, split: str, workers: int = 0):
    """MMPretrain's CustomDataset of the digits; the first 8 training
    images (random crops, so the random state matters)."""
    train = split == 'train'
    steps = [dict(type='LoadImageFromFile')] + (
        [dict(type='RandomCrop', crop_size=32, padding=2)] if train else []
    ) + [dict(type='PackInputs')]
    return dict(
        batch_size=2,
        num_workers=workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=train),
        dataset=dict(type='CustomDataset', data_root=data_root,
                     data_prefix=split, indices=8 if train else None,
                     pipeline=steps))


def run_config(work_dir, data_root, model: dict, *, epochs: int = 2,
               hooks=(), val_interval: int = 100, workers: int = 0,
               checkpoint: dict = None) -> Config:
    """An epoch-based distillation run with mmkd's base runtime hooks,
    checkpoints every epoch (atomic), seed 0: in MMPretrain for a
    classifier student (digits in ``data_root``), else in MMDetection."""
    if model['student']['type'] == 'ImageClassifier':
        scope, make_loader = 'mmpretrain', cls_loader
        evaluator = dict(type='Accuracy', topk=(1, ))
    else:
        scope, make_loader = 'mmdet', loader
        evaluator = dict(
            type='CocoMetric', metric='bbox', format_only=False,
            ann_file=osp.join(data_root, 'annotations/val.json'))
    return Config(dict(
        default_scope=scope,
        custom_imports=dict(imports=['mmkd'], allow_failed_imports=False),
        work_dir=str(work_dir),
        model=copy.deepcopy(model),
        train_dataloader=make_loader(data_root, 'train', workers),
        val_dataloader=make_loader(data_root, 'val', workers),
        val_evaluator=evaluator,
        test_dataloader=make_loader(data_root, 'val', workers),
        test_evaluator=evaluator,
        test_cfg=dict(type='TestLoop'),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=epochs,
                       val_interval=val_interval),
        val_cfg=dict(type='ValLoop'),
        optim_wrapper=dict(
            constructor='DistillOptimWrapperConstructor',
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
            disc=dict(optimizer=dict(type='Adam', lr=1e-3))),
        param_scheduler=[dict(type='MultiStepLR', milestones=[1],
                              by_epoch=True)],
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=checkpoint or dict(
                type='CheckpointHook', interval=1, backend_args=ATOMIC),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        custom_hooks=[dict(type='RandomStateHook'),
                      dict(type='StudentCheckpointHook'),
                      dict(type='RunGuardHook'), *hooks],
        model_wrapper_cfg=dict(type='DistillDataParallel'),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0),
        log_level='WARNING'))


@HOOKS.register_module(force=True)
class Recorder(Hook):
    """Keeps every iteration's logged losses, and the distiller switches."""
    priority = 'LOWEST'

    def __init__(self):
        self.log = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        self.log[runner.iter] = dict(
            {k: float(v) for k, v in outputs.items()},
            distill=model.schedule.distill,
            train_student=model.schedule.train_student,
            train_disc=model.schedule.train_adversary,
            scales=dict(model.schedule.scales))


@HOOKS.register_module(force=True)
class Crash(Hook):
    """Raises after epoch ``epoch`` (once its checkpoint is saved): an
    interrupted run."""
    priority = 'LOWEST'

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epoch:
            raise KeyboardInterrupt(f'interrupted after epoch {self.epoch}')


@HOOKS.register_module(force=True)
class CrashAtIter(Hook):
    """Raises after iteration ``iter`` (once its checkpoint is saved)."""
    priority = 'LOWEST'

    def __init__(self, iter):
        self.iter = iter

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.iter:
            raise KeyboardInterrupt(f'interrupted after iteration {self.iter}')


def recorder_of(runner) -> Recorder:
    return next(h for h in runner.hooks if isinstance(h, Recorder))


def weights(runner) -> dict:
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
