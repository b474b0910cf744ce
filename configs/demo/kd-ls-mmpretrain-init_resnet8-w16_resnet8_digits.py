# KD with standardised logits on the digits with the student's head at
# MMPretrain's initialisation (Normal(0, 0.01): logits of spread about
# 0.003), to show why the configs start it at PyTorch's
# (configs/ls/README.md).
_base_ = './kd-ls_resnet8-w16_resnet8_digits.py'

model = dict(student=dict(
    _delete_=True, type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=8, widths=(4, 4, 8, 16)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=16,
              loss=dict(type='CrossEntropyLoss', loss_weight=0.1))))
