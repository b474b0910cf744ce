# AFD on the digits: the demo's ResNet-8 (student) and its 4x wider
# version (peer) trained together from scratch, one discriminator each.
_base_ = ['../_base_/digits_bs64_15e.py', '../_base_/distill_runtime.py']

model = dict(
    type='AFD',
    student='{{fileDirname}}/../demo/resnet8_digits.py',
    peers=['{{fileDirname}}/../demo/resnet8-w16_digits.py'])

# the logit update: the networks' SGD (the student's own optimizer config);
# the adversarial update of the networks and the discriminators' own:
# Adam at a much smaller rate, as the authors' lab code on CIFAR
optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    adv=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)),
    disc=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)))
default_hooks = _base_.distill_default_hooks
