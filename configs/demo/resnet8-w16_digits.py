# The demo's classification teacher: the same ResNet-8, four times as wide.
_base_ = ['./resnet8_digits.py']
model = dict(backbone=dict(widths=(16, 16, 32, 64)), head=dict(in_channels=64))
