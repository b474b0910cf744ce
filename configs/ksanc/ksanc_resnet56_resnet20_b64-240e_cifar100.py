# KSANC on this pair (train the teacher first; see the pair's base).
_base_ = '../_base_/pairs/resnet56_resnet20_b64-240e_cifar100.py'

model = dict(type='KSANC')

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
