# MMPretrain's ResNet-18 for CIFAR (ResNet_CIFAR: a 3x3 stem, no max-pool)
# on CIFAR-100 alone, with the distillation literature's recipe.
_base_ = ['../_base_/cifar100_bs64_240e.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=18, num_stages=4,
                  out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
