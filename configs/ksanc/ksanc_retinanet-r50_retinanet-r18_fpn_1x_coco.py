# KSANC on COCO, RetinaNet R50 -> R18 (see the pair's base): attention on
# the top three FPN levels, logit terms on every anchor's class scores.
_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(type='KSANC')

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
