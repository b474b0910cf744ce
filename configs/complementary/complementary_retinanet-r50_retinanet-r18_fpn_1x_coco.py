# Stage 2: RetinaNet-R18 learns the complementary RetinaNet-R50's P5 (train
# the teacher first with recon-teacher_retinanet-r50_fpn_1x_coco.py).
_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

teacher_ckpt = 'work_dirs/recon-teacher_retinanet-r50_fpn_1x_coco/' \
    'epoch_12.pth'

model = dict(
    type='ComplementaryDistiller',
    teacher='{{fileDirname}}/recon-teacher_retinanet-r50_fpn_1x_coco.py',
    teacher_ckpt=teacher_ckpt)

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
