"""Each network of an online method may have its own optimizer (default:
the student's, as the log says), and a loss that explodes while finite is
caught like a non-finite one, naming the term and its network (issue 24)."""
import copy

import pytest
import torch

from mmkd.engine import DistillOptimWrapperConstructor
from mmkd.engine.optimizers import distill_optim_wrapper_constructor as ctor
from mmkd.models.distillers import guard
from mmkd.registry import MODELS
from ..conftest import batch_for
from .test_afd import afd

PARTS = dict(adv=dict(optimizer=dict(type='Adam', lr=2e-5)),
             disc=dict(optimizer=dict(type='Adam', lr=2e-5)))


def build(kind='cifar_resnet', model=None, **optim):
    torch.manual_seed(0)
    model = MODELS.build(afd(kind, **(model or {})))
    return model, DistillOptimWrapperConstructor(dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9), **PARTS,
        **optim))(model)


def param_ids(wrapper):
    return {id(p) for g in wrapper.optimizer.param_groups
            for p in g['params']}


def test_peers_take_the_students_optimizer_by_default(monkeypatch):
    said = []
    monkeypatch.setattr(ctor, 'print_log', lambda m, **k: said.append(m))
    model, optim = build()
    assert set(optim.keys()) == {'student', 'adv', 'disc'}
    assert {id(p) for p in model.peers.parameters()} <= param_ids(
        optim['student'])
    assert 'student (student, peers): SGD(lr=0.1)' in said[-1]


def test_a_peer_with_its_own_optimizer(monkeypatch):
    said = []
    monkeypatch.setattr(ctor, 'print_log', lambda m, **k: said.append(m))
    model, optim = build(peer1=dict(optimizer=dict(type='AdamW', lr=1e-3)))
    assert set(optim.keys()) == {'student', 'adv', 'disc', 'peer1'}
    peer = {id(p) for p in model.peers[0].parameters()}
    assert param_ids(optim['peer1']) == peer
    assert not peer & param_ids(optim['student'])
    assert {id(p) for p in model.student.parameters()} <= param_ids(
        optim['student'])
    assert 'student (student): SGD(lr=0.1)' in said[-1]
    assert 'peer1 (peers.0): AdamW(lr=0.001)' in said[-1]
    # one logit update steps both: the peer by AdamW, the student by SGD
    before = {k: v.clone() for k, v in model.state_dict().items()}
    log = model.train_step(batch_for('cifar_resnet'), optim)
    assert all(torch.isfinite(v) for v in log.values())
    for name in ('student', 'peers'):
        assert any(not torch.equal(v, before[k])
                   for k, v in model.state_dict().items()
                   if k.startswith(name + '.') and v.is_floating_point())
    assert optim['peer1'].optimizer.state  # AdamW's moments were made


def test_an_exploding_finite_loss_is_skipped_and_named(monkeypatch):
    model, optim = build(model=dict(discriminator=None, loss_gan=None))
    batch = batch_for('cifar_resnet')
    model.train_step(copy.deepcopy(batch), optim)  # the running levels
    said = []
    monkeypatch.setattr(guard, 'print_log',
                        lambda m, **k: said.append(m))
    peer_loss = model.peers[0].loss

    def exploding(*args, **kwargs):
        losses = peer_loss(*args, **kwargs)
        return {k: v * 1e7 if k == 'loss' else v for k, v in losses.items()}

    monkeypatch.setattr(model.peers[0], 'loss', exploding)
    params = {k: v.clone() for k, v in model.named_parameters()}
    log = model.train_step(copy.deepcopy(batch), optim)
    assert torch.isfinite(log['peer1.loss'])
    text = '\n'.join(said)
    assert 'peer1.loss = ' in text and 'times its running level' in text
    assert 'network: peer1' in text and 'the logit update is skipped' in text
    assert all(torch.equal(v, params[k])
               for k, v in model.named_parameters()
               if k.startswith(('student.', 'peers.')))


def test_the_explosion_check_can_be_switched_off():
    with pytest.raises(ValueError, match='max_loss_jump must be a number > 1'):
        MODELS.build(afd(max_loss_jump=0.5))
    for jump, kept in ((1000.0, False), (None, True)):
        model = MODELS.build(afd(max_loss_jump=jump))
        model.guard.levels = {'peer1.loss': 1.0}
        assert model.guard.all_finite({'peer1.loss': torch.tensor(1e9)},
                                      'logit', 0) is kept
