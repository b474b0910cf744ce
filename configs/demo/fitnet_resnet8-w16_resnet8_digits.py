# FitNet (T2S + feature MSE, last stage) on the digits, against KTAN.
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(loss_feat=dict(type='FeatureMSELoss', loss_weight=1.0))
