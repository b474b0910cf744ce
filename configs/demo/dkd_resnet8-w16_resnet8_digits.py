# DKD on the digits, for the comparison with KD and the others: the
# CIFAR-100 setting of a wide teacher (alpha 1, beta 8, T 4), the loss warmed
# up over the first epoch (the paper's 20 of 240, scaled to 15 epochs).
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(
    type='DKD',
    loss_kd=dict(type='DKDLoss', alpha=1.0, beta=8.0, temperature=4.0))
custom_hooks = [
    dict(type='DistillLossWeightHook', by_epoch=True,
         schedules=dict(loss_kd=dict(warmup=1))),
]
