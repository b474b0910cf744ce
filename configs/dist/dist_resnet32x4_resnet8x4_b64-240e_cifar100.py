# DIST on CIFAR-100 as the paper sets it there: beta = gamma = 2, tau = 4;
# the student's head at PyTorch's default initialisation (see its config).
_base_ = '../_base_/pairs/resnet32x4_resnet8x4_b64-240e_cifar100.py'

model = dict(
    type='DIST',
    student='{{fileDirname}}/resnet8x4-headinit_b64-240e_cifar100.py',
    loss_kd=dict(type='DISTLoss', beta=2.0, gamma=2.0, temperature=4.0),
)
