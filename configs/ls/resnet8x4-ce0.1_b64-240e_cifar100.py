# The student of the standardised KD configs: the CIFAR recipe's resnet8x4 with
# its cross-entropy weighted 0.1, as the authors train KD with standardised
# logits, and its
# linear head at PyTorch's default initialisation: standardisation divides
# by the logits' spread, which MMPretrain's Normal(0, 0.01) head starts at
# about 0.003 (configs/ls/README.md).
_base_ = '../cifar100/resnet8x4_b64-240e_cifar100.py'

model = dict(head=dict(loss=dict(loss_weight=0.1), init_cfg=None))
