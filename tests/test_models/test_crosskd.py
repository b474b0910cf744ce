"""CrossKD: the crossed head against a direct computation (the student's
head features after the crossed layer's input, aligned, through the
teacher's remaining layers), the alignment against the authors'
``align_scale``, the preset on RetinaNet and FCOS, and its refusals."""
import copy

import pytest
import torch
import torch.nn.functional as F

from mmkd.registry import MODELS


def reference_align(stu_feat, tea_feat):
    """The authors' ``align_scale``."""
    N, C, H, W = stu_feat.size()
    stu_feat = stu_feat.permute(1, 0, 2, 3).reshape(C, -1)
    stu_mean = stu_feat.mean(dim=-1, keepdim=True)
    stu_std = stu_feat.std(dim=-1, keepdim=True)
    stu_feat = (stu_feat - stu_mean) / (stu_std + 1e-6)
    tea_feat = tea_feat.permute(1, 0, 2, 3).reshape(C, -1)
    tea_mean = tea_feat.mean(dim=-1, keepdim=True)
    tea_std = tea_feat.std(dim=-1, keepdim=True)
    stu_feat = stu_feat * tea_std + tea_mean
    return stu_feat.reshape(C, N, H, W).permute(1, 0, 2, 3)


def test_alignment_equals_the_authors():
    from mmkd.models.terms.crosskd import aligned
    torch.manual_seed(0)
    s, t = torch.randn(2, 6, 5, 4) * 3 + 1, torch.randn(2, 6, 5, 4)
    assert torch.allclose(aligned(s, t), reference_align(s, t), atol=1e-5)


def build(distiller_cfg, kind, **kwargs):
    cfg = distiller_cfg(kind, type='CrossKD', **kwargs)
    cfg.pop('adv_warmup_iters', None)
    return MODELS.build(cfg)


@pytest.mark.parametrize('kind', ['retinanet', 'fcos'])
def test_crossed_class_scores_are_the_teachers_layers_on_the_students(
        kind, distiller_cfg):
    from mmkd.models.terms.crosskd import CrossHead
    from tests.conftest import batch_for
    model = build(distiller_cfg, kind)
    term = model.term(CrossHead)
    data = model.data_preprocessor(copy.deepcopy(batch_for(kind)), True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert {'distill.loss_cross_cls', 'distill.loss_cross_reg'} == {
        k for k in losses if k.startswith('distill.')}
    assert all(torch.isfinite(v) for k, v in losses.items()
               if k.startswith('distill.'))
    # by hand, on level 0: the student's input to the crossed layer
    # (widths differ: through the 1x1 adapter), aligned to the teacher's,
    # a ReLU past layer 0, then the teacher's layers from there
    s_head, t_head = model.student.bbox_head, model.teacher.bbox_head
    with torch.no_grad():
        s_level = model.student.extract_feat(data['inputs'])[0]
        t_level = model.teacher.extract_feat(data['inputs'])[0]
        s_layers = [*s_head.cls_convs, getattr(
            s_head, 'retina_cls', None) or s_head.conv_cls]
        t_layers = [*t_head.cls_convs, getattr(
            t_head, 'retina_cls', None) or t_head.conv_cls]
        k = term.index
        x_s, x_t = s_level, t_level
        for layer in s_layers[:k]:
            x_s = layer(x_s)
        for layer in t_layers[:k]:
            x_t = layer(x_t)
        if model.cross_adapters is not None:
            x_s = model.cross_adapters['cls'](x_s)
        x = reference_align(x_s, x_t)
        x = F.relu(x) if k > 0 else x
        for layer in t_layers[k:]:
            x = layer(x)
    with torch.no_grad(), model.task.recording() as records:
        model.student(data['inputs'], data['data_samples'], mode='loss')
        feats = model.task.features(records)
        got = term.crossed(model, 'cls',
                           feats.extras['head_inputs']['cls'][k][0], x_t)
    assert torch.allclose(got, x, atol=1e-4)


def test_crosskd_on_heads_of_one_width_needs_no_adapter(distiller_cfg,
                                                       make_teacher_ckpt):
    from tests.conftest import DETECTORS
    teacher = DETECTORS['retinanet'](width=16)
    model = build(distiller_cfg, 'retinanet', teacher=teacher,
                  teacher_ckpt=make_teacher_ckpt(teacher))
    assert model.cross_adapters is None


def test_crosskd_refuses_two_stage_and_classifiers(distiller_cfg):
    with pytest.raises(ValueError, match='dense-head features'):
        build(distiller_cfg, 'faster_rcnn')
    with pytest.raises(ValueError, match='CrossKD distils detectors'):
        build(distiller_cfg, 'cifar_resnet')


def test_crosskd_layer_out_of_the_head_is_an_error(distiller_cfg):
    with pytest.raises(ValueError, match='layer=9'):
        build(distiller_cfg, 'retinanet', layer=9)
