# DKD on CIFAR-100 as the paper and mdistiller's configs train it: alpha 1,
# beta 2.0, T 4, the loss warmed up over the first 20 epochs.
_base_ = '../_base_/pairs/resnet56_resnet20_b64-240e_cifar100.py'

model = dict(
    type='DKD',
    loss_kd=dict(type='DKDLoss', alpha=1.0, beta=2.0, temperature=4.0),
)
custom_hooks = [
    dict(type='DistillLossWeightHook', by_epoch=True,
         schedules=dict(loss_kd=dict(warmup=20))),
]
