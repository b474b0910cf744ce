"""Nothing a user trained is lost or silently mixed up: one live run per
work_dir, resumes that say what changed, stale temporary files, logs that
show only what happens (issue 7)."""
import copy
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner

from mmkd.engine.hooks.run_guard_hook import LOCK
from mmkd.utils import export_student
from ..conftest import retinanet
from ..runs import run_config

pytestmark = pytest.mark.e2e


@pytest.fixture
def cfg(distiller_cfg, shapes_root, tmp_path):
    return run_config(tmp_path / 'run', shapes_root, distiller_cfg(),
                      epochs=1)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_a_second_live_run_in_a_work_dir_is_refused(cfg):
    os.makedirs(cfg.work_dir)
    sleeper = subprocess.Popen([sys.executable, '-c',
                                'import time; time.sleep(120)'])
    lock = osp.join(cfg.work_dir, LOCK)
    try:
        with open(lock, 'w') as f:
            json.dump(dict(host=os.uname().nodename, pid=sleeper.pid), f)
        with pytest.raises(RuntimeError, match=rf'Another training run '
                           rf'\(pid {sleeper.pid} .*another --work-dir'):
            Runner.from_cfg(copy.deepcopy(cfg)).train()
        assert not osp.exists(osp.join(cfg.work_dir, 'epoch_1.pth'))
    finally:
        sleeper.kill()
        sleeper.wait()
    # the lock of a run that is gone is taken over; the lock goes at the end
    Runner.from_cfg(copy.deepcopy(cfg)).train()
    assert osp.exists(osp.join(cfg.work_dir, 'epoch_1.pth'))
    assert not osp.exists(lock)


def test_stale_temporary_files_are_removed(cfg):
    os.makedirs(cfg.work_dir)
    stale = osp.join(cfg.work_dir, f'epoch_3.pth.tmp{dead_pid()}')
    mine = osp.join(cfg.work_dir, 'notes.txt.tmp1')  # not ours: kept
    for path in (stale, mine):
        open(path, 'wb').write(b'x' * 10)
    Runner.from_cfg(cfg).train()
    assert not osp.exists(stale) and osp.exists(mine)


def resumed(cfg, **model):
    cfg = copy.deepcopy(cfg)
    cfg.train_cfg.max_epochs = 2
    cfg.model.update(model)
    cfg.update(resume=True, load_from=osp.join(cfg.work_dir, 'epoch_1.pth'))
    return Runner.from_cfg(cfg)


def test_resume_with_another_teacher(cfg, make_teacher_ckpt):
    Runner.from_cfg(copy.deepcopy(cfg)).train()
    # same neck widths (the adapters fit), other head: another architecture
    other = retinanet(width=16, neck_channels=32)
    other['bbox_head']['stacked_convs'] = 2
    with pytest.raises(RuntimeError, match='trained with a different '
                       'teacher architecture'):
        resumed(cfg, teacher=other,
                teacher_ckpt=make_teacher_ckpt(other)).train()
    # the same architecture with other weights: a warning, and it trains
    teacher = copy.deepcopy(cfg.model.teacher)
    path = osp.join(cfg.work_dir, 'other_teacher.pth')
    state = torch.load(cfg.model.teacher_ckpt)['state_dict']
    torch.save(dict(state_dict={k: v + 1 if v.is_floating_point() else v
                                for k, v in state.items()}), path)
    runner = resumed(cfg, teacher=teacher, teacher_ckpt=path)
    warnings = []
    runner.logger.warning = warnings.append
    runner.train()
    assert runner.epoch == 2
    assert any("teacher's weights differ" in w for w in warnings)


def test_resume_with_another_student_is_refused(cfg):
    Runner.from_cfg(copy.deepcopy(cfg)).train()
    with pytest.raises(RuntimeError, match='other parts than this config'):
        resumed(cfg, student=retinanet(neck_channels=24)).train()


def test_log_shows_only_what_this_iteration_computed(cfg):
    cfg.custom_hooks.append(dict(type='StopDistillHook', stop_iter=2))
    cfg.custom_hooks.append(dict(type='DistillLossWeightHook',
                                 schedules=dict(loss_feat=dict(warmup=2))))
    runner = Runner.from_cfg(copy.deepcopy(cfg))
    runner.train()
    left = [k for k in runner.message_hub.log_scalars
            if k.startswith(('train/distill.', 'train/disc.'))]
    assert left == []  # nothing computed after the stop at iteration 2
    assert 'train/student.loss_cls' in runner.message_hub.log_scalars


def test_resumed_without_a_term_does_not_log_it(cfg):
    Runner.from_cfg(copy.deepcopy(cfg)).train()
    runner = resumed(cfg, loss_kd=None)
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert 'train/distill.loss_feat' in scalars
    assert 'train/distill.loss_kd' not in scalars


def test_export_never_writes_over_a_training_checkpoint(cfg):
    Runner.from_cfg(copy.deepcopy(cfg)).train()
    ckpt = osp.join(cfg.work_dir, 'epoch_1.pth')
    size = osp.getsize(ckpt)
    with pytest.raises(FileExistsError, match='is the checkpoint being '
                       'exported'):
        export_student(ckpt, ckpt)
    other = osp.join(cfg.work_dir, 'epoch_0.pth')
    with open(ckpt, 'rb') as src, open(other, 'wb') as dst:
        dst.write(src.read())
    with pytest.raises(FileExistsError, match='is a training checkpoint'):
        export_student(ckpt, other)
    assert osp.getsize(ckpt) == size
    with pytest.raises(FileExistsError, match='is a training checkpoint'):
        export_student(ckpt, other, overwrite=True)  # not even when forced
    # any other existing file (another run's student_latest.pth) is
    # replaced only when asked (--force)
    out = osp.join(cfg.work_dir, 'student.pth')
    export_student(ckpt, out)
    with pytest.raises(FileExistsError, match='exists.*--force'):
        export_student(ckpt, out)
    export_student(ckpt, out, overwrite=True)
    proc = subprocess.run(
        [sys.executable, 'tools/model_converters/export_student.py', ckpt,
         out], capture_output=True, text=True,
        cwd=osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    assert proc.returncode == 2 and '--force' in proc.stderr
    proc = subprocess.run(
        [sys.executable, 'tools/model_converters/export_student.py', ckpt,
         ckpt], capture_output=True, text=True,
        cwd=osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    assert proc.returncode != 0 and 'is the checkpoint being exported' in \
        proc.stderr
    assert osp.getsize(ckpt) == size
