# resnet8 on CIFAR-100 alone (a teacher, or the student baseline).
_base_ = ['../_base_/cifar100_bs64_240e.py']
# the CIFAR backbones (CIFARResNet, CIFARWideResNet, CIFARVGG) are mmkd's
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
