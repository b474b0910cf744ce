from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmkd.registry import MODELS
from mmengine.model import BaseModule
from torch.nn.utils.parametrizations import spectral_norm


@MODELS.register_module()
class PatchDiscriminator(BaseModule):
    """Fully-convolutional patch discriminator shared by all feature levels.

    KTAN's discriminator "fully exploits the spatial correlation of feature
    maps": it scores every location of a map (teacher = real, adapted
    student = fake) and returns a patch map of logits, not a single scalar.
    Layers: 1x1 conv (channel squeeze, cheap on large FPN levels), 3x3
    stride-2 conv, 3x3 conv to one logit per patch, LeakyReLU(0.2) between.

    Levels of different widths (e.g. YOLOv3's neck: 512, 256, 128) each get
    their own 1x1 input conv; the rest is shared.

    Args:
        in_channels (int | Sequence[int]): Channels of the maps it judges
            (the teacher's), one count for all levels or one per level;
            inferred by the distiller.
        feat_channels (int): Hidden width. Defaults to 64.
        norm (str): ``'spectral'`` (default), ``'bn'`` or ``'none'``.
    """
    NORMS = ('spectral', 'bn', 'none')

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 feat_channels: int = 64,
                 norm: str = 'spectral',
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if norm not in self.NORMS:
            raise ValueError(f'PatchDiscriminator: unknown norm {norm!r}; '
                             f'choose one of {self.NORMS}')

        def conv(c_in, c_out, k, stride=1):
            layer = nn.Conv2d(c_in, c_out, k, stride, padding=k // 2)
            return spectral_norm(layer) if norm == 'spectral' else layer

        def act(c):
            layers = [nn.BatchNorm2d(c)] if norm == 'bn' else []
            return layers + [nn.LeakyReLU(0.2, inplace=True)]

        shared = [*act(feat_channels),
                  conv(feat_channels, feat_channels, 3, stride=2),
                  *act(feat_channels), conv(feat_channels, 1, 3)]
        self.inputs = None
        if isinstance(in_channels, int):
            self.layers = nn.Sequential(
                conv(in_channels, feat_channels, 1), *shared)
        else:  # one input conv per level
            self.inputs = nn.ModuleList(
                conv(c, feat_channels, 1) for c in in_channels)
            self.layers = nn.Sequential(*shared)

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Score each map ``(N, C, H, W)``; returns logits
        ``(N, 1, ceil(H/2), ceil(W/2))`` per map."""
        if self.inputs is None:
            return [self.layers(x) for x in feats]
        return [self.layers(conv(x)) for conv, x in zip(self.inputs, feats)]
