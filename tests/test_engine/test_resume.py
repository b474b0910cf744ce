"""Exact resume: a run interrupted after epoch 2 and resumed logs the same
losses, iteration by iteration, as the uninterrupted run, and ends with
the same weights (a detector's and a classifier's); hook state (stop,
schedules, teacher evaluation) and the random state come back with it."""
import copy

import pytest
from mmengine.runner import Runner

from ..runs import recorder_of, run_config, same_weights, weights

pytestmark = pytest.mark.e2e

HOOKS = [
    dict(type='DistillLossWeightHook',
         schedules=dict(loss_feat=dict(warmup=6),
                        loss_kd=dict(decay='cosine', begin=4, end=14))),
    dict(type='DiscriminatorScheduleHook', warmup=2, freeze=10),
]


def train(cfg, *extra_hooks, resume=False):
    cfg = copy.deepcopy(cfg)
    cfg.custom_hooks = [*cfg.custom_hooks, dict(type='Recorder'),
                        *extra_hooks]
    cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    except KeyboardInterrupt:
        pass
    return runner


def assert_same_log(a: dict, b: dict, iters):
    for it in iters:
        assert a[it] == b[it], f'iteration {it}: {a[it]} != {b[it]}'


def check_exact_resume(cfg, tmp_path, *hooks) -> dict:
    """``cfg`` (3 epochs of 4 iterations) run whole, and cut after epoch 1
    then resumed: the same losses from iteration 4 on and the same final
    weights. Returns the whole run's log."""
    full = train(cfg, *hooks)
    full_log = recorder_of(full).log
    assert sorted(full_log) == list(range(12))
    cut = copy.deepcopy(cfg)
    cut.work_dir = str(tmp_path / 'cut')
    train(cut, *hooks, dict(type='Crash', epoch=1))
    resumed = train(cut, *hooks, resume=True)
    log = recorder_of(resumed).log
    assert sorted(log) == list(range(4, 12))
    assert_same_log(full_log, log, range(4, 12))
    assert same_weights(weights(full), weights(resumed))
    return full_log


@pytest.mark.parametrize('kind,stop', [('retinanet', None),
                                       ('retinanet', 1),
                                       ('cifar_resnet', None)],
                         ids=['schedules', 'stopped', 'classifier'])
def test_resumed_run_logs_the_same_losses(kind, stop, distiller_cfg,
                                          data_root_for, tmp_path):
    hooks = list(HOOKS)
    if stop is not None:
        hooks.append(dict(type='StopDistillHook', stop_epoch=stop))
    cfg = run_config(tmp_path / 'full', data_root_for(kind),
                     distiller_cfg(kind), epochs=4, hooks=hooks,
                     val_interval=1)
    full = train(cfg)
    full_log = recorder_of(full).log
    assert sorted(full_log) == list(range(16))  # 4 iterations per epoch

    cut = copy.deepcopy(cfg)
    cut.work_dir = str(tmp_path / 'cut')
    first = train(cut, dict(type='Crash', epoch=2))
    assert first.iter == 8
    if stop is not None:
        # a changed stop in the resumed config does not undo the stop
        cut.custom_hooks[-1]['stop_epoch'] = 3
    resumed = train(cut, resume=True)
    log = recorder_of(resumed).log
    assert sorted(log) == list(range(8, 16))
    assert_same_log(full_log, log, range(8, 16))
    assert same_weights(weights(full), weights(resumed))
    if stop is not None:
        assert not any(full_log[i]['distill'] for i in range(4, 16))
        assert 'distill.loss_feat' not in log[8]
    else:
        assert all(full_log[i]['distill'] for i in range(16))


def test_without_the_random_state_the_resume_is_not_exact(
        distiller_cfg, shapes_root, tmp_path):
    """The test above can fail: without RandomStateHook the augmentation
    after the resume differs (RandomFlip draws from numpy)."""
    cfg = run_config(tmp_path / 'full', shapes_root, distiller_cfg(),
                     epochs=4, val_interval=1)
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h['type'] != 'RandomStateHook']
    full = recorder_of(train(cfg)).log
    cut = copy.deepcopy(cfg)
    cut.work_dir = str(tmp_path / 'cut')
    train(cut, dict(type='Crash', epoch=2))
    log = recorder_of(train(cut, resume=True)).log
    assert any(full[i] != log[i] for i in range(8, 16))


def test_iteration_based_resume_with_workers(distiller_cfg, shapes_root,
                                             tmp_path):
    """Iteration-based, a worker process: mmengine replays the skipped
    batches in fresh workers, the random state does the rest."""
    cfg = run_config(tmp_path / 'full', shapes_root, distiller_cfg(),
                     hooks=HOOKS, workers=1)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=12,
                         val_interval=4)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler')
    cfg.param_scheduler = [dict(type='MultiStepLR', milestones=[3],
                                by_epoch=False)]
    cfg.default_hooks.checkpoint.update(by_epoch=False, interval=4)
    full = recorder_of(train(cfg)).log
    cut = copy.deepcopy(cfg)
    cut.work_dir = str(tmp_path / 'cut')
    assert train(cut, dict(type='CrashAtIter', iter=6)).iter == 5
    log = recorder_of(train(cut, resume=True)).log  # from iteration 4
    assert sorted(log) == list(range(4, 12))
    assert_same_log(full, log, range(4, 12))
