from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmkd.registry import MODELS
from mmengine.model import BaseModule


def class_loss(scores: torch.Tensor, t_rows: torch.Tensor,
               sigmoid: bool) -> torch.Tensor:
    """``L_cls``: the discriminator's class scores of a row against the
    teacher's class distribution of that row (sigmoid or softmax)."""
    t_rows = t_rows.detach()
    if sigmoid:
        return F.binary_cross_entropy_with_logits(scores, t_rows.sigmoid())
    return -(t_rows.softmax(-1) * scores.log_softmax(-1)).sum(-1).mean()


@MODELS.register_module()
class LogitDiscriminator(BaseModule):
    """KSANC's discriminator on logits (Shu et al., AAAI 2020,
    https://arxiv.org/abs/1904.05100): BN-FC-BN-ReLU-FC-BN-ReLU-FC with
    ``1 + C`` outputs per row, the real/fake logit then ``C`` class scores
    (the class-level term ``L_cls``).

    It takes a list of logit batches ``(n_k, C)`` (teacher rows, student
    rows: images, anchors or RoIs) and judges them as one batch, so its
    batch norms see real and fake together, in one call (as DDP needs);
    it returns one ``(n_k, 1 + C)`` tensor per input.

    Args:
        in_channels (int): ``C``, the width of a logit row; inferred by the
            distiller.
        hidden (int): Width of the two hidden layers. Defaults to 128.
    """

    def __init__(self, in_channels: int, hidden: int = 128,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.layers = nn.Sequential(
            nn.BatchNorm1d(in_channels), nn.Linear(in_channels, hidden),
            nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True), nn.Linear(hidden, 1 + in_channels))

    def forward(self, rows: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        out = self.layers(torch.cat(list(rows)))
        return list(out.split([len(r) for r in rows]))

    def weights(self) -> List[torch.Tensor]:
        """The linear layers' weights, which ``L_reg`` penalises."""
        return [m.weight for m in self.layers if isinstance(m, nn.Linear)]

    def penalty(self) -> torch.Tensor:
        """``L_reg``'s weight term: L1 + L2 of :meth:`weights`."""
        return sum(w.abs().sum() + w.pow(2).sum() for w in self.weights())
