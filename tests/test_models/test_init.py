"""Every network a method trains (the student, AFD/DML's peers, MB-AKT/
BYOT's branches) gets exactly the initialisation its own config gives it
in the plain toolbox, for every registered distiller, on a detector and a
classifier. (mmengine's ``init_weights`` does not look inside a plain
``nn.ModuleList``: peers kept there were left with PyTorch's defaults, a
RetinaNet peer without its focal prior.)"""
import copy
import inspect

import pytest
import torch
from mmengine.model import BaseModule

from mmkd.models.distillers.base_distiller import BaseDistiller
from mmkd.models.distillers.utils import build_model
from mmkd.registry import MODELS
from ..conftest import CLASSIFIERS, DETECTORS

DISTILLERS = sorted(n for n, c in MODELS.module_dict.items()
                    if inspect.isclass(c) and issubclass(c, BaseDistiller))
KINDS = ('retinanet', 'cifar_resnet', 'mmpretrain_resnet')


def build(name, kind, distiller_cfg):
    """The distiller ``name`` on detector/classifier ``kind``, and the
    config of each network besides the student: ``{attribute: config}``."""
    small, wide = (CLASSIFIERS[kind](), CLASSIFIERS[kind](16)) if (
        kind in CLASSIFIERS) else (DETECTORS[kind](), DETECTORS[kind](
            width=16, neck_channels=32))
    probe = 128 if kind in DETECTORS else 32
    if name == 'AFD':
        args, others = dict(student=small, peers=[wide]), dict(peers=[wide])
    elif name == 'MBAKT':
        args, others = dict(student=small), {}
    else:
        args, others = distiller_cfg(
            kind, type=name,
            reconstruction=name == 'ComplementaryDistiller'), {}
        if 'adv_warmup_iters' not in inspect.signature(
                MODELS.get(name)).parameters:
            args.pop('adv_warmup_iters')
        if name == 'TeacherDistiller':
            args['loss_kd'] = dict(type='KDLoss')
    args = dict(args, type=name, probe_size=probe)
    return MODELS.build(copy.deepcopy(args)), args['student'], others


def never_initialised(net) -> set:
    return {n for n, m in net.named_modules()
            if isinstance(m, BaseModule) and not m.is_init}


def assert_initialised_as_plain(net, cfg, what):
    """``net`` as its config alone initialises it: the same modules
    initialised, every value that init sets to a constant (biases, norms, a
    focal prior) equal, every random one of the same spread."""
    torch.manual_seed(1)
    plain = build_model(copy.deepcopy(cfg))
    plain.init_weights()
    stale = never_initialised(net) - never_initialised(plain)
    assert not stale, f'{what}: modules never initialised: {sorted(stale)}'
    ours = dict(net.named_parameters())
    for key, p in plain.named_parameters():
        q = ours[key]
        if p.numel() > 1 and bool((p == p.flatten()[0]).all()):
            assert torch.equal(q, p), f'{what}.{key}: {q.flatten()[:3]} ' \
                f'instead of the constant {p.flatten()[0]}'
        elif p.numel() >= 256:
            ratio = float(q.detach().std() / p.detach().std())
            assert 0.8 < ratio < 1.25, f'{what}.{key}: std {q.std():.4f} ' \
                f'instead of {p.std():.4f}'


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('name', DISTILLERS)
def test_every_network_gets_its_configs_initialisation(name, kind,
                                                       distiller_cfg):
    task = 'detection' if kind == 'retinanet' else 'classification'
    if task not in getattr(MODELS.get(name), 'tasks', (task, )):
        pytest.skip(f'{name} distils no {task} models (refused by name: '
                    'test_contract)')
    torch.manual_seed(0)
    model, student, others = build(name, kind, distiller_cfg)
    model.init_weights()
    for branch in getattr(model, 'branches', ()):
        assert branch.is_init and all(
            m.is_init for m in branch.head.modules()
            if isinstance(m, BaseModule))
    assert_initialised_as_plain(model.student, student, 'student')
    for i, cfg in enumerate(others.get('peers', [])):
        assert_initialised_as_plain(model.peers[i], cfg, f'peers.{i}')
    if kind == 'retinanet' and hasattr(model, 'branches'):
        # a branch's light RetinaHead starts from the focal prior too
        for branch in model.branches:
            bias = branch.head.retina_cls.bias
            assert torch.allclose(bias, torch.full_like(bias, -4.595),
                                  atol=1e-3)
