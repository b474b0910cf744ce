"""Feature-map losses of the hint baselines: FitNet (MSE), AT, CWD and PKD.

Each takes one student map and the teacher's map of the same pair
(``(N, C, H, W)``; the teacher's never receives gradients) and returns a
scalar. ``same_channels`` says whether the maps must have equal widths (the
distiller keeps a T2S adapter for those); sizes that differ are resized as
each paper's reference code does.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS
from .utils import check_loss_weight, check_number


def _same_size(s: torch.Tensor, t: torch.Tensor, pool=False):
    """Bring the two maps to one spatial size: the larger is average-pooled
    (``pool``) or bilinearly resized to the smaller."""
    if s.shape[-2:] == t.shape[-2:]:
        return s, t
    small = min(s.shape[-2:], t.shape[-2:], key=lambda hw: hw[0] * hw[1])

    def fit(x):
        if x.shape[-2:] == small:
            return x
        return F.adaptive_avg_pool2d(x, small) if pool else F.interpolate(
            x, size=small, mode='bilinear', align_corners=False)

    return fit(s), fit(t)


class _FeatureLoss(nn.Module):
    same_channels = True

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)

    def _check(self, s, t):
        if self.same_channels and s.shape[1] != t.shape[1]:
            raise ValueError(
                f'{type(self).__name__} compares maps channel by channel: '
                f'the student map has {s.shape[1]} channels, the teacher\'s '
                f'{t.shape[1]}. Keep the T2S adapter.')
        return _same_size(s, t.detach())


@MODELS.register_module()
class FeatureMSELoss(_FeatureLoss):
    """FitNets: Hints for Thin Deep Nets (Romero et al., ICLR 2015,
    https://arxiv.org/abs/1412.6550): mean squared error between the
    (adapted) student map and the teacher map, over all elements. mmkd's
    own, so MMPretrain configs (which have no ``MSELoss``) find it."""

    def forward(self, s, t):
        s, t = self._check(s, t)
        return self.loss_weight * F.mse_loss(s, t)


@MODELS.register_module()
class ATLoss(_FeatureLoss):
    """Attention Transfer (Zagoruyko & Komodakis, ICLR 2017,
    https://arxiv.org/abs/1612.03928): spatial attention ``q = normalise(
    mean_c |F_c|^p)`` (L2 over locations), loss ``mean((q_s - q_t)^2)``.
    Widths may differ (no adapter needed); the larger map is pooled.

    Args:
        p (float): The power of the activations. Defaults to 2.
        loss_weight (float): Defaults to 1.0 (the AT paper's beta/2 = 500
            over a sum is 1000 here over a mean, as in CRD's code).
    """
    same_channels = False

    def __init__(self, p: float = 2.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.p = p

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x.abs().pow(self.p).mean(1).flatten(1), dim=1)

    def forward(self, s, t):
        s, t = _same_size(s, t.detach(), pool=True)
        return self.loss_weight * (self.attention(s) -
                                   self.attention(t)).pow(2).mean()


@MODELS.register_module()
class CWDLoss(_FeatureLoss):
    """Channel-wise Knowledge Distillation for Dense Prediction (Shu et al.,
    ICCV 2021, https://arxiv.org/abs/2011.13256): each channel a softmax
    over its locations at temperature ``tau``; ``tau^2 * KL(p_t || p_s)``
    summed over locations, averaged over channels and images.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.tau = check_number(tau, 'tau', 'CWDLoss', positive=True)

    def forward(self, s, t):
        s, t = self._check(s, t)
        log_p_s = F.log_softmax(s.flatten(2) / self.tau, dim=2)
        log_p_t = F.log_softmax(t.flatten(2) / self.tau, dim=2)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(2)  # (N, C)
        return self.loss_weight * self.tau**2 * kl.mean()


@MODELS.register_module()
class PKDLoss(_FeatureLoss):
    """PKD: General Distillation Framework for Object Detectors via Pearson
    Correlation Coefficient (Cao et al., NeurIPS 2022,
    https://arxiv.org/abs/2207.02039): each channel normalised to zero mean
    and unit variance over the batch and locations, then ``MSE / 2`` (one
    minus the Pearson correlation per channel, averaged).

    Args:
        loss_weight (float): Defaults to 1.0.
    """

    @staticmethod
    def normalise(x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        x = x.transpose(0, 1).reshape(c, -1)
        return (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-6)

    def forward(self, s, t):
        s, t = self._check(s, t)
        return self.loss_weight * F.mse_loss(
            self.normalise(s), self.normalise(t)) / 2
