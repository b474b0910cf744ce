# DML on ImageNet: AFD's ResNet-18 and ResNet-34 without discriminators.
_base_ = './afd_resnet18_resnet34_8xb32_in1k.py'

model = dict(discriminator=None, loss_gan=None)
