# The student of the DIST configs: the CIFAR recipe's resnet8x4 with its linear
# head at PyTorch's default initialisation. DIST's relations are blind to
# the logits' scale, so their gradient grows as the logits shrink; MMPretrain
# heads start at Normal(0, 0.01) weights, logits of spread about 0.003, and a
# student started there collapses (configs/dist/README.md).
_base_ = '../cifar100/resnet8x4_b64-240e_cifar100.py'

model = dict(head=dict(init_cfg=None))
