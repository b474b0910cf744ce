# DML on the digits: AFD without discriminators (logit KL only).
_base_ = './afd_resnet8-w16_resnet8_digits.py'

model = dict(discriminator=None, loss_gan=None)
