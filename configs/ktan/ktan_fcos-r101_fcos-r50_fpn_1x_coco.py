# Anchor-free: FCOS teacher and student (both caffe-style preprocessing).
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'checkpoints/fcos_r101-caffe_fpn_gn-head-1x_coco.pth'

model = dict(
    _delete_=True,
    type='DetectionDistiller',
    student=_base_.model,
    teacher='mmdet::fcos/fcos_r101-caffe_fpn_gn-head-1x_coco.py',
    teacher_ckpt=teacher_ckpt)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))

# mmkd's base hooks: atomic checkpoints, random state, student files, run guard
default_hooks = _base_.distill_default_hooks
