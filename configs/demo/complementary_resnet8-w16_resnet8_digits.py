# Complementary features on the digits, for the comparison with KTAN and KD
# (its teacher: recon-teacher_resnet8-w16_digits.py, trained first).
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

teacher_ckpt = 'work_dirs/recon-teacher_resnet8-w16_digits/epoch_15.pth'

model = dict(
    type='ComplementaryDistiller',
    teacher='{{fileDirname}}/recon-teacher_resnet8-w16_digits.py',
    teacher_ckpt=teacher_ckpt,
    adv_warmup_iters=100,
    # half the 64 channels it judges (default 64): as good on the digits
    # (6 seeds) and a faster step (configs/complementary/README.md)
    discriminator=dict(feat_channels=32))

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
