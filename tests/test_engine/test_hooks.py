"""mmkd's hooks in real (tiny) runs, and their errors for bad configs."""
import copy
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from mmkd.engine.hooks.distill_loss_weight_hook import (check_schedule,
                                                        schedule_factor)
from mmkd.engine.hooks.random_state_hook import (RandomStateHook,
                                                 kept_random_state)
from mmkd.utils import load_checkpoint_file
from ..conftest import retinanet
from ..runs import recorder_of, run_config

pytestmark = pytest.mark.e2e


def train(cfg, *hooks, **overrides):
    cfg = copy.deepcopy(cfg)
    cfg.custom_hooks = list(cfg.custom_hooks) + list(hooks) + [
        dict(type='Recorder')]
    cfg.update(overrides)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.fixture
def cfg(distiller_cfg, shapes_root, tmp_path):
    return run_config(tmp_path / 'run', shapes_root, distiller_cfg(),
                      epochs=2)


def test_schedule_factor_shapes():
    warm = check_schedule('loss_feat', dict(warmup=4))
    assert [schedule_factor(warm, t) for t in range(6)] == [
        0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    lin = check_schedule('x', dict(decay='linear', begin=2, end=6, final=0.2))
    assert [round(schedule_factor(lin, t), 6) for t in (0, 2, 4, 6, 9)] == [
        1.0, 1.0, 0.6, 0.2, 0.2]
    cos = check_schedule('x', dict(factor=2.0, decay='cosine', begin=0,
                                   end=10))
    assert schedule_factor(cos, 5) == pytest.approx(1.0)
    assert schedule_factor(cos, 0) == 2.0 and schedule_factor(cos, 10) == 0


def test_loss_weight_hook_scales_the_logged_losses(cfg):
    runner = train(cfg, dict(type='DistillLossWeightHook',
                             schedules=dict(loss_feat=dict(warmup=4),
                                            loss_kd=dict(factor=0.0))))
    log = recorder_of(runner).log
    assert [log[i]['scales']['loss_feat'] for i in range(5)] == [
        0.25, 0.5, 0.75, 1.0, 1.0]
    assert all(log[i]['distill.loss_kd'] == 0 for i in log)
    assert all(log[i]['distill.loss_feat'] > 0 for i in log)


def test_stop_distill_hook(cfg):
    runner = train(cfg, dict(type='StopDistillHook', stop_iter=3))
    log = recorder_of(runner).log
    assert all('distill.loss_feat' in log[i] for i in range(3))
    for i in range(3, 8):
        assert not any(k.startswith(('distill.', 'disc.')) for k in log[i])
        assert 'student.loss_cls' in log[i]
    ckpt = load_checkpoint_file(osp.join(cfg.work_dir, 'epoch_2.pth'))
    assert ckpt['mmkd_hooks']['StopDistillHook']['stopped_at'] == dict(
        epoch=0, iter=3)


def test_the_schedule_is_saved_and_restored_on_resume(cfg):
    """The schedule the hooks set is in every checkpoint; a resume restores
    it, so a run stopped by StopDistillHook stays stopped even when the
    resumed config lacks the hook."""
    train(cfg, dict(type='StopDistillHook', stop_iter=3),
          dict(type='DistillLossWeightHook',
               schedules=dict(loss_feat=dict(factor=0.5))))
    ckpt = load_checkpoint_file(osp.join(cfg.work_dir, 'epoch_1.pth'))
    assert ckpt['mmkd_hooks']['RunGuardHook']['schedule'] == dict(
        scales=dict(loss_feat=0.5), distill=False, train_student=True,
        train_adversary=True)
    resumed = copy.deepcopy(cfg)
    resumed.train_cfg.max_epochs = 3
    resumed.load_from = osp.join(cfg.work_dir, 'epoch_2.pth')
    runner = train(resumed, resume=True)
    assert not runner.model.schedule.distill
    assert runner.model.schedule.scales == dict(loss_feat=0.5)
    log = recorder_of(runner).log
    assert log and not any(k.startswith('distill.') for i in log
                           for k in log[i])


def test_discriminator_schedule_hook(cfg):
    """Warm-up: only D learns; after the freeze D stays as it is."""
    seen = {}

    from mmengine.hooks import Hook

    class Watch(Hook):
        priority = 'LOWEST'

        def before_train(self, runner):
            seen['start'] = runner.model.student.backbone.conv1.weight.detach(
            ).clone()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            m = runner.model
            seen[runner.iter] = (
                m.student.backbone.conv1.weight.detach().clone(),
                next(m.discriminator.parameters()).detach().clone())

    cfg = copy.deepcopy(cfg)
    cfg.custom_hooks.append(dict(type='DiscriminatorScheduleHook',
                                 warmup=3, freeze=5))
    runner = Runner.from_cfg(cfg)
    runner.register_hook(Watch())
    runner.train()
    assert torch.equal(seen[2][0], seen['start'])  # 0-2: student kept
    assert not torch.equal(seen[3][0], seen[2][0])
    assert not torch.equal(seen[4][1], seen[3][1])  # D still learns at 4
    assert all(torch.equal(seen[i][1], seen[4][1]) for i in (5, 6, 7))


def test_student_checkpoint_hook_writes_latest_and_best(cfg, tmp_path):
    cfg = copy.deepcopy(cfg)
    cfg.train_cfg.val_interval = 1
    cfg.default_hooks.checkpoint.save_best = 'coco/bbox_mAP_50'
    cfg.model.student.test_cfg.score_thr = 0.0  # predictions to evaluate
    cfg.default_hooks.checkpoint.rule = 'greater'
    runner = train(cfg)
    work = cfg.work_dir
    latest = torch.load(osp.join(work, 'student_latest.pth'),
                        weights_only=True)
    runner_ckpt = load_checkpoint_file(osp.join(work, 'epoch_2.pth'))
    student = {k[len('student.'):]: v
               for k, v in runner_ckpt['state_dict'].items()
               if k.startswith('student.')}
    assert latest['state_dict'].keys() == student.keys()
    assert all(torch.equal(latest['state_dict'][k], v)
               for k, v in student.items())
    assert latest['meta']['dataset_meta']['classes'] == (
        'square', 'circle', 'triangle')
    best = runner.message_hub.get_info('best_ckpt')
    assert best and osp.isfile(osp.join(work, 'student_best.pth'))
    text = open(osp.join(work, 'student_config.py')).read()
    assert 'mmkd' not in text and 'Distill' not in text
    # plain MMDetection, in a process that never imports mmkd
    script = ('import sys\nfrom mmdet.apis import init_detector\n'
              'm = init_detector(sys.argv[1], sys.argv[2], device="cpu")\n'
              'assert "mmkd" not in sys.modules\n'
              'print(type(m).__name__, len(m.dataset_meta["classes"]))')
    out = subprocess.run(
        [sys.executable, '-c', script, osp.join(work, 'student_config.py'),
         osp.join(work, 'student_best.pth')],
        capture_output=True, text=True, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ['RetinaNet', '3']


def test_teacher_eval_hook_logs_teacher_metrics_once(cfg, monkeypatch):
    import contextlib

    from mmkd.engine.hooks import teacher_eval_hook
    evaluations = []

    @contextlib.contextmanager
    def counted():
        evaluations.append(1)
        with kept_random_state():
            yield

    monkeypatch.setattr(teacher_eval_hook, 'kept_random_state', counted)
    runner = train(cfg, dict(type='TeacherEvalHook'))
    assert len(evaluations) == 1
    value = runner.message_hub.get_info('teacher/coco/bbox_mAP')
    assert isinstance(value, float) and value >= 0
    # the same evaluation by hand
    teacher = runner.model.teacher
    loop = runner.val_loop
    for data in loop.dataloader:
        loop.evaluator.process(teacher.val_step(data), data)
    assert loop.evaluator.evaluate(4)['coco/bbox_mAP'] == value
    hook = next(h for h in runner.hooks
                if type(h).__name__ == 'TeacherEvalHook')
    ckpt = load_checkpoint_file(osp.join(cfg.work_dir, 'epoch_1.pth'))
    assert ckpt['mmkd_hooks']['TeacherEvalHook'] == dict(done=True)
    assert hook.done
    # a resumed run does not evaluate the teacher again
    resumed = copy.deepcopy(cfg)
    resumed.train_cfg.max_epochs = 3
    train(resumed, dict(type='TeacherEvalHook'), resume=True)
    assert len(evaluations) == 1


def test_random_state_hook_keeps_validation_out_of_training_draws():
    hook = RandomStateHook()
    torch.manual_seed(1)
    np.random.seed(1)
    expected = (torch.rand(3), np.random.rand(3))
    torch.manual_seed(1)
    np.random.seed(1)
    hook.before_val(None)
    torch.rand(5), np.random.rand(7)  # what validation draws
    hook.after_val(None)
    assert torch.equal(torch.rand(3), expected[0])
    np.testing.assert_array_equal(np.random.rand(3), expected[1])
    with kept_random_state():
        torch.rand(4)
    torch.manual_seed(0)
    a = torch.rand(2)
    torch.manual_seed(0)
    with kept_random_state():
        torch.rand(9)
    assert torch.equal(torch.rand(2), a)


# ------------------------------------------------------------ bad configs
BAD_HOOKS = {
    'unknown loss term': (
        dict(type='DistillLossWeightHook',
             schedules=dict(loss_at=dict(warmup=2))),
        ValueError, r"schedules \['loss_at'\], but this DetectionDistiller "
        r"computes only \['loss_feat', 'loss_adv', 'loss_kd'\]"),
    'schedule beyond the run': (
        dict(type='DistillLossWeightHook',
             schedules=dict(loss_kd=dict(warmup=50))),
        ValueError, 'beyond max_iters=8'),
    'stop epoch beyond max_epochs': (
        dict(type='StopDistillHook', stop_epoch=5),
        ValueError, 'stop_epoch=5 is not before max_epochs=2'),
    'discriminator schedule beyond the run': (
        dict(type='DiscriminatorScheduleHook', warmup=2, freeze=20),
        ValueError, 'reach beyond the run'),
}


@pytest.mark.parametrize('name', sorted(BAD_HOOKS))
def test_bad_hook_config_fails_before_the_first_iteration(name, cfg):
    hook, error, match = BAD_HOOKS[name]
    with pytest.raises(error, match=match):
        train(cfg, hook)
    assert not osp.exists(osp.join(cfg.work_dir, 'epoch_1.pth'))


@pytest.mark.parametrize('hook,match', [
    (dict(type='DistillLossWeightHook', schedules=dict(
        loss_kd=dict(decay='exp', end=3))), 'decay must be None'),
    (dict(type='DistillLossWeightHook', schedules=dict(
        loss_kd=dict(warmpu=3))), r"unknown keys \['warmpu'\]"),
    (dict(type='StopDistillHook'), 'exactly one of stop_epoch'),
    (dict(type='DiscriminatorScheduleHook', warmup=5, freeze=3),
     'warmup < freeze'),
])
def test_bad_hook_arguments_fail_when_built(hook, match):
    from mmdet.registry import HOOKS
    with pytest.raises(ValueError, match=match):
        HOOKS.build(hook)


def test_hook_on_a_model_that_is_not_a_distiller(cfg):
    cfg = copy.deepcopy(cfg)
    cfg.model = retinanet()
    cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
    cfg.custom_hooks = [dict(type='StopDistillHook', stop_iter=2)]
    with pytest.raises(TypeError, match='not an mmkd distiller'):
        Runner.from_cfg(cfg).train()


def test_discriminator_schedule_without_discriminator(distiller_cfg,
                                                      shapes_root, tmp_path):
    cfg = run_config(tmp_path, shapes_root,
                     distiller_cfg(discriminator=None, loss_gan=None))
    cfg.optim_wrapper.pop('disc')
    with pytest.raises(ValueError, match='has no discriminator'):
        train(cfg, dict(type='DiscriminatorScheduleHook', warmup=2))


def test_random_state_hook_names_what_cannot_be_exact():
    from types import SimpleNamespace

    from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

    def runner(loop, workers, persistent):
        return SimpleNamespace(
            train_loop=object.__new__(loop),
            train_dataloader=SimpleNamespace(
                num_workers=workers, persistent_workers=persistent))

    caveat = RandomStateHook._inexact_data
    assert caveat(runner(EpochBasedTrainLoop, 0, False)) is None
    assert caveat(runner(EpochBasedTrainLoop, 2, False)) is None
    assert caveat(runner(IterBasedTrainLoop, 2, True)) is None
    assert 'persistent_workers' in caveat(runner(EpochBasedTrainLoop, 2,
                                                 True))
    assert 'iteration-based' in caveat(runner(IterBasedTrainLoop, 0, False))
