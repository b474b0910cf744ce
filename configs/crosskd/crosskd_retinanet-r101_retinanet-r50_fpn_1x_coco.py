# CrossKD on COCO, the paper's RetinaNet pair: R101 (2x) -> R50 (1x); the
# paper reports 39.7 AP (student 37.4). The student's head features entering
# its last stacked conv (of 4) go through the teacher's last conv and class
# and box layers.
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'checkpoints/retinanet_r101_fpn_2x_coco.pth'

model = dict(
    _delete_=True,
    type='CrossKD',
    student=_base_.model,
    teacher='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
    teacher_ckpt=teacher_ckpt,
    layer=-2)

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
