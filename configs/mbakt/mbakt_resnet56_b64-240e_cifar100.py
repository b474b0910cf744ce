# MB-AKT on CIFAR-100: a CIFAR ResNet-56 with a branch on each of its first
# two stages.
_base_ = './mbakt_resnet18_b64-240e_cifar100.py'

model = dict(
    student='{{fileDirname}}/../cifar100/resnet56_b64-240e_cifar100.py')
