import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper

from mmkd.models.tasks import Features
from mmkd.models.terms import PatchAdversary, logit_kd

from ..conftest import DETECTORS, faster_rcnn, packed_batch, retinanet

KINDS = ['retinanet', 'fcos', 'faster_rcnn']


def build(cfg):
    return MODELS.build(copy.deepcopy(cfg))


def run_loss(model, batch):
    data = model.data_preprocessor(batch, True)
    return model(data['inputs'], data['data_samples'], mode='loss')


@pytest.mark.parametrize('kind', KINDS)
def test_loss_and_predict(kind, distiller_cfg, batch):
    model = build(distiller_cfg(kind))
    losses = run_loss(model, batch)
    assert {'distill.loss_feat', 'distill.loss_adv',
            'distill.loss_kd'} <= set(losses)
    assert any(k.startswith('student.loss') for k in losses)
    assert all(k.startswith(('student.', 'distill.')) for k in losses)
    for k, v in losses.items():
        for t in (v if isinstance(v, list) else [v]):
            assert torch.isfinite(t).all(), k
    model.eval()
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        preds = model(data['inputs'], data['data_samples'], mode='predict')
        feats = model(data['inputs'], data['data_samples'], mode='tensor')
    assert isinstance(preds[0], DetDataSample) and 'pred_instances' in preds[0]
    assert feats is not None


def test_channels_levels_inferred(distiller_cfg):
    model = build(distiller_cfg('retinanet'))
    assert model.level_pairs == [(i, i) for i in range(5)]
    convs = [layer.conv for layer in model.adapter.layers]
    assert {(c.in_channels, c.out_channels) for c in convs} == {(16, 32)}
    assert model.discriminator.layers[0].in_channels == 32
    assert model.loss_kd.use_sigmoid  # RetinaHead is a sigmoid head


def test_two_stage_kd_is_softmax_on_roi_head(distiller_cfg):
    model = build(distiller_cfg('faster_rcnn'))
    assert model.task.kd_head == 'roi' and not model.loss_kd.use_sigmoid


def p2_student():
    """A RetinaNet whose neck starts at P2: strides 4-64 (teacher 8-128)."""
    student = retinanet()
    student['neck'].update(start_level=0, add_extra_convs=False)
    student['bbox_head']['anchor_generator']['strides'] = [4, 8, 16, 32, 64]
    student['neck']['num_outs'] = 5
    return student


def test_unequal_strides_are_resized(distiller_cfg, batch):
    # issue 7 (6): pairing by index is now a choice, no longer the default
    model = build(distiller_cfg(student=p2_student(), loss_kd=None,
                                match_levels='index'))
    assert len(model.level_pairs) == 5
    assert torch.isfinite(run_loss(model, batch)['distill.loss_feat'])


def grads(module):
    return [p.grad for p in module.parameters()]


def test_gradients_go_where_they_belong(distiller_cfg, batch):
    model = build(distiller_cfg('retinanet'))
    data = model.data_preprocessor(batch, True)
    state = dict(data)
    losses = model.forward_train(state)
    step = state['step']
    loss, _ = model.parse_losses(losses)
    loss.backward()
    # the teacher never, the discriminator not from the student's loss
    assert all(not p.requires_grad for p in model.teacher.parameters())
    assert all(g is None for g in grads(model.teacher))
    assert all(g is None for g in grads(model.discriminator))
    assert all(g is not None for g in grads(model.adapter))
    assert model.student.backbone.conv1.weight.grad is not None
    model.zero_grad(set_to_none=True)
    d_loss = model.term(PatchAdversary).discriminator_loss(
        model, step)['disc.loss_d']
    d_loss.backward()
    # the discriminator's loss reaches neither student nor adapter
    assert all(g is not None for g in grads(model.discriminator))
    assert all(g is None for g in grads(model.student))
    assert all(g is None for g in grads(model.adapter))


def make_optim(model):
    from mmkd.engine import DistillOptimWrapperConstructor
    return DistillOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01),
             disc=dict(optimizer=dict(type='Adam', lr=1e-3))))(model)


def test_train_step_updates_both_parts(distiller_cfg, batch):
    model = build(distiller_cfg('retinanet', d_steps=2))
    optim = make_optim(model)
    student_w = model.student.backbone.conv1.weight.clone()
    disc_w = [p.clone() for p in model.discriminator.parameters()]
    teacher_w = [p.clone() for p in model.teacher.parameters()]
    log = model.train_step(batch, optim)
    assert {'loss', 'distill.loss_adv', 'disc.loss_d', 'disc.score_real',
            'disc.score_fake'} <= set(log)
    assert not torch.equal(student_w, model.student.backbone.conv1.weight)
    assert any(not torch.equal(a, b)
               for a, b in zip(disc_w, model.discriminator.parameters()))
    assert all(torch.equal(a, b)
               for a, b in zip(teacher_w, model.teacher.parameters()))
    assert int(model.num_iters) == 1


def test_train_step_needs_two_optimizers(distiller_cfg, batch):
    model = build(distiller_cfg('retinanet'))
    single = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    with pytest.raises(TypeError, match='DistillOptimWrapperConstructor'):
        model.train_step(batch, single)


def test_without_discriminator_one_optimizer_is_enough(distiller_cfg, batch):
    model = build(
        distiller_cfg('retinanet', discriminator=None, loss_gan=None))
    single = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log = model.train_step(batch, single)
    assert 'distill.loss_adv' not in log and 'distill.loss_feat' in log


def test_adversarial_warmup(distiller_cfg):
    model = build(distiller_cfg('retinanet', adv_warmup_iters=4))
    adversary = model.term(PatchAdversary)
    assert adversary.weight_scale(model) == 0.25
    model.num_iters += 3
    assert adversary.weight_scale(model) == 1.0


def test_teacher_is_protected(distiller_cfg):
    cfg = distiller_cfg('retinanet')
    model = build(cfg)
    before = copy.deepcopy(model.teacher.state_dict())
    model.init_weights()
    model.train()
    assert not model.teacher.training
    assert all(torch.equal(before[k], v)
               for k, v in model.teacher.state_dict().items())
    # not in checkpoints, but follows the distiller across dtypes/devices
    assert not any(k.startswith('teacher') for k in model.state_dict())
    model.double()
    assert next(model.teacher.parameters()).dtype == torch.float64
    # the loaded weights are the checkpoint's
    ckpt = torch.load(cfg['teacher_ckpt'])['state_dict']
    assert all(torch.equal(ckpt[k], v) for k, v in before.items())


def test_warns_when_preprocessors_differ(distiller_cfg, monkeypatch):
    from mmkd.models import teacher
    messages = []
    monkeypatch.setattr(teacher, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    cfg = distiller_cfg('retinanet')
    build(cfg)
    assert not messages
    cfg['teacher']['data_preprocessor'] = dict(
        cfg['teacher']['data_preprocessor'], bgr_to_rgb=False,
        std=[1., 1., 1.])
    build(cfg)
    assert len(messages) == 1 and 'in std, bgr_to_rgb' in messages[0]


# ---------------------------------------------------------------- bad input
def test_error_missing_teacher_ckpt(distiller_cfg):
    # issue 7 (8): testing must not need the teacher's checkpoint, so the
    # error comes when training starts (model.train()), before any step
    model = build(distiller_cfg(teacher_ckpt='no/such/teacher.pth'))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        model.train()
    model = build(distiller_cfg(teacher_ckpt=None))
    with pytest.raises(ValueError, match='teacher_ckpt is required'):
        model.train()


def test_error_teacher_ckpt_of_other_architecture(distiller_cfg,
                                                  make_teacher_ckpt):
    other = make_teacher_ckpt(faster_rcnn(width=16, neck_channels=32))
    with pytest.raises(RuntimeError, match='does not match the teacher'):
        build(distiller_cfg(teacher_ckpt=other))


def test_error_corrupted_teacher_ckpt(distiller_cfg, tmp_path):
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(RuntimeError, match='corrupted or truncated'):
        build(distiller_cfg(teacher_ckpt=str(bad)))


def test_error_class_count_mismatch_with_kd(distiller_cfg, make_teacher_ckpt):
    teacher = retinanet(width=16, neck_channels=32, num_classes=5)
    cfg = distiller_cfg(teacher=teacher,
                        teacher_ckpt=make_teacher_ckpt(teacher))
    with pytest.raises(ValueError, match='teacher predicts 5 classes'):
        build(cfg)
    build(dict(cfg, loss_kd=None))  # features alone are fine


def test_error_kd_between_one_and_two_stage(distiller_cfg,
                                            make_teacher_ckpt):
    teacher = faster_rcnn(width=16, neck_channels=32)
    cfg = distiller_cfg(teacher=teacher,
                        teacher_ckpt=make_teacher_ckpt(teacher))
    with pytest.raises(ValueError, match='to be one-stage'):
        build(cfg)


def test_error_student_without_neck(distiller_cfg):
    student = retinanet()
    student['backbone']['out_indices'] = (3, )
    student['neck'] = None
    student['bbox_head'].update(in_channels=64)
    student['bbox_head']['anchor_generator']['strides'] = [32]
    with pytest.raises(ValueError, match='student .* has no neck'):
        build(distiller_cfg(student=student))


def test_error_levels_cannot_be_matched(distiller_cfg):
    # issue 7 (6): levels pair by stride, so only pyramids without a stride
    # in common (here P2 alone vs P3-P7) cannot be matched
    student = retinanet()
    student['neck'].update(start_level=0, end_level=0, num_outs=1,
                           add_extra_convs=False)
    student['bbox_head']['anchor_generator']['strides'] = [4]
    with pytest.raises(ValueError, match='FPN levels cannot be matched'):
        build(distiller_cfg(student=student))


def test_fewer_student_levels_match_by_stride(distiller_cfg, batch):
    model = build(distiller_cfg(student=retinanet(num_outs=3)))
    assert model.level_pairs == [(0, 0), (1, 1), (2, 2)]
    assert torch.isfinite(run_loss(model, batch)['distill.loss_kd'])


def test_error_unknown_gan_loss(distiller_cfg):
    with pytest.raises(ValueError, match='unknown gan_type'):
        build(distiller_cfg(loss_gan=dict(type='GANLoss', gan_type='wgan')))


@pytest.mark.parametrize('key, loss', [
    ('loss_feat', dict(type='MSELoss', loss_weight=-1.0)),
    ('loss_gan', dict(type='GANLoss', loss_weight=-0.1)),
    ('loss_kd', dict(type='KDLoss', loss_weight=-1.0)),
])
def test_error_negative_loss_weight(distiller_cfg, key, loss):
    with pytest.raises(ValueError, match=f'{key}: loss_weight must be >= 0'):
        build(distiller_cfg(**{key: loss}))


def test_error_discriminator_without_gan_loss(distiller_cfg):
    with pytest.raises(ValueError, match='go together'):
        build(distiller_cfg(loss_gan=None))


@pytest.mark.parametrize('kind', KINDS)
def test_batch_of_one_and_other_sizes(kind, distiller_cfg):
    model = build(distiller_cfg(kind))
    losses = run_loss(model, packed_batch(batch_size=1, size=160))
    assert torch.isfinite(losses['distill.loss_feat'])


def test_all_detector_kinds_build_standalone():
    for make in DETECTORS.values():
        MODELS.build(ConfigDict(make()))


@pytest.mark.parametrize('kind', ['retinanet', 'fcos'])
def test_teacher_kd_scores_skip_the_box_branch(kind, distiller_cfg):
    model = build(distiller_cfg(kind))
    assert model.task.teacher_cls_scores.__name__ == 'cls_scores'
    torch.manual_seed(0)
    feats = [torch.randn(2, 32, s, s) for s in (8, 4, 2, 1, 1)]
    with torch.no_grad():
        full = model.teacher.bbox_head(feats)[0]
        fast = model.task.teacher_cls_scores(feats)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(fast, full))


def test_teacher_kd_scores_fall_back_to_the_whole_head(distiller_cfg,
                                                       monkeypatch):
    from mmkd.models.tasks import detection
    # a class branch that does not reproduce the head is never used
    monkeypatch.setattr(detection, 'dense_cls_branch',
                        lambda head: lambda feats: [f * 0 for f in feats])
    model = build(distiller_cfg('retinanet'))
    assert model.task.teacher_cls_scores.__name__ == '<lambda>'


@pytest.mark.parametrize('use_sigmoid', [True, False])
def test_dense_kd_equals_reference_over_all_anchors(distiller_cfg,
                                                    use_sigmoid):
    from mmkd.models import KDLoss
    model = build(distiller_cfg('retinanet', student=retinanet(num_outs=3)))
    model.loss_kd.use_sigmoid = use_sigmoid
    torch.manual_seed(0)
    t_feats = [torch.randn(2, 32, s, s) for s in (8, 4, 2, 1, 1)]
    s_scores = [torch.randn(2, 9 * 3, s, s) for s in (8, 4, 2)]
    got = logit_kd(model.loss_kd, model.task,
                   Features([], s_scores), Features(t_feats))
    with torch.no_grad():
        t_scores = model.teacher.bbox_head(t_feats)[0][:3]

    def anchors_by_class(x):  # (N, A*C, H, W) -> (N*H*W*A, C), mmdet order
        return x.permute(0, 2, 3, 1).reshape(-1, 3)

    ref = KDLoss(use_sigmoid=use_sigmoid)(
        torch.cat([anchors_by_class(x) for x in s_scores]),
        torch.cat([anchors_by_class(x) for x in t_scores]))
    assert got.item() == pytest.approx(ref.item(), rel=1e-5)


def test_levels_select_the_distilled_levels(distiller_cfg, batch):
    model = build(distiller_cfg('retinanet', levels=[0, 2]))
    assert model.level_pairs == [(0, 0), (2, 2)]
    assert len(model.kd_pairs) == 5  # KD still on every head level
    assert len(model.adapter.layers) == 2
    data = model.data_preprocessor(batch, True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert torch.isfinite(losses['distill.loss_feat'])


@pytest.mark.parametrize('levels', [[0, 5], [], [1, 1]])
def test_error_levels_that_do_not_exist(distiller_cfg, levels):
    with pytest.raises(ValueError, match=r"the student's neck has 5 levels "
                       r'\(0-4\)'):
        build(distiller_cfg('retinanet', levels=levels))


def test_error_bad_max_nonfinite_skips(distiller_cfg):
    with pytest.raises(ValueError, match='max_nonfinite_skips must be'):
        build(distiller_cfg('retinanet', max_nonfinite_skips=0))


@pytest.mark.parametrize('kind', ['retinanet', 'fcos'])
def test_the_dense_head_layers_inputs_are_recorded_per_level(
        kind, distiller_cfg, batch):
    """``extras=['head_inputs']``: the input of every layer of the dense
    head's class and box branches at every level, from the student's own
    forward; the rest of a branch run on one of them gives the head's own
    scores (what a term feeding them through the teacher's layers
    needs)."""
    model = build(distiller_cfg(kind))
    task = model.task
    task.watch_student(kd=False, extras=['head_inputs'])
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    with task.recording() as records:
        model.student(data['inputs'], data['data_samples'], mode='loss')
        feats = task.features(records, data['data_samples'])
    head = model.student.bbox_head
    inputs = feats.extras['head_inputs']
    assert set(inputs) == {'cls', 'reg'}
    layers = task.head_layers['cls']
    assert len(inputs['cls']) == len(head.cls_convs) + 1 == len(layers)
    levels = len(feats.maps)
    assert all(len(per_level) == levels for per_level in inputs['cls'])
    assert all(torch.equal(a, b)
               for a, b in zip(inputs['cls'][0], feats.maps))
    with torch.no_grad():
        own = head(feats.maps)[0]
        x = inputs['cls'][1][1]  # the second layer's input, level 1
        for layer in layers[1:]:
            x = layer(x)
    assert torch.allclose(x, own[1], atol=1e-5)


def test_head_inputs_of_a_head_without_such_layers_is_an_error(
        distiller_cfg):
    model = build(distiller_cfg('faster_rcnn'))
    with pytest.raises(ValueError, match='dense head'):
        model.task.watch_student(kd=False, extras=['head_inputs'])
