# MB-AKT on the digits: the demo's ResNet-8 teaches itself through a
# branch on each of its first two stages and a discriminator on the class
# probabilities (ensemble real, branch fake). No teacher.
_base_ = ['../_base_/digits_bs64_15e.py', '../_base_/distill_runtime.py']

model = dict(type='MBAKT', student='{{fileDirname}}/../demo/resnet8_digits.py')

# the student and its branches: the student's SGD; the discriminator: Adam
optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
default_hooks = _base_.distill_default_hooks
