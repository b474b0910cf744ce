import pytest
import torch
from mmdet.registry import MODELS
from mmengine.optim import OptimWrapperDict

from mmkd.engine import DistillOptimWrapperConstructor
from mmkd.models.distillers import DetectionDistiller
from mmkd.models.distillers.base_distiller import Update


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


class ThreeParts(DetectionDistiller):
    """A method with one more part and update of its own: nothing outside
    this class changes (core train_step, constructor)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.critic = torch.nn.Linear(3, 1)

    def parts(self):
        return dict(super().parts(), critic=['critic'])

    def updates(self):
        return super().updates() + [Update(
            'critic', 'critic',
            lambda state: {'critic.loss': self.critic(
                torch.ones(1, 3)).pow(2).sum()},
            times=2, log_prefix='critic.')]


def test_a_method_declares_its_own_parts_and_updates(distiller_cfg, batch):
    cfg = distiller_cfg()
    cfg.pop('type')
    model = ThreeParts(**cfg)
    optim = DistillOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01),
             disc=dict(optimizer=dict(type='Adam', lr=1e-3)),
             critic=dict(optimizer=dict(type='SGD', lr=0.1))))(model)
    assert set(optim.keys()) == {'student', 'disc', 'critic'}
    before = model.critic.weight.clone()
    log = model.train_step(batch, optim)
    assert {'critic.loss', 'disc.loss_d', 'distill.loss_feat'} <= set(log)
    assert not torch.equal(before, model.critic.weight)
    # its part needs an optimizer, and a trainable child needs a part
    with pytest.raises(ValueError, match="no 'critic' entry"):
        DistillOptimWrapperConstructor(
            dict(optimizer=dict(type='SGD', lr=0.01),
                 disc=dict(optimizer=dict(type='Adam', lr=1e-3))))(model)
    with pytest.raises(TypeError, match=r"parts \['student', 'disc', "
                       r"'critic'\]"):
        model.train_step(batch, OptimWrapperDict(student=optim['student'],
                                                 disc=optim['disc']))
    model.parts = lambda: dict(student=['student', 'adapter'],
                               disc=['discriminator'])
    with pytest.raises(ValueError, match=r"in no optimizer part: \['critic'"):
        DistillOptimWrapperConstructor(
            dict(optimizer=dict(type='SGD', lr=0.01),
                 disc=dict(optimizer=dict(type='Adam', lr=1e-3))))(model)


AMP = dict(type='AmpOptimWrapper', loss_scale='dynamic',
           optimizer=dict(type='SGD', lr=0.01),
           disc=dict(optimizer=dict(type='Adam', lr=1e-4)))


def test_amp_on_cpu_is_a_clear_error(distiller_cfg):
    """``--amp`` on a machine without a GPU: a clear error at build."""
    if torch.cuda.is_available():
        pytest.skip('this machine has a GPU')
    with pytest.raises(ValueError, match='needs a GPU'):
        DistillOptimWrapperConstructor(AMP)


def test_amp_applies_to_every_part(distiller_cfg, batch, monkeypatch):
    """With ``--amp`` every part without a type of its own gets an
    AmpOptimWrapper, and a train step runs under autocast (bfloat16 on
    CPU, as mmengine's autocast does there; the device check is patched
    so that this runs without a GPU)."""
    from mmengine.optim import AmpOptimWrapper
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    from mmkd.engine.optimizers import distill_optim_wrapper_constructor
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: True)
    monkeypatch.setattr(distill_optim_wrapper_constructor,
                        'check_amp_device', lambda: None)
    model = MODELS.build(distiller_cfg())
    wrappers = DistillOptimWrapperConstructor(AMP)(model)
    assert {type(w) for w in wrappers.values()} == {AmpOptimWrapper}
    own = dict(AMP, disc=dict(type='OptimWrapper', optimizer=dict(
        type='Adam', lr=1e-4)))
    assert type(DistillOptimWrapperConstructor(own)(model)['disc']) is \
        not AmpOptimWrapper
    log = model.train_step(batch, wrappers)
    assert all(torch.isfinite(v) for v in log.values())
