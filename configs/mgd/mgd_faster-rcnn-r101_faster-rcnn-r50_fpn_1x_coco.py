# MGD on COCO, two-stage: Faster R-CNN R101 -> R50, every neck level
# (alpha 2e-5, lambda 0.65).
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'checkpoints/faster-rcnn_r101_fpn_1x_coco.pth'

model = dict(
    _delete_=True,
    type='MGD',
    student=_base_.model,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py',
    teacher_ckpt=teacher_ckpt,
    loss_mgd=dict(type='MGDLoss', alpha_mgd=2e-5, lambda_mgd=0.65))

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
