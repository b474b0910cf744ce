# AFD on ImageNet: MMPretrain's ResNet-18 (the student) and ResNet-34
# trained together from scratch with MMPretrain's own recipe.
_base_ = [
    'mmpretrain::resnet/resnet18_8xb32_in1k.py',
    '../_base_/distill_runtime.py'
]

model = dict(
    _delete_=True,
    type='AFD',
    student=_base_.model,
    peers=['mmpretrain::resnet/resnet34_8xb32_in1k.py'])

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    adv=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)),
    disc=dict(optimizer=dict(type='Adam', lr=2e-5, weight_decay=0.1)))
default_hooks = _base_.distill_default_hooks
custom_hooks = [dict(type='EnsembleEvalHook')]
