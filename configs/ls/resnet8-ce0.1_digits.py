# The demo's ResNet-8 student with its cross-entropy weighted 0.1, as the
# authors train KD with standardised logits.
_base_ = '../demo/resnet8_digits.py'

model = dict(head=dict(loss=dict(loss_weight=0.1)))
