"""Decoupled Knowledge Distillation's loss: KD split into the target
class's part and the non-target classes' part."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmkd.registry import MODELS

from .kd_loss import standardized
from .utils import check_loss_weight, check_number


@MODELS.register_module()
class DKDLoss(nn.Module):
    """Decoupled Knowledge Distillation (Zhao et al., CVPR 2022,
    https://arxiv.org/abs/2203.08679).

    KD split into the target class's binary distribution (TCKD: the
    target's probability against the rest) and the distribution among the
    non-target classes (NCKD)::

        alpha * T^2 KL(b_t || b_s) + beta * T^2 KL(p~_t || p~_s)

    summed over classes, averaged over the rows. ``standardize=True``
    z-scores both models' logits first (logit standardisation).

    Args:
        alpha (float): Weight of TCKD. Defaults to 1.0.
        beta (float): Weight of NCKD (8.0 for CIFAR ResNet-32x4 -> 8x4 in
            the paper, 0.5 on ImageNet). Defaults to 8.0.
        temperature (float): ``T``. Defaults to 4.0.
        standardize (bool): Z-score the logits first. Defaults to False.
        loss_weight (float): Defaults to 1.0.
    """
    needs_labels = True
    use_sigmoid = False  # set by the distiller; DKD is softmax-only

    def __init__(self, alpha: float = 1.0, beta: float = 8.0,
                 temperature: float = 4.0, standardize: bool = False,
                 loss_weight: float = 1.0):
        super().__init__()
        self.alpha = check_loss_weight(alpha, 'DKDLoss alpha')
        self.beta = check_loss_weight(beta, 'DKDLoss beta')
        self.temperature = check_number(temperature, 'temperature',
                                        'DKDLoss', positive=True)
        self.standardize = bool(standardize)
        self.loss_weight = check_loss_weight(loss_weight, 'DKDLoss')

    def forward(self, student_logits: torch.Tensor,
                teacher_logits: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """
        Args:
            student_logits (Tensor): ``(N, C)``.
            teacher_logits (Tensor): ``(N, C)``; never receives gradients.
            labels (Tensor): ``(N, )`` class indices.
        """
        if self.use_sigmoid:
            raise ValueError('DKDLoss decouples a softmax over classes; the '
                             "student's head scores classes by sigmoids. "
                             'Use KDLoss.')
        s, t = student_logits, teacher_logits.detach()
        if s.shape != t.shape or s.dim() != 2 or labels.shape != s.shape[:1]:
            raise ValueError(
                'DKDLoss takes logits (N, C) of both models and labels '
                f'(N, ); got {tuple(s.shape)}, {tuple(t.shape)} and '
                f'{tuple(labels.shape)}')
        if self.standardize:
            s, t = standardized(s), standardized(t)
        T = self.temperature
        s, t = s / T, t / T
        target = F.one_hot(labels.long(), s.shape[1]).bool()
        log_p_s, log_p_t = F.log_softmax(s, 1), F.log_softmax(t, 1)
        # TCKD: KL of (p_target, 1 - p_target), in log space
        b_s = binary(log_p_s, target)
        b_t = binary(log_p_t, target)
        tckd = (b_t.exp() * (b_t - b_s)).sum(1).mean()
        # NCKD: KL among the non-target classes (the target masked out)
        log_q_s = F.log_softmax(s.masked_fill(target, -1e9), 1)
        log_q_t = F.log_softmax(t.masked_fill(target, -1e9), 1)
        nckd = (log_q_t.exp() * (log_q_t - log_q_s)).masked_fill(
            target, 0).sum(1).mean()
        return self.loss_weight * T**2 * (self.alpha * tckd +
                                          self.beta * nckd)


def binary(log_p: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``log (p_target, 1 - p_target)`` of log-probabilities ``(N, C)``."""
    log_target = log_p.masked_fill(~target, float('-inf')).logsumexp(1)
    log_rest = log_p.masked_fill(target, float('-inf')).logsumexp(1)
    return torch.stack([log_target, log_rest], 1)
