# The CIFAR-100 recipe of the distillation literature (CRD, RepDistiller):
# SGD 0.05, momentum 0.9, weight decay 5e-4, batch 64, 240 epochs, the rate
# divided by 10 at epochs 150, 180 and 210. Users bring the data
# (mmpretrain's CIFAR100 dataset downloads or reads data/cifar100).
_base_ = [
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/default_runtime.py',
]
train_dataloader = dict(batch_size=64)
val_dataloader = dict(batch_size=64)
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=240, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
