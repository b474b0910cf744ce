_base_ = ['../_base_/digits_bs64_15e.py', '../_base_/distill_runtime.py']

# `python tools/demo.py --task cls` trains the teacher first.
teacher_ckpt = 'work_dirs/demo_cls/teacher/epoch_15.pth'

model = dict(
    type='KTAN',
    student='{{fileDirname}}/resnet8_digits.py',
    teacher='{{fileDirname}}/resnet8-w16_digits.py',
    teacher_ckpt=teacher_ckpt,
    loss_kd=dict(temperature=4),
    adv_warmup_iters=100)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
default_hooks = _base_.distill_default_hooks
