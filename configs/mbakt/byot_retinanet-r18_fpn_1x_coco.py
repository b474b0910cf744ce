# BYOT on COCO: MB-AKT's RetinaNet-R18 without the discriminator.
_base_ = './mbakt_retinanet-r18_fpn_1x_coco.py'

model = dict(discriminator=None, loss_gan=None)
