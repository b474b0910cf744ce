_base_ = '../_base_/pairs/wrn-40-2_wrn-16-2_b64-240e_cifar100.py'

model = dict(
    loss_feat=dict(type='PKDLoss', loss_weight=6.0),
)
