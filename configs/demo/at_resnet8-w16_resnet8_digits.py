# AT on the digits: every stage, no adapter, CRD's weight (as on CIFAR).
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(
    adapter=None,
    loss_feat=dict(type='ATLoss', loss_weight=1000.0),
    levels=[0, 1, 2])
