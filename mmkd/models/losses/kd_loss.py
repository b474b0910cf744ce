import torch
import torch.nn as nn
import torch.nn.functional as F
from mmkd.registry import MODELS

from .utils import check_loss_weight, check_number


def standardized(logits: torch.Tensor) -> torch.Tensor:
    """Each row z-scored over its classes (Sun et al., CVPR 2024, "Logit
    Standardization in Knowledge Distillation"): ``(z - mean) / (1e-7 +
    std)``, the sample standard deviation as the authors compute it."""
    mean = logits.mean(dim=-1, keepdim=True)
    return (logits - mean) / (1e-7 + logits.std(dim=-1, keepdim=True))


@MODELS.register_module()
class KDLoss(nn.Module):
    """Distilling the Knowledge in a Neural Network (Hinton et al., 2015,
    https://arxiv.org/abs/1503.02531).

    ``T^2 * KL(p_t || p_s)`` of temperature-softened predictions, summed over
    classes and averaged over samples (images, anchors or RoIs).

    With ``use_sigmoid=True`` each class is an independent Bernoulli, as in
    sigmoid detection heads (RetinaNet, FCOS, GFL): the KL is that of the
    per-class Bernoulli distributions. Both variants use log-sigmoid /
    log-softmax, so large logits never produce NaN.

    ``standardize=True`` is logit standardisation (Sun et al., CVPR 2024,
    https://arxiv.org/abs/2403.01427): each model's logits are z-scored
    over the classes before the softmax, so the student matches the
    teacher's logit *relations* rather than their range.

    Args:
        temperature (float): Softening temperature ``T``. Defaults to 1.0.
        use_sigmoid (bool): Bernoulli per class instead of a softmax over
            the last dimension. Defaults to False.
        loss_weight (float): Defaults to 1.0.
        standardize (bool): Z-score both models' logits first (softmax
            only). Defaults to False.
    """

    def __init__(self,
                 temperature: float = 1.0,
                 use_sigmoid: bool = False,
                 loss_weight: float = 1.0,
                 standardize: bool = False):
        super().__init__()
        self.temperature = check_number(temperature, 'temperature', 'KDLoss',
                                        positive=True)
        self.use_sigmoid = use_sigmoid
        self.loss_weight = check_loss_weight(loss_weight, 'KDLoss')
        self.standardize = bool(standardize)
        self._check_standardize()

    def _check_standardize(self) -> None:
        if self.standardize and self.use_sigmoid:
            raise ValueError(
                'KDLoss: standardize=True z-scores logits over the classes '
                'of a softmax; these scores are sigmoids (a dense '
                'detector\'s head). Set standardize=False.')

    def forward(self, student_logits: torch.Tensor,
                teacher_logits: torch.Tensor) -> torch.Tensor:
        """
        Args:
            student_logits (Tensor): ``(..., C)``, classes last.
            teacher_logits (Tensor): Same shape; never receives gradients.
        """
        if student_logits.shape != teacher_logits.shape:
            raise ValueError('KDLoss: student and teacher logits differ in '
                             f'shape: {tuple(student_logits.shape)} vs '
                             f'{tuple(teacher_logits.shape)}')
        T = self.temperature
        s = student_logits.flatten(0, -2)  # (num_samples, C)
        t = teacher_logits.detach().flatten(0, -2)
        if self.standardize:
            self._check_standardize()  # use_sigmoid is set by the distiller
            s, t = standardized(s), standardized(t)
        s, t = s / T, t / T
        if self.use_sigmoid:
            # KL(Bern(p_t) || Bern(p_s)) = BCE(s, p_t) - H(p_t), and the
            # entropy H(p_t) is BCE(t, p_t): two fused, stable ops
            p_t = t.sigmoid()
            kl_sum = (F.binary_cross_entropy_with_logits(
                s, p_t, reduction='sum') - F.binary_cross_entropy_with_logits(
                    t, p_t, reduction='sum'))
            return self.loss_weight * T**2 * kl_sum / s.shape[0]
        log_p_t = F.log_softmax(t, dim=-1)
        kl = log_p_t.exp() * (log_p_t - F.log_softmax(s, dim=-1))
        return self.loss_weight * T**2 * kl.sum(-1).mean()


@MODELS.register_module()
class LogitMSELoss(nn.Module):
    """``||z_s - z_t||^2`` on raw logits (Ba & Caruana, 2014; KSANC's
    logit term), the mean over samples and classes, so its scale does not
    grow with the class count. ``use_sigmoid`` is set by the distiller like
    KDLoss's and only tells it how to lay out dense rows; the loss is the
    same either way.

    Args:
        use_sigmoid (bool): Set by the distiller. Defaults to False.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, use_sigmoid: bool = False, loss_weight: float = 1.0):
        super().__init__()
        self.use_sigmoid = use_sigmoid
        self.loss_weight = check_loss_weight(loss_weight, 'LogitMSELoss')

    def forward(self, student_logits: torch.Tensor,
                teacher_logits: torch.Tensor) -> torch.Tensor:
        if student_logits.shape != teacher_logits.shape:
            raise ValueError('LogitMSELoss: student and teacher logits '
                             f'differ in shape: {tuple(student_logits.shape)}'
                             f' vs {tuple(teacher_logits.shape)}')
        return self.loss_weight * F.mse_loss(student_logits,
                                             teacher_logits.detach())
