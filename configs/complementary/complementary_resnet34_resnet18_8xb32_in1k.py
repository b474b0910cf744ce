# Stage 2: ResNet-18 learns the complementary ResNet-34's last stage (train
# the teacher first with recon-teacher_resnet34_8xb32_in1k.py).
_base_ = '../_base_/pairs/resnet34_resnet18_8xb32_in1k.py'

teacher_ckpt = 'work_dirs/recon-teacher_resnet34_8xb32_in1k/epoch_100.pth'

model = dict(
    type='ComplementaryDistiller',
    teacher='{{fileDirname}}/recon-teacher_resnet34_8xb32_in1k.py',
    teacher_ckpt=teacher_ckpt)

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
