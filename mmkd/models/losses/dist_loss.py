"""DIST's loss: the Pearson relations of the softened class probabilities
within each sample and within each class."""
import torch
import torch.nn as nn
from mmkd.registry import MODELS

from .utils import check_loss_weight, check_number


@MODELS.register_module()
class DISTLoss(nn.Module):
    """DIST: Knowledge Distillation from A Stronger Teacher (Huang et al.,
    NeurIPS 2022, https://arxiv.org/abs/2205.10536).

    Relations instead of exact probabilities: with ``Y = softmax(z / T)``
    of each model, ``beta * T^2 (1 - mean_rows pearson(Y_s, Y_t))`` (the
    inter-class relation of each sample) ``+ gamma * T^2 (1 -
    mean_classes pearson(Y_s^T, Y_t^T))`` (the intra-class relation of
    each class over the batch).

    Args:
        beta (float): Weight of the inter-class relation. Defaults to 1.0.
        gamma (float): Weight of the intra-class relation. Defaults to 1.0.
        temperature (float): ``T``. Defaults to 1.0.
        loss_weight (float): Defaults to 1.0.
    """
    use_sigmoid = False  # set by the distiller; DIST is softmax-only

    def __init__(self, beta: float = 1.0, gamma: float = 1.0,
                 temperature: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        self.beta = check_loss_weight(beta, 'DISTLoss beta')
        self.gamma = check_loss_weight(gamma, 'DISTLoss gamma')
        self.temperature = check_number(temperature, 'temperature',
                                        'DISTLoss', positive=True)
        self.loss_weight = check_loss_weight(loss_weight, 'DISTLoss')

    def forward(self, student_logits: torch.Tensor,
                teacher_logits: torch.Tensor) -> torch.Tensor:
        s, t = student_logits, teacher_logits.detach()
        if s.shape != t.shape or s.dim() != 2:
            raise ValueError('DISTLoss takes logits (N, C) of both models; '
                             f'got {tuple(s.shape)} and {tuple(t.shape)}')
        T = self.temperature
        y_s, y_t = (s / T).softmax(1), (t / T).softmax(1)
        inter = 1 - pearson(y_s, y_t).mean()
        intra = 1 - pearson(y_s.t(), y_t.t()).mean()
        return self.loss_weight * T**2 * (self.beta * inter +
                                          self.gamma * intra)


def pearson(a: torch.Tensor, b: torch.Tensor,
            eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation of each row of ``a`` with the row of ``b``."""
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)
