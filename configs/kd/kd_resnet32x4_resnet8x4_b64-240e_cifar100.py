_base_ = '../_base_/pairs/resnet32x4_resnet8x4_b64-240e_cifar100.py'

model = dict(
    loss_kd=dict(type='KDLoss', temperature=4, loss_weight=1.0),
)
