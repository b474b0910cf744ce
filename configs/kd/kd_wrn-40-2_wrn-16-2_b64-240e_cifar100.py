_base_ = [
    '../_base_/cifar100_bs64_240e.py', '../_base_/distill_runtime.py'
]

# Train the teacher first: configs/cifar100/wrn-40-2_b64-240e_cifar100.py
teacher_ckpt = 'work_dirs/wrn-40-2_b64-240e_cifar100/epoch_240.pth'

model = dict(
    type='TeacherDistiller',
    student='{{fileDirname}}/../cifar100/wrn-16-2_b64-240e_cifar100.py',
    teacher='{{fileDirname}}/../cifar100/wrn-40-2_b64-240e_cifar100.py',
    teacher_ckpt=teacher_ckpt,
    loss_kd=dict(type='KDLoss', temperature=4, loss_weight=1.0),
)

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
