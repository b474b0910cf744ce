_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(
    loss_kd=dict(type='KDLoss', temperature=1.0, loss_weight=1.0),
)
