# DIST on ImageNet as the paper sets it there: beta = gamma = 1, tau = 1.
_base_ = '../_base_/pairs/resnet34_resnet18_8xb32_in1k.py'

model = dict(
    type='DIST',
    student=dict(head=dict(init_cfg=None)),  # see README: logit scale
    loss_kd=dict(type='DISTLoss', beta=1.0, gamma=1.0, temperature=1.0),
)
