# A CIFAR ResNet-8 (stage widths 8-16-32) on the digits, 30 epochs on CPU.
_base_ = ['../_base_/digits_bs64_30e.py']
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=8, widths=(8, 8, 16, 32)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=32,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
