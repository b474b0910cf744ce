"""Two CPU processes (gloo) through tools/dist_train.sh: training, then a
resumed run, with parameters identical across ranks after every
iteration and no find_unused_parameters."""
import json
import os
import os.path as osp
import socket
import subprocess

import pytest
import torch
from mmdet.registry import MODELS

from ..runs import run_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(cfg, path, *args):
    cfg.dump(str(path))
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(path), '2', *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env=dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-5000:]
    return proc


def probes(work_dir):
    return [json.load(open(osp.join(work_dir, f'probe_rank{r}.json')))
            for r in (0, 1)]


def test_two_process_training_and_resume(distiller_cfg, shapes_root,
                                         tmp_path):
    work = tmp_path / 'work'
    cfg = run_config(work, shapes_root, distiller_cfg(), epochs=1)
    cfg.custom_imports.imports.append('tests.ddp_probe')
    cfg.custom_hooks.append(dict(type='RankParamsProbe'))
    cfg.model_wrapper_cfg['find_unused_parameters'] = False
    dist_train(cfg, tmp_path / 'first.py')
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
    assert saved.keys() == MODELS.build(distiller_cfg()).state_dict().keys()
    student = torch.load(work / 'student_latest.pth', weights_only=True)
    assert student['state_dict'].keys() == {
        k[len('student.'):] for k in saved if k.startswith('student.')}

    cfg.train_cfg.max_epochs = 2
    dist_train(cfg, tmp_path / 'resumed.py', '--resume')
    for rank in (0, 1):  # every rank resumed from the checkpoint's weights
        start = torch.load(work / f'start_rank{rank}.pth', weights_only=True)
        assert start.keys() == saved.keys()
        assert all(torch.equal(start[k], saved[k]) for k in saved)
    for p in probes(work):
        assert [r['iter'] for r in p['rows']] == [2, 3]  # continued
        assert all(r['max_diff'] == 0.0 for r in p['rows'])
        assert p['rows'][0]['params'] > 50
    assert osp.isfile(work / 'epoch_2.pth')
