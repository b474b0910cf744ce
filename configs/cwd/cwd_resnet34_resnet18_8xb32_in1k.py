_base_ = '../_base_/pairs/resnet34_resnet18_8xb32_in1k.py'

model = dict(
    loss_feat=dict(type='CWDLoss', tau=4.0, loss_weight=3.0),
)
