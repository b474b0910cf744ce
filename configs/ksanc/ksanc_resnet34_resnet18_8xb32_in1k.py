# KSANC on ImageNet, ResNet-34 -> ResNet-18 (see the pair's base).
_base_ = '../_base_/pairs/resnet34_resnet18_8xb32_in1k.py'

model = dict(type='KSANC')

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
