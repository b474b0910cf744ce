# AFD on CIFAR-100 with K = 3 ResNet-32s, cyclic: network k learns from
# network k-1 (logit KL and its discriminator), network 0 from network 2.
_base_ = './afd_resnet32_resnet32_b64-240e_cifar100.py'

model = dict(peers=[
    '{{fileDirname}}/../cifar100/resnet32_b64-240e_cifar100.py',
    '{{fileDirname}}/../cifar100/resnet32_b64-240e_cifar100.py'
])
