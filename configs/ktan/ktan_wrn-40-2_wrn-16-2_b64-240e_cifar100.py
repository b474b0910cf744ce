# KTAN on this pair (train the teacher first; see the pair's base).
_base_ = '../_base_/pairs/wrn-40-2_wrn-16-2_b64-240e_cifar100.py'

model = dict(
    type='KTAN',
    loss_kd=dict(temperature=4),  # the CIFAR recipe's T; KTAN otherwise 1
)

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
