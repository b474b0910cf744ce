# MB-AKT on CIFAR-100: MMPretrain's ResNet-18 for CIFAR with a branch on
# each of its first three stages (BYOT's setting: MMRazor reports 80.66
# top-1 for BYOT with AutoAugment over 250 epochs; GPU scale).
_base_ = ['../_base_/cifar100_bs64_240e.py', '../_base_/distill_runtime.py']

model = dict(
    type='MBAKT',
    student='{{fileDirname}}/../cifar100/resnet18_b64-240e_cifar100.py')

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
default_hooks = _base_.distill_default_hooks
# each branch's accuracy beside the student's, after every validation
custom_hooks = [dict(type='EnsembleEvalHook')]
