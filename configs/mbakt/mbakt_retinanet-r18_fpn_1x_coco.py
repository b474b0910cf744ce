# MB-AKT on COCO: MMDetection's RetinaNet-R18 with a branch on each of its
# first three backbone stages; a branch is a one-conv RetinaHead at the neck
# level of the next stride (8, 16, 32), dropped from the exported student.
_base_ = [
    'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
    '../_base_/distill_runtime.py'
]

model = dict(_delete_=True, type='MBAKT', student=_base_.model)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
default_hooks = _base_.distill_default_hooks
custom_hooks = [dict(type='EnsembleEvalHook')]
