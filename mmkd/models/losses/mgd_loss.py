"""Masked Generative Distillation's loss: a randomly masked student map
regenerates the teacher's through a small generation block."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmkd.registry import MODELS

from .utils import check_loss_weight, check_number


@MODELS.register_module()
class MGDLoss(nn.Module):
    """Masked Generative Distillation (Yang et al., ECCV 2022,
    https://arxiv.org/abs/2205.01529).

    The student's map, aligned to the teacher's width by a 1x1 conv where
    they differ, has a random ``lambda_mgd`` of its locations zeroed; a
    generation block (3x3 conv, ReLU, 3x3 conv) must regenerate the
    teacher's whole map from the rest::

        alpha_mgd * sum (G(M * align(F_s)) - F_t)^2 / N

    The align conv and the generation block train with the student and are
    dropped at inference. A student map of another size is resized to the
    teacher's.

    Args:
        student_channels (int): Width of the student's map (filled in by
            the distiller).
        teacher_channels (int): Width of the teacher's map (filled in).
        alpha_mgd (float): The loss's weight (2e-5 for detectors' neck
            levels, 7e-5 for an ImageNet classifier's last stage).
        lambda_mgd (float): The masked share of locations (0.65 for
            detectors, 0.15 for classifiers).
    """
    inferred = ('student_channels', 'teacher_channels')

    def __init__(self, student_channels: int, teacher_channels: int,
                 alpha_mgd: float = 2e-5, lambda_mgd: float = 0.65):
        super().__init__()
        self.alpha_mgd = check_loss_weight(alpha_mgd, 'MGDLoss alpha_mgd')
        self.lambda_mgd = check_number(lambda_mgd, 'lambda_mgd', 'MGDLoss')
        if not 0 <= self.lambda_mgd < 1:
            raise ValueError('MGDLoss: lambda_mgd is the share of masked '
                             f'locations, in [0, 1); got {lambda_mgd!r}')
        self.align = None if student_channels == teacher_channels else \
            nn.Conv2d(student_channels, teacher_channels, 1)
        self.generation = nn.Sequential(
            nn.Conv2d(teacher_channels, teacher_channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(teacher_channels, teacher_channels, 3, padding=1))

    def forward(self, preds_s: torch.Tensor,
                preds_t: torch.Tensor) -> torch.Tensor:
        """
        Args:
            preds_s (Tensor): The student's map ``(N, C_s, H, W)``.
            preds_t (Tensor): The teacher's ``(N, C_t, H', W')``; never
                receives gradients.
        """
        t = preds_t.detach()
        s = preds_s if self.align is None else self.align(preds_s)
        if s.shape[-2:] != t.shape[-2:]:
            s = F.interpolate(s, size=t.shape[-2:], mode='bilinear',
                              align_corners=False)
        n, _, h, w = t.shape
        kept = (torch.rand(n, 1, h, w, device=t.device) <=
                1 - self.lambda_mgd).to(s.dtype)
        new = self.generation(s * kept)
        return self.alpha_mgd * F.mse_loss(new, t, reduction='sum') / n
