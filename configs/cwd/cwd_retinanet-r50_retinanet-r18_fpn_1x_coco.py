_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(
    loss_feat=dict(type='CWDLoss', tau=1.0, loss_weight=3.0),  # mmrazor's
)
