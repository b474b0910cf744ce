import torch
import torch.nn as nn
import torch.nn.functional as F
from mmkd.registry import MODELS

from .utils import check_loss_weight


@MODELS.register_module()
class GANLoss(nn.Module):
    """Adversarial losses for a discriminator that outputs raw logits.

    ``lsgan`` (least squares, Mao et al. 2017; the default, as in AFD),
    ``vanilla`` (binary cross-entropy, Goodfellow et al. 2014) and ``hinge``
    (Lim & Ye 2017). Logits may have any shape, e.g. patch maps
    ``(N, 1, H, W)``; the loss is their mean.

    Args:
        gan_type (str): ``'lsgan'``, ``'vanilla'`` or ``'hinge'``.
        loss_weight (float): Weight of the generator (student) loss. The
            discriminator's own loss is never weighted. Defaults to 1.0.
    """
    GAN_TYPES = ('lsgan', 'vanilla', 'hinge')

    def __init__(self, gan_type: str = 'lsgan', loss_weight: float = 1.0):
        super().__init__()
        if gan_type not in self.GAN_TYPES:
            raise ValueError(f'GANLoss: unknown gan_type {gan_type!r}; '
                             f'choose one of {self.GAN_TYPES}.')
        self.gan_type = gan_type
        self.loss_weight = check_loss_weight(loss_weight, 'GANLoss')

    def _target_loss(self, logits: torch.Tensor, real: bool) -> torch.Tensor:
        """Loss that pushes ``logits`` towards 'real' or 'fake'."""
        if self.gan_type == 'lsgan':
            return ((logits - float(real))**2).mean()
        target = torch.full_like(logits, float(real))
        return F.binary_cross_entropy_with_logits(logits, target)

    def discriminator_loss(self, real_logits: torch.Tensor,
                           fake_logits: torch.Tensor) -> torch.Tensor:
        """Loss of the discriminator: ``real`` should score real, ``fake``
        fake."""
        if self.gan_type == 'hinge':
            return (F.relu(1 - real_logits).mean() +
                    F.relu(1 + fake_logits).mean())
        return (self._target_loss(real_logits, True) +
                self._target_loss(fake_logits, False))

    def generator_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """Weighted loss of the generator (student): its samples should
        score real."""
        if self.gan_type == 'hinge':
            loss = -fake_logits.mean()
        else:
            loss = self._target_loss(fake_logits, True)
        return self.loss_weight * loss

    def real_loss(self, logits: torch.Tensor) -> torch.Tensor:
        """The discriminator's (unweighted) loss for ``logits`` labelled
        real, e.g. student samples treated as real to regularise it."""
        if self.gan_type == 'hinge':
            return F.relu(1 - logits).mean()
        return self._target_loss(logits, True)

    def forward(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return self.generator_loss(fake_logits)
