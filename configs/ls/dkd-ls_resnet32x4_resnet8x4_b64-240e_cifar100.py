# DKD with logit standardisation on CIFAR-100: DKD's config, both models'
# logits z-scored (the authors keep each method's other settings; T 2), the
# student's head at PyTorch's default initialisation.
_base_ = '../dkd/dkd_resnet32x4_resnet8x4_b64-240e_cifar100.py'

model = dict(
    student='{{fileDirname}}/../dist/resnet8x4-headinit_b64-240e_cifar100.py',
    loss_kd=dict(standardize=True, temperature=2.0))
