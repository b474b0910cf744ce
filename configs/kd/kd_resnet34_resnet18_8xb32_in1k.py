_base_ = '../_base_/pairs/resnet34_resnet18_8xb32_in1k.py'

model = dict(
    loss_kd=dict(type='KDLoss', temperature=4, loss_weight=1.0),
)
