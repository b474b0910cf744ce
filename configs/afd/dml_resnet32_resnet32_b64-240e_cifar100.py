# DML on CIFAR-100: AFD's two ResNet-32s without discriminators.
_base_ = './afd_resnet32_resnet32_b64-240e_cifar100.py'

model = dict(discriminator=None, loss_gan=None)
