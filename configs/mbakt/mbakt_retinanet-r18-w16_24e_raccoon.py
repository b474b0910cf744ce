# MB-AKT on the raccoon set: the quarter-width RetinaNet-R18 student of
# configs/demo/ with a one-conv RetinaHead branch on each of its first three
# backbone stages (configs/mbakt/README.md).
_base_ = [
    '../demo/retinanet_r18-w16_fpn-32_24e_raccoon.py',
    '../_base_/distill_runtime.py'
]

model = dict(_delete_=True, type='MBAKT', student=_base_.model)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
default_hooks = _base_.distill_default_hooks
