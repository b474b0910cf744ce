# BYOT on CIFAR-100: MB-AKT's ResNet-56 without the discriminator.
_base_ = './mbakt_resnet56_b64-240e_cifar100.py'

model = dict(discriminator=None, loss_gan=None)
