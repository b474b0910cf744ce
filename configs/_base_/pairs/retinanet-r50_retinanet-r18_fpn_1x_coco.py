# The teacher/student pair, data and runtime the baseline configs of
# this pair share; each adds its loss to `model`.
_base_ = [
    'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
    '../distill_runtime.py'
]

# Train the teacher first (or use a released one), then point here.
teacher_ckpt = 'checkpoints/retinanet_r50_fpn_1x_coco.pth'

model = dict(
    _delete_=True,
    type='TeacherDistiller',
    student=_base_.model,
    teacher='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    teacher_ckpt=teacher_ckpt,
)

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
