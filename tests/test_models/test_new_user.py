"""What a new user configures: one-field overrides, paths for models,
heterogeneous pairs, and the errors for what cannot work (issue 7)."""
import argparse
import copy
import logging

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config, DictAction

from mmkd.models import KDLoss
from mmkd.models.tasks import Features
from mmkd.models.terms import logit_kd
from mmkd.utils import save_atomic
from ..conftest import PREPROCESSOR, faster_rcnn, retinanet
from .test_detection_distiller import build, run_loss


def cfg_options(cfg: Config, *options: str) -> Config:
    """``--cfg-options`` as MMDetection's tools parse and merge them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg.merge_from_dict(parser.parse_args(['--cfg-options',
                                           *options]).cfg_options)
    return cfg


def test_one_field_of_a_default_from_cfg_options(distiller_cfg):
    cfg = cfg_options(
        Config(dict(model=distiller_cfg())), 'model.loss_gan.gan_type=hinge',
        'model.loss_kd.temperature=4', 'model.adapter.kernel_size=3',
        'model.discriminator.feat_channels=32',
        'model.loss_feat.loss_weight=2.0')
    model = build(cfg.model)
    assert model.loss_gan.gan_type == 'hinge'
    assert model.loss_gan.loss_weight == 0.1  # the rest of the default
    assert model.loss_kd.temperature == 4 and model.loss_kd.loss_weight == 1
    assert model.adapter.layers[0].conv.kernel_size == (3, 3)
    assert model.discriminator.layers[0].out_channels == 32
    assert model.loss_feat.loss_weight == 2.0


def test_one_field_of_a_default_from_a_config(distiller_cfg, tmp_path):
    base = tmp_path / 'base.py'
    Config(dict(model=distiller_cfg())).dump(str(base))
    child = tmp_path / 'child.py'
    child.write_text("_base_ = './base.py'\n"
                     'model = dict(loss_gan=dict(loss_weight=0.5))\n')
    model = build(Config.fromfile(str(child)).model)
    assert model.loss_gan.loss_weight == 0.5
    assert model.loss_gan.gan_type == 'lsgan'


@pytest.mark.parametrize('option, match', [
    ('model.loss_gan.gan_typ=hinge',
     r"model.loss_gan: 'gan_typ' is not a field of GANLoss. GANLoss "
     'takes: gan_type, loss_weight'),
    ('model.adapter.in_channels=[8]',
     r"model.adapter: 'in_channels' is inferred from the models"),
])
def test_an_unknown_field_is_named(option, match, distiller_cfg):
    cfg = cfg_options(Config(dict(model=distiller_cfg())), option)
    with pytest.raises(ValueError, match=match):
        build(cfg.model)


@pytest.mark.parametrize('key, value', [('d_steps', 1.5), ('d_steps', 0),
                                        ('adv_warmup_iters', -1)])
def test_error_bad_step_counts_at_build(key, value, distiller_cfg):
    with pytest.raises(ValueError, match=f'{key} must be an int'):
        build(distiller_cfg(**{key: value}))


def test_student_as_a_config_path(distiller_cfg, tmp_path):
    path = tmp_path / 'student.py'
    Config(dict(model=retinanet())).dump(str(path))
    model = build(distiller_cfg(student=str(path)))
    assert type(model.student).__name__ == 'RetinaNet'
    with pytest.raises(FileNotFoundError, match='student config'):
        build(distiller_cfg(student=str(tmp_path / 'missing.py')))


def test_top_level_data_preprocessor_goes_to_the_student(distiller_cfg):
    student = retinanet()
    student.pop('data_preprocessor')
    model = build(distiller_cfg(student=student,
                                data_preprocessor=PREPROCESSOR))
    assert model.data_preprocessor is model.student.data_preprocessor
    assert torch.allclose(model.student.data_preprocessor.mean.flatten(),
                          torch.tensor(PREPROCESSOR['mean']))


def test_integer_mean_only_warns(distiller_cfg, monkeypatch):
    from mmkd.models import teacher
    messages = []
    monkeypatch.setattr(teacher, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    student = retinanet()
    student['data_preprocessor'] = dict(PREPROCESSOR, mean=[0, 0, 0],
                                        std=[255, 255, 255])
    build(distiller_cfg(student=student))
    assert any('differs from the student' in m for m in messages)


def test_error_teacher_ckpt_is_a_directory(distiller_cfg, tmp_path):
    (tmp_path / 'epoch_12.pth').write_bytes(b'')
    with pytest.raises(IsADirectoryError,
                       match=r'is a directory; give the checkpoint file '
                       r'itself, e.g. one of: epoch_12.pth'):
        build(distiller_cfg(teacher_ckpt=str(tmp_path)))


def test_error_distiller_checkpoint_as_teacher(distiller_cfg, tmp_path):
    model = build(distiller_cfg())
    path = tmp_path / 'iter_4.pth'
    save_atomic(dict(state_dict=model.state_dict()), str(path))
    with pytest.raises(RuntimeError, match='is a distillation checkpoint.*'
                       'export_student.py'):
        build(distiller_cfg(teacher_ckpt=str(path)))


def test_error_distils_nothing(distiller_cfg):
    with pytest.raises(ValueError, match='distils nothing'):
        build(distiller_cfg(loss_feat=None, discriminator=None,
                            loss_gan=None, loss_kd=None))


def test_kd_alone_has_no_adapter(distiller_cfg, batch):
    model = build(distiller_cfg(loss_feat=None, discriminator=None,
                                loss_gan=None))
    assert model.adapter is None
    assert set(k for k in run_loss(model, batch) if 'distill' in k) == {
        'distill.loss_kd'}


def test_testing_needs_no_teacher_checkpoint(distiller_cfg, batch):
    model = build(distiller_cfg(teacher_ckpt='gone/teacher.pth'))
    model.eval()
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        preds = model(data['inputs'], data['data_samples'], mode='predict')
    assert len(preds) == 2
    with pytest.raises(FileNotFoundError, match='does not exist'):
        model.train()


def test_levels_pair_by_stride_and_say_so(distiller_cfg, make_teacher_ckpt,
                                          monkeypatch, batch):
    """Faster R-CNN teacher P2-P6 (strides 4-64), RetinaNet student P3-P7
    (8-128): P3-P6 pair with P3-P6; P7 is not distilled."""
    from mmkd.models.distillers import teacher_distiller
    messages = []
    monkeypatch.setattr(teacher_distiller, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    teacher = faster_rcnn(width=16, neck_channels=32)
    model = build(distiller_cfg(teacher=teacher, loss_kd=None,
                                teacher_ckpt=make_teacher_ckpt(teacher)))
    assert model.level_pairs == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert any('by stride: 0->1 (stride 8->8)' in m and
               'student levels [4] are not distilled' in m
               for m in messages)
    assert torch.isfinite(run_loss(model, batch)['distill.loss_feat'])


@pytest.mark.parametrize('how, match', [
    ('index', "match_levels='index' pairs level k with level k"),
    ('size', "match_levels must be 'stride' or 'index'")])
def test_error_match_levels(how, match, distiller_cfg):
    with pytest.raises(ValueError, match=match):
        build(distiller_cfg(student=retinanet(num_outs=3),
                            match_levels=how))


@pytest.mark.parametrize('use_sigmoid', [True, False])
def test_kd_across_anchor_counts_averages_each_location(
        distiller_cfg, make_teacher_ckpt, use_sigmoid):
    """An FCOS-like student (1 anchor per location) and a RetinaNet teacher
    (9): KD compares each location's class scores averaged over its
    anchors, written here directly."""
    teacher = retinanet(width=16, neck_channels=32)
    model = build(distiller_cfg('fcos', teacher=teacher,
                                teacher_ckpt=make_teacher_ckpt(teacher)))
    assert model.task.kd_anchors == [(1, 9)] * 5
    model.loss_kd.use_sigmoid = use_sigmoid
    torch.manual_seed(0)
    sizes = (8, 4, 2, 1, 1)
    t_feats = [torch.randn(2, 32, s, s) for s in sizes]
    s_scores = [torch.randn(2, 3, s, s) for s in sizes]
    got = logit_kd(model.loss_kd, model.task,
                   Features([], s_scores), Features(t_feats))
    with torch.no_grad():
        t_scores = model.teacher.bbox_head(t_feats)[0]

    def per_location(x, anchors):  # (N, A*C, H, W) -> (N*H*W, C)
        n, _, h, w = x.shape
        x = x.reshape(n, anchors, 3, h, w).mean(1)
        return x.permute(0, 2, 3, 1).reshape(-1, 3)

    ref = KDLoss(use_sigmoid=use_sigmoid)(
        torch.cat([per_location(x, 1) for x in s_scores]),
        torch.cat([per_location(x, 9) for x in t_scores]))
    assert got.item() == pytest.approx(ref.item(), rel=1e-5)


def test_discriminator_takes_levels_of_other_widths():
    disc = MODELS.build(dict(type='PatchDiscriminator',
                             in_channels=[8, 16, 8]))
    feats = [torch.randn(2, c, 6, 6, requires_grad=True) for c in (8, 16, 8)]
    out = disc(feats)
    assert [o.shape for o in out] == [(2, 1, 3, 3)] * 3
    sum(o.sum() for o in out).backward()
    assert all(f.grad is not None for f in feats)


def test_resuming_another_student_is_refused(distiller_cfg):
    saved = build(distiller_cfg()).state_dict()
    other = build(distiller_cfg(student=retinanet(neck_channels=24)))
    with pytest.raises(RuntimeError, match='other parts than this config '
                       r'builds \(adapter: .*student: '):
        other.load_state_dict(saved)
    # the same architecture loads as before
    build(distiller_cfg()).load_state_dict(copy.deepcopy(saved))


def test_warns_once_when_base_hooks_are_missing(distiller_cfg, monkeypatch):
    from mmkd.models.distillers import schedule
    messages = []
    monkeypatch.setattr(
        schedule, 'print_log',
        lambda msg, level=logging.INFO, **kw: messages.append(msg))
    model = build(distiller_cfg())
    model.schedule.announce('RandomStateHook')
    model.schedule.check_hooks()
    model.schedule.check_hooks()
    assert len(messages) == 1
    assert 'StudentCheckpointHook' in messages[0]
    assert 'RunGuardHook' in messages[0]
    assert 'no RandomStateHook' not in messages[0]
    assert 'default_hooks' in messages[0]
