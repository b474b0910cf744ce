"""Complementary features: the reconstruction teacher and the student,
build-time errors, and the two runs in order through the Runner (the
teacher's checkpoint also loads into the plain toolbox, in a process that
never imports mmkd); exact resume of the student's run."""
import json
import os
import subprocess
import sys

import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmkd.registry import MODELS

from ..runs import run_config
from ..test_engine.test_resume import check_exact_resume


def comp(distiller_cfg, kind='cifar_resnet', **kwargs):
    return distiller_cfg(kind, type='ComplementaryDistiller',
                         reconstruction=True, **kwargs)


@pytest.mark.parametrize('kind,level,student_level', [
    ('cifar_resnet', -1, 2), ('cifar_resnet', 1, 1), ('retinanet', 2, 2)])
def test_the_student_learns_the_decoders_level(kind, level, student_level,
                                               distiller_cfg,
                                               make_teacher_ckpt):
    args = comp(distiller_cfg, kind)
    args['teacher']['level'] = level
    args['teacher_ckpt'] = make_teacher_ckpt(args['teacher'])
    model = MODELS.build(args)
    assert [i for i, _ in model.level_pairs] == [student_level]
    assert model.loss_kd is None and model.discriminator is not None
    assert not any('decoder' in k for k in model.state_dict())


@pytest.mark.parametrize('level', [3, -4])
def test_error_decoder_on_a_level_that_does_not_exist(level, distiller_cfg):
    teacher = comp(distiller_cfg)['teacher']
    with pytest.raises(ValueError, match=r'has 3 stages \(-3-2\)'):
        MODELS.build(dict(teacher, level=level))


def test_error_teacher_config_without_decoder(distiller_cfg):
    args = distiller_cfg('cifar_resnet', type='ComplementaryDistiller')
    with pytest.raises(ValueError, match='trained with a reconstruction '
                       'decoder; the teacher is a plain ImageClassifier'):
        MODELS.build(args)


def test_error_teacher_checkpoint_without_decoder(distiller_cfg,
                                                  make_teacher_ckpt):
    args = comp(distiller_cfg)
    args['teacher_ckpt'] = make_teacher_ckpt(args['teacher']['model'])
    with pytest.raises(RuntimeError, match='has no decoder.. weights'):
        MODELS.build(args)


@pytest.mark.e2e
def test_teacher_then_student_through_the_runner(distiller_cfg, tmp_path,
                                                 digits_root):
    """Stage 1 trains the ReconstructionTeacher (task + reconstruction
    losses logged); plain MMPretrain, without mmkd, loads its checkpoint;
    stage 2 distils a student from it (MMPretrain's own ResNet, which a
    process without mmkd can build)."""
    args = comp(distiller_cfg, 'mmpretrain_resnet')
    teacher_cfg = run_config(tmp_path / 'teacher', digits_root, args,
                             epochs=1)
    teacher_cfg.model = args['teacher']
    teacher_cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
    teacher_cfg.custom_hooks = []
    teacher_cfg.pop('model_wrapper_cfg')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        runner = Runner.from_cfg(teacher_cfg)
        runner.train()
    hub = runner.message_hub
    assert hub.get_scalar('train/loss_rec').current() > 0
    assert hub.get_scalar('train/loss').current() > 0  # the task's
    ckpt = str(tmp_path / 'teacher' / 'epoch_1.pth')
    script = (
        'import json, sys, torch\n'
        'from mmengine.runner import load_checkpoint\n'
        'from mmpretrain.registry import MODELS\n'
        'from mmpretrain.utils import register_all_modules\n'
        'register_all_modules()\n'
        'model = MODELS.build(json.loads(sys.argv[1]))\n'
        'load_checkpoint(model, sys.argv[2], map_location="cpu")\n'
        'assert "mmkd" not in sys.modules\n'
        'torch.save(model.state_dict(), sys.argv[3])\n')
    out = str(tmp_path / 'plain.pth')
    # mmengine 0.10.7 loads with torch's default weights_only=True, which
    # refuses any runner checkpoint's metadata, plain runs' included; a
    # plain user opts out as for those (mmkd's own loads need no opt-out)
    subprocess.run([sys.executable, '-c', script,
                    json.dumps(args['teacher']['model']), ckpt, out],
                   check=True, env=dict(os.environ,
                                        TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1'))
    plain = torch.load(out, weights_only=True)
    saved = torch.load(ckpt, weights_only=False)['state_dict']
    assert plain and all(torch.equal(v, saved[k]) for k, v in plain.items())

    args['teacher_ckpt'] = ckpt
    student = run_config(tmp_path / 'student', digits_root, args, epochs=1)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        Runner.from_cfg(student).train()
    assert (tmp_path / 'student' / 'student_latest.pth').is_file()


@pytest.mark.e2e
@pytest.mark.parametrize('kind', ['cifar_resnet', 'retinanet'])
def test_resumed_run_logs_the_same_losses(kind, distiller_cfg,
                                          data_root_for, tmp_path):
    cfg = run_config(tmp_path / 'full', data_root_for(kind),
                     comp(distiller_cfg, kind, adv_warmup_iters=0), epochs=3)
    log = check_exact_resume(cfg, tmp_path)
    assert 'distill.loss_adv' in log[5] and 'disc.loss_d' in log[5]
