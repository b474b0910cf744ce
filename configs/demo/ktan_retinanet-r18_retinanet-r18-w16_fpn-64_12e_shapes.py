# Demo KTAN: the teacher above distils into the narrow student. The T2S
# adapters map the student's 64 FPN channels to the teacher's 128.
_base_ = [
    './retinanet_r18-w16_fpn-64_12e_shapes.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'work_dirs/demo/teacher/epoch_12.pth'

model = dict(
    _delete_=True,
    type='DetectionDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/retinanet_r18_fpn_12e_shapes.py',
    teacher_ckpt=teacher_ckpt,
    adv_warmup_iters=100)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))

# mmkd's base hooks: atomic checkpoints, random state, student files, run guard
default_hooks = _base_.distill_default_hooks
