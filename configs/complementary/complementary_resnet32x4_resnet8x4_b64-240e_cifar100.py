# Stage 2: ResNet-8x4 learns the complementary teacher's last-stage features
# (train the teacher first with recon-teacher_resnet32x4_b64-240e_cifar100.py).
_base_ = '../_base_/pairs/resnet32x4_resnet8x4_b64-240e_cifar100.py'

teacher_ckpt = 'work_dirs/recon-teacher_resnet32x4_b64-240e_cifar100/' \
    'epoch_240.pth'

model = dict(
    type='ComplementaryDistiller',
    teacher='{{fileDirname}}/recon-teacher_resnet32x4_b64-240e_cifar100.py',
    teacher_ckpt=teacher_ckpt)

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
