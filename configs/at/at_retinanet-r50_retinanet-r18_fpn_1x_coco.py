_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(
    adapter=None,
    loss_feat=dict(type='ATLoss', loss_weight=1000.0),
)
