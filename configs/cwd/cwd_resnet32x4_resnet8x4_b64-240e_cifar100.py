_base_ = '../_base_/pairs/resnet32x4_resnet8x4_b64-240e_cifar100.py'

model = dict(
    loss_feat=dict(type='CWDLoss', tau=4.0, loss_weight=3.0),
)
