# Two-stage: FPN features, plus KD on the RoI head's class scores for the
# student's sampled proposals fed through both RoI heads.
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'checkpoints/faster-rcnn_r101_fpn_1x_coco.pth'

model = dict(
    _delete_=True,
    type='DetectionDistiller',
    student=_base_.model,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py',
    teacher_ckpt=teacher_ckpt)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))

# mmkd's base hooks: atomic checkpoints, random state, student files, run guard
default_hooks = _base_.distill_default_hooks
