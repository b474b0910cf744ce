"""Every shipped distiller config computes the step it computed before the
core was recomposed from terms (issue 26): the same logged losses and the
same weights after one ``train_step`` from fixed weights on a fixed batch
(``tests/golden/golden.py`` recorded them at the commit that added this
test). A config added later is recorded with ``python
tests/golden/golden.py CONFIG``; a change of behaviour made on purpose
re-records the configs it changes, and its commit says why."""
import copy
import json
import math
import os
import os.path as osp
import shutil

import pytest

from tests.golden.checkpoints import HERE, methods, run_cfg, with_teacher_path
from tests.golden.golden import (DISTILLERS, STEPS, distiller_configs,
                                 golden_step)

with open(STEPS) as f:
    GOLDEN = json.load(f)


def test_every_distiller_config_has_a_golden_step():
    assert sorted(GOLDEN) == distiller_configs()


@pytest.mark.parametrize('path', sorted(GOLDEN))
def test_the_step_is_the_golden_one(path):
    """Losses at rtol 1e-6. The state after the step at rtol 1e-6 too,
    plus the room of two elements' update by the largest learning rate:
    an Adam step moves each weight by about lr * sign(grad), so on another
    processor a gradient within float noise of zero may flip one element's
    update; anything the code changes moves far more than that."""
    want, got = GOLDEN[path], golden_step(path)
    assert got['losses'].keys() == want['losses'].keys()
    for key, value in want['losses'].items():
        assert math.isclose(got['losses'][key], value, rel_tol=1e-6,
                            abs_tol=1e-7), (key, got['losses'][key], value)
    assert got['digest'].keys() == want['digest'].keys()
    for top, w in want['digest'].items():
        g = got['digest'][top]
        assert g['keys'] == w['keys'], f'{top}: other keys or shapes'
        scale = max(1.0, math.sqrt(w['sumsq']))
        flips = 4 * got['max_lr']  # two elements, each moved by +-lr
        room = dict(sum=1e-6 * scale + flips, sumsq=2 * scale * flips)
        for stat in ('sum', 'sumsq'):
            assert math.isclose(g[stat], w[stat], rel_tol=1e-6,
                                abs_tol=room[stat]), (top, stat, g, w)


CHECKPOINTS = sorted(os.listdir(HERE))


def fixture_copy(name, tmp_path):
    """The fixture's folder copied (a resume writes beside its checkpoint)
    and its model config with the teacher's path in the copy."""
    folder = tmp_path / 'fixture'
    shutil.copytree(osp.join(HERE, name), folder)
    with open(folder / 'model.json') as f:
        model = json.load(f)
    return str(folder), with_teacher_path(model, str(folder))


def test_every_method_has_a_checkpoint_fixture():
    assert CHECKPOINTS == sorted(methods())
    types = {m['type'] for m in methods().values()}
    assert types >= set(DISTILLERS)


@pytest.mark.parametrize('name', CHECKPOINTS)
def test_a_checkpoint_written_before_resumes(name, tmp_path, data_root_for):
    """Resume from the fixture's epoch 1 and train epoch 2: every weight,
    optimizer state and hook state of the old checkpoint loads (strictly),
    and the run goes on from where it stopped."""
    import torch
    from mmengine.runner import Runner
    folder, model = fixture_copy(name, tmp_path)
    kind = 'retinanet' if name == 'detection_distiller' else 'cifar_resnet'
    cfg = run_cfg(name, model, str(tmp_path / 'work'), data_root_for(kind),
                  epochs=2)
    cfg.resume, cfg.load_from = True, osp.join(folder, 'epoch_1.pth')
    runner = Runner.from_cfg(cfg)
    before = torch.load(cfg.load_from, weights_only=False)['state_dict']
    runner.train()
    assert runner.epoch == 2 and runner.iter == 2 * before['num_iters']
    after = runner.model.state_dict()
    assert after.keys() == before.keys()
    assert any(not torch.equal(after[k], before[k]) for k in before
               if k.startswith('student.'))


@pytest.mark.parametrize('name', CHECKPOINTS)
def test_a_checkpoint_written_before_exports_its_student(name, tmp_path):
    """The exported student (and AFD's peer) loads strictly into the plain
    model of its own config."""
    import torch
    from mmengine.registry import init_default_scope

    from mmkd.models.distillers.utils import build_model
    from mmkd.utils import export_student
    folder, model = fixture_copy(name, tmp_path)
    init_default_scope('mmdet' if name == 'detection_distiller'
                       else 'mmpretrain')
    networks = [(None, model['student'])] + [
        (k + 1, peer) for k, peer in enumerate(model.get('peers', []))]
    for peer, cfg in networks:
        out = str(tmp_path / f'network{peer}.pth')
        export_student(osp.join(folder, 'epoch_1.pth'), out, peer=peer)
        state = torch.load(out, weights_only=True)['state_dict']
        plain = build_model(copy.deepcopy(cfg))
        plain.load_state_dict(state, strict=True)
