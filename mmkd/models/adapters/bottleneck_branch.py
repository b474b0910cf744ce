import math
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmkd.registry import MODELS


@MODELS.register_module()
class BottleneckBranch(BaseModule):
    """A self-distillation branch of Be Your Own Teacher (Zhang et al.,
    ICCV 2019, https://arxiv.org/abs/1905.08094) and MB-AKT: a bottleneck
    (1x1 conv, strided 3x3 convs down to the target's stride, 1x1 conv to
    the target's width) on an intermediate stage, then a head: a linear
    classifier over the pooled map, or a light dense head (e.g. a one-conv
    RetinaHead) fed the one map. The distiller infers every field but
    ``mid_channels`` from the probed model.

    Args:
        in_channels (int): The stage's width.
        out_channels (int): The target map's width (the deepest stage, or
            the neck level the branch predicts at).
        stride (int): Target stride / stage stride (a power of 2).
        num_classes (int, optional): Classes of the linear classifier.
        head (dict, optional): A dense head's config (instead).
        mid_channels (int, optional): Bottleneck width; default
            ``out_channels // 2``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 num_classes: Optional[int] = None,
                 head: Optional[dict] = None,
                 mid_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if (num_classes is None) == (head is None):
            raise ValueError('BottleneckBranch needs num_classes (a '
                             'classifier) or head (a dense head), not both')
        mid = mid_channels or max(out_channels // 2, 1)
        bn = dict(type='BN')
        downs = max(int(round(math.log2(stride))), 0)
        self.bottleneck = nn.Sequential(
            ConvModule(in_channels, mid, 1, norm_cfg=bn),
            *[ConvModule(mid, mid, 3, stride=2 if i < downs else 1,
                         padding=1, norm_cfg=bn)
              for i in range(max(downs, 1))],
            ConvModule(mid, out_channels, 1, norm_cfg=bn))
        if head is None:
            self.head = nn.Linear(out_channels, num_classes)
        else:
            from ..distillers.utils import build_model
            self.head = build_model(head)

    def forward(self, x, size=None):
        """The branch's map (resized to ``size`` where it differs) and its
        head's output: logits ``(N, C)`` or the dense head's tuple."""
        feat = self.bottleneck(x)
        if size is not None and tuple(feat.shape[-2:]) != tuple(size):
            feat = F.interpolate(feat, size=size, mode='bilinear',
                                 align_corners=False)
        if isinstance(self.head, nn.Linear):
            return feat, self.head(feat.mean((2, 3)))
        return feat, self.head([feat])
