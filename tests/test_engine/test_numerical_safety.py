"""A non-finite distillation or discriminator loss skips its update, is
logged, never reaches weights or optimizer state, and stops the run after
``max_nonfinite_skips`` consecutive iterations with the last checkpoint
intact."""
import copy
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmkd.engine import DistillOptimWrapperConstructor
from mmkd.models.distillers import guard
from mmkd.utils import load_checkpoint_file
from ..conftest import packed_batch
from ..runs import run_config


def optimizers(model):
    return DistillOptimWrapperConstructor(
        dict(type='OptimWrapper',
             optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
             disc=dict(optimizer=dict(type='Adam', lr=1e-3))))(model)


def poison_teacher(model):
    """NaN teacher features: every distillation loss becomes NaN."""
    with torch.no_grad():
        model.teacher.neck.fpn_convs[0].conv.bias.fill_(float('nan'))


def snapshot(model, optim):
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    return params, copy.deepcopy(optim.state_dict())


def test_nonfinite_losses_skip_the_updates(distiller_cfg, monkeypatch):
    model = MODELS.build(distiller_cfg(max_nonfinite_skips=3))
    optim = optimizers(model)
    model.train_step(packed_batch(), optim)  # one good step: optimizer state
    poison_teacher(model)
    params, state = snapshot(model, optim)
    messages = []
    monkeypatch.setattr(guard, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    log = model.train_step(packed_batch(seed=1), optim)
    assert not torch.isfinite(log['distill.loss_feat'])
    text = '\n'.join(messages)
    assert 'Iteration 1: non-finite distill.loss_feat' in text
    assert 'the student update is skipped' in text
    assert 'the discriminator update is skipped' in text
    after = dict(model.named_parameters())
    assert all(torch.equal(v, after[k]) for k, v in params.items())
    new_state = optim.state_dict()
    for part in ('student', 'disc'):
        for pid, s in new_state[part]['state'].items():
            for name, t in s.items():
                if torch.is_tensor(t):
                    assert torch.equal(t, state[part]['state'][pid][name])
                    assert torch.isfinite(t).all()
    model.train_step(packed_batch(), optim)  # second consecutive skip
    with pytest.raises(RuntimeError,
                       match='non-finite losses in 3 consecutive iterations'):
        model.train_step(packed_batch(), optim)


def test_a_finite_step_resets_the_count(distiller_cfg):
    model = MODELS.build(distiller_cfg(max_nonfinite_skips=2))
    optim = optimizers(model)
    bias = model.teacher.neck.fpn_convs[0].conv.bias
    good = bias.detach().clone()
    for _ in range(3):  # skip, good, skip, good...: never 2 in a row
        poison_teacher(model)
        model.train_step(packed_batch(), optim)
        with torch.no_grad():
            bias.copy_(good)
        model.train_step(packed_batch(), optim)
    assert model.guard.streak == 0


class PoisonAt(Hook):
    """Poison the teacher from epoch ``epoch`` on (after a checkpoint)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def before_train_epoch(self, runner):
        if runner.epoch == self.epoch:
            poison_teacher(runner.model)


def test_the_run_stops_with_the_last_checkpoint_intact(
        distiller_cfg, shapes_root, tmp_path):
    cfg = run_config(tmp_path, shapes_root,
                     distiller_cfg(max_nonfinite_skips=3), epochs=3)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(PoisonAt(epoch=1))
    with pytest.raises(RuntimeError, match='last checkpoint in work_dir'):
        runner.train()
    assert runner.iter == 6  # 4 good iterations, then 3 skipped
    assert not osp.exists(osp.join(tmp_path, 'epoch_2.pth'))
    last = open(osp.join(tmp_path, 'last_checkpoint')).read().strip()
    assert last.endswith('epoch_1.pth')
    ckpt = load_checkpoint_file(last)
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())
    assert all(torch.isfinite(v).all() for v in runner.model.state_dict(
    ).values() if v.is_floating_point())
