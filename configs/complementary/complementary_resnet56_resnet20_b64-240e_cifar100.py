# Stage 2: ResNet-20 learns the complementary teacher's last-stage features
# (train the teacher first with recon-teacher_resnet56_b64-240e_cifar100.py).
_base_ = '../_base_/pairs/resnet56_resnet20_b64-240e_cifar100.py'

teacher_ckpt = 'work_dirs/recon-teacher_resnet56_b64-240e_cifar100/' \
    'epoch_240.pth'

model = dict(
    type='ComplementaryDistiller',
    teacher='{{fileDirname}}/recon-teacher_resnet56_b64-240e_cifar100.py',
    teacher_ckpt=teacher_ckpt,
    # half the 64 channels it judges (default 64): as good on the digits
    # (6 seeds) and a faster step (configs/complementary/README.md)
    discriminator=dict(feat_channels=32))

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
