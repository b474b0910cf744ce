# The demo's ResNet-8 student with its cross-entropy weighted 0.1, as the
# authors train KD with standardised logits, and its
# linear head at PyTorch's default initialisation: standardisation divides
# by the logits' spread, which MMPretrain's Normal(0, 0.01) head starts at
# about 0.003 (configs/ls/README.md).
_base_ = '../demo/resnet8_digits.py'

model = dict(head=dict(loss=dict(loss_weight=0.1), init_cfg=None))
