# KTAN with its defaults on the raccoon pair (configs/ktan/README.md).
_base_ = [
    './retinanet_r18-w16_fpn-32_24e_raccoon.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'work_dirs/raccoon/teacher/epoch_24.pth'

model = dict(
    _delete_=True,
    type='KTAN',
    student=_base_.model,
    teacher='{{fileDirname}}/retinanet_r18_fpn_24e_raccoon.py',
    teacher_ckpt=teacher_ckpt)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
default_hooks = _base_.distill_default_hooks
