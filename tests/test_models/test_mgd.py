"""MGD: the loss against the authors' formula (the same random mask), and
the preset on a detector and a classifier."""
import copy

import pytest
import torch
import torch.nn as nn

from mmkd.registry import MODELS


def reference_mgd(loss, preds_s, preds_t, alpha, lam):
    """The authors' ``get_dis_loss``, with the module's align conv and
    generation block."""
    if loss.align is not None:
        preds_s = loss.align(preds_s)
    n, c, h, w = preds_t.shape
    mat = torch.rand((n, 1, h, w))
    mat = torch.where(mat > 1 - lam, 0, 1)
    new = loss.generation(torch.mul(preds_s, mat))
    return alpha * nn.MSELoss(reduction='sum')(new, preds_t) / n


@pytest.mark.parametrize('c_s, c_t', [(8, 8), (4, 8)])
def test_mgd_loss_equals_the_authors_formula(c_s, c_t):
    torch.manual_seed(0)
    loss = MODELS.build(dict(type='MGDLoss', student_channels=c_s,
                             teacher_channels=c_t, alpha_mgd=2e-5,
                             lambda_mgd=0.65))
    s, t = torch.randn(2, c_s, 6, 6), torch.randn(2, c_t, 6, 6)
    torch.manual_seed(1)
    got = loss(s, t)
    torch.manual_seed(1)
    assert got.item() == pytest.approx(
        reference_mgd(loss, s, t, 2e-5, 0.65).item(), rel=1e-5)
    assert (loss.align is None) == (c_s == c_t)


def test_mgd_loss_trains_its_generation_block_and_the_student():
    loss = MODELS.build(dict(type='MGDLoss', student_channels=4,
                             teacher_channels=8))
    s = torch.randn(2, 4, 5, 5, requires_grad=True)
    t = torch.randn(2, 8, 5, 5, requires_grad=True)
    loss(s, t).backward()
    assert s.grad is not None and t.grad is None
    assert all(p.grad is not None for p in loss.parameters())


def test_mgd_loss_refuses_a_mask_share_of_one():
    with pytest.raises(ValueError, match='lambda_mgd'):
        MODELS.build(dict(type='MGDLoss', student_channels=4,
                          teacher_channels=4, lambda_mgd=1.0))


@pytest.mark.parametrize('kind', ['retinanet', 'cifar_resnet'])
def test_mgd_preset_builds_one_block_per_level(kind, distiller_cfg):
    from tests.conftest import batch_for
    cfg = distiller_cfg(kind, type='MGD')
    cfg.pop('adv_warmup_iters', None)
    model = MODELS.build(cfg)
    assert len(model.generation) == len(model.level_pairs)
    assert [g.generation[0].in_channels for g in model.generation] == \
        model.t_channels
    data = model.data_preprocessor(copy.deepcopy(batch_for(kind)), True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert set(k for k in losses if k.startswith('distill.')) == {
        'distill.loss_mgd'}
    assert 'generation' in model.active_parts()['student']
