_base_ = [
    '../_base_/cifar100_bs64_240e.py', '../_base_/distill_runtime.py'
]

# Train the teacher first: configs/cifar100/resnet56_b64-240e_cifar100.py
teacher_ckpt = 'work_dirs/resnet56_b64-240e_cifar100/epoch_240.pth'

model = dict(
    type='KTAN',
    student='{{fileDirname}}/../cifar100/resnet20_b64-240e_cifar100.py',
    teacher='{{fileDirname}}/../cifar100/resnet56_b64-240e_cifar100.py',
    teacher_ckpt=teacher_ckpt,
    loss_kd=dict(temperature=4),  # the CIFAR recipe's T; KTAN otherwise
)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
default_hooks = _base_.distill_default_hooks
