# DKD on ImageNet as the paper trains it: alpha 0.5, beta 0.5, T 1, the
# loss warmed up over the first epoch.
_base_ = '../_base_/pairs/resnet34_resnet18_8xb32_in1k.py'

model = dict(
    type='DKD',
    loss_kd=dict(type='DKDLoss', alpha=0.5, beta=0.5, temperature=1.0),
)
custom_hooks = [
    dict(type='DistillLossWeightHook', by_epoch=True,
         schedules=dict(loss_kd=dict(warmup=1))),
]
