# Hinton KD (T=4) on the digits, for the comparison with KTAN.
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(loss_kd=dict(type='KDLoss', temperature=4))
