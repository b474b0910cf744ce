"""KSANC: build-time errors, what it distils by default, and real runs
through the Runner that resume exactly."""
import pytest
import torch

from mmkd.models.terms import Squeeze
from mmkd.registry import MODELS

from ..conftest import NUM_CLASSES, classifier
from ..runs import run_config
from ..test_engine.test_resume import check_exact_resume


def ksanc(distiller_cfg, kind='cifar_resnet', **kwargs):
    return distiller_cfg(kind, type='KSANC', **kwargs)


@pytest.mark.parametrize('kind,levels', [('cifar_resnet', [0, 1, 2]),
                                         ('retinanet', [2, 3, 4])])
def test_default_is_the_last_three_levels(kind, levels, distiller_cfg):
    model = MODELS.build(ksanc(distiller_cfg, kind))
    assert [i for i, _ in model.level_pairs] == levels
    assert model.attention.classifier.out_features == NUM_CLASSES
    assert model.loss_feat is None  # the squeeze replaces the map hint


def test_error_class_counts_differ(distiller_cfg, make_teacher_ckpt):
    args = ksanc(distiller_cfg)
    args['teacher'] = classifier(dict(type='CIFARResNet', depth=8,
                                      widths=(16, 16, 32, 64)), 64,
                                 num_classes=NUM_CLASSES + 2)
    args['teacher_ckpt'] = make_teacher_ckpt(args['teacher'])
    with pytest.raises(ValueError, match='one class set'):
        MODELS.build(args)


@pytest.mark.parametrize('levels', [[3], [0, 0], []])
def test_error_a_stage_list_that_does_not_exist(levels, distiller_cfg):
    with pytest.raises(ValueError, match=r'has 3 stages \(0-2\)'):
        MODELS.build(ksanc(distiller_cfg, levels=levels))


@pytest.mark.parametrize('change,match', [
    (dict(loss_kd=None), 'keep loss_kd'),
    (dict(loss_squeeze=None), 'attention and loss_squeeze go together'),
    (dict(loss_gan=None), 'discriminator and loss_gan go together')])
def test_error_parts_that_go_together(change, match, distiller_cfg):
    with pytest.raises(ValueError, match=match):
        MODELS.build(ksanc(distiller_cfg, **change))


def test_attention_is_trained_by_the_task_not_by_the_student(
        distiller_cfg):
    """The squeeze loss reaches the student but never the attention's
    weights; the auxiliary task loss trains them."""
    from ..conftest import batch_for
    model = MODELS.build(ksanc(distiller_cfg))
    data = model.data_preprocessor(batch_for('cifar_resnet'), True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    losses['distill.loss_squeeze'].backward(retain_graph=True)
    assert all(p.grad is None for p in model.attention.parameters())
    assert any(p.grad is not None for p in model.student.parameters())
    losses['distill.loss_att'].backward()
    assert all(p.grad is not None for p in model.attention.parameters())


@pytest.mark.parametrize('norm_cfg', [None, dict(type='BN')])
@pytest.mark.parametrize('kind', ['cifar_resnet', 'retinanet'])
def test_folded_lift_is_the_lift_of_maps(kind, norm_cfg, distiller_cfg):
    """A 1x1 lift, linear or with BN, lifts the squeezed descriptors, not
    the maps: the same losses, gradients (the student's too) and BN
    running statistics as lifting the maps. In float64: in float32, BN over
    a detector's 1x1 top levels (2 values a channel) rounds differently on
    the two paths by up to 1e-3 of the largest gradient."""
    from ..conftest import batch_for
    model = MODELS.build(ksanc(distiller_cfg, kind, adapter=dict(
        type='T2SAdapter', norm_cfg=norm_cfg))).double()
    assert model.term(Squeeze).folding(model) and model.adapter.linear == (norm_cfg is None)
    data = model.data_preprocessor(batch_for(kind), True)
    data['inputs'] = data['inputs'].double()
    start = {k: v.clone() for k, v in model.adapter.state_dict().items()}
    results = []
    for lift_maps in (False, True):
        # the adapter on the maps, as for any other adapter
        model.adapter.foldable = not lift_maps
        model.adapter.load_state_dict(start)
        model.zero_grad()
        torch.manual_seed(0)
        losses = model(data['inputs'], data['data_samples'], mode='loss')
        losses['distill.loss_squeeze'].backward()
        results.append((losses['distill.loss_squeeze'].detach(), [
            p.grad.clone() for p in model.adapter.parameters()] + [
            p.grad.clone() for p in model.student.backbone.parameters()
            if p.grad is not None], {k: v.clone() for k, v in
                                     model.adapter.state_dict().items()}))
    (folded, g1, s1), (lifted, g2, s2) = results
    assert torch.allclose(folded, lifted, rtol=1e-10)
    assert len(g1) == len(g2) > len(list(model.adapter.parameters()))
    assert all((a - b).abs().max() <= 1e-9 * a.abs().max()
               for a, b in zip(g1, g2))
    assert s1.keys() == s2.keys() and all(
        torch.allclose(s1[k], s2[k], rtol=1e-10) for k in s1)
    assert all(not torch.equal(s1[k], start[k]) for k in s1
               if 'running' in k or 'tracked' in k)  # BN's statistics moved


def test_maps_of_other_sizes_are_lifted_resized_and_squeezed(
        distiller_cfg):
    """Folding needs the student's maps at the teacher's sizes; otherwise
    the lifted maps are resized and squeezed, as for any adapter."""
    model = MODELS.build(ksanc(distiller_cfg))
    assert model.term(Squeeze).folding(model)
    torch.manual_seed(0)
    s_maps = [torch.randn(2, c, 8, 8) for c in model.s_channels]
    t_maps = [torch.randn(2, c, 4, 4) for c in model.t_channels]
    got = model.term(Squeeze).squeeze(model, s_maps, t_maps)
    lifted = model.adapter(s_maps, [(4, 4)] * len(s_maps))
    want = model.attention(t_maps, lifted)
    assert [m.shape[-2:] for m in got['s_masks']] == [(4, 4)] * len(s_maps)
    assert all(torch.allclose(a, b, atol=1e-6)
               for a, b in zip(got['s_desc'], want['s_desc']))


def test_lift_folds_only_a_1x1_conv_with_bn_or_no_norm():
    from mmkd.models import T2SAdapter
    assert T2SAdapter([4], [8]).foldable  # KSANC's default
    assert T2SAdapter([4], [8], norm_cfg=None).foldable
    for adapter in (T2SAdapter([4], [8], kernel_size=3),
                    T2SAdapter([4], [8], norm_cfg=dict(type='GN',
                                                       num_groups=2)),
                    T2SAdapter([4], [8], norm_cfg=dict(type='SyncBN'))):
        assert not adapter.foldable
        with pytest.raises(ValueError, match='folds into a map of channels'):
            adapter([torch.randn(2, 4, 3, 3)], affine=True)


def test_lift_with_bn_turned_into_sync_bn_is_not_folded(distiller_cfg):
    """A runner's ``sync_bn`` converts the adapter's BN after the build:
    then the maps are lifted (statistics synchronised), not folded."""
    import torch.nn as nn
    model = MODELS.build(ksanc(distiller_cfg))
    assert model.term(Squeeze).folding(model)
    nn.SyncBatchNorm.convert_sync_batchnorm(model.adapter)
    assert not model.term(Squeeze).folding(model)


def test_folded_lift_in_evaluation_uses_running_statistics():
    from mmkd.models import T2SAdapter
    adapter = T2SAdapter([4, 6], [8, 5])
    maps = [torch.randn(3, 4, 5, 5) * 3 + 1, torch.randn(3, 6, 2, 2)]
    for mode in (True, False):
        adapter.train(mode)
        for _ in range(2):
            for y, (a, b), x in zip(adapter(maps), adapter(
                    maps, affine=True), maps):
                assert torch.allclose(y, torch.einsum(
                    'oc,nchw->nohw', a, x) + b.view(-1, 1, 1), atol=1e-5)


def test_squeeze_gradients():
    from mmkd.models.adapters.task_attention import Squeeze
    x = torch.randn(3, 5, 4, 2, dtype=torch.double, requires_grad=True)
    w = torch.randn(5, dtype=torch.double, requires_grad=True)
    shift = torch.randn(3, 1, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(Squeeze.apply, (x, w, shift))
    assert torch.autograd.gradcheck(Squeeze.apply, (x, w, None))


def test_moments_gradients():
    """The fold's channel mean and covariance, with their one-pass
    backward, against autograd's numerical gradients."""
    from mmkd.models.adapters.t2s_adapter import Moments
    x = torch.randn(3, 4, 5, dtype=torch.double) + 2  # a mean to remove
    mu, cov = Moments.apply(x)
    flat = x.transpose(0, 1).reshape(4, -1)
    assert torch.allclose(mu, flat.mean(1))
    assert torch.allclose(cov, torch.cov(flat, correction=0))
    assert torch.autograd.gradcheck(Moments.apply, (x.requires_grad_(),))


def test_squeeze_in_half_precision():
    """As under mixed precision: a float16 map, float32 weights; results
    and gradients in their own dtypes, close to float32's."""
    from mmkd.models.adapters.task_attention import Squeeze
    x, w = torch.randn(4, 8, 6, 6), torch.randn(8, requires_grad=True)
    results = []
    for dtype in (torch.float32, torch.float16):
        xi = x.to(dtype).detach().requires_grad_()
        w.grad = None
        g, m = Squeeze.apply(xi, w, None)
        (g.float() ** 2).sum().backward()
        assert g.dtype == xi.grad.dtype == dtype and m.dtype == w.grad.dtype
        results.append([g.float(), xi.grad.float(), w.grad.clone()])
    for a, b in zip(*results):
        assert (a - b).abs().max() <= 1e-2 * a.abs().max()


@pytest.mark.e2e
@pytest.mark.parametrize('kind', ['cifar_resnet', 'retinanet'])
def test_resumed_run_logs_the_same_losses(kind, distiller_cfg,
                                          data_root_for, tmp_path):
    cfg = run_config(tmp_path / 'full', data_root_for(kind),
                     ksanc(distiller_cfg, kind), epochs=3,
                     hooks=[dict(type='DiscriminatorScheduleHook', warmup=2)])
    log = check_exact_resume(cfg, tmp_path)
    assert 'disc.loss_d' in log[5] and 'distill.loss_cls' in log[5]
    assert torch.isfinite(torch.tensor(log[11]['loss']))


def test_two_stage_detector_judges_roi_scores(distiller_cfg):
    """On Faster R-CNN the logit terms take the RoI head's scores (C + 1
    with background) for the student's proposals."""
    from ..conftest import batch_for
    model = MODELS.build(ksanc(distiller_cfg, 'faster_rcnn'))
    assert model.discriminator.layers[0].num_features == NUM_CLASSES + 1
    data = model.data_preprocessor(batch_for('faster_rcnn'), True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert all(torch.isfinite(losses[f'distill.{k}'])
               for k in model.distill_loss_names())


def test_discriminator_judges_at_most_disc_rows(distiller_cfg):
    """A detector's anchors are subsampled (the same rows of both models)
    for the discriminator; the l1 term still takes every row."""
    from ..conftest import batch_for
    model = MODELS.build(ksanc(distiller_cfg, 'retinanet', disc_rows=50))
    data = model.data_preprocessor(batch_for('retinanet'), True)
    state = dict(data)
    model.forward_train(state)
    s_rows, t_rows = state['step'].rows
    assert s_rows.shape == t_rows.shape == (50, NUM_CLASSES)
    assert s_rows.requires_grad and not t_rows.requires_grad


@pytest.mark.parametrize('config', [
    'demo/ksanc_resnet8-w16_resnet8_digits.py',
    'demo/complementary_resnet8-w16_resnet8_digits.py'])
def test_one_field_overrides(config):
    """``--cfg-options model.loss_gan.gan_type=hinge`` (and a field of the
    discriminator) changes that field only, on the configs users run."""
    import os.path as osp
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmkd.models.distillers.utils import build_model
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, 'configs', config))
    ksanc_cfg = 'ksanc' in config
    field = 'hidden' if ksanc_cfg else 'feat_channels'
    cfg.merge_from_dict({'model.loss_gan.gan_type': 'hinge',
                         f'model.discriminator.{field}': 32})
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = build_model(cfg.model)
    gan = model.loss_gan
    assert gan.gan_type == 'hinge' and gan.loss_weight == (
        1.0 if ksanc_cfg else 0.1)
    last = model.discriminator.layers[-1]
    assert (last.in_features if ksanc_cfg else last.in_channels) == 32


def test_linear_lift_by_one_field_override():
    """The README's ``--cfg-options model.adapter.norm_cfg=None`` on a
    zoo config gives the linear lift (the rest of the adapter kept)."""
    import os.path as osp
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmkd.models.distillers.utils import build_model
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        root, 'configs/ksanc/ksanc_resnet56_resnet20_b64-240e_cifar100.py'))
    cfg.merge_from_dict({'model.adapter.norm_cfg': None,
                         'model.teacher_ckpt': None})
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = build_model(cfg.model)
    assert model.adapter.linear and model.term(Squeeze).folding(model) and len(
        model.adapter.layers) == 3


@pytest.mark.parametrize('disc_rows', [0, 1.5, True])
def test_error_disc_rows(disc_rows, distiller_cfg):
    with pytest.raises(ValueError, match='disc_rows must be an int >= 1'):
        MODELS.build(ksanc(distiller_cfg, disc_rows=disc_rows))


def test_error_no_adapter_for_other_widths(distiller_cfg):
    """The attention compares the student's maps with the teacher's
    channel by channel: without the lift their widths must agree."""
    with pytest.raises(ValueError, match='TaskAttention compares maps of '
                       'equal widths'):
        MODELS.build(ksanc(distiller_cfg, adapter=None))
