_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(
    loss_feat=dict(type='PKDLoss', loss_weight=6.0),  # mmrazor's
)
