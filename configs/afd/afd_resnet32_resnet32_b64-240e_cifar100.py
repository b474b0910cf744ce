# AFD on CIFAR-100: two ResNet-32s trained together from scratch (the
# paper's setting: 69.38 alone -> 74.03 with AFD, 73.38 without the
# adversarial term; a secondary source, GPU scale).
_base_ = ['../_base_/cifar100_bs64_240e.py', '../_base_/distill_runtime.py']

model = dict(
    type='AFD',
    student='{{fileDirname}}/../cifar100/resnet32_b64-240e_cifar100.py',
    peers=['{{fileDirname}}/../cifar100/resnet32_b64-240e_cifar100.py'])

# the logit update: the networks' SGD (the CIFAR recipe); the adversarial
# update and the discriminators: Adam lr 2e-5, weight decay 0.1 (the
# authors' lab code on CIFAR)
optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    adv=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)),
    disc=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)))
default_hooks = _base_.distill_default_hooks
# the peers' accuracy beside the student's, after every validation
custom_hooks = [dict(type='EnsembleEvalHook')]
