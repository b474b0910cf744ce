# DIST on the digits, for the comparison with KD and the others: the
# CIFAR-100 setting (beta = gamma = 2, tau = 4).
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(
    type='DIST',
    loss_kd=dict(type='DISTLoss', beta=2.0, gamma=2.0, temperature=4.0))
