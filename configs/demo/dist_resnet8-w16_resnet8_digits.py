# DIST on the digits, for the comparison with KD and the others: the
# CIFAR-100 setting (beta = gamma = 2, tau = 4), the student's head at
# PyTorch's default initialisation (configs/dist/README.md).
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(
    type='DIST',
    student='{{fileDirname}}/../dist/resnet8-headinit_digits.py',
    loss_kd=dict(type='DISTLoss', beta=2.0, gamma=2.0, temperature=4.0))
