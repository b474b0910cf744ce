# KSANC on the digits (`python tools/demo.py --task cls` trains the teacher
# first), for the comparison with KTAN and KD.
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(type='KSANC', adv_warmup_iters=100)

optim_wrapper = dict(
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
