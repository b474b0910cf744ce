# scikit-learn's handwritten digits (32-px RGB PNGs that
# `python tools/demo.py --task cls` writes to data/digits), 15 epochs on CPU.
_base_ = ['mmpretrain::_base_/default_runtime.py']

data_root = 'data/digits'
data_preprocessor = dict(
    num_classes=10, mean=[33.0] * 3, std=[70.0] * 3, to_rgb=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix='train', pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix='val', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=15)
train_cfg = dict(by_epoch=True, max_epochs=15, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(interval=15), logger=dict(interval=10))
