# CrossKD on COCO: GFL R101 -> R50. The student's head features entering its last
# stacked conv go through the teacher's last conv and class and box layers;
# the same term serves every dense head laid out as class and box branches.
_base_ = [
    'mmdet::gfl/gfl_r50_fpn_1x_coco.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'checkpoints/gfl_r101_fpn_ms-2x_coco.pth'

model = dict(
    _delete_=True,
    type='CrossKD',
    student=_base_.model,
    teacher='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py',
    teacher_ckpt=teacher_ckpt,
    layer=-2)

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
