"""Train a tiny model for 2 iterations with plain MMDetection or MMPretrain
(this process never imports mmkd) and keep its runner checkpoint.

    python tests/plain/train_plain.py {mmdet,mmpretrain} DATA_ROOT WORK_DIR

Used by the tests to check that what an ordinary run writes loads as a
teacher, a Pretrained init, load_from and resume source.
"""
import sys

from mmengine.config import Config
from mmengine.runner import Runner


def run(scope, work_dir, model, loader, train_cfg):
    """Two iterations of SGD, a checkpoint at the second."""
    return dict(
        default_scope=scope, model=model, work_dir=work_dir,
        train_dataloader=loader, train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.001,
                                          momentum=0.9)),
        param_scheduler=[dict(type='MultiStepLR', by_epoch=False,
                              milestones=[1])],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=2, by_epoch=False)),
        randomness=dict(seed=0), log_level='WARNING')


def det_config(data_root, work_dir, model):
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='Resize', scale=(64, 64), keep_ratio=True),
                dict(type='PackDetInputs')]
    loader = dict(
        batch_size=2, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(type='CocoDataset', data_root=data_root,
                     metainfo=dict(classes=('square', 'circle', 'triangle')),
                     ann_file='annotations/train.json',
                     data_prefix=dict(img='images/train/'),
                     pipeline=pipeline))
    return run('mmdet', work_dir, model, loader,
               dict(type='IterBasedTrainLoop', max_iters=2))


def cls_config(data_root, work_dir, model):
    loader = dict(
        batch_size=4, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(type='CustomDataset', data_root=data_root,
                     pipeline=[dict(type='LoadImageFromFile'),
                               dict(type='Resize', scale=32),
                               dict(type='PackInputs')]))
    return run('mmpretrain', work_dir, model, loader,
               dict(by_epoch=False, max_iters=2))


def main():
    kind, data_root, work_dir, model = sys.argv[1:5]
    assert 'mmkd' not in sys.modules
    make = det_config if kind == 'mmdet' else cls_config
    cfg = Config(make(data_root, work_dir, Config.fromfile(model).model))
    Runner.from_cfg(cfg).train()
    assert not any(m.startswith('mmkd') for m in sys.modules)


if __name__ == '__main__':
    main()
