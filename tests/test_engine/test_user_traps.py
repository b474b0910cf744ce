"""What a new user hit following the README (issue 24): each test fails
without its fix."""
import copy
import glob
import json
import logging
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.logging import MMLogger
from mmengine.runner import Runner

from mmkd.engine.hooks.run_guard_hook import LOCK
from ..conftest import CLASSIFIERS
from ..runs import run_config

pytestmark = pytest.mark.e2e
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def train(cfg, *hooks, resume=False):
    """``cfg`` with ``hooks`` added (no test hook of its own: the configs
    it writes go to the plain toolboxes)."""
    cfg = copy.deepcopy(cfg)
    cfg.custom_hooks = [*cfg.custom_hooks, *hooks]
    cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    except KeyboardInterrupt:  # the Crash hook
        pass
    return runner


def killed_and_resumed(cfg):
    """``cfg`` cut after epoch 1, then resumed to its end."""
    train(cfg, dict(type='Crash', epoch=1))
    return train(cfg, resume=True)


def plain_tool(toolbox, tool, *args, cwd):
    """A toolbox's own tools/<tool>, in a process that never imports
    mmkd."""
    import importlib
    root = osp.dirname(importlib.import_module(toolbox).__file__)
    return subprocess.run(
        [sys.executable, osp.join(root, '.mim', 'tools', tool), *args,
         '--cfg-options', 'log_level=INFO'],
        capture_output=True, text=True, cwd=str(cwd),
        env=dict(os.environ, PYTHONPATH=''))


def test_a_resumed_runs_student_config_tests_in_plain_mmdetection(
        distiller_cfg, shapes_root, tmp_path):
    cfg = run_config(tmp_path / 'run', shapes_root, distiller_cfg(),
                     epochs=2)
    cfg.model.student.test_cfg.score_thr = 0.0  # predictions to evaluate
    killed_and_resumed(cfg)
    work = tmp_path / 'run'
    text = open(work / 'student_config.py').read()
    assert 'resume = False' in text and 'mmkd' not in text
    proc = plain_tool('mmdet', 'test.py', str(work / 'student_config.py'),
                      str(work / 'student_latest.pth'), '--work-dir',
                      str(tmp_path / 'test'), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'coco/bbox_mAP' in proc.stdout + proc.stderr


def test_a_resumed_online_runs_peer_config_tests_in_plain_mmpretrain(
        digits_root, tmp_path):
    net = CLASSIFIERS['mmpretrain_resnet']
    cfg = run_config(tmp_path / 'run', digits_root, dict(
        type='AFD', student=net(), peers=[net(16)], discriminator=None,
        loss_gan=None, probe_size=32), epochs=2)
    killed_and_resumed(cfg)
    work = tmp_path / 'run'
    export = [sys.executable, osp.join(
        ROOT, 'tools', 'model_converters', 'export_student.py'),
        str(work / 'epoch_2.pth'), str(tmp_path / 'peer1.pth'), '--peer', '1']
    assert subprocess.run(export, capture_output=True).returncode == 0
    for config, ckpt in (('student_config.py', work / 'student_latest.pth'),
                         ('peer1_config.py', tmp_path / 'peer1.pth')):
        proc = plain_tool('mmpretrain', 'test.py', str(work / config),
                          str(ckpt), '--work-dir', str(tmp_path / 'test'),
                          cwd=tmp_path)
        assert proc.returncode == 0, (config, proc.stderr[-3000:])
        assert 'accuracy/top1' in proc.stdout + proc.stderr


def test_a_run_started_as_detection_distiller_resumes_as_ktan(
        distiller_cfg, shapes_root, tmp_path):
    old = run_config(tmp_path / 'run', shapes_root, distiller_cfg(),
                     epochs=2)
    assert old.model.type == 'DetectionDistiller'
    train(old, dict(type='Crash', epoch=1))
    new = copy.deepcopy(old)
    new.model.type = 'KTAN'
    runner = train(new, resume=True)
    assert runner.iter == 8  # both epochs: resumed, not refused
    # and the reverse
    other = copy.deepcopy(new)
    other.work_dir = str(tmp_path / 'other')
    train(other, dict(type='Crash', epoch=1))
    other.model.type = 'DetectionDistiller'
    assert train(other, resume=True).iter == 8


def test_a_refused_second_run_leaves_no_log_folder(
        distiller_cfg, shapes_root, tmp_path):
    cfg = run_config(tmp_path / 'run', shapes_root, distiller_cfg(),
                     epochs=1)
    os.makedirs(cfg.work_dir)
    sleeper = subprocess.Popen([sys.executable, '-c',
                                'import time; time.sleep(120)'])
    try:
        with open(osp.join(cfg.work_dir, LOCK), 'w') as f:
            json.dump(dict(host=os.uname().nodename, pid=sleeper.pid), f)
        with pytest.raises(RuntimeError, match='Another training run'):
            Runner.from_cfg(copy.deepcopy(cfg)).train()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sorted(os.listdir(cfg.work_dir)) == [LOCK]


def test_the_end_of_training_says_where_the_student_is(
        distiller_cfg, shapes_root, tmp_path, caplog):
    cfg = run_config(tmp_path / 'run', shapes_root, distiller_cfg(),
                     epochs=1)
    runner = Runner.from_cfg(cfg)
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    runner.logger.addHandler(handler)
    runner.train()
    done = [line for line in lines if line.startswith('Distillation done')]
    assert len(done) == 1, lines[-5:]
    work = str(tmp_path / 'run')
    assert f'{work}/student_latest.pth with {work}/student_config.py' in \
        done[0]
    assert osp.join('mmdet', '.mim', 'tools', 'test.py') in done[0]
    assert 'export_student.py' in done[0] and 'epoch_1.pth' in done[0]


def test_plot_losses_draws_a_resumed_run_whole(distiller_cfg, shapes_root,
                                               tmp_path):
    cfg = run_config(tmp_path / 'run', shapes_root, distiller_cfg(),
                     epochs=3)
    cfg.default_hooks.logger.interval = 1
    train(cfg, dict(type='Crash', epoch=1))
    train(cfg, resume=True)
    assert len(glob.glob(str(tmp_path / 'run' / '*' / 'vis_data' /
                             'scalars.json'))) == 2
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
    try:
        import plot_losses
    finally:
        sys.path.pop(0)
    axes = plot_losses.read(plot_losses.find_scalars(str(tmp_path / 'run')))
    xs, _ = axes['student task loss']['student.loss_cls']
    assert xs == list(range(1, 13)), xs  # 3 epochs of 4, in order


def test_no_preprocessor_warning_for_a_pair_sharing_one(tmp_path):
    """The digits pair: student and teacher files both take the config's
    one top-level data_preprocessor, as the Runner gives it."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs', 'demo', 'kd_resnet8-w16_resnet8_digits.py'))
    cfg.model.teacher_ckpt = None
    logger = MMLogger.get_current_instance()
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.addHandler(handler)
    try:
        from mmengine.registry import init_default_scope
        init_default_scope('mmpretrain')
        from mmkd.registry import MODELS
        MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    finally:
        logger.removeHandler(handler)
    assert not [line for line in lines if 'data_preprocessor differs' in
                line], lines


def test_a_resume_warns_of_no_key_it_cannot_restore(
        distiller_cfg, shapes_root, tmp_path):
    """Terms the log dropped (``disc.lr`` while the discriminator waits)
    leave nothing a resume would warn about ("train/disc.lr is not defined
    in message_hub")."""
    cfg = run_config(tmp_path / 'run', shapes_root, distiller_cfg(),
                     epochs=2, hooks=[dict(type='DiscriminatorScheduleHook',
                                           warmup=5)])
    train(cfg, dict(type='Crash', epoch=1))
    runner = train(cfg, resume=True)
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        text = f.read()
    assert 'not defined in message_hub' not in text
    assert runner.iter == 8


def test_the_classification_demo_saves_the_kd_run_under_a_kd_name(
        tmp_path):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'demo.py'), '--task', 'cls',
         '--epochs', '1', '--work-dir', str(tmp_path / 'demo')],
        capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    kd = tmp_path / 'demo' / 'kd'
    assert osp.isfile(kd / 'kd_resnet8-w16_resnet8_digits.py')
    assert not glob.glob(str(kd / 'ktan_*.py'))
    assert 'KD vs student alone' in proc.stdout
