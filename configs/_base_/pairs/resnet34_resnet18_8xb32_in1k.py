# The teacher/student pair, data and runtime the configs of this pair
# share (the baselines, KTAN); each adds its method to `model`.
_base_ = [
    'mmpretrain::resnet/resnet18_8xb32_in1k.py', '../distill_runtime.py'
]

# A trained ResNet-34 (e.g. MMPretrain's released resnet34_8xb32_in1k).
teacher_ckpt = 'checkpoints/resnet34_8xb32_in1k.pth'

model = dict(
    _delete_=True,
    type='TeacherDistiller',
    student=_base_.model,
    teacher='mmpretrain::resnet/resnet34_8xb32_in1k.py',
    teacher_ckpt=teacher_ckpt,
)

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
