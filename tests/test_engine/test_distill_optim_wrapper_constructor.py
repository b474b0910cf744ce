from mmdet.registry import MODELS

from mmkd.engine import DistillOptimWrapperConstructor


def test_without_discriminator_only_the_student_wrapper(distiller_cfg):
    model = MODELS.build(distiller_cfg(discriminator=None, loss_gan=None))
    wrappers = DistillOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)))(model)
    assert list(wrappers.keys()) == ['student']


def test_student_paramwise_cfg_applies(distiller_cfg):
    model = MODELS.build(distiller_cfg())
    wrappers = DistillOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01),
             disc=dict(optimizer=dict(type='Adam', lr=1e-4))),
        paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))(
            model)
    backbone = {id(p) for p in model.student.backbone.parameters()}
    groups = wrappers['student'].optimizer.param_groups
    lrs = {g['lr'] for g in groups if id(g['params'][0]) in backbone}
    others = {g['lr'] for g in groups if id(g['params'][0]) not in backbone}
    assert lrs == {0.001} and others == {0.01}
    # the discriminator's optimizer is its own
    assert all(g['lr'] == 1e-4
               for g in wrappers['disc'].optimizer.param_groups)
