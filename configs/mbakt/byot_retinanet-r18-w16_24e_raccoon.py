# BYOT on the raccoon set: MB-AKT's configuration without the discriminator.
_base_ = './mbakt_retinanet-r18-w16_24e_raccoon.py'

model = dict(discriminator=None, loss_gan=None)
