# The digits pair of the demo (configs/demo/): teacher, student, data and
# runtime the baseline configs on the digits share; each adds its loss.
_base_ = ['../digits_bs64_15e.py', '../distill_runtime.py']

teacher_ckpt = 'work_dirs/demo_cls/teacher/epoch_15.pth'

model = dict(
    type='TeacherDistiller',
    student='{{fileDirname}}/../../demo/resnet8_digits.py',
    teacher='{{fileDirname}}/../../demo/resnet8-w16_digits.py',
    teacher_ckpt=teacher_ckpt)

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
