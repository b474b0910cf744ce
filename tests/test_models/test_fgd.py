"""FGD: the loss against the authors' formula (their masks, attention,
focal and global terms, rewritten here), and the preset on a detector."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS


def reference_fgd(loss, preds_S, preds_T, gt_bboxes, img_shapes, temp,
                  alpha, beta, gamma, lam):
    """The authors' ``FeatureLoss.forward`` with the module's own align
    conv and GcBlocks."""
    if loss.align is not None:
        preds_S = loss.align(preds_S)
    N, C, H, W = preds_S.shape

    def get_attention(preds):
        value = torch.abs(preds)
        fea_map = value.mean(axis=1, keepdim=True)
        S = (H * W * F.softmax((fea_map / temp).view(N, -1), dim=1)).view(
            N, H, W)
        channel_map = value.mean(axis=2, keepdim=False).mean(
            axis=2, keepdim=False)
        return S, C * F.softmax(channel_map / temp, dim=1)

    S_t, C_t = get_attention(preds_T)
    S_s, C_s = get_attention(preds_S)
    Mask_fg = torch.zeros_like(S_t)
    Mask_bg = torch.ones_like(S_t)
    for i in range(N):
        b = torch.ones_like(gt_bboxes[i])
        b[:, 0] = gt_bboxes[i][:, 0] / img_shapes[i][1] * W
        b[:, 2] = gt_bboxes[i][:, 2] / img_shapes[i][1] * W
        b[:, 1] = gt_bboxes[i][:, 1] / img_shapes[i][0] * H
        b[:, 3] = gt_bboxes[i][:, 3] / img_shapes[i][0] * H
        wmin, wmax = torch.floor(b[:, 0]).int(), torch.ceil(b[:, 2]).int()
        hmin, hmax = torch.floor(b[:, 1]).int(), torch.ceil(b[:, 3]).int()
        area = 1.0 / (hmax.view(1, -1) + 1 - hmin.view(1, -1)) / (
            wmax.view(1, -1) + 1 - wmin.view(1, -1))
        for j in range(len(gt_bboxes[i])):
            Mask_fg[i][hmin[j]:hmax[j] + 1, wmin[j]:wmax[j] + 1] = \
                torch.maximum(
                    Mask_fg[i][hmin[j]:hmax[j] + 1, wmin[j]:wmax[j] + 1],
                    area[0][j])
        Mask_bg[i] = torch.where(Mask_fg[i] > 0, 0, 1)
        if torch.sum(Mask_bg[i]):
            Mask_bg[i] /= torch.sum(Mask_bg[i])
    mse = nn.MSELoss(reduction='sum')
    fg, bg = Mask_fg.unsqueeze(1), Mask_bg.unsqueeze(1)
    ct, st = C_t[..., None, None], S_t.unsqueeze(1)
    fea_t = preds_T * torch.sqrt(st) * torch.sqrt(ct)
    fea_s = preds_S * torch.sqrt(st) * torch.sqrt(ct)
    fg_loss = mse(fea_s * torch.sqrt(fg), fea_t * torch.sqrt(fg)) / N
    bg_loss = mse(fea_s * torch.sqrt(bg), fea_t * torch.sqrt(bg)) / N
    mask_loss = torch.sum(torch.abs(C_s - C_t)) / N + torch.sum(
        torch.abs(S_s - S_t)) / N

    def spatial_pool(x, conv):
        input_x = x.view(N, C, H * W).unsqueeze(1)
        mask = F.softmax(conv(x).view(N, 1, H * W), dim=2).unsqueeze(-1)
        return torch.matmul(input_x, mask).view(N, C, 1, 1)

    out_s = preds_S + loss.global_s.add(spatial_pool(preds_S,
                                                     loss.global_s.mask))
    out_t = preds_T + loss.global_t.add(spatial_pool(preds_T,
                                                     loss.global_t.mask))
    rela_loss = mse(out_s, out_t) / N
    return (alpha * fg_loss + beta * bg_loss + gamma * mask_loss +
            lam * rela_loss)


@pytest.mark.parametrize('c_s', [8, 4])
def test_fgd_loss_equals_the_authors_formula(c_s):
    torch.manual_seed(0)
    loss = MODELS.build(dict(type='FGDLoss', student_channels=c_s,
                             teacher_channels=8))
    for p in loss.parameters():  # the GcBlocks' zero-initialised convs too
        nn.init.normal_(p, std=0.2)
    s, t = torch.randn(2, c_s, 8, 10), torch.randn(2, 8, 8, 10)
    boxes = [torch.tensor([[4.0, 8.0, 30.0, 40.0], [20.0, 2.0, 70.0, 50.0]]),
             torch.tensor([[0.0, 0.0, 79.0, 63.0]])]
    shapes = [(64, 80), (64, 80)]
    expected = reference_fgd(loss, s, t, boxes, shapes, 0.5, 1e-3, 5e-4,
                             1e-3, 5e-6)
    assert loss(s, t, boxes, shapes).item() == pytest.approx(
        expected.item(), rel=1e-5)


def test_fgd_preset_distils_every_neck_level_from_the_boxes(distiller_cfg):
    from tests.conftest import batch_for
    cfg = distiller_cfg('retinanet', type='FGD')
    cfg.pop('adv_warmup_iters', None)
    model = MODELS.build(cfg)
    assert len(model.fgd) == len(model.level_pairs)
    data = model.data_preprocessor(copy.deepcopy(batch_for('retinanet')),
                                   True)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert torch.isfinite(losses['distill.loss_fgd'])
    assert 'fgd' in model.active_parts()['student']


def test_fgd_refuses_a_classifier_by_name(distiller_cfg):
    cfg = distiller_cfg('cifar_resnet', type='FGD')
    cfg.pop('adv_warmup_iters', None)
    with pytest.raises(ValueError, match='FGD distils detectors'):
        MODELS.build(cfg)
