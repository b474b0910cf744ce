# BYOT on CIFAR-100: MB-AKT's ResNet-18 without the discriminator.
_base_ = './mbakt_resnet18_b64-240e_cifar100.py'

model = dict(discriminator=None, loss_gan=None)
