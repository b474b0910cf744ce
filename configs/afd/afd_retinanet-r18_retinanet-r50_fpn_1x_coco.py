# AFD on COCO: a RetinaNet-R18 (the student) and a RetinaNet-R50 trained
# together from ImageNet backbones (MMDetection's configs); D_k judges the
# FPN levels, the logit KL runs on the dense class scores.
_base_ = [
    'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
    '../_base_/distill_runtime.py'
]

model = dict(
    _delete_=True,
    type='AFD',
    student=_base_.model,
    peers=['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'])

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    adv=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)),
    disc=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)))
default_hooks = _base_.distill_default_hooks
custom_hooks = [dict(type='EnsembleEvalHook')]
