"""Two CPU processes (gloo) through tools/dist_train.sh: training, then a
resumed run, with parameters identical across ranks after every
iteration and no find_unused_parameters (a detector and a classifier, through
MMDetection's and MMPretrain's train.py); the resumed run logs the losses
of an uninterrupted one."""
import json
import os
import os.path as osp
import socket
import subprocess

import pytest
import torch

from mmkd.registry import MODELS

from ..runs import run_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(cfg, path, *args, crash=False):
    cfg.dump(str(path))
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(path), '2', *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env=dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1'))
    if crash:
        assert 'interrupted after epoch 1' in proc.stderr, proc.stderr[-5000:]
    else:
        assert proc.returncode == 0, proc.stderr[-5000:]


def probes(work_dir):
    return [json.load(open(osp.join(work_dir, f'probe_rank{r}.json')))
            for r in (0, 1)]


@pytest.mark.parametrize('kind', ['retinanet', 'cifar_resnet'])
def test_two_process_training_and_resume(kind, distiller_cfg, data_root_for,
                                         tmp_path):
    work = tmp_path / 'work'
    cfg = run_config(work, data_root_for(kind), distiller_cfg(kind),
                     epochs=2)
    cfg.custom_imports.imports += ['tests.ddp_probe', 'tests.runs']
    # the lifecycle switches too: iteration 0 trains only the discriminator,
    # iteration 3 only the student's task (no find_unused_parameters either)
    cfg.custom_hooks += [dict(type='DiscriminatorScheduleHook', warmup=1),
                         dict(type='StopDistillHook', stop_iter=3),
                         dict(type='RankParamsProbe')]
    cfg.model_wrapper_cfg['find_unused_parameters'] = False
    # ranks draw different augmentations: each must get its own state back
    cfg.randomness = dict(seed=0, diff_rank_seed=True)
    interrupted = cfg.copy()
    interrupted.custom_hooks = cfg.custom_hooks + [dict(type='Crash',
                                                        epoch=1)]
    dist_train(interrupted, tmp_path / 'first.py', crash=True)
    first = probes(work)
    # 8 images, 2 ranks, batch 2: 2 iterations per epoch
    for p in first:
        assert p['wrapper'] == 'DistillDataParallel' and p['world_size'] == 2
        assert [r['iter'] for r in p['rows']] == [0, 1]
        assert all(r['max_diff'] == 0.0 for r in p['rows'])
    assert osp.isfile(work / 'epoch_1.pth')
    assert osp.isfile(work / 'student_latest.pth')
    saved = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']
    # the same keys as a single-process checkpoint: no DDP "module."
    assert not any('.module.' in k for k in saved)
    built = MODELS.build(distiller_cfg(kind))
    assert saved.keys() == built.state_dict().keys()
    student = torch.load(work / 'student_latest.pth', weights_only=True)
    assert student['state_dict'].keys() == {
        k[len('student.'):] for k in saved if k.startswith('student.')}

    dist_train(cfg, tmp_path / 'resumed.py', '--resume')
    resumed = probes(work)
    for p in resumed:
        assert [r['iter'] for r in p['rows']] == [2, 3]  # continued
        assert 'distill.loss_feat' in p['rows'][0]['losses']
        assert 'distill.loss_feat' not in p['rows'][1]['losses']  # stopped
        assert all(r['max_diff'] == 0.0 for r in p['rows'])
        # every parameter of the distiller was compared
        assert p['rows'][0]['params'] == len(list(built.parameters()))
    assert osp.isfile(work / 'epoch_2.pth')
    for rank in (0, 1):  # every rank resumed from the checkpoint's weights
        start = torch.load(work / f'start_rank{rank}.pth', weights_only=True)
        assert start.keys() == saved.keys()
        assert all(torch.equal(start[k], saved[k]) for k in saved)

    # the same run without interruption logs the same losses on each rank
    whole = tmp_path / 'whole'
    cfg.work_dir = str(whole)
    dist_train(cfg, tmp_path / 'whole.py')
    for p, q in zip(probes(whole), resumed):
        assert [r['losses'] for r in p['rows'][2:]] == [
            r['losses'] for r in q['rows']]


def one_epoch_on_two_ranks(cfg, tmp_path) -> list:
    """``cfg`` trained by two gloo processes with the rank probe, every
    parameter used (no find_unused_parameters), each rank drawing its own
    augmentations; the probes of both ranks."""
    cfg.custom_imports.imports += ['tests.ddp_probe', 'tests.runs']
    cfg.custom_hooks += [dict(type='RankParamsProbe')]
    cfg.model_wrapper_cfg['find_unused_parameters'] = False
    cfg.randomness = dict(seed=0, diff_rank_seed=True)
    dist_train(cfg, tmp_path / 'run.py')
    return probes(cfg.work_dir)


@pytest.mark.parametrize('method,kind', [('AFD', 'cifar_resnet'),
                                         ('MBAKT', 'retinanet'),
                                         ('MBAKT', 'cifar_resnet')])
def test_two_process_online_and_self_distillation(method, kind,
                                                  data_root_for, tmp_path):
    """AFD with K = 2 (peer, transform and discriminator each in its own
    DDP) and MB-AKT's branches: every iteration's three (two) updates
    leave identical parameters on both ranks, with no
    find_unused_parameters; checkpoint keys carry no DDP ``module.``."""
    from ..conftest import CLASSIFIERS, DETECTORS
    make = CLASSIFIERS.get(kind) or DETECTORS[kind]
    model = dict(type=method, student=make())
    if method == 'AFD':
        model['peers'] = [make(16)]
    work = tmp_path / 'work'
    cfg = run_config(work, data_root_for(kind), model, epochs=1)
    cfg.optim_wrapper['adv'] = dict(optimizer=dict(type='Adam', lr=1e-3))
    for p in one_epoch_on_two_ranks(cfg, tmp_path):
        assert p['world_size'] == 2 and len(p['rows']) == 2
        assert all(r['max_diff'] == 0.0 for r in p['rows'])
        assert 'distill.loss_kd' in p['rows'][0]['losses']
    saved = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']
    assert saved.keys() == MODELS.build(model).state_dict().keys()


@pytest.mark.parametrize('method,kind,term', [
    ('KSANC', 'retinanet', 'distill.loss_squeeze'),
    ('KSANC', 'cifar_resnet', 'distill.loss_squeeze'),
    ('ComplementaryDistiller', 'cifar_resnet', 'distill.loss_feat')])
def test_two_process_teacher_side_methods(method, kind, term, distiller_cfg,
                                          data_root_for, tmp_path):
    """KSANC's attention (one call for teacher and student maps) and logit
    discriminator, and the complementary student of a reconstruction
    teacher, under DDP: identical parameters on both ranks after each
    iteration's student and discriminator updates, with no
    find_unused_parameters."""
    model = distiller_cfg(kind, type=method, adv_warmup_iters=0,
                          reconstruction=method != 'KSANC')
    work = tmp_path / 'work'
    cfg = run_config(work, data_root_for(kind), model, epochs=1)
    for p in one_epoch_on_two_ranks(cfg, tmp_path):
        assert p['world_size'] == 2 and len(p['rows']) == 2
        assert all(r['max_diff'] == 0.0 for r in p['rows'])
        assert {term, 'distill.loss_adv', 'disc.loss_d'} <= set(
            p['rows'][0]['losses'])
    saved = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']
    assert saved.keys() == MODELS.build(model).state_dict().keys()
