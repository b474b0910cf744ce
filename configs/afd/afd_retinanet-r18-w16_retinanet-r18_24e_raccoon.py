# AFD on the raccoon set: the quarter-width RetinaNet-R18 student of
# configs/demo/ and the full-width RetinaNet-R18 (the KTAN comparison's
# teacher) trained together from scratch.
_base_ = [
    '../demo/retinanet_r18-w16_fpn-32_24e_raccoon.py',
    '../_base_/distill_runtime.py'
]

model = dict(
    _delete_=True,
    type='AFD',
    student=_base_.model,
    peers=['{{fileDirname}}/../demo/retinanet_r18_fpn_24e_raccoon.py'])

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    adv=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)),
    disc=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)))
default_hooks = _base_.distill_default_hooks
