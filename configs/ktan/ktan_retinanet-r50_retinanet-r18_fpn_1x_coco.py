_base_ = [
    'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
    '../_base_/distill_runtime.py'
]

# Train the teacher first (or use a released one), then point here.
teacher_ckpt = 'checkpoints/retinanet_r50_fpn_1x_coco.pth'

model = dict(
    _delete_=True,
    type='DetectionDistiller',  # defaults are KTAN's: T2S + D + KD
    student=_base_.model,
    teacher='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    teacher_ckpt=teacher_ckpt)

# The student keeps its SGD; the discriminator gets its own optimizer.
optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))

# mmkd's base hooks: atomic checkpoints, random state, student files, run guard
default_hooks = _base_.distill_default_hooks
