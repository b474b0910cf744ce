# DML on the raccoon set: AFD's two RetinaNets without discriminators.
_base_ = './afd_retinanet-r18-w16_retinanet-r18_24e_raccoon.py'

model = dict(discriminator=None, loss_gan=None)
