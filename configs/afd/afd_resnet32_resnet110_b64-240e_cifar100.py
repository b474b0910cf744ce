# AFD on CIFAR-100: a ResNet-32 (the student) and a ResNet-110 trained
# together; the T2S transforms are built where widths differ (none here).
_base_ = './afd_resnet32_resnet32_b64-240e_cifar100.py'

model = dict(
    peers=['{{fileDirname}}/../cifar100/resnet110_b64-240e_cifar100.py'])
