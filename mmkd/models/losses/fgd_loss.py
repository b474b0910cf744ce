"""Focal and Global Distillation's loss: foreground and background
imitation under the teacher's spatial and channel attention, the
attention itself, and a global relation through GcBlocks."""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmkd.registry import MODELS

from .utils import check_loss_weight, check_number


def attention(x: torch.Tensor, temp: float):
    """FGD's spatial ``(N, H, W)`` and channel ``(N, C)`` attention of a
    map: ``H*W * softmax(mean_c |x| / temp)`` and ``C * softmax(mean_hw |x|
    / temp)``."""
    n, c, h, w = x.shape
    value = x.abs()
    spatial = h * w * F.softmax((value.mean(1) / temp).view(n, -1), 1)
    channel = c * F.softmax(value.mean((2, 3)) / temp, 1)
    return spatial.view(n, h, w), channel


def box_masks(boxes: Sequence[torch.Tensor], shapes, size):
    """FGD's masks of a level of ``size`` (H, W): the foreground (each
    location in a box holds ``1 / box area`` in locations, the largest of
    its boxes) and the background (1 outside every box, normalised to sum
    1) of each image, from its boxes ``(k, 4)`` (x1, y1, x2, y2) in the
    coordinates of its input of ``shapes[i]`` (H, W)."""
    h, w = size
    fg = torch.zeros(len(boxes), h, w)
    for i, (b, (ih, iw)) in enumerate(zip(boxes, shapes)):
        b = b.detach().float().cpu()
        x1, x2 = (b[:, 0] / iw * w).floor().int(), (b[:, 2] / iw * w).ceil()
        y1, y2 = (b[:, 1] / ih * h).floor().int(), (b[:, 3] / ih * h).ceil()
        x2, y2 = x2.int(), y2.int()
        area = 1.0 / (y2 + 1 - y1) / (x2 + 1 - x1)
        for j in range(len(b)):
            region = fg[i, y1[j]:y2[j] + 1, x1[j]:x2[j] + 1]
            region.copy_(torch.maximum(region, area[j]))
    bg = (fg <= 0).float()
    bg = bg / bg.sum((1, 2), keepdim=True).clamp(min=1)
    return fg, bg


class GcBlock(nn.Module):
    """A global context block (Cao et al., GCNet): attention-pooled context
    through a bottleneck, added to every location."""

    def __init__(self, channels: int):
        super().__init__()
        self.mask = nn.Conv2d(channels, 1, 1)
        self.add = nn.Sequential(
            nn.Conv2d(channels, channels // 2, 1),
            nn.LayerNorm([channels // 2, 1, 1]), nn.ReLU(inplace=True),
            nn.Conv2d(channels // 2, channels, 1))
        nn.init.kaiming_normal_(self.mask.weight, mode='fan_in',
                                nonlinearity='relu')
        nn.init.zeros_(self.mask.bias)
        nn.init.zeros_(self.add[-1].weight)
        nn.init.zeros_(self.add[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        weights = F.softmax(self.mask(x).view(n, 1, h * w), 2)
        context = torch.bmm(x.view(n, c, h * w), weights.transpose(1, 2))
        return x + self.add(context.view(n, c, 1, 1))


@MODELS.register_module()
class FGDLoss(nn.Module):
    """Focal and Global Knowledge Distillation for Detectors (Yang et al.,
    CVPR 2022, https://arxiv.org/abs/2111.11837).

    On one neck level, with the teacher's spatial attention ``A_S`` and
    channel attention ``A_C`` (temperature ``temp``) and the ground truth's
    foreground mask ``M`` (``1 / box area`` inside boxes) and background
    mask ``B`` (normalised)::

        alpha * sum M A_S A_C (F_s - F_t)^2 / N
        + beta * sum B A_S A_C (F_s - F_t)^2 / N
        + gamma * (|A_C^s - A_C^t|_1 + |A_S^s - A_S^t|_1) / N
        + lambda * sum (GC_s(F_s) - GC_t(F_t))^2 / N

    The student's map is aligned to the teacher's width by a 1x1 conv where
    they differ; both GcBlocks and the align conv train with the student.

    Args:
        student_channels (int): Width of the student's map (filled in).
        teacher_channels (int): Width of the teacher's map (filled in).
        temp (float): Attention temperature. Defaults to 0.5.
        alpha_fgd (float): Foreground weight (RetinaNet: 1e-3).
        beta_fgd (float): Background weight (5e-4).
        gamma_fgd (float): Attention weight (1e-3).
        lambda_fgd (float): Global relation weight (5e-6).
    """
    inferred = ('student_channels', 'teacher_channels')

    def __init__(self, student_channels: int, teacher_channels: int,
                 temp: float = 0.5, alpha_fgd: float = 1e-3,
                 beta_fgd: float = 5e-4, gamma_fgd: float = 1e-3,
                 lambda_fgd: float = 5e-6):
        super().__init__()
        self.temp = check_number(temp, 'temp', 'FGDLoss', positive=True)
        self.weights = [check_loss_weight(v, f'FGDLoss {n}') for n, v in (
            ('alpha_fgd', alpha_fgd), ('beta_fgd', beta_fgd),
            ('gamma_fgd', gamma_fgd), ('lambda_fgd', lambda_fgd))]
        self.align = None if student_channels == teacher_channels else \
            nn.Conv2d(student_channels, teacher_channels, 1)
        self.global_s = GcBlock(teacher_channels)
        self.global_t = GcBlock(teacher_channels)

    def forward(self, preds_s: torch.Tensor, preds_t: torch.Tensor,
                gt_bboxes: Sequence[torch.Tensor],
                input_shapes: Sequence) -> torch.Tensor:
        """
        Args:
            preds_s (Tensor): The student's level ``(N, C_s, H, W)``.
            preds_t (Tensor): The teacher's ``(N, C_t, H, W)``; never
                receives gradients.
            gt_bboxes (list[Tensor]): Each image's boxes ``(k, 4)``.
            input_shapes (list[tuple]): Each image's input (H, W), the
                frame of its boxes.
        """
        t = preds_t.detach()
        s = preds_s if self.align is None else self.align(preds_s)
        if s.shape[-2:] != t.shape[-2:]:
            s = F.interpolate(s, size=t.shape[-2:], mode='bilinear',
                              align_corners=False)
        n = len(t)
        spatial_t, channel_t = attention(t, self.temp)
        spatial_s, channel_s = attention(s, self.temp)
        fg, bg = (m.to(t)[:, None] for m in box_masks(
            gt_bboxes, input_shapes, t.shape[-2:]))
        scale = (spatial_t[:, None] * channel_t[..., None, None]).sqrt()
        diff = (s * scale - t * scale)**2
        fg_loss = (diff * fg).sum() / n
        bg_loss = (diff * bg).sum() / n
        mask_loss = ((channel_s - channel_t).abs().sum() +
                     (spatial_s - spatial_t).abs().sum()) / n
        rela_loss = F.mse_loss(self.global_s(s), self.global_t(t),
                               reduction='sum') / n
        alpha, beta, gamma, lam = self.weights
        return (alpha * fg_loss + beta * bg_loss + gamma * mask_loss +
                lam * rela_loss)
