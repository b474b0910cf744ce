# The demo's ResNet-8 student with its linear head at PyTorch's default
# initialisation, for the scale-blind logit losses (configs/dist/README.md).
_base_ = '../demo/resnet8_digits.py'

model = dict(head=dict(init_cfg=None))
