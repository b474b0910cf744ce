from typing import List, Sequence

import torch
import torch.nn as nn
from mmkd.registry import MODELS
from mmengine.model import BaseModule


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
