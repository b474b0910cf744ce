# PKD on the digits, last stage through T2S (MMRazor's weight, as on CIFAR).
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(loss_feat=dict(type='PKDLoss', loss_weight=6.0))
