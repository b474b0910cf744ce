# BYOT on the digits with the demo's 4x wider ResNet-8 (78 k parameters).
_base_ = './byot_resnet8_digits.py'

model = dict(student='{{fileDirname}}/../demo/resnet8-w16_digits.py')
