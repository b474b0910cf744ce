# The teacher/student pair, data and runtime the configs of this pair
# share (the baselines, KTAN); each adds its method to `model`.
_base_ = [
    '../cifar100_bs64_240e.py', '../distill_runtime.py'
]

# Train the teacher first: configs/cifar100/resnet56_b64-240e_cifar100.py
teacher_ckpt = 'work_dirs/resnet56_b64-240e_cifar100/epoch_240.pth'

model = dict(
    type='TeacherDistiller',
    student='{{fileDirname}}/../../cifar100/resnet20_b64-240e_cifar100.py',
    teacher='{{fileDirname}}/../../cifar100/resnet56_b64-240e_cifar100.py',
    teacher_ckpt=teacher_ckpt,
)

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
