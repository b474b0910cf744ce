# FitNet (T2S + feature MSE, last stage) on the digits, against KTAN.
_base_ = ['../_base_/digits_bs64_15e.py', '../_base_/distill_runtime.py']

teacher_ckpt = 'work_dirs/demo_cls/teacher/epoch_15.pth'

model = dict(
    type='TeacherDistiller',
    student='{{fileDirname}}/resnet8_digits.py',
    teacher='{{fileDirname}}/resnet8-w16_digits.py',
    teacher_ckpt=teacher_ckpt,
    loss_feat=dict(type='FeatureMSELoss', loss_weight=1.0))

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
