# DIST on CIFAR-100 as the paper sets it there: beta = gamma = 2, tau = 4;
# the student's head at PyTorch's default initialisation (see its config).
_base_ = '../_base_/pairs/wrn-40-2_wrn-16-2_b64-240e_cifar100.py'

model = dict(
    type='DIST',
    student='{{fileDirname}}/wrn-16-2-headinit_b64-240e_cifar100.py',
    loss_kd=dict(type='DISTLoss', beta=2.0, gamma=2.0, temperature=4.0),
)
