_base_ = '../_base_/pairs/wrn-40-2_wrn-16-2_b64-240e_cifar100.py'

model = dict(
    loss_kd=dict(type='KDLoss', temperature=4, loss_weight=1.0),
)
