# A CIFAR ResNet-8 of stage widths 4-8-16 (5 k parameters) on the digits.
_base_ = ['../_base_/digits_bs64_15e.py']
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=8, widths=(4, 4, 8, 16)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=16,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
