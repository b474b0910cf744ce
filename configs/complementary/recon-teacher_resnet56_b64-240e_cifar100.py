# Stage 1: the complementary teacher, ResNet-56 trained for CIFAR-100 plus
# image reconstruction from its last stage (configs/complementary/README.md).
_base_ = '../cifar100/resnet56_b64-240e_cifar100.py'

model = dict(_delete_=True, type='ReconstructionTeacher', model=_base_.model)
