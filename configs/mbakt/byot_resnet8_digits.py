# BYOT on the digits: MB-AKT without the discriminator.
_base_ = './mbakt_resnet8_digits.py'

model = dict(discriminator=None, loss_gan=None)
