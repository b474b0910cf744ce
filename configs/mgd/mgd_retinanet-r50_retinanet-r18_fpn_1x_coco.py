# MGD on COCO: RetinaNet R50 -> R18, every neck level, the paper's detector
# setting (alpha 2e-5, lambda 0.65).
_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(
    type='MGD',
    loss_mgd=dict(type='MGDLoss', alpha_mgd=2e-5, lambda_mgd=0.65))
