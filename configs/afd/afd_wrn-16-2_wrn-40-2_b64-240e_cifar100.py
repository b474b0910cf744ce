# AFD on CIFAR-100: a WRN-16-2 (the student) and a WRN-40-2 together.
_base_ = './afd_resnet32_resnet32_b64-240e_cifar100.py'

model = dict(
    student='{{fileDirname}}/../cifar100/wrn-16-2_b64-240e_cifar100.py',
    peers=['{{fileDirname}}/../cifar100/wrn-40-2_b64-240e_cifar100.py'])
