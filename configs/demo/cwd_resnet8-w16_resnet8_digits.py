# CWD on the digits, last stage through T2S, tau 4 (as on CIFAR).
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(loss_feat=dict(type='CWDLoss', tau=4.0, loss_weight=3.0))
