# FGD on COCO, two-stage: Faster R-CNN R101 -> R50, every neck level, the
# paper's Faster R-CNN setting (temp 0.5, alpha 5e-5, beta 2.5e-5, gamma
# 5e-5, lambda 5e-7).
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'checkpoints/faster-rcnn_r101_fpn_1x_coco.pth'

model = dict(
    _delete_=True,
    type='FGD',
    student=_base_.model,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py',
    teacher_ckpt=teacher_ckpt,
    loss_fgd=dict(type='FGDLoss', temp=0.5, alpha_fgd=5e-5, beta_fgd=2.5e-5,
                  gamma_fgd=5e-5, lambda_fgd=5e-7))

optim_wrapper = dict(constructor='DistillOptimWrapperConstructor')
default_hooks = _base_.distill_default_hooks
